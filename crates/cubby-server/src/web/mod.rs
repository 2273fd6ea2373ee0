//! The web console: server-rendered pages (askama templates in
//! `templates/console`), a session cookie opened with a staff API token,
//! a synchroniser token on every form plus an Origin check on every POST,
//! a strict Content-Security-Policy (scripts and styles from this server
//! only, nothing inline), and a locker's compartment grid kept live over
//! server-sent events.

mod audit;
mod charts;
mod live;
mod lockers;
mod parcels;
mod reports;
mod sign_in;
mod sites;

// The console's pages share their helpers with each other through here.
use lockers::*;
use sites::*;
mod courier;
mod passkey_pages;
mod people;
mod points;
pub(crate) mod portal;
mod portal_settings;
mod residents;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cubby_domain::ids;
use cubby_domain::model::Role;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::tenants::SiteRow;

use crate::AppState;
use crate::auth::STAFF;
use crate::auth::sessions::{self, SESSION_MS};

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
        .route("/console", get(sites::sites_page))
        .route(
            "/console/sign-in",
            get(sign_in::sign_in_page).post(sign_in::sign_in),
        )
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/sites/{site_id}", get(sites::site_page))
        .route("/console/sites/{site_id}/details", post(sites::save_site))
        .route(
            "/console/sites/{site_id}/lockers/new",
            get(lockers::new_locker_page),
        )
        .route(
            "/console/sites/{site_id}/lockers",
            post(lockers::create_locker),
        )
        .route(
            "/console/sites/{site_id}/parcels",
            get(parcels::parcels_page),
        )
        .route("/console/parcels/{parcel_id}", get(parcels::parcel_page))
        .route(
            "/console/sites/{site_id}/reports",
            get(reports::reports_page),
        )
        .route("/console/lockers/{locker_id}", get(lockers::locker_page))
        .route("/console/lockers/{locker_id}/live", get(live::locker_live))
        .route(
            "/console/lockers/{locker_id}/open",
            post(lockers::open_remotely),
        )
        .route(
            "/console/lockers/{locker_id}/quotas",
            post(lockers::set_quotas),
        )
        .route(
            "/console/lockers/{locker_id}/service",
            post(lockers::set_service),
        )
        .route("/console/assets/console.css", get(css))
        .route("/console/assets/console.js", get(js))
        .merge(courier::router())
        .merge(portal::router())
        .merge(portal_settings::router())
        .merge(residents::router())
        .merge(people::router())
        .merge(passkey_pages::router())
        .merge(points::router())
        .route("/console/audit", get(audit::audit_page))
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

/// A use case's refusal, as a page with its status and message.
pub(crate) fn refused(e: &crate::error::ApiError) -> Response {
    if e.status.is_server_error() {
        return unavailable(&e.message);
    }
    error_page(e.status, "Refused", &e.message)
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> Response {
    tracing::warn!("console: {e}");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Unavailable",
        "The database did not answer. Try again in a moment.",
    )
}

pub(crate) use crate::auth::sessions::{
    CsrfForm, CsrfOnly, FormSession, Portal, Session, random_hex, same_origin,
};

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
    let mut session = session_in(&parts.headers, state, portal).await?;
    // What a session does is audited with where it came from.
    session.caller.source = crate::auth::throttle::source_of(parts).0;
    Ok(session)
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

impl FormSession for Session {
    fn session(&self) -> &Session {
        self
    }
    fn refused() -> Response {
        forbidden_form()
    }
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
/// Who may sign in to a portal, and what the others are told.
pub(crate) struct SignInRule<'a> {
    pub portal: &'a Portal,
    pub allowed: fn(Role) -> bool,
    pub refusal: &'a str,
}

pub(crate) async fn open_portal_session(
    state: &AppState,
    headers: &HeaderMap,
    source: &crate::auth::Source,
    token: &str,
    rule: SignInRule<'_>,
    page: impl Fn(String) -> Response,
) -> Response {
    let SignInRule {
        portal,
        allowed,
        refusal,
    } = rule;
    if !same_origin(headers) {
        return forbidden_form();
    }
    let now = crate::now_ms();
    let with_status = |msg: &str, e: &crate::error::ApiError| {
        let mut res = page(msg.to_string());
        *res.status_mut() = e.status;
        if let Some(secs) = e.retry_after_secs
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    };
    if let Err(e) = state.failures.check(source, now) {
        return with_status("Too many failed sign-ins from here: wait a minute.", &e);
    }
    let row = match sessions::token_row(state, token).await {
        Ok(row) => row,
        Err(e) => return unavailable(e),
    };
    let (msg, target) = match &row {
        None => ("That is not a valid token.", "token:unknown".to_string()),
        Some(row) if !allowed(row.role) => (refusal, format!("token:{}", row.id)),
        Some(row) => match session_cookie(state, portal, &row.id).await {
            Ok(cookie) => {
                return ([(header::SET_COOKIE, cookie)], Redirect::to(portal.path)).into_response();
            }
            Err(e) => return unavailable(e),
        },
    };
    let refused = crate::error::ApiError::new(cubby_domain::codes::Code::Unauthorized, msg);
    let answer = crate::auth::tokens::credential_failed(
        state,
        source,
        format!("{} sign-in {target}", portal.path),
        refused,
        now,
    )
    .await;
    if answer.retry_after_secs.is_some() {
        with_status(
            "Too many failed sign-ins from here: wait a minute.",
            &answer,
        )
    } else {
        with_status(msg, &answer)
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

/// Ends the session of `portal` (its sign-out form came through [`CsrfForm`]).
pub(crate) async fn close_portal_session(
    state: &AppState,
    headers: &HeaderMap,
    portal: &Portal,
) -> Response {
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
    match db::tenants::site(&mut conn, site_id)
        .await
        .map_err(unavailable)?
    {
        Some(site) if session.caller.sees_org(&site.org_id) => Ok(site),
        _ => Err(not_found("site")),
    }
}

pub(crate) fn utc(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}
