//! `cubby bench capacity`: the carriers' capacity query and reservations on a
//! site of 1,000 compartments (10 banks of 100), part of them occupied.
//! Baselines in the same run: a plain read of the same site (the capacity
//! query's floor: one authenticated API read) and pre-advice, the carriers'
//! one-row write (the reservation's floor).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{
    create_locker, create_residents, create_site, deposit_body, finish, ms, start_server, stats,
    temp_dir,
};
use crate::admin_api::AdminApi;

const DAY_MS: i64 = 86_400_000;

#[derive(Args, Debug)]
pub struct CapacityArgs {
    /// Compartment banks of 100 on the site.
    #[arg(long, default_value_t = 10)]
    pub banks: usize,
    /// Parcels deposited before measuring (occupied compartments).
    #[arg(long, default_value_t = 300)]
    pub occupied: usize,
    /// Capacity queries measured (14-day period each).
    #[arg(long, default_value_t = 300)]
    pub queries: usize,
    /// Reservations made (two parcels each).
    #[arg(long, default_value_t = 200)]
    pub reservations: usize,
    /// Requests in flight at once while reserving.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Write the machine-readable result here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where the database goes (a fresh temporary directory by default).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Runs `n` POSTs, `concurrency` at a time; answers the elapsed seconds and
/// each request's latency.
async fn posts(
    api: &AdminApi,
    concurrency: usize,
    requests: Vec<(String, Value)>,
) -> anyhow::Result<(f64, Vec<f64>)> {
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut set = JoinSet::new();
    let start = Instant::now();
    for (path, body) in requests {
        let (api, gate) = (api.clone(), gate.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let t0 = Instant::now();
            let v = api.created(&path, body).await?;
            Ok::<_, anyhow::Error>((ms(t0.elapsed()), v))
        });
    }
    let mut lat = Vec::new();
    while let Some(done) = set.join_next().await {
        lat.push(done??.0);
    }
    Ok((start.elapsed().as_secs_f64(), lat))
}

pub async fn capacity(args: CapacityArgs) -> anyhow::Result<bool> {
    anyhow::ensure!((1..=20).contains(&args.banks), "--banks must be 1 to 20");
    let compartments = args.banks * 100;
    anyhow::ensure!(
        args.occupied <= compartments / 2,
        "--occupied must be at most half the {compartments} compartments"
    );
    anyhow::ensure!(
        (1..=5_000).contains(&args.queries) && (1..=2_000).contains(&args.reservations),
        "--queries must be 1 to 5,000 and --reservations 1 to 2,000"
    );
    anyhow::ensure!(
        args.reservations * 2 <= (compartments - args.occupied) * 9 / 10,
        "--reservations × 2 must fit in 90 % of the free compartments"
    );
    anyhow::ensure!(
        (1..=64).contains(&args.concurrency),
        "--concurrency must be 1 to 64"
    );
    let tmp = temp_dir(args.dir.as_ref())?;
    let (running, api) = start_server(tmp.path(), None, None).await?;
    let site_id = create_site(&api).await?;
    let mut lockers = Vec::new();
    for b in 0..args.banks {
        lockers.push(create_locker(&api, &site_id, &format!("Bank {b}"), 100).await?);
    }
    api.put(
        &format!("/api/v1/sites/{site_id}/carriers/bench"),
        json!({}),
    )
    .await?;
    let mut policy = serde_json::to_value(cubby_domain::policy::SitePolicy::default())?;
    policy["reservations"]["max_held_percent"] = json!(90);
    policy["reservations"]["max_held_per_carrier"] = json!(10_000);
    api.put(&format!("/api/v1/sites/{site_id}/policy"), policy)
        .await?;
    let residents = create_residents(&api, &site_id, args.occupied).await?;
    let deposits: Vec<(String, Value)> = residents
        .iter()
        .enumerate()
        .map(|(i, r)| {
            (
                format!("/api/v1/lockers/{}/deposits", lockers[i % lockers.len()]),
                deposit_body(i, r),
            )
        })
        .collect();
    posts(&api, 8, deposits).await?;

    // --- the capacity query, beside a plain read of the site ---
    let now = cubby_server::now_ms();
    let query = format!(
        "/api/v1/sites/{site_id}/capacity?from_ms={now}&to_ms={}",
        now + 14 * DAY_MS
    );
    let answer = api.get(&query).await?;
    let classes = answer["lockers"]
        .as_array()
        .context("lockers in the capacity answer")?
        .len();
    anyhow::ensure!(classes == args.banks, "the answer lists {classes} lockers");
    let (mut cap_lat, mut base_lat) = (Vec::new(), Vec::new());
    for _ in 0..args.queries {
        let t0 = Instant::now();
        api.get(&query).await?;
        cap_lat.push(ms(t0.elapsed()));
        let t0 = Instant::now();
        api.get(&format!("/api/v1/sites/{site_id}")).await?;
        base_lat.push(ms(t0.elapsed()));
    }
    let (cap, base) = (stats(&cap_lat), stats(&base_lat));

    // --- reservations, beside pre-advice of the same number of parcels ---
    let from = now + DAY_MS;
    let reservations: Vec<(String, Value)> = (0..args.reservations)
        .map(|_| {
            (
                format!("/api/v1/sites/{site_id}/reservations"),
                json!({"carrier": "bench", "window": {"from_ms": from, "to_ms": from + 3 * 3_600_000},
                       "parcels": [{"width_mm": 300, "height_mm": 100, "depth_mm": 200},
                                   {"width_mm": 300, "height_mm": 100, "depth_mm": 200}]}),
            )
        })
        .collect();
    let (res_s, res_lat) = posts(&api, args.concurrency, reservations).await?;
    let held = api.get(&query).await?["lockers"]
        .as_array()
        .context("lockers")?
        .iter()
        .flat_map(|l| l["classes"].as_array().cloned().unwrap_or_default())
        .map(|c| c["reserved"].as_u64().unwrap_or(0))
        .sum::<u64>();
    anyhow::ensure!(
        held == 2 * args.reservations as u64,
        "{held} compartments held, {} asked for",
        2 * args.reservations
    );
    let announcements: Vec<(String, Value)> = (0..args.reservations)
        .map(|i| {
            (
                format!("/api/v1/sites/{site_id}/announcements"),
                json!({"tracking_number": format!("ADVICE{i:08}"), "carrier": "bench",
                       "width_mm": 300, "height_mm": 100, "depth_mm": 200}),
            )
        })
        .collect();
    let (adv_s, adv_lat) = posts(&api, args.concurrency, announcements).await?;
    let (res_rate, adv_rate) = (
        args.reservations as f64 / res_s,
        args.reservations as f64 / adv_s,
    );
    let (res_stats, adv_stats) = (stats(&res_lat), stats(&adv_lat));
    println!(
        "site: {compartments} compartments in {} banks, {} occupied",
        args.banks, args.occupied
    );
    println!("capacity query (14 days, every bank, size and zone): {cap}");
    println!("baseline (same run): GET the site: {base}");
    println!(
        "reservations (2 parcels each, {} in flight): {res_rate:.0} /s ({} held, never more than asked); {res_stats}",
        args.concurrency, held
    );
    println!(
        "baseline (same run): pre-advice of one parcel, {} in flight: {adv_rate:.0} /s; {adv_stats}",
        args.concurrency
    );
    running.task.abort();
    let result = json!({
        "benchmark": "capacity",
        "compartments": compartments,
        "occupied": args.occupied,
        "capacity_query": cap,
        "baseline_site_read": base,
        "reservations_per_s": res_rate,
        "reservation": res_stats,
        "baseline_announcements_per_s": adv_rate,
        "baseline_announcement": adv_stats,
        "held": held,
    });
    finish(args.json.as_ref(), &result)?;
    Ok(true)
}
