//! Locker banks and their compartments, the locker row lock, and the keypad throttle.

use cubby_domain::Millis;
use cubby_domain::allocation::CarrierQuotas;
use cubby_domain::allocation::CompartmentView;
use cubby_domain::allocation::Contents;
use cubby_domain::codes::Code;
use cubby_domain::dims::Dimensions;
use cubby_domain::model::CompartmentState;
use cubby_domain::model::CompartmentStatus;
use cubby_domain::model::SizeClass;
use cubby_domain::model::TemperatureZone;
use cubby_domain::overflow::PlanPosition;
use cubby_domain::throttle::KeypadState;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

use crate::OpError;
use crate::rows::{conflict, int, locked, mm, opt_text, parse, text};
use crate::tenants;

#[derive(Debug, Clone, Serialize)]
pub struct LockerRow {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub carrier_quotas: CarrierQuotas,
    /// Raised by every edit; an edit names the version it read.
    pub version: i64,
    /// Where it stands on the site plan (for the nearest overflow).
    pub plan_position: Option<PlanPosition>,
}

fn locker_row(r: &AnyRow) -> Result<LockerRow, sqlx::Error> {
    let quotas: String = text(r, "carrier_quotas")?;
    Ok(LockerRow {
        id: text(r, "id")?,
        site_id: text(r, "site_id")?,
        name: text(r, "name")?,
        carrier_quotas: serde_json::from_str(&quotas).map_err(|e| sqlx::Error::Decode(e.into()))?,
        version: int(r, "version")?,
        plan_position: {
            let x: Option<i64> = r.try_get("plan_x_m")?;
            let y: Option<i64> = r.try_get("plan_y_m")?;
            x.zip(y).map(|(x_m, y_m)| PlanPosition { x_m, y_m })
        },
    })
}

pub async fn locker(conn: &mut AnyConnection, id: &str) -> Result<Option<LockerRow>, OpError> {
    let row =
        sqlx::query("SELECT id, site_id, name, carrier_quotas, version, plan_x_m, plan_y_m FROM lockers WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.as_ref().map(locker_row).transpose()?)
}

pub async fn lockers(conn: &mut AnyConnection, site_id: &str) -> Result<Vec<LockerRow>, OpError> {
    let rows = sqlx::query("SELECT id, site_id, name, carrier_quotas, version, plan_x_m, plan_y_m FROM lockers WHERE site_id = $1 ORDER BY created_ms, id")
        .bind(site_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(locker_row).collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, Serialize)]
pub struct CompartmentRow {
    pub id: String,
    pub label: String,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub size_class: String,
    pub temperature: TemperatureZone,
    pub height_above_floor_mm: u32,
    pub status: CompartmentStatus,
    /// Why it is out of service, when it is.
    pub status_reason: Option<String>,
    pub state: CompartmentState,
    #[serde(skip)]
    pub holder: Option<Holding>,
}

/// Who holds an occupied compartment.
#[derive(Debug, Clone, Serialize)]
pub struct Holding {
    /// The recipient all parcels inside belong to.
    pub recipient_key: String,
    /// The carrier whose courier first opened it.
    pub carrier: Option<String>,
    /// The depositor (actor) who opened it for its first parcel, and when.
    pub opened_by: Option<String>,
    pub opened_ms: Option<i64>,
}

/// Compartments of a locker with who holds them, in label order.
pub async fn compartments(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<Vec<CompartmentRow>, OpError> {
    let rows = sqlx::query(
        "SELECT c.id, c.label, c.width_mm, c.height_mm, c.depth_mm, c.size_class, c.temperature, c.height_above_floor_mm, c.status, c.status_reason, \
         h.recipient_key, h.carrier, h.opened_by, h.opened_ms FROM compartments c LEFT JOIN compartment_holders h ON h.compartment_id = c.id \
         WHERE c.locker_id = $1 ORDER BY c.label",
    )
    .bind(locker_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let status: CompartmentStatus = parse(r, "status")?;
        let holder = opt_text(r, "recipient_key")?
            .map(|recipient_key| {
                Ok::<_, sqlx::Error>(Holding {
                    recipient_key,
                    carrier: opt_text(r, "carrier")?,
                    opened_by: opt_text(r, "opened_by")?,
                    opened_ms: r.try_get::<Option<i64>, _>("opened_ms")?,
                })
            })
            .transpose()?;
        let state = match (status, &holder) {
            (CompartmentStatus::OutOfService, _) => CompartmentState::OutOfService,
            (_, Some(_)) => CompartmentState::Occupied,
            (CompartmentStatus::Reserved, None) => CompartmentState::Reserved,
            (CompartmentStatus::Available, None) => CompartmentState::Available,
        };
        out.push(CompartmentRow {
            id: text(r, "id")?,
            label: text(r, "label")?,
            width_mm: mm(r, "width_mm")?,
            height_mm: mm(r, "height_mm")?,
            depth_mm: mm(r, "depth_mm")?,
            size_class: text(r, "size_class")?,
            temperature: parse(r, "temperature")?,
            height_above_floor_mm: mm(r, "height_above_floor_mm")?,
            status,
            status_reason: opt_text(r, "status_reason")?,
            state,
            holder,
        });
    }
    Ok(out)
}

/// What allocation needs: compartments with the sizes of the parcels inside.
pub async fn allocation_view(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<Vec<CompartmentView>, OpError> {
    let compartments = compartments(conn, locker_id).await?;
    let rows = sqlx::query(
        "SELECT compartment_id, width_mm, height_mm, depth_mm FROM parcels WHERE locker_id = $1 AND compartment_id IS NOT NULL \
         AND state IN ('deposited', 'on_hold', 'unassigned', 'expired', 'dropped_off')",
    )
    .bind(locker_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut inside: BTreeMap<String, Vec<Dimensions>> = BTreeMap::new();
    for r in &rows {
        inside
            .entry(text(r, "compartment_id")?)
            .or_default()
            .push(Dimensions::new(
                mm(r, "width_mm")?,
                mm(r, "height_mm")?,
                mm(r, "depth_mm")?,
            ));
    }
    Ok(compartments
        .into_iter()
        .map(|c| CompartmentView {
            contents: c.holder.map(|h| Contents {
                recipient_key: h.recipient_key,
                carrier: h.carrier,
                parcels: inside.remove(&c.id).unwrap_or_default(),
                opened_by: h.opened_by,
                opened_ms: h.opened_ms,
            }),
            inner: Dimensions::new(c.width_mm, c.height_mm, c.depth_mm),
            id: c.id,
            label: c.label,
            temperature: c.temperature,
            height_above_floor_mm: c.height_above_floor_mm,
            status: c.status,
        })
        .collect())
}

/// Compartments of a site's lockers (or of one locker) that are in service.
pub async fn compartments_in_service(
    conn: &mut AnyConnection,
    site_id: &str,
    locker_id: Option<&str>,
) -> Result<u32, OpError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM compartments c JOIN lockers l ON l.id = c.locker_id \
         WHERE l.site_id = $1 AND c.status <> 'out_of_service' AND ($2 IS NULL OR l.id = $2)",
    )
    .bind(site_id.to_string())
    .bind(locker_id.map(str::to_string))
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(int(&row, "n")?).unwrap_or(u32::MAX))
}

#[derive(Debug, Clone)]
pub struct NewCompartment {
    pub id: String,
    pub label: String,
    pub inner: Dimensions,
    pub temperature: TemperatureZone,
    pub height_above_floor_mm: u32,
}

#[derive(Debug, Clone)]
pub struct NewLocker {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub carrier_quotas: CarrierQuotas,
    pub compartments: Vec<NewCompartment>,
}

pub async fn create_locker(
    conn: &mut AnyConnection,
    l: &NewLocker,
    now: Millis,
) -> Result<(LockerRow, Vec<CompartmentRow>), OpError> {
    if tenants::site(conn, &l.site_id).await?.is_none() {
        return Err(OpError::NotFound { what: "site" });
    }
    let quotas = serde_json::to_string(&l.carrier_quotas).unwrap_or_else(|_| "{}".into());
    sqlx::query("INSERT INTO lockers (id, site_id, name, carrier_quotas, created_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(l.id.clone())
        .bind(l.site_id.clone())
        .bind(l.name.clone())
        .bind(quotas)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    for c in &l.compartments {
        sqlx::query(
            "INSERT INTO compartments (id, locker_id, label, width_mm, height_mm, depth_mm, size_class, temperature, height_above_floor_mm, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'available')",
        )
        .bind(c.id.clone())
        .bind(l.id.clone())
        .bind(c.label.clone())
        .bind(i64::from(c.inner.width_mm))
        .bind(i64::from(c.inner.height_mm))
        .bind(i64::from(c.inner.depth_mm))
        .bind(SizeClass::for_inner(&c.inner).as_str().to_string())
        .bind(c.temperature.as_str().to_string())
        .bind(i64::from(c.height_above_floor_mm))
        .execute(&mut *conn)
        .await?;
    }
    let locker = LockerRow {
        id: l.id.clone(),
        site_id: l.site_id.clone(),
        name: l.name.clone(),
        carrier_quotas: l.carrier_quotas.clone(),
        version: 1,
        plan_position: None,
    };
    let compartments = compartments(conn, &l.id).await?;
    Ok((locker, compartments))
}

/// Sets a compartment's manager status. Taking an occupied compartment out of
/// service is allowed (a broken door with a parcel behind it is real); reserving
/// one is not.
pub async fn set_compartment_status(
    conn: &mut AnyConnection,
    locker_id: &str,
    compartment_id: &str,
    status: CompartmentStatus,
    reason: Option<&str>,
) -> Result<(), OpError> {
    let row = sqlx::query(locked!(
        conn,
        "SELECT c.id FROM compartments c WHERE c.id = $1 AND c.locker_id = $2"
    ))
    .bind(compartment_id.to_string())
    .bind(locker_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    if row.is_none() {
        return Err(OpError::NotFound {
            what: "compartment",
        });
    }
    if status == CompartmentStatus::Reserved {
        let held =
            sqlx::query("SELECT compartment_id FROM compartment_holders WHERE compartment_id = $1")
                .bind(compartment_id.to_string())
                .fetch_optional(&mut *conn)
                .await?;
        if held.is_some() {
            return Err(OpError::Conflict {
                code: Code::CompartmentOccupied,
                message: "an occupied compartment cannot be reserved".into(),
            });
        }
    }
    // Only a compartment out of service keeps a reason.
    let reason = reason.filter(|_| status == CompartmentStatus::OutOfService);
    sqlx::query("UPDATE compartments SET status = $1, status_reason = $2 WHERE id = $3")
        .bind(status.as_str().to_string())
        .bind(reason.map(str::to_string))
        .bind(compartment_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Renames a locker or replaces its per-carrier quotas if it is still at
/// `expected_version` (else `edit_conflict`); the locker and its new version.
pub async fn edit_locker(
    conn: &mut AnyConnection,
    id: &str,
    expected_version: i64,
    name: Option<&str>,
    quotas: Option<&CarrierQuotas>,
    plan_position: Option<PlanPosition>,
) -> Result<(LockerRow, i64), OpError> {
    let mut l = lock_locker(conn, id).await?;
    if l.version != expected_version {
        return Err(conflict(
            Code::EditConflict,
            "the locker was changed since you read it: read again and redo the edit",
        ));
    }
    if let Some(name) = name {
        l.name = name.to_string();
    }
    if let Some(q) = quotas {
        l.carrier_quotas = q.clone();
    }
    if plan_position.is_some() {
        l.plan_position = plan_position;
    }
    let version = expected_version + 1;
    l.version = version;
    sqlx::query("UPDATE lockers SET name = $1, carrier_quotas = $2, version = $3, plan_x_m = $5, plan_y_m = $6 WHERE id = $4")
        .bind(l.name.clone())
        .bind(serde_json::to_string(&l.carrier_quotas).unwrap_or_else(|_| "{}".into()))
        .bind(version)
        .bind(id.to_string())
        .bind(l.plan_position.map(|p| p.x_m))
        .bind(l.plan_position.map(|p| p.y_m))
        .execute(&mut *conn)
        .await?;
    Ok((l, version))
}

pub(crate) async fn lock_locker(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<LockerRow, OpError> {
    // Locks the locker row on PostgreSQL so allocations at one locker are serialised
    // across server instances (quotas and smallest-fit stay exact).
    sqlx::query(locked!(conn, "SELECT id FROM lockers WHERE id = $1"))
        .bind(locker_id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(OpError::NotFound { what: "locker" })?;
    locker(conn, locker_id)
        .await?
        .ok_or(OpError::NotFound { what: "locker" })
}

pub(crate) async fn load_throttle(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<KeypadState, OpError> {
    let row = sqlx::query(locked!(
        conn,
        "SELECT state FROM keypad_throttle WHERE locker_id = $1"
    ))
    .bind(locker_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => serde_json::from_str(&text(&r, "state")?).unwrap_or_default(),
        None => KeypadState::default(),
    })
}

pub(crate) async fn save_throttle(
    conn: &mut AnyConnection,
    locker_id: &str,
    state: &KeypadState,
) -> Result<(), OpError> {
    let json = serde_json::to_string(state).unwrap_or_default();
    sqlx::query("INSERT INTO keypad_throttle (locker_id, state) VALUES ($1, $2) ON CONFLICT (locker_id) DO UPDATE SET state = excluded.state")
        .bind(locker_id.to_string())
        .bind(json)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Staff reviewed a disabled keypad: it accepts codes again.
pub async fn reset_keypad(conn: &mut AnyConnection, locker_id: &str) -> Result<(), OpError> {
    let locker = lock_locker(conn, locker_id).await?;
    let mut state = load_throttle(conn, &locker.id).await?;
    state.reset();
    save_throttle(conn, &locker.id, &state).await
}

/// One compartment of a site for the capacity answer: its size, zone and
/// status, whether something is inside and, for parcels still waiting
/// there, the latest deposit (its last change until the scheduler has seen
/// it) and the longest hold.
#[derive(Debug, Clone)]
pub struct CapacitySlot {
    pub locker_id: String,
    pub inner: Dimensions,
    pub temperature: TemperatureZone,
    pub status: CompartmentStatus,
    pub occupied: bool,
    /// A carrier's reservation holds it.
    pub held: bool,
    pub deposited_ms: Option<Millis>,
    pub hold_ms: Option<Millis>,
}

pub async fn capacity_slots(
    conn: &mut AnyConnection,
    site_id: &str,
    now: Millis,
) -> Result<Vec<CapacitySlot>, OpError> {
    let rows = sqlx::query(
        "SELECT c.locker_id, c.width_mm, c.height_mm, c.depth_mm, c.temperature, c.status, \
         CAST(CASE WHEN h.compartment_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS occupied, \
         w.deposited_ms, w.hold_ms, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM reservation_holds rh WHERE rh.compartment_id = c.id \
              AND rh.state = 'held' AND rh.to_ms > $2) THEN 1 ELSE 0 END AS BIGINT) AS held \
         FROM compartments c JOIN lockers l ON l.id = c.locker_id \
         LEFT JOIN compartment_holders h ON h.compartment_id = c.id \
         LEFT JOIN (SELECT p.compartment_id, MAX(COALESCE(s.deposited_ms, p.updated_ms)) AS deposited_ms, \
                    MAX(s.hold_ms) AS hold_ms \
                    FROM parcels p LEFT JOIN parcel_schedule s ON s.parcel_id = p.id \
                    WHERE p.state IN ('deposited', 'on_hold') GROUP BY p.compartment_id) w \
           ON w.compartment_id = c.id \
         WHERE l.site_id = $1 ORDER BY c.locker_id, c.label",
    )
    .bind(site_id.to_string())
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CapacitySlot {
                locker_id: text(r, "locker_id")?,
                inner: Dimensions::new(mm(r, "width_mm")?, mm(r, "height_mm")?, mm(r, "depth_mm")?),
                temperature: parse(r, "temperature")?,
                status: parse(r, "status")?,
                occupied: int(r, "occupied")? != 0,
                held: int(r, "held")? != 0,
                deposited_ms: r.try_get::<Option<i64>, _>("deposited_ms")?,
                hold_ms: r.try_get::<Option<i64>, _>("hold_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}
