//! The agent's journal: every event a locker observes or causes, in order,
//! hash-chained, kept on the device's disk until the server acknowledges it.
//!
//! The server stores entries keyed by (device, seq) and checks that each entry
//! continues the chain it holds, so a redelivered entry is a no-op and a gap or
//! an altered entry is detected.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Millis;
use crate::cache::CredentialKind;
use crate::command::{Purpose, Rejection};

/// The chain hash before the first entry, hex.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Something that happened at the locker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum EdgeEvent {
    /// The agent started; every lock was commanded shut state is read from the board.
    Boot {
        agent_version: String,
    },
    /// A signed command was accepted and its lock released.
    Unlocked {
        cmd_id: String,
        seq: u64,
        compartment: String,
        purpose: Purpose,
        /// Whether the compartment held an item when it was opened.
        occupied: bool,
    },
    /// A command was refused; nothing moved.
    CommandRejected {
        cmd_id: Option<String>,
        seq: Option<u64>,
        reason: Rejection,
    },
    /// A valid command refused by local policy (the remote-open cap).
    CommandRefused {
        cmd_id: String,
        seq: u64,
        reason: String,
    },
    /// A credential was accepted at the locker and these compartments opened.
    PickupGranted {
        credential_id: String,
        via: CredentialKind,
        compartments: Vec<String>,
        /// True when the decision was taken from the cache (always, in v1).
        offline_capable: bool,
    },
    /// The credential of a recent pick-up was presented again within the
    /// reopen grace after its doors closed; the same compartments opened.
    PickupReopened {
        credential_id: String,
        compartments: Vec<String>,
    },
    /// A presented credential matched nothing. Carries nothing that identifies it.
    PickupDenied {
        via: CredentialKind,
    },
    /// A courier deposited a pre-advised parcel with a courier pass, decided
    /// at the locker; the door was released after this entry was written.
    DepositMade {
        pass_id: String,
        parcel_id: String,
        compartment: String,
    },
    /// A resident dropped a return or shipment into a compartment with its
    /// drop-off code, decided at the locker; written before the door is
    /// released.
    DropOffMade {
        credential_id: String,
        parcel_id: String,
        compartment: String,
    },
    /// A courier took a parcel waiting for its carrier with a courier pass,
    /// decided at the locker; written before the door is released.
    ReturnCollected {
        pass_id: String,
        parcel_id: String,
        compartment: String,
    },
    /// A courier's deposit was refused at the locker (bad pass, parcel not
    /// expected, nothing fits). Carries no pass or tracking number.
    DepositRefused {
        reason: String,
    },
    /// An access grant opened a door. Written before the door is released,
    /// so a crash at any point counts the use and opens at most once.
    AccessGranted {
        grant_id: String,
        door_id: String,
    },
    /// A PIN at a door opened nothing. `grant_id` is set only when the PIN
    /// belonged to a grant (outside its schedule, used up, …), never for an
    /// unknown PIN; `reason` is a [`cubby_domain::access::Denied`] name or
    /// `unknown_pin` / `locked_out`.
    AccessDenied {
        door_id: String,
        grant_id: Option<String>,
        reason: String,
    },
    /// The keypad is locked out after repeated failures.
    KeypadLocked {
        until_ms: Option<Millis>,
    },
    DoorOpened {
        compartment: String,
        commanded: bool,
    },
    DoorClosed {
        compartment: String,
        item_present: Option<bool>,
    },
    /// The door opened without any unlock from this agent.
    DoorForced {
        compartment: String,
    },
    /// The door has stayed open longer than allowed.
    DoorHeldOpen {
        compartment: String,
        seconds: u64,
    },
    /// An unlock was sent but the lock did not release.
    LockStuck {
        compartment: String,
    },
    /// The board stopped answering, or answered again.
    BoardFault {
        detail: String,
    },
    BoardRecovered,
    CacheInstalled {
        version: u64,
    },
    CacheRefused {
        reason: String,
    },
    MaintenanceMode {
        on: bool,
    },
}

impl EdgeEvent {
    /// A short stable name, used as the `kind` column on the server.
    pub fn kind(&self) -> &'static str {
        match self {
            EdgeEvent::Boot { .. } => "boot",
            EdgeEvent::Unlocked { .. } => "unlocked",
            EdgeEvent::CommandRejected { .. } => "command_rejected",
            EdgeEvent::CommandRefused { .. } => "command_refused",
            EdgeEvent::PickupGranted { .. } => "pickup_granted",
            EdgeEvent::PickupReopened { .. } => "pickup_reopened",
            EdgeEvent::PickupDenied { .. } => "pickup_denied",
            EdgeEvent::DepositMade { .. } => "deposit_made",
            EdgeEvent::DropOffMade { .. } => "drop_off_made",
            EdgeEvent::ReturnCollected { .. } => "return_collected",
            EdgeEvent::DepositRefused { .. } => "deposit_refused",
            EdgeEvent::AccessGranted { .. } => "access_granted",
            EdgeEvent::AccessDenied { .. } => "access_denied",
            EdgeEvent::KeypadLocked { .. } => "keypad_locked",
            EdgeEvent::DoorOpened { .. } => "door_opened",
            EdgeEvent::DoorClosed { .. } => "door_closed",
            EdgeEvent::DoorForced { .. } => "door_forced",
            EdgeEvent::DoorHeldOpen { .. } => "door_held_open",
            EdgeEvent::LockStuck { .. } => "lock_stuck",
            EdgeEvent::BoardFault { .. } => "board_fault",
            EdgeEvent::BoardRecovered => "board_recovered",
            EdgeEvent::CacheInstalled { .. } => "cache_installed",
            EdgeEvent::CacheRefused { .. } => "cache_refused",
            EdgeEvent::MaintenanceMode { .. } => "maintenance_mode",
        }
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalEntry {
    /// From 1, without gaps.
    pub seq: u64,
    pub at_ms: Millis,
    /// Hash of the entry before (hex), [`GENESIS`] for the first.
    pub prev: String,
    /// Hash of this entry (hex), see [`entry_hash`].
    pub hash: String,
    pub event: EdgeEvent,
}

/// The hash of an entry: SHA-256 over a domain tag, the previous hash, the
/// sequence number, the time and the event's JSON.
pub fn entry_hash(prev: &str, seq: u64, at_ms: Millis, event: &EdgeEvent) -> String {
    let body = serde_json::to_string(event).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(b"cubby-edge-journal-v1");
    h.update((prev.len() as u64).to_be_bytes());
    h.update(prev.as_bytes());
    h.update(seq.to_be_bytes());
    h.update(at_ms.to_be_bytes());
    h.update((body.len() as u64).to_be_bytes());
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

impl JournalEntry {
    /// Builds the entry that follows `prev_hash` at `seq`.
    pub fn next(prev_hash: &str, seq: u64, at_ms: Millis, event: EdgeEvent) -> JournalEntry {
        let hash = entry_hash(prev_hash, seq, at_ms, &event);
        JournalEntry {
            seq,
            at_ms,
            prev: prev_hash.to_string(),
            hash,
            event,
        }
    }

    /// Whether this entry's stored hash matches its content.
    pub fn is_intact(&self) -> bool {
        entry_hash(&self.prev, self.seq, self.at_ms, &self.event) == self.hash
    }
}

/// Where a chain of entries is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalBreak {
    #[error("entry {seq} does not match its hash")]
    Altered { seq: u64 },
    #[error("entry {seq} does not follow the entry before it")]
    Unlinked { seq: u64 },
    #[error("expected entry {expected}, found {found}")]
    Gap { expected: u64, found: u64 },
}

/// Checks that `entries` continue a chain whose last entry was `(head_seq, head_hash)`.
pub fn verify_continuation(
    head_seq: u64,
    head_hash: &str,
    entries: &[JournalEntry],
) -> Result<(), JournalBreak> {
    let mut seq = head_seq;
    let mut hash = head_hash.to_string();
    for e in entries {
        if e.seq != seq + 1 {
            return Err(JournalBreak::Gap {
                expected: seq + 1,
                found: e.seq,
            });
        }
        if e.prev != hash {
            return Err(JournalBreak::Unlinked { seq: e.seq });
        }
        if !e.is_intact() {
            return Err(JournalBreak::Altered { seq: e.seq });
        }
        seq = e.seq;
        hash = e.hash.clone();
    }
    Ok(())
}
