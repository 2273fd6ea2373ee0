//! The integration test binary of `cubby-protocol`: command verification,
//! cache installation, journal chains, topic confinement and the documented
//! examples in `docs/device-protocol.md`.

mod cache;
mod command;
mod docs;
mod journal;
mod offline;
mod topics;

use cubby_protocol::signing::signing_key;
use ed25519_dalek::SigningKey;

pub fn server_key() -> SigningKey {
    signing_key(&[7u8; 32])
}

pub fn other_key() -> SigningKey {
    signing_key(&[9u8; 32])
}
