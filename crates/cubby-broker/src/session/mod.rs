//! Per-connection session state shared between a connection task and the router.
//!
//! Sessions are always clean (MQTT 3.1.1 `clean_session = 1` semantics): all
//! state lives exactly as long as one network connection.

pub(crate) mod connection;

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use bytes::Bytes;
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::Publish;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Smaller of two QoS levels (`QoS` is only `PartialOrd`).
pub(crate) fn min_qos(a: QoS, b: QoS) -> QoS {
    if (a as u8) <= (b as u8) { a } else { b }
}

/// A message on its way to one subscriber.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    /// Shared between all subscribers of one publication.
    pub topic: Arc<str>,
    pub payload: Bytes,
    /// Already downgraded to the subscription's granted QoS.
    pub qos: QoS,
    /// Set only for retained messages sent because of a new subscription (§3.3.1.3).
    pub retain: bool,
}

/// Why the router asks a connection to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kick {
    /// Another connection registered the same client id. The will is *not*
    /// published, so a reconnecting agent's fresh state is not overwritten.
    TakenOver,
    /// The outgoing queue overflowed.
    SlowConsumer,
}

/// The queue into which the router drops deliveries for one connection,
/// plus the QoS 1 inflight window and the "please close" signal.
///
/// A plain mutex-protected `VecDeque` is used instead of a channel so that the
/// router can (a) enforce different bounds for live traffic and for the
/// retained burst sent on SUBSCRIBE, and (b) enqueue retained messages and
/// activate a subscription atomically under its own lock, which keeps a newer
/// live message from overtaking an older retained one.
#[derive(Debug)]
pub(crate) struct Mailbox {
    state: Mutex<MailboxState>,
    /// Wakes the writer when a delivery is queued or an inflight slot frees up.
    ready: Notify,
    kick: OnceLock<Kick>,
    kicked: Notify,
    max_inflight: usize,
}

#[derive(Debug, Default)]
struct MailboxState {
    queue: VecDeque<Delivery>,
    inflight: HashSet<u16>,
    last_pkid: u16,
}

/// The mailbox refused a delivery because it is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

impl Mailbox {
    pub fn new(max_inflight: u16) -> Self {
        Self {
            state: Mutex::new(MailboxState::default()),
            ready: Notify::new(),
            kick: OnceLock::new(),
            kicked: Notify::new(),
            max_inflight: usize::from(max_inflight),
        }
    }

    fn state(&self) -> MutexGuard<'_, MailboxState> {
        // The critical sections below cannot leave the state inconsistent, so a
        // poisoned lock (a panic elsewhere while holding it) is safe to reuse.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `delivery` unless `limit` deliveries are already waiting. Never blocks.
    pub fn push(&self, delivery: Delivery, limit: usize) -> Result<(), Full> {
        let mut state = self.state();
        if state.queue.len() >= limit {
            return Err(Full);
        }
        state.queue.push_back(delivery);
        drop(state);
        self.ready.notify_one();
        Ok(())
    }

    /// Number of deliveries waiting to be written.
    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.state().queue.len()
    }

    /// Takes the next delivery as an encodable PUBLISH, assigning a packet id to
    /// QoS 1 messages. Returns `None` if the queue is empty or if the head is a
    /// QoS 1 message and the inflight window is full (order is preserved: QoS 0
    /// messages behind it wait too).
    pub fn try_pop(&self) -> Option<Publish> {
        let mut state = self.state();
        let head = state.queue.front()?;
        let pkid = if head.qos == QoS::AtMostOnce {
            0
        } else {
            if state.inflight.len() >= self.max_inflight {
                return None;
            }
            // max_inflight < u16::MAX, so a free non-zero id always exists.
            let mut pkid = state.last_pkid;
            loop {
                pkid = pkid.wrapping_add(1).max(1);
                if !state.inflight.contains(&pkid) {
                    break;
                }
            }
            state.last_pkid = pkid;
            state.inflight.insert(pkid);
            pkid
        };
        let delivery = state.queue.pop_front()?;
        Some(Publish {
            dup: false,
            qos: delivery.qos,
            retain: delivery.retain,
            topic: delivery.topic.as_ref().to_owned(),
            pkid,
            payload: delivery.payload,
        })
    }

    /// Waits for the next delivery (see [`Mailbox::try_pop`]). Cancel safe.
    pub async fn pop(&self) -> Publish {
        loop {
            if let Some(publish) = self.try_pop() {
                return publish;
            }
            // `notify_one` stores a permit when nobody waits, so a push between
            // `try_pop` and this await is not lost.
            self.ready.notified().await;
        }
    }

    /// Handles a PUBACK from the client. Returns `false` for an unknown packet id.
    pub fn ack(&self, pkid: u16) -> bool {
        let removed = self.state().inflight.remove(&pkid);
        if removed {
            self.ready.notify_one();
        }
        removed
    }

    /// Asks the connection to close. The first reason wins; returns whether this
    /// call set it (so callers log only once).
    pub fn kick(&self, reason: Kick) -> bool {
        let first = self.kick.set(reason).is_ok();
        if first {
            self.kicked.notify_one();
        }
        first
    }

    /// The kick reason, if any (tests only).
    #[cfg(test)]
    pub fn kick_reason(&self) -> Option<Kick> {
        self.kick.get().copied()
    }

    /// Resolves once [`Mailbox::kick`] has been called.
    pub async fn kicked(&self) -> Kick {
        loop {
            if let Some(reason) = self.kick.get() {
                return *reason;
            }
            self.kicked.notified().await;
        }
    }
}

/// Token bucket limiting incoming PUBLISH packets of one connection.
///
/// Capacity equals the per-second rate, so a client may burst one second's
/// worth of messages after being idle.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    pub fn new(per_sec: u32) -> Self {
        let rate = f64::from(per_sec.max(1));
        Self {
            rate,
            tokens: rate,
            last: Instant::now(),
        }
    }

    /// Takes one token; `false` means the client exceeded its rate.
    pub fn try_acquire(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(qos: QoS, payload: &'static str) -> Delivery {
        Delivery {
            topic: Arc::from("t"),
            payload: Bytes::from_static(payload.as_bytes()),
            qos,
            retain: false,
        }
    }

    #[test]
    fn push_respects_limit() {
        let mailbox = Mailbox::new(4);
        assert!(mailbox.push(delivery(QoS::AtMostOnce, "a"), 2).is_ok());
        assert!(mailbox.push(delivery(QoS::AtMostOnce, "b"), 2).is_ok());
        assert_eq!(mailbox.push(delivery(QoS::AtMostOnce, "c"), 2), Err(Full));
        assert_eq!(mailbox.queued(), 2);
    }

    #[test]
    fn inflight_window_blocks_in_order_and_ack_releases() {
        let mailbox = Mailbox::new(1);
        mailbox
            .push(delivery(QoS::AtLeastOnce, "1"), 10)
            .expect("room");
        mailbox
            .push(delivery(QoS::AtMostOnce, "2"), 10)
            .expect("room");
        mailbox
            .push(delivery(QoS::AtLeastOnce, "3"), 10)
            .expect("room");
        let first = mailbox.try_pop().expect("first");
        assert_eq!(first.pkid, 1);
        let second = mailbox.try_pop().expect("qos0 passes");
        assert_eq!(second.pkid, 0);
        assert!(mailbox.try_pop().is_none(), "window full");
        assert!(!mailbox.ack(7), "unknown id");
        assert!(mailbox.ack(1));
        let third = mailbox.try_pop().expect("third");
        assert_eq!(third.pkid, 2);
        assert_eq!(third.payload, Bytes::from_static(b"3"));
    }

    #[test]
    fn packet_ids_skip_inflight_and_zero() {
        let mailbox = Mailbox::new(2);
        mailbox.state().last_pkid = u16::MAX - 1;
        for _ in 0..3 {
            mailbox
                .push(delivery(QoS::AtLeastOnce, "x"), 10)
                .expect("room");
        }
        assert_eq!(mailbox.try_pop().map(|p| p.pkid), Some(u16::MAX));
        assert_eq!(mailbox.try_pop().map(|p| p.pkid), Some(1));
        assert!(mailbox.ack(u16::MAX));
        assert_eq!(mailbox.try_pop().map(|p| p.pkid), Some(2));
    }

    #[test]
    fn first_kick_wins() {
        let mailbox = Mailbox::new(1);
        assert!(mailbox.kick(Kick::SlowConsumer));
        assert!(!mailbox.kick(Kick::TakenOver));
        assert_eq!(mailbox.kick_reason(), Some(Kick::SlowConsumer));
    }

    #[test]
    fn rate_limiter_allows_burst_then_refuses() {
        let mut limiter = RateLimiter::new(3);
        assert!(limiter.try_acquire());
        assert!(limiter.try_acquire());
        assert!(limiter.try_acquire());
        assert!(!limiter.try_acquire());
    }

    #[test]
    fn qos_min() {
        assert_eq!(min_qos(QoS::AtLeastOnce, QoS::AtMostOnce), QoS::AtMostOnce);
        assert_eq!(
            min_qos(QoS::ExactlyOnce, QoS::AtLeastOnce),
            QoS::AtLeastOnce
        );
    }
}
