//! Pure frame codecs, one per board family, behind the [`Codec`] trait.
//!
//! Each family is a small constant table of start bytes, command bytes,
//! limits and a checksum function ([`kerong::KerongTable`],
//! [`xor8a::Xor8aTable`]) plus the code that lays those bytes out. Adding a
//! family (the "WKLY" boards, Modbus-RTU relay boards) means adding a table
//! and a codec; [`Board`](crate::Board) and
//! [`SimulatedBank`](crate::SimulatedBank) work with any of them unchanged.
//!
//! Codecs do no IO. They turn a [`Frame`] into bytes ([`Codec::encode`]) and
//! find the next frame in a byte buffer ([`Codec::scan`]), skipping garbage and
//! rejecting frames whose checksum fails. [`FrameReader`] wraps `scan` with a
//! bounded buffer for stream use.
//!
//! The same bytes can mean different things depending on who sent them (a
//! 0x8A unlock request and its acknowledgement are identical), so decoding
//! takes the [`Direction`] the bytes travel in.

pub mod kerong;
pub mod xor8a;

use std::fmt;

use crate::{BoardError, Family, LockAddress, LockStatus};

/// Longest frame any family may produce; also the cap on bytes a
/// [`FrameReader`] keeps while waiting for a frame to complete, so a stream of
/// garbage can never grow a buffer.
pub const MAX_FRAME_LEN: usize = 64;

/// Which way bytes travel on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Host (locker computer) to board: commands.
    ToBoard,
    /// Board to host: replies.
    ToHost,
}

/// A decoded message, in either direction, independent of family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Host → board: release one lock.
    Unlock(LockAddress),
    /// Host → board: release every lock on a board (Kerong 0x33).
    UnlockAll {
        /// Board number.
        board: u8,
    },
    /// Host → board: report lock states; `lock: None` asks for the whole board.
    StatusQuery {
        /// Board number.
        board: u8,
        /// One lock (1-based) or the whole board.
        lock: Option<u8>,
    },
    /// Host → bus: which boards are present (Kerong 0x32, broadcast).
    BusStatusQuery,
    /// Host → board: solenoid pulse length in units of 10 ms (Kerong 0x37).
    SetPulseTime {
        /// Board number.
        board: u8,
        /// Pulse length / 10 ms.
        units_10ms: u16,
    },
    /// Board → host: states of one or more locks on a board, keyed by 1-based
    /// lock number in ascending order.
    StatusReply {
        /// Board number.
        board: u8,
        /// `(lock, status)` pairs.
        locks: Vec<(u8, LockStatus)>,
    },
    /// Board → host: the board accepted an unlock command (0x8A echo).
    UnlockAck(LockAddress),
}

impl Frame {
    /// The direction this kind of frame travels in.
    pub fn direction(&self) -> Direction {
        match self {
            Frame::Unlock(_)
            | Frame::UnlockAll { .. }
            | Frame::StatusQuery { .. }
            | Frame::BusStatusQuery
            | Frame::SetPulseTime { .. } => Direction::ToBoard,
            Frame::StatusReply { .. } | Frame::UnlockAck(_) => Direction::ToHost,
        }
    }
}

/// How a family's bank status has to be polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPoll {
    /// One query per board returns every lock (Kerong).
    PerBoard,
    /// One query per lock (0x8A/XOR: the all-locks reply layout differs
    /// between firmware revisions, the single-lock reply does not).
    PerLock,
}

/// Result of looking for one frame at the front of a buffer.
#[derive(Debug)]
pub enum Scan {
    /// No complete frame yet. The first `garbage` bytes cannot begin a frame
    /// and may be dropped; the rest may still grow into one.
    Incomplete {
        /// Bytes at the front that can be discarded.
        garbage: usize,
    },
    /// A valid frame occupies `buf[start..end]`; everything before `start` is
    /// garbage.
    Frame {
        /// First byte of the frame.
        start: usize,
        /// One past the last byte of the frame.
        end: usize,
        /// The decoded frame.
        frame: Frame,
    },
    /// Something frame-shaped at `start` failed validation (checksum,
    /// terminator, field range). Drop `buf[..=start]` and scan again: only the
    /// start byte is skipped, because a genuine frame may begin inside the
    /// rejected one.
    Corrupt {
        /// Offset of the rejected start byte.
        start: usize,
        /// Why it was rejected.
        reason: String,
    },
}

/// A board family's wire protocol. Implementations are pure and stateless.
pub trait Codec: Send + Sync + fmt::Debug {
    /// The family this codec speaks.
    fn family(&self) -> Family;

    /// Whether `board` can be addressed at all in this family.
    fn validate_board(&self, board: u8) -> Result<(), BoardError>;

    /// Most locks one board of this family can have.
    fn max_locks_per_board(&self) -> u8;

    /// How [`Board::status`](crate::Board::status) must poll.
    fn status_poll(&self) -> StatusPoll;

    /// Whether the board answers an unlock command. If not, the only feedback
    /// is a later status read.
    fn acknowledges_unlock(&self) -> bool;

    /// Whether the family reports item presence.
    fn has_item_sensors(&self) -> bool;

    /// Encode a frame, or explain why this family cannot express it.
    fn encode(&self, frame: &Frame) -> Result<Vec<u8>, BoardError>;

    /// Find the first frame travelling in `dir` in `buf`.
    fn scan(&self, buf: &[u8], dir: Direction) -> Scan;

    /// Whether `addr` can be addressed at all in this family. Checked before
    /// encoding because an out-of-range lock number could otherwise spill into
    /// a neighbouring field and open the wrong door.
    fn validate(&self, addr: LockAddress) -> Result<(), BoardError> {
        self.validate_board(addr.board)?;
        if addr.lock == 0 || addr.lock > self.max_locks_per_board() {
            return Err(BoardError::InvalidAddress(format!(
                "lock {} does not exist on a {} board (locks 1-{})",
                addr.lock,
                self.family(),
                self.max_locks_per_board()
            )));
        }
        Ok(())
    }

    /// Bytes that release one lock.
    fn encode_unlock(&self, addr: LockAddress) -> Result<Vec<u8>, BoardError> {
        self.encode(&Frame::Unlock(addr))
    }

    /// Bytes that ask a whole board for its status.
    fn encode_status(&self, board: u8) -> Result<Vec<u8>, BoardError> {
        self.encode(&Frame::StatusQuery { board, lock: None })
    }

    /// Bytes that ask for one lock's status (families polled
    /// [`StatusPoll::PerLock`]).
    fn encode_lock_status(&self, addr: LockAddress) -> Result<Vec<u8>, BoardError> {
        self.encode(&Frame::StatusQuery {
            board: addr.board,
            lock: Some(addr.lock),
        })
    }

    /// Decode the first frame in `buf`, skipping garbage and corrupt frames.
    /// Returns the frame and the number of bytes consumed, or `None` if no
    /// complete valid frame is present. Convenience for tests and one-shot
    /// use; streams should use [`FrameReader`].
    fn decode(&self, buf: &[u8], dir: Direction) -> Option<(Frame, usize)> {
        let mut offset = 0;
        loop {
            match self.scan(&buf[offset..], dir) {
                Scan::Frame { end, frame, .. } => return Some((frame, offset + end)),
                Scan::Incomplete { .. } => return None,
                Scan::Corrupt { start, .. } => offset += start + 1,
            }
        }
    }
}

/// Incremental decoder over a byte stream with a bounded buffer.
///
/// Bytes are pushed as they arrive; complete frames (and reports of rejected
/// ones) come out in order. Garbage is dropped as soon as it is recognised and
/// at most [`MAX_FRAME_LEN`] bytes of an unfinished frame are retained.
#[derive(Debug)]
pub struct FrameReader {
    codec: &'static dyn Codec,
    dir: Direction,
    buf: Vec<u8>,
}

impl FrameReader {
    /// A reader for frames travelling in `dir`.
    pub fn new(codec: &'static dyn Codec, dir: Direction) -> Self {
        Self {
            codec,
            dir,
            buf: Vec::with_capacity(2 * MAX_FRAME_LEN),
        }
    }

    /// Append `bytes` and return every frame now complete, with an `Err`
    /// ([`BoardError::BadFrame`]) for each rejected one.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<Frame, BoardError>> {
        let mut out = Vec::new();
        // Feed in slices no larger than the cap so the buffer stays bounded
        // even when a caller hands over a large read.
        for piece in bytes.chunks(MAX_FRAME_LEN) {
            self.buf.extend_from_slice(piece);
            self.drain_into(&mut out);
        }
        out
    }

    fn drain_into(&mut self, out: &mut Vec<Result<Frame, BoardError>>) {
        loop {
            match self.codec.scan(&self.buf, self.dir) {
                Scan::Frame { end, frame, .. } => {
                    self.buf.drain(..end);
                    out.push(Ok(frame));
                }
                Scan::Corrupt { start, reason } => {
                    self.buf.drain(..=start);
                    out.push(Err(BoardError::BadFrame(reason)));
                }
                Scan::Incomplete { garbage } => {
                    self.buf.drain(..garbage);
                    if self.buf.len() <= MAX_FRAME_LEN {
                        return;
                    }
                    // Longer than any frame yet still "incomplete": the start
                    // byte was a false one. Drop it and rescan.
                    self.buf.drain(..1);
                }
            }
        }
    }

    /// Forget any partial frame, e.g. before a new request so a late reply
    /// fragment to an earlier one cannot merge with the next answer.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Bytes held for an unfinished frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

pub(crate) fn invalid_board(family: Family, board: u8, range: &str) -> BoardError {
    BoardError::InvalidAddress(format!(
        "board {board} does not exist in the {family} family (boards {range})"
    ))
}

/// Space-separated upper-case hex, the way frames are written in board
/// manuals, so logged frames can be compared with the documentation by eye.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}
