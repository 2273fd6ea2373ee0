use cubby_protocol::journal::*;
use proptest::prelude::*;

fn chain(n: u64) -> Vec<JournalEntry> {
    let mut prev = GENESIS.to_string();
    (1..=n)
        .map(|seq| {
            let e = JournalEntry::next(
                &prev,
                seq,
                1_000 + seq as i64,
                EdgeEvent::DoorClosed {
                    compartment: format!("A{seq:02}"),
                    item_present: Some(seq % 2 == 0),
                },
            );
            prev = e.hash.clone();
            e
        })
        .collect()
}

#[test]
fn an_intact_chain_verifies_and_continues_from_its_head() {
    let c = chain(10);
    assert_eq!(verify_continuation(0, GENESIS, &c), Ok(()));
    assert_eq!(verify_continuation(4, &c[3].hash, &c[4..]), Ok(()));
    assert_eq!(
        verify_continuation(4, &c[3].hash, &c[5..]),
        Err(JournalBreak::Gap {
            expected: 5,
            found: 6
        })
    );
}

proptest! {
    /// Changing any byte of any entry's JSON, deleting an entry before the head
    /// or swapping two is detected.
    #[test]
    fn any_alteration_is_detected(n in 3u64..20, pick in any::<prop::sample::Index>(), byte in any::<prop::sample::Index>(), mode in 0u8..3) {
        let mut c = chain(n);
        let i = pick.index(c.len());
        match mode {
            0 => {
                let mut json = serde_json::to_string(&c[i]).unwrap().into_bytes();
                let at = byte.index(json.len());
                json[at] = json[at].wrapping_add(1);
                match serde_json::from_slice::<JournalEntry>(&json) {
                    Ok(changed) if changed != c[i] => c[i] = changed,
                    // Unparseable or an equivalent document: nothing to check.
                    _ => return Ok(()),
                }
            }
            // Dropping the newest entries leaves a valid shorter chain: that is
            // what the acknowledged head is for, so delete inside the chain.
            1 => { c.remove(i.min(c.len() - 2)); }
            _ => {
                let j = (i + 1) % c.len();
                c.swap(i, j);
            }
        }
        prop_assert!(verify_continuation(0, GENESIS, &c).is_err());
    }
}
