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
    use cubby_protocol::cache::{CacheEntry, CredentialKind, local_credential_mac};
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
