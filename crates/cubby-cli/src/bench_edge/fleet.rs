//! `cubby bench fleet` (P5): many simulated agents publishing journal batches
//! through a real broker into durable ingest, against Mosquitto alone.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use cubby_protocol::journal::{EdgeEvent, GENESIS, JournalEntry};
use cubby_protocol::messages::{DeviceIdentity, Envelope, JournalAck, JournalBatch};
use cubby_protocol::topics::{self, Channel};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS};
use serde::Serialize;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::{
    Stats, create_locker, create_site, finish, fsync_latency, ms, start_server, stats, temp_dir,
};
use crate::admin_api::AdminApi;
use crate::serve::Running;

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
