//! The agent's decisions: commands from the server, pick-ups at the kiosk,
//! and what the lock board reports. One task owns the board, the journal and
//! the cache, so every decision sees one consistent state.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cubby_boards::{BankStatus, Board, LockAddress};
use cubby_domain::throttle::{KeypadState, ThrottlePolicy};
use cubby_protocol::Millis;
use cubby_protocol::cache::{CredentialCache, CredentialKind, accept};
use cubby_protocol::command::{CommandGuard, Outcome, Reply};
use cubby_protocol::journal::EdgeEvent;
use cubby_protocol::messages::{DeviceIdentity, Envelope, JournalAck, StateSnapshot};
use cubby_protocol::signing::Signed;
use ed25519_dalek::VerifyingKey;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};

use crate::journal::Journal;
use crate::now_ms;

mod commands;
mod deposit;
mod doors;
mod pickup;
mod returns;
mod watch;

/// Anything a board can talk over.
pub trait Transport: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Transport for T {}

pub type AnyBoard = Board<Box<dyn Transport>>;

/// Local policy of the agent.
#[derive(Debug, Clone)]
pub struct EdgePolicy {
    /// Remote opens of occupied compartments allowed per window (security.md: 10).
    pub remote_open_cap: usize,
    pub remote_open_window_ms: Millis,
    /// A door open longer than this raises `door_held_open`.
    pub held_open_ms: Millis,
    /// An unlock that has not released the lock after this is `lock_stuck`.
    pub stuck_after_ms: Millis,
    pub code_digits: u32,
    pub throttle: ThrottlePolicy,
    /// Below this much free space in the data directory the locker stops
    /// taking new deposits (courier passes and deposit unlocks) and keeps
    /// pick-ups and logging going in what is left (security.md: edge disk full).
    pub min_free_bytes: u64,
    /// Crash injection for tests: the process aborts at this point.
    pub fault: Option<Fault>,
    /// After a pick-up, the same credential reopens the same compartments
    /// for this long once their doors have closed (a forgotten parcel);
    /// 0 turns it off.
    pub reopen_grace_ms: Millis,
}

/// The longest reopen grace an operator may set.
pub const MAX_REOPEN_GRACE_MS: Millis = 300_000;

/// A pick-up that may be reopened with the same credential.
#[derive(Debug, Clone)]
struct Reopenable {
    credential_id: String,
    compartments: Vec<String>,
    /// When the last of its doors closed; `None` while one is open.
    closed_at: Option<Millis>,
}

/// Points where a crash-injection test makes the agent abort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// After an access grant's use is journalled, before the door is released.
    AfterAccessJournal,
    /// Right after the door's release frame went to the board.
    AfterDoorRelease,
}

impl Fault {
    pub fn parse(name: &str) -> Option<Fault> {
        match name {
            "after_access_journal" => Some(Fault::AfterAccessJournal),
            "after_door_release" => Some(Fault::AfterDoorRelease),
            _ => None,
        }
    }
}

/// Default floor: 64 MiB is ~200,000 journal entries of pick-ups and door events.
pub const DEFAULT_MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;

impl Default for EdgePolicy {
    fn default() -> Self {
        EdgePolicy {
            remote_open_cap: 10,
            remote_open_window_ms: 10 * 60 * 1000,
            held_open_ms: 120_000,
            stuck_after_ms: 1_500,
            code_digits: 8,
            throttle: ThrottlePolicy::default(),
            min_free_bytes: DEFAULT_MIN_FREE_BYTES,
            fault: None,
            reopen_grace_ms: 60_000,
        }
    }
}

/// The kiosk's answer. Wrong code and unknown parcel look the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KioskAnswer {
    Opened(Vec<String>),
    Rejected,
    Locked { until_ms: Option<Millis> },
    Unavailable(String),
}

/// The answer to a PIN typed at a door. Every refusal looks the same to the
/// person at the door; the reason is journalled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoorAnswer {
    Opened,
    Denied,
    Locked { until_ms: Option<Millis> },
    Unavailable(String),
}

/// The kiosk's answer to a courier's deposit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepositAnswer {
    Opened {
        compartment: String,
        parcel_id: String,
    },
    /// The pass matched nothing valid (same answer for wrong and expired).
    PassRejected,
    /// The parcel is not pre-advised here for this pass's carrier.
    NotExpected,
    /// This parcel was already deposited here.
    AlreadyDeposited,
    /// No free compartment of its zone fits it.
    NoFit(String),
    Locked {
        until_ms: Option<Millis>,
    },
    Unavailable(String),
}

/// The kiosk's answer to a resident's drop-off code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropOffAnswer {
    Opened {
        compartment: String,
        parcel_id: String,
    },
    /// The code matched nothing open here (wrong, used or expired: one answer).
    Rejected,
    /// No free compartment of its zone fits it.
    NoFit(String),
    Locked {
        until_ms: Option<Millis>,
    },
    Unavailable(String),
}

/// The kiosk's answer to a courier collecting its carrier's parcels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReturnsAnswer {
    Opened {
        compartments: Vec<String>,
        parcel_ids: Vec<String>,
    },
    PassRejected,
    /// Nothing here waits for this pass's carrier.
    NothingToCollect,
    Locked {
        until_ms: Option<Millis>,
    },
    Unavailable(String),
}

/// Inputs to the engine.
pub enum Input {
    Command(Vec<u8>),
    Cache(Vec<u8>),
    Ack(Vec<u8>),
    Connected(bool),
    Pickup {
        code: String,
        answer: oneshot::Sender<KioskAnswer>,
    },
    Deposit {
        pass: String,
        tracking_number: String,
        answer: oneshot::Sender<DepositAnswer>,
    },
    DropOff {
        code: String,
        answer: oneshot::Sender<DropOffAnswer>,
    },
    CollectReturns {
        pass: String,
        answer: oneshot::Sender<ReturnsAnswer>,
    },
    Maintenance {
        on: bool,
        answer: oneshot::Sender<()>,
    },
    Door {
        door_id: String,
        pin: String,
        answer: oneshot::Sender<DoorAnswer>,
    },
    /// A fresh challenge for a phone pick-up: (nonce hex, expires).
    PhoneChallenge(oneshot::Sender<(String, Millis)>),
    /// A phone pick-up token handed to the kiosk.
    PhonePickup {
        token: String,
        answer: oneshot::Sender<KioskAnswer>,
    },
    Snapshot(oneshot::Sender<StateSnapshot>),
}

/// Outputs to the MQTT link.
#[derive(Debug, Clone)]
pub enum Output {
    Reply(Vec<u8>),
    Journal(Vec<u8>),
    State(Vec<u8>),
    Heartbeat(Vec<u8>),
}

pub struct Engine {
    pub identity: DeviceIdentity,
    server_key: VerifyingKey,
    credential_key: Vec<u8>,
    policy: EdgePolicy,
    board: AnyBoard,
    journal: Journal,
    guard: CommandGuard,
    cache: Option<CredentialCache>,
    cache_path: PathBuf,
    data_dir: PathBuf,
    /// Credentials used here, with the journal entry that used them.
    consumed: HashMap<String, u64>,
    /// Recent pick-ups by credential MAC, for the reopen grace.
    reopenable: HashMap<[u8; 32], Reopenable>,
    /// Phone pick-up challenges shown on the kiosk, not yet answered.
    challenges: VecDeque<(String, Millis)>,
    /// Parcels couriers deposited here → (compartment, journal entry), until
    /// a cache that reflects the entry arrives.
    deposited: HashMap<String, (String, u64)>,
    /// Parcels couriers took for their carrier here → journal entry, until a
    /// cache that reflects the entry arrives.
    collected: HashMap<String, u64>,
    remote_opens: VecDeque<Millis>,
    maintenance: bool,
    keypad: KeypadState,
    /// One keypad per door: lockout counters of security.md at every door.
    door_keypads: HashMap<String, KeypadState>,
    /// Openings by access grants journalled here: (grant, door) → journal
    /// entries, until a cache that reflects them arrives.
    door_uses: HashMap<(String, String), Vec<u64>>,
    last_status: Option<BankStatus>,
    board_ok: bool,
    /// Per compartment: when we released it and have not yet seen it open.
    unlocking: HashMap<String, Millis>,
    /// Per compartment: when it opened, and whether held-open was reported.
    open_since: HashMap<String, (Millis, bool)>,
    connected: bool,
    upload_in_flight: Option<(u64, Instant)>,
    out: mpsc::Sender<Output>,
    started: Instant,
}

fn envelope<T>(body: T, tx_id: Option<String>) -> Envelope<T> {
    let mut raw = [0u8; 12];
    crate::random(&mut raw);
    Envelope {
        msg_id: format!("msg_{}", hex::encode(raw)),
        tx_id,
        sent_ms: now_ms(),
        body,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
    #[error("identity: {0}")]
    Identity(String),
}

impl Engine {
    pub fn new(
        identity: DeviceIdentity,
        data_dir: PathBuf,
        board: AnyBoard,
        policy: EdgePolicy,
        out: mpsc::Sender<Output>,
    ) -> Result<Engine, StartError> {
        let server_key = cubby_protocol::signing::parse_public_key(&identity.server_public_key)
            .map_err(|e| StartError::Identity(e.to_string()))?;
        let credential_key = hex::decode(&identity.credential_key)
            .map_err(|_| StartError::Identity("credential_key is not hex".into()))?;
        let journal = Journal::open(&data_dir)?;
        let cache_path = data_dir.join("cache.json");
        let journal_dir = data_dir.clone();
        let mut engine = Engine {
            identity,
            server_key,
            credential_key,
            policy,
            board,
            journal,
            guard: CommandGuard::new(),
            cache: None,
            cache_path,
            data_dir: journal_dir,
            consumed: HashMap::new(),
            reopenable: HashMap::new(),
            challenges: VecDeque::new(),
            deposited: HashMap::new(),
            collected: HashMap::new(),
            remote_opens: VecDeque::new(),
            maintenance: false,
            keypad: KeypadState::default(),
            door_keypads: HashMap::new(),
            door_uses: HashMap::new(),
            last_status: None,
            board_ok: true,
            unlocking: HashMap::new(),
            open_since: HashMap::new(),
            connected: false,
            upload_in_flight: None,
            out,
            started: Instant::now(),
        };
        engine.replay_journal();
        engine.load_cache();
        Ok(engine)
    }

    /// Rebuilds what must survive a restart from the journal: the highest
    /// command sequence (so replays after reboot fail), recent replies (so
    /// redeliveries are answered, not executed), used credentials and access
    /// grants, remote opens in the cap window, keypad lockout counters, and
    /// maintenance mode.
    fn replay_journal(&mut self) {
        let now = now_ms();
        for e in self.journal.entries() {
            match &e.event {
                EdgeEvent::Unlocked {
                    cmd_id,
                    seq,
                    occupied,
                    ..
                } => {
                    self.guard.record(*seq, done_reply(cmd_id, *seq, None));
                    if *occupied && now - e.at_ms < self.policy.remote_open_window_ms {
                        self.remote_opens.push_back(e.at_ms);
                    }
                }
                EdgeEvent::CommandRefused {
                    cmd_id,
                    seq,
                    reason,
                } => {
                    self.guard.record(
                        *seq,
                        Reply {
                            cmd_id: Some(cmd_id.clone()),
                            tx_id: None,
                            seq: Some(*seq),
                            outcome: Outcome::Refused {
                                reason: reason.clone(),
                            },
                            duplicate: false,
                        },
                    );
                }
                EdgeEvent::PickupGranted {
                    credential_id, via, ..
                } => {
                    self.consumed.insert(credential_id.clone(), e.seq);
                    if *via == CredentialKind::Keypad {
                        self.keypad.record_success();
                    }
                }
                EdgeEvent::PickupDenied {
                    via: CredentialKind::Keypad,
                } => self.keypad.record_failure(e.at_ms, &self.policy.throttle),
                EdgeEvent::AccessGranted { grant_id, door_id } => {
                    self.door_uses
                        .entry((grant_id.clone(), door_id.clone()))
                        .or_default()
                        .push(e.seq);
                    self.door_keypads
                        .entry(door_id.clone())
                        .or_default()
                        .record_success();
                }
                EdgeEvent::AccessDenied {
                    door_id, grant_id, ..
                } if grant_id.is_none() => self
                    .door_keypads
                    .entry(door_id.clone())
                    .or_default()
                    .record_failure(e.at_ms, &self.policy.throttle),
                EdgeEvent::DepositMade {
                    parcel_id,
                    compartment,
                    ..
                }
                | EdgeEvent::DropOffMade {
                    parcel_id,
                    compartment,
                    ..
                } => {
                    self.deposited
                        .insert(parcel_id.clone(), (compartment.clone(), e.seq));
                }
                EdgeEvent::ReturnCollected { parcel_id, .. } => {
                    self.collected.insert(parcel_id.clone(), e.seq);
                }
                EdgeEvent::MaintenanceMode { on } => self.maintenance = *on,
                _ => {}
            }
        }
    }

    fn load_cache(&mut self) {
        let Ok(raw) = std::fs::read(&self.cache_path) else {
            return;
        };
        let verdict = serde_json::from_slice::<Signed>(&raw)
            .map_err(|e| e.to_string())
            .and_then(|s| {
                accept(
                    &s,
                    &self.server_key,
                    &self.identity.device_id,
                    None,
                    now_ms(),
                )
                .map_err(|e| e.to_string())
            });
        match verdict {
            Ok(c) => self.install(c),
            Err(reason) => {
                tracing::warn!("stored credential cache refused: {reason}");
                let _ = self.record(EdgeEvent::CacheRefused {
                    reason: format!("stored cache: {reason}"),
                });
            }
        }
    }

    fn install(&mut self, cache: CredentialCache) {
        // Credentials used up to the journal entry the server had seen are
        // reflected in this cache; later uses still count locally.
        let seen = cache.journal_seq;
        self.consumed.retain(|_, seq| *seq > seen);
        self.deposited.retain(|_, (_, seq)| *seq > seen);
        self.collected.retain(|_, seq| *seq > seen);
        self.door_uses.retain(|_, seqs| {
            seqs.retain(|seq| *seq > seen);
            !seqs.is_empty()
        });
        self.cache = Some(cache);
    }

    /// Appends to the journal (durably) and schedules an upload.
    fn record(&mut self, event: EdgeEvent) -> Result<u64, crate::journal::JournalError> {
        let e = self.journal.append(now_ms(), event)?;
        Ok(e.seq)
    }

    fn record_or_log(&mut self, event: EdgeEvent) {
        if let Err(e) = self.record(event) {
            tracing::error!("journal write failed: {e}");
        }
    }

    /// Compartment label → lock address, by wiring order.
    fn address_of(&self, label: &str) -> Option<LockAddress> {
        let cache = self.cache.as_ref()?;
        let index = cache.compartments.iter().position(|l| l == label)?;
        let per = usize::from(self.board.locks_per_board().max(1));
        let board = *self.board.boards().get(index / per)?;
        Some(LockAddress {
            board,
            lock: (index % per) as u8 + 1,
        })
    }

    fn label_of(&self, addr: LockAddress) -> Option<String> {
        let cache = self.cache.as_ref()?;
        let b = self.board.boards().iter().position(|b| *b == addr.board)?;
        let index = b * usize::from(self.board.locks_per_board()) + usize::from(addr.lock) - 1;
        // Doors wired to this device are watched like compartments: opened,
        // forced, held open, stuck — journalled under the door's id.
        cache.compartments.get(index).cloned().or_else(|| {
            cache
                .doors
                .iter()
                .find(|d| d.output as usize == index)
                .map(|d| d.door_id.clone())
        })
    }

    pub async fn run(mut self, mut inputs: mpsc::Receiver<Input>, poll: Duration) {
        self.record_or_log(EdgeEvent::Boot {
            agent_version: env!("CARGO_PKG_VERSION").to_string(),
        });
        let mut poll_timer = tokio::time::interval(poll);
        poll_timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut upload_timer = tokio::time::interval(Duration::from_millis(500));
        let mut heartbeat_timer = tokio::time::interval(Duration::from_secs(15));
        loop {
            tokio::select! {
                msg = inputs.recv() => match msg {
                    Some(m) => self.handle(m).await,
                    None => return,
                },
                _ = poll_timer.tick() => self.poll_board().await,
                _ = upload_timer.tick() => {}
                _ = heartbeat_timer.tick() => self.heartbeat().await,
            }
            self.upload().await;
        }
    }

    async fn handle(&mut self, input: Input) {
        match input {
            Input::Command(raw) => self.command(&raw).await,
            Input::Cache(raw) => self.cache_message(&raw),
            Input::Ack(raw) => {
                if let Ok(ack) = cubby_protocol::signing::parse::<Envelope<JournalAck>>(&raw) {
                    if let Err(e) = self.journal.set_acked(ack.body.up_to_seq) {
                        tracing::error!("saving the journal acknowledgement: {e}");
                    }
                    if let Some(from) = ack.body.resend_from {
                        self.journal.rewind(from);
                    }
                    self.upload_in_flight = None;
                }
            }
            Input::Connected(up) => {
                self.connected = up;
                self.upload_in_flight = None;
                if up {
                    self.publish_state().await;
                }
            }
            Input::Pickup { code, answer } => {
                let result = self.pickup(&code).await;
                let _ = answer.send(result);
            }
            Input::Deposit {
                pass,
                tracking_number,
                answer,
            } => {
                let result = self.deposit(&pass, &tracking_number).await;
                let _ = answer.send(result);
            }
            Input::CollectReturns { pass, answer } => {
                let result = self.collect_returns(&pass).await;
                let _ = answer.send(result);
            }
            Input::DropOff { code, answer } => {
                let result = self.drop_off(&code).await;
                let _ = answer.send(result);
            }
            Input::Maintenance { on, answer } => {
                if self.maintenance != on {
                    self.maintenance = on;
                    self.record_or_log(EdgeEvent::MaintenanceMode { on });
                }
                let _ = answer.send(());
            }
            Input::Door {
                door_id,
                pin,
                answer,
            } => {
                let result = self.door_access(&door_id, &pin).await;
                let _ = answer.send(result);
            }
            Input::PhoneChallenge(answer) => {
                let _ = answer.send(self.phone_challenge());
            }
            Input::PhonePickup { token, answer } => {
                let result = self.phone_pickup(&token).await;
                let _ = answer.send(result);
            }
            Input::Snapshot(answer) => {
                let _ = answer.send(self.snapshot());
            }
        }
    }

    fn cache_message(&mut self, raw: &[u8]) {
        let installed = self.cache.as_ref().map(|c| c.version);
        let parsed = cubby_protocol::signing::parse::<Signed>(raw).map_err(|e| e.to_string());
        let verdict = parsed.and_then(|s| {
            accept(
                &s,
                &self.server_key,
                &self.identity.device_id,
                installed,
                now_ms(),
            )
            .map(|c| (c, s))
            .map_err(|e| e.to_string())
        });
        match verdict {
            Ok((cache, signed)) => {
                if Some(cache.version) == installed {
                    return;
                }
                let version = cache.version;
                if let Err(e) = write_atomic(
                    &self.cache_path,
                    &serde_json::to_vec(&signed).unwrap_or_default(),
                ) {
                    tracing::error!("saving the credential cache: {e}");
                }
                self.install(cache);
                self.record_or_log(EdgeEvent::CacheInstalled { version });
            }
            Err(reason) => self.record_or_log(EdgeEvent::CacheRefused { reason }),
        }
    }

    async fn send(&self, o: Output) {
        if self.out.try_send(o).is_err() {
            tracing::warn!("link queue full; the message will be repeated later");
        }
    }
}

fn done_reply(cmd_id: &str, seq: u64, tx_id: Option<String>) -> Reply {
    Reply {
        cmd_id: Some(cmd_id.to_string()),
        tx_id,
        seq: Some(seq),
        outcome: Outcome::Done,
        duplicate: false,
    }
}

fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
