//! Returns and shipments through the real binaries: a resident announces a
//! return and gets a drop-off code, drops the parcel at the kiosk while the
//! server is down, the carrier hears of it by signed webhook once the locker
//! reconnects, its courier takes it with a pass (the server down again), and
//! the resident is told.

use cubby_testkit::{AgentProcess, Client, CubbyProcess, eventually};
use serde_json::{Value, json};

use crate::edge::{provision, settled_cache, wait_open, wait_ready};
use crate::trust::carrier_token;
use crate::webhooks::endpoint;
use crate::{World, bin, seed, small_bank};

async fn resident_client(p: &CubbyProcess, w: &World, org: &Value, resident_id: &str) -> Client {
    let t = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "resident", "resident_id": resident_id, "organisation_id": org, "label": "resident app"}),
        )
        .await;
    Client::new(&p.base, t["token"].as_str().unwrap())
}

/// Every file under `dir`, read whole.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.push((path, bytes));
            }
        }
    }
    out
}

#[tokio::test]
async fn a_return_dropped_at_the_kiosk_with_the_server_down_reaches_the_carrier_after_reconnect() {
    let mut p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let org = site["organisation_id"].clone();
    let tmp = tempfile::tempdir().unwrap();
    let (device_id, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = AgentProcess::start(bin(), &identity, &tmp.path().join("agent"), &p.mqtt, &[]);
    wait_ready(&w.admin, &w.locker_id, &agent).await;

    // The carrier listens for its parcels at this site.
    let dhl = Client::new(&p.base, &carrier_token(&w, &org, "dhl").await);
    let (url, received) = endpoint(0).await;
    let (status, hook) = dhl
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["parcel.dropped_off", "parcel.returned"], "site_id": w.site_id}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");

    let anna = resident_client(&p, &w, &org, &w.residents[0]).await;
    let ben = resident_client(&p, &w, &org, &w.residents[1]).await;
    // Bad requests are refused clearly and change nothing.
    for (body, want) in [
        (
            json!({"carrier": "dhl", "width_mm": 0, "height_mm": 60, "depth_mm": 200}),
            (422, "invalid_input"),
        ),
        (
            json!({"carrier": "nobody", "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
            (403, "carrier_not_enabled"),
        ),
        (
            json!({"carrier": "dhl", "width_mm": 2000, "height_mm": 2000, "depth_mm": 2000}),
            (409, "no_compartment_fits"),
        ),
        (
            json!({"carrier": "dhl", "kind": "gift", "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
            (422, "invalid_body"),
        ),
    ] {
        let (status, e) = anna.post("/api/v1/me/returns", body.clone()).await;
        assert_eq!(
            (status, e["code"].as_str()),
            (want.0, Some(want.1)),
            "{body}: {e}"
        );
    }
    let (_, none) = anna.get("/api/v1/me/returns").await;
    assert_eq!(none, json!([]));
    // Staff tokens are not residents.
    let (status, _) = w
        .admin
        .post(
            "/api/v1/me/returns",
            json!({"carrier": "dhl", "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    assert_eq!(status, 403);

    let issued = anna
        .created(
            "/api/v1/me/returns",
            json!({"carrier": "dhl", "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    assert_eq!(issued["state"], "return_announced");
    assert_eq!(issued["kind"], "return");
    assert_eq!(issued["locker_id"], w.locker_id.as_str());
    let parcel_id = issued["parcel_id"].as_str().unwrap().to_string();
    let code = issued["drop_off_code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 8, "as strong as a pick-up code: {code}");
    // Another resident cannot see or cancel it.
    let (status, _) = ben.delete(&format!("/api/v1/me/returns/{parcel_id}")).await;
    assert_eq!(status, 404);
    let (_, listed) = anna.get("/api/v1/me/returns").await;
    assert_eq!(listed[0]["parcel_id"], parcel_id.as_str());
    assert!(
        listed[0].get("drop_off_code").is_none(),
        "shown once: {listed}"
    );
    // A second one, cancelled: its code opens nothing later.
    let cancelled = anna
        .created(
            "/api/v1/me/returns",
            json!({"carrier": "dhl", "kind": "shipment", "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    let cancelled_code = cancelled["drop_off_code"].as_str().unwrap().to_string();
    let (status, body) = anna
        .delete(&format!(
            "/api/v1/me/returns/{}",
            cancelled["parcel_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!((status, body["state"].as_str()), (200, Some("cancelled")));

    // The code is kept nowhere in plain text: not in the database, not in
    // the locker's cache or journal.
    let _ = settled_cache(&w.admin, &w.locker_id, &agent).await;
    for dir in [&p.data_dir, &agent.data_dir] {
        for (path, bytes) in files_under(dir) {
            assert!(
                !bytes.windows(code.len()).any(|win| win == code.as_bytes()),
                "the drop-off code is in {path:?}"
            );
        }
    }

    // Couriers of both carriers hold passes for this locker.
    let mut passes = Vec::new();
    for carrier in ["dhl", "ups"] {
        let courier = w.courier_account(carrier).await;
        let pass = w
            .admin
            .created(
                &format!("/api/v1/lockers/{}/courier-passes", w.locker_id),
                json!({"carrier": carrier, "courier_id": courier["courier_id"], "valid_minutes": 120}),
            )
            .await;
        passes.push(pass["code"].as_str().unwrap().to_string());
    }
    let (dhl_pass, ups_pass) = (passes[0].clone(), passes[1].clone());
    let _ = settled_cache(&w.admin, &w.locker_id, &agent).await;

    // The server goes down; Anna comes down with her parcel.
    p.kill();
    let drop_off = |c: &str| agent.post("/kiosk/api/drop-off", json!({"code": c}));
    let (status, body) = drop_off("00000000").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("code_rejected"))
    );
    let (status, _) = drop_off(&cancelled_code).await;
    assert_eq!(status, 403, "a cancelled return's code opens nothing");
    assert_eq!(agent.total_releases().await, 0);
    let (status, opened) = drop_off(&code).await;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["opened"], json!(["A01"]));
    assert_eq!(opened["parcel_id"], parcel_id.as_str());
    assert_eq!(agent.releases(0, 1).await, 1);
    wait_open(&agent, "A01").await;
    agent.post("/sim/0/1/put", json!({})).await;
    agent.post("/sim/0/1/close", json!({})).await;
    let (status, _) = drop_off(&code).await;
    assert_eq!(status, 403, "a used code opens nothing again");
    assert_eq!(agent.total_releases().await, 1);

    // The server returns: the drop-off arrives with the journal, and the
    // carrier is told by webhook, with nothing personal in it.
    p.spawn();
    let admin = Client::new(&p.base, cubby_testkit::ADMIN_TOKEN);
    let anna = Client::new(&p.base, &anna.token);
    let dhl = Client::new(&p.base, &dhl.token);
    eventually(20, "the drop-off to reach the server", || async {
        let (_, listed) = anna.get("/api/v1/me/returns").await;
        listed.as_array()?.iter().find(|r| {
            r["parcel_id"] == parcel_id.as_str()
                && r["state"] == "dropped_off"
                && r["compartment"] == "A01"
        })?;
        Some(())
    })
    .await;
    let event = eventually(20, "parcel.dropped_off to reach the carrier", || async {
        received.lock().unwrap().iter().find_map(|(_, body)| {
            let v: Value = serde_json::from_str(body).ok()?;
            (v["type"] == "parcel.dropped_off").then_some((v, body.clone()))
        })
    })
    .await;
    assert_eq!(event.0["data"]["parcel_id"], parcel_id.as_str());
    assert_eq!(event.0["data"]["locker_id"], w.locker_id.as_str());
    assert_eq!(event.0["data"]["compartment_label"], "A01");
    assert!(
        !event.1.contains("Anna") && !event.1.contains('@'),
        "{}",
        event.1
    );

    // The courier finds it in the locker's return queue and takes it.
    let (_, queue) = dhl
        .get(&format!("/api/v1/lockers/{}/returns", w.locker_id))
        .await;
    assert!(
        queue
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["parcel_id"] == parcel_id.as_str() && r["compartment"] == "A01"),
        "{queue}"
    );
    // The courier comes with a pass while the server is down again: the
    // locker opens the door for DHL's parcels only.
    settled_cache(&admin, &w.locker_id, &agent).await;
    p.kill();
    let collect = |pass: &str| agent.post("/kiosk/api/collect-returns", json!({"pass": pass}));
    let (status, body) = collect("0000000000").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("pass_rejected"))
    );
    let (status, body) = collect(&ups_pass).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("nothing_to_collect")),
        "{body}"
    );
    assert_eq!(agent.releases(0, 1).await, 1, "no refusal opened the door");
    let (status, taken) = collect(&dhl_pass).await;
    assert_eq!(status, 200, "{taken}");
    assert_eq!(taken["opened"], json!(["A01"]));
    assert_eq!(taken["parcel_ids"], json!([parcel_id]));
    assert_eq!(agent.releases(0, 1).await, 2);
    wait_open(&agent, "A01").await;
    agent.post("/sim/0/1/take", json!({})).await;
    agent.post("/sim/0/1/close", json!({})).await;
    let (status, _) = collect(&dhl_pass).await;
    assert_eq!(status, 404, "taken once");

    // Back online: the parcel is with the carrier.
    p.spawn();
    let admin = Client::new(&p.base, cubby_testkit::ADMIN_TOKEN);
    let anna = Client::new(&p.base, &anna.token);
    eventually(20, "the collection to reach the server", || async {
        let (_, listed) = anna.get("/api/v1/me/returns").await;
        listed.as_array()?.iter().find(|r| {
            r["parcel_id"] == parcel_id.as_str() && r["state"] == "returned_to_carrier"
        })?;
        Some(())
    })
    .await;
    eventually(20, "parcel.returned to reach the carrier", || async {
        received.lock().unwrap().iter().find_map(|(_, body)| {
            let v: Value = serde_json::from_str(body).ok()?;
            (v["type"] == "parcel.returned" && v["data"]["parcel_id"] == parcel_id.as_str())
                .then_some(())
        })
    })
    .await;
    // Anna is told it has gone.
    let told = eventually(10, "the resident to be told", || async {
        p.outbox()
            .into_iter()
            .find(|m| m["payload"]["kind"] == "sending_collected")
    })
    .await;
    assert_eq!(told["to"], "anna@example.org");
    assert_eq!(told["payload"]["parcel_id"], parcel_id.as_str());
    let (_, incidents) = admin
        .get(&format!("/api/v1/sites/{}/incidents", w.site_id))
        .await;
    assert_eq!(incidents, json!([]), "{incidents}");
    let (_, events) = admin
        .get(&format!("/api/v1/devices/{device_id}/events"))
        .await;
    let kinds = events.to_string();
    assert!(
        kinds.contains("drop_off_made") && kinds.contains("return_collected"),
        "{events}"
    );
}
