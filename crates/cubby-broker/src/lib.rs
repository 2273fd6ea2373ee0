//! Embedded MQTT 3.1.1 broker for Cubby.
//!
//! `cubby serve` runs this broker in-process so that a single binary can run a
//! whole site: the server and the locker agents talk MQTT to it. Production
//! deployments may use Mosquitto or EMQX instead; this broker therefore aims to
//! behave like them for the subset of MQTT a locker fleet needs, and to be
//! *strict* and *bounded* rather than feature-complete.
//!
//! Packets are encoded and decoded with the codec shipped in
//! [`rumqttc::mqttbytes::v4`]; everything else (sessions, routing, retained
//! messages, wills, limits) lives in this crate.
//!
//! # Supported subset and deliberate deviations
//!
//! * **Protocol level 4 only.** CONNECT with another level (including MQTT 3.1
//!   `MQIsdp` and MQTT 5) is answered with CONNACK return code 1 and closed.
//! * **Clean sessions only.** `clean_session = 0` is accepted but treated as
//!   clean: CONNACK always says *session present = 0* and nothing survives the
//!   connection. (A zero-length client id with `clean_session = 0` is refused
//!   with code 2, as the specification requires.)
//! * **QoS 0 and 1.** A QoS 1 PUBLISH is acknowledged after it has been placed in
//!   the queue of every matching subscriber (not after delivery). **QoS 2 is not
//!   supported:** a QoS 2 PUBLISH (or any PUBREC/PUBREL/PUBCOMP) closes the
//!   connection as a protocol violation. Subscriptions are granted at most QoS 1.
//! * **No retransmission.** Unacknowledged QoS 1 deliveries are not resent
//!   within a connection, and are lost when it closes (sessions are clean).
//!   At most `max_inflight` QoS 1 deliveries per client await PUBACK.
//! * **Client-id takeover** closes the older connection *without* publishing its
//!   will, so a reconnecting agent's fresh "online" is not overwritten by the
//!   stale "offline" of its dead connection.
//! * **Wills** are published when a connection ends without DISCONNECT: EOF,
//!   socket error, keepalive expiry (1.5 × keepalive without a complete packet),
//!   protocol violation, oversize packet, rate-limit or queue overflow, and
//!   broker shutdown (like a crash would). Will topics are checked against the
//!   ACL at CONNECT time; a denied will topic refuses the connection (code 5).
//! * **ACL:** a PUBLISH denied by [`Authorizer::may_publish`] is dropped and
//!   logged, and — like Mosquitto — still acknowledged at QoS 1, so a client
//!   cannot probe the ACL and a misconfigured device is not disconnected in a
//!   loop. A SUBSCRIBE filter denied by [`Authorizer::may_subscribe`] (or
//!   syntactically invalid) gets return code 0x80.
//! * **Limits** ([`BrokerConfig`]): oversize packets close the connection; a
//!   subscriber whose queue overflows is disconnected without slowing anyone
//!   else; the per-client publish rate cap disconnects offenders; the number of
//!   TCP connections and of retained messages (count and bytes) is bounded.
//! * Passwords must be valid UTF-8 (a limitation of the reused codec); an empty
//!   username or password is reported to the [`Authorizer`] as absent.

mod config;
mod retained;
mod router;
mod session;
mod topic;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{Instrument, error, info, info_span, warn};

pub use config::BrokerConfig;
pub use topic::topic_matches;

use retained::RetainedStore;
use router::{ConnId, QueueLimits, Router};

/// Authentication and authorisation callbacks, consulted for every CONNECT,
/// PUBLISH and SUBSCRIBE filter.
///
/// The methods are synchronous on purpose: they run on the connection's task
/// for every packet, so implementations must answer from memory (e.g. a
/// credential table loaded at start-up) rather than doing I/O.
///
/// Note that the client id is the key for takeover: a new connection with an
/// existing client id closes the old one. Implementations should therefore
/// bind client ids to principals in [`Authorizer::authenticate`] so that one
/// device cannot kick another off the broker.
pub trait Authorizer: Send + Sync + 'static {
    /// Ok(principal name) to admit, Err(()) to refuse. Synchronous: implementations keep credentials in memory.
    ///
    /// `client_id` is the id sent by the client (empty if it asked the broker to
    /// assign one). A refusal is answered with CONNACK code 4 (bad user name or
    /// password) when credentials were supplied and 5 (not authorised) otherwise.
    // The `Result<String, ()>` signature is the agreed interface with the server.
    #[allow(clippy::result_unit_err)]
    fn authenticate(
        &self,
        client_id: &str,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<String, ()>;

    /// Whether `principal` may publish to the topic name `topic` (also used for
    /// the will topic at CONNECT time).
    fn may_publish(&self, principal: &str, topic: &str) -> bool;

    /// Whether `principal` may subscribe with the topic filter `filter`
    /// (already validated, may contain wildcards).
    fn may_subscribe(&self, principal: &str, filter: &str) -> bool;
}

/// Admits everyone and allows everything. For development and tests only.
///
/// The principal is the username if one was given, otherwise the client id.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl Authorizer for AllowAll {
    fn authenticate(
        &self,
        client_id: &str,
        username: Option<&str>,
        _password: Option<&[u8]>,
    ) -> Result<String, ()> {
        Ok(username.unwrap_or(client_id).to_owned())
    }

    fn may_publish(&self, _principal: &str, _topic: &str) -> bool {
        true
    }

    fn may_subscribe(&self, _principal: &str, _filter: &str) -> bool {
        true
    }
}

/// State shared by the accept loop and all connection tasks.
pub(crate) struct Shared {
    pub config: BrokerConfig,
    pub auth: Arc<dyn Authorizer>,
    router: Mutex<Router>,
    open_connections: AtomicUsize,
    next_conn_id: AtomicU64,
}

impl Shared {
    fn new(config: BrokerConfig, auth: Arc<dyn Authorizer>) -> Self {
        let limits = QueueLimits {
            live: config.client_queue,
            retained: config.client_queue.saturating_add(config.max_retained),
        };
        let retained = RetainedStore::new(config.max_retained, config.max_retained_bytes);
        Self {
            router: Mutex::new(Router::new(retained, limits)),
            config,
            auth,
            open_connections: AtomicUsize::new(0),
            next_conn_id: AtomicU64::new(1),
        }
    }

    /// Locks the router. Router operations never await and keep their
    /// invariants at every step, so a poisoned lock is recovered rather than
    /// taking the whole broker down.
    pub fn router(&self) -> MutexGuard<'_, Router> {
        self.router.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// Releases a connection slot when the connection task ends (even by panic).
struct ConnectionSlot(Arc<Shared>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.open_connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Resolves once shutdown was requested (or the handle is gone).
pub(crate) async fn shutdown_signalled(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender was dropped, which also means "stop".
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The embedded broker. See [`Broker::start`].
#[derive(Debug)]
pub struct Broker;

impl Broker {
    /// Binds `config.listen` and starts serving on the current tokio runtime
    /// (tasks only, no extra threads). Fails on invalid configuration or if the
    /// address cannot be bound.
    pub async fn start(
        config: BrokerConfig,
        auth: Arc<dyn Authorizer>,
    ) -> io::Result<BrokerHandle> {
        config.validate()?;
        let listener = TcpListener::bind(config.listen).await?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, auth));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), shutdown_rx));
        info!(%local_addr, "MQTT broker listening");
        Ok(BrokerHandle {
            local_addr,
            shared,
            shutdown,
            task: Some(task),
        })
    }
}

/// Controls a running broker.
///
/// Dropping the handle also stops the broker (without waiting for it); call
/// [`BrokerHandle::shutdown`] to stop it and wait until all connections closed.
#[must_use = "dropping the handle stops the broker"]
pub struct BrokerHandle {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for BrokerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrokerHandle")
            .field("local_addr", &self.local_addr)
            .field("connected_clients", &self.connected_clients())
            .finish_non_exhaustive()
    }
}

impl BrokerHandle {
    /// The address actually bound (useful when listening on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Number of clients that completed CONNECT and are still connected.
    pub fn connected_clients(&self) -> usize {
        self.shared.router().session_count()
    }

    /// Stops accepting connections, closes every connection (publishing wills,
    /// as a crash would) and returns once all connection tasks have finished.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        if let Some(task) = self.task.take()
            && let Err(err) = task.await
        {
            error!(%err, "broker accept task failed");
        }
        info!(local_addr = %self.local_addr, "MQTT broker stopped");
    }
}

impl Drop for BrokerHandle {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

/// Back-off after a failed `accept` (typically EMFILE), so the loop does not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = shutdown_signalled(&mut shutdown) => break,
            Some(joined) = connections.join_next(), if !connections.is_empty() => {
                if let Err(err) = joined {
                    error!(%err, "connection task failed");
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let open = shared.open_connections.load(Ordering::Acquire);
                    if open >= shared.config.max_connections {
                        warn!(%peer, open, "connection limit reached; closing new connection");
                        drop(stream);
                        continue;
                    }
                    shared.open_connections.fetch_add(1, Ordering::AcqRel);
                    let slot = ConnectionSlot(Arc::clone(&shared));
                    let span = info_span!("mqtt", %peer, client_id = tracing::field::Empty);
                    let task = session::connection::run(Arc::clone(&shared), stream, shutdown.clone());
                    connections.spawn(
                        async move {
                            task.await;
                            drop(slot);
                        }
                        .instrument(span),
                    );
                }
                Err(err) => {
                    warn!(%err, "accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                }
            }
        }
    }
    drop(listener);
    // Connections watch the same shutdown signal; wait for them to wind down.
    while let Some(joined) = connections.join_next().await {
        if let Err(err) = joined {
            error!(%err, "connection task failed");
        }
    }
}
