//! The public pick-up point finder page: a form for an address's
//! coordinates (no map service, nothing from elsewhere) and the nearest
//! points with room, rendered on the server. No sign-in: public points are
//! public, and the page shows nothing personal.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use cubby_domain::points::OpeningHours;
use serde::Deserialize;

use super::render;
use crate::AppState;
use crate::app;
use crate::app::points::Search;

pub fn router() -> Router<AppState> {
    Router::new().route("/pickup-points", get(page))
}

/// Everything as typed: a bad field is said on the page, not a 422.
#[derive(Deserialize, Default)]
struct Form {
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    radius_m: String,
    #[serde(default)]
    width_mm: String,
    #[serde(default)]
    height_mm: String,
    #[serde(default)]
    depth_mm: String,
}

struct Row {
    name: String,
    address: Option<String>,
    hours: String,
    distance: String,
    open_now: bool,
    free: u32,
    accessibility: String,
}

#[derive(Template)]
#[template(path = "public/pickup_points.html")]
struct Page {
    lat: String,
    lon: String,
    radius_m: String,
    width_mm: String,
    height_mm: String,
    depth_mm: String,
    searched: bool,
    problem: Option<String>,
    points: Vec<Row>,
}

fn hours_text(h: &OpeningHours) -> String {
    if h.always_open {
        return "Open 24 hours".into();
    }
    h.spans
        .iter()
        .map(|s| {
            let days = if s.days.is_empty() {
                "Every day".to_string()
            } else {
                s.days.join(", ")
            };
            format!("{days} {}–{}", s.open, s.close)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn distance_text(m: u32) -> String {
    if m < 1_000 {
        format!("{m} m")
    } else {
        format!("{:.1} km", f64::from(m) / 1_000.0)
    }
}

fn number<T: std::str::FromStr>(field: &str, raw: &str) -> Result<Option<T>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| format!("{field}: {raw:?} is not a number"))
}

async fn page(
    State(state): State<AppState>,
    form: Result<Query<Form>, axum::extract::rejection::QueryRejection>,
) -> Response {
    // A query that does not even parse is a blank form.
    let form = form.map(|Query(f)| f).unwrap_or_default();
    let mut page = Page {
        radius_m: if form.radius_m.is_empty() {
            "5000".into()
        } else {
            form.radius_m.clone()
        },
        lat: form.lat.clone(),
        lon: form.lon.clone(),
        width_mm: form.width_mm.clone(),
        height_mm: form.height_mm.clone(),
        depth_mm: form.depth_mm.clone(),
        searched: false,
        problem: None,
        points: Vec::new(),
    };
    if form.lat.trim().is_empty() && form.lon.trim().is_empty() {
        return render(&page);
    }
    let search = (|| -> Result<Search, String> {
        let lat = number::<f64>("latitude", &form.lat)?.ok_or("latitude: give one")?;
        let lon = number::<f64>("longitude", &form.lon)?.ok_or("longitude: give one")?;
        let dims = (
            number("width", &form.width_mm)?,
            number("height", &form.height_mm)?,
            number("depth", &form.depth_mm)?,
        );
        Search::new(lat, lon, number("distance", &page.radius_m)?, dims, None)
            .map_err(|e| format!("{}: {}", e.field, e.message))
    })();
    match search {
        Err(problem) => page.problem = Some(problem),
        Ok(search) => match app::points::find(&state, &search).await {
            Ok(found) => {
                page.searched = true;
                page.points = found
                    .into_iter()
                    .map(|f| Row {
                        hours: hours_text(&f.point.opening_hours),
                        name: f.point.name,
                        address: f.point.address,
                        distance: distance_text(f.distance_m),
                        open_now: f.point.open_now,
                        free: f.free,
                        accessibility: f.point.accessibility,
                    })
                    .collect();
            }
            Err(e) => page.problem = Some(e.message),
        },
    }
    render(&page)
}
