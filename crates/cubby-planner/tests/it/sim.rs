use cubby_planner::input::{DwellShape, PerSize};
use cubby_planner::{Layout, Model, PlanInput, SimOptions, SizeClass, erlang_b, simulate};

/// Erlang's assumptions: Poisson arrivals over 24 h, one class, no batches,
/// no consolidation, no expiry, no holds, no seasonality.
fn erlang_world(per_day: f64, dwell_hours: f64, shape: DwellShape) -> PlanInput {
    let mut i = PlanInput {
        units: Some(1000),
        parcels_per_unit_week: per_day * 7.0 / 1000.0,
        size_mix: PerSize {
            s: 1.0,
            m: 0.0,
            l: 0.0,
            xl: 0.0,
        },
        expiry_days: 365.0,
        hold_share: 0.0,
        peak_multiplier: 1.0,
        weekday_factors: [1.0; 7],
        couriers_per_day: 0,
        consolidation: false,
        ..Default::default()
    };
    i.dwell.mean_hours = dwell_hours;
    i.dwell.shape = shape;
    i
}

fn opts(reps: u32) -> SimOptions {
    SimOptions {
        replications: reps,
        seed: 2026,
        threads: 2,
        warmup_days: 10,
        ..SimOptions::default()
    }
}

#[test]
fn agrees_with_erlang_b_where_its_assumptions_hold() {
    let input = erlang_world(40.0, 24.0, DwellShape::Exponential);
    let model = Model::new(&input).expect("valid");
    let a = model.normal_daily * model.occupancy_hours / 24.0;
    assert!((a - 40.0).abs() < 1e-6, "{a}");
    for c in [40u32, 45, 50] {
        let r = simulate(&model, &Layout::single(SizeClass::S, c), &opts(40));
        let b = erlang_b(c, a);
        let est = r.blocking_year;
        eprintln!(
            "c={c}: B={b:.5} sim={:.5} ±{:.5}",
            est.mean,
            est.half_width()
        );
        // The interval is tight enough to mean something.
        assert!(est.half_width() < 0.2 * b, "{est:?}");
        assert!(
            est.contains(b),
            "c={c}: Erlang B {b:.5}, simulated {:.5} [{:.5}, {:.5}]",
            est.mean,
            est.ci95_low,
            est.ci95_high
        );
    }
}

#[test]
fn erlang_agreement_is_insensitive_to_the_dwell_shape() {
    // Omniva-shaped dwell (heavy tail), mean 20 h: Erlang B depends on the mean only.
    let input = erlang_world(60.0, 20.0, DwellShape::Omniva);
    let model = Model::new(&input).expect("valid");
    let a = model.normal_daily * model.occupancy_hours / 24.0;
    assert!((a - 50.0).abs() < 1e-6, "{a}");
    let c = 56; // facts.md: 56 compartments at 5 % for A = 50
    let r = simulate(&model, &Layout::single(SizeClass::S, c), &opts(40));
    let b = erlang_b(c, a);
    assert!(
        r.blocking_year.contains(b),
        "Erlang B {b:.5}, simulated {:?}",
        r.blocking_year
    );
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let input = PlanInput {
        units: Some(120),
        ..Default::default()
    };
    let model = Model::new(&input).expect("valid");
    let mut layout = Layout::default();
    layout.counts[0] = [20, 14, 7, 3];
    let mut o = opts(9);
    o.threads = 1;
    let one = simulate(&model, &layout, &o);
    o.threads = 3;
    let three = simulate(&model, &layout, &o);
    assert_eq!(one, three);
    o.seed += 1;
    let other = simulate(&model, &layout, &o);
    assert_ne!(one, other);
}

#[test]
fn batches_and_an_undersized_bank_block_more_than_erlang() {
    let mut input = erlang_world(40.0, 24.0, DwellShape::Exponential);
    let model = Model::new(&input).expect("valid");
    let layout = Layout::single(SizeClass::S, 45);
    let poisson = simulate(&model, &layout, &opts(20));
    input.couriers_per_day = 3;
    input.delivery_window_hours = [9.0, 18.0];
    let batched = simulate(&Model::new(&input).expect("valid"), &layout, &opts(20));
    assert!(
        batched.blocking_year.ci95_low > poisson.blocking_year.ci95_high,
        "batches {:?} vs poisson {:?}",
        batched.blocking_year,
        poisson.blocking_year
    );
    assert!(batched.overflowed_parcels.mean > poisson.overflowed_parcels.mean);
}

#[test]
fn upgrades_consolidation_expiry_and_the_peak_week_show_up() {
    let input = PlanInput {
        units: Some(200),
        expiry_days: 2.0,
        ..Default::default()
    };
    let model = Model::new(&input).expect("valid");
    let mut layout = Layout::default();
    layout.counts[0] = [40, 30, 15, 8];
    let r = simulate(&model, &layout, &opts(10));
    assert!(r.upgraded_parcels.mean > 0.0);
    assert!(r.consolidated_parcels.mean > 0.0);
    // Expired share ≈ (1 − hold) × P(dwell > 48 h) among parcels placed.
    let p48 = model.dwell.survival(48.0) * (1.0 - model.hold_share);
    let placed = r.parcels.mean - r.overflowed_parcels.mean;
    let share = r.expired_parcels.mean / placed;
    assert!((share - p48).abs() < 0.01, "expired share {share} vs {p48}");
    // The peak week blocks more than normal weeks.
    assert!(r.blocking_peak_week.mean > r.blocking_normal.mean);
    assert_eq!(r.peak_week_occupancy.len(), 168);
    assert!(r.peak_occupancy.mean <= f64::from(layout.total()));
    for c in &r.classes {
        assert!((0.0..=1.0).contains(&c.utilisation.mean));
    }
}

#[test]
fn a_larger_bank_never_blocks_more_with_common_random_numbers() {
    let input = PlanInput {
        units: Some(150),
        ..Default::default()
    };
    let model = Model::new(&input).expect("valid");
    let mut small = Layout::default();
    small.counts[0] = [25, 15, 8, 4];
    let mut big = small;
    big.counts[0] = [35, 22, 12, 6];
    let a = simulate(&model, &small, &opts(10));
    let b = simulate(&model, &big, &opts(10));
    assert!(b.overflowed_parcels.mean <= a.overflowed_parcels.mean);
    assert!(b.blocking_peak_week.mean <= a.blocking_peak_week.mean);
}
