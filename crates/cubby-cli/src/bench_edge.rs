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
//! * `cubby bench fleet` (P5): many simulated agents connected at once through a
//!   real broker, publishing QoS 1 journal batches into durable ingest and
//!   waiting for the server's acknowledgement (sent after the commit).
//!   Baseline: the same publishers against Mosquitto alone with one plain
//!   subscriber.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use cubby_boards::{LockAddress, SimulatedBank};
use cubby_protocol::journal::{EdgeEvent, GENESIS, JournalEntry};
use cubby_protocol::messages::{DeviceIdentity, Envelope, JournalAck, JournalBatch};
use cubby_protocol::topics::{self, Channel};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use serde::Serialize;
use serde_json::{Value, json};

use crate::admin_api::AdminApi;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::serve::{Running, ServeConfig, start};

/// Kerong boards carry 16 locks and are numbered 0–9 on one bus.
const LOCKS_PER_BOARD: usize = 16;
const MAX_BOARDS: usize = 10;

#[derive(Args, Debug)]
pub struct EdgeDecisionArgs {
    /// Pick-ups to time (each one a parcel deposited for its own resident first;
    /// spread over lockers of at most 150 compartments, one agent each).
    #[arg(long, default_value_t = 200)]
    pub pickups: usize,
    /// How often each agent polls its lock boards (the `cubby agent` default).
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
    /// Write the machine-readable result here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where the databases and agent journals go (a fresh temporary directory by default).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CourierBatchArgs {
    /// Deposits in the courier's batch (one locker, one compartment each).
    #[arg(long, default_value_t = 60)]
    pub deposits: usize,
    /// How often the agent polls its lock boards (the `cubby agent` default).
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
    /// Write the machine-readable result here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where the databases and agent journal go (a fresh temporary directory by default).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct FleetArgs {
    /// Simulated agents (each a registered device with its own MQTT connection).
    #[arg(long, default_value_t = 1000)]
    pub agents: usize,
    /// Seconds of publishing per measured run.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Journal entries per QoS 1 message.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// MQTT keep-alive of each simulated agent, in seconds (the agent's own is 5).
    #[arg(long, default_value_t = 5)]
    pub keep_alive: u64,
    /// Connections opened at the same time while the fleet connects.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// Mosquitto for the baseline and the second cubby run (skipped when unreachable).
    #[arg(long, default_value = "127.0.0.1:1883")]
    pub mosquitto: String,
    /// Skip both Mosquitto runs.
    #[arg(long)]
    pub no_mosquitto: bool,
    /// Write the machine-readable result here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where the databases go (a fresh temporary directory by default).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

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
    let api = AdminApi {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?,
        base: format!("http://{}", running.addr),
        token,
    };
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

// ---------------------------------------------------------------- P4

pub async fn edge_decision(args: EdgeDecisionArgs) -> anyhow::Result<bool> {
    anyhow::ensure!(
        (1..=1000).contains(&args.pickups),
        "--pickups must be 1 to 1,000"
    );
    anyhow::ensure!(
        (10..=1000).contains(&args.poll_ms),
        "--poll-ms must be 10 to 1,000"
    );
    let n = args.pickups;
    let tmp = temp_dir(args.dir.as_ref())?;
    let fsync = fsync_latency(tmp.path())?;
    println!("disk: fsync {fsync} ({})", tmp.path().display());
    let outbox = tmp.path().join("outbox");
    let (mut running, api) = start_server(tmp.path(), Some(outbox.clone()), None).await?;
    let site_id = create_site(&api).await?;
    let residents = create_residents(&api, &site_id, n).await?;
    let lockers = n.div_ceil(150);
    let per_locker = n.div_ceil(lockers);
    let poll = Duration::from_millis(args.poll_ms);
    let mut agents = Vec::new();
    for l in 0..lockers {
        let locker_id = create_locker(&api, &site_id, &format!("Bank {l}"), per_locker).await?;
        agents.push(
            start_bench_agent(
                &api,
                &locker_id,
                per_locker,
                tmp.path(),
                &running.mqtt_addr,
                poll,
            )
            .await?,
        );
    }
    for agent in &agents {
        wait_ready(&api, agent).await?;
    }
    println!(
        "{lockers} locker(s) of {per_locker} compartments, one agent each (simulated Kerong boards, poll {} ms), embedded broker {}",
        args.poll_ms, running.mqtt_addr
    );

    // --- server consulted: deposit API call → signed unlock over MQTT → agent → latch released ---
    let mut server_path = Vec::with_capacity(n);
    let mut api_answer = Vec::with_capacity(n);
    // (agent index, label, address, resident)
    let mut placed = Vec::with_capacity(n);
    for (i, resident) in residents.iter().enumerate() {
        let a = i % lockers;
        let agent = &agents[a];
        let before = agent.sim.total_releases();
        let t0 = Instant::now();
        let (status, v) = api
            .post(
                &format!("/api/v1/lockers/{}/deposits", agent.locker_id),
                deposit_body(i, resident),
            )
            .await?;
        let answered = t0.elapsed();
        anyhow::ensure!(status == 201, "deposit {i} answered {status}: {v}");
        anyhow::ensure!(
            v["unlock_command_id"].is_string(),
            "deposit {i} sent no unlock: {v}"
        );
        let label = v["compartment"]["label"]
            .as_str()
            .context("compartment label")?
            .to_string();
        let addr = address(&label, agent.compartments)?;
        let released = observe(Duration::from_secs(10), || {
            agent.sim.total_releases() > before
        })
        .await
        .with_context(|| format!("deposit {i}: the door did not open within 10 s"))?;
        anyhow::ensure!(
            agent.sim.releases(addr) == 1,
            "deposit {i}: a door other than {label} opened"
        );
        server_path.push(ms(released - t0));
        api_answer.push(ms(answered));
        // The courier puts the parcel in and shuts the door.
        agent.sim.put_item(addr);
        agent.sim.close_door(addr);
        placed.push((a, label, addr, resident.clone()));
    }
    let server_stats = stats(&server_path);
    let api_stats = stats(&api_answer);

    // Every credential must be in the agents' caches before the server goes.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for agent in &agents {
        wait_synced(&api, agent).await?;
    }
    let codes = eventually(30, "every pick-up code in the outbox", || async {
        let codes = outbox_codes(&outbox);
        Ok(residents
            .iter()
            .all(|r| codes.contains_key(r))
            .then_some(codes))
    })
    .await?;

    // A lobby door on the first agent's spare lock output, and one PIN per
    // pick-up for it, in the agents' caches before the server goes.
    let door_output = agents[0].compartments;
    let door_addr = LockAddress::new(
        (door_output / LOCKS_PER_BOARD) as u8,
        (door_output % LOCKS_PER_BOARD) as u8 + 1,
    );
    let door = api
        .created(
            &format!("/api/v1/sites/{site_id}/doors"),
            json!({"name": "Lobby", "kind": "lobby", "device_id": agents[0].device_id, "lock_output": door_output}),
        )
        .await?;
    let door_id = door["id"].as_str().context("door id")?.to_string();
    let mut pins = Vec::with_capacity(n);
    let not_after = cubby_server::now_ms() + 3_600_000;
    for i in 0..n {
        let g = api
            .created(
                &format!("/api/v1/sites/{site_id}/access-grants"),
                json!({"label": format!("Visitor {i}"), "doors": [door_id], "not_after_ms": not_after}),
            )
            .await?;
        pins.push(g["pin"].as_str().context("pin")?.to_string());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    wait_synced(&api, &agents[0]).await?;

    // --- baseline: bare loopback HTTP round trips to the same kiosk ---
    let client = reqwest::Client::new();
    let mut bare = Vec::with_capacity(n);
    let mut via_engine = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let res = client.get(format!("{}/", agents[0].kiosk)).send().await?;
        anyhow::ensure!(res.status() == 200, "kiosk page answered {}", res.status());
        res.bytes().await?;
        bare.push(ms(t.elapsed()));
        let t = Instant::now();
        kiosk_state(&client, &agents[0]).await?;
        via_engine.push(ms(t.elapsed()));
    }
    let bare_stats = stats(&bare);
    let engine_stats = stats(&via_engine);

    // --- offline: the server and its broker stop ---
    running.task.abort();
    if let Some(broker) = running.broker.take() {
        broker.shutdown().await;
    }
    let broker_down = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect(&running.mqtt_addr),
    )
    .await
    .map(|r| r.is_err())
    .unwrap_or(true);
    let api_down = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect(running.addr),
    )
    .await
    .map(|r| r.is_err())
    .unwrap_or(true);
    anyhow::ensure!(
        broker_down && api_down,
        "the server or its broker still answers"
    );
    // Let the agents notice the lost link.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let mut rtt = Vec::with_capacity(n);
    let mut to_release = Vec::with_capacity(n);
    let (mut visible_at_answer, mut failures) = (0usize, 0usize);
    for (a, label, addr, resident) in &placed {
        let agent = &agents[*a];
        let code = codes.get(resident).context("code of a resident")?;
        let before = agent.sim.releases(*addr);
        let t0 = Instant::now();
        let res = client
            .post(format!("{}/pickup", agent.kiosk_api))
            .json(&json!({"code": code}))
            .send()
            .await?;
        let status = res.status().as_u16();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        let answered = Instant::now();
        if status != 200 || v["opened"] != json!([label]) {
            failures += 1;
            tracing::warn!(status, %v, "pick-up at the kiosk did not open {label}");
            continue;
        }
        let released = if agent.sim.releases(*addr) > before {
            visible_at_answer += 1;
            answered
        } else {
            observe(Duration::from_secs(5), || {
                agent.sim.releases(*addr) > before
            })
            .await
            .with_context(|| format!("the latch of {label} never released"))?
        };
        rtt.push(ms(answered - t0));
        to_release.push(ms(released.max(answered) - t0));
        agent.sim.take_item(*addr);
        agent.sim.close_door(*addr);
    }
    let offline_stats = stats(&rtt);
    let offline_release = stats(&to_release);

    // --- offline door decisions: PIN → grant rule in the site's zone → journal fsync → unlock frame ---
    let mut door_rtt = Vec::with_capacity(n);
    let mut door_failures = 0usize;
    for pin in &pins {
        let before = agents[0].sim.releases(door_addr);
        let t0 = Instant::now();
        let res = client
            .post(format!("{}/door", agents[0].kiosk_api))
            .json(&json!({"door_id": door_id, "pin": pin}))
            .send()
            .await?;
        let status = res.status().as_u16();
        let answered = t0.elapsed();
        if status != 200 {
            door_failures += 1;
            continue;
        }
        observe(Duration::from_secs(5), || {
            agents[0].sim.releases(door_addr) > before
        })
        .await
        .context("the door's latch never released")?;
        door_rtt.push(ms(answered));
        agents[0].sim.close_door(door_addr);
    }
    let door_stats = stats(&door_rtt);
    let failures = failures + door_failures;
    let offline_ok = failures == 0 && offline_stats.p99_ms <= 20.0;
    let server_ok = server_stats.p99_ms <= 100.0;

    println!(
        "edge decision OFFLINE (server and broker stopped; kiosk POST pickup → journal fsync → unlock frame written to the bus → answer): {} pick-ups, {failures} failed; kiosk round trip {offline_stats} (target p99 ≤ 20 ms: {}); latch released on the simulated board when the answer arrived: {visible_at_answer}/{}",
        placed.len(),
        if offline_ok { "met" } else { "MISSED" },
        rtt.len()
    );
    println!(
        "door decision OFFLINE (kiosk POST door PIN → grant rule → journal fsync → unlock frame → answer): {} PINs, {door_failures} failed; round trip {door_stats}",
        door_rtt.len()
    );
    println!(
        "server consulted (deposit API call → commit → signed unlock over MQTT → agent journal fsync → latch released): {server_stats} (target p99 ≤ 100 ms: {}); API answer alone {api_stats}",
        if server_ok { "met" } else { "MISSED" }
    );
    println!(
        "baseline (same run, same kiosk, loopback HTTP): GET / {bare_stats}; GET state (through the agent's engine queue) {engine_stats}"
    );
    let result = json!({
        "benchmark": "edge-decision",
        "pickups": placed.len(),
        "failures": failures,
        "lockers": lockers,
        "compartments_per_locker": per_locker,
        "poll_ms": args.poll_ms,
        "offline_kiosk_round_trip": offline_stats,
        "offline_code_to_release": offline_release,
        "offline_release_visible_at_answer": visible_at_answer,
        "offline_door_pins": door_rtt.len(),
        "offline_door_failures": door_failures,
        "offline_door_round_trip": door_stats,
        "server_consulted_deposit_to_release": server_stats,
        "server_consulted_api_answer": api_stats,
        "baseline_kiosk_get_page": bare_stats,
        "baseline_kiosk_get_state": engine_stats,
        "fsync": fsync,
        "target_offline_p99_ms": 20,
        "target_server_p99_ms": 100,
        "offline_target_met": offline_ok,
        "server_target_met": server_ok,
    });
    finish(args.json.as_ref(), &result)?;
    Ok(failures == 0)
}

// ---------------------------------------------------------------- P6

/// Polls the parcels of the batch until each shows `deposit_confirmed`.
async fn watch_confirmations(
    api: AdminApi,
    pending: Arc<Mutex<Vec<(String, Instant)>>>,
    total: usize,
) -> anyhow::Result<Vec<(Instant, Instant)>> {
    let mut confirmed: HashMap<String, (Instant, Instant)> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while confirmed.len() < total {
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {} of {total} deposits were confirmed within 120 s",
            confirmed.len()
        );
        let waiting: Vec<(String, Instant)> = pending
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .iter()
            .filter(|(id, _)| !confirmed.contains_key(id))
            .cloned()
            .collect();
        for (id, started) in waiting {
            let p = api.get(&format!("/api/v1/parcels/{id}")).await?;
            let done = p["events"]
                .as_array()
                .is_some_and(|ev| ev.iter().any(|e| e["kind"] == "deposit_confirmed"));
            if done {
                confirmed.insert(id, (started, Instant::now()));
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(confirmed.into_values().collect())
}

pub async fn courier_batch(args: CourierBatchArgs) -> anyhow::Result<bool> {
    let cap = LOCKS_PER_BOARD * MAX_BOARDS;
    anyhow::ensure!(
        (1..=cap).contains(&args.deposits),
        "--deposits must be 1 to {cap} (one locker)"
    );
    anyhow::ensure!(
        (10..=1000).contains(&args.poll_ms),
        "--poll-ms must be 10 to 1,000"
    );
    let n = args.deposits;
    let tmp = temp_dir(args.dir.as_ref())?;
    let fsync = fsync_latency(tmp.path())?;
    println!("disk: fsync {fsync} ({})", tmp.path().display());
    let (running, api) = start_server(tmp.path(), None, None).await?;
    let site_id = create_site(&api).await?;
    let residents = create_residents(&api, &site_id, n).await?;
    let with_agent = create_locker(&api, &site_id, "Lobby (agent)", n).await?;
    let without = create_locker(&api, &site_id, "Back door (no agent)", n).await?;
    let agent = start_bench_agent(
        &api,
        &with_agent,
        n,
        tmp.path(),
        &running.mqtt_addr,
        Duration::from_millis(args.poll_ms),
    )
    .await?;
    wait_ready(&api, &agent).await?;

    // --- baseline: the same deposits at a locker without an agent (API only) ---
    let mut base_lat = Vec::with_capacity(n);
    let base_start = Instant::now();
    for (i, resident) in residents.iter().enumerate() {
        let t0 = Instant::now();
        let (status, v) = api
            .post(
                &format!("/api/v1/lockers/{without}/deposits"),
                deposit_body(10_000 + i, resident),
            )
            .await?;
        anyhow::ensure!(status == 201, "baseline deposit {i} answered {status}: {v}");
        base_lat.push(ms(t0.elapsed()));
    }
    let base_total = base_start.elapsed().as_secs_f64();
    let base_stats = stats(&base_lat);

    // --- the real path, the courier at the locker ---
    let pending = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let watcher = tokio::spawn(watch_confirmations(api.clone(), pending.clone(), n));
    let mut api_lat = Vec::with_capacity(n);
    let mut door_lat = Vec::with_capacity(n);
    let mut seen_lat = Vec::with_capacity(n);
    let start_batch = Instant::now();
    for (i, resident) in residents.iter().enumerate() {
        let t0 = Instant::now();
        let (status, v) = api
            .post(
                &format!("/api/v1/lockers/{with_agent}/deposits"),
                deposit_body(i, resident),
            )
            .await?;
        api_lat.push(ms(t0.elapsed()));
        anyhow::ensure!(status == 201, "deposit {i} answered {status}: {v}");
        let label = v["compartment"]["label"]
            .as_str()
            .context("compartment label")?;
        let parcel = v["parcel_id"].as_str().context("parcel id")?.to_string();
        let addr = address(label, n)?;
        let opened = observe(Duration::from_secs(10), || agent.sim.door_open(addr))
            .await
            .with_context(|| format!("deposit {i}: door {label} did not open within 10 s"))?;
        door_lat.push(ms(opened - t0));
        let seen = agent_sees_open(&api.client, &agent, label).await?;
        seen_lat.push(ms(seen - t0));
        agent.sim.put_item(addr);
        agent.sim.close_door(addr);
        pending
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .push((parcel, t0));
    }
    let courier_done = start_batch.elapsed().as_secs_f64();
    let confirmed = watcher.await??;
    let last = confirmed
        .iter()
        .map(|(_, c)| *c)
        .max()
        .context("no confirmations")?;
    let total = (last - start_batch).as_secs_f64();
    let confirm_lat: Vec<f64> = confirmed.iter().map(|(s, c)| ms(*c - *s)).collect();
    let per_deposit = total / n as f64;
    let ok = per_deposit <= 0.3;
    let (api_stats, door_stats, seen_stats, confirm_stats) = (
        stats(&api_lat),
        stats(&door_lat),
        stats(&seen_lat),
        stats(&confirm_lat),
    );
    println!(
        "courier batch: {n} deposits at one locker through API → signed command → MQTT → agent → door opens → parcel in, door shut → journal → deposit_confirmed: {total:.2} s until the last confirmation = {per_deposit:.3} s software time per deposit (target ≤ 0.3 s: {}); courier done after {courier_done:.2} s",
        if ok { "met" } else { "MISSED" }
    );
    println!("  deposit call → door open (what the courier waits for): {door_stats}");
    println!(
        "  deposit call → the agent's board poll sees the door open (then the parcel goes in and the door shuts at once): {seen_stats}"
    );
    println!("  deposit call → deposit_confirmed recorded: {confirm_stats}");
    println!("  API answer: {api_stats}");
    println!(
        "baseline (same run): the same {n} deposits at a locker without an agent (API only): {base_total:.2} s = {:.3} s per deposit; {base_stats}",
        base_total / n as f64
    );
    running.task.abort();
    let result = json!({
        "benchmark": "courier-batch",
        "deposits": n,
        "poll_ms": args.poll_ms,
        "total_s": total,
        "per_deposit_s": per_deposit,
        "courier_done_s": courier_done,
        "call_to_door_open": door_stats,
        "call_to_agent_sees_open": seen_stats,
        "call_to_confirmed": confirm_stats,
        "api_answer": api_stats,
        "baseline_total_s": base_total,
        "baseline_per_deposit_s": base_total / n as f64,
        "baseline_api_answer": base_stats,
        "fsync": fsync,
        "target_per_deposit_s": 0.3,
        "target_met": ok,
    });
    finish(args.json.as_ref(), &result)?;
    Ok(true)
}

// ---------------------------------------------------------------- P5

/// One simulated agent's journal: a valid hash chain from the first entry.
struct Chain {
    prev: String,
    seq: u64,
    serial: u64,
}

impl Chain {
    fn new() -> Chain {
        Chain {
            prev: GENESIS.to_string(),
            seq: 0,
            serial: 0,
        }
    }

    /// The next `n` entries (a door opening and closing, alternately) as one
    /// message; returns the last sequence number and the payload.
    fn next_batch(&mut self, n: usize) -> (u64, Vec<u8>) {
        let now = cubby_agent::now_ms();
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            self.seq += 1;
            let event = if self.seq % 2 == 1 {
                EdgeEvent::DoorOpened {
                    compartment: "D001".into(),
                    commanded: true,
                }
            } else {
                EdgeEvent::DoorClosed {
                    compartment: "D001".into(),
                    item_present: None,
                }
            };
            let e = JournalEntry::next(&self.prev, self.seq, now, event);
            self.prev = e.hash.clone();
            entries.push(e);
        }
        self.serial += 1;
        let envelope = Envelope {
            msg_id: format!("msg_bench{:016x}{:08x}", self.seq, self.serial),
            tx_id: None,
            sent_ms: now,
            body: JournalBatch { entries },
        };
        (self.seq, serde_json::to_vec(&envelope).unwrap_or_default())
    }
}

#[derive(Default)]
struct FleetShared {
    connected: AtomicUsize,
    /// Messages acknowledged inside the measured window.
    acked: AtomicU64,
    /// Acknowledged after the window closed (not counted in the rate).
    late: AtomicU64,
    errors: AtomicU64,
    disconnects: AtomicU64,
    /// When publishing started and when it stops.
    window: OnceLock<(Instant, Instant)>,
    latencies: Mutex<Vec<f32>>,
}

/// What acknowledges a message: the cubby server's journal ack (after its
/// commit), or the broker's PUBACK (baseline).
#[derive(Clone)]
enum AckBy {
    Server { ack_topic: String },
    Broker,
}

struct Publisher {
    client: AsyncClient,
    topic: String,
    first: Vec<u8>,
}

/// One simulated agent: its connection and its journal.
struct SimAgent {
    client: AsyncClient,
    eventloop: EventLoop,
    topic: String,
    ack: AckBy,
    chain: Chain,
    /// Last sequence number of the first message (published by the sweep at the start).
    outstanding_first: u64,
    batch: usize,
    shared: Arc<FleetShared>,
    /// A connection slot, given back once connected.
    permit: Option<OwnedSemaphorePermit>,
}

/// One simulated agent's connection, run until aborted.
async fn device_loop(agent: SimAgent) {
    let SimAgent {
        client,
        mut eventloop,
        topic,
        ack,
        mut chain,
        outstanding_first,
        batch,
        shared,
        mut permit,
    } = agent;
    let mut counted = false;
    let mut outstanding = Some(outstanding_first);
    let mut sent_at: Option<Instant> = None;
    loop {
        let event = eventloop.poll().await;
        let acked = match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                match &ack {
                    AckBy::Server { ack_topic } => {
                        if client
                            .try_subscribe(ack_topic.clone(), QoS::AtLeastOnce)
                            .is_err()
                        {
                            shared.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    AckBy::Broker => {
                        if !counted {
                            counted = true;
                            shared.connected.fetch_add(1, Ordering::Relaxed);
                            permit.take();
                        }
                    }
                }
                false
            }
            Ok(Event::Incoming(Packet::SubAck(_))) => {
                if !counted {
                    counted = true;
                    shared.connected.fetch_add(1, Ordering::Relaxed);
                    permit.take();
                }
                false
            }
            Ok(Event::Incoming(Packet::Publish(p))) => match (&ack, outstanding) {
                (AckBy::Server { ack_topic }, Some(want)) if p.topic == *ack_topic => {
                    match cubby_protocol::signing::parse::<Envelope<JournalAck>>(&p.payload) {
                        Ok(a) if a.body.resend_from.is_some() => {
                            shared.errors.fetch_add(1, Ordering::Relaxed);
                            outstanding = None;
                            false
                        }
                        Ok(a) => a.body.up_to_seq >= want,
                        Err(_) => {
                            shared.errors.fetch_add(1, Ordering::Relaxed);
                            false
                        }
                    }
                }
                _ => false,
            },
            Ok(Event::Incoming(Packet::PubAck(_))) => {
                matches!(ack, AckBy::Broker) && outstanding.is_some()
            }
            Ok(_) => false,
            Err(_) => {
                shared.disconnects.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500)).await;
                false
            }
        };
        if !acked {
            continue;
        }
        let Some((_, end)) = shared.window.get().copied() else {
            continue;
        };
        let now = Instant::now();
        // The first message of each agent goes out in one sweep at the start;
        // its latency includes that sweep and is left out.
        if let Some(t) = sent_at
            && let Ok(mut l) = shared.latencies.lock()
        {
            l.push(ms(now - t) as f32);
        }
        if now <= end {
            shared.acked.fetch_add(1, Ordering::Relaxed);
            let (seq, payload) = chain.next_batch(batch);
            outstanding = Some(seq);
            sent_at = Some(now);
            if client
                .try_publish(topic.clone(), QoS::AtLeastOnce, false, payload)
                .is_err()
            {
                shared.errors.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            shared.late.fetch_add(1, Ordering::Relaxed);
            outstanding = None;
        }
    }
}

/// Who a simulated agent is and where it publishes.
struct DeviceSpec {
    client_id: String,
    credentials: Option<(String, String)>,
    topic: String,
    ack: AckBy,
}

#[derive(Debug, Clone, Serialize)]
struct FleetRun {
    label: String,
    agents: usize,
    connected: usize,
    connect_s: f64,
    window_s: f64,
    acked_msgs: u64,
    msgs_per_s: f64,
    entries_per_s: f64,
    late_acks: u64,
    errors: u64,
    disconnects: u64,
    ack_latency: Stats,
    /// Baseline only: messages the plain subscriber received in the window.
    delivered_msgs: Option<u64>,
    delivered_per_s: Option<f64>,
}

struct Fleet {
    shared: Arc<FleetShared>,
    tasks: JoinSet<()>,
    publishers: Vec<Publisher>,
    connect_s: f64,
}

/// Connects every simulated agent (at most `concurrency` handshakes at once)
/// and waits until each is connected and subscribed, or the time is up.
async fn connect_fleet(
    specs: Vec<DeviceSpec>,
    host: &str,
    port: u16,
    args: &FleetArgs,
) -> anyhow::Result<Fleet> {
    let shared = Arc::new(FleetShared::default());
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut publishers = Vec::with_capacity(specs.len());
    let started = Instant::now();
    let total = specs.len();
    let limit = Duration::from_secs(60 + total as u64 / 50);
    for spec in specs {
        let permit = tokio::time::timeout(
            limit.saturating_sub(started.elapsed()),
            gate.clone().acquire_owned(),
        )
        .await
        .ok()
        .and_then(Result::ok);
        let mut opts = MqttOptions::new(spec.client_id, host.to_string(), port);
        opts.set_keep_alive(Duration::from_secs(args.keep_alive.max(1)));
        opts.set_clean_session(true);
        opts.set_max_packet_size(
            cubby_protocol::MAX_MESSAGE_BYTES,
            cubby_protocol::MAX_MESSAGE_BYTES,
        );
        if let Some((user, pass)) = spec.credentials {
            opts.set_credentials(user, pass);
        }
        let (client, eventloop) = AsyncClient::new(opts, 16);
        let mut chain = Chain::new();
        let (first_seq, first) = chain.next_batch(args.batch);
        publishers.push(Publisher {
            client: client.clone(),
            topic: spec.topic.clone(),
            first,
        });
        tasks.spawn(device_loop(SimAgent {
            client,
            eventloop,
            topic: spec.topic,
            ack: spec.ack,
            chain,
            outstanding_first: first_seq,
            batch: args.batch,
            shared: shared.clone(),
            permit,
        }));
    }
    while shared.connected.load(Ordering::Relaxed) < total && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Fleet {
        shared,
        tasks,
        publishers,
        connect_s: started.elapsed().as_secs_f64(),
    })
}

/// Publishes for `duration`, then waits up to 5 s for the last acknowledgements.
async fn measure_fleet(
    label: &str,
    mut fleet: Fleet,
    args: &FleetArgs,
    subscriber_count: Option<Arc<AtomicU64>>,
) -> FleetRun {
    let start = Instant::now();
    let end = start + Duration::from_secs(args.duration);
    let _ = fleet.shared.window.set((start, end));
    let delivered_before = subscriber_count.as_ref().map(|c| c.load(Ordering::Relaxed));
    for p in fleet.publishers.drain(..) {
        if p.client
            .try_publish(p.topic, QoS::AtLeastOnce, false, p.first)
            .is_err()
        {
            fleet.shared.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    tokio::time::sleep_until(end.into()).await;
    let delivered = match (&subscriber_count, delivered_before) {
        (Some(c), Some(b)) => Some(c.load(Ordering::Relaxed) - b),
        _ => None,
    };
    let acked = fleet.shared.acked.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(5)).await;
    fleet.tasks.abort_all();
    while fleet.tasks.join_next().await.is_some() {}
    let window_s = (end - start).as_secs_f64();
    let lat: Vec<f64> = fleet
        .shared
        .latencies
        .lock()
        .map(|l| l.iter().map(|x| f64::from(*x)).collect())
        .unwrap_or_default();
    let msgs_per_s = acked as f64 / window_s;
    FleetRun {
        label: label.to_string(),
        agents: args.agents,
        connected: fleet.shared.connected.load(Ordering::Relaxed),
        connect_s: fleet.connect_s,
        window_s,
        acked_msgs: acked,
        msgs_per_s,
        entries_per_s: msgs_per_s * args.batch as f64,
        late_acks: fleet.shared.late.load(Ordering::Relaxed),
        errors: fleet.shared.errors.load(Ordering::Relaxed),
        disconnects: fleet.shared.disconnects.load(Ordering::Relaxed),
        ack_latency: stats(&lat),
        delivered_msgs: delivered,
        delivered_per_s: delivered.map(|d| d as f64 / window_s),
    }
}

fn print_run(r: &FleetRun) {
    println!(
        "{}: {}/{} agents connected in {:.1} s; {:.0} msgs/s acknowledged ({:.0} journal entries/s) over {:.0} s; ack latency {}; {} late acks, {} errors, {} disconnects{}",
        r.label,
        r.connected,
        r.agents,
        r.connect_s,
        r.msgs_per_s,
        r.entries_per_s,
        r.window_s,
        r.ack_latency,
        r.late_acks,
        r.errors,
        r.disconnects,
        r.delivered_per_s
            .map(|d| format!("; the plain subscriber received {d:.0} msgs/s"))
            .unwrap_or_default()
    );
}

/// The soft limit on open files of this process.
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn split_host_port(addr: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = addr.rsplit_once(':').context("address is host:port")?;
    Ok((host.to_string(), port.parse().context("port")?))
}

async fn reachable(addr: &str) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// A tag unique to this run, for client ids and topics at a shared broker.
fn run_tag() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", std::process::id(), nanos & 0xffff_ffff_ffff)
}

/// Baseline: the same publishers, QoS 1 to Mosquitto, one plain subscriber.
async fn mosquitto_alone(args: &FleetArgs, n: usize) -> anyhow::Result<FleetRun> {
    let (host, port) = split_host_port(&args.mosquitto)?;
    let tag = run_tag();
    let prefix = format!("cubby-bench/{tag}");
    // The plain subscriber.
    let mut opts = MqttOptions::new(format!("bench-sub-{tag}"), host.clone(), port);
    opts.set_keep_alive(Duration::from_secs(30));
    opts.set_clean_session(true);
    opts.set_max_packet_size(
        cubby_protocol::MAX_MESSAGE_BYTES,
        cubby_protocol::MAX_MESSAGE_BYTES,
    );
    let (sub, mut sub_loop) = AsyncClient::new(opts, 16);
    let count = Arc::new(AtomicU64::new(0));
    let subscribed = Arc::new(tokio::sync::Notify::new());
    let sub_task = {
        let (count, subscribed, filter) = (
            count.clone(),
            subscribed.clone(),
            format!("{prefix}/+/journal"),
        );
        tokio::spawn(async move {
            loop {
                match sub_loop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = sub.try_subscribe(filter.clone(), QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => subscribed.notify_one(),
                    Ok(Event::Incoming(Packet::Publish(_))) => {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        })
    };
    tokio::time::timeout(Duration::from_secs(10), subscribed.notified())
        .await
        .context("the baseline subscriber could not subscribe at Mosquitto")?;
    let specs = (0..n)
        .map(|i| DeviceSpec {
            client_id: format!("bench-{tag}-{i}"),
            credentials: None,
            topic: format!("{prefix}/{i}/journal"),
            ack: AckBy::Broker,
        })
        .collect();
    let fleet = connect_fleet(specs, &host, port, args).await?;
    let run = measure_fleet("baseline Mosquitto alone", fleet, args, Some(count)).await;
    sub_task.abort();
    Ok(run)
}

/// Registers `n` devices on one locker through the API, 32 at a time.
async fn register_devices(api: &AdminApi, n: usize) -> anyhow::Result<(Vec<DeviceIdentity>, f64)> {
    let site_id = create_site(api).await?;
    let locker_id = create_locker(api, &site_id, "Fleet", 4).await?;
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(32));
    let mut set = JoinSet::new();
    for _ in 0..n {
        let (api, gate, locker_id) = (api.clone(), gate.clone(), locker_id.clone());
        set.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let v = api
                .created(&format!("/api/v1/lockers/{locker_id}/devices"), json!({}))
                .await?;
            Ok::<_, anyhow::Error>(serde_json::from_value::<DeviceIdentity>(v)?)
        });
    }
    let mut out = Vec::with_capacity(n);
    while let Some(done) = set.join_next().await {
        out.push(done??);
    }
    Ok((out, started.elapsed().as_secs_f64()))
}

/// Waits until the server's writer is nearly idle (caches of new devices are
/// signed and published first), at most 60 s.
async fn settle(running: &Running) -> f64 {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let before = running.state.store.writer_stats().jobs;
        tokio::time::sleep(Duration::from_secs(1)).await;
        if running.state.store.writer_stats().jobs - before < 20 {
            break;
        }
    }
    started.elapsed().as_secs_f64()
}

async fn stored_device_events(running: &Running) -> anyhow::Result<i64> {
    use sqlx::Row;
    let mut conn = running.state.store.reader().await?;
    let row = sqlx::query("SELECT COUNT(*) AS n FROM device_events")
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get::<i64, _>("n")?)
}

#[derive(Debug, Clone, Serialize)]
struct CubbyFleet {
    run: FleetRun,
    register_s: f64,
    settle_s: f64,
    stored_events: i64,
    commits: u64,
    fsync_p99_ms: f64,
}

/// Which broker the cubby server and the simulated agents meet at.
enum Via {
    /// The embedded broker with the server's own device authorizer, started
    /// here with a connection limit that fits the fleet.
    Embedded,
    /// An external broker (Mosquitto admitting anonymous clients).
    External { host: String, port: u16 },
}

async fn cubby_fleet(
    args: &FleetArgs,
    n: usize,
    dir: &Path,
    via: Via,
    fsync_p99_ms: f64,
) -> anyhow::Result<CubbyFleet> {
    let data_dir = dir.join("server");
    std::fs::create_dir_all(&data_dir)?;
    let (label, mqtt_url, host, port) = match &via {
        Via::Embedded => {
            // The server's secret exists before it starts, so that the
            // broker started below can admit the server's own connection.
            let secret = cubby_server::load_or_create_secret(
                std::env::var("CUBBY_SECRET").ok().as_deref(),
                &data_dir.join("secret.key"),
            )?;
            let password = cubby_server::devices::server_mqtt_password(&secret);
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            (
                "cubby via the embedded broker".to_string(),
                format!("mqtt://cubby-server:{password}@127.0.0.1:{port}"),
                "127.0.0.1".to_string(),
                port,
            )
        }
        Via::External { host, port } => (
            format!("cubby via Mosquitto {host}:{port}"),
            format!("mqtt://{host}:{port}"),
            host.clone(),
            *port,
        ),
    };
    let (running, api) = start_server(dir, None, Some(mqtt_url)).await?;
    let broker = match &via {
        Via::Embedded => {
            let auth = cubby_server::devices::DeviceAuthorizer {
                hub: running.state.devices.clone(),
                secret: running.state.secret.clone(),
                server_password: cubby_server::devices::server_mqtt_password(&running.state.secret),
            };
            Some(
                cubby_broker::Broker::start(
                    cubby_broker::BrokerConfig {
                        listen: format!("127.0.0.1:{port}").parse()?,
                        max_connections: n + 64,
                        ..Default::default()
                    },
                    Arc::new(auth),
                )
                .await
                .context("starting the embedded broker")?,
            )
        }
        Via::External { .. } => None,
    };
    let (identities, register_s) = register_devices(&api, n).await?;
    println!(
        "{label}: registered {n} devices through the API in {register_s:.1} s ({:.0}/s)",
        n as f64 / register_s
    );
    let specs = identities
        .iter()
        .map(|d| DeviceSpec {
            client_id: d.device_id.clone(),
            credentials: Some((d.device_id.clone(), d.secret.clone())),
            topic: topics::topic(&d.device_id, Channel::Journal),
            ack: AckBy::Server {
                ack_topic: topics::topic(&d.device_id, Channel::Ack),
            },
        })
        .collect();
    let fleet = connect_fleet(specs, &host, port, args).await?;
    let settle_s = settle(&running).await;
    let before = running.state.store.writer_stats();
    let run = measure_fleet(&label, fleet, args, None).await;
    let after = running.state.store.writer_stats();
    let stored_events = stored_device_events(&running).await?;
    running.task.abort();
    if let Some(b) = broker {
        b.shutdown().await;
    }
    if let Via::External { host, port } = &via {
        clear_retained_caches(host, *port, &identities).await;
    }
    Ok(CubbyFleet {
        run,
        register_s,
        settle_s,
        stored_events,
        commits: after.batches - before.batches,
        fsync_p99_ms,
    })
}

/// The server published a retained credential cache per device to the shared
/// Mosquitto; remove them so the run leaves nothing behind.
async fn clear_retained_caches(host: &str, port: u16, devices: &[DeviceIdentity]) {
    let mut opts = MqttOptions::new(format!("bench-clean-{}", run_tag()), host, port);
    opts.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(opts, 64);
    let topics: Vec<String> = devices
        .iter()
        .map(|d| topics::topic(&d.device_id, Channel::Cache))
        .collect();
    let total = topics.len();
    let sender = tokio::spawn(async move {
        for t in topics {
            if client
                .publish(t, QoS::AtLeastOnce, true, Vec::new())
                .await
                .is_err()
            {
                break;
            }
        }
    });
    let mut acked = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while acked < total && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(2), eventloop.poll()).await {
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => acked += 1,
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => break,
        }
    }
    sender.abort();
    if acked < total {
        tracing::warn!("cleared {acked} of {total} retained caches at Mosquitto");
    }
}

pub async fn fleet(args: FleetArgs) -> anyhow::Result<bool> {
    anyhow::ensure!(
        (1..=20_000).contains(&args.agents),
        "--agents must be 1 to 20,000"
    );
    anyhow::ensure!(
        (1..=300).contains(&args.duration),
        "--duration must be 1 to 300 seconds"
    );
    anyhow::ensure!((1..=500).contains(&args.batch), "--batch must be 1 to 500");
    let tmp = temp_dir(args.dir.as_ref())?;
    let fsync = fsync_latency(tmp.path())?;
    println!("disk: fsync {fsync} ({})", tmp.path().display());
    // Each agent holds one socket here, plus the broker's end of it when the
    // broker runs in this process.
    let fd_limit = open_files_limit();
    let reserve = 256;
    let embedded_n = match fd_limit {
        Some(limit) => args
            .agents
            .min((limit.saturating_sub(reserve) / 2) as usize),
        None => args.agents,
    };
    let external_n = match fd_limit {
        Some(limit) => args.agents.min(limit.saturating_sub(reserve) as usize),
        None => args.agents,
    };
    let mut limits = Vec::new();
    if embedded_n < args.agents {
        limits.push(format!(
            "open files: the limit is {} (ulimit -n) and the embedded broker runs in this process (2 sockets per agent), so its run is capped at {embedded_n} agents",
            fd_limit.unwrap_or(0)
        ));
    }
    if external_n < args.agents {
        limits.push(format!(
            "open files: the Mosquitto runs are capped at {external_n} agents (ulimit -n {})",
            fd_limit.unwrap_or(0)
        ));
    }
    for l in &limits {
        println!("limit: {l}");
    }
    let mosquitto_up = !args.no_mosquitto && reachable(&args.mosquitto).await;
    if !args.no_mosquitto && !mosquitto_up {
        println!(
            "Mosquitto at {} is not reachable: its runs are skipped",
            args.mosquitto
        );
    }

    let baseline = if mosquitto_up {
        let r = mosquitto_alone(&args, external_n).await?;
        print_run(&r);
        Some(r)
    } else {
        None
    };
    let embedded = cubby_fleet(
        &args,
        embedded_n,
        &tmp.path().join("embedded"),
        Via::Embedded,
        fsync.p99_ms,
    )
    .await?;
    print_cubby(&embedded);
    let external = if mosquitto_up {
        let (host, port) = split_host_port(&args.mosquitto)?;
        let r = cubby_fleet(
            &args,
            external_n,
            &tmp.path().join("mosquitto"),
            Via::External { host, port },
            fsync.p99_ms,
        )
        .await?;
        print_cubby(&r);
        Some(r)
    } else {
        None
    };
    if let Some(b) = &baseline {
        println!(
            "ratio cubby (embedded broker) / Mosquitto alone: {:.3} (acknowledged msgs/s)",
            embedded.run.msgs_per_s / b.msgs_per_s.max(f64::MIN_POSITIVE)
        );
    }
    let best_connected = embedded
        .run
        .connected
        .max(external.as_ref().map(|e| e.run.connected).unwrap_or(0));
    let best_rate = embedded
        .run
        .msgs_per_s
        .max(external.as_ref().map(|e| e.run.msgs_per_s).unwrap_or(0.0));
    let ok = best_connected >= 10_000 && best_rate >= 10_000.0;
    println!(
        "fleet: best {best_connected} agents connected, {best_rate:.0} QoS 1 msgs/s into durable ingest (targets ≥ 10,000 agents and ≥ 10,000 msgs/s: {})",
        if ok { "met" } else { "MISSED" }
    );
    let result = json!({
        "benchmark": "fleet",
        "agents_requested": args.agents,
        "duration_s": args.duration,
        "batch": args.batch,
        "keep_alive_s": args.keep_alive,
        "open_files_limit": fd_limit,
        "limits": limits,
        "fsync": fsync,
        "baseline_mosquitto_alone": baseline,
        "cubby_embedded_broker": embedded,
        "cubby_via_mosquitto": external,
        "target_agents": 10_000,
        "target_msgs_per_s": 10_000,
        "target_met": ok,
    });
    finish(args.json.as_ref(), &result)?;
    Ok(true)
}

fn print_cubby(c: &CubbyFleet) {
    print_run(&c.run);
    println!(
        "  durable: {} journal entries stored; {} commits during the window (fsync p99 {:.2} ms); settle before publishing {:.1} s",
        c.stored_events, c.commits, c.fsync_p99_ms, c.settle_s
    );
}
