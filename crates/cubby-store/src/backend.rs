use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;

use crate::StoreError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The two supported databases and everything that differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::BadUrl(format!(
                "{}… (expected sqlite:// or postgres://)",
                url.chars().take(12).collect::<String>()
            )))
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    pub(crate) fn pool_options(&self, max: u32) -> AnyPoolOptions {
        let base = crate::pool_options_base(max);
        match self {
            // secure_delete: what is deleted (codes, personal data) is overwritten,
            // not left in free pages.
            // Durability: WAL + synchronous=FULL makes every commit fsync the WAL
            // before it returns. busy_timeout lets a second process (or instance)
            // wait for the write lock instead of failing.
            Backend::Sqlite => base.after_connect(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute(
                        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA secure_delete=ON;",
                    )
                    .await?;
                    Ok(())
                })
            }),
            Backend::Postgres => base,
        }
    }

    pub(crate) async fn migrate(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        let migrator = match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(conn)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// The statement that opens a write transaction. SQLite takes the write lock up
    /// front (IMMEDIATE) so two processes never deadlock upgrading a read lock.
    pub(crate) fn begin_sql(&self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }
}
