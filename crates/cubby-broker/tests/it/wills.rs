//! Last will and testament, keepalive and client-id takeover.

use std::time::Duration;

use bytes::Bytes;
use rumqttc::mqttbytes::v4::{Connect, LastWill as RawWill};
use rumqttc::{ConnectReturnCode, LastWill, QoS};
use tokio::time::Instant;

use crate::common::{
    SOON, assert_closed_within, config, connect, options, raw_connect, start, wait_until,
};

fn will(topic: &str, payload: &str, retain: bool) -> LastWill {
    LastWill::new(topic, payload, QoS::AtLeastOnce, retain)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_published_on_abrupt_close_honouring_retain() {
    let broker = start(config()).await;
    let mut observer = connect(options(&broker, "observer")).await;
    observer.subscribe("status/#", QoS::AtLeastOnce).await;

    let mut opts = options(&broker, "dev-1");
    opts.set_last_will(will("status/dev-1", "offline", true));
    let device = connect(opts).await;
    device
        .publish("status/dev-1", QoS::AtLeastOnce, true, "online")
        .await;
    assert_eq!(observer.recv().await.payload, Bytes::from_static(b"online"));

    device.kill().await;
    let got = observer.recv().await;
    assert_eq!(
        (got.topic.as_str(), &got.payload[..]),
        ("status/dev-1", &b"offline"[..])
    );
    assert_eq!(got.qos, QoS::AtLeastOnce, "will QoS honoured");
    wait_until("device gone", SOON, || broker.connected_clients() == 1).await;

    // Will retain honoured: a later subscriber sees "offline", not "online".
    let mut late = connect(options(&broker, "late")).await;
    late.subscribe("status/#", QoS::AtLeastOnce).await;
    let retained = late.recv().await;
    assert_eq!(retained.payload, Bytes::from_static(b"offline"));
    assert!(retained.retain);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_not_published_on_clean_disconnect() {
    let broker = start(config()).await;
    let mut observer = connect(options(&broker, "observer")).await;
    observer.subscribe("status/#", QoS::AtMostOnce).await;
    let mut opts = options(&broker, "dev-1");
    opts.set_last_will(will("status/dev-1", "offline", false));
    let device = connect(opts).await;
    wait_until("device connected", SOON, || broker.connected_clients() == 2).await;

    device.disconnect().await;
    wait_until("device gone", SOON, || broker.connected_clients() == 1).await;
    observer.expect_nothing().await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_expiry_publishes_will_and_closes() {
    let broker = start(config()).await;
    let mut observer = connect(options(&broker, "observer")).await;
    observer.subscribe("status/#", QoS::AtMostOnce).await;

    // A raw client that connects with a 1 s keepalive and then goes silent
    // while keeping the socket open (a hung device).
    let mut connect_packet = Connect::new("silent");
    connect_packet.keep_alive = 1;
    connect_packet.last_will = Some(RawWill::new(
        "status/silent",
        "offline",
        QoS::AtMostOnce,
        false,
    ));
    let started = Instant::now();
    let (mut stream, _buf, ack) = raw_connect(&broker, connect_packet).await;
    assert_eq!(ack.code, ConnectReturnCode::Success);

    let got = observer.recv().await;
    assert_eq!(got.payload, Bytes::from_static(b"offline"));
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1400),
        "expired too early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(4),
        "expired too late: {elapsed:?}"
    );
    assert_closed_within(&mut stream, SOON).await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_keep_a_quiet_client_alive() {
    let broker = start(config()).await;
    let mut opts = options(&broker, "pinger");
    opts.set_keep_alive(Duration::from_secs(1));
    let mut client = connect(opts).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        broker.connected_clients(),
        1,
        "PINGREQ/PINGRESP kept the connection"
    );
    client.expect_nothing().await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takeover_closes_old_connection_without_its_will() {
    let broker = start(config()).await;
    let mut observer = connect(options(&broker, "observer")).await;
    observer.subscribe("status/#", QoS::AtLeastOnce).await;

    let mut opts = options(&broker, "dev-1");
    opts.set_last_will(will("status/dev-1", "offline", true));
    let mut old = connect(opts.clone()).await;
    wait_until("old connected", SOON, || broker.connected_clients() == 2).await;

    let fresh = connect(opts).await;
    old.closed().await;
    fresh
        .publish("status/dev-1", QoS::AtLeastOnce, true, "online")
        .await;
    let got = observer.recv().await;
    assert_eq!(
        got.payload,
        Bytes::from_static(b"online"),
        "the old will must not be published"
    );
    observer.expect_nothing().await;
    assert_eq!(broker.connected_clients(), 2);

    // The new connection's own will still works.
    fresh.kill().await;
    assert_eq!(
        observer.recv().await.payload,
        Bytes::from_static(b"offline")
    );
    broker.shutdown().await;
}
