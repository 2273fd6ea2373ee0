//! Shared rigs: a Board wired to a SimulatedBank over an in-memory duplex.

use std::time::Duration;

use cubby_boards::{Board, Family, LockAddress, SimulatedBank};
use tokio::io::DuplexStream;
use tokio::task::JoinHandle;

/// Reply timeout for tests that expect a timeout: short to keep them fast.
pub const FAST_TIMEOUT: Duration = Duration::from_millis(80);

/// Reply timeout for tests that expect an answer: generous, because a loaded
/// 2-core CI box can stall a task for a long time and a spurious timeout
/// would make a healthy-path test flaky.
pub const GENEROUS_TIMEOUT: Duration = Duration::from_secs(3);

pub struct Rig {
    pub board: Board<DuplexStream>,
    pub sim: SimulatedBank,
    pub server: JoinHandle<std::io::Result<()>>,
}

/// A bank of `boards` × `locks` of `family`, simulator serving the device side.
pub fn rig(family: Family, boards: Vec<u8>, locks: u8) -> Rig {
    let (host, device) = tokio::io::duplex(256);
    let sim = SimulatedBank::new(family, boards.clone(), locks);
    let server = tokio::spawn({
        let sim = sim.clone();
        async move { sim.serve(device).await }
    });
    let board = Board::try_new(family, host, boards, locks)
        .expect("valid config")
        .with_reply_timeout(GENEROUS_TIMEOUT);
    Rig { board, sim, server }
}

/// First board number of the family (Kerong counts from 0, 0x8A/XOR from 1).
pub fn first_board(family: Family) -> u8 {
    match family {
        Family::Kerong => 0,
        Family::Xor8a => 1,
    }
}

pub fn addr(board: u8, lock: u8) -> LockAddress {
    LockAddress::new(board, lock)
}

/// Parse "02 00 30 03 35" into bytes.
pub fn bytes(hex: &str) -> Vec<u8> {
    hex.split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
        .collect()
}
