//! Pick-ups at the kiosk, decided from the signed cache with no server.

use std::time::Duration;

use cubby_agent::EdgePolicy;
use cubby_agent::engine::KioskAnswer;
use cubby_protocol::cache::CredentialKind;
use cubby_protocol::phone::{PHONE_PICKUP, PhonePickup};
use cubby_protocol::signing::{sign, signing_key};

use crate::{DEVICE, Locker, Server, lock_of, no_grace, now};

const ANNA: &str = "12345678";
const JAN_QR: &str = "0123456789abcdef0123456789abcdef";

/// Anna's keypad code opens A01, Jan's QR token B01.
fn cache_with_codes(server: &Server) -> Vec<u8> {
    let mut cache = server.cache(1);
    cache.entries = vec![
        server.pickup_entry("cred_anna", CredentialKind::Keypad, ANNA, &["A01"]),
        server.pickup_entry("cred_jan", CredentialKind::Qr, JAN_QR, &["B01"]),
    ];
    server.signed_cache(&cache)
}

fn opened(labels: &[&str]) -> KioskAnswer {
    KioskAnswer::Opened(labels.iter().map(|l| l.to_string()).collect())
}

#[tokio::test]
async fn a_valid_code_opens_exactly_its_compartment_and_only_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let locker = Locker::start(&server, tmp.path(), no_grace()).await;
    assert!(
        matches!(locker.pickup(ANNA).await, KioskAnswer::Unavailable(_)),
        "no cache yet: nothing to decide from"
    );
    locker.install(cache_with_codes(&server)).await;

    assert_eq!(locker.pickup(ANNA).await, opened(&["A01"]));
    assert_eq!(locker.sim.releases(lock_of("A01")), 1);
    assert_eq!(locker.sim.total_releases(), 1, "only A01 opened");

    // Used once: refused, with the door still open and after it shut.
    assert_eq!(locker.pickup(ANNA).await, KioskAnswer::Rejected);
    locker.wait_seen("A01", false).await;
    locker.sim.close_door(lock_of("A01"));
    locker.wait_seen("A01", true).await;
    assert_eq!(locker.pickup(ANNA).await, KioskAnswer::Rejected);
    assert_eq!(locker.sim.total_releases(), 1, "a used code opens nothing");
    assert_eq!(locker.count("pickup_granted"), 1);
    assert_eq!(locker.count("pickup_denied"), 2);
}

#[tokio::test]
async fn wrong_and_unknown_codes_get_one_answer_and_ten_lock_the_keypad_but_not_qr() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let locker = Locker::start(&server, tmp.path(), no_grace()).await;
    locker.install(cache_with_codes(&server)).await;

    // A wrong code, something that is no code at all, an unknown QR token and
    // an over-long input: the same answer for each.
    let wrong = [
        "97531864",
        "12",
        "ffffffffffffffffffffffffffffffff",
        &"9".repeat(200),
    ];
    for code in wrong {
        assert_eq!(locker.pickup(code).await, KioskAnswer::Rejected, "{code}");
    }
    // The journal says a code was refused, never which.
    let journal = std::fs::read_to_string(tmp.path().join("journal.jsonl")).unwrap();
    assert!(!journal.contains("97531864"), "{journal}");

    // Keypad failures so far: the wrong code and the malformed one (the QR
    // token does not count; the over-long input is refused before reading).
    for i in 0..8 {
        assert_eq!(
            locker.pickup(&format!("{:08}", 11_110_000 + i)).await,
            KioskAnswer::Rejected
        );
    }
    assert_eq!(locker.count("keypad_locked"), 1, "the tenth failure locks");
    match locker.pickup(ANNA).await {
        KioskAnswer::Locked { until_ms: Some(t) } => assert!(t > now(), "{t}"),
        other => panic!("the right code at a locked keypad: {other:?}"),
    }
    assert_eq!(locker.sim.total_releases(), 0, "nothing opened");
    // QR pick-ups are not throttled by the keypad.
    assert_eq!(locker.pickup(JAN_QR).await, opened(&["B01"]));
    assert_eq!(locker.sim.total_releases(), 1);
}

#[tokio::test]
async fn the_same_code_reopens_shortly_after_the_door_closed_and_not_later() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let policy = EdgePolicy {
        // Long enough for the test's steps on a busy machine.
        reopen_grace_ms: 1_000,
        ..EdgePolicy::default()
    };
    let locker = Locker::start(&server, tmp.path(), policy).await;
    locker.install(cache_with_codes(&server)).await;
    let a01 = lock_of("A01");

    assert_eq!(locker.pickup(ANNA).await, opened(&["A01"]));
    locker.wait_seen("A01", false).await;
    // While the door is open the code is spent.
    assert_eq!(locker.pickup(ANNA).await, KioskAnswer::Rejected);
    locker.sim.close_door(a01);
    locker.wait_seen("A01", true).await;

    // Forgot something: within the grace the same code opens A01 again.
    assert_eq!(locker.pickup(ANNA).await, opened(&["A01"]));
    assert_eq!(locker.sim.releases(a01), 2);
    assert_eq!(locker.count("pickup_reopened"), 1);
    locker.wait_seen("A01", false).await;
    locker.sim.close_door(a01);
    locker.wait_seen("A01", true).await;

    // After the grace it opens nothing.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(locker.pickup(ANNA).await, KioskAnswer::Rejected);
    assert_eq!(locker.sim.releases(a01), 2);
    assert_eq!(locker.sim.total_releases(), 2);
}

#[tokio::test]
async fn a_phone_collects_by_answering_the_kiosk_challenge_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::new();
    let locker = Locker::start(&server, tmp.path(), no_grace()).await;
    locker.install(cache_with_codes(&server)).await;
    let (nonce, expires) = locker.phone_challenge().await;
    assert_eq!(nonce.len(), 32);
    assert!(expires > now());

    let token = |nonce: &str, device: &str| PhonePickup {
        purpose: PHONE_PICKUP.into(),
        device_id: device.into(),
        nonce: nonce.into(),
        credential_id: "cred_anna".into(),
        issued_ms: now(),
        expires_ms: now() + 60_000,
    };
    let as_text = |s: &cubby_protocol::signing::Signed| serde_json::to_string(s).unwrap();
    let real = as_text(&sign(&server.key, &token(&nonce, DEVICE)));

    // Each of these names the challenge on screen, and none spends it.
    let never_shown = as_text(&sign(&server.key, &token(&"0".repeat(32), DEVICE)));
    let rogue = as_text(&sign(&signing_key(&[42u8; 32]), &token(&nonce, DEVICE)));
    let elsewhere = as_text(&sign(
        &server.key,
        &token(&nonce, "dev_00000000000000000000000000000009"),
    ));
    let mut tampered = sign(&server.key, &token(&nonce, DEVICE));
    tampered.payload = tampered.payload.replace(
        "\"purpose\":\"phone_pickup\"",
        "\"purpose\": \"phone_pickup\"",
    );
    assert!(tampered.payload.contains("\"purpose\": \"phone_pickup\""));
    for (what, t) in [
        ("never shown", never_shown),
        ("rogue key", rogue),
        ("another device", elsewhere),
        ("tampered", as_text(&tampered)),
        ("not a token", "{}".to_string()),
    ] {
        assert_eq!(
            locker.phone_pickup(&t).await,
            KioskAnswer::Rejected,
            "{what}"
        );
    }
    assert_eq!(locker.sim.total_releases(), 0);

    assert_eq!(locker.phone_pickup(&real).await, opened(&["A01"]));
    assert_eq!(locker.sim.releases(lock_of("A01")), 1);
    assert_eq!(
        locker.phone_pickup(&real).await,
        KioskAnswer::Rejected,
        "the challenge is spent"
    );
    // The credential is used up for the keypad too.
    assert_eq!(locker.pickup(ANNA).await, KioskAnswer::Rejected);
    assert_eq!(locker.sim.total_releases(), 1);
}
