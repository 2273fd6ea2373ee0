//! One client connection: CONNECT handshake, then a reader and a writer running
//! concurrently on the connection's task until something ends the connection.
//!
//! The reader decodes packets, enforces limits and ACLs, routes publications
//! and hands small responses (CONNACK, PUBACK, SUBACK, ...) to the writer over a
//! bounded channel. The writer drains those responses and the connection's
//! [`Mailbox`] into the socket. Both run inside one `select!` together with the
//! router's kick signal and the broker shutdown signal, so whichever finishes
//! first tears the whole connection down, and no extra tasks need cleaning up.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{
    ConnAck, Connect, ConnectReturnCode, LastWill, Packet, PubAck, Publish, SubAck, Subscribe,
    SubscribeReasonCode, UnsubAck, Unsubscribe,
};
use rumqttc::mqttbytes::{self, QoS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, timeout, timeout_at};
use tracing::{Span, debug, error, info, warn};

use crate::router::ConnId;
use crate::session::{Kick, Mailbox, RateLimiter, min_qos};
use crate::topic::{is_valid_filter, is_valid_topic_name};
use crate::{Shared, shutdown_signalled};

/// Bytes requested from the socket per read.
const READ_CHUNK: usize = 8 * 1024;
/// Encoded bytes gathered before one socket write.
const WRITE_BATCH: usize = 64 * 1024;
/// Responses the reader may queue for the writer. When full the reader stops
/// reading, which pushes back on a client that sends requests but never reads
/// the answers (and its keepalive then expires).
const CONTROL_QUEUE: usize = 64;

/// Why a connection ended. Decides whether the will is published.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CloseReason {
    #[error("client sent DISCONNECT")]
    ClientDisconnect,
    #[error("connection closed by client")]
    Eof,
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("keepalive expired")]
    KeepAliveExpired,
    #[error("protocol violation: {0}")]
    Protocol(String),
    #[error("packet of {0} bytes exceeds the maximum packet size")]
    PacketTooLarge(usize),
    #[error("publish rate limit exceeded")]
    RateLimited,
    #[error("outgoing queue overflow (slow consumer)")]
    SlowConsumer,
    #[error("client id taken over by a newer connection")]
    TakenOver,
    #[error("broker shutting down")]
    Shutdown,
}

impl CloseReason {
    fn protocol(what: impl Into<String>) -> Self {
        Self::Protocol(what.into())
    }

    /// §3.1.2.5: the will is published unless the client disconnected cleanly.
    /// Takeover is our deliberate exception (see the crate docs).
    fn publishes_will(&self) -> bool {
        !matches!(self, Self::ClientDisconnect | Self::TakenOver)
    }
}

impl From<Kick> for CloseReason {
    fn from(kick: Kick) -> Self {
        match kick {
            Kick::TakenOver => Self::TakenOver,
            Kick::SlowConsumer => Self::SlowConsumer,
        }
    }
}

/// Why the CONNECT phase did not produce a usable CONNECT packet.
#[derive(Debug)]
enum HandshakeError {
    /// Answer with CONNACK 0x01 (unacceptable protocol version), then close.
    UnsupportedProtocol,
    /// Close without CONNACK.
    Close(CloseReason),
}

impl From<CloseReason> for HandshakeError {
    fn from(reason: CloseReason) -> Self {
        Self::Close(reason)
    }
}

/// Serves one accepted TCP connection until it ends.
pub(crate) async fn run(
    shared: Arc<Shared>,
    stream: TcpStream,
    mut shutdown: watch::Receiver<bool>,
) {
    // MQTT traffic is many small packets; Nagle would only add latency.
    if let Err(err) = stream.set_nodelay(true) {
        debug!(%err, "could not set TCP_NODELAY");
    }
    let (mut rd, mut wr) = stream.into_split();
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let max_packet = shared.config.max_packet_bytes;

    let handshake = tokio::select! {
        read = timeout(shared.config.connect_timeout, read_connect(&mut rd, &mut buf, max_packet)) => read,
        () = shutdown_signalled(&mut shutdown) => return,
    };
    let connect = match handshake {
        Ok(Ok(connect)) => connect,
        Ok(Err(HandshakeError::UnsupportedProtocol)) => {
            debug!("unsupported protocol version; refusing");
            refuse(&mut wr, ConnectReturnCode::RefusedProtocolVersion).await;
            return;
        }
        Ok(Err(HandshakeError::Close(reason))) => {
            debug!(%reason, "connection closed before CONNECT completed");
            return;
        }
        Err(_elapsed) => {
            debug!("no CONNECT within the connect timeout; closing");
            return;
        }
    };

    let Connect {
        keep_alive,
        client_id,
        clean_session,
        last_will,
        login,
        ..
    } = connect;
    if client_id.is_empty() && !clean_session {
        // §3.1.3.1: a server-assigned id only makes sense for a clean session.
        refuse(&mut wr, ConnectReturnCode::BadClientId).await;
        return;
    }
    if let Some(will) = &last_will
        && !is_valid_topic_name(&will.topic)
    {
        debug!(topic = will.topic, "invalid will topic; closing");
        return;
    }
    let username = login
        .as_ref()
        .map(|l| l.username.as_str())
        .filter(|u| !u.is_empty());
    let password = login
        .as_ref()
        .map(|l| l.password.as_bytes())
        .filter(|p| !p.is_empty());
    let principal = match shared.auth.authenticate(&client_id, username, password) {
        Ok(principal) => principal,
        Err(()) => {
            let code = if username.is_some() || password.is_some() {
                ConnectReturnCode::BadUserNamePassword
            } else {
                ConnectReturnCode::NotAuthorized
            };
            info!(
                client_id,
                username, "authentication failed; refusing connection"
            );
            refuse(&mut wr, code).await;
            return;
        }
    };
    if let Some(will) = &last_will
        && !shared.auth.may_publish(&principal, &will.topic)
    {
        info!(
            client_id,
            principal,
            topic = will.topic,
            "will topic denied by ACL; refusing connection"
        );
        refuse(&mut wr, ConnectReturnCode::NotAuthorized).await;
        return;
    }

    let conn_id = shared.next_conn_id();
    let client_id = if client_id.is_empty() {
        format!("auto-{conn_id}")
    } else {
        client_id
    };
    Span::current().record("client_id", client_id.as_str());
    if !clean_session {
        debug!("persistent session requested; treating it as a clean session");
    }
    let mailbox = Arc::new(Mailbox::new(shared.config.max_inflight));
    shared
        .router()
        .register(conn_id, &client_id, Arc::clone(&mailbox));
    let registration = Registration {
        shared: &shared,
        conn_id,
        will: last_will,
        ended: false,
    };
    info!(principal, keep_alive, "client connected");

    let (control, mut control_rx) = mpsc::channel(CONTROL_QUEUE);
    // Queued before anything else and the writer prefers control packets, so
    // CONNACK is always the first packet on the wire.
    let connack = Packet::ConnAck(ConnAck::new(ConnectReturnCode::Success, false));
    let session = Session {
        shared: &shared,
        conn_id,
        principal: &principal,
        mailbox: &mailbox,
        limiter: shared.config.publish_rate_per_sec.map(RateLimiter::new),
    };
    let reason = if control.try_send(connack).is_err() {
        CloseReason::protocol("internal: control queue unavailable")
    } else {
        tokio::select! {
            reason = read_loop(session, &mut rd, &mut buf, &control, keep_alive) => reason,
            reason = write_loop(&mut wr, &mut control_rx, &mailbox) => reason,
            kick = mailbox.kicked() => CloseReason::from(kick),
            () = shutdown_signalled(&mut shutdown) => CloseReason::Shutdown,
        }
    };

    let (will_published, will_topic) = registration.end(&reason);
    match &reason {
        CloseReason::ClientDisconnect
        | CloseReason::Eof
        | CloseReason::TakenOver
        | CloseReason::Shutdown => {
            info!(%reason, will_published, "client disconnected");
        }
        _ => warn!(%reason, will_published, will_topic, "client disconnected abnormally"),
    }
}

/// A connection's entry in the router, removed exactly once.
///
/// Dropping it without [`Registration::end`] (a panic in an [`crate::Authorizer`]
/// callback, or the task being aborted) still unregisters the connection, so no
/// ghost session keeps receiving messages; that case counts as a crash and
/// publishes the will.
struct Registration<'a> {
    shared: &'a Shared,
    conn_id: ConnId,
    will: Option<LastWill>,
    ended: bool,
}

impl Registration<'_> {
    /// Unregisters for `reason`; returns whether a will was published, and its topic.
    fn end(mut self, reason: &CloseReason) -> (bool, Option<String>) {
        self.ended = true;
        let will = self.will.take().filter(|_| reason.publishes_will());
        let topic = will.as_ref().map(|w| w.topic.clone());
        // `false` means we were taken over: the router then skipped the will.
        let registered = self.shared.router().end_session(self.conn_id, will);
        (registered && topic.is_some(), topic)
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.shared
                .router()
                .end_session(self.conn_id, self.will.take());
        }
    }
}

/// Sends a refusing CONNACK and closes. Errors are irrelevant at this point.
async fn refuse(wr: &mut OwnedWriteHalf, code: ConnectReturnCode) {
    let mut out = BytesMut::with_capacity(4);
    if ConnAck::new(code, false).write(&mut out).is_ok() {
        let _ = wr.write_all(&out).await;
        let _ = wr.shutdown().await;
    }
}

/// Reads until a complete first packet is buffered and returns it as CONNECT.
async fn read_connect(
    rd: &mut OwnedReadHalf,
    buf: &mut BytesMut,
    max_packet: usize,
) -> Result<Connect, HandshakeError> {
    loop {
        if let Some(&first) = buf.first() {
            if first != 0x10 {
                return Err(CloseReason::protocol("first packet must be CONNECT").into());
            }
            match mqttbytes::check(buf.iter(), max_packet) {
                Ok(header) => {
                    let frame = buf.get(..header.frame_length()).unwrap_or_default();
                    inspect_connect(frame)?;
                    return match Packet::read(buf, max_packet) {
                        Ok(Packet::Connect(connect)) => Ok(connect),
                        Ok(_) => Err(CloseReason::protocol("first packet must be CONNECT").into()),
                        Err(err) => Err(CloseReason::protocol(err.to_string()).into()),
                    };
                }
                Err(mqttbytes::Error::InsufficientBytes(_)) => {}
                Err(mqttbytes::Error::PayloadSizeLimitExceeded(size)) => {
                    return Err(CloseReason::PacketTooLarge(size).into());
                }
                Err(err) => return Err(CloseReason::protocol(err.to_string()).into()),
            }
        }
        buf.reserve(READ_CHUNK);
        match rd.read_buf(buf).await {
            Ok(0) => return Err(CloseReason::Eof.into()),
            Ok(_) => {}
            Err(err) => return Err(CloseReason::Io(err).into()),
        }
    }
}

/// Checks the CONNECT variable header before handing the frame to the codec.
///
/// The codec rejects unknown protocol levels with an error, but §3.1.2.2
/// requires answering them with CONNACK 0x01, and the codec does not check the
/// reserved flag or the "password without username" rule (§3.1.2.3, §3.1.2.9).
fn inspect_connect(frame: &[u8]) -> Result<(), HandshakeError> {
    let malformed = || HandshakeError::Close(CloseReason::protocol("malformed CONNECT"));
    // Skip the fixed header: one type byte plus a 1..4 byte remaining length
    // (already validated by `mqttbytes::check`).
    let mut offset = 1;
    while frame.get(offset).is_some_and(|b| b & 0x80 != 0) {
        offset += 1;
    }
    let body = frame.get(offset + 1..).ok_or_else(malformed)?;
    let [hi, lo, rest @ ..] = body else {
        return Err(malformed());
    };
    let name_len = usize::from(u16::from_be_bytes([*hi, *lo]));
    let name = rest.get(..name_len).ok_or_else(malformed)?;
    let level = *rest.get(name_len).ok_or_else(malformed)?;
    let flags = *rest.get(name_len + 1).ok_or_else(malformed)?;
    match (name, level) {
        (b"MQTT", 4) => {}
        (b"MQTT", _) | (b"MQIsdp", _) => return Err(HandshakeError::UnsupportedProtocol),
        _ => return Err(CloseReason::protocol("unknown protocol name").into()),
    }
    if flags & 0x01 != 0 {
        return Err(CloseReason::protocol("reserved CONNECT flag set").into());
    }
    if flags & 0x40 != 0 && flags & 0x80 == 0 {
        return Err(CloseReason::protocol("password flag without username flag").into());
    }
    Ok(())
}

/// Checks the flag nibble of a fixed header (§2.2.2), which the codec ignores.
fn check_header_flags(byte: u8) -> Result<(), CloseReason> {
    let flags = byte & 0x0F;
    let valid = match byte >> 4 {
        // PUBLISH: DUP must be 0 for QoS 0 (§3.3.1.1); QoS 3 is rejected by the codec.
        3 => !(flags & 0b1000 != 0 && flags & 0b0110 == 0),
        // PUBREL, SUBSCRIBE, UNSUBSCRIBE
        6 | 8 | 10 => flags == 0b0010,
        _ => flags == 0,
    };
    if valid {
        Ok(())
    } else {
        Err(CloseReason::protocol(format!(
            "invalid fixed header flags in 0x{byte:02x}"
        )))
    }
}

/// Decodes one packet from `buf`, or `None` if more bytes are needed.
fn decode(buf: &mut BytesMut, max_packet: usize) -> Result<Option<Packet>, CloseReason> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    check_header_flags(first)?;
    match Packet::read(buf, max_packet) {
        Ok(packet) => Ok(Some(packet)),
        Err(mqttbytes::Error::InsufficientBytes(_)) => Ok(None),
        Err(mqttbytes::Error::PayloadSizeLimitExceeded(size)) => {
            Err(CloseReason::PacketTooLarge(size))
        }
        Err(err) => Err(CloseReason::protocol(err.to_string())),
    }
}

/// Awaits `future`, giving up at `deadline` if there is one.
async fn before<F: Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    match deadline {
        Some(deadline) => timeout_at(deadline, future).await.ok(),
        None => Some(future.await),
    }
}

/// What the reader needs to act on behalf of one connected client.
struct Session<'a> {
    shared: &'a Shared,
    conn_id: ConnId,
    principal: &'a str,
    mailbox: &'a Mailbox,
    limiter: Option<RateLimiter>,
}

async fn read_loop(
    mut session: Session<'_>,
    rd: &mut OwnedReadHalf,
    buf: &mut BytesMut,
    control: &mpsc::Sender<Packet>,
    keep_alive: u16,
) -> CloseReason {
    let max_packet = session.shared.config.max_packet_bytes;
    // §3.1.2.10: disconnect after one and a half keepalive periods without a
    // control packet. Only *complete* packets count, so trickling bytes does not
    // keep a connection alive. Zero disables the check.
    let grace = (keep_alive > 0).then(|| Duration::from_millis(u64::from(keep_alive) * 1500));
    let mut deadline = grace.map(|grace| Instant::now() + grace);
    loop {
        loop {
            let packet = match decode(buf, max_packet) {
                Ok(Some(packet)) => packet,
                Ok(None) => break,
                Err(reason) => return reason,
            };
            deadline = grace.map(|grace| Instant::now() + grace);
            match session.handle(packet) {
                Ok(None) => {}
                Ok(Some(response)) => match before(deadline, control.send(response)).await {
                    Some(Ok(())) => {}
                    Some(Err(_closed)) => return CloseReason::protocol("internal: writer gone"),
                    None => return CloseReason::KeepAliveExpired,
                },
                Err(reason) => return reason,
            }
        }
        buf.reserve(READ_CHUNK);
        match before(deadline, rd.read_buf(buf)).await {
            None => return CloseReason::KeepAliveExpired,
            Some(Ok(0)) => return CloseReason::Eof,
            Some(Ok(_)) => {}
            Some(Err(err)) => return CloseReason::Io(err),
        }
    }
}

impl Session<'_> {
    /// Acts on one packet; returns the response to send, if any.
    fn handle(&mut self, packet: Packet) -> Result<Option<Packet>, CloseReason> {
        match packet {
            Packet::Publish(publish) => self.on_publish(publish),
            Packet::PubAck(ack) => {
                if !self.mailbox.ack(ack.pkid) {
                    debug!(pkid = ack.pkid, "PUBACK for unknown packet id ignored");
                }
                Ok(None)
            }
            Packet::Subscribe(subscribe) => self.on_subscribe(subscribe).map(Some),
            Packet::Unsubscribe(unsubscribe) => self.on_unsubscribe(unsubscribe).map(Some),
            Packet::PingReq => Ok(Some(Packet::PingResp)),
            Packet::Disconnect => Err(CloseReason::ClientDisconnect),
            Packet::Connect(_) => Err(CloseReason::protocol("second CONNECT")),
            Packet::PubRec(_) | Packet::PubRel(_) | Packet::PubComp(_) => {
                Err(CloseReason::protocol("QoS 2 is not supported"))
            }
            Packet::ConnAck(_) | Packet::SubAck(_) | Packet::UnsubAck(_) | Packet::PingResp => {
                Err(CloseReason::protocol("server-to-client packet received"))
            }
        }
    }

    fn on_publish(&mut self, publish: Publish) -> Result<Option<Packet>, CloseReason> {
        if publish.qos == QoS::ExactlyOnce {
            return Err(CloseReason::protocol("QoS 2 is not supported"));
        }
        if !is_valid_topic_name(&publish.topic) {
            return Err(CloseReason::protocol("invalid topic name in PUBLISH"));
        }
        if let Some(limiter) = &mut self.limiter
            && !limiter.try_acquire()
        {
            return Err(CloseReason::RateLimited);
        }
        if self.shared.auth.may_publish(self.principal, &publish.topic) {
            self.shared.router().publish(
                &publish.topic,
                publish.payload,
                publish.qos,
                publish.retain,
            );
        } else {
            // Dropped but still acknowledged below, like Mosquitto: see crate docs.
            warn!(
                principal = self.principal,
                topic = publish.topic,
                "PUBLISH denied by ACL; dropped"
            );
        }
        Ok((publish.qos == QoS::AtLeastOnce).then(|| Packet::PubAck(PubAck::new(publish.pkid))))
    }

    fn on_subscribe(&mut self, subscribe: Subscribe) -> Result<Packet, CloseReason> {
        if subscribe.pkid == 0 {
            return Err(CloseReason::protocol("SUBSCRIBE with packet id 0"));
        }
        let mut codes = Vec::with_capacity(subscribe.filters.len());
        let mut granted = Vec::with_capacity(subscribe.filters.len());
        for filter in subscribe.filters {
            if !is_valid_filter(&filter.path) {
                debug!(filter = filter.path, "invalid topic filter refused");
                codes.push(SubscribeReasonCode::Failure);
            } else if !self.shared.auth.may_subscribe(self.principal, &filter.path) {
                warn!(
                    principal = self.principal,
                    filter = filter.path,
                    "SUBSCRIBE denied by ACL"
                );
                codes.push(SubscribeReasonCode::Failure);
            } else {
                let qos = min_qos(filter.qos, QoS::AtLeastOnce);
                codes.push(SubscribeReasonCode::Success(qos));
                granted.push((filter.path, qos));
            }
        }
        // Activating the subscriptions and queueing the retained messages happen
        // atomically in the router; SUBACK still reaches the wire first in
        // practice because the writer prefers control packets.
        self.shared.router().subscribe(self.conn_id, &granted);
        Ok(Packet::SubAck(SubAck::new(subscribe.pkid, codes)))
    }

    fn on_unsubscribe(&mut self, unsubscribe: Unsubscribe) -> Result<Packet, CloseReason> {
        if unsubscribe.pkid == 0 || unsubscribe.topics.is_empty() {
            return Err(CloseReason::protocol("malformed UNSUBSCRIBE"));
        }
        self.shared
            .router()
            .unsubscribe(self.conn_id, &unsubscribe.topics);
        Ok(Packet::UnsubAck(UnsubAck::new(unsubscribe.pkid)))
    }
}

/// Appends `packet` to `out`; on an (unexpected) encoding error the partial
/// bytes are removed so the stream stays well-formed.
fn encode(packet: &Packet, out: &mut BytesMut) {
    let mark = out.len();
    if let Err(err) = packet.write(out, usize::MAX) {
        out.truncate(mark);
        error!(%err, "failed to encode outgoing packet; dropped");
    }
}

fn encode_publish(publish: Publish, out: &mut BytesMut) {
    encode(&Packet::Publish(publish), out);
}

async fn write_loop(
    wr: &mut OwnedWriteHalf,
    control: &mut mpsc::Receiver<Packet>,
    mailbox: &Mailbox,
) -> CloseReason {
    let mut out = BytesMut::with_capacity(WRITE_BATCH);
    loop {
        tokio::select! {
            biased;
            packet = control.recv() => match packet {
                Some(packet) => encode(&packet, &mut out),
                None => return CloseReason::protocol("internal: reader gone"),
            },
            publish = mailbox.pop() => encode_publish(publish, &mut out),
        }
        // Batch whatever else is ready into the same write.
        while out.len() < WRITE_BATCH {
            if let Ok(packet) = control.try_recv() {
                encode(&packet, &mut out);
            } else if let Some(publish) = mailbox.try_pop() {
                encode_publish(publish, &mut out);
            } else {
                break;
            }
        }
        if let Err(err) = wr.write_all(&out).await {
            return CloseReason::Io(err);
        }
        out.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect_frame(name: &[u8], level: u8, flags: u8) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&(name.len() as u16).to_be_bytes());
        body.extend_from_slice(name);
        body.extend_from_slice(&[level, flags, 0, 60, 0, 1, b'c']);
        let mut frame = vec![0x10, body.len() as u8];
        frame.extend_from_slice(&body);
        frame
    }

    #[test]
    fn inspect_connect_protocol_levels() {
        assert!(inspect_connect(&connect_frame(b"MQTT", 4, 0x02)).is_ok());
        assert!(matches!(
            inspect_connect(&connect_frame(b"MQTT", 5, 0x02)),
            Err(HandshakeError::UnsupportedProtocol)
        ));
        assert!(matches!(
            inspect_connect(&connect_frame(b"MQIsdp", 3, 0x02)),
            Err(HandshakeError::UnsupportedProtocol)
        ));
        assert!(matches!(
            inspect_connect(&connect_frame(b"HTTP", 4, 0x02)),
            Err(HandshakeError::Close(_))
        ));
        assert!(matches!(
            inspect_connect(&[0x10, 0x01, 0x00]),
            Err(HandshakeError::Close(_))
        ));
    }

    #[test]
    fn inspect_connect_flags() {
        assert!(matches!(
            inspect_connect(&connect_frame(b"MQTT", 4, 0x03)),
            Err(HandshakeError::Close(_))
        ));
        assert!(matches!(
            inspect_connect(&connect_frame(b"MQTT", 4, 0x42)),
            Err(HandshakeError::Close(_))
        ));
        assert!(inspect_connect(&connect_frame(b"MQTT", 4, 0xC2)).is_ok());
    }

    #[test]
    fn header_flags() {
        assert!(check_header_flags(0x30).is_ok());
        assert!(check_header_flags(0x3B).is_ok(), "QoS1 + DUP + RETAIN");
        assert!(check_header_flags(0x38).is_err(), "DUP with QoS 0");
        assert!(check_header_flags(0x82).is_ok());
        assert!(check_header_flags(0x80).is_err());
        assert!(check_header_flags(0xA2).is_ok());
        assert!(check_header_flags(0xC0).is_ok());
        assert!(check_header_flags(0xC1).is_err());
        assert!(check_header_flags(0xE0).is_ok());
    }

    #[test]
    fn will_rules() {
        assert!(!CloseReason::ClientDisconnect.publishes_will());
        assert!(!CloseReason::TakenOver.publishes_will());
        assert!(CloseReason::Eof.publishes_will());
        assert!(CloseReason::KeepAliveExpired.publishes_will());
        assert!(CloseReason::SlowConsumer.publishes_will());
        assert!(CloseReason::Shutdown.publishes_will());
    }
}
