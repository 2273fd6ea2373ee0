//! The CP against scripted, misbehaving peers (no Python needed).

use cubby_osdp::codec::{Decoder, Frame};
use cubby_osdp::proto::{cmd, reply};
use cubby_osdp::{Error, OsdpPanel, PanelConfig, PanelEvent};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};
use tokio::time::{Instant, timeout};

fn fast(cfg: PanelConfig) -> PanelConfig {
    PanelConfig {
        poll_interval: Duration::from_millis(50),
        reply_timeout: Duration::from_millis(100),
        ..cfg
    }
}

fn reply_frame(addr: u8, seq: u8, code: u8, data: &[u8]) -> Vec<u8> {
    let mut f = Frame::command(addr, seq, code, data);
    f.reply = true;
    f.encode().expect("encode reply")
}

const PDID: [u8; 12] = [0xb2, 0xa1, 0x00, 3, 2, 0x78, 0x56, 0x34, 0x12, 1, 2, 3];

/// Run a fake PD on `io`: for each decoded command, `answer` returns the bytes
/// to write back (possibly none). Every received packet is recorded.
fn fake_pd<F>(mut io: DuplexStream, mut answer: F) -> Arc<Mutex<Vec<Vec<u8>>>>
where
    F: FnMut(usize, &Frame) -> Vec<u8> + Send + 'static,
{
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    tokio::spawn(async move {
        let mut dec = Decoder::new();
        let mut buf = [0u8; 256];
        let mut n_seen = 0usize;
        loop {
            let n = match io.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            dec.push(&buf[..n]);
            while let Some(p) = dec.next_packet() {
                log2.lock().expect("log").push(p.raw().to_vec());
                let out = answer(n_seen, p.frame());
                n_seen += 1;
                if !out.is_empty() && io.write_all(&out).await.is_err() {
                    return;
                }
            }
        }
    });
    log
}

#[tokio::test]
async fn silent_peer_fails_within_bound() {
    let (cp, _pd) = duplex(1024);
    let started = Instant::now();
    let err = OsdpPanel::connect(cp, fast(PanelConfig::plain(1)))
        .await
        .expect_err("no PD");
    assert!(
        matches!(
            err,
            Error::NoResponse {
                command: cmd::ID,
                attempts: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn closed_peer_is_reported() {
    let (cp, pd) = duplex(1024);
    drop(pd);
    let err = OsdpPanel::connect(cp, fast(PanelConfig::plain(1)))
        .await
        .expect_err("no PD");
    assert!(matches!(err, Error::Disconnected), "{err:?}");
}

#[tokio::test]
async fn garbage_answers_never_panic() {
    let (cp, pd) = duplex(4096);
    let mut state: u32 = 0x1234_5678;
    fake_pd(pd, move |_, f| {
        // xorshift noise laced with SOMs, plausible headers and a reply that
        // claims a huge length.
        let mut out = vec![0x53, 0x81, 0xFF, 0xFF, 0x04];
        for _ in 0..200 {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            out.push(state as u8);
            if state.is_multiple_of(7) {
                out.push(0x53);
            }
        }
        // A valid-looking reply for a different PD address.
        out.extend(reply_frame(9, f.sequence, reply::PDID, &PDID));
        out
    });
    let err = OsdpPanel::connect(cp, fast(PanelConfig::plain(1)))
        .await
        .expect_err("garbage is not a PD");
    assert!(matches!(err, Error::NoResponse { .. }), "{err:?}");
}

#[tokio::test]
async fn secure_channel_requires_the_capability() {
    let (cp, pd) = duplex(4096);
    fake_pd(pd, |_, f| match f.code {
        cmd::ID => reply_frame(1, f.sequence, reply::PDID, &PDID),
        // Only LED control; no communication security (function 9).
        cmd::CAP => reply_frame(1, f.sequence, reply::PDCAP, &[4, 1, 1]),
        _ => reply_frame(1, f.sequence, reply::ACK, &[]),
    });
    let err = OsdpPanel::connect(cp, fast(PanelConfig::secure(1, [9; 16])))
        .await
        .expect_err("SC impossible");
    assert!(matches!(err, Error::SecureChannelUnsupported), "{err:?}");
}

#[tokio::test]
async fn sequence_numbers_retries_and_bad_replies() {
    let (cp, pd) = duplex(8192);
    let log = fake_pd(pd, |i, f| {
        let seq = f.sequence;
        match (i, f.code) {
            (_, cmd::ID) => reply_frame(1, seq, reply::PDID, &PDID),
            (_, cmd::CAP) => reply_frame(1, seq, reply::PDCAP, &[4, 1, 1]),
            // Lose the reply to packet #4 (a POLL): the CP must resend it.
            (4, _) => Vec::new(),
            // Stale sequence and a foreign address before the real answer, a
            // keypad report whose count exceeds its data (ignored), then a
            // good one.
            (6, _) => {
                let mut out = reply_frame(1, (seq + 1) % 4, reply::ACK, &[]);
                out.extend(reply_frame(2, seq, reply::ACK, &[]));
                out.extend(reply_frame(1, seq, reply::KEYPAD, &[0, 9, b'1']));
                out
            }
            (8, _) => reply_frame(1, seq, reply::KEYPAD, &[0, 2, b'4', b'2']),
            _ => reply_frame(1, seq, reply::ACK, &[]),
        }
    });
    let (panel, mut events) = OsdpPanel::connect(cp, fast(PanelConfig::plain(1)))
        .await
        .expect("connect");
    assert_eq!(
        timeout(Duration::from_secs(1), events.recv())
            .await
            .expect("online"),
        Some(PanelEvent::Online { secure: false })
    );
    let ev = timeout(Duration::from_secs(3), events.recv())
        .await
        .expect("keypad event")
        .expect("open");
    assert_eq!(
        ev,
        PanelEvent::Keypad {
            reader: 0,
            digits: "42".into(),
            raw: b"42".to_vec()
        }
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    panel.shutdown().await;

    let packets = log.lock().expect("log").clone();
    assert!(packets.len() > 10, "{}", packets.len());
    // Packet 5 is the retransmission of packet 4, byte for byte.
    assert_eq!(packets[4], packets[5]);
    // Sequence numbers: 0, then 1, 2, 3, 1, 2, 3... (repeated on retry).
    let seqs: Vec<u8> = packets.iter().map(|p| p[4] & 3).collect();
    assert_eq!(seqs[0], 0);
    let mut expect = 0u8;
    for (i, s) in seqs.iter().enumerate() {
        if i == 5 {
            assert_eq!(*s, seqs[4]);
            continue;
        }
        assert_eq!(*s, expect, "packet {i}: {seqs:?}");
        expect = if expect == 3 { 1 } else { expect + 1 };
    }
    // No offline event was raised by the single lost reply.
    while let Ok(ev) = events.try_recv() {
        assert!(!matches!(ev, PanelEvent::Offline { .. }), "{ev:?}");
    }
}

#[tokio::test]
async fn reserved_and_oversized_commands_are_refused_locally() {
    let (cp, pd) = duplex(4096);
    fake_pd(pd, |_, f| match f.code {
        cmd::ID => reply_frame(1, f.sequence, reply::PDID, &PDID),
        cmd::CAP => reply_frame(1, f.sequence, reply::PDCAP, &[]),
        _ => reply_frame(1, f.sequence, reply::ACK, &[]),
    });
    let (panel, _events) = OsdpPanel::connect(cp, fast(PanelConfig::plain(1)))
        .await
        .expect("connect");
    assert!(matches!(
        panel.command(cmd::CHLNG, vec![0; 8]).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        panel.command(cmd::TEXT, vec![0; 10_000]).await,
        Err(Error::InvalidArgument(_))
    ));
    assert!(
        panel
            .command(cmd::OUT, vec![0, 1, 0, 0])
            .await
            .expect("answered")
            .is_ack()
    );
    panel.shutdown().await;
}
