//! `cubby agent`: the process beside a locker bank. It drives the lock boards,
//! decides pick-ups from a server-signed credential cache, executes signed
//! unlock commands, journals everything durably and uploads the journal over
//! MQTT. It never depends on server crates: the device protocol is its only
//! contract with the server.

pub mod engine;
pub mod journal;
pub mod kiosk;
mod link;
pub mod readers;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use cubby_boards::{Board, Family, SimulatedBank};
use cubby_protocol::Millis;
use cubby_protocol::messages::DeviceIdentity;
use tokio::sync::mpsc;

pub use engine::EdgePolicy;

pub fn now_ms() -> Millis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// Random bytes for message ids (not secrets).
pub(crate) fn random(buf: &mut [u8]) {
    use rand::TryRngCore;
    if rand::rngs::OsRng.try_fill_bytes(buf).is_err() {
        let t = now_ms().to_be_bytes();
        for (i, b) in buf.iter_mut().enumerate() {
            *b = t[i % t.len()] ^ i as u8;
        }
    }
}

/// How the agent reaches its lock boards.
#[derive(Debug, Clone)]
pub enum BoardLink {
    /// A serial port (RS-485 adapter), e.g. /dev/ttyUSB0.
    Serial { path: String, baud: u32 },
    /// A serial-to-TCP gateway, host:port.
    Tcp { addr: String },
    /// A simulated bank inside the agent (demo and tests).
    Simulated,
}

#[derive(Debug, Clone)]
pub struct AgentConfig {
    pub identity: DeviceIdentity,
    pub data_dir: PathBuf,
    /// Broker host and port.
    pub mqtt_host: String,
    pub mqtt_port: u16,
    pub family: Family,
    pub link: BoardLink,
    pub boards: Vec<u8>,
    pub locks_per_board: u8,
    pub kiosk_listen: String,
    pub poll: Duration,
    pub policy: EdgePolicy,
    /// OSDP readers and keypads at the doors this agent drives.
    pub readers: Vec<readers::OsdpReader>,
}

/// A running agent.
pub struct RunningAgent {
    pub kiosk_addr: SocketAddr,
    pub sim: Option<SimulatedBank>,
    pub task: tokio::task::JoinHandle<()>,
}

pub async fn start(config: AgentConfig) -> anyhow::Result<RunningAgent> {
    let (transport, sim): (Box<dyn engine::Transport>, Option<SimulatedBank>) = match &config.link {
        BoardLink::Serial { path, baud } => (
            Box::new(
                cubby_boards::open_serial(path, *baud)
                    .await
                    .with_context(|| format!("opening serial port {path}"))?,
            ),
            None,
        ),
        BoardLink::Tcp { addr } => (
            Box::new(
                tokio::net::TcpStream::connect(addr)
                    .await
                    .with_context(|| format!("connecting to the serial gateway {addr}"))?,
            ),
            None,
        ),
        BoardLink::Simulated => {
            let sim =
                SimulatedBank::new(config.family, config.boards.clone(), config.locks_per_board);
            let (host_side, device_side) = tokio::io::duplex(4096);
            let serving = sim.clone();
            tokio::spawn(async move {
                let _ = serving.serve(device_side).await;
            });
            (Box::new(host_side), Some(sim))
        }
    };
    let board = Board::try_new(
        config.family,
        transport,
        config.boards.clone(),
        config.locks_per_board,
    )
    .context("board layout")?;
    let (out_tx, out_rx) = mpsc::channel(1024);
    let (in_tx, in_rx) = mpsc::channel(1024);
    let engine = engine::Engine::new(
        config.identity.clone(),
        config.data_dir.clone(),
        board,
        config.policy.clone(),
        out_tx,
    )?;
    let listener = tokio::net::TcpListener::bind(&config.kiosk_listen)
        .await
        .with_context(|| format!("kiosk listening on {}", config.kiosk_listen))?;
    let kiosk_addr = listener.local_addr()?;
    // The kiosk sits on the locker's own network: slow or idle clients there
    // must not hold the touchscreen's server either.
    let limits = cubby_http::Limits {
        max_connections: 64,
        ..cubby_http::Limits::default()
    }
    .overridden_by_env();
    tokio::spawn(kiosk::serve(listener, in_tx.clone(), sim.clone(), limits));
    for reader in &config.readers {
        tokio::spawn(readers::run(reader.clone(), in_tx.clone()));
    }
    tokio::spawn(link::run(config.clone(), in_tx, out_rx));
    let poll = config.poll;
    let task = tokio::spawn(engine.run(in_rx, poll));
    Ok(RunningAgent {
        kiosk_addr,
        sim,
        task,
    })
}
