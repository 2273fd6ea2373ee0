//! The resident portal, signed in with passkeys (WebAuthn, webauthn-rs).
//!
//! A resident's first passkey is registered from a one-time invitation that
//! staff issue (`POST /api/v1/residents/{id}/portal-invites`; the code travels
//! in the link's fragment, so it never reaches a server log). Later sign-ins
//! name the resident's email and prove the passkey. Ceremony state lives in
//! the database, so any instance can finish what another started. The
//! relying party is the host name the portal is opened under (passkeys
//! cannot be bound to a bare IP address: use a name, `localhost` on one
//! machine).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use cubby_domain::credentials::mac;
use cubby_domain::ids;
use cubby_domain::lifecycle::ParcelState;
use cubby_store::ops::passkeys::{self as store, Holder};
use cubby_store::ops::web_sessions;
use cubby_store::queries;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid,
    Webauthn, WebauthnBuilder,
};

use super::{
    Portal, Session, form_is_ours, not_found, random_hex, render, session_of, unavailable,
};
use crate::api::check_id;
use crate::auth::{Caller, STAFF};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::{AppState, new_id, now_ms};

pub(crate) const PORTAL: Portal = Portal {
    cookie: "cubby_portal",
    path: "/portal",
    sign_in: "/portal/sign-in",
};
const INVITE_MS: i64 = 7 * 86_400_000;
const CEREMONY_MS: i64 = 5 * 60_000;
const SESSION_MS: i64 = 30 * 86_400_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(home))
        .route("/portal/enrol", get(enrol_page))
        .route("/portal/sign-in", get(sign_in_page))
        .route("/portal/sign-out", post(sign_out))
        .route("/portal/lockers/{locker_id}/pass", post(show_pass))
        .route("/portal/parcels/{parcel_id}/{action}", post(parcel_action))
        .route("/portal/my-data.json", get(my_data))
        .route("/portal/assets/portal.js", get(script))
        .route("/portal/passkeys/register/start", post(register_start))
        .route("/portal/passkeys/register/finish", post(register_finish))
        .route("/portal/passkeys/sign-in/start", post(sign_in_start))
        .route("/portal/passkeys/sign-in/finish", post(sign_in_finish))
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/portal.js"),
    )
        .into_response()
}

/// The relying party for the host the portal was opened under.
pub(crate) fn webauthn_for(headers: &HeaderMap) -> Result<Webauthn, ApiError> {
    let refuse = |why: &str| {
        ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "portal_needs_a_host_name",
            why.to_string(),
        )
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or_else(|| refuse("the request names no host"))?;
    let name = host.rsplit_once(':').map_or(host, |(n, _)| n);
    if name.parse::<std::net::IpAddr>().is_ok() || name.starts_with('[') {
        return Err(refuse(
            "passkeys need a host name: open the portal under its name (localhost on this machine)",
        ));
    }
    let scheme = if name == "localhost" { "http" } else { "https" };
    let origin = Url::parse(&format!("{scheme}://{host}"))
        .map_err(|_| refuse("the host is not a valid name"))?;
    WebauthnBuilder::new(name, &origin)
        .and_then(|b| b.rp_name("Cubby").build())
        .map_err(|e| refuse(&format!("cannot act for {name}: {e}")))
}

/// The WebAuthn user handle of a resident or a staff token: stable, and
/// reveals nothing.
pub(crate) fn user_handle(holder: Holder, id: &str) -> Uuid {
    let kind = match holder {
        Holder::Resident => "resident",
        Holder::Staff => "staff",
    };
    let digest = Sha256::digest(format!("cubby-{kind}-handle-v1:{id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(b)
}

fn invite_mac(secret: &[u8], code: &str) -> [u8; 32] {
    mac(secret, &["portal-invite", code])
}

pub(crate) fn same_origin_json(headers: &HeaderMap) -> Result<(), ApiError> {
    if super::same_origin(headers) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "this request did not come from the portal",
        ))
    }
}

#[derive(Serialize, ToSchema)]
pub struct PortalInvite {
    /// Open this path on the portal's host; the code is in the fragment.
    pub path: String,
    pub expires_ms: i64,
}

/// Invite a resident to the portal: a one-time link (valid 7 days) that
/// registers their first passkey.
#[utoipa::path(post, path = "/api/v1/residents/{resident_id}/portal-invites", params(("resident_id" = String, Path)),
    responses((status = 201, body = PortalInvite), (status = 404, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(resident_id): Path<String>,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    check_id(ids::RESIDENT, &resident_id, "resident")?;
    {
        let mut conn = state
            .store
            .reader()
            .await
            .map_err(cubby_store::OpError::from)?;
        let resident = queries::resident(&mut conn, &resident_id)
            .await?
            .ok_or_else(|| ApiError::not_found("resident"))?;
        let site = queries::site(&mut conn, &resident.site_id)
            .await?
            .filter(|s| caller.sees_org(&s.org_id))
            .ok_or_else(|| ApiError::not_found("resident"))?;
        let _ = site;
    }
    let code = random_hex();
    let code_mac = invite_mac(&state.secret, &code);
    let (now, actor) = (now_ms(), caller.actor());
    let rid = resident_id.clone();
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                store::create_invite(
                    conn,
                    Holder::Resident,
                    &code_mac,
                    &rid,
                    &actor,
                    now,
                    now + INVITE_MS,
                )
                .await
            })
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PortalInvite {
            path: format!("/portal/enrol#code={code}"),
            expires_ms: now + INVITE_MS,
        }),
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "portal/enrol.html")]
struct EnrolPage;

async fn enrol_page() -> Response {
    render(&EnrolPage)
}

#[derive(Template)]
#[template(path = "portal/sign_in.html")]
struct SignInPage;

async fn sign_in_page() -> Response {
    render(&SignInPage)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterStart {
    /// An invitation code (from the link's fragment) ...
    #[serde(default)]
    code: String,
    /// ... or, signed in (with a passkey), the session's CSRF token: adds
    /// another passkey for the same resident.
    #[serde(default)]
    csrf: String,
}

/// A WebAuthn ceremony begun: its id, and the options for the browser.
#[derive(Serialize, ToSchema)]
pub struct Challenge {
    pub ceremony: String,
    /// The `publicKey` options for `navigator.credentials` (binary fields as base64url).
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

async fn register_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<RegisterStart>,
) -> ApiResult<Json<Challenge>> {
    same_origin_json(&headers)?;
    let webauthn = webauthn_for(&headers)?;
    let refused = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "invite_not_valid",
            "this invitation has expired or was used; ask your building for a new one",
        )
    };
    let now = now_ms();
    // Either an invitation, or a signed-in resident adding another device.
    let (rid, invite) = if body.code.is_empty() {
        let session = super::session_in(&headers, &state, &PORTAL)
            .await
            .map_err(|_| refused())?;
        let rid = session.caller.resident_id.clone().ok_or_else(refused)?;
        if !cubby_protocol::constant_time_eq(body.csrf.as_bytes(), session.csrf.as_bytes()) {
            return Err(ApiError::forbidden());
        }
        (rid, None)
    } else {
        if body.code.len() != 64 {
            return Err(refused());
        }
        let code_mac = invite_mac(&state.secret, &body.code);
        let mut conn = state
            .store
            .reader()
            .await
            .map_err(cubby_store::OpError::from)?;
        let rid = store::invite(&mut conn, Holder::Resident, &code_mac, now)
            .await?
            .ok_or_else(refused)?;
        (rid, Some(hex::encode(code_mac)))
    };
    let (resident, existing) = {
        let mut conn = state
            .store
            .reader()
            .await
            .map_err(cubby_store::OpError::from)?;
        let resident = queries::resident(&mut conn, &rid)
            .await?
            .ok_or_else(refused)?;
        let existing: Vec<webauthn_rs::prelude::CredentialID> =
            store::passkeys_of(&mut conn, Holder::Resident, &rid)
                .await?
                .iter()
                .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
                .map(|p| p.cred_id().clone())
                .collect();
        (resident, existing)
    };
    let (options, reg) = webauthn
        .start_passkey_registration(
            user_handle(Holder::Resident, &resident.id),
            resident.email.as_deref().unwrap_or(&resident.name),
            &resident.name,
            Some(existing),
        )
        .map_err(|e| ApiError::invalid("passkey", e.to_string()))?;
    // The invitation code rides along in the ceremony; it is spent only
    // when the passkey is stored.
    let saved = serde_json::json!({ "reg": reg, "invite": invite }).to_string();
    let ceremony = random_hex();
    let (cid, rid) = (ceremony.clone(), resident.id.clone());
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                store::save_ceremony(
                    conn,
                    &cid,
                    "register",
                    Some(&rid),
                    &saved,
                    now,
                    now + CEREMONY_MS,
                )
                .await
            })
        })
        .await?;
    Ok(Json(Challenge {
        ceremony,
        options: serde_json::to_value(options).unwrap_or_default(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterFinish {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
}

pub(crate) fn ceremony_failed() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "passkey_refused",
        "the passkey could not be verified; start again",
    )
}

/// Opens a portal session for a resident and answers with its cookie.
async fn open_session(state: &AppState, resident_id: &str) -> ApiResult<Response> {
    let value = random_hex();
    let id_mac = super::session_mac(&state.secret, &value);
    let csrf = random_hex();
    let now = now_ms();
    let rid = resident_id.to_string();
    let token_id = new_id(ids::TOKEN);
    // A portal token cannot be presented as a bearer token: its MAC is of
    // random bytes nobody holds.
    let unusable = mac(&state.secret, &["unusable-token", &random_hex()]);
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                let resident = queries::resident(conn, &rid)
                    .await?
                    .ok_or(cubby_store::OpError::NotFound { what: "resident" })?;
                let site = queries::site(conn, &resident.site_id)
                    .await?
                    .ok_or(cubby_store::OpError::NotFound { what: "resident" })?;
                let token =
                    store::portal_token(conn, &rid, &token_id, &unusable, &site.org_id, now)
                        .await?;
                web_sessions::open_session(conn, &id_mac, &token, &csrf, now, now + SESSION_MS)
                    .await
            })
        })
        .await?;
    let cookie = format!(
        "{}={value}; Path={}; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        PORTAL.cookie,
        PORTAL.path,
        SESSION_MS / 1000
    );
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(serde_json::json!({ "next": "/portal" })),
    )
        .into_response())
}

/// How a credential id is stored and looked up: base64url of its bytes.
pub(crate) fn cred_id_text(raw: &[u8]) -> String {
    base64url(raw)
}

pub(crate) fn cred_id_of(passkey: &Passkey) -> String {
    cred_id_text(passkey.cred_id().as_ref())
}

async fn register_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<RegisterFinish>,
) -> ApiResult<Response> {
    same_origin_json(&headers)?;
    let resident_id = super::staff::finish_enrolment(
        &state,
        &headers,
        Holder::Resident,
        &body.ceremony,
        &body.credential,
    )
    .await?;
    open_session(&state, &resident_id).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInStart {
    email: String,
}

async fn sign_in_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<SignInStart>,
) -> ApiResult<Json<Challenge>> {
    same_origin_json(&headers)?;
    let webauthn = webauthn_for(&headers)?;
    let email = body.email.trim().to_ascii_lowercase();
    if email.is_empty() || email.len() > 254 {
        return Err(ApiError::invalid(
            "email",
            "give the email your building has",
        ));
    }
    let found = {
        let mut conn = state
            .store
            .reader()
            .await
            .map_err(cubby_store::OpError::from)?;
        store::passkeys_by_email(&mut conn, &email).await?
    };
    let passkeys: Vec<Passkey> = found
        .iter()
        .filter_map(|(_, _, json)| serde_json::from_str(json).ok())
        .collect();
    let ceremony = random_hex();
    if passkeys.is_empty() {
        // The same shape of answer for an address without a passkey, so the
        // sign-in page does not tell who lives here; it can only fail.
        let mut challenge = [0u8; 32];
        crate::os_random(&mut challenge);
        let mut fake_id = [0u8; 32];
        crate::os_random(&mut fake_id);
        let options = serde_json::json!({ "publicKey": {
            "challenge": base64url(&challenge),
            "timeout": 300000,
            "rpId": webauthn_rp_id(&headers),
            "allowCredentials": [{ "type": "public-key", "id": base64url(&fake_id) }],
            "userVerification": "required",
        }});
        return Ok(Json(Challenge { ceremony, options }));
    }
    let (options, auth) = webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(|e| ApiError::invalid("passkey", e.to_string()))?;
    let saved = serde_json::to_string(&auth).map_err(|_| ceremony_failed())?;
    let now = now_ms();
    let cid = ceremony.clone();
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                store::save_ceremony(conn, &cid, "sign_in", None, &saved, now, now + CEREMONY_MS)
                    .await
            })
        })
        .await?;
    Ok(Json(Challenge {
        ceremony,
        options: serde_json::to_value(options).unwrap_or_default(),
    }))
}

pub(crate) fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn webauthn_rp_id(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    host.rsplit_once(':').map_or(host, |(n, _)| n).to_string()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInFinish {
    ceremony: String,
    credential: PublicKeyCredential,
}

async fn sign_in_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<SignInFinish>,
) -> ApiResult<Response> {
    same_origin_json(&headers)?;
    let webauthn = webauthn_for(&headers)?;
    let now = now_ms();
    let id = body.ceremony.clone();
    let taken = state
        .store
        .transact(move |conn| {
            Box::pin(async move { store::take_ceremony(conn, &id, "sign_in", now).await })
        })
        .await?;
    let Some((_, saved)) = taken else {
        return Err(ceremony_failed());
    };
    let auth: PasskeyAuthentication =
        serde_json::from_str(&saved).map_err(|_| ceremony_failed())?;
    let result = webauthn
        .finish_passkey_authentication(&body.credential, &auth)
        .map_err(|_| ceremony_failed())?;
    let used = cred_id_text(result.cred_id().as_ref());
    // The passkey that signed, its owner, and its new counter.
    let (resident_id, json) = {
        let mut conn = state
            .store
            .reader()
            .await
            .map_err(cubby_store::OpError::from)?;
        store::passkey(&mut conn, Holder::Resident, &used)
            .await?
            .ok_or_else(ceremony_failed)?
    };
    let mut passkey: Passkey = serde_json::from_str(&json).map_err(|_| ceremony_failed())?;
    passkey.update_credential(&result);
    let json = serde_json::to_string(&passkey).map_err(|_| ceremony_failed())?;
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                store::touch_passkey(conn, Holder::Resident, &used, &json, now).await
            })
        })
        .await?;
    open_session(&state, &resident_id).await
}

struct ParcelLine {
    id: String,
    tracking: String,
    place: String,
    state: String,
    since: String,
    /// `hold` or `release`.
    hold_action: &'static str,
    in_locker: bool,
}

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage {
    csrf: String,
    name: String,
    notice: Option<String>,
    history: Vec<String>,
    waiting: Vec<ParcelLine>,
    /// Lockers holding something for the resident: (id, name).
    lockers: Vec<(String, String)>,
    passkeys: usize,
}

/// A signed-in resident: the session and the resident's id.
pub(crate) struct ResidentSession(pub(crate) Session, pub(crate) String);

impl axum::extract::FromRequestParts<AppState> for ResidentSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let s = session_of(parts, state, &PORTAL).await?;
        match s.caller.resident_id.clone() {
            Some(rid) => Ok(ResidentSession(s, rid)),
            None => Err(not_found("page")),
        }
    }
}

async fn home(
    State(state): State<AppState>,
    ResidentSession(session, rid): ResidentSession,
) -> Response {
    home_with(&state, &session, &rid, None).await
}

/// The home page, with a notice about what the resident just did.
async fn home_with(
    state: &AppState,
    session: &Session,
    rid: &str,
    notice: Option<String>,
) -> Response {
    let built: Result<HomePage, cubby_store::OpError> = async {
        let mut conn = state.store.reader().await?;
        let resident = queries::resident(&mut conn, rid)
            .await?
            .ok_or(cubby_store::OpError::NotFound { what: "resident" })?;
        let mut waiting = Vec::new();
        let mut history = Vec::new();
        let mut lockers: Vec<(String, String)> = Vec::new();
        let parcels = cubby_store::ops::self_service::parcels_of_resident(
            &mut conn,
            &resident.site_id,
            &resident.id,
            100,
        )
        .await?;
        for p in &parcels {
            if p.state == ParcelState::PickedUp && history.len() < 50 {
                history.push(format!(
                    "{} collected {} UTC",
                    p.tracking_number,
                    super::utc(p.updated_ms)
                ));
            }
        }
        for p in parcels.into_iter().filter(|p| {
            matches!(
                p.state,
                ParcelState::Deposited | ParcelState::OnHold | ParcelState::Expired
            )
        }) {
            let place = match (&p.locker_id, &p.compartment_label) {
                (Some(l), Some(label)) => {
                    let name = queries::locker(&mut conn, l)
                        .await?
                        .map(|l| l.name)
                        .unwrap_or_default();
                    if !lockers.iter().any(|(id, _)| id == l) {
                        lockers.push((l.clone(), name.clone()));
                    }
                    format!("locker {name}, door {label}")
                }
                _ => "the parcel room".to_string(),
            };
            waiting.push(ParcelLine {
                id: p.id.clone(),
                hold_action: if p.state == ParcelState::OnHold {
                    "release"
                } else {
                    "hold"
                },
                in_locker: p.locker_id.is_some(),
                tracking: p.tracking_number.clone(),
                place,
                state: p.state.as_str().replace('_', " "),
                since: super::utc(p.updated_ms),
            });
        }
        let passkeys = store::passkeys_of(&mut conn, Holder::Resident, &resident.id)
            .await?
            .len();
        Ok(HomePage {
            csrf: session.csrf.clone(),
            name: resident.name,
            notice: None,
            history,
            waiting,
            lockers,
            passkeys,
        })
    }
    .await;
    match built {
        Ok(mut page) => {
            page.notice = notice;
            render(&page)
        }
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn sign_out(
    State(state): State<AppState>,
    ResidentSession(session, _): ResidentSession,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !form_is_ours(&headers, &form.csrf, &session) {
        return super::forbidden_form();
    }
    super::close_portal_session(&state, &session, &headers, &form.csrf, &PORTAL).await
}

#[derive(Template)]
#[template(path = "portal/pass.html")]
struct PassPage {
    locker: String,
    code: String,
    token: String,
    qr_svg: String,
}

/// A fresh pick-up pass for one locker: a code and a QR token, both opening
/// everything waiting for the resident there.
async fn show_pass(
    State(state): State<AppState>,
    ResidentSession(session, rid): ResidentSession,
    headers: HeaderMap,
    Path(locker_id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !form_is_ours(&headers, &form.csrf, &session) {
        return super::forbidden_form();
    }
    if !ids::looks_like(ids::LOCKER, &locker_id) {
        return not_found("locker");
    }
    let locker = {
        let mut conn = match state.store.reader().await {
            Ok(c) => c,
            Err(e) => return unavailable(e),
        };
        match queries::locker(&mut conn, &locker_id).await {
            Ok(Some(l)) => l,
            Ok(None) => return not_found("locker"),
            Err(e) => return unavailable(e),
        }
    };
    let mut issued = None;
    // A fresh code may collide with a live one at this locker; draw again.
    for _ in 0..3 {
        let secrets = crate::api::parcels::fresh_secrets(&state, &locker.id);
        let (lid, r, s, now) = (locker.id.clone(), rid.clone(), secrets.clone(), now_ms());
        let stored = state
            .store
            .transact(move |conn| {
                Box::pin(async move { cubby_store::ops::issue_pass(conn, &lid, &r, &s, now).await })
            })
            .await;
        match stored {
            Ok(()) => {
                issued = Some(secrets);
                break;
            }
            Err(cubby_store::OpError::Conflict {
                code: "credential_collision",
                ..
            }) => continue,
            // Nothing waiting there (any more), or not this resident's site.
            Err(cubby_store::OpError::NotFound { .. }) => {
                return not_found("parcel at this locker");
            }
            Err(e) => return unavailable(e),
        }
    }
    let Some(secrets) = issued else {
        return unavailable("no fresh code could be drawn");
    };
    state.devices.locker_changed(&locker.id);
    render(&PassPage {
        locker: locker.name,
        qr_svg: cubby_notify::qr::qr_svg(&secrets.qr_token, "Pick-up QR code").unwrap_or_default(),
        code: secrets.code,
        token: secrets.qr_token,
    })
}

#[derive(Deserialize)]
struct ParcelActionForm {
    csrf: String,
    #[serde(default)]
    name: String,
}

/// Hold or release one of my parcels, or give someone a delegate code for it.
async fn parcel_action(
    State(state): State<AppState>,
    ResidentSession(session, rid): ResidentSession,
    headers: HeaderMap,
    Path((parcel_id, action)): Path<(String, String)>,
    Form(form): Form<ParcelActionForm>,
) -> Response {
    use cubby_domain::lifecycle::Transition;
    if !form_is_ours(&headers, &form.csrf, &session) {
        return super::forbidden_form();
    }
    if !ids::looks_like(ids::PARCEL, &parcel_id) {
        return not_found("parcel");
    }
    let parcel = match state.store.reader().await {
        Ok(mut conn) => match queries::parcel(&mut conn, &parcel_id).await {
            Ok(Some(p)) if p.resident_id.as_deref() == Some(rid.as_str()) => p,
            Ok(_) => return not_found("parcel"),
            Err(e) => return unavailable(e),
        },
        Err(e) => return unavailable(e),
    };
    let notice = match action.as_str() {
        "hold" | "release" => {
            let t = if action == "hold" {
                Transition::Hold
            } else {
                Transition::Release
            };
            let actor = session.caller.actor();
            match crate::api::me::hold_or_release(&state, &parcel.id, t, &actor).await {
                Ok(_) if t == Transition::Hold => {
                    format!("{} is held for you.", parcel.tracking_number)
                }
                Ok(_) => format!("The hold on {} has ended.", parcel.tracking_number),
                Err(e) => e.message,
            }
        }
        "delegate" => match issue_delegate(&state, &rid, &parcel, &form.name).await {
            Ok(code) => format!(
                "Code for {}: {code}. It opens only this parcel's door; you can revoke it.",
                form.name.trim()
            ),
            Err(e) => e.message,
        },
        _ => return not_found("action"),
    };
    if let Some(l) = &parcel.locker_id {
        state.devices.locker_changed(l);
    }
    home_with(&state, &session, &rid, Some(notice)).await
}

/// A delegate code for one parcel (the same rules as
/// `POST /api/v1/me/parcels/{id}/delegates`).
async fn issue_delegate(
    state: &AppState,
    resident_id: &str,
    parcel: &queries::ParcelRow,
    name: &str,
) -> ApiResult<String> {
    use cubby_domain::credentials::{keypad_code_mac, new_keypad_code};
    use cubby_protocol::cache::{CredentialKind, local_credential_mac};
    let name = cubby_domain::model::clean_text("name", name, 80)?;
    let locker_id = parcel.locker_id.clone().unwrap_or_default();
    let key = crate::devices::locker_credential_key(&state.secret, &locker_id);
    for _ in 0..3 {
        let code = new_keypad_code(state.policies.code_digits, &mut crate::os_rng());
        let d = cubby_store::ops::self_service::NewDelegate {
            id: new_id(ids::CREDENTIAL),
            parcel_id: parcel.id.clone(),
            resident_id: resident_id.to_string(),
            name: name.clone(),
            mac: keypad_code_mac(&state.secret, &locker_id, &code),
            local_mac: local_credential_mac(&key, CredentialKind::Keypad, &code),
        };
        let now = now_ms();
        let stored = state
            .store
            .transact(move |conn| {
                Box::pin(async move {
                    cubby_store::ops::self_service::issue_delegate(conn, &d, now).await
                })
            })
            .await;
        match stored {
            Ok(_) => return Ok(code),
            Err(cubby_store::OpError::Conflict {
                code: "credential_collision",
                ..
            }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "no fresh code could be drawn; try again",
    ))
}

/// Everything Cubby holds about the signed-in resident, as JSON.
async fn my_data(
    State(state): State<AppState>,
    ResidentSession(_, rid): ResidentSession,
) -> Response {
    let built: Result<serde_json::Value, cubby_store::OpError> = async {
        let mut conn = state.store.reader().await?;
        let resident = queries::resident(&mut conn, &rid)
            .await?
            .ok_or(cubby_store::OpError::NotFound { what: "resident" })?;
        let mut parcels = Vec::new();
        for p in cubby_store::ops::self_service::parcels_of_resident(
            &mut conn,
            &resident.site_id,
            &resident.id,
            10_000,
        )
        .await?
        {
            let events = queries::custody_events(&mut conn, &p.id).await?;
            parcels.push(serde_json::json!({ "parcel": p, "custody": events }));
        }
        let delegates: Vec<serde_json::Value> =
            cubby_store::ops::self_service::delegates_of_resident(&mut conn, &resident.id)
                .await?
                .into_iter()
                .map(|d| {
                    serde_json::json!({"id": d.id, "parcel_id": d.parcel_id, "name": d.name,
                        "active": d.active, "created_ms": d.created_ms, "revoked_ms": d.revoked_ms})
                })
                .collect();
        let grants: Vec<serde_json::Value> = cubby_store::ops::access::grants_of_site(
            &mut conn,
            &resident.site_id,
            Some(&resident.id),
            10_000,
        )
        .await?
        .into_iter()
        .map(|g| {
            serde_json::json!({"id": g.id, "kind": g.kind, "label": g.label,
                "created_ms": g.created_ms, "revoked_ms": g.revoked_ms})
        })
        .collect();
        let passkeys: Vec<serde_json::Value> =
            store::passkeys_of(&mut conn, Holder::Resident, &resident.id)
                .await?
                .into_iter()
                .map(|p| {
                    serde_json::json!({"credential_id": p.cred_id, "created_ms": p.created_ms,
                        "last_used_ms": p.last_used_ms})
                })
                .collect();
        Ok(serde_json::json!({
            "resident": resident,
            "parcels": parcels,
            "delegates": delegates,
            "access_grants": grants,
            "passkeys": passkeys,
        }))
    }
    .await;
    match built {
        Ok(v) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"my-cubby-data.json\"",
                ),
            ],
            serde_json::to_string_pretty(&v).unwrap_or_default(),
        )
            .into_response(),
        Err(e) => unavailable(e),
    }
}
