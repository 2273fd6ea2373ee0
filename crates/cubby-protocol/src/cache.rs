//! The credential cache: what a locker needs to decide pick-ups on its own.
//!
//! The server signs it; the device installs a cache only if the signature holds,
//! it is addressed to this device, it has not expired and its version is not
//! older than the one installed (no rollback to a cache that still lists a used
//! code). Entries hold a MAC of each credential under the locker's own
//! credential key, never the code itself.

use ed25519_dalek::VerifyingKey;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::signing::{Signed, verify};
use crate::{Millis, constant_time_eq};

/// How a credential is presented at the locker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    Keypad,
    Qr,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Keypad => "keypad",
            CredentialKind::Qr => "qr",
        }
    }
}

/// One credential the locker may honour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheEntry {
    pub credential_id: String,
    pub kind: CredentialKind,
    /// Hex of [`local_credential_mac`].
    pub mac: String,
    /// The compartments it opens.
    pub compartments: Vec<String>,
}

/// The signed body of a cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialCache {
    pub device_id: String,
    /// Strictly increasing per device.
    pub version: u64,
    pub issued_ms: Millis,
    /// After this the device stops deciding pick-ups offline.
    pub expires_ms: Millis,
    /// The device's journal head the server had stored when it built this
    /// cache: pick-ups the device journalled up to here are already reflected
    /// in `entries`, later ones are not yet.
    pub journal_seq: u64,
    /// Every compartment label of the locker in wiring order: the n-th label is
    /// the n-th lock counting boards then locks.
    pub compartments: Vec<String>,
    pub entries: Vec<CacheEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheRefusal {
    #[error("signature does not verify")]
    BadSignature,
    #[error("malformed cache: {0}")]
    Malformed(String),
    #[error("cache is for device {0}")]
    WrongDevice(String),
    #[error("cache expired")]
    Expired,
    #[error("cache version {offered} is older than installed {installed}")]
    Rollback { offered: u64, installed: u64 },
}

/// Verifies a signed cache for installation on `device_id`.
pub fn accept(
    signed: &Signed,
    key: &VerifyingKey,
    device_id: &str,
    installed_version: Option<u64>,
    now: Millis,
) -> Result<CredentialCache, CacheRefusal> {
    let cache: CredentialCache = verify(signed, key).map_err(|e| match e {
        crate::ProtocolError::BadSignature => CacheRefusal::BadSignature,
        other => CacheRefusal::Malformed(other.to_string()),
    })?;
    if cache.device_id != device_id {
        return Err(CacheRefusal::WrongDevice(cache.device_id));
    }
    if now > cache.expires_ms {
        return Err(CacheRefusal::Expired);
    }
    if let Some(installed) = installed_version
        && cache.version < installed
    {
        return Err(CacheRefusal::Rollback {
            offered: cache.version,
            installed,
        });
    }
    Ok(cache)
}

/// The MAC of a presented credential under a locker's credential key. The server
/// computes it when it issues the credential; the device computes it for what is
/// typed or scanned and looks it up.
pub fn local_credential_mac(locker_key: &[u8], kind: CredentialKind, presented: &str) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(locker_key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(b"cubby-local-credential-v1");
    m.update(kind.as_str().as_bytes());
    m.update(&(presented.len() as u64).to_be_bytes());
    m.update(presented.as_bytes());
    m.finalize().into_bytes().into()
}

impl CredentialCache {
    /// The entry whose MAC matches, compared in constant time per entry.
    pub fn find(&self, kind: CredentialKind, mac: &[u8; 32]) -> Option<&CacheEntry> {
        let wanted = hex::encode(mac);
        self.entries
            .iter()
            .filter(|e| e.kind == kind)
            .find(|e| constant_time_eq(e.mac.as_bytes(), wanted.as_bytes()))
    }
}
