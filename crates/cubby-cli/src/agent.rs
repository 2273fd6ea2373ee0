//! `cubby agent` and `cubby admin device add`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use cubby_agent::{AgentConfig, BoardLink, EdgePolicy};
use cubby_boards::Family;
use cubby_protocol::messages::DeviceIdentity;

#[derive(Args, Debug, Clone)]
pub struct AgentArgs {
    /// The identity file from `cubby admin device add`.
    #[arg(long, env = "CUBBY_AGENT_IDENTITY")]
    pub identity: PathBuf,
    /// Where the journal and the credential cache live.
    #[arg(long, env = "CUBBY_AGENT_DATA_DIR", default_value = "cubby-agent-data")]
    pub data_dir: PathBuf,
    /// The broker, host:port (the server prints it at start).
    #[arg(long, env = "CUBBY_AGENT_MQTT", default_value = "127.0.0.1:1884")]
    pub mqtt: String,
    /// Lock-board family: kerong or xor8a.
    #[arg(long, default_value = "kerong")]
    pub family: String,
    /// Serial port of the RS-485 adapter, e.g. /dev/ttyUSB0.
    #[arg(long, conflicts_with_all = ["tcp", "simulate"])]
    pub serial: Option<String>,
    #[arg(long, default_value_t = cubby_boards::DEFAULT_BAUD)]
    pub baud: u32,
    /// A serial-to-TCP gateway, host:port.
    #[arg(long, conflicts_with = "simulate")]
    pub tcp: Option<String>,
    /// Drive a simulated bank (demo, tests).
    #[arg(long)]
    pub simulate: bool,
    /// Board addresses on the bus, comma-separated (default: 0 for kerong, 1 for xor8a).
    #[arg(long, value_delimiter = ',')]
    pub boards: Vec<u8>,
    #[arg(long, default_value_t = 16)]
    pub locks_per_board: u8,
    /// The kiosk's local HTTP address.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub kiosk_listen: String,
    /// How often the board is polled for door and presence changes.
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
    /// Remote opens of occupied compartments allowed per 10 minutes.
    #[arg(long, default_value_t = 10)]
    pub remote_open_cap: usize,
    /// Below this much free space (MiB) in the data directory the locker takes
    /// no new deposits; pick-ups and logging go on.
    #[arg(long, default_value_t = cubby_agent::engine::DEFAULT_MIN_FREE_BYTES / (1024 * 1024))]
    pub min_free_mb: u64,
    /// After a pick-up, the same code reopens the same compartments for this
    /// many seconds once their doors have closed (0 to 300; 0 turns it off).
    #[arg(long, default_value_t = 60)]
    pub reopen_grace_secs: u64,
    /// An OSDP reader or keypad at a door: DOOR_ID=HOST:PORT (its RS-485
    /// gateway), optionally /ADDRESS (default 1). Repeat for each reader.
    #[arg(long = "osdp-reader")]
    pub osdp_readers: Vec<String>,
    /// File holding the readers' Secure Channel base key (32 hex digits).
    #[arg(long, env = "CUBBY_OSDP_SCBK_FILE")]
    pub osdp_scbk_file: Option<PathBuf>,
}

/// Parses `DOOR_ID=HOST:PORT[/ADDRESS]`.
fn parse_reader(spec: &str, scbk: [u8; 16]) -> anyhow::Result<cubby_agent::readers::OsdpReader> {
    let (door_id, rest) = spec
        .split_once('=')
        .with_context(|| format!("--osdp-reader {spec:?} is not DOOR_ID=HOST:PORT[/ADDRESS]"))?;
    let (addr, address) = match rest.rsplit_once('/') {
        Some((addr, a)) => (
            addr,
            a.parse::<u8>()
                .ok()
                .filter(|a| *a <= 126)
                .with_context(|| format!("--osdp-reader {spec:?}: address must be 0 to 126"))?,
        ),
        None => (rest, 1),
    };
    anyhow::ensure!(
        !door_id.is_empty() && addr.contains(':'),
        "--osdp-reader {spec:?} is not DOOR_ID=HOST:PORT[/ADDRESS]"
    );
    Ok(cubby_agent::readers::OsdpReader {
        door_id: door_id.to_string(),
        addr: addr.to_string(),
        address,
        scbk,
    })
}

fn read_scbk(path: &PathBuf) -> anyhow::Result<[u8; 16]> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the OSDP key file {}", path.display()))?;
    let bytes = hex::decode(text.trim())
        .ok()
        .filter(|b| b.len() == 16)
        .with_context(|| format!("{} must hold 32 hex digits", path.display()))?;
    let mut key = [0u8; 16];
    key.copy_from_slice(&bytes);
    Ok(key)
}

pub fn read_identity(path: &PathBuf) -> anyhow::Result<DeviceIdentity> {
    let raw = std::fs::read_to_string(path)
        .with_context(|| format!("reading the identity file {}", path.display()))?;
    serde_json::from_str(&raw)
        .with_context(|| format!("{} is not an identity file", path.display()))
}

pub fn settle(args: &AgentArgs) -> anyhow::Result<AgentConfig> {
    let family: Family = args.family.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    let link = match (&args.serial, &args.tcp, args.simulate) {
        (Some(path), _, _) => BoardLink::Serial {
            path: path.clone(),
            baud: args.baud,
        },
        (None, Some(addr), _) => BoardLink::Tcp { addr: addr.clone() },
        (None, None, true) => BoardLink::Simulated,
        (None, None, false) => anyhow::bail!(
            "say how to reach the lock boards: --serial PATH, --tcp HOST:PORT or --simulate"
        ),
    };
    let boards = if args.boards.is_empty() {
        vec![if family == Family::Xor8a { 1 } else { 0 }]
    } else {
        args.boards.clone()
    };
    let (host, port) = args
        .mqtt
        .rsplit_once(':')
        .context("--mqtt must be host:port")?;
    let policy = EdgePolicy {
        remote_open_cap: args.remote_open_cap,
        min_free_bytes: args.min_free_mb.saturating_mul(1024 * 1024),
        // Crash injection for the test suite only; not a documented flag.
        reopen_grace_ms: (args.reopen_grace_secs as i64).saturating_mul(1000),
        fault: std::env::var("CUBBY_AGENT_FAULT")
            .ok()
            .and_then(|f| cubby_agent::engine::Fault::parse(&f)),
        ..Default::default()
    };
    anyhow::ensure!(
        policy.reopen_grace_ms <= cubby_agent::engine::MAX_REOPEN_GRACE_MS,
        "--reopen-grace-secs may not exceed 300"
    );
    anyhow::ensure!(
        policy.remote_open_cap <= 10,
        "--remote-open-cap may not exceed 10 per 10 minutes (security floor)"
    );
    let readers = match (&args.osdp_readers[..], &args.osdp_scbk_file) {
        ([], _) => Vec::new(),
        (_, None) => {
            anyhow::bail!("OSDP readers talk over the Secure Channel only: give --osdp-scbk-file")
        }
        (specs, Some(path)) => {
            let scbk = read_scbk(path)?;
            specs
                .iter()
                .map(|s| parse_reader(s, scbk))
                .collect::<anyhow::Result<_>>()?
        }
    };
    Ok(AgentConfig {
        identity: read_identity(&args.identity)?,
        data_dir: args.data_dir.clone(),
        mqtt_host: host.to_string(),
        mqtt_port: port.parse().context("--mqtt port")?,
        family,
        link,
        boards,
        locks_per_board: args.locks_per_board,
        kiosk_listen: args.kiosk_listen.clone(),
        poll: Duration::from_millis(args.poll_ms.clamp(20, 5_000)),
        policy,
        readers,
    })
}

pub async fn run(args: AgentArgs) -> anyhow::Result<bool> {
    let config = settle(&args)?;
    let device = config.identity.device_id.clone();
    let running = cubby_agent::start(config).await?;
    println!(
        "cubby agent {device} kiosk on http://{}",
        running.kiosk_addr
    );
    tokio::select! {
        r = running.task => { r?; }
        _ = crate::serve::shutdown_signal() => {}
    }
    Ok(true)
}

#[derive(Args, Debug, Clone)]
pub struct DeviceAddArgs {
    /// The server's base URL.
    #[arg(long, env = "CUBBY_URL", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A manager or admin token.
    #[arg(long, env = "CUBBY_TOKEN")]
    pub token: String,
    #[arg(long)]
    pub locker: String,
    /// Where to write the identity file (mode 0600).
    #[arg(long)]
    pub out: PathBuf,
}

/// Registers a device with the server and saves its identity file.
pub async fn device_add(args: DeviceAddArgs) -> anyhow::Result<bool> {
    let url = format!(
        "{}/api/v1/lockers/{}/devices",
        args.server.trim_end_matches('/'),
        args.locker
    );
    let resp = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&args.token)
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let status = resp.status();
    let body = resp.text().await?;
    anyhow::ensure!(status.is_success(), "the server refused: {status} {body}");
    let identity: DeviceIdentity =
        serde_json::from_str(&body).context("reading the server's answer")?;
    write_private(&args.out, &serde_json::to_vec_pretty(&identity)?)?;
    println!(
        "device {} registered; identity written to {}",
        identity.device_id,
        args.out.display()
    );
    Ok(true)
}

fn write_private(path: &PathBuf, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}
