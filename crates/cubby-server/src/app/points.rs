//! Out-of-home pick-up points: managers make a site public (place, opening
//! hours, accessibility); anyone with a token (a carrier choosing where to
//! send a parcel) or the public page finds the nearest points with a free
//! compartment that takes a parcel. No personal data in any answer.

use cubby_domain::dims::Dimensions;
use cubby_domain::model::{Invalid, Role, TemperatureZone, Timezone, clean_text};
use cubby_domain::points::{self, Candidate, GeoPoint, MAX_RADIUS_M, OpeningHours};
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::points::PublicPointRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::places::site_for;
use super::{AppResult, Changes, commit};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::{AppState, now_ms};

/// Most points one search answers.
pub const MAX_RESULTS: usize = 50;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicPointBody {
    pub lat: f64,
    pub lon: f64,
    #[schema(value_type = Object)]
    pub opening_hours: OpeningHours,
    /// Step-free access, door widths, where the lockers stand; up to 500 characters.
    #[serde(default)]
    pub accessibility: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicPoint {
    pub site_id: String,
    pub name: String,
    pub address: Option<String>,
    pub lat: f64,
    pub lon: f64,
    #[schema(value_type = Object)]
    pub opening_hours: OpeningHours,
    pub accessibility: String,
    /// Open now, in the point's time zone.
    pub open_now: bool,
}

fn public_view(row: PublicPointRow, now: i64) -> PublicPoint {
    let hours: OpeningHours = serde_json::from_str(&row.opening_hours).unwrap_or_default();
    let open_now = Timezone::parse(&row.timezone).is_ok_and(|tz| hours.is_open(&tz, now));
    PublicPoint {
        site_id: row.site_id,
        name: row.name,
        address: row.address,
        lat: row.at.lat,
        lon: row.at.lon,
        opening_hours: hours,
        accessibility: row.accessibility,
        open_now,
    }
}

/// Makes the site a public pick-up point (managers), or updates its profile.
pub async fn set(
    state: &AppState,
    caller: &Caller,
    site_id: &str,
    body: PublicPointBody,
) -> AppResult<PublicPoint> {
    caller.require(&[Role::Manager])?;
    let site = site_for(state, caller, site_id).await?;
    let at = GeoPoint::new(body.lat, body.lon)?;
    body.opening_hours.validate()?;
    let accessibility = if body.accessibility.trim().is_empty() {
        String::new()
    } else {
        clean_text("accessibility", &body.accessibility, 500)?
    };
    let hours = serde_json::to_string(&body.opening_hours)
        .map_err(|e| ApiError::invalid("opening_hours", e.to_string()))?;
    let now = now_ms();
    let row = commit(state, move |conn| {
        Box::pin(async move {
            let row = db::points::set_public_point(conn, &site.id, at, &hours, &accessibility, now)
                .await?;
            Ok((row, Changes::none()))
        })
    })
    .await?;
    Ok(public_view(row, now))
}

/// The site's public profile, if it is a pick-up point.
pub async fn get(state: &AppState, caller: &Caller, site_id: &str) -> AppResult<PublicPoint> {
    let site = site_for(state, caller, site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    db::points::public_point(&mut conn, &site.id)
        .await?
        .map(|r| public_view(r, now_ms()))
        .ok_or_else(|| ApiError::not_found("public point"))
}

/// Withdraws the site from the public.
pub async fn clear(state: &AppState, caller: &Caller, site_id: &str) -> AppResult<()> {
    caller.require(&[Role::Manager])?;
    let site = site_for(state, caller, site_id).await?;
    let gone = commit(state, move |conn| {
        Box::pin(async move {
            let gone = db::points::clear_public_point(conn, &site.id).await?;
            Ok((gone, Changes::none()))
        })
    })
    .await?;
    if gone {
        Ok(())
    } else {
        Err(ApiError::not_found("public point"))
    }
}

/// What a search asks for.
#[derive(Debug, Clone)]
pub struct Search {
    pub at: GeoPoint,
    pub radius_m: u32,
    /// The parcel to place, when there is one: only points that take it.
    pub parcel: Option<(Dimensions, TemperatureZone)>,
}

impl Search {
    pub fn new(
        lat: f64,
        lon: f64,
        radius_m: Option<u32>,
        dims: (Option<u32>, Option<u32>, Option<u32>),
        temperature: Option<&str>,
    ) -> Result<Search, Invalid> {
        let at = GeoPoint::new(lat, lon)?;
        let radius_m = radius_m.unwrap_or(5_000);
        if !(1..=MAX_RADIUS_M).contains(&radius_m) {
            return Err(Invalid::new("radius_m", "must be 1 to 100000 (100 km)"));
        }
        let temperature = temperature
            .map(str::parse::<TemperatureZone>)
            .transpose()?
            .unwrap_or(TemperatureZone::Ambient);
        let parcel = match dims {
            (None, None, None) => None,
            (Some(w), Some(h), Some(d)) => {
                let dims = Dimensions::new(w, h, d);
                if !dims.is_valid() {
                    return Err(Invalid::new("width_mm", "every side must be 1 to 3000 mm"));
                }
                Some((dims, temperature))
            }
            _ => {
                return Err(Invalid::new(
                    "width_mm",
                    "give width_mm, height_mm and depth_mm together, or none",
                ));
            }
        };
        Ok(Search {
            at,
            radius_m,
            parcel,
        })
    }
}

/// A locker at a point, with how many of its free compartments take the parcel.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PointLocker {
    pub locker_id: String,
    pub name: String,
    pub free: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FoundPoint {
    #[serde(flatten)]
    pub point: PublicPoint,
    /// Great-circle distance from the place searched, metres.
    pub distance_m: u32,
    /// Free compartments that take the parcel (any free one without a size).
    pub free: u32,
    pub lockers: Vec<PointLocker>,
}

/// The nearest public points with a free compartment that takes the
/// parcel, at most [`MAX_RESULTS`]. Public: the caller's organisation does
/// not limit it (public points are there for everyone).
pub async fn find(state: &AppState, search: &Search) -> AppResult<Vec<FoundPoint>> {
    let radius = f64::from(search.radius_m);
    let band = (
        search.at.lat_band_micro(radius),
        search.at.lon_band_micro(radius),
    );
    let now = now_ms();
    let (points, free) = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        (
            db::points::points_in_band(&mut conn, band).await?,
            db::points::free_in_band(&mut conn, band, now).await?,
        )
    };
    // One pass over the free compartments (ordered by site, then locker).
    let mut by_site: std::collections::HashMap<&str, Vec<PointLocker>> =
        std::collections::HashMap::new();
    for c in &free {
        let takes = match &search.parcel {
            None => true,
            Some((dims, zone)) => {
                c.temperature == zone.as_str()
                    && dims.fits_in(&Dimensions::new(c.width_mm, c.height_mm, c.depth_mm))
            }
        };
        if !takes {
            continue;
        }
        let site = by_site.entry(c.site_id.as_str()).or_default();
        match site.last_mut() {
            Some(l) if l.locker_id == c.locker_id => l.free += 1,
            _ => site.push(PointLocker {
                locker_id: c.locker_id.clone(),
                name: c.locker_name.clone(),
                free: 1,
            }),
        }
    }
    let lockers: Vec<Vec<PointLocker>> = points
        .iter()
        .map(|p| by_site.get(p.site_id.as_str()).cloned().unwrap_or_default())
        .collect();
    let candidates: Vec<Candidate> = points
        .iter()
        .zip(&lockers)
        .map(|(p, l)| Candidate {
            at: p.at,
            fits: !l.is_empty(),
        })
        .collect();
    let ranked = points::nearest(search.at, f64::from(search.radius_m), &candidates);
    Ok(ranked
        .into_iter()
        .take(MAX_RESULTS)
        .map(|(i, distance)| {
            let lockers = lockers[i].clone();
            FoundPoint {
                point: public_view(points[i].clone(), now),
                distance_m: distance.round() as u32,
                free: lockers.iter().map(|l| l.free).sum(),
                lockers,
            }
        })
        .collect())
}
