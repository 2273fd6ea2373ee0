use cubby_domain::Millis;
use cubby_domain::allocation::CarrierQuotas;
use cubby_domain::codes::Code;
use cubby_domain::dims::Dimensions;
use cubby_domain::model::{CompartmentStatus, SizeClass, TemperatureZone};
use sqlx::AnyConnection;

use crate::OpError;
use crate::ops::locked;
use crate::queries::{self, CompartmentRow, LockerRow, RoomRow};

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
    if queries::site(conn, &l.site_id).await?.is_none() {
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
    };
    let compartments = queries::compartments(conn, &l.id).await?;
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
    sqlx::query("UPDATE compartments SET status = $1 WHERE id = $2")
        .bind(status.as_str().to_string())
        .bind(compartment_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
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
) -> Result<RoomRow, OpError> {
    if queries::site(conn, &r.site_id).await?.is_none() {
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
    queries::room(conn, &r.id).await?.ok_or(OpError::NotFound {
        what: "parcel room",
    })
}
