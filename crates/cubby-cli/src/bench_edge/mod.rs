//! Edge benchmarks, each printing its figures beside a baseline measured in the
//! same run, on loopback only, bounded in count and time:
//!
//! * `cubby bench edge-decision` (P4): a code entered at the kiosk → the unlock
//!   frame on the lock bus, with the server and its broker stopped (the agent
//!   decides from its signed cache); and the server-consulted path, a deposit
//!   API call → signed unlock over MQTT → agent → latch released. Baseline: a
//!   bare HTTP round trip to the same kiosk.
//! * `cubby bench courier-batch` (P6): a courier's batch of deposits at one
//!   locker through the real path (API → signed command → MQTT → agent →
//!   simulated door opens → parcel in, door shut → journal → server records
//!   `deposit_confirmed`). Baseline: the same deposits at a locker without an
//!   agent (API only).
//! * `cubby bench capacity`: the carriers' capacity query (p99) and
//!   reservation throughput on a site of 1,000 compartments. Baselines: a
//!   plain read of the site, and pre-advice (a one-row write).
//! * `cubby bench fleet` (P5): many simulated agents connected at once through a
//!   real broker, publishing QoS 1 journal batches into durable ingest and
//!   waiting for the server's acknowledgement (sent after the commit).
//!   Baseline: the same publishers against Mosquitto alone with one plain
//!   subscriber.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use cubby_boards::{LockAddress, SimulatedBank};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::admin_api::AdminApi;
use crate::serve::{Running, ServeConfig, start};

/// Kerong boards carry 16 locks and are numbered 0–9 on one bus.
const LOCKS_PER_BOARD: usize = 16;
const MAX_BOARDS: usize = 10;

mod capacity;
mod courier_batch;
mod edge_decision;
mod fleet;

pub use capacity::{CapacityArgs, capacity};
pub use courier_batch::{CourierBatchArgs, courier_batch};
pub use edge_decision::{EdgeDecisionArgs, edge_decision};
pub use fleet::{FleetArgs, fleet};

// ---------------------------------------------------------------- helpers

/// Latency summary in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Stats {
    n: usize,
    mean_ms: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn stats(samples: &[f64]) -> Stats {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let pick = |p: f64| -> f64 {
        if s.is_empty() {
            return 0.0;
        }
        let idx = ((s.len() as f64 - 1.0) * p).round() as usize;
        s[idx.min(s.len() - 1)]
    };
    Stats {
        n: s.len(),
        mean_ms: if s.is_empty() {
            0.0
        } else {
            s.iter().sum::<f64>() / s.len() as f64
        },
        p50_ms: pick(0.5),
        p95_ms: pick(0.95),
        p99_ms: pick(0.99),
        max_ms: s.last().copied().unwrap_or(0.0),
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms (mean {:.2}, max {:.2}, n {})",
            self.p50_ms, self.p95_ms, self.p99_ms, self.mean_ms, self.max_ms, self.n
        )
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// fsync latency of the disk under `dir` (4 KiB appends, `fdatasync`).
fn fsync_latency(dir: &Path) -> anyhow::Result<Stats> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    let block = [0u8; 4096];
    let mut lat = Vec::with_capacity(100);
    for _ in 0..100 {
        f.write_all(&block)?;
        let t = Instant::now();
        f.sync_data()?;
        lat.push(ms(t.elapsed()));
    }
    std::fs::remove_file(&path)?;
    Ok(stats(&lat))
}

fn temp_dir(dir: Option<&PathBuf>) -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new()
        .prefix("cubby-bench-edge-")
        .tempdir_in(dir.cloned().unwrap_or_else(std::env::temp_dir))?)
}

fn finish(json_path: Option<&PathBuf>, result: &Value) -> anyhow::Result<()> {
    if let Some(path) = json_path {
        std::fs::write(path, serde_json::to_string_pretty(result)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{result}");
    Ok(())
}

/// Waits (polling every 50 ms) until `check` yields a value, at most `secs` seconds.
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Polls `probe` about every millisecond (the timer's resolution) until it
/// holds; returns when it was first seen to hold.
async fn observe(timeout: Duration, mut probe: impl FnMut() -> bool) -> Option<Instant> {
    let deadline = Instant::now() + timeout;
    loop {
        if probe() {
            return Some(Instant::now());
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Starts the server in this process on free ports with a fresh data directory.
async fn start_server(
    dir: &Path,
    outbox: Option<PathBuf>,
    mqtt_url: Option<String>,
) -> anyhow::Result<(Running, AdminApi)> {
    let config = ServeConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.join("server"),
        outbox_dir: outbox,
        mqtt_listen: "127.0.0.1:0".into(),
        mqtt_url,
        ..ServeConfig::default()
    };
    let running = start(&config).await?;
    let token = match running.generated_admin_token.clone() {
        Some(t) => t,
        None => std::env::var("CUBBY_ADMIN_TOKEN")
            .context("no admin token was generated: set CUBBY_ADMIN_TOKEN")?,
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let api = AdminApi::of_running(&running, client, token).await?;
    Ok((running, api))
}

async fn create_site(api: &AdminApi) -> anyhow::Result<String> {
    let site = api
        .created(
            "/api/v1/sites",
            json!({"name": "Bench Court", "timezone": "Europe/Warsaw"}),
        )
        .await?;
    Ok(site["id"].as_str().context("site id")?.to_string())
}

/// `n` residents, created 8 at a time; returned in order.
async fn create_residents(api: &AdminApi, site_id: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let mut out = vec![String::new(); n];
    let mut set = JoinSet::new();
    let gate = Arc::new(Semaphore::new(8));
    for i in 0..n {
        let (api, site_id, gate) = (api.clone(), site_id.to_string(), gate.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let r = api
                .created(
                    &format!("/api/v1/sites/{site_id}/residents"),
                    json!({"name": format!("Resident {i}"), "unit": format!("U-{i}"), "email": format!("r{i}@bench.example")}),
                )
                .await?;
            Ok::<_, anyhow::Error>((i, r["id"].as_str().context("resident id")?.to_string()))
        });
    }
    while let Some(done) = set.join_next().await {
        let (i, id) = done??;
        out[i] = id;
    }
    Ok(out)
}

/// Compartment labels in wiring (label) order.
fn labels(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("D{i:03}")).collect()
}

/// A locker of `n` identical compartments; returns its id.
async fn create_locker(
    api: &AdminApi,
    site_id: &str,
    name: &str,
    n: usize,
) -> anyhow::Result<String> {
    let compartments: Vec<Value> = labels(n)
        .into_iter()
        .map(|label| json!({"label": label, "width_mm": 380, "height_mm": 190, "depth_mm": 640}))
        .collect();
    let l = api
        .created(
            &format!("/api/v1/sites/{site_id}/lockers"),
            json!({"name": name, "compartments": compartments}),
        )
        .await?;
    Ok(l["id"].as_str().context("locker id")?.to_string())
}

/// The lock a compartment is wired to: label order over boards 0.., 16 locks each.
fn address(label: &str, n: usize) -> anyhow::Result<LockAddress> {
    let index = labels(n)
        .iter()
        .position(|l| l == label)
        .with_context(|| format!("unknown compartment {label}"))?;
    Ok(LockAddress::new(
        (index / LOCKS_PER_BOARD) as u8,
        (index % LOCKS_PER_BOARD) as u8 + 1,
    ))
}

fn deposit_body(i: usize, resident: &str) -> Value {
    json!({
        "tracking_number": format!("EDGE{i:08}"),
        "carrier": "bench",
        "recipient": {"resident_id": resident},
        "width_mm": 300, "height_mm": 100, "depth_mm": 200,
        "temperature": "ambient",
    })
}

/// A real agent in this process with simulated Kerong boards, connected to the
/// server's broker over a socket like any other.
struct BenchAgent {
    locker_id: String,
    device_id: String,
    compartments: usize,
    kiosk: String,
    /// Where the kiosk's JSON endpoints live.
    kiosk_api: String,
    sim: SimulatedBank,
    _task: tokio::task::JoinHandle<()>,
}

async fn start_bench_agent(
    api: &AdminApi,
    locker_id: &str,
    compartments: usize,
    dir: &Path,
    mqtt_addr: &str,
    poll: Duration,
) -> anyhow::Result<BenchAgent> {
    // One lock output beyond the compartments, for a door.
    let boards = (compartments + 1).div_ceil(LOCKS_PER_BOARD);
    anyhow::ensure!(
        boards <= MAX_BOARDS,
        "{compartments} compartments need more than {MAX_BOARDS} boards"
    );
    let agent = crate::admin_api::start_simulated_agent(
        api,
        locker_id,
        dir,
        mqtt_addr,
        (0..boards as u8).collect(),
        LOCKS_PER_BOARD as u8,
        poll,
    )
    .await?;
    let sim = agent.sim;
    let kiosk = agent.kiosk;
    let device_id = agent.device_id;
    let kiosk_api = format!("{kiosk}/kiosk/api");
    Ok(BenchAgent {
        locker_id: locker_id.to_string(),
        device_id,
        compartments,
        kiosk,
        kiosk_api,
        sim,
        _task: agent.task,
    })
}

async fn kiosk_state(client: &reqwest::Client, agent: &BenchAgent) -> anyhow::Result<Value> {
    let res = client
        .get(format!("{}/state", agent.kiosk_api))
        .send()
        .await?;
    let status = res.status();
    let body = res.text().await?;
    anyhow::ensure!(
        status.is_success(),
        "kiosk GET state answered {status}: {body}"
    );
    Ok(serde_json::from_str(&body)?)
}

/// The server sees the agent online and the agent holds a credential cache.
async fn wait_ready(api: &AdminApi, agent: &BenchAgent) -> anyhow::Result<()> {
    eventually(30, "the agent to come online", || async {
        let devices = api
            .get(&format!("/api/v1/lockers/{}/devices", agent.locker_id))
            .await?;
        Ok((devices[0]["online"] == true).then_some(()))
    })
    .await?;
    eventually(30, "the agent's credential cache", || async {
        let s = kiosk_state(&api.client, agent).await?;
        Ok(s["cache_version"].as_u64().map(|_| ()))
    })
    .await
}

/// The agent has uploaded its whole journal and installed the newest cache
/// the server signed for it, twice in a row 0.7 s apart (the dispatcher runs
/// at least every 0.3 s).
async fn wait_synced(api: &AdminApi, agent: &BenchAgent) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut stable = 0;
    while stable < 2 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "timed out waiting for the agent's journal and cache to catch up"
        );
        let s = kiosk_state(&api.client, agent).await?;
        let devices = api
            .get(&format!("/api/v1/lockers/{}/devices", agent.locker_id))
            .await?;
        let synced = s["journal_acked"] == s["journal_head"]
            && s["cache_version"].as_i64().is_some()
            && s["cache_version"].as_i64() == devices[0]["cache_version"].as_i64();
        stable = if synced { stable + 1 } else { 0 };
        if stable < 2 {
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
    }
    Ok(())
}

/// Waits until the agent's own view (its last board poll) shows `label` open,
/// as a courier at a real locker would be slower than the poll.
async fn agent_sees_open(
    client: &reqwest::Client,
    agent: &BenchAgent,
    label: &str,
) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = kiosk_state(client, agent).await?;
        let open = s["compartments"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["compartment"] == label && c["locked"] == false)
        });
        if open {
            return Ok(Instant::now());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the agent did not see {label} open within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Pick-up codes in the file outbox, by resident.
fn outbox_codes(dir: &Path) -> HashMap<String, String> {
    let mut codes = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return codes;
    };
    for e in entries.flatten() {
        if !e.file_name().to_string_lossy().ends_with(".json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(e.path()) else {
            continue;
        };
        let Ok(msg) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let p = &msg["payload"];
        if let (Some(resident), Some(code)) = (p["resident_id"].as_str(), p["code"].as_str())
            && !code.is_empty()
        {
            codes.insert(resident.to_string(), code.to_string());
        }
    }
    codes
}
