//! Where a parcel goes when its locker has no room: the other places of the
//! site that can take it now, nearest first ([`cubby_domain::overflow`]),
//! and redirects of pre-advised parcels to another locker.

use cubby_domain::Millis;
use cubby_domain::allocation::{self, ParcelRequest};
use cubby_domain::codes::Code;
use cubby_domain::lifecycle::ParcelState;
use cubby_domain::model::TemperatureZone;
use cubby_domain::overflow::{Place, PlanPosition, nearest_first};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use super::{ParcelRow, parcel};
use crate::OpError;
use crate::custody::append_event;
use crate::error::OverflowOption;
use crate::lockers::{self, LockerRow};
use crate::reservations;
use crate::rows::{conflict, int, locked, text};

fn position(r: &AnyRow) -> Result<Option<PlanPosition>, sqlx::Error> {
    let x: Option<i64> = sqlx::Row::try_get(r, "plan_x_m")?;
    let y: Option<i64> = sqlx::Row::try_get(r, "plan_y_m")?;
    Ok(x.zip(y).map(|(x_m, y_m)| PlanPosition { x_m, y_m }))
}

/// Other places of the site that can take `request` now, nearest to
/// `full` first: lockers with a free compartment it fits in (held ones
/// excepted), and parcel rooms with shelf space for an ambient parcel.
pub async fn overflow_options(
    conn: &mut AnyConnection,
    full: &LockerRow,
    request: &ParcelRequest,
    now: Millis,
) -> Result<Vec<OverflowOption>, OpError> {
    let from = full.plan_position;
    let held = reservations::held_at_site(conn, &full.site_id, now).await?;
    // Empty compartments only: consolidation is for the locker chosen.
    let empty_only = ParcelRequest {
        recipient_key: None,
        visit: None,
        ..request.clone()
    };
    let mut places = Vec::new();
    let rows = sqlx::query(
        "SELECT id, name, plan_x_m, plan_y_m FROM lockers WHERE site_id = $1 AND id <> $2",
    )
    .bind(full.site_id.clone())
    .bind(full.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let id = text(r, "id")?;
        let Some(locker) = lockers::locker(conn, &id).await? else {
            continue;
        };
        let mut view = lockers::allocation_view(conn, &id).await?;
        for c in view.iter_mut().filter(|c| held.contains(&c.id)) {
            c.status = cubby_domain::model::CompartmentStatus::Reserved;
        }
        let takes = allocation::rank(&empty_only, &view, &locker.carrier_quotas)
            .map(|ranked| ranked.len())
            .unwrap_or(0);
        places.push(Place {
            kind: "locker",
            id,
            name: text(r, "name")?,
            position: position(r)?,
            takes: u32::try_from(takes).unwrap_or(u32::MAX),
        });
    }
    if request.temperature == TemperatureZone::Ambient {
        let rooms = sqlx::query(
            "SELECT r.id, r.name, r.plan_x_m, r.plan_y_m, \
             CAST(COALESCE((SELECT SUM(z.capacity) FROM shelf_zones z WHERE z.room_id = r.id), 0) AS BIGINT) AS capacity, \
             (SELECT COUNT(*) FROM parcels p JOIN shelf_zones z ON z.id = p.shelf_zone_id WHERE z.room_id = r.id \
              AND p.state IN ('deposited', 'on_hold', 'unassigned', 'expired')) AS shelved \
             FROM parcel_rooms r WHERE r.site_id = $1",
        )
        .bind(full.site_id.clone())
        .fetch_all(&mut *conn)
        .await?;
        for r in &rooms {
            let space = (int(r, "capacity")? - int(r, "shelved")?).max(0);
            places.push(Place {
                kind: "parcel_room",
                id: text(r, "id")?,
                name: text(r, "name")?,
                position: position(r)?,
                takes: u32::try_from(space).unwrap_or(u32::MAX),
            });
        }
    }
    Ok(nearest_first(from, places)
        .into_iter()
        .map(|o| OverflowOption {
            kind: o.place.kind,
            id: o.place.id,
            name: o.place.name,
            distance_m: o.distance_m,
            takes: o.place.takes,
        })
        .collect())
}

/// Refuses a deposit at a locker the parcel was redirected away from.
pub(crate) fn refuse_if_redirected(parcel: &ParcelRow, locker: &LockerRow) -> Result<(), OpError> {
    match &parcel.redirected_to {
        Some(to) if *to != locker.id => Err(OpError::Conflict {
            code: Code::ParcelRedirected,
            message: format!("this parcel was redirected to locker {to}: deposit it there"),
        }),
        _ => Ok(()),
    }
}

/// Refuses a deposit of a parcel whose pre-advice here was moved to a
/// pick-up point of another site: it is expected there now.
pub(crate) async fn refuse_if_moved_to_point(
    conn: &mut AnyConnection,
    site_id: &str,
    tracking_number: &cubby_domain::tracking::TrackingNumber,
) -> Result<(), OpError> {
    let moved = sqlx::query(
        "SELECT l.name FROM parcels p JOIN lockers l ON l.id = p.redirected_to \
         WHERE p.site_id = $1 AND p.tracking_number = $2 AND p.state = 'cancelled' AND l.site_id <> p.site_id \
         ORDER BY p.updated_ms DESC LIMIT 1",
    )
    .bind(site_id.to_string())
    .bind(tracking_number.as_str().to_string())
    .fetch_optional(&mut *conn)
    .await?;
    match moved {
        Some(r) => Err(OpError::Conflict {
            code: Code::ParcelRedirected,
            message: format!(
                "this parcel was redirected to the pick-up point locker {}: deliver it there",
                text(&r, "name")?
            ),
        }),
        None => Ok(()),
    }
}

/// Records where a parcel not yet arrived goes now, in its chain.
async fn mark_redirected(
    conn: &mut AnyConnection,
    p: &ParcelRow,
    locker_id: &str,
    place: &str,
    actor: &str,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query("UPDATE parcels SET redirected_to = $1, updated_ms = $2 WHERE id = $3")
        .bind(locker_id.to_string())
        .bind(now)
        .bind(p.id.clone())
        .execute(&mut *conn)
        .await?;
    append_event(
        conn,
        &p.site_id,
        &p.id,
        "redirected",
        actor,
        now,
        place,
        "redirected before arrival",
    )
    .await?;
    Ok(())
}

/// The parcel to redirect, under its row lock.
async fn locked_parcel(conn: &mut AnyConnection, parcel_id: &str) -> Result<ParcelRow, OpError> {
    sqlx::query(locked!(conn, "SELECT id FROM parcels WHERE id = $1"))
        .bind(parcel_id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })?;
    parcel(conn, parcel_id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })
}

/// Redirects a pre-advised parcel to another locker of its site: only that
/// locker takes the deposit, and only its cache lists the parcel.
pub async fn redirect(
    conn: &mut AnyConnection,
    parcel_id: &str,
    locker_id: &str,
    actor: &str,
    now: Millis,
) -> Result<ParcelRow, OpError> {
    let p = locked_parcel(conn, parcel_id).await?;
    let locker = lockers::locker(conn, locker_id)
        .await?
        .filter(|l| l.site_id == p.site_id)
        .ok_or(OpError::NotFound { what: "locker" })?;
    if p.state != ParcelState::Announced {
        return Err(conflict(
            Code::ParcelAlreadyDeposited,
            "only a parcel that has not arrived yet can be redirected",
        ));
    }
    mark_redirected(
        conn,
        &p,
        &locker.id,
        &format!("locker {}", locker.name),
        actor,
        now,
    )
    .await?;
    parcel(conn, parcel_id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })
}

/// Ids a redirect to another site's pick-up point needs: the parcel there
/// (a new pre-advice in that site's chain) and its recipient there.
#[derive(Debug, Clone)]
pub struct PointIds {
    pub parcel_id: String,
    pub resident_id: String,
}

/// Sends a parcel that has not arrived yet to a locker of a public pick-up
/// point on another site. Its custody continues there: the pre-advice here
/// is cancelled naming the point, and the point's site gets a pre-advice of
/// the same tracking number for the same person (found or filed there by
/// email or phone), which only that locker takes. Answers the new parcel.
pub async fn redirect_to_point(
    conn: &mut AnyConnection,
    parcel_id: &str,
    locker_id: &str,
    ids: &PointIds,
    actor: &str,
    now: Millis,
) -> Result<ParcelRow, OpError> {
    let p = locked_parcel(conn, parcel_id).await?;
    let locker = lockers::locker(conn, locker_id)
        .await?
        .ok_or(OpError::NotFound { what: "locker" })?;
    let point = crate::tenants::site(conn, &locker.site_id)
        .await?
        .filter(|s| s.kind == "public_point")
        .ok_or(OpError::NotFound { what: "locker" })?;
    if p.state != ParcelState::Announced {
        return Err(conflict(
            Code::ParcelAlreadyDeposited,
            "only a parcel that has not arrived yet can be redirected",
        ));
    }
    let resident = match &p.resident_id {
        Some(id) => crate::residents::resident(conn, id).await?,
        None => None,
    };
    let Some(resident) = resident.filter(|r| r.email.is_some() || r.phone.is_some()) else {
        return Err(OpError::Invalid(cubby_domain::model::Invalid::new(
            "locker_id",
            "the recipient has no email or phone to be told at the pick-up point",
        )));
    };
    if let Some(carrier) = &p.carrier
        && !crate::couriers::is_enabled_at_site(conn, &point.id, carrier).await?
    {
        return Err(conflict(
            Code::CarrierNotEnabled,
            "this carrier does not deliver to that pick-up point",
        ));
    }
    let tracking = cubby_domain::tracking::TrackingNumber::parse(&p.tracking_number)
        .map_err(OpError::Invalid)?;
    let there = crate::residents::recipient_at_point(
        conn,
        &crate::residents::NewResident {
            id: ids.resident_id.clone(),
            site_id: point.id.clone(),
            unit: "PUBLIC".into(),
            building_id: None,
            name: resident.name.clone(),
            email: resident.email.clone(),
            phone: resident.phone.clone(),
            language: resident
                .language
                .parse()
                .unwrap_or(cubby_domain::model::Language::En),
            reach: None,
        },
        now,
    )
    .await?;
    mark_redirected(
        conn,
        &p,
        &locker.id,
        &format!("pick-up point {} / locker {}", point.name, locker.name),
        actor,
        now,
    )
    .await?;
    super::apply_transition(
        conn,
        &p,
        cubby_domain::lifecycle::Transition::Cancel,
        actor,
        &format!(
            "redirected to the pick-up point {} ({})",
            point.name, locker.name
        ),
        now,
    )
    .await?;
    let moved = super::announce(
        conn,
        &super::Announcement {
            parcel_id: ids.parcel_id.clone(),
            site_id: point.id.clone(),
            tracking_number: tracking,
            carrier: p.carrier.clone(),
            resident_id: Some(there.id),
            dims: cubby_domain::dims::Dimensions::new(p.width_mm, p.height_mm, p.depth_mm),
            weight_g: p.weight_g.and_then(|w| u32::try_from(w).ok()),
            temperature: p.temperature,
            actor: actor.to_string(),
            now,
        },
    )
    .await?;
    sqlx::query("UPDATE parcels SET redirected_to = $1 WHERE id = $2")
        .bind(locker.id.clone())
        .bind(moved.id.clone())
        .execute(&mut *conn)
        .await?;
    parcel(conn, &moved.id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })
}
