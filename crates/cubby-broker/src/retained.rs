//! Retained-message store.
//!
//! One message per topic (latest wins, empty payload deletes, §3.3.1.3). The
//! store is bounded both in count and in bytes because retained messages live
//! for the lifetime of the broker regardless of which clients are connected.

use std::collections::HashMap;

use bytes::Bytes;
use rumqttc::mqttbytes::QoS;
use tracing::warn;

use crate::topic::topic_matches;

/// A stored retained message (the topic is the map key).
#[derive(Debug, Clone)]
pub(crate) struct RetainedMessage {
    pub payload: Bytes,
    pub qos: QoS,
}

/// Outcome of [`RetainedStore::store`], mostly for tests and logging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreOutcome {
    Stored,
    Deleted,
    /// The message did not fit within the configured bounds. Any previous
    /// message for the topic was removed as well: serving a stale retained value
    /// (e.g. "online" after a newer "offline") is worse than serving none.
    Rejected,
}

#[derive(Debug)]
pub(crate) struct RetainedStore {
    messages: HashMap<String, RetainedMessage>,
    bytes: usize,
    max_count: usize,
    max_bytes: usize,
}

/// Bytes charged for one entry: what it actually pins in memory, roughly.
fn cost(topic: &str, payload: &[u8]) -> usize {
    topic.len() + payload.len()
}

impl RetainedStore {
    pub fn new(max_count: usize, max_bytes: usize) -> Self {
        Self {
            messages: HashMap::new(),
            bytes: 0,
            max_count,
            max_bytes,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Stores (or, for an empty payload, deletes) the retained message of `topic`.
    pub fn store(&mut self, topic: &str, payload: &Bytes, qos: QoS) -> StoreOutcome {
        let previous = self.remove(topic);
        if payload.is_empty() {
            return StoreOutcome::Deleted;
        }
        let cost = cost(topic, payload);
        if self.messages.len() >= self.max_count || self.bytes + cost > self.max_bytes {
            warn!(
                topic,
                dropped_previous = previous,
                count = self.messages.len(),
                bytes = self.bytes,
                "retained store full; retained message not stored"
            );
            return StoreOutcome::Rejected;
        }
        // Copy: the decoded payload is a view into the connection's read buffer,
        // and keeping that view alive would pin the whole buffer allocation for as
        // long as the message stays retained, defeating the byte bound.
        let payload = Bytes::copy_from_slice(payload);
        self.bytes += cost;
        self.messages
            .insert(topic.to_owned(), RetainedMessage { payload, qos });
        StoreOutcome::Stored
    }

    /// Removes the message of `topic`; returns whether there was one.
    fn remove(&mut self, topic: &str) -> bool {
        match self.messages.remove(topic) {
            Some(old) => {
                self.bytes -= cost(topic, &old.payload);
                true
            }
            None => false,
        }
    }

    /// All retained messages whose topic matches `filter`, sorted by topic so
    /// that delivery order is deterministic.
    ///
    /// This is a linear scan; the store is bounded (`max_retained`) and scans
    /// happen only on SUBSCRIBE, which is rare compared with PUBLISH.
    pub fn matching(&self, filter: &str) -> Vec<(&str, &RetainedMessage)> {
        let mut found: Vec<_> = self
            .messages
            .iter()
            .filter(|(topic, _)| topic_matches(filter, topic))
            .map(|(topic, message)| (topic.as_str(), message))
            .collect();
        found.sort_unstable_by_key(|(topic, _)| *topic);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    #[test]
    fn latest_wins_and_empty_deletes() {
        let mut store = RetainedStore::new(10, 1000);
        assert_eq!(
            store.store("a/b", &b("1"), QoS::AtMostOnce),
            StoreOutcome::Stored
        );
        assert_eq!(
            store.store("a/b", &b("22"), QoS::AtLeastOnce),
            StoreOutcome::Stored
        );
        assert_eq!(store.len(), 1);
        assert_eq!(store.bytes(), 3 + 2);
        let found = store.matching("a/+");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.payload, b("22"));
        assert_eq!(found[0].1.qos, QoS::AtLeastOnce);
        assert_eq!(
            store.store("a/b", &Bytes::new(), QoS::AtMostOnce),
            StoreOutcome::Deleted
        );
        assert_eq!(store.len(), 0);
        assert_eq!(store.bytes(), 0);
        assert!(store.matching("#").is_empty());
    }

    #[test]
    fn bounded_by_count() {
        let mut store = RetainedStore::new(2, 1000);
        assert_eq!(
            store.store("a", &b("x"), QoS::AtMostOnce),
            StoreOutcome::Stored
        );
        assert_eq!(
            store.store("b", &b("x"), QoS::AtMostOnce),
            StoreOutcome::Stored
        );
        assert_eq!(
            store.store("c", &b("x"), QoS::AtMostOnce),
            StoreOutcome::Rejected
        );
        // Replacing an existing topic is fine at the count limit.
        assert_eq!(
            store.store("a", &b("y"), QoS::AtMostOnce),
            StoreOutcome::Stored
        );
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn bounded_by_bytes_and_oversize_update_drops_stale_value() {
        let mut store = RetainedStore::new(10, 10);
        assert_eq!(
            store.store("t", &b("1234"), QoS::AtMostOnce),
            StoreOutcome::Stored
        );
        assert_eq!(
            store.store("t", &b("123456789012"), QoS::AtMostOnce),
            StoreOutcome::Rejected
        );
        assert!(
            store.matching("t").is_empty(),
            "stale value must not survive"
        );
        assert_eq!(store.bytes(), 0);
    }

    #[test]
    fn matching_respects_dollar_topics_and_is_sorted() {
        let mut store = RetainedStore::new(10, 1000);
        store.store("$SYS/x", &b("1"), QoS::AtMostOnce);
        store.store("b", &b("1"), QoS::AtMostOnce);
        store.store("a", &b("1"), QoS::AtMostOnce);
        let topics: Vec<_> = store.matching("#").into_iter().map(|(t, _)| t).collect();
        assert_eq!(topics, ["a", "b"]);
        assert_eq!(store.matching("$SYS/#").len(), 1);
    }
}
