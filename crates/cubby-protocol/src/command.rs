//! Unlock commands and the rules a device applies before it moves a lock.
//!
//! A command is signed by the server, addressed to one device, valid for at most
//! [`MAX_LIFETIME_MS`], and carries a unique id and a per-device sequence number
//! that only grows. [`CommandGuard`] is the device's memory of what it accepted:
//! a redelivery of an accepted command (MQTT QoS 1 may deliver twice) is answered
//! again without moving anything; any other old sequence number is a replay.

use std::collections::VecDeque;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::signing::{Signed, verify};

/// The longest a command may be valid for.
pub const MAX_LIFETIME_MS: Millis = 30_000;
/// How far the device's clock may be behind the server's.
pub const MAX_CLOCK_SKEW_MS: Millis = 5_000;
/// How many accepted command ids the guard remembers for duplicate detection.
pub const REMEMBERED_COMMANDS: usize = 1024;

/// Why a compartment is being opened; the device treats them differently (only
/// opening an occupied compartment counts against the remote-open cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A courier deposit the server allocated.
    Deposit,
    /// Staff opening a compartment from the console, with a reason.
    Staff,
    /// A carrier collecting a return.
    Return,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum Action {
    /// Release one compartment's lock for one opening.
    Unlock {
        compartment: String,
        purpose: Purpose,
    },
}

/// The signed body of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Command {
    pub device_id: String,
    /// Unique per command and kept across retries: the deduplication key.
    pub cmd_id: String,
    /// The operation this command serves (for example a deposit), for
    /// correlating replies and journal entries; several commands may share one.
    pub tx_id: String,
    /// Per-device, strictly increasing.
    pub seq: u64,
    pub issued_ms: Millis,
    pub expires_ms: Millis,
    pub action: Action,
}

/// What the device did with a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome", deny_unknown_fields)]
pub enum Outcome {
    /// The lock was released.
    Done,
    /// The command itself was not acceptable.
    Rejected { reason: Rejection },
    /// The command was acceptable but local policy refused it.
    Refused { reason: String },
    /// The board did not do what it was told.
    Failed { reason: String },
}

/// The device's answer, published on the reply channel. (No
/// `deny_unknown_fields` here: serde cannot combine it with `flatten`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Absent when the command could not even be read.
    pub cmd_id: Option<String>,
    pub tx_id: Option<String>,
    pub seq: Option<u64>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// True when this answers a redelivery of a command already handled.
    #[serde(default)]
    pub duplicate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    BadSignature,
    Malformed,
    WrongDevice,
    Expired,
    NotYetValid,
    LifetimeTooLong,
    Replayed,
}

impl Rejection {
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::BadSignature => "bad_signature",
            Rejection::Malformed => "malformed",
            Rejection::WrongDevice => "wrong_device",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::LifetimeTooLong => "lifetime_too_long",
            Rejection::Replayed => "replayed",
        }
    }
}

/// The guard's decision on one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// New and valid: act on it, then call [`CommandGuard::record`].
    Execute(Command),
    /// Already handled: send this reply again and do nothing else.
    Duplicate(Reply),
    /// Refuse; nothing moves.
    Reject {
        cmd_id: Option<String>,
        seq: Option<u64>,
        reason: Rejection,
    },
}

/// The device's memory of accepted commands. Its state (`last_seq` and the
/// recent replies) must be rebuilt from the durable journal after a restart,
/// otherwise a replay after reboot would pass.
#[derive(Debug, Clone, Default)]
pub struct CommandGuard {
    last_seq: u64,
    recent: VecDeque<(String, Reply)>,
}

impl CommandGuard {
    pub fn new() -> CommandGuard {
        CommandGuard::default()
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Checks one delivery. `raw` is the message exactly as received.
    pub fn check(&self, raw: &[u8], key: &VerifyingKey, device_id: &str, now: Millis) -> Verdict {
        let reject = |cmd: Option<&Command>, reason| Verdict::Reject {
            cmd_id: cmd.map(|c| c.cmd_id.clone()),
            seq: cmd.map(|c| c.seq),
            reason,
        };
        let Ok(signed) = crate::signing::parse::<Signed>(raw) else {
            return reject(None, Rejection::Malformed);
        };
        let cmd: Command = match verify(&signed, key) {
            Ok(c) => c,
            Err(crate::ProtocolError::BadSignature) => {
                return reject(None, Rejection::BadSignature);
            }
            Err(_) => return reject(None, Rejection::Malformed),
        };
        if cmd.device_id != device_id {
            return reject(Some(&cmd), Rejection::WrongDevice);
        }
        if let Some((_, reply)) = self.recent.iter().find(|(id, _)| *id == cmd.cmd_id) {
            let mut again = reply.clone();
            again.duplicate = true;
            return Verdict::Duplicate(again);
        }
        if cmd.expires_ms - cmd.issued_ms > MAX_LIFETIME_MS || cmd.expires_ms < cmd.issued_ms {
            return reject(Some(&cmd), Rejection::LifetimeTooLong);
        }
        if now > cmd.expires_ms {
            return reject(Some(&cmd), Rejection::Expired);
        }
        if cmd.issued_ms > now + MAX_CLOCK_SKEW_MS {
            return reject(Some(&cmd), Rejection::NotYetValid);
        }
        if cmd.seq <= self.last_seq {
            return reject(Some(&cmd), Rejection::Replayed);
        }
        Verdict::Execute(cmd)
    }

    /// Remembers an executed command and the reply that was sent for it.
    pub fn record(&mut self, seq: u64, reply: Reply) {
        self.last_seq = self.last_seq.max(seq);
        if let Some(id) = reply.cmd_id.clone() {
            if self.recent.len() >= REMEMBERED_COMMANDS {
                self.recent.pop_front();
            }
            self.recent.push_back((id, reply));
        }
    }
}
