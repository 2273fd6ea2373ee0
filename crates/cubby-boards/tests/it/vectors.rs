//! Hand-computed wire vectors. Every byte here was worked out by hand from
//! the family's manual, not produced by the codec under test.

use cubby_boards::codec::hex;
use cubby_boards::{BoardError, Codec, Direction, Family, Frame, LockAddress, LockStatus};

use crate::support::{addr, bytes};

fn kerong() -> &'static dyn Codec {
    Family::Kerong.codec()
}

fn xor() -> &'static dyn Codec {
    Family::Xor8a.codec()
}

/// Encode must produce exactly `wire`, and `wire` must decode back to `frame`.
fn check(codec: &dyn Codec, frame: Frame, wire: &str) {
    let expected = bytes(wire);
    let encoded = codec.encode(&frame).expect("encodable");
    assert_eq!(hex(&encoded), hex(&expected), "encoding {frame:?}");
    let (decoded, used) = codec
        .decode(&expected, frame.direction())
        .expect("vector decodes");
    assert_eq!(decoded, frame, "decoding {wire}");
    assert_eq!(used, expected.len());
}

#[test]
fn kerong_request_vectors() {
    check(
        kerong(),
        Frame::StatusQuery {
            board: 0,
            lock: None,
        },
        "02 00 30 03 35",
    );
    check(kerong(), Frame::Unlock(addr(0, 1)), "02 00 31 03 36");
    check(kerong(), Frame::Unlock(addr(1, 16)), "02 1F 31 03 55");
    check(kerong(), Frame::UnlockAll { board: 0 }, "02 00 33 03 38");
    check(kerong(), Frame::BusStatusQuery, "02 F0 32 03 27");
    // 500 ms = 50 × 10 ms = 0x0032, big-endian.
    check(
        kerong(),
        Frame::SetPulseTime {
            board: 0,
            units_10ms: 50,
        },
        "02 00 37 00 32 03 6E",
    );
    // Lock 3 on board 0 puts the STX value 0x02 in the ADDR byte.
    check(kerong(), Frame::Unlock(addr(0, 3)), "02 02 31 03 38");
}

#[test]
fn kerong_convenience_encoders_match_vectors() {
    assert_eq!(kerong().encode_status(0).unwrap(), bytes("02 00 30 03 35"));
    assert_eq!(
        kerong().encode_unlock(addr(0, 1)).unwrap(),
        bytes("02 00 31 03 36")
    );
    assert_eq!(
        kerong().encode_unlock(addr(1, 16)).unwrap(),
        bytes("02 1F 31 03 55")
    );
}

fn kerong_reply(board: u8, locked: &[u8], items: &[u8]) -> Frame {
    Frame::StatusReply {
        board,
        locks: (1..=16)
            .map(|l| {
                let status = LockStatus {
                    locked: locked.contains(&l),
                    item_present: Some(items.contains(&l)),
                };
                (l, status)
            })
            .collect(),
    }
}

#[test]
fn kerong_status_reply_vectors() {
    // HOOK1-8 = 01 (lock 1), HOOK9-16 = 01 (lock 9), IR1-8 = 02 (lock 2).
    check(
        kerong(),
        kerong_reply(0, &[1, 9], &[2]),
        "02 00 35 01 01 02 00 03 3E",
    );
    check(
        kerong(),
        kerong_reply(1, &(1..=16).collect::<Vec<_>>(), &[]),
        "02 10 35 FF FF 00 00 03 48",
    );
    // Bit 7 is lock 8 / lock 16.
    check(
        kerong(),
        kerong_reply(2, &[8, 16], &[1, 16]),
        "02 20 35 80 80 01 80 03 DB",
    );
}

#[test]
fn kerong_rejects_addresses_that_would_spill_into_other_fields() {
    for bad in [addr(10, 1), addr(0, 0), addr(0, 17), addr(15, 1)] {
        assert!(
            matches!(
                kerong().encode_unlock(bad),
                Err(BoardError::InvalidAddress(_))
            ),
            "{bad} must be rejected"
        );
    }
    assert!(matches!(
        kerong().encode_status(10),
        Err(BoardError::InvalidAddress(_))
    ));
    assert!(matches!(
        kerong().encode(&Frame::StatusQuery {
            board: 0,
            lock: Some(1)
        }),
        Err(BoardError::Unsupported(_))
    ));
    assert!(matches!(
        kerong().encode(&Frame::UnlockAck(addr(0, 1))),
        Err(BoardError::Unsupported(_))
    ));
}

#[test]
fn xor8a_vectors() {
    check(xor(), Frame::Unlock(addr(1, 1)), "8A 01 01 11 9B");
    check(xor(), Frame::Unlock(addr(2, 5)), "8A 02 05 11 9C");
    check(xor(), Frame::UnlockAck(addr(1, 1)), "8A 01 01 11 9B");
    check(
        xor(),
        Frame::StatusQuery {
            board: 1,
            lock: Some(1),
        },
        "80 01 01 33 B3",
    );
    check(
        xor(),
        Frame::StatusQuery {
            board: 1,
            lock: None,
        },
        "80 01 00 33 B2",
    );
    let one = |locked| Frame::StatusReply {
        board: 1,
        locks: vec![(
            1,
            LockStatus {
                locked,
                item_present: None,
            },
        )],
    };
    check(xor(), one(false), "80 01 01 11 91");
    check(xor(), one(true), "80 01 01 00 80");
    assert_eq!(
        xor().encode_unlock(addr(1, 1)).unwrap(),
        bytes("8A 01 01 11 9B")
    );
    assert_eq!(xor().encode_status(1).unwrap(), bytes("80 01 00 33 B2"));
    assert_eq!(
        xor().encode_lock_status(addr(1, 1)).unwrap(),
        bytes("80 01 01 33 B3")
    );
}

#[test]
fn xor8a_direction_decides_unlock_versus_ack() {
    let wire = bytes("8A 01 01 11 9B");
    assert_eq!(
        xor().decode(&wire, Direction::ToBoard).map(|(f, _)| f),
        Some(Frame::Unlock(LockAddress::new(1, 1)))
    );
    assert_eq!(
        xor().decode(&wire, Direction::ToHost).map(|(f, _)| f),
        Some(Frame::UnlockAck(LockAddress::new(1, 1)))
    );
}

#[test]
fn xor8a_rejects_board_and_lock_zero() {
    for bad in [addr(0, 1), addr(1, 0), addr(1, 49)] {
        assert!(
            matches!(xor().encode_unlock(bad), Err(BoardError::InvalidAddress(_))),
            "{bad} must be rejected"
        );
    }
    assert!(matches!(
        xor().encode_status(0),
        Err(BoardError::InvalidAddress(_))
    ));
    assert!(matches!(
        xor().encode(&Frame::UnlockAll { board: 1 }),
        Err(BoardError::Unsupported(_))
    ));
}

#[test]
fn kerong_host_side_skips_echoed_requests() {
    // An RS-485 adapter that echoes our own query: the echo must be skipped
    // and the real reply found after it.
    let mut wire = bytes("02 00 30 03 35");
    wire.extend(bytes("02 00 35 01 01 02 00 03 3E"));
    let (frame, used) = kerong()
        .decode(&wire, Direction::ToHost)
        .expect("reply found");
    assert_eq!(frame, kerong_reply(0, &[1, 9], &[2]));
    assert_eq!(used, wire.len());
}

#[test]
fn bad_checksums_are_rejected_not_decoded() {
    use cubby_boards::Scan;
    for (codec, wire, dir) in [
        (kerong(), "02 00 31 03 37", Direction::ToBoard),
        (kerong(), "02 00 35 01 01 02 00 03 3F", Direction::ToHost),
        (xor(), "8A 01 01 11 9A", Direction::ToBoard),
        (xor(), "80 01 01 11 90", Direction::ToHost),
    ] {
        let wire = bytes(wire);
        assert!(
            matches!(codec.scan(&wire, dir), Scan::Corrupt { start: 0, .. }),
            "{} must be corrupt",
            hex(&wire)
        );
        assert_eq!(codec.decode(&wire, dir), None);
    }
}

#[test]
fn kerong_missing_etx_is_corrupt() {
    use cubby_boards::Scan;
    let wire = bytes("02 00 31 04 37");
    assert!(matches!(
        kerong().scan(&wire, Direction::ToBoard),
        Scan::Corrupt { start: 0, .. }
    ));
}

#[test]
fn corrupt_frame_followed_by_good_one_resyncs() {
    let mut wire = bytes("02 02 31 03 39"); // bad checksum (should be 38)
    wire.extend(bytes("02 00 30 03 35"));
    let (frame, _) = kerong()
        .decode(&wire, Direction::ToBoard)
        .expect("resynced");
    assert_eq!(
        frame,
        Frame::StatusQuery {
            board: 0,
            lock: None
        }
    );

    let mut wire = bytes("8A 80 01 11 00"); // bad check, and a start byte inside
    wire.extend(bytes("8A 01 01 11 9B"));
    let (frame, _) = xor().decode(&wire, Direction::ToBoard).expect("resynced");
    assert_eq!(frame, Frame::Unlock(addr(1, 1)));
}

#[test]
fn partial_frames_wait_for_more_bytes() {
    use cubby_boards::Scan;
    let wire = bytes("FF 00 02 00 30");
    match kerong().scan(&wire, Direction::ToBoard) {
        Scan::Incomplete { garbage } => assert_eq!(garbage, 2),
        other => panic!("expected incomplete, got {other:?}"),
    }
    let wire = bytes("11 22 8A 01 01");
    match xor().scan(&wire, Direction::ToBoard) {
        Scan::Incomplete { garbage } => assert_eq!(garbage, 2),
        other => panic!("expected incomplete, got {other:?}"),
    }
}
