//! The chain of custody: an append-only, hash-chained list of events per site.
//!
//! Each event's hash covers the previous event's hash and every field of the
//! event, length-prefixed so that no two different events encode alike. Changing
//! any byte, deleting an event or swapping two breaks the chain at a point that
//! [`verify_chain`] names.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Millis;

/// The hash before the first event of a site.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// One recorded step in a parcel's custody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyEvent {
    pub site_id: String,
    /// Position in the site's chain, from 1 without gaps.
    pub seq: i64,
    pub parcel_id: String,
    /// What happened (`deposited`, `picked_up`, …).
    pub kind: String,
    /// Who did it: `courier:…`, `resident:…`, `token:…`, `system`.
    pub actor: String,
    pub at_ms: Millis,
    /// Where: a locker and compartment, a parcel room, or the API.
    pub place: String,
    /// Why, in words a person can read.
    pub reason: String,
}

/// An entry of a hash chain: its place in the chain, and its hash given the
/// hash of the entry before it. The custody chains and the security audit log
/// are both verified by [`verify_chain`].
pub trait Chained {
    fn seq(&self) -> i64;
    fn chain_hash(&self, prev: &[u8; 32]) -> [u8; 32];
}

/// Hashes length-prefixed fields after a domain tag, the previous hash and two
/// integers, so that no two different entries encode alike.
pub fn hash_fields(tag: &[u8], prev: &[u8; 32], ints: [i64; 2], fields: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(tag);
    h.update(prev);
    for i in ints {
        h.update(i.to_be_bytes());
    }
    for field in fields {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().into()
}

impl Chained for CustodyEvent {
    fn seq(&self) -> i64 {
        self.seq
    }
    fn chain_hash(&self, prev: &[u8; 32]) -> [u8; 32] {
        CustodyEvent::chain_hash(self, prev)
    }
}

impl CustodyEvent {
    /// The chain hash of this event given the hash of the one before it.
    pub fn chain_hash(&self, prev: &[u8; 32]) -> [u8; 32] {
        hash_fields(
            b"cubby-custody-v1",
            prev,
            [self.seq, self.at_ms],
            &[
                &self.site_id,
                &self.parcel_id,
                &self.kind,
                &self.actor,
                &self.place,
                &self.reason,
            ],
        )
    }
}

/// Where and how a chain is broken.
/// `chain` names the chain: `site site_…` for custody, `security audit`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error(
        "{chain}: expected event #{expected} but found #{found} (an event was deleted or moved)"
    )]
    Gap {
        chain: String,
        expected: i64,
        found: i64,
    },
    #[error(
        "{chain}: event #{seq} does not match its hash (its content was changed or events were reordered)"
    )]
    HashMismatch { chain: String, seq: i64 },
    #[error(
        "{chain}: the chain head says #{head_seq} but the last event is #{last_seq} (events were deleted from the end)"
    )]
    Truncated {
        chain: String,
        head_seq: i64,
        last_seq: i64,
    },
}

/// Checks the events of one chain, in stored order, against their stored
/// hashes, and against the head (last seq and hash) recorded separately.
pub fn verify_chain<'a, E: Chained + 'a>(
    chain: &str,
    events: impl IntoIterator<Item = (&'a E, [u8; 32])>,
    head: Option<(i64, [u8; 32])>,
) -> Result<u64, ChainBreak> {
    verify_chain_from(chain, events, (0, GENESIS), head)
}

/// [`verify_chain`] of a chain whose events up to `floor` (seq and hash of
/// the last one) were deleted by retention: the first event kept must
/// follow the floor and chain from its hash, so deleting any event after
/// the floor still shows.
pub fn verify_chain_from<'a, E: Chained + 'a>(
    chain: &str,
    events: impl IntoIterator<Item = (&'a E, [u8; 32])>,
    floor: (i64, [u8; 32]),
    head: Option<(i64, [u8; 32])>,
) -> Result<u64, ChainBreak> {
    let mut prev = floor.1;
    let mut expected = floor.0 + 1;
    let mut count = 0u64;
    for (event, stored_hash) in events {
        if event.seq() != expected {
            return Err(ChainBreak::Gap {
                chain: chain.into(),
                expected,
                found: event.seq(),
            });
        }
        if event.chain_hash(&prev) != stored_hash {
            return Err(ChainBreak::HashMismatch {
                chain: chain.into(),
                seq: event.seq(),
            });
        }
        prev = stored_hash;
        expected += 1;
        count += 1;
    }
    if let Some((head_seq, head_hash)) = head {
        let last_seq = expected - 1;
        if head_seq != last_seq {
            return Err(ChainBreak::Truncated {
                chain: chain.into(),
                head_seq,
                last_seq,
            });
        }
        if head_hash != prev {
            return Err(ChainBreak::HashMismatch {
                chain: chain.into(),
                seq: last_seq,
            });
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(CustodyEvent, [u8; 32])> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let e = CustodyEvent {
                    site_id: "site_a".into(),
                    seq,
                    parcel_id: format!("par_{seq}"),
                    kind: "deposited".into(),
                    actor: "courier:1".into(),
                    at_ms: 1_000 * seq,
                    place: "locker L1 / A01".into(),
                    reason: "deposit".into(),
                };
                let h = e.chain_hash(&prev);
                prev = h;
                (e, h)
            })
            .collect()
    }

    fn verify(
        events: &[(CustodyEvent, [u8; 32])],
        head: Option<(i64, [u8; 32])>,
    ) -> Result<u64, ChainBreak> {
        verify_chain("site_a", events.iter().map(|(e, h)| (e, *h)), head)
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        let head = Some((5, c[4].1));
        assert_eq!(verify(&c, head), Ok(5));
    }

    #[test]
    fn detects_edit_delete_reorder_truncate() {
        let c = chain(5);
        let head = Some((5, c[4].1));
        let mut edited = c.clone();
        edited[2].0.reason.push('!');
        assert!(matches!(
            verify(&edited, head),
            Err(ChainBreak::HashMismatch { seq: 3, .. })
        ));
        let mut deleted = c.clone();
        deleted.remove(1);
        assert!(matches!(
            verify(&deleted, head),
            Err(ChainBreak::Gap {
                expected: 2,
                found: 3,
                ..
            })
        ));
        let mut swapped = c.clone();
        swapped.swap(1, 2);
        swapped[1].0.seq = 2;
        swapped[2].0.seq = 3;
        assert!(matches!(
            verify(&swapped, head),
            Err(ChainBreak::HashMismatch { seq: 2, .. })
        ));
        let truncated = &c[..4];
        assert!(matches!(
            verify(truncated, head),
            Err(ChainBreak::Truncated { .. })
        ));
    }

    #[test]
    fn a_chain_pruned_from_the_front_verifies_from_its_floor() {
        let c = chain(5);
        let head = Some((5, c[4].1));
        let kept = &c[2..];
        let floor = (2, c[1].1);
        let from = |events: &[(CustodyEvent, [u8; 32])], floor| {
            verify_chain_from("site_a", events.iter().map(|(e, h)| (e, *h)), floor, head)
        };
        assert_eq!(from(kept, floor), Ok(3));
        // Deleting past the floor shows, as does a floor that lies.
        assert!(matches!(
            from(&c[3..], floor),
            Err(ChainBreak::Gap { expected: 3, .. })
        ));
        assert!(matches!(
            from(kept, (2, c[0].1)),
            Err(ChainBreak::HashMismatch { seq: 3, .. })
        ));
        // Everything pruned: the floor is the head.
        assert_eq!(from(&[], (5, c[4].1)), Ok(0));
    }
}
