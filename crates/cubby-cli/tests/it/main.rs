//! End-to-end tests: the real `cubby` binary over real sockets, on SQLite and on
//! PostgreSQL (the PostgreSQL tier skips locally without a server, never in CI).

mod access;
mod audit;
mod carriers;
mod compliance;
mod console_browser;
mod demo;
mod edge;
mod email;
mod flow;
mod incidents;
mod kiosk_browser;
mod plan;
mod planning;
mod points;
mod policies;
mod privacy;
mod push;
mod readers;
mod retention;
mod returns;
mod self_service;
mod staff_passkeys;
mod trust;
mod webhooks;

use std::path::Path;

use cubby_testkit::CubbyProcess;
use serde_json::Value;

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_cubby"))
}

pub use cubby_testkit::world::{World, parcel, small_bank};

/// A seeded site on a running server (see [`cubby_testkit::world::seed`]).
pub async fn seed(p: &CubbyProcess, compartments: Value) -> World {
    let invite = p
        .admin_passkey_invite
        .as_deref()
        .expect("a fresh server has a first-start invitation");
    cubby_testkit::world::seed(&p.base, invite, compartments).await
}

/// Wall-clock time in milliseconds, as the server sees it.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
