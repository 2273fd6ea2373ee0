//! Cubby's domain: the rules of parcel custody, free of IO.
//!
//! Nothing in this crate touches a clock, a disk, a socket or the OS random
//! generator: time arrives as [`Millis`] and randomness as a `rand::RngCore`
//! supplied by the caller, so every rule here is deterministic under test.
//! The tidy test in `tests/it` enforces that the dependency closure stays free of
//! tokio, sqlx and axum.

pub mod access;
pub mod allocation;
pub mod audit;
pub mod capacity;
pub mod codes;
pub mod credentials;
pub mod custody;
pub mod dims;
pub mod ids;
pub mod impact;
pub mod incident;
pub mod lifecycle;
pub mod model;
pub mod overflow;
pub mod points;
pub mod policy;
pub mod reservation;
pub mod throttle;
pub mod tracking;

/// Milliseconds since the Unix epoch (UTC). Passed in, never read from a clock here.
pub type Millis = i64;
