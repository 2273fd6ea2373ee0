//! Signed webhooks (Standard Webhooks). Two loops:
//!
//! - the emitter turns custody events and incidents into webhook events and
//!   one delivery per matching subscription, moving a per-site cursor in the
//!   same transaction (nothing lost, nothing twice; ids derive from the
//!   source, so a second instance doing the same work changes nothing);
//! - the sender claims due deliveries with a lease, signs and posts them, and
//!   records each attempt: retried with backoff and full jitter, a failing
//!   endpoint rested for a while (circuit breaker), a 410 disables the
//!   subscription.
//!
//! Payloads carry ids, times, lockers, compartments, carriers and states,
//! never personal data (the `cubby-webhooks` catalogue is checked for it).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::webhooks::AttemptResult;
use cubby_store::webhooks::CustodyForWebhook;
use cubby_store::webhooks::IncidentForWebhook;
use cubby_webhooks::{
    AccessDenied, AccessGranted, AccessMethod, DenialReason, Event, EventData, EventFilter,
    IncidentRaised, LockerDoorForced, LockerOffline, LockerOnline, MAX_ATTEMPTS, ParcelAnnounced,
    ParcelDeposited, ParcelDroppedOff, ParcelExpired, ParcelPickedUp, ParcelRedirected,
    ParcelReminderSent, ParcelReturned, ParcelState, Secret,
};
use sha2::{Digest, Sha256};

use crate::{AppState, os_rng};

const TICK: Duration = Duration::from_millis(300);
const BATCH: i64 = 200;
/// A claimed delivery is someone's for this long.
const LEASE_MS: i64 = 60_000;
/// An endpoint that failed is left alone this long before the next try.
const REST_MS: i64 = 30_000;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// A stable id from the event's source, so that emitting twice is harmless.
fn derived_id(prefix: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    format!("{prefix}_{}", &hex::encode(h.finalize())[..32])
}

fn timestamp(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

/// The webhook event a custody event announces, if any.
fn parcel_event(c: &CustodyForWebhook, reminder: u32) -> Option<EventData> {
    let (parcel_id, site_id) = (c.parcel_id.clone(), c.site_id.clone());
    Some(match c.kind.as_str() {
        "announced" => EventData::ParcelAnnounced(ParcelAnnounced {
            parcel_id,
            site_id,
            carrier: c.carrier.clone(),
            state: ParcelState::Announced,
        }),
        "deposited" | "deposited_unassigned" => EventData::ParcelDeposited(ParcelDeposited {
            parcel_id,
            site_id,
            locker_id: c.locker_id.clone(),
            compartment_id: c.compartment_id.clone(),
            compartment_label: c.compartment_label.clone(),
            carrier: c.carrier.clone(),
            state: if c.kind == "deposited" {
                ParcelState::Deposited
            } else {
                ParcelState::Unassigned
            },
            pickup_deadline: None,
        }),
        "reminder_sent" => EventData::ParcelReminderSent(ParcelReminderSent {
            parcel_id,
            site_id,
            locker_id: c.locker_id.clone(),
            compartment_label: c.compartment_label.clone(),
            state: ParcelState::Deposited,
            reminder,
            pickup_deadline: None,
        }),
        "picked_up" => EventData::ParcelPickedUp(ParcelPickedUp {
            parcel_id,
            site_id,
            locker_id: c.locker_id.clone(),
            compartment_label: c.compartment_label.clone(),
            carrier: c.carrier.clone(),
            state: ParcelState::PickedUp,
        }),
        "expired" => EventData::ParcelExpired(ParcelExpired {
            parcel_id,
            site_id,
            locker_id: c.locker_id.clone(),
            compartment_label: c.compartment_label.clone(),
            carrier: c.carrier.clone(),
            state: ParcelState::Expired,
        }),
        "returned_to_carrier" => EventData::ParcelReturned(ParcelReturned {
            parcel_id,
            site_id,
            locker_id: c.locker_id.clone(),
            carrier: c.carrier.clone(),
            state: ParcelState::ReturnedToCarrier,
        }),
        "redirected" => EventData::ParcelRedirected(ParcelRedirected {
            parcel_id,
            site_id,
            locker_id: c.redirected_to.clone()?,
            carrier: c.carrier.clone(),
        }),
        "dropped_off" => EventData::ParcelDroppedOff(ParcelDroppedOff {
            parcel_id,
            site_id,
            locker_id: c.locker_id.clone()?,
            compartment_label: c.compartment_label.clone(),
            carrier: c.carrier.clone(),
            state: ParcelState::DroppedOff,
        }),
        _ => return None,
    })
}

fn incident_events(i: &IncidentForWebhook) -> Vec<EventData> {
    let mut out = vec![EventData::IncidentRaised(IncidentRaised {
        incident_id: i.id.clone(),
        site_id: i.site_id.clone(),
        locker_id: i.locker_id.clone(),
        compartment_label: i.compartment_label.clone(),
        parcel_id: i.parcel_id.clone(),
        kind: i.kind.clone(),
    })];
    if let ("locker_offline", Some(locker_id)) = (i.kind.as_str(), &i.locker_id) {
        out.push(EventData::LockerOffline(LockerOffline {
            locker_id: locker_id.clone(),
            site_id: i.site_id.clone(),
            last_seen_at: None,
        }));
    }
    if let ("door_forced", Some(locker_id), Some(label)) =
        (i.kind.as_str(), &i.locker_id, &i.compartment_label)
    {
        out.push(EventData::LockerDoorForced(LockerDoorForced {
            locker_id: locker_id.clone(),
            site_id: i.site_id.clone(),
            compartment_id: None,
            compartment_label: label.clone(),
            incident_id: Some(i.id.clone()),
        }));
    }
    out
}

/// Stores an event and a delivery for every subscription whose filter takes it.
async fn fan_out(
    conn: &mut cubby_store::AnyConnection,
    org_id: &str,
    site_id: &str,
    carrier: Option<&str>,
    event: &Event,
    now: i64,
) -> Result<(), OpError> {
    let kind = event.event_type();
    let takers: Vec<String> = db::webhooks::subscriptions_for_site(conn, org_id, site_id)
        .await?
        .into_iter()
        // A carrier hears only about its own parcels.
        .filter(|s| s.carrier.is_none() || s.carrier.as_deref() == carrier)
        .filter(|s| {
            EventFilter::parse(&s.filter)
                .map(|f| f.matches(kind))
                .unwrap_or(false)
        })
        .map(|s| s.id)
        .collect();
    // Nobody listens: nothing to store.
    if takers.is_empty() {
        return Ok(());
    }
    let body = String::from_utf8(event.to_body().unwrap_or_default()).unwrap_or_default();
    if !db::webhooks::insert_event(conn, &event.id, org_id, site_id, kind.as_str(), &body, now)
        .await?
    {
        return Ok(());
    }
    for subscription in takers {
        let id = derived_id("msg", &[&event.id, &subscription]);
        db::webhooks::insert_delivery(conn, &id, &event.id, &subscription, now).await?;
    }
    Ok(())
}

/// `locker.online` for a locker whose agent reports again after its
/// `locker_offline` incident; in the caller's transaction.
pub async fn locker_online(
    conn: &mut cubby_store::AnyConnection,
    device: &db::devices::DeviceRow,
    offline_incident: &str,
    offline_since_ms: i64,
    now: i64,
) -> Result<(), OpError> {
    let id = derived_id("evt", &["online", offline_incident]);
    let event = Event::new(
        id,
        timestamp(now),
        EventData::LockerOnline(LockerOnline {
            locker_id: device.locker_id.clone(),
            site_id: device.site_id.clone(),
            offline_seconds: u64::try_from((now - offline_since_ms) / 1000).ok(),
        }),
    );
    fan_out(conn, &device.org_id, &device.site_id, None, &event, now).await
}

/// `access.granted` or `access.denied` for a credential a locker accepted
/// or refused; in the journal's transaction, with an id from the device's
/// journal entry so a redelivered batch sends nothing twice.
pub async fn access_event(
    conn: &mut cubby_store::AnyConnection,
    device: &db::devices::DeviceRow,
    note: &db::devices::AccessNote,
    now: i64,
) -> Result<(), OpError> {
    let method = match note.via.as_str() {
        "qr" => AccessMethod::Qr,
        "phone" => AccessMethod::Phone,
        "courier" => AccessMethod::CourierPass,
        _ => AccessMethod::Keypad,
    };
    let data = if note.granted {
        EventData::AccessGranted(AccessGranted {
            site_id: device.site_id.clone(),
            locker_id: device.locker_id.clone(),
            method,
            compartment_labels: note.compartments.clone(),
            parcel_ids: note.parcel_ids.clone(),
            carrier: None,
        })
    } else {
        EventData::AccessDenied(AccessDenied {
            site_id: device.site_id.clone(),
            locker_id: device.locker_id.clone(),
            method,
            reason: match note.reason.as_deref() {
                Some("locked_out") => DenialReason::LockedOut,
                _ => DenialReason::NoMatch,
            },
        })
    };
    let id = derived_id("evt", &["access", &device.id, &note.seq.to_string()]);
    let event = Event::new(id, timestamp(note.at_ms), data);
    fan_out(conn, &device.org_id, &device.site_id, None, &event, now).await
}

/// Turns new custody events and incidents into webhook events; how many.
pub async fn emit(state: &AppState) -> Result<usize, OpError> {
    let now = state.clock.now();
    let custody = {
        let mut conn = state.store.reader().await?;
        db::webhooks::custody_for_webhooks(&mut conn, BATCH).await?
    };
    let n = custody.len();
    // One transaction per site's run of events, cursor included.
    let mut by_site: Vec<(String, Vec<CustodyForWebhook>)> = Vec::new();
    for c in custody {
        match by_site.last_mut() {
            Some((site, list)) if *site == c.site_id => list.push(c),
            _ => by_site.push((c.site_id.clone(), vec![c])),
        }
    }
    for (site, events) in by_site {
        state
            .store
            .transact(move |conn| {
                Box::pin(async move {
                    let Some(last) = events.last().map(|e| e.seq) else {
                        return Ok(());
                    };
                    if !db::webhooks::advance_cursor(conn, &site, last).await? {
                        return Ok(());
                    }
                    for c in &events {
                        let reminder = if c.kind == "reminder_sent" {
                            cubby_store::custody::count_events_up_to(
                                conn,
                                &c.parcel_id,
                                "reminder_sent",
                                &c.site_id,
                                c.seq,
                            )
                            .await?
                        } else {
                            0
                        };
                        let Some(data) = parcel_event(c, reminder) else {
                            continue;
                        };
                        let id = derived_id("evt", &["custody", &c.site_id, &c.seq.to_string()]);
                        let event = Event::new(id, timestamp(c.at_ms), data);
                        fan_out(
                            conn,
                            &c.org_id,
                            &c.site_id,
                            c.carrier.as_deref(),
                            &event,
                            now,
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .await?;
    }
    let incidents = {
        let mut conn = state.store.reader().await?;
        db::webhooks::incidents_for_webhooks(&mut conn, BATCH).await?
    };
    let m = incidents.len();
    for i in incidents {
        state
            .store
            .transact(move |conn| {
                Box::pin(async move {
                    if !db::webhooks::mark_incident_emitted(conn, &i.id).await? {
                        return Ok(());
                    }
                    for (k, data) in incident_events(&i).into_iter().enumerate() {
                        let id = derived_id("evt", &["incident", &i.id, &k.to_string()]);
                        let event = Event::new(id, timestamp(i.created_ms), data);
                        fan_out(conn, &i.org_id, &i.site_id, None, &event, now).await?;
                    }
                    Ok(())
                })
            })
            .await?;
    }
    Ok(n + m)
}

/// Sends what is due; how many attempts were made.
pub async fn send(
    state: &AppState,
    client: &cubby_webhooks::WebhookClient,
    resting: &mut HashMap<String, i64>,
) -> Result<usize, OpError> {
    let now = state.clock.now();
    resting.retain(|_, until| *until > now);
    let due = {
        let mut conn = state.store.reader().await?;
        db::webhooks::due_deliveries(&mut conn, now, 50).await?
    };
    let mut attempts = 0;
    for d in due {
        if resting.contains_key(&d.subscription_id) {
            continue;
        }
        let id = d.id.clone();
        let claimed = state
            .store
            .transact(move |conn| {
                Box::pin(
                    async move { db::webhooks::claim_delivery(conn, &id, now, LEASE_MS).await },
                )
            })
            .await?;
        if !claimed {
            continue;
        }
        attempts += 1;
        let secrets: Vec<Secret> = Secret::parse(&d.secret).into_iter().collect();
        let outcome = cubby_webhooks::deliver_body(
            client,
            &d.url,
            &secrets,
            d.body.clone().into_bytes(),
            &d.id,
            // Receivers check the signature's time against their own clock:
            // always the wall clock, even when tests move the scheduler's.
            timestamp(crate::now_ms()),
            ATTEMPT_TIMEOUT,
        )
        .await;
        let tried = d.attempts + 1;
        let (status, next_ms) = if outcome.delivered {
            ("delivered", now)
        } else if outcome.retryable && tried < i64::from(MAX_ATTEMPTS) && !outcome.gone {
            let backoff = cubby_webhooks::next_attempt_delay(tried as u32, &mut os_rng());
            let wait = outcome.retry_after.map_or(backoff, |r| r.max(backoff));
            resting.insert(
                d.subscription_id.clone(),
                now + REST_MS.min(wait.as_millis() as i64),
            );
            ("pending", now + wait.as_millis() as i64)
        } else {
            ("failed", now)
        };
        let result = AttemptResult {
            status,
            next_ms,
            http_status: outcome.status,
            error: outcome.error.clone(),
            at_ms: now,
        };
        let (id, sub, gone) = (d.id.clone(), d.subscription_id.clone(), outcome.gone);
        state
            .store
            .transact(move |conn| {
                Box::pin(async move {
                    db::webhooks::record_attempt(conn, &id, &result).await?;
                    if gone {
                        db::webhooks::disable_subscription(
                            conn,
                            &sub,
                            "the endpoint answered 410 Gone",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .await?;
    }
    Ok(attempts)
}

/// Runs both loops until the process ends.
pub async fn run(state: AppState) {
    let client = match cubby_webhooks::client(state.policies.webhook_targets) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("webhooks disabled: cannot build the HTTP client: {e}");
            return;
        }
    };
    let mut resting = HashMap::new();
    loop {
        let emitted = emit(&state).await.unwrap_or_else(|e| {
            tracing::warn!("webhook events: {e}");
            0
        });
        let sent = send(&state, &client, &mut resting)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!("webhook deliveries: {e}");
                0
            });
        if emitted == 0 && sent == 0 {
            tokio::time::sleep(TICK).await;
        }
    }
}
