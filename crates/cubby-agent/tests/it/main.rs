//! The agent's engine in-process: a real `Engine` over a simulated lock bank
//! (its real codec, over an in-memory byte stream), a journal in a temporary
//! directory, and a test that plays the server by signing caches and commands
//! with its own key. No broker and no second process (the kiosk's HTTP server
//! is tried on loopback in `kiosk.rs`): each test takes milliseconds, and
//! doors are counted on the simulated bank itself.
//!
//! The bank speaks the 0x8A/XOR family because those boards acknowledge an
//! unlock once the latch has released: when the engine answers, the release is
//! already counted, so "exactly one door" and "no further door" need no sleeps.
//! (Kerong boards send nothing back; tests of them would have to wait.)

mod commands;
mod deposit;
mod doors;
mod journal;
mod kiosk;
mod pickup;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cubby_agent::EdgePolicy;
use cubby_agent::engine::{
    DepositAnswer, DoorAnswer, Engine, Input, KioskAnswer, Output, Transport,
};
use cubby_boards::{Board, Family, LockAddress, SimulatedBank};
use cubby_domain::access::GrantRule;
use cubby_domain::tracking::TrackingNumber;
use cubby_protocol::Millis;
use cubby_protocol::cache::{
    CacheEntry, CompartmentSpec, CourierPass, CredentialCache, CredentialKind, DoorGrant, DoorSpec,
    ExpectedParcel, local_credential_mac, tracking_mac,
};
use cubby_protocol::command::{Action, Command, Purpose, Reply};
use cubby_protocol::journal::{EdgeEvent, JournalEntry};
use cubby_protocol::messages::{DeviceIdentity, Envelope, StateSnapshot};
use cubby_protocol::signing::{Signed, public_key_hex, sign, signing_key};
use ed25519_dalek::SigningKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::{mpsc, oneshot};

pub const DEVICE: &str = "dev_00000000000000000000000000000001";
/// The small bank of the process-level tests: five compartments in wiring order.
pub const LABELS: [&str; 5] = ["A01", "A02", "B01", "C01", "K01"];
/// 0x8A/XOR boards are numbered from 1.
const BOARD: u8 = 1;
const LOCKS_PER_BOARD: u8 = 8;
/// Doors follow the compartments on the same board (wiring outputs 5 and 6).
pub const LOBBY: &str = "door_lobby";
pub const GYM: &str = "door_gym";
const LOBBY_OUTPUT: u32 = 5;
const GYM_OUTPUT: u32 = 6;
pub const HOUR: Millis = 3_600_000;

pub fn now() -> Millis {
    cubby_agent::now_ms()
}

/// The lock of the n-th wiring output (compartments first, then doors).
pub fn output(index: u32) -> LockAddress {
    LockAddress::new(BOARD, index as u8 + 1)
}

/// The lock a compartment is wired to.
pub fn lock_of(label: &str) -> LockAddress {
    let index = LABELS
        .iter()
        .position(|l| *l == label)
        .expect("a label of the bank");
    output(index as u32)
}

pub fn lobby_lock() -> LockAddress {
    output(LOBBY_OUTPUT)
}

pub fn gym_lock() -> LockAddress {
    output(GYM_OUTPUT)
}

/// The test's half of the server: its signing key and the locker's
/// credential key, used to sign what the real server would send.
pub struct Server {
    pub key: SigningKey,
    pub credential_key: Vec<u8>,
    pub identity: DeviceIdentity,
}

impl Default for Server {
    fn default() -> Server {
        let key = signing_key(&[7u8; 32]);
        let credential_key = vec![0x5a; 32];
        let identity = DeviceIdentity {
            device_id: DEVICE.into(),
            locker_id: "lkr_test".into(),
            secret: "device-secret".into(),
            credential_key: hex::encode(&credential_key),
            server_public_key: public_key_hex(&key),
        };
        Server {
            key,
            credential_key,
            identity,
        }
    }
}

impl Server {
    pub fn new() -> Server {
        Server::default()
    }

    /// A cache of the small bank with nothing in it: every compartment free,
    /// the two doors wired, valid for an hour.
    pub fn cache(&self, version: u64) -> CredentialCache {
        let spec = |label: &str, height_mm: u32, temperature: &str| CompartmentSpec {
            label: label.into(),
            width_mm: 380,
            height_mm,
            depth_mm: 640,
            temperature: temperature.into(),
        };
        let now = now();
        CredentialCache {
            device_id: DEVICE.into(),
            version,
            issued_ms: now,
            expires_ms: now + HOUR,
            journal_seq: 0,
            compartments: LABELS.iter().map(|l| l.to_string()).collect(),
            entries: Vec::new(),
            specs: vec![
                spec("A01", 80, "ambient"),
                spec("A02", 80, "ambient"),
                spec("B01", 190, "ambient"),
                spec("C01", 410, "ambient"),
                spec("K01", 190, "chilled"),
            ],
            free: LABELS.iter().map(|l| l.to_string()).collect(),
            couriers: Vec::new(),
            expected: Vec::new(),
            drop_offs: Vec::new(),
            awaiting_carrier: Vec::new(),
            zone: Some("Europe/Warsaw".into()),
            doors: vec![
                DoorSpec {
                    door_id: LOBBY.into(),
                    name: "Lobby".into(),
                    output: LOBBY_OUTPUT,
                    offline_key: Some(hex::encode([0x11u8; 32])),
                },
                DoorSpec {
                    door_id: GYM.into(),
                    name: "Gym".into(),
                    output: GYM_OUTPUT,
                    offline_key: Some(hex::encode([0x22u8; 32])),
                },
            ],
            grants: Vec::new(),
        }
    }

    fn mac(&self, kind: CredentialKind, presented: &str) -> String {
        hex::encode(local_credential_mac(&self.credential_key, kind, presented))
    }

    /// A pick-up credential for `compartments`, stored as the server stores it.
    pub fn pickup_entry(
        &self,
        id: &str,
        kind: CredentialKind,
        code: &str,
        compartments: &[&str],
    ) -> CacheEntry {
        CacheEntry {
            credential_id: id.into(),
            kind,
            mac: self.mac(kind, code),
            compartments: compartments.iter().map(|c| c.to_string()).collect(),
        }
    }

    /// An access grant for `doors`, valid for the next hour.
    pub fn grant(&self, id: &str, pin: &str, doors: &[&str], max_uses: Option<u32>) -> DoorGrant {
        DoorGrant {
            grant_id: id.into(),
            mac: self.mac(CredentialKind::Door, pin),
            rule: GrantRule {
                doors: doors.iter().map(|d| d.to_string()).collect::<BTreeSet<_>>(),
                not_before_ms: now() - 60_000,
                not_after_ms: now() + HOUR,
                max_uses,
                schedule: Vec::new(),
            },
            uses: BTreeMap::new(),
        }
    }

    pub fn courier(&self, id: &str, carrier: &str, pass: &str) -> CourierPass {
        CourierPass {
            pass_id: id.into(),
            carrier: carrier.into(),
            mac: self.mac(CredentialKind::Courier, pass),
            expires_ms: now() + HOUR,
        }
    }

    /// A pre-advised parcel of 300 × 60 × 200 mm (fits the A row).
    pub fn expected(&self, parcel_id: &str, tracking: &str, carrier: &str) -> ExpectedParcel {
        let canonical = TrackingNumber::parse(tracking).expect("a valid tracking number");
        ExpectedParcel {
            parcel_id: parcel_id.into(),
            tracking_mac: hex::encode(tracking_mac(&self.credential_key, canonical.as_str())),
            carrier: Some(carrier.into()),
            width_mm: 300,
            height_mm: 60,
            depth_mm: 200,
            temperature: "ambient".into(),
        }
    }

    /// The cache as it travels: signed, serialised.
    pub fn signed_cache(&self, cache: &CredentialCache) -> Vec<u8> {
        serde_json::to_vec(&sign(&self.key, cache)).expect("a signed cache serialises")
    }

    /// An unlock command valid for 20 s from now.
    pub fn command(&self, cmd_id: &str, seq: u64, label: &str, purpose: Purpose) -> Command {
        let now = now();
        Command {
            device_id: DEVICE.into(),
            cmd_id: cmd_id.into(),
            tx_id: format!("tx-{cmd_id}"),
            seq,
            issued_ms: now,
            expires_ms: now + 20_000,
            action: Action::Unlock {
                compartment: label.into(),
                purpose,
            },
        }
    }

    pub fn sign_bytes<T: serde::Serialize>(&self, value: &T) -> Vec<u8> {
        signed_bytes(&sign(&self.key, value))
    }
}

pub fn signed_bytes(s: &Signed) -> Vec<u8> {
    serde_json::to_vec(s).expect("a signed message serialises")
}

/// A running engine and the bank it drives.
pub struct Locker {
    pub sim: SimulatedBank,
    pub dir: PathBuf,
    inputs: mpsc::Sender<Input>,
    outputs: mpsc::Receiver<Output>,
    task: tokio::task::JoinHandle<()>,
    spy: Arc<Spy>,
}

/// What the wire between engine and bank saw: releases the bank acknowledged,
/// and how many of them the journal on disk did not yet account for.
#[derive(Default)]
struct Spy {
    checked: AtomicU32,
    unjournalled: AtomicU32,
}

impl Locker {
    /// A fresh bank (all latched, empty) and an engine on an empty data directory.
    pub async fn start(server: &Server, dir: &Path, policy: EdgePolicy) -> Locker {
        let sim = SimulatedBank::new(Family::Xor8a, vec![BOARD], LOCKS_PER_BOARD);
        Locker::start_on(server, dir, sim, policy).await
    }

    /// An engine on `dir` driving `sim`: after [`Locker::stop`], the same
    /// journal and the same physical bank, as after a reboot of the agent.
    pub async fn start_on(
        server: &Server,
        dir: &Path,
        sim: SimulatedBank,
        policy: EdgePolicy,
    ) -> Locker {
        let (engine_side, spy_engine) = tokio::io::duplex(4096);
        let (spy_bank, bank_side) = tokio::io::duplex(4096);
        let serving = sim.clone();
        tokio::spawn(async move {
            let _ = serving.serve(bank_side).await;
        });
        let spy = Arc::new(Spy::default());
        tokio::spawn(watch_wire(
            spy_engine,
            spy_bank,
            sim.clone(),
            dir.join("journal.jsonl"),
            spy.clone(),
        ));
        let transport: Box<dyn Transport> = Box::new(engine_side);
        let board = Board::try_new(Family::Xor8a, transport, vec![BOARD], LOCKS_PER_BOARD)
            .expect("a valid board layout");
        let (out_tx, outputs) = mpsc::channel(1024);
        let (inputs, in_rx) = mpsc::channel(64);
        let engine = Engine::new(
            server.identity.clone(),
            dir.to_path_buf(),
            board,
            policy,
            out_tx,
        )
        .expect("the engine starts");
        let task = tokio::spawn(engine.run(in_rx, Duration::from_millis(20)));
        Locker {
            sim,
            dir: dir.to_path_buf(),
            inputs,
            outputs,
            task,
            spy,
        }
    }

    /// Stops the engine (its input queue closes, as when the agent exits) and
    /// hands back the bank for [`Locker::start_on`].
    pub async fn stop(self) -> SimulatedBank {
        drop(self.inputs);
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the engine stops when its inputs close")
            .expect("the engine task did not panic");
        self.sim
    }

    async fn ask<T>(&self, input: impl FnOnce(oneshot::Sender<T>) -> Input) -> T {
        let (tx, rx) = oneshot::channel();
        self.inputs.send(input(tx)).await.expect("the engine runs");
        tokio::time::timeout(Duration::from_secs(5), rx)
            .await
            .expect("the engine answers within 5 s")
            .expect("the engine answers")
    }

    pub async fn pickup(&self, code: &str) -> KioskAnswer {
        let code = code.to_string();
        self.ask(|answer| Input::Pickup { code, answer }).await
    }

    pub async fn door(&self, door_id: &str, pin: &str) -> DoorAnswer {
        let (door_id, pin) = (door_id.to_string(), pin.to_string());
        self.ask(|answer| Input::Door {
            door_id,
            pin,
            answer,
        })
        .await
    }

    pub async fn deposit(&self, pass: &str, tracking_number: &str) -> DepositAnswer {
        let (pass, tracking_number) = (pass.to_string(), tracking_number.to_string());
        self.ask(|answer| Input::Deposit {
            pass,
            tracking_number,
            answer,
        })
        .await
    }

    pub async fn phone_challenge(&self) -> (String, Millis) {
        self.ask(Input::PhoneChallenge).await
    }

    pub async fn phone_pickup(&self, token: &str) -> KioskAnswer {
        let token = token.to_string();
        self.ask(|answer| Input::PhonePickup { token, answer })
            .await
    }

    pub async fn snapshot(&self) -> StateSnapshot {
        self.ask(Input::Snapshot).await
    }

    /// Any other input, for those with nothing to wait for.
    pub async fn send(&self, input: Input) {
        self.inputs.send(input).await.expect("the engine runs");
    }

    /// Hands the engine a cache message; the next input sees its effect
    /// (one task handles inputs in order).
    pub async fn install(&self, signed: Vec<u8>) {
        self.inputs
            .send(Input::Cache(signed))
            .await
            .expect("the engine runs");
    }

    /// Delivers a command and returns the engine's reply to it.
    pub async fn command(&mut self, raw: Vec<u8>) -> Reply {
        self.inputs
            .send(Input::Command(raw))
            .await
            .expect("the engine runs");
        loop {
            let out = tokio::time::timeout(Duration::from_secs(5), self.outputs.recv())
                .await
                .expect("a reply within 5 s")
                .expect("the engine runs");
            // Offline (never connected) the engine sends nothing but replies.
            if let Output::Reply(bytes) = out {
                let envelope: Envelope<Reply> =
                    serde_json::from_slice(&bytes).expect("a reply envelope");
                return envelope.body;
            }
        }
    }

    /// The next message the engine sends up the link.
    pub async fn next_output(&mut self) -> Output {
        tokio::time::timeout(Duration::from_secs(5), self.outputs.recv())
            .await
            .expect("a message within 5 s")
            .expect("the engine runs")
    }

    /// Waits until the engine's own view (its board poll) shows the
    /// compartment or door at `label` locked or not.
    pub async fn wait_seen(&self, label: &str, locked: bool) {
        for _ in 0..250 {
            let seen = self
                .snapshot()
                .await
                .compartments
                .iter()
                .any(|c| c.compartment == label && c.locked == locked);
            if seen {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the engine never saw {label} with locked = {locked}");
    }

    /// The journal as it is on disk now.
    pub fn journal(&self) -> Vec<JournalEntry> {
        read_journal(&self.dir)
    }

    /// Kinds of the journal entries on disk, in order.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.journal().iter().map(|e| e.event.kind()).collect()
    }

    pub fn count(&self, kind: &str) -> usize {
        self.kinds().iter().filter(|k| **k == kind).count()
    }

    /// (releases acknowledged by the bank, of which the journal on disk held
    /// no entry at that moment).
    pub fn wire_checks(&self) -> (u32, u32) {
        (
            self.spy.checked.load(Ordering::SeqCst),
            self.spy.unjournalled.load(Ordering::SeqCst),
        )
    }
}

pub fn read_journal(dir: &Path) -> Vec<JournalEntry> {
    let text = std::fs::read_to_string(dir.join("journal.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str(l).expect("every journal line is an entry"))
        .collect()
}

/// Latches the journal says were released: every entry that precedes a
/// release, counted per compartment.
fn journalled_releases(path: &Path) -> u32 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<JournalEntry>(l).ok())
        .map(|e| match e.event {
            EdgeEvent::PickupGranted { compartments, .. }
            | EdgeEvent::PickupReopened { compartments, .. } => compartments.len() as u32,
            EdgeEvent::Unlocked { .. }
            | EdgeEvent::AccessGranted { .. }
            | EdgeEvent::DepositMade { .. } => 1,
            _ => 0,
        })
        .sum()
}

/// The wire between engine and bank. Bytes to the bank pass untouched; each
/// answer from the bank is held while, if the bank has released a latch since
/// the last answer, the journal on disk is read. The engine waits for that
/// acknowledgement before it does anything else, so what the journal holds
/// then is what it held when the unlock went out: a release without its entry
/// is a release before journalling.
async fn watch_wire(
    engine: DuplexStream,
    bank: DuplexStream,
    sim: SimulatedBank,
    journal: PathBuf,
    spy: Arc<Spy>,
) {
    let (mut from_engine, mut to_engine) = tokio::io::split(engine);
    let (mut from_bank, mut to_bank) = tokio::io::split(bank);
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_engine, &mut to_bank).await;
        let _ = to_bank.shutdown().await;
    });
    let mut seen = sim.total_releases();
    let mut buf = [0u8; 1024];
    loop {
        let n = match from_bank.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let releases = sim.total_releases();
        if releases > seen {
            spy.checked.fetch_add(releases - seen, Ordering::SeqCst);
            let journalled = journalled_releases(&journal);
            if releases > journalled {
                spy.unjournalled
                    .fetch_add(releases - journalled, Ordering::SeqCst);
            }
            seen = releases;
        }
        if to_engine.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// A policy for single-use tests: no reopen grace, so a used code opens
/// nothing at once (the grace is tested on its own).
pub fn no_grace() -> EdgePolicy {
    EdgePolicy {
        reopen_grace_ms: 0,
        ..EdgePolicy::default()
    }
}
