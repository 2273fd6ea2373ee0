//! Offline door codes: the fallback for a door whose controller has been cut
//! off from the server for longer than its credential cache lasts.
//!
//! The server derives a key per door and hands it to the door's controller
//! inside the signed cache. A code carries its own validity window and a MAC
//! under that key, so the controller can check it with nothing else:
//!
//! ```text
//!   HHH DD S MMMMMMMM      14 digits
//!   HHH       start hour (hours since the Unix epoch) modulo 1000
//!   DD        length in hours, 01..24
//!   S         slot 0..9 (up to ten codes per door, start hour and length)
//!   MMMMMMMM  HMAC-SHA256(door key, start hour, length, slot) mod 10^8
//! ```
//!
//! A code is valid from its start hour for `DD` hours, never longer than 24.
//! While the controller's cache is valid the code is an ordinary grant in it
//! (revocable like any other); only past the cache's expiry is the code
//! checked on its own, and then it cannot be revoked: that is the price of a
//! door that works offline, and why codes last a day at most.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Millis;

/// Digits of an offline code.
pub const OFFLINE_CODE_DIGITS: usize = 14;
/// The longest an offline code lasts.
pub const MAX_OFFLINE_HOURS: u32 = 24;
/// Codes per door, start hour and length.
pub const OFFLINE_SLOTS: u8 = 10;
const HOUR_MS: Millis = 3_600_000;

/// The window and identity of a valid offline code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineCode {
    pub start_hour: i64,
    pub hours: u32,
    pub slot: u8,
    /// The grant the server stored for this code (same derivation on both
    /// sides), so that uses journalled offline land on it.
    pub grant_id: String,
    pub not_before_ms: Millis,
    pub not_after_ms: Millis,
}

fn mac(door_key: &[u8], label: &[u8], start_hour: i64, hours: u32, slot: u8) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(door_key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(label);
    m.update(&start_hour.to_be_bytes());
    m.update(&hours.to_be_bytes());
    m.update(&[slot]);
    m.finalize().into_bytes().into()
}

fn check_digits(door_key: &[u8], start_hour: i64, hours: u32, slot: u8) -> u64 {
    let full = mac(door_key, b"cubby-offline-code-v1", start_hour, hours, slot);
    let mut first = [0u8; 8];
    first.copy_from_slice(&full[..8]);
    u64::from_be_bytes(first) % 100_000_000
}

/// The grant id of a code: `agr_` and 32 hex digits, like every grant id.
pub fn offline_grant_id(door_key: &[u8], start_hour: i64, hours: u32, slot: u8) -> String {
    let full = mac(door_key, b"cubby-offline-grant-v1", start_hour, hours, slot);
    format!("agr_{}", hex::encode(&full[..16]))
}

/// Makes the code for a window. `hours` is clamped to 1..=24 and `slot` to
/// 0..=9 by the caller's checks; out of range values are refused here.
pub fn offline_code(door_key: &[u8], start_hour: i64, hours: u32, slot: u8) -> Option<String> {
    if !(1..=MAX_OFFLINE_HOURS).contains(&hours) || slot >= OFFLINE_SLOTS || start_hour < 0 {
        return None;
    }
    Some(format!(
        "{:03}{:02}{}{:08}",
        start_hour % 1000,
        hours,
        slot,
        check_digits(door_key, start_hour, hours, slot)
    ))
}

/// The window of a code typed at `now`, if it is genuine for this door and
/// valid now. The start hour is the latest one at or before now with the
/// code's three digits, so a code is never valid before its start.
pub fn verify_offline_code(door_key: &[u8], code: &str, now: Millis) -> Option<OfflineCode> {
    if code.len() != OFFLINE_CODE_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hhh: i64 = code[0..3].parse().ok()?;
    let hours: u32 = code[3..5].parse().ok()?;
    let slot: u8 = code[5..6].parse().ok()?;
    let given: u64 = code[6..14].parse().ok()?;
    if !(1..=MAX_OFFLINE_HOURS).contains(&hours) || now < 0 {
        return None;
    }
    let now_hour = now / HOUR_MS;
    let start_hour = now_hour - (now_hour - hhh).rem_euclid(1000);
    let not_before_ms = start_hour * HOUR_MS;
    let not_after_ms = (start_hour + i64::from(hours)) * HOUR_MS;
    if now < not_before_ms || now >= not_after_ms {
        return None;
    }
    let expected = check_digits(door_key, start_hour, hours, slot);
    if !crate::constant_time_eq(&expected.to_be_bytes(), &given.to_be_bytes()) {
        return None;
    }
    Some(OfflineCode {
        start_hour,
        hours,
        slot,
        grant_id: offline_grant_id(door_key, start_hour, hours, slot),
        not_before_ms,
        not_after_ms,
    })
}
