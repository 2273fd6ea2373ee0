//! The console's passkey pages and the JSON calls their script makes:
//! enrolling from an invitation, adding and removing passkeys, signing in
//! with one, and the step-up that remote opens need (see `auth/passkeys.rs`
//! and `auth/step_up.rs` for the rules). Every JSON call is Origin-checked; the signed-in ones also carry
//! the session's CSRF token.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cubby_domain::codes::Code;
use cubby_store as db;
use cubby_store::passkeys::Holder;
use serde::Deserialize;
use webauthn_rs::prelude::PublicKeyCredential;

use webauthn_rs::prelude::RegisterPublicKeyCredential;

use super::CsrfForm;
use super::portal::same_origin_json;
use super::{CONSOLE, Session, render, session_cookie, session_in, unavailable, utc};
use crate::auth::passkeys::{self, Challenge, Enrolment};
use crate::auth::step_up::{self, StepUp};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, now_ms};

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route("/console/passkeys", get(passkeys_page))
        .route("/console/passkeys/enrol", get(enrol_page))
        .route("/console/passkeys/register/start", post(register_start))
        .route("/console/passkeys/register/finish", post(register_finish))
        .route("/console/passkeys/sign-in/start", post(sign_in_start))
        .route("/console/passkeys/sign-in/finish", post(sign_in_finish))
        .route("/console/passkeys/{cred_id}/remove", post(remove))
        .route("/console/step-up/start", post(step_up_start))
        .route("/console/step-up/finish", post(step_up_finish))
        .route("/console/assets/passkeys.js", get(script))
}

/// The browser half of WebAuthn, shared by the console and the portal.
pub(crate) async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/passkeys.js"),
    )
        .into_response()
}

struct PasskeyLine {
    cred_id: String,
    short_id: String,
    created: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "console/passkeys.html")]
struct PasskeysPage {
    csrf: String,
    who: String,
    notice: Option<String>,
    passkeys: Vec<PasskeyLine>,
}

async fn passkeys_page(State(state): State<AppState>, session: Session) -> Response {
    passkeys_page_with(&state, session, None).await
}

async fn passkeys_page_with(
    state: &AppState,
    session: Session,
    notice: Option<String>,
) -> Response {
    let held = match state.store.reader().await {
        Ok(mut conn) => {
            db::passkeys::passkeys_of(&mut conn, Holder::Staff, &session.caller.token_id).await
        }
        Err(e) => return unavailable(e),
    };
    let held = match held {
        Ok(h) => h,
        Err(e) => return unavailable(e),
    };
    render(&PasskeysPage {
        csrf: session.csrf,
        who: session.who,
        notice,
        passkeys: held
            .into_iter()
            .map(|p| PasskeyLine {
                short_id: p.cred_id.chars().take(10).collect(),
                created: utc(p.created_ms),
                last_used: p.last_used_ms.map_or_else(|| "never".to_string(), utc),
                cred_id: p.cred_id,
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "console/enrol.html")]
struct EnrolPage;

async fn enrol_page() -> Response {
    render(&EnrolPage)
}

async fn register_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<RegisterStart>,
) -> ApiResult<Json<Challenge>> {
    same_origin_json(&headers)?;
    let session = session_in(&headers, &state, &CONSOLE).await.ok();
    let by = match (&body.code, &session) {
        (Some(code), _) => Enrolment::Invite(code),
        (None, Some(session)) => Enrolment::SignedIn {
            session,
            csrf: body.csrf.as_deref().unwrap_or(""),
            step_up: body.step_up.as_deref(),
        },
        (None, None) => Enrolment::Invite(""),
    };
    Ok(Json(
        passkeys::begin_registration(&state, &headers, Holder::Staff, by).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterStart {
    /// An invitation code (from the link's fragment) ...
    #[serde(default)]
    code: Option<String>,
    /// ... or, signed in, a step-up proof of an existing passkey.
    #[serde(default)]
    step_up: Option<String>,
    #[serde(default)]
    csrf: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterFinish {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
}

/// A JSON answer that sends the browser on to `next` with a new session
/// cookie.
pub(crate) fn go_to(next: &str, cookie: String) -> Response {
    (
        [(header::SET_COOKIE, cookie)],
        Json(serde_json::json!({ "next": next })),
    )
        .into_response()
}

/// Stores the passkey and signs its holder in to the console.
async fn register_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<RegisterFinish>,
) -> ApiResult<Response> {
    same_origin_json(&headers)?;
    let token_id = passkeys::finish_enrolment(
        &state,
        &headers,
        Holder::Staff,
        &body.ceremony,
        &body.credential,
    )
    .await?;
    let cookie = session_cookie(&state, &CONSOLE, &token_id).await?;
    Ok(go_to("/console/passkeys", cookie))
}

async fn sign_in_start(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<Challenge>> {
    same_origin_json(&headers)?;
    Ok(Json(
        passkeys::begin_discoverable_sign_in(&state, &headers).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Finish {
    ceremony: String,
    credential: PublicKeyCredential,
    #[serde(default)]
    csrf: String,
}

async fn sign_in_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Finish>,
) -> ApiResult<Response> {
    same_origin_json(&headers)?;
    let token_id =
        passkeys::finish_discoverable_sign_in(&state, &headers, &body.ceremony, &body.credential)
            .await?;
    let cookie = session_cookie(&state, &CONSOLE, &token_id).await?;
    Ok(go_to("/console", cookie))
}

/// The signed-in staff member of a JSON call carrying the session's CSRF
/// token.
async fn json_session(state: &AppState, headers: &HeaderMap, csrf: &str) -> ApiResult<Session> {
    same_origin_json(headers)?;
    let session = session_in(headers, state, &CONSOLE)
        .await
        .map_err(|_| ApiError::new(Code::SignedOut, "sign in again"))?;
    if !cubby_protocol::constant_time_eq(csrf.as_bytes(), session.csrf.as_bytes()) {
        return Err(ApiError::forbidden());
    }
    Ok(session)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepUpStart {
    csrf: String,
}

async fn step_up_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<StepUpStart>,
) -> ApiResult<Json<Challenge>> {
    let session = json_session(&state, &headers, &body.csrf).await?;
    Ok(Json(
        step_up::begin_step_up(&state, &headers, &session.caller).await?,
    ))
}

async fn step_up_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<Finish>,
) -> ApiResult<Json<StepUp>> {
    let session = json_session(&state, &headers, &body.csrf).await?;
    Ok(Json(
        step_up::finish_step_up(
            &state,
            &headers,
            &session.caller,
            &body.ceremony,
            &body.credential,
        )
        .await?,
    ))
}

#[derive(Deserialize)]
struct RemoveForm {
    #[serde(default)]
    step_up: String,
}

/// Removes one of the signed-in staff member's passkeys, after a step-up
/// (so a stolen session cannot strip the owner's passkeys).
async fn remove(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(cred_id): Path<String>,
    CsrfForm { session, form }: CsrfForm<Session, RemoveForm>,
) -> Response {
    if let Err(e) = step_up::check_step_up(
        &state.secret,
        &session.caller,
        Some(&form.step_up),
        now_ms(),
    ) {
        return passkeys_page_with(&state, session, Some(e.message)).await;
    }
    let token_id = session.caller.token_id.clone();
    let removed = state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::passkeys::remove_passkey(conn, Holder::Staff, &token_id, &cred_id).await
            })
        })
        .await;
    let notice = match removed {
        Ok(true) => "The passkey was removed.".to_string(),
        Ok(false) => "No such passkey of yours.".to_string(),
        Err(e) => ApiError::from(e).message,
    };
    passkeys_page_with(&state, session, Some(notice)).await
}
