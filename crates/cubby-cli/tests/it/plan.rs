//! `cubby plan` through the real binary: the two entry points scripts rely on,
//! and clear refusals of bad input.

use std::process::Command;

use serde_json::Value;

use crate::bin;

fn plan(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(bin()).arg("plan").args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn erlang_prints_the_facts_table() {
    for (load, blocking, servers) in [
        ("10", "5%", "15"),
        ("25", "0.01", "36"),
        ("50", "1%", "64"),
        ("100", "0.001", "128"),
    ] {
        let (ok, out, err) = plan(&["erlang", "--load", load, "--blocking", blocking]);
        assert!(ok, "{err}");
        assert_eq!(out.trim(), servers, "A={load} B={blocking}");
    }
}

#[test]
fn units_json_is_a_full_plan_with_compartments_total() {
    let (ok, out, err) = plan(&["--units", "200", "--json", "--replications", "50"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let total = v["compartments_total"].as_u64().unwrap();
    // facts.md: 54–77 at 1 % in a normal week, ~143 in a ×2 peak week; batch
    // deliveries in a day window need more than the closed form.
    assert!((120..=220).contains(&total), "{total}");
    let per_class: u64 = v["compartments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(per_class, total);
    assert!(v["rules_of_thumb"].is_array() || v["rules_of_thumb"].is_object());
    assert!(!v["assumptions"].as_array().unwrap().is_empty());
}

#[test]
fn bad_input_is_refused_with_the_field_named() {
    let (ok, _, err) = plan(&["erlang", "--load", "-3", "--blocking", "1%"]);
    assert!(!ok);
    assert!(err.contains("load"), "{err}");
    let (ok, _, err) = plan(&["erlang", "--load", "10", "--blocking", "150%"]);
    assert!(!ok);
    assert!(err.to_lowercase().contains("blocking"), "{err}");
    let (ok, _, err) = plan(&["--units", "0", "--json"]);
    assert!(!ok);
    assert!(err.contains("units"), "{err}");
}
