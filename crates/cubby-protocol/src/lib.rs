//! The device protocol between the Cubby server and locker agents, version 1.
//!
//! Shared by both sides so that they cannot drift: topic names, message bodies,
//! signed unlock commands and their verification, the signed credential cache and
//! the agent's hash-chained journal. Pure: no IO, time arrives as milliseconds.
//!
//! The contract, with example payloads, is `docs/device-protocol.md`; the tests
//! of `cubby-protocol` parse every example in it.

pub mod cache;
pub mod command;
pub mod journal;
pub mod messages;
pub mod offline;
pub mod phone;
pub mod signing;
pub mod topics;

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// The protocol version carried in every topic.
pub const VERSION: &str = "v1";

/// Largest message either side accepts, in bytes. The broker enforces a cap too.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("message is larger than {MAX_MESSAGE_BYTES} bytes")]
    TooLarge,
    #[error("malformed message: {0}")]
    Malformed(String),
    #[error("signature does not verify")]
    BadSignature,
}

/// Equality that takes the same time wherever the inputs differ (for MACs and
/// secrets). Lengths are not secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
