//! Publish/subscribe round trips at QoS 0 and 1.

use bytes::Bytes;
use rumqttc::{QoS, SubscribeReasonCode};

use crate::common::{SOON, config, connect, options, start, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos0_and_qos1_round_trip_with_downgrade() {
    let broker = start(config()).await;
    let mut sub1 = connect(options(&broker, "sub-qos1")).await;
    let mut sub0 = connect(options(&broker, "sub-qos0")).await;
    let mut publisher = connect(options(&broker, "pub")).await;

    // QoS 2 requests are granted QoS 1.
    assert_eq!(
        sub1.subscribe("site/+/door", QoS::ExactlyOnce).await,
        SubscribeReasonCode::Success(QoS::AtLeastOnce)
    );
    assert_eq!(
        sub0.subscribe("site/#", QoS::AtMostOnce).await,
        SubscribeReasonCode::Success(QoS::AtMostOnce)
    );

    publisher
        .publish("site/a/door", QoS::AtMostOnce, false, "zero")
        .await;
    let got = sub1.recv().await;
    assert_eq!(
        (got.topic.as_str(), got.qos, &got.payload[..]),
        ("site/a/door", QoS::AtMostOnce, &b"zero"[..])
    );
    assert_eq!(sub0.recv().await.payload, Bytes::from_static(b"zero"));

    publisher.publish_acked("site/b/door", false, "one").await;
    let got = sub1.recv().await;
    assert_eq!(
        (got.topic.as_str(), got.qos, &got.payload[..]),
        ("site/b/door", QoS::AtLeastOnce, &b"one"[..])
    );
    assert!(!got.retain);
    let got = sub0.recv().await;
    assert_eq!(
        got.qos,
        QoS::AtMostOnce,
        "delivered at min(publish QoS, granted QoS)"
    );

    // Not matched by `site/+/door`.
    publisher
        .publish("site/b/window", QoS::AtMostOnce, false, "w")
        .await;
    assert_eq!(sub0.recv().await.topic, "site/b/window");
    sub1.expect_nothing().await;

    assert_eq!(broker.connected_clients(), 3);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_qos1_messages_arrive_in_order() {
    let broker = start(config()).await;
    let mut subscriber = connect(options(&broker, "sink")).await;
    assert_eq!(
        subscriber.subscribe("bulk/data", QoS::AtLeastOnce).await,
        SubscribeReasonCode::Success(QoS::AtLeastOnce)
    );
    let publisher = connect(options(&broker, "source")).await;

    let sender = {
        let client = publisher.client.clone();
        tokio::spawn(async move {
            for i in 0u32..1000 {
                client
                    .publish(
                        "bulk/data",
                        QoS::AtLeastOnce,
                        false,
                        i.to_be_bytes().to_vec(),
                    )
                    .await
                    .expect("queued");
            }
        })
    };
    for expected in 0u32..1000 {
        let got = subscriber
            .recv_within(SOON * 2)
            .await
            .unwrap_or_else(|| panic!("message {expected} missing"));
        assert_eq!(got.qos, QoS::AtLeastOnce);
        let n = u32::from_be_bytes(got.payload[..].try_into().expect("4-byte payload"));
        assert_eq!(n, expected, "messages out of order");
    }
    sender.await.expect("sender finished");
    subscriber.expect_nothing().await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_stops_delivery() {
    let broker = start(config()).await;
    let mut sub = connect(options(&broker, "sub")).await;
    let publisher = connect(options(&broker, "pub")).await;
    sub.subscribe("a/#", QoS::AtMostOnce).await;
    publisher.publish("a/b", QoS::AtMostOnce, false, "1").await;
    assert_eq!(sub.recv().await.payload, Bytes::from_static(b"1"));
    sub.unsubscribe("a/#").await;
    publisher.publish("a/b", QoS::AtMostOnce, false, "2").await;
    sub.expect_nothing().await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dollar_topics_are_not_matched_by_leading_wildcards() {
    let broker = start(config()).await;
    let mut all = connect(options(&broker, "all")).await;
    let mut sys = connect(options(&broker, "sys")).await;
    let publisher = connect(options(&broker, "pub")).await;
    all.subscribe("#", QoS::AtMostOnce).await;
    all.subscribe("+/stats", QoS::AtMostOnce).await;
    sys.subscribe("$internal/#", QoS::AtMostOnce).await;

    publisher
        .publish("$internal/stats", QoS::AtMostOnce, false, "x")
        .await;
    assert_eq!(sys.recv().await.topic, "$internal/stats");
    all.expect_nothing().await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_subscriptions_deliver_once_at_highest_qos() {
    let broker = start(config()).await;
    let mut sub = connect(options(&broker, "sub")).await;
    let publisher = connect(options(&broker, "pub")).await;
    sub.subscribe("x/+", QoS::AtMostOnce).await;
    sub.subscribe("x/#", QoS::AtLeastOnce).await;
    publisher
        .publish("x/y", QoS::AtLeastOnce, false, "once")
        .await;
    assert_eq!(sub.recv().await.qos, QoS::AtLeastOnce);
    sub.expect_nothing().await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_connections_and_stops_listening() {
    let broker = start(config()).await;
    let addr = broker.local_addr();
    let mut a = connect(options(&broker, "a")).await;
    let mut b = connect(options(&broker, "b")).await;
    wait_until("both connected", SOON, || broker.connected_clients() == 2).await;
    broker.shutdown().await;
    a.closed().await;
    b.closed().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener is gone"
    );
}
