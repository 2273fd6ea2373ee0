//! Reads about locker agents, their events and incidents.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::OpError;
use crate::queries::{hash32, int, mm, opt_text, text};

/// What the broker needs to admit a device.
#[derive(Debug, Clone)]
pub struct DeviceCredential {
    pub id: String,
    pub secret_mac: [u8; 32],
}

/// Every device that may connect (not revoked).
pub async fn device_credentials(
    conn: &mut AnyConnection,
) -> Result<Vec<DeviceCredential>, OpError> {
    let rows = sqlx::query("SELECT id, secret_mac FROM devices WHERE revoked = 0")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(DeviceCredential {
                id: text(r, "id")?,
                secret_mac: hash32(r, "secret_mac")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceRow {
    pub id: String,
    pub locker_id: String,
    pub site_id: String,
    pub org_id: String,
    pub created_ms: i64,
    pub revoked: bool,
    pub online: bool,
    pub last_seen_ms: Option<i64>,
    pub journal_seq: i64,
    pub cache_version: i64,
    /// The last full state snapshot the device published, as JSON text.
    pub state: Option<String>,
}

const DEVICE_SELECT: &str = "SELECT d.id, d.locker_id, l.site_id, s.org_id, d.created_ms, d.revoked, d.online, d.last_seen_ms, d.journal_seq, d.cache_version, d.state \
     FROM devices d JOIN lockers l ON l.id = d.locker_id JOIN sites s ON s.id = l.site_id";

fn device_row(r: &AnyRow) -> Result<DeviceRow, sqlx::Error> {
    Ok(DeviceRow {
        id: text(r, "id")?,
        locker_id: text(r, "locker_id")?,
        site_id: text(r, "site_id")?,
        org_id: text(r, "org_id")?,
        created_ms: int(r, "created_ms")?,
        revoked: int(r, "revoked")? != 0,
        online: int(r, "online")? != 0,
        last_seen_ms: r.try_get::<Option<i64>, _>("last_seen_ms")?,
        journal_seq: int(r, "journal_seq")?,
        cache_version: int(r, "cache_version")?,
        state: opt_text(r, "state")?,
    })
}

pub async fn device(conn: &mut AnyConnection, id: &str) -> Result<Option<DeviceRow>, OpError> {
    let sql = sqlx::AssertSqlSafe(format!("{DEVICE_SELECT} WHERE d.id = $1"));
    let row = sqlx::query(sql)
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(device_row).transpose()?)
}

pub async fn devices_of_locker(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<Vec<DeviceRow>, OpError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{DEVICE_SELECT} WHERE d.locker_id = $1 ORDER BY d.created_ms, d.id"
    ));
    let rows = sqlx::query(sql)
        .bind(locker_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(device_row).collect::<Result<_, _>>()?)
}

/// (device id, locker id, stored journal head) of every active device.
/// A device that may connect, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveDevice {
    pub id: String,
    pub locker_id: String,
    pub site_id: String,
    /// Its journal head as stored here.
    pub journal_seq: u64,
}

pub async fn active_devices(conn: &mut AnyConnection) -> Result<Vec<ActiveDevice>, OpError> {
    let rows = sqlx::query(
        "SELECT d.id, d.locker_id, l.site_id, d.journal_seq FROM devices d \
         JOIN lockers l ON l.id = d.locker_id WHERE d.revoked = 0 ORDER BY d.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ActiveDevice {
                id: text(r, "id")?,
                locker_id: text(r, "locker_id")?,
                site_id: text(r, "site_id")?,
                journal_seq: int(r, "journal_seq")? as u64,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// One pick-up credential as the locker's cache carries it.
#[derive(Debug, Clone)]
pub struct CachedCredential {
    pub id: String,
    pub kind: String,
    pub local_mac: [u8; 32],
    pub compartments: Vec<String>,
}

/// The active credentials of a locker with the compartments each opens: those
/// holding its resident's collectable parcels there.
pub async fn cache_credentials(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<Vec<CachedCredential>, OpError> {
    let rows = sqlx::query(
        "SELECT pc.id, pc.kind, pc.local_mac, c.label FROM pickup_credentials pc \
         JOIN parcels p ON p.locker_id = pc.locker_id AND p.resident_id = pc.resident_id \
         JOIN compartments c ON c.id = p.compartment_id \
         WHERE pc.locker_id = $1 AND pc.active = 1 AND pc.local_mac IS NOT NULL \
         AND (pc.kind <> 'delegate' OR p.id = pc.parcel_id) \
         AND p.state IN ('deposited', 'on_hold', 'expired') ORDER BY pc.id, c.label",
    )
    .bind(locker_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<CachedCredential> = Vec::new();
    for r in &rows {
        let id = text(r, "id")?;
        let label = text(r, "label")?;
        match out.last_mut() {
            Some(last) if last.id == id => {
                if !last.compartments.contains(&label) {
                    last.compartments.push(label);
                }
            }
            _ => out.push(CachedCredential {
                id,
                kind: text(r, "kind")?,
                local_mac: hash32(r, "local_mac")?,
                compartments: vec![label],
            }),
        }
    }
    Ok(out)
}

/// Compartment labels of a locker in wiring order (label order).
pub async fn compartment_labels(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<Vec<String>, OpError> {
    let rows = sqlx::query("SELECT label FROM compartments WHERE locker_id = $1 ORDER BY label")
        .bind(locker_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| text(r, "label"))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceEventRow {
    pub seq: i64,
    pub at_ms: i64,
    pub kind: String,
    pub compartment: Option<String>,
    /// The journal entry's event, as JSON text.
    pub body: String,
}

pub async fn device_events(
    conn: &mut AnyConnection,
    device_id: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<DeviceEventRow>, OpError> {
    let rows = sqlx::query(
        "SELECT seq, at_ms, kind, compartment_label, body FROM device_events WHERE device_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(device_id.to_string())
    .bind(after_seq)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DeviceEventRow {
                seq: int(r, "seq")?,
                at_ms: int(r, "at_ms")?,
                kind: text(r, "kind")?,
                compartment: opt_text(r, "compartment_label")?,
                body: text(r, "body")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentRow {
    pub id: String,
    pub site_id: String,
    pub locker_id: Option<String>,
    pub device_id: Option<String>,
    pub compartment: Option<String>,
    pub parcel_id: Option<String>,
    pub kind: String,
    pub detail: String,
    pub created_ms: i64,
    pub resolved_ms: Option<i64>,
}

/// Incidents of an organisation's sites (all when `org_id` is None), newest first.
pub async fn incidents(
    conn: &mut AnyConnection,
    org_id: Option<&str>,
    site_id: Option<&str>,
    limit: i64,
) -> Result<Vec<IncidentRow>, OpError> {
    let rows = sqlx::query(
        "SELECT i.id, i.site_id, i.locker_id, i.device_id, i.compartment_label, i.parcel_id, i.kind, i.detail, i.created_ms, i.resolved_ms \
         FROM incidents i JOIN sites s ON s.id = i.site_id \
         WHERE ($1 IS NULL OR s.org_id = $1) AND ($2 IS NULL OR i.site_id = $2) \
         ORDER BY i.created_ms DESC, i.id LIMIT $3",
    )
    .bind(org_id.map(str::to_string))
    .bind(site_id.map(str::to_string))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(IncidentRow {
                id: text(r, "id")?,
                site_id: text(r, "site_id")?,
                locker_id: opt_text(r, "locker_id")?,
                device_id: opt_text(r, "device_id")?,
                compartment: opt_text(r, "compartment_label")?,
                parcel_id: opt_text(r, "parcel_id")?,
                kind: text(r, "kind")?,
                detail: text(r, "detail")?,
                created_ms: int(r, "created_ms")?,
                resolved_ms: r.try_get::<Option<i64>, _>("resolved_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// A courier pass as the locker's cache holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedCourierPass {
    pub id: String,
    pub locker_id: String,
    pub carrier: String,
    pub local_mac: [u8; 32],
    pub expires_ms: i64,
}

/// Courier passes valid at a locker now.
pub async fn cache_courier_passes(
    conn: &mut AnyConnection,
    locker_id: &str,
    now: i64,
) -> Result<Vec<CachedCourierPass>, OpError> {
    let rows = sqlx::query(
        "SELECT id, locker_id, carrier, local_mac, expires_ms FROM courier_passes \
         WHERE locker_id = $1 AND revoked = 0 AND expires_ms > $2 ORDER BY id",
    )
    .bind(locker_id.to_string())
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CachedCourierPass {
                id: text(r, "id")?,
                locker_id: text(r, "locker_id")?,
                carrier: text(r, "carrier")?,
                local_mac: hash32(r, "local_mac")?,
                expires_ms: int(r, "expires_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// A pre-advised parcel a courier may deposit at a locker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedParcelRow {
    pub parcel_id: String,
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub temperature: String,
}

/// Most pre-advised parcels one locker's cache lists.
pub const MAX_EXPECTED_PER_LOCKER: i64 = 2_000;

/// Pre-advised parcels with a known recipient on the locker's site, newest
/// first: a courier with a pass may deposit them at the locker on its own.
pub async fn expected_parcels(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<Vec<ExpectedParcelRow>, OpError> {
    let rows = sqlx::query(
        "SELECT p.id, p.tracking_number, p.carrier, p.width_mm, p.height_mm, p.depth_mm, p.temperature \
         FROM parcels p JOIN lockers l ON l.site_id = p.site_id \
         WHERE l.id = $1 AND p.state = 'announced' AND p.resident_id IS NOT NULL \
         ORDER BY p.created_ms DESC, p.id LIMIT $2",
    )
    .bind(locker_id.to_string())
    .bind(MAX_EXPECTED_PER_LOCKER)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ExpectedParcelRow {
                parcel_id: text(r, "id")?,
                tracking_number: text(r, "tracking_number")?,
                carrier: opt_text(r, "carrier")?,
                width_mm: mm(r, "width_mm")?,
                height_mm: mm(r, "height_mm")?,
                depth_mm: mm(r, "depth_mm")?,
                temperature: text(r, "temperature")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// One courier pass, for revocation checks.
pub async fn courier_pass(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<CachedCourierPass>, OpError> {
    let row = sqlx::query(
        "SELECT id, carrier, local_mac, expires_ms, locker_id FROM courier_passes WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(CachedCourierPass {
            id: text(&r, "id")?,
            carrier: text(&r, "carrier")?,
            local_mac: hash32(&r, "local_mac")?,
            expires_ms: int(&r, "expires_ms")?,
            locker_id: text(&r, "locker_id")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| OpError::from(e))
}
