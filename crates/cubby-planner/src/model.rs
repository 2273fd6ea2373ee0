//! The demand model derived from a validated [`PlanInput`]: daily volumes
//! through the year, class shares, dwell, and the loads the closed form uses.

use crate::dwell::Dwell;
use crate::input::{InvalidInput, PlanInput};

/// Which part of the year a day belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Outside the seasonal ramp: a normal week.
    Normal = 0,
    /// The peak week itself.
    Peak = 1,
    /// Ramping up to or down from the peak.
    Ramp = 2,
}

/// Relative parcel volume per size class (how much of a compartment a parcel
/// fills, for consolidation): S 1, M 2, L 5, XL 10.
pub const VOLUME: [u8; 4] = [1, 2, 5, 10];

/// Days in the simulated year.
pub const YEAR_DAYS: usize = 365;

/// Derived, ready-to-use model.
#[derive(Debug, Clone)]
pub struct Model {
    pub units: u32,
    /// Mean parcels per day in a normal week at the planning horizon.
    pub normal_daily: f64,
    /// Mean parcels per day in the peak week.
    pub peak_daily: f64,
    /// Expected parcels on each day of the year (weekday × season × normal_daily).
    pub day_volume: Vec<f64>,
    pub day_period: Vec<Period>,
    /// Share of all parcels per [zone][size].
    pub share: [[f64; 4]; 3],
    pub dwell: Dwell,
    pub expiry_hours: f64,
    pub hold_share: f64,
    pub hold_days: f64,
    /// Mean hours a deposited parcel occupies its compartment (expiry cut and
    /// holds included): the service time of the loss model.
    pub occupancy_hours: f64,
    pub couriers_per_day: u32,
    pub window: [f64; 2],
    pub consolidation: bool,
    pub target_blocking: f64,
    /// First day (0-based) of the peak week.
    pub peak_start_day: usize,
}

/// Normal daily volume from a measured history: the median of its full weekly
/// means (the plain mean when shorter than a week).
pub fn normal_daily_from_history(h: &[f64]) -> f64 {
    let weeks: Vec<f64> = h
        .chunks_exact(7)
        .map(|w| w.iter().sum::<f64>() / 7.0)
        .collect();
    if weeks.is_empty() {
        return h.iter().sum::<f64>() / h.len().max(1) as f64;
    }
    let mut w = weeks;
    w.sort_by(f64::total_cmp);
    let n = w.len();
    if !n.is_multiple_of(2) {
        w[n / 2]
    } else {
        0.5 * (w[n / 2 - 1] + w[n / 2])
    }
}

/// Seasonal factor per day: 1 in normal weeks, `peak` in the peak week, linear
/// ramps in between.
pub fn season_factors(
    peak: f64,
    peak_week: u32,
    ramp_weeks: u32,
) -> (Vec<f64>, Vec<Period>, usize) {
    let p0 = 7 * (peak_week.max(1) as usize - 1);
    let p1 = p0 + 7;
    let up = 7 * ramp_weeks as usize;
    let down = 7 * ramp_weeks as usize / 2;
    let mut f = vec![1.0; YEAR_DAYS];
    let mut per = vec![Period::Normal; YEAR_DAYS];
    for d in 0..YEAR_DAYS {
        if d >= p0 && d < p1 {
            f[d] = peak;
            per[d] = Period::Peak;
        } else if d < p0 && d + up >= p0 && up > 0 {
            let x = (d + up - p0) as f64 / up as f64;
            f[d] = 1.0 + (peak - 1.0) * x;
            per[d] = Period::Ramp;
        } else if d >= p1 && d < p1 + down && down > 0 {
            let x = 1.0 - (d - p1 + 1) as f64 / (down + 1) as f64;
            f[d] = 1.0 + (peak - 1.0) * x;
            per[d] = Period::Ramp;
        }
    }
    (f, per, p0)
}

impl Model {
    pub fn new(input: &PlanInput) -> Result<Model, InvalidInput> {
        input.validate()?;
        let units = input.effective_units();
        let base = match &input.daily_history {
            Some(h) => normal_daily_from_history(h),
            None => f64::from(units) * input.parcels_per_unit_week / 7.0,
        };
        let growth = (1.0 + input.growth_per_year).powf(input.horizon_years);
        let normal_daily = base * growth;
        let peak_daily = normal_daily * input.peak_multiplier;
        let wsum: f64 = input.weekday_factors.iter().sum();
        let wf: Vec<f64> = input
            .weekday_factors
            .iter()
            .map(|f| f * 7.0 / wsum)
            .collect();
        let (season, day_period, peak_start_day) = season_factors(
            input.peak_multiplier,
            input.peak_week,
            input.season_ramp_weeks,
        );
        let day_volume = (0..YEAR_DAYS)
            .map(|d| normal_daily * season[d] * wf[d % 7])
            .collect();
        let zone_share = [
            1.0 - input.chilled_share - input.frozen_share,
            input.chilled_share,
            input.frozen_share,
        ];
        let mix = input.size_mix.as_array();
        let mut share = [[0.0; 4]; 3];
        for z in 0..3 {
            for k in 0..4 {
                share[z][k] = zone_share[z].max(0.0) * mix[k];
            }
        }
        let dwell = Dwell::from_input(&input.dwell);
        let expiry_hours = input.expiry_days * 24.0;
        let hold_mean = 24.0 * (1.0 + input.hold_days) / 2.0;
        let occupancy_hours = (1.0 - input.hold_share) * dwell.mean_capped(expiry_hours)
            + input.hold_share * hold_mean;
        Ok(Model {
            units,
            normal_daily,
            peak_daily,
            day_volume,
            day_period,
            share,
            dwell,
            expiry_hours,
            hold_share: input.hold_share,
            hold_days: input.hold_days,
            occupancy_hours,
            couriers_per_day: input.couriers_per_day,
            window: input.delivery_window_hours,
            consolidation: input.consolidation,
            target_blocking: input.target_blocking,
            peak_start_day,
        })
    }

    /// Offered load (erlangs) per [zone][size] at `daily` parcels per day.
    pub fn loads(&self, daily: f64) -> [[f64; 4]; 3] {
        let a = daily * self.occupancy_hours / 24.0;
        let mut out = [[0.0; 4]; 3];
        for z in 0..3 {
            for k in 0..4 {
                out[z][k] = a * self.share[z][k];
            }
        }
        out
    }

    /// Parcels per year in the model.
    pub fn parcels_per_year(&self) -> f64 {
        self.day_volume.iter().sum()
    }
}
