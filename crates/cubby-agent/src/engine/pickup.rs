//! Pick-ups at the kiosk: codes from the signed cache, the reopen grace
//! and phone pick-ups answering a kiosk challenge.

use cubby_domain::credentials::{Presented, classify};
use cubby_domain::throttle::KeypadRefusal;
use cubby_protocol::Millis;
use cubby_protocol::cache::{CredentialKind, local_credential_mac};
use cubby_protocol::journal::EdgeEvent;
use cubby_protocol::phone::{CHALLENGE_LIFETIME_MS, accept_phone_pickup};
use cubby_protocol::signing::Signed;

use super::{Engine, KioskAnswer, Reopenable};
use crate::now_ms;

impl Engine {
    pub(super) async fn pickup(&mut self, input: &str) -> KioskAnswer {
        let now = now_ms();
        if input.len() > 128 {
            return KioskAnswer::Rejected;
        }
        let (kind, presented) = match classify(input, self.policy.code_digits) {
            Presented::Keypad(c) => (CredentialKind::Keypad, c),
            Presented::Qr(t) => (CredentialKind::Qr, t),
            Presented::Malformed => (CredentialKind::Keypad, String::new()),
        };
        if kind == CredentialKind::Keypad
            && let Err(refusal) = self.keypad.check(now)
        {
            let until = match refusal {
                KeypadRefusal::LockedOut { retry_after_secs } => {
                    Some(now + retry_after_secs as Millis * 1000)
                }
                KeypadRefusal::Disabled => None,
            };
            return KioskAnswer::Locked { until_ms: until };
        }
        let Some(cache) = self.cache.as_ref() else {
            return KioskAnswer::Unavailable("this locker has no credential list yet".into());
        };
        if now > cache.expires_ms {
            return KioskAnswer::Unavailable("this locker's credential list has expired".into());
        }
        let mac = local_credential_mac(&self.credential_key, kind, &presented);
        let found = if presented.is_empty() {
            None
        } else {
            cache
                .find(kind, &mac)
                .filter(|e| !self.consumed.contains_key(&e.credential_id))
                .cloned()
        };
        if found.is_none()
            && !presented.is_empty()
            && let Some(answer) = self.reopen(&mac, now).await
        {
            if kind == CredentialKind::Keypad {
                self.keypad.record_success();
            }
            return answer;
        }
        let Some(entry) = found else {
            self.record_or_log(EdgeEvent::PickupDenied { via: kind });
            if kind == CredentialKind::Keypad {
                self.keypad_failure(now);
            }
            return KioskAnswer::Rejected;
        };
        if kind == CredentialKind::Keypad {
            self.keypad.record_success();
        }
        let seq = match self.record(EdgeEvent::PickupGranted {
            credential_id: entry.credential_id.clone(),
            via: kind,
            compartments: entry.compartments.clone(),
            offline_capable: true,
        }) {
            Ok(seq) => seq,
            Err(e) => return KioskAnswer::Unavailable(format!("journal: {e}")),
        };
        self.consumed.insert(entry.credential_id.clone(), seq);
        if self.policy.reopen_grace_ms > 0 {
            self.reopenable.insert(
                mac,
                Reopenable {
                    credential_id: entry.credential_id.clone(),
                    compartments: entry.compartments.clone(),
                    closed_at: None,
                },
            );
        }
        let mut opened = Vec::new();
        for label in &entry.compartments {
            if let Some(addr) = self.address_of(label)
                && self.release(label, addr).await.is_ok()
            {
                opened.push(label.clone());
            }
        }
        KioskAnswer::Opened(opened)
    }

    /// The same credential again, within the grace after the doors of its
    /// pick-up closed: those compartments open once more (journalled first).
    async fn reopen(&mut self, mac: &[u8; 32], now: Millis) -> Option<KioskAnswer> {
        let grace = self.policy.reopen_grace_ms;
        self.reopenable
            .retain(|_, r| r.closed_at.is_none_or(|t| now - t <= grace));
        let r = self.reopenable.get(mac)?.clone();
        r.closed_at?;
        if let Err(e) = self.record(EdgeEvent::PickupReopened {
            credential_id: r.credential_id.clone(),
            compartments: r.compartments.clone(),
        }) {
            return Some(KioskAnswer::Unavailable(format!("journal: {e}")));
        }
        // Open again: a new grace starts when these doors close.
        if let Some(entry) = self.reopenable.get_mut(mac) {
            entry.closed_at = None;
        }
        let mut opened = Vec::new();
        for label in &r.compartments {
            if let Some(addr) = self.address_of(label)
                && self.release(label, addr).await.is_ok()
            {
                opened.push(label.clone());
            }
        }
        Some(KioskAnswer::Opened(opened))
    }

    /// A one-time challenge for the kiosk screen; the eight newest stay valid
    /// for two minutes.
    pub(super) fn phone_challenge(&mut self) -> (String, Millis) {
        let mut bytes = [0u8; 16];
        crate::random(&mut bytes);
        let nonce = hex::encode(bytes);
        let expires = now_ms() + CHALLENGE_LIFETIME_MS;
        self.challenges.push_back((nonce.clone(), expires));
        while self.challenges.len() > 8 {
            self.challenges.pop_front();
        }
        (nonce, expires)
    }

    /// A phone pick-up token: signed by the server for this device, answering
    /// a challenge this kiosk showed (spent on first use), naming a credential
    /// in the cache. Refusals look like a wrong code.
    pub(super) async fn phone_pickup(&mut self, token: &str) -> KioskAnswer {
        let now = now_ms();
        let via = CredentialKind::Phone;
        let accepted = serde_json::from_str::<Signed>(token).ok().and_then(|s| {
            accept_phone_pickup(&s, &self.server_key, &self.identity.device_id, now).ok()
        });
        self.challenges.retain(|(_, exp)| *exp >= now);
        let spent = accepted.as_ref().and_then(|t| {
            let at = self.challenges.iter().position(|(n, _)| *n == t.nonce)?;
            self.challenges.remove(at)
        });
        let entry = match (&accepted, spent, self.cache.as_ref()) {
            (Some(t), Some(_), Some(cache)) if now <= cache.expires_ms => cache
                .entries
                .iter()
                .find(|e| {
                    e.credential_id == t.credential_id
                        && !self.consumed.contains_key(&e.credential_id)
                })
                .cloned(),
            _ => None,
        };
        let Some(entry) = entry else {
            self.record_or_log(EdgeEvent::PickupDenied { via });
            return KioskAnswer::Rejected;
        };
        let seq = match self.record(EdgeEvent::PickupGranted {
            credential_id: entry.credential_id.clone(),
            via,
            compartments: entry.compartments.clone(),
            offline_capable: true,
        }) {
            Ok(seq) => seq,
            Err(e) => return KioskAnswer::Unavailable(format!("journal: {e}")),
        };
        self.consumed.insert(entry.credential_id.clone(), seq);
        let mut opened = Vec::new();
        for label in &entry.compartments {
            if let Some(addr) = self.address_of(label)
                && self.release(label, addr).await.is_ok()
            {
                opened.push(label.clone());
            }
        }
        KioskAnswer::Opened(opened)
    }

    /// A compartment door closed: pick-ups whose doors are all shut start
    /// their reopen grace.
    pub(super) fn door_closed_for_reopen(&mut self, label: &str, now: Millis) {
        let open: Vec<String> = self.open_since.keys().cloned().collect();
        for r in self.reopenable.values_mut() {
            if r.closed_at.is_none()
                && r.compartments.iter().any(|c| c == label)
                && !r.compartments.iter().any(|c| open.contains(c))
            {
                r.closed_at = Some(now);
            }
        }
    }
}
