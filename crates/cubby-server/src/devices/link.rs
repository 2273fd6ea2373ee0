//! The server's MQTT connection: ingest of what devices publish, and the
//! dispatcher that sends commands and credential caches.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use cubby_domain::ids::{self, new_id};
use cubby_domain::model::CompartmentStatus;
use cubby_protocol::cache::{
    AwaitingCarrier, CacheEntry, CompartmentSpec, CourierPass, CredentialCache, CredentialKind,
    DoorGrant, DoorSpec, ExpectedDropOff, ExpectedParcel, tracking_mac,
};
use cubby_protocol::command::{Action, Command, Outcome, Purpose, Reply};
use cubby_protocol::messages::{
    Envelope, Heartbeat, JournalAck, JournalBatch, StateSnapshot, Status,
};
use cubby_protocol::signing::{parse, sign};
use cubby_protocol::topics::{self, Channel};
use cubby_store as db;
use ed25519_dalek::SigningKey;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, SubscribeFilter};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{COMMAND_LIFETIME_MS, PENDING_LIMIT_MS, signing_key};
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
/// Every cache is rebuilt this often, whether or not a change was marked:
/// passes expire and pre-advice ages without anyone saying so.
const CACHE_SWEEP: Duration = Duration::from_secs(30);

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

/// Ids and fresh pick-up credentials for journal ingest.
struct Hooks<'a>(&'a AppState);

impl db::devices::IngestHooks for Hooks<'_> {
    fn new_id(&mut self) -> String {
        id(ids::INCIDENT)
    }
    fn new_message_id(&mut self) -> String {
        id(ids::MESSAGE)
    }
    fn deposit_secrets(&mut self, locker_id: &str) -> db::parcels::DepositSecrets {
        crate::app::credentials::fresh_secrets(self.0, locker_id)
    }
}

/// Queues the pick-up notice for a parcel a courier deposited at the locker.
async fn notify_deposit(
    conn: &mut cubby_store::AnyConnection,
    done: &db::parcels::DepositOutcome,
    now: i64,
) -> Result<(), cubby_store::OpError> {
    let (Some(resident), Some(cred)) = (&done.resident, &done.credential) else {
        return Ok(());
    };
    let Some(site) = cubby_store::tenants::site(conn, &done.locker.site_id).await? else {
        return Ok(());
    };
    let msg = crate::app::notices::code_message(
        id(ids::MESSAGE),
        &site,
        &done.locker,
        resident,
        cred.code.as_deref().unwrap_or(""),
        Some(&cred.qr_token),
    );
    db::outbox::enqueue(conn, &msg, now).await?;
    db::outbox::enqueue_push_copies(conn, &msg, &resident.id, now, || id(ids::MESSAGE)).await
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
    let all = db::devices::device_credentials(&mut conn).await?;
    state
        .devices
        .set_credentials(all.into_iter().map(|d| (d.id, d.secret_mac)).collect());
    Ok(())
}

/// Workers that handle device messages. One device's messages always go to
/// the same worker, in arrival order (its journal batches stay in order);
/// different devices' messages are handled side by side, so their commits
/// share the store's group commit instead of waiting for each other.
const INGEST_WORKERS: usize = 32;

async fn handle_incoming(
    state: AppState,
    client: AsyncClient,
    mut rx: mpsc::Receiver<(String, bytes::Bytes)>,
) {
    let mut workers = Vec::with_capacity(INGEST_WORKERS);
    for _ in 0..INGEST_WORKERS {
        let (tx, mut worker_rx) = mpsc::channel::<(String, Channel, bytes::Bytes)>(256);
        let (state, client) = (state.clone(), client.clone());
        tokio::spawn(async move {
            while let Some((device, channel, payload)) = worker_rx.recv().await {
                if let Err(e) = handle_one(&state, &client, &device, channel, &payload).await {
                    tracing::warn!("message from {device} on {}: {e}", channel.as_str());
                }
            }
        });
        workers.push(tx);
    }
    while let Some((topic, payload)) = rx.recv().await {
        let Some((device, channel)) = topics::parse(&topic) else {
            continue;
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(device, &mut h);
        let worker = (std::hash::Hasher::finish(&h) % INGEST_WORKERS as u64) as usize;
        // A full worker queue holds the reader (and so the connection) back:
        // memory stays bounded, and journals are acknowledged to devices only
        // after their commit, so nothing waiting here can be lost.
        if workers[worker]
            .send((device.to_string(), channel, payload))
            .await
            .is_err()
        {
            return;
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
            let hooks_state = state.clone();
            let result = state
                .store
                .transact(move |conn| {
                    Box::pin(async move {
                        let mut hooks = Hooks(&hooks_state);
                        let result =
                            db::devices::ingest_journal(conn, &dev, &entries, now, &mut hooks)
                                .await?;
                        // Residents hear of parcels couriers left at the locker
                        // in the same transaction that records them.
                        for done in &result.deposits {
                            notify_deposit(conn, done, now).await?;
                        }
                        // Integrators hear which credentials opened doors.
                        // (One look for subscribers per batch, not per entry.)
                        if !result.access.is_empty()
                            && let Some(device) = db::devices::device(conn, &dev).await?
                            && !db::webhooks::subscriptions_for_site(
                                conn,
                                &device.org_id,
                                &device.site_id,
                            )
                            .await?
                            .is_empty()
                        {
                            for note in &result.access {
                                crate::webhooks::access_event(conn, &device, note, now).await?;
                            }
                        }
                        // And senders, of their returns the carrier took.
                        for sent in &result.sendings_collected {
                            crate::app::devices::tell_sender(
                                conn,
                                sent,
                                crate::new_id(cubby_domain::ids::MESSAGE),
                                now,
                            )
                            .await?;
                        }
                        Ok(result)
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
                // Pick-ups and deposits change what the cache must hold.
                state.devices.device_changed(device);
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
                        db::devices::command_answered(
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
                    Box::pin(async move {
                        // When it was last heard of: the start of an outage.
                        let before = db::devices::device(conn, &dev).await?;
                        db::devices::set_device_online(conn, &dev, status.online, now).await?;
                        // Back after staff were told it was gone: the incident
                        // closes and integrators hear `locker.online`.
                        if status.online
                            && let Some((incident, raised)) =
                                db::devices::back_online(conn, &dev, now).await?
                            && let Some(device) = before
                        {
                            let since = device.last_seen_ms.unwrap_or(raised);
                            crate::webhooks::locker_online(conn, &device, &incident, since, now)
                                .await?;
                        }
                        Ok(())
                    })
                })
                .await?;
            if status.online {
                state.devices.device_changed(device);
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
                    Box::pin(
                        async move { db::devices::save_device_state(conn, &dev, &json, now).await },
                    )
                })
                .await?;
        }
        Channel::Heartbeat => {
            let _beat: Envelope<Heartbeat> = parse(payload)?;
            let dev = device.to_string();
            state
                .store
                .transact(move |conn| {
                    Box::pin(async move { db::devices::touch_device(conn, &dev, now).await })
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
    let mut last_sweep = tokio::time::Instant::now();
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
            state.devices.everything_changed();
            was_connected = true;
        }
        if let Err(e) = send_commands(&state, &client, &key).await {
            tracing::warn!("dispatching commands: {e}");
        }
        let mut changed = state.devices.take_changed();
        // Short cache lifetimes need sweeps often enough to re-sign in time.
        let sweep = CACHE_SWEEP.min(Duration::from_millis(
            (state.policies.cache_lifetime_ms / 3).max(1_000) as u64,
        ));
        if last_sweep.elapsed() >= sweep {
            changed.all = true;
            last_sweep = tokio::time::Instant::now();
        }
        if changed.is_empty() {
            continue;
        }
        if let Err(e) = publish_caches(&state, &client, &key, &mut caches, &changed).await {
            tracing::warn!("publishing credential caches: {e}");
            // Try these again on the next pass.
            state.devices.everything_changed();
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
                db::devices::expire_commands(conn, now, PENDING_LIMIT_MS, || id(ids::INCIDENT))
                    .await
            })
        })
        .await?;
    let open = {
        let mut conn = state.store.reader().await?;
        db::devices::open_commands(&mut conn).await?
    };
    for cmd in open {
        let topic = topics::topic(&cmd.device_id, Channel::Cmd);
        if cmd.status == "pending" {
            let online = {
                let mut conn = state.store.reader().await?;
                db::devices::device(&mut conn, &cmd.device_id)
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
                        let seq = db::devices::next_command_seq(conn, &c.device_id).await?;
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
                        db::devices::mark_command_sent(
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
                    Box::pin(async move {
                        db::devices::mark_command_sent(conn, &cmd_id, None, now).await
                    })
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
    changed: &super::Changed,
) -> anyhow::Result<()> {
    let now = now_ms();
    // Re-signed well before it expires, even when nothing changed.
    let refresh_ms = CACHE_REFRESH_MS.min(state.policies.cache_lifetime_ms / 3);
    let devices = {
        let mut conn = state.store.reader().await?;
        db::devices::active_devices(&mut conn).await?
    };
    // A device's journal changes its locker's content for every device there.
    let lockers_of_changed: std::collections::HashSet<String> = devices
        .iter()
        .filter(|d| changed.devices.contains(&d.id))
        .map(|d| d.locker_id.clone())
        .collect();
    for device in devices {
        if !changed.covers(&device.id, &device.locker_id, &device.site_id)
            && !lockers_of_changed.contains(&device.locker_id)
        {
            continue;
        }
        let db::devices::ActiveDevice {
            id: device_id,
            locker_id,
            site_id,
            journal_seq,
        } = device;
        let (
            (labels, creds, view, passes, expected, doors, grants),
            (site, held, drop_offs, awaiting, (_, policy)),
        ) = {
            let mut conn = state.store.reader().await?;
            (
                (
                    db::devices::compartment_labels(&mut conn, &locker_id).await?,
                    db::devices::cache_credentials(&mut conn, &locker_id).await?,
                    cubby_store::lockers::allocation_view(&mut conn, &locker_id).await?,
                    db::couriers::cache_courier_passes(&mut conn, &locker_id, now).await?,
                    db::couriers::expected_parcels(&mut conn, &locker_id).await?,
                    db::access::doors_of_device(&mut conn, &device_id).await?,
                    db::access::cache_grants(&mut conn, &device_id, journal_seq, now).await?,
                ),
                (
                    cubby_store::tenants::site(&mut conn, &site_id).await?,
                    db::reservations::held_at_site(&mut conn, &site_id, now).await?,
                    db::parcels::cache_drop_offs(&mut conn, &locker_id, now).await?,
                    db::parcels::awaiting_carrier_at_locker(&mut conn, &locker_id).await?,
                    db::schedule::site_policy(&mut conn, &site_id).await?,
                ),
            )
        };
        // Where staff keep expired parcels, a courier's pass takes only
        // residents' returns and shipments.
        let keep_expired = policy.at_expiry == cubby_domain::policy::AtExpiry::KeepForStaff;
        let awaiting_carrier: Vec<AwaitingCarrier> = awaiting
            .into_iter()
            .filter(|p| !(keep_expired && p.state == cubby_domain::lifecycle::ParcelState::Expired))
            .filter_map(|p| {
                Some(AwaitingCarrier {
                    carrier: p.carrier?,
                    compartment: p.compartment_label?,
                    parcel_id: p.id,
                })
            })
            .collect();
        let drop_offs: Vec<ExpectedDropOff> = drop_offs
            .into_iter()
            .map(|d| ExpectedDropOff {
                parcel_id: d.parcel_id,
                credential_id: d.credential_id,
                mac: hex::encode(d.local_mac),
                width_mm: d.width_mm,
                height_mm: d.height_mm,
                depth_mm: d.depth_mm,
                temperature: d.temperature,
                expires_ms: d.expires_ms,
            })
            .collect();
        let doors: Vec<DoorSpec> = doors
            .into_iter()
            .filter_map(|d| {
                Some(DoorSpec {
                    output: d.lock_output?,
                    offline_key: Some(hex::encode(super::door_offline_key(&state.secret, &d.id))),
                    door_id: d.id,
                    name: d.name,
                })
            })
            .collect();
        let grants: Vec<DoorGrant> = grants
            .into_iter()
            .map(|g| DoorGrant {
                grant_id: g.grant_id,
                mac: hex::encode(g.local_mac),
                rule: g.rule,
                uses: g.uses,
            })
            .collect();
        let zone = site.map(|s| s.timezone);
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
        let specs: Vec<CompartmentSpec> = view
            .iter()
            .map(|c| CompartmentSpec {
                label: c.label.clone(),
                width_mm: c.inner.width_mm,
                height_mm: c.inner.height_mm,
                depth_mm: c.inner.depth_mm,
                temperature: c.temperature.as_str().to_string(),
            })
            .collect();
        let free: Vec<String> = view
            .iter()
            // A compartment a reservation holds is not the locker's to give.
            .filter(|c| c.status == CompartmentStatus::Available && c.contents.is_none())
            .filter(|c| !held.contains(&c.id))
            .map(|c| c.label.clone())
            .collect();
        let couriers: Vec<CourierPass> = passes
            .into_iter()
            .map(|p| CourierPass {
                pass_id: p.id,
                carrier: p.carrier,
                mac: hex::encode(p.local_mac),
                expires_ms: p.expires_ms,
            })
            .collect();
        // The fingerprint covers the plain rows, so that unchanged content
        // costs no MACs; the tracking MACs are computed only to publish.
        let mut h = Sha256::new();
        h.update(
            serde_json::to_vec(&(
                (&labels, &entries, &specs, &free, &couriers),
                (&doors, &grants, &zone, &drop_offs, &awaiting_carrier),
            ))
            .unwrap_or_default(),
        );
        for e in &expected {
            h.update(e.parcel_id.as_bytes());
            h.update(e.tracking_number.as_bytes());
        }
        let fingerprint: [u8; 32] = h.finalize().into();
        if published
            .get(&device_id)
            .is_some_and(|p| p.fingerprint == fingerprint && now - p.at_ms < refresh_ms)
        {
            continue;
        }
        let locker_key = super::locker_credential_key(&state.secret, &locker_id);
        let expected: Vec<ExpectedParcel> = expected
            .into_iter()
            .map(|e| ExpectedParcel {
                tracking_mac: hex::encode(tracking_mac(&locker_key, &e.tracking_number)),
                parcel_id: e.parcel_id,
                carrier: e.carrier,
                width_mm: e.width_mm,
                height_mm: e.height_mm,
                depth_mm: e.depth_mm,
                temperature: e.temperature,
            })
            .collect();
        let dev = device_id.clone();
        let version = state
            .store
            .transact(move |conn| {
                Box::pin(async move { db::devices::next_cache_version(conn, &dev).await })
            })
            .await?;
        let cache = CredentialCache {
            device_id: device_id.clone(),
            version,
            issued_ms: now,
            expires_ms: now + state.policies.cache_lifetime_ms,
            journal_seq,
            compartments: labels,
            entries,
            specs,
            free,
            couriers,
            expected,
            drop_offs,
            awaiting_carrier,
            zone,
            doors,
            grants,
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
