//! Doors, door paths and access grants (visitor PINs, courier visits, room codes) and their uses.

use cubby_domain::Millis;
use cubby_domain::access::GrantRule;
use cubby_domain::codes::Code;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::OpError;
use crate::residents;
use crate::rows::{conflict, expect_version, hash32, int, locked, opt_text, text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorRow {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub kind: String,
    pub fail_mode: String,
    pub device_id: Option<String>,
    pub lock_output: Option<u32>,
    pub created_ms: Millis,
    /// Raised by every edit (optimistic concurrency); 1 when created.
    pub version: i64,
}

pub async fn add_door(conn: &mut AnyConnection, door: &DoorRow) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO doors (id, site_id, name, kind, fail_mode, device_id, lock_output, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(door.id.clone())
    .bind(door.site_id.clone())
    .bind(door.name.clone())
    .bind(door.kind.clone())
    .bind(door.fail_mode.clone())
    .bind(door.device_id.clone())
    .bind(door.lock_output.map(i64::from))
    .bind(door.created_ms)
    .execute(&mut *conn)
    .await
    .map_err(|e| match OpError::from(e) {
        OpError::Conflict { .. } => OpError::Conflict {
            code: Code::LockOutputTaken,
            message: "another door already uses this lock output of the device".into(),
        },
        other => other,
    })?;
    Ok(())
}

const DOOR_COLUMNS: &str =
    "id, site_id, name, kind, fail_mode, device_id, lock_output, created_ms, version";

fn door_row(r: &sqlx::any::AnyRow) -> Result<DoorRow, sqlx::Error> {
    let output: Option<i64> = r.try_get("lock_output")?;
    Ok(DoorRow {
        id: text(r, "id")?,
        site_id: text(r, "site_id")?,
        name: text(r, "name")?,
        kind: text(r, "kind")?,
        fail_mode: text(r, "fail_mode")?,
        device_id: opt_text(r, "device_id")?,
        lock_output: output.and_then(|o| u32::try_from(o).ok()),
        created_ms: int(r, "created_ms")?,
        version: int(r, "version")?,
    })
}

pub async fn door(conn: &mut AnyConnection, id: &str) -> Result<Option<DoorRow>, OpError> {
    // A retired door is gone for every use; its row stays for the uses
    // recorded at it.
    let sql = format!("SELECT {DOOR_COLUMNS} FROM doors WHERE id = $1 AND retired_ms IS NULL");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(door_row).transpose()?)
}

pub async fn doors_of_site(
    conn: &mut AnyConnection,
    site_id: &str,
) -> Result<Vec<DoorRow>, OpError> {
    let sql = format!(
        "SELECT {DOOR_COLUMNS} FROM doors WHERE site_id = $1 AND retired_ms IS NULL ORDER BY name, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(site_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(door_row).collect::<Result<_, _>>()?)
}

pub async fn doors_of_device(
    conn: &mut AnyConnection,
    device_id: &str,
) -> Result<Vec<DoorRow>, OpError> {
    let sql = format!(
        "SELECT {DOOR_COLUMNS} FROM doors WHERE device_id = $1 AND lock_output IS NOT NULL AND retired_ms IS NULL ORDER BY lock_output"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(device_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(door_row).collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRow {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub doors: Vec<String>,
    pub created_ms: Millis,
    pub version: i64,
}

pub async fn add_path(conn: &mut AnyConnection, path: &PathRow) -> Result<(), OpError> {
    let doors = serde_json::to_string(&path.doors).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO door_paths (id, site_id, name, doors, created_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(path.id.clone())
    .bind(path.site_id.clone())
    .bind(path.name.clone())
    .bind(doors)
    .bind(path.created_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn path_row(r: &sqlx::any::AnyRow) -> Result<PathRow, sqlx::Error> {
    let doors: String = text(r, "doors")?;
    Ok(PathRow {
        id: text(r, "id")?,
        site_id: text(r, "site_id")?,
        name: text(r, "name")?,
        doors: serde_json::from_str(&doors).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        created_ms: int(r, "created_ms")?,
        version: int(r, "version")?,
    })
}

pub async fn path(conn: &mut AnyConnection, id: &str) -> Result<Option<PathRow>, OpError> {
    let row = sqlx::query(
        "SELECT id, site_id, name, doors, created_ms, version FROM door_paths WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(path_row).transpose()?)
}

pub async fn paths_of_site(
    conn: &mut AnyConnection,
    site_id: &str,
) -> Result<Vec<PathRow>, OpError> {
    let rows = sqlx::query(
        "SELECT id, site_id, name, doors, created_ms, version FROM door_paths WHERE site_id = $1 ORDER BY name, id",
    )
    .bind(site_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(path_row).collect::<Result<_, _>>()?)
}

/// Renames a door or changes its fail mode, if still at `expected_version`.
pub async fn edit_door(
    conn: &mut AnyConnection,
    id: &str,
    expected_version: i64,
    name: Option<&str>,
    fail_mode: Option<&str>,
) -> Result<DoorRow, OpError> {
    expect_version(
        conn,
        locked!(
            conn,
            "SELECT version FROM doors WHERE id = $1 AND retired_ms IS NULL"
        ),
        id,
        expected_version,
        "door",
    )
    .await?;
    let mut d = door(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "door" })?;
    if let Some(name) = name {
        d.name = name.to_string();
    }
    if let Some(mode) = fail_mode {
        d.fail_mode = mode.to_string();
    }
    d.version = expected_version + 1;
    sqlx::query("UPDATE doors SET name = $1, fail_mode = $2, version = $3 WHERE id = $4")
        .bind(d.name.clone())
        .bind(d.fail_mode.clone())
        .bind(d.version)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(d)
}

/// Retires a door no path lists and no live grant names (else
/// `door_in_use`): it leaves every list and its controller's cache, and
/// frees its lock output; the uses recorded at it stay.
pub async fn retire_door(
    conn: &mut AnyConnection,
    id: &str,
    now: Millis,
) -> Result<DoorRow, OpError> {
    let d = door(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "door" })?;
    let held = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM door_paths WHERE site_id = $1 AND doors LIKE '%\"' || $2 || '\"%') + \
         (SELECT COUNT(*) FROM access_grants WHERE site_id = $1 AND revoked_ms IS NULL AND not_after_ms > $3 \
          AND rule LIKE '%\"' || $2 || '\"%') AS n",
    )
    .bind(d.site_id.clone())
    .bind(id.to_string())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    if int(&held, "n")? > 0 {
        return Err(conflict(
            Code::DoorInUse,
            "a door path or a live grant names this door: change the path or revoke the grant first",
        ));
    }
    sqlx::query(
        "UPDATE doors SET retired_ms = $1, lock_output = NULL, version = version + 1 WHERE id = $2",
    )
    .bind(now)
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(d)
}

/// Renames a path or sets its doors, if still at `expected_version`.
pub async fn edit_path(
    conn: &mut AnyConnection,
    id: &str,
    expected_version: i64,
    name: Option<&str>,
    doors: Option<&[String]>,
) -> Result<PathRow, OpError> {
    expect_version(
        conn,
        locked!(conn, "SELECT version FROM door_paths WHERE id = $1"),
        id,
        expected_version,
        "door path",
    )
    .await?;
    let mut p = path(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "door path" })?;
    if let Some(name) = name {
        p.name = name.to_string();
    }
    if let Some(doors) = doors {
        p.doors = doors.to_vec();
    }
    p.version = expected_version + 1;
    sqlx::query("UPDATE door_paths SET name = $1, doors = $2, version = $3 WHERE id = $4")
        .bind(p.name.clone())
        .bind(serde_json::to_string(&p.doors).unwrap_or_else(|_| "[]".into()))
        .bind(p.version)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(p)
}

/// Removes a path no parcel room is reached by (else `path_in_use`).
/// Grants issued over it keep their doors: a grant names doors, not paths.
pub async fn remove_path(conn: &mut AnyConnection, id: &str) -> Result<(), OpError> {
    let held = sqlx::query("SELECT COUNT(*) AS n FROM parcel_rooms WHERE path_id = $1")
        .bind(id.to_string())
        .fetch_one(&mut *conn)
        .await?;
    if int(&held, "n")? > 0 {
        return Err(conflict(
            Code::PathInUse,
            "a parcel room is reached by this path: give the room another path first",
        ));
    }
    let gone = sqlx::query("DELETE FROM door_paths WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    if gone.rows_affected() == 0 {
        return Err(OpError::NotFound { what: "door path" });
    }
    Ok(())
}

/// A grant as stored. `macs` are the PIN's MACs under each controller's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub id: String,
    pub site_id: String,
    pub kind: String,
    pub label: String,
    pub host_resident_id: Option<String>,
    pub carrier: Option<String>,
    pub rule: GrantRule,
    pub pin_mac: [u8; 32],
    pub macs: Vec<(String, [u8; 32])>,
    pub created_by: String,
    /// The courier account of a courier visit.
    pub courier_id: Option<String>,
    /// The parcel room a room code lets its holder into.
    pub room_id: Option<String>,
}

/// Stores a grant. A PIN already used by another grant of the site is a
/// `pin_taken` conflict: the caller draws another PIN.
pub async fn issue_grant(
    conn: &mut AnyConnection,
    grant: &NewGrant,
    now: Millis,
) -> Result<(), OpError> {
    let rule = serde_json::to_string(&grant.rule).unwrap_or_default();
    sqlx::query(
        "INSERT INTO access_grants (id, site_id, kind, label, host_resident_id, carrier, rule, not_after_ms, pin_mac, created_by, created_ms, courier_id, room_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(grant.id.clone())
    .bind(grant.site_id.clone())
    .bind(grant.kind.clone())
    .bind(grant.label.clone())
    .bind(grant.host_resident_id.clone())
    .bind(grant.carrier.clone())
    .bind(rule)
    .bind(grant.rule.not_after_ms)
    .bind(grant.pin_mac.to_vec())
    .bind(grant.created_by.clone())
    .bind(now)
    .bind(grant.courier_id.clone())
    .bind(grant.room_id.clone())
    .execute(&mut *conn)
    .await
    .map_err(|e| match OpError::from(e) {
        OpError::Conflict { .. } => OpError::Conflict {
            code: Code::PinTaken,
            message: "another grant of this site has this PIN".into(),
        },
        other => other,
    })?;
    for (device_id, mac) in &grant.macs {
        sqlx::query(
            "INSERT INTO access_grant_macs (grant_id, device_id, local_mac) VALUES ($1, $2, $3)",
        )
        .bind(grant.id.clone())
        .bind(device_id.clone())
        .bind(mac.to_vec())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Revokes a grant; revoking twice is not an error (the first time stands).
pub async fn revoke_grant(conn: &mut AnyConnection, id: &str, now: Millis) -> Result<(), OpError> {
    let found = sqlx::query("SELECT revoked_ms FROM access_grants WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(OpError::NotFound { what: "grant" })?;
    let revoked: Option<i64> = found.try_get("revoked_ms")?;
    if revoked.is_none() {
        sqlx::query("UPDATE access_grants SET revoked_ms = $1 WHERE id = $2")
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRow {
    pub id: String,
    pub site_id: String,
    pub kind: String,
    pub label: String,
    pub host_resident_id: Option<String>,
    pub carrier: Option<String>,
    pub rule: GrantRule,
    pub created_by: String,
    pub created_ms: Millis,
    pub revoked_ms: Option<Millis>,
}

const GRANT_COLUMNS: &str =
    "id, site_id, kind, label, host_resident_id, carrier, rule, created_by, created_ms, revoked_ms";

fn grant_row(r: &sqlx::any::AnyRow) -> Result<GrantRow, sqlx::Error> {
    let rule: String = text(r, "rule")?;
    Ok(GrantRow {
        id: text(r, "id")?,
        site_id: text(r, "site_id")?,
        kind: text(r, "kind")?,
        label: text(r, "label")?,
        host_resident_id: opt_text(r, "host_resident_id")?,
        carrier: opt_text(r, "carrier")?,
        rule: serde_json::from_str(&rule).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        created_by: text(r, "created_by")?,
        created_ms: int(r, "created_ms")?,
        revoked_ms: r.try_get("revoked_ms")?,
    })
}

pub async fn grant(conn: &mut AnyConnection, id: &str) -> Result<Option<GrantRow>, OpError> {
    let sql = format!("SELECT {GRANT_COLUMNS} FROM access_grants WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(grant_row).transpose()?)
}

/// Grants of a site, newest first; `host` narrows to one resident's.
pub async fn grants_of_site(
    conn: &mut AnyConnection,
    site_id: &str,
    host: Option<&str>,
    limit: i64,
) -> Result<Vec<GrantRow>, OpError> {
    let sql = format!(
        "SELECT {GRANT_COLUMNS} FROM access_grants WHERE site_id = $1 \
         AND ($2 = '' OR host_resident_id = $2) ORDER BY created_ms DESC, id LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(site_id.to_string())
        .bind(host.unwrap_or("").to_string())
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(grant_row).collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseRow {
    pub grant_id: String,
    pub door_id: String,
    pub device_id: String,
    pub at_ms: Millis,
}

/// Records one opening journalled by a controller. A journal entry stored
/// twice is impossible upstream; the key makes it harmless anyway. Returns
/// whether the use was new.
pub async fn record_access_use(
    conn: &mut AnyConnection,
    device_id: &str,
    device_seq: u64,
    grant_id: &str,
    door_id: &str,
    at_ms: Millis,
) -> Result<bool, OpError> {
    // A grant or door deleted meanwhile (or never known) is not an error for
    // the journal: the entry itself is kept in device_events.
    let known =
        sqlx::query("SELECT 1 AS one FROM access_grants g, doors d WHERE g.id = $1 AND d.id = $2")
            .bind(grant_id.to_string())
            .bind(door_id.to_string())
            .fetch_optional(&mut *conn)
            .await?
            .is_some();
    if !known {
        return Ok(false);
    }
    let done = sqlx::query(
        "INSERT INTO access_uses (device_id, device_seq, grant_id, door_id, at_ms) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (device_id, device_seq) DO NOTHING",
    )
    .bind(device_id.to_string())
    .bind(device_seq as i64)
    .bind(grant_id.to_string())
    .bind(door_id.to_string())
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn uses_of_grant(
    conn: &mut AnyConnection,
    grant_id: &str,
) -> Result<Vec<UseRow>, OpError> {
    let rows = sqlx::query(
        "SELECT grant_id, door_id, device_id, at_ms FROM access_uses WHERE grant_id = $1 ORDER BY at_ms, device_seq",
    )
    .bind(grant_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UseRow {
                grant_id: text(r, "grant_id")?,
                door_id: text(r, "door_id")?,
                device_id: text(r, "device_id")?,
                at_ms: int(r, "at_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// A grant as a controller's cache carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedGrant {
    pub grant_id: String,
    pub local_mac: [u8; 32],
    pub rule: GrantRule,
    /// Openings stored per door (doors of this device only).
    pub uses: std::collections::BTreeMap<String, u32>,
}

/// The live grants a controller must know: not revoked, not over, with a MAC
/// for this device; uses counted from what the server has stored of the
/// device's journal up to `up_to_seq` (the cache's `journal_seq`: the device
/// adds its own later entries, so nothing is counted twice).
pub async fn cache_grants(
    conn: &mut AnyConnection,
    device_id: &str,
    up_to_seq: u64,
    now: Millis,
) -> Result<Vec<CachedGrant>, OpError> {
    let rows = sqlx::query(
        "SELECT g.id, g.rule, m.local_mac FROM access_grants g \
         JOIN access_grant_macs m ON m.grant_id = g.id \
         WHERE m.device_id = $1 AND g.revoked_ms IS NULL AND g.not_after_ms > $2 ORDER BY g.id",
    )
    .bind(device_id.to_string())
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let rule: String = text(r, "rule")?;
        let local_mac = hash32(r, "local_mac")?;
        out.push(CachedGrant {
            grant_id: text(r, "id")?,
            local_mac,
            rule: serde_json::from_str(&rule).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            uses: Default::default(),
        });
    }
    let counts = sqlx::query(
        "SELECT u.grant_id, u.door_id, COUNT(*) AS n FROM access_uses u \
         JOIN access_grant_macs m ON m.grant_id = u.grant_id AND m.device_id = $1 \
         JOIN doors d ON d.id = u.door_id AND d.device_id = $1 \
         WHERE u.device_id = $1 AND u.device_seq <= $2 \
         GROUP BY u.grant_id, u.door_id",
    )
    .bind(device_id.to_string())
    .bind(up_to_seq as i64)
    .fetch_all(&mut *conn)
    .await?;
    for r in &counts {
        let grant_id = text(r, "grant_id")?;
        if let Some(g) = out.iter_mut().find(|g| g.grant_id == grant_id) {
            let n = int(r, "n")?;
            g.uses
                .insert(text(r, "door_id")?, u32::try_from(n).unwrap_or(u32::MAX));
        }
    }
    Ok(out)
}

/// The devices that drive any of these doors.
pub async fn devices_of_doors(
    conn: &mut AnyConnection,
    door_ids: &[String],
) -> Result<Vec<String>, OpError> {
    let mut devices = Vec::new();
    for id in door_ids {
        if let Some(d) = door(conn, id).await?
            && let Some(device) = d.device_id
            && !devices.contains(&device)
        {
            devices.push(device);
        }
    }
    Ok(devices)
}

/// Grants of a site that are neither revoked nor over: the PINs live in one
/// code space, which must stay ≥ 1,000 × this count (security.md).
pub async fn count_live_grants(
    conn: &mut AnyConnection,
    site_id: &str,
    now: Millis,
) -> Result<i64, OpError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM access_grants WHERE site_id = $1 AND revoked_ms IS NULL AND not_after_ms > $2",
    )
    .bind(site_id.to_string())
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(int(&row, "n")?)
}

/// Tells a visitor PIN's host that it was used: which door, when (in the
/// site's time zone). Queued in the same transaction that stores the use, so
/// each use is told once.
pub async fn notify_host_of_use(
    conn: &mut AnyConnection,
    message_id: String,
    grant_id: &str,
    door_id: &str,
    at_ms: Millis,
    now: Millis,
) -> Result<bool, OpError> {
    let row = sqlx::query(
        "SELECT g.kind, g.label, g.host_resident_id, g.site_id, d.name AS door_name, s.name AS site_name, s.timezone \
         FROM access_grants g JOIN doors d ON d.id = $2 JOIN sites s ON s.id = g.site_id WHERE g.id = $1",
    )
    .bind(grant_id.to_string())
    .bind(door_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    let host = match (
        text(&row, "kind")?.as_str(),
        opt_text(&row, "host_resident_id")?,
    ) {
        ("visitor", Some(h)) => h,
        _ => return Ok(false),
    };
    let Some(resident) = residents::resident(conn, &host).await? else {
        return Ok(false);
    };
    let (label, door, site_name) = (
        text(&row, "label")?,
        text(&row, "door_name")?,
        text(&row, "site_name")?,
    );
    let when = cubby_domain::model::Timezone::parse(&text(&row, "timezone")?)
        .ok()
        .and_then(|tz| tz.local_time(at_ms))
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    // A visitor's arrival is for the host alone, not for the concierge.
    if resident.email.is_none() && resident.phone.is_none() {
        return Ok(false);
    }
    let (channel, recipient) = resident.contact(&site_name);
    let msg = crate::outbox::Message {
        id: message_id,
        site_id: text(&row, "site_id")?,
        channel: channel.to_string(),
        recipient,
        subject: "Your visitor code was used".to_string(),
        body: format!(
            "Hello {name},\n\nYour visitor code \"{label}\" opened {door} at {site_name} at {when}.\nIf this was not your visitor, revoke the code in your portal.",
            name = resident.name,
        ),
        payload: serde_json::json!({
            "kind": "visitor_arrived",
            "resident_id": resident.id,
            "grant_id": grant_id,
            "door_id": door_id,
            "at_ms": at_ms,
        }),
    };
    crate::outbox::enqueue(conn, &msg, now).await?;
    Ok(true)
}
