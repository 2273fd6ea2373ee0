//! Parcel rooms: shelf zones, the room's door path, shelving, room codes and entries.

use cubby_domain::Millis;
use cubby_domain::codes::Code;
use cubby_domain::dims::Dimensions;
use cubby_domain::lifecycle;
use cubby_domain::lifecycle::Transition;
use cubby_domain::model::TemperatureZone;
use cubby_domain::tracking::TrackingNumber;
use serde::Serialize;
use sqlx::AnyConnection;

use crate::OpError;
use crate::access::NewGrant;
use crate::access::issue_grant;
use crate::access::revoke_grant;
use crate::custody::append_event;
use crate::parcels;
use crate::parcels::Arrival;
use crate::parcels::ArrivedAt;
use crate::parcels::ParcelRow;
use crate::parcels::Recipient;
use crate::parcels::announced_parcel;
use crate::parcels::apply_transition;
use crate::parcels::resolve_recipient;
use crate::parcels::upsert_arrived;
use crate::residents::ResidentRow;
use crate::rows::{conflict, int, opt_text, text};
use crate::tenants;

#[derive(Debug, Clone, Serialize)]
pub struct RoomZones {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub zones: Vec<(String, String, i64)>,
}

pub async fn room_with_zones(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<RoomZones>, OpError> {
    let Some(r) = sqlx::query("SELECT id, site_id, name FROM parcel_rooms WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let zones = sqlx::query(
        "SELECT id, label, capacity FROM shelf_zones WHERE room_id = $1 ORDER BY label",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(RoomZones {
        id: text(&r, "id")?,
        site_id: text(&r, "site_id")?,
        name: text(&r, "name")?,
        zones: zones
            .iter()
            .map(|z| Ok((text(z, "id")?, text(z, "label")?, int(z, "capacity")?)))
            .collect::<Result<_, sqlx::Error>>()?,
    }))
}

#[derive(Debug, Clone)]
pub struct NewRoom {
    pub id: String,
    pub site_id: String,
    pub name: String,
    /// (zone id, label, capacity in parcels)
    pub zones: Vec<(String, String, u32)>,
}

pub async fn create_room(
    conn: &mut AnyConnection,
    r: &NewRoom,
    now: Millis,
) -> Result<RoomZones, OpError> {
    if tenants::site(conn, &r.site_id).await?.is_none() {
        return Err(OpError::NotFound { what: "site" });
    }
    sqlx::query("INSERT INTO parcel_rooms (id, site_id, name, created_ms) VALUES ($1, $2, $3, $4)")
        .bind(r.id.clone())
        .bind(r.site_id.clone())
        .bind(r.name.clone())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    for (id, label, capacity) in &r.zones {
        sqlx::query(
            "INSERT INTO shelf_zones (id, room_id, label, capacity) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.clone())
        .bind(r.id.clone())
        .bind(label.clone())
        .bind(i64::from(*capacity))
        .execute(&mut *conn)
        .await?;
    }
    room_with_zones(conn, &r.id)
        .await?
        .ok_or(OpError::NotFound {
            what: "parcel room",
        })
}

// ------------------------------------------------------------ parcel rooms

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRow {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub path_id: Option<String>,
}

pub async fn room(conn: &mut AnyConnection, id: &str) -> Result<Option<RoomRow>, OpError> {
    let row = sqlx::query("SELECT id, site_id, name, path_id FROM parcel_rooms WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row
        .map(|r| {
            Ok::<_, sqlx::Error>(RoomRow {
                id: text(&r, "id")?,
                site_id: text(&r, "site_id")?,
                name: text(&r, "name")?,
                path_id: opt_text(&r, "path_id")?,
            })
        })
        .transpose()?)
}

/// Sets the door path that leads into a room (its last door is the room's).
pub async fn set_room_path(
    conn: &mut AnyConnection,
    room_id: &str,
    path_id: &str,
) -> Result<(), OpError> {
    sqlx::query("UPDATE parcel_rooms SET path_id = $1 WHERE id = $2")
        .bind(path_id.to_string())
        .bind(room_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A parcel a courier puts on a shelf zone of a parcel room.
#[derive(Debug, Clone)]
pub struct ShelveRequest {
    pub parcel_id: String,
    pub room_id: String,
    pub zone: String,
    pub tracking_number: TrackingNumber,
    pub carrier: Option<String>,
    pub recipient: Recipient,
    pub dims: Dimensions,
    pub temperature: TemperatureZone,
    pub actor: String,
    pub now: Millis,
    /// A room code to issue if the recipient holds no unused one for this
    /// room; made by the caller (the PIN is never stored).
    pub room_code: NewGrant,
}

#[derive(Debug, Clone)]
pub struct Shelved {
    pub parcel: ParcelRow,
    pub resident: Option<ResidentRow>,
    pub room: RoomRow,
    pub zone: String,
    /// The room code's grant, when the recipient is known.
    pub grant_id: Option<String>,
    /// Whether `room_code` was issued (else the recipient's earlier code,
    /// not yet used, lets them in for this parcel too).
    pub new_code: bool,
}

/// The recipient's room code for a room that has not let them in yet.
async fn unused_room_code(
    conn: &mut AnyConnection,
    room_id: &str,
    resident_id: &str,
    now: Millis,
) -> Result<Option<String>, OpError> {
    let row = sqlx::query(
        "SELECT g.id FROM access_grants g WHERE g.room_id = $1 AND g.host_resident_id = $2 AND g.kind = 'room_code' \
         AND g.revoked_ms IS NULL AND g.not_after_ms > $3 \
         AND NOT EXISTS (SELECT 1 FROM access_uses u WHERE u.grant_id = g.id) ORDER BY g.created_ms DESC",
    )
    .bind(room_id.to_string())
    .bind(resident_id.to_string())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| text(&r, "id")).transpose()?)
}

/// Records a parcel on a shelf zone: custody, zone capacity, and the room
/// code its recipient enters with.
pub async fn shelve(conn: &mut AnyConnection, req: &ShelveRequest) -> Result<Shelved, OpError> {
    let room = room(conn, &req.room_id).await?.ok_or(OpError::NotFound {
        what: "parcel room",
    })?;
    let zone =
        sqlx::query("SELECT id, capacity FROM shelf_zones WHERE room_id = $1 AND label = $2")
            .bind(room.id.clone())
            .bind(req.zone.clone())
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(OpError::NotFound { what: "shelf zone" })?;
    let zone_id = text(&zone, "id")?;
    let held = sqlx::query("SELECT COUNT(*) AS n FROM parcels WHERE shelf_zone_id = $1 AND state IN ('deposited', 'on_hold', 'unassigned', 'expired')")
        .bind(zone_id.clone())
        .fetch_one(&mut *conn)
        .await?;
    if int(&held, "n")? >= int(&zone, "capacity")? {
        return Err(conflict(
            Code::ZoneFull,
            "this shelf zone is full; use another zone",
        ));
    }
    let announced = announced_parcel(conn, &room.site_id, &req.tracking_number).await?;
    let resident = resolve_recipient(conn, &room.site_id, &req.recipient).await?;
    let (transition, grant_id, new_code) = match &resident {
        Some(r) => {
            let (grant_id, new_code) =
                match unused_room_code(conn, &room.id, &r.id, req.now).await? {
                    Some(id) => (id, false),
                    None => {
                        // The room code names its holder.
                        let mut grant = req.room_code.clone();
                        grant.host_resident_id = Some(r.id.clone());
                        issue_grant(conn, &grant, req.now).await?;
                        (req.room_code.id.clone(), true)
                    }
                };
            (Transition::Deposit, Some(grant_id), new_code)
        }
        None => (Transition::DepositUnassigned, None, false),
    };
    let state = lifecycle::apply(announced.as_ref().map(|p| p.state), transition)?;
    let parcel_id = announced
        .as_ref()
        .map(|p| p.id.clone())
        .unwrap_or_else(|| req.parcel_id.clone());
    let (unit, name) = match &req.recipient {
        Recipient::Resident(_) => (resident.as_ref().map(|r| r.unit.clone()), None),
        Recipient::UnitAndName { unit, name } => (Some(unit.clone()), Some(name.clone())),
    };
    // A pre-advice keeps what the carrier announced of its size; a parcel
    // nobody announced is recorded as the courier describes it.
    let (dims, weight_g, temperature) = match &announced {
        Some(p) => (
            Dimensions::new(p.width_mm, p.height_mm, p.depth_mm),
            p.weight_g,
            p.temperature,
        ),
        None => (req.dims, None, req.temperature),
    };
    upsert_arrived(
        conn,
        &Arrival {
            parcel_id: &parcel_id,
            site_id: &room.site_id,
            announced: announced.is_some(),
            tracking_number: &req.tracking_number,
            carrier: req.carrier.clone(),
            resident_id: resident.as_ref().map(|r| r.id.clone()),
            unit,
            name,
            dims,
            weight_g,
            temperature,
            state,
            place: ArrivedAt::Shelf {
                zone_id: &zone_id,
                room_grant_id: grant_id.as_deref(),
            },
            now: req.now,
        },
    )
    .await?;
    append_event(
        conn,
        &room.site_id,
        &parcel_id,
        transition.event_kind(),
        &req.actor,
        req.now,
        &format!("parcel room {} / zone {}", room.name, req.zone),
        if resident.is_some() {
            "shelved"
        } else {
            "shelved; recipient not recognised, waiting in the manager queue"
        },
    )
    .await?;
    let parcel = parcels::parcel(conn, &parcel_id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })?;
    Ok(Shelved {
        parcel,
        resident,
        room,
        zone: req.zone.clone(),
        grant_id,
        new_code,
    })
}

/// The shelf zone a parcel waits in, if it is in a parcel room.
pub async fn shelf_of(
    conn: &mut AnyConnection,
    parcel_id: &str,
) -> Result<Option<(String, String)>, OpError> {
    let row = sqlx::query(
        "SELECT z.room_id, z.label FROM parcels p JOIN shelf_zones z ON z.id = p.shelf_zone_id WHERE p.id = $1",
    )
    .bind(parcel_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row
        .map(|r| Ok::<_, sqlx::Error>((text(&r, "room_id")?, text(&r, "label")?)))
        .transpose()?)
}

/// A room code was used at a parcel-room door: its holder went in once, so
/// their parcels there are collected and the code ends. Returns the parcels.
pub async fn room_entered(
    conn: &mut AnyConnection,
    grant_id: &str,
    door_id: &str,
    actor: &str,
    at_ms: Millis,
) -> Result<Vec<ParcelRow>, OpError> {
    let grant = sqlx::query("SELECT g.kind, g.site_id, d.kind AS door_kind FROM access_grants g, doors d WHERE g.id = $1 AND d.id = $2")
        .bind(grant_id.to_string())
        .bind(door_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let Some(g) = grant else {
        return Ok(Vec::new());
    };
    if text(&g, "kind")? != "room_code" || text(&g, "door_kind")? != "parcel_room" {
        return Ok(Vec::new());
    }
    let site_id = text(&g, "site_id")?;
    let waiting = parcels::parcels_where(
        conn,
        "p.room_grant_id = $1 AND p.site_id = $2 AND p.state IN ('deposited', 'on_hold', 'expired')",
        grant_id,
        &site_id,
    )
    .await?;
    let mut out = Vec::with_capacity(waiting.len());
    for p in waiting {
        out.push(
            apply_transition(
                conn,
                &p,
                Transition::PickUp,
                actor,
                "collected from the parcel room with the room code",
                at_ms,
            )
            .await?,
        );
    }
    revoke_grant(conn, grant_id, at_ms).await?;
    Ok(out)
}

/// One entry through a door: who (by grant) and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRow {
    pub grant_id: String,
    /// visitor, courier_visit or room_code
    pub kind: String,
    pub label: String,
    pub carrier: Option<String>,
    pub courier_id: Option<String>,
    pub host_resident_id: Option<String>,
    pub door_id: String,
    pub door_name: String,
    pub at_ms: Millis,
}

/// Entries through the given doors between two instants, oldest first (at
/// most `limit`).
pub async fn entries_through(
    conn: &mut AnyConnection,
    site_id: &str,
    kinds: &[&str],
    door_ids: Option<&[String]>,
    since_ms: Millis,
    until_ms: Millis,
    limit: usize,
) -> Result<Vec<EntryRow>, OpError> {
    let rows = sqlx::query(
        "SELECT u.grant_id, g.kind, g.label, g.carrier, g.courier_id, g.host_resident_id, u.door_id, d.name AS door_name, u.at_ms \
         FROM access_uses u JOIN access_grants g ON g.id = u.grant_id JOIN doors d ON d.id = u.door_id \
         WHERE g.site_id = $1 AND u.at_ms >= $2 AND u.at_ms <= $3 ORDER BY u.at_ms, u.device_id, u.device_seq",
    )
    .bind(site_id.to_string())
    .bind(since_ms)
    .bind(until_ms)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let e = EntryRow {
            grant_id: text(r, "grant_id")?,
            kind: text(r, "kind")?,
            label: text(r, "label")?,
            carrier: opt_text(r, "carrier")?,
            courier_id: opt_text(r, "courier_id")?,
            host_resident_id: opt_text(r, "host_resident_id")?,
            door_id: text(r, "door_id")?,
            door_name: text(r, "door_name")?,
            at_ms: int(r, "at_ms")?,
        };
        let door_ok = door_ids.is_none_or(|ids| ids.contains(&e.door_id));
        if kinds.contains(&e.kind.as_str()) && door_ok {
            out.push(e);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}
