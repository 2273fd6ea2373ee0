//! The server in the test's own process: a fresh SQLite store in a temporary
//! directory, the router served on a loopback port, the first admin token
//! bootstrapped. No broker, no agents, no outbox delivery: the checks here are
//! of the HTTP surface and the use cases behind it. What needs processes
//! (kill -9, brokers, agents, browsers) stays in `cubby-cli/tests/it`.

use std::sync::Arc;

use cubby_server::devices::DeviceHub;
use cubby_server::{AppState, Clock, Policies};
use cubby_store::{Store, StoreConfig};
use cubby_testkit::ADMIN_TOKEN;

pub struct App {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The data directory (SQLite files, as on a server's disk).
    pub data_dir: std::path::PathBuf,
    /// The first admin's one-time passkey enrolment path (`…#code=…`).
    pub admin_passkey_invite: String,
    server: tokio::task::JoinHandle<()>,
    store: Store,
    _dir: tempfile::TempDir,
}

impl App {
    /// A fresh server on SQLite.
    pub async fn start() -> App {
        let dir = tempfile::Builder::new()
            .prefix("cubby-server-it-")
            .tempdir()
            .expect("temp dir");
        let store = Store::open(&StoreConfig::sqlite_in(dir.path()))
            .await
            .expect("open store");
        let state = AppState {
            store: store.clone(),
            secret: Arc::new(vec![7u8; 32]),
            policies: Arc::new(Policies {
                webhook_targets: cubby_webhooks::Targets::WITH_LOOPBACK,
                ..Policies::default()
            }),
            devices: DeviceHub::new(),
            failures: Default::default(),
            clock: Clock::System,
        };
        let boot = cubby_server::bootstrap(&state, Some(ADMIN_TOKEN))
            .await
            .expect("bootstrap");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let app = cubby_server::router(state);
        let server = tokio::spawn(async move {
            let _ = cubby_http::serve(
                listener,
                app,
                cubby_http::Limits::default(),
                std::future::pending(),
            )
            .await;
        });
        App {
            base: format!("http://{addr}"),
            data_dir: dir.path().to_path_buf(),
            admin_passkey_invite: boot.admin_passkey_invite.expect("first-start invite"),
            server,
            store,
            _dir: dir,
        }
    }

    /// The store, for checks the API does not show.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Unlocks queued for lockers' agents and not yet answered.
    pub async fn open_unlocks(&self) -> usize {
        let mut conn = self.store.reader().await.expect("reader");
        cubby_store::devices::open_commands(&mut conn)
            .await
            .expect("commands")
            .len()
    }

    /// The security audit log as stored, oldest first: `(action, source)`.
    pub async fn audit_events(&self) -> Vec<(String, String)> {
        let mut conn = self.store.reader().await.expect("reader");
        let mut events = cubby_store::audit::events(
            &mut conn,
            &cubby_store::audit::AuditQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .expect("audit events");
        events.reverse();
        events.into_iter().map(|e| (e.action, e.source)).collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.server.abort();
    }
}
