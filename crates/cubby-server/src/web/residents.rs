//! Residents in the console: the count, and an import from CSV that checks
//! every row first and imports all or nothing, with a report of each bad
//! row (line number and what is wrong).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use cubby_store::OpError;
use serde::Deserialize;

use super::CsrfForm;
use super::{Session, not_found, render, site_of, unavailable};
use crate::AppState;
use crate::app::residents::{NewResidentBody, new_resident};
use crate::auth::MANAGERS;

/// Rows one import may hold.
const MAX_ROWS: usize = 5_000;
const COLUMNS: [&str; 5] = ["name", "unit", "email", "phone", "language"];

pub fn router() -> Router<AppState> {
    Router::new().route("/console/sites/{site_id}/residents", get(page).post(import))
}

#[derive(Template)]
#[template(path = "console/residents.html")]
struct ResidentsPage {
    csrf: String,
    who: String,
    site_id: String,
    site_name: String,
    count: u32,
    imported: Option<usize>,
    errors: Vec<RowError>,
    csv: String,
}

/// One CSV record: the line it starts on, and its fields.
type Record = (usize, Vec<String>);
/// A problem, by line.
type RowError = (usize, String);

/// Splits CSV text into records: commas, double-quoted fields with `""` for
/// a quote, CRLF or LF line ends.
pub(crate) fn parse_csv(text: &str) -> Result<Vec<Record>, RowError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (in_quotes, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => in_quotes = false,
            (true, '\n') => {
                line += 1;
                field.push('\n');
            }
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => in_quotes = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                if fields.iter().any(|f| !f.trim().is_empty()) {
                    records.push((start_line, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                start_line = line;
            }
            (false, c) => field.push(c),
        }
    }
    if in_quotes {
        return Err((start_line, "a quoted field is never closed".into()));
    }
    fields.push(field);
    if fields.iter().any(|f| !f.trim().is_empty()) {
        records.push((start_line, fields));
    }
    Ok(records)
}

async fn count_of(state: &AppState, site_id: &str) -> Result<u32, OpError> {
    let mut conn = state.store.reader().await?;
    cubby_store::residents::residents_on_site(&mut conn, site_id).await
}

async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(site_id): Path<String>,
) -> Response {
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if session.caller.require(MANAGERS).is_err() {
        return not_found("page");
    }
    match count_of(&state, &site.id).await {
        Ok(count) => render(&ResidentsPage {
            csrf: session.csrf,
            who: session.who,
            site_id: site.id,
            site_name: site.name,
            count,
            imported: None,
            errors: Vec::new(),
            csv: String::new(),
        }),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
struct ImportForm {
    csv: String,
}

async fn import(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(site_id): Path<String>,
    CsrfForm { session, form }: CsrfForm<Session, ImportForm>,
) -> Response {
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if session.caller.require(MANAGERS).is_err() {
        return not_found("page");
    }
    let (rows, mut errors) = check_rows(&form.csv, &site.id);
    let mut imported = None;
    if errors.is_empty() && rows.is_empty() {
        errors.push((1, "there are no rows under the header".into()));
    }
    if errors.is_empty() {
        let n = rows.len();
        let now = crate::now_ms();
        let stored = state
            .store
            .transact(move |conn| {
                Box::pin(async move {
                    for r in &rows {
                        cubby_store::residents::create_resident(conn, r, now).await?;
                    }
                    Ok(())
                })
            })
            .await;
        match stored {
            Ok(()) => imported = Some(n),
            Err(e) => errors.push((0, crate::error::ApiError::from(e).message)),
        }
    }
    let count = match count_of(&state, &site.id).await {
        Ok(c) => c,
        Err(e) => return unavailable(e),
    };
    let failed = !errors.is_empty();
    let mut res = render(&ResidentsPage {
        csrf: session.csrf,
        who: session.who,
        site_id: site.id,
        site_name: site.name,
        count,
        imported,
        errors,
        // A failed import keeps the text for fixing; a good one clears it.
        csv: if failed { form.csv } else { String::new() },
    });
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

/// Every row checked as the API checks a new resident: the rows to store, or
/// the problems by line.
fn check_rows(
    csv: &str,
    site_id: &str,
) -> (Vec<cubby_store::residents::NewResident>, Vec<RowError>) {
    let mut errors = Vec::new();
    let records = match parse_csv(csv) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let Some(((_, header), body)) = records.split_first() else {
        return (Vec::new(), vec![(1, "the text is empty".into())]);
    };
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let mut at = [None; 5];
    for (i, col) in COLUMNS.iter().enumerate() {
        at[i] = header.iter().position(|h| h == col);
    }
    if at[0].is_none() || at[1].is_none() {
        return (
            Vec::new(),
            vec![(
                1,
                "the header row must name at least the name and unit columns".into(),
            )],
        );
    }
    if let Some(unknown) = header.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return (
            Vec::new(),
            vec![(
                1,
                format!("unknown column {unknown:?}; use name, unit, email, phone, language"),
            )],
        );
    }
    if body.len() > MAX_ROWS {
        return (
            Vec::new(),
            vec![(1, format!("at most {MAX_ROWS} rows per import"))],
        );
    }
    let mut rows = Vec::with_capacity(body.len());
    for (line, fields) in body {
        if fields.len() != header.len() {
            errors.push((
                *line,
                format!(
                    "{} fields where the header has {}",
                    fields.len(),
                    header.len()
                ),
            ));
            continue;
        }
        let get = |i: usize| {
            at[i]
                .map(|p| fields[p].trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let body = NewResidentBody {
            name: get(0).unwrap_or_default(),
            unit: get(1).unwrap_or_default(),
            email: get(2),
            phone: get(3),
            language: get(4),
            building_id: None,
            reach: None,
        };
        match new_resident(body, site_id.to_string()) {
            Ok(r) => rows.push(r),
            Err(e) => errors.push((*line, e.message)),
        }
    }
    (rows, errors)
}
