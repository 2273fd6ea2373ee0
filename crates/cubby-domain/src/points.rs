//! Out-of-home pick-up points: a site open to the public, with a place on
//! the map, opening hours in its own zone and accessibility notes, and the
//! finder that ranks points by great-circle distance. Pure: the store
//! supplies which points have a free compartment that fits.

use chrono::{Datelike, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::model::{Invalid, Timezone};

/// Mean Earth radius (IUGG), metres: the haversine's sphere.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Largest search radius the finder takes.
pub const MAX_RADIUS_M: u32 = 100_000;

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A position in degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    pub fn new(lat: f64, lon: f64) -> Result<GeoPoint, Invalid> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(Invalid::new("lat", "must be a latitude from -90 to 90"));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(Invalid::new("lon", "must be a longitude from -180 to 180"));
        }
        Ok(GeoPoint { lat, lon })
    }

    /// Stored as whole micro-degrees (about 11 cm): exact on both backends.
    pub fn to_micro(self) -> (i64, i64) {
        (
            (self.lat * 1e6).round() as i64,
            (self.lon * 1e6).round() as i64,
        )
    }

    pub fn from_micro(lat: i64, lon: i64) -> GeoPoint {
        GeoPoint {
            lat: lat as f64 / 1e6,
            lon: lon as f64 / 1e6,
        }
    }

    /// Great-circle distance in metres (haversine on the mean sphere; within
    /// 0.5 % of the ellipsoid, plenty to rank points a walk apart).
    pub fn distance_m(self, other: GeoPoint) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lon - self.lon).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }

    /// The latitude band (micro-degrees) that holds every point within
    /// `radius_m`: a cheap prefilter before the exact distance.
    pub fn lat_band_micro(self, radius_m: f64) -> (i64, i64) {
        let d = (radius_m / EARTH_RADIUS_M).to_degrees();
        (
            ((self.lat - d).max(-90.0) * 1e6).floor() as i64,
            ((self.lat + d).min(90.0) * 1e6).ceil() as i64,
        )
    }
}

impl GeoPoint {
    /// The longitude band (micro-degrees) that holds every point within
    /// `radius_m`, widest at the band's latitude nearest a pole; the whole
    /// circle where the band reaches a pole or crosses the antimeridian.
    pub fn lon_band_micro(self, radius_m: f64) -> (i64, i64) {
        const WHOLE: (i64, i64) = (-180_000_000, 180_000_000);
        let d_lat = (radius_m / EARTH_RADIUS_M).to_degrees();
        let nearest_pole = self.lat.abs() + d_lat;
        if nearest_pole >= 89.0 {
            return WHOLE;
        }
        // A little wider than exact, so rounding never drops a point.
        let d_lon = d_lat / nearest_pole.to_radians().cos() * 1.01 + 1e-6;
        let (lo, hi) = (self.lon - d_lon, self.lon + d_lon);
        if lo < -180.0 || hi > 180.0 {
            return WHOLE;
        }
        ((lo * 1e6).floor() as i64, (hi * 1e6).ceil() as i64)
    }
}

/// One span of opening hours, local time of the point's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningSpan {
    /// `mon` … `sun`; empty: every day.
    #[serde(default)]
    pub days: Vec<String>,
    /// "HH:MM"; `close` after `open` on the same day.
    pub open: String,
    pub close: String,
}

/// When the public can reach the lockers: always (an outdoor locker), or
/// the spans of the building they stand in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    #[serde(default)]
    pub always_open: bool,
    #[serde(default)]
    pub spans: Vec<OpeningSpan>,
}

fn hhmm(s: &str) -> Result<NaiveTime, Invalid> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| {
        Invalid::new(
            "opening_hours.spans",
            format!("{s:?} is not a time like 08:00"),
        )
    })
}

impl OpeningHours {
    pub fn validate(&self) -> Result<(), Invalid> {
        if !self.always_open && self.spans.is_empty() {
            return Err(Invalid::new(
                "opening_hours",
                "say always_open or list at least one span",
            ));
        }
        if self.spans.len() > 28 {
            return Err(Invalid::new("opening_hours.spans", "at most 28 spans"));
        }
        for s in &self.spans {
            if let Some(d) = s.days.iter().find(|d| !WEEKDAYS.contains(&d.as_str())) {
                return Err(Invalid::new(
                    "opening_hours.spans.days",
                    format!("{d:?} is not one of mon, tue, wed, thu, fri, sat, sun"),
                ));
            }
            if hhmm(&s.close)? <= hhmm(&s.open)? {
                return Err(Invalid::new(
                    "opening_hours.spans",
                    format!("{} must be after {}", s.close, s.open),
                ));
            }
        }
        Ok(())
    }

    /// Whether the point is open at `at_ms`, in its zone.
    pub fn is_open(&self, tz: &Timezone, at_ms: Millis) -> bool {
        if self.always_open {
            return true;
        }
        let Some(local) = tz.local_time(at_ms) else {
            return false;
        };
        let day = WEEKDAYS[local.weekday().num_days_from_monday() as usize];
        let now =
            NaiveTime::from_hms_opt(local.hour(), local.minute(), 0).unwrap_or(NaiveTime::MIN);
        self.spans.iter().any(|s| {
            (s.days.is_empty() || s.days.iter().any(|d| d == day))
                && matches!((hhmm(&s.open), hhmm(&s.close)), (Ok(o), Ok(c)) if o <= now && now < c)
        })
    }
}

/// What the finder knows of one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub at: GeoPoint,
    /// A free compartment there takes the parcel asked about.
    pub fits: bool,
}

/// The points within `radius_m` of `origin` that take the parcel, nearest
/// first (ties by index, so the order is stable): `(index, distance_m)`.
pub fn nearest(origin: GeoPoint, radius_m: f64, candidates: &[Candidate]) -> Vec<(usize, f64)> {
    let mut out: Vec<(usize, f64)> = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.fits)
        .map(|(i, c)| (i, origin.distance_m(c.at)))
        .filter(|(_, d)| *d <= radius_m)
        .collect();
    out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    out
}
