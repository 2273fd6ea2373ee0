//! Property tests: round trips, resynchronisation over garbage, rejection of
//! damaged check bytes, and bounded buffering.

use cubby_boards::{
    Codec, Direction, Family, Frame, FrameReader, LockAddress, LockStatus, MAX_FRAME_LEN,
};
use proptest::prelude::*;

fn status() -> impl Strategy<Value = (bool, bool)> {
    (any::<bool>(), any::<bool>())
}

/// Every frame the Kerong codec can encode, in canonical (decoded) form.
fn kerong_frame() -> impl Strategy<Value = Frame> {
    let board = 0u8..=9;
    prop_oneof![
        (board.clone(), 1u8..=16).prop_map(|(b, l)| Frame::Unlock(LockAddress::new(b, l))),
        board.clone().prop_map(|board| Frame::UnlockAll { board }),
        board
            .clone()
            .prop_map(|board| Frame::StatusQuery { board, lock: None }),
        Just(Frame::BusStatusQuery),
        (board.clone(), any::<u16>())
            .prop_map(|(board, units_10ms)| Frame::SetPulseTime { board, units_10ms }),
        (board, proptest::collection::vec(status(), 16)).prop_map(|(board, s)| {
            Frame::StatusReply {
                board,
                locks: s
                    .into_iter()
                    .zip(1u8..)
                    .map(|((locked, item), lock)| {
                        let status = LockStatus {
                            locked,
                            item_present: Some(item),
                        };
                        (lock, status)
                    })
                    .collect(),
            }
        }),
    ]
}

/// Every frame the 0x8A/XOR codec can encode, in canonical form.
fn xor8a_frame() -> impl Strategy<Value = Frame> {
    let board = 1u8..=255;
    let lock = 1u8..=48;
    prop_oneof![
        (board.clone(), lock.clone()).prop_map(|(b, l)| Frame::Unlock(LockAddress::new(b, l))),
        (board.clone(), lock.clone()).prop_map(|(b, l)| Frame::UnlockAck(LockAddress::new(b, l))),
        (board.clone(), proptest::option::of(lock.clone()))
            .prop_map(|(board, lock)| Frame::StatusQuery { board, lock }),
        (board, lock, any::<bool>()).prop_map(|(board, lock, locked)| Frame::StatusReply {
            board,
            locks: vec![(
                lock,
                LockStatus {
                    locked,
                    item_present: None
                }
            )],
        }),
    ]
}

fn family_frame() -> impl Strategy<Value = (Family, Frame)> {
    prop_oneof![
        kerong_frame().prop_map(|f| (Family::Kerong, f)),
        xor8a_frame().prop_map(|f| (Family::Xor8a, f)),
    ]
}

/// Bytes that can never start a frame of `family`.
fn is_start_byte(family: Family, b: u8) -> bool {
    match family {
        Family::Kerong => b == 0x02,
        Family::Xor8a => b == 0x80 || b == 0x8A,
    }
}

fn garbage() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..200)
}

/// Feed `wire` to a reader in pieces of `chunk` bytes; collect the results.
fn feed(
    codec: &'static dyn Codec,
    dir: Direction,
    wire: &[u8],
    chunk: usize,
) -> (Vec<Frame>, usize) {
    let mut reader = FrameReader::new(codec, dir);
    let mut frames = Vec::new();
    let mut errors = 0;
    for piece in wire.chunks(chunk.max(1)) {
        for item in reader.push(piece) {
            match item {
                Ok(f) => frames.push(f),
                Err(_) => errors += 1,
            }
        }
        assert!(
            reader.buffered() <= MAX_FRAME_LEN,
            "buffer grew past the cap"
        );
    }
    (frames, errors)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip((family, frame) in family_frame()) {
        let codec = family.codec();
        let wire = codec.encode(&frame).expect("canonical frames encode");
        prop_assert!(wire.len() <= MAX_FRAME_LEN);
        let (decoded, used) = codec.decode(&wire, frame.direction()).expect("decodes");
        prop_assert_eq!(decoded, frame);
        prop_assert_eq!(used, wire.len());
    }

    /// Garbage without start-of-frame bytes, before and after, in any
    /// chunking: exactly the frame comes out.
    #[test]
    fn frame_survives_garbage_around_it(
        (family, frame) in family_frame(),
        before in garbage(),
        after in garbage(),
        chunk in 1usize..80,
    ) {
        let codec = family.codec();
        let mut wire: Vec<u8> = before.into_iter().filter(|b| !is_start_byte(family, *b)).collect();
        wire.extend(codec.encode(&frame).expect("encodes"));
        wire.extend(after.into_iter().filter(|b| !is_start_byte(family, *b)));
        let (frames, errors) = feed(codec, frame.direction(), &wire, chunk);
        prop_assert_eq!(frames, vec![frame]);
        prop_assert_eq!(errors, 0);
    }

    /// Fully arbitrary garbage, start bytes included: the decoder never
    /// panics, stays bounded, and once a run of filler longer than any frame
    /// has ended every false start in the garbage, the real frame is the last
    /// thing decoded. (Random bytes may occasionally contain a valid frame of
    /// their own, so only the last one is checked.)
    #[test]
    fn arbitrary_garbage_is_survivable(
        (family, frame) in family_frame(),
        noise in garbage(),
        chunk in 1usize..80,
    ) {
        let codec = family.codec();
        let mut wire = noise;
        // A run of filler longer than any frame ends every false start.
        wire.extend(std::iter::repeat_n(0x55, MAX_FRAME_LEN));
        wire.extend(codec.encode(&frame).expect("encodes"));
        let (frames, _errors) = feed(codec, frame.direction(), &wire, chunk);
        prop_assert_eq!(frames.last(), Some(&frame));
    }

    /// Any damage to the check byte is caught: no frame, at least one error.
    #[test]
    fn flipped_check_byte_is_rejected(
        (family, frame) in family_frame(),
        flip in 1u8..=255,
        chunk in 1usize..16,
    ) {
        let codec = family.codec();
        let mut wire = codec.encode(&frame).expect("encodes");
        if let Some(last) = wire.last_mut() {
            *last ^= flip;
        }
        prop_assert_eq!(codec.decode(&wire, frame.direction()), None);
        let (frames, errors) = feed(codec, frame.direction(), &wire, chunk);
        prop_assert!(frames.is_empty(), "decoded {:?}", frames);
        prop_assert!(errors >= 1);
    }

    /// The scanner never panics and never claims bytes it was not given.
    #[test]
    fn scan_is_total(family in prop_oneof![Just(Family::Kerong), Just(Family::Xor8a)],
                     wire in garbage(),
                     to_host in any::<bool>()) {
        use cubby_boards::Scan;
        let dir = if to_host { Direction::ToHost } else { Direction::ToBoard };
        match family.codec().scan(&wire, dir) {
            Scan::Incomplete { garbage } => prop_assert!(garbage <= wire.len()),
            Scan::Frame { start, end, .. } => prop_assert!(start < end && end <= wire.len()),
            Scan::Corrupt { start, .. } => prop_assert!(start < wire.len()),
        }
    }
}
