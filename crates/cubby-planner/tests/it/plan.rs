use cubby_planner::input::DwellShape;
use cubby_planner::{Plan, PlanInput, PlanOptions, SizeClass, Zone, plan, plan_closed_form};

fn from_json(s: &str) -> PlanInput {
    serde_json::from_str(s).expect("valid JSON input")
}

fn quick(reps: u32) -> PlanOptions {
    PlanOptions {
        replications: reps,
        seed: 42,
        threads: 2,
        refine: true,
    }
}

#[test]
fn minimal_json_input_gives_a_complete_plan() {
    let input = from_json(r#"{"units": 200}"#);
    let p = plan_closed_form(&input).expect("plan");
    let json = serde_json::to_value(&p).expect("json");
    let total = json["compartments_total"]
        .as_u64()
        .expect("top-level integer");
    assert_eq!(total, u64::from(p.compartments_total));
    let sum: u32 = p.compartments.iter().map(|c| c.count).sum();
    assert_eq!(sum, p.compartments_total);
    assert_eq!(p.layout.total(), p.compartments_total);
    // 200 units × 1.9 / 7 ≈ 54 parcels a day, × 2 in the peak week.
    assert!((p.demand.parcels_per_day_normal - 54.2857).abs() < 1e-3);
    assert!((p.demand.parcels_per_day_peak_week - 108.5714).abs() < 1e-3);
    // Size classes cost compartments over one pooled class, but not many.
    assert!(p.compartments_total >= p.closed_form.single_class_total);
    assert!(f64::from(p.compartments_total) <= 1.3 * f64::from(p.closed_form.single_class_total));
    // Every class meets the target in the peak week (closed form).
    for c in &p.compartments {
        assert!(c.blocking_peak_week <= 0.01, "{c:?}");
        assert!(c.blocking_normal <= c.blocking_peak_week);
    }
    // Every default is labelled as such, with a source.
    assert!(p.assumptions.len() >= 10);
    assert!(
        p.assumptions
            .iter()
            .all(|a| a.is_default && !a.source.is_empty())
    );
    assert!(
        p.assumptions
            .iter()
            .any(|a| a.name == "size_mix" && a.source.contains("assumption"))
    );
    assert!(
        p.assumptions
            .iter()
            .any(|a| a.name == "dwell" && a.source.contains("facts.md"))
    );
    assert!(p.simulation.is_none());
}

#[test]
fn validation_lists_every_bad_field() {
    let mut input = from_json(r#"{"units": 0, "target_blocking": 2.0, "expiry_days": -1}"#);
    input.size_mix.s = 0.9;
    let err = plan_closed_form(&input).expect_err("invalid");
    let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
    for f in ["units", "target_blocking", "expiry_days", "size_mix"] {
        assert!(fields.contains(&f), "{f} missing in {fields:?}");
    }
    let msg = err.to_string();
    assert!(
        msg.contains("target_blocking") && msg.contains("units"),
        "{msg}"
    );
    // Unknown fields are refused rather than silently ignored.
    assert!(serde_json::from_str::<PlanInput>(r#"{"unitz": 3}"#).is_err());
    // Neither units nor residents.
    let e = plan_closed_form(&PlanInput::default()).expect_err("no building");
    assert_eq!(e.problems[0].field, "units");
}

#[test]
fn residents_become_units() {
    let input = from_json(r#"{"residents": 401}"#);
    assert_eq!(input.effective_units(), 201);
    let p = plan_closed_form(&input).expect("plan");
    assert_eq!(p.demand.units, 201);
    assert!(p.assumptions.iter().any(|a| a.name == "residents_per_unit"));
}

#[test]
fn measured_history_sets_the_volume() {
    // Four weeks at 70/day and one holiday week at 140/day: the median weekly mean is 70.
    let mut h = vec![70.0; 28];
    h.extend(vec![140.0; 7]);
    let input = PlanInput {
        units: Some(250),
        daily_history: Some(h),
        ..Default::default()
    };
    let p = plan_closed_form(&input).expect("plan");
    assert!((p.demand.parcels_per_day_normal - 70.0).abs() < 1e-9);
    assert!(
        p.assumptions
            .iter()
            .any(|a| a.name == "daily volume" && !a.is_default)
    );
}

#[test]
fn sensitivity_moves_the_right_way() {
    let p = plan_closed_form(&from_json(r#"{"units": 300}"#)).expect("plan");
    let get = |case: &str| {
        p.sensitivity
            .iter()
            .find(|r| r.case.starts_with(case))
            .map(|r| r.compartments)
            .unwrap_or_else(|| panic!("no row {case}"))
    };
    let base = get("as planned");
    assert_eq!(base, p.compartments_total);
    assert!(get("volume × 0.75") < base && base < get("volume × 1.25"));
    assert!(
        get("peak week × 1.5") < get("peak week × 2")
            && get("peak week × 2") < get("peak week × 3.6")
    );
    assert_eq!(get("peak week × 2"), base);
    assert!(get("target blocking 5.0 %") < base && base < get("target blocking 0.1 %"));
    assert!(get("1 more year") <= get("3 more year") && get("3 more year") <= get("5 more year"));
}

#[test]
fn rules_of_thumb_follow_facts_md() {
    let p = plan_closed_form(&from_json(r#"{"units": 200}"#)).expect("plan");
    let d = p.demand.parcels_per_day_normal;
    let get = |name: &str| {
        p.rules_of_thumb
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.compartments)
            .unwrap_or(-1.0)
    };
    assert!((get("Package Concierge") - 1.75 * d).abs() < 1e-9);
    assert!((get("The Parcel Port, 2-day expiry") - 1.3 * d).abs() < 1e-9);
    assert!((get("The Parcel Port, 3-day expiry") - 1.5 * d).abs() < 1e-9);
    assert!((get("USPS") - 40.0).abs() < 1e-9);
}

#[test]
fn cold_zones_are_sized_separately_and_cost_more() {
    let input = from_json(r#"{"units": 300, "chilled_share": 0.06, "frozen_share": 0.02}"#);
    let p = plan_closed_form(&input).expect("plan");
    let zone_total = |z: Zone| {
        SizeClass::ALL
            .iter()
            .map(|&k| p.layout.get(z, k))
            .sum::<u32>()
    };
    assert!(zone_total(Zone::Chilled) > 0);
    assert!(zone_total(Zone::Frozen) > 0);
    let line = p
        .compartments
        .iter()
        .find(|c| c.zone == Zone::Chilled && c.size == SizeClass::S)
        .expect("chilled S");
    assert!((line.unit_cost - 3.0 * input.costs.compartment.s).abs() < 1e-9);
    assert!(
        p.parcel_room
            .assumptions
            .iter()
            .any(|a| a.contains("refrigerators"))
    );
}

#[test]
fn simulation_refines_until_the_target_holds() {
    let input = from_json(r#"{"units": 120}"#);
    let p = plan(&input, &quick(12)).expect("plan");
    let sim = p.simulation.as_ref().expect("simulated");
    assert_eq!(sim.replications, 12);
    assert!(
        sim.worst_class_blocking_peak_week <= 0.01,
        "{}",
        sim.worst_class_blocking_peak_week
    );
    // Batches in a daytime window need more than Erlang's closed form.
    assert!(p.compartments_total >= p.closed_form.total);
    for c in &p.compartments {
        assert!(c.count >= c.closed_form_count);
        assert!(c.simulated_blocking_peak_week.is_some());
    }
    assert_eq!(sim.peak_week_occupancy.len(), 168);
    assert!((p.overflow_per_year - sim.overflowed_parcels.mean).abs() < 1e-9);
    // Same seed, same plan.
    let again = plan(&input, &quick(12)).expect("plan");
    assert_eq!(p, again);
}

#[test]
fn erlang_world_plan_needs_no_refinement() {
    // Under Erlang's assumptions the closed form already meets the target in
    // the simulation.
    let mut input = from_json(
        r#"{"units": 100, "couriers_per_day": 0, "consolidation": false, "hold_share": 0.0,
            "expiry_days": 30, "weekday_factors": [1,1,1,1,1,1,1],
            "size_mix": {"S": 1.0, "M": 0.0, "L": 0.0, "XL": 0.0}}"#,
    );
    input.dwell.shape = DwellShape::Exponential;
    let p = plan(&input, &quick(12)).expect("plan");
    assert_eq!(p.compartments_total, p.closed_form.total);
    assert!(p.sized_by.contains("confirms"), "{}", p.sized_by);
}

fn sample_plan() -> Plan {
    plan(&from_json(r#"{"units": 80}"#), &quick(6)).expect("plan")
}

#[test]
fn reports_render() {
    let p = sample_plan();
    let text = p.report_text();
    for s in [
        "Recommended:",
        "Compartments",
        "Simulation",
        "open parcel room",
        "Sensitivity",
        "Package Concierge",
        "Assumptions",
        "[default]",
    ] {
        assert!(text.contains(s), "missing {s} in\n{text}");
    }
    let curve = p.svg_blocking_curve();
    assert!(curve.starts_with("<svg") && curve.ends_with("</svg>"));
    assert!(curve.contains(&format!("this plan {}", p.compartments_total)));
    let occ = p.svg_peak_week_occupancy();
    assert!(occ.starts_with("<svg") && occ.ends_with("</svg>"));
    let html = p.report_html();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains(&curve) && html.contains(&occ));
    let lower = html.to_lowercase();
    for banned in ["<script", "src=", "href=", "@import", "url("] {
        assert!(
            !lower.contains(banned),
            "external or script content: {banned}"
        );
    }
    // The only URL is the SVG namespace.
    assert_eq!(
        lower.matches("http").count(),
        lower.matches("http://www.w3.org/2000/svg").count()
    );
    // Without a simulation there is no occupancy chart.
    let cf = plan_closed_form(&from_json(r#"{"units": 80}"#)).expect("plan");
    assert!(cf.svg_peak_week_occupancy().is_empty());
    assert!(!cf.report_html().contains("Occupancy through the peak week"));
}

#[test]
fn html_escapes_user_text() {
    let mut input = from_json(r#"{"units": 50}"#);
    input.costs.currency = "<b>€</b>".into();
    let p = plan_closed_form(&input).expect("plan");
    let html = p.report_html();
    assert!(!html.contains("<b>€</b>"));
}
