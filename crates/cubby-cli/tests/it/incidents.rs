//! Incidents as a workflow through the real binary: a keypad locked by
//! wrong codes at the API raises one; staff acknowledge, assign, comment
//! and resolve it, each step with its actor in the security audit log;
//! nothing changes it once resolved.

use cubby_testkit::{Client, CubbyProcess};
use serde_json::json;

use crate::trust::carrier_token;
use crate::{bin, seed, small_bank};

#[tokio::test]
async fn an_incident_is_acknowledged_assigned_commented_and_resolved_with_each_step_audited() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let org = site["organisation_id"].clone();
    // Someone tries codes at the locker until its keypad locks.
    for n in 0..12 {
        w.admin
            .post(
                &format!("/api/v1/lockers/{}/pickups", w.locker_id),
                json!({"code": format!("{:08}", 10_000_000 + n)}),
            )
            .await;
    }
    let (_, incidents) = w
        .admin
        .get(&format!("/api/v1/sites/{}/incidents", w.site_id))
        .await;
    let locked = incidents
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "keypad_locked")
        .unwrap_or_else(|| panic!("{incidents}"))
        .clone();
    assert_eq!(locked["severity"], "warning");
    let id = locked["id"].as_str().unwrap().to_string();
    let path = |step: &str| format!("/api/v1/incidents/{id}/{step}");

    // Not for carriers.
    let dhl = Client::new(&p.base, &carrier_token(&w, &org, "dhl").await);
    let (status, _) = dhl.get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(status, 403);

    let (status, acked) = w.admin.post(&path("acknowledge"), json!({})).await;
    assert_eq!(status, 200, "{acked}");
    let first_ack = acked["acknowledged_ms"].as_i64().unwrap();
    let (_, again) = w.admin.post(&path("acknowledge"), json!({})).await;
    assert_eq!(
        again["acknowledged_ms"].as_i64(),
        Some(first_ack),
        "the first stands"
    );

    let colleague = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "concierge", "organisation_id": org, "label": "night desk"}),
        )
        .await;
    let colleague_id = colleague["id"].as_str().unwrap().to_string();
    let (status, e) = w
        .admin
        .post(
            &path("assign"),
            json!({"token_id": "tok_00000000000000000000000000000000"}),
        )
        .await;
    assert_eq!(
        (status, e["details"]["field"].as_str()),
        (422, Some("token_id")),
        "{e}"
    );
    let (status, assigned) = w
        .admin
        .post(&path("assign"), json!({"token_id": colleague_id}))
        .await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["assigned_to"], colleague_id.as_str());

    let desk = Client::new(&p.base, colleague["token"].as_str().unwrap());
    let (status, e) = desk.post(&path("comments"), json!({"text": " "})).await;
    assert_eq!(
        (status, e["details"]["field"].as_str()),
        (422, Some("text"))
    );
    let (status, commented) = desk
        .post(
            &path("comments"),
            json!({"text": "Camera shows a teenager trying codes; spoke to him."}),
        )
        .await;
    assert_eq!(status, 200, "{commented}");
    assert_eq!(commented["comments"].as_array().unwrap().len(), 1);
    let (status, e) = desk.post(&path("resolve"), json!({})).await;
    assert_eq!(status, 422, "a reason is needed: {e}");
    let (status, resolved) = desk
        .post(
            &path("resolve"),
            json!({"reason": "keypad reset; nothing opened"}),
        )
        .await;
    assert_eq!(status, 200, "{resolved}");
    assert!(resolved["resolved_ms"].is_i64());
    assert_eq!(resolved["resolve_reason"], "keypad reset; nothing opened");
    for (step, body) in [
        ("comments", json!({"text": "late"})),
        ("acknowledge", json!({})),
        ("resolve", json!({"reason": "again"})),
    ] {
        let (status, e) = w.admin.post(&path(step), body).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (409, Some("incident_resolved")),
            "{step}: {e}"
        );
    }

    // Every step is in the security audit log with who did it.
    for (action, actor) in [
        ("incident.acknowledged", None),
        ("incident.assigned", None),
        (
            "incident.commented",
            Some(format!("concierge:{colleague_id}")),
        ),
        (
            "incident.resolved",
            Some(format!("concierge:{colleague_id}")),
        ),
    ] {
        let (_, audit) = w
            .admin
            .get(&format!("/api/v1/audit-events?action={action}"))
            .await;
        let events = audit["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{action}: {audit}");
        assert_eq!(events[0]["target"], format!("incident:{id}"));
        if let Some(actor) = actor {
            assert_eq!(events[0]["actor"], actor.as_str(), "{action}");
        }
    }
    let (_, one) = w.admin.get(&format!("/api/v1/incidents/{id}")).await;
    assert_eq!(
        one["comments"][0]["text"],
        "Camera shows a teenager trying codes; spoke to him."
    );
}

/// A killed agent is `locker_offline` after the grace period (an incident
/// and the `locker.offline` webhook), and `locker.online` when it returns,
/// which resolves the incident.
#[tokio::test]
async fn a_killed_agent_goes_offline_after_the_grace_period_and_online_on_return() {
    let p = CubbyProcess::start_with_env(
        bin(),
        None,
        Vec::new(),
        vec![("CUBBY_OFFLINE_GRACE_SECS".into(), "5".into())],
    );
    let w = seed(&p, small_bank()).await;
    let (url, received) = crate::webhooks::endpoint(0).await;
    w.admin
        .created(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["locker.*", "incident.raised"], "site_id": w.site_id}),
        )
        .await;
    let tmp = tempfile::tempdir().unwrap();
    let (device_id, identity) = crate::edge::provision(&w.admin, &w.locker_id, tmp.path()).await;
    let mut agent = cubby_testkit::AgentProcess::start(
        bin(),
        &identity,
        &tmp.path().join("agent"),
        &p.mqtt,
        &[],
    );
    crate::edge::wait_ready(&w.admin, &w.locker_id, &agent).await;
    let offline_incident = |w: &crate::World| {
        let admin = w.admin.clone();
        let site = w.site_id.clone();
        async move {
            let (_, incidents) = admin.get(&format!("/api/v1/sites/{site}/incidents")).await;
            incidents
                .as_array()?
                .iter()
                .find(|i| i["kind"] == "locker_offline")
                .cloned()
        }
    };
    let started = std::time::Instant::now();
    agent.kill();
    let raised = cubby_testkit::eventually(30, "the locker_offline incident", || async {
        offline_incident(&w).await
    })
    .await;
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(5),
        "not before the grace period: {:?}",
        started.elapsed()
    );
    assert_eq!(raised["device_id"], device_id.as_str());
    assert!(raised["resolved_ms"].is_null());
    let seen = |kind: &'static str| {
        let received = received.clone();
        move || {
            let received = received.clone();
            async move {
                received.lock().unwrap().iter().find_map(|(_, body)| {
                    let v: serde_json::Value = serde_json::from_str(body).ok()?;
                    (v["type"] == kind).then_some(v)
                })
            }
        }
    };
    let offline = cubby_testkit::eventually(20, "locker.offline", seen("locker.offline")).await;
    assert_eq!(offline["data"]["locker_id"], w.locker_id.as_str());

    agent.restart();
    let online = cubby_testkit::eventually(30, "locker.online", seen("locker.online")).await;
    assert_eq!(online["data"]["locker_id"], w.locker_id.as_str());
    assert!(
        online["data"]["offline_seconds"].as_u64() >= Some(5),
        "{online}"
    );
    let closed = offline_incident(&w).await.unwrap();
    assert_eq!(closed["resolved_by"], "system", "{closed}");
    // Only one incident for one outage.
    let (_, incidents) = w
        .admin
        .get(&format!("/api/v1/sites/{}/incidents", w.site_id))
        .await;
    let n = incidents
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "locker_offline")
        .count();
    assert_eq!(n, 1, "{incidents}");
}

/// Credentials a locker accepts or refuses reach integrators as
/// `access.granted` and `access.denied`, signed so that the reference
/// Standard Webhooks package verifies them, with nothing of the code.
#[tokio::test]
async fn access_at_the_locker_is_sent_as_signed_access_events() {
    use crate::webhooks::{reference_available, reference_verifies};
    if !reference_available() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install standardwebhooks (.ci/run does)"
        );
        eprintln!("SKIPPED: pip install standardwebhooks to run this test");
        return;
    }
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let (url, received) = crate::webhooks::endpoint(0).await;
    let hook = w
        .admin
        .created(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["access.*"], "site_id": w.site_id}),
        )
        .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let (_, identity) = crate::edge::provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = cubby_testkit::AgentProcess::start(
        bin(),
        &identity,
        &tmp.path().join("agent"),
        &p.mqtt,
        &[],
    );
    crate::edge::wait_ready(&w.admin, &w.locker_id, &agent).await;
    let d = crate::edge::deposit_into_a01(&w, &agent).await;
    let code = crate::edge::code_for(&p, "anna@example.org").await;
    let (status, _) = agent
        .post("/kiosk/api/pickup", json!({"code": "00000000"}))
        .await;
    assert_eq!(status, 403);
    let opened = crate::edge::collect(&agent, &code).await;
    assert_eq!(opened["opened"], json!(["A01"]));
    let events = cubby_testkit::eventually(20, "both access events", || async {
        let got: Vec<(std::collections::HashMap<String, String>, String)> =
            received.lock().unwrap().clone();
        let types: Vec<String> = got
            .iter()
            .filter_map(|(_, b)| serde_json::from_str::<serde_json::Value>(b).ok())
            .map(|v| v["type"].as_str().unwrap_or("").to_string())
            .collect();
        (types.contains(&"access.denied".to_string())
            && types.contains(&"access.granted".to_string()))
        .then_some(got)
    })
    .await;
    for (headers, body) in &events {
        assert!(reference_verifies(&secret, headers, body), "{body}");
        assert!(
            !body.contains(&code) && !body.contains("00000000"),
            "{body}"
        );
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        match v["type"].as_str().unwrap() {
            "access.denied" => {
                assert_eq!(v["data"]["method"], "keypad");
                assert_eq!(v["data"]["reason"], "no_match");
            }
            "access.granted" => {
                assert_eq!(v["data"]["compartment_labels"], json!(["A01"]));
                assert_eq!(v["data"]["parcel_ids"], json!([d["parcel_id"]]));
                assert_eq!(v["data"]["locker_id"], w.locker_id.as_str());
            }
            other => panic!("unexpected {other}"),
        }
    }
}
