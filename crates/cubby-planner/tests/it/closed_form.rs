use cubby_planner::erlang::{class_blocking, erlang_b, servers_for, size_classes};
use proptest::prelude::*;

/// facts.md, "Sizing rules of thumb": the Erlang table, exactly.
#[test]
fn reproduces_the_facts_table_exactly() {
    let table = [
        (10.0, [15, 18, 21]),
        (25.0, [31, 36, 41]),
        (50.0, [56, 64, 71]),
        (100.0, [105, 117, 128]),
    ];
    for (a, want) in table {
        for (i, b) in [0.05, 0.01, 0.001].into_iter().enumerate() {
            assert_eq!(servers_for(a, b), want[i], "A={a} B={b}");
        }
    }
}

/// Worked case: 200 units, 50–75 parcels/day, mean dwell 20 h → 54–77
/// compartments at 1 %; ~143 in a ×2 peak week.
#[test]
fn worked_case_lands_in_the_facts_band() {
    let dwell_days = 20.0 / 24.0;
    let low = servers_for(50.0 * dwell_days, 0.01);
    let high = servers_for(75.0 * dwell_days, 0.01);
    assert!((52..=56).contains(&low), "{low}");
    assert!((75..=79).contains(&high), "{high}");
    let peak = servers_for(2.0 * 75.0 * dwell_days, 0.01);
    assert!((138..=148).contains(&peak), "{peak}");
}

#[test]
fn plan_single_class_matches_the_worked_case() {
    // One size class, no holds, no expiry cut that matters, exponential dwell
    // of 20 h; 200 units at 75 parcels a day → ~77 normal, ~143 in the peak.
    let mut input = cubby_planner::PlanInput {
        units: Some(200),
        parcels_per_unit_week: 75.0 * 7.0 / 200.0,
        hold_share: 0.0,
        expiry_days: 365.0,
        ..Default::default()
    };
    input.size_mix = cubby_planner::input::PerSize {
        s: 1.0,
        m: 0.0,
        l: 0.0,
        xl: 0.0,
    };
    input.dwell.shape = cubby_planner::input::DwellShape::Exponential;
    let plan = cubby_planner::plan_closed_form(&input).expect("valid");
    assert!(
        (138..=148).contains(&plan.compartments_total),
        "{}",
        plan.compartments_total
    );
    assert_eq!(plan.closed_form.single_class_total, plan.compartments_total);
}

proptest! {
    /// servers_for is the smallest c meeting the target.
    #[test]
    fn servers_for_is_minimal(a in 0.1f64..400.0, b in 0.0005f64..0.5) {
        let c = servers_for(a, b);
        prop_assert!(erlang_b(c, a) <= b);
        if c > 0 {
            prop_assert!(erlang_b(c - 1, a) > b);
        }
    }

    /// Blocking falls with more servers and rises with more load.
    #[test]
    fn erlang_b_is_monotone(a in 0.1f64..300.0, c in 0u32..400) {
        prop_assert!(erlang_b(c + 1, a) <= erlang_b(c, a));
        prop_assert!(erlang_b(c, a * 1.1) >= erlang_b(c, a));
        let b = erlang_b(c, a);
        prop_assert!((0.0..=1.0).contains(&b));
    }

    /// Multi-class sizing meets the target in every class, never beats the
    /// pooled lower bound, and stays near classes sized on their own (overflow
    /// saves compartments overall but steals larger compartments from larger
    /// parcels, so it can cost a few).
    #[test]
    fn class_sizing_is_feasible_and_bounded(
        total in 1.0f64..150.0,
        s in 0.2f64..0.7, m in 0.1f64..0.4, l in 0.02f64..0.2,
        b in prop::sample::select(vec![0.05, 0.01, 0.001]),
    ) {
        let xl = (1.0 - s - m - l).max(0.0);
        let sum = s + m + l + xl;
        let loads = [total * s / sum, total * m / sum, total * l / sum, total * xl / sum];
        let counts = size_classes(&loads, b, &[1.0, 1.2, 1.5, 2.0]);
        let blk = class_blocking(&loads, &counts);
        prop_assert!(blk.iter().all(|&x| x <= b), "{:?}", blk);
        let n: u32 = counts.iter().sum();
        let independent: u32 = loads.iter().map(|&a| servers_for(a, b)).sum();
        // Over 3,000 random mixes the excess peaked at 5.1 % (a small-heavy mix
        // with no XL at 5 % blocking: 168 vs 157); 8 % leaves room without
        // letting a real regression through.
        prop_assert!(f64::from(n) <= f64::from(independent) * 1.08 + 3.0, "{} vs {}", n, independent);
        prop_assert!(n >= servers_for(total, b));
    }
}
