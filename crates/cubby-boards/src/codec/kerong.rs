//! Kerong KR-CU16 / KR-CU12 lock-control boards (19200 baud, 8N1).
//!
//! # Frame layout
//!
//! ```text
//! 02 ADDR CMD [DATA ...] 03 SUM
//! ```
//!
//! * `SUM` = sum of every preceding byte, STX and ETX included, `& 0xFF`.
//! * `ADDR` high nibble = board 0–9 (rotary switch), low nibble = lock index
//!   0–15, i.e. lock number 1–16 minus one. `F0` is the bus broadcast address.
//!
//! | CMD  | direction | data                         | meaning                      |
//! |------|-----------|------------------------------|------------------------------|
//! | `30` | to board  | none                         | status of the whole board    |
//! | `31` | to board  | none                         | unlock the lock in ADDR      |
//! | `32` | to board  | none (ADDR = `F0`)           | bus status                   |
//! | `33` | to board  | none                         | unlock every lock on a board |
//! | `37` | to board  | 2 bytes, big-endian, × 10 ms | unlock pulse time            |
//! | `39` | to board  | (layout unverified)          | delayed unlock               |
//! | `35` | to host   | HOOK1-8 HOOK9-16 IR1-8 IR9-16 | status reply (9-byte frame)  |
//!
//! Worked examples (all checked in the tests):
//!
//! | frame              | meaning                      |
//! |--------------------|------------------------------|
//! | `02 00 30 03 35`   | status, board 0              |
//! | `02 00 31 03 36`   | unlock board 0, lock 1       |
//! | `02 1F 31 03 55`   | unlock board 1, lock 16      |
//! | `02 00 33 03 38`   | unlock all, board 0          |
//! | `02 F0 32 03 27`   | bus status                   |
//!
//! # Status bits
//!
//! In the `35` reply a HOOK bit of 1 means the lock is latched (locked) and an
//! IR bit of 1 means an item is present. **Bit order is an assumption** we have
//! not verified on hardware: bit 0 (least significant) of `HOOK1-8` is lock 1
//! and bit 7 is lock 8; bit 0 of `HOOK9-16` is lock 9; the IR bytes follow the
//! same order. Should a board prove otherwise, only `lock_bit` below changes.
//!
//! There is no documented reply to `31` (unlock); the only feedback is a later
//! status read, which is why [`Codec::acknowledges_unlock`] is false.
//! `39` is listed for completeness but not encoded or decoded, because its
//! data layout is not in our reference material; this crate never needs it.

use crate::codec::{Codec, Direction, Frame, Scan, StatusPoll, hex, invalid_board};
use crate::{BoardError, Family, LockAddress, LockStatus};

/// Every constant that defines the Kerong protocol.
#[derive(Debug, Clone, Copy)]
pub struct KerongTable {
    /// Start of frame.
    pub stx: u8,
    /// End of frame (precedes the checksum).
    pub etx: u8,
    /// Broadcast address used by the bus status command.
    pub broadcast: u8,
    /// Status of one board.
    pub cmd_status: u8,
    /// Unlock one lock.
    pub cmd_unlock: u8,
    /// Bus status (broadcast).
    pub cmd_bus_status: u8,
    /// Unlock every lock on a board.
    pub cmd_unlock_all: u8,
    /// Set unlock pulse time.
    pub cmd_pulse_time: u8,
    /// Delayed unlock (not encoded, see module docs).
    pub cmd_delayed_unlock: u8,
    /// Status reply.
    pub reply_status: u8,
    /// Highest board number (rotary switch 0–9).
    pub max_board: u8,
    /// Locks addressable on one board.
    pub locks_per_board: u8,
    /// Frame checksum over every byte before it.
    pub checksum: fn(&[u8]) -> u8,
}

impl KerongTable {
    /// Length of the DATA field for a command travelling in `dir`, or `None`
    /// if such a frame is not one we decode.
    fn data_len(&self, cmd: u8, dir: Direction) -> Option<usize> {
        match dir {
            Direction::ToBoard if cmd == self.cmd_pulse_time => Some(2),
            Direction::ToBoard
                if [
                    self.cmd_status,
                    self.cmd_unlock,
                    self.cmd_bus_status,
                    self.cmd_unlock_all,
                ]
                .contains(&cmd) =>
            {
                Some(0)
            }
            Direction::ToHost if cmd == self.reply_status => Some(4),
            _ => None,
        }
    }
}

/// 8-bit additive checksum: the sum of `bytes`, wrapping.
pub fn sum8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))
}

/// The Kerong protocol constants.
pub const TABLE: KerongTable = KerongTable {
    stx: 0x02,
    etx: 0x03,
    broadcast: 0xF0,
    cmd_status: 0x30,
    cmd_unlock: 0x31,
    cmd_bus_status: 0x32,
    cmd_unlock_all: 0x33,
    cmd_pulse_time: 0x37,
    cmd_delayed_unlock: 0x39,
    reply_status: 0x35,
    max_board: 9,
    locks_per_board: 16,
    checksum: sum8,
};

/// Codec for Kerong boards; use [`KERONG`] or [`Family::Kerong`].
#[derive(Debug)]
pub struct Kerong {
    /// Protocol constants.
    pub table: KerongTable,
}

/// The Kerong codec instance.
pub static KERONG: Kerong = Kerong { table: TABLE };

/// Byte and bit carrying `lock` (1-based) within a 2-byte, 16-lock bitmap.
fn lock_bit(lock: u8) -> (usize, u8) {
    let index = lock - 1;
    (usize::from(index / 8), 1 << (index % 8))
}

impl Kerong {
    fn frame(&self, addr: u8, cmd: u8, data: &[u8]) -> Vec<u8> {
        let t = &self.table;
        let mut out = Vec::with_capacity(5 + data.len());
        out.extend_from_slice(&[t.stx, addr, cmd]);
        out.extend_from_slice(data);
        out.push(t.etx);
        out.push((t.checksum)(&out));
        out
    }

    fn board_addr(&self, board: u8) -> Result<u8, BoardError> {
        self.validate_board(board)?;
        Ok(board << 4)
    }

    /// Interpret a frame whose framing and checksum are already verified.
    fn parse(&self, f: &[u8], dir: Direction) -> Result<Frame, String> {
        let t = &self.table;
        let (addr, cmd) = (f[1], f[2]);
        let board = addr >> 4;
        let board_ok = |what: &str| {
            if board <= t.max_board {
                Ok(board)
            } else {
                Err(format!(
                    "{what} for board {board}, which cannot exist (ADDR {addr:02X})"
                ))
            }
        };
        match dir {
            Direction::ToBoard if cmd == t.cmd_bus_status => {
                if addr == t.broadcast {
                    Ok(Frame::BusStatusQuery)
                } else {
                    Err(format!("bus status sent to ADDR {addr:02X}, not broadcast"))
                }
            }
            Direction::ToBoard if cmd == t.cmd_status => Ok(Frame::StatusQuery {
                board: board_ok("status query")?,
                lock: None,
            }),
            Direction::ToBoard if cmd == t.cmd_unlock => Ok(Frame::Unlock(LockAddress {
                board: board_ok("unlock")?,
                lock: (addr & 0x0F) + 1,
            })),
            Direction::ToBoard if cmd == t.cmd_unlock_all => Ok(Frame::UnlockAll {
                board: board_ok("unlock all")?,
            }),
            Direction::ToBoard if cmd == t.cmd_pulse_time => Ok(Frame::SetPulseTime {
                board: board_ok("pulse time")?,
                units_10ms: u16::from_be_bytes([f[3], f[4]]),
            }),
            Direction::ToHost if cmd == t.reply_status => {
                let board = board_ok("status reply")?;
                let (hook, ir) = ([f[3], f[4]], [f[5], f[6]]);
                let locks = (1..=t.locks_per_board)
                    .map(|lock| {
                        let (byte, bit) = lock_bit(lock);
                        let status = LockStatus {
                            locked: hook[byte] & bit != 0,
                            item_present: Some(ir[byte] & bit != 0),
                        };
                        (lock, status)
                    })
                    .collect();
                Ok(Frame::StatusReply { board, locks })
            }
            _ => Err(format!("command {cmd:02X} is not decoded")),
        }
    }
}

impl Codec for Kerong {
    fn family(&self) -> Family {
        Family::Kerong
    }

    fn validate_board(&self, board: u8) -> Result<(), BoardError> {
        if board <= self.table.max_board {
            Ok(())
        } else {
            Err(invalid_board(
                Family::Kerong,
                board,
                &format!("0-{}", self.table.max_board),
            ))
        }
    }

    fn max_locks_per_board(&self) -> u8 {
        self.table.locks_per_board
    }

    fn status_poll(&self) -> StatusPoll {
        StatusPoll::PerBoard
    }

    fn acknowledges_unlock(&self) -> bool {
        false
    }

    fn has_item_sensors(&self) -> bool {
        true
    }

    fn encode(&self, frame: &Frame) -> Result<Vec<u8>, BoardError> {
        let t = &self.table;
        match frame {
            Frame::Unlock(addr) => {
                self.validate(*addr)?;
                Ok(self.frame((addr.board << 4) | (addr.lock - 1), t.cmd_unlock, &[]))
            }
            Frame::UnlockAll { board } => {
                Ok(self.frame(self.board_addr(*board)?, t.cmd_unlock_all, &[]))
            }
            Frame::StatusQuery { board, lock: None } => {
                Ok(self.frame(self.board_addr(*board)?, t.cmd_status, &[]))
            }
            Frame::StatusQuery { lock: Some(_), .. } => Err(BoardError::Unsupported(
                "Kerong boards report status per board, not per lock".into(),
            )),
            Frame::BusStatusQuery => Ok(self.frame(t.broadcast, t.cmd_bus_status, &[])),
            Frame::SetPulseTime { board, units_10ms } => Ok(self.frame(
                self.board_addr(*board)?,
                t.cmd_pulse_time,
                &units_10ms.to_be_bytes(),
            )),
            Frame::StatusReply { board, locks } => {
                let addr = self.board_addr(*board)?;
                let (mut hook, mut ir) = ([0u8; 2], [0u8; 2]);
                for (lock, status) in locks {
                    self.validate(LockAddress::new(*board, *lock))?;
                    let (byte, bit) = lock_bit(*lock);
                    if status.locked {
                        hook[byte] |= bit;
                    }
                    if status.item_present == Some(true) {
                        ir[byte] |= bit;
                    }
                }
                Ok(self.frame(addr, t.reply_status, &[hook[0], hook[1], ir[0], ir[1]]))
            }
            Frame::UnlockAck(_) => Err(BoardError::Unsupported(
                "Kerong boards do not acknowledge unlock commands".into(),
            )),
        }
    }

    fn scan(&self, buf: &[u8], dir: Direction) -> Scan {
        let t = &self.table;
        let mut start = 0;
        while start < buf.len() {
            if buf[start] != t.stx {
                start += 1;
                continue;
            }
            let Some(&cmd) = buf.get(start + 2) else {
                return Scan::Incomplete { garbage: start };
            };
            let Some(data_len) = t.data_len(cmd, dir) else {
                // An STX followed by a command we do not decode in this
                // direction (including our own request echoed by an RS-485
                // adapter): not a frame start, keep looking.
                start += 1;
                continue;
            };
            let end = start + 3 + data_len + 2;
            let Some(frame) = buf.get(start..end) else {
                return Scan::Incomplete { garbage: start };
            };
            let etx_at = frame.len() - 2;
            if frame[etx_at] != t.etx {
                return Scan::Corrupt {
                    start,
                    reason: format!("Kerong frame without ETX: {}", hex(frame)),
                };
            }
            let expected = (t.checksum)(&frame[..etx_at + 1]);
            if frame[etx_at + 1] != expected {
                return Scan::Corrupt {
                    start,
                    reason: format!(
                        "Kerong checksum {:02X}, expected {expected:02X}: {}",
                        frame[etx_at + 1],
                        hex(frame)
                    ),
                };
            }
            return match self.parse(frame, dir) {
                Ok(frame) => Scan::Frame { start, end, frame },
                Err(reason) => Scan::Corrupt { start, reason },
            };
        }
        Scan::Incomplete { garbage: buf.len() }
    }
}
