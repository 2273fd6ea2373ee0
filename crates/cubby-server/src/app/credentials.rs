//! Minting pick-up credentials: keypad codes and QR tokens from the OS
//! CSPRNG, stored only as MACs (one under the server secret, one under the
//! locker's own key so its agent decides offline). A fresh code can collide
//! with a live one in the same locker's code space (rare): [`retrying`] draws
//! again, in one place.

use std::future::Future;

use cubby_domain::codes::Code;
use cubby_domain::credentials::{keypad_code_mac, new_keypad_code, new_qr_token, qr_token_mac};
use cubby_domain::ids;
use cubby_protocol::cache::{CredentialKind, local_credential_mac};
use cubby_store::parcels::{DepositSecrets, LockerSecrets};

use super::AppResult;
use crate::{AppState, new_id, os_rng};

/// How many fresh draws a write gets before a collision is answered.
const DRAWS: usize = 3;

/// A keypad code and a QR token for `locker_id`, with their MACs.
pub fn fresh_secrets(state: &AppState, locker_id: &str) -> DepositSecrets {
    let mut rng = os_rng();
    let code = new_keypad_code(state.policies.code_digits, &mut rng);
    let qr_token = new_qr_token(&mut rng);
    let locker_key = crate::auth::keys::locker_credential_key(&state.secret, locker_id);
    DepositSecrets {
        code_mac: keypad_code_mac(&state.secret, locker_id, &code),
        code_local_mac: local_credential_mac(&locker_key, CredentialKind::Keypad, &code),
        qr_local_mac: local_credential_mac(&locker_key, CredentialKind::Qr, &qr_token),
        code,
        code_credential_id: new_id(ids::CREDENTIAL),
        qr_mac: qr_token_mac(&state.secret, &qr_token),
        qr_token,
        qr_credential_id: new_id(ids::CREDENTIAL),
        elsewhere: Vec::new(),
    }
}

/// Secrets for `locker_id` that also work at `others` (the site's other
/// lockers), for a deposit that may overflow there.
pub fn fresh_secrets_overflowing(
    state: &AppState,
    locker_id: &str,
    others: &[String],
) -> DepositSecrets {
    let mut s = fresh_secrets(state, locker_id);
    s.elsewhere = others
        .iter()
        .filter(|o| o.as_str() != locker_id)
        .map(|o| {
            let key = crate::auth::keys::locker_credential_key(&state.secret, o);
            LockerSecrets {
                locker_id: o.clone(),
                code_mac: keypad_code_mac(&state.secret, o, &s.code),
                code_local_mac: local_credential_mac(&key, CredentialKind::Keypad, &s.code),
                qr_local_mac: local_credential_mac(&key, CredentialKind::Qr, &s.qr_token),
                credential_id: new_id(ids::CREDENTIAL),
            }
        })
        .collect();
    s
}

/// A keypad code alone (delegate codes, re-issued codes).
#[derive(Debug, Clone)]
pub struct KeypadCode {
    pub code: String,
    /// Under the server secret, scoped to the locker.
    pub mac: [u8; 32],
    /// Under the locker's own key.
    pub local_mac: [u8; 32],
}

pub fn fresh_keypad_code(state: &AppState, locker_id: &str) -> KeypadCode {
    let code = new_keypad_code(state.policies.code_digits, &mut os_rng());
    let locker_key = crate::auth::keys::locker_credential_key(&state.secret, locker_id);
    KeypadCode {
        mac: keypad_code_mac(&state.secret, locker_id, &code),
        local_mac: local_credential_mac(&locker_key, CredentialKind::Keypad, &code),
        code,
    }
}

/// Runs `attempt` with freshly drawn secrets until none collides with a live
/// credential (at most three draws; the last collision is answered).
pub async fn retrying<S, T, Fut>(
    mut draw: impl FnMut() -> S,
    mut attempt: impl FnMut(S) -> Fut,
) -> AppResult<T>
where
    Fut: Future<Output = AppResult<T>>,
{
    for _ in 1..DRAWS {
        match attempt(draw()).await {
            Err(e) if e.code == Code::CredentialCollision => continue,
            other => return other,
        }
    }
    attempt(draw()).await
}
