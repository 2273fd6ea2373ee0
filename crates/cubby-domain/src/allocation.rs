//! Choosing a compartment for a parcel.
//!
//! Rules, in order:
//! 1. only compartments of the parcel's temperature zone;
//! 2. never an out-of-service or reserved compartment, never one holding someone
//!    else's parcels;
//! 3. consolidation first: the recipient's own occupied compartment when the new
//!    parcel can be stacked in with what is already there, but only one that the
//!    same depositor opened during the same visit (at most [`VISIT_MS`] ago): a
//!    courier is only ever shown empty compartments or its own deliveries, never
//!    another carrier's parcels (security.md). Consolidating across carriers is
//!    for staff moving parcels by hand;
//! 4. otherwise an empty compartment the parcel fits in (any rotation), preferring
//!    compartments inside the recipient's reach band, then the smallest by volume
//!    (keep big doors for big parcels), then the lowest label for determinism;
//! 5. a carrier may hold at most its quota of compartments at one locker
//!    (consolidation does not take a new compartment, so it is always allowed).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Millis;
use crate::dims::{Dimensions, stack_fits};
use crate::model::{CompartmentStatus, ReachBand, TemperatureZone};

/// What allocation needs to know about one compartment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompartmentView {
    pub id: String,
    pub label: String,
    pub inner: Dimensions,
    pub temperature: TemperatureZone,
    pub height_above_floor_mm: u32,
    pub status: CompartmentStatus,
    /// `None` when empty.
    pub contents: Option<Contents>,
}

/// Who holds an occupied compartment and what is inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// The recipient all parcels inside belong to (resident id, or unit+name key).
    pub recipient_key: String,
    /// The carrier whose courier first opened it (counts against that carrier's quota).
    pub carrier: Option<String>,
    pub parcels: Vec<Dimensions>,
    /// Who opened the compartment for its first parcel, and when (unknown
    /// for compartments filled before this was recorded: never shared).
    pub opened_by: Option<String>,
    pub opened_ms: Option<Millis>,
}

/// How long one depositor's visit lasts: the longest a courier pass is valid.
pub const VISIT_MS: Millis = 4 * 3_600_000;

/// Who is depositing, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub depositor: String,
    pub now_ms: Millis,
}

impl Contents {
    /// Whether this depositor opened the compartment during this visit.
    pub fn opened_in(&self, visit: &Visit) -> bool {
        self.opened_by.as_deref() == Some(visit.depositor.as_str())
            && self
                .opened_ms
                .is_some_and(|t| t <= visit.now_ms && visit.now_ms - t <= VISIT_MS)
    }
}

/// The parcel to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelRequest {
    pub dims: Dimensions,
    pub temperature: TemperatureZone,
    /// `None` for a parcel whose recipient is unknown: never consolidated.
    pub recipient_key: Option<String>,
    pub carrier: Option<String>,
    pub reach: Option<ReachBand>,
    /// The depositor's visit; `None` never consolidates (empty compartments only).
    pub visit: Option<Visit>,
}

/// Maximum compartments each carrier may hold at one locker (carrier → limit).
pub type CarrierQuotas = BTreeMap<String, u32>;

/// The chosen compartment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Allocation {
    pub compartment_id: String,
    pub label: String,
    /// Placed with the recipient's other parcels.
    pub consolidated: bool,
    /// Inside the recipient's reach band (always true when they have none).
    pub within_reach: bool,
}

/// Why nothing was chosen; the API reports it with the overflow options.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NoCompartmentFits {
    #[error("this locker has no {zone} compartments")]
    NoSuchZone { zone: TemperatureZone },
    #[error("the parcel is larger than every {zone} compartment of this locker")]
    TooLarge { zone: TemperatureZone },
    #[error("every {zone} compartment the parcel fits in is occupied or out of service")]
    AllOccupied { zone: TemperatureZone },
    #[error("carrier {carrier} already holds its quota of {limit} compartments at this locker")]
    CarrierQuotaReached { carrier: String, limit: u32 },
}

/// Picks a compartment for `parcel` among `compartments`, or says why none.
pub fn allocate(
    parcel: &ParcelRequest,
    compartments: &[CompartmentView],
    quotas: &CarrierQuotas,
) -> Result<Allocation, NoCompartmentFits> {
    rank(parcel, compartments, quotas).map(|mut ranked| ranked.remove(0))
}

/// Every acceptable compartment, best first (never empty on success). The store
/// walks this list so that, if another writer claimed the first choice an instant
/// earlier, the next best is taken instead of failing.
pub fn rank(
    parcel: &ParcelRequest,
    compartments: &[CompartmentView],
    quotas: &CarrierQuotas,
) -> Result<Vec<Allocation>, NoCompartmentFits> {
    let zone = parcel.temperature;
    let in_zone: Vec<&CompartmentView> = compartments
        .iter()
        .filter(|c| c.temperature == zone)
        .collect();
    if in_zone.is_empty() {
        return Err(NoCompartmentFits::NoSuchZone { zone });
    }
    if !in_zone.iter().any(|c| parcel.dims.fits_in(&c.inner)) {
        return Err(NoCompartmentFits::TooLarge { zone });
    }
    let within_reach = |c: &CompartmentView| {
        parcel
            .reach
            .is_none_or(|band| band.contains(c.height_above_floor_mm))
    };

    let mut ranked = Vec::new();
    if let (Some(key), Some(visit)) = (&parcel.recipient_key, &parcel.visit) {
        let mut own: Vec<&CompartmentView> = in_zone
            .iter()
            .copied()
            .filter(|c| c.status == CompartmentStatus::Available)
            .filter(|c| {
                c.contents
                    .as_ref()
                    .is_some_and(|ct| &ct.recipient_key == key && ct.opened_in(visit))
            })
            .filter(|c| {
                let contents = c
                    .contents
                    .as_ref()
                    .map(|ct| ct.parcels.clone())
                    .unwrap_or_default();
                let mut all = contents;
                all.push(parcel.dims);
                stack_fits(&all, &c.inner)
            })
            .collect();
        own.sort_by_key(|c| (!within_reach(c), c.inner.volume_mm3(), c.label.clone()));
        ranked.extend(own.into_iter().map(|c| Allocation {
            compartment_id: c.id.clone(),
            label: c.label.clone(),
            consolidated: true,
            within_reach: within_reach(c),
        }));
    }

    let quota_reached = parcel.carrier.as_ref().and_then(|carrier| {
        let limit = *quotas.get(carrier)?;
        let held = compartments
            .iter()
            .filter(|c| {
                c.contents
                    .as_ref()
                    .is_some_and(|ct| ct.carrier.as_ref() == Some(carrier))
            })
            .count();
        (held as u64 >= u64::from(limit)).then(|| NoCompartmentFits::CarrierQuotaReached {
            carrier: carrier.clone(),
            limit,
        })
    });

    if quota_reached.is_none() {
        let mut empty: Vec<&CompartmentView> = in_zone
            .iter()
            .copied()
            .filter(|c| c.status == CompartmentStatus::Available && c.contents.is_none())
            .filter(|c| parcel.dims.fits_in(&c.inner))
            .collect();
        empty.sort_by_key(|c| (!within_reach(c), c.inner.volume_mm3(), c.label.clone()));
        ranked.extend(empty.into_iter().map(|c| Allocation {
            compartment_id: c.id.clone(),
            label: c.label.clone(),
            consolidated: false,
            within_reach: within_reach(c),
        }));
    }

    if ranked.is_empty() {
        return Err(quota_reached.unwrap_or(NoCompartmentFits::AllOccupied { zone }));
    }
    Ok(ranked)
}
