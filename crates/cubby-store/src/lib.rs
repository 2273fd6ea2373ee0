//! Durable storage for Cubby: one schema on two backends.
//!
//! * **SQLite** (default, one building on one box): WAL, `synchronous=FULL`,
//!   foreign keys on.
//! * **PostgreSQL** (many sites, several server instances).
//!
//! Both backends run the same SQL text through sqlx's `Any` driver (`$N`
//! placeholders work on both); what differs is kept in [`Backend`]: connection
//! set-up, embedded migrations (one directory per backend) and row locking. One
//! conformance suite (`tests/it`) runs against both.
//!
//! Writes go through a single writer task per [`Store`] ([`Store::transact`]):
//! jobs queued while a commit is in flight are committed together (group commit),
//! each inside its own savepoint so one job's failure never undoes another's. A job's
//! caller hears back only after the commit is on disk: acknowledged means durable.
//! Invariants that must hold across several server instances (no double booking,
//! one custody chain per site) are enforced by the database itself: primary keys and,
//! on PostgreSQL, row locks (the one helper for them is `rows::locked!`).
//!
//! One module per aggregate, its reads and writes together (`parcels`,
//! `residents`, `lockers`, `rooms`, `couriers`, `access`, `devices`, …). Every
//! function takes a connection, so it runs on a read connection or inside a
//! write job alike.

mod backend;
mod error;
mod writer;

// One module per aggregate, its reads and writes together.
pub mod access;
pub mod audit;
pub mod couriers;
pub mod custody;
pub mod devices;
pub mod idempotency;
pub mod incidents;
pub mod lockers;
pub mod outbox;
pub mod parcels;
pub mod passkeys;
pub mod points;
pub mod reports;
pub mod reservations;
pub mod residents;
pub mod retention;
pub mod rooms;
pub(crate) mod rows;
pub mod schedule;
pub mod sessions;
pub mod tenants;
pub mod tokens;
pub mod webhooks;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use tokio::sync::{mpsc, oneshot};

pub use backend::Backend;
pub use error::{OpError, StoreError};
/// The connection type write jobs receive.
pub use sqlx::AnyConnection;
pub use writer::WriterStats;

/// A boxed future borrowing the writer's connection for the length of one job.
pub type JobFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, OpError>> + Send + 'c>>;

/// Where and how to open the database.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `sqlite:///path/to/cubby.db` or `postgres://user@host/db`.
    pub url: String,
    /// Connections for reads (the writer has its own).
    pub read_connections: u32,
    /// Most jobs committed in one transaction.
    pub max_batch: usize,
}

impl StoreConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            read_connections: 8,
            max_batch: 512,
        }
    }

    /// The default SQLite database inside a data directory.
    pub fn sqlite_in(dir: &std::path::Path) -> Self {
        Self::new(format!(
            "sqlite://{}?mode=rwc",
            dir.join("cubby.db").display()
        ))
    }
}

/// Handle to the database: cheap to clone, safe to share.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    read: AnyPool,
    jobs: mpsc::Sender<writer::Job>,
    stats: writer::SharedStats,
}

impl Store {
    /// Connects, runs the embedded migrations and starts the writer task.
    pub async fn open(config: &StoreConfig) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(&config.url)?;
        let write_pool = backend
            .pool_options(1)
            .connect(&config.url)
            .await
            .map_err(StoreError::unavailable)?;
        {
            let mut conn = write_pool
                .acquire()
                .await
                .map_err(StoreError::unavailable)?;
            backend.migrate(&mut conn).await?;
        }
        let read = backend
            .pool_options(config.read_connections.max(1))
            .connect(&config.url)
            .await
            .map_err(StoreError::unavailable)?;
        let stats = writer::SharedStats::default();
        let (jobs, rx) = mpsc::channel(config.max_batch * 4);
        tokio::spawn(writer::run(
            write_pool,
            rx,
            backend,
            config.max_batch,
            stats.clone(),
        ));
        Ok(Store {
            backend,
            read,
            jobs,
            stats,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQLite: folds the write-ahead log into the database file and empties
    /// it, so that pages as they were before an erasure (delivered codes,
    /// removed personal data) leave the disk. PostgreSQL: nothing to do here.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        let mut conn = self.reader().await?;
        let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *conn)
            .await
            .map_err(StoreError::unavailable)?;
        let busy: i64 = sqlx::Row::try_get(&row, 0).map_err(StoreError::unavailable)?;
        if busy != 0 {
            return Err(StoreError::Unavailable(
                "the log is in use; checkpoint later".into(),
            ));
        }
        Ok(())
    }

    /// A pooled connection for reads.
    pub async fn reader(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StoreError> {
        self.read.acquire().await.map_err(StoreError::unavailable)
    }

    /// Runs `job` in the writer's transaction and returns its result once the
    /// transaction is committed. If the job fails, everything it did is rolled back
    /// (and nothing else is).
    pub async fn transact<T, F>(&self, job: F) -> Result<T, OpError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> JobFuture<'c, T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let boxed = writer::wrap(job, tx);
        self.jobs.send(boxed).await.map_err(|_| {
            OpError::Store(StoreError::Unavailable("the writer has stopped".into()))
        })?;
        rx.await.map_err(|_| {
            OpError::Store(StoreError::Unavailable("the writer dropped a job".into()))
        })?
    }

    /// Counters of the group-commit writer (batches, jobs, commit latency).
    pub fn writer_stats(&self) -> WriterStats {
        self.stats.snapshot()
    }

    /// Waits until every job queued so far is committed.
    pub async fn flush(&self) -> Result<(), OpError> {
        self.transact(|_| Box::pin(async { Ok(()) })).await
    }
}

/// Builds a read pool without the writer, for tools such as `cubby audit verify`
/// that only read.
pub async fn open_read_only(config: &StoreConfig) -> Result<(Backend, AnyPool), StoreError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(&config.url)?;
    let pool: AnyPool = backend
        .pool_options(1)
        .connect(&config.url)
        .await
        .map_err(StoreError::unavailable)?;
    Ok((backend, pool))
}

pub(crate) fn pool_options_base(max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
}
