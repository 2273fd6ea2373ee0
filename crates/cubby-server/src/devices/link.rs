//! The server's MQTT connection: ingest of what devices publish, and the
//! dispatcher that sends commands and credential caches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cubby_domain::ids::{self, new_id};
use cubby_protocol::cache::{CacheEntry, CredentialCache, CredentialKind};
use cubby_protocol::command::{Action, Command, Outcome, Purpose, Reply};
use cubby_protocol::messages::{
    Envelope, Heartbeat, JournalAck, JournalBatch, StateSnapshot, Status,
};
use cubby_protocol::signing::{parse, sign};
use cubby_protocol::topics::{self, Channel};
use cubby_store::{device_queries, ops};
use ed25519_dalek::SigningKey;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, SubscribeFilter};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{CACHE_LIFETIME_MS, COMMAND_LIFETIME_MS, PENDING_LIMIT_MS, signing_key};
use crate::{AppState, now_ms, os_rng};

/// Where the server's MQTT client connects.
#[derive(Debug, Clone)]
pub struct MqttSettings {
    pub host: String,
    pub port: u16,
    /// None for an external broker that admits the server anonymously.
    pub credentials: Option<(String, String)>,
}

/// Largest journal batch accepted in one message.
const MAX_BATCH: usize = 500;
/// A sent command with no reply is sent again after this long.
const RESEND_AFTER_MS: i64 = 2_000;
/// Caches are re-signed at least this often even when nothing changed.
const CACHE_REFRESH_MS: i64 = 24 * 3600 * 1000;

fn id(prefix: &str) -> String {
    new_id(prefix, &mut os_rng())
}

fn envelope<T>(body: T) -> Envelope<T> {
    Envelope {
        msg_id: id(ids::MESSAGE),
        tx_id: None,
        sent_ms: now_ms(),
        body,
    }
}

/// Connects to the broker and runs the link until the process ends.
pub async fn start(state: AppState, settings: MqttSettings) -> anyhow::Result<()> {
    reload_credentials(&state).await?;
    let mut opts = MqttOptions::new(id("cubby-server"), settings.host.clone(), settings.port);
    opts.set_keep_alive(Duration::from_secs(10));
    opts.set_clean_session(true);
    opts.set_max_packet_size(
        cubby_protocol::MAX_MESSAGE_BYTES,
        cubby_protocol::MAX_MESSAGE_BYTES,
    );
    if let Some((user, pass)) = &settings.credentials {
        opts.set_credentials(user.clone(), pass.clone());
    }
    let (client, mut eventloop) = AsyncClient::new(opts, 10_000);
    let (tx, rx) = mpsc::channel::<(String, bytes::Bytes)>(10_000);
    let key = Arc::new(signing_key(&state.secret));

    let sub_client = client.clone();
    let hub = state.devices.clone();
    let connected = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let connected_loop = connected.clone();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    let filters = topics::server_subscriptions()
                        .into_iter()
                        .map(|f| SubscribeFilter::new(f, QoS::AtLeastOnce));
                    if let Err(e) = sub_client.try_subscribe_many(filters) {
                        tracing::warn!("subscribing to device topics failed: {e}");
                    }
                    connected_loop.store(true, std::sync::atomic::Ordering::SeqCst);
                    // After a broker restart retained caches are gone: publish again.
                    hub.poke();
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if tx.send((p.topic.clone(), p.payload.clone())).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    connected_loop.store(false, std::sync::atomic::Ordering::SeqCst);
                    tracing::warn!("device link: {e}; reconnecting");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    });
    tokio::spawn(handle_incoming(state.clone(), client.clone(), rx));
    tokio::spawn(dispatch(state, client, key, connected));
    Ok(())
}

async fn reload_credentials(state: &AppState) -> anyhow::Result<()> {
    let mut conn = state.store.reader().await?;
    let all = device_queries::device_credentials(&mut conn).await?;
    state
        .devices
        .set_credentials(all.into_iter().map(|d| (d.id, d.secret_mac)).collect());
    Ok(())
}

/// Handles device messages one at a time, in arrival order (which keeps one
/// device's journal batches in order).
async fn handle_incoming(
    state: AppState,
    client: AsyncClient,
    mut rx: mpsc::Receiver<(String, bytes::Bytes)>,
) {
    while let Some((topic, payload)) = rx.recv().await {
        let Some((device, channel)) = topics::parse(&topic) else {
            continue;
        };
        let device = device.to_string();
        if let Err(e) = handle_one(&state, &client, &device, channel, &payload).await {
            tracing::warn!("message from {device} on {}: {e}", channel.as_str());
        }
    }
}

async fn handle_one(
    state: &AppState,
    client: &AsyncClient,
    device: &str,
    channel: Channel,
    payload: &[u8],
) -> anyhow::Result<()> {
    let now = now_ms();
    match channel {
        Channel::Journal => {
            let batch: Envelope<JournalBatch> = parse(payload)?;
            anyhow::ensure!(batch.body.entries.len() <= MAX_BATCH, "batch too large");
            let dev = device.to_string();
            let entries = batch.body.entries;
            let result = state
                .store
                .transact(move |conn| {
                    Box::pin(async move {
                        ops::ingest_journal(conn, &dev, &entries, now, || id(ids::INCIDENT)).await
                    })
                })
                .await?;
            // Only now, after the commit, is the batch acknowledged.
            let ack = envelope(JournalAck {
                up_to_seq: result.up_to_seq,
                resend_from: result.resend_from,
            });
            client.try_publish(
                topics::topic(device, Channel::Ack),
                QoS::AtLeastOnce,
                false,
                serde_json::to_vec(&ack)?,
            )?;
            if result.stored > 0 {
                // Pick-ups change what the cache must hold.
                state.devices.poke();
            }
        }
        Channel::Reply => {
            let reply: Envelope<Reply> = parse(payload)?;
            let Some(cmd_id) = reply.body.cmd_id.clone() else {
                return Ok(());
            };
            let (status, detail) = match &reply.body.outcome {
                Outcome::Done => ("done", String::new()),
                Outcome::Rejected { reason } => ("rejected", reason.as_str().to_string()),
                Outcome::Refused { reason } => ("refused", reason.clone()),
                Outcome::Failed { reason } => ("failed", reason.clone()),
            };
            let dev = device.to_string();
            state
                .store
                .transact(move |conn| {
                    Box::pin(async move {
                        ops::command_answered(
                            conn,
                            &cmd_id,
                            &dev,
                            status,
                            &detail,
                            id(ids::INCIDENT),
                            now,
                        )
                        .await
                    })
                })
                .await?;
        }
        Channel::Status => {
            let status: Status = parse(payload)?;
            anyhow::ensure!(status.device_id == device, "status for another device");
            let dev = device.to_string();
            state
                .store
                .transact(move |conn| {
                    Box::pin(
                        async move { ops::set_device_online(conn, &dev, status.online, now).await },
                    )
                })
                .await?;
            if status.online {
                state.devices.poke();
            }
        }
        Channel::State => {
            let snap: Envelope<StateSnapshot> = parse(payload)?;
            anyhow::ensure!(snap.body.device_id == device, "state of another device");
            let json = serde_json::to_string(&snap.body)?;
            let dev = device.to_string();
            state
                .store
                .transact(move |conn| {
                    Box::pin(async move { ops::save_device_state(conn, &dev, &json, now).await })
                })
                .await?;
        }
        Channel::Heartbeat => {
            let _beat: Envelope<Heartbeat> = parse(payload)?;
            let dev = device.to_string();
            state
                .store
                .transact(move |conn| {
                    Box::pin(async move { ops::touch_device(conn, &dev, now).await })
                })
                .await?;
        }
        Channel::Cmd | Channel::Ack | Channel::Cache => {}
    }
    Ok(())
}

/// What was last published as a device's cache.
struct Published {
    fingerprint: [u8; 32],
    at_ms: i64,
}

/// Sends commands and caches; woken by [`super::DeviceHub::poke`] or every 300 ms.
async fn dispatch(
    state: AppState,
    client: AsyncClient,
    key: Arc<SigningKey>,
    connected: Arc<std::sync::atomic::AtomicBool>,
) {
    let mut caches: HashMap<String, Published> = HashMap::new();
    let mut was_connected = false;
    loop {
        tokio::select! {
            _ = state.devices.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(300)) => {}
        }
        let is_connected = connected.load(std::sync::atomic::Ordering::SeqCst);
        if !is_connected {
            was_connected = false;
            continue;
        }
        if !was_connected {
            // A new connection (perhaps to a restarted broker): republish caches.
            caches.clear();
            was_connected = true;
        }
        if let Err(e) = send_commands(&state, &client, &key).await {
            tracing::warn!("dispatching commands: {e}");
        }
        if let Err(e) = publish_caches(&state, &client, &key, &mut caches).await {
            tracing::warn!("publishing credential caches: {e}");
        }
    }
}

async fn send_commands(
    state: &AppState,
    client: &AsyncClient,
    key: &Arc<SigningKey>,
) -> anyhow::Result<()> {
    let now = now_ms();
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                ops::expire_commands(conn, now, PENDING_LIMIT_MS, || id(ids::INCIDENT)).await
            })
        })
        .await?;
    let open = {
        let mut conn = state.store.reader().await?;
        ops::open_commands(&mut conn).await?
    };
    for cmd in open {
        let topic = topics::topic(&cmd.device_id, Channel::Cmd);
        if cmd.status == "pending" {
            let online = {
                let mut conn = state.store.reader().await?;
                device_queries::device(&mut conn, &cmd.device_id)
                    .await?
                    .is_some_and(|d| d.online)
            };
            if !online {
                continue;
            }
            let purpose = match cmd.purpose.as_str() {
                "deposit" => Purpose::Deposit,
                "return" => Purpose::Return,
                _ => Purpose::Staff,
            };
            let key = key.clone();
            let c = cmd.clone();
            let signed = state
                .store
                .transact(move |conn| {
                    Box::pin(async move {
                        let seq = ops::next_command_seq(conn, &c.device_id).await?;
                        let command = Command {
                            device_id: c.device_id.clone(),
                            cmd_id: c.cmd_id.clone(),
                            tx_id: c.tx_id.clone(),
                            seq,
                            issued_ms: now,
                            expires_ms: now + COMMAND_LIFETIME_MS,
                            action: Action::Unlock {
                                compartment: c.compartment_label.clone(),
                                purpose,
                            },
                        };
                        let signed =
                            serde_json::to_string(&sign(&key, &command)).unwrap_or_default();
                        ops::mark_command_sent(
                            conn,
                            &c.cmd_id,
                            Some((seq, command.expires_ms, &signed)),
                            now,
                        )
                        .await?;
                        Ok(signed)
                    })
                })
                .await?;
            client.try_publish(topic, QoS::AtLeastOnce, false, signed.into_bytes())?;
        } else if let (Some(signed), Some(expires)) = (&cmd.signed, cmd.expires_ms)
            && now - cmd.updated_ms >= RESEND_AFTER_MS
            && now < expires
        {
            // The same signed command again: the device answers a redelivery
            // without moving anything, so retrying is safe.
            let cmd_id = cmd.cmd_id.clone();
            state
                .store
                .transact(move |conn| {
                    Box::pin(async move { ops::mark_command_sent(conn, &cmd_id, None, now).await })
                })
                .await?;
            client.try_publish(topic, QoS::AtLeastOnce, false, signed.clone().into_bytes())?;
        }
    }
    Ok(())
}

async fn publish_caches(
    state: &AppState,
    client: &AsyncClient,
    key: &Arc<SigningKey>,
    published: &mut HashMap<String, Published>,
) -> anyhow::Result<()> {
    let now = now_ms();
    let devices = {
        let mut conn = state.store.reader().await?;
        device_queries::active_device_ids(&mut conn).await?
    };
    for (device_id, locker_id, journal_seq) in devices {
        let (labels, creds) = {
            let mut conn = state.store.reader().await?;
            (
                device_queries::compartment_labels(&mut conn, &locker_id).await?,
                device_queries::cache_credentials(&mut conn, &locker_id).await?,
            )
        };
        let entries: Vec<CacheEntry> = creds
            .into_iter()
            .map(|c| CacheEntry {
                credential_id: c.id,
                kind: if c.kind == "qr" {
                    CredentialKind::Qr
                } else {
                    CredentialKind::Keypad
                },
                mac: hex::encode(c.local_mac),
                compartments: c.compartments,
            })
            .collect();
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&(&labels, &entries)).unwrap_or_default());
        let fingerprint: [u8; 32] = h.finalize().into();
        if published
            .get(&device_id)
            .is_some_and(|p| p.fingerprint == fingerprint && now - p.at_ms < CACHE_REFRESH_MS)
        {
            continue;
        }
        let dev = device_id.clone();
        let version = state
            .store
            .transact(move |conn| {
                Box::pin(async move { ops::next_cache_version(conn, &dev).await })
            })
            .await?;
        let cache = CredentialCache {
            device_id: device_id.clone(),
            version,
            issued_ms: now,
            expires_ms: now + CACHE_LIFETIME_MS,
            journal_seq,
            compartments: labels,
            entries,
        };
        let signed = sign(key, &cache);
        client.try_publish(
            topics::topic(&device_id, Channel::Cache),
            QoS::AtLeastOnce,
            true,
            serde_json::to_vec(&signed)?,
        )?;
        published.insert(
            device_id,
            Published {
                fingerprint,
                at_ms: now,
            },
        );
    }
    Ok(())
}
