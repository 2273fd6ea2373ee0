//! Integration tests of the planner (one test binary).

mod closed_form;
mod forecast;
mod plan;
mod sim;

/// The planner stays pure: no async runtime, database or HTTP dependency.
#[test]
fn the_planner_crate_stays_pure() {
    let manifest = include_str!("../../Cargo.toml");
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|s| s.split("\n[").next())
        .unwrap_or("");
    for banned in ["tokio", "sqlx", "axum", "reqwest", "hyper", "prophet"] {
        assert!(
            !deps.contains(banned),
            "{banned} in cubby-planner's dependencies"
        );
    }
    assert!(deps.contains("augurs"));
}
