//! An OSDP keypad at a door, through the real agent: libosdp's Python
//! PeripheralDevice plays the reader over TCP with the Secure Channel, the
//! agent is the control panel. A PIN typed at the reader opens the door and
//! the reader flashes green; a wrong one flashes red and beeps.

use std::time::Duration;

use serde_json::json;

use crate::access::{
    LOBBY_LOCK, first_open, grant, hour, settled_releases, site_with, walk_through,
};
use crate::{bin, now_ms};

#[path = "../../../cubby-osdp/tests/it/pd.rs"]
#[allow(dead_code)]
mod pd;

use pd::{JsonExt, Pd, PdOptions};

const SCBK: [u8; 16] = *b"cubby-reader-key";
const GREEN: i64 = 2;
const RED: i64 = 1;

async fn led(pd: &mut Pd) -> i64 {
    let j = pd
        .expect("an LED command", Duration::from_secs(10), |j| {
            j.str("type") == Some("command") && j.str("command") == Some("led")
        })
        .await;
    j.num("on_color").expect("LED colour")
}

#[tokio::test]
async fn a_pin_typed_at_an_osdp_keypad_opens_the_door_and_the_reader_shows_the_answer() {
    let test = "a_pin_typed_at_an_osdp_keypad_opens_the_door_and_the_reader_shows_the_answer";
    let Some(mut pd) = Pd::spawn(test, PdOptions::secure(1, SCBK)).await else {
        return;
    };
    let key_dir = tempfile::tempdir().unwrap();
    let key_file = key_dir.path().join("scbk.hex");
    std::fs::write(&key_file, pd::hex(&SCBK)).unwrap();
    let p = cubby_testkit::CubbyProcess::start(bin(), None);
    let port = pd.port;
    let s = site_with(&p, |lobby| {
        vec![
            "--osdp-reader".into(),
            format!("{lobby}=127.0.0.1:{port}/1"),
            "--osdp-scbk-file".into(),
            key_file.display().to_string(),
        ]
    })
    .await;
    pd.expect("the agent to connect", Duration::from_secs(20), |j| {
        j.str("type") == Some("connected")
    })
    .await;
    pd.expect("the secure channel", Duration::from_secs(20), |j| {
        j.str("type") == Some("sc") && j.bool("active") == Some(true)
    })
    .await;

    let (_, pin) = grant(
        &s,
        json!({"label": "Cleaner", "doors": [s.lobby], "not_after_ms": now_ms() + hour()}),
    )
    .await;
    // The grant is in the door's cache once the kiosk honours it.
    first_open(&s.agent, &s.lobby, &pin).await;
    walk_through(&s.bank, LOBBY_LOCK).await;

    // Typed at the reader: the door opens, the LED flashes green.
    pd.send(&format!("keypad {pin}#")).await;
    assert_eq!(led(&mut pd).await, GREEN);
    walk_through(&s.bank, LOBBY_LOCK).await;
    assert_eq!(settled_releases(&s.bank, LOBBY_LOCK).await, 2);

    // A wrong PIN: red and a beep, the door stays shut.
    pd.send("keypad 11112222#").await;
    assert_eq!(led(&mut pd).await, RED);
    pd.expect("a beep", Duration::from_secs(10), |j| {
        j.str("type") == Some("command") && j.str("command") == Some("buzzer")
    })
    .await;
    assert_eq!(settled_releases(&s.bank, LOBBY_LOCK).await, 2);

    // `*` clears a mistyped start; keys may arrive one report at a time.
    pd.send("keypad 98*").await;
    for key in pin.chars() {
        pd.send(&format!("keypad {key}")).await;
    }
    pd.send("keypad #").await;
    assert_eq!(led(&mut pd).await, GREEN);
    walk_through(&s.bank, LOBBY_LOCK).await;
    assert_eq!(settled_releases(&s.bank, LOBBY_LOCK).await, 3);

    // A card is read but no cards are enrolled: refused, visibly.
    pd.send("card 0badf00d 26").await;
    assert_eq!(led(&mut pd).await, RED);
    assert_eq!(settled_releases(&s.bank, LOBBY_LOCK).await, 3);
}
