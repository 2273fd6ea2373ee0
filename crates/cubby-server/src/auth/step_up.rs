//! Step-up: the second factor for anything that opens doors remotely
//! (security.md: phishing-resistant MFA for anyone who can open doors
//! remotely).
//!
//! A staff API token alone cannot open a door. A remote open also carries a
//! step-up proof (header `Cubby-Step-Up`): a MAC under the server secret of
//! the token's id and an expiry at most five minutes away, handed out only
//! after one of that token's passkeys signed a fresh challenge. The same
//! ceremonies serve the API (bearer token) and the console (session).

use axum::http::HeaderMap;
use cubby_domain::Millis;
use cubby_domain::codes::Code;
use cubby_domain::credentials::mac;
use cubby_domain::model::Role;
use serde::Serialize;
use utoipa::ToSchema;
use webauthn_rs::prelude::{Passkey, PasskeyAuthentication, PublicKeyCredential};

use super::Caller;
use super::passkeys::{
    Challenge, Holder, STAFF_CEREMONY_MS, ceremony_failed, cred_id_text, passkeys_of, record_use,
    save_ceremony, take_saved, webauthn_for,
};
use crate::error::{ApiError, ApiResult};
use crate::{AppState, now_ms};

/// The header a remote open carries its step-up proof in.
pub const STEP_UP_HEADER: &str = "cubby-step-up";
/// How long a step-up proof opens doors for.
pub const STEP_UP_MS: Millis = 5 * 60_000;
/// A step-up proof for `token_id`, good until `expires_ms`.
pub fn step_up_proof(secret: &[u8], token_id: &str, expires_ms: Millis) -> String {
    let m = mac(
        secret,
        &["staff-step-up", token_id, &expires_ms.to_string()],
    );
    format!("v1.{expires_ms}.{}", hex::encode(m))
}

fn step_up_required(why: &str) -> ApiError {
    ApiError::new(
        Code::StepUpRequired,
        format!(
            "{why}: this opens doors, so prove a passkey first \
             (POST /api/v1/step-up/start, then /api/v1/step-up/finish) and send the proof \
             in the Cubby-Step-Up header"
        ),
    )
}

/// Checks a step-up proof of this caller's token.
pub fn check_step_up(
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

/// Changing a site's security settings (policy, tokens, webhooks, doors and
/// paths, devices, carriers, courier accounts) needs the same fresh step-up
/// from staff (security.md: phishing-resistant MFA for anyone who can change
/// site security settings). Carrier-side tokens changing their own
/// integration (their webhooks, their couriers) are machines without
/// passkeys and need none.
pub fn require_settings_step_up(
    state: &AppState,
    caller: &Caller,
    proof: Option<&str>,
) -> Result<(), ApiError> {
    if !is_staff(caller.role) {
        return Ok(());
    }
    check_step_up(&state.secret, caller, proof, now_ms()).map_err(|mut e| {
        e.message = e
            .message
            .replace("this opens doors", "this changes security settings");
        e
    })
}

/// [`require_settings_step_up`] with the proof of a request's
/// `Cubby-Step-Up` header.
pub fn require_settings_step_up_of(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    require_settings_step_up(state, caller, step_up_header(headers))
}

/// The `Cubby-Step-Up` header's value, if any.
pub fn step_up_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(STEP_UP_HEADER).and_then(|v| v.to_str().ok())
}

/// The step-up proof of a request's `Cubby-Step-Up` header, checked.
pub fn require_step_up(
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

/// Begins a step-up: a challenge only this token's passkeys can answer.
pub async fn begin_step_up(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
) -> ApiResult<Challenge> {
    if !is_staff(caller.role) {
        return Err(ApiError::forbidden());
    }
    let webauthn = webauthn_for(headers)?;
    let passkeys: Vec<Passkey> = passkeys_of(state, Holder::Staff, &caller.token_id)
        .await?
        .iter()
        .filter_map(|p| serde_json::from_str(&p.passkey).ok())
        .collect();
    if passkeys.is_empty() {
        return Err(ApiError::new(
            Code::NoPasskey,
            "this staff token has no passkey yet: enrol one from an invitation first",
        ));
    }
    let (options, auth) = webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(|e| ApiError::invalid("passkey", e.to_string()))?;
    let saved = serde_json::to_string(&auth).map_err(|_| ceremony_failed())?;
    let ceremony = save_ceremony(
        state,
        "step_up",
        Some(caller.token_id.clone()),
        saved,
        STAFF_CEREMONY_MS,
    )
    .await?;
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
pub async fn finish_step_up(
    state: &AppState,
    headers: &HeaderMap,
    caller: &Caller,
    ceremony: &str,
    credential: &PublicKeyCredential,
) -> ApiResult<StepUp> {
    let webauthn = webauthn_for(headers)?;
    let (subject, auth): (_, PasskeyAuthentication) =
        take_saved(state, "step_up", ceremony).await?;
    if subject.as_deref() != Some(caller.token_id.as_str()) {
        return Err(ceremony_failed());
    }
    let result = webauthn
        .finish_passkey_authentication(credential, &auth)
        .map_err(|_| ceremony_failed())?;
    let used = cred_id_text(result.cred_id().as_ref());
    let stored = passkeys_of(state, Holder::Staff, &caller.token_id)
        .await?
        .into_iter()
        .find(|p| p.cred_id == used)
        .ok_or_else(ceremony_failed)?;
    record_use(state, Holder::Staff, used, &stored.passkey, &result).await?;
    let expires_ms = now_ms() + STEP_UP_MS;
    Ok(StepUp {
        proof: step_up_proof(&state.secret, &caller.token_id, expires_ms),
        expires_ms,
    })
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
            site_ids: None,
            source: "127.0.0.1".into(),
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
            assert_eq!(refused.code, Code::StepUpRequired);
            assert_eq!(refused.status.as_u16(), 403);
        }
        // A proof minted (with the real key) to last an hour is refused too.
        let long = step_up_proof(secret, "tok_a", now + 3_600_000);
        assert!(check_step_up(secret, &caller("tok_a"), Some(&long), now).is_err());
        assert!(check_step_up(secret, &caller("tok_a"), None, now).is_err());
    }
}
