//! Seeded discrete-event simulation of one locker bank through a year.
//!
//! Couriers come a few times a day, each dropping a batch; a parcel takes a
//! free compartment of its size class, else of a larger class (upgrade), else
//! it is blocked (overflows the locker). A recipient's further parcels go into
//! the compartment already holding one of theirs when they fit
//! (consolidation). Uncollected parcels are removed at expiry; held parcels
//! stay until their holder returns. Weekly and yearly seasonality, with a peak
//! week, come from the [`Model`].
//!
//! Replication `r` draws from `StdRng::seed_from_u64(mix(seed, r))`, and the
//! statistics are combined in replication order, so results do not depend on
//! the number of threads.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::input::{SizeClass, Zone};
use crate::model::{Model, Period, VOLUME, YEAR_DAYS};

const NONE: u32 = u32::MAX;
const ZK: usize = 12;
const MAX_COURIERS: usize = 64;

/// Compartments per [zone][size class].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Layout {
    pub counts: [[u32; 4]; 3],
}

impl Layout {
    pub fn total(&self) -> u32 {
        self.counts.iter().flatten().sum()
    }

    pub fn get(&self, zone: Zone, size: SizeClass) -> u32 {
        self.counts[zone.index()][size.index()]
    }

    /// One ambient class only (for checks against Erlang B).
    pub fn single(size: SizeClass, count: u32) -> Layout {
        let mut l = Layout::default();
        l.counts[0][size.index()] = count;
        l
    }
}

/// How to run the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimOptions {
    pub replications: u32,
    pub seed: u64,
    /// Worker threads (results are identical for any value ≥ 1).
    pub threads: usize,
    /// Days to simulate (at most 365; the model's year).
    pub days: u32,
    /// Days at the start left out of the statistics (the bank starts empty).
    pub warmup_days: u32,
    /// Record hourly occupancy through the peak week in replication 0.
    pub trace_peak_week: bool,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            replications: 200,
            seed: 7,
            threads: 2,
            days: YEAR_DAYS as u32,
            warmup_days: 0,
            trace_peak_week: true,
        }
    }
}

/// Mean of a statistic over replications with a 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Estimate {
    pub mean: f64,
    pub ci95_low: f64,
    pub ci95_high: f64,
}

impl Estimate {
    pub fn from_samples(xs: &[f64]) -> Estimate {
        let n = xs.len();
        if n == 0 {
            return Estimate::default();
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        if n == 1 {
            return Estimate {
                mean,
                ci95_low: mean,
                ci95_high: mean,
            };
        }
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
        let half = t_975(n - 1) * (var / n as f64).sqrt();
        Estimate {
            mean,
            ci95_low: mean - half,
            ci95_high: mean + half,
        }
    }

    pub fn half_width(&self) -> f64 {
        0.5 * (self.ci95_high - self.ci95_low)
    }

    pub fn contains(&self, x: f64) -> bool {
        self.ci95_low <= x && x <= self.ci95_high
    }
}

/// Student's t 0.975 quantile.
fn t_975(df: usize) -> f64 {
    const T: [f64; 10] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    ];
    if df == 0 {
        return f64::INFINITY;
    }
    if df <= 10 {
        return T[df - 1];
    }
    let z = 1.959_964;
    let d = df as f64;
    z + (z * z * z + z) / (4.0 * d)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
}

/// Simulated figures for one zone and size class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassSim {
    pub zone: Zone,
    pub size: SizeClass,
    pub compartments: u32,
    pub parcels_per_year: f64,
    /// Share of this class's parcels that found no compartment, in normal weeks.
    pub blocking_normal: Estimate,
    /// The same in the peak week.
    pub blocking_peak_week: Estimate,
    /// Over the whole simulated period.
    pub blocking_year: Estimate,
    /// Time-average share of this class's compartments occupied.
    pub utilisation: Estimate,
    /// Most compartments of this class occupied at once.
    pub peak_occupancy: Estimate,
}

/// What the simulation found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimResult {
    pub replications: u32,
    pub days: u32,
    pub seed: u64,
    pub classes: Vec<ClassSim>,
    /// All parcels, normal weeks.
    pub blocking_normal: Estimate,
    /// All parcels, peak week.
    pub blocking_peak_week: Estimate,
    pub blocking_year: Estimate,
    /// Worst class (highest mean) in the peak week.
    pub worst_class_blocking_peak_week: f64,
    pub utilisation: Estimate,
    pub peak_occupancy: Estimate,
    /// Parcels per simulated period that found no compartment.
    pub overflowed_parcels: Estimate,
    /// Parcels that took a larger compartment than their class.
    pub upgraded_parcels: Estimate,
    /// Parcels put into a compartment already holding the recipient's parcel.
    pub consolidated_parcels: Estimate,
    /// Parcels removed uncollected at expiry.
    pub expired_parcels: Estimate,
    pub parcels: Estimate,
    /// Hourly total occupancy through the peak week (replication 0), when traced.
    pub peak_week_occupancy: Vec<u32>,
}

#[derive(Clone, Copy, Default)]
struct RepStats {
    arrivals: [[u32; ZK]; 3],
    blocked: [[u32; ZK]; 3],
    upgraded: u32,
    consolidated: u32,
    expired: u32,
    area: [f64; ZK],
    peak: [u32; ZK],
    peak_total: u32,
    duration_h: f64,
}

struct Engine<'a> {
    m: &'a Model,
    cum: [f64; ZK],
    // compartments
    comp_zk: Vec<u8>,
    comp_rem: Vec<u8>,
    comp_owner: Vec<u32>,
    comp_depart: Vec<f64>,
    free: Vec<u32>,
    free_start: [usize; ZK],
    free_len: [usize; ZK],
    cap: [u32; ZK],
    unit_comp: Vec<u32>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    occ: [u32; ZK],
    occ_total: u32,
    last_t: [f64; ZK],
    stats: RepStats,
    counting: bool,
    // trace
    trace: Vec<u32>,
    trace_next: f64,
    trace_end: f64,
}

impl<'a> Engine<'a> {
    fn new(m: &'a Model, layout: &Layout) -> Engine<'a> {
        let mut cap = [0u32; ZK];
        for z in 0..3 {
            for k in 0..4 {
                cap[z * 4 + k] = layout.counts[z][k];
            }
        }
        let total: usize = cap.iter().map(|&c| c as usize).sum();
        let mut comp_zk = Vec::with_capacity(total);
        let mut free_start = [0usize; ZK];
        let mut start = 0usize;
        for (zk, &c) in cap.iter().enumerate() {
            free_start[zk] = start;
            for _ in 0..c {
                comp_zk.push(zk as u8);
            }
            start += c as usize;
        }
        let mut cum = [0.0; ZK];
        let mut acc = 0.0;
        for z in 0..3 {
            for k in 0..4 {
                acc += m.share[z][k];
                cum[z * 4 + k] = acc;
            }
        }
        // Guard against rounding: the last class with a share takes u → 1.
        if let Some(last) = (0..ZK).rev().find(|&i| m.share[i / 4][i % 4] > 0.0) {
            for c in cum.iter_mut().skip(last) {
                *c = f64::INFINITY;
            }
        }
        Engine {
            m,
            cum,
            comp_rem: vec![0; total],
            comp_owner: vec![NONE; total],
            comp_depart: vec![f64::INFINITY; total],
            free: vec![0; total],
            comp_zk,
            free_start,
            free_len: [0; ZK],
            cap,
            unit_comp: vec![NONE; m.units.max(1) as usize],
            heap: BinaryHeap::with_capacity(total * 2 + 16),
            occ: [0; ZK],
            occ_total: 0,
            last_t: [0.0; ZK],
            stats: RepStats::default(),
            counting: false,
            trace: Vec::new(),
            trace_next: f64::INFINITY,
            trace_end: f64::NEG_INFINITY,
        }
    }

    fn reset(&mut self, trace: bool) {
        for zk in 0..ZK {
            let s = self.free_start[zk];
            let n = self.cap[zk] as usize;
            for i in 0..n {
                // Pop order: lowest index first (cosmetic).
                self.free[s + i] = (s + n - 1 - i) as u32;
            }
            self.free_len[zk] = n;
        }
        self.comp_owner.fill(NONE);
        self.comp_depart.fill(f64::INFINITY);
        self.unit_comp.fill(NONE);
        self.heap.clear();
        self.occ = [0; ZK];
        self.occ_total = 0;
        self.last_t = [0.0; ZK];
        self.stats = RepStats::default();
        self.counting = false;
        self.trace.clear();
        if trace {
            let start = 24.0 * self.m.peak_start_day as f64;
            self.trace_next = start;
            self.trace_end = start + 7.0 * 24.0;
        } else {
            self.trace_next = f64::INFINITY;
            self.trace_end = f64::NEG_INFINITY;
        }
    }

    #[inline]
    fn integrate(&mut self, zk: usize, t: f64) {
        self.stats.area[zk] += f64::from(self.occ[zk]) * (t - self.last_t[zk]);
        self.last_t[zk] = t;
    }

    /// Free every compartment whose departure is at or before `t`.
    #[inline]
    fn release_until(&mut self, t: f64) {
        let key = t.to_bits();
        while let Some(&Reverse((k, c))) = self.heap.peek() {
            if k > key {
                break;
            }
            self.heap.pop();
            let c = c as usize;
            if self.comp_depart[c].to_bits() != k {
                continue; // superseded by a later departure (consolidation)
            }
            let tt = f64::from_bits(k);
            let zk = self.comp_zk[c] as usize;
            self.integrate(zk, tt);
            self.occ[zk] -= 1;
            self.occ_total -= 1;
            self.comp_depart[c] = f64::INFINITY;
            let owner = self.comp_owner[c];
            if owner != NONE {
                if self.unit_comp[owner as usize] == c as u32 {
                    self.unit_comp[owner as usize] = NONE;
                }
                self.comp_owner[c] = NONE;
            }
            let s = self.free_start[zk];
            self.free[s + self.free_len[zk]] = c as u32;
            self.free_len[zk] += 1;
        }
    }

    #[inline]
    fn advance(&mut self, t: f64) {
        while self.trace_next <= t && self.trace_next < self.trace_end {
            let s = self.trace_next;
            self.release_until(s);
            self.trace.push(self.occ_total);
            self.trace_next += 1.0;
        }
        self.release_until(t);
    }

    /// Start counting statistics at `t`.
    fn start_counting(&mut self, t: f64) {
        self.counting = true;
        self.stats.area = [0.0; ZK];
        self.last_t = [t; ZK];
        self.stats.peak = self.occ;
        self.stats.peak_total = self.occ_total;
    }

    #[inline]
    fn arrive<R: Rng>(&mut self, rng: &mut R, t: f64, period: usize) {
        let m = self.m;
        let u: f64 = rng.random();
        let mut zk = 0;
        while zk < ZK - 1 && u >= self.cum[zk] {
            zk += 1;
        }
        let (z, k) = (zk / 4, zk % 4);
        if self.counting {
            self.stats.arrivals[period][zk] += 1;
        }
        let u2: f64 = rng.random();
        let (occupy, expired) = if u2 < m.hold_share {
            (
                24.0 * (1.0 + (m.hold_days - 1.0) * (u2 / m.hold_share)),
                false,
            )
        } else {
            let u3 = (u2 - m.hold_share) / (1.0 - m.hold_share);
            let d = m.dwell.quantile(u3);
            if d > m.expiry_hours {
                (m.expiry_hours, true)
            } else {
                (d, false)
            }
        };
        let depart = t + occupy;
        let recipient = if m.consolidation {
            let r = rng.random_range(0..self.unit_comp.len());
            let c = self.unit_comp[r];
            if c != NONE {
                let c = c as usize;
                let czk = self.comp_zk[c] as usize;
                if czk / 4 == z && self.comp_rem[c] >= VOLUME[k] {
                    self.comp_rem[c] -= VOLUME[k];
                    if depart > self.comp_depart[c] {
                        self.comp_depart[c] = depart;
                        self.heap.push(Reverse((depart.to_bits(), c as u32)));
                    }
                    if self.counting {
                        self.stats.consolidated += 1;
                        self.stats.expired += u32::from(expired);
                    }
                    return;
                }
            }
            r as u32
        } else {
            NONE
        };
        for j in k..4 {
            let zj = z * 4 + j;
            if self.free_len[zj] == 0 {
                continue;
            }
            self.free_len[zj] -= 1;
            let c = self.free[self.free_start[zj] + self.free_len[zj]] as usize;
            self.integrate(zj, t);
            self.occ[zj] += 1;
            self.occ_total += 1;
            self.comp_rem[c] = VOLUME[j] - VOLUME[k];
            self.comp_depart[c] = depart;
            self.heap.push(Reverse((depart.to_bits(), c as u32)));
            if recipient != NONE {
                self.comp_owner[c] = recipient;
                self.unit_comp[recipient as usize] = c as u32;
            }
            if self.counting {
                if self.occ[zj] > self.stats.peak[zj] {
                    self.stats.peak[zj] = self.occ[zj];
                }
                if self.occ_total > self.stats.peak_total {
                    self.stats.peak_total = self.occ_total;
                }
                self.stats.upgraded += u32::from(j > k);
                self.stats.expired += u32::from(expired);
            }
            return;
        }
        if self.counting {
            self.stats.blocked[period][zk] += 1;
        }
    }

    fn run<R: Rng>(&mut self, rng: &mut R, days: usize, warmup: usize) -> RepStats {
        let m = self.m;
        let k = m.couriers_per_day as usize;
        let mut times = [0.0f64; MAX_COURIERS];
        if warmup == 0 {
            self.start_counting(0.0);
        }
        for d in 0..days {
            let day_start = 24.0 * d as f64;
            if d == warmup && warmup > 0 {
                self.advance(day_start);
                self.start_counting(day_start);
            }
            let period = m.day_period[d] as usize;
            let lam = m.day_volume[d];
            if lam <= 0.0 {
                continue;
            }
            if k == 0 {
                // Poisson stream over the whole day.
                let mean_gap = 24.0 / lam;
                let mut t = day_start;
                loop {
                    let u: f64 = rng.random();
                    t += -mean_gap * (1.0 - u).ln();
                    if t >= day_start + 24.0 {
                        break;
                    }
                    self.advance(t);
                    self.arrive(rng, t, period);
                }
            } else {
                let [w0, w1] = m.window;
                for slot in times.iter_mut().take(k) {
                    let u: f64 = rng.random();
                    *slot = day_start + w0 + (w1 - w0) * u;
                }
                let ts = &mut times[..k];
                ts.sort_by(f64::total_cmp);
                let per = lam / k as f64;
                for i in 0..k {
                    let t = times[i];
                    let n = poisson(rng, per);
                    self.advance(t);
                    for _ in 0..n {
                        self.arrive(rng, t, period);
                    }
                }
            }
        }
        let end = 24.0 * days as f64;
        self.advance(end);
        for zk in 0..ZK {
            self.integrate(zk, end);
        }
        let start = 24.0 * warmup.min(days) as f64;
        self.stats.duration_h = end - start;
        self.stats
    }
}

/// Poisson(mean) by inversion, in chunks so `e^{-mean}` never underflows.
fn poisson<R: Rng>(rng: &mut R, mean: f64) -> u32 {
    let mut left = mean;
    let mut n = 0u32;
    while left > 0.0 {
        let mu = left.min(200.0);
        left -= mu;
        let u: f64 = rng.random();
        let mut p = (-mu).exp();
        let mut f = p;
        let mut k = 0u32;
        while u > f && k < 100_000 {
            k += 1;
            p *= mu / f64::from(k);
            f += p;
            if p < 1e-300 && f < u {
                break;
            }
        }
        n += k;
    }
    n
}

/// The seed of replication `r`.
pub fn replication_seed(seed: u64, r: u32) -> u64 {
    fn splitmix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    splitmix(seed ^ splitmix(u64::from(r)))
}

fn run_range(
    m: &Model,
    layout: &Layout,
    opts: &SimOptions,
    reps: std::ops::Range<u32>,
) -> (Vec<RepStats>, Vec<u32>) {
    let mut e = Engine::new(m, layout);
    let days = (opts.days as usize).min(YEAR_DAYS);
    let warm = (opts.warmup_days as usize).min(days.saturating_sub(1));
    let mut out = Vec::with_capacity(reps.len());
    let mut trace = Vec::new();
    for r in reps {
        let tr = opts.trace_peak_week && r == 0;
        e.reset(tr);
        let mut rng = StdRng::seed_from_u64(replication_seed(opts.seed, r));
        out.push(e.run(&mut rng, days, warm));
        if tr {
            trace = std::mem::take(&mut e.trace);
        }
    }
    (out, trace)
}

/// Simulate `layout` under the demand `model`.
pub fn simulate(model: &Model, layout: &Layout, opts: &SimOptions) -> SimResult {
    let n = opts.replications.max(1);
    let threads = opts.threads.clamp(1, 64).min(n as usize) as u32;
    let chunk = n.div_ceil(threads);
    let mut reps: Vec<RepStats> = Vec::with_capacity(n as usize);
    let mut trace = Vec::new();
    if threads <= 1 {
        let (r, t) = run_range(model, layout, opts, 0..n);
        reps = r;
        trace = t;
    } else {
        let parts: Vec<(Vec<RepStats>, Vec<u32>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let lo = i * chunk;
                    let hi = ((i + 1) * chunk).min(n);
                    s.spawn(move || run_range(model, layout, opts, lo..hi))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        for (r, t) in parts {
            reps.extend(r);
            if !t.is_empty() {
                trace = t;
            }
        }
    }
    summarise(model, layout, opts, &reps, trace)
}

fn ratio(num: u32, den: u32) -> Option<f64> {
    (den > 0).then(|| f64::from(num) / f64::from(den))
}

fn summarise(
    _m: &Model,
    layout: &Layout,
    opts: &SimOptions,
    reps: &[RepStats],
    trace: Vec<u32>,
) -> SimResult {
    let est = |f: &dyn Fn(&RepStats) -> Option<f64>| {
        let xs: Vec<f64> = reps.iter().filter_map(f).collect();
        Estimate::from_samples(&xs)
    };
    let sum_p = |a: &[[u32; ZK]; 3], p: usize| a[p].iter().sum::<u32>();
    let sum_all = |a: &[[u32; ZK]; 3]| a.iter().flatten().sum::<u32>();
    let mut classes = Vec::new();
    for z in Zone::ALL {
        for k in SizeClass::ALL {
            let zk = z.index() * 4 + k.index();
            let count = layout.counts[z.index()][k.index()];
            let arrivals: f64 = reps
                .iter()
                .map(|r| f64::from(r.arrivals[0][zk] + r.arrivals[1][zk] + r.arrivals[2][zk]))
                .sum::<f64>()
                / reps.len().max(1) as f64;
            if count == 0 && arrivals == 0.0 {
                continue;
            }
            let per = |p: Period| {
                let p = p as usize;
                est(&|r: &RepStats| ratio(r.blocked[p][zk], r.arrivals[p][zk]))
            };
            classes.push(ClassSim {
                zone: z,
                size: k,
                compartments: count,
                parcels_per_year: arrivals,
                blocking_normal: per(Period::Normal),
                blocking_peak_week: per(Period::Peak),
                blocking_year: est(&|r: &RepStats| {
                    ratio(
                        r.blocked[0][zk] + r.blocked[1][zk] + r.blocked[2][zk],
                        r.arrivals[0][zk] + r.arrivals[1][zk] + r.arrivals[2][zk],
                    )
                }),
                utilisation: est(&|r: &RepStats| {
                    (count > 0 && r.duration_h > 0.0)
                        .then(|| r.area[zk] / (f64::from(count) * r.duration_h))
                }),
                peak_occupancy: est(&|r: &RepStats| Some(f64::from(r.peak[zk]))),
            });
        }
    }
    let total = f64::from(layout.total());
    let worst = classes
        .iter()
        .map(|c| c.blocking_peak_week.mean)
        .fold(0.0, f64::max);
    SimResult {
        replications: reps.len() as u32,
        days: opts.days.min(YEAR_DAYS as u32),
        seed: opts.seed,
        classes,
        blocking_normal: est(&|r| ratio(sum_p(&r.blocked, 0), sum_p(&r.arrivals, 0))),
        blocking_peak_week: est(&|r| ratio(sum_p(&r.blocked, 1), sum_p(&r.arrivals, 1))),
        blocking_year: est(&|r| ratio(sum_all(&r.blocked), sum_all(&r.arrivals))),
        worst_class_blocking_peak_week: worst,
        utilisation: est(&|r| {
            (total > 0.0 && r.duration_h > 0.0)
                .then(|| r.area.iter().sum::<f64>() / (total * r.duration_h))
        }),
        peak_occupancy: est(&|r| Some(f64::from(r.peak_total))),
        overflowed_parcels: est(&|r| Some(f64::from(sum_all(&r.blocked)))),
        upgraded_parcels: est(&|r| Some(f64::from(r.upgraded))),
        consolidated_parcels: est(&|r| Some(f64::from(r.consolidated))),
        expired_parcels: est(&|r| Some(f64::from(r.expired))),
        parcels: est(&|r| Some(f64::from(sum_all(&r.arrivals)))),
        peak_week_occupancy: trace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn poisson_sampler_has_the_right_mean_and_variance() {
        let mut rng = StdRng::seed_from_u64(1);
        for mean in [0.5, 7.0, 60.0, 450.0] {
            let n = 20_000;
            let xs: Vec<f64> = (0..n).map(|_| f64::from(poisson(&mut rng, mean))).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
            assert!(
                (m - mean).abs() < 4.0 * (mean / n as f64).sqrt() + 1e-9,
                "{mean}: {m}"
            );
            assert!((v / mean - 1.0).abs() < 0.06, "{mean}: var {v}");
        }
    }

    #[test]
    fn t_quantiles() {
        assert!((t_975(1) - 12.706).abs() < 1e-9);
        assert!((t_975(30) - 2.042).abs() < 0.002);
        assert!((t_975(1000) - 1.962).abs() < 0.002);
    }

    #[test]
    fn estimate_of_constant_samples_has_zero_width() {
        let e = Estimate::from_samples(&[2.0, 2.0, 2.0]);
        assert_eq!(e.mean, 2.0);
        assert_eq!(e.half_width(), 0.0);
    }
}
