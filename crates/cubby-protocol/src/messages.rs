//! Message bodies that are not signed: device reports and server acknowledgements.
//! Each travels in an [`Envelope`] whose `msg_id` is unique per message (for
//! deduplication) and whose `tx_id`, when present, correlates it with a command.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::journal::JournalEntry;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope<T> {
    pub msg_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<String>,
    pub sent_ms: Millis,
    pub body: T,
}

/// Journal entries in order, starting right after the last acknowledged one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalBatch {
    pub entries: Vec<JournalEntry>,
}

/// The server has committed every entry up to and including `up_to_seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalAck {
    pub up_to_seq: u64,
    /// Set when the batch did not continue the server's chain; the device must
    /// resend from `up_to_seq + 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_from: Option<u64>,
}

/// One compartment as the device sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompartmentState {
    pub compartment: String,
    pub locked: bool,
    /// None when the board has no presence sensor.
    pub item_present: Option<bool>,
}

/// The retained, complete picture of a device (never a delta).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSnapshot {
    pub device_id: String,
    pub at_ms: Millis,
    pub agent_version: String,
    pub cache_version: Option<u64>,
    pub maintenance: bool,
    pub board_ok: bool,
    pub journal_head: u64,
    pub journal_acked: u64,
    pub compartments: Vec<CompartmentState>,
}

/// Retained online/offline flag; the last will publishes `online: false`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status {
    pub device_id: String,
    pub online: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    pub uptime_s: u64,
    pub journal_unacked: u64,
}

/// What `cubby admin device add` (or the API) hands to a new device, saved by
/// the installer as the agent's identity file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceIdentity {
    pub device_id: String,
    pub locker_id: String,
    /// MQTT password of this device; the broker keeps only its MAC.
    pub secret: String,
    /// Key for checking pick-up credentials locally, hex; unique per locker.
    pub credential_key: String,
    /// The server's Ed25519 public key, hex: commands and caches must verify.
    pub server_public_key: String,
}
