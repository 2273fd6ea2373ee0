//! Residents in the console: the list, an import from CSV that checks
//! every row first and imports all or nothing, with a report of each bad
//! row (line number and what is wrong), and editing one resident (a typo in
//! a name, a move to another unit) through the API's own use case.

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
    Router::new()
        .route("/console/sites/{site_id}/residents", get(page).post(import))
        .route(
            "/console/residents/{resident_id}",
            get(edit_page).post(edit),
        )
        .route(
            "/console/residents/{resident_id}/move-out",
            axum::routing::post(move_out),
        )
}

/// Residents listed on the page at most (the API pages through all).
const LISTED: i64 = 500;

struct ResidentLine {
    id: String,
    name: String,
    unit: String,
}

#[derive(Template)]
#[template(path = "console/residents.html")]
struct ResidentsPage {
    csrf: String,
    who: String,
    site_id: String,
    site_name: String,
    count: u32,
    residents: Vec<ResidentLine>,
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

async fn count_of(state: &AppState, site_id: &str) -> Result<(u32, Vec<ResidentLine>), OpError> {
    let mut conn = state.store.reader().await?;
    let count = cubby_store::residents::residents_on_site(&mut conn, site_id).await?;
    let mut listed: Vec<ResidentLine> =
        cubby_store::residents::residents(&mut conn, site_id, LISTED, "")
            .await?
            .into_iter()
            .map(|r| ResidentLine {
                id: r.id,
                name: r.name,
                unit: r.unit,
            })
            .collect();
    listed.sort_by(|a, b| (&a.unit, &a.name).cmp(&(&b.unit, &b.name)));
    Ok((count, listed))
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
        Ok((count, residents)) => render(&ResidentsPage {
            csrf: session.csrf,
            who: session.who,
            site_id: site.id,
            site_name: site.name,
            count,
            residents,
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
    let (count, residents) = match count_of(&state, &site.id).await {
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
        residents,
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

#[derive(Template)]
#[template(path = "console/resident.html")]
struct ResidentPage {
    csrf: String,
    who: String,
    site_id: String,
    resident: cubby_store::residents::ResidentRow,
    /// False once they moved out: nothing is edited any more.
    live: bool,
    notice: Option<String>,
    error: Option<String>,
}

async fn resident_page(
    state: &AppState,
    session: Session,
    resident_id: &str,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let found = match state.store.reader().await {
        Ok(mut conn) => match cubby_store::residents::resident(&mut conn, resident_id).await {
            Ok(Some(r)) => cubby_store::residents::resident_is_live(&mut conn, &r.id)
                .await
                .map(|live| Some((r, live))),
            other => other.map(|_| None),
        },
        Err(e) => return unavailable(e),
    };
    let (resident, live) = match found {
        Ok(Some(r)) => r,
        Ok(None) => return not_found("resident"),
        Err(e) => return unavailable(e),
    };
    let site = match site_of(state, &session, &resident.site_id).await {
        Ok(s) => s,
        Err(_) => return not_found("resident"),
    };
    let status = error.as_ref().map(|(s, _)| *s);
    let mut res = render(&ResidentPage {
        csrf: session.csrf,
        who: session.who,
        site_id: site.id,
        resident,
        live,
        notice,
        error: error.map(|(_, m)| m),
    });
    if let Some(s) = status {
        *res.status_mut() = s;
    }
    res
}

async fn edit_page(
    State(state): State<AppState>,
    session: Session,
    Path(resident_id): Path<String>,
) -> Response {
    if !cubby_domain::ids::looks_like(cubby_domain::ids::RESIDENT, &resident_id) {
        return not_found("resident");
    }
    resident_page(&state, session, &resident_id, None, None).await
}

#[derive(Deserialize)]
struct EditForm {
    version: i64,
    name: String,
    unit: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    language: String,
}

/// An empty field clears an optional value.
fn given(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

async fn edit(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(resident_id): Path<String>,
    CsrfForm { session, form }: CsrfForm<Session, EditForm>,
) -> Response {
    let patch = crate::app::residents::ResidentPatch {
        version: form.version,
        name: Some(form.name),
        unit: Some(form.unit),
        email: Some(given(&form.email)),
        phone: Some(given(&form.phone)),
        language: Some(form.language),
        reach: None,
    };
    match crate::app::residents::edit_resident(&state, &session.caller, &resident_id, patch).await {
        Ok(r) => {
            let id = r.id.clone();
            resident_page(&state, session, &id, Some("Saved.".into()), None).await
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => not_found("resident"),
        Err(e) => {
            resident_page(
                &state,
                session,
                &resident_id,
                None,
                Some((e.status, e.message)),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct MoveOutForm {
    /// The box saying "yes, this resident has moved out".
    #[serde(default)]
    confirm: String,
}

/// Ends a resident's tenancy from their page (managers), through the API's
/// own use case.
async fn move_out(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(resident_id): Path<String>,
    CsrfForm { session, form }: CsrfForm<Session, MoveOutForm>,
) -> Response {
    if form.confirm != "yes" {
        let msg = "Tick the box to confirm the move-out.".to_string();
        return resident_page(
            &state,
            session,
            &resident_id,
            None,
            Some((StatusCode::UNPROCESSABLE_ENTITY, msg)),
        )
        .await;
    }
    match crate::app::residents::move_out(&state, &session.caller, &resident_id).await {
        Ok(out) => {
            let notice = format!(
                "Moved out: {} parcel(s) went to the manager's queue, {} code(s), {} token(s) and {} visitor PIN(s) stopped.",
                out.parcels_to_manager_queue.len(),
                out.codes_revoked,
                out.tokens_revoked,
                out.visitor_grants_revoked
            );
            resident_page(&state, session, &resident_id, Some(notice), None).await
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => not_found("resident"),
        Err(e) => {
            resident_page(
                &state,
                session,
                &resident_id,
                None,
                Some((e.status, e.message)),
            )
            .await
        }
    }
}
