//! Retained messages.

use bytes::Bytes;
use rumqttc::QoS;

use crate::common::{config, connect, options, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_delivered_on_subscribe_and_deleted_by_empty_payload() {
    let broker = start(config()).await;
    let mut publisher = connect(options(&broker, "pub")).await;
    publisher.publish_acked("locker/1/state", true, "old").await;
    publisher
        .publish_acked("locker/1/state", true, "closed")
        .await; // latest wins
    publisher
        .publish_acked("locker/2/state", true, "open")
        .await;
    publisher
        .publish_acked("locker/2/volatile", false, "not retained")
        .await;

    let mut late = connect(options(&broker, "late")).await;
    late.subscribe("locker/+/state", QoS::AtLeastOnce).await;
    let mut got = [late.recv().await, late.recv().await];
    got.sort_by(|a, b| a.topic.cmp(&b.topic));
    assert_eq!(got[0].topic, "locker/1/state");
    assert_eq!(got[0].payload, Bytes::from_static(b"closed"));
    assert_eq!(got[1].payload, Bytes::from_static(b"open"));
    assert!(
        got.iter().all(|p| p.retain),
        "retained deliveries carry the retain flag"
    );
    assert!(got.iter().all(|p| p.qos == QoS::AtLeastOnce));
    late.expect_nothing().await;

    // A live retained publish reaches existing subscribers without the flag.
    publisher
        .publish_acked("locker/1/state", true, "open")
        .await;
    let live = late.recv().await;
    assert_eq!(live.payload, Bytes::from_static(b"open"));
    assert!(!live.retain);

    // Empty payload deletes (and is still forwarded to current subscribers).
    publisher
        .publish_acked("locker/1/state", true, Vec::new())
        .await;
    assert!(late.recv().await.payload.is_empty());

    let mut later = connect(options(&broker, "later")).await;
    later.subscribe("locker/#", QoS::AtMostOnce).await;
    let only = later.recv().await;
    assert_eq!(only.topic, "locker/2/state", "deleted topic is gone");
    assert_eq!(only.qos, QoS::AtMostOnce, "downgraded to the granted QoS");
    later.expect_nothing().await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_store_is_bounded() {
    let broker = start(cubby_broker::BrokerConfig {
        max_retained: 2,
        ..config()
    })
    .await;
    let mut publisher = connect(options(&broker, "pub")).await;
    for topic in ["r/a", "r/b", "r/c"] {
        publisher.publish_acked(topic, true, "v").await;
    }
    let mut sub = connect(options(&broker, "sub")).await;
    sub.subscribe("r/#", QoS::AtMostOnce).await;
    let mut topics = [sub.recv().await.topic, sub.recv().await.topic];
    topics.sort();
    assert_eq!(topics, ["r/a", "r/b"]);
    sub.expect_nothing().await;
    broker.shutdown().await;
}
