//! Residents and couriers acting for themselves: household members, delegate
//! codes, vacation, courier accounts and visits, and parcels on the open
//! shelves of a parcel room with the room code that lets their recipient in
//! once.

use cubby_domain::Millis;
use cubby_domain::dims::Dimensions;
use cubby_domain::lifecycle::{self, ParcelState, Transition};
use cubby_domain::model::TemperatureZone;
use cubby_domain::tracking::TrackingNumber;
use sqlx::AnyConnection;
use sqlx::Row;

use super::access::{NewGrant, issue_grant, revoke_grant};
use super::custody::append_event;
use super::parcels::{
    Arrival, ArrivedAt, Recipient, announced_parcel, apply_transition, resolve_recipient,
    upsert_arrived,
};
use super::tenants::{NewResident, create_resident};
use crate::OpError;
use crate::queries::{self, ParcelRow, ResidentRow, int, opt_text, text};
use cubby_domain::codes::Code;

/// Residents a unit may hold, counting those its residents added.
pub const HOUSEHOLD_LIMIT: i64 = 12;
/// Live delegate codes per parcel.
pub const DELEGATES_PER_PARCEL: i64 = 3;

fn conflict(code: Code, message: &str) -> OpError {
    OpError::Conflict {
        code,
        message: message.into(),
    }
}

// ---------------------------------------------------------------- carriers

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierRow {
    pub id: String,
    pub org_id: String,
    pub code: String,
    pub name: String,
}

pub async fn carrier(conn: &mut AnyConnection, id: &str) -> Result<Option<CarrierRow>, OpError> {
    let row = sqlx::query("SELECT id, org_id, code, name FROM carriers WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row
        .map(|r| {
            Ok::<_, sqlx::Error>(CarrierRow {
                id: text(&r, "id")?,
                org_id: text(&r, "org_id")?,
                code: text(&r, "code")?,
                name: text(&r, "name")?,
            })
        })
        .transpose()?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourierRow {
    pub id: String,
    pub carrier_id: String,
    /// The carrier's code (`dhl`), as carrier-bound tokens carry it.
    pub carrier: String,
    pub org_id: String,
    pub name: String,
    pub created_ms: Millis,
}

const COURIER_SELECT: &str = "SELECT c.id, c.carrier_id, k.code, k.org_id, c.name, c.created_ms \
     FROM couriers c JOIN carriers k ON k.id = c.carrier_id";

fn courier_row(r: &sqlx::any::AnyRow) -> Result<CourierRow, sqlx::Error> {
    Ok(CourierRow {
        id: text(r, "id")?,
        carrier_id: text(r, "carrier_id")?,
        carrier: text(r, "code")?,
        org_id: text(r, "org_id")?,
        name: text(r, "name")?,
        created_ms: int(r, "created_ms")?,
    })
}

/// A personal courier account of a carrier.
pub async fn add_courier(
    conn: &mut AnyConnection,
    id: &str,
    carrier_id: &str,
    name: &str,
    now: Millis,
) -> Result<CourierRow, OpError> {
    carrier(conn, carrier_id)
        .await?
        .ok_or(OpError::NotFound { what: "carrier" })?;
    sqlx::query("INSERT INTO couriers (id, carrier_id, name, created_ms) VALUES ($1, $2, $3, $4)")
        .bind(id.to_string())
        .bind(carrier_id.to_string())
        .bind(name.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    courier(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "courier" })
}

pub async fn courier(conn: &mut AnyConnection, id: &str) -> Result<Option<CourierRow>, OpError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{COURIER_SELECT} WHERE c.id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(courier_row).transpose()?)
}

pub async fn couriers_of_carrier(
    conn: &mut AnyConnection,
    carrier_id: &str,
) -> Result<Vec<CourierRow>, OpError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{COURIER_SELECT} WHERE c.carrier_id = $1 ORDER BY c.created_ms, c.id"
    )))
    .bind(carrier_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(courier_row).collect::<Result<_, _>>()?)
}

/// Binds a token just created to the resident or courier it acts for.
pub async fn bind_token(
    conn: &mut AnyConnection,
    token_id: &str,
    resident_id: Option<&str>,
    courier_id: Option<&str>,
) -> Result<(), OpError> {
    sqlx::query("UPDATE api_tokens SET resident_id = $1, courier_id = $2 WHERE id = $3")
        .bind(resident_id.map(str::to_string))
        .bind(courier_id.map(str::to_string))
        .bind(token_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// --------------------------------------------------------------- household

#[derive(Debug, Clone)]
pub struct MemberRow {
    pub resident: ResidentRow,
    /// The resident who added this one; `None` when staff did.
    pub added_by: Option<String>,
}

/// The live residents of a unit.
pub async fn household(
    conn: &mut AnyConnection,
    site_id: &str,
    unit: &str,
) -> Result<Vec<MemberRow>, OpError> {
    let rows = sqlx::query("SELECT id, added_by FROM residents WHERE site_id = $1 AND unit = $2 AND removed_ms IS NULL ORDER BY created_ms, id")
        .bind(site_id.to_string())
        .bind(unit.to_string())
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = text(r, "id")?;
        if let Some(resident) = queries::resident(conn, &id).await? {
            out.push(MemberRow {
                resident,
                added_by: opt_text(r, "added_by")?,
            });
        }
    }
    Ok(out)
}

/// A resident adds someone who lives with them (same site and unit).
pub async fn add_household_member(
    conn: &mut AnyConnection,
    host: &ResidentRow,
    member: &NewResident,
    now: Millis,
) -> Result<ResidentRow, OpError> {
    if member.site_id != host.site_id || member.unit != host.unit {
        return Err(conflict(
            Code::WrongUnit,
            "a household member lives in the same unit",
        ));
    }
    let live = household(conn, &host.site_id, &host.unit).await?.len() as i64;
    if live >= HOUSEHOLD_LIMIT {
        return Err(conflict(
            Code::HouseholdFull,
            "a unit holds at most 12 residents; remove someone first",
        ));
    }
    let row = create_resident(conn, member, now).await?;
    sqlx::query("UPDATE residents SET added_by = $1 WHERE id = $2")
        .bind(host.id.clone())
        .bind(row.id.clone())
        .execute(&mut *conn)
        .await?;
    Ok(row)
}

/// A resident removes a member their household added. Residents staff
/// registered are staff's to remove. The member's tokens stop working and no
/// new parcel is matched to them; parcels already waiting stay theirs.
pub async fn remove_household_member(
    conn: &mut AnyConnection,
    host: &ResidentRow,
    member_id: &str,
    now: Millis,
) -> Result<(), OpError> {
    let members = household(conn, &host.site_id, &host.unit).await?;
    let member = members
        .iter()
        .find(|m| m.resident.id == member_id && m.resident.id != host.id)
        .ok_or(OpError::NotFound {
            what: "household member",
        })?;
    if member.added_by.is_none() {
        return Err(conflict(
            Code::AddedByStaff,
            "this resident was registered by staff; ask them to remove them",
        ));
    }
    sqlx::query("UPDATE residents SET removed_ms = $1 WHERE id = $2")
        .bind(now)
        .bind(member_id.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE resident_id = $1")
        .bind(member_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether a resident is live (not removed from their household).
pub async fn resident_is_live(conn: &mut AnyConnection, id: &str) -> Result<bool, OpError> {
    let row = sqlx::query("SELECT removed_ms FROM residents WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<Option<i64>, _>("removed_ms")?.is_none(),
        None => false,
    })
}

// ---------------------------------------------------------------- vacation

/// Until when a resident is away (their new parcels are held), if they are.
pub async fn away_until(
    conn: &mut AnyConnection,
    resident_id: &str,
) -> Result<Option<Millis>, OpError> {
    let row = sqlx::query("SELECT away_until_ms FROM residents WHERE id = $1")
        .bind(resident_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => r.try_get::<Option<i64>, _>("away_until_ms")?,
        None => None,
    })
}

pub async fn set_away_until(
    conn: &mut AnyConnection,
    resident_id: &str,
    until: Option<Millis>,
) -> Result<(), OpError> {
    sqlx::query("UPDATE residents SET away_until_ms = $1 WHERE id = $2")
        .bind(until)
        .bind(resident_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------- delegate codes

/// A delegate code to store: a keypad code that opens one parcel's
/// compartment, shared by its recipient with someone else.
#[derive(Debug, Clone)]
pub struct NewDelegate {
    pub id: String,
    pub parcel_id: String,
    pub resident_id: String,
    pub name: String,
    /// MAC of the code under the server secret (scoped to the locker).
    pub mac: [u8; 32],
    /// MAC under the locker's credential key, for the agent's cache.
    pub local_mac: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateRow {
    pub id: String,
    pub parcel_id: String,
    pub locker_id: String,
    pub name: String,
    pub active: bool,
    pub created_ms: Millis,
    pub revoked_ms: Option<Millis>,
}

fn delegate_row(r: &sqlx::any::AnyRow) -> Result<DelegateRow, sqlx::Error> {
    Ok(DelegateRow {
        id: text(r, "id")?,
        parcel_id: opt_text(r, "parcel_id")?.unwrap_or_default(),
        locker_id: text(r, "locker_id")?,
        name: opt_text(r, "delegate_name")?.unwrap_or_default(),
        active: int(r, "active")? == 1,
        created_ms: int(r, "created_ms")?,
        revoked_ms: r.try_get("revoked_ms")?,
    })
}

const DELEGATE_SELECT: &str = "SELECT id, parcel_id, locker_id, delegate_name, active, created_ms, revoked_ms FROM pickup_credentials";

/// Stores a delegate code for a parcel waiting in a locker for `resident_id`.
pub async fn issue_delegate(
    conn: &mut AnyConnection,
    d: &NewDelegate,
    now: Millis,
) -> Result<DelegateRow, OpError> {
    let parcel = queries::parcel(conn, &d.parcel_id)
        .await?
        .filter(|p| p.resident_id.as_deref() == Some(d.resident_id.as_str()))
        .ok_or(OpError::NotFound { what: "parcel" })?;
    let Some(locker_id) = parcel.locker_id.clone().filter(|_| {
        matches!(
            parcel.state,
            ParcelState::Deposited | ParcelState::OnHold | ParcelState::Expired
        )
    }) else {
        return Err(conflict(
            Code::NotCollectable,
            "only a parcel waiting in a locker can be shared with a delegate",
        ));
    };
    let live = sqlx::query("SELECT COUNT(*) AS n FROM pickup_credentials WHERE parcel_id = $1 AND kind = 'delegate' AND active = 1")
        .bind(parcel.id.clone())
        .fetch_one(&mut *conn)
        .await?;
    if int(&live, "n")? >= DELEGATES_PER_PARCEL {
        return Err(conflict(
            Code::TooManyDelegates,
            "a parcel has at most 3 live delegate codes; revoke one first",
        ));
    }
    let inserted = sqlx::query(
        "INSERT INTO pickup_credentials (id, locker_id, resident_id, kind, mac, local_mac, parcel_id, active, failures, created_ms, issued_by, delegate_name) \
         VALUES ($1, $2, $3, 'delegate', $4, $5, $6, 1, 0, $7, $8, $9) ON CONFLICT (mac) DO NOTHING",
    )
    .bind(d.id.clone())
    .bind(locker_id)
    .bind(d.resident_id.clone())
    .bind(d.mac.to_vec())
    .bind(d.local_mac.to_vec())
    .bind(parcel.id.clone())
    .bind(now)
    .bind(format!("resident:{}", d.resident_id))
    .bind(d.name.clone())
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(conflict(
            Code::CredentialCollision,
            "a fresh code collided; retry",
        ));
    }
    delegate(conn, &d.id)
        .await?
        .ok_or(OpError::NotFound { what: "delegate" })
}

pub async fn delegate(conn: &mut AnyConnection, id: &str) -> Result<Option<DelegateRow>, OpError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{DELEGATE_SELECT} WHERE id = $1 AND kind = 'delegate'"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(delegate_row).transpose()?)
}

/// Every delegate code a resident issued, newest first.
pub async fn delegates_of_resident(
    conn: &mut AnyConnection,
    resident_id: &str,
) -> Result<Vec<DelegateRow>, OpError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{DELEGATE_SELECT} WHERE resident_id = $1 AND kind = 'delegate' ORDER BY created_ms DESC, id"
    )))
    .bind(resident_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(delegate_row).collect::<Result<_, _>>()?)
}

/// Revokes a delegate code of `resident_id`; a second revocation is a no-op.
pub async fn revoke_delegate(
    conn: &mut AnyConnection,
    resident_id: &str,
    id: &str,
    now: Millis,
) -> Result<DelegateRow, OpError> {
    let d = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{DELEGATE_SELECT} WHERE id = $1 AND kind = 'delegate' AND resident_id = $2"
    )))
    .bind(id.to_string())
    .bind(resident_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(delegate_row)
    .transpose()?
    .ok_or(OpError::NotFound { what: "delegate" })?;
    if d.revoked_ms.is_none() {
        sqlx::query("UPDATE pickup_credentials SET active = 0, revoked_ms = $1 WHERE id = $2")
            .bind(now)
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    delegate(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "delegate" })
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
    let parcel = queries::parcel(conn, &parcel_id)
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
    let waiting = queries::parcels_where(
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

/// Raises a site-level incident (no device involved).
pub async fn raise_site_incident(
    conn: &mut AnyConnection,
    id: &str,
    site_id: &str,
    parcel_id: Option<&str>,
    kind: &str,
    detail: &str,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO incidents (id, site_id, parcel_id, kind, detail, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.to_string())
    .bind(site_id.to_string())
    .bind(parcel_id.map(str::to_string))
    .bind(kind.to_string())
    .bind(detail.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A resident's parcels, newest first (at most `limit`).
pub async fn parcels_of_resident(
    conn: &mut AnyConnection,
    site_id: &str,
    resident_id: &str,
    limit: usize,
) -> Result<Vec<ParcelRow>, OpError> {
    let mut rows = queries::parcels_where(
        conn,
        "p.site_id = $1 AND p.resident_id = $2",
        site_id,
        resident_id,
    )
    .await?;
    rows.reverse();
    rows.truncate(limit);
    Ok(rows)
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
    let Some(resident) = queries::resident(conn, &host).await? else {
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
    let msg = super::Message {
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
    super::enqueue(conn, &msg, now).await?;
    Ok(true)
}

/// A resident's live keypad credential at a locker: the one a phone
/// pick-up names.
pub async fn code_credential_at(
    conn: &mut AnyConnection,
    locker_id: &str,
    resident_id: &str,
) -> Result<Option<String>, OpError> {
    let row = sqlx::query(
        "SELECT id FROM pickup_credentials WHERE locker_id = $1 AND resident_id = $2 AND kind = 'keypad' AND active = 1",
    )
    .bind(locker_id.to_string())
    .bind(resident_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| text(&r, "id")).transpose()?)
}

/// Marks an incident of a site resolved (the first resolution stands).
/// Returns false when the site has no such incident.
pub async fn resolve_incident(
    conn: &mut AnyConnection,
    site_id: &str,
    incident_id: &str,
    now: Millis,
) -> Result<bool, OpError> {
    let found = sqlx::query("SELECT 1 AS one FROM incidents WHERE id = $1 AND site_id = $2")
        .bind(incident_id.to_string())
        .bind(site_id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if found {
        sqlx::query("UPDATE incidents SET resolved_ms = $1 WHERE id = $2 AND resolved_ms IS NULL")
            .bind(now)
            .bind(incident_id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(found)
}

/// The carriers of an organisation, by code.
pub async fn carriers_of_org(
    conn: &mut AnyConnection,
    org_id: &str,
) -> Result<Vec<CarrierRow>, OpError> {
    let rows =
        sqlx::query("SELECT id, org_id, code, name FROM carriers WHERE org_id = $1 ORDER BY code")
            .bind(org_id.to_string())
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(CarrierRow {
                id: text(r, "id")?,
                org_id: text(r, "org_id")?,
                code: text(r, "code")?,
                name: text(r, "name")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// The language a resident's notices are written in.
pub async fn set_language(
    conn: &mut AnyConnection,
    resident_id: &str,
    language: &str,
) -> Result<(), OpError> {
    sqlx::query("UPDATE residents SET language = $1 WHERE id = $2")
        .bind(language.to_string())
        .bind(resident_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
