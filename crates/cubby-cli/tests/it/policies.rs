//! Community policies through the real binary, over days of scheduler time:
//! the server reads its clock from a file the test moves forward.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeZone};
use cubby_domain::lifecycle::ParcelState;
use cubby_domain::model::{TemperatureZone, Timezone};
use cubby_domain::policy::{Due, ParcelClock, SitePolicy, plan_for};
use cubby_testkit::{Client, CubbyProcess, eventually};
use serde_json::{Value, json};

use crate::{bin, parcel, seed, small_bank};

const HOUR: i64 = 3_600_000;

pub(crate) fn set_clock(file: &Path, ms: i64) {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, ms.to_string()).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// Moves the scheduler's clock and gives it time to act.
async fn travel(file: &Path, ms: i64) {
    set_clock(file, ms);
    // Three scheduler ticks.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
}

fn at_ms(event: &Value) -> i64 {
    DateTime::parse_from_rfc3339(event["at"].as_str().unwrap())
        .unwrap()
        .timestamp_millis()
}

async fn timeline(admin: &Client, id: &str) -> Vec<Value> {
    admin.get(&format!("/api/v1/parcels/{id}")).await.1["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn count(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|e| e["kind"] == kind).count()
}

/// The first local `hh:mm` at or after `from` in the site's time zone.
fn next_local(tz: &Timezone, from: i64, h: u32, m: u32) -> i64 {
    let zone: chrono_tz::Tz = tz.as_str().parse().unwrap();
    let local = tz.local_time(from).unwrap();
    for day in 0..3 {
        let date = local.date() + chrono::Duration::days(day);
        let candidate = zone
            .from_local_datetime(&date.and_hms_opt(h, m, 0).unwrap())
            .earliest()
            .unwrap()
            .timestamp_millis();
        if candidate >= from {
            return candidate;
        }
    }
    unreachable!("a local time within three days")
}

#[tokio::test]
async fn reminders_expiry_holds_and_quiet_hours_over_simulated_days() {
    let dir = tempfile::tempdir().unwrap();
    let clock = dir.path().join("clock");
    let mut p = CubbyProcess::start_with(
        bin(),
        None,
        vec!["--test-clock-file".into(), clock.display().to_string()],
    );
    let w = seed(&p, small_bank()).await;
    let tz = Timezone::parse("Europe/Warsaw").unwrap();

    // The defaults are readable; a bad policy is refused with its field.
    let (status, current) = w
        .admin
        .get(&format!("/api/v1/sites/{}/policy", w.site_id))
        .await;
    assert_eq!((status, current["version"].as_u64()), (200, Some(0)));
    let mut bad: Value = current["policy"].clone();
    bad["quiet_hours"]["start"] = json!("25:00");
    let (status, e) = w
        .admin
        .put(&format!("/api/v1/sites/{}/policy", w.site_id), bad)
        .await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["details"]["field"], "quiet_hours.start");
    // Four days for ambient parcels, one reminder two days before expiry.
    let mut policy = SitePolicy::default();
    policy.dwell_limit_hours.ambient = 96;
    policy.reminders.truncate(1);
    policy.reminders[0].id = "48h-before-expiry".into();
    policy.reminders[0].hours_before_expiry = 48;
    policy.escalate_after_hours = None;
    let (status, saved) = w
        .admin
        .put(
            &format!("/api/v1/sites/{}/policy", w.site_id),
            serde_json::to_value(&policy).unwrap(),
        )
        .await;
    assert_eq!(
        (status, saved["version"].as_u64()),
        (200, Some(1)),
        "{saved}"
    );

    let first = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RB123456785GB", &w.residents[0], 60),
        )
        .await;
    let held = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("1Z5R89390357567127", &w.residents[1], 60),
        )
        .await;
    let (first, held) = (
        first["parcel_id"].as_str().unwrap().to_string(),
        held["parcel_id"].as_str().unwrap().to_string(),
    );
    let deposited = at_ms(&timeline(&w.admin, &first).await[0]);
    set_clock(&clock, deposited + 1_000);
    // Jan goes on holiday: his parcel is held.
    let (status, h) = w
        .admin
        .post(
            &format!("/api/v1/parcels/{held}/transitions"),
            json!({"action": "hold", "reason": "vacation"}),
        )
        .await;
    assert_eq!(status, 200, "{h}");

    // What the policy says for Anna's parcel.
    let steps = plan_for(
        &policy,
        &tz,
        &ParcelClock {
            zone: TemperatureZone::Ambient,
            deposited_ms: deposited,
            hold_ms: 0,
            on_hold: false,
            reminded: vec![],
            escalated: false,
        },
    );
    let reminder_at = steps
        .iter()
        .find(|s| matches!(s.due, Due::Reminder { .. }))
        .unwrap()
        .at_ms;
    let expires_at = steps.iter().find(|s| s.due == Due::Expire).unwrap().at_ms;

    // Just before the reminder: nothing.
    travel(&clock, reminder_at - 60_000).await;
    assert_eq!(count(&timeline(&w.admin, &first).await, "reminder_sent"), 0);
    // Overdue, but at 23:30 local (as if the scheduler had been down): it waits.
    let night = next_local(&tz, reminder_at, 23, 30);
    assert!(night < expires_at);
    travel(&clock, night).await;
    assert_eq!(
        count(&timeline(&w.admin, &first).await, "reminder_sent"),
        0,
        "no reminder inside quiet hours"
    );
    // In the morning it goes out, once, and says which rule of which version.
    let morning = next_local(&tz, night, 7, 30);
    travel(&clock, morning).await;
    travel(&clock, morning + HOUR).await;
    let events = timeline(&w.admin, &first).await;
    assert_eq!(count(&events, "reminder_sent"), 1, "{events:?}");
    let reminder = events
        .iter()
        .find(|e| e["kind"] == "reminder_sent")
        .unwrap();
    assert_eq!(reminder["reason"], "policy v1, rule 48h-before-expiry");
    assert_eq!(at_ms(reminder), morning);
    let sent = p
        .outbox()
        .iter()
        .filter(|m| m["payload"]["kind"] == "reminder" && m["to"] == "anna@example.org")
        .count();
    assert_eq!(sent, 1);
    // Staff see each message's delivery status, never its content.
    let (status, messages) = w
        .admin
        .get(&format!("/api/v1/sites/{}/messages", w.site_id))
        .await;
    assert_eq!(status, 200);
    let list = messages.as_array().unwrap();
    assert!(
        list.iter()
            .any(|m| m["kind"] == "reminder" && m["status"] == "delivered"),
        "{messages}"
    );
    assert!(
        list.iter()
            .all(|m| m.get("body").is_none() && m.get("payload").is_none())
    );
    let (status, _) = w
        .admin
        .get(&format!("/api/v1/sites/{}/messages?status=lost", w.site_id))
        .await;
    assert_eq!(status, 422);

    // Expiry, once; the held parcel is untouched.
    travel(&clock, expires_at + HOUR).await;
    travel(&clock, expires_at + 2 * HOUR).await;
    let events = timeline(&w.admin, &first).await;
    assert_eq!(count(&events, "expired"), 1, "{events:?}");
    let expired = events.iter().find(|e| e["kind"] == "expired").unwrap();
    assert!(
        expired["reason"]
            .as_str()
            .unwrap()
            .starts_with("policy v1, rule dwell-limit-96h"),
        "{expired}"
    );
    let state = w.admin.get(&format!("/api/v1/parcels/{first}")).await.1["state"].clone();
    assert_eq!(state, ParcelState::Expired.as_str());
    let held_events = timeline(&w.admin, &held).await;
    assert_eq!(
        count(&held_events, "reminder_sent"),
        0,
        "hold pauses reminders"
    );
    assert_eq!(count(&held_events, "expired"), 0, "hold extends the stay");

    // Back from holiday: the hold's length is added; reminders resume once.
    let (status, _) = w
        .admin
        .post(
            &format!("/api/v1/parcels/{held}/transitions"),
            json!({"action": "release", "reason": "back home"}),
        )
        .await;
    assert_eq!(status, 200);
    let hold_ms = expires_at + 2 * HOUR - (deposited + 1_000);
    let resumed = plan_for(
        &policy,
        &tz,
        &ParcelClock {
            zone: TemperatureZone::Ambient,
            deposited_ms: deposited,
            hold_ms,
            on_hold: false,
            reminded: vec![],
            escalated: false,
        },
    );
    let (r2, e2) = (
        resumed
            .iter()
            .find(|s| matches!(s.due, Due::Reminder { .. }))
            .unwrap()
            .at_ms,
        resumed.iter().find(|s| s.due == Due::Expire).unwrap().at_ms,
    );
    assert!(e2 > expires_at + 2 * HOUR);
    // Exactly at its time (outside quiet hours by construction), then again.
    travel(&clock, r2).await;
    travel(&clock, r2 + 1_000).await;
    assert_eq!(count(&timeline(&w.admin, &held).await, "reminder_sent"), 1);
    travel(&clock, e2 + HOUR).await;
    let held_events = timeline(&w.admin, &held).await;
    assert_eq!(count(&held_events, "reminder_sent"), 1);
    assert_eq!(count(&held_events, "expired"), 1);

    // A restart changes nothing that was done, and does nothing twice.
    p.restart();
    let admin = Client::new(&p.base, cubby_testkit::ADMIN_TOKEN);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    for id in [&first, &held] {
        let events = timeline(&admin, id).await;
        assert_eq!(count(&events, "reminder_sent"), 1);
        assert_eq!(count(&events, "expired"), 1);
    }
}

#[tokio::test]
async fn expired_parcels_reach_their_carrier_who_takes_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let clock = dir.path().join("clock");
    let p = CubbyProcess::start_with(
        bin(),
        None,
        vec!["--test-clock-file".into(), clock.display().to_string()],
    );
    let w = seed(&p, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let org = site["organisation_id"].clone();
    let token = |carrier: &str| {
        let admin = w.admin.clone();
        let (org, carrier) = (org.clone(), carrier.to_string());
        async move {
            let t = admin
                .created(
                    "/api/v1/tokens",
                    json!({"role": "carrier", "organisation_id": org, "carrier": carrier, "label": "api"}),
                )
                .await;
            Client::new(&admin_base(&admin), t["token"].as_str().unwrap())
        }
    };
    let dhl = token("dhl").await;
    let ups = token("ups").await;

    // The carrier subscribes to its own parcels; pick-up timing is not its business.
    let (url, received) = crate::webhooks::endpoint(0).await;
    let (status, e) = dhl
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["parcel.*"]}),
        )
        .await;
    assert_eq!(status, 422, "{e}");
    let hook = dhl
        .created(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["parcel.expired", "parcel.returned"]}),
        )
        .await;
    assert_eq!(hook["carrier"], "dhl");
    let secret = hook["secret"].as_str().unwrap().to_string();

    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RB123456785GB", &w.residents[0], 60),
        )
        .await;
    let parcel_id = d["parcel_id"].as_str().unwrap().to_string();
    let deposited = at_ms(&timeline(&w.admin, &parcel_id).await[0]);
    // Five days later (the default ambient limit) it expires.
    travel(&clock, deposited + 121 * HOUR).await;
    let state = w.admin.get(&format!("/api/v1/parcels/{parcel_id}")).await.1["state"].clone();
    assert_eq!(state, "expired");

    // DHL hears of it, signed; UPS sees nothing of DHL's.
    let got = eventually(15, "the carrier's webhook", || async {
        let list = received.lock().unwrap().clone();
        list.into_iter().find(|(_, b)| b.contains("parcel.expired"))
    })
    .await;
    if crate::webhooks::reference_available() {
        assert!(crate::webhooks::reference_verifies(&secret, &got.0, &got.1));
    }
    let (_, queue) = dhl
        .get(&format!("/api/v1/lockers/{}/returns", w.locker_id))
        .await;
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(queue[0]["parcel_id"], parcel_id.as_str());
    let (_, none) = ups
        .get(&format!("/api/v1/lockers/{}/returns", w.locker_id))
        .await;
    assert_eq!(none, json!([]));
    let (status, _) = ups
        .post(&format!("/api/v1/parcels/{parcel_id}/return"), json!({}))
        .await;
    assert_eq!(status, 404, "another carrier cannot take it");

    let (status, r) = dhl
        .post(&format!("/api/v1/parcels/{parcel_id}/return"), json!({}))
        .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["state"], "returned_to_carrier");
    let (status, again) = dhl
        .post(&format!("/api/v1/parcels/{parcel_id}/return"), json!({}))
        .await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("not_in_return_queue"))
    );
    eventually(15, "parcel.returned", || async {
        received
            .lock()
            .unwrap()
            .iter()
            .any(|(_, b)| b.contains("parcel.returned"))
            .then_some(())
    })
    .await;
    // Nothing about the pick-up side ever reached the carrier.
    assert!(
        received
            .lock()
            .unwrap()
            .iter()
            .all(|(_, b)| !b.contains("picked_up") && !b.contains("reminder"))
    );
}

fn admin_base(c: &Client) -> String {
    c.base.clone()
}

#[tokio::test]
async fn sites_override_templates_that_are_checked_before_they_are_stored() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let path = |k: &str, l: &str, part: &str| {
        format!("/api/v1/sites/{}/templates/{k}/{l}/{part}", w.site_id)
    };
    for (url, source, field) in [
        (
            path("parcel_ready", "en", "subject"),
            "{{ merchant }}",
            "source",
        ),
        (path("parcel_ready", "en", "subject"), "{% if %}", "source"),
        (path("parcel_ready", "fr", "subject"), "Hi", "language"),
        (path("gift", "en", "subject"), "Hi", "kind"),
    ] {
        let (status, e) = w.admin.put(&url, json!({"source": source})).await;
        assert_eq!(
            (status, e["details"]["field"].as_str()),
            (422, Some(field)),
            "{e}"
        );
    }
    let (status, t) = w
        .admin
        .put(
            &path("parcel_ready", "en", "subject"),
            json!({"source": "Parcel for {{ recipient_name }} at {{ locker_name }}"}),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    let (_, list) = w
        .admin
        .get(&format!("/api/v1/sites/{}/templates", w.site_id))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    w.admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RB123456785GB", &w.residents[0], 60),
        )
        .await;
    let notice = eventually(10, "the notice", || async {
        p.outbox()
            .into_iter()
            .find(|m| m["to"] == "anna@example.org")
    })
    .await;
    assert_eq!(
        notice["rendered"]["subject"], "Parcel for Anna Kowalska at Lobby",
        "{notice}"
    );
    // The rest stays built in, and carries the code.
    let code = notice["payload"]["code"].as_str().unwrap();
    assert!(notice["rendered"]["text"].as_str().unwrap().contains(code));

    let (status, _) = w.admin.delete(&path("parcel_ready", "en", "subject")).await;
    assert_eq!(status, 204);
    let (status, _) = w.admin.delete(&path("parcel_ready", "en", "subject")).await;
    assert_eq!(status, 404);
}

/// Quiet hours end at 07:00 local on the night the clocks go back (Warsaw,
/// 25 October 2026): a reminder due at 23:30 CEST waits until 07:00 CET,
/// which is 06:00 UTC, not 05:00 or 07:00.
#[tokio::test]
async fn a_reminder_due_on_the_night_the_clocks_change_goes_out_at_seven_local() {
    use cubby_domain::dims::Dimensions;
    use cubby_domain::tracking::TrackingNumber;
    use cubby_store as db;
    use cubby_store::parcels::DepositRequest;
    use cubby_store::parcels::Recipient;
    use cubby_store::{Store, StoreConfig};

    let dir = tempfile::tempdir().unwrap();
    let clock = dir.path().join("clock");
    let utc = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
    let deposited = utc("2026-10-23T21:30:00Z"); // 23:30 CEST
    set_clock(&clock, deposited);
    let mut p = CubbyProcess::start_with(
        bin(),
        None,
        vec!["--test-clock-file".into(), clock.display().to_string()],
    );
    let w = seed(&p, small_bank()).await;
    let mut policy = SitePolicy::default();
    policy.dwell_limit_hours.ambient = 48;
    policy.reminders.truncate(1);
    policy.escalate_after_hours = None;
    let (status, _) = w
        .admin
        .put(
            &format!("/api/v1/sites/{}/policy", w.site_id),
            serde_json::to_value(&policy).unwrap(),
        )
        .await;
    assert_eq!(status, 200);

    // A parcel deposited at 23:30 CEST on Friday 23 October.
    p.kill();
    let store = Store::open(&StoreConfig::sqlite_in(&p.data_dir))
        .await
        .unwrap();
    let req = DepositRequest {
        parcel_id: format!("par_{:032x}", 42),
        locker_id: w.locker_id.clone(),
        tracking_number: TrackingNumber::parse("RB123456785GB").unwrap(),
        carrier: Some("dhl".into()),
        recipient: Recipient::Resident(w.residents[0].clone()),
        dims: Dimensions::new(300, 60, 200),
        weight_g: None,
        temperature: TemperatureZone::Ambient,
        actor: "test".into(),
        now: deposited,
        placed_at: None,
        reservation_id: None,
        overflow_to_nearest: false,
    };
    let secrets = crate::planning::secrets(42);
    let parcel_id = store
        .transact(move |conn| {
            Box::pin(async move {
                db::parcels::deposit(conn, &req, &secrets)
                    .await
                    .map(|o| o.parcel.id)
            })
        })
        .await
        .unwrap();
    store.flush().await.unwrap();
    drop(store);
    p.spawn();
    let admin = Client::new(&p.base, cubby_testkit::ADMIN_TOKEN);

    // Due at 23:30 CEST on Saturday (24 h before the expiry): quiet hours.
    travel(&clock, utc("2026-10-24T21:31:00Z")).await;
    assert_eq!(
        count(&timeline(&admin, &parcel_id).await, "reminder_sent"),
        0
    );
    // 06:59 CET on Sunday, after the clocks went back at 03:00: still quiet.
    travel(&clock, utc("2026-10-25T05:59:00Z")).await;
    assert_eq!(
        count(&timeline(&admin, &parcel_id).await, "reminder_sent"),
        0
    );
    // 07:00 CET = 06:00 UTC.
    travel(&clock, utc("2026-10-25T06:00:00Z")).await;
    let events = timeline(&admin, &parcel_id).await;
    assert_eq!(count(&events, "reminder_sent"), 1, "{events:?}");
    let reminder = events
        .iter()
        .find(|e| e["kind"] == "reminder_sent")
        .unwrap();
    assert_eq!(at_ms(reminder), utc("2026-10-25T06:00:00Z"));
    // Expiry 48 real hours after the deposit (22:30 CET), once.
    travel(&clock, utc("2026-10-25T21:29:00Z")).await;
    assert_eq!(count(&timeline(&admin, &parcel_id).await, "expired"), 0);
    travel(&clock, utc("2026-10-25T21:31:00Z")).await;
    assert_eq!(count(&timeline(&admin, &parcel_id).await, "expired"), 1);
}
