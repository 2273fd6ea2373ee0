//! The web console: server-rendered pages (askama templates in
//! `templates/console`), a session cookie opened with a staff API token,
//! a synchroniser token on every form plus an Origin check on every POST,
//! a strict Content-Security-Policy (scripts and styles from this server
//! only, nothing inline), and a locker's compartment grid kept live over
//! server-sent events.

mod charts;
mod courier;
mod passkey_pages;
mod people;
pub(crate) mod portal;
mod portal_settings;
mod residents;

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use cubby_domain::credentials::mac;
use cubby_domain::ids;
use cubby_domain::model::{CompartmentState, Role};
use cubby_store::queries::{self, SiteRow};
use cubby_store::{OpError, device_queries};
use serde::{Deserialize, Serialize};

use crate::app;
use crate::app::lockers::{NewCompartmentBody, NewLockerBody, add_locker, new_locker};
use crate::auth::sessions::{self, SESSION_MS};
use crate::auth::{MANAGERS, STAFF};
use crate::write::idempotency_key_of;
use crate::{AppState, now_ms};

const COOKIE: &str = "cubby_session";
/// Incidents that turn a compartment red on the grid until resolved.
const ALARM_KINDS: &[&str] = &[
    "door_forced",
    "door_held_open",
    "lock_stuck",
    "item_left_after_pickup",
    "deposit_not_detected",
];
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(sites_page))
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route("/console/sites/{site_id}", get(site_page))
        .route("/console/sites/{site_id}/lockers/new", get(new_locker_page))
        .route("/console/sites/{site_id}/lockers", post(create_locker))
        .route("/console/sites/{site_id}/parcels", get(parcels_page))
        .route("/console/parcels/{parcel_id}", get(parcel_page))
        .route("/console/sites/{site_id}/reports", get(reports_page))
        .route("/console/lockers/{locker_id}", get(locker_page))
        .route("/console/lockers/{locker_id}/live", get(locker_live))
        .route("/console/lockers/{locker_id}/open", post(open_remotely))
        .route("/console/assets/console.css", get(css))
        .route("/console/assets/console.js", get(js))
        .merge(courier::router())
        .merge(portal::router())
        .merge(portal_settings::router())
        .merge(residents::router())
        .merge(people::router())
        .merge(passkey_pages::router())
        .layer(middleware::from_fn(console_headers))
}

async fn console_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // With `no-referrer` browsers send `Origin: null` on form posts, and the
    // Origin check could not tell our own forms from anyone's.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../assets/console.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/console.js"),
    )
        .into_response()
}

pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("rendering a console page: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let mut res = render(&ErrorPage { title, message });
    *res.status_mut() = status;
    res
}

pub(crate) fn not_found(what: &str) -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        &format!("There is no such {what}, or it is not yours to see."),
    )
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::warn!("console: {e}");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Unavailable",
        "The database did not answer. Try again in a moment.",
    )
}

pub(crate) use crate::auth::sessions::{Portal, Session, form_is_ours, random_hex, same_origin};

pub(crate) const CONSOLE: Portal = Portal {
    cookie: COOKIE,
    path: "/console",
    sign_in: "/console/sign-in",
};

/// The session behind a request's cookie for `portal`, or a redirect to sign in.
pub(crate) async fn session_of(
    parts: &Parts,
    state: &AppState,
    portal: &Portal,
) -> Result<Session, Response> {
    session_in(&parts.headers, state, portal).await
}

/// As [`session_of`], from a request's headers.
pub(crate) async fn session_in(
    headers: &HeaderMap,
    state: &AppState,
    portal: &Portal,
) -> Result<Session, Response> {
    sessions::session_in(headers, state, portal)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| Redirect::to(portal.sign_in).into_response())
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        session_of(parts, state, &CONSOLE).await
    }
}

/// Opens a session for `portal` with an API token whose role `allowed`
/// accepts; `page` re-renders the sign-in form with a refusal.
pub(crate) async fn open_portal_session(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    portal: &Portal,
    allowed: fn(Role) -> bool,
    refusal: &str,
    page: impl Fn(String) -> Response,
) -> Response {
    if !same_origin(headers) {
        return forbidden_form();
    }
    let refused = |msg: &str| {
        let mut res = page(msg.to_string());
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        res
    };
    let row = match sessions::token_row(state, token).await {
        Ok(row) => row,
        Err(e) => return unavailable(e),
    };
    let Some(row) = row else {
        return refused("That is not a valid token.");
    };
    if !allowed(row.role) {
        return refused(refusal);
    }
    match session_cookie(state, portal, &row.id).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to(portal.path)).into_response(),
        Err(e) => unavailable(e),
    }
}

/// Opens a session of `portal` acting as `token_id`: its Set-Cookie value.
pub(crate) async fn session_cookie(
    state: &AppState,
    portal: &Portal,
    token_id: &str,
) -> Result<String, OpError> {
    sessions::open_session(&state.store, &state.secret, portal, token_id, SESSION_MS).await
}

/// Ends the session of `portal` if the form carries its CSRF token.
pub(crate) async fn close_portal_session(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    csrf: &str,
    portal: &Portal,
) -> Response {
    if !form_is_ours(headers, csrf, session) {
        return forbidden_form();
    }
    match sessions::close_session(state, headers, portal).await {
        Ok(cookie) => {
            ([(header::SET_COOKIE, cookie)], Redirect::to(portal.sign_in)).into_response()
        }
        Err(e) => unavailable(e),
    }
}

pub(crate) fn forbidden_form() -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Refused",
        "This form did not come from this console. Reload the page and try again.",
    )
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    error: Option<String>,
}

async fn sign_in_page() -> Response {
    render(&SignInPage { error: None })
}

#[derive(Deserialize)]
struct SignInForm {
    token: String,
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    open_portal_session(
        &state,
        &headers,
        &form.token,
        &CONSOLE,
        |role| matches!(role, Role::Admin | Role::Manager | Role::Concierge),
        "The console is for staff: sign in with a manager or concierge token.",
        |error| render(&SignInPage { error: Some(error) }),
    )
    .await
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    close_portal_session(&state, &session, &headers, &form.csrf, &CONSOLE).await
}

/// The site, if this staff member may see it.
pub(crate) async fn site_of(
    state: &AppState,
    session: &Session,
    site_id: &str,
) -> Result<SiteRow, Response> {
    if session.caller.require(STAFF).is_err() {
        return Err(not_found("site"));
    }
    if !ids::looks_like(ids::SITE, site_id) {
        return Err(not_found("site"));
    }
    let mut conn = state.store.reader().await.map_err(unavailable)?;
    match queries::site(&mut conn, site_id)
        .await
        .map_err(unavailable)?
    {
        Some(site) if session.caller.sees_org(&site.org_id) => Ok(site),
        _ => Err(not_found("site")),
    }
}

struct SiteLine {
    id: String,
    name: String,
    timezone: String,
    lockers: usize,
    compartments: usize,
    occupied: usize,
    incidents: usize,
}

#[derive(Template)]
#[template(path = "console/sites.html")]
struct SitesPage {
    csrf: String,
    who: String,
    sites: Vec<SiteLine>,
}

async fn occupancy(
    conn: &mut cubby_store::AnyConnection,
    locker_id: &str,
) -> Result<(usize, usize), OpError> {
    let cs = queries::compartments(conn, locker_id).await?;
    let occupied = cs
        .iter()
        .filter(|c| c.state == CompartmentState::Occupied)
        .count();
    Ok((occupied, cs.len()))
}

async fn open_incidents(
    conn: &mut cubby_store::AnyConnection,
    site_id: &str,
) -> Result<Vec<device_queries::IncidentRow>, OpError> {
    Ok(device_queries::incidents(conn, None, Some(site_id), 500)
        .await?
        .into_iter()
        .filter(|i| i.resolved_ms.is_none())
        .collect())
}

async fn sites_page(State(state): State<AppState>, session: Session) -> Response {
    if session.caller.require(STAFF).is_err() {
        return not_found("page");
    }
    let built: Result<Vec<SiteLine>, OpError> = async {
        let mut conn = state.store.reader().await?;
        let org = match session.caller.role {
            Role::Admin => None,
            _ => session.caller.org_id.as_deref(),
        };
        let mut out = Vec::new();
        for s in queries::sites(&mut conn, org).await? {
            let lockers = queries::lockers(&mut conn, &s.id).await?;
            let (mut occupied, mut compartments) = (0, 0);
            for l in &lockers {
                let (o, n) = occupancy(&mut conn, &l.id).await?;
                occupied += o;
                compartments += n;
            }
            let incidents = open_incidents(&mut conn, &s.id).await?.len();
            out.push(SiteLine {
                id: s.id,
                name: s.name,
                timezone: s.timezone,
                lockers: lockers.len(),
                compartments,
                occupied,
                incidents,
            });
        }
        Ok(out)
    }
    .await;
    match built {
        Ok(sites) => render(&SitesPage {
            csrf: session.csrf,
            who: session.who,
            sites,
        }),
        Err(e) => unavailable(e),
    }
}

struct LockerLine {
    id: String,
    name: String,
    compartments: usize,
    occupied: usize,
    percent: usize,
}

struct IncidentLine {
    when: String,
    kind: String,
    place: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/site.html")]
struct SitePage {
    csrf: String,
    who: String,
    id: String,
    manager: bool,
    name: String,
    lockers: Vec<LockerLine>,
    incidents: Vec<IncidentLine>,
}

pub(crate) fn utc(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

async fn site_page(
    State(state): State<AppState>,
    session: Session,
    Path(site_id): Path<String>,
) -> Response {
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let built: Result<(Vec<LockerLine>, Vec<IncidentLine>), OpError> = async {
        let mut conn = state.store.reader().await?;
        let mut lockers = Vec::new();
        let mut names = std::collections::HashMap::new();
        for l in queries::lockers(&mut conn, &site.id).await? {
            let (occupied, compartments) = occupancy(&mut conn, &l.id).await?;
            names.insert(l.id.clone(), l.name.clone());
            lockers.push(LockerLine {
                id: l.id,
                name: l.name,
                compartments,
                occupied,
                percent: (occupied * 100).checked_div(compartments).unwrap_or(0),
            });
        }
        let incidents = open_incidents(&mut conn, &site.id)
            .await?
            .into_iter()
            .take(100)
            .map(|i| IncidentLine {
                when: utc(i.created_ms),
                kind: i.kind.replace('_', " "),
                place: match (&i.locker_id, &i.compartment) {
                    (Some(l), Some(c)) => {
                        format!("{} / {c}", names.get(l).cloned().unwrap_or_default())
                    }
                    (Some(l), None) => names.get(l).cloned().unwrap_or_default(),
                    _ => "site".to_string(),
                },
                detail: i.detail,
            })
            .collect();
        Ok((lockers, incidents))
    }
    .await;
    match built {
        Ok((lockers, incidents)) => render(&SitePage {
            manager: session.caller.require(MANAGERS).is_ok(),
            csrf: session.csrf,
            who: session.who,
            id: site.id,
            name: site.name,
            lockers,
            incidents,
        }),
        Err(e) => unavailable(e),
    }
}

/// One compartment as the grid shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Cell {
    label: String,
    /// available, occupied, reserved, out_of_service or alarm
    state: &'static str,
    #[serde(skip)]
    words: &'static str,
}

async fn grid_cells(
    conn: &mut cubby_store::AnyConnection,
    site_id: &str,
    locker_id: &str,
) -> Result<Vec<Cell>, OpError> {
    let alarms: Vec<String> = open_incidents(conn, site_id)
        .await?
        .into_iter()
        .filter(|i| {
            i.locker_id.as_deref() == Some(locker_id) && ALARM_KINDS.contains(&i.kind.as_str())
        })
        .filter_map(|i| i.compartment)
        .collect();
    Ok(queries::compartments(conn, locker_id)
        .await?
        .into_iter()
        .map(|c| {
            let (state, words) = if alarms.contains(&c.label) {
                ("alarm", "alarm")
            } else {
                match c.state {
                    CompartmentState::Available => ("available", "free"),
                    CompartmentState::Occupied => ("occupied", "occupied"),
                    CompartmentState::Reserved => ("reserved", "reserved"),
                    CompartmentState::OutOfService => ("out_of_service", "out of service"),
                }
            };
            Cell {
                label: c.label,
                state,
                words,
            }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "console/locker.html")]
struct LockerPage {
    csrf: String,
    who: String,
    notice: Option<String>,
    /// Whether this staff member may open doors remotely (managers).
    can_open: bool,
    /// A fresh Idempotency-Key for the remote-open form.
    nonce: String,
    id: String,
    name: String,
    site_id: String,
    site_name: String,
    cells: Vec<Cell>,
}

/// The locker and its site, if this staff member may see them.
async fn locker_of(
    state: &AppState,
    session: &Session,
    locker_id: &str,
) -> Result<(queries::LockerRow, SiteRow), Response> {
    if !ids::looks_like(ids::LOCKER, locker_id) {
        return Err(not_found("locker"));
    }
    let locker = {
        let mut conn = state.store.reader().await.map_err(unavailable)?;
        queries::locker(&mut conn, locker_id)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| not_found("locker"))?
    };
    let site = site_of(state, session, &locker.site_id)
        .await
        .map_err(|_| not_found("locker"))?;
    Ok((locker, site))
}

async fn locker_page(
    State(state): State<AppState>,
    session: Session,
    Path(locker_id): Path<String>,
) -> Response {
    locker_page_with(&state, session, &locker_id, None).await
}

async fn locker_page_with(
    state: &AppState,
    session: Session,
    locker_id: &str,
    notice: Option<String>,
) -> Response {
    let (locker, site) = match locker_of(state, &session, locker_id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let cells = match state.store.reader().await {
        Ok(mut conn) => grid_cells(&mut conn, &site.id, &locker.id).await,
        Err(e) => Err(OpError::from(e)),
    };
    match cells {
        Ok(cells) => render(&LockerPage {
            can_open: session.caller.require(MANAGERS).is_ok(),
            csrf: session.csrf,
            who: session.who,
            notice,
            nonce: random_hex(),
            id: locker.id,
            name: locker.name,
            site_id: site.id,
            site_name: site.name,
            cells,
        }),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
struct OpenForm {
    csrf: String,
    nonce: String,
    label: String,
    reason: String,
    #[serde(default)]
    step_up: String,
}

/// Opens one compartment remotely through the same use case as the API, with the
/// step-up proof the page's script obtained from the staff member's passkey.
async fn open_remotely(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(locker_id): Path<String>,
    Form(form): Form<OpenForm>,
) -> Response {
    if !form_is_ours(&headers, &form.csrf, &session) {
        return forbidden_form();
    }
    // The fingerprint ties the form's key to what it asked for.
    let fingerprint = mac(
        &state.secret,
        &["console-open", &locker_id, &form.label, &form.reason],
    );
    let answer = match idempotency_key_of(&form.nonce, &session.caller, fingerprint) {
        Ok(key) => {
            app::devices::remote_open(
                &state,
                &session.caller,
                &locker_id,
                form.label.clone(),
                &form.reason,
                Some(&form.step_up),
                Some(key),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let notice = match answer {
        Ok(_) => format!(
            "Door {} was sent the command to open. The locker checks its own cap before it does.",
            form.label
        ),
        Err(e) => e.message,
    };
    locker_page_with(&state, session, &locker_id, Some(notice)).await
}

/// The grid as server-sent events: the whole grid first, then again each
/// time a compartment changes (checked every 500 ms).
async fn locker_live(
    State(state): State<AppState>,
    session: Session,
    Path(locker_id): Path<String>,
) -> Response {
    let (locker, site) = match locker_of(&state, &session, &locker_id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let stream = futures_util::stream::unfold(
        (state, site.id, locker.id, None::<Vec<Cell>>, true),
        |(state, site_id, locker_id, mut last, first)| async move {
            loop {
                if !first || last.is_some() {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                let cells = match state.store.reader().await {
                    Ok(mut conn) => grid_cells(&mut conn, &site_id, &locker_id).await.ok(),
                    Err(_) => None,
                };
                if let Some(cells) = cells
                    && last.as_ref() != Some(&cells)
                {
                    let data = serde_json::json!({ "cells": cells }).to_string();
                    last = Some(cells);
                    let event = Event::default().event("grid").data(data);
                    return Some((
                        Ok::<_, Infallible>(event),
                        (state, site_id, locker_id, last, false),
                    ));
                }
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

#[derive(Deserialize, Default)]
struct NewLockerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    small: String,
    #[serde(default)]
    medium: String,
    #[serde(default)]
    large: String,
    #[serde(default)]
    chilled: String,
}

#[derive(Template)]
#[template(path = "console/new_locker.html")]
struct NewLockerPage {
    csrf: String,
    who: String,
    site_id: String,
    site_name: String,
    name: String,
    small: String,
    medium: String,
    large: String,
    chilled: String,
    error: Option<String>,
}

fn new_locker_form(
    session: Session,
    site: SiteRow,
    form: NewLockerForm,
    error: Option<String>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut res = render(&NewLockerPage {
        csrf: session.csrf,
        who: session.who,
        site_id: site.id,
        site_name: site.name,
        name: form.name,
        small: form.small,
        medium: form.medium,
        large: form.large,
        chilled: form.chilled,
        error,
    });
    *res.status_mut() = status;
    res
}

async fn new_locker_page(
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
    let defaults = NewLockerForm {
        small: "0".into(),
        medium: "0".into(),
        large: "0".into(),
        chilled: "0".into(),
        ..Default::default()
    };
    new_locker_form(session, site, defaults, None)
}

/// Compartments of the bank from the form's counts, labelled by size.
fn compartments_of(form: &NewLockerForm) -> Result<Vec<NewCompartmentBody>, String> {
    let sizes = [
        (&form.small, "A", 80, None, "small"),
        (&form.medium, "B", 190, None, "medium"),
        (&form.large, "C", 410, None, "large"),
        (&form.chilled, "K", 190, Some("chilled"), "chilled"),
    ];
    let mut out = Vec::new();
    for (count, prefix, height, zone, what) in sizes {
        let n: u32 =
            match count.trim() {
                "" => 0,
                t => t.parse().ok().filter(|n| *n <= 500).ok_or_else(|| {
                    format!("The number of {what} compartments must be 0 to 500.")
                })?,
            };
        for i in 1..=n {
            out.push(NewCompartmentBody {
                label: format!("{prefix}{i:02}"),
                width_mm: 380,
                height_mm: height,
                depth_mm: 640,
                temperature: zone.map(str::to_string),
                height_above_floor_mm: None,
            });
        }
    }
    Ok(out)
}

async fn create_locker(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path(site_id): Path<String>,
    Form(form): Form<NewLockerForm>,
) -> Response {
    if !form_is_ours(&headers, &form.csrf, &session) {
        return forbidden_form();
    }
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if session.caller.require(MANAGERS).is_err() {
        return not_found("page");
    }
    let compartments = match compartments_of(&form) {
        Ok(c) => c,
        Err(e) => return new_locker_form(session, site, form, Some(e)),
    };
    let body = NewLockerBody {
        name: form.name.clone(),
        compartments,
        carrier_quotas: None,
    };
    let locker = match new_locker(&state, site.id.clone(), body) {
        Ok(l) => l,
        Err(e) => return new_locker_form(session, site, form, Some(e.message)),
    };
    let id = locker.id.clone();
    let stored = add_locker(&state, locker).await;
    match stored {
        Ok(_) => Redirect::to(&format!("/console/lockers/{id}")).into_response(),
        Err(e) => new_locker_form(session, site, form, Some(e.message)),
    }
}

struct ParcelLine {
    id: String,
    tracking: String,
    recipient: String,
    state: String,
    place: String,
    updated: String,
}

/// Where a parcel is, in words.
async fn place_of(
    conn: &mut cubby_store::AnyConnection,
    p: &queries::ParcelRow,
) -> Result<String, OpError> {
    Ok(match (&p.locker_id, &p.compartment_label) {
        (Some(l), Some(label)) => {
            let name = queries::locker(conn, l)
                .await?
                .map(|l| l.name)
                .unwrap_or_default();
            format!("{name} / {label}")
        }
        _ => match cubby_store::ops::self_service::shelf_of(conn, &p.id).await? {
            Some((_, zone)) => format!("parcel room, zone {zone}"),
            None => "not in a locker".to_string(),
        },
    })
}

async fn recipient_of(
    conn: &mut cubby_store::AnyConnection,
    p: &queries::ParcelRow,
) -> Result<String, OpError> {
    Ok(match &p.resident_id {
        Some(rid) => match queries::resident(conn, rid).await? {
            Some(r) => format!("{} ({})", r.name, r.unit),
            None => "unknown".to_string(),
        },
        None => format!(
            "not matched: {} ({})",
            p.recipient_name.clone().unwrap_or_default(),
            p.recipient_unit.clone().unwrap_or_default()
        ),
    })
}

#[derive(Template)]
#[template(path = "console/parcels.html")]
struct ParcelsPage {
    csrf: String,
    who: String,
    site_id: String,
    site_name: String,
    q: String,
    searched: bool,
    parcels: Vec<ParcelLine>,
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn parcels_page(
    State(state): State<AppState>,
    session: Session,
    Path(site_id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<SearchQuery>,
) -> Response {
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let q: String = query.q.trim().chars().take(100).collect();
    let built: Result<Vec<ParcelLine>, OpError> = async {
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = state.store.reader().await?;
        let mut out = Vec::new();
        for p in queries::search_parcels(&mut conn, &site.id, &q, 200).await? {
            out.push(ParcelLine {
                recipient: recipient_of(&mut conn, &p).await?,
                place: place_of(&mut conn, &p).await?,
                id: p.id,
                tracking: p.tracking_number,
                state: p.state.as_str().replace('_', " "),
                updated: utc(p.updated_ms),
            });
        }
        Ok(out)
    }
    .await;
    match built {
        Ok(parcels) => render(&ParcelsPage {
            csrf: session.csrf,
            who: session.who,
            site_id: site.id,
            site_name: site.name,
            searched: !q.is_empty(),
            q,
            parcels,
        }),
        Err(e) => unavailable(e),
    }
}

struct EventLine {
    kind: String,
    when: String,
    place: String,
    actor: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "console/parcel.html")]
struct ParcelPage {
    csrf: String,
    who: String,
    site_id: String,
    site_name: String,
    tracking: String,
    state: String,
    recipient: String,
    carrier: String,
    place: String,
    events: Vec<EventLine>,
}

async fn parcel_page(
    State(state): State<AppState>,
    session: Session,
    Path(parcel_id): Path<String>,
) -> Response {
    if !ids::looks_like(ids::PARCEL, &parcel_id) {
        return not_found("parcel");
    }
    let parcel = match state.store.reader().await {
        Ok(mut conn) => match queries::parcel(&mut conn, &parcel_id).await {
            Ok(Some(p)) => p,
            Ok(None) => return not_found("parcel"),
            Err(e) => return unavailable(e),
        },
        Err(e) => return unavailable(e),
    };
    let site = match site_of(&state, &session, &parcel.site_id).await {
        Ok(s) => s,
        Err(_) => return not_found("parcel"),
    };
    let built: Result<(String, String, Vec<EventLine>), OpError> = async {
        let mut conn = state.store.reader().await?;
        let events = queries::custody_events(&mut conn, &parcel.id)
            .await?
            .into_iter()
            .map(|e| EventLine {
                kind: e.kind.replace('_', " "),
                when: utc(e.at_ms),
                place: e.place,
                actor: e.actor,
                reason: e.reason,
            })
            .collect();
        Ok((
            recipient_of(&mut conn, &parcel).await?,
            place_of(&mut conn, &parcel).await?,
            events,
        ))
    }
    .await;
    match built {
        Ok((recipient, place, events)) => render(&ParcelPage {
            csrf: session.csrf,
            who: session.who,
            site_id: site.id,
            site_name: site.name,
            tracking: parcel.tracking_number,
            state: parcel.state.as_str().replace('_', " "),
            recipient,
            carrier: parcel.carrier.unwrap_or_else(|| "unknown".into()),
            place,
            events,
        }),
        Err(e) => unavailable(e),
    }
}

#[derive(Template)]
#[template(path = "console/reports.html")]
struct ReportsPage {
    csrf: String,
    who: String,
    site_id: String,
    site_name: String,
    days: u32,
    from: String,
    to: String,
    capacity: u32,
    arrivals: u32,
    busiest: u32,
    peak: u32,
    collected: u32,
    p50: String,
    p90: String,
    self_service: i64,
    hours_saved: String,
    volume_svg: String,
    occupancy_svg: String,
    dwell_svg: String,
    carriers: Vec<(String, i64, String, i64)>,
}

#[derive(Deserialize)]
struct ReportQuery {
    days: Option<u32>,
}

/// Minutes of desk time one parcel takes without lockers (facts.md, Camden).
const STAFF_MINUTES_PER_PARCEL: f64 = 10.0;

async fn reports_page(
    State(state): State<AppState>,
    session: Session,
    Path(site_id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ReportQuery>,
) -> Response {
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let days = q.days.unwrap_or(28).clamp(7, 366);
    let (activity, capacity) =
        match app::analytics::measure(&state, &site.id, &site.timezone, None, days).await {
            Ok(v) => v,
            Err(e) => return unavailable(e.message),
        };
    let since = now_ms() - i64::from(days) * 86_400_000;
    let extra: Result<_, OpError> = async {
        let mut conn = state.store.reader().await?;
        Ok((
            queries::carrier_compliance(&mut conn, &site.id, since).await?,
            queries::self_service_pickups(&mut conn, &site.id, since).await?,
        ))
    }
    .await;
    let (carriers, self_service) = match extra {
        Ok(v) => v,
        Err(e) => return unavailable(e),
    };
    let labels: Vec<String> = activity
        .days
        .iter()
        .map(|d| d.date.format("%m-%d").to_string())
        .collect();
    let every = (activity.days.len() / 7).max(1);
    let arrivals: Vec<f64> = activity
        .days
        .iter()
        .map(|d| f64::from(d.arrivals))
        .collect();
    let occupancy: Vec<f64> = activity
        .days
        .iter()
        .map(|d| f64::from(d.peak_occupancy))
        .collect();
    let (dwell_labels, dwell_counts): (Vec<String>, Vec<f64>) = activity
        .dwell
        .histogram
        .iter()
        .map(|(l, n)| (l.clone(), f64::from(*n)))
        .unzip();
    let hours = |h: Option<f64>| h.map_or("—".to_string(), |h| format!("{h:.1} h"));
    let pct = |part: i64, of: i64| {
        if of == 0 {
            "—".to_string()
        } else {
            format!("{} %", part * 100 / of)
        }
    };
    render(&ReportsPage {
        csrf: session.csrf,
        who: session.who,
        site_id: site.id,
        site_name: site.name,
        days,
        from: activity.from.to_string(),
        to: activity.to.to_string(),
        capacity,
        arrivals: activity.days.iter().map(|d| d.arrivals).sum(),
        busiest: activity.days.iter().map(|d| d.arrivals).max().unwrap_or(0),
        peak: activity.peak_occupancy,
        collected: activity.dwell.collected,
        p50: hours(activity.dwell.p50_hours),
        p90: hours(activity.dwell.p90_hours),
        self_service,
        hours_saved: format!(
            "{:.1}",
            self_service as f64 * STAFF_MINUTES_PER_PARCEL / 60.0
        ),
        volume_svg: charts::bars("Parcels arriving per day", &labels, &arrivals, every),
        occupancy_svg: charts::bars(
            "Most parcels inside at once, per day",
            &labels,
            &occupancy,
            every,
        ),
        dwell_svg: charts::bars(
            "Parcels by how long they stayed",
            &dwell_labels,
            &dwell_counts,
            1,
        ),
        carriers: carriers
            .into_iter()
            .map(|(c, n, announced, unmatched)| {
                (
                    c.unwrap_or_else(|| "(none)".into()),
                    n,
                    pct(announced, n),
                    unmatched,
                )
            })
            .collect(),
    })
}
