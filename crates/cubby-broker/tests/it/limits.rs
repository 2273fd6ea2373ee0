//! Resource limits: packet size, slow consumers, publish rate, connection count.

use std::time::Duration;

use bytes::Bytes;
use cubby_broker::BrokerConfig;
use rumqttc::{Event, LastWill, Packet, QoS};
use tokio::time::timeout;

use crate::common::{Client, SOON, config, connect, connect_eventloop, options, start, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_packet_disconnects_and_publishes_will() {
    let broker = start(BrokerConfig {
        max_packet_bytes: 1024,
        ..config()
    })
    .await;
    let mut observer = connect(options(&broker, "observer")).await;
    observer.subscribe("#", QoS::AtMostOnce).await;
    let mut opts = options(&broker, "big");
    opts.set_last_will(LastWill::new(
        "status/big",
        "offline",
        QoS::AtMostOnce,
        false,
    ));
    let mut big = connect(opts).await;

    big.publish("data", QoS::AtMostOnce, false, vec![0u8; 900])
        .await; // fits
    assert_eq!(observer.recv().await.payload.len(), 900);
    big.publish("data", QoS::AtMostOnce, false, vec![0u8; 4096])
        .await; // does not
    big.closed().await;
    let will = observer.recv().await;
    assert_eq!(will.topic, "status/big");
    observer.expect_nothing().await;
    assert_eq!(broker.connected_clients(), 1);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_subscriber_is_disconnected_while_fast_one_gets_everything() {
    let broker = start(BrokerConfig {
        client_queue: 32,
        ..config()
    })
    .await;
    let mut fast = connect(options(&broker, "fast")).await;
    fast.subscribe("load", QoS::AtMostOnce).await;

    // The slow subscriber subscribes, then never polls its event loop again, so
    // nothing reads its socket.
    let (slow_client, mut slow_loop) = connect_eventloop(options(&broker, "slow"))
        .await
        .expect("slow connects");
    slow_client
        .subscribe("load", QoS::AtMostOnce)
        .await
        .expect("queued");
    timeout(SOON, async {
        loop {
            if let Event::Incoming(Packet::SubAck(_)) = slow_loop.poll().await.expect("slow alive")
            {
                break;
            }
        }
    })
    .await
    .expect("slow SUBACK");

    let publisher = connect(options(&broker, "pub")).await;
    wait_until("all connected", SOON, || broker.connected_clients() == 3).await;

    // Publish 32 KiB messages one at a time; the fast subscriber must get each
    // one. Kernel socket buffers absorb a few MiB before the broker-side queue
    // of the slow subscriber starts to fill.
    let mut payload = vec![0xA5u8; 32 * 1024];
    let mut slow_gone_at = None;
    let mut sent = 0u32;
    while sent < 4000 {
        payload[..4].copy_from_slice(&sent.to_be_bytes());
        publisher
            .publish("load", QoS::AtMostOnce, false, payload.clone())
            .await;
        let got = fast.recv().await;
        assert_eq!(
            &got.payload[..4],
            &sent.to_be_bytes(),
            "fast subscriber missed a message"
        );
        sent += 1;
        match slow_gone_at {
            None if broker.connected_clients() == 2 => slow_gone_at = Some(sent),
            // Keep going a little to show the others are unaffected afterwards.
            Some(at) if sent >= at + 50 => break,
            _ => {}
        }
    }
    let at = slow_gone_at.expect("slow subscriber was never disconnected");
    assert!(
        sent > at,
        "publishing continued after the slow subscriber was dropped"
    );

    // The slow client's connection is dead: after draining what was buffered,
    // its event loop reports an error.
    let drained = timeout(Duration::from_secs(20), async {
        loop {
            if slow_loop.poll().await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "slow client's connection should be closed");
    drop(slow_client);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_rate_cap_disconnects_flooder() {
    let broker = start(BrokerConfig {
        publish_rate_per_sec: Some(5),
        ..config()
    })
    .await;
    let mut observer = connect(options(&broker, "observer")).await;
    observer.subscribe("rate/#", QoS::AtMostOnce).await;

    let mut polite = connect(options(&broker, "polite")).await;
    for i in 0..3u8 {
        polite.publish_acked("rate/polite", false, vec![i]).await;
    }

    let mut flooder = connect(options(&broker, "flooder")).await;
    for i in 0..50u8 {
        flooder
            .publish("rate/flood", QoS::AtMostOnce, false, vec![i])
            .await;
    }
    flooder.closed().await;

    // The burst allowance (one second's worth) got through, the rest did not.
    let mut flood_seen = 0;
    let mut polite_seen = 0;
    while let Some(p) = observer.recv_within(Duration::from_millis(300)).await {
        match p.topic.as_str() {
            "rate/flood" => flood_seen += 1,
            _ => polite_seen += 1,
        }
    }
    assert_eq!(polite_seen, 3);
    assert!(
        (1..=6).contains(&flood_seen),
        "flood messages delivered: {flood_seen}"
    );
    assert_eq!(
        broker.connected_clients(),
        2,
        "polite client stays connected"
    );
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limit_is_enforced() {
    let broker = start(BrokerConfig {
        max_connections: 2,
        ..config()
    })
    .await;
    let first = connect(options(&broker, "one")).await;
    let _second = connect(options(&broker, "two")).await;
    assert!(
        connect_eventloop(options(&broker, "three")).await.is_err(),
        "third connection refused"
    );

    first.disconnect().await;
    // The slot is released shortly after the session ends.
    let mut admitted = None;
    for _ in 0..50 {
        if let Ok((client, eventloop)) = connect_eventloop(options(&broker, "three")).await {
            admitted = Some(Client::spawn(client, eventloop));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(admitted.is_some(), "a slot frees up after a disconnect");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qos1_backlog_beyond_inflight_window_is_delivered() {
    // The subscriber acks slowly relative to the window; everything still arrives.
    let broker = start(BrokerConfig {
        max_inflight: 2,
        ..config()
    })
    .await;
    let mut sub = connect(options(&broker, "sub")).await;
    sub.subscribe("w", QoS::AtLeastOnce).await;
    let publisher = connect(options(&broker, "pub")).await;
    for i in 0..100u8 {
        publisher
            .publish("w", QoS::AtLeastOnce, false, vec![i])
            .await;
    }
    for i in 0..100u8 {
        assert_eq!(sub.recv().await.payload, Bytes::from(vec![i]));
    }
    broker.shutdown().await;
}
