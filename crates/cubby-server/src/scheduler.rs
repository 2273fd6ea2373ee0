//! The durable scheduler of community policies: reminders before expiry,
//! expiry, and escalation to staff. Its state is the `parcel_schedule` table;
//! each step is taken inside the transaction that locks the parcel's row,
//! writes the step's record (timeline entry, message, state change) and moves
//! the row on, so a step happens once even with several instances or a crash
//! between steps. It goes by [`crate::Clock`], which tests move through weeks.

use std::time::Duration;

use cubby_domain::Millis;
use cubby_domain::ids::{self, new_id};
use cubby_domain::lifecycle::{ParcelState, Transition};
use cubby_domain::model::Timezone;
use cubby_domain::policy::{AtExpiry, Due, ParcelClock, SitePolicy, plan_for};
use cubby_store as db;
use cubby_store::schedule::ScheduleRow;
use cubby_store::{AnyConnection, OpError};

use crate::{AppState, os_rng};

const TICK: Duration = Duration::from_millis(300);
const BATCH: i64 = 200;
/// Actor named in timelines for what the policies decide.
const ACTOR: &str = "scheduler";

/// Runs until the process ends.
pub async fn run(state: AppState) {
    loop {
        match tick(&state).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!("scheduler: {e}"),
        }
        tokio::time::sleep(TICK).await;
    }
}

fn id(prefix: &str) -> String {
    new_id(prefix, &mut os_rng())
}

/// Schedules newly deposited parcels and takes every due step; returns how
/// many parcels it acted on.
pub async fn tick(state: &AppState) -> Result<usize, OpError> {
    let now = state.clock.now();
    let fresh = {
        let mut conn = state.store.reader().await?;
        db::schedule::unscheduled_parcels(&mut conn, BATCH).await?
    };
    for u in fresh {
        state
            .store
            .transact(move |conn| Box::pin(async move { schedule_new(conn, &u, now).await }))
            .await?;
    }
    let due = {
        let mut conn = state.store.reader().await?;
        db::schedule::due_parcels(&mut conn, now, BATCH).await?
    };
    let n = due.len();
    release_ended_holds(state).await?;
    flag_offline_lockers(state).await?;
    for parcel_id in due {
        state
            .store
            .transact(move |conn| Box::pin(async move { step(conn, &parcel_id, now).await }))
            .await?;
    }
    Ok(n)
}

/// Releases reservation holds whose window is over. Windows are real
/// delivery times, so this goes by the system clock like the deposits that
/// use the holds.
async fn release_ended_holds(state: &AppState) -> Result<u64, OpError> {
    let now = crate::now_ms();
    let ended = {
        let mut conn = state.store.reader().await?;
        db::reservations::any_ended(&mut conn, now).await?
    };
    if !ended {
        return Ok(0);
    }
    state
        .store
        .transact(move |conn| {
            Box::pin(async move { db::reservations::release_ended(conn, None, now).await })
        })
        .await
}

/// Raises `locker_offline` for agents gone longer than the grace period
/// (their last will told the broker). The id comes from the device and the
/// moment it went, so two instances raise it once.
async fn flag_offline_lockers(state: &AppState) -> Result<(), OpError> {
    let now = crate::now_ms();
    let grace = state.policies.offline_grace_ms;
    let gone = {
        let mut conn = state.store.reader().await?;
        db::devices::offline_since(&mut conn, now - grace).await?
    };
    for (device, since) in gone {
        let id = format!(
            "inc_{}",
            hex::encode(
                &cubby_domain::credentials::mac(b"locker-offline", &[&device, &since.to_string()])
                    [..16]
            )
        );
        let detail = format!(
            "the locker's agent has not been heard from for more than {} s",
            grace / 1000
        );
        state
            .store
            .transact(move |conn| {
                Box::pin(async move {
                    // Still gone, and nobody raised it meanwhile.
                    let still = db::devices::offline_since(conn, now - grace).await?;
                    if still.iter().any(|(d, _)| *d == device) {
                        db::incidents::raise_incident(
                            conn,
                            &db::incidents::NewIncident {
                                id,
                                device_id: &device,
                                compartment_label: None,
                                parcel_id: None,
                                kind: "locker_offline",
                                detail,
                            },
                            now,
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .await?;
    }
    Ok(())
}

async fn site_rules(
    conn: &mut AnyConnection,
    site_id: &str,
) -> Result<(u32, SitePolicy, Timezone, String), OpError> {
    let site = db::tenants::site(conn, site_id)
        .await?
        .ok_or(OpError::NotFound { what: "site" })?;
    let (version, policy) = db::schedule::site_policy(conn, site_id).await?;
    Ok((version, policy, Timezone::parse(&site.timezone)?, site.name))
}

async fn schedule_new(
    conn: &mut AnyConnection,
    u: &db::schedule::Unscheduled,
    now: Millis,
) -> Result<(), OpError> {
    let parcel = db::parcels::parcel(conn, &u.parcel_id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })?;
    let (_, policy, tz, _) = site_rules(conn, &u.site_id).await?;
    let on_hold = parcel.state == ParcelState::OnHold;
    let clock = ParcelClock {
        zone: parcel.temperature,
        deposited_ms: u.deposited_ms,
        hold_ms: 0,
        on_hold,
        reminded: Vec::new(),
        escalated: false,
    };
    let next = plan_for(&policy, &tz, &clock).first().map(|s| s.at_ms);
    // A parcel already on hold when first seen: the hold began when it was
    // recorded, not when the scheduler noticed.
    let hold_since = if on_hold {
        Some(
            db::custody::last_event_at(conn, &u.parcel_id, "held")
                .await?
                .unwrap_or(now)
                .min(now),
        )
    } else {
        None
    };
    db::schedule::insert_schedule(
        conn,
        &ScheduleRow {
            parcel_id: u.parcel_id.clone(),
            site_id: u.site_id.clone(),
            deposited_ms: u.deposited_ms,
            next_ms: next,
            reminded: Vec::new(),
            escalated: false,
            hold_ms: 0,
            hold_since_ms: hold_since,
        },
    )
    .await
}

/// Takes every step of one parcel that is due at `now`.
async fn step(conn: &mut AnyConnection, parcel_id: &str, now: Millis) -> Result<(), OpError> {
    let Some(mut row) = db::schedule::lock_schedule(conn, parcel_id).await? else {
        return Ok(());
    };
    // Another instance (or an earlier pass) got here first.
    if row.next_ms.is_none_or(|n| n > now) {
        return Ok(());
    }
    let parcel = db::parcels::parcel(conn, parcel_id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })?;
    if !matches!(parcel.state, ParcelState::Deposited | ParcelState::OnHold) {
        row.next_ms = None;
        return db::schedule::update_schedule(conn, &row).await;
    }
    let (version, policy, tz, site_name) = site_rules(conn, &row.site_id).await?;
    let clock = |row: &ScheduleRow| ParcelClock {
        zone: parcel.temperature,
        deposited_ms: row.deposited_ms,
        hold_ms: row.hold_ms,
        on_hold: parcel.state == ParcelState::OnHold,
        reminded: row.reminded.clone(),
        escalated: row.escalated,
    };
    let steps = plan_for(&policy, &tz, &clock(&row));
    let expiring = steps.iter().any(|s| s.due == Due::Expire && s.at_ms <= now);
    let quiet_until = policy.outside_quiet_hours(&tz, now);
    let locker_name = match &parcel.locker_id {
        Some(l) => db::lockers::locker(conn, l)
            .await?
            .map(|l| l.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let place = format!("locker {locker_name}");
    let names = Names {
        site: &site_name,
        locker: &locker_name,
        place: &place,
    };
    let mut expired = false;
    for s in steps.iter().filter(|s| s.at_ms <= now) {
        match &s.due {
            Due::Reminder { rule } => {
                // Too late to remind: the parcel expires in this same pass.
                if expiring {
                    row.reminded.push(rule.clone());
                    continue;
                }
                // Overdue in quiet hours (the scheduler was down): wait.
                if quiet_until > now {
                    continue;
                }
                remind(conn, &parcel, &names, version, rule, now).await?;
                row.reminded.push(rule.clone());
            }
            Due::Escalate => {
                escalate(conn, &parcel, &names, version, &policy, now).await?;
                row.escalated = true;
            }
            Due::Expire => {
                expire(conn, &parcel, &names, version, &policy, &tz, now).await?;
                expired = true;
            }
        }
    }
    row.next_ms = if expired {
        None
    } else {
        plan_for(&policy, &tz, &clock(&row)).first().map(|s| {
            if s.at_ms <= now {
                quiet_until.max(now + 1_000)
            } else {
                s.at_ms
            }
        })
    };
    db::schedule::update_schedule(conn, &row).await
}

/// Names used in messages and timelines.
struct Names<'a> {
    site: &'a str,
    locker: &'a str,
    /// "locker <name>", as timelines say it.
    place: &'a str,
}

fn hours(ms: Millis) -> Millis {
    ms / 3_600_000
}

async fn recipient(
    conn: &mut AnyConnection,
    parcel: &db::parcels::ParcelRow,
) -> Result<Option<db::residents::ResidentRow>, OpError> {
    match &parcel.resident_id {
        Some(r) => db::residents::resident(conn, r).await,
        None => Ok(None),
    }
}

fn channel_of(resident: &db::residents::ResidentRow, site_name: &str) -> (String, String) {
    let (channel, recipient) = resident.contact(site_name);
    (channel.to_string(), recipient)
}

async fn remind(
    conn: &mut AnyConnection,
    parcel: &db::parcels::ParcelRow,
    names: &Names<'_>,
    version: u32,
    rule: &str,
    now: Millis,
) -> Result<(), OpError> {
    let (site_name, place) = (names.site, names.place);
    let reason = format!("policy v{version}, rule {rule}");
    if let Some(resident) = recipient(conn, parcel).await? {
        let (channel, to) = channel_of(&resident, site_name);
        let msg = db::outbox::Message {
            id: id(ids::MESSAGE),
            site_id: parcel.site_id.clone(),
            channel,
            recipient: to,
            subject: "Reminder: a parcel is waiting for you".into(),
            body: format!(
                "Hello {},\n\nA parcel is still waiting for you in {place} at {site_name}. \
                 Please collect it soon with the code from your first message \
                 (staff can send you a new one).",
                resident.name
            ),
            payload: serde_json::json!({
                "kind": "reminder",
                "rule": rule,
                "policy_version": version,
                "resident_id": resident.id,
                "parcel_id": parcel.id,
                "locker_id": parcel.locker_id,
                "notice": crate::app::notices::notice(
                    cubby_notify::NoticeKind::Reminder,
                    &resident,
                    names.site,
                    names.locker,
                    None,
                    None,
                ),
            }),
        };
        db::outbox::enqueue(conn, &msg, now).await?;
        db::outbox::enqueue_push_copies(conn, &msg, &resident.id, now, || id(ids::MESSAGE)).await?;
    }
    db::custody::append_event(
        conn,
        &parcel.site_id,
        &parcel.id,
        "reminder_sent",
        ACTOR,
        now,
        place,
        &reason,
    )
    .await?;
    Ok(())
}

async fn escalate(
    conn: &mut AnyConnection,
    parcel: &db::parcels::ParcelRow,
    names: &Names<'_>,
    version: u32,
    policy: &SitePolicy,
    now: Millis,
) -> Result<(), OpError> {
    let (site_name, place) = (names.site, names.place);
    let after = policy.escalate_after_hours.unwrap_or_default();
    let reason = format!("policy v{version}, rule escalate-after-{after}h");
    let unit = parcel.recipient_unit.clone().unwrap_or_default();
    let msg = db::outbox::Message {
        id: id(ids::MESSAGE),
        site_id: parcel.site_id.clone(),
        channel: "staff".into(),
        recipient: format!("staff of {site_name}"),
        subject: format!("A parcel has waited more than {after} hours"),
        body: format!(
            "Parcel {} in {place} (unit {unit}) has not been collected after {after} hours.",
            parcel.id
        ),
        payload: serde_json::json!({
            "kind": "escalation",
            "policy_version": version,
            "parcel_id": parcel.id,
            "locker_id": parcel.locker_id,
        }),
    };
    db::outbox::enqueue(conn, &msg, now).await?;
    db::custody::append_event(
        conn,
        &parcel.site_id,
        &parcel.id,
        "escalated",
        ACTOR,
        now,
        place,
        &reason,
    )
    .await?;
    Ok(())
}

async fn expire(
    conn: &mut AnyConnection,
    parcel: &db::parcels::ParcelRow,
    names: &Names<'_>,
    version: u32,
    policy: &SitePolicy,
    tz: &Timezone,
    now: Millis,
) -> Result<(), OpError> {
    let (site_name, place) = (names.site, names.place);
    let limit = policy.dwell_limit_hours.of(parcel.temperature);
    let then = match policy.at_expiry {
        AtExpiry::ReturnToCarrier => "queued for return to the carrier",
        AtExpiry::KeepForStaff => "left for staff",
    };
    let reason = format!("policy v{version}, rule dwell-limit-{limit}h: {then}");
    db::parcels::transition(
        conn,
        &parcel.id,
        Transition::Expire,
        None,
        ACTOR,
        &reason,
        now,
    )
    .await?;
    if let Some(resident) = recipient(conn, parcel).await? {
        let (channel, to) = channel_of(&resident, site_name);
        let body = match policy.at_expiry {
            AtExpiry::ReturnToCarrier => format!(
                "Hello {},\n\nA parcel waited in {place} at {site_name} longer than the \
                 {} hours this building allows and goes back to the carrier.",
                resident.name,
                hours(Millis::from(limit) * 3_600_000)
            ),
            AtExpiry::KeepForStaff => format!(
                "Hello {},\n\nA parcel waited in {place} at {site_name} longer than the \
                 {limit} hours this building allows; staff have it now.",
                resident.name
            ),
        };
        let msg = db::outbox::Message {
            id: id(ids::MESSAGE),
            site_id: parcel.site_id.clone(),
            channel,
            recipient: to,
            subject: "A parcel was not collected in time".into(),
            body,
            payload: serde_json::json!({
                "kind": "expired",
                "policy_version": version,
                "resident_id": resident.id,
                "parcel_id": parcel.id,
                "notice": crate::app::notices::notice(
                    match policy.at_expiry {
                        AtExpiry::ReturnToCarrier => cubby_notify::NoticeKind::ReturnedToCarrier,
                        AtExpiry::KeepForStaff => cubby_notify::NoticeKind::Expired,
                    },
                    &resident,
                    names.site,
                    names.locker,
                    None,
                    None,
                ),
            }),
        };
        // Not in the middle of the night: the message waits for the morning.
        let not_before = policy.outside_quiet_hours(tz, now);
        db::outbox::enqueue_not_before(conn, &msg, now, (not_before > now).then_some(not_before))
            .await?;
    }
    Ok(())
}
