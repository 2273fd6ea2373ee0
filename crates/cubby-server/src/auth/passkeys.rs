//! Passkeys (WebAuthn, webauthn-rs) for both kinds of holder: residents (the
//! portal) and staff tokens (the console and the step-up). One set of
//! ceremonies over [`Holder`]; ceremony state lives in the database, so any
//! instance can finish what another started.
//!
//! Enrolment is anchored so that a stolen credential cannot add its own
//! passkey: a holder's first passkey needs a one-time invitation (staff
//! issue residents'; the first admin's is printed at first start, an admin
//! issues other staff's after proving their own passkey), and every later
//! one needs a signed-in session (plus, for staff, a step-up proof).
//!
//! The relying party is the host name the page is opened under (passkeys
//! cannot be bound to a bare IP address: use a name, `localhost` on one
//! machine).

use axum::http::{HeaderMap, header};
use cubby_domain::Millis;
use cubby_domain::codes::Code;
use cubby_domain::credentials::mac;
use cubby_store as db;
use cubby_store::{OpError, Store};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use webauthn_rs::prelude::{
    AuthenticationResult, CredentialID, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid, Webauthn,
    WebauthnBuilder,
};

pub use cubby_store::passkeys::Holder;

use super::sessions::{Session, random_hex};
use super::step_up::check_step_up;
use crate::error::{ApiError, ApiResult};
use crate::{AppState, now_ms};

/// How long a resident's ceremony may take (a phone in one hand).
pub const RESIDENT_CEREMONY_MS: Millis = 5 * 60_000;
/// How long a staff ceremony may take.
pub const STAFF_CEREMONY_MS: Millis = 2 * 60_000;
/// How long an enrolment invitation stays valid.
pub const INVITE_MS: Millis = 7 * 86_400_000;

/// A WebAuthn ceremony begun: its id, and the options for the browser.
#[derive(Serialize, ToSchema)]
pub struct Challenge {
    pub ceremony: String,
    /// The `publicKey` options for `navigator.credentials` (binary fields as base64url).
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// A one-time enrolment link: open `path` on the server's host; the code is
/// in the fragment, so it never reaches a server log.
pub struct Invite {
    pub path: String,
    pub expires_ms: Millis,
}

/// The relying party for the host the page was opened under.
pub fn webauthn_for(headers: &HeaderMap) -> Result<Webauthn, ApiError> {
    let refuse = |why: &str| ApiError::new(Code::PortalNeedsAHostName, why.to_string());
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

/// The relying party id a request names (its host without the port).
pub fn webauthn_rp_id(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    host.rsplit_once(':').map_or(host, |(n, _)| n).to_string()
}

/// The WebAuthn user handle of a resident or a staff token: stable, and
/// reveals nothing.
pub fn user_handle(holder: Holder, id: &str) -> Uuid {
    let kind = match holder {
        Holder::Resident => "resident",
        Holder::Staff => "staff",
    };
    let digest = Sha256::digest(format!("cubby-{kind}-handle-v1:{id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(b)
}

pub fn ceremony_failed() -> ApiError {
    ApiError::new(
        Code::PasskeyRefused,
        "the passkey could not be verified; start again",
    )
}

pub fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// How a credential id is stored and looked up: base64url of its bytes.
pub fn cred_id_text(raw: &[u8]) -> String {
    base64url(raw)
}

pub fn cred_id_of(passkey: &Passkey) -> String {
    cred_id_text(passkey.cred_id().as_ref())
}

fn invite_mac(secret: &[u8], holder: Holder, code: &str) -> [u8; 32] {
    let purpose = match holder {
        Holder::Resident => "portal-invite",
        Holder::Staff => "staff-passkey-invite",
    };
    mac(secret, &[purpose, code])
}

fn register_kind(holder: Holder) -> &'static str {
    match holder {
        Holder::Resident => "register",
        Holder::Staff => "staff_register",
    }
}

pub(super) async fn save_ceremony(
    state: &AppState,
    kind: &'static str,
    subject: Option<String>,
    saved: String,
    lasts_ms: Millis,
) -> ApiResult<String> {
    let ceremony = random_hex();
    let (cid, now) = (ceremony.clone(), now_ms());
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::passkeys::save_ceremony(
                    conn,
                    &cid,
                    kind,
                    subject.as_deref(),
                    &saved,
                    now,
                    now + lasts_ms,
                )
                .await
            })
        })
        .await?;
    Ok(ceremony)
}

/// Spends a ceremony (once): its subject and saved state.
pub(super) async fn take_ceremony(
    state: &AppState,
    kind: &'static str,
    id: &str,
) -> ApiResult<(Option<String>, String)> {
    let (id, now) = (id.to_string(), now_ms());
    state
        .store
        .transact(move |conn| {
            Box::pin(async move { db::passkeys::take_ceremony(conn, &id, kind, now).await })
        })
        .await?
        .ok_or_else(ceremony_failed)
}

/// Spends a ceremony (once) and reads back what it saved.
pub(super) async fn take_saved<T: serde::de::DeserializeOwned>(
    state: &AppState,
    kind: &'static str,
    id: &str,
) -> ApiResult<(Option<String>, T)> {
    let (subject, saved) = take_ceremony(state, kind, id).await?;
    let value = serde_json::from_str(&saved).map_err(|_| ceremony_failed())?;
    Ok((subject, value))
}

/// Stores a stored passkey's new counter after it signed (`stored` is the
/// passkey as kept in the database).
pub(super) async fn record_use(
    state: &AppState,
    holder: Holder,
    cred_id: String,
    stored: &str,
    result: &AuthenticationResult,
) -> ApiResult<()> {
    let mut passkey: Passkey = serde_json::from_str(stored).map_err(|_| ceremony_failed())?;
    passkey.update_credential(result);
    touch(state, holder, cred_id, &passkey).await
}

pub(super) async fn passkeys_of(
    state: &AppState,
    holder: Holder,
    id: &str,
) -> ApiResult<Vec<db::passkeys::PasskeyLine>> {
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    Ok(db::passkeys::passkeys_of(&mut conn, holder, id).await?)
}

/// Stores a passkey's new counter after it signed.
pub(super) async fn touch(
    state: &AppState,
    holder: Holder,
    cred_id: String,
    passkey: &Passkey,
) -> ApiResult<()> {
    let json = serde_json::to_string(passkey).map_err(|_| ceremony_failed())?;
    let now = now_ms();
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::passkeys::touch_passkey(conn, holder, &cred_id, &json, now).await
            })
        })
        .await?;
    Ok(())
}

/// Creates a one-time invitation (7 days) to enrol a passkey for a resident
/// or a staff token.
pub async fn create_invite(
    store: &Store,
    secret: &[u8],
    holder: Holder,
    subject: &str,
    created_by: &str,
) -> Result<Invite, OpError> {
    let code = random_hex();
    let code_mac = invite_mac(secret, holder, &code);
    let (sid, by, now) = (subject.to_string(), created_by.to_string(), now_ms());
    store
        .transact(move |conn| {
            Box::pin(async move {
                db::passkeys::create_invite(
                    conn,
                    holder,
                    &code_mac,
                    &sid,
                    &by,
                    now,
                    now + INVITE_MS,
                )
                .await
            })
        })
        .await?;
    let page = match holder {
        Holder::Resident => "/portal/enrol",
        Holder::Staff => "/console/passkeys/enrol",
    };
    Ok(Invite {
        path: format!("{page}#code={code}"),
        expires_ms: now + INVITE_MS,
    })
}

/// On the server's host (the root of trust when every admin has lost their
/// passkeys): an enrolment path for a live staff token, or `None` if there
/// is no such token.
pub async fn host_invite(
    store: &Store,
    secret: &[u8],
    token_id: &str,
) -> Result<Option<Invite>, OpError> {
    let found = {
        let mut conn = store.reader().await?;
        db::passkeys::staff_token(&mut conn, token_id)
            .await?
            .filter(|t| t.live(now_ms()))
    };
    match found {
        Some(_) => Ok(Some(
            create_invite(store, secret, Holder::Staff, token_id, "server host").await?,
        )),
        None => Ok(None),
    }
}

/// How a new passkey is vouched for.
pub enum Enrolment<'a> {
    /// An invitation code (from the link's fragment).
    Invite(&'a str),
    /// A signed-in holder adding another device: the session, the CSRF token
    /// the page sent, and (staff only) a step-up proof of an existing passkey.
    SignedIn {
        session: &'a Session,
        csrf: &'a str,
        step_up: Option<&'a str>,
    },
}

/// Begins enrolling a passkey, for the holder an invitation names or for a
/// signed-in holder's own account.
pub async fn begin_registration(
    state: &AppState,
    headers: &HeaderMap,
    holder: Holder,
    by: Enrolment<'_>,
) -> ApiResult<Challenge> {
    let webauthn = webauthn_for(headers)?;
    let refused = || {
        let ask = match holder {
            Holder::Resident => "ask your building for a new one",
            Holder::Staff => "ask an admin for a new one",
        };
        ApiError::new(
            Code::InviteNotValid,
            format!("this invitation has expired or was used; {ask}"),
        )
    };
    let now = now_ms();
    let (subject, invite) = match by {
        Enrolment::Invite(code) => {
            if code.len() != 64 {
                return Err(refused());
            }
            let code_mac = invite_mac(&state.secret, holder, code);
            let mut conn = state.store.reader().await.map_err(OpError::from)?;
            let subject = db::passkeys::invite(&mut conn, holder, &code_mac, now)
                .await?
                .ok_or_else(refused)?;
            (subject, Some(hex::encode(code_mac)))
        }
        Enrolment::SignedIn {
            session,
            csrf,
            step_up,
        } => {
            let subject = match holder {
                Holder::Resident => session.caller.resident_id.clone().ok_or_else(refused)?,
                Holder::Staff => session.caller.token_id.clone(),
            };
            if !cubby_protocol::constant_time_eq(csrf.as_bytes(), session.csrf.as_bytes()) {
                return Err(ApiError::forbidden());
            }
            if holder == Holder::Staff {
                check_step_up(&state.secret, &session.caller, step_up, now)?;
            }
            (subject, None)
        }
    };
    // Who the authenticator shows the passkey as.
    let (subject, user_name, display_name) = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        match holder {
            Holder::Resident => {
                let r = db::residents::resident(&mut conn, &subject)
                    .await?
                    .ok_or_else(refused)?;
                (r.id, r.email.unwrap_or_else(|| r.name.clone()), r.name)
            }
            Holder::Staff => {
                let t = db::passkeys::staff_token(&mut conn, &subject)
                    .await?
                    .filter(|t| t.live(now))
                    .ok_or_else(refused)?;
                (t.id, format!("{} ({})", t.label, t.role), t.label)
            }
        }
    };
    let existing: Vec<CredentialID> = passkeys_of(state, holder, &subject)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_str::<Passkey>(&p.passkey).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let (options, reg) = webauthn
        .start_passkey_registration(
            user_handle(holder, &subject),
            &user_name,
            &display_name,
            Some(existing),
        )
        .map_err(|e| ApiError::invalid("passkey", e.to_string()))?;
    let mut options = serde_json::to_value(options).unwrap_or_default();
    let lasts_ms = match holder {
        Holder::Resident => RESIDENT_CEREMONY_MS,
        Holder::Staff => {
            // Staff sign in without naming themselves, so the credential must
            // be discoverable (a "resident key" on the authenticator).
            options["publicKey"]["authenticatorSelection"]["residentKey"] = "required".into();
            options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = true.into();
            STAFF_CEREMONY_MS
        }
    };
    // The invitation code rides along in the ceremony; it is spent only
    // when the passkey is stored.
    let saved = serde_json::json!({ "reg": reg, "invite": invite }).to_string();
    let ceremony =
        save_ceremony(state, register_kind(holder), Some(subject), saved, lasts_ms).await?;
    Ok(Challenge { ceremony, options })
}

/// Finishes enrolling a passkey of either kind: stores it (spending the
/// invitation, if one began the ceremony) and answers its owner.
pub async fn finish_enrolment(
    state: &AppState,
    headers: &HeaderMap,
    holder: Holder,
    ceremony: &str,
    credential: &RegisterPublicKeyCredential,
) -> ApiResult<String> {
    let webauthn = webauthn_for(headers)?;
    let (subject, saved) = take_ceremony(state, register_kind(holder), ceremony).await?;
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
                    && !db::passkeys::spend_invite(conn, holder, &invite, now).await?
                {
                    return Ok(false);
                }
                db::passkeys::add_passkey(conn, holder, &cred_id, &id, &json, now).await?;
                Ok(true)
            })
        })
        .await?;
    if !stored {
        return Err(ceremony_failed());
    }
    Ok(owner)
}

/// Begins a resident's sign-in by email: a challenge only their passkeys can
/// answer. An address without a passkey gets the same shape of answer, so the
/// sign-in page does not tell who lives here; it can only fail.
pub async fn begin_email_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    email: &str,
) -> ApiResult<Challenge> {
    let webauthn = webauthn_for(headers)?;
    let email = email.trim().to_ascii_lowercase();
    if email.is_empty() || email.len() > 254 {
        return Err(ApiError::invalid(
            "email",
            "give the email your building has",
        ));
    }
    let found = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::passkeys::passkeys_by_email(&mut conn, &email).await?
    };
    let passkeys: Vec<Passkey> = found
        .iter()
        .filter_map(|(_, _, json)| serde_json::from_str(json).ok())
        .collect();
    if passkeys.is_empty() {
        let mut challenge = [0u8; 32];
        crate::os_random(&mut challenge);
        let mut fake_id = [0u8; 32];
        crate::os_random(&mut fake_id);
        let options = serde_json::json!({ "publicKey": {
            "challenge": base64url(&challenge),
            "timeout": 300000,
            "rpId": webauthn_rp_id(headers),
            "allowCredentials": [{ "type": "public-key", "id": base64url(&fake_id) }],
            "userVerification": "required",
        }});
        return Ok(Challenge {
            ceremony: random_hex(),
            options,
        });
    }
    let (options, auth) = webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(|e| ApiError::invalid("passkey", e.to_string()))?;
    let saved = serde_json::to_string(&auth).map_err(|_| ceremony_failed())?;
    let ceremony = save_ceremony(state, "sign_in", None, saved, RESIDENT_CEREMONY_MS).await?;
    Ok(Challenge {
        ceremony,
        options: serde_json::to_value(options).unwrap_or_default(),
    })
}

/// Finishes a resident's sign-in: the resident whose passkey signed.
pub async fn finish_email_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> ApiResult<String> {
    let webauthn = webauthn_for(headers)?;
    let (_, auth): (_, PasskeyAuthentication) = take_saved(state, "sign_in", ceremony).await?;
    let result = webauthn
        .finish_passkey_authentication(credential, &auth)
        .map_err(|_| ceremony_failed())?;
    let used = cred_id_text(result.cred_id().as_ref());
    // The passkey that signed, its owner, and its new counter.
    let (resident_id, json) = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::passkeys::passkey(&mut conn, Holder::Resident, &used)
            .await?
            .ok_or_else(ceremony_failed)?
    };
    record_use(state, Holder::Resident, used, &json, &result).await?;
    Ok(resident_id)
}

/// Begins a passkey sign-in to the console: any discoverable staff passkey
/// of this relying party may answer.
pub async fn begin_discoverable_sign_in(
    state: &AppState,
    headers: &HeaderMap,
) -> ApiResult<Challenge> {
    let webauthn = webauthn_for(headers)?;
    let (options, auth) = webauthn
        .start_discoverable_authentication()
        .map_err(|e| ApiError::invalid("passkey", e.to_string()))?;
    let saved = serde_json::to_string(&auth).map_err(|_| ceremony_failed())?;
    let ceremony = save_ceremony(state, "staff_sign_in", None, saved, STAFF_CEREMONY_MS).await?;
    Ok(Challenge {
        ceremony,
        options: serde_json::to_value(options).unwrap_or_default(),
    })
}

/// Finishes a console sign-in: the staff token whose passkey signed.
pub async fn finish_discoverable_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> ApiResult<String> {
    let webauthn = webauthn_for(headers)?;
    let (_, auth): (_, DiscoverableAuthentication) =
        take_saved(state, "staff_sign_in", ceremony).await?;
    let (_, raw_id) = webauthn
        .identify_discoverable_authentication(credential)
        .map_err(|_| ceremony_failed())?;
    let cred_id = cred_id_text(raw_id);
    let (token_id, json) = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let found = db::passkeys::passkey(&mut conn, Holder::Staff, &cred_id)
            .await?
            .ok_or_else(ceremony_failed)?;
        // A revoked token's passkeys sign nobody in.
        // An expired or revoked token's passkeys sign nobody in.
        db::passkeys::staff_token(&mut conn, &found.0)
            .await?
            .filter(|t| t.live(now_ms()))
            .ok_or_else(ceremony_failed)?;
        found
    };
    let passkey: Passkey = serde_json::from_str(&json).map_err(|_| ceremony_failed())?;
    let result = webauthn
        .finish_discoverable_authentication_v2(credential, auth, &passkey)
        .map_err(|_| ceremony_failed())?;
    record_use(state, Holder::Staff, cred_id, &json, &result).await?;
    Ok(token_id)
}
