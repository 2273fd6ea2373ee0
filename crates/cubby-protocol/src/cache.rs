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
    /// A courier's pass for deposits at this locker.
    Courier,
    /// An access grant's PIN typed at a door this device drives.
    Door,
    /// A phone pick-up token (`crate::phone`), naming a keypad credential.
    Phone,
    /// A resident's drop-off code for a return or shipment.
    DropOff,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Keypad => "keypad",
            CredentialKind::Qr => "qr",
            CredentialKind::Courier => "courier",
            CredentialKind::Door => "door",
            CredentialKind::Phone => "phone",
            CredentialKind::DropOff => "drop_off",
        }
    }
}

/// A compartment's inner size and zone, so that the locker can choose a door
/// for a deposit on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompartmentSpec {
    pub label: String,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    /// `ambient`, `chilled` or `frozen`.
    pub temperature: String,
}

/// A courier's pass: lets its holder deposit pre-advised parcels of one carrier
/// at this locker until it expires, with or without the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourierPass {
    pub pass_id: String,
    pub carrier: String,
    /// Hex of [`local_credential_mac`] with [`CredentialKind::Courier`].
    pub mac: String,
    pub expires_ms: Millis,
}

/// A pre-advised parcel a courier may deposit here. The tracking number is
/// held as a MAC under the locker key: a stolen cache lists no tracking
/// numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedParcel {
    pub parcel_id: String,
    /// Hex of [`tracking_mac`].
    pub tracking_mac: String,
    pub carrier: Option<String>,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub temperature: String,
}

/// A return or shipment a resident announced for this locker: its drop-off
/// code (as a MAC under the locker key) opens a free compartment that fits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedDropOff {
    pub parcel_id: String,
    pub credential_id: String,
    /// Hex of [`local_credential_mac`] with [`CredentialKind::DropOff`].
    pub mac: String,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub temperature: String,
    /// After this the code no longer opens anything.
    pub expires_ms: Millis,
}

/// A parcel in a compartment here waiting for its carrier (expired, or a
/// resident's return or shipment): a courier pass of that carrier opens it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwaitingCarrier {
    pub parcel_id: String,
    pub carrier: String,
    pub compartment: String,
}

/// A door this device drives: a lock output in the same wiring order as the
/// compartments (the n-th output counting boards then locks), after them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoorSpec {
    pub door_id: String,
    pub name: String,
    /// Zero-based wiring index of the door's lock output.
    pub output: u32,
    /// Hex of the door's offline-code key (see [`crate::offline`]): kept
    /// after the cache expires, so the door still takes offline codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_key: Option<String>,
}

/// An access grant valid at one or more of this device's doors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoorGrant {
    pub grant_id: String,
    /// Hex of [`local_credential_mac`] with [`CredentialKind::Door`].
    pub mac: String,
    pub rule: cubby_domain::access::GrantRule,
    /// Openings per door already stored at the server up to the cache's
    /// `journal_seq` (doors of this device only).
    #[serde(default)]
    pub uses: std::collections::BTreeMap<String, u32>,
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
    /// Sizes of the compartments, for deposits decided at the locker.
    #[serde(default)]
    pub specs: Vec<CompartmentSpec>,
    /// Compartments that were empty and in service when the cache was built.
    #[serde(default)]
    pub free: Vec<String>,
    /// Courier passes valid at this locker.
    #[serde(default)]
    pub couriers: Vec<CourierPass>,
    /// Pre-advised parcels couriers may deposit here.
    #[serde(default)]
    pub expected: Vec<ExpectedParcel>,
    /// Returns and shipments residents may drop off here.
    #[serde(default)]
    pub drop_offs: Vec<ExpectedDropOff>,
    /// Parcels here that their carrier's courier takes away.
    #[serde(default)]
    pub awaiting_carrier: Vec<AwaitingCarrier>,
    /// The site's IANA time zone, for weekly schedules of access grants.
    #[serde(default)]
    pub zone: Option<String>,
    /// Doors this device drives.
    #[serde(default)]
    pub doors: Vec<DoorSpec>,
    /// Access grants for those doors. A revoked grant is simply absent.
    #[serde(default)]
    pub grants: Vec<DoorGrant>,
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

/// The MAC of a tracking number (in its canonical form) under a locker's
/// credential key.
pub fn tracking_mac(locker_key: &[u8], tracking_number: &str) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(locker_key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(b"cubby-local-tracking-v1");
    m.update(&(tracking_number.len() as u64).to_be_bytes());
    m.update(tracking_number.as_bytes());
    m.finalize().into_bytes().into()
}

impl CredentialCache {
    /// The courier pass whose MAC matches and that has not expired.
    pub fn find_courier(&self, mac: &[u8; 32], now: Millis) -> Option<&CourierPass> {
        let wanted = hex::encode(mac);
        self.couriers
            .iter()
            .filter(|c| c.expires_ms > now)
            .find(|c| constant_time_eq(c.mac.as_bytes(), wanted.as_bytes()))
    }

    /// The pre-advised parcel with this tracking MAC.
    pub fn find_expected(&self, mac: &[u8; 32]) -> Option<&ExpectedParcel> {
        let wanted = hex::encode(mac);
        self.expected
            .iter()
            .find(|e| constant_time_eq(e.tracking_mac.as_bytes(), wanted.as_bytes()))
    }

    /// The announced drop-off whose code MAC matches and that has not expired.
    pub fn find_drop_off(&self, mac: &[u8; 32], now: Millis) -> Option<&ExpectedDropOff> {
        let wanted = hex::encode(mac);
        self.drop_offs
            .iter()
            .filter(|d| d.expires_ms > now)
            .find(|d| constant_time_eq(d.mac.as_bytes(), wanted.as_bytes()))
    }

    /// The access grant whose PIN MAC matches.
    pub fn find_grant(&self, mac: &[u8; 32]) -> Option<&DoorGrant> {
        let wanted = hex::encode(mac);
        self.grants
            .iter()
            .find(|g| constant_time_eq(g.mac.as_bytes(), wanted.as_bytes()))
    }

    /// The entry whose MAC matches, compared in constant time per entry.
    pub fn find(&self, kind: CredentialKind, mac: &[u8; 32]) -> Option<&CacheEntry> {
        let wanted = hex::encode(mac);
        self.entries
            .iter()
            .filter(|e| e.kind == kind)
            .find(|e| constant_time_eq(e.mac.as_bytes(), wanted.as_bytes()))
    }
}
