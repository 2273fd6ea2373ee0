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
    }
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
