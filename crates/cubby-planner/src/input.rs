//! What the planner is asked: a building, its parcels and the policies of its
//! locker. Every field has a default taken from `shared/product/facts.md` (or
//! labelled as an assumption where facts.md has nothing), so `{}` or
//! `{"units": 200}` is a complete input.

use serde::{Deserialize, Serialize};

/// Compartment size classes, smallest first. A parcel fits its own class and
/// every larger one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SizeClass {
    S,
    M,
    L,
    XL,
}

impl SizeClass {
    pub const ALL: [SizeClass; 4] = [SizeClass::S, SizeClass::M, SizeClass::L, SizeClass::XL];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            SizeClass::S => "S",
            SizeClass::M => "M",
            SizeClass::L => "L",
            SizeClass::XL => "XL",
        }
    }
}

/// Temperature zones. Parcels never move between zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    Ambient,
    Chilled,
    Frozen,
}

impl Zone {
    pub const ALL: [Zone; 3] = [Zone::Ambient, Zone::Chilled, Zone::Frozen];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Zone::Ambient => "ambient",
            Zone::Chilled => "chilled",
            Zone::Frozen => "frozen",
        }
    }
}

/// One value per size class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PerSize {
    #[serde(rename = "S")]
    pub s: f64,
    #[serde(rename = "M")]
    pub m: f64,
    #[serde(rename = "L")]
    pub l: f64,
    #[serde(rename = "XL")]
    pub xl: f64,
}

impl PerSize {
    pub fn as_array(&self) -> [f64; 4] {
        [self.s, self.m, self.l, self.xl]
    }

    pub fn get(&self, size: SizeClass) -> f64 {
        self.as_array()[size.index()]
    }
}

/// Shape of the dwell time (deposit → pick-up) distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DwellShape {
    /// Piecewise-linear CDF through the Omniva observations in facts.md: 25 %
    /// within 4 h, 68 % "the same day" (taken as within 12 h), a further 18 %
    /// the next day (within 36 h), then a tail (95 % by 3 days, 98 % by 5 days,
    /// everything by 11 days). Scaled to `mean_hours`.
    #[default]
    Omniva,
    /// Exponential with mean `mean_hours`.
    Exponential,
    /// A custom CDF: points `[hours, cumulative share]`, increasing, starting at
    /// `[0, 0]` and ending at share 1. Scaled to `mean_hours` unless
    /// `mean_hours` is 0 (then taken as given).
    Table { points: Vec<[f64; 2]> },
}

/// Dwell time: how long a parcel stays before its recipient collects it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DwellInput {
    /// Mean dwell in hours before the expiry cut (facts.md: Omniva mean ≈
    /// 16–20 h; the worked case uses 20 h).
    pub mean_hours: f64,
    pub shape: DwellShape,
}

impl Default for DwellInput {
    fn default() -> Self {
        DwellInput {
            mean_hours: 20.0,
            shape: DwellShape::Omniva,
        }
    }
}

/// Costs. Currency is a label only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CostInput {
    pub currency: String,
    /// Capex per ambient compartment, per size class.
    pub compartment: PerSize,
    /// Chilled compartment cost = ambient × this factor.
    pub chilled_factor: f64,
    /// Frozen compartment cost = ambient × this factor.
    pub frozen_factor: f64,
    /// Locker maintenance per year as a share of its capex.
    pub maintenance_share_per_year: f64,
    /// Fit-out of an open parcel room per m² of floor.
    pub room_per_m2: f64,
    /// Shelving per metre of shelf.
    pub shelving_per_metre: f64,
    /// Smart parcel room subscription (access control, notifications) per month.
    pub room_subscription_per_month: f64,
}

impl Default for CostInput {
    fn default() -> Self {
        CostInput {
            currency: "USD".into(),
            compartment: PerSize {
                s: 220.0,
                m: 260.0,
                l: 330.0,
                xl: 420.0,
            },
            chilled_factor: 3.0,
            frozen_factor: 4.0,
            maintenance_share_per_year: 0.08,
            room_per_m2: 1_200.0,
            shelving_per_metre: 80.0,
            room_subscription_per_month: 310.0,
        }
    }
}

/// The alternative to lockers: an open parcel room with shelves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoomInput {
    /// Shelf length one parcel takes, per size class, in metres.
    pub shelf_metres_per_parcel: PerSize,
    /// Shelf levels per shelving unit.
    pub shelf_levels: u32,
    /// Shelf depth in metres.
    pub shelf_depth_m: f64,
    /// Aisle width in metres (one aisle serves two facing shelf runs).
    pub aisle_m: f64,
    /// Fixed floor area for the door, a scanning desk and turning space (m²).
    pub fixed_m2: f64,
    /// Slack for imperfect packing and sorting by name (× shelf length).
    pub packing_slack: f64,
}

impl Default for RoomInput {
    fn default() -> Self {
        RoomInput {
            shelf_metres_per_parcel: PerSize {
                s: 0.20,
                m: 0.30,
                l: 0.45,
                xl: 0.70,
            },
            shelf_levels: 5,
            shelf_depth_m: 0.5,
            aisle_m: 1.0,
            fixed_m2: 2.0,
            packing_slack: 1.25,
        }
    }
}

/// Everything the planner needs to size one building.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanInput {
    /// Dwelling units. Either this or `residents`.
    pub units: Option<u32>,
    /// Residents, turned into units with `residents_per_unit` when `units` is absent.
    pub residents: Option<u32>,
    pub residents_per_unit: f64,
    /// Parcels per unit per week in a normal (non-peak) week (facts.md: 1.2–2.6).
    pub parcels_per_unit_week: f64,
    /// Measured parcels per day (oldest first). When given, it replaces
    /// `units × parcels_per_unit_week / 7` as the normal daily volume (the
    /// median of its weekly means, so a peak inside the history does not
    /// inflate it). Units are still used for recipients and rules of thumb.
    pub daily_history: Option<Vec<f64>>,
    /// Share of parcels per size class; must sum to 1.
    pub size_mix: PerSize,
    /// Share of parcels that need a chilled compartment.
    pub chilled_share: f64,
    /// Share of parcels that need a frozen compartment.
    pub frozen_share: f64,
    pub dwell: DwellInput,
    /// Uncollected parcels are removed (returned) this many days after deposit.
    pub expiry_days: f64,
    /// Share of parcels put on hold (resident away): they stay up to
    /// `hold_days` (uniform between 1 day and `hold_days`) and never expire.
    pub hold_share: f64,
    pub hold_days: f64,
    /// Peak-week volume ÷ normal-week volume (facts.md: ×1.8–2.0 typical, ×3.6 stress).
    pub peak_multiplier: f64,
    /// Week of the year (1–52) with the peak; the simulated year starts on a Monday.
    pub peak_week: u32,
    /// Weeks over which volume ramps up to the peak week (and half as many down after it).
    pub season_ramp_weeks: u32,
    /// Relative volume Monday..Sunday (normalised to mean 1).
    pub weekday_factors: [f64; 7],
    /// Yearly volume growth (facts.md, The Parcel Port: plan 10–20 %/year).
    pub growth_per_year: f64,
    /// Size for the volume this many years ahead.
    pub horizon_years: f64,
    /// Target blocking (share of parcels finding no compartment) in the peak week.
    pub target_blocking: f64,
    /// Courier visits per day, each dropping a batch; 0 = parcels arrive one by
    /// one as a Poisson stream over 24 h (Erlang's assumption).
    pub couriers_per_day: u32,
    /// Hours of the day (start, end) within which couriers come.
    pub delivery_window_hours: [f64; 2],
    /// Put a recipient's next parcel into the compartment already holding one of
    /// theirs when it fits.
    pub consolidation: bool,
    pub costs: CostInput,
    pub room: RoomInput,
}

impl Default for PlanInput {
    fn default() -> Self {
        PlanInput {
            units: None,
            residents: None,
            residents_per_unit: 2.0,
            parcels_per_unit_week: 1.9,
            daily_history: None,
            size_mix: PerSize {
                s: 0.50,
                m: 0.30,
                l: 0.15,
                xl: 0.05,
            },
            chilled_share: 0.0,
            frozen_share: 0.0,
            dwell: DwellInput::default(),
            expiry_days: 5.0,
            hold_share: 0.01,
            hold_days: 7.0,
            peak_multiplier: 2.0,
            peak_week: 50,
            season_ramp_weeks: 5,
            weekday_factors: [1.15, 1.15, 1.10, 1.10, 1.10, 0.90, 0.50],
            growth_per_year: 0.10,
            horizon_years: 0.0,
            target_blocking: 0.01,
            couriers_per_day: 4,
            delivery_window_hours: [9.0, 19.0],
            consolidation: true,
            costs: CostInput::default(),
            room: RoomInput::default(),
        }
    }
}

/// One invalid field and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

/// The input cannot be planned: every bad field is listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("invalid plan input: {}", render_problems(.problems))]
pub struct InvalidInput {
    pub problems: Vec<FieldProblem>,
}

fn render_problems(p: &[FieldProblem]) -> String {
    p.iter()
        .map(|x| format!("{}: {}", x.field, x.problem))
        .collect::<Vec<_>>()
        .join("; ")
}

struct Checker(Vec<FieldProblem>);

impl Checker {
    fn bad(&mut self, field: &str, problem: impl Into<String>) {
        self.0.push(FieldProblem {
            field: field.into(),
            problem: problem.into(),
        });
    }

    fn range(&mut self, field: &str, v: f64, lo: f64, hi: f64) {
        if !v.is_finite() || v < lo || v > hi {
            self.bad(field, format!("{v} is outside {lo}..={hi}"));
        }
    }

    fn positive(&mut self, field: &str, v: f64, hi: f64) {
        if !v.is_finite() || v <= 0.0 || v > hi {
            self.bad(field, format!("{v} must be > 0 and ≤ {hi}"));
        }
    }
}

impl PlanInput {
    /// Dwelling units, from `units` or `residents ÷ residents_per_unit`.
    pub fn effective_units(&self) -> u32 {
        match (self.units, self.residents) {
            (Some(u), _) => u,
            (None, Some(r)) if self.residents_per_unit > 0.0 => {
                (f64::from(r) / self.residents_per_unit).ceil().max(1.0) as u32
            }
            _ => 0,
        }
    }

    /// Check every field; all problems are reported at once.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        let mut c = Checker(Vec::new());
        match (self.units, self.residents) {
            (None, None) => c.bad("units", "give units (or residents)"),
            (Some(0), _) => c.bad("units", "must be at least 1"),
            (Some(u), _) if u > 1_000_000 => c.bad("units", format!("{u} is more than 1,000,000")),
            (None, Some(0)) => c.bad("residents", "must be at least 1"),
            (None, Some(r)) if r > 3_000_000 => {
                c.bad("residents", format!("{r} is more than 3,000,000"))
            }
            _ => {}
        }
        c.positive("residents_per_unit", self.residents_per_unit, 20.0);
        if self.daily_history.is_none() {
            c.positive("parcels_per_unit_week", self.parcels_per_unit_week, 100.0);
        }
        if let Some(h) = &self.daily_history {
            if h.is_empty() {
                c.bad("daily_history", "is empty");
            } else if let Some((i, v)) = h
                .iter()
                .enumerate()
                .find(|(_, v)| !v.is_finite() || **v < 0.0)
            {
                c.bad("daily_history", format!("day {i} has {v} (must be ≥ 0)"));
            } else if h.iter().sum::<f64>() <= 0.0 {
                c.bad("daily_history", "has no parcels");
            }
        }
        let mix = self.size_mix.as_array();
        for (k, v) in mix.iter().enumerate() {
            c.range(
                &format!("size_mix.{}", SizeClass::ALL[k].name()),
                *v,
                0.0,
                1.0,
            );
        }
        let sum: f64 = mix.iter().sum();
        if (sum - 1.0).abs() > 1e-6 {
            c.bad("size_mix", format!("shares sum to {sum}, not 1"));
        }
        c.range("chilled_share", self.chilled_share, 0.0, 1.0);
        c.range("frozen_share", self.frozen_share, 0.0, 1.0);
        if self.chilled_share + self.frozen_share > 1.0 + 1e-9 {
            c.bad(
                "frozen_share",
                "chilled_share + frozen_share is more than 1",
            );
        }
        c.positive("dwell.mean_hours", self.dwell.mean_hours, 24.0 * 60.0);
        if let DwellShape::Table { points } = &self.dwell.shape
            && let Err(e) = crate::dwell::check_table(points)
        {
            c.bad("dwell.shape.points", e);
        }
        c.positive("expiry_days", self.expiry_days, 365.0);
        c.range("hold_share", self.hold_share, 0.0, 1.0);
        c.range("hold_days", self.hold_days, 1.0, 90.0);
        c.range("peak_multiplier", self.peak_multiplier, 1.0, 20.0);
        if !(1..=52).contains(&self.peak_week) {
            c.bad("peak_week", format!("{} is outside 1..=52", self.peak_week));
        }
        if self.season_ramp_weeks > 26 {
            c.bad("season_ramp_weeks", "must be ≤ 26");
        }
        for (i, f) in self.weekday_factors.iter().enumerate() {
            c.range(&format!("weekday_factors[{i}]"), *f, 0.0, 7.0);
        }
        if self.weekday_factors.iter().sum::<f64>() <= 0.0 {
            c.bad("weekday_factors", "all zero");
        }
        c.range("growth_per_year", self.growth_per_year, -0.9, 10.0);
        c.range("horizon_years", self.horizon_years, 0.0, 50.0);
        if !(self.target_blocking > 0.0 && self.target_blocking < 1.0) {
            c.bad(
                "target_blocking",
                format!("{} must be in (0, 1), e.g. 0.01", self.target_blocking),
            );
        }
        if self.couriers_per_day > 64 {
            c.bad("couriers_per_day", "must be ≤ 64");
        }
        let [w0, w1] = self.delivery_window_hours;
        if !(w0.is_finite() && w1.is_finite() && 0.0 <= w0 && w0 < w1 && w1 <= 24.0) {
            c.bad(
                "delivery_window_hours",
                format!("[{w0}, {w1}] must satisfy 0 ≤ start < end ≤ 24"),
            );
        }
        let cost = &self.costs;
        for (k, v) in cost.compartment.as_array().iter().enumerate() {
            c.range(
                &format!("costs.compartment.{}", SizeClass::ALL[k].name()),
                *v,
                0.0,
                1e7,
            );
        }
        c.range("costs.chilled_factor", cost.chilled_factor, 0.0, 100.0);
        c.range("costs.frozen_factor", cost.frozen_factor, 0.0, 100.0);
        c.range(
            "costs.maintenance_share_per_year",
            cost.maintenance_share_per_year,
            0.0,
            10.0,
        );
        c.range("costs.room_per_m2", cost.room_per_m2, 0.0, 1e7);
        c.range(
            "costs.shelving_per_metre",
            cost.shelving_per_metre,
            0.0,
            1e7,
        );
        c.range(
            "costs.room_subscription_per_month",
            cost.room_subscription_per_month,
            0.0,
            1e7,
        );
        let room = &self.room;
        for (k, v) in room.shelf_metres_per_parcel.as_array().iter().enumerate() {
            c.positive(
                &format!("room.shelf_metres_per_parcel.{}", SizeClass::ALL[k].name()),
                *v,
                10.0,
            );
        }
        if !(1..=20).contains(&room.shelf_levels) {
            c.bad("room.shelf_levels", "must be 1..=20");
        }
        c.positive("room.shelf_depth_m", room.shelf_depth_m, 5.0);
        c.range("room.aisle_m", room.aisle_m, 0.0, 10.0);
        c.range("room.fixed_m2", room.fixed_m2, 0.0, 1e4);
        c.range("room.packing_slack", room.packing_slack, 1.0, 10.0);
        if c.0.is_empty() {
            Ok(())
        } else {
            Err(InvalidInput { problems: c.0 })
        }
    }
}
