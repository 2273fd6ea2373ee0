//! Delivery scheduling through the real binary, on SQLite and PostgreSQL: a
//! carrier reads the capacity, reserves for tomorrow's delivery slot, another
//! carrier sees what is left, the reserved deposits land in the held
//! compartments, unused holds are released at the window's end, and
//! concurrent reservations never hold more than is free.

use cubby_domain::policy::SitePolicy;
use cubby_domain::reservation::{DeliverySlot, ReservationRules};
use cubby_testkit::{Client, CubbyProcess, eventually, fresh_postgres_database};
use serde_json::{Value, json};

use crate::trust::carrier_token;
use crate::{World, bin, now_ms, seed, small_bank};

const DAY: i64 = 86_400_000;

async fn set_policy(w: &World, reservations: ReservationRules) {
    let policy = SitePolicy {
        reservations,
        ..SitePolicy::default()
    };
    let (status, body) = w
        .admin
        .put(
            &format!("/api/v1/sites/{}/policy", w.site_id),
            serde_json::to_value(&policy).unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Free and reserved ambient compartments of the site, all sizes.
fn ambient(capacity: &Value) -> (u64, u64) {
    let classes = capacity["lockers"][0]["classes"].as_array().unwrap();
    classes
        .iter()
        .filter(|c| c["temperature"] == "ambient")
        .fold((0, 0), |(f, r), c| {
            (
                f + c["free_now"].as_u64().unwrap(),
                r + c["reserved"].as_u64().unwrap(),
            )
        })
}

fn small(tracking: Option<&str>) -> Value {
    match tracking {
        Some(t) => json!({"width_mm": 300, "height_mm": 60, "depth_mm": 200, "tracking_number": t}),
        None => json!({"width_mm": 300, "height_mm": 60, "depth_mm": 200}),
    }
}

async fn reserve(carrier: &Client, w: &World, from: i64, to: i64, parcels: Vec<Value>) -> Value {
    let (status, body) = carrier
        .post(
            &format!("/api/v1/sites/{}/reservations", w.site_id),
            json!({"window": {"from_ms": from, "to_ms": to}, "parcels": parcels}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn scheduling(p: &CubbyProcess) {
    let w = seed(p, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let org = site["organisation_id"].clone();
    let dhl = Client::new(&p.base, &carrier_token(&w, &org, "dhl").await);
    let ups = Client::new(&p.base, &carrier_token(&w, &org, "ups").await);
    // Three of the four ambient compartments may be held; the site takes
    // two reserved parcels in each morning slot.
    set_policy(
        &w,
        ReservationRules {
            max_held_percent: 75,
            delivery_slots: vec![DeliverySlot {
                days: Vec::new(),
                start: "08:00".into(),
                end: "12:00".into(),
                max_parcels: 2,
            }],
            ..ReservationRules::default()
        },
    )
    .await;

    let now = now_ms();
    let capacity_path = format!(
        "/api/v1/sites/{}/capacity?from_ms={now}&to_ms={}",
        w.site_id,
        now + 2 * DAY
    );
    let (status, capacity) = dhl.get(&capacity_path).await;
    assert_eq!(status, 200, "{capacity}");
    assert_eq!(ambient(&capacity), (4, 0));
    let slots = capacity["delivery_slots"].as_array().unwrap().clone();
    // Tomorrow's slot: the first one starting a day or less from now.
    let slot = slots
        .iter()
        .find(|s| s["from_ms"].as_i64().unwrap() > now + DAY - 12 * 3_600_000)
        .unwrap_or_else(|| panic!("no slot tomorrow in {slots:?}"));
    let from = slot["from_ms"].as_i64().unwrap();
    let to = from + 2 * 3_600_000;

    // Outside the slot: refused with the field that is wrong.
    let (status, body) = dhl
        .post(
            &format!("/api/v1/sites/{}/reservations", w.site_id),
            json!({"window": {"from_ms": from - 3_600_000, "to_ms": from}, "parcels": [small(None)]}),
        )
        .await;
    assert_eq!(
        (status, body["details"]["field"].as_str()),
        (422, Some("window")),
        "{body}"
    );

    w.pre_advise("RESERVE001", "dhl").await;
    w.pre_advise("RESERVE002", "dhl").await;
    let r = reserve(
        &dhl,
        &w,
        from,
        to,
        vec![small(Some("RESERVE001")), small(None), small(None)],
    )
    .await;
    assert_eq!(r["expires_at_ms"], to);
    assert_eq!(r["held"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(
        r["refused"],
        json!([{"index": 2, "reason": "slot_full"}]),
        "{r}"
    );
    let rid = r["id"].as_str().unwrap().to_string();

    // UPS sees the reduced capacity and the full slot, and not the
    // reservation itself.
    let (_, seen) = ups.get(&capacity_path).await;
    assert_eq!(ambient(&seen), (2, 2), "{seen}");
    let booked = seen["delivery_slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["from_ms"] == from)
        .unwrap()["booked"]
        .clone();
    assert_eq!(booked, 2);
    let theirs = reserve(&ups, &w, from, to, vec![small(None)]).await;
    assert_eq!(theirs["refused"][0]["reason"], "slot_full", "{theirs}");
    let (status, _) = ups.get(&format!("/api/v1/reservations/{rid}")).await;
    assert_eq!(status, 404, "another carrier's reservation is not found");

    // A UPS parcel for staff to place goes around the held compartments.
    let other = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            json!({"tracking_number": "UPSAROUND1", "carrier": "ups", "recipient": {"resident_id": w.residents[2]},
                   "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    let (_, held_view) = w.admin.get(&format!("/api/v1/reservations/{rid}")).await;
    let held_lockers: Vec<&str> = held_view["held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(held_lockers, ["held", "held"], "{held_view}");
    let around = other["compartment"]["label"].as_str().unwrap().to_string();
    assert!(
        !["A01", "A02"].contains(&around.as_str()),
        "UPS got held {around}"
    );

    // The reserved deposits land in the held compartments: by tracking
    // number, and by naming the reservation.
    let mut labels = Vec::new();
    for (tracking, reservation) in [("RESERVE001", None), ("RESERVE002", Some(rid.as_str()))] {
        let mut body = json!({"tracking_number": tracking, "recipient": {"resident_id": w.residents[0]},
                              "width_mm": 300, "height_mm": 60, "depth_mm": 200});
        if let Some(id) = reservation {
            body["reservation_id"] = json!(id);
        }
        let d = dhl
            .created(&format!("/api/v1/lockers/{}/deposits", w.locker_id), body)
            .await;
        labels.push(d["compartment"]["label"].as_str().unwrap().to_string());
    }
    labels.sort();
    assert_eq!(labels, ["A01", "A02"]);
    let (_, used) = dhl.get(&format!("/api/v1/reservations/{rid}")).await;
    let states: Vec<&str> = used["held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["used", "used"], "{used}");

    // Without slots: a short window's unused hold is released when it ends.
    set_policy(
        &w,
        ReservationRules {
            max_held_percent: 75,
            ..ReservationRules::default()
        },
    )
    .await;
    let start = now_ms();
    let short = reserve(&dhl, &w, start, start + 2_000, vec![small(None)]).await;
    assert_eq!(short["held"][0]["state"], "held", "{short}");
    let sid = short["id"].as_str().unwrap().to_string();
    eventually(15, "the hold released at the window's end", || async {
        let (_, r) = dhl.get(&format!("/api/v1/reservations/{sid}")).await;
        (r["held"][0]["state"] == "released").then_some(())
    })
    .await;

    // Concurrent reservations: only one compartment (C01) is free, so
    // exactly one of six racing requests holds it.
    let tomorrow = now_ms() + DAY;
    let mut racing = Vec::new();
    for _ in 0..6 {
        let dhl = dhl.clone();
        let path = format!("/api/v1/sites/{}/reservations", w.site_id);
        racing.push(tokio::spawn(async move {
            dhl.post(&path, json!({"window": {"from_ms": tomorrow, "to_ms": tomorrow + 3_600_000}, "parcels": [small(None)]}))
                .await
        }));
    }
    let mut held = 0;
    for t in racing {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 201, "{body}");
        held += body["held"].as_array().unwrap().len();
        if body["held"].as_array().unwrap().is_empty() {
            assert_eq!(
                body["refused"][0]["reason"], "no_free_compartment",
                "{body}"
            );
        }
    }
    assert_eq!(held, 1);
    let (_, last) = ups.get(&capacity_path).await;
    assert_eq!(ambient(&last), (0, 1), "{last}");

    // Cancelling releases at once; a deposit naming it is refused after.
    let (status, cancelled) = dhl.delete(&format!("/api/v1/reservations/{rid}")).await;
    assert_eq!(status, 200, "{cancelled}");
    assert!(cancelled["cancelled_ms"].is_i64());
    w.pre_advise("RESERVE003", "dhl").await;
    let (status, late) = dhl
        .post(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            json!({"tracking_number": "RESERVE003", "recipient": {"resident_id": w.residents[1]},
                   "width_mm": 300, "height_mm": 60, "depth_mm": 200, "reservation_id": rid}),
        )
        .await;
    assert_eq!(
        (status, late["code"].as_str()),
        (409, Some("reservation_ended")),
        "{late}"
    );
}

#[tokio::test]
async fn carriers_reserve_capacity_for_a_delivery_slot_on_sqlite() {
    let p = CubbyProcess::start(bin(), None);
    scheduling(&p).await;
}

#[tokio::test]
async fn carriers_reserve_capacity_for_a_delivery_slot_on_postgres() {
    let Some(url) = fresh_postgres_database().await else {
        return;
    };
    let p = CubbyProcess::start(bin(), Some(url));
    scheduling(&p).await;
}

async fn locker_at(w: &World, name: &str, x_m: i64) -> String {
    let l = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/lockers", w.site_id),
            json!({"name": name, "compartments": [{"label": "T01", "width_mm": 380, "height_mm": 410, "depth_mm": 640}]}),
        )
        .await;
    let id = l["id"].as_str().unwrap().to_string();
    place(w, &id, x_m).await;
    id
}

async fn place(w: &World, locker: &str, x_m: i64) {
    let (_, l) = w.admin.get(&format!("/api/v1/lockers/{locker}")).await;
    let (status, body) = w
        .admin
        .patch(
            &format!("/api/v1/lockers/{locker}"),
            json!({"version": l["version"], "plan_position": {"x_m": x_m, "y_m": 0}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["plan_position"]["x_m"], x_m);
}

fn tall(tracking: &str, resident: &str) -> Value {
    json!({"tracking_number": tracking, "carrier": "dhl", "recipient": {"resident_id": resident},
           "width_mm": 300, "height_mm": 400, "depth_mm": 200})
}

/// A full locker offers only the places that can take the parcel, nearest
/// first; with the policy on, the deposit goes to the nearest one at once
/// and the notice names it. A parcel redirected before it arrives is only
/// taken where it was sent.
#[tokio::test]
async fn a_parcel_that_fits_nowhere_overflows_to_the_nearest_place_that_fits() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    place(&w, &w.locker_id, 0).await;
    let garage = locker_at(&w, "Garage", 40).await;
    let porch = locker_at(&w, "Porch", 10).await;
    // The nearest locker's only door is broken: it is never offered.
    let (_, porch_view) = w.admin.get(&format!("/api/v1/lockers/{porch}")).await;
    let door = porch_view["compartments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{porch}/compartments/{door}/status"),
            json!({"status": "out_of_service", "reason": "hinge"}),
        )
        .await;
    assert_eq!(status, 200);

    let deposits = format!("/api/v1/lockers/{}/deposits", w.locker_id);
    let first = w
        .admin
        .created(&deposits, tall("TALL000001", &w.residents[1]))
        .await;
    assert_eq!(first["compartment"]["label"], "C01");
    // Anna has a flat parcel waiting in the lobby.
    let flat = w
        .admin
        .created(
            &deposits,
            json!({"tracking_number": "FLAT000001", "carrier": "dhl", "recipient": {"resident_id": w.residents[0]},
                   "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    assert_eq!(flat["compartment"]["label"], "A01");
    // Notices are sent asynchronously: wait for both, so the count below
    // only sees the overflowed parcel's notice.
    p.wait_outbox(2).await;
    let (status, full) = w
        .admin
        .post(&deposits, tall("TALL000002", &w.residents[0]))
        .await;
    assert_eq!(status, 409, "{full}");
    let offered: Vec<(&str, Option<i64>)> = full["details"]["overflow"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap(), o["distance_m"].as_i64()))
        .collect();
    assert_eq!(
        offered,
        [("Garage", Some(40)), ("Parcel room", None)],
        "{full}"
    );

    let policy = SitePolicy {
        overflow_to_nearest_locker: true,
        ..SitePolicy::default()
    };
    let (status, body) = w
        .admin
        .put(
            &format!("/api/v1/sites/{}/policy", w.site_id),
            serde_json::to_value(&policy).unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let before = p.outbox().len();
    // Anna's second parcel: her first waits in the lobby.
    let moved = w
        .admin
        .created(&deposits, tall("TALL000002", &w.residents[0]))
        .await;
    assert_eq!(
        (
            moved["locker_id"].as_str(),
            moved["overflowed_from"].as_str()
        ),
        (Some(garage.as_str()), Some(w.locker_id.as_str())),
        "{moved}"
    );
    let notices = p.wait_outbox(before + 1).await;
    let notice = notices.last().unwrap().to_string();
    assert!(notice.contains("Garage"), "the notice says where: {notice}");
    // The one code in that notice opens her parcels in both lockers.
    let code = notices.last().unwrap()["payload"]["code"]
        .as_str()
        .expect("a code in the notice")
        .to_string();
    for (locker, label) in [
        (&garage, moved["compartment"]["label"].clone()),
        (&w.locker_id, json!("A01")),
    ] {
        let (status, body) = w
            .admin
            .post(
                &format!("/api/v1/lockers/{locker}/pickups"),
                json!({"code": code}),
            )
            .await;
        assert_eq!(status, 200, "{locker}: {body}");
        assert!(body.to_string().contains(label.as_str().unwrap()), "{body}");
    }

    // Redirected before arrival: the lobby refuses it, the porch takes it.
    let announced = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/announcements", w.site_id),
            json!({"tracking_number": "SMALL00001", "carrier": "dhl", "resident_id": w.residents[2],
                   "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    let parcel = announced["parcel_id"].as_str().unwrap();
    let (status, body) = w
        .admin
        .post(
            &format!("/api/v1/parcels/{parcel}/redirect"),
            json!({"locker_id": porch}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let small = json!({"tracking_number": "SMALL00001", "carrier": "dhl", "recipient": {"resident_id": w.residents[2]},
                       "width_mm": 300, "height_mm": 60, "depth_mm": 200});
    let (status, body) = w.admin.post(&deposits, small.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("parcel_redirected")),
        "{body}"
    );
    let (status, body) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{porch}/compartments/{door}/status"),
            json!({"status": "available"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let there = w
        .admin
        .created(&format!("/api/v1/lockers/{porch}/deposits"), small)
        .await;
    assert_eq!(there["locker_id"], porch);
    // Once it arrived it cannot be redirected again.
    let (status, body) = w
        .admin
        .post(
            &format!("/api/v1/parcels/{parcel}/redirect"),
            json!({"locker_id": garage}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}
