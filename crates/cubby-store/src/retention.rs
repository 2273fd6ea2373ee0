//! Retention: deleting what a site's policy no longer lets it keep, once.
//!
//! Each statement below deletes (or strips the personal fields of) rows
//! older than a cutoff the domain computes from the policy
//! ([`cubby_domain::policy::Retention::cutoffs`]). Every statement only
//! touches rows it has not touched before, so a second run with the same
//! cutoffs changes nothing and the counts a run reports are exactly what it
//! removed. A run is claimed per scope in `retention_runs` inside the
//! caller's transaction, so two instances never both run it.

use std::collections::BTreeMap;

use cubby_domain::Millis;
use cubby_domain::policy::Cutoffs;
use sqlx::AnyConnection;

use crate::OpError;
use crate::rows::{hash32, int, locked};

/// Rows changed, by what they held.
pub type Purged = BTreeMap<&'static str, u64>;

/// The scope of the installation-wide deletions (stored answers, the
/// security audit log), beside one scope per site.
pub const INSTALLATION: &str = "installation";

/// Statements of one site, with `$1` the site and `$2` the cutoff of their
/// kind; order matters where rows reference each other. A parcel in a
/// terminal state (picked up, returned, cancelled) changes no more, so its
/// last update is when it left.
const PARCEL_DATA: &[(&str, &str)] = &[
    (
        "pickup_credentials",
        "DELETE FROM pickup_credentials WHERE active = 0 AND parcel_id IN \
         (SELECT id FROM parcels WHERE site_id = $1 AND state IN ('picked_up', 'returned_to_carrier', 'cancelled') AND updated_ms < $2)",
    ),
    (
        "drop_off_codes",
        "DELETE FROM drop_off_codes WHERE active = 0 AND parcel_id IN \
         (SELECT id FROM parcels WHERE site_id = $1 AND state IN ('picked_up', 'returned_to_carrier', 'cancelled') AND updated_ms < $2)",
    ),
    (
        "parcels",
        "UPDATE parcels SET resident_id = NULL, recipient_name = NULL, recipient_unit = NULL, tracking_number = '' \
         WHERE site_id = $1 AND state IN ('picked_up', 'returned_to_carrier', 'cancelled') AND updated_ms < $2 \
         AND (resident_id IS NOT NULL OR recipient_name IS NOT NULL OR recipient_unit IS NOT NULL OR tracking_number <> '')",
    ),
    (
        "notices",
        "DELETE FROM outbox WHERE site_id = $1 AND status IN ('delivered', 'failed') AND created_ms < $2",
    ),
    (
        "webhook_deliveries",
        "DELETE FROM webhook_deliveries WHERE status <> 'pending' AND event_id IN \
         (SELECT id FROM webhook_events WHERE site_id = $1 AND created_ms < $2)",
    ),
    (
        "webhook_events",
        "DELETE FROM webhook_events WHERE site_id = $1 AND created_ms < $2 \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)",
    ),
];

const ACCESS_EVENTS: &[(&str, &str)] = &[
    (
        "journal_events",
        "DELETE FROM device_events WHERE at_ms < $2 AND device_id IN \
         (SELECT d.id FROM devices d JOIN lockers l ON l.id = d.locker_id WHERE l.site_id = $1)",
    ),
    (
        "door_commands",
        "DELETE FROM device_commands WHERE created_ms < $2 AND status NOT IN ('pending', 'sent') AND device_id IN \
         (SELECT d.id FROM devices d JOIN lockers l ON l.id = d.locker_id WHERE l.site_id = $1)",
    ),
    (
        "access_uses",
        "DELETE FROM access_uses WHERE at_ms < $2 AND door_id IN (SELECT id FROM doors WHERE site_id = $1)",
    ),
    // A grant ended by its period (revoked or not: a revoked grant is
    // still refused by its period once it has passed) is kept no longer
    // than its uses.
    (
        "parcels",
        "UPDATE parcels SET room_grant_id = NULL WHERE room_grant_id IN \
         (SELECT id FROM access_grants WHERE site_id = $1 AND not_after_ms < $2)",
    ),
    (
        "access_grant_macs",
        "DELETE FROM access_grant_macs WHERE grant_id IN \
         (SELECT id FROM access_grants WHERE site_id = $1 AND not_after_ms < $2)",
    ),
    (
        "access_grants",
        "DELETE FROM access_grants WHERE site_id = $1 AND not_after_ms < $2 \
         AND NOT EXISTS (SELECT 1 FROM access_uses u WHERE u.grant_id = access_grants.id)",
    ),
    (
        "courier_passes",
        "DELETE FROM courier_passes WHERE expires_ms < $2 AND locker_id IN (SELECT id FROM lockers WHERE site_id = $1)",
    ),
    (
        "bulk_opens",
        "DELETE FROM bulk_opens WHERE expires_ms < $2 AND locker_id IN (SELECT id FROM lockers WHERE site_id = $1)",
    ),
];

/// Claims the run of `scope` due `every_ms` after the last one: true (and
/// the run recorded at `now`) when it is due. Locks the scope's row on
/// PostgreSQL, so a second instance waits and then finds it not due.
pub async fn claim_run(
    conn: &mut AnyConnection,
    scope: &str,
    now: Millis,
    every_ms: Millis,
) -> Result<bool, OpError> {
    sqlx::query(
        "INSERT INTO retention_runs (scope, ran_ms) VALUES ($1, 0) ON CONFLICT (scope) DO NOTHING",
    )
    .bind(scope.to_string())
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(locked!(
        conn,
        "SELECT ran_ms FROM retention_runs WHERE scope = $1"
    ))
    .bind(scope.to_string())
    .fetch_one(&mut *conn)
    .await?;
    let ran = int(&row, "ran_ms")?;
    if now < ran.saturating_add(every_ms) && ran <= now {
        return Ok(false);
    }
    sqlx::query("UPDATE retention_runs SET ran_ms = $1 WHERE scope = $2")
        .bind(now)
        .bind(scope.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Deletes a site's expired personal data in the caller's transaction.
pub async fn purge_site(
    conn: &mut AnyConnection,
    site_id: &str,
    cutoffs: &Cutoffs,
) -> Result<Purged, OpError> {
    let mut purged = Purged::new();
    for (statements, before) in [
        (PARCEL_DATA, cutoffs.parcels_before),
        (ACCESS_EVENTS, cutoffs.access_before),
    ] {
        for (what, sql) in statements {
            let n = sqlx::query(*sql)
                .bind(site_id.to_string())
                .bind(before)
                .execute(&mut *conn)
                .await?
                .rows_affected();
            *purged.entry(*what).or_insert(0) += n;
        }
    }
    // A resident who moved out longer ago than the parcel period is erased
    // (their waiting parcels went to the manager's queue at the move-out).
    let moved_out = sqlx::query(
        "SELECT id FROM residents WHERE site_id = $1 AND removed_ms IS NOT NULL AND removed_ms < $2 ORDER BY id",
    )
    .bind(site_id.to_string())
    .bind(cutoffs.parcels_before)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| crate::rows::text(r, "id"))
    .collect::<Result<Vec<_>, _>>()?;
    for id in &moved_out {
        crate::residents::erase(conn, id, "retention", cutoffs.parcels_before).await?;
    }
    purged.insert("moved_out_residents", moved_out.len() as u64);
    purged.retain(|_, n| *n > 0);
    Ok(purged)
}

/// Deletes stored answers to retried requests made before `answers_before`
/// and security audit events recorded before `audit_before`, moving the
/// audit floor first (the triggers refuse anything else).
pub async fn purge_installation(
    conn: &mut AnyConnection,
    answers_before: Millis,
    audit_before: Millis,
) -> Result<Purged, OpError> {
    let mut purged = Purged::new();
    let n = sqlx::query("DELETE FROM idempotency WHERE created_ms < $1")
        .bind(answers_before)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    purged.insert("stored_answers", n);
    let last = sqlx::query(
        "SELECT seq, hash FROM security_events WHERE seq = \
         (SELECT MAX(seq) FROM security_events WHERE at_ms < $1)",
    )
    .bind(audit_before)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(last) = last {
        let (seq, hash) = (int(&last, "seq")?, hash32(&last, "hash")?);
        sqlx::query("UPDATE security_floor SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(hash.to_vec())
            .execute(&mut *conn)
            .await?;
        let n = sqlx::query("DELETE FROM security_events WHERE seq <= $1")
            .bind(seq)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        purged.insert("audit_events", n);
    }
    purged.retain(|_, n| *n > 0);
    Ok(purged)
}

/// The counts as audit text: `notices=3 parcels=2`.
pub fn describe(purged: &Purged) -> String {
    purged
        .iter()
        .map(|(what, n)| format!("{what}={n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Scopes that ran at or after `since` (and so are not due): read first so
/// that a tick over many sites writes only for those that are.
pub async fn ran_since(
    conn: &mut AnyConnection,
    since: Millis,
) -> Result<std::collections::BTreeSet<String>, OpError> {
    let rows = sqlx::query("SELECT scope FROM retention_runs WHERE ran_ms >= $1")
        .bind(since)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .iter()
        .map(|r| crate::rows::text(r, "scope"))
        .collect::<Result<_, _>>()?)
}
