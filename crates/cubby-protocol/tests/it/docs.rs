//! Every example payload in `docs/device-protocol.md` must parse as the type it
//! claims to be, and the signed ones must verify under the documented test key.

use cubby_protocol::cache::CredentialCache;
use cubby_protocol::command::{Command, Reply};
use cubby_protocol::messages::*;
use cubby_protocol::signing::{Signed, verify};
use serde_json::Value;

use crate::server_key;

const DOC: &str = include_str!("../../../../docs/device-protocol.md");

/// (kind, json) for every `<!-- example: kind -->` followed by a json block.
fn examples() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = DOC;
    while let Some(at) = rest.find("<!-- example: ") {
        rest = &rest[at + "<!-- example: ".len()..];
        let end = rest.find(" -->").expect("unterminated example marker");
        let kind = rest[..end].to_string();
        let start = rest
            .find("```json\n")
            .expect("example without a json block")
            + "```json\n".len();
        let stop = rest[start..].find("```").expect("unterminated json block");
        out.push((kind, rest[start..start + stop].to_string()));
        rest = &rest[start + stop..];
    }
    out
}

#[test]
fn every_documented_example_parses_and_signed_ones_verify() {
    let key = server_key().verifying_key();
    let found = examples();
    let kinds: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
    for want in [
        "command",
        "reply",
        "journal",
        "ack",
        "state",
        "status",
        "heartbeat",
        "cache",
        "identity",
    ] {
        assert!(
            kinds.contains(&want),
            "docs/device-protocol.md has no {want} example"
        );
    }
    for (kind, json) in found {
        let ok = match kind.as_str() {
            "command" => {
                let s: Signed = serde_json::from_str(&json).unwrap();
                verify::<Command>(&s, &key)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            "cache" => {
                let s: Signed = serde_json::from_str(&json).unwrap();
                verify::<CredentialCache>(&s, &key)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            "reply" => parse::<Envelope<Reply>>(&json),
            "journal" => parse::<Envelope<JournalBatch>>(&json),
            "ack" => parse::<Envelope<JournalAck>>(&json),
            "state" => parse::<Envelope<StateSnapshot>>(&json),
            "heartbeat" => parse::<Envelope<Heartbeat>>(&json),
            "status" => parse::<Status>(&json),
            "identity" => parse::<DeviceIdentity>(&json),
            other => Err(format!("unknown example kind {other}")),
        };
        assert_eq!(ok, Ok(()), "example {kind} in docs/device-protocol.md");
    }
}

fn parse<T: serde::de::DeserializeOwned + serde::Serialize>(json: &str) -> Result<(), String> {
    let typed: T = serde_json::from_str(json).map_err(|e| e.to_string())?;
    // Nothing in the example may be silently dropped.
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    let orig: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    if back != orig {
        return Err(format!("round trip changed the example: {back}"));
    }
    Ok(())
}

/// Prints freshly signed examples for the document (run with --ignored --nocapture).
#[test]
#[ignore]
fn print_signed_examples() {
    use cubby_protocol::cache::{
        CacheEntry, CompartmentSpec, CourierPass, CredentialKind, ExpectedParcel,
        local_credential_mac, tracking_mac,
    };
    use cubby_protocol::command::{Action, Purpose};
    let cmd = Command {
        device_id: "dev_7Hq2k9ZpXr".into(),
        cmd_id: "cmd_9f3KkQ0a2B".into(),
        tx_id: "par_Q2mX8bNw1c".into(),
        seq: 42,
        issued_ms: 1_795_000_000_000,
        expires_ms: 1_795_000_030_000,
        action: Action::Unlock {
            compartment: "A07".into(),
            purpose: Purpose::Deposit,
        },
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&cubby_protocol::signing::sign(&server_key(), &cmd)).unwrap()
    );
    let cache = CredentialCache {
        device_id: "dev_7Hq2k9ZpXr".into(),
        version: 17,
        issued_ms: 1_795_000_000_000,
        expires_ms: 1_795_604_800_000,
        journal_seq: 12,
        compartments: vec!["A01".into(), "A02".into(), "A03".into()],
        entries: vec![CacheEntry {
            credential_id: "crd_Lk2w9QvT0e".into(),
            kind: CredentialKind::Keypad,
            mac: hex::encode(local_credential_mac(
                &[1u8; 32],
                CredentialKind::Keypad,
                "40718263",
            )),
            compartments: vec!["A02".into()],
        }],
        specs: ["A01", "A02", "A03"]
            .iter()
            .map(|l| CompartmentSpec {
                label: l.to_string(),
                width_mm: 380,
                height_mm: 80,
                depth_mm: 640,
                temperature: "ambient".into(),
            })
            .collect(),
        free: vec!["A01".into(), "A03".into()],
        couriers: vec![CourierPass {
            pass_id: "cps_Qm3vT8zRk1".into(),
            carrier: "dhl".into(),
            mac: hex::encode(local_credential_mac(
                &[1u8; 32],
                CredentialKind::Courier,
                "5802917364",
            )),
            expires_ms: 1_795_014_400_000,
        }],
        expected: vec![ExpectedParcel {
            parcel_id: "par_Zx8cV2bN4m".into(),
            tracking_mac: hex::encode(tracking_mac(&[1u8; 32], "RB123456785GB")),
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
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&cubby_protocol::signing::sign(&server_key(), &cache))
            .unwrap()
    );
    println!("{}", cubby_protocol::signing::public_key_hex(&server_key()));
    let e = cubby_protocol::journal::JournalEntry::next(
        cubby_protocol::journal::GENESIS,
        1,
        1_795_000_001_000,
        cubby_protocol::journal::EdgeEvent::DoorClosed {
            compartment: "A07".into(),
            item_present: Some(true),
        },
    );
    println!("{}", serde_json::to_string_pretty(&e).unwrap());
}

/// The Mosquitto ACL example grants exactly what the embedded broker grants:
/// each device writes its own device-side channels and reads its own
/// server-side channels; the server does the opposite for every device.
#[test]
fn the_mosquitto_acl_example_matches_the_protocol_rules() {
    use cubby_protocol::topics::{
        ALL_CHANNELS, device_may_publish, device_may_subscribe, server_subscriptions, topic,
    };
    const ACL: &str = include_str!("../../../../docs/mosquitto-acl.example");
    let lines: Vec<Vec<&str>> = ACL
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let device = "dev_0123456789abcdef0123456789abcdef";
    let mut device_write = Vec::new();
    let mut device_read = Vec::new();
    let mut server_write = Vec::new();
    let mut server_read = Vec::new();
    let mut user = None;
    for l in &lines {
        match l[..] {
            ["user", name] => user = Some(name),
            ["topic", access, filter] => {
                assert_eq!(
                    user,
                    Some("cubby-server"),
                    "topic line outside the server's block"
                );
                match access {
                    "read" => server_read.push(filter.to_string()),
                    "write" => server_write.push(filter.to_string()),
                    other => panic!("unexpected access {other}"),
                }
            }
            ["pattern", access, filter] => {
                let concrete = filter.replace("%u", device);
                match access {
                    "read" => device_read.push(concrete),
                    "write" => device_write.push(concrete),
                    other => panic!("unexpected access {other}"),
                }
            }
            _ => panic!("unexpected ACL line {l:?}"),
        }
    }
    for channel in ALL_CHANNELS {
        let t = topic(device, *channel);
        assert_eq!(
            device_write.contains(&t),
            device_may_publish(device, &t),
            "device write on {t}"
        );
        assert_eq!(
            device_read.contains(&t),
            device_may_subscribe(device, &t),
            "device read on {t}"
        );
        let wildcard = t.replace(device, "+");
        assert_eq!(
            server_write.contains(&wildcard),
            !channel.from_device(),
            "server write on {wildcard}"
        );
        assert_eq!(
            server_read.contains(&wildcard),
            channel.from_device(),
            "server read on {wildcard}"
        );
    }
    let mut subs = server_subscriptions();
    subs.sort();
    server_read.sort();
    assert_eq!(subs, server_read, "the server reads what it subscribes to");
}
