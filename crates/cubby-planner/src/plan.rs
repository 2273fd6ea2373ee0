//! The plan: sizing, simulation check, room alternative, costs, sensitivity,
//! rules of thumb and the assumptions behind every default.

use serde::{Deserialize, Serialize};

use crate::erlang::{class_blocking, erlang_b, lost_load, servers_for, size_classes};
use crate::input::{InvalidInput, PlanInput, SizeClass, Zone};
use crate::model::{Model, YEAR_DAYS};
use crate::sim::{Estimate, Layout, SimOptions, SimResult, simulate};

/// How to plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanOptions {
    /// Simulation replications (0: closed form only).
    pub replications: u32,
    pub seed: u64,
    /// Simulation threads (results do not depend on it).
    pub threads: usize,
    /// Add compartments to any class whose simulated peak-week blocking is above
    /// the target (batches, the delivery window and holds make real blocking
    /// worse than Erlang's).
    pub refine: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            replications: 200,
            seed: 7,
            threads: 2,
            refine: true,
        }
    }
}

/// The demand the plan is sized for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Demand {
    pub units: u32,
    pub parcels_per_day_normal: f64,
    pub parcels_per_day_peak_week: f64,
    pub parcels_per_year: f64,
    /// Mean dwell before the expiry cut (input).
    pub mean_dwell_hours: f64,
    /// Mean hours a parcel occupies a compartment (expiry cut, holds).
    pub occupancy_hours: f64,
    pub offered_load_normal: f64,
    pub offered_load_peak_week: f64,
    pub target_blocking: f64,
}

/// One line of the compartment mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompartmentLine {
    pub zone: Zone,
    pub size: SizeClass,
    /// Recommended compartments.
    pub count: u32,
    /// What the closed form alone asked for.
    pub closed_form_count: u32,
    pub offered_load_peak_week: f64,
    /// Closed-form blocking of this class with `count` compartments.
    pub blocking_normal: f64,
    pub blocking_peak_week: f64,
    pub simulated_blocking_normal: Option<Estimate>,
    pub simulated_blocking_peak_week: Option<Estimate>,
    pub simulated_utilisation: Option<Estimate>,
    pub unit_cost: f64,
}

/// The closed form's own answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosedForm {
    pub layout: Layout,
    pub total: u32,
    /// One pooled class (every parcel fits every compartment): the lower bound.
    pub single_class_total: u32,
    /// Parcels per year that would find no compartment (closed form, per day).
    pub overflow_per_year: f64,
}

/// The alternative: an open parcel room with shelves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParcelRoom {
    /// Parcels the room must hold at once (Erlang B, one pooled class, peak week).
    pub parcels_held: u32,
    pub shelf_length_m: f64,
    /// Length of wall with shelving units (shelf length ÷ levels).
    pub shelf_run_m: f64,
    pub floor_area_m2: f64,
    pub floor_area_sq_ft: f64,
    /// USPS 2014 survey: average package room 77 sq ft.
    pub usps_average_sq_ft: f64,
    pub assumptions: Vec<String>,
}

/// Money.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostSummary {
    pub currency: String,
    pub locker_capex: f64,
    pub locker_maintenance_per_year: f64,
    pub room_capex: f64,
    pub room_per_year: f64,
    pub locker_five_years: f64,
    pub room_five_years: f64,
}

/// Compartments needed when one input changes (closed form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensitivityRow {
    pub case: String,
    pub parcels_per_day_peak_week: f64,
    pub compartments: u32,
}

/// A vendor rule of thumb beside the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleOfThumb {
    pub name: String,
    pub formula: String,
    pub compartments: f64,
    pub source: String,
}

/// A value the plan rests on, and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assumption {
    pub name: String,
    pub value: String,
    /// True when the value is the planner's default rather than given.
    pub is_default: bool,
    pub source: String,
}

/// Points of the Erlang B curve for the pooled peak-week load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErlangCurve {
    pub load_peak_week: f64,
    pub load_normal: f64,
    /// (compartments, blocking at the peak-week load, blocking at the normal load)
    pub points: Vec<[f64; 3]>,
    pub pooled_minimum: u32,
    pub chosen: u32,
    /// Worst class's peak-week blocking of the chosen layout (simulated when
    /// simulated, else closed form).
    pub chosen_blocking: f64,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Recommended compartments, all zones and sizes.
    pub compartments_total: u32,
    pub sized_by: String,
    pub demand: Demand,
    pub compartments: Vec<CompartmentLine>,
    pub layout: Layout,
    pub closed_form: ClosedForm,
    pub simulation: Option<SimResult>,
    /// Parcels per year that would find the locker full (simulated when
    /// simulated, else closed form).
    pub overflow_per_year: f64,
    pub parcel_room: ParcelRoom,
    pub costs: CostSummary,
    pub sensitivity: Vec<SensitivityRow>,
    pub rules_of_thumb: Vec<RuleOfThumb>,
    pub assumptions: Vec<Assumption>,
    pub erlang_curve: ErlangCurve,
    pub input: PlanInput,
}

fn zone_cost(input: &PlanInput, z: usize) -> [f64; 4] {
    let f = [1.0, input.costs.chilled_factor, input.costs.frozen_factor][z];
    input.costs.compartment.as_array().map(|c| c * f)
}

/// Closed-form layout for a daily volume: per zone, classes sized with
/// overflow to larger classes so that every class meets the target.
pub fn size_layout(model: &Model, input: &PlanInput, daily: f64) -> Layout {
    let loads = model.loads(daily);
    let mut layout = Layout::default();
    for z in 0..3 {
        if loads[z].iter().sum::<f64>() <= 0.0 {
            continue;
        }
        let counts = size_classes(&loads[z], model.target_blocking, &zone_cost(input, z));
        layout.counts[z].copy_from_slice(&counts[..4]);
    }
    layout
}

/// Closed-form blocking per [zone][size] of `layout` at `daily` parcels a day.
pub fn layout_blocking(model: &Model, layout: &Layout, daily: f64) -> [[f64; 4]; 3] {
    let loads = model.loads(daily);
    let mut out = [[0.0; 4]; 3];
    for z in 0..3 {
        let b = class_blocking(&loads[z], &layout.counts[z]);
        out[z][..4].copy_from_slice(&b[..4]);
    }
    out
}

/// Closed-form parcels per year finding no compartment.
pub fn closed_form_overflow(model: &Model, layout: &Layout) -> f64 {
    let mut lost = 0.0;
    let occ_days = model.occupancy_hours / 24.0;
    if occ_days <= 0.0 {
        return 0.0;
    }
    // Many days share a volume (weekday × season): evaluate each volume once.
    let mut seen: Vec<(u64, f64)> = Vec::with_capacity(64);
    for d in 0..YEAR_DAYS {
        let v = model.day_volume[d];
        let key = v.to_bits();
        let per_day = match seen.iter().find(|(k, _)| *k == key) {
            Some((_, x)) => *x,
            None => {
                let loads = model.loads(v);
                let mut x = 0.0;
                for z in 0..3 {
                    if loads[z].iter().sum::<f64>() > 0.0 {
                        x += lost_load(&loads[z], &layout.counts[z]) / occ_days;
                    }
                }
                seen.push((key, x));
                x
            }
        };
        lost += per_day;
    }
    lost
}

/// Plan with the closed form only (fast: the P7 path).
pub fn plan_closed_form(input: &PlanInput) -> Result<Plan, InvalidInput> {
    plan(
        input,
        &PlanOptions {
            replications: 0,
            ..PlanOptions::default()
        },
    )
}

/// Size one building.
pub fn plan(input: &PlanInput, opts: &PlanOptions) -> Result<Plan, InvalidInput> {
    let model = Model::new(input)?;
    let cf_layout = size_layout(&model, input, model.peak_daily);
    let mut layout = cf_layout;
    let mut simulation = None;
    let mut sized_by =
        "closed form: Erlang B per size class with overflow to larger classes (peak week)"
            .to_string();
    if opts.replications > 0 {
        let sim_opts = |reps: u32| SimOptions {
            replications: reps,
            seed: opts.seed,
            threads: opts.threads.max(1),
            trace_peak_week: true,
            ..SimOptions::default()
        };
        if opts.refine {
            let reps = opts.replications.min(100);
            let mut added = false;
            for _ in 0..16 {
                let r = simulate(&model, &layout, &sim_opts(reps));
                let mut changed = false;
                for c in &r.classes {
                    let b = c.blocking_peak_week.mean;
                    if b > model.target_blocking {
                        // Grow in proportion to the excess: 2 % near the
                        // target, up to 15 % far above it.
                        let step = (0.02 + 0.5 * (b - model.target_blocking)).min(0.15);
                        let cur = &mut layout.counts[c.zone.index()][c.size.index()];
                        *cur += ((f64::from(*cur) * step).ceil() as u32).max(1);
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
                added = true;
            }
            if added {
                sized_by = "closed form, then compartments added where the simulation's peak-week blocking was above the target".into();
            } else {
                sized_by.push_str("; simulation confirms the target");
            }
        }
        simulation = Some(simulate(&model, &layout, &sim_opts(opts.replications)));
    }
    let sim = simulation.as_ref();
    let b_normal = layout_blocking(&model, &layout, model.normal_daily);
    let b_peak = layout_blocking(&model, &layout, model.peak_daily);
    let loads_peak = model.loads(model.peak_daily);
    let mut compartments = Vec::new();
    for z in Zone::ALL {
        let zi = z.index();
        let costs = zone_cost(input, zi);
        for k in SizeClass::ALL {
            let ki = k.index();
            let count = layout.counts[zi][ki];
            if count == 0 && loads_peak[zi][ki] <= 0.0 {
                continue;
            }
            let sc = sim.and_then(|s| s.classes.iter().find(|c| c.zone == z && c.size == k));
            compartments.push(CompartmentLine {
                zone: z,
                size: k,
                count,
                closed_form_count: cf_layout.counts[zi][ki],
                offered_load_peak_week: loads_peak[zi][ki],
                blocking_normal: b_normal[zi][ki],
                blocking_peak_week: b_peak[zi][ki],
                simulated_blocking_normal: sc.map(|c| c.blocking_normal),
                simulated_blocking_peak_week: sc.map(|c| c.blocking_peak_week),
                simulated_utilisation: sc.map(|c| c.utilisation),
                unit_cost: costs[ki],
            });
        }
    }
    let a_peak = model.peak_daily * model.occupancy_hours / 24.0;
    let a_normal = model.normal_daily * model.occupancy_hours / 24.0;
    let cf_overflow = closed_form_overflow(&model, &cf_layout);
    let closed_form = ClosedForm {
        layout: cf_layout,
        total: cf_layout.total(),
        single_class_total: servers_for(a_peak, model.target_blocking),
        overflow_per_year: cf_overflow,
    };
    let total = layout.total();
    let overflow_per_year = match sim {
        Some(s) => s.overflowed_parcels.mean,
        None if layout == cf_layout => cf_overflow,
        None => closed_form_overflow(&model, &layout),
    };
    let chosen_blocking = match sim {
        Some(s) => s.worst_class_blocking_peak_week,
        None => b_peak.iter().flatten().copied().fold(0.0, f64::max),
    };
    let room = parcel_room(input, &model, a_peak);
    let costs = costs(input, &layout, &room);
    let demand = Demand {
        units: model.units,
        parcels_per_day_normal: model.normal_daily,
        parcels_per_day_peak_week: model.peak_daily,
        parcels_per_year: model.parcels_per_year(),
        mean_dwell_hours: input.dwell.mean_hours,
        occupancy_hours: model.occupancy_hours,
        offered_load_normal: a_normal,
        offered_load_peak_week: a_peak,
        target_blocking: model.target_blocking,
    };
    let hi = ((f64::from(total.max(closed_form.single_class_total)) * 1.3).ceil() as u32).max(10);
    let lo = ((a_normal * 0.6).floor() as u32).min(hi.saturating_sub(5));
    let points = (lo..=hi)
        .map(|c| [f64::from(c), erlang_b(c, a_peak), erlang_b(c, a_normal)])
        .collect();
    let erlang_curve = ErlangCurve {
        load_peak_week: a_peak,
        load_normal: a_normal,
        points,
        pooled_minimum: closed_form.single_class_total,
        chosen: total,
        chosen_blocking,
    };
    Ok(Plan {
        compartments_total: total,
        sized_by,
        demand,
        compartments,
        layout,
        closed_form,
        simulation,
        overflow_per_year,
        parcel_room: room,
        costs,
        sensitivity: sensitivity(input, &model),
        rules_of_thumb: rules_of_thumb(&model),
        assumptions: assumptions(input),
        erlang_curve,
        input: input.clone(),
    })
}

fn parcel_room(input: &PlanInput, model: &Model, a_peak: f64) -> ParcelRoom {
    let r = &input.room;
    let held = servers_for(a_peak, model.target_blocking);
    let mix = input.size_mix.as_array();
    let len = r.shelf_metres_per_parcel.as_array();
    let mean_len: f64 = mix.iter().zip(len.iter()).map(|(m, l)| m * l).sum();
    let shelf = f64::from(held) * mean_len * r.packing_slack;
    let run = shelf / f64::from(r.shelf_levels.max(1));
    let area = run * (r.shelf_depth_m + r.aisle_m / 2.0) + r.fixed_m2;
    let mut assumptions = vec![
        format!(
            "parcels held at once = Erlang B for the pooled peak-week load {a_peak:.1} at {:.2} % blocking (shelves have no size classes)",
            model.target_blocking * 100.0
        ),
        format!(
            "shelf length per parcel S/M/L/XL = {:.2}/{:.2}/{:.2}/{:.2} m, mean {mean_len:.2} m with the size mix, × {:.2} packing slack",
            len[0], len[1], len[2], len[3], r.packing_slack
        ),
        format!(
            "{} shelf levels, shelf depth {:.2} m, aisle {:.2} m shared by two facing runs, {:.1} m² fixed for door and desk",
            r.shelf_levels, r.shelf_depth_m, r.aisle_m, r.fixed_m2
        ),
    ];
    if input.chilled_share + input.frozen_share > 0.0 {
        assumptions.push(
            "chilled and frozen parcels are counted as shelf space; the room also needs refrigerators for them".into(),
        );
    }
    ParcelRoom {
        parcels_held: held,
        shelf_length_m: shelf,
        shelf_run_m: run,
        floor_area_m2: area,
        floor_area_sq_ft: area * 10.763_910_4,
        usps_average_sq_ft: 77.0,
        assumptions,
    }
}

fn costs(input: &PlanInput, layout: &Layout, room: &ParcelRoom) -> CostSummary {
    let c = &input.costs;
    let mut capex = 0.0;
    for z in 0..3 {
        let zc = zone_cost(input, z);
        for k in 0..4 {
            capex += f64::from(layout.counts[z][k]) * zc[k];
        }
    }
    let maint = capex * c.maintenance_share_per_year;
    let room_capex =
        room.floor_area_m2 * c.room_per_m2 + room.shelf_length_m * c.shelving_per_metre;
    let room_year = c.room_subscription_per_month * 12.0;
    CostSummary {
        currency: c.currency.clone(),
        locker_capex: capex,
        locker_maintenance_per_year: maint,
        room_capex,
        room_per_year: room_year,
        locker_five_years: capex + 5.0 * maint,
        room_five_years: room_capex + 5.0 * room_year,
    }
}

fn closed_total(input: &PlanInput) -> Option<(f64, u32)> {
    let m = Model::new(input).ok()?;
    Some((m.peak_daily, size_layout(&m, input, m.peak_daily).total()))
}

fn sensitivity(input: &PlanInput, model: &Model) -> Vec<SensitivityRow> {
    let mut rows = Vec::new();
    let mut push = |case: String, changed: PlanInput| {
        if let Some((daily, total)) = closed_total(&changed) {
            rows.push(SensitivityRow {
                case,
                parcels_per_day_peak_week: daily,
                compartments: total,
            });
        }
    };
    push("as planned (closed form)".into(), input.clone());
    for f in [0.75, 1.25] {
        let mut i = input.clone();
        match &mut i.daily_history {
            Some(h) => h.iter_mut().for_each(|x| *x *= f),
            None => i.parcels_per_unit_week *= f,
        }
        push(format!("volume × {f:.2}"), i);
    }
    for p in [1.5, 2.0, 3.6] {
        let mut i = input.clone();
        i.peak_multiplier = p;
        push(format!("peak week × {p}"), i);
    }
    for y in [1.0, 3.0, 5.0] {
        let mut i = input.clone();
        i.horizon_years += y;
        push(
            format!(
                "{y:.0} more year(s) at {:.0} %/year growth",
                input.growth_per_year * 100.0
            ),
            i,
        );
    }
    for b in [0.05, 0.001] {
        let mut i = input.clone();
        i.target_blocking = b;
        push(format!("target blocking {:.1} %", b * 100.0), i);
    }
    let _ = model;
    rows
}

fn rules_of_thumb(model: &Model) -> Vec<RuleOfThumb> {
    let d = model.normal_daily;
    let u = f64::from(model.units);
    let facts = "shared/product/facts.md, Sizing rules of thumb";
    vec![
        RuleOfThumb {
            name: "Package Concierge".into(),
            formula: format!("1.75 × {d:.1} parcels/day"),
            compartments: 1.75 * d,
            source: facts.into(),
        },
        RuleOfThumb {
            name: "The Parcel Port, 2-day expiry".into(),
            formula: format!("1.3 × {d:.1} parcels/day"),
            compartments: 1.3 * d,
            source: facts.into(),
        },
        RuleOfThumb {
            name: "The Parcel Port, 3-day expiry".into(),
            formula: format!("1.5 × {d:.1} parcels/day"),
            compartments: 1.5 * d,
            source: facts.into(),
        },
        RuleOfThumb {
            name: "The Parcel Port, volume from units (÷ 5.5), 2-day expiry".into(),
            formula: format!("1.3 × {u:.0} units ÷ 5.5"),
            compartments: 1.3 * u / 5.5,
            source: facts.into(),
        },
        RuleOfThumb {
            name: "USPS".into(),
            formula: format!("{u:.0} units ÷ 5"),
            compartments: u / 5.0,
            source: facts.into(),
        },
    ]
}

fn assumptions(input: &PlanInput) -> Vec<Assumption> {
    let d = PlanInput::default();
    let facts = |s: &str| format!("shared/product/facts.md — {s}");
    let mut out = Vec::new();
    let mut add = |name: &str, value: String, is_default: bool, source: String| {
        out.push(Assumption {
            name: name.into(),
            value,
            is_default,
            source,
        });
    };
    if input.daily_history.is_some() {
        add(
            "daily volume",
            "median of the measured weekly means".into(),
            false,
            "given history".into(),
        );
    } else {
        add(
            "parcels_per_unit_week",
            format!("{}", input.parcels_per_unit_week),
            input.parcels_per_unit_week == d.parcels_per_unit_week,
            facts("Volumes and peaks: 1.2–2.6 parcels per unit per week typical"),
        );
    }
    if input.units.is_none() {
        add(
            "residents_per_unit",
            format!("{}", input.residents_per_unit),
            input.residents_per_unit == d.residents_per_unit,
            "assumption (facts.md has no household size)".into(),
        );
    }
    let m = input.size_mix;
    add(
        "size_mix",
        format!("S {:.0} %, M {:.0} %, L {:.0} %, XL {:.0} %", m.s * 100.0, m.m * 100.0, m.l * 100.0, m.xl * 100.0),
        input.size_mix == d.size_mix,
        "assumption: facts.md lists compartment sizes (InPost A/B/C/D, OOHPod XS–L, DHL) but no published parcel mix".into(),
    );
    add(
        "chilled_share / frozen_share",
        format!(
            "{:.1} % / {:.1} %",
            input.chilled_share * 100.0,
            input.frozen_share * 100.0
        ),
        input.chilled_share == d.chilled_share && input.frozen_share == d.frozen_share,
        "assumption: no cold zone unless asked (facts.md gives temperature bands only)".into(),
    );
    add(
        "dwell",
        format!(
            "mean {} h, shape {:?}",
            input.dwell.mean_hours, input.dwell.shape
        ),
        input.dwell == d.dwell,
        facts(
            "Dwell: Omniva 25 % within 4 h, 68 % same day, 18 % next day, mean ≈ 16–20 h; worked case 20 h",
        ),
    );
    add(
        "expiry_days",
        format!("{}", input.expiry_days),
        input.expiry_days == d.expiry_days,
        facts("Dwell table: Luxer property-set e.g. 5 days (Amazon 3, DHL 7)"),
    );
    add(
        "hold_share / hold_days",
        format!(
            "{:.1} % up to {} days",
            input.hold_share * 100.0,
            input.hold_days
        ),
        input.hold_share == d.hold_share && input.hold_days == d.hold_days,
        "assumption (Luxer pauses reminders on hold; DHL keeps 7 days)".into(),
    );
    add(
        "peak_multiplier",
        format!("× {}", input.peak_multiplier),
        input.peak_multiplier == d.peak_multiplier,
        facts("Volumes and peaks: peak week ×1.8–2.0 typical, ×3.6 stress; holidays +81 %"),
    );
    add(
        "peak_week / season_ramp_weeks",
        format!(
            "week {}, ramp {} weeks",
            input.peak_week, input.season_ramp_weeks
        ),
        input.peak_week == d.peak_week && input.season_ramp_weeks == d.season_ramp_weeks,
        "assumption: a December peak after a November ramp".into(),
    );
    add(
        "weekday_factors",
        format!("{:?}", input.weekday_factors),
        input.weekday_factors == d.weekday_factors,
        "assumption: weekday deliveries, fewer on Saturday, few on Sunday".into(),
    );
    add(
        "growth_per_year / horizon_years",
        format!(
            "{:.0} %/year, sized {} years ahead",
            input.growth_per_year * 100.0,
            input.horizon_years
        ),
        input.growth_per_year == d.growth_per_year && input.horizon_years == d.horizon_years,
        facts("Sizing rules of thumb: The Parcel Port plans 10–20 %/year growth"),
    );
    add(
        "target_blocking",
        format!("{:.2} % in the peak week", input.target_blocking * 100.0),
        input.target_blocking == d.target_blocking,
        facts("Sizing rules of thumb: Erlang table at 5 %, 1 %, 0.1 %; worked case at 1 %"),
    );
    add(
        "couriers_per_day / delivery window",
        format!(
            "{} batches a day between {}:00 and {}:00",
            input.couriers_per_day, input.delivery_window_hours[0], input.delivery_window_hours[1]
        ),
        input.couriers_per_day == d.couriers_per_day
            && input.delivery_window_hours == d.delivery_window_hours,
        "assumption: several carriers a day, each dropping a batch (facts.md: Erlang ignores batch arrivals)".into(),
    );
    add(
        "consolidation",
        format!("{} (parcel volumes S 1, M 2, L 5, XL 10)", input.consolidation),
        input.consolidation == d.consolidation,
        "assumption (facts.md: Erlang ignores consolidation; Luxer resets the timer when a parcel is added)".into(),
    );
    add(
        "costs",
        format!(
            "{} per compartment S/M/L/XL {}/{}/{}/{}; chilled ×{}, frozen ×{}; maintenance {:.0} %/year",
            input.costs.currency,
            input.costs.compartment.s,
            input.costs.compartment.m,
            input.costs.compartment.l,
            input.costs.compartment.xl,
            input.costs.chilled_factor,
            input.costs.frozen_factor,
            input.costs.maintenance_share_per_year * 100.0
        ),
        input.costs == d.costs,
        facts(
            "Cost references: Amazon Hub apartment locker $10k–20k one-off (≈ $250 a compartment); smart package room ≈ $310/month",
        ),
    );
    add(
        "parcel room",
        format!(
            "{} levels, depth {} m, aisle {} m, slack × {}",
            input.room.shelf_levels,
            input.room.shelf_depth_m,
            input.room.aisle_m,
            input.room.packing_slack
        ),
        input.room == d.room,
        facts(
            "Sizing rules of thumb: USPS average package room 77 sq ft (2014 survey) — used as a cross-check only",
        ),
    );
    out
}
