//! Keys derived from the server secret for what devices check on their own.

use cubby_domain::credentials::mac;

/// The key a locker's agent uses to check pick-up credentials locally. Derived
/// from the server secret per locker, so one locker's key says nothing about
/// another's.
pub fn locker_credential_key(secret: &[u8], locker_id: &str) -> [u8; 32] {
    mac(secret, &["locker-credential-key", locker_id])
}
