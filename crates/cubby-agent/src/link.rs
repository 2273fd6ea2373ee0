//! The agent's MQTT connection. It only moves bytes: every decision is the
//! engine's. Losing the connection changes nothing at the locker.

use std::time::Duration;

use cubby_protocol::messages::Status;
use cubby_protocol::topics::{self, Channel};
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS, SubscribeFilter};
use tokio::sync::mpsc;

use crate::AgentConfig;
use crate::engine::{Input, Output};

pub async fn run(
    config: AgentConfig,
    inputs: mpsc::Sender<Input>,
    mut outputs: mpsc::Receiver<Output>,
) {
    let id = config.identity.device_id.clone();
    let mut opts = MqttOptions::new(id.clone(), config.mqtt_host.clone(), config.mqtt_port);
    opts.set_keep_alive(Duration::from_secs(5));
    opts.set_clean_session(true);
    opts.set_credentials(id.clone(), config.identity.secret.clone());
    opts.set_max_packet_size(
        cubby_protocol::MAX_MESSAGE_BYTES,
        cubby_protocol::MAX_MESSAGE_BYTES,
    );
    let offline = serde_json::to_vec(&Status {
        device_id: id.clone(),
        online: false,
    })
    .unwrap_or_default();
    opts.set_last_will(LastWill::new(
        topics::topic(&id, Channel::Status),
        offline,
        QoS::AtLeastOnce,
        true,
    ));
    let (client, mut eventloop) = AsyncClient::new(opts, 1024);

    // Outgoing: engine → broker. Publishing only queues into the client.
    let out_client = client.clone();
    let out_id = id.clone();
    tokio::spawn(async move {
        while let Some(o) = outputs.recv().await {
            let (channel, retain, body) = match o {
                Output::Reply(b) => (Channel::Reply, false, b),
                Output::Journal(b) => (Channel::Journal, false, b),
                Output::State(b) => (Channel::State, true, b),
                Output::Heartbeat(b) => (Channel::Heartbeat, false, b),
            };
            // Heartbeats are liveness only: losing one costs nothing.
            let qos = if channel == Channel::Heartbeat {
                QoS::AtMostOnce
            } else {
                QoS::AtLeastOnce
            };
            let _ = out_client.try_publish(topics::topic(&out_id, channel), qos, retain, body);
        }
    });

    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                tracing::info!("connected to the broker");
                let filters = [Channel::Cmd, Channel::Ack, Channel::Cache]
                    .into_iter()
                    .map(|c| SubscribeFilter::new(topics::topic(&id, c), QoS::AtLeastOnce));
                let _ = client.try_subscribe_many(filters);
                let online = serde_json::to_vec(&Status {
                    device_id: id.clone(),
                    online: true,
                })
                .unwrap_or_default();
                let _ = client.try_publish(
                    topics::topic(&id, Channel::Status),
                    QoS::AtLeastOnce,
                    true,
                    online,
                );
                let _ = inputs.send(Input::Connected(true)).await;
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let input = match topics::parse(&p.topic) {
                    Some((d, Channel::Cmd)) if d == id => Input::Command(p.payload.to_vec()),
                    Some((d, Channel::Cache)) if d == id => Input::Cache(p.payload.to_vec()),
                    Some((d, Channel::Ack)) if d == id => Input::Ack(p.payload.to_vec()),
                    _ => continue,
                };
                if inputs.send(input).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!("broker connection: {e}");
                let _ = inputs.send(Input::Connected(false)).await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
