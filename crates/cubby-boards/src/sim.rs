//! [`SimulatedBank`]: a software bank of lock boards for tests and demos.
//!
//! The simulator sits on the *device* side of a byte stream and answers the
//! family's protocol exactly as the hardware would, so the code under test
//! runs its real codec and transport. Its state is shared behind a mutex and
//! the handle is cheap to clone: a test keeps one clone to play the person at
//! the locker (closing doors, putting parcels in) and to inject faults, while
//! another clone serves the stream.
//!
//! Physical model, per lock:
//!
//! * **latched**: the lock holds the door; reported as `locked`.
//! * **door open**: an unlatched door springs open; closing it relatches.
//! * **item present**: the IR sensor, for families that have one.
//! * **releases**: how many times an unlock *command* actually released the
//!   latch. Commands to an already-open or stuck lock, and forced openings,
//!   do not count, so tests can assert "exactly one door was released".

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::codec::{Codec, Direction, Frame, FrameReader, MAX_FRAME_LEN, hex};
use crate::{BankStatus, Family, LockAddress, LockStatus};

/// A fault injected into one lock or board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The board accepts unlock commands for this lock (and acknowledges them
    /// if the family does) but the latch never releases: a jammed bolt or a
    /// dead solenoid.
    StuckLock,
    /// The whole board holding this lock stops answering and acting on
    /// commands, as if unpowered or cut off the bus.
    NoReply,
}

/// Everything the simulator knows about one lock, for assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimLockState {
    /// Latch engaged.
    pub latched: bool,
    /// Door physically open.
    pub door_open: bool,
    /// Item sensor (tracked for every family; reported only where the family
    /// has sensors).
    pub item_present: bool,
    /// Unlock commands that released the latch.
    pub releases: u32,
    /// Unlock commands received for this lock, whatever their effect.
    pub unlock_commands: u32,
    /// Times the door was opened without a command ([`SimulatedBank::force_open`]).
    pub forced_opens: u32,
    /// [`Fault::StuckLock`] is set.
    pub stuck: bool,
}

#[derive(Debug)]
struct State {
    locks: BTreeMap<LockAddress, SimLockState>,
    silent_boards: BTreeSet<u8>,
    silent: bool,
    reply_delay: Duration,
}

/// A simulated bank of lock boards of one family. Clones share state.
#[derive(Debug, Clone)]
pub struct SimulatedBank {
    family: Family,
    state: Arc<Mutex<State>>,
}

impl SimulatedBank {
    /// A bank of `boards`, each with locks `1..=locks_per_board`, all latched
    /// with doors closed and empty, as after power-on.
    pub fn new(family: Family, boards: Vec<u8>, locks_per_board: u8) -> Self {
        let locks = boards
            .iter()
            .flat_map(|board| (1..=locks_per_board).map(move |lock| LockAddress::new(*board, lock)))
            .map(|addr| {
                let lock = SimLockState {
                    latched: true,
                    ..SimLockState::default()
                };
                (addr, lock)
            })
            .collect();
        Self {
            family,
            state: Arc::new(Mutex::new(State {
                locks,
                silent_boards: BTreeSet::new(),
                silent: false,
                reply_delay: Duration::ZERO,
            })),
        }
    }

    /// The family this bank speaks.
    pub fn family(&self) -> Family {
        self.family
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock (in a test assertion) must not make
        // every later call panic too; the state itself is always consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_lock<R>(&self, addr: LockAddress, f: impl FnOnce(&mut SimLockState) -> R) -> Option<R> {
        self.state().locks.get_mut(&addr).map(f)
    }

    /// A person shuts the door; the latch catches it again. Returns false if
    /// the lock does not exist.
    pub fn close_door(&self, addr: LockAddress) -> bool {
        self.with_lock(addr, |l| {
            l.door_open = false;
            l.latched = true;
        })
        .is_some()
    }

    /// An item appears in the compartment. Not tied to the door being open,
    /// so tests can start from a bank that already holds parcels.
    pub fn put_item(&self, addr: LockAddress) -> bool {
        self.with_lock(addr, |l| l.item_present = true).is_some()
    }

    /// The item is removed.
    pub fn take_item(&self, addr: LockAddress) -> bool {
        self.with_lock(addr, |l| l.item_present = false).is_some()
    }

    /// The door is opened without any command (pried open, mechanical key).
    /// Not counted as a release.
    pub fn force_open(&self, addr: LockAddress) -> bool {
        self.with_lock(addr, |l| {
            l.latched = false;
            l.door_open = true;
            l.forced_opens += 1;
        })
        .is_some()
    }

    /// Inject `fault`. [`Fault::NoReply`] silences the whole board holding
    /// `addr`. Returns false if the lock does not exist.
    pub fn set_fault(&self, addr: LockAddress, fault: Fault) -> bool {
        let mut state = self.state();
        if !state.locks.contains_key(&addr) {
            return false;
        }
        match fault {
            Fault::StuckLock => {
                if let Some(lock) = state.locks.get_mut(&addr) {
                    lock.stuck = true;
                }
            }
            Fault::NoReply => {
                state.silent_boards.insert(addr.board);
            }
        }
        true
    }

    /// Remove `fault` from `addr` (for `NoReply`, from its board).
    pub fn clear_fault(&self, addr: LockAddress, fault: Fault) {
        let mut state = self.state();
        match fault {
            Fault::StuckLock => {
                if let Some(lock) = state.locks.get_mut(&addr) {
                    lock.stuck = false;
                }
            }
            Fault::NoReply => {
                state.silent_boards.remove(&addr.board);
            }
        }
    }

    /// Silence (or revive) one board.
    pub fn set_board_silent(&self, board: u8, silent: bool) {
        let mut state = self.state();
        if silent {
            state.silent_boards.insert(board);
        } else {
            state.silent_boards.remove(&board);
        }
    }

    /// Silence (or revive) the whole bank: the bus is cut or the bank is
    /// unpowered. Silent boards neither answer nor act on commands.
    pub fn set_silent(&self, silent: bool) {
        self.state().silent = silent;
    }

    /// Delay every reply, to exercise timeouts against a slow board or gateway.
    pub fn set_reply_delay(&self, delay: Duration) {
        self.state().reply_delay = delay;
    }

    /// Times an unlock command released `addr`'s latch (0 for unknown locks).
    pub fn releases(&self, addr: LockAddress) -> u32 {
        self.with_lock(addr, |l| l.releases).unwrap_or(0)
    }

    /// Releases across the whole bank.
    pub fn total_releases(&self) -> u32 {
        self.state().locks.values().map(|l| l.releases).sum()
    }

    /// Full simulator state of one lock.
    pub fn lock_state(&self, addr: LockAddress) -> Option<SimLockState> {
        self.with_lock(addr, |l| *l)
    }

    /// Whether `addr`'s door is physically open.
    pub fn door_open(&self, addr: LockAddress) -> bool {
        self.with_lock(addr, |l| l.door_open).unwrap_or(false)
    }

    /// What the boards would report right now, as the family reports it
    /// (`item_present` is `None` for families without sensors).
    pub fn snapshot(&self) -> BankStatus {
        let sensors = self.family.codec().has_item_sensors();
        let locks = self
            .state()
            .locks
            .iter()
            .map(|(addr, l)| (*addr, status_of(l, sensors)))
            .collect();
        BankStatus { locks }
    }

    /// Answer the protocol on the device side of `stream` until the other end
    /// closes it. Garbage and corrupt frames are ignored, as a board would.
    pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(&self, mut stream: S) -> io::Result<()> {
        let codec = self.family.codec();
        let mut reader = FrameReader::new(codec, Direction::ToBoard);
        let mut chunk = [0u8; MAX_FRAME_LEN];
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            for item in reader.push(&chunk[..n]) {
                let frame = match item {
                    Ok(frame) => frame,
                    Err(e) => {
                        tracing::debug!(error = %e, "simulator ignoring corrupt frame");
                        continue;
                    }
                };
                let (reply, delay) = self.handle(codec, &frame);
                if let Some(reply) = reply {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    stream.write_all(&reply).await?;
                    stream.flush().await?;
                }
            }
        }
    }

    /// Serve every connection accepted on `listener`, each in its own task,
    /// like a serial-to-TCP gateway in front of this bank. Runs until
    /// accepting fails.
    pub async fn serve_listener(&self, listener: TcpListener) -> io::Result<()> {
        loop {
            let (stream, peer) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let sim = self.clone();
            tokio::spawn(async move {
                if let Err(e) = sim.serve(stream).await {
                    tracing::debug!(%peer, error = %e, "simulated gateway connection ended");
                }
            });
        }
    }

    /// Bind a TCP listener on `addr` (e.g. `127.0.0.1:0`) and serve it in the
    /// background; returns the bound address. This is the serial-gateway
    /// setup, for tests that run the agent in another process. Must be called
    /// inside a tokio runtime; the listener lives as long as the runtime.
    pub fn spawn_tcp(&self, addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|e| io::Error::other(format!("spawn_tcp needs a tokio runtime: {e}")))?;
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        let _guard = handle.enter();
        let listener = TcpListener::from_std(listener)?;
        let sim = self.clone();
        handle.spawn(async move {
            if let Err(e) = sim.serve_listener(listener).await {
                tracing::warn!(error = %e, "simulated gateway stopped accepting");
            }
        });
        Ok(local)
    }

    /// Apply one command to the model; returns the reply bytes, if any, and
    /// how long to wait before sending them.
    fn handle(&self, codec: &dyn Codec, frame: &Frame) -> (Option<Vec<u8>>, Duration) {
        let mut state = self.state();
        let delay = state.reply_delay;
        let board = match frame {
            Frame::Unlock(addr) => addr.board,
            Frame::UnlockAll { board }
            | Frame::StatusQuery { board, .. }
            | Frame::SetPulseTime { board, .. } => *board,
            Frame::BusStatusQuery | Frame::StatusReply { .. } | Frame::UnlockAck(_) => {
                // Bus status reply layout is not modelled; replies from other
                // boards are not for us.
                return (None, delay);
            }
        };
        let present = state.locks.keys().any(|a| a.board == board);
        if !present || state.silent || state.silent_boards.contains(&board) {
            return (None, delay);
        }
        let sensors = codec.has_item_sensors();
        let reply = match frame {
            Frame::Unlock(addr) => {
                if let Some(lock) = state.locks.get_mut(addr) {
                    unlock(lock);
                }
                if !codec.acknowledges_unlock() {
                    return (None, delay);
                }
                Frame::UnlockAck(*addr)
            }
            Frame::UnlockAll { board } => {
                state
                    .locks
                    .iter_mut()
                    .filter(|(a, _)| a.board == *board)
                    .for_each(|(_, lock)| unlock(lock));
                return (None, delay);
            }
            Frame::StatusQuery { board, lock } => {
                let locks = state
                    .locks
                    .iter()
                    .filter(|(a, _)| a.board == *board && lock.is_none_or(|l| a.lock == l))
                    .map(|(a, l)| (a.lock, status_of(l, sensors)))
                    .collect::<Vec<_>>();
                if locks.is_empty() {
                    return (None, delay);
                }
                Frame::StatusReply {
                    board: *board,
                    locks,
                }
            }
            _ => return (None, delay),
        };
        match codec.encode(&reply) {
            Ok(bytes) => {
                tracing::trace!(reply = %hex(&bytes), "simulator reply");
                (Some(bytes), delay)
            }
            Err(e) => {
                // E.g. an all-locks query on a family whose all-locks reply is
                // not modelled: stay silent, as an unsure board would.
                tracing::debug!(error = %e, ?frame, "simulator cannot answer");
                (None, delay)
            }
        }
    }
}

/// An unlock command reaches the lock's solenoid.
fn unlock(lock: &mut SimLockState) {
    lock.unlock_commands += 1;
    if lock.stuck || !lock.latched {
        return;
    }
    lock.latched = false;
    lock.door_open = true;
    lock.releases += 1;
}

fn status_of(lock: &SimLockState, sensors: bool) -> LockStatus {
    LockStatus {
        locked: lock.latched,
        item_present: sensors.then_some(lock.item_present),
    }
}
