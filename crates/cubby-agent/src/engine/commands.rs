//! Signed commands from the server: checked by the guard, journalled before
//! the lock moves, answered; local refusals and the release itself.

use cubby_boards::LockAddress;
use cubby_protocol::command::{Action, Outcome, Reply, Verdict};
use cubby_protocol::journal::EdgeEvent;

use super::{Engine, Output, done_reply, envelope};
use crate::now_ms;

impl Engine {
    async fn reply(&self, reply: Reply) {
        let tx = reply.tx_id.clone();
        let body = serde_json::to_vec(&envelope(reply, tx)).unwrap_or_default();
        self.send(Output::Reply(body)).await;
    }

    pub(super) async fn command(&mut self, raw: &[u8]) {
        let now = now_ms();
        let verdict = self
            .guard
            .check(raw, &self.server_key, &self.identity.device_id, now);
        let cmd = match verdict {
            Verdict::Duplicate(reply) => return self.reply(reply).await,
            Verdict::Reject {
                cmd_id,
                seq,
                reason,
            } => {
                self.record_or_log(EdgeEvent::CommandRejected {
                    cmd_id: cmd_id.clone(),
                    seq,
                    reason,
                });
                return self
                    .reply(Reply {
                        cmd_id,
                        tx_id: None,
                        seq,
                        outcome: Outcome::Rejected { reason },
                        duplicate: false,
                    })
                    .await;
            }
            Verdict::Execute(c) => c,
        };
        let Action::Unlock {
            compartment,
            purpose,
        } = cmd.action.clone();
        let Some(addr) = self.address_of(&compartment) else {
            let reply = Reply {
                cmd_id: Some(cmd.cmd_id.clone()),
                tx_id: Some(cmd.tx_id.clone()),
                seq: Some(cmd.seq),
                outcome: Outcome::Failed {
                    reason: format!("no compartment {compartment} at this locker"),
                },
                duplicate: false,
            };
            self.guard.record(cmd.seq, reply.clone());
            return self.reply(reply).await;
        };
        if purpose == cubby_protocol::command::Purpose::Deposit && self.storage_low() {
            let reason = "storage nearly full: this locker takes no new deposits".to_string();
            return self.refuse(&cmd, reason).await;
        }
        // Unknown presence counts as occupied: the cap errs on the safe side.
        let occupied = self
            .last_status
            .as_ref()
            .and_then(|s| s.get(addr))
            .map(|s| s.item_present != Some(false))
            .unwrap_or(true);
        while self
            .remote_opens
            .front()
            .is_some_and(|t| now - *t >= self.policy.remote_open_window_ms)
        {
            self.remote_opens.pop_front();
        }
        if occupied && !self.maintenance && self.remote_opens.len() >= self.policy.remote_open_cap {
            let reason = format!(
                "remote-open cap reached: {} occupied compartments opened remotely in the last {} minutes",
                self.remote_opens.len(),
                self.policy.remote_open_window_ms / 60_000
            );
            return self.refuse(&cmd, reason).await;
        }
        // Journal first: if the process dies between here and the board, the
        // door stays shut and the record says it was released — never the
        // other way round, so at most one release per command.
        if let Err(e) = self.record(EdgeEvent::Unlocked {
            cmd_id: cmd.cmd_id.clone(),
            seq: cmd.seq,
            compartment: compartment.clone(),
            purpose,
            occupied,
        }) {
            tracing::error!("journal write failed, not unlocking: {e}");
            return;
        }
        let reply_done = done_reply(&cmd.cmd_id, cmd.seq, Some(cmd.tx_id.clone()));
        self.guard.record(cmd.seq, reply_done.clone());
        if occupied {
            self.remote_opens.push_back(now);
        }
        let outcome = self.release(&compartment, addr).await;
        let reply = match outcome {
            Ok(()) => reply_done,
            Err(reason) => Reply {
                outcome: Outcome::Failed { reason },
                ..reply_done
            },
        };
        self.guard.record(cmd.seq, reply.clone());
        self.reply(reply).await;
    }

    /// Refuses a valid command by local policy: journalled, answered, and
    /// remembered so that a redelivery gets the same answer.
    async fn refuse(&mut self, cmd: &cubby_protocol::command::Command, reason: String) {
        self.record_or_log(EdgeEvent::CommandRefused {
            cmd_id: cmd.cmd_id.clone(),
            seq: cmd.seq,
            reason: reason.clone(),
        });
        let reply = Reply {
            cmd_id: Some(cmd.cmd_id.clone()),
            tx_id: Some(cmd.tx_id.clone()),
            seq: Some(cmd.seq),
            outcome: Outcome::Refused { reason },
            duplicate: false,
        };
        self.guard.record(cmd.seq, reply.clone());
        self.reply(reply).await;
    }

    pub(super) async fn release(&mut self, label: &str, addr: LockAddress) -> Result<(), String> {
        match self.board.unlock(addr).await {
            Ok(()) => {
                self.unlocking.insert(label.to_string(), now_ms());
                Ok(())
            }
            Err(e) => {
                let detail = format!("unlocking {label}: {e}");
                self.record_or_log(EdgeEvent::BoardFault {
                    detail: detail.clone(),
                });
                Err(detail)
            }
        }
    }
}
