//! Erlang's loss model: compartments are servers, dwell is the service time and
//! blocking (a courier finds no free compartment) is Erlang B.
//!
//! Also the overflow machinery used to size several size classes where a parcel
//! that finds its own class full takes a larger free compartment: Riordan's
//! overflow moments, Rapp's equivalent-random approximation and Hayward's
//! approximation for peaked traffic.

/// Erlang B: the probability that an arrival finds all `servers` busy when the
/// offered load is `load` erlangs. Uses the stable recurrence
/// `B(c) = A·B(c−1) / (c + A·B(c−1))`, `B(0) = 1`.
pub fn erlang_b(servers: u32, load: f64) -> f64 {
    if !(load > 0.0) {
        return if servers == 0 { 1.0 } else { 0.0 };
    }
    let mut b = 1.0_f64;
    for c in 1..=servers {
        let ab = load * b;
        b = ab / (f64::from(c) + ab);
    }
    b
}

/// Erlang B at a non-integer number of servers, interpolated linearly between
/// the neighbouring integers (enough for the overflow approximations).
pub fn erlang_b_frac(servers: f64, load: f64) -> f64 {
    if !(servers > 0.0) {
        return 1.0;
    }
    if !(load > 0.0) {
        return 0.0;
    }
    if servers > 10.0 * load + 1_000.0 {
        // Astronomically small (below 1e-300): not worth the recurrence.
        return 0.0;
    }
    let lo = servers.floor();
    let frac = servers - lo;
    // Saturating cast: a number of servers beyond u32 is not a real locker.
    let lo_u = lo.min(f64::from(u32::MAX - 1)) as u32;
    let b_lo = erlang_b(lo_u, load);
    if frac <= 0.0 {
        return b_lo;
    }
    let b_hi = b_lo * load / (f64::from(lo_u + 1) + b_lo * load);
    b_lo + (b_hi - b_lo) * frac
}

/// The smallest number of servers `c` with `B(c, load) ≤ blocking`.
///
/// `load` must be finite and ≥ 0 and `blocking` in (0, 1); out-of-range values
/// are clamped (a non-positive load needs no server).
pub fn servers_for(load: f64, blocking: f64) -> u32 {
    if !(load > 0.0) || !load.is_finite() {
        return 0;
    }
    let target = if blocking.is_finite() {
        blocking.clamp(1e-12, 1.0)
    } else {
        1.0
    };
    let mut b = 1.0_f64;
    let mut c: u32 = 0;
    while b > target && c < u32::MAX {
        c += 1;
        let ab = load * b;
        b = ab / (f64::from(c) + ab);
    }
    c
}

/// Mean and variance of the traffic overflowing `servers` when a Poisson load
/// `load` is offered (Riordan's formulas).
pub fn overflow_moments(servers: f64, load: f64) -> (f64, f64) {
    if !(load > 0.0) {
        return (0.0, 0.0);
    }
    let m = load * erlang_b_frac(servers, load);
    let v = m * (1.0 - m + load / (servers + 1.0 + m - load));
    (m, v.max(m))
}

/// Overflow (mean, variance) when a stream of mean `mean` and variance
/// `variance` (peakedness ≥ 1) is offered to `servers`: Rapp's
/// equivalent-random approximation.
pub fn peaked_overflow(mean: f64, variance: f64, servers: f64) -> (f64, f64) {
    if !(mean > 1e-9) {
        return (0.0, 0.0);
    }
    let z = (variance / mean).clamp(1.0, 50.0);
    let variance = mean * z;
    let a_star = variance.max(mean) + 3.0 * z * (z - 1.0);
    let n_star = (a_star * (mean + z) / (mean + z - 1.0) - mean - 1.0).max(0.0);
    let (m_all, v_all) = overflow_moments(n_star + servers, a_star);
    let m = m_all.min(mean);
    (m, v_all.clamp(m, 50.0 * m))
}

/// Blocking of a peaked stream (mean, variance) on `servers`: Hayward's
/// approximation `B(c/z, M/z)`. Exact Erlang B for Poisson traffic (z = 1).
pub fn peaked_blocking(mean: f64, variance: f64, servers: f64) -> f64 {
    if !(mean > 1e-12) {
        return 0.0;
    }
    let z = (variance / mean).clamp(1.0, 50.0);
    erlang_b_frac(servers / z, mean / z)
}

/// Closed-form blocking per class for classes ordered from smallest to largest,
/// each offered a Poisson load `loads[k]` (erlangs) with `counts[k]`
/// compartments, where a parcel that finds its class full takes a free
/// compartment of the next larger class (and so on).
///
/// A class-`k` parcel is blocked when every compartment of class ≥ `k` is busy.
/// That pool is offered the Poisson loads of classes ≥ `k` plus the (peaked)
/// overflow of the smaller classes; its blocking is taken with Hayward's
/// approximation. Conservative (call congestion of the whole stream, and as if
/// larger parcels could use the whole pool). Equal to Erlang B for one class.
pub fn class_blocking(loads: &[f64], counts: &[u32]) -> Vec<f64> {
    let n = loads.len().min(counts.len());
    let mut out = vec![0.0; n];
    let (mut m_prev, mut v_prev) = (0.0_f64, 0.0_f64);
    for k in 0..n {
        let poisson_ge: f64 = loads[k..n].iter().sum();
        let pool: f64 = counts[k..n].iter().map(|&c| f64::from(c)).sum();
        out[k] = if loads[k] > 0.0 {
            peaked_blocking(poisson_ge + m_prev, poisson_ge + v_prev, pool)
        } else {
            0.0
        };
        let (mean_in, var_in) = (loads[k] + m_prev, loads[k] + v_prev);
        let (m, v) = peaked_overflow(mean_in, var_in, f64::from(counts[k]));
        m_prev = m;
        v_prev = v;
    }
    out
}

/// Traffic (erlangs) lost by the whole group: what overflows the largest class.
pub fn lost_load(loads: &[f64], counts: &[u32]) -> f64 {
    let n = loads.len().min(counts.len());
    let (mut m_prev, mut v_prev) = (0.0_f64, 0.0_f64);
    for k in 0..n {
        let (m, v) = peaked_overflow(loads[k] + m_prev, loads[k] + v_prev, f64::from(counts[k]));
        m_prev = m;
        v_prev = v;
    }
    m_prev
}

/// Size several classes with upgrade-to-larger so that every class with load
/// meets `blocking` (closed form, [`class_blocking`]), at the least cost.
///
/// Starts from each class sized on its own, repairs any class pushed above the
/// target by the overflow of smaller classes into its compartments, then
/// removes compartments greedily — the most expensive removable one first —
/// while every class still meets the target.
pub fn size_classes(loads: &[f64], blocking: f64, cost: &[f64]) -> Vec<u32> {
    let n = loads.len();
    let mut counts: Vec<u32> = loads.iter().map(|&a| servers_for(a, blocking)).collect();
    let ok = |b: &[f64]| b.iter().all(|&x| x <= blocking);
    // Repair (rarely needed).
    for _ in 0..10_000 {
        let b = class_blocking(loads, &counts);
        if ok(&b) {
            break;
        }
        let worst = (0..n)
            .filter(|&k| b[k] > blocking)
            .max_by(|&i, &j| b[i].total_cmp(&b[j]));
        match worst {
            Some(k) => counts[k] += 1,
            None => break,
        }
    }
    // Greedy removal.
    loop {
        let mut best: Option<(usize, f64, f64)> = None; // (class, saving, worst blocking after)
        for k in 0..n {
            if counts[k] == 0 {
                continue;
            }
            counts[k] -= 1;
            let b = class_blocking(loads, &counts);
            counts[k] += 1;
            if !ok(&b) {
                continue;
            }
            let saving = cost.get(k).copied().unwrap_or(1.0);
            let worst = b.iter().copied().fold(0.0, f64::max);
            let better = match best {
                None => true,
                Some((_, s, w)) => saving > s + 1e-9 || ((saving - s).abs() <= 1e-9 && worst < w),
            };
            if better {
                best = Some((k, saving, worst));
            }
        }
        match best {
            Some((k, _, _)) => counts[k] -= 1,
            None => break,
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_b_small_values() {
        assert_eq!(erlang_b(0, 5.0), 1.0);
        assert!((erlang_b(1, 1.0) - 0.5).abs() < 1e-12);
        // B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
        assert!((erlang_b(2, 1.0) - 0.2).abs() < 1e-12);
        assert_eq!(erlang_b(3, 0.0), 0.0);
    }

    #[test]
    fn erlang_b_is_stable_for_large_systems() {
        let b = erlang_b(12_000, 10_000.0);
        assert!(b.is_finite() && b > 0.0 && b < 1e-6);
        assert!(erlang_b(10_000, 10_000.0) > 0.0);
    }

    #[test]
    fn frac_interpolates_between_integers() {
        let a = erlang_b(10, 8.0);
        let b = erlang_b(11, 8.0);
        let m = erlang_b_frac(10.5, 8.0);
        assert!(m < a && m > b);
        assert!((erlang_b_frac(10.0, 8.0) - a).abs() < 1e-15);
    }

    #[test]
    fn one_class_blocking_is_erlang_b() {
        let b = class_blocking(&[40.0], &[48]);
        assert!((b[0] - erlang_b(48, 40.0)).abs() < 1e-12);
    }

    #[test]
    fn poisson_overflow_matches_riordan_limit() {
        // Offering Poisson (variance = mean) to c servers via the peaked path
        // equals the Poisson overflow.
        let (m1, _) = peaked_overflow(20.0, 20.0, 22.0);
        let (m2, _) = overflow_moments(22.0, 20.0);
        assert!((m1 - m2).abs() / m2 < 1e-9);
    }

    #[test]
    fn sizing_meets_target_and_saves_on_independent_classes() {
        let loads = [40.0, 25.0, 12.0, 5.0];
        let counts = size_classes(&loads, 0.01, &[1.0, 1.2, 1.5, 2.0]);
        let b = class_blocking(&loads, &counts);
        assert!(b.iter().all(|&x| x <= 0.01), "{b:?}");
        let independent: u32 = loads.iter().map(|&a| servers_for(a, 0.01)).sum();
        let total: u32 = counts.iter().sum();
        let pooled = servers_for(loads.iter().sum(), 0.01);
        assert!(
            total <= independent && total >= pooled,
            "{pooled} ≤ {total} ≤ {independent}"
        );
    }
}
