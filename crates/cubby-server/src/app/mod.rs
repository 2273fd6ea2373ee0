//! Use cases: one module per aggregate or capability, with typed commands and
//! results. The HTTP adapters (`api/`, `web/`), the scheduler and the device
//! link call these and nothing else for behaviour; they only parse, check the
//! caller's shape of request and render.
//!
//! Every write goes through [`commit`] or [`commit_idempotent`]: the job runs in
//! one durable transaction and reports what it changed that lockers must learn
//! of ([`Changes`]); once committed, the device hub is told. Nobody has to
//! remember to tell it.

pub mod access;
pub mod analytics;
pub mod audit;
pub mod carrier_reports;
pub mod couriers;
pub mod credentials;
pub mod devices;
pub mod doors;
pub mod incidents;
pub mod lockers;
pub mod notices;
pub mod parcels;
pub mod places;
pub mod points;
pub mod reservations;
pub mod residents;
pub mod sending;
pub mod sites;
pub mod tokens;

use axum::http::StatusCode;
use cubby_store as db;
use cubby_store::idempotency::IdempotencyKey;
use cubby_store::idempotency::Stored;
use cubby_store::{AnyConnection, JobFuture, OpError, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::{AppState, now_ms};

/// What a use case fails with: a stable code, a status and a message.
pub type AppError = ApiError;
pub type AppResult<T> = Result<T, AppError>;

/// Whose credential caches (and command queues) a write changed.
#[derive(Debug, Default, Clone)]
#[must_use = "a write's changes must reach the device hub"]
pub struct Changes {
    lockers: Vec<String>,
    sites: Vec<String>,
    devices: Vec<String>,
    commands: bool,
}

impl Changes {
    pub fn none() -> Self {
        Self::default()
    }
    /// The credentials cached at one locker changed.
    pub fn locker(id: impl Into<String>) -> Self {
        Self::none().and_locker(id)
    }
    /// Something every locker of a site caches changed (pre-advised parcels,
    /// door grants).
    pub fn site(id: impl Into<String>) -> Self {
        Self::none().and_site(id)
    }
    /// A command was queued for a locker.
    pub fn command() -> Self {
        Self {
            commands: true,
            ..Self::default()
        }
    }
    pub fn and_locker(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        if !id.is_empty() {
            self.lockers.push(id);
        }
        self
    }
    pub fn and_site(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        if !id.is_empty() {
            self.sites.push(id);
        }
        self
    }
    /// The cache of one controller changed (door grants it carries).
    pub fn and_device(mut self, id: impl Into<String>) -> Self {
        self.devices.push(id.into());
        self
    }
    pub fn and_command(mut self) -> Self {
        self.commands = true;
        self
    }

    /// Tells the device hub: the caches of these lockers are rebuilt at once.
    fn tell(self, state: &AppState) {
        for id in &self.lockers {
            state.devices.locker_changed(id);
        }
        for id in &self.sites {
            state.devices.site_changed(id);
        }
        for id in &self.devices {
            state.devices.device_changed(id);
        }
        if self.commands {
            state.devices.poke();
        }
    }
}

/// Runs `job` in one durable transaction; once it has committed, tells the
/// device hub what the job changed.
pub async fn commit<T, F>(state: &AppState, job: F) -> AppResult<T>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> JobFuture<'c, (T, Changes)> + Send + 'static,
{
    let (value, changes) = state.store.transact(job).await?;
    changes.tell(state);
    Ok(value)
}

/// The answer of an idempotent write: the value, and the JSON body as first
/// stored (a replay answers with exactly that body).
#[derive(Debug)]
pub struct Committed<T> {
    pub status: StatusCode,
    pub value: T,
    pub body: String,
    /// The request was seen before: nothing ran this time.
    pub replayed: bool,
}

/// Runs `job` in one durable transaction, as [`commit`] does. With an
/// idempotency key, a repeat of the same request gets the first answer
/// without running the job again; the answer is stored in the same
/// transaction as the change it describes.
pub async fn commit_idempotent<T, F>(
    state: &AppState,
    key: Option<IdempotencyKey>,
    status: StatusCode,
    job: F,
) -> AppResult<Committed<T>>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> JobFuture<'c, (T, Changes)> + Send + 'static,
{
    let (stored, fresh) = commit_stored(state, key, status, job).await?;
    let replayed = fresh.is_none();
    let value = match fresh {
        Some(v) => v,
        None => serde_json::from_str(&stored.body).map_err(|e| {
            ApiError::from(OpError::Store(StoreError::Corrupt(format!(
                "a stored idempotent answer no longer reads: {e}"
            ))))
        })?,
    };
    Ok(Committed {
        status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
        value,
        body: stored.body,
        replayed,
    })
}

/// The idempotent commit itself: the answer as stored, and the fresh value
/// unless this was a replay.
pub async fn commit_stored<T, F>(
    state: &AppState,
    key: Option<IdempotencyKey>,
    status: StatusCode,
    job: F,
) -> AppResult<(Stored, Option<T>)>
where
    T: Serialize + Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> JobFuture<'c, (T, Changes)> + Send + 'static,
{
    commit_withholding(state, key, status, job, |value| serde_json::to_value(value)).await
}

/// As [`commit_stored`], for an answer that carries a secret shown once: the
/// idempotency record keeps `withhold(value)` (the answer without its
/// secret), never the secret, and a replay answers with that.
pub async fn commit_withholding<T, F>(
    state: &AppState,
    key: Option<IdempotencyKey>,
    status: StatusCode,
    job: F,
    withhold: fn(&T) -> Result<serde_json::Value, serde_json::Error>,
) -> AppResult<(Stored, Option<T>)>
where
    T: Serialize + Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> JobFuture<'c, (T, Changes)> + Send + 'static,
{
    let now = now_ms();
    let unreadable = |e: serde_json::Error| OpError::Store(StoreError::Unavailable(e.to_string()));
    let (answer, fresh, changes) = state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                if let Some(k) = &key
                    && let Some(previous) = db::idempotency::recall(conn, k).await?
                {
                    return Ok((previous, None, Changes::none()));
                }
                let (value, changes) = job(&mut *conn).await?;
                let answer = Stored {
                    status: status.as_u16(),
                    body: serde_json::to_string(&value).map_err(unreadable)?,
                };
                if let Some(k) = &key {
                    let kept = Stored {
                        status: answer.status,
                        body: withhold(&value)
                            .and_then(|v| serde_json::to_string(&v))
                            .map_err(unreadable)?,
                    };
                    db::idempotency::remember(conn, k, &kept, now).await?;
                }
                Ok((answer, Some(value), changes))
            })
        })
        .await?;
    changes.tell(state);
    Ok((answer, fresh))
}

// The answer of a write that has nothing else to say (a plain comment: a doc
// comment would change the published schema).
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Done {
    pub ok: bool,
}

/// Path ids of the wrong shape are simply not found (no parsing errors leak).
pub fn check_id(prefix: &str, id: &str, what: &str) -> AppResult<()> {
    if cubby_domain::ids::looks_like(prefix, id) {
        Ok(())
    } else {
        Err(ApiError::not_found(what))
    }
}
