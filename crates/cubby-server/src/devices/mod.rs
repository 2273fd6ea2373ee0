//! The server's side of the device protocol: the embedded broker (or a link to
//! an external one), device authentication and confinement, signed command
//! dispatch with retry and expiry, journal ingest with acknowledgement after
//! commit, status and state tracking, and the signed credential caches.

mod auth;
mod link;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use cubby_domain::credentials::mac;
use ed25519_dalek::SigningKey;
use tokio::sync::Notify;

pub use auth::DeviceAuthorizer;
pub use link::{MqttSettings, start};

/// Longest a command may stay unsent while its device is offline.
pub const PENDING_LIMIT_MS: i64 = 60_000;
/// Lifetime of a signed unlock command (at most 30 s, security.md).
pub const COMMAND_LIFETIME_MS: i64 = 20_000;
/// How long a credential cache is valid on the device.
pub const CACHE_LIFETIME_MS: i64 = 7 * 24 * 3600 * 1000;

pub use crate::auth::keys::locker_credential_key;

/// The key a door's offline codes are made with (`cubby_protocol::offline`).
pub fn door_offline_key(secret: &[u8], door_id: &str) -> [u8; 32] {
    mac(secret, &["door-offline-key", door_id])
}

/// The server's command- and cache-signing key, derived from the server secret.
pub fn signing_key(secret: &[u8]) -> SigningKey {
    cubby_protocol::signing::signing_key(&mac(secret, &["device-signing-key-v1"]))
}

/// The MQTT password of the server's own connection to the embedded broker.
pub fn server_mqtt_password(secret: &[u8]) -> String {
    hex::encode(mac(secret, &["mqtt-server-password"]))
}

/// The stored form of a device's MQTT secret.
pub fn device_secret_mac(secret: &[u8], device_secret: &str) -> [u8; 32] {
    mac(secret, &["device-secret", device_secret])
}

/// Shared between the HTTP API and the device link.
#[derive(Default)]
pub struct DeviceHub {
    /// Device id → MAC of its MQTT secret, for the embedded broker.
    pub(crate) credentials: RwLock<HashMap<String, [u8; 32]>>,
    /// Wakes the dispatcher: a command was queued or a cache may have changed.
    pub(crate) wake: Notify,
    /// Whose credential caches may have changed since the dispatcher looked.
    pub(crate) changed: Mutex<Changed>,
}

/// Where cache content may have changed. Only these caches are rebuilt at
/// once; a slow sweep rebuilds every cache in case a change went unmarked
/// (and for time-driven changes such as passes expiring).
#[derive(Debug, Default)]
pub(crate) struct Changed {
    pub lockers: HashSet<String>,
    pub sites: HashSet<String>,
    pub devices: HashSet<String>,
    pub all: bool,
}

impl Changed {
    pub fn is_empty(&self) -> bool {
        !self.all && self.lockers.is_empty() && self.sites.is_empty() && self.devices.is_empty()
    }
    pub fn covers(&self, device: &str, locker: &str, site: &str) -> bool {
        self.all
            || self.devices.contains(device)
            || self.lockers.contains(locker)
            || self.sites.contains(site)
    }
}

impl DeviceHub {
    pub fn new() -> Arc<DeviceHub> {
        Arc::new(DeviceHub::default())
    }

    /// Something changed that devices should hear about soon (a command).
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    fn mark(&self, f: impl FnOnce(&mut Changed)) {
        if let Ok(mut c) = self.changed.lock() {
            f(&mut c);
        }
        self.wake.notify_one();
    }

    /// What a locker's agents may do offline changed (parcels, credentials,
    /// passes, compartments).
    pub fn locker_changed(&self, locker_id: &str) {
        self.mark(|c| {
            c.lockers.insert(locker_id.to_string());
        });
    }

    /// Something that every locker of a site lists changed (pre-advice).
    pub fn site_changed(&self, site_id: &str) {
        self.mark(|c| {
            c.sites.insert(site_id.to_string());
        });
    }

    /// The device's own journal moved on: its cache's `journal_seq` is stale.
    pub fn device_changed(&self, device_id: &str) {
        self.mark(|c| {
            c.devices.insert(device_id.to_string());
        });
    }

    /// Every cache must be published again (a new broker connection).
    pub fn everything_changed(&self) {
        self.mark(|c| c.all = true);
    }

    pub(crate) fn take_changed(&self) -> Changed {
        self.changed
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_else(|_| Changed {
                all: true,
                ..Changed::default()
            })
    }

    pub(crate) fn set_credentials(&self, all: HashMap<String, [u8; 32]>) {
        if let Ok(mut map) = self.credentials.write() {
            *map = all;
        }
    }

    pub(crate) fn add_credential(&self, id: String, mac: [u8; 32]) {
        if let Ok(mut map) = self.credentials.write() {
            map.insert(id, mac);
        }
    }

    pub(crate) fn remove_credential(&self, id: &str) {
        if let Ok(mut map) = self.credentials.write() {
            map.remove(id);
        }
    }
}
