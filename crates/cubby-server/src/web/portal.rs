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
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cubby_domain::codes::Code;
use cubby_domain::ids;
use cubby_domain::lifecycle::ParcelState;
use cubby_store as db;
use cubby_store::passkeys::Holder;
use serde::Deserialize;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::{CsrfForm, CsrfOnly};
use super::{Portal, Session, not_found, render, session_of, unavailable};
use crate::AppState;
use crate::app;
use crate::auth::passkeys::{self, Challenge, Enrolment};
use crate::auth::sessions;
use crate::error::{ApiError, ApiResult};

pub(crate) const PORTAL: Portal = Portal {
    cookie: "cubby_portal",
    path: "/portal",
    sign_in: "/portal/sign-in",
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal", get(home))
        .route("/portal/enrol", get(enrol_page))
        .route("/portal/sign-in", get(sign_in_page))
        .route("/portal/sign-out", post(sign_out))
        .route("/portal/lockers/{locker_id}/pass", post(show_pass))
        .route("/portal/parcels/{parcel_id}/{action}", post(parcel_action))
        .route("/portal/my-data.json", get(my_data))
        .route("/portal/rules/acknowledge", post(acknowledge_rules))
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

pub(crate) fn same_origin_json(headers: &HeaderMap) -> Result<(), ApiError> {
    if super::same_origin(headers) {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::CrossOrigin,
            "this request did not come from the portal",
        ))
    }
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

async fn register_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<RegisterStart>,
) -> ApiResult<Json<Challenge>> {
    same_origin_json(&headers)?;
    // Either an invitation, or a signed-in resident adding another device.
    let session = if body.code.is_empty() {
        Some(
            super::session_in(&headers, &state, &PORTAL)
                .await
                .map_err(|_| invite_not_valid())?,
        )
    } else {
        None
    };
    let by = match &session {
        Some(session) => Enrolment::SignedIn {
            session,
            csrf: &body.csrf,
            step_up: None,
        },
        None => Enrolment::Invite(&body.code),
    };
    Ok(Json(
        passkeys::begin_registration(&state, &headers, Holder::Resident, by).await?,
    ))
}

fn invite_not_valid() -> ApiError {
    ApiError::new(
        Code::InviteNotValid,
        "this invitation has expired or was used; ask your building for a new one",
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterFinish {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
}

/// Opens a portal session for a resident and answers with its cookie.
async fn open_session(state: &AppState, resident_id: &str) -> ApiResult<Response> {
    let cookie = sessions::open_resident_session(state, &PORTAL, resident_id).await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(serde_json::json!({ "next": "/portal" })),
    )
        .into_response())
}

async fn register_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<RegisterFinish>,
) -> ApiResult<Response> {
    same_origin_json(&headers)?;
    let resident_id = passkeys::finish_enrolment(
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
    Ok(Json(
        passkeys::begin_email_sign_in(&state, &headers, &body.email).await?,
    ))
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
    let resident_id =
        passkeys::finish_email_sign_in(&state, &headers, &body.ceremony, &body.credential).await?;
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
    /// The site's community rules (empty: none), and whether they were acknowledged.
    rules: String,
    rules_acknowledged: bool,
}

/// A signed-in resident: the session and the resident's id.
pub(crate) struct ResidentSession(pub(crate) Session, pub(crate) String);

impl super::FormSession for ResidentSession {
    fn session(&self) -> &Session {
        &self.0
    }
    fn refused() -> Response {
        super::forbidden_form()
    }
}

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
        let resident = db::residents::resident(&mut conn, rid)
            .await?
            .ok_or(cubby_store::OpError::NotFound { what: "resident" })?;
        let mut waiting = Vec::new();
        let mut history = Vec::new();
        let mut lockers: Vec<(String, String)> = Vec::new();
        let parcels = cubby_store::parcels::parcels_of_resident(
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
                    let name = db::lockers::locker(&mut conn, l)
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
        let passkeys = db::passkeys::passkeys_of(&mut conn, Holder::Resident, &resident.id)
            .await?
            .len();
        let (_, policy) = db::schedule::site_policy(&mut conn, &resident.site_id).await?;
        let rules_acknowledged = db::residents::rules_acknowledged(&mut conn, &resident.id)
            .await?
            .is_some();
        Ok(HomePage {
            rules: policy.community_rules,
            rules_acknowledged,
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

/// The resident has read the community rules (once; again changes nothing).
async fn acknowledge_rules(
    State(state): State<AppState>,
    CsrfForm {
        session: ResidentSession(session, rid),
        form: _,
    }: CsrfForm<ResidentSession, CsrfOnly>,
) -> Response {
    let resident = match state.store.reader().await {
        Ok(mut conn) => match db::residents::resident(&mut conn, &rid).await {
            Ok(Some(r)) => r,
            Ok(None) => return not_found("resident"),
            Err(e) => return unavailable(e),
        },
        Err(e) => return unavailable(e),
    };
    let notice = match app::residents::acknowledge_rules(&state, &resident).await {
        Ok(_) => "Thank you: the house rules are acknowledged.".to_string(),
        Err(e) => e.message,
    };
    home_with(&state, &session, &rid, Some(notice)).await
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    _: CsrfForm<ResidentSession, CsrfOnly>,
) -> Response {
    super::close_portal_session(&state, &headers, &PORTAL).await
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
    _headers: HeaderMap,
    Path(locker_id): Path<String>,
    CsrfForm {
        session: ResidentSession(_session, rid),
        form: _,
    }: CsrfForm<ResidentSession, CsrfOnly>,
) -> Response {
    if !ids::looks_like(ids::LOCKER, &locker_id) {
        return not_found("locker");
    }
    let locker = {
        let mut conn = match state.store.reader().await {
            Ok(c) => c,
            Err(e) => return unavailable(e),
        };
        match db::lockers::locker(&mut conn, &locker_id).await {
            Ok(Some(l)) => l,
            Ok(None) => return not_found("locker"),
            Err(e) => return unavailable(e),
        }
    };
    let secrets = match app::residents::issue_pass(&state, &rid, &locker).await {
        Ok(s) => s,
        // Nothing waiting there (any more), or not this resident's site.
        Err(e) if e.code == Code::NotFound => return not_found("parcel at this locker"),
        Err(e) => return unavailable(e.message),
    };
    render(&PassPage {
        locker: locker.name,
        qr_svg: cubby_notify::qr::qr_svg(&secrets.qr_token, "Pick-up QR code").unwrap_or_default(),
        code: secrets.code,
        token: secrets.qr_token,
    })
}

#[derive(Deserialize)]
struct ParcelActionForm {
    #[serde(default)]
    name: String,
}

/// Hold or release one of my parcels, or give someone a delegate code for it.
async fn parcel_action(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path((parcel_id, action)): Path<(String, String)>,
    CsrfForm {
        session: ResidentSession(session, rid),
        form,
    }: CsrfForm<ResidentSession, ParcelActionForm>,
) -> Response {
    use cubby_domain::lifecycle::Transition;
    if !ids::looks_like(ids::PARCEL, &parcel_id) {
        return not_found("parcel");
    }
    let parcel = match state.store.reader().await {
        Ok(mut conn) => match db::parcels::parcel(&mut conn, &parcel_id).await {
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
            match app::parcels::hold_or_release(&state, &parcel, t, &actor).await {
                Ok(_) if t == Transition::Hold => {
                    format!("{} is held for you.", parcel.tracking_number)
                }
                Ok(_) => format!("The hold on {} has ended.", parcel.tracking_number),
                Err(e) => e.message,
            }
        }
        "delegate" => match app::residents::issue_delegate(&state, &rid, &parcel, &form.name).await
        {
            Ok((_, code)) => format!(
                "Code for {}: {code}. It opens only this parcel's door; you can revoke it.",
                form.name.trim()
            ),
            Err(e) => e.message,
        },
        _ => return not_found("action"),
    };
    home_with(&state, &session, &rid, Some(notice)).await
}

/// Everything Cubby holds about the signed-in resident, as JSON.
async fn my_data(
    State(state): State<AppState>,
    ResidentSession(session, rid): ResidentSession,
) -> Response {
    // The same document staff export (`GET /api/v1/residents/{id}/export`).
    match crate::app::residents::export(&state, &session.caller, &rid).await {
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
        Err(e) => unavailable(e.message),
    }
}
