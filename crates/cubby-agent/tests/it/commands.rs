//! Signed unlock commands from the server: only a valid one addressed to this
//! device opens, once, within the remote-open cap.

use cubby_agent::EdgePolicy;
use cubby_protocol::command::{Outcome, Purpose, Rejection};
use cubby_protocol::signing::{sign, signing_key};

use crate::{Locker, Server, lock_of, now, signed_bytes};

fn rejected(reason: Rejection) -> Outcome {
    Outcome::Rejected { reason }
}

#[tokio::test]
async fn only_a_valid_command_addressed_here_opens_and_a_redelivery_opens_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let mut locker = Locker::start(&server, tmp.path(), EdgePolicy::default()).await;
    locker.install(server.signed_cache(&server.cache(1))).await;

    let rogue = signing_key(&[42u8; 32]);
    let good = sign(
        &server.key,
        &server.command("cmd-good", 1003, "A01", Purpose::Staff),
    );
    let mut altered = good.clone();
    altered.payload = altered.payload.replace("A01", "A02");
    let mut misaddressed = server.command("cmd-m", 1001, "A01", Purpose::Staff);
    misaddressed.device_id = "dev_00000000000000000000000000000009".into();
    let mut expired = server.command("cmd-e", 1002, "A01", Purpose::Staff);
    (expired.issued_ms, expired.expires_ms) = (now() - 40_000, now() - 20_000);
    let mut too_long = server.command("cmd-l", 1004, "A01", Purpose::Staff);
    too_long.expires_ms = too_long.issued_ms + 3_600_000;

    let attempts = [
        (
            "forged",
            signed_bytes(&sign(
                &rogue,
                &server.command("cmd-f", 1000, "A01", Purpose::Staff),
            )),
            rejected(Rejection::BadSignature),
        ),
        (
            "mis-addressed",
            server.sign_bytes(&misaddressed),
            rejected(Rejection::WrongDevice),
        ),
        (
            "expired",
            server.sign_bytes(&expired),
            rejected(Rejection::Expired),
        ),
        ("good", signed_bytes(&good), Outcome::Done),
        ("redelivered", signed_bytes(&good), Outcome::Done),
        (
            "replayed seq",
            server.sign_bytes(&server.command("cmd-r", 1003, "A02", Purpose::Staff)),
            rejected(Rejection::Replayed),
        ),
        (
            "altered",
            signed_bytes(&altered),
            rejected(Rejection::BadSignature),
        ),
        (
            "valid too long",
            server.sign_bytes(&too_long),
            rejected(Rejection::LifetimeTooLong),
        ),
        (
            "garbage",
            b"not json".to_vec(),
            rejected(Rejection::Malformed),
        ),
    ];
    for (what, bytes, outcome) in attempts {
        let reply = locker.command(bytes).await;
        assert_eq!(reply.outcome, outcome, "{what}: {reply:?}");
        assert_eq!(reply.duplicate, what == "redelivered", "{what}");
    }
    assert_eq!(locker.sim.releases(lock_of("A01")), 1);
    assert_eq!(
        locker.sim.total_releases(),
        1,
        "only the valid command opened"
    );
    assert_eq!(locker.count("command_rejected"), 7);
    assert_eq!(locker.count("unlocked"), 1);

    // A valid command for a compartment this locker does not have.
    let reply = locker
        .command(server.sign_bytes(&server.command("cmd-x", 1005, "Z99", Purpose::Staff)))
        .await;
    assert!(matches!(reply.outcome, Outcome::Failed { .. }), "{reply:?}");
    assert_eq!(locker.sim.total_releases(), 1);
}

#[tokio::test]
async fn the_remote_open_cap_holds_across_a_restart_and_maintenance_lifts_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let mut locker = Locker::start(&server, tmp.path(), EdgePolicy::default()).await;
    locker.install(server.signed_cache(&server.cache(1))).await;

    // These boards have no item sensors: every compartment may hold a parcel,
    // so every remote open counts against the cap of 10 per 10 minutes.
    let labels = ["A01", "A02", "B01", "C01", "K01"];
    let mut outcomes = Vec::new();
    for i in 0..12u64 {
        let label = labels[i as usize % labels.len()];
        let cmd = server.command(&format!("cmd-cap-{i}"), 2000 + i, label, Purpose::Staff);
        outcomes.push(locker.command(server.sign_bytes(&cmd)).await.outcome);
        locker.sim.close_door(lock_of(label));
    }
    let done = outcomes.iter().filter(|o| **o == Outcome::Done).count();
    assert_eq!(done, 10, "{outcomes:?}");
    assert!(
        outcomes[10..].iter().all(
            |o| matches!(o, Outcome::Refused { reason } if reason.contains("remote-open cap"))
        ),
        "{outcomes:?}"
    );
    assert_eq!(locker.sim.total_releases(), 10, "the cap held at 10");
    assert_eq!(locker.count("command_refused"), 2);

    // Restarted, the agent remembers the window's opens, the last sequence
    // number and its answers.
    let sim = locker.stop().await;
    let mut locker = Locker::start_on(&server, tmp.path(), sim, EdgePolicy::default()).await;
    let again = server.command("cmd-cap-0", 2000, "A01", Purpose::Staff);
    let reply = locker.command(server.sign_bytes(&again)).await;
    assert_eq!((reply.outcome, reply.duplicate), (Outcome::Done, true));
    let old_seq = server.command("cmd-new", 2005, "A01", Purpose::Staff);
    let reply = locker.command(server.sign_bytes(&old_seq)).await;
    assert_eq!(reply.outcome, rejected(Rejection::Replayed));
    let next = server.command("cmd-next", 3000, "A01", Purpose::Staff);
    let reply = locker.command(server.sign_bytes(&next)).await;
    assert!(
        matches!(reply.outcome, Outcome::Refused { .. }),
        "{reply:?}"
    );
    assert_eq!(locker.sim.total_releases(), 10);

    // Staff servicing the bank switch maintenance on: the cap no longer applies.
    let (tx, rx) = tokio::sync::oneshot::channel();
    locker
        .send(cubby_agent::engine::Input::Maintenance {
            on: true,
            answer: tx,
        })
        .await;
    rx.await.unwrap();
    let staff = server.command("cmd-maint", 3001, "A01", Purpose::Staff);
    let reply = locker.command(server.sign_bytes(&staff)).await;
    assert_eq!(reply.outcome, Outcome::Done);
    assert_eq!(locker.sim.total_releases(), 11);
    assert_eq!(locker.count("maintenance_mode"), 1);
}
