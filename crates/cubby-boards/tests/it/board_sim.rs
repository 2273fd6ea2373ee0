//! Board driving a SimulatedBank over tokio::io::duplex, for every family.

use std::time::Duration;

use cubby_boards::{BoardError, Family, LockStatus, SimulatedBank};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{FAST_TIMEOUT, GENEROUS_TIMEOUT, addr, bytes, first_board, rig};

fn locked(item: Option<bool>) -> LockStatus {
    LockStatus {
        locked: true,
        item_present: item,
    }
}

fn no_item(family: Family) -> Option<bool> {
    match family {
        Family::Kerong => Some(false),
        Family::Xor8a => None,
    }
}

#[tokio::test]
async fn boot_state_is_all_locked_for_every_family() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let mut r = rig(family, vec![b0, b0 + 1], 4);
        let status = r.board.status().await.expect("status");
        assert_eq!(status.len(), 8, "{family}");
        assert!(
            status.locks.values().all(|s| *s == locked(no_item(family))),
            "{family}: {status:?}"
        );
        assert_eq!(
            status,
            r.sim.snapshot(),
            "{family}: board view equals simulator view"
        );
    }
}

#[tokio::test]
async fn unlock_releases_then_closing_relatches() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let mut r = rig(family, vec![b0, b0 + 1], 12);
        let target = addr(b0 + 1, 7);

        r.board.unlock(target).await.expect("unlock");
        let status = r.board.status().await.expect("status after unlock");
        assert_eq!(
            status.get(target).map(|s| s.locked),
            Some(false),
            "{family}"
        );
        let still_locked = status
            .locks
            .iter()
            .filter(|(a, s)| **a != target && s.locked);
        assert_eq!(
            still_locked.count(),
            23,
            "{family}: only the target released"
        );
        assert_eq!(r.sim.releases(target), 1);
        assert!(r.sim.door_open(target));

        // The person shuts the door; the latch catches it.
        assert!(r.sim.close_door(target));
        let status = r.board.status().await.expect("status after close");
        assert_eq!(
            status.get(target),
            Some(locked(no_item(family))),
            "{family}"
        );
        assert_eq!(r.sim.total_releases(), 1, "{family}");
    }
}

#[tokio::test]
async fn unlocking_an_open_lock_fires_but_does_not_count_a_release() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let mut r = rig(family, vec![b0], 4);
        let target = addr(b0, 2);
        r.board.unlock(target).await.expect("first unlock");
        r.board.unlock(target).await.expect("second unlock");
        // Let the simulator drain the (unacknowledged, for Kerong) command.
        r.board.lock_status(target).await.expect("status");
        let state = r.sim.lock_state(target).expect("exists");
        assert_eq!(state.unlock_commands, 2, "{family}");
        assert_eq!(state.releases, 1, "{family}");
    }
}

#[tokio::test]
async fn item_sensor_is_reported_only_where_it_exists() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let mut r = rig(family, vec![b0], 16);
        let target = addr(b0, 16);
        r.sim.put_item(target);
        let status = r.board.lock_status(target).await.expect("status");
        let expected = match family {
            Family::Kerong => Some(true),
            Family::Xor8a => None,
        };
        assert_eq!(status.item_present, expected, "{family}");
        r.sim.take_item(target);
        let status = r.board.lock_status(target).await.expect("status");
        assert_eq!(status.item_present, no_item(family), "{family}");
    }
}

#[tokio::test]
async fn addresses_outside_the_bank_are_refused_before_sending() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let mut r = rig(family, vec![b0], 8);
        for bad in [addr(b0, 9), addr(b0, 0), addr(b0 + 1, 1)] {
            let err = r.board.unlock(bad).await.expect_err("refused");
            assert!(
                matches!(err, BoardError::InvalidAddress(_)),
                "{family} {bad}: {err}"
            );
        }
        assert_eq!(r.sim.total_releases(), 0);
        assert_eq!(
            r.board.addresses().count(),
            8,
            "{family}: addresses() lists the configured locks"
        );
    }
}

#[tokio::test]
async fn invalid_configurations_are_rejected_up_front() {
    let (host, _device) = tokio::io::duplex(64);
    let err =
        cubby_boards::Board::try_new(Family::Kerong, host, vec![10], 16).expect_err("board 10");
    assert!(matches!(err, BoardError::InvalidAddress(_)));
    let (host, _device) = tokio::io::duplex(64);
    let err =
        cubby_boards::Board::try_new(Family::Kerong, host, vec![0], 17).expect_err("17 locks");
    assert!(matches!(err, BoardError::InvalidAddress(_)));
    let (host, _device) = tokio::io::duplex(64);
    let err = cubby_boards::Board::try_new(Family::Xor8a, host, vec![0], 8).expect_err("board 0");
    assert!(matches!(err, BoardError::InvalidAddress(_)));
    // `new` defers the check to the first request.
    let (host, _device) = tokio::io::duplex(64);
    let mut board = cubby_boards::Board::new(Family::Kerong, host, vec![12], 16);
    assert!(matches!(
        board.status().await,
        Err(BoardError::InvalidAddress(_))
    ));
}

#[tokio::test]
async fn default_reply_timeout_is_300ms() {
    let (host, _device) = tokio::io::duplex(64);
    let board = cubby_boards::Board::new(Family::Kerong, host, vec![0], 16);
    assert_eq!(board.reply_timeout(), Duration::from_millis(300));
    assert_eq!(
        cubby_boards::DEFAULT_REPLY_TIMEOUT,
        Duration::from_millis(300)
    );
}

#[tokio::test]
async fn simulator_answers_raw_kerong_bytes_and_unlock_all() {
    let (mut host, device) = tokio::io::duplex(256);
    let sim = SimulatedBank::new(Family::Kerong, vec![0], 16);
    tokio::spawn({
        let sim = sim.clone();
        async move { sim.serve(device).await }
    });
    // Garbage first, then the status query from the manual.
    host.write_all(&bytes("FF 03 02 99 02 00 30 03 35"))
        .await
        .unwrap();
    let mut reply = [0u8; 9];
    host.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply.to_vec(), bytes("02 00 35 FF FF 00 00 03 38"));

    host.write_all(&bytes("02 00 33 03 38")).await.unwrap();
    host.write_all(&bytes("02 00 30 03 35")).await.unwrap();
    host.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply.to_vec(), bytes("02 00 35 00 00 00 00 03 3A"));
    assert_eq!(sim.total_releases(), 16);
}

#[tokio::test]
async fn simulator_answers_raw_xor8a_bytes() {
    let (mut host, device) = tokio::io::duplex(256);
    let sim = SimulatedBank::new(Family::Xor8a, vec![1], 4);
    tokio::spawn({
        let sim = sim.clone();
        async move { sim.serve(device).await }
    });
    let mut reply = [0u8; 5];
    host.write_all(&bytes("80 01 01 33 B3")).await.unwrap();
    host.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply.to_vec(), bytes("80 01 01 00 80"), "closed");

    host.write_all(&bytes("8A 01 01 11 9B")).await.unwrap();
    host.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply.to_vec(), bytes("8A 01 01 11 9B"), "echo");

    host.write_all(&bytes("80 01 01 33 B3")).await.unwrap();
    host.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply.to_vec(), bytes("80 01 01 11 91"), "open");
    assert_eq!(sim.releases(addr(1, 1)), 1);
}

#[tokio::test]
async fn late_reply_from_a_slow_board_does_not_poison_the_next_exchange() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let mut r = rig(family, vec![b0], 2);
        r.board.set_reply_timeout(FAST_TIMEOUT);
        r.sim.set_reply_delay(FAST_TIMEOUT * 2);
        let err = r.board.status().await.expect_err("too slow");
        assert!(matches!(err, BoardError::Timeout), "{family}: {err}");

        // The late reply lands while nobody is waiting; then the board speeds up.
        tokio::time::sleep(FAST_TIMEOUT * 6).await;
        r.sim.set_reply_delay(Duration::ZERO);
        r.board.set_reply_timeout(GENEROUS_TIMEOUT);
        r.sim.force_open(addr(b0, 1));
        let status = r.board.status().await.expect("fast again");
        assert_eq!(
            status.get(addr(b0, 1)).map(|s| s.locked),
            Some(false),
            "{family}"
        );
    }
}

#[tokio::test]
async fn simulator_stops_at_eof() {
    let r = rig(Family::Kerong, vec![0], 1);
    drop(r.board);
    let result = tokio::time::timeout(Duration::from_secs(5), r.server)
        .await
        .expect("serve returned")
        .expect("no panic");
    assert!(result.is_ok());
}
