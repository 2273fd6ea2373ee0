//! Residents and couriers acting for themselves, through the real binaries:
//! household members, holds and vacation, delegate codes at a real agent,
//! personal courier accounts with per-visit PINs, and an open-shelf parcel
//! room entered once with a room code.

use std::time::Duration;

use cubby_boards::LockAddress;
use cubby_testkit::{AgentProcess, Client, CubbyProcess, eventually};
use serde_json::{Value, json};

use crate::access::{LOBBY_LOCK, first_open, hour, settled_releases, site, type_pin, walk_through};
use crate::edge::{
    code_for, collect, deposit_into_a01, provision, settled_cache, wait_door, wait_open, wait_ready,
};
use crate::{World, bin, now_ms, seed, small_bank};

const DAY: i64 = 86_400_000;

/// A resident token for `resident_id`, issued by staff.
async fn resident_client(p: &CubbyProcess, w: &World, resident_id: &str) -> Client {
    let t = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "resident", "resident_id": resident_id, "organisation_id": org_of(w).await, "label": "resident app"}),
        )
        .await;
    Client::new(&p.base, t["token"].as_str().unwrap())
}

async fn org_of(w: &World) -> String {
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    site["organisation_id"].as_str().unwrap().to_string()
}

fn by_label(tracking: &str, unit: &str, name: &str, h: u32) -> Value {
    json!({"tracking_number": tracking, "carrier": "dhl", "recipient": {"unit": unit, "name": name},
           "width_mm": 300, "height_mm": h, "depth_mm": 200})
}

fn for_resident(tracking: &str, resident: &str, h: u32) -> Value {
    json!({"tracking_number": tracking, "carrier": "dhl", "recipient": {"resident_id": resident},
           "width_mm": 300, "height_mm": h, "depth_mm": 200})
}

async fn state_of(c: &Client, parcel_id: &str) -> Value {
    c.get(&format!("/api/v1/parcels/{parcel_id}")).await.1
}

#[tokio::test]
async fn a_resident_adds_and_removes_household_members_who_get_their_own_parcels() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let anna = resident_client(&p, &w, &w.residents[0]).await;
    let jan = resident_client(&p, &w, &w.residents[1]).await;

    let (status, me) = anna.get("/api/v1/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["unit"], "A-1");
    // A resident token is not a staff token.
    let (status, _) = anna
        .get(&format!("/api/v1/sites/{}/parcels", w.site_id))
        .await;
    assert_eq!(status, 403);

    // Another unit is refused; the member lands in Anna's unit.
    let (status, body) = anna
        .post(
            "/api/v1/me/household",
            json!({"name": "Piotr Kowalski", "unit": "B-7", "email": "piotr@example.org"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_input")),
        "{body}"
    );
    let piotr = anna
        .created(
            "/api/v1/me/household",
            json!({"name": "Piotr Kowalski", "unit": "A-1", "email": "piotr@example.org", "language": "pl"}),
        )
        .await;
    assert_eq!(piotr["added_by"], w.residents[0].as_str());
    let piotr_id = piotr["id"].as_str().unwrap().to_string();
    let (_, household) = anna.get("/api/v1/me/household").await;
    let names: Vec<&str> = household
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Anna Kowalska", "Piotr Kowalski"]);

    // A parcel labelled for him is his: he is told, with his own code.
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            by_label("HOUSEHOLD001", "A-1", "Piotr Kowalski", 60),
        )
        .await;
    assert_eq!(d["recipient_known"], true, "{d}");
    let parcel = state_of(&w.admin, d["parcel_id"].as_str().unwrap()).await;
    assert_eq!(parcel["recipient"]["resident_id"], piotr_id.as_str());
    let code = code_for(&p, "piotr@example.org").await;
    assert_eq!(code.len(), 8);
    let piotr_client = resident_client(&p, &w, &piotr_id).await;
    let (_, mine) = piotr_client.get("/api/v1/me/parcels").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (_, annas) = anna.get("/api/v1/me/parcels").await;
    assert_eq!(annas.as_array().unwrap().len(), 0, "not Anna's parcel");

    // Jan, of another unit, cannot remove Piotr; Anna cannot remove herself
    // nor a resident staff registered.
    let (status, _) = jan
        .post(
            &format!("/api/v1/me/household/{piotr_id}/remove"),
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = anna
        .post(
            &format!("/api/v1/me/household/{}/remove", w.residents[0]),
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
    let staff_added = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/residents", w.site_id),
            json!({"name": "Ola Kowalska", "unit": "A-1"}),
        )
        .await;
    let (status, body) = anna
        .post(
            &format!(
                "/api/v1/me/household/{}/remove",
                staff_added["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("added_by_staff"))
    );

    // Removed: his token stops working and new parcels are no longer his.
    let (status, _) = anna
        .post(
            &format!("/api/v1/me/household/{piotr_id}/remove"),
            json!({}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = piotr_client.get("/api/v1/me").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_revoked"))
    );
    // The token list says when his token was revoked.
    let (_, tokens) = w.admin.get("/api/v1/tokens").await;
    let revoked: Vec<i64> = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["role"] == "resident" && !t["revoked_at_ms"].is_null())
        .map(|t| t["revoked_at_ms"].as_i64().unwrap())
        .collect();
    assert!(
        !revoked.is_empty() && revoked.iter().all(|&ms| ms > 0),
        "{tokens}"
    );
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            by_label("HOUSEHOLD002", "A-1", "Piotr Kowalski", 60),
        )
        .await;
    assert_eq!(d["recipient_known"], false, "{d}");
}

#[tokio::test]
async fn holds_and_vacation_keep_parcels_from_expiring_and_stay_the_residents_own() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let anna = resident_client(&p, &w, &w.residents[0]).await;
    let jan = resident_client(&p, &w, &w.residents[1]).await;
    let deposits = format!("/api/v1/lockers/{}/deposits", w.locker_id);

    // One parcel waiting, then Anna goes away: it is held, and so is the
    // next one to arrive.
    let first = w
        .admin
        .created(&deposits, for_resident("VACATION001", &w.residents[0], 60))
        .await;
    let (status, body) = anna
        .put(
            "/api/v1/me/vacation",
            json!({"away_until_ms": now_ms() + 90 * DAY}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_input"))
    );
    let (status, vacation) = anna
        .put(
            "/api/v1/me/vacation",
            json!({"away_until_ms": now_ms() + 7 * DAY}),
        )
        .await;
    assert_eq!(status, 200, "{vacation}");
    assert_eq!(vacation["held"], json!([first["parcel_id"]]));
    let second = w
        .admin
        .created(&deposits, for_resident("VACATION002", &w.residents[0], 60))
        .await;
    for d in [&first, &second] {
        let parcel = state_of(&w.admin, d["parcel_id"].as_str().unwrap()).await;
        assert_eq!(parcel["state"], "on_hold", "{parcel}");
    }
    let (_, me) = anna.get("/api/v1/me").await;
    assert!(me["away_until_ms"].as_i64().unwrap() > now_ms());

    // Back home: new parcels wait normally; Anna holds and releases one by hand.
    let (status, _) = anna
        .put("/api/v1/me/vacation", json!({"away_until_ms": null}))
        .await;
    assert_eq!(status, 200);
    let third = w
        .admin
        .created(&deposits, for_resident("VACATION003", &w.residents[0], 60))
        .await;
    let third_id = third["parcel_id"].as_str().unwrap();
    assert_eq!(state_of(&w.admin, third_id).await["state"], "deposited");
    let (status, held) = anna
        .post(&format!("/api/v1/me/parcels/{third_id}/hold"), json!({}))
        .await;
    assert_eq!((status, held["state"].as_str()), (200, Some("on_hold")));
    // Holding twice is an illegal move, answered as such.
    let (status, body) = anna
        .post(&format!("/api/v1/me/parcels/{third_id}/hold"), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("illegal_transition"))
    );
    // Jan cannot touch Anna's parcel, nor see it.
    let (status, _) = jan
        .post(&format!("/api/v1/me/parcels/{third_id}/release"), json!({}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(state_of(&w.admin, third_id).await["state"], "on_hold");
    let (status, released) = anna
        .post(&format!("/api/v1/me/parcels/{third_id}/release"), json!({}))
        .await;
    assert_eq!(
        (status, released["state"].as_str()),
        (200, Some("deposited"))
    );
    let events = state_of(&w.admin, third_id).await["events"].clone();
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["deposited", "held", "released"]);

    // Held parcels are still collected with the resident's code.
    let code = code_for(&p, "anna@example.org").await;
    let (status, picked) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/pickups", w.locker_id),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, 200, "{picked}");
    for d in [&first, &second, &third] {
        let parcel = state_of(&w.admin, d["parcel_id"].as_str().unwrap()).await;
        assert_eq!(parcel["state"], "picked_up");
    }
}

#[tokio::test]
async fn a_delegate_code_opens_one_parcel_at_the_locker_and_revocation_stops_it() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (_, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = AgentProcess::start(
        bin(),
        &identity,
        &tmp.path().join("agent"),
        &p.mqtt,
        crate::edge::NO_REOPEN_GRACE,
    );
    wait_ready(&w.admin, &w.locker_id, &agent).await;
    let anna = resident_client(&p, &w, &w.residents[0]).await;
    let jan = resident_client(&p, &w, &w.residents[1]).await;

    // Two parcels for Anna: A01 (lock 1) and B01 (lock 3).
    let small = deposit_into_a01(&w, &agent).await;
    let big = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            for_resident("DELEGATE002", &w.residents[0], 150),
        )
        .await;
    assert_eq!(big["compartment"]["label"], "B01");
    wait_open(&agent, "B01").await;
    agent.post("/sim/0/3/put", json!({})).await;
    agent.post("/sim/0/3/close", json!({})).await;
    let small_id = small["parcel_id"].as_str().unwrap();
    let big_id = big["parcel_id"].as_str().unwrap();

    // Jan cannot share Anna's parcel.
    let (status, _) = jan
        .post(
            &format!("/api/v1/me/parcels/{small_id}/delegates"),
            json!({"name": "me"}),
        )
        .await;
    assert_eq!(status, 404);
    let delegate = anna
        .created(
            &format!("/api/v1/me/parcels/{small_id}/delegates"),
            json!({"name": "Neighbour in A-2"}),
        )
        .await;
    let delegate_code = delegate["code"].as_str().unwrap().to_string();
    assert_eq!(delegate_code.len(), 8);

    // At the kiosk the delegate code opens A01 only.
    let before_b01 = agent.releases(0, 3).await;
    let opened = collect(&agent, &delegate_code).await;
    assert_eq!(opened["opened"], json!(["A01"]), "{opened}");
    eventually(10, "A01 to open for the delegate", || async {
        (agent.releases(0, 1).await == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(agent.releases(0, 3).await, before_b01, "B01 stays shut");
    wait_open(&agent, "A01").await;
    agent.post("/sim/0/1/take", json!({})).await;
    agent.post("/sim/0/1/close", json!({})).await;

    // The server records the pick-up as the delegate's; the other parcel waits.
    let picked = eventually(10, "the delegate's pick-up at the server", || async {
        let parcel = state_of(&w.admin, small_id).await;
        (parcel["state"] == "picked_up").then_some(parcel)
    })
    .await;
    let last = picked["events"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["actor"].as_str().unwrap().contains(&format!(
            "delegate {}",
            delegate["delegate_id"].as_str().unwrap()
        )),
        "{last}"
    );
    assert_eq!(state_of(&w.admin, big_id).await["state"], "deposited");
    // Used up with its parcel.
    let (status, _) = agent
        .post("/kiosk/api/pickup", json!({"code": delegate_code}))
        .await;
    assert_eq!(status, 403);

    // A second delegate, for the big parcel, revoked before it is used: the
    // server and the kiosk both refuse it, and nothing opens.
    let second = anna
        .created(
            &format!("/api/v1/me/parcels/{big_id}/delegates"),
            json!({"name": "Cousin"}),
        )
        .await;
    let (status, revoked) = anna
        .post(
            &format!(
                "/api/v1/me/delegates/{}/revoke",
                second["delegate_id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!((status, revoked["active"].as_bool()), (200, Some(false)));
    let (status, _) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/pickups", w.locker_id),
            json!({"code": second["code"]}),
        )
        .await;
    assert_eq!(status, 403, "revoked at the server");
    // Once the locker holds the cache the server published after the
    // revocation, the code opens nothing there either.
    settled_cache(&w.admin, &w.locker_id, &agent).await;
    let (status, _) = agent
        .post("/kiosk/api/pickup", json!({"code": second["code"]}))
        .await;
    assert_eq!(status, 403, "revoked at the locker");
    assert_eq!(agent.releases(0, 3).await, before_b01);
    let (_, listed) = anna.get("/api/v1/me/delegates").await;
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // Anna's own code still opens what is left: B01.
    let code = code_for(&p, "anna@example.org").await;
    let opened = collect(&agent, &code).await;
    assert_eq!(opened["opened"], json!(["B01"]), "{opened}");
    eventually(10, "the big parcel picked up", || async {
        (state_of(&w.admin, big_id).await["state"] == "picked_up").then_some(())
    })
    .await;
}

/// The parcel room's door: output 7 on the door agent, after the lobby (5)
/// and the gym (6).
const ROOM_OUTPUT: u32 = 7;
const ROOM_LOCK: LockAddress = LockAddress { board: 0, lock: 8 };

#[tokio::test]
async fn couriers_visit_with_their_own_pin_and_residents_enter_the_parcel_room_once() {
    let p = CubbyProcess::start(bin(), None);
    let s = site(&p).await;
    let w = &s.w;
    let anna = resident_client(&p, w, &w.residents[0]).await;
    let jan = resident_client(&p, w, &w.residents[1]).await;

    // The room's door and the path from the lobby into it.
    let room_door = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/doors", w.site_id),
            json!({"name": "Parcel room", "kind": "parcel_room", "device_id": s.device, "lock_output": ROOM_OUTPUT}),
        )
        .await;
    let room_door = room_door["id"].as_str().unwrap().to_string();
    let path = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/door-paths", w.site_id),
            json!({"name": "Lobby to parcel room", "doors": [s.lobby, room_door]}),
        )
        .await;
    let room = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/parcel-rooms", w.site_id),
            json!({"name": "Mail room", "zones": [{"label": "A", "capacity": 2}, {"label": "B", "capacity": 10}]}),
        )
        .await;
    let room_id = room["id"].as_str().unwrap().to_string();
    let (status, body) = w
        .admin
        .put(
            &format!("/api/v1/parcel-rooms/{room_id}/path"),
            json!({"path_id": s.path}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_input")),
        "the street path does not end in the room"
    );
    let (status, _) = w
        .admin
        .put(
            &format!("/api/v1/parcel-rooms/{room_id}/path"),
            json!({"path_id": path["id"]}),
        )
        .await;
    assert_eq!(status, 204);

    // A personal courier account of DHL; a carrier-wide token gets no visit.
    let carrier = w
        .admin
        .created(
            "/api/v1/carriers",
            json!({"code": "dhl", "name": "DHL", "organisation_id": org_of(w).await}),
        )
        .await;
    let courier = w
        .admin
        .created(
            &format!(
                "/api/v1/carriers/{}/couriers",
                carrier["id"].as_str().unwrap()
            ),
            json!({"name": "Marek"}),
        )
        .await;
    let marek = Client::new(&p.base, courier["token"].as_str().unwrap());
    let generic = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "courier", "carrier": "dhl", "organisation_id": org_of(w).await, "label": "depot"}),
        )
        .await;
    let generic = Client::new(&p.base, generic["token"].as_str().unwrap());
    let visits = format!("/api/v1/sites/{}/courier-visits", w.site_id);
    let (status, body) = generic.post(&visits, json!({"room_id": room_id})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("personal_courier_token_required"))
    );
    let (status, body) = marek
        .post(&visits, json!({"room_id": room_id, "minutes": 600}))
        .await;
    assert_eq!(status, 422, "{body}");
    let visit = marek.created(&visits, json!({"room_id": room_id})).await;
    let visit_pin = visit["pin"].as_str().unwrap().to_string();
    assert!(visit["not_after_ms"].as_i64().unwrap() <= now_ms() + 31 * 60_000);

    // Marek walks in: lobby, then the room.
    first_open(&s.agent, &s.lobby, &visit_pin).await;
    walk_through(&s.bank, LOBBY_LOCK).await;
    let (status, _) = type_pin(&s.agent, &room_door, &visit_pin).await.unwrap();
    assert_eq!(status, 200);
    walk_through(&s.bank, ROOM_LOCK).await;

    // He logs three parcels to shelves: two for Anna (one room code), one for Jan.
    let shelve = format!("/api/v1/parcel-rooms/{room_id}/parcels");
    let on_shelf = |tracking: &str, resident: &str, zone: &str| {
        json!({"tracking_number": tracking, "zone": zone, "recipient": {"resident_id": resident},
               "width_mm": 300, "height_mm": 200, "depth_mm": 200})
    };
    let a1 = marek
        .created(&shelve, on_shelf("ROOMPARCEL01", &w.residents[0], "A"))
        .await;
    assert_eq!(
        (a1["state"].as_str(), a1["room_code_sent"].as_bool()),
        (Some("deposited"), Some(true))
    );
    let a2 = marek
        .created(&shelve, on_shelf("ROOMPARCEL02", &w.residents[0], "A"))
        .await;
    assert_eq!(a2["room_code_sent"], false, "Anna's unused code covers it");
    let (status, body) = marek
        .post(&shelve, on_shelf("ROOMPARCEL03", &w.residents[1], "A"))
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("zone_full")));
    let (status, body) = marek
        .post(&shelve, on_shelf("ROOMPARCEL03", &w.residents[1], "Z"))
        .await;
    assert_eq!(status, 404, "{body}");
    let j1 = marek
        .created(&shelve, on_shelf("ROOMPARCEL03", &w.residents[1], "B"))
        .await;
    let parcel = state_of(&w.admin, a1["parcel_id"].as_str().unwrap()).await;
    assert_eq!(parcel["carrier"], "dhl", "the courier's carrier");
    assert!(
        parcel["events"][0]["place"]
            .as_str()
            .unwrap()
            .contains("zone A"),
        "{parcel}"
    );

    // Anna's notice carries one room code; she goes in once and her parcels
    // are collected; the code then opens nothing.
    let room_code = code_for(&p, "anna@example.org").await;
    first_open(&s.agent, &s.lobby, &room_code).await;
    walk_through(&s.bank, LOBBY_LOCK).await;
    let (status, _) = type_pin(&s.agent, &room_door, &room_code).await.unwrap();
    assert_eq!(status, 200);
    walk_through(&s.bank, ROOM_LOCK).await;
    for d in [&a1, &a2] {
        let id = d["parcel_id"].as_str().unwrap();
        eventually(10, "Anna's parcels collected", || async {
            (state_of(&w.admin, id).await["state"] == "picked_up").then_some(())
        })
        .await;
    }
    let (status, _) = type_pin(&s.agent, &room_door, &room_code).await.unwrap();
    assert_eq!(status, 403, "one entry");
    assert_eq!(settled_releases(&s.bank, ROOM_LOCK).await, 2);

    // Anna sees when couriers came in, by carrier and door.
    let (_, entries) = anna.get("/api/v1/me/courier-entries").await;
    let doors: Vec<(&str, &str)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["door"].as_str().unwrap(), e["carrier"].as_str().unwrap()))
        .collect();
    assert_eq!(doors, [("Lobby", "dhl"), ("Parcel room", "dhl")]);

    // Jan's parcel is not on its shelf: the incident lists who went in since.
    let j1_id = j1["parcel_id"].as_str().unwrap();
    let (status, _) = anna
        .post(&format!("/api/v1/me/parcels/{j1_id}/not-found"), json!({}))
        .await;
    assert_eq!(status, 404, "not Anna's parcel");
    let (status, report) = jan
        .post(&format!("/api/v1/me/parcels/{j1_id}/not-found"), json!({}))
        .await;
    assert_eq!(status, 201, "{report}");
    let kinds: Vec<&str> = report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["room_code"],
        "Anna's entry after the parcel was shelved"
    );
    assert_eq!(report["entries"][0]["resident_id"], w.residents[0].as_str());
    let (_, incidents) = w
        .admin
        .get(&format!("/api/v1/sites/{}/incidents", w.site_id))
        .await;
    assert!(
        incidents
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "parcel_not_found" && i["parcel_id"] == j1_id),
        "{incidents}"
    );
    // Staff see every entry into the room.
    let (_, all) = w
        .admin
        .get(&format!("/api/v1/parcel-rooms/{room_id}/entries"))
        .await;
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
}

#[tokio::test]
async fn a_residents_visitor_pin_tells_the_host_of_each_use() {
    let p = CubbyProcess::start(bin(), None);
    let s = site(&p).await;
    let w = &s.w;
    let anna = resident_client(&p, w, &w.residents[0]).await;
    let (status, body) = anna
        .post(
            "/api/v1/me/access-grants",
            json!({"label": "Dog sitter", "doors": [s.lobby], "not_after_ms": now_ms() + 40 * DAY}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_input")),
        "at most 31 days"
    );
    let issued = anna
        .created(
            "/api/v1/me/access-grants",
            json!({"label": "Dog sitter", "doors": [s.lobby], "not_after_ms": now_ms() + hour(), "max_uses": 2}),
        )
        .await;
    let pin = issued["pin"].as_str().unwrap().to_string();
    first_open(&s.agent, &s.lobby, &pin).await;
    walk_through(&s.bank, LOBBY_LOCK).await;

    // Anna is told, and sees the use on her grant.
    let told = eventually(10, "the host's notice", || async {
        p.outbox()
            .into_iter()
            .find(|m| m["to"] == "anna@example.org" && m["payload"]["kind"] == "visitor_arrived")
    })
    .await;
    assert_eq!(told["payload"]["grant_id"], issued["grant_id"]);
    assert!(told["body"].as_str().unwrap().contains("Lobby"), "{told}");
    let (_, mine) = anna.get("/api/v1/me/access-grants").await;
    assert_eq!(mine[0]["uses"].as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["host_resident_id"], w.residents[0].as_str());

    // Revoked by Anna: the door refuses it; Jan cannot revoke Anna's grant.
    let jan = resident_client(&p, w, &w.residents[1]).await;
    let revoke = format!(
        "/api/v1/me/access-grants/{}/revoke",
        issued["grant_id"].as_str().unwrap()
    );
    let (status, _) = jan.post(&revoke, json!({})).await;
    assert_eq!(status, 404);
    let (status, _) = anna.post(&revoke, json!({})).await;
    assert_eq!(status, 204);
    // Until the new cache arrives the second use may still open; after it,
    // nothing does.
    eventually(60, "the revocation to reach the door", || async {
        let (status, _) = type_pin(&s.agent, &s.lobby, &pin).await?;
        if status == 200 {
            walk_through(&s.bank, LOBBY_LOCK).await;
        }
        (status == 403).then_some(())
    })
    .await;
    let after = settled_releases(&s.bank, LOBBY_LOCK).await;
    assert!((1..=2).contains(&after), "{after} releases for a 2-use PIN");
    let (status, _) = type_pin(&s.agent, &s.lobby, &pin).await.unwrap();
    assert_eq!(status, 403);
    assert_eq!(settled_releases(&s.bank, LOBBY_LOCK).await, after);
}

#[tokio::test]
async fn the_same_code_reopens_a_compartment_shortly_after_its_door_closed_and_not_later() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (device, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = AgentProcess::start(
        bin(),
        &identity,
        &tmp.path().join("agent"),
        &p.mqtt,
        &["--reopen-grace-secs", "2"],
    );
    wait_ready(&w.admin, &w.locker_id, &agent).await;
    deposit_into_a01(&w, &agent).await;
    let code = code_for(&p, "anna@example.org").await;
    let opened = collect(&agent, &code).await;
    assert_eq!(opened["opened"], json!(["A01"]));
    // While the door is still open the code is spent.
    wait_open(&agent, "A01").await;
    let (status, _) = agent.post("/kiosk/api/pickup", json!({"code": code})).await;
    assert_eq!(status, 403);
    agent.post("/sim/0/1/take", json!({})).await;
    agent.post("/sim/0/1/close", json!({})).await;
    wait_door(&agent, "A01", true).await;

    // Forgot something: within the grace the same code opens A01 again.
    let (status, body) = agent.post("/kiosk/api/pickup", json!({"code": code})).await;
    assert_eq!((status, &body["opened"]), (200, &json!(["A01"])), "{body}");
    eventually(10, "A01 to open again", || async {
        (agent.releases(0, 1).await == 3).then_some(())
    })
    .await;
    wait_open(&agent, "A01").await;
    agent.post("/sim/0/1/close", json!({})).await;
    wait_door(&agent, "A01", true).await;

    // After the grace it opens nothing.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (status, _) = agent.post("/kiosk/api/pickup", json!({"code": code})).await;
    assert_eq!(status, 403);
    assert_eq!(agent.releases(0, 1).await, 3);

    // The server keeps the reopening in the device's journal, and raises no
    // "unmatched pick-up" for it.
    let events = eventually(10, "the reopening at the server", || async {
        let (_, ev) = w
            .admin
            .get(&format!("/api/v1/devices/{device}/events"))
            .await;
        ev.as_array()?
            .iter()
            .any(|e| e["kind"] == "pickup_reopened")
            .then_some(ev)
    })
    .await;
    assert!(events.as_array().unwrap().len() > 3);
    let (_, incidents) = w
        .admin
        .get(&format!("/api/v1/sites/{}/incidents", w.site_id))
        .await;
    assert!(
        !incidents
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["kind"] == "pickup_unmatched"),
        "{incidents}"
    );
}

#[tokio::test]
async fn a_phone_at_the_locker_collects_by_answering_the_kiosk_challenge_once() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (device, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = AgentProcess::start(bin(), &identity, &tmp.path().join("agent"), &p.mqtt, &[]);
    wait_ready(&w.admin, &w.locker_id, &agent).await;
    let anna = resident_client(&p, &w, &w.residents[0]).await;
    let jan = resident_client(&p, &w, &w.residents[1]).await;
    let d = deposit_into_a01(&w, &agent).await;
    let (_, challenge) = agent.post("/kiosk/api/phone-challenge", json!({})).await;
    let nonce = challenge["nonce"].as_str().unwrap().to_string();
    assert_eq!(nonce.len(), 32);

    // Jan has nothing here; a made-up device is nobody's.
    let (status, body) = jan
        .post(
            "/api/v1/me/phone-pickups",
            json!({"device_id": device, "nonce": nonce}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("nothing_to_collect"))
    );
    let (status, _) = anna
        .post(
            "/api/v1/me/phone-pickups",
            json!({"device_id": "dev_00000000000000000000000000000009", "nonce": nonce}),
        )
        .await;
    assert_eq!(status, 404);

    // A token for a challenge the kiosk never showed opens nothing.
    let forged_nonce = "0".repeat(32);
    let stray = anna
        .created(
            "/api/v1/me/phone-pickups",
            json!({"device_id": device, "nonce": forged_nonce}),
        )
        .await;
    let (status, _) = agent
        .post("/kiosk/api/phone-pickup", json!({"token": stray["token"]}))
        .await;
    assert_eq!(status, 403);
    // A token whose bytes were changed (same meaning) fails its signature,
    // and does not spend the challenge.
    let token = anna
        .created(
            "/api/v1/me/phone-pickups",
            json!({"device_id": device, "nonce": nonce}),
        )
        .await;
    let mut tampered: Value = serde_json::from_str(token["token"].as_str().unwrap()).unwrap();
    let payload = tampered["payload"].as_str().unwrap().to_string();
    assert!(
        payload.contains("\"purpose\":\"phone_pickup\""),
        "{payload}"
    );
    tampered["payload"] = json!(payload.replace(
        "\"purpose\":\"phone_pickup\"",
        "\"purpose\": \"phone_pickup\""
    ));
    let (status, _) = agent
        .post(
            "/kiosk/api/phone-pickup",
            json!({"token": tampered.to_string()}),
        )
        .await;
    assert_eq!(status, 403);

    // The real one, once: A01 opens and the server records the pick-up.
    let before = agent.releases(0, 1).await;
    let (status, body) = agent
        .post("/kiosk/api/phone-pickup", json!({"token": token["token"]}))
        .await;
    assert_eq!((status, &body["opened"]), (200, &json!(["A01"])), "{body}");
    eventually(10, "A01 to open for the phone", || async {
        (agent.releases(0, 1).await == before + 1).then_some(())
    })
    .await;
    let (status, _) = agent
        .post("/kiosk/api/phone-pickup", json!({"token": token["token"]}))
        .await;
    assert_eq!(status, 403, "the challenge is spent");
    let id = d["parcel_id"].as_str().unwrap();
    let picked = eventually(10, "the pick-up at the server", || async {
        let parcel = state_of(&w.admin, id).await;
        (parcel["state"] == "picked_up").then_some(parcel)
    })
    .await;
    let last = picked["events"].as_array().unwrap().last().unwrap().clone();
    assert!(last["actor"].as_str().unwrap().contains("phone"), "{last}");
}
