//! `Idempotency-Key`: the first response to a key is stored in the same
//! transaction as the change it describes, so a retry either sees the change and
//! its response, or neither.

use cubby_domain::Millis;
use sqlx::AnyConnection;

use crate::OpError;
use crate::rows::{int, text};

/// A key as scoped to its caller (one API token's keys never collide with another's).
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub scope: String,
    pub key: String,
    /// Hash of method, path and body: the same key with another request is an error.
    pub fingerprint: [u8; 32],
}

/// A response stored under a key.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub status: u16,
    pub body: String,
}

/// The stored response for this key, if the request was seen before.
pub async fn recall(
    conn: &mut AnyConnection,
    key: &IdempotencyKey,
) -> Result<Option<Stored>, OpError> {
    let row = sqlx::query(
        "SELECT fingerprint, status, body FROM idempotency WHERE scope = $1 AND key = $2",
    )
    .bind(key.scope.clone())
    .bind(key.key.clone())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let fingerprint: Vec<u8> = sqlx::Row::try_get(&row, "fingerprint")?;
    if fingerprint != key.fingerprint {
        return Err(OpError::IdempotencyMismatch);
    }
    Ok(Some(Stored {
        status: u16::try_from(int(&row, "status")?).unwrap_or(200),
        body: text(&row, "body")?,
    }))
}

pub async fn remember(
    conn: &mut AnyConnection,
    key: &IdempotencyKey,
    stored: &Stored,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query("INSERT INTO idempotency (scope, key, fingerprint, status, body, created_ms) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(key.scope.clone())
        .bind(key.key.clone())
        .bind(key.fingerprint.to_vec())
        .bind(i64::from(stored.status))
        .bind(stored.body.clone())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
