//! Reservations: a carrier holds compartments for a delivery window
//! (delivery scheduling based on capacity). The rules are the site policy's
//! (`reservations`), applied by the domain; the store pins the compartments.

use axum::http::StatusCode;
use cubby_domain::dims::Dimensions;
use cubby_domain::ids;
use cubby_domain::model::{TemperatureZone, Timezone};
use cubby_domain::reservation::{SlotOccurrence, Wanted, check_window, occurrences};
use cubby_domain::tracking::TrackingNumber;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::idempotency::IdempotencyKey;
use cubby_store::reservations::{NewReservation, ReservationRow, WantedParcel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::places::site_for;
use super::{AppResult, Changes, Committed, check_id, commit, commit_idempotent};
use crate::auth::{Caller, DEPOSITORS};
use crate::error::ApiError;
use crate::{AppState, new_id, now_ms};

/// Most parcels one reservation may ask for.
pub const MAX_PARCELS: usize = 200;

#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct WindowBody {
    pub from_ms: i64,
    pub to_ms: i64,
}

#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct ReservedParcelBody {
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    /// ambient (default), chilled or frozen.
    pub temperature: Option<String>,
    /// A deposit with this tracking number takes this parcel's hold.
    pub tracking_number: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReservationBody {
    /// Carrier code; carrier and courier tokens reserve for their own carrier.
    pub carrier: Option<String>,
    pub window: WindowBody,
    pub parcels: Vec<ReservedParcelBody>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct HeldCompartment {
    /// The parcel's index in the request.
    pub index: usize,
    pub locker_id: String,
    /// `a` to `d`, by inner height.
    pub size_class: String,
    pub temperature: String,
    /// held, used (a deposit took it), released (the window ended),
    /// cancelled or displaced (a parcel was placed there at the locker).
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcel_id: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RefusedParcel {
    pub index: usize,
    /// too_large, no_free_compartment, site_share_reached,
    /// carrier_quota_reached or slot_full.
    pub reason: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Reservation {
    pub id: String,
    pub site_id: String,
    pub carrier: String,
    pub from_ms: i64,
    pub to_ms: i64,
    /// When unused holds are released: the window's end.
    pub expires_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_ms: Option<i64>,
    pub held: Vec<HeldCompartment>,
    /// Only in the answer that created it.
    #[serde(default)]
    pub refused: Vec<RefusedParcel>,
}

fn view(r: ReservationRow, refused: Vec<RefusedParcel>) -> Reservation {
    Reservation {
        expires_at_ms: r.to_ms,
        held: r
            .holds
            .into_iter()
            .map(|h| HeldCompartment {
                index: h.position,
                locker_id: h.locker_id,
                size_class: h.size_class.as_str().to_string(),
                temperature: h.temperature.as_str().to_string(),
                state: h.state,
                tracking_number: h.tracking_number,
                parcel_id: h.parcel_id,
            })
            .collect(),
        id: r.id,
        site_id: r.site_id,
        carrier: r.carrier,
        from_ms: r.from_ms,
        to_ms: r.to_ms,
        cancelled_ms: r.cancelled_ms,
        refused,
    }
}

/// The carrier a reservation is for: a carrier-side token's own (a different
/// one named is refused), or the one staff name.
fn carrier_of(caller: &Caller, named: Option<&str>) -> AppResult<String> {
    match (&caller.carrier, named) {
        (Some(own), Some(given)) if super::couriers::carrier_code(given)? != *own => Err(
            ApiError::invalid("carrier", "differs from the carrier of this token"),
        ),
        (Some(own), _) => Ok(own.clone()),
        (None, Some(given)) => super::couriers::carrier_code(given),
        (None, None) => Err(ApiError::invalid(
            "carrier",
            "name the carrier to reserve for",
        )),
    }
}

fn wanted_parcels(parcels: &[ReservedParcelBody]) -> AppResult<Vec<WantedParcel>> {
    if parcels.is_empty() || parcels.len() > MAX_PARCELS {
        return Err(ApiError::invalid(
            "parcels",
            format!("ask for 1 to {MAX_PARCELS} parcels"),
        ));
    }
    parcels
        .iter()
        .map(|p| {
            let dims = Dimensions::new(p.width_mm, p.height_mm, p.depth_mm);
            if !dims.is_valid() {
                return Err(ApiError::invalid(
                    "parcels.width_mm",
                    "every side must be 1 to 3000 mm",
                ));
            }
            let temperature = p
                .temperature
                .as_deref()
                .map(str::parse::<TemperatureZone>)
                .transpose()?
                .unwrap_or(TemperatureZone::Ambient);
            let tracking_number = p
                .tracking_number
                .as_deref()
                .map(TrackingNumber::parse)
                .transpose()?;
            Ok(WantedParcel {
                wanted: Wanted { dims, temperature },
                tracking_number,
            })
        })
        .collect()
}

/// Reserve compartments for a window: each parcel is held, or refused with
/// its reason.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    site_id: &str,
    body: ReservationBody,
    key: Option<IdempotencyKey>,
) -> AppResult<Committed<Reservation>> {
    caller.require(DEPOSITORS)?;
    let site = site_for(state, caller, site_id).await?;
    let carrier = carrier_of(caller, body.carrier.as_deref())?;
    super::couriers::require_enabled(state, &site.id, &carrier).await?;
    let parcels = wanted_parcels(&body.parcels)?;
    let now = now_ms();
    let policy = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::schedule::site_policy(&mut conn, &site.id).await?.1
    };
    let tz = Timezone::parse(&site.timezone)?;
    let rules = policy.reservations;
    let slot = check_window(&rules, &tz, now, body.window.from_ms, body.window.to_ms)?;
    let new = NewReservation {
        id: new_id(ids::RESERVATION),
        site_id: site.id.clone(),
        carrier,
        from_ms: body.window.from_ms,
        to_ms: body.window.to_ms,
        parcels,
        rules,
        slot,
        created_by: caller.actor(),
        now,
    };
    commit_idempotent(state, key, StatusCode::CREATED, move |conn| {
        Box::pin(async move {
            let created = db::reservations::create(conn, &new).await?;
            let refused = created
                .refused
                .iter()
                .map(|(index, r)| RefusedParcel {
                    index: *index,
                    reason: r.as_str().to_string(),
                })
                .collect();
            // The site's lockers stop offering the held compartments.
            let site = created.reservation.site_id.clone();
            Ok((view(created.reservation, refused), Changes::site(site)))
        })
    })
    .await
}

/// A reservation the caller may see: staff of its site, or its carrier.
async fn reservation_for(state: &AppState, caller: &Caller, id: &str) -> AppResult<ReservationRow> {
    caller.require(DEPOSITORS)?;
    check_id(ids::RESERVATION, id, "reservation")?;
    let r = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::reservations::reservation(&mut conn, id).await?
    }
    .ok_or_else(|| ApiError::not_found("reservation"))?;
    site_for(state, caller, &r.site_id)
        .await
        .map_err(|_| ApiError::not_found("reservation"))?;
    if caller.is_carrier_side() && caller.carrier.as_deref() != Some(r.carrier.as_str()) {
        return Err(ApiError::not_found("reservation"));
    }
    Ok(r)
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> AppResult<Reservation> {
    Ok(view(reservation_for(state, caller, id).await?, Vec::new()))
}

/// Cancel a reservation: its holds are released at once.
pub async fn cancel(state: &AppState, caller: &Caller, id: &str) -> AppResult<Reservation> {
    let r = reservation_for(state, caller, id).await?;
    commit(state, move |conn| {
        Box::pin(async move {
            let done = db::reservations::cancel(conn, &r.id, now_ms()).await?;
            let site = done.site_id.clone();
            Ok((view(done, Vec::new()), Changes::site(site)))
        })
    })
    .await
}

/// The site's delivery slot occurrences in a period, with the parcels
/// reservations booked into each.
pub async fn delivery_slots(
    state: &AppState,
    site: &db::tenants::SiteRow,
    from_ms: i64,
    to_ms: i64,
) -> AppResult<Vec<(SlotOccurrence, u32)>> {
    let tz = Timezone::parse(&site.timezone)?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let (_, policy) = db::schedule::site_policy(&mut conn, &site.id).await?;
    let slots = occurrences(&policy.reservations.delivery_slots, &tz, from_ms, to_ms);
    let booked = db::reservations::booked_in_slots(&mut conn, &site.id, &slots).await?;
    Ok(slots.into_iter().zip(booked).collect())
}
