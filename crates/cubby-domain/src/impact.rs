//! What lockers and pick-up points save, as published estimates: every
//! parcel deposited is a home delivery that could not fail. Labelled as
//! estimates wherever shown; the factors and their sources are here and in
//! the README ("Carrier reports").
//!
//! - A home delivery fails at the first attempt 6.3 % of the time: the UK's
//!   first-attempt delivery rate is 93.7 % (industry figures collected by
//!   SmartRoutes, "Delivery success rates: key stats", 2024). Estimates run
//!   from 5 % (IMRG) to 10 % and more; 6.3 % is the conservative middle.
//! - A second attempt costs the van one more drop of its round: Edwards,
//!   McKinnon, Cherrett, McLeod and Song, "Carbon dioxide benefits of using
//!   collection-delivery points for failed home deliveries in the United
//!   Kingdom", Transportation Research Record 2191 (2010), 136–143,
//!   doi:10.3141/2191-17, model a typical round of 120 drops over 80 km:
//!   0.67 van-km per drop.
//! - An average diesel van (up to 3.5 t) emits about 0.25 kg CO2e per km
//!   (UK Government greenhouse gas conversion factors for company
//!   reporting, DESNZ; 0.23–0.25 across the 2022–2024 editions).
//!
//! Conservative on purpose: the same study finds 85–95 % of a failed
//! delivery's emissions come from the recipient driving to the depot, which
//! is not counted here.

use serde::{Deserialize, Serialize};

/// Share of home deliveries that fail at the first attempt.
pub const FAILED_FIRST_ATTEMPT_RATE: f64 = 0.063;
/// Van kilometres one more delivery attempt costs (80 km / 120 drops).
pub const VAN_KM_PER_ATTEMPT: f64 = 80.0 / 120.0;
/// kg CO2e per van kilometre, average diesel van up to 3.5 t.
pub const KG_CO2E_PER_VAN_KM: f64 = 0.25;

/// The estimate for a number of parcels delivered to lockers or rooms.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Impact {
    pub deliveries: u64,
    pub failed_home_deliveries_avoided: f64,
    pub van_km_saved: f64,
    pub co2e_kg_saved: f64,
}

/// Rounds to one decimal: these are estimates, not measurements.
fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn estimate(deliveries: u64) -> Impact {
    let avoided = deliveries as f64 * FAILED_FIRST_ATTEMPT_RATE;
    let km = avoided * VAN_KM_PER_ATTEMPT;
    Impact {
        deliveries,
        failed_home_deliveries_avoided: tenth(avoided),
        van_km_saved: tenth(km),
        co2e_kg_saved: tenth(km * KG_CO2E_PER_VAN_KM),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thousand_deliveries() {
        let i = estimate(1_000);
        // 63 failed attempts avoided, 42 van-km, 10.5 kg CO2e.
        assert_eq!(i.failed_home_deliveries_avoided, 63.0);
        assert_eq!(i.van_km_saved, 42.0);
        assert_eq!(i.co2e_kg_saved, 10.5);
        assert_eq!(estimate(0).co2e_kg_saved, 0.0);
    }
}
