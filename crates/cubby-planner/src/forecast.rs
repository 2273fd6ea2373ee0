//! Forecasting daily parcel arrivals, and when a locker will run short.
//!
//! The forecast is augurs' MSTL decomposition (weekly period, plus a yearly
//! one when two years of history exist) with an AutoETS model of the trend,
//! fitted on `ln(1 + y)` so weekly seasonality is multiplicative (a busier
//! building has a proportionally busier Monday). Intervals combine the trend
//! model's interval with the empirical quantiles of the in-sample residuals
//! (MSTL's own intervals leave the seasonal part's error out).

use augurs::ets::AutoETS;
use augurs::mstl::MSTLModel;
use augurs::prelude::*;
use chrono::{Datelike, Days, NaiveDate};
use serde::{Serialize, Serializer};

use crate::erlang::servers_for;

/// Days forecast by default: 8 weeks.
pub const DEFAULT_HORIZON: usize = 56;

/// Why a forecast could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    #[error("history too short: {got} days, at least {needed} needed")]
    InsufficientHistory { needed: usize, got: usize },
    #[error("history day {day} has {value}: values must be finite and ≥ 0")]
    BadValue { day: usize, value: f64 },
    #[error("{field}: {problem}")]
    BadArgument {
        field: &'static str,
        problem: String,
    },
    #[error("forecast model failed: {0}")]
    Model(String),
}

pub(crate) fn ser_date<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

fn ser_opt_date<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(d),
        None => s.serialize_none(),
    }
}

/// A forecast of parcels per day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyForecast {
    /// The day after the last day of history.
    #[serde(serialize_with = "ser_date")]
    pub first_day: NaiveDate,
    pub point: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// Interval level, e.g. 0.95.
    pub level: f64,
    /// Relative volume Monday..Sunday estimated from the history (mean 1).
    pub weekly_profile: [f64; 7],
    /// Seasonal periods used (7, and 365 with ≥ 2 years of history).
    pub periods: Vec<usize>,
    pub method: String,
}

impl DailyForecast {
    pub fn date(&self, i: usize) -> NaiveDate {
        self.first_day
            .checked_add_days(Days::new(i as u64))
            .unwrap_or(self.first_day)
    }
}

/// Relative volume per weekday (Monday = 0) from a history starting on
/// `first_day`: each day against its centred 7-day mean, averaged per weekday.
pub fn weekly_profile(history: &[f64], first_day: NaiveDate) -> [f64; 7] {
    let mut sum = [0.0; 7];
    let mut n = [0usize; 7];
    let off = first_day.weekday().num_days_from_monday() as usize;
    for i in 3..history.len().saturating_sub(3) {
        let ma: f64 = history[i - 3..=i + 3].iter().sum::<f64>() / 7.0;
        if ma > 0.0 {
            let wd = (off + i) % 7;
            sum[wd] += history[i] / ma;
            n[wd] += 1;
        }
    }
    let mut p = [1.0; 7];
    for wd in 0..7 {
        if n[wd] > 0 {
            p[wd] = sum[wd] / n[wd] as f64;
        }
    }
    let mean = p.iter().sum::<f64>() / 7.0;
    if mean > 0.0 {
        p.iter_mut().for_each(|x| *x /= mean);
    }
    p
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Forecast `horizon` days after a daily history whose first day is
/// `first_day`, with intervals at `level` (e.g. 0.95). Needs 14 days.
pub fn forecast_daily(
    history: &[f64],
    first_day: NaiveDate,
    horizon: usize,
    level: f64,
) -> Result<DailyForecast, ForecastError> {
    const MIN: usize = 14;
    if history.len() < MIN {
        return Err(ForecastError::InsufficientHistory {
            needed: MIN,
            got: history.len(),
        });
    }
    if let Some((day, &value)) = history
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite() || **v < 0.0)
    {
        return Err(ForecastError::BadValue { day, value });
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(ForecastError::BadArgument {
            field: "level",
            problem: format!("{level} must be in (0, 1)"),
        });
    }
    if horizon == 0 || horizon > 3_650 {
        return Err(ForecastError::BadArgument {
            field: "horizon",
            problem: format!("{horizon} must be 1..=3650 days"),
        });
    }
    let y: Vec<f64> = history.iter().map(|v| v.ln_1p()).collect();
    let mut periods = vec![7];
    if history.len() >= 2 * 365 {
        periods.push(365);
    }
    let trend = AutoETS::non_seasonal().into_trend_model();
    let model = MSTLModel::new(periods.clone(), trend);
    let fit = model
        .fit(&y)
        .map_err(|e| ForecastError::Model(e.to_string()))?;
    let out = fit
        .predict(horizon, level)
        .map_err(|e| ForecastError::Model(e.to_string()))?;
    let ins = fit
        .predict_in_sample(level)
        .map_err(|e| ForecastError::Model(e.to_string()))?;
    let mut resid: Vec<f64> = y
        .iter()
        .zip(ins.point.iter())
        .map(|(a, b)| a - b)
        .filter(|r| r.is_finite())
        .collect();
    resid.sort_by(f64::total_cmp);
    let q_lo = quantile(&resid, (1.0 - level) / 2.0).min(0.0);
    let q_hi = quantile(&resid, (1.0 + level) / 2.0).max(0.0);
    let n = out.point.len();
    if n != horizon || out.point.iter().any(|v| !v.is_finite()) {
        return Err(ForecastError::Model("non-finite forecast".into()));
    }
    let mut point = Vec::with_capacity(n);
    let mut lower = Vec::with_capacity(n);
    let mut upper = Vec::with_capacity(n);
    for i in 0..n {
        let p = out.point[i];
        let (tl, tu) = match &out.intervals {
            Some(iv) => (
                (p - iv.lower.get(i).copied().unwrap_or(p)).max(0.0),
                (iv.upper.get(i).copied().unwrap_or(p) - p).max(0.0),
            ),
            None => (0.0, 0.0),
        };
        let lo = p - (tl * tl + q_lo * q_lo).sqrt();
        let hi = p + (tu * tu + q_hi * q_hi).sqrt();
        point.push(p.exp_m1().max(0.0));
        lower.push(lo.exp_m1().max(0.0));
        upper.push(hi.exp_m1().max(0.0));
    }
    let first = first_day
        .checked_add_days(Days::new(history.len() as u64))
        .ok_or(ForecastError::BadArgument {
            field: "first_day",
            problem: "date out of range".into(),
        })?;
    Ok(DailyForecast {
        first_day: first,
        point,
        lower,
        upper,
        level,
        weekly_profile: weekly_profile(history, first_day),
        method: format!(
            "augurs MSTL (periods {periods:?}) + AutoETS trend on ln(1 + y); intervals: trend interval ⊕ in-sample residual quantiles"
        ),
        periods,
    })
}

/// One forecast day seen as locker occupancy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityDay {
    #[serde(serialize_with = "ser_date")]
    pub date: NaiveDate,
    pub day_index: usize,
    pub arrivals: f64,
    /// Mean compartments occupied (arrivals × mean dwell).
    pub occupancy: f64,
    /// Compartments needed to keep blocking ≤ 1 − service level (Erlang B).
    pub compartments_needed: u32,
}

/// Forecast occupancy against capacity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityOutlook {
    pub capacity: u32,
    pub service_level: f64,
    pub mean_dwell_hours: f64,
    /// Point forecast, day by day.
    pub days: Vec<CapacityDay>,
    /// First day the point forecast needs more than `capacity`.
    pub first_exceeded: Option<CapacityDay>,
    /// First day the upper interval needs more than `capacity` (earlier warning).
    pub first_exceeded_upper: Option<CapacityDay>,
    /// Date of `first_exceeded`, for convenience.
    #[serde(serialize_with = "ser_opt_date")]
    pub warning_date: Option<NaiveDate>,
    pub peak_occupancy: f64,
    pub peak_compartments_needed: u32,
    /// A sentence for a person, when capacity runs short.
    pub warning: Option<String>,
}

/// Turn a forecast of daily arrivals into forecast occupancy (arrivals × mean
/// dwell, Little's law per day) and compare it with `capacity`: a day is short
/// when Erlang B needs more than `capacity` compartments to keep blocking at or
/// below `1 − service_level`.
pub fn capacity_warning(
    forecast: &DailyForecast,
    mean_dwell_hours: f64,
    capacity: u32,
    service_level: f64,
) -> Result<CapacityOutlook, ForecastError> {
    if !(mean_dwell_hours > 0.0 && mean_dwell_hours.is_finite()) {
        return Err(ForecastError::BadArgument {
            field: "mean_dwell_hours",
            problem: format!("{mean_dwell_hours} must be > 0"),
        });
    }
    if !(service_level > 0.0 && service_level < 1.0) {
        return Err(ForecastError::BadArgument {
            field: "service_level",
            problem: format!("{service_level} must be in (0, 1), e.g. 0.99"),
        });
    }
    let blocking = 1.0 - service_level;
    let day = |i: usize, arrivals: f64| {
        let occupancy = arrivals * mean_dwell_hours / 24.0;
        CapacityDay {
            date: forecast.date(i),
            day_index: i,
            arrivals,
            occupancy,
            compartments_needed: servers_for(occupancy, blocking),
        }
    };
    let days: Vec<CapacityDay> = forecast
        .point
        .iter()
        .enumerate()
        .map(|(i, &a)| day(i, a))
        .collect();
    let first_exceeded = days
        .iter()
        .find(|d| d.compartments_needed > capacity)
        .cloned();
    let first_exceeded_upper = forecast
        .upper
        .iter()
        .enumerate()
        .map(|(i, &a)| day(i, a))
        .find(|d| d.compartments_needed > capacity);
    let peak = days
        .iter()
        .max_by(|a, b| a.occupancy.total_cmp(&b.occupancy));
    let warning = match (&first_exceeded, &first_exceeded_upper) {
        (Some(d), _) => Some(format!(
            "capacity {capacity} is expected to be short on {}: {:.0} parcels, {} compartments needed at {:.1} % service",
            d.date,
            d.arrivals,
            d.compartments_needed,
            service_level * 100.0
        )),
        (None, Some(d)) => Some(format!(
            "capacity {capacity} may be short from {} (upper {:.0} % bound: {:.0} parcels, {} compartments needed)",
            d.date,
            forecast.level * 100.0,
            d.arrivals,
            d.compartments_needed
        )),
        (None, None) => None,
    };
    Ok(CapacityOutlook {
        capacity,
        service_level,
        mean_dwell_hours,
        warning_date: first_exceeded.as_ref().map(|d| d.date),
        peak_occupancy: peak.map_or(0.0, |d| d.occupancy),
        peak_compartments_needed: peak.map_or(0, |d| d.compartments_needed),
        days,
        first_exceeded,
        first_exceeded_upper,
        warning,
    })
}
