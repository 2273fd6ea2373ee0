//! The deposit → notification → pick-up flow and its rules, on both backends.

use std::collections::BTreeMap;

use cubby_testkit::{Client, CubbyProcess, fresh_postgres_database};
use serde_json::json;

use crate::{bin, parcel, seed, small_bank};

async fn full_flow(p: &CubbyProcess) {
    let w = seed(p, small_bank()).await;
    let l = &w.locker_id;
    // Smallest fit: a 60 mm parcel goes to an A door, a 150 mm one to B.
    let d1 = w
        .admin
        .created(
            &format!("/api/v1/lockers/{l}/deposits"),
            parcel("RB123456785GB", &w.residents[0], 60),
        )
        .await;
    assert!(
        d1["compartment"]["label"]
            .as_str()
            .unwrap()
            .starts_with('A'),
        "{d1}"
    );
    let d2 = w
        .admin
        .created(
            &format!("/api/v1/lockers/{l}/deposits"),
            parcel("1Z5R89390357567127", &w.residents[1], 150),
        )
        .await;
    assert_eq!(d2["compartment"]["label"], "B01");
    // Consolidation: Anna's second flat parcel joins her first compartment.
    let d3 = w
        .admin
        .created(
            &format!("/api/v1/lockers/{l}/deposits"),
            parcel("PARCEL0003", &w.residents[0], 15),
        )
        .await;
    assert_eq!(d3["compartment"]["id"], d1["compartment"]["id"]);
    assert_eq!(d3["consolidated"], true);

    // Notifications: one per deposit, no merchant or contents, the code only once.
    let msgs = p.wait_outbox(3).await;
    let anna: Vec<_> = msgs
        .iter()
        .filter(|m| m["to"] == "anna@example.org")
        .collect();
    assert_eq!(anna.len(), 2);
    let code = anna[0]["payload"]["code"]
        .as_str()
        .expect("first notice carries the code")
        .to_string();
    assert_eq!(code.len(), 8);
    assert!(
        anna[1]["payload"]["code"].is_null(),
        "the second notice reuses the code: {}",
        anna[1]
    );
    assert!(anna[0]["body"].as_str().unwrap().contains(&code));

    // One code collects both of Anna's parcels.
    let (status, picked) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{l}/pickups"),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, 200, "{picked}");
    let ids: Vec<_> = picked["parcels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["parcel_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    // The code is single-use: it is spent once nothing is left to collect.
    let (again, body) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{l}/pickups"),
            json!({"code": code}),
        )
        .await;
    assert_eq!((again, body["code"].as_str()), (403, Some("code_rejected")));

    // Jan collects by QR token.
    let jan = msgs.iter().find(|m| m["to"] == "jan@example.org").unwrap();
    let qr = jan["payload"]["qr_token"].as_str().unwrap();
    assert_eq!(qr.len(), 32);
    let (status, _) = w
        .admin
        .post(&format!("/api/v1/lockers/{l}/pickups"), json!({"code": qr}))
        .await;
    assert_eq!(status, 200);

    // Timeline: every step recorded with actor, time, place and reason.
    let (status, parcel) = w.admin.get(&format!("/api/v1/parcels/{}", ids[0])).await;
    assert_eq!(status, 200);
    assert_eq!(parcel["state"], "picked_up");
    let kinds: Vec<_> = parcel["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["deposited", "picked_up"]);
    let ev = &parcel["events"][0];
    assert!(ev["actor"].as_str().unwrap().starts_with("admin:"));
    assert!(ev["place"].as_str().unwrap().contains("Lobby"));
    assert!(ev["at"].as_str().unwrap().ends_with('Z'));

    // Everything collected: every compartment is free again.
    let (_, locker) = w.admin.get(&format!("/api/v1/lockers/{l}")).await;
    assert!(
        locker["compartments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["state"] == "available"),
        "{locker}"
    );
}

#[tokio::test]
async fn deposit_notify_pickup_on_sqlite() {
    let p = CubbyProcess::start(bin(), None);
    full_flow(&p).await;
}

#[tokio::test]
async fn deposit_notify_pickup_on_postgres() {
    let Some(url) = fresh_postgres_database().await else {
        return;
    };
    let p = CubbyProcess::start(bin(), Some(url));
    full_flow(&p).await;
}

async fn no_double_booking(p: &CubbyProcess) {
    // 40 compartments, 70 concurrent deposits for 70 different people.
    let doors: Vec<_> = (0..40).map(|i| json!({"label": format!("D{i:02}"), "width_mm": 380, "height_mm": 190, "depth_mm": 640})).collect();
    let w = seed(p, json!(doors)).await;
    let mut residents = Vec::new();
    for i in 0..70 {
        let r = w
            .admin
            .created(
                &format!("/api/v1/sites/{}/residents", w.site_id),
                json!({"name": format!("Person {i}"), "unit": format!("U{i}")}),
            )
            .await;
        residents.push(r["id"].as_str().unwrap().to_string());
    }
    let mut tasks = Vec::new();
    for (i, r) in residents.iter().enumerate() {
        let (c, l, r): (Client, String, String) = (w.admin.clone(), w.locker_id.clone(), r.clone());
        tasks.push(tokio::spawn(async move {
            c.post(
                &format!("/api/v1/lockers/{l}/deposits"),
                crate::parcel(&format!("RACE{i:06}"), &r, 100),
            )
            .await
        }));
    }
    let mut by_compartment: BTreeMap<String, usize> = BTreeMap::new();
    let (mut ok, mut full) = (0, 0);
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            201 => {
                ok += 1;
                *by_compartment
                    .entry(body["compartment"]["id"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
            409 => {
                assert_eq!(body["code"], "no_compartment_fits");
                assert_eq!(body["details"]["reason"]["reason"], "all_occupied");
                full += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((ok, full), (40, 30));
    assert!(
        by_compartment.values().all(|&n| n == 1),
        "a compartment was booked twice: {by_compartment:?}"
    );
}

#[tokio::test]
async fn concurrent_deposits_never_double_book_on_sqlite() {
    let p = CubbyProcess::start(bin(), None);
    no_double_booking(&p).await;
}

#[tokio::test]
async fn concurrent_deposits_never_double_book_on_postgres() {
    let Some(url) = fresh_postgres_database().await else {
        return;
    };
    let p = CubbyProcess::start(bin(), Some(url));
    no_double_booking(&p).await;
}

#[tokio::test]
async fn nothing_fits_answers_409_with_overflow_options() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let huge = json!({"tracking_number": "HUGE000001", "recipient": {"resident_id": w.residents[0]}, "width_mm": 900, "height_mm": 900, "depth_mm": 900});
    let (status, body) = w
        .admin
        .post(&format!("/api/v1/lockers/{}/deposits", w.locker_id), huge)
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["code"], "no_compartment_fits");
    assert_eq!(body["details"]["reason"]["reason"], "too_large");
    assert_eq!(body["details"]["overflow"][0]["kind"], "parcel_room");
    // Frozen goods in a locker with no freezer.
    let frozen = json!({"tracking_number": "COLD000001", "recipient": {"resident_id": w.residents[0]}, "width_mm": 100, "height_mm": 100, "depth_mm": 100, "temperature": "frozen"});
    let (status, body) = w
        .admin
        .post(&format!("/api/v1/lockers/{}/deposits", w.locker_id), frozen)
        .await;
    assert_eq!(
        (status, body["details"]["reason"]["reason"].as_str()),
        (409, Some("no_such_zone"))
    );
    // Chilled goods go to the chilled door.
    let chilled = json!({"tracking_number": "COLD000002", "recipient": {"resident_id": w.residents[1]}, "width_mm": 100, "height_mm": 100, "depth_mm": 100, "temperature": "chilled"});
    let body = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            chilled,
        )
        .await;
    assert_eq!(body["compartment"]["label"], "K01");
    // A parcel for an unknown recipient waits in the manager queue.
    let unknown = json!({"tracking_number": "LOST000001", "recipient": {"unit": "Z-9", "name": "Nobody Here"}, "width_mm": 100, "height_mm": 50, "depth_mm": 100});
    let body = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            unknown,
        )
        .await;
    assert_eq!(
        (body["state"].as_str(), body["recipient_known"].as_bool()),
        (Some("unassigned"), Some(false))
    );
    let (_, queue) = w
        .admin
        .get(&format!(
            "/api/v1/sites/{}/parcels?state=unassigned",
            w.site_id
        ))
        .await;
    assert_eq!(queue.as_array().unwrap().len(), 1);
    // Staff assigns it; the resident is notified with a code and can collect.
    let pid = body["parcel_id"].as_str().unwrap();
    let (status, t) = w
        .admin
        .post(
            &format!("/api/v1/parcels/{pid}/transitions"),
            json!({"action": "assign", "resident_id": w.residents[2]}),
        )
        .await;
    assert_eq!(
        (status, t["state"].as_str()),
        (200, Some("deposited")),
        "{t}"
    );
    let msgs = p.wait_outbox(2).await;
    let eva = msgs
        .iter()
        .find(|m| m["to"] == "eva@example.org")
        .expect("Eva is notified");
    let (status, _) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/pickups", w.locker_id),
            json!({"code": eva["payload"]["code"]}),
        )
        .await;
    assert_eq!(status, 200);
    // Illegal transition: a collected parcel cannot be put on hold.
    let (status, body) = w
        .admin
        .post(
            &format!("/api/v1/parcels/{pid}/transitions"),
            json!({"action": "hold"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("illegal_transition"))
    );
}

#[tokio::test]
async fn pre_advice_becomes_the_deposited_parcel() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let a = w
        .admin
        .created(&format!("/api/v1/sites/{}/announcements", w.site_id), json!({"tracking_number": "RB123456785GB", "carrier": "dhl", "resident_id": w.residents[0], "width_mm": 300, "height_mm": 60, "depth_mm": 200}))
        .await;
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RB123456785GB", &w.residents[0], 60),
        )
        .await;
    assert_eq!(a["parcel_id"], d["parcel_id"]);
    let (_, seen) = w
        .admin
        .get(&format!(
            "/api/v1/parcels/{}",
            d["parcel_id"].as_str().unwrap()
        ))
        .await;
    let kinds: Vec<_> = seen["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["announced", "deposited"]);
    // The same tracking number cannot be deposited twice while it is inside.
    let (status, body) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RB123456785GB", &w.residents[0], 60),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("parcel_already_deposited"))
    );
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let path = format!("/api/v1/lockers/{}/deposits", w.locker_id);
    let body = parcel("IDEM000001", &w.residents[0], 60);
    let ((s1, b1), h1) = w.admin.post_with(&path, body.clone(), Some("key-1")).await;
    let ((s2, b2), h2) = w.admin.post_with(&path, body.clone(), Some("key-1")).await;
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(b1, b2);
    assert!(h1.get("idempotent-replayed").is_none());
    assert_eq!(
        h2.get("idempotent-replayed").map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let (_, list) = w
        .admin
        .get(&format!("/api/v1/sites/{}/parcels", w.site_id))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "one parcel, not two");
    // Same key, different request: refused, nothing changes.
    let ((s3, b3), _) = w
        .admin
        .post_with(
            &path,
            parcel("IDEM000002", &w.residents[1], 60),
            Some("key-1"),
        )
        .await;
    assert_eq!(
        (s3, b3["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    let (_, list) = w
        .admin
        .get(&format!("/api/v1/sites/{}/parcels", w.site_id))
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Only one notification went out.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(p.outbox().len(), 1);
}

#[tokio::test]
async fn keypad_lockout_is_uniform_and_survives_restart() {
    let mut p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let l = w.locker_id.clone();
    w.admin
        .created(
            &format!("/api/v1/lockers/{l}/deposits"),
            parcel("LOCK000001", &w.residents[0], 60),
        )
        .await;
    let msgs = p.wait_outbox(1).await;
    let good = msgs[0]["payload"]["code"].as_str().unwrap().to_string();
    let qr = msgs[0]["payload"]["qr_token"].as_str().unwrap().to_string();
    let wrong = if good == "00000000" {
        "00000001"
    } else {
        "00000000"
    };
    // "Wrong code" and "not even a code" read exactly alike.
    let (s_wrong, b_wrong) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{l}/pickups"),
            json!({"code": wrong}),
        )
        .await;
    let (s_junk, b_junk) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{l}/pickups"),
            json!({"code": "no-such-parcel"}),
        )
        .await;
    assert_eq!((s_wrong, &b_wrong), (s_junk, &b_junk));
    assert_eq!(b_wrong["code"], "code_rejected");
    for _ in 0..8 {
        let (s, _) = w
            .admin
            .post(
                &format!("/api/v1/lockers/{l}/pickups"),
                json!({"code": wrong}),
            )
            .await;
        assert_eq!(s, 403);
    }
    // The tenth consecutive failure locks the keypad, even for the right code.
    let res = w
        .admin
        .http
        .post(p.url(&format!("/api/v1/lockers/{l}/pickups")))
        .bearer_auth(&w.admin.token)
        .json(&json!({"code": good}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=90).contains(&retry), "retry-after {retry}");
    // kill -9 and start again: the lockout is still there.
    p.restart();
    let admin = Client::new(&p.base, cubby_testkit::ADMIN_TOKEN);
    let (s, b) = admin
        .post(
            &format!("/api/v1/lockers/{l}/pickups"),
            json!({"code": good}),
        )
        .await;
    assert_eq!((s, b["code"].as_str()), (429, Some("keypad_locked")));
    // QR pick-up is not throttled by the keypad lockout.
    let (s, b) = admin
        .post(&format!("/api/v1/lockers/{l}/pickups"), json!({"code": qr}))
        .await;
    assert_eq!(s, 200, "{b}");
}
