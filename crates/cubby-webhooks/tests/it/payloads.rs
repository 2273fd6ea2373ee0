//! Payloads carry no personal data: every key, in every example and in every
//! derived schema, is on an allow-list, and none looks like personal data.

use std::collections::BTreeSet;

use cubby_webhooks::{Event, EventData, EventType, new_event_id};
use serde_json::Value;

use crate::{at, rng};

/// Keys a payload may have. Adding one is a security review: it must be an id,
/// a time, a location inside Cubby, a carrier code, a state or a reason code.
const ALLOWED_DATA_KEYS: &[&str] = &[
    "parcel_id",
    "parcel_ids",
    "site_id",
    "locker_id",
    "compartment_id",
    "compartment_label",
    "compartment_labels",
    "carrier",
    "state",
    "pickup_deadline",
    "reminder",
    "incident_id",
    "kind",
    "zone",
    "measured_celsius",
    "limit_celsius",
    "last_seen_at",
    "offline_seconds",
    "method",
    "reason",
];

/// Fragments that must never appear in a key.
const FORBIDDEN_FRAGMENTS: &[&str] = &[
    "name",
    "email",
    "mail",
    "phone",
    "mobile",
    "code",
    "pin",
    "token",
    "secret",
    "password",
    "description",
    "item",
    "content",
    "resident",
    "recipient",
    "unit",
    "address",
    "tracking",
    "note",
    "detail",
    "credential",
    "qr",
];

fn keys(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| keys(i, out)),
        _ => {}
    }
}

fn assert_allowed(key: &str, context: &str) {
    assert!(
        ALLOWED_DATA_KEYS.contains(&key),
        "{context}: key {key:?} is not on the payload allow-list"
    );
    let lower = key.to_ascii_lowercase();
    for bad in FORBIDDEN_FRAGMENTS {
        assert!(
            !lower.contains(bad),
            "{context}: key {key:?} contains {bad:?}"
        );
    }
}

#[test]
fn every_example_payload_serialises_only_allowed_keys() {
    let mut r = rng(3);
    for &t in EventType::ALL {
        let event = Event::generate(&mut r, at(1_760_000_000), EventData::example(t));
        let v: Value = serde_json::from_slice(&event.to_body().expect("serialises")).expect("json");
        let top: BTreeSet<&str> = v
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            top,
            BTreeSet::from(["id", "type", "timestamp", "data"]),
            "{t}"
        );
        assert_eq!(v["type"], t.as_str());
        assert!(
            v["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("evt_") && id.len() == 36)
        );
        let mut found = BTreeSet::new();
        keys(&v["data"], &mut found);
        assert!(!found.is_empty(), "{t}: empty payload");
        for k in &found {
            assert_allowed(k, t.as_str());
        }
        // No value looks like an email or phone number either.
        let text = v["data"].to_string();
        assert!(!text.contains('@'), "{t}: {text}");
        // And it reads back to the same event.
        let back: Event = serde_json::from_value(v).expect("reads back");
        assert_eq!(back, event);
    }
}

/// The schemas cover optional fields the examples may leave out.
#[test]
fn every_schema_property_is_allowed() {
    let payload_schemas: BTreeSet<&str> = [
        "ParcelAnnounced",
        "ParcelDeposited",
        "ParcelReminderSent",
        "ParcelPickedUp",
        "ParcelExpired",
        "ParcelReturned",
        "ParcelDroppedOff",
        "ParcelRedirected",
        "LockerDoorForced",
        "LockerTemperatureAlarm",
        "LockerOffline",
        "LockerOnline",
        "AccessGranted",
        "AccessDenied",
        "IncidentRaised",
    ]
    .into();
    let schemas = cubby_webhooks::schemas();
    let names: BTreeSet<String> = schemas.iter().map(|(n, _)| n.clone()).collect();
    for p in &payload_schemas {
        assert!(names.contains(*p), "schema {p} missing from schemas()");
    }
    for (name, schema) in &schemas {
        if !payload_schemas.contains(name.as_str()) {
            continue;
        }
        let v = serde_json::to_value(schema).expect("schema json");
        let props = v["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no properties"));
        for key in props.keys() {
            assert_allowed(key, name);
        }
    }
}

#[test]
fn event_schema_lists_every_type_name() {
    let schemas = cubby_webhooks::schemas();
    let text = serde_json::to_string(&schemas.iter().map(|(n, s)| (n, s)).collect::<Vec<_>>())
        .expect("json");
    for &t in EventType::ALL {
        assert!(
            text.contains(&format!("\"{}\"", t.as_str())),
            "{t} missing from schemas"
        );
    }
}

#[test]
fn event_ids_are_unique() {
    let mut r = rng(9);
    let ids: BTreeSet<String> = (0..1000).map(|_| new_event_id(&mut r)).collect();
    assert_eq!(ids.len(), 1000);
}
