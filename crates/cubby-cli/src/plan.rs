//! `cubby plan`: size a building's parcel lockers (and the parcel-room
//! alternative); `cubby plan erlang` for the bare Erlang B answer; `cubby plan
//! forecast` for an 8-week forecast and a capacity warning. `bench` runs the
//! planner benchmarks P7 and P8.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use cubby_planner::{
    Layout, Model, NaiveDate, PlanInput, PlanOptions, SimOptions, capacity_warning, forecast_daily,
    servers_for, simulate,
};
use serde_json::json;

/// Size parcel lockers (or a parcel room) for a building.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PlanArgs {
    #[command(subcommand)]
    pub command: Option<PlanCommand>,
    /// Read the full input from a JSON or TOML file (flags override it).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Dwelling units.
    #[arg(long)]
    pub units: Option<u32>,
    /// Residents (turned into units when --units is absent).
    #[arg(long)]
    pub residents: Option<u32>,
    /// Parcels per unit per week in a normal week (default 1.9).
    #[arg(long)]
    pub parcels_per_unit_week: Option<f64>,
    /// Peak-week multiplier (default 2.0).
    #[arg(long)]
    pub peak: Option<f64>,
    /// Target blocking in the peak week: 0.01 or 1% (default 1 %).
    #[arg(long, value_parser = parse_share)]
    pub blocking: Option<f64>,
    /// Mean dwell in hours (default 20).
    #[arg(long)]
    pub dwell_hours: Option<f64>,
    /// Days after which uncollected parcels are removed (default 5).
    #[arg(long)]
    pub expiry_days: Option<f64>,
    /// Courier batches per day; 0 = one-by-one Poisson arrivals (default 4).
    #[arg(long)]
    pub couriers_per_day: Option<u32>,
    /// Share of parcels needing a chilled compartment: 0.05 or 5%.
    #[arg(long, value_parser = parse_share_incl_zero)]
    pub chilled: Option<f64>,
    /// Share of parcels needing a frozen compartment: 0.02 or 2%.
    #[arg(long, value_parser = parse_share_incl_zero)]
    pub frozen: Option<f64>,
    /// Size for the volume this many years ahead (growth from the input, default 10 %/year).
    #[arg(long)]
    pub horizon_years: Option<f64>,
    /// Simulation seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Simulation replications (0 = closed form only).
    #[arg(long, default_value_t = 200)]
    pub replications: u32,
    /// Simulation threads (default: available cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Keep the closed form's answer even where the simulation blocks more than the target.
    #[arg(long)]
    pub no_refine: bool,
    /// Print the whole plan as JSON (with `compartments_total` at the top level).
    #[arg(long)]
    pub json: bool,
    /// Write a self-contained HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum PlanCommand {
    /// Print the smallest number of compartments with Erlang B ≤ the blocking target.
    Erlang {
        /// Offered load in erlangs (parcels per day × mean dwell in days).
        #[arg(long)]
        load: f64,
        /// Target blocking: 0.01 or 1%.
        #[arg(long, value_parser = parse_share)]
        blocking: f64,
    },
    /// Forecast daily arrivals 8 weeks ahead and warn when capacity runs short.
    Forecast(ForecastArgs),
}

#[derive(Args, Debug)]
pub struct ForecastArgs {
    /// Daily arrivals, oldest first: a JSON array, or one number per line.
    #[arg(long)]
    pub history: PathBuf,
    /// Date of the first history day (YYYY-MM-DD).
    #[arg(long)]
    pub start: NaiveDate,
    /// Days to forecast.
    #[arg(long, default_value_t = 56)]
    pub days: usize,
    /// Compartments installed (enables the capacity warning).
    #[arg(long)]
    pub capacity: Option<u32>,
    /// Mean dwell in hours.
    #[arg(long, default_value_t = 20.0)]
    pub dwell_hours: f64,
    /// Service level: 0.99 or 99% (blocking ≤ 1 − service level).
    #[arg(long, value_parser = parse_share, default_value = "0.99")]
    pub service_level: f64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (t, 1.0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a number like 0.01 or 1%"))?;
    Ok(v / scale)
}

/// `0.01`, `1%` or `1 %` → 0.01, strictly between 0 and 1.
fn parse_share(s: &str) -> Result<f64, String> {
    let v = parse_fraction(s)?;
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(format!(
            "`{s}` must be between 0 and 1 (or 0% and 100%), exclusive"
        ))
    }
}

fn parse_share_incl_zero(s: &str) -> Result<f64, String> {
    let v = parse_fraction(s)?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("`{s}` must be between 0 and 1 (or 0% and 100%)"))
    }
}

fn load_input(path: &Path) -> anyhow::Result<PlanInput> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "toml" => figment::Figment::from(
            <figment::providers::Toml as figment::providers::Format>::file_exact(path),
        )
        .extract::<PlanInput>()
        .with_context(|| format!("reading plan input {}", path.display())),
        _ => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading plan input {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("parsing plan input {} as JSON", path.display()))
        }
    }
}

fn threads(t: Option<usize>) -> usize {
    t.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1)
}

/// `cubby plan …`
pub fn run(args: PlanArgs) -> anyhow::Result<()> {
    match args.command {
        Some(PlanCommand::Erlang { load, blocking }) => {
            if !(load.is_finite() && load >= 0.0) {
                bail!("--load must be a number ≥ 0 (erlangs), got {load}");
            }
            println!("{}", servers_for(load, blocking));
            return Ok(());
        }
        Some(PlanCommand::Forecast(f)) => return run_forecast(f),
        None => {}
    }
    let mut input = match &args.input {
        Some(p) => load_input(p)?,
        None => PlanInput::default(),
    };
    if let Some(u) = args.units {
        input.units = Some(u);
    }
    if let Some(r) = args.residents {
        input.residents = Some(r);
    }
    if let Some(v) = args.parcels_per_unit_week {
        input.parcels_per_unit_week = v;
    }
    if let Some(v) = args.peak {
        input.peak_multiplier = v;
    }
    if let Some(v) = args.blocking {
        input.target_blocking = v;
    }
    if let Some(v) = args.dwell_hours {
        input.dwell.mean_hours = v;
    }
    if let Some(v) = args.expiry_days {
        input.expiry_days = v;
    }
    if let Some(v) = args.couriers_per_day {
        input.couriers_per_day = v;
    }
    if let Some(v) = args.chilled {
        input.chilled_share = v;
    }
    if let Some(v) = args.frozen {
        input.frozen_share = v;
    }
    if let Some(v) = args.horizon_years {
        input.horizon_years = v;
    }
    if input.units.is_none() && input.residents.is_none() {
        bail!("give --units N (or --residents N, or --input FILE with \"units\")");
    }
    let opts = PlanOptions {
        replications: args.replications,
        seed: args.seed,
        threads: threads(args.threads),
        refine: !args.no_refine,
    };
    let plan = cubby_planner::plan(&input, &opts)?;
    if let Some(path) = &args.html {
        std::fs::write(path, plan.report_html())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        emit(&format!("{}\n", serde_json::to_string_pretty(&plan)?))
    } else {
        let mut text = plan.report_text();
        if let Some(path) = &args.html {
            text.push_str(&format!("\nHTML report written to {}\n", path.display()));
        }
        emit(&text)
    }
}

/// Write to stdout; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn read_history(path: &Path) -> anyhow::Result<Vec<f64>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading history {}", path.display()))?;
    if text.trim_start().starts_with('[') {
        return serde_json::from_str(&text)
            .with_context(|| format!("parsing {} as a JSON array of numbers", path.display()));
    }
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .enumerate()
        .map(|(i, l)| {
            // Accept `value` or `date,value`.
            let v = l.rsplit(',').next().unwrap_or(l).trim();
            v.parse::<f64>().with_context(|| {
                format!("{} line {}: `{l}` is not a number", path.display(), i + 1)
            })
        })
        .collect()
}

fn run_forecast(a: ForecastArgs) -> anyhow::Result<()> {
    let history = read_history(&a.history)?;
    let f = forecast_daily(&history, a.start, a.days, 0.95)?;
    let outlook = match a.capacity {
        Some(c) => Some(capacity_warning(&f, a.dwell_hours, c, a.service_level)?),
        None => None,
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "forecast": f, "capacity": outlook }))?
        );
        return Ok(());
    }
    println!("{}", f.method);
    let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let profile: Vec<String> = names
        .iter()
        .zip(f.weekly_profile.iter())
        .map(|(n, p)| format!("{n} {p:.2}"))
        .collect();
    println!("weekly profile: {}", profile.join(", "));
    println!("{:<12} {:>8} {:>8} {:>8}", "date", "low", "point", "high");
    for i in 0..f.point.len() {
        println!(
            "{:<12} {:>8.1} {:>8.1} {:>8.1}",
            f.date(i).to_string(),
            f.lower[i],
            f.point[i],
            f.upper[i]
        );
    }
    if let Some(o) = outlook {
        println!(
            "peak forecast occupancy {:.1} → {} compartments needed (capacity {})",
            o.peak_occupancy, o.peak_compartments_needed, o.capacity
        );
        match o.warning {
            Some(w) => println!("WARNING: {w}"),
            None => println!("capacity is sufficient for the forecast period"),
        }
    }
    Ok(())
}

/// Which planner benchmark.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlannerBench {
    /// Size one building with the closed form, many times.
    P7,
    /// 1,000 replications × 365 days of a 500-unit building.
    P8,
    All,
}

/// Planner benchmarks P7 and P8.
#[derive(Args, Debug)]
pub struct PlanBenchArgs {
    #[arg(long, value_enum, default_value_t = PlannerBench::All)]
    pub which: PlannerBench,
    /// Units of the building.
    #[arg(long, default_value_t = 500)]
    pub units: u32,
    /// P7: closed-form plans to time.
    #[arg(long, default_value_t = 1_000)]
    pub iterations: u32,
    /// P8: replications.
    #[arg(long, default_value_t = 1_000)]
    pub replications: u32,
    /// P8: threads (default: available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Append the machine-readable result (one JSON line) to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// `cubby bench planner`
pub fn bench(args: PlanBenchArgs) -> anyhow::Result<()> {
    let input = PlanInput {
        units: Some(args.units),
        ..PlanInput::default()
    };
    let mut result = json!({
        "bench": "planner",
        "units": args.units,
        "cores": std::thread::available_parallelism().map_or(1, usize::from),
    });
    let base = cubby_planner::plan_closed_form(&input)?;
    if matches!(args.which, PlannerBench::P7 | PlannerBench::All) {
        let n = args.iterations.max(1);
        let mut lat = Vec::with_capacity(n as usize);
        let mut total = 0u64;
        let wall = Instant::now();
        for _ in 0..n {
            let t = Instant::now();
            let p = cubby_planner::plan_closed_form(&input)?;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            total += u64::from(p.compartments_total);
        }
        let wall_s = wall.elapsed().as_secs_f64();
        lat.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
        let verdict = if p99 <= 10.0 { "PASS" } else { "FAIL" };
        println!(
            "P7 planner closed form ({} units → {} compartments): median {p50:.3} ms, p99 {p99:.3} ms per plan over {n} plans ({wall_s:.2} s) — target ≤ 10 ms: {verdict}",
            args.units,
            total / u64::from(n)
        );
        result["p7"] = json!({
            "iterations": n,
            "median_ms": p50,
            "p99_ms": p99,
            "max_ms": lat.last().copied().unwrap_or(0.0),
            "target_ms": 10.0,
            "pass": p99 <= 10.0,
        });
    }
    if matches!(args.which, PlannerBench::P8 | PlannerBench::All) {
        let model = Model::new(&input)?;
        let layout: Layout = base.layout;
        let th = threads(args.threads);
        let opts = SimOptions {
            replications: args.replications,
            seed: args.seed,
            threads: th,
            ..SimOptions::default()
        };
        let t = Instant::now();
        let r = simulate(&model, &layout, &opts);
        let wall = t.elapsed().as_secs_f64();
        let parcels = r.parcels.mean * f64::from(r.replications);
        let verdict = if wall <= 10.0 { "PASS" } else { "FAIL" };
        println!(
            "P8 planner simulation: {} replications × {} days, {} units, {} compartments, {th} threads: {wall:.2} s ({:.1} M parcels, {:.1} M parcels/s; peak-week blocking {:.3} %) — target ≤ 10 s: {verdict}",
            r.replications,
            r.days,
            args.units,
            layout.total(),
            parcels / 1e6,
            parcels / wall / 1e6,
            r.blocking_peak_week.mean * 100.0
        );
        result["p8"] = json!({
            "replications": r.replications,
            "days": r.days,
            "threads": th,
            "compartments": layout.total(),
            "wall_s": wall,
            "parcels": parcels,
            "parcels_per_s": parcels / wall,
            "target_s": 10.0,
            "pass": wall <= 10.0,
        });
    }
    let line = serde_json::to_string(&result)?;
    println!("{line}");
    if let Some(path) = &args.json {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}
