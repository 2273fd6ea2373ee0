//! Residents: registration, households, vacation, language, delegate codes.

use cubby_domain::Millis;
use cubby_domain::codes::Code;
use cubby_domain::lifecycle::ParcelState;
use cubby_domain::model::Language;
use cubby_domain::model::ReachBand;
use cubby_domain::model::name_key;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

pub mod export;

use crate::OpError;
use crate::parcels;
use crate::rows::{conflict, int, locked, opt_text, text};

#[derive(Debug, Clone, Serialize)]
pub struct ResidentRow {
    pub id: String,
    pub site_id: String,
    pub unit: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: String,
    pub reach_min_mm: Option<i64>,
    pub reach_max_mm: Option<i64>,
    /// Raised by every edit; an edit names the version it read.
    pub version: i64,
}

impl ResidentRow {
    /// Where a notice to this resident goes: (channel, recipient). Without
    /// email or phone, the site's concierge passes it on.
    pub fn contact(&self, site_name: &str) -> (&'static str, String) {
        match (&self.email, &self.phone) {
            (Some(email), _) => ("email", email.clone()),
            (None, Some(phone)) => ("sms", phone.clone()),
            (None, None) => (
                "staff",
                format!("concierge of {site_name} for unit {}", self.unit),
            ),
        }
    }
}

fn resident_row(r: &AnyRow) -> Result<ResidentRow, sqlx::Error> {
    Ok(ResidentRow {
        id: text(r, "id")?,
        site_id: text(r, "site_id")?,
        unit: text(r, "unit")?,
        name: text(r, "name")?,
        email: opt_text(r, "email")?,
        phone: opt_text(r, "phone")?,
        language: text(r, "language")?,
        reach_min_mm: r.try_get("reach_min_mm")?,
        reach_max_mm: r.try_get("reach_max_mm")?,
        version: int(r, "version")?,
    })
}

pub async fn resident(conn: &mut AnyConnection, id: &str) -> Result<Option<ResidentRow>, OpError> {
    let row = sqlx::query("SELECT id, site_id, unit, name, email, phone, language, reach_min_mm, reach_max_mm, version FROM residents WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(resident_row).transpose()?)
}

pub async fn residents_in_unit(
    conn: &mut AnyConnection,
    site_id: &str,
    unit: &str,
) -> Result<Vec<(ResidentRow, String)>, OpError> {
    let rows = sqlx::query(
        "SELECT id, site_id, unit, name, name_key, email, phone, language, reach_min_mm, reach_max_mm, version FROM residents WHERE site_id = $1 AND unit = $2 AND removed_ms IS NULL ORDER BY id",
    )
    .bind(site_id.to_string())
    .bind(unit.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((resident_row(r)?, text(r, "name_key")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

pub async fn residents(
    conn: &mut AnyConnection,
    site_id: &str,
    limit: i64,
    after: &str,
) -> Result<Vec<ResidentRow>, OpError> {
    let rows = sqlx::query(
        "SELECT id, site_id, unit, name, email, phone, language, reach_min_mm, reach_max_mm, version FROM residents WHERE site_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(site_id.to_string())
    .bind(after.to_string())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(resident_row).collect::<Result<_, _>>()?)
}

/// Residents registered on a site.
pub async fn residents_on_site(conn: &mut AnyConnection, site_id: &str) -> Result<u32, OpError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM residents WHERE site_id = $1")
        .bind(site_id.to_string())
        .fetch_one(&mut *conn)
        .await?;
    Ok(u32::try_from(int(&row, "n")?).unwrap_or(u32::MAX))
}

/// Residents a unit may hold, counting those its residents added.
pub const HOUSEHOLD_LIMIT: i64 = 12;

/// Live delegate codes per parcel.
pub const DELEGATES_PER_PARCEL: i64 = 3;

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
        if let Some(resident) = resident(conn, &id).await? {
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
    // Their tokens stop at once, and the list says when.
    sqlx::query(
        "UPDATE api_tokens SET revoked = 1, revoked_ms = COALESCE(revoked_ms, $1) WHERE resident_id = $2",
    )
    .bind(now)
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
    let parcel = parcels::parcel(conn, &d.parcel_id)
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

/// What an edit of a resident changes; `None` leaves a field as it is
/// (`Some(None)` clears an optional one).
#[derive(Debug, Clone, Default)]
pub struct ResidentEdit {
    pub name: Option<String>,
    pub unit: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub language: Option<Language>,
    pub reach: Option<Option<ReachBand>>,
}

/// Edits a live resident if it is still at `expected_version` (else
/// `edit_conflict`): the resident as now stored, and its new version. A new
/// unit label creates the unit, as registration does.
pub async fn edit_resident(
    conn: &mut AnyConnection,
    id: &str,
    expected_version: i64,
    edit: &ResidentEdit,
) -> Result<(ResidentRow, i64), OpError> {
    let current = sqlx::query(locked!(
        conn,
        "SELECT version FROM residents WHERE id = $1 AND removed_ms IS NULL"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(OpError::NotFound { what: "resident" })?;
    if int(&current, "version")? != expected_version {
        return Err(conflict(
            Code::EditConflict,
            "the resident was changed since you read them: read again and redo the edit",
        ));
    }
    let mut r = resident(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "resident" })?;
    if let Some(name) = &edit.name {
        r.name = name.clone();
    }
    if let Some(unit) = &edit.unit {
        sqlx::query("INSERT INTO units (site_id, label) VALUES ($1, $2) ON CONFLICT (site_id, label) DO NOTHING")
            .bind(r.site_id.clone())
            .bind(unit.clone())
            .execute(&mut *conn)
            .await?;
        r.unit = unit.clone();
    }
    if let Some(email) = &edit.email {
        r.email = email.clone();
    }
    if let Some(phone) = &edit.phone {
        r.phone = phone.clone();
    }
    if let Some(language) = edit.language {
        r.language = language.as_str().to_string();
    }
    if let Some(reach) = edit.reach {
        r.reach_min_mm = reach.map(|b| i64::from(b.min_mm));
        r.reach_max_mm = reach.map(|b| i64::from(b.max_mm));
    }
    let version = expected_version + 1;
    r.version = version;
    sqlx::query(
        "UPDATE residents SET name = $1, name_key = $2, unit = $3, email = $4, phone = $5, language = $6, \
         reach_min_mm = $7, reach_max_mm = $8, version = $9 WHERE id = $10",
    )
    .bind(r.name.clone())
    .bind(name_key(&r.name))
    .bind(r.unit.clone())
    .bind(r.email.clone())
    .bind(r.phone.clone())
    .bind(r.language.clone())
    .bind(r.reach_min_mm)
    .bind(r.reach_max_mm)
    .bind(version)
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok((r, version))
}

#[derive(Debug, Clone)]
pub struct NewResident {
    pub id: String,
    pub site_id: String,
    pub unit: String,
    pub building_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Language,
    pub reach: Option<ReachBand>,
}

/// The recipient a carrier names at a public pick-up point: the live one
/// of the site with that email (or phone), else a new one. They have no
/// unit of their own; everything else (codes, notices, export, erasure) is
/// as for any resident.
pub async fn recipient_at_point(
    conn: &mut AnyConnection,
    r: &NewResident,
    now: Millis,
) -> Result<ResidentRow, OpError> {
    // The same person only when every contact given agrees (a shared or
    // recycled phone must not route someone else's code), and only among
    // the point's own walk-in recipients.
    let found = sqlx::query(
        "SELECT id FROM residents WHERE site_id = $1 AND unit = $2 AND removed_ms IS NULL \
         AND (email = $3 OR (email IS NULL AND $3 IS NULL)) AND (phone = $4 OR (phone IS NULL AND $4 IS NULL)) ORDER BY created_ms, id LIMIT 1",
    )
    .bind(r.site_id.clone())
    .bind(r.unit.clone())
    .bind(r.email.clone())
    .bind(r.phone.clone())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = found
        && let Some(existing) = resident(conn, &text(&row, "id")?).await?
    {
        return Ok(existing);
    }
    create_resident(conn, r, now).await
}

/// Creates a resident, and their unit if it is new.
pub async fn create_resident(
    conn: &mut AnyConnection,
    r: &NewResident,
    now: Millis,
) -> Result<ResidentRow, OpError> {
    // A unit belongs to a building of the resident's own site, or to none.
    if let Some(building) = &r.building_id {
        let found = sqlx::query("SELECT id FROM buildings WHERE id = $1 AND site_id = $2")
            .bind(building.clone())
            .bind(r.site_id.clone())
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Err(OpError::Invalid(cubby_domain::model::Invalid::new(
                "building_id",
                "no such building at this site",
            )));
        }
    }
    sqlx::query("INSERT INTO units (site_id, label, building_id) VALUES ($1, $2, $3) ON CONFLICT (site_id, label) DO NOTHING")
        .bind(r.site_id.clone())
        .bind(r.unit.clone())
        .bind(r.building_id.clone())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO residents (id, site_id, unit, name, name_key, email, phone, language, reach_min_mm, reach_max_mm, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(r.id.clone())
    .bind(r.site_id.clone())
    .bind(r.unit.clone())
    .bind(r.name.clone())
    .bind(name_key(&r.name))
    .bind(r.email.clone())
    .bind(r.phone.clone())
    .bind(r.language.as_str().to_string())
    .bind(r.reach.map(|b| i64::from(b.min_mm)))
    .bind(r.reach.map(|b| i64::from(b.max_mm)))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(ResidentRow {
        id: r.id.clone(),
        site_id: r.site_id.clone(),
        unit: r.unit.clone(),
        name: r.name.clone(),
        email: r.email.clone(),
        phone: r.phone.clone(),
        language: r.language.as_str().to_string(),
        reach_min_mm: r.reach.map(|b| i64::from(b.min_mm)),
        reach_max_mm: r.reach.map(|b| i64::from(b.max_mm)),
        version: 1,
    })
}

// --------------------------------------------------------------- move-out

/// What a move-out ended.
#[derive(Debug, Clone, Default)]
pub struct MoveOut {
    /// Parcels that were waiting for the resident, now in the manager's queue.
    pub parcels_queued: Vec<String>,
    /// Lockers whose credential caches changed (codes stopped).
    pub lockers: Vec<String>,
    /// Controllers whose door caches changed (visitor PINs stopped).
    pub devices: Vec<String>,
    pub tokens_revoked: u64,
    pub passkeys_removed: u64,
    pub codes_revoked: u64,
    pub visitor_grants_revoked: u64,
}

/// Ends a live resident's tenancy in one transaction: pick-up and delegate
/// codes, tokens, passkeys, invitations, push subscriptions and the visitor
/// PINs they host stop; parcels waiting for them go to the manager's queue
/// (unassigned, their custody saying why) and pre-advised ones lose the
/// link; household members they added stay, as staff's; the resident is
/// marked moved out. What is left of their data follows the retention policy.
pub async fn move_out(
    conn: &mut AnyConnection,
    resident_id: &str,
    actor: &str,
    now: Millis,
) -> Result<MoveOut, OpError> {
    let live = sqlx::query(locked!(
        conn,
        "SELECT id FROM residents WHERE id = $1 AND removed_ms IS NULL"
    ))
    .bind(resident_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    if live.is_none() {
        return Err(OpError::NotFound { what: "resident" });
    }
    let mut out = MoveOut::default();
    let rid = || resident_id.to_string();
    // Parcels in lockers go to the manager's queue.
    let waiting: Vec<String> = crate::rows::texts(
        conn,
        "SELECT id FROM parcels WHERE resident_id = $1 AND state IN ('deposited', 'on_hold') ORDER BY id",
        resident_id,
        "id",
    )
    .await?;
    for pid in &waiting {
        let (p, _) = parcels::transition(
            conn,
            pid,
            cubby_domain::lifecycle::Transition::Unassign,
            None,
            actor,
            "the recipient moved out",
            now,
        )
        .await?;
        if let Some(cid) = &p.compartment_id {
            sqlx::query(
                "UPDATE compartment_holders SET recipient_key = $1 WHERE compartment_id = $2",
            )
            .bind(format!("unassigned:{pid}"))
            .bind(cid.clone())
            .execute(&mut *conn)
            .await?;
        }
    }
    // Returns they announced and never dropped off end with their codes.
    let unsent: Vec<String> = crate::rows::texts(
        conn,
        "SELECT id FROM parcels WHERE resident_id = $1 AND state = 'return_announced' ORDER BY id",
        resident_id,
        "id",
    )
    .await?;
    let mut unsent_lockers = Vec::new();
    for pid in &unsent {
        let (p, _) = parcels::transition(
            conn,
            pid,
            cubby_domain::lifecycle::Transition::Cancel,
            None,
            actor,
            "the sender moved out",
            now,
        )
        .await?;
        unsent_lockers.extend(p.locker_id);
    }
    sqlx::query(
        "UPDATE parcels SET resident_id = NULL WHERE resident_id = $1 AND state IN ('announced', 'unassigned')",
    )
    .bind(rid())
    .execute(&mut *conn)
    .await?;
    out.parcels_queued = waiting;
    // Their codes stop at every locker.
    out.lockers = crate::rows::texts(
        conn,
        "SELECT DISTINCT locker_id FROM pickup_credentials WHERE resident_id = $1 AND active = 1 ORDER BY locker_id",
        resident_id,
        "locker_id",
    )
    .await?;
    for l in unsent_lockers {
        if !out.lockers.contains(&l) {
            out.lockers.push(l);
        }
    }
    out.codes_revoked = sqlx::query(
        "UPDATE pickup_credentials SET active = 0, revoked_ms = $1 WHERE resident_id = $2 AND active = 1",
    )
    .bind(now)
    .bind(rid())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // Their visitor PINs stop at every door.
    let grants: Vec<String> = crate::rows::texts(
        conn,
        "SELECT id FROM access_grants WHERE host_resident_id = $1 AND revoked_ms IS NULL ORDER BY id",
        resident_id,
        "id",
    )
    .await?;
    for gid in &grants {
        if let Some(g) = crate::access::grant(conn, gid).await? {
            let doors: Vec<String> = g.rule.doors.iter().cloned().collect();
            out.devices
                .extend(crate::access::devices_of_doors(conn, &doors).await?);
        }
        crate::access::revoke_grant(conn, gid, now).await?;
    }
    out.devices.sort();
    out.devices.dedup();
    out.visitor_grants_revoked = grants.len() as u64;
    out.tokens_revoked = sqlx::query(
        "UPDATE api_tokens SET revoked = 1, revoked_ms = COALESCE(revoked_ms, $1) WHERE resident_id = $2 AND revoked = 0",
    )
    .bind(now)
    .bind(rid())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    out.passkeys_removed = sqlx::query("DELETE FROM passkeys WHERE resident_id = $1")
        .bind(rid())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    for table in ["portal_invites", "push_subscriptions"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM {table} WHERE resident_id = $1"
        )))
        .bind(rid())
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query("UPDATE residents SET added_by = NULL WHERE added_by = $1")
        .bind(rid())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE residents SET removed_ms = $1, away_until_ms = NULL WHERE id = $2")
        .bind(now)
        .bind(rid())
        .execute(&mut *conn)
        .await?;
    Ok(out)
}

// ----------------------------------------------------------------- erasure

/// The statements of an erasure, in order (each binds the resident id).
const ERASURE: &[(&str, &str)] = &[
    (
        "outbox",
        "DELETE FROM outbox WHERE payload LIKE '%' || $1 || '%'",
    ),
    (
        "idempotency",
        "DELETE FROM idempotency WHERE body LIKE '%' || $1 || '%'",
    ),
    (
        "web_sessions",
        "DELETE FROM web_sessions WHERE token_id IN (SELECT id FROM api_tokens WHERE resident_id = $1)",
    ),
    (
        "pickup_credentials",
        "DELETE FROM pickup_credentials WHERE resident_id = $1",
    ),
    ("passkeys", "DELETE FROM passkeys WHERE resident_id = $1"),
    (
        "portal_invites",
        "DELETE FROM portal_invites WHERE resident_id = $1",
    ),
    (
        "push_subscriptions",
        "DELETE FROM push_subscriptions WHERE resident_id = $1",
    ),
    (
        "webauthn_ceremonies",
        "DELETE FROM webauthn_ceremonies WHERE subject = $1",
    ),
    (
        "compartment_holders",
        "UPDATE compartment_holders SET recipient_key = 'unassigned:' || compartment_id WHERE recipient_key = $1",
    ),
    (
        "parcels",
        "UPDATE parcels SET resident_id = NULL, recipient_name = NULL, recipient_unit = NULL WHERE resident_id = $1",
    ),
    (
        "access_grants",
        "UPDATE access_grants SET host_resident_id = NULL, label = 'erased' WHERE host_resident_id = $1",
    ),
    (
        "api_tokens",
        "UPDATE api_tokens SET resident_id = NULL, label = 'erased' WHERE resident_id = $1",
    ),
    (
        "residents",
        "UPDATE residents SET added_by = NULL WHERE added_by = $1",
    ),
    ("residents", "DELETE FROM residents WHERE id = $1"),
];

/// Erases a resident (GDPR Art. 17) in one transaction, moving them out
/// first if they still live here. Their row and every row that is theirs
/// alone are deleted; rows that other records still need (parcels, grants,
/// tokens) lose the link and the personal fields; queued and sent notices
/// to them and stored answers that named them are deleted. The custody and
/// audit chains are not touched: they name people by pseudonymous id only,
/// and with the row gone the id names nobody. Rows changed, by table.
pub async fn erase(
    conn: &mut AnyConnection,
    resident_id: &str,
    actor: &str,
    now: Millis,
) -> Result<std::collections::BTreeMap<&'static str, u64>, OpError> {
    let r = resident(conn, resident_id)
        .await?
        .ok_or(OpError::NotFound { what: "resident" })?;
    if resident_is_live(conn, resident_id).await? {
        move_out(conn, resident_id, actor, now).await?;
    }
    let mut changed = std::collections::BTreeMap::new();
    // Notices to them (their address, or naming them) and stored answers that named them.
    for contact in [r.email.clone(), r.phone.clone()].into_iter().flatten() {
        let n = sqlx::query("DELETE FROM outbox WHERE recipient = $1")
            .bind(contact)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        *changed.entry("outbox").or_insert(0) += n;
    }
    for (table, sql) in ERASURE {
        let n = sqlx::query(*sql)
            .bind(resident_id.to_string())
            .execute(&mut *conn)
            .await?
            .rows_affected();
        *changed.entry(*table).or_insert(0) += n;
    }
    Ok(changed)
}

/// When the resident acknowledged the site's community rules, if ever.
pub async fn rules_acknowledged(
    conn: &mut AnyConnection,
    resident_id: &str,
) -> Result<Option<Millis>, OpError> {
    let row = sqlx::query("SELECT rules_acknowledged_ms FROM residents WHERE id = $1")
        .bind(resident_id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(OpError::NotFound { what: "resident" })?;
    Ok(row.try_get::<Option<i64>, _>("rules_acknowledged_ms")?)
}

/// Records that the resident read the community rules; the first time
/// stays (acknowledging again changes nothing).
pub async fn acknowledge_rules(
    conn: &mut AnyConnection,
    resident_id: &str,
    now: Millis,
) -> Result<Millis, OpError> {
    sqlx::query(
        "UPDATE residents SET rules_acknowledged_ms = COALESCE(rules_acknowledged_ms, $2) WHERE id = $1",
    )
    .bind(resident_id.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(rules_acknowledged(conn, resident_id).await?.unwrap_or(now))
}
