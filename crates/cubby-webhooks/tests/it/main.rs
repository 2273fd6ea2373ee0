//! Integration tests of cubby-webhooks (one binary).

mod delivery;
mod payloads;
mod properties;
mod reference;

use chrono::{DateTime, TimeZone, Utc};
use cubby_webhooks::Secret;
use rand::SeedableRng;
use rand::rngs::StdRng;

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub fn secrets(seed: u64, n: usize) -> Vec<Secret> {
    let mut r = rng(seed);
    (0..n).map(|_| Secret::generate(&mut r)).collect()
}

pub fn at(unix: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(unix, 0).single().expect("valid time")
}
