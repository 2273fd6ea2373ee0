//! Dwell-time distributions (deposit → pick-up), sampled by inverse CDF.

use crate::input::{DwellInput, DwellShape};

/// The Omniva-shaped CDF (hours, cumulative share) before scaling; see
/// [`DwellShape::Omniva`].
pub const OMNIVA_POINTS: [[f64; 2]; 7] = [
    [0.0, 0.0],
    [4.0, 0.25],
    [12.0, 0.68],
    [36.0, 0.86],
    [72.0, 0.95],
    [120.0, 0.98],
    [264.0, 1.0],
];

/// Check a custom CDF table.
pub fn check_table(points: &[[f64; 2]]) -> Result<(), String> {
    if points.len() < 2 {
        return Err("needs at least two points".into());
    }
    if points[0] != [0.0, 0.0] {
        return Err("must start at [0, 0]".into());
    }
    for w in points.windows(2) {
        let ([h0, p0], [h1, p1]) = (w[0], w[1]);
        if !(h1.is_finite() && p1.is_finite() && h1 > h0 && p1 >= p0) {
            return Err(format!(
                "points must increase: [{h0}, {p0}] then [{h1}, {p1}]"
            ));
        }
    }
    let last = points[points.len() - 1][1];
    if (last - 1.0).abs() > 1e-9 {
        return Err(format!("must end at share 1, not {last}"));
    }
    Ok(())
}

/// A dwell distribution in hours.
#[derive(Debug, Clone, PartialEq)]
pub enum Dwell {
    /// Piecewise-linear CDF (hours, cumulative share).
    Table(Vec<[f64; 2]>),
    Exponential {
        mean_hours: f64,
    },
}

fn table_mean(points: &[[f64; 2]]) -> f64 {
    points
        .windows(2)
        .map(|w| (w[1][1] - w[0][1]) * 0.5 * (w[0][0] + w[1][0]))
        .sum()
}

impl Dwell {
    /// Build from the input (already validated).
    pub fn from_input(d: &DwellInput) -> Dwell {
        let scaled = |pts: &[[f64; 2]]| {
            let m = table_mean(pts);
            let f = if d.mean_hours > 0.0 && m > 0.0 {
                d.mean_hours / m
            } else {
                1.0
            };
            Dwell::Table(pts.iter().map(|[h, p]| [h * f, *p]).collect())
        };
        match &d.shape {
            DwellShape::Omniva => scaled(&OMNIVA_POINTS),
            DwellShape::Exponential => Dwell::Exponential {
                mean_hours: d.mean_hours,
            },
            DwellShape::Table { points } => scaled(points),
        }
    }

    /// Inverse CDF at `u` in [0, 1).
    #[inline]
    pub fn quantile(&self, u: f64) -> f64 {
        match self {
            Dwell::Exponential { mean_hours } => -mean_hours * (1.0 - u).ln(),
            Dwell::Table(p) => {
                for w in p.windows(2) {
                    let ([h0, p0], [h1, p1]) = (w[0], w[1]);
                    if u < p1 {
                        let span = p1 - p0;
                        return if span > 0.0 {
                            h0 + (h1 - h0) * (u - p0) / span
                        } else {
                            h0
                        };
                    }
                }
                p.last().map_or(0.0, |x| x[0])
            }
        }
    }

    /// Mean in hours (no expiry).
    pub fn mean(&self) -> f64 {
        match self {
            Dwell::Exponential { mean_hours } => *mean_hours,
            Dwell::Table(p) => table_mean(p),
        }
    }

    /// P(dwell > h).
    pub fn survival(&self, h: f64) -> f64 {
        match self {
            Dwell::Exponential { mean_hours } => (-h / mean_hours).exp(),
            Dwell::Table(p) => {
                if h <= 0.0 {
                    return 1.0;
                }
                for w in p.windows(2) {
                    let ([h0, p0], [h1, p1]) = (w[0], w[1]);
                    if h < h1 {
                        return 1.0 - (p0 + (p1 - p0) * (h - h0) / (h1 - h0));
                    }
                }
                0.0
            }
        }
    }

    /// E[min(dwell, cap)] in hours: the mean time a parcel occupies a
    /// compartment when uncollected parcels are removed at `cap`.
    pub fn mean_capped(&self, cap: f64) -> f64 {
        match self {
            Dwell::Exponential { mean_hours } => mean_hours * (1.0 - (-cap / mean_hours).exp()),
            Dwell::Table(p) => {
                // ∫0^cap S(h) dh, piecewise linear S.
                let mut acc = 0.0;
                for w in p.windows(2) {
                    let ([h0, _], [h1, _]) = (w[0], w[1]);
                    if h0 >= cap {
                        break;
                    }
                    let hi = h1.min(cap);
                    acc += 0.5 * (self.survival(h0) + self.survival(hi)) * (hi - h0);
                }
                acc
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omniva_shape_scaled_to_mean() {
        let d = Dwell::from_input(&DwellInput::default());
        assert!((d.mean() - 20.0).abs() < 1e-9);
        // The anchors of the shape survive the scaling (approximately).
        let s4 = 1.0 - d.survival(4.0);
        assert!((s4 - 0.25).abs() < 0.01, "{s4}");
    }

    #[test]
    fn capped_mean_is_below_mean_and_exact_for_exponential() {
        let d = Dwell::Exponential { mean_hours: 24.0 };
        let c = d.mean_capped(48.0);
        assert!((c - 24.0 * (1.0 - (-2.0f64).exp())).abs() < 1e-12);
        let t = Dwell::from_input(&DwellInput::default());
        assert!(t.mean_capped(120.0) < t.mean());
        assert!((t.mean_capped(1e6) - t.mean()).abs() < 1e-9);
    }

    #[test]
    fn quantile_inverts_survival() {
        let t = Dwell::from_input(&DwellInput::default());
        for u in [0.1, 0.3, 0.5, 0.7, 0.9, 0.99] {
            let h = t.quantile(u);
            assert!((1.0 - t.survival(h) - u).abs() < 1e-9, "u={u} h={h}");
        }
    }
}
