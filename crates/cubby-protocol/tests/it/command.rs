use cubby_protocol::command::*;
use cubby_protocol::signing::{Signed, sign};
use proptest::prelude::*;

use crate::{other_key, server_key};

const NOW: i64 = 1_800_000_000_000;

fn cmd(device: &str, id: &str, seq: u64, issued: i64, expires: i64) -> Command {
    Command {
        device_id: device.into(),
        cmd_id: id.into(),
        tx_id: "tx-1".into(),
        seq,
        issued_ms: issued,
        expires_ms: expires,
        action: Action::Unlock {
            compartment: "A01".into(),
            purpose: Purpose::Deposit,
        },
    }
}

fn raw(c: &Command) -> Vec<u8> {
    serde_json::to_vec(&sign(&server_key(), c)).unwrap()
}

fn done(c: &Command) -> Reply {
    Reply {
        cmd_id: Some(c.cmd_id.clone()),
        tx_id: Some(c.tx_id.clone()),
        seq: Some(c.seq),
        outcome: Outcome::Done,
        duplicate: false,
    }
}

fn reason(v: Verdict) -> Option<Rejection> {
    match v {
        Verdict::Reject { reason, .. } => Some(reason),
        _ => None,
    }
}

#[test]
fn a_fresh_signed_command_for_this_device_executes() {
    let g = CommandGuard::new();
    let c = cmd("dev-1", "c1", 1, NOW, NOW + 20_000);
    assert_eq!(
        g.check(&raw(&c), &server_key().verifying_key(), "dev-1", NOW),
        Verdict::Execute(c)
    );
}

#[test]
fn forged_altered_misaddressed_expired_and_replayed_commands_are_rejected() {
    let key = server_key().verifying_key();
    let mut g = CommandGuard::new();
    let c = cmd("dev-1", "c5", 5, NOW, NOW + 20_000);

    // Signed by another key.
    let forged = serde_json::to_vec(&sign(&other_key(), &c)).unwrap();
    assert_eq!(
        reason(g.check(&forged, &key, "dev-1", NOW)),
        Some(Rejection::BadSignature)
    );

    // Payload altered after signing (compartment changed).
    let mut s: Signed = serde_json::from_slice(&raw(&c)).unwrap();
    s.payload = s.payload.replace("A01", "A02");
    let altered = serde_json::to_vec(&s).unwrap();
    assert_eq!(
        reason(g.check(&altered, &key, "dev-1", NOW)),
        Some(Rejection::BadSignature)
    );

    assert_eq!(
        reason(g.check(&raw(&c), &key, "dev-2", NOW)),
        Some(Rejection::WrongDevice)
    );
    assert_eq!(
        reason(g.check(&raw(&c), &key, "dev-1", NOW + 20_001)),
        Some(Rejection::Expired)
    );
    let long = cmd("dev-1", "c6", 6, NOW, NOW + MAX_LIFETIME_MS + 1);
    assert_eq!(
        reason(g.check(&raw(&long), &key, "dev-1", NOW)),
        Some(Rejection::LifetimeTooLong)
    );
    let future = cmd("dev-1", "c7", 7, NOW + 10_000, NOW + 20_000);
    assert_eq!(
        reason(g.check(&raw(&future), &key, "dev-1", NOW)),
        Some(Rejection::NotYetValid)
    );
    assert_eq!(
        reason(g.check(b"{not json", &key, "dev-1", NOW)),
        Some(Rejection::Malformed)
    );

    // Accept c5, then a different command with an old sequence is a replay.
    g.record(5, done(&c));
    let old = cmd("dev-1", "c4", 4, NOW, NOW + 20_000);
    assert_eq!(
        reason(g.check(&raw(&old), &key, "dev-1", NOW)),
        Some(Rejection::Replayed)
    );
    let same_seq = cmd("dev-1", "c5b", 5, NOW, NOW + 20_000);
    assert_eq!(
        reason(g.check(&raw(&same_seq), &key, "dev-1", NOW)),
        Some(Rejection::Replayed)
    );
}

#[test]
fn a_redelivered_command_is_answered_again_without_executing() {
    let key = server_key().verifying_key();
    let mut g = CommandGuard::new();
    let c = cmd("dev-1", "c1", 1, NOW, NOW + 20_000);
    g.record(1, done(&c));
    match g.check(&raw(&c), &key, "dev-1", NOW + 1) {
        Verdict::Duplicate(r) => {
            assert!(r.duplicate);
            assert_eq!(r.outcome, Outcome::Done);
        }
        other => panic!("expected a duplicate, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Over random streams of deliveries (new, redelivered, replayed with a
    /// lower seq), each command id executes at most once and the executed
    /// sequence numbers strictly increase.
    #[test]
    fn each_command_executes_at_most_once(ops in proptest::collection::vec((0u64..20, 0i64..40_000), 1..80)) {
        let key = server_key().verifying_key();
        let mut g = CommandGuard::new();
        let mut executed: Vec<(String, u64)> = Vec::new();
        for (seq, dt) in ops {
            let c = cmd("dev-1", &format!("c{seq}"), seq, NOW, NOW + 30_000);
            if let Verdict::Execute(c) = g.check(&raw(&c), &key, "dev-1", NOW + dt) {
                prop_assert!(NOW + dt <= c.expires_ms);
                executed.push((c.cmd_id.clone(), c.seq));
                g.record(c.seq, done(&c));
            }
        }
        let mut ids: Vec<_> = executed.iter().map(|(i, _)| i.clone()).collect();
        ids.sort();
        ids.dedup();
        prop_assert_eq!(ids.len(), executed.len());
        prop_assert!(executed.windows(2).all(|w| w[0].1 < w[1].1));
    }
}
