//! Strictness on the wire, exercised with raw sockets.

use bytes::{BufMut, BytesMut};
use rumqttc::mqttbytes::v4::{Connect, Packet, Publish, Subscribe};
use rumqttc::{ConnectReturnCode, QoS};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::common::{
    SOON, assert_closed_within, config, connect, options, raw_connect, raw_recv, raw_send, start,
};

/// A CONNECT with an arbitrary protocol name and level (the codec only writes 4/5).
fn connect_bytes(name: &str, level: u8) -> BytesMut {
    let mut body = BytesMut::new();
    body.put_u16(name.len() as u16);
    body.put_slice(name.as_bytes());
    body.put_u8(level);
    body.put_u8(0x02); // clean session
    body.put_u16(60);
    body.put_u16(1);
    body.put_u8(b'x');
    let mut frame = BytesMut::new();
    frame.put_u8(0x10);
    frame.put_u8(body.len() as u8);
    frame.put_slice(&body);
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_protocol_levels_get_connack_1_and_close() {
    let broker = start(config()).await;
    for (name, level) in [("MQTT", 5u8), ("MQTT", 3), ("MQIsdp", 3)] {
        let mut stream = TcpStream::connect(broker.local_addr()).await.expect("tcp");
        stream
            .write_all(&connect_bytes(name, level))
            .await
            .expect("write");
        let mut buf = BytesMut::new();
        match raw_recv(&mut stream, &mut buf).await {
            Some(Packet::ConnAck(ack)) => {
                assert_eq!(
                    ack.code,
                    ConnectReturnCode::RefusedProtocolVersion,
                    "{name} level {level}"
                );
            }
            other => panic!("expected CONNACK for {name} level {level}, got {other:?}"),
        }
        assert_closed_within(&mut stream, SOON).await;
    }
    assert_eq!(broker.connected_clients(), 0);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_packet_must_be_connect() {
    let broker = start(config()).await;
    let mut stream = TcpStream::connect(broker.local_addr()).await.expect("tcp");
    raw_send(&mut stream, Packet::PingReq).await;
    assert_closed_within(&mut stream, SOON).await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_session_request_is_accepted_as_clean() {
    let broker = start(config()).await;
    let mut request = Connect::new("agent");
    request.clean_session = false;
    let (_stream, _buf, ack) = raw_connect(&broker, request).await;
    assert_eq!(ack.code, ConnectReturnCode::Success);
    assert!(!ack.session_present, "sessions are always clean");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_client_id_is_assigned_only_for_clean_sessions() {
    let broker = start(config()).await;
    let (_stream, _buf, ack) = raw_connect(&broker, Connect::new("")).await;
    assert_eq!(ack.code, ConnectReturnCode::Success);

    let mut persistent = Connect::new("");
    persistent.clean_session = false;
    let (mut stream, _buf, ack) = raw_connect(&broker, persistent).await;
    assert_eq!(ack.code, ConnectReturnCode::BadClientId);
    assert_closed_within(&mut stream, SOON).await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos2_publish_closes_the_connection() {
    let broker = start(config()).await;
    let mut observer = connect(options(&broker, "observer")).await;
    observer.subscribe("#", QoS::AtLeastOnce).await;
    let (mut stream, _buf, _ack) = raw_connect(&broker, Connect::new("qos2")).await;
    let mut publish = Publish::new("q", QoS::ExactlyOnce, "exactly once?");
    publish.pkid = 7;
    raw_send(&mut stream, Packet::Publish(publish)).await;
    assert_closed_within(&mut stream, SOON).await;
    observer.expect_nothing().await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcard_in_publish_topic_closes_the_connection() {
    let broker = start(config()).await;
    let (mut stream, _buf, _ack) = raw_connect(&broker, Connect::new("bad-topic")).await;
    raw_send(
        &mut stream,
        Packet::Publish(Publish::new("a/+", QoS::AtMostOnce, "x")),
    )
    .await;
    assert_closed_within(&mut stream, SOON).await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_and_subscribe_over_raw_socket() {
    let broker = start(config()).await;
    let (mut stream, mut buf, _ack) = raw_connect(&broker, Connect::new("raw")).await;
    raw_send(&mut stream, Packet::PingReq).await;
    assert_eq!(
        raw_recv(&mut stream, &mut buf).await,
        Some(Packet::PingResp)
    );

    let mut subscribe = Subscribe::new("ok/#", QoS::AtLeastOnce);
    subscribe.add("bad/#/x".to_owned(), QoS::AtMostOnce);
    subscribe.pkid = 9;
    raw_send(&mut stream, Packet::Subscribe(subscribe)).await;
    match raw_recv(&mut stream, &mut buf).await {
        Some(Packet::SubAck(ack)) => {
            assert_eq!(ack.pkid, 9);
            assert_eq!(
                ack.return_codes,
                [
                    rumqttc::SubscribeReasonCode::Success(QoS::AtLeastOnce),
                    rumqttc::SubscribeReasonCode::Failure
                ]
            );
        }
        other => panic!("expected SUBACK, got {other:?}"),
    }

    // Our own QoS 1 publish comes back with a broker-chosen packet id.
    let mut publish = Publish::new("ok/1", QoS::AtLeastOnce, "hi");
    publish.pkid = 42;
    raw_send(&mut stream, Packet::Publish(publish)).await;
    let mut got_puback = false;
    let mut got_publish = false;
    while !(got_puback && got_publish) {
        match raw_recv(&mut stream, &mut buf).await {
            Some(Packet::PubAck(ack)) => {
                assert_eq!(ack.pkid, 42);
                got_puback = true;
            }
            Some(Packet::Publish(p)) => {
                assert_eq!((p.topic.as_str(), p.qos), ("ok/1", QoS::AtLeastOnce));
                assert_ne!(p.pkid, 0);
                got_publish = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // A clean DISCONNECT makes the broker close the socket.
    raw_send(&mut stream, Packet::Disconnect).await;
    assert_closed_within(&mut stream, SOON).await;
    broker.shutdown().await;
}
