//! The agent's decisions: commands from the server, pick-ups at the kiosk,
//! and what the lock board reports. One task owns the board, the journal and
//! the cache, so every decision sees one consistent state.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cubby_boards::{BankStatus, Board, LockAddress};
use cubby_domain::allocation::{CarrierQuotas, CompartmentView, ParcelRequest, allocate};
use cubby_domain::credentials::{Presented, classify};
use cubby_domain::dims::Dimensions;
use cubby_domain::model::{CompartmentStatus, TemperatureZone, Timezone};
use cubby_domain::throttle::{KeypadRefusal, KeypadState, ThrottlePolicy};
use cubby_domain::tracking::TrackingNumber;
use cubby_protocol::Millis;
use cubby_protocol::cache::{
    CredentialCache, CredentialKind, DoorSpec, accept, local_credential_mac, tracking_mac,
};
use cubby_protocol::command::{Action, CommandGuard, Outcome, Reply, Verdict};
use cubby_protocol::journal::EdgeEvent;
use cubby_protocol::messages::{
    CompartmentState, DeviceIdentity, Envelope, JournalAck, StateSnapshot,
};
use cubby_protocol::offline::{OFFLINE_CODE_DIGITS, verify_offline_code};
use cubby_protocol::phone::{CHALLENGE_LIFETIME_MS, accept_phone_pickup};
use cubby_protocol::signing::Signed;
use ed25519_dalek::VerifyingKey;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};

use crate::journal::Journal;
use crate::now_ms;

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
                } => {
                    self.deposited
                        .insert(parcel_id.clone(), (compartment.clone(), e.seq));
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

    async fn reply(&self, reply: Reply) {
        let tx = reply.tx_id.clone();
        let body = serde_json::to_vec(&envelope(reply, tx)).unwrap_or_default();
        self.send(Output::Reply(body)).await;
    }

    async fn command(&mut self, raw: &[u8]) {
        let now = now_ms();
        let verdict = self
            .guard
            .check(raw, &self.server_key, &self.identity.device_id, now);
        let cmd = match verdict {
            Verdict::Duplicate(reply) => return self.reply(reply).await,
            Verdict::Reject {
                cmd_id,
                seq,
                reason,
            } => {
                self.record_or_log(EdgeEvent::CommandRejected {
                    cmd_id: cmd_id.clone(),
                    seq,
                    reason,
                });
                return self
                    .reply(Reply {
                        cmd_id,
                        tx_id: None,
                        seq,
                        outcome: Outcome::Rejected { reason },
                        duplicate: false,
                    })
                    .await;
            }
            Verdict::Execute(c) => c,
        };
        let Action::Unlock {
            compartment,
            purpose,
        } = cmd.action.clone();
        let Some(addr) = self.address_of(&compartment) else {
            let reply = Reply {
                cmd_id: Some(cmd.cmd_id.clone()),
                tx_id: Some(cmd.tx_id.clone()),
                seq: Some(cmd.seq),
                outcome: Outcome::Failed {
                    reason: format!("no compartment {compartment} at this locker"),
                },
                duplicate: false,
            };
            self.guard.record(cmd.seq, reply.clone());
            return self.reply(reply).await;
        };
        if purpose == cubby_protocol::command::Purpose::Deposit && self.storage_low() {
            let reason = "storage nearly full: this locker takes no new deposits".to_string();
            return self.refuse(&cmd, reason).await;
        }
        // Unknown presence counts as occupied: the cap errs on the safe side.
        let occupied = self
            .last_status
            .as_ref()
            .and_then(|s| s.get(addr))
            .map(|s| s.item_present != Some(false))
            .unwrap_or(true);
        while self
            .remote_opens
            .front()
            .is_some_and(|t| now - *t >= self.policy.remote_open_window_ms)
        {
            self.remote_opens.pop_front();
        }
        if occupied && !self.maintenance && self.remote_opens.len() >= self.policy.remote_open_cap {
            let reason = format!(
                "remote-open cap reached: {} occupied compartments opened remotely in the last {} minutes",
                self.remote_opens.len(),
                self.policy.remote_open_window_ms / 60_000
            );
            return self.refuse(&cmd, reason).await;
        }
        // Journal first: if the process dies between here and the board, the
        // door stays shut and the record says it was released — never the
        // other way round, so at most one release per command.
        if let Err(e) = self.record(EdgeEvent::Unlocked {
            cmd_id: cmd.cmd_id.clone(),
            seq: cmd.seq,
            compartment: compartment.clone(),
            purpose,
            occupied,
        }) {
            tracing::error!("journal write failed, not unlocking: {e}");
            return;
        }
        let reply_done = done_reply(&cmd.cmd_id, cmd.seq, Some(cmd.tx_id.clone()));
        self.guard.record(cmd.seq, reply_done.clone());
        if occupied {
            self.remote_opens.push_back(now);
        }
        let outcome = self.release(&compartment, addr).await;
        let reply = match outcome {
            Ok(()) => reply_done,
            Err(reason) => Reply {
                outcome: Outcome::Failed { reason },
                ..reply_done
            },
        };
        self.guard.record(cmd.seq, reply.clone());
        self.reply(reply).await;
    }

    /// Refuses a valid command by local policy: journalled, answered, and
    /// remembered so that a redelivery gets the same answer.
    async fn refuse(&mut self, cmd: &cubby_protocol::command::Command, reason: String) {
        self.record_or_log(EdgeEvent::CommandRefused {
            cmd_id: cmd.cmd_id.clone(),
            seq: cmd.seq,
            reason: reason.clone(),
        });
        let reply = Reply {
            cmd_id: Some(cmd.cmd_id.clone()),
            tx_id: Some(cmd.tx_id.clone()),
            seq: Some(cmd.seq),
            outcome: Outcome::Refused { reason },
            duplicate: false,
        };
        self.guard.record(cmd.seq, reply.clone());
        self.reply(reply).await;
    }

    async fn release(&mut self, label: &str, addr: LockAddress) -> Result<(), String> {
        match self.board.unlock(addr).await {
            Ok(()) => {
                self.unlocking.insert(label.to_string(), now_ms());
                Ok(())
            }
            Err(e) => {
                let detail = format!("unlocking {label}: {e}");
                self.record_or_log(EdgeEvent::BoardFault {
                    detail: detail.clone(),
                });
                Err(detail)
            }
        }
    }

    /// Wiring index → lock address.
    fn address_of_output(&self, index: usize) -> Option<LockAddress> {
        let per = usize::from(self.board.locks_per_board().max(1));
        let board = *self.board.boards().get(index / per)?;
        Some(LockAddress {
            board,
            lock: (index % per) as u8 + 1,
        })
    }

    /// A PIN typed at a door this device drives. Decided from the cache with
    /// the domain's grant rule, so it works offline; a granted use is
    /// journalled (durably) before the door is released, so a crash at any
    /// step opens a single-use grant at most once.
    async fn door_access(&mut self, door_id: &str, pin: &str) -> DoorAnswer {
        let now = now_ms();
        let keypad = self.door_keypads.entry(door_id.to_string()).or_default();
        if let Err(refusal) = keypad.check(now) {
            return DoorAnswer::Locked {
                until_ms: match refusal {
                    KeypadRefusal::LockedOut { retry_after_secs } => {
                        Some(now + retry_after_secs as Millis * 1000)
                    }
                    KeypadRefusal::Disabled => None,
                },
            };
        }
        let Some(cache) = self.cache.as_ref() else {
            return DoorAnswer::Unavailable("this controller has no access list yet".into());
        };
        let Some(door) = cache.doors.iter().find(|d| d.door_id == door_id).cloned() else {
            return DoorAnswer::Unavailable(format!("this controller drives no door {door_id}"));
        };
        if now > cache.expires_ms {
            return self.offline_door_access(&door, pin.trim(), now).await;
        }
        let zone = cache
            .zone
            .as_deref()
            .and_then(|z| Timezone::parse(z).ok())
            .unwrap_or_else(|| Timezone::parse("UTC").unwrap_or_else(|_| unreachable!()));
        let pin = pin.trim();
        let well_formed = (4..=16).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit());
        let mac = local_credential_mac(&self.credential_key, CredentialKind::Door, pin);
        let grant = well_formed
            .then(|| cache.find_grant(&mac))
            .flatten()
            .cloned();
        let Some(grant) = grant else {
            self.record_or_log(EdgeEvent::AccessDenied {
                door_id: door_id.to_string(),
                grant_id: None,
                reason: "unknown_pin".into(),
            });
            self.door_keypad_failure(door_id, now);
            return DoorAnswer::Denied;
        };
        let key = (grant.grant_id.clone(), door_id.to_string());
        let used_here = self.door_uses.get(&key).map_or(0, |v| v.len() as u32);
        let uses = grant.uses.get(door_id).copied().unwrap_or(0) + used_here;
        if let Err(denied) = grant.rule.decide(door_id, now, uses, false, &zone) {
            self.record_or_log(EdgeEvent::AccessDenied {
                door_id: door_id.to_string(),
                grant_id: Some(grant.grant_id.clone()),
                reason: denied.as_str().to_string(),
            });
            return DoorAnswer::Denied;
        }
        self.open_door(&door, &grant.grant_id).await
    }

    /// Journals a granted use (durably, first) and releases the door's lock.
    async fn open_door(&mut self, door: &DoorSpec, grant_id: &str) -> DoorAnswer {
        let door_id = door.door_id.as_str();
        if let Some(k) = self.door_keypads.get_mut(door_id) {
            k.record_success();
        }
        let seq = match self.record(EdgeEvent::AccessGranted {
            grant_id: grant_id.to_string(),
            door_id: door_id.to_string(),
        }) {
            Ok(seq) => seq,
            Err(e) => return DoorAnswer::Unavailable(format!("journal: {e}")),
        };
        self.door_uses
            .entry((grant_id.to_string(), door_id.to_string()))
            .or_default()
            .push(seq);
        if self.policy.fault == Some(Fault::AfterAccessJournal) {
            std::process::abort();
        }
        let Some(addr) = self.address_of_output(door.output as usize) else {
            return DoorAnswer::Unavailable(format!("door {door_id} has no lock output"));
        };
        let released = self.release(door_id, addr).await;
        if self.policy.fault == Some(Fault::AfterDoorRelease) {
            std::process::abort();
        }
        match released {
            Ok(()) => DoorAnswer::Opened,
            Err(e) => DoorAnswer::Unavailable(e),
        }
    }

    /// Past its cache's expiry a door takes offline codes only, checked
    /// with the door's own key (`cubby_protocol::offline`). They cannot be
    /// revoked here: that is why they last 24 hours at most.
    async fn offline_door_access(&mut self, door: &DoorSpec, pin: &str, now: Millis) -> DoorAnswer {
        let key: Option<Vec<u8>> = door
            .offline_key
            .as_deref()
            .and_then(|k| hex::decode(k).ok())
            .filter(|_| pin.len() == OFFLINE_CODE_DIGITS);
        let Some(key) = key else {
            return DoorAnswer::Unavailable(
                "this controller's access list has expired; only offline codes open this door"
                    .into(),
            );
        };
        match verify_offline_code(&key, pin, now) {
            Some(code) => self.open_door(door, &code.grant_id).await,
            None => {
                self.record_or_log(EdgeEvent::AccessDenied {
                    door_id: door.door_id.clone(),
                    grant_id: None,
                    reason: "bad_offline_code".into(),
                });
                self.door_keypad_failure(&door.door_id, now);
                DoorAnswer::Denied
            }
        }
    }

    /// A failed PIN at a door's keypad: counts towards that keypad's lockout.
    fn door_keypad_failure(&mut self, door_id: &str, now: Millis) {
        let keypad = self.door_keypads.entry(door_id.to_string()).or_default();
        if let Some(locked) = count_failure(keypad, &self.policy.throttle, now) {
            self.record_or_log(locked);
        }
    }

    /// A failed code at the locker's keypad: counts towards the lockout,
    /// journalled when it locks.
    fn keypad_failure(&mut self, now: Millis) {
        if let Some(locked) = count_failure(&mut self.keypad, &self.policy.throttle, now) {
            self.record_or_log(locked);
        }
    }

    /// A courier deposits a pre-advised parcel with a courier pass. Decided
    /// here from the cache, so it works with the server unreachable: the pass
    /// must be valid, the parcel pre-advised for the pass's carrier, and the
    /// door is chosen among compartments that were free when the cache was
    /// built and that nothing was put into since (the same allocation rules as
    /// the server). The deposit is journalled before the door is released.
    async fn deposit(&mut self, pass: &str, tracking_number: &str) -> DepositAnswer {
        let now = now_ms();
        if pass.len() > 64 || tracking_number.len() > 64 {
            return DepositAnswer::PassRejected;
        }
        if let Err(refusal) = self.keypad.check(now) {
            let until_ms = match refusal {
                KeypadRefusal::LockedOut { retry_after_secs } => {
                    Some(now + retry_after_secs as Millis * 1000)
                }
                KeypadRefusal::Disabled => None,
            };
            return DepositAnswer::Locked { until_ms };
        }
        if self.storage_low() {
            return DepositAnswer::Unavailable(
                "this locker's storage is nearly full and takes no new deposits; pick-ups still work"
                    .into(),
            );
        }
        let Some(cache) = self.cache.as_ref() else {
            return DepositAnswer::Unavailable("this locker has no credential list yet".into());
        };
        if now > cache.expires_ms {
            return DepositAnswer::Unavailable("this locker's credential list has expired".into());
        }
        let mac = local_credential_mac(&self.credential_key, CredentialKind::Courier, pass.trim());
        let Some(courier) = cache.find_courier(&mac, now).cloned() else {
            self.record_or_log(EdgeEvent::DepositRefused {
                reason: "courier pass not accepted".into(),
            });
            self.keypad_failure(now);
            return DepositAnswer::PassRejected;
        };
        self.keypad.record_success();
        let expected = TrackingNumber::parse(tracking_number).ok().and_then(|t| {
            let mac = tracking_mac(&self.credential_key, t.as_str());
            cache
                .find_expected(&mac)
                .filter(|p| p.carrier.as_ref().is_none_or(|c| *c == courier.carrier))
                .cloned()
        });
        let Some(parcel) = expected else {
            self.record_or_log(EdgeEvent::DepositRefused {
                reason: format!("parcel not pre-advised here for {}", courier.carrier),
            });
            return DepositAnswer::NotExpected;
        };
        if self.deposited.contains_key(&parcel.parcel_id) {
            return DepositAnswer::AlreadyDeposited;
        }
        let taken: Vec<&str> = self.deposited.values().map(|(l, _)| l.as_str()).collect();
        let views: Vec<CompartmentView> = cache
            .specs
            .iter()
            .filter(|s| cache.free.contains(&s.label) && !taken.contains(&s.label.as_str()))
            .filter(|s| !self.sensor_says_full(&s.label))
            .filter_map(|s| {
                Some(CompartmentView {
                    id: s.label.clone(),
                    label: s.label.clone(),
                    inner: Dimensions::new(s.width_mm, s.height_mm, s.depth_mm),
                    temperature: s.temperature.parse().ok()?,
                    height_above_floor_mm: 0,
                    status: CompartmentStatus::Available,
                    contents: None,
                })
            })
            .collect();
        let request = ParcelRequest {
            dims: Dimensions::new(parcel.width_mm, parcel.height_mm, parcel.depth_mm),
            temperature: parcel
                .temperature
                .parse()
                .unwrap_or(TemperatureZone::Ambient),
            recipient_key: None,
            carrier: Some(courier.carrier.clone()),
            reach: None,
        };
        let label = match allocate(&request, &views, &CarrierQuotas::new()) {
            Ok(a) => a.label,
            Err(no_fit) => {
                self.record_or_log(EdgeEvent::DepositRefused {
                    reason: no_fit.to_string(),
                });
                return DepositAnswer::NoFit(no_fit.to_string());
            }
        };
        let Some(addr) = self.address_of(&label) else {
            return DepositAnswer::Unavailable(format!("compartment {label} is not wired"));
        };
        let seq = match self.record(EdgeEvent::DepositMade {
            pass_id: courier.pass_id.clone(),
            parcel_id: parcel.parcel_id.clone(),
            compartment: label.clone(),
        }) {
            Ok(seq) => seq,
            Err(e) => return DepositAnswer::Unavailable(format!("journal: {e}")),
        };
        self.deposited
            .insert(parcel.parcel_id.clone(), (label.clone(), seq));
        match self.release(&label, addr).await {
            Ok(()) => DepositAnswer::Opened {
                compartment: label,
                parcel_id: parcel.parcel_id,
            },
            // The board fault is journalled; staff see it as an incident.
            Err(detail) => DepositAnswer::Unavailable(format!(
                "the door did not open ({detail}); keep the parcel and tell staff"
            )),
        }
    }

    /// Whether free space in the data directory is under the floor. An
    /// unreadable file system counts as low: deposits are what can wait.
    fn storage_low(&self) -> bool {
        match rustix::fs::statvfs(&self.data_dir) {
            Ok(st) => st.f_bavail.saturating_mul(st.f_frsize) < self.policy.min_free_bytes,
            Err(_) => true,
        }
    }

    /// Whether the compartment's item sensor last reported something inside.
    fn sensor_says_full(&self, label: &str) -> bool {
        let Some(status) = &self.last_status else {
            return false;
        };
        self.address_of(label)
            .and_then(|addr| status.get(addr))
            .and_then(|s| s.item_present)
            .unwrap_or(false)
    }

    async fn pickup(&mut self, input: &str) -> KioskAnswer {
        let now = now_ms();
        if input.len() > 128 {
            return KioskAnswer::Rejected;
        }
        let (kind, presented) = match classify(input, self.policy.code_digits) {
            Presented::Keypad(c) => (CredentialKind::Keypad, c),
            Presented::Qr(t) => (CredentialKind::Qr, t),
            Presented::Malformed => (CredentialKind::Keypad, String::new()),
        };
        if kind == CredentialKind::Keypad
            && let Err(refusal) = self.keypad.check(now)
        {
            let until = match refusal {
                KeypadRefusal::LockedOut { retry_after_secs } => {
                    Some(now + retry_after_secs as Millis * 1000)
                }
                KeypadRefusal::Disabled => None,
            };
            return KioskAnswer::Locked { until_ms: until };
        }
        let Some(cache) = self.cache.as_ref() else {
            return KioskAnswer::Unavailable("this locker has no credential list yet".into());
        };
        if now > cache.expires_ms {
            return KioskAnswer::Unavailable("this locker's credential list has expired".into());
        }
        let mac = local_credential_mac(&self.credential_key, kind, &presented);
        let found = if presented.is_empty() {
            None
        } else {
            cache
                .find(kind, &mac)
                .filter(|e| !self.consumed.contains_key(&e.credential_id))
                .cloned()
        };
        if found.is_none()
            && !presented.is_empty()
            && let Some(answer) = self.reopen(&mac, now).await
        {
            if kind == CredentialKind::Keypad {
                self.keypad.record_success();
            }
            return answer;
        }
        let Some(entry) = found else {
            self.record_or_log(EdgeEvent::PickupDenied { via: kind });
            if kind == CredentialKind::Keypad {
                self.keypad_failure(now);
            }
            return KioskAnswer::Rejected;
        };
        if kind == CredentialKind::Keypad {
            self.keypad.record_success();
        }
        let seq = match self.record(EdgeEvent::PickupGranted {
            credential_id: entry.credential_id.clone(),
            via: kind,
            compartments: entry.compartments.clone(),
            offline_capable: true,
        }) {
            Ok(seq) => seq,
            Err(e) => return KioskAnswer::Unavailable(format!("journal: {e}")),
        };
        self.consumed.insert(entry.credential_id.clone(), seq);
        if self.policy.reopen_grace_ms > 0 {
            self.reopenable.insert(
                mac,
                Reopenable {
                    credential_id: entry.credential_id.clone(),
                    compartments: entry.compartments.clone(),
                    closed_at: None,
                },
            );
        }
        let mut opened = Vec::new();
        for label in &entry.compartments {
            if let Some(addr) = self.address_of(label)
                && self.release(label, addr).await.is_ok()
            {
                opened.push(label.clone());
            }
        }
        KioskAnswer::Opened(opened)
    }

    /// The same credential again, within the grace after the doors of its
    /// pick-up closed: those compartments open once more (journalled first).
    async fn reopen(&mut self, mac: &[u8; 32], now: Millis) -> Option<KioskAnswer> {
        let grace = self.policy.reopen_grace_ms;
        self.reopenable
            .retain(|_, r| r.closed_at.is_none_or(|t| now - t <= grace));
        let r = self.reopenable.get(mac)?.clone();
        r.closed_at?;
        if let Err(e) = self.record(EdgeEvent::PickupReopened {
            credential_id: r.credential_id.clone(),
            compartments: r.compartments.clone(),
        }) {
            return Some(KioskAnswer::Unavailable(format!("journal: {e}")));
        }
        // Open again: a new grace starts when these doors close.
        if let Some(entry) = self.reopenable.get_mut(mac) {
            entry.closed_at = None;
        }
        let mut opened = Vec::new();
        for label in &r.compartments {
            if let Some(addr) = self.address_of(label)
                && self.release(label, addr).await.is_ok()
            {
                opened.push(label.clone());
            }
        }
        Some(KioskAnswer::Opened(opened))
    }

    /// A one-time challenge for the kiosk screen; the eight newest stay valid
    /// for two minutes.
    fn phone_challenge(&mut self) -> (String, Millis) {
        let mut bytes = [0u8; 16];
        crate::random(&mut bytes);
        let nonce = hex::encode(bytes);
        let expires = now_ms() + CHALLENGE_LIFETIME_MS;
        self.challenges.push_back((nonce.clone(), expires));
        while self.challenges.len() > 8 {
            self.challenges.pop_front();
        }
        (nonce, expires)
    }

    /// A phone pick-up token: signed by the server for this device, answering
    /// a challenge this kiosk showed (spent on first use), naming a credential
    /// in the cache. Refusals look like a wrong code.
    async fn phone_pickup(&mut self, token: &str) -> KioskAnswer {
        let now = now_ms();
        let via = CredentialKind::Phone;
        let accepted = serde_json::from_str::<Signed>(token).ok().and_then(|s| {
            accept_phone_pickup(&s, &self.server_key, &self.identity.device_id, now).ok()
        });
        self.challenges.retain(|(_, exp)| *exp >= now);
        let spent = accepted.as_ref().and_then(|t| {
            let at = self.challenges.iter().position(|(n, _)| *n == t.nonce)?;
            self.challenges.remove(at)
        });
        let entry = match (&accepted, spent, self.cache.as_ref()) {
            (Some(t), Some(_), Some(cache)) if now <= cache.expires_ms => cache
                .entries
                .iter()
                .find(|e| {
                    e.credential_id == t.credential_id
                        && !self.consumed.contains_key(&e.credential_id)
                })
                .cloned(),
            _ => None,
        };
        let Some(entry) = entry else {
            self.record_or_log(EdgeEvent::PickupDenied { via });
            return KioskAnswer::Rejected;
        };
        let seq = match self.record(EdgeEvent::PickupGranted {
            credential_id: entry.credential_id.clone(),
            via,
            compartments: entry.compartments.clone(),
            offline_capable: true,
        }) {
            Ok(seq) => seq,
            Err(e) => return KioskAnswer::Unavailable(format!("journal: {e}")),
        };
        self.consumed.insert(entry.credential_id.clone(), seq);
        let mut opened = Vec::new();
        for label in &entry.compartments {
            if let Some(addr) = self.address_of(label)
                && self.release(label, addr).await.is_ok()
            {
                opened.push(label.clone());
            }
        }
        KioskAnswer::Opened(opened)
    }

    /// A compartment door closed: pick-ups whose doors are all shut start
    /// their reopen grace.
    fn door_closed_for_reopen(&mut self, label: &str, now: Millis) {
        let open: Vec<String> = self.open_since.keys().cloned().collect();
        for r in self.reopenable.values_mut() {
            if r.closed_at.is_none()
                && r.compartments.iter().any(|c| c == label)
                && !r.compartments.iter().any(|c| open.contains(c))
            {
                r.closed_at = Some(now);
            }
        }
    }

    async fn poll_board(&mut self) {
        let status = match self.board.status().await {
            Ok(s) => s,
            Err(e) => {
                if self.board_ok {
                    self.board_ok = false;
                    self.record_or_log(EdgeEvent::BoardFault {
                        detail: format!("status read failed: {e}"),
                    });
                }
                return;
            }
        };
        if !self.board_ok {
            self.board_ok = true;
            self.record_or_log(EdgeEvent::BoardRecovered);
        }
        let now = now_ms();
        let mut changed = self.last_status.is_none();
        if let Some(prev) = self.last_status.clone() {
            for (addr, now_state) in &status.locks {
                let Some(label) = self.label_of(*addr) else {
                    continue;
                };
                let before = prev.get(*addr);
                let was_locked = before.map(|b| b.locked).unwrap_or(true);
                if was_locked && !now_state.locked {
                    changed = true;
                    let commanded = self.unlocking.remove(&label).is_some();
                    if !commanded {
                        self.record_or_log(EdgeEvent::DoorForced {
                            compartment: label.clone(),
                        });
                    }
                    self.record_or_log(EdgeEvent::DoorOpened {
                        compartment: label.clone(),
                        commanded,
                    });
                    self.open_since.insert(label.clone(), (now, false));
                } else if !was_locked && now_state.locked {
                    changed = true;
                    self.open_since.remove(&label);
                    self.record_or_log(EdgeEvent::DoorClosed {
                        compartment: label.clone(),
                        item_present: now_state.item_present,
                    });
                    self.door_closed_for_reopen(&label, now);
                } else if before.map(|b| b.item_present) != Some(now_state.item_present) {
                    changed = true;
                }
            }
        }
        // Unlocks that never released, and doors left open.
        let stuck: Vec<String> = self
            .unlocking
            .iter()
            .filter(|(_, t)| now - **t > self.policy.stuck_after_ms)
            .map(|(l, _)| l.clone())
            .collect();
        for label in stuck {
            self.unlocking.remove(&label);
            self.record_or_log(EdgeEvent::LockStuck { compartment: label });
            changed = true;
        }
        let held: Vec<(String, Millis)> = self
            .open_since
            .iter()
            .filter(|(_, (t, told))| !told && now - *t > self.policy.held_open_ms)
            .map(|(l, (t, _))| (l.clone(), *t))
            .collect();
        for (label, since) in held {
            self.open_since.insert(label.clone(), (since, true));
            self.record_or_log(EdgeEvent::DoorHeldOpen {
                compartment: label,
                seconds: ((now - since) / 1000) as u64,
            });
        }
        self.last_status = Some(status);
        if changed {
            self.publish_state().await;
        }
    }

    pub fn snapshot(&self) -> StateSnapshot {
        let mut compartments = Vec::new();
        if let (Some(status), Some(cache)) = (&self.last_status, &self.cache) {
            let by_label: BTreeMap<String, CompartmentState> = status
                .locks
                .iter()
                .filter_map(|(addr, s)| {
                    let label = self.label_of(*addr)?;
                    Some((
                        label.clone(),
                        CompartmentState {
                            compartment: label,
                            locked: s.locked,
                            item_present: s.item_present,
                        },
                    ))
                })
                .collect();
            for label in &cache.compartments {
                if let Some(c) = by_label.get(label) {
                    compartments.push(c.clone());
                }
            }
        }
        StateSnapshot {
            device_id: self.identity.device_id.clone(),
            at_ms: now_ms(),
            agent_version: env!("CARGO_PKG_VERSION").to_string(),
            cache_version: self.cache.as_ref().map(|c| c.version),
            maintenance: self.maintenance,
            board_ok: self.board_ok,
            journal_head: self.journal.head(),
            journal_acked: self.journal.acked(),
            compartments,
        }
    }

    async fn publish_state(&self) {
        if !self.connected {
            return;
        }
        let body = serde_json::to_vec(&envelope(self.snapshot(), None)).unwrap_or_default();
        self.send(Output::State(body)).await;
    }

    /// Sends the next batch of unacknowledged entries, one batch at a time.
    async fn upload(&mut self) {
        if !self.connected {
            return;
        }
        if let Some((_, sent)) = self.upload_in_flight
            && sent.elapsed() < Duration::from_secs(3)
        {
            return;
        }
        let batch = self.journal.unacked(200);
        let Some(last) = batch.last() else {
            return;
        };
        let last_seq = last.seq;
        let body = cubby_protocol::messages::JournalBatch {
            entries: batch.to_vec(),
        };
        let bytes = serde_json::to_vec(&envelope(body, None)).unwrap_or_default();
        self.upload_in_flight = Some((last_seq, Instant::now()));
        self.send(Output::Journal(bytes)).await;
    }

    async fn heartbeat(&self) {
        if !self.connected {
            return;
        }
        let beat = cubby_protocol::messages::Heartbeat {
            uptime_s: self.started.elapsed().as_secs(),
            journal_unacked: self.journal.head() - self.journal.acked(),
        };
        let body = serde_json::to_vec(&envelope(beat, None)).unwrap_or_default();
        self.send(Output::Heartbeat(body)).await;
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

/// Counts one failure at a keypad; the journal event to record if this
/// failure locked it.
fn count_failure(
    keypad: &mut KeypadState,
    policy: &ThrottlePolicy,
    now: Millis,
) -> Option<EdgeEvent> {
    let was_locked = keypad.check(now).is_err();
    keypad.record_failure(now, policy);
    match keypad.check(now) {
        Err(refusal) if !was_locked => Some(EdgeEvent::KeypadLocked {
            until_ms: match refusal {
                KeypadRefusal::LockedOut { retry_after_secs } => {
                    Some(now + retry_after_secs as Millis * 1000)
                }
                KeypadRefusal::Disabled => None,
            },
        }),
        _ => None,
    }
}
