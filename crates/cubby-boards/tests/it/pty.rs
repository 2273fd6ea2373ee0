//! The real serial path, end to end, over a pseudo-terminal: the simulator
//! serves the board side and `open_serial` opens the other side BY PATH.

use std::time::Duration;

use cubby_boards::{Board, BoardError, DEFAULT_BAUD, Family, SimulatedBank, open_serial, pty_pair};

use crate::support::{GENEROUS_TIMEOUT, addr, first_board};

#[tokio::test]
async fn board_over_pty_opened_by_path() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let sim = SimulatedBank::new(family, vec![b0, b0 + 1], 16);
        let (device, path) = pty_pair().expect("pty pair");
        assert!(path.starts_with("/dev/"), "pty path {path}");
        let server = tokio::spawn({
            let sim = sim.clone();
            async move { sim.serve(device).await }
        });
        // Give the simulator a moment before anyone opens the port: the
        // device side must survive having no host side yet.
        tokio::time::sleep(Duration::from_millis(20)).await;

        let port = open_serial(&path, DEFAULT_BAUD)
            .await
            .expect("open by path");
        let mut board = Board::try_new(family, port, vec![b0, b0 + 1], 16)
            .expect("config")
            .with_reply_timeout(GENEROUS_TIMEOUT);
        let target = addr(b0 + 1, 16);

        let status = board.status().await.expect("boot status");
        assert_eq!(status.len(), 32);
        assert!(
            status.locks.values().all(|s| s.locked),
            "{family}: boots locked"
        );

        board.unlock(target).await.expect("unlock");
        let status = board.status().await.expect("status after unlock");
        assert_eq!(
            status.get(target).map(|s| s.locked),
            Some(false),
            "{family}"
        );
        assert_eq!(sim.releases(target), 1, "{family}");

        sim.close_door(target);
        let status = board.lock_status(target).await.expect("status after close");
        assert!(status.locked, "{family}: relatched");
        assert_eq!(sim.total_releases(), 1, "{family}");

        // Close and reopen the port (agent restart): the pair stays usable.
        drop(board);
        let port = open_serial(&path, DEFAULT_BAUD).await.expect("reopen");
        let mut board =
            Board::new(family, port, vec![b0, b0 + 1], 16).with_reply_timeout(GENEROUS_TIMEOUT);
        assert_eq!(board.status().await.expect("status after reopen").len(), 32);

        server.abort();
    }
}

#[tokio::test]
async fn open_serial_reports_a_missing_device() {
    let err = open_serial("/dev/cubby-no-such-port", DEFAULT_BAUD)
        .await
        .expect_err("no such device");
    match err {
        BoardError::Io(e) => assert!(e.to_string().contains("/dev/cubby-no-such-port"), "{e}"),
        other => panic!("expected Io, got {other}"),
    }
}

#[tokio::test]
async fn pty_rig_works_across_tasks_and_simulator_handles_garbage() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sim = SimulatedBank::new(Family::Kerong, vec![0], 16);
    let (device, path) = pty_pair().expect("pty pair");
    tokio::spawn({
        let sim = sim.clone();
        async move { sim.serve(device).await }
    });
    let mut port = open_serial(&path, DEFAULT_BAUD).await.expect("open");
    port.write_all(&[0xFF, 0x02, 0x02, 0x00, 0x31, 0x03, 0x36])
        .await
        .expect("write");
    port.write_all(&[0x02, 0x00, 0x30, 0x03, 0x35])
        .await
        .expect("write");
    let mut reply = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(2), port.read_exact(&mut reply))
        .await
        .expect("reply in time")
        .expect("read");
    // Lock 1 released by the unlock hidden behind the garbage.
    assert_eq!(
        reply,
        [0x02, 0x00, 0x35, 0xFE, 0xFF, 0x00, 0x00, 0x03, 0x37]
    );
    assert_eq!(sim.releases(addr(0, 1)), 1);
}
