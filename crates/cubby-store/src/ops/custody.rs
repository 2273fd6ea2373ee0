use cubby_domain::Millis;
use cubby_domain::custody::CustodyEvent;
use sqlx::AnyConnection;

use crate::OpError;
use crate::ops::locked;
use crate::queries::{hash32, int};

/// Appends one event to its site's chain and moves the chain head. The head row is
/// locked on PostgreSQL, so instances append to one site's chain one at a time.
#[allow(clippy::too_many_arguments)]
pub async fn append_event(
    conn: &mut AnyConnection,
    site_id: &str,
    parcel_id: &str,
    kind: &str,
    actor: &str,
    at_ms: Millis,
    place: &str,
    reason: &str,
) -> Result<i64, OpError> {
    let head = sqlx::query(locked!(
        conn,
        "SELECT seq, hash FROM custody_heads WHERE site_id = $1"
    ))
    .bind(site_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(OpError::NotFound { what: "site" })?;
    let (prev_seq, prev_hash) = (int(&head, "seq")?, hash32(&head, "hash")?);
    let event = CustodyEvent {
        site_id: site_id.to_string(),
        seq: prev_seq + 1,
        parcel_id: parcel_id.to_string(),
        kind: kind.to_string(),
        actor: actor.to_string(),
        at_ms,
        place: place.to_string(),
        reason: reason.to_string(),
    };
    let hash = event.chain_hash(&prev_hash);
    sqlx::query(
        "INSERT INTO custody_events (site_id, seq, parcel_id, kind, actor, at_ms, place, reason, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(event.site_id)
    .bind(event.seq)
    .bind(event.parcel_id)
    .bind(event.kind)
    .bind(event.actor)
    .bind(event.at_ms)
    .bind(event.place)
    .bind(event.reason)
    .bind(hash.to_vec())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE custody_heads SET seq = $1, hash = $2 WHERE site_id = $3")
        .bind(event.seq)
        .bind(hash.to_vec())
        .bind(site_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(event.seq)
}
