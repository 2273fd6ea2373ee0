use chrono::{Datelike, NaiveDate};
use cubby_planner::forecast::{DEFAULT_HORIZON, weekly_profile};
use cubby_planner::{ForecastError, capacity_warning, forecast_daily};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Monday..Sunday; Tuesday is the busiest.
const PATTERN: [f64; 7] = [1.10, 1.30, 1.05, 1.00, 1.00, 0.90, 0.65];

fn start() -> NaiveDate {
    // A Monday.
    NaiveDate::from_ymd_opt(2025, 1, 6).expect("date")
}

fn truth(day: usize) -> f64 {
    (60.0 + 0.05 * day as f64) * PATTERN[day % 7]
}

fn history(days: usize, noise: f64, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..days)
        .map(|d| {
            let e: f64 = rng.random_range(-noise..noise);
            (truth(d) * (1.0 + e)).round().max(0.0)
        })
        .collect()
}

#[test]
fn recovers_weekly_seasonality_and_trend() {
    let n = 364;
    let h = history(n, 0.08, 11);
    let f = forecast_daily(&h, start(), DEFAULT_HORIZON, 0.95).expect("forecast");
    assert_eq!(f.point.len(), 56);
    assert_eq!(f.first_day, start() + chrono::Days::new(n as u64));
    // Point forecast within 8 % of the true continuation (mean absolute % error).
    let mape: f64 = (0..56)
        .map(|i| (f.point[i] - truth(n + i)).abs() / truth(n + i))
        .sum::<f64>()
        / 56.0;
    eprintln!("MAPE {mape:.4}");
    assert!(mape < 0.08, "MAPE {mape}");
    // The trend continues: the last forecast week is above the first.
    let w1: f64 = f.point[..7].iter().sum();
    let w8: f64 = f.point[49..56].iter().sum();
    assert!(w8 > w1, "{w1} → {w8}");
    // The busiest weekday is recovered, in the history profile and the forecast.
    let argmax = |xs: &[f64]| {
        xs.iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(99)
    };
    assert_eq!(argmax(&f.weekly_profile), 1, "{:?}", f.weekly_profile);
    let mut by_weekday = [0.0; 7];
    for (i, p) in f.point.iter().enumerate() {
        let wd = f.date(i).weekday().num_days_from_monday() as usize;
        by_weekday[wd] += p;
    }
    assert_eq!(argmax(&by_weekday), 1, "{by_weekday:?}");
    assert_eq!(
        argmax(&by_weekday.map(|x: f64| -x)),
        6,
        "Sunday is the quietest"
    );
    // Intervals bracket the point and cover most of the truth.
    let mut covered = 0;
    for i in 0..56 {
        assert!(f.lower[i] <= f.point[i] && f.point[i] <= f.upper[i]);
        let t = truth(n + i);
        if f.lower[i] <= t && t <= f.upper[i] {
            covered += 1;
        }
    }
    eprintln!("interval coverage {covered}/56");
    assert!(covered >= 45, "covered {covered}/56");
}

#[test]
fn weekly_profile_of_a_clean_series_is_the_pattern() {
    let h: Vec<f64> = (0..70).map(|d| 100.0 * PATTERN[d % 7]).collect();
    let p = weekly_profile(&h, start());
    let mean = PATTERN.iter().sum::<f64>() / 7.0;
    for wd in 0..7 {
        assert!((p[wd] - PATTERN[wd] / mean).abs() < 1e-9, "{p:?}");
    }
}

#[test]
fn two_years_use_yearly_seasonality_too() {
    let h = history(730, 0.05, 3);
    let f = forecast_daily(&h, start(), 28, 0.9).expect("forecast");
    assert_eq!(f.periods, vec![7, 365]);
    assert!(f.point.iter().all(|p| p.is_finite() && *p >= 0.0));
}

#[test]
fn rejects_short_or_bad_history() {
    assert_eq!(
        forecast_daily(&[1.0; 10], start(), 56, 0.95),
        Err(ForecastError::InsufficientHistory {
            needed: 14,
            got: 10
        })
    );
    let mut h = vec![5.0; 30];
    h[4] = -1.0;
    assert!(matches!(
        forecast_daily(&h, start(), 56, 0.95),
        Err(ForecastError::BadValue { day: 4, .. })
    ));
    assert!(forecast_daily(&[5.0; 30], start(), 56, 1.5).is_err());
}

#[test]
fn capacity_warning_finds_the_first_short_day() {
    let n = 364;
    let h = history(n, 0.05, 5);
    let f = forecast_daily(&h, start(), DEFAULT_HORIZON, 0.95).expect("forecast");
    // Plenty of room: no warning.
    let ok = capacity_warning(&f, 20.0, 500, 0.99).expect("outlook");
    assert!(ok.warning.is_none() && ok.first_exceeded.is_none());
    // Capacity just below what the busiest forecast day needs: the first short
    // day is a Tuesday (the busy weekday), and the upper bound warns no later.
    let need = ok.peak_compartments_needed;
    let tight = capacity_warning(&f, 20.0, need - 1, 0.99).expect("outlook");
    let first = tight.first_exceeded.clone().expect("short day");
    assert_eq!(first.date.weekday(), chrono::Weekday::Tue);
    assert_eq!(tight.warning_date, Some(first.date));
    let upper = tight.first_exceeded_upper.expect("upper");
    assert!(upper.day_index <= first.day_index);
    assert!(tight.warning.is_some());
    // Needed compartments match Erlang B for the day's load.
    let d = &tight.days[first.day_index];
    assert_eq!(
        d.compartments_needed,
        cubby_planner::servers_for(d.arrivals * 20.0 / 24.0, 0.01)
    );
    assert!(capacity_warning(&f, 0.0, 10, 0.99).is_err());
    assert!(capacity_warning(&f, 20.0, 10, 1.0).is_err());
}
