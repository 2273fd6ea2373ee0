//! Community policy versions and the durable per-parcel schedule (reminders, expiry).

use cubby_domain::Millis;
use cubby_domain::policy::SitePolicy;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::OpError;
use crate::parcels;
use crate::rows::{int, locked, text};

/// Stores a new version of a site's policy; returns its version number.
pub async fn save_policy(
    conn: &mut AnyConnection,
    site_id: &str,
    policy: &SitePolicy,
    actor: &str,
    now: Millis,
) -> Result<u32, OpError> {
    policy.validate()?;
    let row = sqlx::query(locked!(conn, "SELECT id FROM sites WHERE id = $1"))
        .bind(site_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if row.is_none() {
        return Err(OpError::NotFound { what: "site" });
    }
    let (current, _) = site_policy(conn, site_id).await?;
    let version = current + 1;
    let body = serde_json::to_string(policy).map_err(|e| {
        OpError::Invalid(cubby_domain::model::Invalid::new("policy", e.to_string()))
    })?;
    sqlx::query(
        "INSERT INTO site_policies (site_id, version, body, created_ms, created_by) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(site_id.to_string())
    .bind(i64::from(version))
    .bind(body)
    .bind(now)
    .bind(actor.to_string())
    .execute(&mut *conn)
    .await?;
    // Parcels already waiting follow the new policy from now on.
    sqlx::query(
        "UPDATE parcel_schedule SET next_ms = $1 WHERE site_id = $2 AND next_ms IS NOT NULL",
    )
    .bind(now)
    .bind(site_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(version)
}

/// The site's current policy and its version (version 0: the defaults, never
/// changed).
pub async fn site_policy(
    conn: &mut AnyConnection,
    site_id: &str,
) -> Result<(u32, SitePolicy), OpError> {
    let row = sqlx::query(
        "SELECT version, body FROM site_policies WHERE site_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(site_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        None => Ok((0, SitePolicy::default())),
        Some(r) => {
            let body = text(&r, "body")?;
            let policy = serde_json::from_str(&body).map_err(|e| {
                OpError::Store(crate::StoreError::Corrupt(format!(
                    "policy of {site_id}: {e}"
                )))
            })?;
            Ok((u32::try_from(int(&r, "version")?).unwrap_or(0), policy))
        }
    }
}

/// A parcel in a compartment the scheduler has not seen yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unscheduled {
    pub parcel_id: String,
    pub site_id: String,
    pub deposited_ms: Millis,
}

/// Parcels waiting for their recipient without a schedule row yet.
pub async fn unscheduled_parcels(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<Unscheduled>, OpError> {
    let rows = sqlx::query(
        "SELECT p.id, p.site_id, \
         (SELECT MIN(e.at_ms) FROM custody_events e WHERE e.parcel_id = p.id AND e.kind = 'deposited') AS deposited_ms \
         FROM parcels p LEFT JOIN parcel_schedule s ON s.parcel_id = p.id \
         WHERE s.parcel_id IS NULL AND p.state IN ('deposited', 'on_hold') ORDER BY p.updated_ms LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        // A parcel deposited without a recipient and assigned later has no
        // 'deposited' event: its assignment time counts (updated_ms).
        let deposited: Option<i64> = r.try_get("deposited_ms")?;
        let deposited_ms = match deposited {
            Some(ms) => ms,
            None => {
                let id = text(r, "id")?;
                let p = parcels::parcel(conn, &id)
                    .await?
                    .ok_or(OpError::NotFound { what: "parcel" })?;
                p.updated_ms
            }
        };
        out.push(Unscheduled {
            parcel_id: text(r, "id")?,
            site_id: text(r, "site_id")?,
            deposited_ms,
        });
    }
    Ok(out)
}

/// Where the scheduler stands with one parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRow {
    pub parcel_id: String,
    pub site_id: String,
    pub deposited_ms: Millis,
    pub next_ms: Option<Millis>,
    pub reminded: Vec<String>,
    pub escalated: bool,
    pub hold_ms: Millis,
    pub hold_since_ms: Option<Millis>,
}

pub async fn insert_schedule(conn: &mut AnyConnection, row: &ScheduleRow) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO parcel_schedule (parcel_id, site_id, deposited_ms, next_ms, reminded, escalated, hold_ms, hold_since_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (parcel_id) DO NOTHING",
    )
    .bind(row.parcel_id.clone())
    .bind(row.site_id.clone())
    .bind(row.deposited_ms)
    .bind(row.next_ms)
    .bind(serde_json::to_string(&row.reminded).unwrap_or_else(|_| "[]".into()))
    .bind(i64::from(row.escalated))
    .bind(row.hold_ms)
    .bind(row.hold_since_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Parcels whose next step is due, earliest first.
pub async fn due_parcels(
    conn: &mut AnyConnection,
    now: Millis,
    limit: i64,
) -> Result<Vec<String>, OpError> {
    let rows = sqlx::query(
        "SELECT parcel_id FROM parcel_schedule WHERE next_ms IS NOT NULL AND next_ms <= $1 ORDER BY next_ms LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| text(r, "parcel_id"))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// Reads and locks a parcel's schedule row for the rest of the transaction
/// (PostgreSQL: `FOR UPDATE`; SQLite has one writer).
pub async fn lock_schedule(
    conn: &mut AnyConnection,
    parcel_id: &str,
) -> Result<Option<ScheduleRow>, OpError> {
    let row = sqlx::query(locked!(
        conn,
        "SELECT parcel_id, site_id, deposited_ms, next_ms, reminded, escalated, hold_ms, hold_since_ms \
         FROM parcel_schedule WHERE parcel_id = $1"
    ))
    .bind(parcel_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else {
        return Ok(None);
    };
    Ok(Some(ScheduleRow {
        parcel_id: text(&r, "parcel_id")?,
        site_id: text(&r, "site_id")?,
        deposited_ms: int(&r, "deposited_ms")?,
        next_ms: r.try_get::<Option<i64>, _>("next_ms")?,
        reminded: serde_json::from_str(&text(&r, "reminded")?).unwrap_or_default(),
        escalated: int(&r, "escalated")? != 0,
        hold_ms: int(&r, "hold_ms")?,
        hold_since_ms: r.try_get::<Option<i64>, _>("hold_since_ms")?,
    }))
}

pub async fn update_schedule(conn: &mut AnyConnection, row: &ScheduleRow) -> Result<(), OpError> {
    sqlx::query(
        "UPDATE parcel_schedule SET next_ms = $1, reminded = $2, escalated = $3, hold_ms = $4, hold_since_ms = $5 WHERE parcel_id = $6",
    )
    .bind(row.next_ms)
    .bind(serde_json::to_string(&row.reminded).unwrap_or_else(|_| "[]".into()))
    .bind(i64::from(row.escalated))
    .bind(row.hold_ms)
    .bind(row.hold_since_ms)
    .bind(row.parcel_id.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A hold began or ended: reminders pause while it lasts and its length is
/// added to the parcel's time (within the site's maximum). The scheduler
/// looks at the parcel again at once.
pub async fn schedule_hold(
    conn: &mut AnyConnection,
    parcel_id: &str,
    on: bool,
    now: Millis,
) -> Result<(), OpError> {
    let Some(mut row) = lock_schedule(conn, parcel_id).await? else {
        // Not scheduled yet: the scheduler will read the state when it is.
        return Ok(());
    };
    match (on, row.hold_since_ms) {
        (true, None) => row.hold_since_ms = Some(now),
        (false, Some(since)) => {
            row.hold_ms = row.hold_ms.saturating_add((now - since).max(0));
            row.hold_since_ms = None;
        }
        _ => {}
    }
    row.next_ms = Some(now);
    update_schedule(conn, &row).await
}
