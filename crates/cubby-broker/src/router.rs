//! Routing: which connection owns which client id, who subscribed to what,
//! and fan-out of publications (including retained messages and wills).
//!
//! The router is plain synchronous state behind one mutex (see `Shared`). Every
//! operation is short and never awaits: deliveries are dropped into the
//! subscribers' [`Mailbox`]es with a non-blocking push, so one slow subscriber
//! can never stall the publisher or the other subscribers.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::LastWill;
use tracing::{debug, warn};

use crate::retained::RetainedStore;
use crate::session::{Delivery, Kick, Mailbox, min_qos};

/// Identifies one network connection (client ids can be reused by later connections).
pub(crate) type ConnId = u64;

/// Queue bounds used when delivering.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueueLimits {
    /// Bound for live traffic (`BrokerConfig::client_queue`).
    pub live: usize,
    /// Bound while sending retained messages for a new subscription. Retained
    /// messages are globally bounded by `max_retained`, so allowing that many on
    /// top of the live bound keeps a subscription to `#` from being mistaken for
    /// a slow consumer, while memory stays bounded.
    pub retained: usize,
}

#[derive(Debug)]
struct Connection {
    client_id: String,
    mailbox: Arc<Mailbox>,
    /// Filters of this connection with their granted QoS.
    filters: HashMap<String, QoS>,
}

/// A node of the subscription trie; edges are topic levels, where `+` and `#`
/// are stored as ordinary (literal) edges and interpreted during matching.
#[derive(Debug, Default)]
struct Node {
    children: HashMap<String, Node>,
    subscribers: HashMap<ConnId, QoS>,
}

impl Node {
    fn insert(&mut self, filter: &str, conn: ConnId, qos: QoS) {
        let mut node = self;
        for level in filter.split('/') {
            node = node.children.entry(level.to_owned()).or_default();
        }
        node.subscribers.insert(conn, qos);
    }

    /// Removes a subscription and prunes nodes left empty.
    fn remove(&mut self, levels: &[&str], conn: ConnId) {
        match levels.split_first() {
            None => {
                self.subscribers.remove(&conn);
            }
            Some((level, rest)) => {
                if let Some(child) = self.children.get_mut(*level) {
                    child.remove(rest, conn);
                    if child.is_empty() {
                        self.children.remove(*level);
                    }
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.subscribers.is_empty()
    }

    /// Collects subscribers of filters matching the remaining topic `levels`,
    /// keeping the highest granted QoS per connection (§3.3.5: overlapping
    /// subscriptions yield one delivery at the maximum QoS).
    fn collect(&self, levels: &[&str], at_root: bool, out: &mut HashMap<ConnId, QoS>) {
        let Some((level, rest)) = levels.split_first() else {
            add_all(&self.subscribers, out);
            // `a/#` also matches `a` itself.
            if let Some(hash) = self.children.get("#") {
                add_all(&hash.subscribers, out);
            }
            return;
        };
        // Wildcards in the first filter level do not match `$` topics (§4.7.2).
        if !(at_root && level.starts_with('$')) {
            if let Some(hash) = self.children.get("#") {
                add_all(&hash.subscribers, out);
            }
            if let Some(plus) = self.children.get("+") {
                plus.collect(rest, false, out);
            }
        }
        // Topic names never contain wildcards, so this cannot alias `+`/`#` edges.
        if let Some(child) = self.children.get(*level) {
            child.collect(rest, false, out);
        }
    }
}

fn add_all(subscribers: &HashMap<ConnId, QoS>, out: &mut HashMap<ConnId, QoS>) {
    for (&conn, &qos) in subscribers {
        out.entry(conn)
            .and_modify(|q| {
                if (qos as u8) > (*q as u8) {
                    *q = qos;
                }
            })
            .or_insert(qos);
    }
}

#[derive(Debug)]
pub(crate) struct Router {
    /// Client id → the connection currently owning it.
    clients: HashMap<String, ConnId>,
    connections: HashMap<ConnId, Connection>,
    subscriptions: Node,
    retained: RetainedStore,
    limits: QueueLimits,
}

impl Router {
    pub fn new(retained: RetainedStore, limits: QueueLimits) -> Self {
        Self {
            clients: HashMap::new(),
            connections: HashMap::new(),
            subscriptions: Node::default(),
            retained,
            limits,
        }
    }

    /// Number of connections that completed CONNECT.
    pub fn session_count(&self) -> usize {
        self.connections.len()
    }

    /// Registers a freshly authenticated connection under `client_id`.
    ///
    /// If another connection owns the id, it is removed right here (with its
    /// subscriptions) and kicked with [`Kick::TakenOver`]. Doing this under the
    /// router lock makes the takeover atomic with respect to that connection's
    /// own teardown: [`Router::end_session`] then sees it is no longer
    /// registered and does not publish its will.
    pub fn register(&mut self, conn: ConnId, client_id: &str, mailbox: Arc<Mailbox>) {
        if let Some(old) = self.clients.insert(client_id.to_owned(), conn)
            && let Some(previous) = self.remove_connection(old)
        {
            debug!(client_id, "client id taken over by a new connection");
            previous.mailbox.kick(Kick::TakenOver);
        }
        let connection = Connection {
            client_id: client_id.to_owned(),
            mailbox,
            filters: HashMap::new(),
        };
        self.connections.insert(conn, connection);
    }

    /// Unregisters a connection and, if it was still registered (i.e. not taken
    /// over) and `will` is given, publishes the will. Returns whether the
    /// connection was still registered.
    pub fn end_session(&mut self, conn: ConnId, will: Option<LastWill>) -> bool {
        let Some(connection) = self.remove_connection(conn) else {
            return false;
        };
        if self.clients.get(&connection.client_id) == Some(&conn) {
            self.clients.remove(&connection.client_id);
        }
        if let Some(will) = will {
            debug!(
                client_id = connection.client_id,
                topic = will.topic,
                "publishing will"
            );
            self.publish(&will.topic, will.message, will.qos, will.retain);
        }
        true
    }

    fn remove_connection(&mut self, conn: ConnId) -> Option<Connection> {
        let connection = self.connections.remove(&conn)?;
        for filter in connection.filters.keys() {
            let levels: Vec<&str> = filter.split('/').collect();
            self.subscriptions.remove(&levels, conn);
        }
        Some(connection)
    }

    /// Adds (or replaces, §3.8.4) subscriptions of `conn` and queues the
    /// retained messages matching each, with the retain flag set.
    ///
    /// Filters must already be validated and authorised; `qos` is the granted QoS.
    pub fn subscribe(&mut self, conn: ConnId, filters: &[(String, QoS)]) {
        let Some(connection) = self.connections.get_mut(&conn) else {
            return;
        };
        for (filter, granted) in filters {
            connection.filters.insert(filter.clone(), *granted);
            self.subscriptions.insert(filter, conn, *granted);
            for (topic, message) in self.retained.matching(filter) {
                let delivery = Delivery {
                    topic: Arc::from(topic),
                    payload: message.payload.clone(),
                    qos: min_qos(message.qos, *granted),
                    retain: true,
                };
                if connection
                    .mailbox
                    .push(delivery, self.limits.retained)
                    .is_err()
                {
                    if connection.mailbox.kick(Kick::SlowConsumer) {
                        warn!(
                            client_id = connection.client_id,
                            "queue overflow while sending retained messages"
                        );
                    }
                    return;
                }
            }
        }
    }

    /// Removes subscriptions of `conn`; unknown filters are ignored (§3.10.4).
    pub fn unsubscribe(&mut self, conn: ConnId, filters: &[String]) {
        let Some(connection) = self.connections.get_mut(&conn) else {
            return;
        };
        for filter in filters {
            if connection.filters.remove(filter).is_some() {
                let levels: Vec<&str> = filter.split('/').collect();
                self.subscriptions.remove(&levels, conn);
            }
        }
    }

    /// Routes a publication: updates the retained store if `retain` is set and
    /// queues a copy for every matching connection at min(QoS, granted QoS).
    ///
    /// A subscriber whose queue is full is kicked as a slow consumer (and misses
    /// this message); nobody else is affected. `topic` must be a valid topic name.
    pub fn publish(&mut self, topic: &str, payload: Bytes, qos: QoS, retain: bool) {
        if retain {
            self.retained
                .store(topic, &payload, min_qos(qos, QoS::AtLeastOnce));
        }
        let levels: Vec<&str> = topic.split('/').collect();
        let mut targets = HashMap::new();
        self.subscriptions.collect(&levels, true, &mut targets);
        if targets.is_empty() {
            return;
        }
        // The decoded payload is a view into the publisher's read buffer; copying
        // it once here lets that buffer be reused and makes queued messages cost
        // exactly their own size, whatever the reads looked like.
        let payload = Bytes::copy_from_slice(&payload);
        let topic: Arc<str> = Arc::from(topic);
        for (conn, granted) in targets {
            let Some(connection) = self.connections.get(&conn) else {
                continue;
            };
            let delivery = Delivery {
                topic: Arc::clone(&topic),
                payload: payload.clone(),
                qos: min_qos(qos, granted),
                // Live deliveries never carry the retain flag (§3.3.1.3).
                retain: false,
            };
            if connection.mailbox.push(delivery, self.limits.live).is_err()
                && connection.mailbox.kick(Kick::SlowConsumer)
            {
                warn!(
                    client_id = connection.client_id,
                    limit = self.limits.live,
                    "outgoing queue full; disconnecting slow consumer"
                );
            }
        }
    }

    /// Whether `client_id` is currently registered (tests only).
    #[cfg(test)]
    fn owner(&self, client_id: &str) -> Option<ConnId> {
        self.clients.get(client_id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topic::{is_valid_filter, is_valid_topic_name, topic_matches};

    fn router() -> Router {
        Router::new(
            RetainedStore::new(100, 10_000),
            QueueLimits {
                live: 4,
                retained: 104,
            },
        )
    }

    fn connect(router: &mut Router, conn: ConnId, client_id: &str) -> Arc<Mailbox> {
        let mailbox = Arc::new(Mailbox::new(8));
        router.register(conn, client_id, Arc::clone(&mailbox));
        mailbox
    }

    fn drain(mailbox: &Mailbox) -> Vec<(String, Bytes, QoS, bool)> {
        let mut out = Vec::new();
        while let Some(p) = mailbox.try_pop() {
            if p.qos == QoS::AtLeastOnce {
                mailbox.ack(p.pkid);
            }
            out.push((p.topic, p.payload, p.qos, p.retain));
        }
        out
    }

    #[test]
    fn fan_out_with_qos_downgrade_and_overlap() {
        let mut r = router();
        let a = connect(&mut r, 1, "a");
        let b = connect(&mut r, 2, "b");
        r.subscribe(
            1,
            &[
                ("x/+".into(), QoS::AtMostOnce),
                ("x/#".into(), QoS::AtLeastOnce),
            ],
        );
        r.subscribe(2, &[("x/y".into(), QoS::AtMostOnce)]);
        r.publish("x/y", Bytes::from_static(b"p"), QoS::AtLeastOnce, false);
        let got_a = drain(&a);
        assert_eq!(got_a.len(), 1, "overlapping filters deliver once");
        assert_eq!(got_a[0].2, QoS::AtLeastOnce, "at the maximum granted QoS");
        let got_b = drain(&b);
        assert_eq!(got_b.len(), 1);
        assert_eq!(got_b[0].2, QoS::AtMostOnce);
        assert!(!got_b[0].3, "live delivery has no retain flag");
    }

    #[test]
    fn takeover_removes_old_subscriptions_and_suppresses_will() {
        let mut r = router();
        let old = connect(&mut r, 1, "dev");
        r.subscribe(1, &[("t".into(), QoS::AtMostOnce)]);
        let watcher = connect(&mut r, 2, "watcher");
        r.subscribe(2, &[("will".into(), QoS::AtMostOnce)]);
        let new = connect(&mut r, 3, "dev");
        assert_eq!(old.kick_reason(), Some(Kick::TakenOver));
        assert_eq!(r.owner("dev"), Some(3));
        assert_eq!(r.session_count(), 2);
        let will = LastWill::new("will", "offline", QoS::AtMostOnce, false);
        assert!(
            !r.end_session(1, Some(will.clone())),
            "old connection was already gone"
        );
        assert!(drain(&watcher).is_empty(), "no will after takeover");
        r.publish("t", Bytes::from_static(b"x"), QoS::AtMostOnce, false);
        assert!(drain(&old).is_empty());
        assert!(drain(&new).is_empty(), "new session starts clean");
        assert!(r.end_session(3, Some(will)));
        assert_eq!(drain(&watcher).len(), 1);
        assert_eq!(r.owner("dev"), None);
    }

    #[test]
    fn slow_consumer_is_kicked_without_affecting_others() {
        let mut r = router();
        let slow = connect(&mut r, 1, "slow");
        let fast = connect(&mut r, 2, "fast");
        r.subscribe(1, &[("t".into(), QoS::AtMostOnce)]);
        r.subscribe(2, &[("t".into(), QoS::AtMostOnce)]);
        for i in 0..6u8 {
            r.publish("t", Bytes::copy_from_slice(&[i]), QoS::AtMostOnce, false);
            drain(&fast);
        }
        assert_eq!(slow.kick_reason(), Some(Kick::SlowConsumer));
        assert_eq!(fast.kick_reason(), None);
    }

    #[test]
    fn retained_sent_on_subscribe_with_flag_and_bounded_separately() {
        let mut r = router();
        for i in 0..10 {
            r.publish(
                &format!("r/{i}"),
                Bytes::from_static(b"v"),
                QoS::AtLeastOnce,
                true,
            );
        }
        let m = connect(&mut r, 1, "m");
        r.subscribe(1, &[("r/#".into(), QoS::AtMostOnce)]);
        let got = drain(&m);
        assert_eq!(
            got.len(),
            10,
            "retained burst may exceed the live bound of 4"
        );
        assert!(
            got.iter()
                .all(|(_, _, qos, retain)| *retain && *qos == QoS::AtMostOnce)
        );
        assert_eq!(m.kick_reason(), None);
    }

    #[test]
    fn unsubscribe_stops_delivery() {
        let mut r = router();
        let m = connect(&mut r, 1, "m");
        r.subscribe(1, &[("a/#".into(), QoS::AtMostOnce)]);
        r.unsubscribe(1, &["a/#".into(), "never/subscribed".into()]);
        r.publish("a/b", Bytes::from_static(b"x"), QoS::AtMostOnce, false);
        assert!(drain(&m).is_empty());
        assert!(r.subscriptions.is_empty(), "trie is pruned");
    }

    /// Cross-checks the trie against `topic_matches` over every filter and topic
    /// buildable from a small alphabet, up to three levels.
    #[test]
    fn trie_agrees_with_topic_matches_exhaustively() {
        fn combos(alphabet: &[&str], depth: usize) -> Vec<String> {
            let mut all: Vec<String> = alphabet.iter().map(|s| (*s).to_owned()).collect();
            let mut frontier = all.clone();
            for _ in 1..depth {
                let mut next = Vec::new();
                for prefix in &frontier {
                    for level in alphabet {
                        next.push(format!("{prefix}/{level}"));
                    }
                }
                all.extend(next.iter().cloned());
                frontier = next;
            }
            all
        }
        let filters: Vec<String> = combos(&["a", "b", "", "$s", "+", "#"], 3)
            .into_iter()
            .filter(|f| is_valid_filter(f))
            .collect();
        let topics: Vec<String> = combos(&["a", "b", "", "$s"], 3)
            .into_iter()
            .filter(|t| is_valid_topic_name(t))
            .collect();
        let mut trie = Node::default();
        for (i, filter) in filters.iter().enumerate() {
            trie.insert(filter, i as ConnId, QoS::AtMostOnce);
        }
        for topic in &topics {
            let levels: Vec<&str> = topic.split('/').collect();
            let mut out = HashMap::new();
            trie.collect(&levels, true, &mut out);
            for (i, filter) in filters.iter().enumerate() {
                assert_eq!(
                    out.contains_key(&(i as ConnId)),
                    topic_matches(filter, topic),
                    "filter {filter:?} vs topic {topic:?}"
                );
            }
        }
    }
}
