//! Reservations and their holds: a carrier's compartments pinned for a
//! delivery window. Planning takes every locker lock of the site (in id
//! order, as deposits take one) so that what it counts as free stays free
//! until its holds are written; the partial unique index on live holds is the
//! last word on double booking. The rules are the domain's
//! ([`cubby_domain::reservation`]).

use std::collections::{BTreeMap, BTreeSet};

use cubby_domain::Millis;
use cubby_domain::allocation::CompartmentView;
use cubby_domain::codes::Code;
use cubby_domain::dims::Dimensions;
use cubby_domain::model::{CompartmentStatus, SizeClass, TemperatureZone};
use cubby_domain::reservation::{
    Budget, FreeCompartment, Refusal, ReservationRules, SlotOccurrence, Wanted, plan_holds,
};
use cubby_domain::tracking::TrackingNumber;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::OpError;
use crate::lockers::LockerRow;
use crate::rows::{conflict, int, locked, mm, opt_text, parse, text};

/// One parcel a reservation asks room for.
#[derive(Debug, Clone)]
pub struct WantedParcel {
    pub wanted: Wanted,
    pub tracking_number: Option<TrackingNumber>,
}

#[derive(Debug, Clone)]
pub struct NewReservation {
    pub id: String,
    pub site_id: String,
    pub carrier: String,
    pub from_ms: Millis,
    pub to_ms: Millis,
    pub parcels: Vec<WantedParcel>,
    pub rules: ReservationRules,
    /// The delivery slot occurrence the window lies in, when the site
    /// publishes slots.
    pub slot: Option<SlotOccurrence>,
    pub created_by: String,
    pub now: Millis,
}

#[derive(Debug, Clone)]
pub struct HoldRow {
    /// The parcel's index in the request.
    pub position: usize,
    pub locker_id: String,
    pub compartment_id: String,
    pub label: String,
    pub size_class: SizeClass,
    pub temperature: TemperatureZone,
    pub tracking_number: Option<String>,
    /// held, used, released, cancelled or displaced.
    pub state: String,
    pub parcel_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ReservationRow {
    pub id: String,
    pub site_id: String,
    pub carrier: String,
    pub from_ms: Millis,
    pub to_ms: Millis,
    pub created_ms: Millis,
    pub cancelled_ms: Option<Millis>,
    pub holds: Vec<HoldRow>,
}

/// A new reservation and the parcels it could not hold.
#[derive(Debug, Clone)]
pub struct Created {
    pub reservation: ReservationRow,
    pub refused: Vec<(usize, Refusal)>,
}

/// Ends the holds whose window is over (released); answers how many. Runs
/// before anything counts holds, and from the scheduler.
pub async fn release_ended(
    conn: &mut AnyConnection,
    site_id: Option<&str>,
    now: Millis,
) -> Result<u64, OpError> {
    let done = sqlx::query(
        "UPDATE reservation_holds SET state = 'released', ended_ms = $1 \
         WHERE state = 'held' AND to_ms <= $1 AND ($2 IS NULL OR site_id = $2)",
    )
    .bind(now)
    .bind(site_id.map(str::to_string))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Whether some live hold's window is over (a read, so the scheduler only
/// writes when there is something to release).
pub async fn any_ended(conn: &mut AnyConnection, now: Millis) -> Result<bool, OpError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM reservation_holds WHERE state = 'held' AND to_ms <= $1",
    )
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(int(&row, "n")? > 0)
}

/// Plans and writes a reservation: each parcel is held in a free compartment
/// or refused with its reason.
pub async fn create(conn: &mut AnyConnection, r: &NewReservation) -> Result<Created, OpError> {
    // Every locker of the site, locked in id order as deposits lock one, so
    // what is counted free here stays free until the holds are written.
    sqlx::query(locked!(
        conn,
        "SELECT id FROM lockers WHERE site_id = $1 ORDER BY id"
    ))
    .bind(r.site_id.clone())
    .fetch_all(&mut *conn)
    .await?;
    release_ended(conn, Some(&r.site_id), r.now).await?;
    let rows = sqlx::query(
        "SELECT c.id, c.locker_id, c.label, c.width_mm, c.height_mm, c.depth_mm, c.temperature, c.status, \
         CAST(CASE WHEN h.compartment_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS occupied, rv.carrier AS held_by \
         FROM compartments c JOIN lockers l ON l.id = c.locker_id \
         LEFT JOIN compartment_holders h ON h.compartment_id = c.id \
         LEFT JOIN reservation_holds rh ON rh.compartment_id = c.id AND rh.state = 'held' \
         LEFT JOIN reservations rv ON rv.id = rh.reservation_id \
         WHERE l.site_id = $1",
    )
    .bind(r.site_id.clone())
    .fetch_all(&mut *conn)
    .await?;

    let mut free = Vec::new();
    let mut in_service = Vec::new();
    let mut in_service_per_zone: BTreeMap<TemperatureZone, u32> = BTreeMap::new();
    let mut held_per_zone: BTreeMap<TemperatureZone, u32> = BTreeMap::new();
    let mut carrier_held = 0u32;
    for row in &rows {
        let status: CompartmentStatus = parse(row, "status")?;
        if status == CompartmentStatus::OutOfService {
            continue;
        }
        let temperature: TemperatureZone = parse(row, "temperature")?;
        let inner = Dimensions::new(
            mm(row, "width_mm")?,
            mm(row, "height_mm")?,
            mm(row, "depth_mm")?,
        );
        in_service.push((temperature, inner));
        *in_service_per_zone.entry(temperature).or_default() += 1;
        if let Some(holder) = opt_text(row, "held_by")? {
            *held_per_zone.entry(temperature).or_default() += 1;
            if holder == r.carrier {
                carrier_held += 1;
            }
        } else if status == CompartmentStatus::Available && int(row, "occupied")? == 0 {
            free.push(FreeCompartment {
                compartment_id: text(row, "id")?,
                locker_id: text(row, "locker_id")?,
                label: text(row, "label")?,
                inner,
                temperature,
            });
        }
    }
    let slot_left = match r.slot {
        Some(slot) => {
            let used = parcels_in_slot(conn, &r.site_id, slot).await?;
            Some(slot.max_parcels.saturating_sub(used))
        }
        None => None,
    };
    let budget = Budget {
        share_left: in_service_per_zone
            .iter()
            .map(|(zone, n)| {
                let already = held_per_zone.get(zone).copied().unwrap_or(0);
                (*zone, Budget::share(*n, already, r.rules.max_held_percent))
            })
            .collect(),
        carrier_left: r.rules.max_held_per_carrier.saturating_sub(carrier_held),
        slot_left,
    };
    let wanted: Vec<Wanted> = r.parcels.iter().map(|p| p.wanted).collect();
    let plan = plan_holds(&wanted, &free, &in_service, &budget);

    sqlx::query(
        "INSERT INTO reservations (id, site_id, carrier, from_ms, to_ms, created_ms, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(r.id.clone())
    .bind(r.site_id.clone())
    .bind(r.carrier.clone())
    .bind(r.from_ms)
    .bind(r.to_ms)
    .bind(r.now)
    .bind(r.created_by.clone())
    .execute(&mut *conn)
    .await?;
    let mut refused = plan.refused;
    for (position, c) in &plan.held {
        let written = sqlx::query(
            "INSERT INTO reservation_holds (id, reservation_id, position, site_id, locker_id, compartment_id, \
             temperature, tracking_number, to_ms, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'held') ON CONFLICT DO NOTHING",
        )
        .bind(format!("{}.{position}", r.id))
        .bind(r.id.clone())
        .bind(i64::try_from(*position).unwrap_or(i64::MAX))
        .bind(r.site_id.clone())
        .bind(c.locker_id.clone())
        .bind(c.compartment_id.clone())
        .bind(c.temperature.as_str())
        .bind(
            r.parcels[*position]
                .tracking_number
                .as_ref()
                .map(|t| t.as_str().to_string()),
        )
        .bind(r.to_ms)
        .execute(&mut *conn)
        .await?;
        if written.rows_affected() == 0 {
            refused.push((*position, Refusal::NoFreeCompartment));
        }
    }
    refused.sort_by_key(|(i, _)| *i);
    let reservation = reservation(conn, &r.id).await?.ok_or(OpError::NotFound {
        what: "reservation",
    })?;
    Ok(Created {
        reservation,
        refused,
    })
}

/// Parcels held (or delivered on holds) by reservations inside one slot
/// occurrence.
async fn parcels_in_slot(
    conn: &mut AnyConnection,
    site_id: &str,
    slot: SlotOccurrence,
) -> Result<u32, OpError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM reservation_holds h JOIN reservations r ON r.id = h.reservation_id \
         WHERE r.site_id = $1 AND r.from_ms >= $2 AND r.to_ms <= $3 AND h.state IN ('held', 'used')",
    )
    .bind(site_id.to_string())
    .bind(slot.from_ms)
    .bind(slot.to_ms)
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(int(&row, "n")?).unwrap_or(u32::MAX))
}

/// Parcels booked into each of `slots` (by reservations inside it).
pub async fn booked_in_slots(
    conn: &mut AnyConnection,
    site_id: &str,
    slots: &[SlotOccurrence],
) -> Result<Vec<u32>, OpError> {
    let mut out = Vec::with_capacity(slots.len());
    for s in slots {
        out.push(parcels_in_slot(conn, site_id, *s).await?);
    }
    Ok(out)
}

fn hold_row(r: &AnyRow) -> Result<HoldRow, sqlx::Error> {
    Ok(HoldRow {
        position: usize::try_from(int(r, "position")?).unwrap_or(usize::MAX),
        locker_id: text(r, "locker_id")?,
        compartment_id: text(r, "compartment_id")?,
        label: text(r, "label")?,
        size_class: SizeClass::for_inner(&Dimensions::new(
            mm(r, "width_mm")?,
            mm(r, "height_mm")?,
            mm(r, "depth_mm")?,
        )),
        temperature: parse(r, "temperature")?,
        tracking_number: opt_text(r, "tracking_number")?,
        state: text(r, "state")?,
        parcel_id: opt_text(r, "parcel_id")?,
    })
}

pub async fn reservation(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<ReservationRow>, OpError> {
    let Some(row) = sqlx::query(
        "SELECT id, site_id, carrier, from_ms, to_ms, created_ms, cancelled_ms FROM reservations WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let holds = sqlx::query(
        "SELECT h.position, h.locker_id, h.compartment_id, c.label, c.width_mm, c.height_mm, c.depth_mm, \
         h.temperature, h.tracking_number, h.state, h.parcel_id \
         FROM reservation_holds h JOIN compartments c ON c.id = h.compartment_id \
         WHERE h.reservation_id = $1 ORDER BY h.position",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(hold_row)
    .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(ReservationRow {
        id: text(&row, "id")?,
        site_id: text(&row, "site_id")?,
        carrier: text(&row, "carrier")?,
        from_ms: int(&row, "from_ms")?,
        to_ms: int(&row, "to_ms")?,
        created_ms: int(&row, "created_ms")?,
        cancelled_ms: sqlx::Row::try_get::<Option<i64>, _>(&row, "cancelled_ms")?,
        holds,
    }))
}

/// Cancels a reservation: its live holds end at once. Cancelling twice
/// changes nothing.
pub async fn cancel(
    conn: &mut AnyConnection,
    id: &str,
    now: Millis,
) -> Result<ReservationRow, OpError> {
    sqlx::query(locked!(conn, "SELECT id FROM reservations WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(OpError::NotFound {
            what: "reservation",
        })?;
    sqlx::query(
        "UPDATE reservation_holds SET state = 'cancelled', ended_ms = $2 WHERE reservation_id = $1 AND state = 'held'",
    )
    .bind(id.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE reservations SET cancelled_ms = $2 WHERE id = $1 AND cancelled_ms IS NULL")
        .bind(id.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    reservation(conn, id).await?.ok_or(OpError::NotFound {
        what: "reservation",
    })
}

/// The holds that bear on one deposit at a locker.
#[derive(Debug, Clone, Default)]
pub(crate) struct DepositHolds {
    /// Compartments the deposit's reservation holds here, the one pre-advised
    /// with its tracking number first.
    pub own: Vec<String>,
    /// Every compartment held here, the deposit's own included.
    pub all: BTreeSet<String>,
}

impl DepositHolds {
    /// Marks every held compartment reserved: nobody else is given one.
    pub fn mark_reserved(&self, view: &mut [CompartmentView]) {
        for c in view.iter_mut().filter(|c| self.all.contains(&c.id)) {
            c.status = CompartmentStatus::Reserved;
        }
    }

    /// The deposit's own held compartments, available to it.
    pub fn own_view(&self, view: &[CompartmentView]) -> Vec<CompartmentView> {
        self.own
            .iter()
            .filter_map(|id| view.iter().find(|c| &c.id == id))
            .filter(|c| c.contents.is_none())
            .map(|c| CompartmentView {
                status: CompartmentStatus::Available,
                ..c.clone()
            })
            .collect()
    }
}

/// The holds at `locker` and which of them this deposit may use: those of
/// the reservation it names (which must be the carrier's and still live),
/// or else of the live reservation that pre-advised its tracking number.
pub(crate) async fn for_deposit(
    conn: &mut AnyConnection,
    locker: &LockerRow,
    reservation_id: Option<&str>,
    tracking_number: &TrackingNumber,
    carrier: Option<&str>,
    now: Millis,
) -> Result<DepositHolds, OpError> {
    release_ended(conn, Some(&locker.site_id), now).await?;
    let chosen = match reservation_id {
        Some(id) => {
            let r = reservation(conn, id)
                .await?
                .filter(|r| r.site_id == locker.site_id && Some(r.carrier.as_str()) == carrier)
                .ok_or(OpError::NotFound {
                    what: "reservation",
                })?;
            if r.cancelled_ms.is_some() || r.to_ms <= now {
                return Err(conflict(
                    Code::ReservationEnded,
                    "the reservation was cancelled or its window has ended",
                ));
            }
            Some(r.id)
        }
        None => None,
    };
    let rows = sqlx::query(
        "SELECT h.compartment_id, h.reservation_id, h.tracking_number, r.carrier \
         FROM reservation_holds h JOIN reservations r ON r.id = h.reservation_id \
         WHERE h.locker_id = $1 AND h.state = 'held' ORDER BY h.reservation_id, h.position",
    )
    .bind(locker.id.clone())
    .fetch_all(&mut *conn)
    .await?;
    let mut holds = DepositHolds::default();
    let mut live = Vec::new();
    for r in &rows {
        let compartment = text(r, "compartment_id")?;
        holds.all.insert(compartment.clone());
        live.push((
            compartment,
            text(r, "reservation_id")?,
            opt_text(r, "tracking_number")?,
            text(r, "carrier")?,
        ));
    }
    let pre_advised = |t: &Option<String>| t.as_deref() == Some(tracking_number.as_str());
    let reservation = chosen.or_else(|| {
        live.iter()
            .find(|(_, _, t, c)| pre_advised(t) && Some(c.as_str()) == carrier)
            .map(|(_, id, _, _)| id.clone())
    });
    if let Some(reservation) = reservation {
        let mut own: Vec<&(String, String, Option<String>, String)> =
            live.iter().filter(|h| h.1 == reservation).collect();
        // Stable: the pre-advised hold first, the others in request order.
        own.sort_by_key(|h| !pre_advised(&h.2));
        holds.own = own.into_iter().map(|h| h.0.clone()).collect();
    }
    Ok(holds)
}

/// Ends the live hold on a compartment a deposit just took: used when it was
/// the deposit's own, displaced when the parcel was placed there at the
/// locker regardless.
pub(crate) async fn settle_hold(
    conn: &mut AnyConnection,
    compartment_id: &str,
    parcel_id: &str,
    own: bool,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query(
        "UPDATE reservation_holds SET state = $3, parcel_id = $2, ended_ms = $4 \
         WHERE compartment_id = $1 AND state = 'held'",
    )
    .bind(compartment_id.to_string())
    .bind(parcel_id.to_string())
    .bind(if own { "used" } else { "displaced" })
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Compartments of a site with a live hold (for the capacity answer).
pub async fn held_at_site(
    conn: &mut AnyConnection,
    site_id: &str,
    now: Millis,
) -> Result<BTreeSet<String>, OpError> {
    let rows = sqlx::query(
        "SELECT compartment_id FROM reservation_holds WHERE site_id = $1 AND state = 'held' AND to_ms > $2",
    )
    .bind(site_id.to_string())
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| text(r, "compartment_id"))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}
