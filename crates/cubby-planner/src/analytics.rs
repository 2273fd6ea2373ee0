//! What a running site measured: arrivals per day by size, how long parcels
//! stayed, and how full the compartments got. Pure: the server reads the
//! stays from its custody chain (in the site's local time) and passes them in.
//! The result feeds the forecast and a re-run of the planner on measured
//! inputs.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::input::{PerSize, SizeClass};

/// One parcel's stay in a compartment, in the site's local time.
#[derive(Debug, Clone, PartialEq)]
pub struct Stay {
    pub arrived: NaiveDateTime,
    /// `None` while it is still inside.
    pub left: Option<NaiveDateTime>,
    pub size: SizeClass,
}

/// The size class of a parcel by its smallest side, on the door heights of
/// the common locker families (facts.md: 80, 190 and 410 mm doors).
pub fn size_of(width_mm: u32, height_mm: u32, depth_mm: u32) -> SizeClass {
    match width_mm.min(height_mm).min(depth_mm) {
        0..=80 => SizeClass::S,
        81..=190 => SizeClass::M,
        191..=410 => SizeClass::L,
        _ => SizeClass::XL,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayActivity {
    #[serde(serialize_with = "crate::forecast::ser_date")]
    pub date: NaiveDate,
    pub arrivals: u32,
    /// Arrivals per size class ("S", "M", "L", "XL").
    pub arrivals_by_size: BTreeMap<&'static str, u32>,
    /// Most parcels inside at once that day.
    pub peak_occupancy: u32,
}

/// How long parcels stayed, for those that left.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DwellSummary {
    pub collected: u32,
    pub mean_hours: Option<f64>,
    pub p50_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    pub p99_hours: Option<f64>,
    /// (upper bound in hours, parcels) for 4, 12, 24, 48, 72, 120 h and beyond.
    pub histogram: Vec<(String, u32)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteActivity {
    #[serde(serialize_with = "crate::forecast::ser_date")]
    pub from: NaiveDate,
    #[serde(serialize_with = "crate::forecast::ser_date")]
    pub to: NaiveDate,
    pub days: Vec<DayActivity>,
    pub dwell: DwellSummary,
    /// Share of arrivals per size class over the period.
    pub size_mix: PerSize,
    pub peak_occupancy: u32,
}

impl SiteActivity {
    /// Arrivals per day, oldest first: the forecast's history.
    pub fn daily_arrivals(&self) -> Vec<f64> {
        self.days.iter().map(|d| f64::from(d.arrivals)).collect()
    }
}

const DWELL_BUCKETS: [(f64, &str); 6] = [
    (4.0, "≤ 4 h"),
    (12.0, "≤ 12 h"),
    (24.0, "≤ 24 h"),
    (48.0, "≤ 48 h"),
    (72.0, "≤ 72 h"),
    (120.0, "≤ 120 h"),
];

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted.get(i.min(sorted.len() - 1)).copied()
}

/// Summarises the stays for the days `from..=to`. Stays that began before
/// `from` still count towards occupancy (pass them in); only arrivals inside
/// the period count as arrivals and dwell.
pub fn summarise(stays: &[Stay], from: NaiveDate, to: NaiveDate) -> SiteActivity {
    let n_days = ((to - from).num_days() + 1).max(0) as usize;
    let mut days: Vec<DayActivity> = (0..n_days)
        .map(|i| DayActivity {
            date: from + Duration::days(i as i64),
            arrivals: 0,
            arrivals_by_size: SizeClass::ALL.iter().map(|s| (s.name(), 0)).collect(),
            peak_occupancy: 0,
        })
        .collect();
    let day_of = |t: NaiveDateTime| -> Option<usize> {
        let d = (t.date() - from).num_days();
        (d >= 0 && (d as usize) < n_days).then_some(d as usize)
    };
    let mut dwell_hours = Vec::new();
    let mut mix = [0u32; 4];
    // Occupancy sweep: +1 at arrival, -1 at departure, departures first at
    // equal times (a door reused the same minute is not two parcels at once).
    let mut edges: Vec<(NaiveDateTime, i32)> = Vec::with_capacity(stays.len() * 2);
    for s in stays {
        edges.push((s.arrived, 1));
        if let Some(left) = s.left {
            edges.push((left.max(s.arrived), -1));
        }
        if let Some(i) = day_of(s.arrived) {
            days[i].arrivals += 1;
            *days[i].arrivals_by_size.entry(s.size.name()).or_insert(0) += 1;
            mix[s.size.index()] += 1;
            if let Some(left) = s.left {
                dwell_hours.push((left - s.arrived).num_seconds().max(0) as f64 / 3600.0);
            }
        }
    }
    edges.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut inside: i64 = 0;
    // The first day whose parcels carried over midnight are not yet counted.
    let mut next_day = 0usize;
    for (t, delta) in edges {
        let d = (t.date() - from).num_days();
        if d >= n_days as i64 {
            break;
        }
        if d >= 0 {
            let i = d as usize;
            let carried = inside.max(0) as u32;
            for day in days.iter_mut().take(i + 1).skip(next_day) {
                day.peak_occupancy = day.peak_occupancy.max(carried);
            }
            next_day = next_day.max(i + 1);
            inside += i64::from(delta);
            days[i].peak_occupancy = days[i].peak_occupancy.max(inside.max(0) as u32);
        } else {
            inside += i64::from(delta);
        }
    }
    let carried = inside.max(0) as u32;
    for day in days.iter_mut().skip(next_day) {
        day.peak_occupancy = day.peak_occupancy.max(carried);
    }
    let overall_peak = days.iter().map(|d| d.peak_occupancy).max().unwrap_or(0);
    dwell_hours.sort_by(|a, b| a.total_cmp(b));
    let mut histogram: Vec<(String, u32)> = DWELL_BUCKETS
        .iter()
        .map(|(_, label)| (label.to_string(), 0))
        .collect();
    histogram.push(("> 120 h".to_string(), 0));
    for h in &dwell_hours {
        let i = DWELL_BUCKETS
            .iter()
            .position(|(upper, _)| h <= upper)
            .unwrap_or(DWELL_BUCKETS.len());
        histogram[i].1 += 1;
    }
    let total: u32 = mix.iter().sum();
    let share = |i: usize| {
        if total == 0 {
            0.0
        } else {
            f64::from(mix[i]) / f64::from(total)
        }
    };
    SiteActivity {
        from,
        to,
        days,
        dwell: DwellSummary {
            collected: dwell_hours.len() as u32,
            mean_hours: (!dwell_hours.is_empty())
                .then(|| dwell_hours.iter().sum::<f64>() / dwell_hours.len() as f64),
            p50_hours: quantile(&dwell_hours, 0.5),
            p90_hours: quantile(&dwell_hours, 0.9),
            p99_hours: quantile(&dwell_hours, 0.99),
            histogram,
        },
        size_mix: PerSize {
            s: share(0),
            m: share(1),
            l: share(2),
            xl: share(3),
        },
        peak_occupancy: overall_peak,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, day)
            .and_then(|d| d.and_hms_opt(hour, 0, 0))
            .unwrap()
    }

    #[test]
    fn arrivals_dwell_and_peaks_are_counted_per_day() {
        let stays = vec![
            // Arrived before the period and still inside on day 2.
            Stay {
                arrived: at(1, 10),
                left: Some(at(2, 12)),
                size: SizeClass::M,
            },
            Stay {
                arrived: at(2, 9),
                left: Some(at(2, 13)),
                size: SizeClass::S,
            },
            Stay {
                arrived: at(2, 11),
                left: Some(at(3, 11)),
                size: SizeClass::S,
            },
            Stay {
                arrived: at(3, 8),
                left: None,
                size: SizeClass::L,
            },
        ];
        let from = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 11, 4).unwrap();
        let a = summarise(&stays, from, to);
        assert_eq!(a.daily_arrivals(), vec![2.0, 1.0, 0.0]);
        assert_eq!(a.days[0].arrivals_by_size["S"], 2);
        // Day 2: the carried-over parcel plus two new ones at 11:00.
        assert_eq!(a.days[0].peak_occupancy, 3);
        // Day 3: one from day 2 and the new one at 08:00.
        assert_eq!(a.days[1].peak_occupancy, 2);
        // Day 4: the L parcel is still inside.
        assert_eq!(a.days[2].peak_occupancy, 1);
        assert_eq!(a.peak_occupancy, 3);
        // Dwell of the two that arrived in the period and left: 4 h and 24 h.
        assert_eq!(a.dwell.collected, 2);
        assert_eq!(a.dwell.mean_hours, Some(14.0));
        assert_eq!(a.dwell.histogram[0], ("≤ 4 h".to_string(), 1));
        assert_eq!(a.dwell.histogram[2], ("≤ 24 h".to_string(), 1));
        assert!((a.size_mix.s - 2.0 / 3.0).abs() < 1e-9);
        assert!((a.size_mix.l - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn sizes_follow_the_door_heights() {
        assert_eq!(size_of(300, 60, 200), SizeClass::S);
        assert_eq!(size_of(300, 150, 400), SizeClass::M);
        assert_eq!(size_of(370, 380, 600), SizeClass::L);
        assert_eq!(size_of(500, 500, 600), SizeClass::XL);
    }

    #[test]
    fn an_empty_period_is_all_zeros() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let a = summarise(&[], d, d + Duration::days(6));
        assert_eq!(a.days.len(), 7);
        assert_eq!(a.peak_occupancy, 0);
        assert_eq!(a.dwell.mean_hours, None);
    }
}
