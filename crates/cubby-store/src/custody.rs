//! The chain of custody: appending hash-chained events per site, reading and verifying them.

use cubby_domain::Millis;
use cubby_domain::custody::ChainBreak;
use cubby_domain::custody::CustodyEvent;
use cubby_domain::custody::verify_chain;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::OpError;
use crate::rows::{hash32, int, locked, text};

pub async fn custody_events(
    conn: &mut AnyConnection,
    parcel_id: &str,
) -> Result<Vec<CustodyEvent>, OpError> {
    let rows = sqlx::query(
        "SELECT site_id, seq, parcel_id, kind, actor, at_ms, place, reason FROM custody_events WHERE parcel_id = $1 ORDER BY seq",
    )
    .bind(parcel_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(event_row).collect::<Result<_, _>>()?)
}

fn event_row(r: &AnyRow) -> Result<CustodyEvent, sqlx::Error> {
    Ok(CustodyEvent {
        site_id: text(r, "site_id")?,
        seq: int(r, "seq")?,
        parcel_id: text(r, "parcel_id")?,
        kind: text(r, "kind")?,
        actor: text(r, "actor")?,
        at_ms: int(r, "at_ms")?,
        place: text(r, "place")?,
        reason: text(r, "reason")?,
    })
}

/// Verifies every site's custody chain; the number of events checked per site.
pub async fn verify_custody(
    conn: &mut AnyConnection,
) -> Result<Vec<(String, Result<u64, ChainBreak>)>, OpError> {
    let heads = sqlx::query("SELECT site_id, seq, hash FROM custody_heads ORDER BY site_id")
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::new();
    for h in &heads {
        let site_id = text(h, "site_id")?;
        let head = (int(h, "seq")?, hash32(h, "hash")?);
        let rows = sqlx::query(
            "SELECT site_id, seq, parcel_id, kind, actor, at_ms, place, reason, hash FROM custody_events WHERE site_id = $1 ORDER BY seq",
        )
        .bind(site_id.clone())
        .fetch_all(&mut *conn)
        .await?;
        let events = rows
            .iter()
            .map(|r| Ok((event_row(r)?, hash32(r, "hash")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let verdict = verify_chain(
            &format!("site {site_id}"),
            events.iter().map(|(e, h)| (e, *h)),
            Some(head),
        );
        out.push((site_id, verdict));
    }
    Ok(out)
}

/// When the parcel's latest custody event of this kind happened.
pub async fn last_event_at(
    conn: &mut AnyConnection,
    parcel_id: &str,
    kind: &str,
) -> Result<Option<i64>, OpError> {
    let row = sqlx::query(
        "SELECT MAX(at_ms) AS at_ms FROM custody_events WHERE parcel_id = $1 AND kind = $2",
    )
    .bind(parcel_id.to_string())
    .bind(kind.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<Option<i64>, _>("at_ms")?)
}

/// How many custody events of this kind a parcel had up to `seq` of its
/// site's chain (the n-th reminder).
pub async fn count_events_up_to(
    conn: &mut AnyConnection,
    parcel_id: &str,
    kind: &str,
    site_id: &str,
    seq: i64,
) -> Result<u32, OpError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM custody_events WHERE site_id = $1 AND parcel_id = $2 AND kind = $3 AND seq <= $4",
    )
    .bind(site_id.to_string())
    .bind(parcel_id.to_string())
    .bind(kind.to_string())
    .bind(seq)
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(int(&row, "n")?).unwrap_or(0))
}

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
