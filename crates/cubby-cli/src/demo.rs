//! `cubby demo`: one command that shows Cubby working. It starts the server on a
//! free port with an embedded SQLite database, seeds a realistic site through the
//! public API, then simulated couriers deposit and simulated residents collect
//! (with the codes from their notifications) on a compressed clock.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::serve::{ServeConfig, start};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Keep data here (default: a fresh temporary directory, removed at exit).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    pub duration: Option<u64>,
    /// Address to listen on (default: a free port on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

const LANGS: [&str; 4] = ["en", "pl", "de", "es"];
const FIRST: &[&str] = &[
    "Anna", "Jan", "Zofia", "Piotr", "Maria", "Tomasz", "Laura", "Lukas", "Sofia", "Mateo", "Emma",
    "Noah", "Julia", "Adam", "Olga", "Marek",
];
const LAST: &[&str] = &[
    "Kowalska",
    "Nowak",
    "Wiśniewski",
    "García",
    "Müller",
    "Schmidt",
    "López",
    "Wójcik",
    "Kamińska",
    "Fischer",
    "Martín",
    "Zieliński",
];

/// InPost-like doors: A 80 mm, B 190 mm, C 410 mm high, 380 × 640 mm.
fn bank(prefix: &str, a: usize, b: usize, c: usize, chilled: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut n = 0;
    let mut push = |h: u32, temp: &str, count: usize, out: &mut Vec<Value>| {
        for _ in 0..count {
            n += 1;
            let floor = 200 + ((n as u32 * 97) % 1500);
            out.push(json!({"label": format!("{prefix}{n:02}"), "width_mm": 380, "height_mm": h, "depth_mm": 640, "temperature": temp, "height_above_floor_mm": floor}));
        }
    };
    push(80, "ambient", a, &mut out);
    push(190, "ambient", b, &mut out);
    push(410, "ambient", c, &mut out);
    push(190, "chilled", chilled, &mut out);
    out
}

struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }
    async fn created(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let (status, v) = self.post(path, body).await?;
        anyhow::ensure!(status == 201, "POST {path} answered {status}: {v}");
        Ok(v)
    }
}

pub async fn run(args: DemoArgs) -> anyhow::Result<bool> {
    let tmp = tempfile::Builder::new().prefix("cubby-demo-").tempdir()?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let outbox = data_dir.join("outbox");
    let config = ServeConfig {
        listen: args.listen.clone(),
        data_dir: data_dir.clone(),
        outbox_dir: Some(outbox.clone()),
        ..ServeConfig::default()
    };
    let running = start(&config).await?;
    let token = match running.generated_admin_token.clone() {
        Some(t) => t,
        None => std::env::var("CUBBY_ADMIN_TOKEN").context(
            "this data directory was used before: set CUBBY_ADMIN_TOKEN to its admin token",
        )?,
    };
    let base = format!("http://{}", running.addr);
    let api = Api {
        client: reqwest::Client::new(),
        base: base.clone(),
        token: token.clone(),
    };

    let site = api
        .created(
            "/api/v1/sites",
            json!({"name": "Riverside Court", "timezone": "Europe/Warsaw"}),
        )
        .await?;
    let site_id = site["id"].as_str().context("site id")?.to_string();
    for b in ["North", "South"] {
        api.created(
            &format!("/api/v1/sites/{site_id}/buildings"),
            json!({"name": b}),
        )
        .await?;
    }
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut residents = Vec::new();
    for i in 0..240 {
        let building = if i < 120 { "N" } else { "S" };
        let unit = format!("{building}-{}{:02}", 1 + (i % 120) / 12, 1 + i % 12);
        let name = format!(
            "{} {}",
            FIRST[rng.random_range(0..FIRST.len())],
            LAST[rng.random_range(0..LAST.len())]
        );
        let mut body = json!({"name": name, "unit": unit, "email": format!("resident{i}@riverside.example"), "language": LANGS[i % 4]});
        if i % 15 == 0 {
            body["reach"] = json!({"min_mm": 380, "max_mm": 1220});
        }
        let r = api
            .created(&format!("/api/v1/sites/{site_id}/residents"), body)
            .await?;
        residents.push(r["id"].as_str().unwrap_or_default().to_string());
    }
    let mut lockers = Vec::new();
    for (name, prefix) in [("North lobby", "N"), ("South lobby", "S")] {
        let l = api
            .created(&format!("/api/v1/sites/{site_id}/lockers"), json!({"name": name, "compartments": bank(prefix, 24, 22, 8, 6), "carrier_quotas": {"dhl": 30}}))
            .await?;
        lockers.push(l["id"].as_str().unwrap_or_default().to_string());
    }
    api.created(
        &format!("/api/v1/sites/{site_id}/parcel-rooms"),
        json!({"name": "Parcel room (basement)", "zones": [{"label": "Shelf A", "capacity": 40}, {"label": "Shelf B", "capacity": 40}, {"label": "Cold shelf", "capacity": 10}]}),
    )
    .await?;

    println!("Cubby demo is running.");
    println!("  API:        {base}/api/v1   (docs: {base}/api/docs)");
    println!("  Admin token: {token}");
    println!(
        "  Site:       {site_id}  (Riverside Court: 2 buildings, 240 residents, 2 locker banks of 60, a parcel room)"
    );
    println!("  Lockers:    {}", lockers.join(", "));
    println!(
        "  Try:        curl -H 'Authorization: Bearer {token}' {base}/api/v1/lockers/{}",
        lockers[0]
    );
    println!("  Outbox:     {}", outbox.display());
    println!("Simulated couriers deposit and residents collect; Ctrl-C stops.");

    let deadline = args
        .duration
        .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
    let mut seen = std::collections::BTreeSet::new();
    let mut waiting: VecDeque<(tokio::time::Instant, String, String)> = VecDeque::new();
    let (mut deposits, mut pickups, mut full) = (0u64, 0u64, 0u64);
    let mut tick = tokio::time::interval(Duration::from_millis(400));
    let carriers = ["dhl", "inpost", "ups", "dpd"];
    let mut serial = 0u64;
    let mut last_report = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = crate::serve::shutdown_signal() => break,
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            break;
        }
        // A courier arrives with a small batch.
        if rng.random_bool(0.6) {
            let locker = &lockers[rng.random_range(0..lockers.len())];
            for _ in 0..rng.random_range(1..=3) {
                serial += 1;
                let (w, h, d) = match rng.random_range(0..10) {
                    0..=5 => (300, 60, 200),
                    6..=8 => (350, 150, 400),
                    _ => (370, 380, 600),
                };
                let chilled = rng.random_bool(0.05);
                let body = json!({
                    "tracking_number": format!("DEMO{serial:08}"),
                    "carrier": carriers[rng.random_range(0..carriers.len())],
                    "recipient": {"resident_id": residents[rng.random_range(0..residents.len())]},
                    "width_mm": w, "height_mm": if chilled { h.min(150) } else { h }, "depth_mm": d,
                    "temperature": if chilled { "chilled" } else { "ambient" },
                });
                match api
                    .post(&format!("/api/v1/lockers/{locker}/deposits"), body)
                    .await?
                {
                    (201, _) => deposits += 1,
                    (409, _) => full += 1,
                    (status, v) => tracing::warn!(status, %v, "demo deposit refused"),
                }
            }
        }
        // Residents read their notifications and come down a little later.
        if let Ok(entries) = std::fs::read_dir(&outbox) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if !name.ends_with(".json") || !seen.insert(name) {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(e.path()) else {
                    continue;
                };
                let Ok(msg) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                let p = &msg["payload"];
                let (Some(locker), Some(qr)) = (p["locker_id"].as_str(), p["qr_token"].as_str())
                else {
                    continue;
                };
                let credential = p["code"]
                    .as_str()
                    .filter(|_| rng.random_bool(0.5))
                    .unwrap_or(qr)
                    .to_string();
                let later = tokio::time::Instant::now()
                    + Duration::from_millis(rng.random_range(2_000..20_000));
                waiting.push_back((later, locker.to_string(), credential));
            }
        }
        let now = tokio::time::Instant::now();
        let mut still = VecDeque::new();
        while let Some((when, locker, code)) = waiting.pop_front() {
            if when > now {
                still.push_back((when, locker, code));
                continue;
            }
            if let (200, v) = api
                .post(
                    &format!("/api/v1/lockers/{locker}/pickups"),
                    json!({"code": code}),
                )
                .await?
            {
                pickups += v["parcels"].as_array().map(|a| a.len() as u64).unwrap_or(0);
            }
        }
        waiting = still;
        if deposits >= last_report + 25 {
            last_report = deposits;
            println!("deposited {deposits}, collected {pickups}, no compartment fitted {full}");
        }
    }
    println!(
        "demo stopped: deposited {deposits}, collected {pickups}, no compartment fitted {full}"
    );
    running.task.abort();
    Ok(true)
}
