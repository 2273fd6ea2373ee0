//! The common "0x8A/0x80 XOR" lock-control board (often sold as CU48-style).
//!
//! # Frame layout
//!
//! Every frame is exactly five bytes:
//!
//! ```text
//! HEAD BOARD LOCK CODE XOR
//! ```
//!
//! * `XOR` = XOR of the four preceding bytes.
//! * `BOARD` numbers from 1 (DIP switch), `LOCK` from 1. `LOCK 00` in a status
//!   query means "all locks".
//!
//! | frame                 | direction | meaning                                   |
//! |-----------------------|-----------|-------------------------------------------|
//! | `8A B L 11 X`         | to board  | unlock lock L on board B                  |
//! | `8A B L 11 X`         | to host   | unlock accepted (echo of the command)     |
//! | `80 B L 33 X`         | to board  | status of lock L (`L = 00`: all locks)    |
//! | `80 B L 11 X`         | to host   | lock L is open (unlatched)                |
//! | `80 B L 00 X`         | to host   | lock L is closed (latched)                |
//!
//! Worked examples (checked in the tests): `8A 01 01 11 9B` unlocks board 1
//! lock 1; `80 01 01 33 B3` asks for its status; `80 01 01 11 91` says it is
//! open and `80 01 01 00 80` that it is closed.
//!
//! The family has no item-presence sensors, so decoded statuses carry
//! `item_present: None`. The reply to an all-locks query differs between
//! firmware revisions, so [`Board`](crate::Board) polls lock by lock
//! ([`StatusPoll::PerLock`]); the all-locks query can still be encoded.
//!
//! Because the unlock acknowledgement is byte-for-byte the command, an RS-485
//! adapter that echoes its own transmissions would make every unlock look
//! acknowledged. Use adapters with echo off (the usual auto-direction ones).

use crate::codec::{Codec, Direction, Frame, Scan, StatusPoll, hex, invalid_board};
use crate::{BoardError, Family, LockAddress, LockStatus};

/// Every constant that defines the 0x8A/XOR protocol.
#[derive(Debug, Clone, Copy)]
pub struct Xor8aTable {
    /// First byte of unlock commands and their acknowledgement.
    pub unlock_head: u8,
    /// First byte of status queries and replies.
    pub status_head: u8,
    /// CODE of an unlock command / acknowledgement.
    pub unlock_code: u8,
    /// CODE of a status query.
    pub status_code: u8,
    /// Status reply CODE: lock open (unlatched).
    pub state_open: u8,
    /// Status reply CODE: lock closed (latched).
    pub state_closed: u8,
    /// LOCK value meaning "every lock" in a status query.
    pub all_locks: u8,
    /// Highest lock number on one board.
    pub max_locks: u8,
    /// Frame check over the four preceding bytes.
    pub checksum: fn(&[u8]) -> u8,
}

/// XOR of `bytes`.
pub fn xor8(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, b| acc ^ b)
}

/// The 0x8A/XOR protocol constants. Boards are numbered 1–255 (0 is never a
/// board); 48 locks is the largest board sold with this protocol.
pub const TABLE: Xor8aTable = Xor8aTable {
    unlock_head: 0x8A,
    status_head: 0x80,
    unlock_code: 0x11,
    status_code: 0x33,
    state_open: 0x11,
    state_closed: 0x00,
    all_locks: 0x00,
    max_locks: 48,
    checksum: xor8,
};

/// Length of every frame of this family.
pub const FRAME_LEN: usize = 5;

/// Codec for 0x8A/XOR boards; use [`XOR8A`] or [`Family::Xor8a`].
#[derive(Debug)]
pub struct Xor8a {
    /// Protocol constants.
    pub table: Xor8aTable,
}

/// The 0x8A/XOR codec instance.
pub static XOR8A: Xor8a = Xor8a { table: TABLE };

impl Xor8a {
    fn frame(&self, head: u8, board: u8, lock: u8, code: u8) -> Vec<u8> {
        let mut out = vec![head, board, lock, code];
        out.push((self.table.checksum)(&out));
        out
    }

    /// Interpret a frame whose checksum is already verified.
    fn parse(&self, f: &[u8], dir: Direction) -> Result<Frame, String> {
        let t = &self.table;
        let (head, board, lock, code) = (f[0], f[1], f[2], f[3]);
        if board == 0 {
            return Err(format!("board 0 cannot exist: {}", hex(f)));
        }
        let one_lock = || {
            if (1..=t.max_locks).contains(&lock) {
                Ok(LockAddress { board, lock })
            } else {
                Err(format!("lock {lock} cannot exist: {}", hex(f)))
            }
        };
        if head == t.unlock_head && code == t.unlock_code {
            let addr = one_lock()?;
            return Ok(match dir {
                Direction::ToBoard => Frame::Unlock(addr),
                Direction::ToHost => Frame::UnlockAck(addr),
            });
        }
        if head == t.status_head && code == t.status_code {
            let lock = if lock == t.all_locks {
                None
            } else {
                Some(one_lock()?.lock)
            };
            return Ok(Frame::StatusQuery { board, lock });
        }
        if head == t.status_head && (code == t.state_open || code == t.state_closed) {
            let addr = one_lock()?;
            let status = LockStatus {
                locked: code == t.state_closed,
                item_present: None,
            };
            return Ok(Frame::StatusReply {
                board,
                locks: vec![(addr.lock, status)],
            });
        }
        Err(format!("unknown 0x8A/XOR frame: {}", hex(f)))
    }
}

impl Codec for Xor8a {
    fn family(&self) -> Family {
        Family::Xor8a
    }

    fn validate_board(&self, board: u8) -> Result<(), BoardError> {
        if board == 0 {
            Err(invalid_board(Family::Xor8a, board, "1-255"))
        } else {
            Ok(())
        }
    }

    fn max_locks_per_board(&self) -> u8 {
        self.table.max_locks
    }

    fn status_poll(&self) -> StatusPoll {
        StatusPoll::PerLock
    }

    fn acknowledges_unlock(&self) -> bool {
        true
    }

    fn has_item_sensors(&self) -> bool {
        false
    }

    fn encode(&self, frame: &Frame) -> Result<Vec<u8>, BoardError> {
        let t = &self.table;
        match frame {
            Frame::Unlock(addr) | Frame::UnlockAck(addr) => {
                self.validate(*addr)?;
                Ok(self.frame(t.unlock_head, addr.board, addr.lock, t.unlock_code))
            }
            Frame::StatusQuery { board, lock } => {
                let lock = match lock {
                    Some(lock) => {
                        self.validate(LockAddress::new(*board, *lock))?;
                        *lock
                    }
                    None => {
                        self.validate_board(*board)?;
                        t.all_locks
                    }
                };
                Ok(self.frame(t.status_head, *board, lock, t.status_code))
            }
            Frame::StatusReply { board, locks } => match locks.as_slice() {
                [(lock, status)] => {
                    self.validate(LockAddress::new(*board, *lock))?;
                    let code = if status.locked {
                        t.state_closed
                    } else {
                        t.state_open
                    };
                    Ok(self.frame(t.status_head, *board, *lock, code))
                }
                _ => Err(BoardError::Unsupported(
                    "0x8A/XOR status replies carry exactly one lock".into(),
                )),
            },
            Frame::UnlockAll { .. } | Frame::BusStatusQuery | Frame::SetPulseTime { .. } => Err(
                BoardError::Unsupported(format!("{frame:?} has no 0x8A/XOR encoding")),
            ),
        }
    }

    fn scan(&self, buf: &[u8], dir: Direction) -> Scan {
        let t = &self.table;
        let Some(start) = buf
            .iter()
            .position(|b| *b == t.unlock_head || *b == t.status_head)
        else {
            return Scan::Incomplete { garbage: buf.len() };
        };
        let end = start + FRAME_LEN;
        let Some(frame) = buf.get(start..end) else {
            return Scan::Incomplete { garbage: start };
        };
        let expected = (t.checksum)(&frame[..FRAME_LEN - 1]);
        if frame[FRAME_LEN - 1] != expected {
            return Scan::Corrupt {
                start,
                reason: format!(
                    "0x8A/XOR check byte {:02X}, expected {expected:02X}: {}",
                    frame[FRAME_LEN - 1],
                    hex(frame)
                ),
            };
        }
        match self.parse(frame, dir) {
            Ok(frame) => Scan::Frame { start, end, frame },
            Err(reason) => Scan::Corrupt { start, reason },
        }
    }
}
