//! The security audit log: appending to its one hash chain, reading it back
//! by position and action, and verifying it.

use cubby_domain::Millis;
use cubby_domain::audit::AuditEvent;
use cubby_domain::custody::{ChainBreak, Chained, verify_chain_from};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::OpError;
use crate::rows::{hash32, int, locked, text};

/// An event to append; the chain gives it its place.
#[derive(Debug, Clone)]
pub struct NewAuditEvent {
    pub at_ms: Millis,
    pub action: &'static str,
    pub actor: String,
    pub source: String,
    pub target: String,
    pub org_id: Option<String>,
    pub reason: String,
}

/// Appends one event in the caller's transaction. The head row is locked on
/// PostgreSQL, so instances append one at a time and the chain has no forks.
pub async fn append(conn: &mut AnyConnection, e: &NewAuditEvent) -> Result<i64, OpError> {
    let head = sqlx::query(locked!(
        conn,
        "SELECT seq, hash FROM security_head WHERE id = 1"
    ))
    .fetch_one(&mut *conn)
    .await?;
    let (prev_seq, prev_hash) = (int(&head, "seq")?, hash32(&head, "hash")?);
    let event = AuditEvent {
        seq: prev_seq + 1,
        at_ms: e.at_ms,
        action: e.action.to_string(),
        actor: e.actor.clone(),
        source: e.source.clone(),
        target: e.target.clone(),
        org_id: e.org_id.clone().unwrap_or_default(),
        reason: e.reason.clone(),
    };
    let hash = event.chain_hash(&prev_hash);
    sqlx::query(
        "INSERT INTO security_events (seq, at_ms, action, actor, source, target, org_id, reason, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(event.seq)
    .bind(event.at_ms)
    .bind(event.action)
    .bind(event.actor)
    .bind(event.source)
    .bind(event.target)
    .bind(event.org_id)
    .bind(event.reason)
    .bind(hash.to_vec())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE security_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(event.seq)
        .bind(hash.to_vec())
        .execute(&mut *conn)
        .await?;
    Ok(event.seq)
}

fn event_row(r: &AnyRow) -> Result<AuditEvent, sqlx::Error> {
    Ok(AuditEvent {
        seq: int(r, "seq")?,
        at_ms: int(r, "at_ms")?,
        action: text(r, "action")?,
        actor: text(r, "actor")?,
        source: text(r, "source")?,
        target: text(r, "target")?,
        org_id: text(r, "org_id")?,
        reason: text(r, "reason")?,
    })
}

/// Which events to read: newest first, at most `limit`.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since_ms: Option<Millis>,
    pub action: Option<String>,
    /// Only events of this organisation (None: every organisation's and the
    /// installation's own).
    pub org_id: Option<String>,
    pub limit: i64,
}

pub async fn events(conn: &mut AnyConnection, q: &AuditQuery) -> Result<Vec<AuditEvent>, OpError> {
    let rows = sqlx::query(
        "SELECT seq, at_ms, action, actor, source, target, org_id, reason FROM security_events \
         WHERE at_ms >= $1 AND ($2 = '' OR action = $2) AND ($3 = '' OR org_id = $3) \
         ORDER BY seq DESC LIMIT $4",
    )
    .bind(q.since_ms.unwrap_or(0))
    .bind(q.action.clone().unwrap_or_default())
    .bind(q.org_id.clone().unwrap_or_default())
    .bind(q.limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(event_row).collect::<Result<_, _>>()?)
}

/// Verifies the chain from its retention floor to its head: the number of
/// events checked.
pub async fn verify(conn: &mut AnyConnection) -> Result<Result<u64, ChainBreak>, OpError> {
    let head = sqlx::query("SELECT seq, hash FROM security_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let head = (int(&head, "seq")?, hash32(&head, "hash")?);
    let floor = sqlx::query("SELECT seq, hash FROM security_floor WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let floor = (int(&floor, "seq")?, hash32(&floor, "hash")?);
    let rows = sqlx::query(
        "SELECT seq, at_ms, action, actor, source, target, org_id, reason, hash FROM security_events ORDER BY seq",
    )
    .fetch_all(&mut *conn)
    .await?;
    let events = rows
        .iter()
        .map(|r| Ok((event_row(r)?, hash32(r, "hash")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(verify_chain_from(
        "security audit",
        events.iter().map(|(e, h)| (e, *h)),
        floor,
        Some(head),
    ))
}
