//! Shared helpers: broker start-up, a polled rumqttc client, raw sockets.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use cubby_broker::{AllowAll, Authorizer, Broker, BrokerConfig, BrokerHandle};
use rumqttc::mqttbytes::v4::{ConnAck, Connect, Packet};
use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, Outgoing, Publish, QoS,
    SubscribeReasonCode,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};

/// Generous upper bound for things that should happen "promptly".
pub const SOON: Duration = Duration::from_secs(5);
/// How long to listen before concluding that something did *not* happen.
pub const QUIET: Duration = Duration::from_millis(500);

pub fn config() -> BrokerConfig {
    BrokerConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..BrokerConfig::default()
    }
}

pub async fn start(config: BrokerConfig) -> BrokerHandle {
    start_with(config, Arc::new(AllowAll)).await
}

pub async fn start_with(config: BrokerConfig, auth: Arc<dyn Authorizer>) -> BrokerHandle {
    Broker::start(config, auth).await.expect("broker starts")
}

pub fn options(broker: &BrokerHandle, client_id: &str) -> MqttOptions {
    let addr = broker.local_addr();
    let mut options = MqttOptions::new(client_id, addr.ip().to_string(), addr.port());
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(1 << 20, 1 << 20);
    options
}

/// Polls until `condition` holds, panicking after `within`.
pub async fn wait_until(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Connects an event loop, returning the refusal if the broker refuses.
pub async fn connect_eventloop(
    options: MqttOptions,
) -> Result<(AsyncClient, EventLoop), ConnectionError> {
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    match timeout(SOON, eventloop.poll())
        .await
        .expect("CONNACK in time")?
    {
        Event::Incoming(Packet::ConnAck(ConnAck {
            code: rumqttc::ConnectReturnCode::Success,
            ..
        })) => Ok((client, eventloop)),
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

/// A connected rumqttc client whose event loop is polled by a background task
/// that stops at the first error (no automatic reconnects in tests).
pub struct Client {
    pub client: AsyncClient,
    events: mpsc::UnboundedReceiver<Result<Event, String>>,
    backlog: VecDeque<Publish>,
    task: JoinHandle<()>,
}

pub async fn connect(options: MqttOptions) -> Client {
    let (client, eventloop) = connect_eventloop(options)
        .await
        .expect("connection accepted");
    Client::spawn(client, eventloop)
}

impl Client {
    pub fn spawn(client: AsyncClient, mut eventloop: EventLoop) -> Self {
        let (tx, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(event) => {
                        if tx.send(Ok(event)).is_err() {
                            return;
                        }
                    }
                    Err(err) => {
                        let _ = tx.send(Err(err.to_string()));
                        return;
                    }
                }
            }
        });
        Self {
            client,
            events,
            backlog: VecDeque::new(),
            task,
        }
    }

    /// Next event, stashing incoming PUBLISHes that the caller skips over.
    async fn next_event(&mut self, within: Duration) -> Option<Result<Event, String>> {
        timeout(within, self.events.recv()).await.ok().flatten()
    }

    /// Waits for an event accepted by `pick`, keeping skipped publishes for later.
    async fn wait_for<T>(&mut self, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = Instant::now() + SOON;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await {
                Some(Ok(event)) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                    if let Event::Incoming(Packet::Publish(publish)) = event {
                        self.backlog.push_back(publish);
                    }
                }
                Some(Err(err)) => panic!("connection failed while waiting for {what}: {err}"),
                None => panic!("timed out waiting for {what}"),
            }
        }
    }

    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> SubscribeReasonCode {
        self.client
            .subscribe(filter, qos)
            .await
            .expect("subscribe queued");
        self.wait_for("SUBACK", |event| match event {
            Event::Incoming(Packet::SubAck(ack)) => ack.return_codes.first().copied(),
            _ => None,
        })
        .await
    }

    pub async fn unsubscribe(&mut self, filter: &str) {
        self.client
            .unsubscribe(filter)
            .await
            .expect("unsubscribe queued");
        self.wait_for("UNSUBACK", |event| {
            matches!(event, Event::Incoming(Packet::UnsubAck(_))).then_some(())
        })
        .await;
    }

    pub async fn publish(&self, topic: &str, qos: QoS, retain: bool, payload: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, qos, retain, payload.into())
            .await
            .expect("publish queued");
    }

    /// Publishes at QoS 1 and waits for the broker's PUBACK.
    pub async fn publish_acked(&mut self, topic: &str, retain: bool, payload: impl Into<Vec<u8>>) {
        self.publish(topic, QoS::AtLeastOnce, retain, payload).await;
        self.wait_for("PUBACK", |event| {
            matches!(event, Event::Incoming(Packet::PubAck(_))).then_some(())
        })
        .await;
    }

    /// Next received PUBLISH within `within`.
    pub async fn recv_within(&mut self, within: Duration) -> Option<Publish> {
        if let Some(publish) = self.backlog.pop_front() {
            return Some(publish);
        }
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await? {
                Ok(Event::Incoming(Packet::Publish(publish))) => return Some(publish),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    pub async fn recv(&mut self) -> Publish {
        self.recv_within(SOON).await.expect("a PUBLISH arrives")
    }

    /// Asserts nothing is delivered for a while.
    pub async fn expect_nothing(&mut self) {
        if let Some(publish) = self.recv_within(QUIET).await {
            panic!("unexpected delivery: {publish:?}");
        }
    }

    /// Waits until the connection fails (the broker closed it); returns the error.
    pub async fn closed(&mut self) -> String {
        let deadline = Instant::now() + SOON;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await {
                Some(Ok(_)) => {}
                Some(Err(err)) => return err,
                None => panic!("connection was not closed in time"),
            }
        }
    }

    /// Kills the connection abruptly: the event loop (and its socket) is dropped
    /// without sending DISCONNECT, as if the process had crashed.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    /// Sends DISCONNECT, waits until it is on the wire, then drops the client.
    pub async fn disconnect(mut self) {
        self.client.disconnect().await.expect("disconnect queued");
        self.wait_for("DISCONNECT sent", |event| {
            matches!(event, Event::Outgoing(Outgoing::Disconnect)).then_some(())
        })
        .await;
        // The broker closes the socket in response; let the event loop see it.
        let _ = timeout(SOON, self.closed()).await;
        self.task.abort();
    }
}

/// Writes one packet to a raw socket.
pub async fn raw_send(stream: &mut TcpStream, packet: Packet) {
    let mut out = BytesMut::new();
    packet.write(&mut out, usize::MAX).expect("encodes");
    stream.write_all(&out).await.expect("raw write");
}

/// Reads one packet from a raw socket; `None` once the broker closed it.
pub async fn raw_recv(stream: &mut TcpStream, buf: &mut BytesMut) -> Option<Packet> {
    loop {
        match Packet::read(buf, usize::MAX) {
            Ok(packet) => return Some(packet),
            Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(err) => panic!("broker sent garbage: {err}"),
        }
        match timeout(SOON, stream.read_buf(buf))
            .await
            .expect("raw read in time")
        {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Opens a raw connection and performs CONNECT, returning the CONNACK.
pub async fn raw_connect(
    broker: &BrokerHandle,
    connect: Connect,
) -> (TcpStream, BytesMut, ConnAck) {
    let mut stream = TcpStream::connect(broker.local_addr())
        .await
        .expect("tcp connect");
    raw_send(&mut stream, Packet::Connect(connect)).await;
    let mut buf = BytesMut::new();
    match raw_recv(&mut stream, &mut buf).await {
        Some(Packet::ConnAck(ack)) => (stream, buf, ack),
        other => panic!("expected CONNACK, got {other:?}"),
    }
}

/// Asserts the broker closes `stream` within `within` (any data before is ignored).
pub async fn assert_closed_within(stream: &mut TcpStream, within: Duration) {
    let mut scratch = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, stream.read(&mut scratch)).await {
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(_)) => {}
            Err(_) => panic!("broker did not close the connection within {within:?}"),
        }
    }
}
