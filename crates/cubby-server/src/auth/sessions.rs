//! Browser sessions for the console, the courier screens and the portal.
//!
//! A session cookie is 256 random bits; the database keeps only its MAC under
//! the server secret, with the token it acts as and a CSRF token every form
//! must echo. Each kind of session has its own cookie, scoped to its path.

use axum::http::{HeaderMap, header};
use cubby_domain::credentials::mac;
use cubby_store as db;
use cubby_store::tokens::TokenRow;
use cubby_store::{OpError, Store};

use super::{Caller, token_mac};
use crate::{AppState, now_ms, os_random};

/// How long a staff or courier session lasts.
pub const SESSION_MS: i64 = 12 * 3_600_000;

/// A signed-in holder: the token it acts as, the CSRF token its forms carry,
/// and a name to show.
pub struct Session {
    pub caller: Caller,
    pub csrf: String,
    pub who: String,
}

/// Where a kind of session lives: its cookie (scoped to its own path) and
/// its sign-in page.
pub struct Portal {
    pub cookie: &'static str,
    pub path: &'static str,
    pub sign_in: &'static str,
}

impl Portal {
    /// The Set-Cookie value of a session cookie for this portal: scoped to
    /// its path, out of scripts' reach, HTTPS only, never sent cross-site.
    pub fn cookie(&self, value: &str, lasts_ms: i64) -> String {
        format!(
            "{}={value}; Path={}; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
            self.cookie,
            self.path,
            lasts_ms / 1000
        )
    }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

pub fn session_mac(secret: &[u8], value: &str) -> [u8; 32] {
    mac(secret, &["web-session", value])
}

/// 256 random bits as hex: session cookies, CSRF tokens, ceremony ids.
pub fn random_hex() -> String {
    let mut b = [0u8; 32];
    os_random(&mut b);
    hex::encode(b)
}

/// The live session behind a request's cookie for `portal`, if any.
pub async fn session_in(
    headers: &HeaderMap,
    state: &AppState,
    portal: &Portal,
) -> Result<Option<Session>, OpError> {
    let Some(value) = cookie_value(headers, portal.cookie) else {
        return Ok(None);
    };
    let mut conn = state.store.reader().await?;
    let found =
        db::sessions::session(&mut conn, &session_mac(&state.secret, &value), now_ms()).await?;
    Ok(found.map(|(row, csrf)| {
        let who = format!("{} ({})", row.label, row.role);
        Session {
            caller: Caller::from_row(row),
            csrf,
            who,
        }
    }))
}

/// The token row a typed API token names (for signing in with a token).
pub async fn token_row(state: &AppState, token: &str) -> Result<Option<TokenRow>, OpError> {
    let token = token.trim();
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    let mut conn = state.store.reader().await?;
    Ok(
        db::tokens::token_by_mac(&mut conn, &token_mac(&state.secret, token))
            .await?
            .filter(|t| t.live(now_ms())),
    )
}

/// Opens a session of `portal` acting as `token_id` for `lasts_ms`: its
/// Set-Cookie value.
pub async fn open_session(
    store: &Store,
    secret: &[u8],
    portal: &Portal,
    token_id: &str,
    lasts_ms: i64,
) -> Result<String, OpError> {
    let value = random_hex();
    let id_mac = session_mac(secret, &value);
    let csrf = random_hex();
    let (token_id, now) = (token_id.to_string(), now_ms());
    store
        .transact(move |conn| {
            Box::pin(async move {
                db::sessions::open_session(conn, &id_mac, &token_id, &csrf, now, now + lasts_ms)
                    .await
            })
        })
        .await?;
    Ok(portal.cookie(&value, lasts_ms))
}

/// Ends the session behind the request's cookie for `portal`: the Set-Cookie
/// value that clears it in the browser.
pub async fn close_session(
    state: &AppState,
    headers: &HeaderMap,
    portal: &Portal,
) -> Result<String, OpError> {
    if let Some(value) = cookie_value(headers, portal.cookie) {
        let id_mac = session_mac(&state.secret, &value);
        state
            .store
            .transact(move |conn| {
                Box::pin(async move { db::sessions::close_session(conn, &id_mac).await })
            })
            .await?;
    }
    Ok(portal.cookie("", 0))
}

/// A POST from a page of ours carrying the session's CSRF token.
pub fn form_is_ours(headers: &HeaderMap, csrf: &str, session: &Session) -> bool {
    same_origin(headers)
        && cubby_protocol::constant_time_eq(csrf.as_bytes(), session.csrf.as_bytes())
}

/// A POST must come from a page of this server: the browser's Origin header
/// names the host it was sent to.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    match (host, origin) {
        (Some(host), Some(origin)) => {
            origin == format!("http://{host}") || origin == format!("https://{host}")
        }
        _ => false,
    }
}

/// How long a resident's portal session lasts.
pub const RESIDENT_SESSION_MS: i64 = 30 * 86_400_000;

/// Opens a portal session for a resident (after a passkey proved them):
/// its Set-Cookie value. The session acts as a resident token that cannot
/// be presented as a bearer token: its MAC is of random bytes nobody holds.
pub async fn open_resident_session(
    state: &AppState,
    portal: &Portal,
    resident_id: &str,
) -> Result<String, OpError> {
    let value = random_hex();
    let id_mac = session_mac(&state.secret, &value);
    let csrf = random_hex();
    let now = now_ms();
    let rid = resident_id.to_string();
    let token_id = crate::new_id(cubby_domain::ids::TOKEN);
    let unusable = mac(&state.secret, &["unusable-token", &random_hex()]);
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                let resident = db::residents::resident(conn, &rid)
                    .await?
                    .ok_or(OpError::NotFound { what: "resident" })?;
                let site = db::tenants::site(conn, &resident.site_id)
                    .await?
                    .ok_or(OpError::NotFound { what: "resident" })?;
                let token = cubby_store::passkeys::portal_token(
                    conn,
                    &rid,
                    &token_id,
                    &unusable,
                    &site.org_id,
                    now,
                )
                .await?;
                db::sessions::open_session(
                    conn,
                    &id_mac,
                    &token,
                    &csrf,
                    now,
                    now + RESIDENT_SESSION_MS,
                )
                .await
            })
        })
        .await?;
    Ok(portal.cookie(&value, RESIDENT_SESSION_MS))
}

/// A session extractor whose forms carry a CSRF token: the console's staff
/// session, the portal's resident session, the courier screens' session.
pub trait FormSession:
    Sized + Send + axum::extract::FromRequestParts<AppState, Rejection = axum::response::Response>
{
    fn session(&self) -> &Session;
    /// The answer to a form that did not come from one of our pages.
    fn refused() -> axum::response::Response;
}

/// A form posted by a signed-in holder from one of our pages: the session
/// (its own extractor's checks first), then the body's `csrf` field checked
/// against the session's token and the Origin against the Host, and only
/// then the form itself.
pub struct CsrfForm<S, T> {
    pub session: S,
    pub form: T,
}

/// A form with nothing but its CSRF token (sign-out, resolve, revoke).
#[derive(serde::Deserialize)]
pub struct CsrfOnly {}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<S, T> axum::extract::FromRequest<AppState> for CsrfForm<S, T>
where
    S: FormSession,
    T: serde::de::DeserializeOwned,
{
    type Rejection = axum::response::Response;

    async fn from_request(
        req: axum::extract::Request,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let (mut parts, body) = req.into_parts();
        let session = S::from_request_parts(&mut parts, state).await?;
        let headers = parts.headers.clone();
        let form_of = |bytes: &axum::body::Bytes| {
            let mut req = axum::extract::Request::new(axum::body::Body::from(bytes.clone()));
            *req.method_mut() = axum::http::Method::POST;
            req.headers_mut().insert(
                header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
            req
        };
        let bytes =
            axum::body::Bytes::from_request(axum::extract::Request::from_parts(parts, body), state)
                .await
                .map_err(IntoResponse::into_response)?;
        let axum::Form(CsrfField { csrf }) = axum::Form::from_request(form_of(&bytes), state)
            .await
            .map_err(|_| S::refused())?;
        if !form_is_ours(&headers, &csrf, session.session()) {
            return Err(S::refused());
        }
        let axum::Form(form) = axum::Form::from_request(form_of(&bytes), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(CsrfForm { session, form })
    }
}
