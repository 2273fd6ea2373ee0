//! Carrier compliance and impact: per carrier, deliveries inside and outside
//! the site's published courier windows, unannounced and larger-than-
//! announced parcels, reservations used or wasted; per site, the failed home
//! deliveries its lockers avoided and the van kilometres and CO2e that saves
//! (estimates, see `cubby_domain::impact`). A carrier's token reads only its
//! own line; nothing personal is in the answer.

use std::collections::BTreeMap;

use cubby_domain::impact::{self, Impact};
use cubby_domain::model::{Role, Timezone};
use cubby_domain::reservation::occurrences;
use cubby_store as db;
use cubby_store::OpError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppResult;
use super::places::site_for;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// Longest period one report covers.
pub const MAX_PERIOD_MS: i64 = 366 * 86_400_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ReservationUse {
    /// Compartments held for the carrier in windows starting in the period.
    pub held: u64,
    /// Taken by the carrier's own deliveries.
    pub used: u64,
    /// Released unused at the window's end.
    pub wasted: u64,
    /// Cancelled by the carrier, or given up to a deposit that needed the door.
    pub cancelled: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct CarrierLine {
    /// The carrier's code; absent for parcels whose carrier nobody named.
    pub carrier: Option<String>,
    pub deliveries: u64,
    /// Delivered inside one of the site's published courier windows
    /// (absent when the site publishes none).
    pub inside_slots: Option<u64>,
    pub outside_slots: Option<u64>,
    pub pre_advised: u64,
    pub unannounced: u64,
    /// Arrived larger than its pre-advice said.
    pub wrong_size: u64,
    pub reservations: ReservationUse,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImpactEstimate {
    pub deliveries: u64,
    pub failed_home_deliveries_avoided: f64,
    pub van_km_saved: f64,
    pub co2e_kg_saved: f64,
    /// Always true: published factors, not measurements (see `factors`).
    pub estimate: bool,
    /// The factors used and where they come from.
    pub factors: Vec<String>,
}

impl From<Impact> for ImpactEstimate {
    fn from(i: Impact) -> Self {
        ImpactEstimate {
            deliveries: i.deliveries,
            failed_home_deliveries_avoided: i.failed_home_deliveries_avoided,
            van_km_saved: i.van_km_saved,
            co2e_kg_saved: i.co2e_kg_saved,
            estimate: true,
            factors: vec![
                format!(
                    "{:.1} % of home deliveries fail at the first attempt (UK first-attempt rate 93.7 %)",
                    impact::FAILED_FIRST_ATTEMPT_RATE * 100.0
                ),
                format!(
                    "{:.2} van-km per extra attempt: a 120-drop, 80 km round (Edwards et al., TRR 2191, 2010, doi:10.3141/2191-17)",
                    impact::VAN_KM_PER_ATTEMPT
                ),
                format!(
                    "{} kg CO2e per van-km: average diesel van up to 3.5 t (UK Government GHG conversion factors)",
                    impact::KG_CO2E_PER_VAN_KM
                ),
            ],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CarrierReport {
    pub site_id: String,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Whether the site publishes courier windows.
    pub has_slots: bool,
    pub carriers: Vec<CarrierLine>,
    /// For the whole site (a carrier's token: its own deliveries only).
    pub impact: ImpactEstimate,
}

/// The report for `[from_ms, to_ms)`.
pub async fn carrier_report(
    state: &AppState,
    caller: &Caller,
    site_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> AppResult<CarrierReport> {
    caller.require(&[Role::Manager, Role::Concierge, Role::Carrier])?;
    if to_ms <= from_ms {
        return Err(ApiError::invalid("to_ms", "must be after from_ms"));
    }
    if to_ms.checked_sub(from_ms).is_none_or(|d| d > MAX_PERIOD_MS) {
        return Err(ApiError::invalid(
            "to_ms",
            "a report covers at most 366 days",
        ));
    }
    let site = site_for(state, caller, site_id).await?;
    let tz = Timezone::parse(&site.timezone)?;
    let (deliveries, holds, policy) = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        (
            db::reports::deliveries(&mut conn, &site.id, from_ms, to_ms).await?,
            db::reports::reservation_holds(&mut conn, &site.id, from_ms, to_ms).await?,
            db::schedule::site_policy(&mut conn, &site.id).await?.1,
        )
    };
    let slots = occurrences(&policy.reservations.delivery_slots, &tz, from_ms, to_ms);
    let has_slots = !policy.reservations.delivery_slots.is_empty();
    let own = caller.is_carrier_side().then(|| caller.carrier.clone());
    let mine = |carrier: &Option<String>| own.as_ref().is_none_or(|o| o == carrier);
    let mut lines: BTreeMap<Option<String>, CarrierLine> = BTreeMap::new();
    let mut counted = 0u64;
    for d in deliveries.iter().filter(|d| mine(&d.carrier)) {
        counted += 1;
        let line = lines
            .entry(d.carrier.clone())
            .or_insert_with(|| CarrierLine {
                carrier: d.carrier.clone(),
                ..CarrierLine::default()
            });
        line.deliveries += 1;
        if d.pre_advised {
            line.pre_advised += 1;
        } else {
            line.unannounced += 1;
        }
        if d.size_mismatch {
            line.wrong_size += 1;
        }
        if has_slots {
            let inside = slots
                .iter()
                .any(|s| s.from_ms <= d.at_ms && d.at_ms < s.to_ms);
            let (hit, miss) = if inside { (1, 0) } else { (0, 1) };
            *line.inside_slots.get_or_insert(0) += hit;
            *line.outside_slots.get_or_insert(0) += miss;
        }
    }
    for (carrier, hold_state, n) in holds {
        let carrier = Some(carrier);
        if !mine(&carrier) {
            continue;
        }
        let line = lines.entry(carrier.clone()).or_insert_with(|| CarrierLine {
            carrier,
            inside_slots: has_slots.then_some(0),
            outside_slots: has_slots.then_some(0),
            ..CarrierLine::default()
        });
        let n = n.max(0) as u64;
        let r = &mut line.reservations;
        r.held += n;
        match hold_state.as_str() {
            "used" => r.used += n,
            "released" => r.wasted += n,
            "cancelled" | "displaced" => r.cancelled += n,
            _ => {}
        }
    }
    let mut carriers: Vec<CarrierLine> = lines.into_values().collect();
    carriers.sort_by(|a, b| {
        b.deliveries
            .cmp(&a.deliveries)
            .then(a.carrier.cmp(&b.carrier))
    });
    Ok(CarrierReport {
        site_id: site.id,
        from_ms,
        to_ms,
        has_slots,
        carriers,
        impact: impact::estimate(counted).into(),
    })
}
