//! Authentication and ACLs through the `Authorizer` callback.

use std::sync::Arc;

use bytes::Bytes;
use cubby_broker::{Authorizer, topic_matches};
use rumqttc::{ConnectReturnCode, ConnectionError, LastWill, QoS, SubscribeReasonCode};

use crate::common::{SOON, config, connect, connect_eventloop, options, start_with, wait_until};

/// Devices authenticate as `dev-N` with password `dev-N-secret` and must use
/// their principal as client id; each is confined to `cubby/v1/dev/<id>/#`.
/// The principal `server` may do anything.
struct FleetAuth;

impl FleetAuth {
    fn prefix(principal: &str) -> String {
        format!("cubby/v1/dev/{principal}")
    }
}

impl Authorizer for FleetAuth {
    fn authenticate(
        &self,
        client_id: &str,
        username: Option<&str>,
        password: Option<&[u8]>,
    ) -> Result<String, ()> {
        match (username, password) {
            (Some("server"), Some(b"server-secret")) => Ok("server".to_owned()),
            (Some(user), Some(password))
                if user.starts_with("dev-")
                    && client_id == user
                    && password == format!("{user}-secret").as_bytes() =>
            {
                Ok(user.to_owned())
            }
            _ => Err(()),
        }
    }

    fn may_publish(&self, principal: &str, topic: &str) -> bool {
        principal == "server" || topic_matches(&format!("{}/#", Self::prefix(principal)), topic)
    }

    fn may_subscribe(&self, principal: &str, filter: &str) -> bool {
        let prefix = Self::prefix(principal);
        principal == "server"
            || filter == prefix
            || filter
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

fn fleet_options(
    broker: &cubby_broker::BrokerHandle,
    user: &str,
    password: &str,
) -> rumqttc::MqttOptions {
    let mut opts = options(broker, user);
    opts.set_credentials(user, password);
    opts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_are_refused_with_connack_code() {
    let broker = start_with(config(), Arc::new(FleetAuth)).await;

    let refused = connect_eventloop(fleet_options(&broker, "dev-1", "wrong"))
        .await
        .err();
    assert!(
        matches!(
            refused,
            Some(ConnectionError::ConnectionRefused(
                ConnectReturnCode::BadUserNamePassword
            ))
        ),
        "got {refused:?}"
    );
    let anonymous = connect_eventloop(options(&broker, "dev-1")).await.err();
    assert!(
        matches!(
            anonymous,
            Some(ConnectionError::ConnectionRefused(
                ConnectReturnCode::NotAuthorized
            ))
        ),
        "got {anonymous:?}"
    );
    // A device may not use somebody else's client id (it would take them over).
    let mut impostor = options(&broker, "dev-2");
    impostor.set_credentials("dev-1", "dev-1-secret");
    assert!(connect_eventloop(impostor).await.is_err());
    assert_eq!(broker.connected_clients(), 0);

    let _ok = connect(fleet_options(&broker, "dev-1", "dev-1-secret")).await;
    wait_until("admitted", SOON, || broker.connected_clients() == 1).await;
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_confines_a_device_to_its_prefix() {
    let broker = start_with(config(), Arc::new(FleetAuth)).await;
    let mut server = connect(fleet_options(&broker, "server", "server-secret")).await;
    assert_eq!(
        server.subscribe("cubby/v1/dev/#", QoS::AtLeastOnce).await,
        SubscribeReasonCode::Success(QoS::AtLeastOnce)
    );
    let mut dev1 = connect(fleet_options(&broker, "dev-1", "dev-1-secret")).await;

    // Subscriptions outside the prefix are refused with 0x80, inside granted.
    assert_eq!(
        dev1.subscribe("cubby/v1/dev/dev-2/#", QoS::AtLeastOnce)
            .await,
        SubscribeReasonCode::Failure
    );
    assert_eq!(
        dev1.subscribe("#", QoS::AtLeastOnce).await,
        SubscribeReasonCode::Failure
    );
    assert_eq!(
        dev1.subscribe("cubby/v1/dev/+/cmd", QoS::AtLeastOnce).await,
        SubscribeReasonCode::Failure
    );
    assert_eq!(
        dev1.subscribe("cubby/v1/dev/dev-10/#", QoS::AtLeastOnce)
            .await,
        SubscribeReasonCode::Failure
    );
    assert_eq!(
        dev1.subscribe("cubby/v1/dev/dev-1/cmd/#", QoS::AtLeastOnce)
            .await,
        SubscribeReasonCode::Success(QoS::AtLeastOnce)
    );

    // A denied QoS 1 publish is still acknowledged (Mosquitto behaviour) but dropped.
    dev1.publish_acked("cubby/v1/dev/dev-2/status", false, "spoofed")
        .await;
    dev1.publish(
        "cubby/v1/dev/dev-3/status",
        QoS::AtMostOnce,
        false,
        "spoofed",
    )
    .await;
    // An allowed publish goes through, proving the connection is still up and
    // that the denied messages (sent earlier on the same connection) never arrived.
    dev1.publish_acked("cubby/v1/dev/dev-1/status", false, "ok")
        .await;
    let got = server.recv().await;
    assert_eq!(
        (got.topic.as_str(), &got.payload[..]),
        ("cubby/v1/dev/dev-1/status", &b"ok"[..])
    );
    server.expect_nothing().await;

    // Commands to dev-1 reach it; commands to others do not.
    server
        .publish_acked("cubby/v1/dev/dev-2/cmd/open", false, "x")
        .await;
    server
        .publish_acked("cubby/v1/dev/dev-1/cmd/open", false, "door 3")
        .await;
    assert_eq!(dev1.recv().await.payload, Bytes::from_static(b"door 3"));
    dev1.expect_nothing().await;
    assert_eq!(broker.connected_clients(), 2);
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_topic_outside_acl_refuses_connection() {
    let broker = start_with(config(), Arc::new(FleetAuth)).await;
    let mut opts = fleet_options(&broker, "dev-1", "dev-1-secret");
    opts.set_last_will(LastWill::new(
        "cubby/v1/dev/dev-2/status",
        "offline",
        QoS::AtLeastOnce,
        true,
    ));
    let refused = connect_eventloop(opts).await.err();
    assert!(
        matches!(
            refused,
            Some(ConnectionError::ConnectionRefused(
                ConnectReturnCode::NotAuthorized
            ))
        ),
        "got {refused:?}"
    );
    broker.shutdown().await;
}

/// Allows everything except that publishing to `boom` panics inside the callback.
struct PanickyAuth;

impl Authorizer for PanickyAuth {
    fn authenticate(
        &self,
        client_id: &str,
        _: Option<&str>,
        _: Option<&[u8]>,
    ) -> Result<String, ()> {
        Ok(client_id.to_owned())
    }

    fn may_publish(&self, _principal: &str, topic: &str) -> bool {
        assert_ne!(topic, "boom", "authorizer bug (intentional, from a test)");
        true
    }

    fn may_subscribe(&self, _principal: &str, _filter: &str) -> bool {
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_authorizer_only_takes_down_that_connection() {
    let broker = start_with(config(), Arc::new(PanickyAuth)).await;
    let mut observer = connect(options(&broker, "observer")).await;
    observer.subscribe("status/#", QoS::AtLeastOnce).await;
    let mut opts = options(&broker, "victim");
    opts.set_last_will(LastWill::new(
        "status/victim",
        "offline",
        QoS::AtLeastOnce,
        false,
    ));
    let mut victim = connect(opts).await;
    wait_until("both connected", SOON, || broker.connected_clients() == 2).await;

    victim.publish("boom", QoS::AtMostOnce, false, "x").await;
    victim.closed().await;
    // The session is unregistered (no ghost) and, as for a crash, the will goes out.
    assert_eq!(
        observer.recv().await.payload,
        Bytes::from_static(b"offline")
    );
    wait_until("victim unregistered", SOON, || {
        broker.connected_clients() == 1
    })
    .await;
    let mut other = connect(options(&broker, "other")).await;
    other
        .publish_acked("status/other", false, "still serving")
        .await;
    assert_eq!(
        observer.recv().await.payload,
        Bytes::from_static(b"still serving")
    );
    broker.shutdown().await;
}
