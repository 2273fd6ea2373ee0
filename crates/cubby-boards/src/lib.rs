//! cubby-boards: the lock-control board layer of a Cubby locker bank.
//!
//! A locker bank's computer talks to one or more lock-control boards over an
//! RS-485 bus, either through a local serial adapter or through a
//! serial-to-TCP gateway. This crate is everything between "release lock 3 on
//! board 1" and the bytes on that bus:
//!
//! * [`codec`]: pure, table-driven frame codecs, one per board family
//!   ([`Family::Kerong`], [`Family::Xor8a`]). No IO, so every byte can be
//!   tested against hand-computed vectors.
//! * [`board`]: [`Board`], which drives a bank of boards of one family over any
//!   `AsyncRead + AsyncWrite` transport with reply timeouts.
//! * [`transport`]: opening a serial port ([`open_serial`]) and a
//!   pseudo-terminal pair for tests ([`pty_pair`]). A gateway is simply a
//!   `tokio::net::TcpStream`.
//! * [`sim`]: [`SimulatedBank`], a software bank of boards that answers the
//!   same protocol on the device side of a stream, with doors, items, faults
//!   and counters, so tests and demos need no hardware.
//!
//! Nothing here knows about MQTT, the server or parcels: the edge agent owns
//! that and sees the hardware only through these types.

pub mod board;
pub mod codec;
pub mod sim;
pub mod transport;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

pub use board::{Board, DEFAULT_REPLY_TIMEOUT};
pub use codec::{Codec, Direction, Frame, FrameReader, MAX_FRAME_LEN, Scan, StatusPoll};
pub use sim::{Fault, SimLockState, SimulatedBank};
pub use transport::{DEFAULT_BAUD, open_serial};
#[cfg(unix)]
pub use transport::{PtyDevice, pty_pair};

/// One lock in a bank, addressed the way the hardware is labelled.
///
/// `lock` is 1-based, as printed next to the connector on every board we
/// support; `board` is numbered the way the family numbers it (Kerong boards
/// from 0 via the rotary switch, 0x8A/XOR boards from 1). Keeping the printed
/// numbers here, and translating to wire indices only inside the codecs, means
/// an installer's wiring sheet and the configuration agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LockAddress {
    /// Board number as the family numbers it.
    pub board: u8,
    /// Lock number on that board, starting at 1.
    pub lock: u8,
}

impl LockAddress {
    /// Address of `lock` (1-based) on `board`.
    pub const fn new(board: u8, lock: u8) -> Self {
        Self { board, lock }
    }
}

impl fmt::Display for LockAddress {
    /// `board:lock`, e.g. `1:16`; the same text [`FromStr`] accepts, so
    /// addresses can round-trip through configuration files and logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.board, self.lock)
    }
}

impl FromStr for LockAddress {
    type Err = BoardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BoardError::InvalidAddress(format!("{s:?} is not of the form board:lock"));
        let (board, lock) = s.trim().split_once(':').ok_or_else(bad)?;
        let board = board.trim().parse().map_err(|_| bad())?;
        let lock = lock.trim().parse().map_err(|_| bad())?;
        Ok(Self { board, lock })
    }
}

/// What a board reports about one lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LockStatus {
    /// The latch is engaged (door shut and held).
    pub locked: bool,
    /// The compartment's item sensor, if the family has one; `None` for
    /// families without sensors so callers never mistake "no sensor" for
    /// "empty".
    pub item_present: Option<bool>,
}

/// Status of every configured lock in a bank, ordered by address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BankStatus {
    /// One entry per lock that was polled.
    pub locks: BTreeMap<LockAddress, LockStatus>,
}

impl BankStatus {
    /// Status of one lock, if it was part of the poll.
    pub fn get(&self, addr: LockAddress) -> Option<LockStatus> {
        self.locks.get(&addr).copied()
    }

    /// Number of locks in the status.
    pub fn len(&self) -> usize {
        self.locks.len()
    }

    /// True if no lock was polled.
    pub fn is_empty(&self) -> bool {
        self.locks.is_empty()
    }
}

/// A family of lock-control boards: one wire protocol.
///
/// Families differ in framing and checksum but not in what a locker bank needs
/// from them, which is why each one is only a [`Codec`] behind one trait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// Kerong KR-CU16 / KR-CU12: `02 ADDR CMD [DATA] 03 SUM`, 19200 8N1.
    Kerong,
    /// The common "0x8A/0x80 XOR" board (often sold as CU48-style).
    Xor8a,
}

impl Family {
    /// Every supported family, for help texts and exhaustive tests.
    pub const ALL: [Family; 2] = [Family::Kerong, Family::Xor8a];

    /// The codec that speaks this family's protocol.
    pub fn codec(self) -> &'static dyn Codec {
        match self {
            Family::Kerong => &codec::kerong::KERONG,
            Family::Xor8a => &codec::xor8a::XOR8A,
        }
    }

    /// Configuration name, as accepted by [`FromStr`].
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Kerong => "kerong",
            Family::Xor8a => "xor8a",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Family {
    type Err = BoardError;

    /// Case-insensitive, so `Kerong` in a hand-written config file still works.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Family::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| BoardError::UnknownFamily(s.to_string()))
    }
}

/// Everything that can go wrong between the agent and a board.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The board did not answer within the reply timeout (unpowered board,
    /// wrong address, broken bus, wrong baud rate).
    #[error("no reply from the board within the reply timeout")]
    Timeout,
    /// Bytes arrived but did not form a valid frame (bad checksum, missing
    /// terminator, nonsensical field). Usually line noise or a wrong family.
    #[error("bad frame: {0}")]
    BadFrame(String),
    /// The transport failed.
    #[error("transport error: {0}")]
    Io(#[from] std::io::Error),
    /// The address cannot exist for this family or this bank's configuration.
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    /// The family's protocol has no way to express the request.
    #[error("not supported by this board family: {0}")]
    Unsupported(String),
    /// A family name that is not one of [`Family::ALL`].
    #[error("unknown board family {0:?} (expected \"kerong\" or \"xor8a\")")]
    UnknownFamily(String),
    /// The other end closed the transport (gateway dropped the connection,
    /// USB adapter unplugged).
    #[error("transport closed by the other end")]
    Disconnected,
}
