//! Cubby's capacity planner: how many compartments (of which sizes and
//! temperature zones) a building needs, or how large a parcel room.
//!
//! A pure crate: no IO, no async, no clock; randomness only from the seed in
//! the options. Three layers:
//!
//! - [`erlang`]: Erlang B, `servers_for`, and a closed-form sizing of size
//!   classes with overflow to larger classes (equivalent random traffic,
//!   Hayward's approximation).
//! - [`sim`]: a seeded discrete-event simulation through a year (courier
//!   batches, size classes with upgrade, consolidation, expiry, holds, weekly
//!   and yearly seasonality) with many replications and 95 % intervals.
//! - [`forecast`]: an 8-week forecast of daily arrivals (augurs MSTL + ETS)
//!   and a capacity warning.
//! - [`analytics`]: what a running site measured (arrivals by size, dwell,
//!   peak occupancy), the input of the forecast and of a re-run plan.
//!
//! [`plan()`] ties them together into a [`Plan`] with a text report, SVG
//! charts and a self-contained HTML page ([`report`]).

// Numeric code indexes parallel arrays ([zone][size]) on purpose, and rejects
// NaN with negated comparisons (`!(x > 0.0)` is true for NaN).
#![allow(clippy::needless_range_loop, clippy::neg_cmp_op_on_partial_ord)]

pub mod analytics;
pub mod dwell;
pub mod erlang;
pub mod forecast;
pub mod input;
pub mod model;
pub mod plan;
pub mod report;
pub mod sim;

pub use analytics::{SiteActivity, Stay, size_of, summarise};
pub use erlang::{erlang_b, servers_for};
pub use forecast::{
    CapacityOutlook, DailyForecast, ForecastError, capacity_warning, forecast_daily,
};
pub use input::{FieldProblem, InvalidInput, PlanInput, SizeClass, Zone};
pub use model::Model;
pub use plan::{Plan, PlanOptions, plan, plan_closed_form};
pub use sim::{Estimate, Layout, SimOptions, SimResult, simulate};

/// Dates in the forecast API.
pub use chrono::NaiveDate;

/// Simulate `layout` for the demand described by `input`.
pub fn simulate_input(
    input: &PlanInput,
    layout: &Layout,
    opts: &SimOptions,
) -> Result<SimResult, InvalidInput> {
    let model = Model::new(input)?;
    Ok(simulate(&model, layout, opts))
}
