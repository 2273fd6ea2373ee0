//! Couriers deposit pre-advised parcels with a pass, decided at the locker;
//! and what a nearly full disk stops.

use cubby_agent::EdgePolicy;
use cubby_agent::engine::{DepositAnswer, KioskAnswer};
use cubby_protocol::cache::CredentialKind;
use cubby_protocol::command::{Outcome, Purpose};

use crate::{Locker, Server, lock_of, no_grace};

const PASS: &str = "4821730955";

fn courier_cache(server: &Server) -> Vec<u8> {
    let mut cache = server.cache(1);
    cache.couriers = vec![server.courier("cps_dhl", "dhl", PASS)];
    cache.expected = vec![
        server.expected("prc_1", "RB123456785GB", "dhl"),
        server.expected("prc_2", "1Z5R89390357567127", "dhl"),
        server.expected("prc_3", "JJD000390007700000001", "ups"),
        server.expected("prc_4", "RR123456785GB", "dhl"),
    ];
    server.signed_cache(&cache)
}

fn opened(compartment: &str, parcel_id: &str) -> DepositAnswer {
    DepositAnswer::Opened {
        compartment: compartment.into(),
        parcel_id: parcel_id.into(),
    }
}

#[tokio::test]
async fn a_courier_pass_deposits_pre_advised_parcels_into_free_doors_across_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let locker = Locker::start(&server, tmp.path(), EdgePolicy::default()).await;
    locker.install(courier_cache(&server)).await;

    assert_eq!(
        locker.deposit("0000000000", "RB123456785GB").await,
        DepositAnswer::PassRejected
    );
    assert_eq!(
        locker.deposit(PASS, "RB000000000GB").await,
        DepositAnswer::NotExpected
    );
    assert_eq!(
        locker.deposit(PASS, "JJD000390007700000001").await,
        DepositAnswer::NotExpected,
        "pre-advised for another carrier than the pass's"
    );
    assert_eq!(locker.sim.total_releases(), 0, "no refusal opened a door");

    // Typed loosely, the tracking number still matches.
    assert_eq!(
        locker.deposit(PASS, "rb 123 456 785 gb").await,
        opened("A01", "prc_1")
    );
    assert_eq!(locker.sim.releases(lock_of("A01")), 1);
    locker.sim.put_item(lock_of("A01"));
    locker.sim.close_door(lock_of("A01"));
    assert_eq!(
        locker.deposit(PASS, "RB123456785GB").await,
        DepositAnswer::AlreadyDeposited
    );
    // The next parcel takes the next free door, not the one just filled.
    assert_eq!(
        locker.deposit(PASS, "1Z5R89390357567127").await,
        opened("A02", "prc_2")
    );
    assert_eq!(locker.sim.total_releases(), 2);
    assert_eq!(locker.count("deposit_made"), 2);
    assert_eq!(locker.count("deposit_refused"), 3);

    // Restarted on the same journal (the cache still says A01 and A02 are
    // free): the deposits made here are remembered.
    let sim = locker.stop().await;
    let locker = Locker::start_on(&server, tmp.path(), sim, EdgePolicy::default()).await;
    assert_eq!(
        locker.deposit(PASS, "RB123456785GB").await,
        DepositAnswer::AlreadyDeposited
    );
    assert_eq!(
        locker.deposit(PASS, "RR123456785GB").await,
        opened("B01", "prc_4")
    );
    assert_eq!(locker.sim.total_releases(), 3);
}

#[tokio::test]
async fn with_its_disk_nearly_full_the_locker_takes_no_deposits_but_hands_out_parcels() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    // A floor above any disk's free space, as on a full card.
    let policy = EdgePolicy {
        min_free_bytes: u64::MAX,
        ..no_grace()
    };
    let mut locker = Locker::start(&server, tmp.path(), policy).await;
    let mut cache = server.cache(1);
    cache.couriers = vec![server.courier("cps_dhl", "dhl", PASS)];
    cache.expected = vec![server.expected("prc_1", "RB123456785GB", "dhl")];
    cache.entries =
        vec![server.pickup_entry("cred_anna", CredentialKind::Keypad, "12345678", &["C01"])];
    locker.install(server.signed_cache(&cache)).await;

    let deposit = server.command("cmd-d", 1, "A01", Purpose::Deposit);
    let reply = locker.command(server.sign_bytes(&deposit)).await;
    assert!(
        matches!(&reply.outcome, Outcome::Refused { reason } if reason.contains("storage nearly full")),
        "{reply:?}"
    );
    assert!(matches!(
        locker.deposit(PASS, "RB123456785GB").await,
        DepositAnswer::Unavailable(_)
    ));
    assert_eq!(locker.sim.total_releases(), 0, "no deposit opened a door");

    // Pick-ups and staff opens go on, and are journalled.
    assert_eq!(
        locker.pickup("12345678").await,
        KioskAnswer::Opened(vec!["C01".into()])
    );
    let staff = server.command("cmd-s", 2, "B01", Purpose::Staff);
    assert_eq!(
        locker.command(server.sign_bytes(&staff)).await.outcome,
        Outcome::Done
    );
    assert_eq!(locker.sim.releases(lock_of("C01")), 1);
    assert_eq!(locker.sim.releases(lock_of("B01")), 1);
    assert_eq!(locker.sim.total_releases(), 2);
    assert_eq!(locker.count("command_refused"), 1);
    assert_eq!(locker.count("pickup_granted"), 1);
}
