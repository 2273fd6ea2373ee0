//! Every injected fault, seen through the Board API.

use std::time::Duration;

use cubby_boards::{Board, BoardError, Family, Fault};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{FAST_TIMEOUT, GENEROUS_TIMEOUT, addr, bytes, first_board, rig};

#[tokio::test]
async fn stuck_lock_accepts_the_command_but_stays_locked() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let mut r = rig(family, vec![b0], 8);
        let target = addr(b0, 5);
        assert!(r.sim.set_fault(target, Fault::StuckLock));

        // Accepted (and, for 0x8A/XOR, acknowledged) ...
        r.board.unlock(target).await.expect("command accepted");
        // ... but the latch holds.
        let status = r.board.status().await.expect("status");
        assert_eq!(status.get(target).map(|s| s.locked), Some(true), "{family}");
        assert_eq!(r.sim.releases(target), 0, "{family}");
        let state = r.sim.lock_state(target).expect("exists");
        assert_eq!(state.unlock_commands, 1, "{family}");
        assert!(!state.door_open);

        // Repaired: the next command works.
        r.sim.clear_fault(target, Fault::StuckLock);
        r.board.unlock(target).await.expect("unlock");
        let status = r.board.status().await.expect("status");
        assert_eq!(
            status.get(target).map(|s| s.locked),
            Some(false),
            "{family}"
        );
        assert_eq!(r.sim.releases(target), 1, "{family}");
    }
}

#[tokio::test]
async fn silent_board_times_out_and_others_still_answer() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let mut r = rig(family, vec![b0, b0 + 1], 2);
        r.board.set_reply_timeout(FAST_TIMEOUT);
        let dead = addr(b0 + 1, 1);
        assert!(r.sim.set_fault(dead, Fault::NoReply));

        let err = r.board.status().await.expect_err("bank status fails");
        assert!(matches!(err, BoardError::Timeout), "{family}: {err}");
        r.board.set_reply_timeout(GENEROUS_TIMEOUT);
        let alive = r.board.board_status(b0).await.expect("healthy board");
        assert_eq!(alive.len(), 2);
        r.board.set_reply_timeout(FAST_TIMEOUT);

        // A silent board does not act on commands either.
        let unlock = r.board.unlock(dead).await;
        match family {
            // No acknowledgement exists, so the send "succeeds"; only a status
            // read could reveal the failure.
            Family::Kerong => assert!(unlock.is_ok()),
            Family::Xor8a => assert!(matches!(unlock, Err(BoardError::Timeout))),
        }
        assert_eq!(r.sim.releases(dead), 0, "{family}");

        r.sim.clear_fault(dead, Fault::NoReply);
        r.board.set_reply_timeout(GENEROUS_TIMEOUT);
        assert_eq!(
            r.board.status().await.expect("revived").len(),
            4,
            "{family}"
        );
    }
}

#[tokio::test]
async fn silent_bank_times_out_until_revived() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let mut r = rig(family, vec![b0], 2);
        r.board.set_reply_timeout(FAST_TIMEOUT);
        r.sim.set_silent(true);
        let started = tokio::time::Instant::now();
        assert!(
            matches!(r.board.status().await, Err(BoardError::Timeout)),
            "{family}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "timeout is bounded"
        );
        r.sim.set_silent(false);
        r.board.set_reply_timeout(GENEROUS_TIMEOUT);
        assert!(r.board.status().await.is_ok(), "{family}");

        r.board.set_reply_timeout(FAST_TIMEOUT);
        r.sim.set_board_silent(b0, true);
        assert!(
            matches!(r.board.status().await, Err(BoardError::Timeout)),
            "{family}"
        );
        r.sim.set_board_silent(b0, false);
        r.board.set_reply_timeout(GENEROUS_TIMEOUT);
        assert!(r.board.status().await.is_ok(), "{family}");
    }
}

#[tokio::test]
async fn forced_open_shows_unlocked_with_zero_releases() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let mut r = rig(family, vec![b0], 4);
        let target = addr(b0, 3);
        assert!(r.sim.force_open(target));
        let status = r.board.status().await.expect("status");
        assert_eq!(
            status.get(target).map(|s| s.locked),
            Some(false),
            "{family}"
        );
        assert_eq!(r.sim.releases(target), 0, "{family}");
        assert_eq!(r.sim.total_releases(), 0, "{family}");
        assert_eq!(r.sim.lock_state(target).map(|s| s.forced_opens), Some(1));
    }
}

#[tokio::test]
async fn door_left_open_stays_unlocked() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let mut r = rig(family, vec![b0], 2);
        let target = addr(b0, 1);
        r.board.unlock(target).await.expect("unlock");
        for _ in 0..3 {
            let status = r.board.lock_status(target).await.expect("status");
            assert!(!status.locked, "{family}");
        }
        assert!(r.sim.door_open(target));
        assert_eq!(r.sim.releases(target), 1);
    }
}

#[tokio::test]
async fn unknown_fault_targets_are_reported() {
    let sim = cubby_boards::SimulatedBank::new(Family::Kerong, vec![0], 4);
    assert!(!sim.set_fault(addr(0, 5), Fault::StuckLock));
    assert!(!sim.close_door(addr(3, 1)));
    assert!(!sim.force_open(addr(0, 0)));
    assert_eq!(sim.releases(addr(9, 9)), 0);
}

/// A fake board that answers every request with a damaged frame: the caller
/// learns the line is noisy rather than that the board is missing.
#[tokio::test]
async fn corrupt_replies_surface_as_bad_frame() {
    for (family, request_len, reply) in [
        (Family::Kerong, 5, "02 00 35 00 00 00 00 03 3B"),
        (Family::Xor8a, 5, "80 01 01 00 81"),
    ] {
        let (host, mut device) = tokio::io::duplex(256);
        tokio::spawn(async move {
            let mut request = vec![0u8; request_len];
            while device.read_exact(&mut request).await.is_ok() {
                if device.write_all(&bytes(reply)).await.is_err() {
                    break;
                }
            }
        });
        let b0 = first_board(family);
        // The whole timeout is always waited out here, so it can afford to be
        // long enough that the corrupt reply surely arrives within it.
        let mut board =
            Board::new(family, host, vec![b0], 1).with_reply_timeout(Duration::from_millis(500));
        let err = board.status().await.expect_err("corrupt");
        assert!(matches!(err, BoardError::BadFrame(_)), "{family}: {err}");
    }
}

#[tokio::test]
async fn closed_transport_is_reported() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let r = rig(family, vec![b0], 1);
        r.server.abort();
        let _ = r.server.await;
        let mut board = r.board;
        let err = board.status().await.expect_err("peer gone");
        assert!(
            matches!(err, BoardError::Disconnected | BoardError::Io(_)),
            "{family}: {err}"
        );
    }
}
