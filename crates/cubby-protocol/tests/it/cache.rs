use cubby_protocol::cache::*;
use cubby_protocol::signing::sign;

use crate::{other_key, server_key};

const NOW: i64 = 1_800_000_000_000;

fn cache(device: &str, version: u64) -> CredentialCache {
    let key = b"locker-key";
    CredentialCache {
        device_id: device.into(),
        version,
        issued_ms: NOW,
        expires_ms: NOW + 86_400_000,
        journal_seq: 0,
        compartments: vec!["A01".into(), "A02".into()],
        entries: vec![CacheEntry {
            credential_id: "cred-1".into(),
            kind: CredentialKind::Keypad,
            mac: hex::encode(local_credential_mac(
                key,
                CredentialKind::Keypad,
                "12345678",
            )),
            compartments: vec!["A02".into()],
        }],
        specs: Vec::new(),
        free: vec!["A01".into()],
        couriers: vec![CourierPass {
            pass_id: "cps-1".into(),
            carrier: "dhl".into(),
            mac: hex::encode(local_credential_mac(
                key,
                CredentialKind::Courier,
                "1234567890",
            )),
            expires_ms: NOW + 3_600_000,
        }],
        expected: vec![ExpectedParcel {
            parcel_id: "par-1".into(),
            tracking_mac: hex::encode(tracking_mac(key, "RB123456785GB")),
            carrier: Some("dhl".into()),
            width_mm: 300,
            height_mm: 60,
            depth_mm: 200,
            temperature: "ambient".into(),
        }],
        drop_offs: vec![],
        awaiting_carrier: vec![],
        zone: None,
        doors: vec![],
        grants: vec![],
    }
}

#[test]
fn courier_passes_and_expected_parcels_are_found_by_mac_only_while_valid() {
    let c = cache("dev-1", 1);
    let key = b"locker-key";
    let pass = local_credential_mac(key, CredentialKind::Courier, "1234567890");
    assert_eq!(
        c.find_courier(&pass, NOW).map(|p| p.pass_id.as_str()),
        Some("cps-1")
    );
    assert!(c.find_courier(&pass, NOW + 3_600_000).is_none(), "expired");
    // The same digits as a resident's code are another credential.
    let as_keypad = local_credential_mac(key, CredentialKind::Keypad, "1234567890");
    assert!(c.find_courier(&as_keypad, NOW).is_none());
    assert!(c.find(CredentialKind::Keypad, &pass).is_none());
    let tracking = tracking_mac(key, "RB123456785GB");
    assert_eq!(
        c.find_expected(&tracking).map(|p| p.parcel_id.as_str()),
        Some("par-1")
    );
    assert!(
        c.find_expected(&tracking_mac(b"other-locker", "RB123456785GB"))
            .is_none()
    );
    assert!(
        c.find_expected(&tracking_mac(key, "RB123456785G"))
            .is_none()
    );
}

#[test]
fn a_cache_without_the_deposit_fields_still_parses() {
    let old = r#"{"device_id":"d","version":1,"issued_ms":1,"expires_ms":2,"journal_seq":0,"compartments":["A01"],"entries":[]}"#;
    let c: CredentialCache = serde_json::from_str(old).unwrap();
    assert!(
        c.specs.is_empty() && c.free.is_empty() && c.couriers.is_empty() && c.expected.is_empty()
    );
}

#[test]
fn a_good_cache_installs_and_finds_the_credential_by_mac() {
    let signed = sign(&server_key(), &cache("dev-1", 3));
    let c = accept(
        &signed,
        &server_key().verifying_key(),
        "dev-1",
        Some(2),
        NOW,
    )
    .unwrap();
    let typed = local_credential_mac(b"locker-key", CredentialKind::Keypad, "12345678");
    assert_eq!(
        c.find(CredentialKind::Keypad, &typed)
            .unwrap()
            .credential_id,
        "cred-1"
    );
    let wrong = local_credential_mac(b"locker-key", CredentialKind::Keypad, "12345679");
    assert!(c.find(CredentialKind::Keypad, &wrong).is_none());
    // The same digits as a QR token are a different credential.
    let as_qr = local_credential_mac(b"locker-key", CredentialKind::Qr, "12345678");
    assert!(c.find(CredentialKind::Qr, &as_qr).is_none());
    // Another locker's key gives another MAC.
    let other = local_credential_mac(b"other-key", CredentialKind::Keypad, "12345678");
    assert!(c.find(CredentialKind::Keypad, &other).is_none());
}

#[test]
fn tampered_foreign_expired_and_older_caches_are_refused() {
    let key = server_key().verifying_key();
    let mut tampered = sign(&server_key(), &cache("dev-1", 3));
    tampered.payload = tampered.payload.replace("A02\"]}", "A01\"]}");
    assert!(tampered.payload.contains("\"A01\"]}"));
    assert_eq!(
        accept(&tampered, &key, "dev-1", None, NOW),
        Err(CacheRefusal::BadSignature)
    );
    let forged = sign(&other_key(), &cache("dev-1", 3));
    assert_eq!(
        accept(&forged, &key, "dev-1", None, NOW),
        Err(CacheRefusal::BadSignature)
    );
    let foreign = sign(&server_key(), &cache("dev-2", 3));
    assert_eq!(
        accept(&foreign, &key, "dev-1", None, NOW),
        Err(CacheRefusal::WrongDevice("dev-2".into()))
    );
    let good = sign(&server_key(), &cache("dev-1", 3));
    assert_eq!(
        accept(&good, &key, "dev-1", None, NOW + 86_400_001),
        Err(CacheRefusal::Expired)
    );
    assert_eq!(
        accept(&good, &key, "dev-1", Some(4), NOW),
        Err(CacheRefusal::Rollback {
            offered: 3,
            installed: 4
        })
    );
}
