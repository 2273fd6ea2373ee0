//! The serial-to-TCP gateway case: a Board over a plain TcpStream.

use cubby_boards::{Board, Family, SimulatedBank};
use tokio::net::TcpStream;

use crate::support::{GENEROUS_TIMEOUT, addr, first_board};

#[tokio::test]
async fn board_over_tcp_gateway() {
    for family in Family::ALL {
        let b0 = first_board(family);
        let sim = SimulatedBank::new(family, vec![b0], 8);
        let gateway = sim.spawn_tcp("127.0.0.1:0").expect("listening");

        let stream = TcpStream::connect(gateway).await.expect("connect");
        let mut board = Board::try_new(family, stream, vec![b0], 8)
            .expect("config")
            .with_reply_timeout(GENEROUS_TIMEOUT);
        board.unlock(addr(b0, 4)).await.expect("unlock");
        let status = board.status().await.expect("status");
        assert_eq!(
            status.get(addr(b0, 4)).map(|s| s.locked),
            Some(false),
            "{family}"
        );
        drop(board);

        // A reconnect (agent restart) sees the same physical state.
        sim.close_door(addr(b0, 4));
        let stream = TcpStream::connect(gateway).await.expect("reconnect");
        let mut board =
            Board::new(family, stream, vec![b0], 8).with_reply_timeout(GENEROUS_TIMEOUT);
        let status = board.status().await.expect("status");
        assert!(status.locks.values().all(|s| s.locked), "{family}");
        assert_eq!(sim.total_releases(), 1, "{family}");
    }
}

#[test]
fn spawn_tcp_outside_a_runtime_is_an_error_not_a_panic() {
    let sim = SimulatedBank::new(Family::Kerong, vec![0], 1);
    assert!(sim.spawn_tcp("127.0.0.1:0").is_err());
}
