//! PINs typed at the doors this device drives, decided from the cache with
//! the domain's grant rule, with the server up or down.

use std::time::Duration;

use cubby_agent::EdgePolicy;
use cubby_agent::engine::DoorAnswer;
use cubby_protocol::offline::{offline_code, offline_grant_id};

use crate::{GYM, HOUR, LOBBY, Locker, Server, gym_lock, lobby_lock, now};

const VISITOR: &str = "24681357";
const TRAINER: &str = "55512345";

#[tokio::test]
async fn a_single_use_pin_opens_its_door_once_and_no_door_off_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let locker = Locker::start(&server, tmp.path(), EdgePolicy::default()).await;
    let mut cache = server.cache(1);
    // The street gate is on the path but driven by another controller.
    cache.grants = vec![server.grant("agr_visitor", VISITOR, &["door_gate", LOBBY], Some(1))];
    locker.install(server.signed_cache(&cache)).await;

    assert_eq!(locker.door(LOBBY, VISITOR).await, DoorAnswer::Opened);
    assert_eq!(locker.sim.releases(lobby_lock()), 1);
    locker.sim.close_door(lobby_lock());
    // Used up, off the path, wrong: one answer, nothing opens.
    assert_eq!(locker.door(LOBBY, VISITOR).await, DoorAnswer::Denied);
    assert_eq!(locker.door(GYM, VISITOR).await, DoorAnswer::Denied);
    assert_eq!(locker.door(GYM, "13579246").await, DoorAnswer::Denied);
    assert_eq!(locker.door(LOBBY, "12").await, DoorAnswer::Denied);
    assert_eq!(locker.sim.releases(lobby_lock()), 1);
    assert_eq!(locker.sim.total_releases(), 1);
    assert!(matches!(
        locker.door("door_elsewhere", VISITOR).await,
        DoorAnswer::Unavailable(_)
    ));
    assert_eq!(locker.count("access_granted"), 1);
    assert_eq!(locker.count("access_denied"), 4);
}

#[tokio::test]
async fn uses_count_from_the_cache_and_the_journal_and_a_revocation_or_rollback_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let locker = Locker::start(&server, tmp.path(), EdgePolicy::default()).await;
    // Three uses allowed; the server has stored one already.
    let mut cleaner = server.grant("agr_cleaner", VISITOR, &[GYM], Some(3));
    cleaner.uses.insert(GYM.into(), 1);
    let trainer = server.grant("agr_trainer", TRAINER, &[GYM], None);
    let mut v1 = server.cache(1);
    v1.grants = vec![cleaner.clone(), trainer.clone()];
    locker.install(server.signed_cache(&v1)).await;
    let open_gym = || async {
        let answer = locker.door(GYM, VISITOR).await;
        locker.sim.close_door(gym_lock());
        answer
    };

    assert_eq!(open_gym().await, DoorAnswer::Opened, "second use");
    // A newer cache built before the server saw that use: it still counts.
    let mut v2 = server.cache(2);
    v2.grants = vec![cleaner.clone(), trainer];
    locker.install(server.signed_cache(&v2)).await;
    assert_eq!(open_gym().await, DoorAnswer::Opened, "third use");
    assert_eq!(open_gym().await, DoorAnswer::Denied, "used up");
    // Unlimited uses.
    for _ in 0..2 {
        assert_eq!(locker.door(GYM, TRAINER).await, DoorAnswer::Opened);
        locker.sim.close_door(gym_lock());
    }
    assert_eq!(locker.sim.releases(gym_lock()), 4);

    // A cache that reflects the journal: the local uses are now in `uses`
    // and not counted again (staff allowed a fourth); the trainer's grant is
    // revoked, so it is absent.
    let head = locker.snapshot().await.journal_head;
    let mut v3 = server.cache(3);
    v3.journal_seq = head;
    cleaner.uses.insert(GYM.into(), 3);
    cleaner.rule.max_uses = Some(4);
    v3.grants = vec![cleaner];
    locker.install(server.signed_cache(&v3)).await;
    assert_eq!(open_gym().await, DoorAnswer::Opened, "fourth use");
    assert_eq!(open_gym().await, DoorAnswer::Denied);
    assert_eq!(
        locker.door(GYM, TRAINER).await,
        DoorAnswer::Denied,
        "revoked"
    );

    // The old cache, replayed: refused, though it still lists the trainer.
    locker.install(server.signed_cache(&v1)).await;
    assert_eq!(locker.door(GYM, TRAINER).await, DoorAnswer::Denied);
    assert_eq!(locker.snapshot().await.cache_version, Some(3));
    assert_eq!(locker.count("cache_refused"), 1);
    assert_eq!(locker.sim.releases(gym_lock()), 5);
}

#[tokio::test]
async fn past_its_cache_a_door_takes_offline_codes_only_and_only_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let locker = Locker::start(&server, tmp.path(), EdgePolicy::default()).await;
    let mut cache = server.cache(1);
    // Long enough to install and use it on a busy machine, short enough to
    // outlive within the test.
    cache.expires_ms = now() + 1_000;
    cache.grants = vec![server.grant("agr_cleaner", VISITOR, &[LOBBY, GYM], None)];
    locker.install(server.signed_cache(&cache)).await;
    assert_eq!(locker.door(LOBBY, VISITOR).await, DoorAnswer::Opened);
    locker.sim.close_door(lobby_lock());

    let left = (cache.expires_ms - now() + 50).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(left)).await;
    assert!(
        matches!(
            locker.door(LOBBY, VISITOR).await,
            DoorAnswer::Unavailable(_)
        ),
        "an expired cache opens nothing for an ordinary PIN"
    );
    let lobby_key = [0x11u8; 32];
    let start_hour = now() / HOUR;
    let code = offline_code(&lobby_key, start_hour, 2, 0).unwrap();
    assert_eq!(locker.door(LOBBY, &code).await, DoorAnswer::Opened);
    locker.sim.close_door(lobby_lock());
    let mut wrong = code.clone().into_bytes();
    wrong[13] = b'0' + (wrong[13] - b'0' + 1) % 10;
    let wrong = String::from_utf8(wrong).unwrap();
    assert_eq!(locker.door(LOBBY, &wrong).await, DoorAnswer::Denied);
    assert_eq!(
        locker.door(GYM, &code).await,
        DoorAnswer::Denied,
        "another door's key"
    );
    assert_eq!(locker.sim.releases(lobby_lock()), 2);
    assert_eq!(locker.sim.releases(gym_lock()), 0);
    // The offline use lands on the grant the server stored for that code.
    let granted: Vec<String> = locker
        .journal()
        .into_iter()
        .filter_map(|e| match e.event {
            cubby_protocol::journal::EdgeEvent::AccessGranted { grant_id, .. } => Some(grant_id),
            _ => None,
        })
        .collect();
    assert_eq!(
        granted,
        [
            "agr_cleaner".to_string(),
            offline_grant_id(&lobby_key, start_hour, 2, 0)
        ]
    );
}

#[tokio::test]
async fn ten_wrong_pins_lock_that_doors_keypad_and_no_other() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let locker = Locker::start(&server, tmp.path(), EdgePolicy::default()).await;
    let mut cache = server.cache(1);
    cache.grants = vec![server.grant("agr_guest", VISITOR, &[LOBBY, GYM], None)];
    locker.install(server.signed_cache(&cache)).await;

    for i in 0..10 {
        let wrong = format!("{:08}", 30_000_000 + i);
        assert_eq!(locker.door(GYM, &wrong).await, DoorAnswer::Denied);
    }
    // Locked now, even for the right PIN.
    match locker.door(GYM, VISITOR).await {
        DoorAnswer::Locked { until_ms: Some(t) } => assert!(t > now(), "{t}"),
        other => panic!("the right PIN at a locked keypad: {other:?}"),
    }
    assert_eq!(locker.sim.releases(gym_lock()), 0);
    assert_eq!(locker.count("keypad_locked"), 1);
    // The lobby has its own keypad.
    assert_eq!(locker.door(LOBBY, VISITOR).await, DoorAnswer::Opened);
    assert_eq!(locker.sim.total_releases(), 1);
}
