//! Locker agents: registration, state, commands, journal ingest and credential caches.

use cubby_domain::Millis;
use cubby_domain::codes::Code;
use cubby_protocol::journal::EdgeEvent;
use cubby_protocol::journal::GENESIS;
use cubby_protocol::journal::JournalEntry;
use cubby_protocol::journal::verify_continuation;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::OpError;
use crate::access;
use crate::custody::append_event;
use crate::incidents::NewIncident;
use crate::incidents::raise_incident;
use crate::lockers;
use crate::parcels;
use crate::parcels::DepositOutcome;
use crate::parcels::DepositRequest;
use crate::parcels::DepositSecrets;
use crate::parcels::Recipient;
use crate::parcels::deposit;
use crate::parcels::pickup_reported_by_device;
use crate::rooms;
use crate::rows::{hash32, int, locked, opt_text, text};

mod journal;
pub use journal::{AccessNote, IngestHooks, JournalIngest, ingest_journal};

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

/// Registers a device for a locker. Only the MAC of its secret is kept.
pub async fn add_device(
    conn: &mut AnyConnection,
    id: &str,
    locker_id: &str,
    secret_mac: &[u8; 32],
    now: Millis,
) -> Result<(), OpError> {
    lockers::locker(conn, locker_id)
        .await?
        .ok_or(OpError::NotFound { what: "locker" })?;
    sqlx::query(
        "INSERT INTO devices (id, locker_id, secret_mac, created_ms, journal_hash) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.to_string())
    .bind(locker_id.to_string())
    .bind(secret_mac.to_vec())
    .bind(now)
    .bind(GENESIS.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Revokes a device: the broker refuses it from the next connection on.
pub async fn revoke_device(conn: &mut AnyConnection, id: &str) -> Result<(), OpError> {
    let done = sqlx::query("UPDATE devices SET revoked = 1, online = 0 WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(OpError::NotFound { what: "device" });
    }
    Ok(())
}

/// Records online/offline as reported by the device or its last will.
pub async fn set_device_online(
    conn: &mut AnyConnection,
    id: &str,
    online: bool,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query("UPDATE devices SET online = $1, status_ms = $2, last_seen_ms = $2 WHERE id = $3")
        .bind(i64::from(online))
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Agents gone since before `cutoff` (their last will, or reported offline)
/// with no open `locker_offline` incident yet: (device id, since when).
pub async fn offline_since(
    conn: &mut AnyConnection,
    cutoff: Millis,
) -> Result<Vec<(String, Millis)>, OpError> {
    let rows = sqlx::query(
        "SELECT d.id, d.status_ms FROM devices d WHERE d.online = 0 AND d.revoked = 0 \
         AND d.status_ms IS NOT NULL AND d.status_ms < $1 \
         AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.device_id = d.id AND i.kind = 'locker_offline' AND i.resolved_ms IS NULL) \
         ORDER BY d.id",
    )
    .bind(cutoff)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((text(r, "id")?, int(r, "status_ms")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// The agent reports again: its open `locker_offline` incident is resolved
/// by the system. Answers that incident's id and when it was raised.
pub async fn back_online(
    conn: &mut AnyConnection,
    device_id: &str,
    now: Millis,
) -> Result<Option<(String, Millis)>, OpError> {
    let open = sqlx::query(
        "SELECT id, created_ms FROM incidents WHERE device_id = $1 AND kind = 'locker_offline' AND resolved_ms IS NULL \
         ORDER BY created_ms DESC LIMIT 1",
    )
    .bind(device_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(open) = open else { return Ok(None) };
    let id = text(&open, "id")?;
    sqlx::query(
        "UPDATE incidents SET resolved_ms = $1, resolved_by = 'system', resolve_reason = 'the locker reports again' \
         WHERE device_id = $2 AND kind = 'locker_offline' AND resolved_ms IS NULL",
    )
    .bind(now)
    .bind(device_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(Some((id, int(&open, "created_ms")?)))
}

/// Keeps the device's last full state snapshot.
pub async fn save_device_state(
    conn: &mut AnyConnection,
    id: &str,
    state_json: &str,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query("UPDATE devices SET state = $1, last_seen_ms = $2 WHERE id = $3")
        .bind(state_json.to_string())
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn touch_device(conn: &mut AnyConnection, id: &str, now: Millis) -> Result<(), OpError> {
    sqlx::query("UPDATE devices SET last_seen_ms = $1 WHERE id = $2")
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An unlock to send to the locker's device.
#[derive(Debug, Clone)]
pub struct NewUnlock {
    pub cmd_id: String,
    pub tx_id: String,
    pub locker_id: String,
    pub compartment_label: String,
    /// `deposit`, `staff` or `return`.
    pub purpose: &'static str,
    pub parcel_id: Option<String>,
    pub actor: String,
    pub reason: String,
}

/// Queues an unlock for the locker's active device, in the caller's
/// transaction. Returns the device id, or None when the locker has no device
/// (a locker without an agent is opened by hand or by an older controller).
pub async fn queue_unlock(
    conn: &mut AnyConnection,
    u: &NewUnlock,
    now: Millis,
) -> Result<Option<String>, OpError> {
    let Some(dev) = sqlx::query(
        "SELECT id FROM devices WHERE locker_id = $1 AND revoked = 0 ORDER BY created_ms DESC LIMIT 1",
    )
    .bind(u.locker_id.clone())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let device_id = text(&dev, "id")?;
    sqlx::query(
        "INSERT INTO device_commands (id, device_id, tx_id, compartment_label, purpose, parcel_id, actor, reason, created_ms, status, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $9)",
    )
    .bind(u.cmd_id.clone())
    .bind(device_id.clone())
    .bind(u.tx_id.clone())
    .bind(u.compartment_label.clone())
    .bind(u.purpose.to_string())
    .bind(u.parcel_id.clone())
    .bind(u.actor.clone())
    .bind(u.reason.clone())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(Some(device_id))
}

/// Remote opens `actor` queued at a locker since `since_ms`.
pub async fn remote_opens_by(
    conn: &mut AnyConnection,
    locker_id: &str,
    actor: &str,
    since_ms: Millis,
) -> Result<i64, OpError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM device_commands c JOIN devices d ON d.id = c.device_id \
         WHERE d.locker_id = $1 AND c.actor = $2 AND c.purpose = 'staff' AND c.created_ms >= $3",
    )
    .bind(locker_id.to_string())
    .bind(actor.to_string())
    .bind(since_ms)
    .fetch_one(&mut *conn)
    .await?;
    Ok(int(&row, "n")?)
}

/// A request to open several compartments at once, waiting for a second
/// staff member.
#[derive(Debug, Clone)]
pub struct BulkOpenRow {
    pub id: String,
    pub locker_id: String,
    pub labels: Vec<String>,
    pub reason: String,
    /// The requesting token's id.
    pub requested_by: String,
    pub expires_ms: Millis,
    pub approved_by: Option<String>,
}

pub async fn request_bulk_open(
    conn: &mut AnyConnection,
    b: &BulkOpenRow,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO bulk_opens (id, locker_id, labels, reason, requested_by, requested_ms, expires_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(b.id.clone())
    .bind(b.locker_id.clone())
    .bind(serde_json::to_string(&b.labels).unwrap_or_default())
    .bind(b.reason.clone())
    .bind(b.requested_by.clone())
    .bind(now)
    .bind(b.expires_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A bulk-open request, locked for its approval.
pub async fn bulk_open(conn: &mut AnyConnection, id: &str) -> Result<Option<BulkOpenRow>, OpError> {
    let row = sqlx::query(locked!(
        conn,
        "SELECT id, locker_id, labels, reason, requested_by, expires_ms, approved_by FROM bulk_opens WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(BulkOpenRow {
            id: text(&r, "id")?,
            locker_id: text(&r, "locker_id")?,
            labels: serde_json::from_str(&text(&r, "labels")?)
                .map_err(|e| sqlx::Error::Decode(e.into()))?,
            reason: text(&r, "reason")?,
            requested_by: text(&r, "requested_by")?,
            expires_ms: int(&r, "expires_ms")?,
            approved_by: opt_text(&r, "approved_by")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| OpError::from(e))
}

/// Marks a request approved (once): false when it already was.
pub async fn approve_bulk_open(
    conn: &mut AnyConnection,
    id: &str,
    approver: &str,
    now: Millis,
) -> Result<bool, OpError> {
    let done = sqlx::query(
        "UPDATE bulk_opens SET approved_by = $1, approved_ms = $2 WHERE id = $3 AND approved_by IS NULL",
    )
    .bind(approver.to_string())
    .bind(now)
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A command ready to be (re)sent.
#[derive(Debug, Clone)]
pub struct CommandToSend {
    pub cmd_id: String,
    pub tx_id: String,
    pub device_id: String,
    pub compartment_label: String,
    pub purpose: String,
    pub status: String,
    pub seq: Option<u64>,
    pub expires_ms: Option<Millis>,
    pub signed: Option<String>,
    pub attempts: i64,
    pub updated_ms: Millis,
    pub created_ms: Millis,
}

/// Commands not yet answered: pending ones and sent ones awaiting a reply.
pub async fn open_commands(conn: &mut AnyConnection) -> Result<Vec<CommandToSend>, OpError> {
    let rows = sqlx::query(
        "SELECT id, tx_id, device_id, compartment_label, purpose, status, seq, expires_ms, signed, attempts, updated_ms, created_ms \
         FROM device_commands WHERE status IN ('pending', 'sent') ORDER BY created_ms, id LIMIT 500",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CommandToSend {
                cmd_id: text(r, "id")?,
                tx_id: text(r, "tx_id")?,
                device_id: text(r, "device_id")?,
                compartment_label: text(r, "compartment_label")?,
                purpose: text(r, "purpose")?,
                status: text(r, "status")?,
                seq: r.try_get::<Option<i64>, _>("seq")?.map(|s| s as u64),
                expires_ms: r.try_get::<Option<i64>, _>("expires_ms")?,
                signed: opt_text(r, "signed")?,
                attempts: int(r, "attempts")?,
                updated_ms: int(r, "updated_ms")?,
                created_ms: int(r, "created_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// Takes the device's next command sequence number (never reused).
pub async fn next_command_seq(conn: &mut AnyConnection, device_id: &str) -> Result<u64, OpError> {
    let row = sqlx::query(locked!(conn, "SELECT cmd_seq FROM devices WHERE id = $1"))
        .bind(device_id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(OpError::NotFound { what: "device" })?;
    let next = int(&row, "cmd_seq")? + 1;
    sqlx::query("UPDATE devices SET cmd_seq = $1 WHERE id = $2")
        .bind(next)
        .bind(device_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(next as u64)
}

/// Records that a command was (re)sent, with its signed form on first sending.
pub async fn mark_command_sent(
    conn: &mut AnyConnection,
    cmd_id: &str,
    first: Option<(u64, Millis, &str)>,
    now: Millis,
) -> Result<(), OpError> {
    match first {
        Some((seq, expires_ms, signed)) => {
            sqlx::query("UPDATE device_commands SET status = 'sent', seq = $1, expires_ms = $2, signed = $3, attempts = attempts + 1, updated_ms = $4 WHERE id = $5 AND status = 'pending'")
                .bind(seq as i64)
                .bind(expires_ms)
                .bind(signed.to_string())
                .bind(now)
                .bind(cmd_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        None => {
            sqlx::query("UPDATE device_commands SET attempts = attempts + 1, updated_ms = $1 WHERE id = $2 AND status = 'sent'")
                .bind(now)
                .bind(cmd_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Where a device and its locker live, for incidents and custody events.
pub(crate) struct DevicePlace {
    pub(crate) locker_id: String,
    pub(crate) locker_name: String,
    pub(crate) site_id: String,
}

pub(crate) async fn device_place(
    conn: &mut AnyConnection,
    device_id: &str,
) -> Result<DevicePlace, OpError> {
    let row = sqlx::query(
        "SELECT d.locker_id, l.name, l.site_id FROM devices d JOIN lockers l ON l.id = d.locker_id WHERE d.id = $1",
    )
    .bind(device_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(OpError::NotFound { what: "device" })?;
    Ok(DevicePlace {
        locker_id: text(&row, "locker_id")?,
        locker_name: text(&row, "name")?,
        site_id: text(&row, "site_id")?,
    })
}

/// Records a device's answer to a command. Anything but `done` raises an
/// incident: a courier is standing at a door that did not open.
pub async fn command_answered(
    conn: &mut AnyConnection,
    cmd_id: &str,
    device_id: &str,
    status: &str,
    detail: &str,
    incident_id: String,
    now: Millis,
) -> Result<(), OpError> {
    let Some(row) = sqlx::query(
        "SELECT status, compartment_label, parcel_id FROM device_commands WHERE id = $1 AND device_id = $2",
    )
    .bind(cmd_id.to_string())
    .bind(device_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(());
    };
    if text(&row, "status")? != "sent" {
        return Ok(());
    }
    sqlx::query(
        "UPDATE device_commands SET status = $1, detail = $2, updated_ms = $3 WHERE id = $4",
    )
    .bind(status.to_string())
    .bind(detail.to_string())
    .bind(now)
    .bind(cmd_id.to_string())
    .execute(&mut *conn)
    .await?;
    if status != "done" {
        let label = opt_text(&row, "compartment_label")?;
        let parcel = opt_text(&row, "parcel_id")?;
        raise_incident(
            conn,
            &NewIncident {
                id: incident_id,
                device_id,
                compartment_label: label.as_deref(),
                parcel_id: parcel.as_deref(),
                kind: "unlock_not_done",
                detail: format!("unlock {cmd_id} {status}: {detail}"),
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// Gives up on commands that can no longer be executed: sent ones past their
/// expiry and pending ones older than `pending_limit_ms` (the device was
/// offline; the courier has gone). Each raises an incident.
pub async fn expire_commands(
    conn: &mut AnyConnection,
    now: Millis,
    pending_limit_ms: Millis,
    mut new_id: impl FnMut() -> String,
) -> Result<u64, OpError> {
    let rows = sqlx::query(
        "SELECT id, device_id, compartment_label, parcel_id, status FROM device_commands \
         WHERE (status = 'sent' AND expires_ms < $1) OR (status = 'pending' AND created_ms < $2)",
    )
    .bind(now)
    .bind(now - pending_limit_ms)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let id = text(r, "id")?;
        let device_id = text(r, "device_id")?;
        let was = text(r, "status")?;
        sqlx::query("UPDATE device_commands SET status = 'expired', updated_ms = $1 WHERE id = $2")
            .bind(now)
            .bind(id.clone())
            .execute(&mut *conn)
            .await?;
        let label = opt_text(r, "compartment_label")?;
        let parcel = opt_text(r, "parcel_id")?;
        let detail = if was == "sent" {
            format!("unlock {id} was not acknowledged before it expired")
        } else {
            format!("unlock {id} could not be sent: the locker was offline")
        };
        raise_incident(
            conn,
            &NewIncident {
                id: new_id(),
                device_id: &device_id,
                compartment_label: label.as_deref(),
                parcel_id: parcel.as_deref(),
                kind: "unlock_not_done",
                detail,
            },
            now,
        )
        .await?;
    }
    Ok(rows.len() as u64)
}

/// Takes the next credential cache version for a device.
pub async fn next_cache_version(conn: &mut AnyConnection, device_id: &str) -> Result<u64, OpError> {
    let row = sqlx::query(locked!(
        conn,
        "SELECT cache_version FROM devices WHERE id = $1"
    ))
    .bind(device_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(OpError::NotFound { what: "device" })?;
    let next = int(&row, "cache_version")? + 1;
    sqlx::query("UPDATE devices SET cache_version = $1 WHERE id = $2")
        .bind(next)
        .bind(device_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(next as u64)
}
