//! `cubby demo`: one command that shows Cubby working. It starts the server on a
//! free port with an embedded SQLite database and the embedded MQTT broker, seeds
//! a realistic site through the public API, starts one real locker agent per
//! locker bank (simulated lock boards, talking to the server over MQTT), then
//! simulated couriers deposit and simulated residents collect at the locker's
//! kiosk (with the codes from their notifications) on a compressed clock.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use cubby_boards::{LockAddress, SimulatedBank};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::admin_api::AdminApi;

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
    /// Address of the embedded MQTT broker the demo's agents use (default: a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub mqtt_listen: String,
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

/// Simulated boards behind each demo bank: 4 Kerong boards of 16 locks hold
/// the 60 compartments, wired in label order.
const DEMO_BOARDS: [u8; 4] = [0, 1, 2, 3];
const DEMO_LOCKS_PER_BOARD: u8 = 16;

/// One locker bank with its agent.
struct DemoLocker {
    id: String,
    kiosk: String,
    sim: SimulatedBank,
}

/// Registers a device for the locker and starts a real agent for it, in this
/// process, connected to the server's broker over a socket like any other.
async fn start_agent(
    api: &AdminApi,
    locker: &str,
    data_dir: &std::path::Path,
    mqtt_addr: &str,
) -> anyhow::Result<DemoLocker> {
    let agent = crate::admin_api::start_simulated_agent(
        api,
        locker,
        data_dir,
        mqtt_addr,
        DEMO_BOARDS.to_vec(),
        DEMO_LOCKS_PER_BOARD,
        Duration::from_millis(100),
    )
    .await?;
    Ok(DemoLocker {
        id: locker.to_string(),
        kiosk: agent.kiosk,
        sim: agent.sim,
    })
}

/// The people at the bank: a courier puts the parcel into a door that opened
/// empty and shuts it; a resident takes the parcel out of a door that opened
/// full and shuts it. Returns (deposits placed, parcels taken).
fn people_at(sim: &SimulatedBank) -> (u64, u64) {
    let (mut placed, mut taken) = (0, 0);
    for board in DEMO_BOARDS {
        for lock in 1..=DEMO_LOCKS_PER_BOARD {
            let addr = LockAddress::new(board, lock);
            let Some(state) = sim.lock_state(addr) else {
                continue;
            };
            if !state.door_open {
                continue;
            }
            if state.item_present {
                sim.take_item(addr);
                taken += 1;
            } else {
                sim.put_item(addr);
                placed += 1;
            }
            sim.close_door(addr);
        }
    }
    (placed, taken)
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
        mqtt_listen: args.mqtt_listen.clone(),
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
    let api = AdminApi::of_running(&running, reqwest::Client::new(), token.clone()).await?;

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

    let mut banks = Vec::new();
    for locker in &lockers {
        banks.push(start_agent(&api, locker, &data_dir, &running.mqtt_addr).await?);
    }

    println!("Cubby demo is running.");
    println!("  Console:    {base}/console   (sign in with the admin token below)");
    println!("  API:        {base}/api/v1   (docs: {base}/api/docs)");
    println!("  Admin token: {token}");
    if let Some(path) = &running.admin_passkey_invite {
        println!(
            "  Passkey:    {}   (enrol the admin's passkey: remote opens ask for it)",
            crate::serve::console_link(running.addr, path)
        );
    }
    println!(
        "  Site:       {site_id}  (Riverside Court: 2 buildings, 240 residents, 2 locker banks of 60, a parcel room)"
    );
    println!("  Lockers:    {}", lockers.join(", "));
    for bank in &banks {
        println!(
            "  Agent:      locker {} kiosk {} (simulated Kerong boards over MQTT {})",
            bank.id, bank.kiosk, running.mqtt_addr
        );
    }
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
    // (when, resident, locker, credential)
    let mut waiting: VecDeque<(tokio::time::Instant, String, String, String)> = VecDeque::new();
    // Residents who collected at a locker: one credential opens all of a
    // resident's doors there, so their later notices' codes find nothing left.
    let mut collected = std::collections::HashSet::new();
    let mut used_codes = std::collections::HashSet::new();
    let (mut deposits, mut pickups, mut full) = (0u64, 0u64, 0u64);
    let (mut placed, mut taken) = (0u64, 0u64);
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
                let (Some(resident), Some(locker), Some(qr)) = (
                    p["resident_id"].as_str(),
                    p["locker_id"].as_str(),
                    p["qr_token"].as_str(),
                ) else {
                    continue;
                };
                let credential = p["code"]
                    .as_str()
                    .filter(|_| rng.random_bool(0.5))
                    .unwrap_or(qr)
                    .to_string();
                let later = tokio::time::Instant::now()
                    + Duration::from_millis(rng.random_range(2_000..20_000));
                waiting.push_back((later, resident.to_string(), locker.to_string(), credential));
            }
        }
        let now = tokio::time::Instant::now();
        let mut still = VecDeque::new();
        while let Some((when, resident, locker, code)) = waiting.pop_front() {
            if when > now {
                still.push_back((when, resident, locker, code));
                continue;
            }
            let Some(bank) = banks.iter().find(|b| b.id == locker) else {
                continue;
            };
            // A second notice may carry a code already used for both parcels:
            // presenting it again would only reopen the grace of that pick-up.
            if used_codes.contains(&code) {
                continue;
            }
            // Residents collect at the locker: the agent decides from its
            // signed cache, without asking the server.
            let answer = api
                .client
                .post(format!("{}/kiosk/api/pickup", bank.kiosk))
                .json(&json!({"code": code}))
                .send()
                .await;
            match answer {
                Ok(res) if res.status().as_u16() == 200 => {
                    let v: Value = res.json().await.unwrap_or(Value::Null);
                    pickups += v["opened"].as_array().map(|a| a.len() as u64).unwrap_or(0);
                    collected.insert((resident, locker));
                    used_codes.insert(code);
                }
                Ok(res) if res.status().as_u16() == 403 => {
                    if !collected.contains(&(resident, locker.clone())) {
                        tracing::warn!(%locker, "the kiosk refused a resident's code");
                    }
                }
                // Keypad locked or the agent busy: come back later.
                Ok(_) | Err(_) => still.push_back((
                    now + Duration::from_secs(3),
                    resident,
                    locker.clone(),
                    code.clone(),
                )),
            }
        }
        waiting = still;
        for bank in &banks {
            let (p, t) = people_at(&bank.sim);
            placed += p;
            taken += t;
        }
        if deposits >= last_report + 25 {
            last_report = deposits;
            println!(
                "deposited {deposits} (placed behind {placed} doors), collected {pickups} at kiosks (taken from {taken} doors), no compartment fitted {full}"
            );
        }
    }
    // People already at a door finish before the demo stops: a door the
    // kiosk just opened may swing open on the board a moment later.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        for bank in &banks {
            let (p, t) = people_at(&bank.sim);
            placed += p;
            taken += t;
        }
    }
    println!(
        "demo stopped: deposited {deposits} (placed behind {placed} doors), collected {pickups} at kiosks (taken from {taken} doors), no compartment fitted {full}"
    );
    running.task.abort();
    Ok(true)
}
