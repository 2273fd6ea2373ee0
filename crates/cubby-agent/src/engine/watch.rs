//! Watching the bank: board polls and the journal events they raise, the
//! state snapshot, and what goes up the link (state, journal, heartbeat).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cubby_protocol::Millis;
use cubby_protocol::journal::EdgeEvent;
use cubby_protocol::messages::{CompartmentState, StateSnapshot};

use super::{Engine, Output, envelope};
use crate::now_ms;

impl Engine {
    pub(super) async fn poll_board(&mut self) {
        let status = match self.board.status().await {
            Ok(s) => s,
            Err(e) => {
                if self.board_ok {
                    self.board_ok = false;
                    self.record_or_log(EdgeEvent::BoardFault {
                        detail: format!("status read failed: {e}"),
                    });
                }
                return;
            }
        };
        if !self.board_ok {
            self.board_ok = true;
            self.record_or_log(EdgeEvent::BoardRecovered);
        }
        let now = now_ms();
        let mut changed = self.last_status.is_none();
        if let Some(prev) = self.last_status.clone() {
            for (addr, now_state) in &status.locks {
                let Some(label) = self.label_of(*addr) else {
                    continue;
                };
                let before = prev.get(*addr);
                let was_locked = before.map(|b| b.locked).unwrap_or(true);
                if was_locked && !now_state.locked {
                    changed = true;
                    let commanded = self.unlocking.remove(&label).is_some();
                    if !commanded {
                        self.record_or_log(EdgeEvent::DoorForced {
                            compartment: label.clone(),
                        });
                    }
                    self.record_or_log(EdgeEvent::DoorOpened {
                        compartment: label.clone(),
                        commanded,
                    });
                    self.open_since.insert(label.clone(), (now, false));
                } else if !was_locked && now_state.locked {
                    changed = true;
                    self.open_since.remove(&label);
                    self.record_or_log(EdgeEvent::DoorClosed {
                        compartment: label.clone(),
                        item_present: now_state.item_present,
                    });
                    self.door_closed_for_reopen(&label, now);
                } else if before.map(|b| b.item_present) != Some(now_state.item_present) {
                    changed = true;
                }
            }
        }
        // Unlocks that never released, and doors left open.
        let stuck: Vec<String> = self
            .unlocking
            .iter()
            .filter(|(_, t)| now - **t > self.policy.stuck_after_ms)
            .map(|(l, _)| l.clone())
            .collect();
        for label in stuck {
            self.unlocking.remove(&label);
            self.record_or_log(EdgeEvent::LockStuck { compartment: label });
            changed = true;
        }
        let held: Vec<(String, Millis)> = self
            .open_since
            .iter()
            .filter(|(_, (t, told))| !told && now - *t > self.policy.held_open_ms)
            .map(|(l, (t, _))| (l.clone(), *t))
            .collect();
        for (label, since) in held {
            self.open_since.insert(label.clone(), (since, true));
            self.record_or_log(EdgeEvent::DoorHeldOpen {
                compartment: label,
                seconds: ((now - since) / 1000) as u64,
            });
        }
        self.last_status = Some(status);
        if changed {
            self.publish_state().await;
        }
    }

    pub fn snapshot(&self) -> StateSnapshot {
        let mut compartments = Vec::new();
        if let (Some(status), Some(cache)) = (&self.last_status, &self.cache) {
            let by_label: BTreeMap<String, CompartmentState> = status
                .locks
                .iter()
                .filter_map(|(addr, s)| {
                    let label = self.label_of(*addr)?;
                    Some((
                        label.clone(),
                        CompartmentState {
                            compartment: label,
                            locked: s.locked,
                            item_present: s.item_present,
                        },
                    ))
                })
                .collect();
            for label in &cache.compartments {
                if let Some(c) = by_label.get(label) {
                    compartments.push(c.clone());
                }
            }
        }
        StateSnapshot {
            device_id: self.identity.device_id.clone(),
            at_ms: now_ms(),
            agent_version: env!("CARGO_PKG_VERSION").to_string(),
            cache_version: self.cache.as_ref().map(|c| c.version),
            maintenance: self.maintenance,
            board_ok: self.board_ok,
            journal_head: self.journal.head(),
            journal_acked: self.journal.acked(),
            compartments,
        }
    }

    pub(super) async fn publish_state(&self) {
        if !self.connected {
            return;
        }
        let body = serde_json::to_vec(&envelope(self.snapshot(), None)).unwrap_or_default();
        self.send(Output::State(body)).await;
    }

    /// Sends the next batch of unacknowledged entries, one batch at a time.
    pub(super) async fn upload(&mut self) {
        if !self.connected {
            return;
        }
        if let Some((_, sent)) = self.upload_in_flight
            && sent.elapsed() < Duration::from_secs(3)
        {
            return;
        }
        let batch = self.journal.unacked(200);
        let Some(last) = batch.last() else {
            return;
        };
        let last_seq = last.seq;
        let body = cubby_protocol::messages::JournalBatch {
            entries: batch.to_vec(),
        };
        let bytes = serde_json::to_vec(&envelope(body, None)).unwrap_or_default();
        self.upload_in_flight = Some((last_seq, Instant::now()));
        self.send(Output::Journal(bytes)).await;
    }

    pub(super) async fn heartbeat(&self) {
        if !self.connected {
            return;
        }
        let beat = cubby_protocol::messages::Heartbeat {
            uptime_s: self.started.elapsed().as_secs(),
            journal_unacked: self.journal.head() - self.journal.acked(),
        };
        let body = serde_json::to_vec(&envelope(beat, None)).unwrap_or_default();
        self.send(Output::Heartbeat(body)).await;
    }
}
