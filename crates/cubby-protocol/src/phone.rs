//! Pick-up from a phone standing at the locker. The kiosk shows a one-time
//! challenge (as a QR code); the resident's phone, signed in, sends it to the
//! server, which answers with a short-lived token signed with the server key,
//! naming this device, that challenge and the resident's credential here. The
//! phone hands the token to the kiosk over the local network. Without the
//! challenge on the kiosk's screen there is no token: this is not a remote
//! open from anywhere.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::signing::{Signed, verify};

/// The `purpose` of a phone pick-up token, so that no other signed message
/// of the server can pass for one.
pub const PHONE_PICKUP: &str = "phone_pickup";
/// The longest a token lives.
pub const MAX_PHONE_TOKEN_MS: Millis = 120_000;
/// How long a kiosk challenge can be answered.
pub const CHALLENGE_LIFETIME_MS: Millis = 120_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhonePickup {
    pub purpose: String,
    pub device_id: String,
    /// The kiosk's challenge, hex.
    pub nonce: String,
    /// The resident's pick-up credential at this locker.
    pub credential_id: String,
    pub issued_ms: Millis,
    pub expires_ms: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneRefusal {
    #[error("not a phone pick-up token signed by the server")]
    BadToken,
    #[error("token is for another device")]
    WrongDevice,
    #[error("token expired or not yet valid")]
    Expired,
}

/// Checks a token's signature, purpose, device and time; the caller checks
/// (and spends) the challenge.
pub fn accept_phone_pickup(
    signed: &Signed,
    key: &VerifyingKey,
    device_id: &str,
    now: Millis,
) -> Result<PhonePickup, PhoneRefusal> {
    let token: PhonePickup = verify(signed, key).map_err(|_| PhoneRefusal::BadToken)?;
    if token.purpose != PHONE_PICKUP {
        return Err(PhoneRefusal::BadToken);
    }
    if token.device_id != device_id {
        return Err(PhoneRefusal::WrongDevice);
    }
    if now < token.issued_ms - 5_000
        || now > token.expires_ms
        || token.expires_ms - token.issued_ms > MAX_PHONE_TOKEN_MS
    {
        return Err(PhoneRefusal::Expired);
    }
    Ok(token)
}
