//! Broker configuration.
//!
//! Every limit exists for a security reason: the broker is reachable by every
//! locker on a site network, so a single misbehaving (or compromised) client must
//! not be able to exhaust memory, starve other clients or block publishers.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Tunables of the embedded broker.
///
/// Construct with struct-update syntax so new knobs do not break callers:
///
/// ```ignore
/// let config = BrokerConfig { listen: "0.0.0.0:1883".parse()?, ..BrokerConfig::default() };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerConfig {
    /// Address to listen on. Port 0 picks a free port (see `BrokerHandle::local_addr`).
    pub listen: SocketAddr,
    /// Largest accepted packet, measured as the MQTT *remaining length* (the
    /// packet minus its 2..5 byte fixed header). A larger packet closes the
    /// connection before its body is read, so a client cannot make the broker
    /// buffer an arbitrarily large frame.
    pub max_packet_bytes: usize,
    /// Maximum number of simultaneously open TCP connections, including those
    /// that have not completed CONNECT yet. Further connections are closed
    /// immediately after `accept`.
    pub max_connections: usize,
    /// Per-client bound on messages queued for delivery but not yet written to
    /// the socket. A subscriber whose queue overflows is disconnected (its will is
    /// published): a slow consumer must never block publishers or other clients.
    /// Worst-case memory per client is about `client_queue × max_packet_bytes`
    /// (payloads are shared between subscribers of the same publication).
    pub client_queue: usize,
    /// Maximum number of retained messages (topics) kept by the broker.
    pub max_retained: usize,
    /// Optional per-connection cap on incoming PUBLISH packets per second
    /// (token bucket, burst = one second's worth). Exceeding it disconnects the
    /// client. `None` disables the cap.
    pub publish_rate_per_sec: Option<u32>,
    /// Maximum total size (topic + payload bytes) of all retained messages.
    pub max_retained_bytes: usize,
    /// Maximum number of QoS 1 messages sent to one client and not yet
    /// acknowledged with PUBACK. Further QoS 1 deliveries wait in the client
    /// queue (and count against `client_queue`).
    pub max_inflight: u16,
    /// Time a freshly accepted socket has to deliver a complete CONNECT packet,
    /// so idle sockets cannot hold connection slots forever.
    pub connect_timeout: Duration,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 1883)),
            max_packet_bytes: 256 * 1024,
            max_connections: 1024,
            client_queue: 1024,
            max_retained: 10_000,
            publish_rate_per_sec: None,
            max_retained_bytes: 16 * 1024 * 1024,
            max_inflight: 32,
            connect_timeout: Duration::from_secs(10),
        }
    }
}

impl BrokerConfig {
    /// Rejects values that would make the broker unusable (e.g. a zero-length
    /// queue would disconnect every subscriber on its first message).
    pub(crate) fn validate(&self) -> io::Result<()> {
        let invalid =
            |what: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, what.to_owned()));
        if self.max_packet_bytes < 16 {
            return invalid("max_packet_bytes must be at least 16");
        }
        if self.max_connections == 0 {
            return invalid("max_connections must be at least 1");
        }
        if self.client_queue == 0 {
            return invalid("client_queue must be at least 1");
        }
        if self.max_inflight == 0 || self.max_inflight == u16::MAX {
            return invalid("max_inflight must be between 1 and 65534");
        }
        if self.publish_rate_per_sec == Some(0) {
            return invalid("publish_rate_per_sec must be at least 1 (use None to disable)");
        }
        if self.connect_timeout.is_zero() {
            return invalid("connect_timeout must be non-zero");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_local() {
        let config = BrokerConfig::default();
        assert!(config.validate().is_ok());
        assert_eq!(config.listen, "127.0.0.1:1883".parse().expect("addr"));
        assert_eq!(config.max_packet_bytes, 256 * 1024);
    }

    #[test]
    fn rejects_degenerate_limits() {
        let zero_queue = BrokerConfig {
            client_queue: 0,
            ..BrokerConfig::default()
        };
        assert!(zero_queue.validate().is_err());
        let zero_rate = BrokerConfig {
            publish_rate_per_sec: Some(0),
            ..BrokerConfig::default()
        };
        assert!(zero_rate.validate().is_err());
        let zero_inflight = BrokerConfig {
            max_inflight: 0,
            ..BrokerConfig::default()
        };
        assert!(zero_inflight.validate().is_err());
    }
}
