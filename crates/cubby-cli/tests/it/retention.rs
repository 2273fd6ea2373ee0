//! Retention through the real binary, over simulated months on SQLite and
//! PostgreSQL: the server reads its clock from a file the test moves, and
//! the retention job deletes what the site's policy says, when it says, once,
//! recording counts in the audit log that still verifies.

use std::path::Path;

use cubby_domain::policy::{Retention, SitePolicy};
use cubby_testkit::{Client, CubbyProcess, eventually, fresh_postgres_database};
use serde_json::{Value, json};

use crate::policies::set_clock;
use crate::{bin, now_ms, parcel, seed, small_bank};

const DAY: i64 = 24 * 3_600_000;

async fn purges(admin: &Client) -> Vec<Value> {
    let (status, body) = admin
        .get("/api/v1/audit-events?action=retention.purged")
        .await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().cloned().unwrap_or_default()
}

/// Moves the clock and waits for the retention job to record its run of
/// `target` (None: waits long enough to show it records nothing).
async fn travel(admin: &Client, clock: &Path, ms: i64, target: Option<&str>) -> Vec<Value> {
    let before = purges(admin).await.len();
    set_clock(clock, ms);
    match target {
        Some(target) => {
            eventually(20, "a retention run", || async {
                let events = purges(admin).await;
                (events.len() > before && events.iter().any(|e| e["target"] == target))
                    .then_some(events)
            })
            .await
        }
        None => {
            tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
            let events = purges(admin).await;
            assert_eq!(events.len(), before, "nothing was due: {events:?}");
            events
        }
    }
}

async fn parcel_view(admin: &Client, id: &str) -> Value {
    let (status, body) = admin.get(&format!("/api/v1/parcels/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn months_of_retention(p: &CubbyProcess, clock: &Path) {
    let t0 = now_ms();
    set_clock(clock, t0);
    let w = seed(p, small_bank()).await;
    let site_target = format!("site:{}", w.site_id);
    // Door and access events are kept 60 days here, shorter than the rule.
    let policy = SitePolicy {
        quiet_hours: None,
        retention: Retention {
            access_days: 60,
            ..Retention::default()
        },
        ..SitePolicy::default()
    };
    let (status, saved) = w
        .admin
        .put(
            &format!("/api/v1/sites/{}/policy", w.site_id),
            serde_json::to_value(&policy).unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    let mut too_long = serde_json::to_value(&policy).unwrap();
    too_long["retention"]["parcel_days"] = json!(31);
    let (status, refused) = w
        .admin
        .put(&format!("/api/v1/sites/{}/policy", w.site_id), too_long)
        .await;
    assert_eq!(
        (status, refused["details"]["field"].as_str()),
        (422, Some("retention.parcel_days")),
        "{refused}"
    );

    let collected = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RETAIN0001", &w.residents[0], 60),
        )
        .await;
    let waiting = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RETAIN0002", &w.residents[1], 60),
        )
        .await;
    let (collected, waiting) = (
        collected["parcel_id"].as_str().unwrap().to_string(),
        waiting["parcel_id"].as_str().unwrap().to_string(),
    );
    let msgs = p.wait_outbox(2).await;
    let code = msgs
        .iter()
        .find_map(|m| m["payload"]["code"].as_str())
        .unwrap()
        .to_string();
    let (status, picked) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/pickups", w.locker_id),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, 200, "{picked}");
    let courier = w.courier_account("dhl").await;
    w.admin
        .created(
            &format!("/api/v1/lockers/{}/courier-passes", w.locker_id),
            json!({"carrier": "dhl", "courier_id": courier["courier_id"], "valid_minutes": 60}),
        )
        .await;

    // Eva moves out; her row waits for the parcel period, then is erased.
    let eva = w.residents[2].clone();
    let (status, body) = w
        .admin
        .post(&format!("/api/v1/residents/{eva}/move-out"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");

    // Day 29: nothing has expired yet.
    travel(&w.admin, clock, t0 + 29 * DAY, None).await;
    let (status, _) = w.admin.get(&format!("/api/v1/residents/{eva}")).await;
    assert_eq!(status, 200, "a moved-out resident's row waits");
    let kept = parcel_view(&w.admin, &collected).await;
    assert_eq!(kept["tracking_number"], "RETAIN0001");

    // Day 31: the collected parcel loses its recipient and tracking number,
    // and its notices go; the parcel still waiting keeps everything.
    let events = travel(&w.admin, clock, t0 + 31 * DAY, Some(&site_target)).await;
    let run = events.iter().find(|e| e["target"] == site_target).unwrap();
    let reason = run["reason"].as_str().unwrap();
    assert!(
        reason.contains("parcels=1") && reason.contains("notices=2"),
        "{reason}"
    );
    assert!(reason.contains("moved_out_residents=1"), "{reason}");
    assert!(!reason.contains("courier_passes"), "{reason}");
    let (status, _) = w.admin.get(&format!("/api/v1/residents/{eva}")).await;
    assert_eq!(status, 404, "erased after the parcel period");
    assert!(reason.starts_with("policy v1:"), "{reason}");
    let gone = parcel_view(&w.admin, &collected).await;
    assert_eq!(gone["tracking_number"], "");
    assert_eq!(
        gone["recipient"],
        json!({"resident_id": null, "unit": null, "name": null})
    );
    assert_eq!(
        gone["events"].as_array().map(Vec::len),
        kept["events"].as_array().map(Vec::len),
        "the custody chain is kept"
    );
    let still = parcel_view(&w.admin, &waiting).await;
    assert_eq!(still["tracking_number"], "RETAIN0002");

    // Once: hours later the same policy finds nothing new.
    travel(&w.admin, clock, t0 + 31 * DAY + 2 * 3_600_000, None).await;

    // Day 61: the courier pass (an access record) goes, by this site's 60 days.
    let events = travel(&w.admin, clock, t0 + 61 * DAY, Some(&site_target)).await;
    let reason = events[0]["reason"].as_str().unwrap();
    assert!(reason.contains("courier_passes=1"), "{reason}");

    // A year on: the audit log loses its first events and still verifies.
    let events = travel(&w.admin, clock, t0 + 367 * DAY, Some("installation")).await;
    let reason = events[0]["reason"].as_str().unwrap();
    assert!(reason.contains("audit_events="), "{reason}");
    let (_, left) = w.admin.get("/api/v1/audit-events?limit=500").await;
    assert!(
        left["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "retention.purged"),
        "only this year's events are left: {left}"
    );
}

/// `cubby audit verify` on the server's database.
fn audit_verifies(p: &CubbyProcess, url: Option<&str>) {
    let mut cmd = std::process::Command::new(bin());
    cmd.args(["audit", "verify", "--data-dir"]).arg(&p.data_dir);
    match url {
        Some(url) => cmd.env("CUBBY_DATABASE_URL", url),
        None => cmd.env_remove("CUBBY_DATABASE_URL"),
    };
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("security audit log"), "{text}");
}

#[tokio::test]
async fn retention_over_simulated_months_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let clock = dir.path().join("clock");
    let mut p = CubbyProcess::start_with(
        bin(),
        None,
        vec!["--test-clock-file".into(), clock.display().to_string()],
    );
    months_of_retention(&p, &clock).await;
    p.kill();
    audit_verifies(&p, None);
}

#[tokio::test]
async fn retention_over_simulated_months_on_postgres() {
    let Some(url) = fresh_postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let clock = dir.path().join("clock");
    let p = CubbyProcess::start_with(
        bin(),
        Some(url.clone()),
        vec!["--test-clock-file".into(), clock.display().to_string()],
    );
    months_of_retention(&p, &clock).await;
    audit_verifies(&p, Some(&url));
}
