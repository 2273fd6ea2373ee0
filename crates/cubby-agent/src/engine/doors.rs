//! PINs typed at doors this device drives: grants from the cache, offline
//! codes past its expiry, and the keypad lockout counters.

use cubby_boards::LockAddress;
use cubby_domain::model::Timezone;
use cubby_domain::throttle::{KeypadRefusal, KeypadState, ThrottlePolicy};
use cubby_protocol::Millis;
use cubby_protocol::cache::{CredentialKind, DoorSpec, local_credential_mac};
use cubby_protocol::journal::EdgeEvent;
use cubby_protocol::offline::{OFFLINE_CODE_DIGITS, verify_offline_code};

use super::{DoorAnswer, Engine, Fault};
use crate::now_ms;

impl Engine {
    /// Wiring index → lock address.
    fn address_of_output(&self, index: usize) -> Option<LockAddress> {
        let per = usize::from(self.board.locks_per_board().max(1));
        let board = *self.board.boards().get(index / per)?;
        Some(LockAddress {
            board,
            lock: (index % per) as u8 + 1,
        })
    }

    /// A PIN typed at a door this device drives. Decided from the cache with
    /// the domain's grant rule, so it works offline; a granted use is
    /// journalled (durably) before the door is released, so a crash at any
    /// step opens a single-use grant at most once.
    pub(super) async fn door_access(&mut self, door_id: &str, pin: &str) -> DoorAnswer {
        let now = now_ms();
        let keypad = self.door_keypads.entry(door_id.to_string()).or_default();
        if let Err(refusal) = keypad.check(now) {
            return DoorAnswer::Locked {
                until_ms: match refusal {
                    KeypadRefusal::LockedOut { retry_after_secs } => {
                        Some(now + retry_after_secs as Millis * 1000)
                    }
                    KeypadRefusal::Disabled => None,
                },
            };
        }
        let Some(cache) = self.cache.as_ref() else {
            return DoorAnswer::Unavailable("this controller has no access list yet".into());
        };
        let Some(door) = cache.doors.iter().find(|d| d.door_id == door_id).cloned() else {
            return DoorAnswer::Unavailable(format!("this controller drives no door {door_id}"));
        };
        if now > cache.expires_ms {
            return self.offline_door_access(&door, pin.trim(), now).await;
        }
        let zone = cache
            .zone
            .as_deref()
            .and_then(|z| Timezone::parse(z).ok())
            .unwrap_or_else(|| Timezone::parse("UTC").unwrap_or_else(|_| unreachable!()));
        let pin = pin.trim();
        let well_formed = (4..=16).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit());
        let mac = local_credential_mac(&self.credential_key, CredentialKind::Door, pin);
        let grant = well_formed
            .then(|| cache.find_grant(&mac))
            .flatten()
            .cloned();
        let Some(grant) = grant else {
            self.record_or_log(EdgeEvent::AccessDenied {
                door_id: door_id.to_string(),
                grant_id: None,
                reason: "unknown_pin".into(),
            });
            self.door_keypad_failure(door_id, now);
            return DoorAnswer::Denied;
        };
        let key = (grant.grant_id.clone(), door_id.to_string());
        let used_here = self.door_uses.get(&key).map_or(0, |v| v.len() as u32);
        let uses = grant.uses.get(door_id).copied().unwrap_or(0) + used_here;
        if let Err(denied) = grant.rule.decide(door_id, now, uses, false, &zone) {
            self.record_or_log(EdgeEvent::AccessDenied {
                door_id: door_id.to_string(),
                grant_id: Some(grant.grant_id.clone()),
                reason: denied.as_str().to_string(),
            });
            return DoorAnswer::Denied;
        }
        self.open_door(&door, &grant.grant_id).await
    }

    /// Journals a granted use (durably, first) and releases the door's lock.
    async fn open_door(&mut self, door: &DoorSpec, grant_id: &str) -> DoorAnswer {
        let door_id = door.door_id.as_str();
        if let Some(k) = self.door_keypads.get_mut(door_id) {
            k.record_success();
        }
        let seq = match self.record(EdgeEvent::AccessGranted {
            grant_id: grant_id.to_string(),
            door_id: door_id.to_string(),
        }) {
            Ok(seq) => seq,
            Err(e) => return DoorAnswer::Unavailable(format!("journal: {e}")),
        };
        self.door_uses
            .entry((grant_id.to_string(), door_id.to_string()))
            .or_default()
            .push(seq);
        if self.policy.fault == Some(Fault::AfterAccessJournal) {
            std::process::abort();
        }
        let Some(addr) = self.address_of_output(door.output as usize) else {
            return DoorAnswer::Unavailable(format!("door {door_id} has no lock output"));
        };
        let released = self.release(door_id, addr).await;
        if self.policy.fault == Some(Fault::AfterDoorRelease) {
            std::process::abort();
        }
        match released {
            Ok(()) => DoorAnswer::Opened,
            Err(e) => DoorAnswer::Unavailable(e),
        }
    }

    /// Past its cache's expiry a door takes offline codes only, checked
    /// with the door's own key (`cubby_protocol::offline`). They cannot be
    /// revoked here: that is why they last 24 hours at most.
    async fn offline_door_access(&mut self, door: &DoorSpec, pin: &str, now: Millis) -> DoorAnswer {
        let key: Option<Vec<u8>> = door
            .offline_key
            .as_deref()
            .and_then(|k| hex::decode(k).ok())
            .filter(|_| pin.len() == OFFLINE_CODE_DIGITS);
        let Some(key) = key else {
            return DoorAnswer::Unavailable(
                "this controller's access list has expired; only offline codes open this door"
                    .into(),
            );
        };
        match verify_offline_code(&key, pin, now) {
            Some(code) => self.open_door(door, &code.grant_id).await,
            None => {
                self.record_or_log(EdgeEvent::AccessDenied {
                    door_id: door.door_id.clone(),
                    grant_id: None,
                    reason: "bad_offline_code".into(),
                });
                self.door_keypad_failure(&door.door_id, now);
                DoorAnswer::Denied
            }
        }
    }

    /// A failed PIN at a door's keypad: counts towards that keypad's lockout.
    fn door_keypad_failure(&mut self, door_id: &str, now: Millis) {
        let keypad = self.door_keypads.entry(door_id.to_string()).or_default();
        if let Some(locked) = count_failure(keypad, &self.policy.throttle, now) {
            self.record_or_log(locked);
        }
    }

    /// A failed code at the locker's keypad: counts towards the lockout,
    /// journalled when it locks.
    pub(super) fn keypad_failure(&mut self, now: Millis) {
        if let Some(locked) = count_failure(&mut self.keypad, &self.policy.throttle, now) {
            self.record_or_log(locked);
        }
    }
}

/// Counts one failure at a keypad; the journal event to record if this
/// failure locked it.
fn count_failure(
    keypad: &mut KeypadState,
    policy: &ThrottlePolicy,
    now: Millis,
) -> Option<EdgeEvent> {
    let was_locked = keypad.check(now).is_err();
    keypad.record_failure(now, policy);
    match keypad.check(now) {
        Err(refusal) if !was_locked => Some(EdgeEvent::KeypadLocked {
            until_ms: match refusal {
                KeypadRefusal::LockedOut { retry_after_secs } => {
                    Some(now + retry_after_secs as Millis * 1000)
                }
                KeypadRefusal::Disabled => None,
            },
        }),
        _ => None,
    }
}
