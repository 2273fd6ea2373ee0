//! Cubby's server: the HTTP API over the store, the notification outbox delivery,
//! and start-up (secret, first admin token).

pub mod api;
pub mod app;
pub mod auth;
pub mod devices;
pub mod error;
pub mod outbox;
pub mod retention;
pub mod scheduler;
pub mod web;
pub mod webhooks;
pub mod write;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use cubby_domain::credentials::{CodePolicy, WeakPolicy};
use cubby_domain::throttle::ThrottlePolicy;
use cubby_domain::{Millis, ids};
use cubby_store as db;
use cubby_store::{OpError, Store};
use rand::TryRngCore;

/// Settings that shape security decisions, checked at start-up.
#[derive(Debug, Clone)]
pub struct Policies {
    pub code_digits: u32,
    pub throttle: ThrottlePolicy,
    /// Most compartments one locker may have (each can hold one live code).
    pub max_compartments_per_locker: u32,
    /// How long an agent may decide from a credential cache without hearing
    /// from the server. Past it, doors accept offline codes only.
    pub cache_lifetime_ms: i64,
    /// How long a locker's agent may be gone (its last will, or a closed
    /// connection) before staff get a `locker_offline` incident.
    pub offline_grace_ms: i64,
    /// Where webhooks may be sent: public addresses only, unless loopback is
    /// allowed for tests (`CUBBY_WEBHOOKS_ALLOW_LOOPBACK=1`).
    pub webhook_targets: cubby_webhooks::Targets,
}

impl Default for Policies {
    fn default() -> Self {
        Self {
            code_digits: 8,
            throttle: ThrottlePolicy::default(),
            max_compartments_per_locker: 500,
            cache_lifetime_ms: devices::CACHE_LIFETIME_MS,
            offline_grace_ms: 120_000,
            webhook_targets: cubby_webhooks::Targets::PUBLIC,
        }
    }
}

impl Policies {
    pub fn code_policy(&self) -> CodePolicy {
        CodePolicy {
            digits: self.code_digits,
            keypad_daily_failure_limit: self.throttle.daily_limit,
            max_active_codes: self.max_compartments_per_locker,
        }
    }

    /// Refuses settings under the floors of security.md.
    pub fn check(&self) -> Result<(), WeakPolicy> {
        self.code_policy().check()
    }
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub secret: Arc<Vec<u8>>,
    pub policies: Arc<Policies>,
    /// The device link's shared state (broker credentials, dispatcher wake-up).
    pub devices: Arc<devices::DeviceHub>,
    /// The time the scheduler and the outbox go by.
    pub clock: Clock,
    /// Failed credentials per source (bearer tokens, console sign-ins).
    pub failures: Arc<auth::throttle::FailureThrottle>,
}

/// The seed of the VAPID key browsers subscribe to web push with, derived
/// from the server secret (so every instance signs alike).
pub fn push_key_seed(secret: &[u8]) -> [u8; 32] {
    cubby_domain::credentials::mac(secret, &["vapid-key-v1"])
}

/// The contact VAPID tokens name for push service operators.
pub const PUSH_SUBJECT: &str = "mailto:push@cubby.invalid";

/// One TLS policy: rustls with the ring provider, installed before any
/// client is built (a second call is harmless).
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Where the scheduler and the outbox read the time. Tests travel through
/// weeks with a file; production uses the system clock.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    /// Milliseconds since the epoch, as text, read at every look (the system
    /// clock while the file is missing or unreadable).
    File(PathBuf),
}

impl Clock {
    pub fn now(&self) -> Millis {
        match self {
            Clock::System => now_ms(),
            Clock::File(path) => std::fs::read_to_string(path)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or_else(now_ms),
        }
    }
}

pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// Secrets and ids come from the operating system's CSPRNG.
pub fn os_rng() -> rand::rand_core::UnwrapErr<rand::rngs::OsRng> {
    rand::rngs::OsRng.unwrap_err()
}

/// Fills `buf` from the OS CSPRNG. Failure to read it is not recoverable: nothing
/// secret may be made without it.
pub fn os_random(buf: &mut [u8]) {
    if let Err(e) = rand::rngs::OsRng.try_fill_bytes(buf) {
        panic!("the operating system's random generator failed: {e}");
    }
}

pub fn new_id(prefix: &str) -> String {
    ids::new_id(prefix, &mut os_rng())
}

/// The whole HTTP surface: the API and the web pages over the shared
/// layers. This is the composition root, the one place that names both
/// adapters.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(web::router())
        .layer(DefaultBodyLimit::max(256 * 1024))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // Pages with a policy of their own (the console) keep it.
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Loads the server secret (keys every MAC: API tokens, pick-up codes), creating
/// it on first start. `CUBBY_SECRET` (hex, ≥ 32 bytes) wins, so several instances
/// on one PostgreSQL database can share it.
pub fn load_or_create_secret(from_env: Option<&str>, file: &PathBuf) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    if let Some(hex_text) = from_env {
        let bytes = hex::decode(hex_text.trim()).context("CUBBY_SECRET must be hex")?;
        anyhow::ensure!(
            bytes.len() >= 32,
            "CUBBY_SECRET must hold at least 32 bytes (64 hex characters)"
        );
        return Ok(bytes);
    }
    if file.exists() {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let bytes =
            hex::decode(text.trim()).with_context(|| format!("{} is not hex", file.display()))?;
        anyhow::ensure!(
            bytes.len() >= 32,
            "{} holds fewer than 32 bytes",
            file.display()
        );
        return Ok(bytes);
    }
    let mut bytes = vec![0u8; 32];
    os_random(&mut bytes);
    write_private(file, hex::encode(&bytes).as_bytes())
        .with_context(|| format!("writing {}", file.display()))?;
    Ok(bytes)
}

fn write_private(path: &PathBuf, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// The shortest admin token an operator may choose.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;

/// What the first start created.
pub struct Bootstrap {
    /// The admin token in plain text when this start generated it (print it once).
    pub generated_admin_token: Option<String>,
    /// On the first start: the one-time path that enrols the first admin's
    /// passkey (the code is in the fragment). Print it once.
    pub admin_passkey_invite: Option<String>,
}

/// On an empty database: a default organisation and the first admin token, with
/// the value of `CUBBY_ADMIN_TOKEN` when given.
pub async fn bootstrap(state: &AppState, admin_token: Option<&str>) -> anyhow::Result<Bootstrap> {
    let mut conn = state.store.reader().await?;
    if db::tokens::count_tokens(&mut conn)
        .await
        .map_err(anyhow_op)?
        > 0
    {
        return Ok(Bootstrap {
            generated_admin_token: None,
            admin_passkey_invite: None,
        });
    }
    drop(conn);
    let (token, generated) = match admin_token {
        Some(t) => {
            // At least 128 bits of a random token (32 hex characters): a
            // shorter admin token is guessable (security.md).
            anyhow::ensure!(
                t.len() >= MIN_ADMIN_TOKEN_CHARS && t.len() <= 200,
                "CUBBY_ADMIN_TOKEN must be {MIN_ADMIN_TOKEN_CHARS} to 200 characters"
            );
            (t.to_string(), false)
        }
        None => (new_api_token(), true),
    };
    let mac = auth::token_mac(&state.secret, &token);
    let org_id = new_id(ids::ORG);
    let token_id = new_id(ids::TOKEN);
    let admin_id = token_id.clone();
    let now = now_ms();
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::tenants::create_org(conn, &org_id, "Default organisation", now).await?;
                db::tokens::create_token(
                    conn,
                    // The first admin's token does not expire: it is how the
                    // operator gets in at all (rotate it by issuing another).
                    &db::tokens::NewToken {
                        id: &token_id,
                        mac: &mac,
                        org_id: None,
                        role: cubby_domain::model::Role::Admin,
                        carrier: None,
                        label: "first admin",
                        expires_ms: None,
                        site_ids: None,
                    },
                    now,
                )
                .await
            })
        })
        .await
        .map_err(anyhow_op)?;
    let invite = auth::passkeys::create_invite(
        &state.store,
        &state.secret,
        auth::passkeys::Holder::Staff,
        &admin_id,
        "first start",
    )
    .await
    .map_err(anyhow_op)?;
    Ok(Bootstrap {
        generated_admin_token: generated.then_some(token),
        admin_passkey_invite: Some(invite.path),
    })
}

/// A fresh API token: `cby_` and 160 random bits.
pub fn new_api_token() -> String {
    let mut bytes = [0u8; 20];
    os_random(&mut bytes);
    format!("cby_{}", hex::encode(bytes))
}

pub fn anyhow_op(e: OpError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}
