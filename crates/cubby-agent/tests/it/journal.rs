//! The journal: written before any latch moves, the source of truth after a
//! restart, uploaded in order, and refused when edited.

use cubby_agent::EdgePolicy;
use cubby_agent::engine::{Engine, KioskAnswer, Output, Transport};
use cubby_boards::{Board, Family};
use cubby_protocol::cache::CredentialKind;
use cubby_protocol::command::{Outcome, Purpose};
use cubby_protocol::journal::{EdgeEvent, GENESIS, verify_continuation};
use cubby_protocol::messages::{Envelope, JournalAck, JournalBatch};

use crate::{LOBBY, Locker, Server, lock_of, no_grace, read_journal};

const ANNA: &str = "12345678";
const JAN: &str = "87654321";
const CARL: &str = "11223344";

fn cache_with_codes(server: &Server) -> Vec<u8> {
    let mut cache = server.cache(1);
    cache.entries = vec![
        server.pickup_entry("cred_anna", CredentialKind::Keypad, ANNA, &["A01"]),
        server.pickup_entry("cred_jan", CredentialKind::Keypad, JAN, &["B01"]),
        server.pickup_entry("cred_carl", CredentialKind::Keypad, CARL, &["C01"]),
    ];
    // The compartments holding those parcels are not free for a deposit.
    cache.free = vec!["A02".into(), "K01".into()];
    cache.couriers = vec![server.courier("cps_dhl", "dhl", "4821730955")];
    cache.expected = vec![server.expected("prc_1", "RB123456785GB", "dhl")];
    cache.grants = vec![server.grant("agr_visitor", "24681357", &[LOBBY], None)];
    server.signed_cache(&cache)
}

#[tokio::test]
async fn every_release_is_journalled_on_disk_before_the_latch_moves() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let mut locker = Locker::start(&server, tmp.path(), no_grace()).await;
    locker.install(cache_with_codes(&server)).await;

    assert_eq!(
        locker.pickup(ANNA).await,
        KioskAnswer::Opened(vec!["A01".into()])
    );
    // On disk by the time the kiosk hears "opened".
    let on_disk = read_journal(tmp.path());
    assert!(
        on_disk.iter().any(|e| matches!(
            &e.event,
            EdgeEvent::PickupGranted { credential_id, compartments, .. }
                if credential_id == "cred_anna" && compartments == &["A01".to_string()]
        )),
        "{on_disk:?}"
    );
    // Every path that releases a latch.
    assert_eq!(
        locker.door(LOBBY, "24681357").await,
        cubby_agent::engine::DoorAnswer::Opened
    );
    assert_eq!(
        locker.deposit("4821730955", "RB123456785GB").await,
        cubby_agent::engine::DepositAnswer::Opened {
            compartment: "A02".into(),
            parcel_id: "prc_1".into()
        }
    );
    let cmd = server.command("cmd-1", 1, "K01", Purpose::Staff);
    assert_eq!(
        locker.command(server.sign_bytes(&cmd)).await.outcome,
        Outcome::Done
    );
    let releases = locker.sim.total_releases();
    assert_eq!(releases, 4);
    // The wire saw each release acknowledged, and each time the journal on
    // disk already held the entry that decided it.
    assert_eq!(locker.wire_checks(), (releases, 0));

    // One unbroken hash chain, numbered from 1 without gaps.
    let entries = locker.journal();
    verify_continuation(0, GENESIS, &entries).expect("the chain verifies");
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
    }
    assert_eq!(entries[0].event.kind(), "boot");
}

#[tokio::test]
async fn a_restarted_engine_rebuilds_used_codes_and_the_keypad_lock_from_its_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let locker = Locker::start(&server, tmp.path(), no_grace()).await;
    locker.install(cache_with_codes(&server)).await;
    assert_eq!(
        locker.pickup(ANNA).await,
        KioskAnswer::Opened(vec!["A01".into()])
    );
    locker.sim.close_door(lock_of("A01"));

    // Restarted with no server around: the stored cache is loaded again, and
    // the journal says Anna's code was used.
    let sim = locker.stop().await;
    let locker = Locker::start_on(&server, tmp.path(), sim, no_grace()).await;
    assert_eq!(locker.pickup(ANNA).await, KioskAnswer::Rejected);
    assert_eq!(
        locker.pickup(JAN).await,
        KioskAnswer::Opened(vec!["B01".into()])
    );
    // The same cache delivered again does not bring the used code back.
    locker.install(cache_with_codes(&server)).await;
    assert_eq!(locker.pickup(ANNA).await, KioskAnswer::Rejected);
    assert_eq!(locker.sim.total_releases(), 2);

    // Ten wrong codes lock the keypad; a restart does not unlock it.
    for i in 0..9 {
        assert_eq!(
            locker.pickup(&format!("{:08}", 40_000_000 + i)).await,
            KioskAnswer::Rejected
        );
    }
    let sim = locker.stop().await;
    let locker = Locker::start_on(&server, tmp.path(), sim, no_grace()).await;
    assert!(
        matches!(locker.pickup(CARL).await, KioskAnswer::Locked { .. }),
        "ten failures in a row, journalled before the restart, keep it locked"
    );
    assert_eq!(locker.sim.total_releases(), 2);
    assert_eq!(locker.count("boot"), 3);
}

#[tokio::test]
async fn the_journal_goes_up_in_order_and_an_acknowledgement_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let mut locker = Locker::start(&server, tmp.path(), no_grace()).await;
    locker.install(cache_with_codes(&server)).await;
    assert!(matches!(locker.pickup(ANNA).await, KioskAnswer::Opened(_)));
    let head = locker.snapshot().await.journal_head;
    assert!(head >= 3, "boot, cache installed, pick-up granted");

    locker
        .send(cubby_agent::engine::Input::Connected(true))
        .await;
    let batch = loop {
        if let Output::Journal(bytes) = locker.next_output().await {
            break serde_json::from_slice::<Envelope<JournalBatch>>(&bytes)
                .unwrap()
                .body;
        }
    };
    let seqs: Vec<u64> = batch.entries.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs.first(),
        Some(&1),
        "from the first unacknowledged entry"
    );
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    assert_eq!(
        batch.entries,
        read_journal(tmp.path())[..batch.entries.len()]
    );

    let ack = Envelope {
        msg_id: "msg_ack".into(),
        tx_id: None,
        sent_ms: crate::now(),
        body: JournalAck {
            up_to_seq: head,
            resend_from: None,
        },
    };
    locker
        .send(cubby_agent::engine::Input::Ack(
            serde_json::to_vec(&ack).unwrap(),
        ))
        .await;
    assert_eq!(locker.snapshot().await.journal_acked, head);
    let sim = locker.stop().await;
    let locker = Locker::start_on(&server, tmp.path(), sim, no_grace()).await;
    assert_eq!(locker.snapshot().await.journal_acked, head);
}

#[tokio::test]
async fn an_edited_journal_refuses_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let locker = Locker::start(&server, tmp.path(), no_grace()).await;
    locker.install(cache_with_codes(&server)).await;
    assert!(matches!(locker.pickup(ANNA).await, KioskAnswer::Opened(_)));
    locker.stop().await;

    // Someone turns the pick-up into one of another compartment.
    let path = tmp.path().join("journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"A01\""));
    std::fs::write(&path, text.replace("[\"A01\"]", "[\"A02\"]")).unwrap();
    let (host, _device) = tokio::io::duplex(64);
    let transport: Box<dyn Transport> = Box::new(host);
    let board = Board::try_new(Family::Xor8a, transport, vec![1], 8).unwrap();
    let (out, _rx) = tokio::sync::mpsc::channel(8);
    let started = Engine::new(
        server.identity.clone(),
        tmp.path().to_path_buf(),
        board,
        EdgePolicy::default(),
        out,
    );
    assert!(started.is_err(), "an edited journal must not be run on");
}
