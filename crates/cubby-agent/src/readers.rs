//! OSDP readers and keypads at doors: the agent is the control panel. Keys
//! typed at a reader are collected until `#` and decided like a PIN typed at
//! the kiosk ([`Input::Door`]); the reader's LED flashes green when the door
//! opens and red (with a beep) when it does not. `*` clears the entry.
//!
//! A reader whose link drops is reconnected with back-off; the door stays
//! shut meanwhile (nothing here can open a door on its own).

use std::time::Duration;

use cubby_osdp::{
    BuzzerCommand, LedColor, LedCommand, OfflineReason, OsdpPanel, PanelConfig, PanelEvent,
};
use tokio::sync::{mpsc, oneshot};

use crate::engine::{DoorAnswer, Input};

/// One reader wired to one door.
#[derive(Debug, Clone)]
pub struct OsdpReader {
    pub door_id: String,
    /// host:port of the RS-485 gateway (or the reader itself).
    pub addr: String,
    /// The reader's OSDP address (0–126).
    pub address: u8,
    /// The Secure Channel base key installed in the reader.
    pub scbk: [u8; 16],
}

/// Longest PIN a keypad may send; more keys clear the entry.
const MAX_KEYS: usize = 16;
/// An entry left unfinished this long is dropped.
const KEY_TIMEOUT: Duration = Duration::from_secs(10);
const FEEDBACK: Duration = Duration::from_secs(2);

/// What a keypad entry became after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Still typing.
    Pending,
    /// `#` ended a PIN.
    Submit(String),
    /// `*` (or too many keys) cleared the entry.
    Cleared,
}

/// Collects keys into a PIN. Pure, so it is tested without a reader.
#[derive(Debug, Default)]
pub struct KeyBuffer {
    keys: String,
}

impl KeyBuffer {
    pub fn push(&mut self, digits: &str) -> Vec<Entry> {
        let mut out = Vec::new();
        for c in digits.chars() {
            match c {
                '#' => out.push(Entry::Submit(std::mem::take(&mut self.keys))),
                '*' => {
                    self.keys.clear();
                    out.push(Entry::Cleared);
                }
                d if d.is_ascii_digit() => {
                    self.keys.push(d);
                    if self.keys.len() > MAX_KEYS {
                        self.keys.clear();
                        out.push(Entry::Cleared);
                    } else {
                        out.push(Entry::Pending);
                    }
                }
                _ => {}
            }
        }
        out
    }

    pub fn clear(&mut self) {
        self.keys.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Runs one reader for as long as the agent runs.
pub async fn run(reader: OsdpReader, engine: mpsc::Sender<Input>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match session(&reader, &engine).await {
            Ok(()) => backoff = Duration::from_millis(200),
            Err(e) => {
                tracing::warn!(door = %reader.door_id, reader = %reader.addr, "OSDP reader: {e}");
            }
        }
        if engine.is_closed() {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// One connection to the reader, until it goes offline.
async fn session(reader: &OsdpReader, engine: &mpsc::Sender<Input>) -> Result<(), String> {
    let stream = tokio::net::TcpStream::connect(&reader.addr)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (panel, mut events) =
        OsdpPanel::connect(stream, PanelConfig::secure(reader.address, reader.scbk))
            .await
            .map_err(|e| format!("secure channel: {e}"))?;
    tracing::info!(door = %reader.door_id, "OSDP reader online");
    let mut keys = KeyBuffer::default();
    loop {
        let event = if keys.is_empty() {
            events.recv().await
        } else {
            match tokio::time::timeout(KEY_TIMEOUT, events.recv()).await {
                Ok(e) => e,
                Err(_) => {
                    keys.clear();
                    continue;
                }
            }
        };
        let Some(event) = event else {
            return Ok(());
        };
        match event {
            PanelEvent::Keypad { digits, .. } => {
                for entry in keys.push(&digits) {
                    if let Entry::Submit(pin) = entry {
                        let opened = decide(engine, &reader.door_id, pin).await;
                        feedback(&panel, opened).await;
                    }
                }
            }
            // Cards are read but no card credentials are enrolled yet: the
            // holder sees a refusal, never a silent reader.
            PanelEvent::Card { bits, .. } => {
                tracing::info!(door = %reader.door_id, bits, "card presented; cards are not enrolled");
                feedback(&panel, false).await;
            }
            // A closed or failed stream ends the panel: connect again. A
            // reader that only stopped answering is polled on until it is
            // back (the gateway holds one connection per reader).
            PanelEvent::Offline {
                reason: reason @ (OfflineReason::Disconnected | OfflineReason::Io(_)),
            } => {
                panel.shutdown().await;
                return Err(format!("offline: {reason:?}"));
            }
            PanelEvent::Offline { reason } => {
                keys.clear();
                tracing::warn!(door = %reader.door_id, "OSDP reader not answering: {reason:?}");
            }
            PanelEvent::Online { .. } => {}
        }
    }
}

async fn decide(engine: &mpsc::Sender<Input>, door_id: &str, pin: String) -> bool {
    let (answer, rx) = oneshot::channel();
    let sent = engine
        .send(Input::Door {
            door_id: door_id.to_string(),
            pin,
            answer,
        })
        .await;
    sent.is_ok() && matches!(rx.await, Ok(DoorAnswer::Opened))
}

async fn feedback(panel: &OsdpPanel, opened: bool) {
    let color = if opened {
        LedColor::Green
    } else {
        LedColor::Red
    };
    if let Err(e) = panel.led(LedCommand::flash(color, FEEDBACK)).await {
        tracing::warn!("OSDP LED: {e}");
    }
    if !opened
        && let Err(e) = panel
            .buzzer(BuzzerCommand::beep(
                Duration::from_millis(300),
                Duration::ZERO,
                1,
            ))
            .await
    {
        tracing::warn!("OSDP buzzer: {e}");
    }
}
