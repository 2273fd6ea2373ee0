//! The locker edge end to end: the real `cubby serve` (embedded broker or a
//! private Mosquitto) and the real `cubby agent` with a simulated lock bank,
//! over real sockets. Doors are counted on the simulated board itself.

use std::path::{Path, PathBuf};

use cubby_testkit::{AgentProcess, Client, CubbyProcess, eventually};
use serde_json::{Value, json};

use crate::{bin, free_port, parcel, seed, small_bank};

/// Agent arguments for tests of single use: a used code must open nothing
/// at once, so the reopen grace (tested on its own) is off.
pub const NO_REOPEN_GRACE: &[&str] = &["--reopen-grace-secs", "0"];

/// Registers a device for the locker and writes its identity file.
pub async fn provision(admin: &Client, locker_id: &str, dir: &Path) -> (String, PathBuf) {
    let identity = admin
        .created(&format!("/api/v1/lockers/{locker_id}/devices"), json!({}))
        .await;
    let path = dir.join("identity.json");
    std::fs::write(&path, serde_json::to_vec(&identity).unwrap()).unwrap();
    (identity["device_id"].as_str().unwrap().to_string(), path)
}

/// Waits until the server sees the device online and the agent holds a cache.
pub async fn wait_ready(admin: &Client, locker_id: &str, agent: &AgentProcess) {
    eventually(20, "the agent to come online", || async {
        let (_, devices) = admin
            .get(&format!("/api/v1/lockers/{locker_id}/devices"))
            .await;
        (devices[0]["online"] == true).then_some(())
    })
    .await;
    eventually(20, "the agent's credential cache", || async {
        let s = agent.get("/kiosk/api/state").await;
        s["cache_version"].as_u64().map(|_| ())
    })
    .await;
}

/// The latest code sent to `email` (the outbox delivers in the background).
pub async fn code_for(p: &CubbyProcess, email: &str) -> String {
    eventually(10, "a notice with a code", || async {
        p.outbox()
            .iter()
            .rev()
            .filter(|m| m["to"] == email)
            .find_map(|m| m["payload"]["code"].as_str().map(str::to_string))
    })
    .await
}

/// Presents a code at the kiosk until the agent's cache knows it (the cache
/// follows the deposit within a moment).
pub(crate) async fn collect(agent: &AgentProcess, code: &str) -> Value {
    eventually(10, "the kiosk to accept the code", || async {
        let (status, body) = agent.post("/kiosk/api/pickup", json!({"code": code})).await;
        (status == 200).then_some(body)
    })
    .await
}

/// Waits until the agent has seen the door open (a person is slower than
/// the board poll; a test is not).
pub async fn wait_open(agent: &AgentProcess, label: &str) {
    wait_door(agent, label, false).await;
}

/// Waits until the agent's board poll has seen a compartment locked (shut)
/// or unlocked.
pub async fn wait_door(agent: &AgentProcess, label: &str, locked: bool) {
    let what = if locked {
        "the agent to see the door closed"
    } else {
        "the agent to see the door open"
    };
    eventually(10, what, || async {
        let s = agent.get("/kiosk/api/state").await;
        s["compartments"]
            .as_array()?
            .iter()
            .any(|c| c["compartment"] == label && c["locked"] == locked)
            .then_some(())
    })
    .await;
}

/// The cache version once the server has published everything it had to
/// and the agent holds it: the same on both sides across two dispatcher ticks.
pub(crate) async fn settled_cache(admin: &Client, locker_id: &str, agent: &AgentProcess) -> u64 {
    let read = || async {
        let (_, devices) = admin
            .get(&format!("/api/v1/lockers/{locker_id}/devices"))
            .await;
        let server = devices[0]["cache_version"].as_u64();
        let local = agent.get("/kiosk/api/state").await["cache_version"].as_u64();
        (server == local).then_some(local).flatten()
    };
    eventually(20, "the credential cache to settle", || async {
        let first = read().await?;
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        (read().await? == first).then_some(first)
    })
    .await
}

/// Anna's parcel deposited through the server into A01 (lock 1): the door
/// opens, the courier puts the parcel in and shuts it. Returns the deposit.
pub async fn deposit_into_a01(w: &crate::World, agent: &AgentProcess) -> Value {
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RB123456785GB", &w.residents[0], 60),
        )
        .await;
    eventually(10, "the deposit door to open", || async {
        (agent.releases(0, 1).await == 1).then_some(())
    })
    .await;
    wait_open(agent, "A01").await;
    agent.post("/sim/0/1/put", json!({})).await;
    agent.post("/sim/0/1/close", json!({})).await;
    d
}

/// Waits until the server has the agent's whole journal and the agent holds
/// a cache of at least this version.
pub async fn wait_cache_caught_up(agent: &AgentProcess, version: u64) {
    eventually(10, "the cache to catch up with the journal", || async {
        let s = agent.get("/kiosk/api/state").await;
        (s["journal_acked"] == s["journal_head"] && s["cache_version"].as_u64() >= Some(version))
            .then_some(())
    })
    .await;
}

async fn parcel_state(admin: &Client, id: &str) -> Value {
    admin.get(&format!("/api/v1/parcels/{id}")).await.1
}

#[tokio::test]
async fn deposit_opens_the_right_door_and_a_kiosk_pickup_is_recorded() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (_, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = AgentProcess::start(
        bin(),
        &identity,
        &tmp.path().join("agent"),
        &p.mqtt,
        NO_REOPEN_GRACE,
    );
    wait_ready(&w.admin, &w.locker_id, &agent).await;

    // Wiring order is label order: A01 A02 B01 C01 K01 = board 0, locks 1..5.
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RB123456785GB", &w.residents[0], 60),
        )
        .await;
    assert_eq!(d["compartment"]["label"], "A01");
    assert!(d["unlock_command_id"].is_string(), "{d}");
    eventually(10, "door A01 to open", || async {
        (agent.releases(0, 1).await == 1).then_some(())
    })
    .await;
    assert_eq!(
        agent.total_releases().await,
        1,
        "only the allocated door opened"
    );

    // The courier puts the parcel in and shuts the door: the deposit is confirmed.
    wait_open(&agent, "A01").await;
    agent.post("/sim/0/1/put", json!({})).await;
    agent.post("/sim/0/1/close", json!({})).await;
    let parcel_id = d["parcel_id"].as_str().unwrap().to_string();
    eventually(10, "the deposit to be confirmed", || async {
        let p = parcel_state(&w.admin, &parcel_id).await;
        p["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "deposit_confirmed")
            .then_some(())
    })
    .await;

    // Wrong code and unknown parcel: one answer, nothing opens.
    let (status, body) = agent
        .post("/kiosk/api/pickup", json!({"code": "00000000"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("code_rejected"))
    );
    // Word for word the server's answer to the same wrong code.
    let (server_status, server_body) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/pickups", w.locker_id),
            json!({"code": "00000000"}),
        )
        .await;
    assert_eq!((status, &body), (server_status, &server_body));
    let (status, _) = agent
        .post(
            "/kiosk/api/pickup",
            json!({"code": "ffffffffffffffffffffffffffffffff"}),
        )
        .await;
    assert_eq!(status, 403);

    // The resident collects at the kiosk; the server records the pick-up.
    let code = code_for(&p, "anna@example.org").await;
    let opened = collect(&agent, &code).await;
    assert_eq!(opened["opened"], json!(["A01"]));
    assert_eq!(agent.releases(0, 1).await, 2);
    agent.post("/sim/0/1/take", json!({})).await;
    agent.post("/sim/0/1/close", json!({})).await;
    eventually(10, "the server to record the pick-up", || async {
        (parcel_state(&w.admin, &parcel_id).await["state"] == "picked_up").then_some(())
    })
    .await;
    // Used once: the same code opens nothing again.
    let (status, _) = agent.post("/kiosk/api/pickup", json!({"code": code})).await;
    assert_eq!(status, 403);
    assert_eq!(agent.total_releases().await, 2);

    // No incident: the door closed with the item after the deposit, empty after the pick-up.
    let (_, incidents) = w
        .admin
        .get(&format!("/api/v1/sites/{}/incidents", w.site_id))
        .await;
    assert_eq!(incidents, json!([]), "{incidents}");
}

#[tokio::test]
async fn with_the_server_down_the_kiosk_still_hands_out_parcels_and_the_journal_arrives_once() {
    let mut p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (device_id, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = AgentProcess::start(
        bin(),
        &identity,
        &tmp.path().join("agent"),
        &p.mqtt,
        NO_REOPEN_GRACE,
    );
    wait_ready(&w.admin, &w.locker_id, &agent).await;

    let mut parcels = Vec::new();
    for (i, (tracking, lock)) in [("RB123456785GB", 1u8), ("1Z5R89390357567127", 3u8)]
        .iter()
        .enumerate()
    {
        let h = if i == 0 { 60 } else { 150 };
        let d = w
            .admin
            .created(
                &format!("/api/v1/lockers/{}/deposits", w.locker_id),
                parcel(tracking, &w.residents[i], h),
            )
            .await;
        eventually(10, "the deposit door to open", || async {
            (agent.releases(0, *lock).await == 1).then_some(())
        })
        .await;
        wait_open(&agent, if *lock == 1 { "A01" } else { "B01" }).await;
        agent.post(&format!("/sim/0/{lock}/put"), json!({})).await;
        agent.post(&format!("/sim/0/{lock}/close"), json!({})).await;
        parcels.push(d["parcel_id"].as_str().unwrap().to_string());
    }
    let codes = [
        code_for(&p, "anna@example.org").await,
        code_for(&p, "jan@example.org").await,
    ];
    // Let the cache catch up with both deposits before the server goes away.
    eventually(10, "the cache to hold both credentials", || async {
        let s = agent.get("/kiosk/api/state").await;
        (s["journal_acked"] == s["journal_head"] && s["cache_version"].as_u64() >= Some(3))
            .then_some(())
    })
    .await;

    // The server (and its embedded broker) dies.
    p.kill();
    let releases_before = agent.total_releases().await;
    let first = collect(&agent, &codes[0]).await;
    assert_eq!(first["opened"], json!(["A01"]));
    let (again, _) = agent
        .post("/kiosk/api/pickup", json!({"code": codes[0]}))
        .await;
    assert_eq!(again, 403, "a used code opens nothing, even offline");
    let second = collect(&agent, &codes[1]).await;
    assert_eq!(second["opened"], json!(["B01"]));
    for lock in [1, 3] {
        agent.post(&format!("/sim/0/{lock}/take"), json!({})).await;
        agent.post(&format!("/sim/0/{lock}/close"), json!({})).await;
    }
    assert_eq!(agent.total_releases().await, releases_before + 2);

    // Kill the agent too (kill -9) while offline: its journal survives.
    let mut agent = agent;
    agent.restart();
    let head_offline = agent.get("/kiosk/api/state").await["journal_head"]
        .as_u64()
        .unwrap();

    // The server comes back on the same broker port: the journal uploads.
    p.spawn();
    // The HTTP port is new after a restart; the broker's is not.
    let admin = Client::new(&p.base, cubby_testkit::ADMIN_TOKEN);
    for id in &parcels {
        eventually(20, "the offline pick-ups to reach the server", || async {
            (parcel_state(&admin, id).await["state"] == "picked_up").then_some(())
        })
        .await;
    }
    let events: Vec<Value> = eventually(20, "every journal entry", || async {
        let (_, ev) = admin
            .get(&format!("/api/v1/devices/{device_id}/events?limit=1000"))
            .await;
        let ev = ev.as_array().cloned().unwrap_or_default();
        (ev.len() as u64 >= head_offline).then_some(ev)
    })
    .await;
    // Exactly once, in order, no gaps.
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"].as_u64(), Some(i as u64 + 1), "{e}");
    }
    let granted = events
        .iter()
        .filter(|e| e["kind"] == "pickup_granted")
        .count();
    assert_eq!(granted, 2);
    // Link loss and two restarts released no door.
    assert_eq!(
        agent.total_releases().await,
        0,
        "the restarted agent's simulated bank boots locked and untouched"
    );
}

#[tokio::test]
async fn a_courier_with_a_pass_deposits_pre_advised_parcels_while_the_server_is_down() {
    let mut p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (device_id, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = AgentProcess::start(bin(), &identity, &tmp.path().join("agent"), &p.mqtt, &[]);
    wait_ready(&w.admin, &w.locker_id, &agent).await;

    // The carrier pre-advises two parcels; one for another carrier.
    let mut announced = Vec::new();
    for (tracking, carrier, resident) in [
        ("RB123456785GB", "dhl", &w.residents[0]),
        ("1Z5R89390357567127", "dhl", &w.residents[1]),
        ("JJD000390007700000001", "ups", &w.residents[2]),
    ] {
        let a = w
            .admin
            .created(
                &format!("/api/v1/sites/{}/announcements", w.site_id),
                json!({"tracking_number": tracking, "carrier": carrier, "resident_id": resident,
                       "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
            )
            .await;
        announced.push(a["parcel_id"].as_str().unwrap().to_string());
    }
    // Let the caches the announcements caused settle, so that the next new
    // version is the one that carries the pass.
    let version_before = settled_cache(&w.admin, &w.locker_id, &agent).await;
    // Staff must name the carrier and the courier; the pass is shown once.
    let courier = w.courier_account("dhl").await;
    let (status, body) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/courier-passes", w.locker_id),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_input"))
    );
    // A pass is for one courier and one visit: no courier, or a whole day, is refused.
    for (asked, field) in [
        (json!({"carrier": "dhl"}), "courier_id"),
        (
            json!({"carrier": "dhl", "courier_id": courier["courier_id"], "valid_minutes": 241}),
            "valid_minutes",
        ),
    ] {
        let (status, body) = w
            .admin
            .post(
                &format!("/api/v1/lockers/{}/courier-passes", w.locker_id),
                asked,
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some(field)),
            "{body}"
        );
    }
    let pass = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/courier-passes", w.locker_id),
            json!({"carrier": "DHL", "courier_id": courier["courier_id"], "valid_minutes": 120}),
        )
        .await;
    assert_eq!(pass["carrier"], "dhl");
    let code = pass["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 10);
    eventually(10, "the pass to reach the locker", || async {
        let v = agent.get("/kiosk/api/state").await["cache_version"].as_u64();
        (v > Some(version_before)).then_some(())
    })
    .await;

    // The touchscreen page is served by the agent and loads nothing from elsewhere.
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/", agent.kiosk))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Courier pass") && page.contains("src=\"/kiosk/kiosk.js\""));
    let script = http
        .get(format!("{}/kiosk/kiosk.js", agent.kiosk))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(script.contains("/kiosk/api/deposit"));
    for text in [&page, &script] {
        assert!(!text.contains("http://") && !text.contains("https://"));
    }

    // The server (and its broker) dies; the courier arrives.
    p.kill();
    let deposit = |pass: &str, tracking: &str| {
        agent.post(
            "/kiosk/api/deposit",
            json!({"pass": pass, "tracking_number": tracking}),
        )
    };
    let (status, body) = deposit("0000000000", "RB123456785GB").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("pass_rejected"))
    );
    let (status, body) = deposit(&code, "RB000000000GB").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("parcel_not_expected"))
    );
    // Pre-advised, but for another carrier than the pass.
    let (status, _) = deposit(&code, "JJD000390007700000001").await;
    assert_eq!(status, 404);
    assert_eq!(agent.total_releases().await, 0, "no refusal opened a door");

    let (status, first) = deposit(&code, "rb 123 456 785 gb").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["opened"], json!(["A01"]));
    assert_eq!(first["parcel_id"].as_str(), Some(announced[0].as_str()));
    assert_eq!(agent.releases(0, 1).await, 1);
    wait_open(&agent, "A01").await;
    agent.post("/sim/0/1/put", json!({})).await;
    agent.post("/sim/0/1/close", json!({})).await;
    let (status, again) = deposit(&code, "RB123456785GB").await;
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("already_deposited"))
    );
    // The next parcel takes the next free door, not the one just filled.
    let (status, second) = deposit(&code, "1Z5R89390357567127").await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["opened"], json!(["A02"]));
    wait_open(&agent, "A02").await;
    agent.post("/sim/0/2/put", json!({})).await;
    agent.post("/sim/0/2/close", json!({})).await;
    assert_eq!(agent.total_releases().await, 2);

    // The server returns: the deposits arrive with the journal, are recorded
    // in the doors the locker chose, and the residents are told.
    p.spawn();
    let admin = Client::new(&p.base, cubby_testkit::ADMIN_TOKEN);
    for (id, label) in [(&announced[0], "A01"), (&announced[1], "A02")] {
        let parcel = eventually(20, "the offline deposit to reach the server", || async {
            let v = parcel_state(&admin, id).await;
            (v["state"] == "deposited").then_some(v)
        })
        .await;
        assert_eq!(parcel["compartment"]["label"], label, "{parcel}");
    }
    assert_eq!(
        parcel_state(&admin, &announced[2]).await["state"],
        "announced"
    );
    let anna = code_for(&p, "anna@example.org").await;
    // The door closed with the item inside: the deposit is confirmed.
    eventually(10, "the deposit to be confirmed", || async {
        let v = parcel_state(&admin, &announced[0]).await;
        v["events"]
            .as_array()?
            .iter()
            .any(|e| e["kind"] == "deposit_confirmed")
            .then_some(())
    })
    .await;
    // And Anna collects with the code she was sent.
    let opened = collect(&agent, &anna).await;
    assert_eq!(opened["opened"], json!(["A01"]));
    let (_, incidents) = admin
        .get(&format!("/api/v1/sites/{}/incidents", w.site_id))
        .await;
    assert_eq!(incidents, json!([]), "{incidents}");
    let kinds = journal_kinds(&admin, &device_id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "deposit_made").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "deposit_refused").count(), 3);
    // Each use of the pass is in the security audit log, with the pass and door.
    let (_, used) = admin
        .get("/api/v1/audit-events?action=courier_pass.used")
        .await;
    let used = used["events"].as_array().unwrap();
    assert_eq!(used.len(), 2, "{used:?}");
    assert!(
        used.iter()
            .all(|e| e["actor"] == format!("courier_pass:{}", pass["pass_id"].as_str().unwrap()))
    );
    let (_, issued) = admin
        .get("/api/v1/audit-events?action=courier_pass.issued")
        .await;
    assert_eq!(issued["events"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn with_its_disk_nearly_full_the_locker_stops_deposits_but_keeps_handing_out_parcels() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (device_id, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let data = tmp.path().join("agent");
    let mut agent = AgentProcess::start(bin(), &identity, &data, &p.mqtt, &[]);
    wait_ready(&w.admin, &w.locker_id, &agent).await;
    deposit_into_a01(&w, &agent).await;
    let code = code_for(&p, "anna@example.org").await;
    wait_cache_caught_up(&agent, 2).await;

    // The same agent, restarted where no disk has this much room left: its
    // floor is above the free space, as on a full card.
    agent.kill();
    let agent = AgentProcess::start(
        bin(),
        &identity,
        &data,
        &p.mqtt,
        &["--min-free-mb", "100000000"],
    );
    wait_ready(&w.admin, &w.locker_id, &agent).await;
    let before = agent.total_releases().await;
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("1Z5R89390357567127", &w.residents[1], 150),
        )
        .await;
    assert!(d["unlock_command_id"].is_string());
    eventually(10, "the refusal to reach the server", || async {
        let kinds = journal_kinds(&w.admin, &device_id).await;
        kinds.iter().any(|k| k == "command_refused").then_some(())
    })
    .await;
    let (_, incidents) = w
        .admin
        .get(&format!("/api/v1/sites/{}/incidents", w.site_id))
        .await;
    assert!(
        incidents.as_array().unwrap().iter().any(|i| i["detail"]
            .as_str()
            .is_some_and(|d| d.contains("storage nearly full"))),
        "{incidents}"
    );
    let pass = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/courier-passes", w.locker_id),
            json!({"carrier": "dhl", "courier_id": w.courier_account("dhl").await["courier_id"]}),
        )
        .await;
    let (status, body) = agent
        .post(
            "/kiosk/api/deposit",
            json!({"pass": pass["code"], "tracking_number": "RB000000000GB"}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (503, Some("unavailable")));
    assert_eq!(
        agent.total_releases().await,
        before,
        "no deposit opened a door"
    );

    // Pick-ups go on, and are logged.
    let opened = collect(&agent, &code).await;
    assert_eq!(opened["opened"], json!(["A01"]));
    eventually(10, "the pick-up to be journalled and uploaded", || async {
        let kinds = journal_kinds(&w.admin, &device_id).await;
        kinds.iter().any(|k| k == "pickup_granted").then_some(())
    })
    .await;
}

/// The machine's own Mosquitto (127.0.0.1:1883, as deployed beside the
/// server): the server and the agent meet on it instead of the embedded broker.
#[tokio::test]
async fn deposit_and_kiosk_pickup_work_through_the_system_mosquitto() {
    if std::net::TcpStream::connect("127.0.0.1:1883").is_err() {
        assert!(
            std::env::var("CI").is_err(),
            "Mosquitto must listen on 127.0.0.1:1883 in CI (.ci/run starts it)"
        );
        eprintln!("SKIPPED: no Mosquitto on 127.0.0.1:1883");
        return;
    }
    let p = CubbyProcess::start_with(
        bin(),
        None,
        vec!["--mqtt-url".into(), "mqtt://127.0.0.1:1883".into()],
    );
    assert_eq!(p.mqtt, "127.0.0.1:1883");
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (_, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = AgentProcess::start(bin(), &identity, &tmp.path().join("agent"), &p.mqtt, &[]);
    wait_ready(&w.admin, &w.locker_id, &agent).await;
    let d = deposit_into_a01(&w, &agent).await;
    let code = code_for(&p, "anna@example.org").await;
    let opened = collect(&agent, &code).await;
    assert_eq!(opened["opened"], json!(["A01"]));
    let parcel_id = d["parcel_id"].as_str().unwrap().to_string();
    eventually(10, "the server to record the pick-up", || async {
        (parcel_state(&w.admin, &parcel_id).await["state"] == "picked_up").then_some(())
    })
    .await;
    assert_eq!(agent.total_releases().await, 2);
}

/// A private Mosquitto on a free port, so the test can restart it.
struct Mosquitto {
    child: Option<std::process::Child>,
}

impl Mosquitto {
    fn start(port: u16) -> Option<Mosquitto> {
        let child = std::process::Command::new("mosquitto")
            .args(["-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let m = Mosquitto { child: Some(child) };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(m);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn journal_kinds(admin: &Client, device_id: &str) -> Vec<String> {
    let (_, ev) = admin
        .get(&format!("/api/v1/devices/{device_id}/events?limit=1000"))
        .await;
    ev.as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn commands_from_a_compromised_back_end_open_nothing_beyond_the_rules_through_mosquitto() {
    use cubby_protocol::command::{Action, Command, Purpose};
    use cubby_protocol::signing::sign;
    use rumqttc::{AsyncClient, MqttOptions, QoS};

    let port = free_port();
    let Some(mut mosquitto) = Mosquitto::start(port) else {
        assert!(
            std::env::var("CI").is_err(),
            "mosquitto must be installed in CI (.ci/run installs it)"
        );
        eprintln!("SKIPPED: no mosquitto binary on this machine");
        return;
    };
    let url = format!("mqtt://127.0.0.1:{port}");
    let p = CubbyProcess::start_with(bin(), None, vec!["--mqtt-url".into(), url]);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (device_id, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = AgentProcess::start(bin(), &identity, &tmp.path().join("agent"), &p.mqtt, &[]);
    wait_ready(&w.admin, &w.locker_id, &agent).await;
    // Every compartment holds a parcel: each remote open counts against the cap.
    for lock in 1..=5 {
        agent.post(&format!("/sim/0/{lock}/put"), json!({})).await;
    }
    eventually(
        10,
        "the agent to see every compartment occupied",
        || async {
            let s = agent.get("/kiosk/api/state").await;
            let c = s["compartments"].as_array().cloned().unwrap_or_default();
            (c.len() == 5 && c.iter().all(|c| c["item_present"] == true)).then_some(())
        },
    )
    .await;

    // The test plays a back end that holds the real signing key.
    let secret = hex::decode(
        std::fs::read_to_string(p.data_dir.join("secret.key"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let key = cubby_server::devices::signing_key(&secret);
    let rogue = cubby_protocol::signing::signing_key(&[42u8; 32]);
    let mut opts = MqttOptions::new("test-backend", "127.0.0.1", port);
    opts.set_keep_alive(std::time::Duration::from_secs(5));
    let (client, mut eventloop) = AsyncClient::new(opts, 100);
    tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    let topic = cubby_protocol::topics::topic(&device_id, cubby_protocol::topics::Channel::Cmd);
    let now = cubby_server::now_ms();
    let cmd = |id: &str, seq: u64, device: &str, label: &str, issued: i64, expires: i64| Command {
        device_id: device.to_string(),
        cmd_id: id.to_string(),
        tx_id: "tx-test".into(),
        seq,
        issued_ms: issued,
        expires_ms: expires,
        action: Action::Unlock {
            compartment: label.to_string(),
            purpose: Purpose::Staff,
        },
    };
    let publish = |bytes: Vec<u8>| {
        let client = client.clone();
        let topic = topic.clone();
        async move {
            client
                .publish(topic, QoS::AtLeastOnce, false, bytes)
                .await
                .unwrap()
        }
    };
    let json_of = |s: &cubby_protocol::signing::Signed| serde_json::to_vec(s).unwrap();

    let good = sign(
        &key,
        &cmd("cmd-good", 1003, &device_id, "A01", now, now + 20_000),
    );
    let mut altered = good.clone();
    altered.payload = altered.payload.replace("A01", "A02");
    let attempts = vec![
        (
            "forged",
            json_of(&sign(
                &rogue,
                &cmd("cmd-f", 1000, &device_id, "A01", now, now + 20_000),
            )),
        ),
        (
            "mis-addressed",
            json_of(&sign(
                &key,
                &cmd("cmd-m", 1001, "dev_someoneelse", "A01", now, now + 20_000),
            )),
        ),
        (
            "expired",
            json_of(&sign(
                &key,
                &cmd("cmd-e", 1002, &device_id, "A01", now - 40_000, now - 20_000),
            )),
        ),
        ("good", json_of(&good)),
        ("redelivered", json_of(&good)),
        (
            "replayed seq",
            json_of(&sign(
                &key,
                &cmd("cmd-r", 1003, &device_id, "A02", now, now + 20_000),
            )),
        ),
        ("altered", json_of(&altered)),
    ];
    for (_, bytes) in attempts {
        publish(bytes).await;
    }
    eventually(20, "the rejections in the journal", || async {
        let kinds = journal_kinds(&w.admin, &device_id).await;
        (kinds.iter().filter(|k| *k == "command_rejected").count() >= 5).then_some(())
    })
    .await;
    let kinds = journal_kinds(&w.admin, &device_id).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "command_rejected").count(),
        5,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "unlocked").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        agent.total_releases().await,
        1,
        "only the one valid command opened a door"
    );
    assert_eq!(agent.releases(0, 1).await, 1);
    agent.post("/sim/0/1/close", json!({})).await;

    // The cap: 12 more valid opens of occupied compartments; 9 fit in the
    // 10-per-10-minutes window (one was used above), 3 are refused.
    for i in 0..12u64 {
        let lock = (i % 5) as u8 + 1;
        let label = ["A01", "A02", "B01", "C01", "K01"][usize::from(lock - 1)];
        let t = cubby_server::now_ms();
        publish(json_of(&sign(
            &key,
            &cmd(
                &format!("cmd-cap-{i}"),
                2000 + i,
                &device_id,
                label,
                t,
                t + 20_000,
            ),
        )))
        .await;
        eventually(10, "the command to be handled", || async {
            let k = journal_kinds(&w.admin, &device_id).await;
            let handled = k
                .iter()
                .filter(|k| *k == "unlocked" || *k == "command_refused")
                .count();
            (handled as u64 > i + 1).then_some(())
        })
        .await;
        agent.post(&format!("/sim/0/{lock}/close"), json!({})).await;
    }
    assert_eq!(
        agent.total_releases().await,
        10,
        "the edge cap held at 10 remote opens"
    );
    let kinds = journal_kinds(&w.admin, &device_id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "command_refused").count(), 3);
    let (_, incidents) = w
        .admin
        .get(&format!("/api/v1/sites/{}/incidents", w.site_id))
        .await;
    // One incident for the cause at this locker, folding its three refusals.
    let refused: Vec<&Value> = incidents
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "remote_open_refused")
        .collect();
    assert_eq!(refused.len(), 1, "{incidents}");
    assert_eq!(refused[0]["occurrences"], 3, "{incidents}");

    // Two broker restarts: the agent reconnects, no door moves.
    let before = agent.total_releases().await;
    for _ in 0..2 {
        mosquitto.kill();
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        mosquitto = Mosquitto::start(port).expect("mosquitto restarts");
        eventually(20, "the agent to reconnect", || async {
            let s = agent.get("/kiosk/api/state").await;
            let (_, devices) = w
                .admin
                .get(&format!("/api/v1/lockers/{}/devices", w.locker_id))
                .await;
            (devices[0]["online"] == true && s["journal_acked"] == s["journal_head"]).then_some(())
        })
        .await;
    }
    assert_eq!(
        agent.total_releases().await,
        before,
        "broker restarts released no door"
    );
}
