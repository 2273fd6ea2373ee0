//! Staff passkeys: the second factor for anything that opens doors remotely
//! (security.md: phishing-resistant MFA for anyone who can open doors
//! remotely).
//!
//! A staff API token alone cannot open a door. A remote open also carries a
//! step-up proof (header `Cubby-Step-Up`): a MAC under the server secret of
//! the token's id and an expiry at most five minutes away, handed out only
//! after one of that token's passkeys signed a fresh challenge. The same
//! ceremonies serve the API (bearer token) and the console (session).
//!
//! Enrolment is anchored so that a stolen token cannot add its own passkey:
//! a token's first passkey needs a one-time invitation (the first admin's is
//! printed at first start; an admin issues others after proving their own
//! passkey), and every later one needs a step-up proof of an existing one.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cubby_domain::Millis;
use cubby_domain::credentials::mac;
use cubby_domain::ids;
use cubby_domain::model::Role;
use cubby_store::OpError;
use cubby_store::ops::passkeys::{self as store, Holder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use webauthn_rs::prelude::{
    CredentialID, DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential,
};

use super::portal::{
    Challenge, ceremony_failed, cred_id_of, cred_id_text, user_handle, webauthn_for,
};
use super::random_hex;
use crate::api::check_id;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::{AppState, now_ms};

/// The header a remote open carries its step-up proof in.
pub const STEP_UP_HEADER: &str = "cubby-step-up";
/// How long a step-up proof opens doors for.
pub const STEP_UP_MS: Millis = 5 * 60_000;
const CEREMONY_MS: Millis = 2 * 60_000;
const INVITE_MS: Millis = 7 * 86_400_000;

fn invite_mac(secret: &[u8], code: &str) -> [u8; 32] {
    mac(secret, &["staff-passkey-invite", code])
}

/// A step-up proof for `token_id`, good until `expires_ms`.
pub(crate) fn step_up_proof(secret: &[u8], token_id: &str, expires_ms: Millis) -> String {
    let m = mac(
        secret,
        &["staff-step-up", token_id, &expires_ms.to_string()],
    );
    format!("v1.{expires_ms}.{}", hex::encode(m))
}

fn step_up_required(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "step_up_required",
        format!(
            "{why}: this opens doors, so prove a passkey first \
             (POST /api/v1/step-up/start, then /api/v1/step-up/finish) and send the proof \
             in the Cubby-Step-Up header"
        ),
    )
}

/// Checks a step-up proof of this caller's token.
pub(crate) fn check_step_up(
    secret: &[u8],
    caller: &Caller,
    proof: Option<&str>,
    now: Millis,
) -> Result<(), ApiError> {
    let proof = proof
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| step_up_required("no step-up proof was sent"))?;
    let mut parts = proof.splitn(3, '.');
    let (Some("v1"), Some(expires), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(step_up_required("the step-up proof is not valid"));
    };
    let expires_ms: Millis = expires
        .parse()
        .map_err(|_| step_up_required("the step-up proof is not valid"))?;
    let expected = step_up_proof(secret, &caller.token_id, expires_ms);
    if !cubby_protocol::constant_time_eq(expected.as_bytes(), proof.as_bytes()) {
        return Err(step_up_required("the step-up proof is not valid"));
    }
    if expires_ms <= now || expires_ms > now + STEP_UP_MS + 5_000 {
        return Err(step_up_required("the step-up proof has expired"));
    }
    Ok(())
}

/// The step-up proof of a request's `Cubby-Step-Up` header, checked.
pub(crate) fn require_step_up(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    let proof = headers.get(STEP_UP_HEADER).and_then(|v| v.to_str().ok());
    check_step_up(&state.secret, caller, proof, now_ms())
}

fn is_staff(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Manager | Role::Concierge)
}

async fn save_ceremony(
    state: &AppState,
    kind: &'static str,
    subject: Option<String>,
    saved: String,
) -> ApiResult<String> {
    let ceremony = random_hex();
    let (cid, now) = (ceremony.clone(), now_ms());
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                store::save_ceremony(
                    conn,
                    &cid,
                    kind,
                    subject.as_deref(),
                    &saved,
                    now,
                    now + CEREMONY_MS,
                )
                .await
            })
        })
        .await?;
    Ok(ceremony)
}

async fn take_ceremony(
    state: &AppState,
    kind: &'static str,
    id: &str,
) -> ApiResult<(Option<String>, String)> {
    let (id, now) = (id.to_string(), now_ms());
    state
        .store
        .transact(move |conn| {
            Box::pin(async move { store::take_ceremony(conn, &id, kind, now).await })
        })
        .await?
        .ok_or_else(ceremony_failed)
}

async fn passkeys_of(state: &AppState, token_id: &str) -> ApiResult<Vec<store::PasskeyLine>> {
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    Ok(store::passkeys_of(&mut conn, Holder::Staff, token_id).await?)
}

/// Stores a passkey's new counter after it signed.
async fn touch(state: &AppState, cred_id: String, passkey: &Passkey) -> ApiResult<()> {
    let json = serde_json::to_string(passkey).map_err(|_| ceremony_failed())?;
    let now = now_ms();
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                store::touch_passkey(conn, Holder::Staff, &cred_id, &json, now).await
            })
        })
        .await?;
    Ok(())
}

/// Begins a step-up: a challenge only this token's passkeys can answer.
pub(crate) async fn begin_step_up(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
) -> ApiResult<Challenge> {
    if !is_staff(caller.role) {
        return Err(ApiError::forbidden());
    }
    let webauthn = webauthn_for(headers)?;
    let passkeys: Vec<Passkey> = passkeys_of(state, &caller.token_id)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_str(&p.passkey).ok())
        .collect();
    if passkeys.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_passkey",
            "this staff token has no passkey yet: enrol one from an invitation first",
        ));
    }
    let (options, auth) = webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(|e| ApiError::invalid("passkey", e.to_string()))?;
    let saved = serde_json::to_string(&auth).map_err(|_| ceremony_failed())?;
    let ceremony = save_ceremony(state, "step_up", Some(caller.token_id.clone()), saved).await?;
    Ok(Challenge {
        ceremony,
        options: serde_json::to_value(options).unwrap_or_default(),
    })
}

/// A step-up proof, handed out after a passkey signed.
#[derive(Serialize, ToSchema)]
pub struct StepUp {
    /// Send this in the `Cubby-Step-Up` header of remote opens.
    pub proof: String,
    pub expires_ms: Millis,
}

/// Finishes a step-up begun by the same token.
pub(crate) async fn finish_step_up(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> ApiResult<StepUp> {
    let webauthn = webauthn_for(headers)?;
    let (subject, saved) = take_ceremony(state, "step_up", ceremony).await?;
    if subject.as_deref() != Some(caller.token_id.as_str()) {
        return Err(ceremony_failed());
    }
    let auth: PasskeyAuthentication =
        serde_json::from_str(&saved).map_err(|_| ceremony_failed())?;
    let result = webauthn
        .finish_passkey_authentication(credential, &auth)
        .map_err(|_| ceremony_failed())?;
    let used = cred_id_text(result.cred_id().as_ref());
    let mut passkey = passkeys_of(state, &caller.token_id)
        .await?
        .into_iter()
        .find(|p| p.cred_id == used)
        .and_then(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
        .ok_or_else(ceremony_failed)?;
    passkey.update_credential(&result);
    touch(state, used, &passkey).await?;
    let expires_ms = now_ms() + STEP_UP_MS;
    Ok(StepUp {
        proof: step_up_proof(&state.secret, &caller.token_id, expires_ms),
        expires_ms,
    })
}

/// Begin a step-up: answer the challenge with one of this staff token's
/// passkeys (`navigator.credentials.get`), then finish it. The request's Host
/// is the relying party, as in the console.
#[utoipa::path(post, path = "/api/v1/step-up/start",
    responses((status = 200, body = Challenge), (status = 409, body = ErrorBody), (status = 421, body = ErrorBody)))]
pub async fn api_step_up_start(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Json<Challenge>> {
    Ok(Json(begin_step_up(&state, &headers, &caller).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepUpFinish {
    pub ceremony: String,
    /// The browser's PublicKeyCredential, binary fields as base64url.
    #[schema(value_type = Object)]
    pub credential: PublicKeyCredential,
}

/// Finish a step-up: a proof good for five minutes of remote opens by this
/// token.
#[utoipa::path(post, path = "/api/v1/step-up/finish", request_body = StepUpFinish,
    responses((status = 200, body = StepUp), (status = 403, body = ErrorBody)))]
pub async fn api_step_up_finish(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Json(body): Json<StepUpFinish>,
) -> ApiResult<Json<StepUp>> {
    Ok(Json(
        finish_step_up(&state, &headers, &caller, &body.ceremony, &body.credential).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct StaffPasskeyInvite {
    /// Open this path on the console's host; the code is in the fragment.
    pub path: String,
    pub expires_ms: Millis,
}

/// Creates a one-time invitation (7 days) to enrol a passkey for `token_id`.
pub(crate) async fn create_invite(
    store: &cubby_store::Store,
    secret: &[u8],
    token_id: &str,
    created_by: &str,
) -> Result<StaffPasskeyInvite, OpError> {
    let code = random_hex();
    let code_mac = invite_mac(secret, &code);
    let (tid, by, now) = (token_id.to_string(), created_by.to_string(), now_ms());
    store
        .transact(move |conn| {
            Box::pin(async move {
                store::create_invite(
                    conn,
                    Holder::Staff,
                    &code_mac,
                    &tid,
                    &by,
                    now,
                    now + INVITE_MS,
                )
                .await
            })
        })
        .await?;
    Ok(StaffPasskeyInvite {
        path: format!("/console/passkeys/enrol#code={code}"),
        expires_ms: now + INVITE_MS,
    })
}

/// On the server's host (the root of trust when every admin has lost their
/// passkeys): an enrolment path for a live staff token, or `None` if there
/// is no such token.
pub async fn host_invite(
    store: &cubby_store::Store,
    secret: &[u8],
    token_id: &str,
) -> Result<Option<StaffPasskeyInvite>, OpError> {
    let found = {
        let mut conn = store.reader().await?;
        store::staff_token(&mut conn, token_id).await?
    };
    match found {
        Some(_) => Ok(Some(
            create_invite(store, secret, token_id, "server host").await?,
        )),
        None => Ok(None),
    }
}

/// Invite the holder of a staff token to enrol a passkey (admin, with a
/// step-up proof: an invitation leads to opening doors).
#[utoipa::path(post, path = "/api/v1/tokens/{token_id}/passkey-invites", params(("token_id" = String, Path)),
    responses((status = 201, body = StaffPasskeyInvite), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn api_passkey_invite(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(token_id): Path<String>,
) -> ApiResult<Response> {
    caller.require(&[])?;
    require_step_up(&state, &caller, &headers)?;
    check_id(ids::TOKEN, &token_id, "token")?;
    let found = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        store::staff_token(&mut conn, &token_id).await?
    };
    if found.is_none() {
        return Err(ApiError::not_found("staff token"));
    }
    let invite = create_invite(&state.store, &state.secret, &token_id, &caller.actor()).await?;
    Ok((StatusCode::CREATED, Json(invite)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterStart {
    /// An invitation code (from the link's fragment) ...
    #[serde(default)]
    code: Option<String>,
    /// ... or, signed in, a step-up proof of an existing passkey.
    #[serde(default)]
    step_up: Option<String>,
    #[serde(default)]
    csrf: Option<String>,
}

/// Begins enrolling a staff passkey, for the token an invitation names or,
/// for a signed-in staff member, their own token after a step-up.
pub(crate) async fn begin_registration(
    state: &AppState,
    headers: &HeaderMap,
    session: Option<&super::Session>,
    body: &RegisterStart,
) -> ApiResult<Challenge> {
    let webauthn = webauthn_for(headers)?;
    let refused = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "invite_not_valid",
            "this invitation has expired or was used; ask an admin for a new one",
        )
    };
    let now = now_ms();
    let (token_id, invite) = match (&body.code, session) {
        (Some(code), _) => {
            if code.len() != 64 {
                return Err(refused());
            }
            let code_mac = invite_mac(&state.secret, code);
            let mut conn = state.store.reader().await.map_err(OpError::from)?;
            let tid = store::invite(&mut conn, Holder::Staff, &code_mac, now)
                .await?
                .ok_or_else(refused)?;
            (tid, Some(hex::encode(code_mac)))
        }
        (None, Some(session)) => {
            let csrf = body.csrf.as_deref().unwrap_or("");
            if !cubby_protocol::constant_time_eq(csrf.as_bytes(), session.csrf.as_bytes()) {
                return Err(ApiError::forbidden());
            }
            check_step_up(&state.secret, &session.caller, body.step_up.as_deref(), now)?;
            (session.caller.token_id.clone(), None)
        }
        (None, None) => return Err(refused()),
    };
    let token = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        store::staff_token(&mut conn, &token_id)
            .await?
            .ok_or_else(refused)?
    };
    let existing: Vec<CredentialID> = passkeys_of(state, &token.id)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let (options, reg) = webauthn
        .start_passkey_registration(
            user_handle(Holder::Staff, &token.id),
            &format!("{} ({})", token.label, token.role),
            &token.label,
            Some(existing),
        )
        .map_err(|e| ApiError::invalid("passkey", e.to_string()))?;
    let mut options = serde_json::to_value(options).unwrap_or_default();
    // Staff sign in without naming themselves, so the credential must be
    // discoverable (a "resident key" on the authenticator).
    options["publicKey"]["authenticatorSelection"]["residentKey"] = "required".into();
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = true.into();
    let saved = serde_json::json!({ "reg": reg, "invite": invite }).to_string();
    let ceremony = save_ceremony(state, "staff_register", Some(token.id), saved).await?;
    Ok(Challenge { ceremony, options })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterFinish {
    ceremony: String,
    credential: RegisterPublicKeyCredential,
}

/// Finishes enrolling a staff passkey; answers the token it now belongs to.
pub(crate) async fn finish_registration(
    state: &AppState,
    headers: &HeaderMap,
    body: &RegisterFinish,
) -> ApiResult<String> {
    finish_enrolment(
        state,
        headers,
        Holder::Staff,
        &body.ceremony,
        &body.credential,
    )
    .await
}

/// Finishes enrolling a passkey of either kind: stores it (spending the
/// invitation, if one began the ceremony) and answers its owner.
pub(crate) async fn finish_enrolment(
    state: &AppState,
    headers: &HeaderMap,
    holder: Holder,
    ceremony: &str,
    credential: &RegisterPublicKeyCredential,
) -> ApiResult<String> {
    let kind = match holder {
        Holder::Resident => "register",
        Holder::Staff => "staff_register",
    };
    let webauthn = webauthn_for(headers)?;
    let (subject, saved) = take_ceremony(state, kind, ceremony).await?;
    let owner = subject.ok_or_else(ceremony_failed)?;
    let saved: serde_json::Value = serde_json::from_str(&saved).map_err(|_| ceremony_failed())?;
    let reg: PasskeyRegistration =
        serde_json::from_value(saved["reg"].clone()).map_err(|_| ceremony_failed())?;
    let invite: Option<[u8; 32]> = match saved["invite"].as_str() {
        Some(h) => Some(
            hex::decode(h)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(ceremony_failed)?,
        ),
        None => None,
    };
    let passkey = webauthn
        .finish_passkey_registration(credential, &reg)
        .map_err(|_| ceremony_failed())?;
    let cred_id = cred_id_of(&passkey);
    let json = serde_json::to_string(&passkey).map_err(|_| ceremony_failed())?;
    let (id, now) = (owner.clone(), now_ms());
    let stored = state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                if let Some(invite) = invite
                    && !store::spend_invite(conn, holder, &invite, now).await?
                {
                    return Ok(false);
                }
                store::add_passkey(conn, holder, &cred_id, &id, &json, now).await?;
                Ok(true)
            })
        })
        .await?;
    if !stored {
        return Err(ceremony_failed());
    }
    Ok(owner)
}

/// Begins a passkey sign-in to the console: any discoverable staff passkey
/// of this relying party may answer.
pub(crate) async fn begin_sign_in(state: &AppState, headers: &HeaderMap) -> ApiResult<Challenge> {
    let webauthn = webauthn_for(headers)?;
    let (options, auth) = webauthn
        .start_discoverable_authentication()
        .map_err(|e| ApiError::invalid("passkey", e.to_string()))?;
    let saved = serde_json::to_string(&auth).map_err(|_| ceremony_failed())?;
    let ceremony = save_ceremony(state, "staff_sign_in", None, saved).await?;
    Ok(Challenge {
        ceremony,
        options: serde_json::to_value(options).unwrap_or_default(),
    })
}

/// Finishes a passkey sign-in: the staff token whose passkey signed.
pub(crate) async fn finish_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> ApiResult<String> {
    let webauthn = webauthn_for(headers)?;
    let (_, saved) = take_ceremony(state, "staff_sign_in", ceremony).await?;
    let auth: DiscoverableAuthentication =
        serde_json::from_str(&saved).map_err(|_| ceremony_failed())?;
    let (_, raw_id) = webauthn
        .identify_discoverable_authentication(credential)
        .map_err(|_| ceremony_failed())?;
    let cred_id = cred_id_text(raw_id);
    let (token_id, json) = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let found = store::passkey(&mut conn, Holder::Staff, &cred_id)
            .await?
            .ok_or_else(ceremony_failed)?;
        // A revoked token's passkeys sign nobody in.
        store::staff_token(&mut conn, &found.0)
            .await?
            .ok_or_else(ceremony_failed)?;
        found
    };
    let mut passkey: Passkey = serde_json::from_str(&json).map_err(|_| ceremony_failed())?;
    let result = webauthn
        .finish_discoverable_authentication_v2(credential, auth, &passkey)
        .map_err(|_| ceremony_failed())?;
    passkey.update_credential(&result);
    touch(state, cred_id, &passkey).await?;
    Ok(token_id)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(token_id: &str) -> Caller {
        Caller {
            token_id: token_id.to_string(),
            role: Role::Manager,
            org_id: None,
            carrier: None,
            resident_id: None,
            courier_id: None,
        }
    }

    #[test]
    fn a_proof_opens_doors_only_for_its_token_and_only_for_five_minutes() {
        let secret = b"server secret for the test";
        let now = 1_700_000_000_000;
        let proof = step_up_proof(secret, "tok_a", now + STEP_UP_MS);
        assert!(check_step_up(secret, &caller("tok_a"), Some(&proof), now).is_ok());
        assert!(
            check_step_up(secret, &caller("tok_a"), Some(&proof), now + STEP_UP_MS - 1).is_ok()
        );
        // Expired, another token, another server, absent, mangled.
        for (who, secret2, proof2, at) in [
            ("tok_a", &secret[..], proof.clone(), now + STEP_UP_MS),
            ("tok_b", &secret[..], proof.clone(), now),
            ("tok_a", &b"another server"[..], proof.clone(), now),
            ("tok_a", &secret[..], String::new(), now),
            ("tok_a", &secret[..], proof.replace("v1.", "v2."), now),
            ("tok_a", &secret[..], format!("{proof}0"), now),
        ] {
            let refused =
                check_step_up(secret2, &caller(who), Some(&proof2), at).expect_err("refused");
            assert_eq!(refused.code, "step_up_required");
            assert_eq!(refused.status, StatusCode::FORBIDDEN);
        }
        // A proof minted (with the real key) to last an hour is refused too.
        let long = step_up_proof(secret, "tok_a", now + 3_600_000);
        assert!(check_step_up(secret, &caller("tok_a"), Some(&long), now).is_err());
        assert!(check_step_up(secret, &caller("tok_a"), None, now).is_err());
    }
}
