//! The control-panel session: handshake, poll loop, commands, events.

use crate::codec::{Decoder, Frame, Packet};
use crate::error::Error;
use crate::proto::{
    BuzzerCommand, Capability, CardFormat, LedCommand, NakCode, PdId, PdReport, cmd, reply,
};
use crate::sc::{BaseKey, Handshake, ScError, Session};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tracing::{debug, info, trace, warn};

/// Largest data block accepted for a caller-supplied command.
pub const MAX_COMMAND_DATA: usize = 200;

/// Session configuration for one PD.
#[derive(Clone, Debug)]
pub struct PanelConfig {
    /// PD address, 0x00..=0x7E.
    pub address: u8,
    /// Secure channel key; `None` talks in plain text.
    pub secure_channel: Option<BaseKey>,
    /// Time between polls (OSDP suggests ~200 ms).
    pub poll_interval: Duration,
    /// How long to wait for each reply (OSDP: PD replies within 200 ms).
    pub reply_timeout: Duration,
    /// Retransmissions of an unanswered command before the PD is declared
    /// offline.
    pub max_retries: u8,
    /// Pause between reconnection attempts while the PD is offline.
    pub reconnect_interval: Duration,
    /// Capacity of the events channel; events beyond it are dropped (and
    /// logged) rather than stalling the poll loop.
    pub event_capacity: usize,
    /// Capacity of the command queue.
    pub command_capacity: usize,
    /// Largest packet accepted from the PD.
    pub max_packet_len: usize,
}

impl PanelConfig {
    /// Secure channel with the PD's own 16-byte SCBK (the normal case).
    pub fn secure(address: u8, scbk: [u8; 16]) -> Self {
        Self::with_key(address, Some(BaseKey::Scbk(scbk)))
    }

    /// Secure channel with the install-mode default key SCBK-D. Only for
    /// provisioning a PD that is in install mode; offers no secrecy.
    pub fn install_mode(address: u8) -> Self {
        Self::with_key(address, Some(BaseKey::InstallModeDefault))
    }

    /// No secure channel (PDs without SC support).
    pub fn plain(address: u8) -> Self {
        Self::with_key(address, None)
    }

    fn with_key(address: u8, secure_channel: Option<BaseKey>) -> Self {
        Self {
            address,
            secure_channel,
            poll_interval: Duration::from_millis(200),
            reply_timeout: Duration::from_millis(200),
            max_retries: 3,
            reconnect_interval: Duration::from_secs(1),
            event_capacity: 64,
            command_capacity: 16,
            max_packet_len: crate::codec::DEFAULT_MAX_PACKET_LEN,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        if self.address > 0x7E {
            return Err(Error::InvalidArgument("PD address must be 0x00..=0x7E"));
        }
        if self.reply_timeout.is_zero() || self.poll_interval.is_zero() {
            return Err(Error::InvalidArgument(
                "poll interval and reply timeout must be non-zero",
            ));
        }
        let hour = Duration::from_secs(3600);
        if self.reply_timeout > hour || self.poll_interval > hour || self.reconnect_interval > hour
        {
            return Err(Error::InvalidArgument("durations must not exceed one hour"));
        }
        if self.event_capacity == 0 || self.command_capacity == 0 {
            return Err(Error::InvalidArgument(
                "channel capacities must be non-zero",
            ));
        }
        Ok(())
    }

    /// Upper bound for one transaction including retries.
    fn transaction_bound(&self) -> Duration {
        self.reply_timeout * (u32::from(self.max_retries) + 1) + Duration::from_millis(50)
    }

    /// Upper bound for a full handshake (ID, CAP, CHLNG, SCRYPT).
    fn handshake_bound(&self) -> Duration {
        self.transaction_bound() * 4 + Duration::from_millis(500)
    }
}

/// What the CP learned about the PD while connecting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdInfo {
    /// PD address.
    pub address: u8,
    /// osdp_PDID contents.
    pub id: PdId,
    /// osdp_PDCAP entries.
    pub capabilities: Vec<Capability>,
    /// Whether the secure channel is active.
    pub secure: bool,
    /// Client UID from osdp_CCRYPT (secure sessions only).
    pub client_uid: Option<[u8; 8]>,
}

impl PdInfo {
    /// The capability entry with this function code, if reported.
    pub fn capability(&self, function: u8) -> Option<Capability> {
        self.capabilities
            .iter()
            .copied()
            .find(|c| c.function == function)
    }
}

/// Link state as seen by the CP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// The PD answers; `secure` tells whether the secure channel is up.
    Online {
        /// Secure channel active.
        secure: bool,
    },
    /// The PD does not answer (the CP keeps trying to reconnect).
    Offline,
    /// The panel stopped (stream closed or shut down).
    Closed,
}

/// Why the PD went offline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfflineReason {
    /// No reply within the retry budget.
    NoResponse,
    /// The stream closed; the panel stops (reconnect by creating a new one).
    Disconnected,
    /// The stream failed; the panel stops.
    Io(std::io::ErrorKind),
    /// (Re-)establishing the secure channel failed.
    SecureChannel(ScError),
    /// Any other protocol failure, described.
    Protocol(String),
}

impl From<&Error> for OfflineReason {
    fn from(e: &Error) -> Self {
        match e {
            Error::NoResponse { .. } | Error::Timeout => OfflineReason::NoResponse,
            Error::Disconnected => OfflineReason::Disconnected,
            Error::Io(io) => OfflineReason::Io(io.kind()),
            Error::SecureChannel(sc) => OfflineReason::SecureChannel(sc.clone()),
            other => OfflineReason::Protocol(other.to_string()),
        }
    }
}

/// Something that happened on the link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PanelEvent {
    /// The PD is (again) answering; sent once after `connect` and after every
    /// recovery.
    Online {
        /// Secure channel active.
        secure: bool,
    },
    /// The PD stopped answering.
    Offline {
        /// Why.
        reason: OfflineReason,
    },
    /// Keys pressed on the reader's keypad.
    Keypad {
        /// Reader number.
        reader: u8,
        /// Keys as text (`0`-`9`, `*`, `#`).
        digits: String,
        /// Key bytes as sent by the PD.
        raw: Vec<u8>,
    },
    /// A card was presented.
    Card {
        /// Reader number.
        reader: u8,
        /// Card data encoding.
        format: CardFormat,
        /// Number of valid bits.
        bits: u16,
        /// Card data, MSB first.
        data: Vec<u8>,
    },
}

/// The PD's answer to a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandOutcome {
    /// osdp_ACK.
    Ack,
    /// osdp_NAK with its reason.
    Nak(NakCode),
    /// Any other reply.
    Reply {
        /// Reply code.
        code: u8,
        /// Reply data (decrypted).
        data: Vec<u8>,
    },
}

impl CommandOutcome {
    fn from_frame(f: Frame) -> Self {
        match f.code {
            reply::ACK => CommandOutcome::Ack,
            reply::NAK => CommandOutcome::Nak(NakCode::from(f.data.first().copied().unwrap_or(0))),
            code => CommandOutcome::Reply { code, data: f.data },
        }
    }

    /// True for osdp_ACK.
    pub fn is_ack(&self) -> bool {
        matches!(self, CommandOutcome::Ack)
    }
}

struct Request {
    code: u8,
    data: Vec<u8>,
    reply: oneshot::Sender<Result<CommandOutcome, Error>>,
    retried: bool,
}

enum Msg {
    Command(Request),
    Shutdown,
}

/// Handle to a running CP session with one PD. Cheap to clone; the session
/// stops when [`OsdpPanel::shutdown`] is called or every handle is dropped.
#[derive(Clone, Debug)]
pub struct OsdpPanel {
    tx: mpsc::Sender<Msg>,
    state: watch::Receiver<LinkState>,
    info: Arc<PdInfo>,
    command_timeout: Duration,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::Command(r) => write!(f, "Command({:#04x})", r.code),
            Msg::Shutdown => f.write_str("Shutdown"),
        }
    }
}

impl OsdpPanel {
    /// Identify the PD (osdp_ID, osdp_CAP), set up the secure channel if
    /// configured, then start polling in a background task. Returns the
    /// handle and the events receiver. Fails (within a bounded time) if the
    /// PD does not answer or rejects the secure channel; the stream is
    /// dropped in that case.
    pub async fn connect<S>(
        stream: S,
        config: PanelConfig,
    ) -> Result<(OsdpPanel, mpsc::Receiver<PanelEvent>), Error>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        config.validate()?;
        let mut link = Link::new(stream, &config);
        let info = match timeout(config.handshake_bound(), link.handshake()).await {
            Ok(r) => r?,
            Err(_) => return Err(Error::Timeout),
        };
        info!(
            address = config.address,
            secure = info.secure,
            "OSDP PD online"
        );
        let (tx, rx) = mpsc::channel(config.command_capacity);
        let (ev_tx, ev_rx) = mpsc::channel(config.event_capacity);
        let (state_tx, state_rx) = watch::channel(LinkState::Online {
            secure: info.secure,
        });
        let command_timeout = config.poll_interval
            + config.transaction_bound() * 2
            + config.handshake_bound()
            + Duration::from_millis(500);
        let task = Task {
            link,
            cfg: config,
            rx,
            events: ev_tx,
            state: state_tx,
            dropped_events: 0,
        };
        let secure = info.secure;
        tokio::spawn(task.run(secure));
        Ok((
            OsdpPanel {
                tx,
                state: state_rx,
                info: Arc::new(info),
                command_timeout,
            },
            ev_rx,
        ))
    }

    /// What the PD reported when the session was first established.
    pub fn info(&self) -> &PdInfo {
        &self.info
    }

    /// Current link state.
    pub fn state(&self) -> LinkState {
        self.state.borrow().clone()
    }

    /// A receiver that follows link state changes.
    pub fn watch_state(&self) -> watch::Receiver<LinkState> {
        self.state.clone()
    }

    /// Send an osdp_LED record (in place of the next poll) and wait for the
    /// PD's answer.
    pub async fn led(&self, led: LedCommand) -> Result<CommandOutcome, Error> {
        self.command(cmd::LED, led.encode().to_vec()).await
    }

    /// Send an osdp_BUZ record and wait for the PD's answer.
    pub async fn buzzer(&self, buz: BuzzerCommand) -> Result<CommandOutcome, Error> {
        self.command(cmd::BUZ, buz.encode().to_vec()).await
    }

    /// Send any command (e.g. osdp_OUT, osdp_TEXT) with its data block and
    /// wait for the answer. Secure-channel and poll commands are reserved to
    /// the session.
    pub async fn command(&self, code: u8, data: Vec<u8>) -> Result<CommandOutcome, Error> {
        if matches!(code, cmd::POLL | cmd::CHLNG | cmd::SCRYPT) {
            return Err(Error::InvalidArgument(
                "osdp_POLL, osdp_CHLNG and osdp_SCRYPT are managed by the session",
            ));
        }
        if data.len() > MAX_COMMAND_DATA {
            return Err(Error::InvalidArgument("command data block too long"));
        }
        let (reply, rx) = oneshot::channel();
        let req = Request {
            code,
            data,
            reply,
            retried: false,
        };
        let fut = async {
            self.tx
                .send(Msg::Command(req))
                .await
                .map_err(|_| Error::Closed)?;
            rx.await.map_err(|_| Error::Closed)?
        };
        timeout(self.command_timeout, fut)
            .await
            .map_err(|_| Error::Timeout)?
    }

    /// Stop the session and close the stream.
    pub async fn shutdown(&self) {
        let _ = self.tx.send(Msg::Shutdown).await;
    }
}

/// Request/response transport with sequence numbers, retries and (optional)
/// secure session.
struct Link<S> {
    io: S,
    decoder: Decoder,
    address: u8,
    key: Option<BaseKey>,
    last_seq: Option<u8>,
    session: Option<Session>,
    reply_timeout: Duration,
    max_retries: u8,
    buf: Vec<u8>,
}

enum Waited {
    Reply(Packet),
    Busy,
    Timeout,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Link<S> {
    fn new(io: S, cfg: &PanelConfig) -> Self {
        Self {
            io,
            decoder: Decoder::with_max_packet_len(cfg.max_packet_len),
            address: cfg.address,
            key: cfg.secure_channel.clone(),
            last_seq: None,
            session: None,
            reply_timeout: cfg.reply_timeout,
            max_retries: cfg.max_retries,
            buf: vec![0u8; 512],
        }
    }

    fn next_seq(&self) -> u8 {
        match self.last_seq {
            None => 0,
            Some(3) => 1,
            Some(s) => s + 1,
        }
    }

    /// Drop whatever is already waiting on the input (late replies to earlier
    /// attempts), without blocking.
    async fn discard_stale(&mut self) -> Result<(), Error> {
        self.decoder.clear();
        for _ in 0..16 {
            match timeout(Duration::ZERO, self.io.read(&mut self.buf)).await {
                Err(_) => return Ok(()),
                Ok(Ok(0)) => return Err(Error::Disconnected),
                Ok(Ok(n)) => trace!(bytes = n, "discarding stale input"),
                Ok(Err(e)) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn wait_reply(&mut self, seq: u8) -> Result<Waited, Error> {
        let deadline = Instant::now() + self.reply_timeout;
        loop {
            while let Some(p) = self.decoder.next_packet() {
                let f = p.frame();
                if !f.reply || f.address != self.address {
                    debug!(
                        address = f.address,
                        reply = f.reply,
                        "ignoring foreign packet"
                    );
                    continue;
                }
                if f.code == reply::BUSY && f.security.is_none() {
                    return Ok(Waited::Busy);
                }
                if f.sequence != seq {
                    debug!(
                        got = f.sequence,
                        want = seq,
                        "ignoring reply with stale sequence"
                    );
                    continue;
                }
                return Ok(Waited::Reply(p));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Waited::Timeout);
            }
            match timeout(deadline - now, self.io.read(&mut self.buf)).await {
                Err(_) => return Ok(Waited::Timeout),
                Ok(Ok(0)) => return Err(Error::Disconnected),
                Ok(Ok(n)) => {
                    trace!(rx = ?&self.buf[..n], "received");
                    self.decoder.push(&self.buf[..n]);
                }
                Ok(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Send `bytes` (a packet with sequence `seq`) and wait for its reply,
    /// retransmitting unchanged on timeout.
    async fn exchange(&mut self, seq: u8, code: u8, bytes: &[u8]) -> Result<Packet, Error> {
        let mut attempts: u32 = 0;
        let mut busy: u32 = 0;
        loop {
            attempts += 1;
            self.discard_stale().await?;
            trace!(tx = ?bytes, "sending");
            self.io.write_all(bytes).await?;
            self.io.flush().await?;
            match self.wait_reply(seq).await? {
                Waited::Reply(p) => {
                    self.last_seq = Some(seq);
                    return Ok(p);
                }
                Waited::Busy if busy < 8 => {
                    busy += 1;
                    attempts -= 1;
                    debug!("PD busy; retrying");
                    sleep(self.reply_timeout / 4).await;
                }
                Waited::Busy | Waited::Timeout => {
                    if attempts > u32::from(self.max_retries) {
                        self.last_seq = None;
                        self.session = None;
                        return Err(Error::NoResponse {
                            address: self.address,
                            command: code,
                            attempts,
                        });
                    }
                    debug!(
                        attempt = attempts,
                        command = code,
                        "no reply; retransmitting"
                    );
                }
            }
        }
    }

    /// Send a command (sealed when a secure session is open) and return the
    /// plain reply.
    async fn transact(&mut self, code: u8, data: &[u8]) -> Result<Frame, Error> {
        let seq = self.next_seq();
        let frame = Frame::command(self.address, seq, code, data);
        let bytes = match &mut self.session {
            Some(s) => s.seal(frame)?,
            None => frame.encode()?,
        };
        let pkt = self.exchange(seq, code, &bytes).await?;
        match &mut self.session {
            None => Ok(pkt.into_frame()),
            Some(s) => match s.open(&pkt) {
                Ok(f) => Ok(f),
                Err(ScError::Plaintext(reply::NAK)) => {
                    self.session = None;
                    let nak = pkt.frame().data.first().copied().unwrap_or(0);
                    Err(Error::SecureChannelLost(NakCode::from(nak)))
                }
                Err(e) => {
                    self.session = None;
                    Err(Error::SecureChannel(e))
                }
            },
        }
    }

    async fn transact_expect(&mut self, code: u8, data: &[u8], want: u8) -> Result<Frame, Error> {
        let f = self.transact(code, data).await?;
        match f.code {
            c if c == want => Ok(f),
            reply::NAK => Err(Error::Nak {
                command: code,
                nak: NakCode::from(f.data.first().copied().unwrap_or(0)),
            }),
            other => Err(Error::UnexpectedReply {
                command: code,
                reply: other,
            }),
        }
    }

    /// Restart the conversation (sequence 0), identify the PD and open the
    /// secure channel if configured.
    async fn handshake(&mut self) -> Result<PdInfo, Error> {
        self.session = None;
        self.last_seq = None;
        let id = self.transact_expect(cmd::ID, &[0], reply::PDID).await?;
        let id = PdId::parse(&id.data).ok_or(Error::UnexpectedReply {
            command: cmd::ID,
            reply: reply::PDID,
        })?;
        let caps = self.transact_expect(cmd::CAP, &[0], reply::PDCAP).await?;
        let capabilities = Capability::parse_list(&caps.data);
        let mut info = PdInfo {
            address: self.address,
            id,
            capabilities,
            secure: false,
            client_uid: None,
        };
        let Some(key) = self.key.clone() else {
            return Ok(info);
        };
        if info
            .capability(Capability::COMMUNICATION_SECURITY)
            .is_none_or(|c| c.compliance < 1)
        {
            return Err(Error::SecureChannelUnsupported);
        }
        let hs = Handshake::new(key)?;
        let seq = self.next_seq();
        let chlng = hs.challenge(self.address, seq).encode()?;
        let pkt = self.exchange(seq, cmd::CHLNG, &chlng).await?;
        let auth = hs.on_ccrypt(pkt.frame())?;
        info.client_uid = Some(auth.client_uid());
        let seq = self.next_seq();
        let scrypt = auth.server_cryptogram(self.address, seq).encode()?;
        let pkt = self.exchange(seq, cmd::SCRYPT, &scrypt).await?;
        self.session = Some(auth.on_rmac_i(pkt.frame())?);
        info.secure = true;
        Ok(info)
    }
}

/// What to do after a failed transaction.
enum Recovery {
    /// Stream is gone: stop.
    Stop,
    /// PD unreachable: go offline and retry periodically.
    Offline,
    /// Session state is off (SC dropped, bad MAC, sequence): re-handshake now.
    Resync,
}

fn recovery_for(e: &Error) -> Recovery {
    match e {
        Error::Disconnected | Error::Io(_) => Recovery::Stop,
        Error::NoResponse { .. } | Error::Timeout => Recovery::Offline,
        _ => Recovery::Resync,
    }
}

struct Task<S> {
    link: Link<S>,
    cfg: PanelConfig,
    rx: mpsc::Receiver<Msg>,
    events: mpsc::Sender<PanelEvent>,
    state: watch::Sender<LinkState>,
    dropped_events: u64,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Task<S> {
    fn emit(&mut self, ev: PanelEvent) {
        match self.events.try_send(ev) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(ev)) => {
                self.dropped_events += 1;
                warn!(
                    ?ev,
                    dropped = self.dropped_events,
                    "events channel full; event dropped"
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    fn set_online(&mut self, secure: bool) {
        let now = LinkState::Online { secure };
        if self.state.send_replace(now.clone()) != now {
            self.emit(PanelEvent::Online { secure });
        }
    }

    fn set_offline(&mut self, reason: OfflineReason) {
        let was = self.state.send_replace(LinkState::Offline);
        if was != LinkState::Offline {
            warn!(address = self.cfg.address, ?reason, "OSDP PD offline");
            self.emit(PanelEvent::Offline { reason });
        }
    }

    async fn run(mut self, secure: bool) {
        self.emit(PanelEvent::Online { secure });
        let mut pending: Option<Request> = None;
        let mut next = Instant::now() + self.cfg.poll_interval;
        loop {
            if !self.wait_slot(next, &mut pending).await {
                break;
            }
            let result = match pending.take() {
                Some(req) => self.send_command(req, &mut pending).await,
                None => self.poll().await,
            };
            next = Instant::now() + self.cfg.poll_interval;
            match result {
                Ok(more) => {
                    if more {
                        // The PD had something to report; ask again soon.
                        next =
                            Instant::now() + self.cfg.poll_interval.min(Duration::from_millis(50));
                    }
                }
                Err(e) => match recovery_for(&e) {
                    Recovery::Stop => {
                        self.set_offline(OfflineReason::from(&e));
                        break;
                    }
                    Recovery::Offline => {
                        self.set_offline(OfflineReason::from(&e));
                        if !self.recover(&mut pending).await {
                            break;
                        }
                        next = Instant::now();
                    }
                    Recovery::Resync => {
                        debug!(error = %e, "resynchronising with PD");
                        if !self.recover(&mut pending).await {
                            break;
                        }
                        next = Instant::now();
                    }
                },
            }
        }
        if let Some(req) = pending.take() {
            let _ = req.reply.send(Err(Error::Closed));
        }
        self.state.send_replace(LinkState::Closed);
    }

    /// Wait until the next poll slot, queueing at most one command. Returns
    /// false when the session should stop.
    async fn wait_slot(&mut self, at: Instant, pending: &mut Option<Request>) -> bool {
        loop {
            if pending.is_some() {
                sleep_until(at).await;
                return true;
            }
            tokio::select! {
                _ = sleep_until(at) => return true,
                msg = self.rx.recv() => match msg {
                    None | Some(Msg::Shutdown) => return false,
                    Some(Msg::Command(req)) => *pending = Some(req),
                },
            }
        }
    }

    /// Poll; returns whether the PD reported something.
    async fn poll(&mut self) -> Result<bool, Error> {
        let f = self.link.transact(cmd::POLL, &[]).await?;
        match f.code {
            reply::ACK => Ok(false),
            reply::NAK => {
                let nak = NakCode::from(f.data.first().copied().unwrap_or(0));
                warn!(%nak, "PD answered osdp_POLL with NAK");
                if nak == NakCode::SequenceNumber {
                    return Err(Error::Nak {
                        command: cmd::POLL,
                        nak,
                    });
                }
                Ok(false)
            }
            code => match PdReport::parse(code, &f.data) {
                Some(PdReport::Keypad {
                    reader,
                    digits,
                    raw,
                }) => {
                    self.emit(PanelEvent::Keypad {
                        reader,
                        digits,
                        raw,
                    });
                    Ok(true)
                }
                Some(PdReport::Card {
                    reader,
                    format,
                    bits,
                    data,
                }) => {
                    self.emit(PanelEvent::Card {
                        reader,
                        format,
                        bits,
                        data,
                    });
                    Ok(true)
                }
                None => {
                    debug!(code, len = f.data.len(), "unhandled poll reply");
                    Ok(true)
                }
            },
        }
    }

    async fn send_command(
        &mut self,
        req: Request,
        pending: &mut Option<Request>,
    ) -> Result<bool, Error> {
        match self.link.transact(req.code, &req.data).await {
            Ok(f) => {
                let outcome = CommandOutcome::from_frame(f);
                let resync = outcome == CommandOutcome::Nak(NakCode::SequenceNumber);
                let _ = req.reply.send(Ok(outcome));
                if resync {
                    return Err(Error::Nak {
                        command: req.code,
                        nak: NakCode::SequenceNumber,
                    });
                }
                Ok(false)
            }
            Err(e) => {
                let sc_lost = matches!(e, Error::SecureChannelLost(_) | Error::SecureChannel(_));
                if sc_lost && !req.retried {
                    // Re-establish the session, then send the command once more.
                    *pending = Some(Request {
                        retried: true,
                        ..req
                    });
                } else {
                    let _ = req.reply.send(Err(e.clone()));
                }
                Err(e)
            }
        }
    }

    /// Re-handshake until the PD is back (true) or the session must stop
    /// (false). Commands arriving meanwhile fail with [`Error::Offline`].
    async fn recover(&mut self, pending: &mut Option<Request>) -> bool {
        loop {
            let result = match timeout(self.cfg.handshake_bound(), self.link.handshake()).await {
                Ok(r) => r,
                Err(_) => Err(Error::Timeout),
            };
            match result {
                Ok(info) => {
                    info!(
                        address = self.cfg.address,
                        secure = info.secure,
                        "OSDP PD online"
                    );
                    self.set_online(info.secure);
                    return true;
                }
                Err(e) => {
                    if let Some(req) = pending.take() {
                        let _ = req.reply.send(Err(Error::Offline));
                    }
                    let stop = matches!(recovery_for(&e), Recovery::Stop);
                    self.set_offline(OfflineReason::from(&e));
                    if stop {
                        return false;
                    }
                    debug!(error = %e, "reconnect failed");
                    let until = Instant::now() + self.cfg.reconnect_interval;
                    loop {
                        tokio::select! {
                            _ = sleep_until(until) => break,
                            msg = self.rx.recv() => match msg {
                                None | Some(Msg::Shutdown) => return false,
                                Some(Msg::Command(req)) => {
                                    let _ = req.reply.send(Err(Error::Offline));
                                }
                            },
                        }
                    }
                }
            }
        }
    }
}
