//! [`Board`]: a bank of lock-control boards of one family on one transport.
//!
//! The bus is strictly request/response: the host sends one frame and waits
//! for the matching reply before sending the next, because RS-485 is
//! half-duplex and boards do not queue. Every wait is bounded by the reply
//! timeout so a dead board surfaces as [`BoardError::Timeout`] instead of a
//! hung agent.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use crate::codec::{Codec, Direction, Frame, FrameReader, MAX_FRAME_LEN, StatusPoll, hex};
use crate::{BankStatus, BoardError, Family, LockAddress, LockStatus};

/// How long to wait for a reply unless configured otherwise. Boards answer
/// in a few milliseconds at 19200 baud; 300 ms leaves room for a serial-to-TCP
/// gateway on a busy network while keeping a full poll of a dead bank short.
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_millis(300);

/// Upper bound on stale bytes discarded before a request, so a board that
/// streams garbage cannot stall the agent in the discard loop.
const MAX_STALE_READS: usize = 16;

/// A bank of boards of one [`Family`] reachable over `transport`.
///
/// `transport` is anything byte-oriented: a serial port from
/// [`open_serial`](crate::open_serial), a `tokio::net::TcpStream` to a
/// serial-to-TCP gateway, or one half of `tokio::io::duplex` in tests.
#[derive(Debug)]
pub struct Board<T> {
    family: Family,
    codec: &'static dyn Codec,
    transport: T,
    boards: Vec<u8>,
    locks_per_board: u8,
    reply_timeout: Duration,
    reader: FrameReader,
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Board<T> {
    /// A bank of `boards` (numbered as the family numbers them), each with
    /// locks `1..=locks_per_board`. Addresses are checked when used; call
    /// [`Board::try_new`] to check them up front.
    pub fn new(family: Family, transport: T, boards: Vec<u8>, locks_per_board: u8) -> Self {
        let codec = family.codec();
        Self {
            family,
            codec,
            transport,
            boards,
            locks_per_board,
            reply_timeout: DEFAULT_REPLY_TIMEOUT,
            reader: FrameReader::new(codec, Direction::ToHost),
        }
    }

    /// Like [`Board::new`], but rejects a configuration the family cannot
    /// address (e.g. Kerong board 12, or 20 locks on a 16-lock board) before
    /// any byte is sent.
    pub fn try_new(
        family: Family,
        transport: T,
        boards: Vec<u8>,
        locks_per_board: u8,
    ) -> Result<Self, BoardError> {
        let board = Self::new(family, transport, boards, locks_per_board);
        board.validate()?;
        Ok(board)
    }

    /// Check that every configured board and lock exists in this family.
    pub fn validate(&self) -> Result<(), BoardError> {
        if self.boards.is_empty() {
            return Err(BoardError::InvalidAddress("no boards configured".into()));
        }
        if self.locks_per_board == 0 || self.locks_per_board > self.codec.max_locks_per_board() {
            return Err(BoardError::InvalidAddress(format!(
                "{} locks per board; a {} board has 1-{}",
                self.locks_per_board,
                self.family,
                self.codec.max_locks_per_board()
            )));
        }
        self.boards
            .iter()
            .try_for_each(|b| self.codec.validate_board(*b))
    }

    /// Set the reply timeout (builder style).
    pub fn with_reply_timeout(mut self, timeout: Duration) -> Self {
        self.reply_timeout = timeout;
        self
    }

    /// Set the reply timeout.
    pub fn set_reply_timeout(&mut self, timeout: Duration) {
        self.reply_timeout = timeout;
    }

    /// Current reply timeout.
    pub fn reply_timeout(&self) -> Duration {
        self.reply_timeout
    }

    /// The family spoken on this transport.
    pub fn family(&self) -> Family {
        self.family
    }

    /// Configured board numbers.
    pub fn boards(&self) -> &[u8] {
        &self.boards
    }

    /// Locks per board.
    pub fn locks_per_board(&self) -> u8 {
        self.locks_per_board
    }

    /// Every configured lock address, in order.
    pub fn addresses(&self) -> impl Iterator<Item = LockAddress> + '_ {
        self.boards.iter().flat_map(move |board| {
            (1..=self.locks_per_board).map(move |lock| LockAddress::new(*board, lock))
        })
    }

    /// Borrow the transport.
    pub fn get_ref(&self) -> &T {
        &self.transport
    }

    /// Give the transport back.
    pub fn into_inner(self) -> T {
        self.transport
    }

    /// Release one lock.
    ///
    /// For families that acknowledge unlocks (0x8A/XOR) this waits for the
    /// acknowledgement. Kerong boards send nothing back, so `Ok` only means
    /// the command went out; read [`Board::status`] afterwards to see whether
    /// the lock actually released.
    pub async fn unlock(&mut self, addr: LockAddress) -> Result<(), BoardError> {
        self.check_configured(addr)?;
        let request = self.codec.encode_unlock(addr)?;
        tracing::debug!(family = %self.family, %addr, frame = %hex(&request), "unlock");
        if self.codec.acknowledges_unlock() {
            self.transact(&request, |frame| {
                matches!(frame, Frame::UnlockAck(a) if *a == addr).then_some(())
            })
            .await
        } else {
            self.send(&request).await
        }
    }

    /// Status of every configured lock, polling each board (or each lock)
    /// as the family requires. Fails on the first board that does not
    /// answer, so a partial bank is never mistaken for the whole one; use
    /// [`Board::board_status`] to poll boards individually.
    pub async fn status(&mut self) -> Result<BankStatus, BoardError> {
        let mut bank = BankStatus::default();
        for board in self.boards.clone() {
            bank.locks.extend(self.board_status(board).await?.locks);
        }
        Ok(bank)
    }

    /// Status of the configured locks of one board.
    pub async fn board_status(&mut self, board: u8) -> Result<BankStatus, BoardError> {
        if !self.boards.contains(&board) {
            return Err(BoardError::InvalidAddress(format!(
                "board {board} is not configured in this bank"
            )));
        }
        self.validate()?;
        let mut bank = BankStatus::default();
        match self.codec.status_poll() {
            StatusPoll::PerBoard => {
                let request = self.codec.encode_status(board)?;
                let locks = self
                    .transact(&request, |frame| match frame {
                        Frame::StatusReply { board: b, locks } if *b == board => {
                            Some(locks.clone())
                        }
                        _ => None,
                    })
                    .await?;
                for lock in 1..=self.locks_per_board {
                    let status = locks
                        .iter()
                        .find(|(l, _)| *l == lock)
                        .map(|(_, s)| *s)
                        .ok_or_else(|| {
                            BoardError::BadFrame(format!(
                                "status reply from board {board} lacks lock {lock}"
                            ))
                        })?;
                    bank.locks.insert(LockAddress::new(board, lock), status);
                }
            }
            StatusPoll::PerLock => {
                for lock in 1..=self.locks_per_board {
                    let addr = LockAddress::new(board, lock);
                    let status = self.query_lock(addr).await?;
                    bank.locks.insert(addr, status);
                }
            }
        }
        Ok(bank)
    }

    /// Status of one lock. For per-board families this polls the whole board
    /// and picks the lock out.
    pub async fn lock_status(&mut self, addr: LockAddress) -> Result<LockStatus, BoardError> {
        self.check_configured(addr)?;
        match self.codec.status_poll() {
            StatusPoll::PerLock => self.query_lock(addr).await,
            StatusPoll::PerBoard => self
                .board_status(addr.board)
                .await?
                .get(addr)
                .ok_or_else(|| BoardError::BadFrame(format!("no status for lock {addr}"))),
        }
    }

    async fn query_lock(&mut self, addr: LockAddress) -> Result<LockStatus, BoardError> {
        let request = self.codec.encode_lock_status(addr)?;
        self.transact(&request, |frame| match frame {
            Frame::StatusReply { board, locks } if *board == addr.board => locks
                .iter()
                .find(|(lock, _)| *lock == addr.lock)
                .map(|(_, status)| *status),
            _ => None,
        })
        .await
    }

    fn check_configured(&self, addr: LockAddress) -> Result<(), BoardError> {
        self.codec.validate(addr)?;
        if !self.boards.contains(&addr.board) || addr.lock == 0 || addr.lock > self.locks_per_board
        {
            return Err(BoardError::InvalidAddress(format!(
                "lock {addr} is not configured in this bank (boards {:?}, locks 1-{})",
                self.boards, self.locks_per_board
            )));
        }
        Ok(())
    }

    /// Write a request without waiting for a reply.
    async fn send(&mut self, request: &[u8]) -> Result<(), BoardError> {
        self.discard_stale().await;
        let deadline = Instant::now() + self.reply_timeout;
        self.write(request, deadline).await
    }

    async fn write(&mut self, request: &[u8], deadline: Instant) -> Result<(), BoardError> {
        // A gateway whose TCP window is full would block forever; the write
        // counts against the same budget as the reply.
        let write = async {
            self.transport.write_all(request).await?;
            self.transport.flush().await
        };
        match tokio::time::timeout_at(deadline, write).await {
            Ok(result) => result.map_err(BoardError::Io),
            Err(_) => Err(BoardError::Timeout),
        }
    }

    /// Send `request` and wait for the first frame `want` accepts. Frames it
    /// does not accept (other boards' replies, our own echo) are skipped.
    async fn transact<R>(
        &mut self,
        request: &[u8],
        mut want: impl FnMut(&Frame) -> Option<R>,
    ) -> Result<R, BoardError> {
        self.discard_stale().await;
        let deadline = Instant::now() + self.reply_timeout;
        self.write(request, deadline).await?;
        // If nothing valid arrives but garbage did, say so: a noisy line or
        // wrong family is a different fault from a silent board.
        let mut last_bad: Option<String> = None;
        let mut chunk = [0u8; MAX_FRAME_LEN];
        loop {
            let n = match tokio::time::timeout_at(deadline, self.transport.read(&mut chunk)).await {
                Err(_) => {
                    tracing::debug!(family = %self.family, frame = %hex(request), "reply timeout");
                    return Err(last_bad.map_or(BoardError::Timeout, BoardError::BadFrame));
                }
                Ok(Ok(0)) => return Err(BoardError::Disconnected),
                Ok(Ok(n)) => n,
                Ok(Err(e)) => return Err(BoardError::Io(e)),
            };
            for item in self.reader.push(&chunk[..n]) {
                match item {
                    Ok(frame) => match want(&frame) {
                        Some(reply) => return Ok(reply),
                        None => tracing::debug!(?frame, "ignoring unrelated frame"),
                    },
                    Err(e) => {
                        tracing::warn!(family = %self.family, error = %e, "corrupt frame from board");
                        last_bad = Some(e.to_string());
                    }
                }
            }
        }
    }

    /// Drop bytes that arrived outside any exchange (a late reply to a timed
    /// out request), so they cannot be taken for the answer to the next one.
    async fn discard_stale(&mut self) {
        self.reader.clear();
        let mut chunk = [0u8; MAX_FRAME_LEN];
        for _ in 0..MAX_STALE_READS {
            // A zero timeout still polls the read once: this takes only what
            // is already waiting and never blocks.
            match tokio::time::timeout(Duration::ZERO, self.transport.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => {
                    tracing::debug!(bytes = %hex(&chunk[..n]), "discarding stale input");
                }
                _ => return,
            }
        }
    }
}
