//! Doors and access grants through the real binaries: the server issues
//! PINs, an agent drives door locks on a simulated board reached over TCP
//! (so the test counts every release frame, across agent crashes), and the
//! agent decides from its signed cache, with the server up or down.

use std::time::Duration;

use cubby_boards::{Family, LockAddress, SimulatedBank};
use cubby_testkit::{AgentProcess, CubbyProcess, eventually};
use serde_json::{Value, json};

use crate::edge::{provision, wait_ready};
use crate::{World, bin, now_ms, seed, small_bank};

/// The small bank has five compartments (outputs 0–4); doors follow.
const LOBBY_OUTPUT: u32 = 5;
const GYM_OUTPUT: u32 = 6;
pub(crate) const LOBBY_LOCK: LockAddress = LockAddress { board: 0, lock: 6 };
const GYM_LOCK: LockAddress = LockAddress { board: 0, lock: 7 };

pub(crate) struct Site {
    pub w: World,
    pub bank: SimulatedBank,
    pub agent: AgentProcess,
    pub device: String,
    pub lobby: String,
    pub gym: String,
    pub path: String,
    _tmp: tempfile::TempDir,
}

pub(crate) async fn site(p: &CubbyProcess) -> Site {
    site_with(p, |_| Vec::new()).await
}

/// The site with its door agent started with `extra(lobby_door_id)` as
/// further arguments (the doors exist before the agent starts).
pub(crate) async fn site_with(p: &CubbyProcess, extra: impl FnOnce(&str) -> Vec<String>) -> Site {
    let w = seed(p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (device, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let door = |name: &str, kind: &str, output: Option<u32>| {
        let mut body = json!({"name": name, "kind": kind});
        if let Some(o) = output {
            body["device_id"] = json!(device);
            body["lock_output"] = json!(o);
        }
        body
    };
    let doors = format!("/api/v1/sites/{}/doors", w.site_id);
    let gate = w
        .admin
        .created(&doors, door("Gate", "perimeter", None))
        .await;
    let lobby = w
        .admin
        .created(&doors, door("Lobby", "lobby", Some(LOBBY_OUTPUT)))
        .await;
    let gym = w
        .admin
        .created(&doors, door("Gym", "shared", Some(GYM_OUTPUT)))
        .await;
    let path = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/door-paths", w.site_id),
            json!({"name": "Street to lobby", "doors": [gate["id"], lobby["id"]]}),
        )
        .await;
    let lobby: String = lobby["id"].as_str().unwrap().into();
    let bank = SimulatedBank::new(Family::Kerong, vec![0], 16);
    let addr = bank.spawn_tcp("127.0.0.1:0").unwrap();
    let mut args = vec!["--tcp".to_string(), addr.to_string()];
    args.extend(extra(&lobby));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let agent = AgentProcess::start_with_boards(
        bin(),
        &identity,
        &tmp.path().join("agent"),
        &p.mqtt,
        &args,
    );
    wait_ready(&w.admin, &w.locker_id, &agent).await;
    Site {
        bank,
        agent,
        device,
        lobby,
        gym: gym["id"].as_str().unwrap().into(),
        path: path["id"].as_str().unwrap().into(),
        w,
        _tmp: tmp,
    }
}

pub(crate) async fn grant(s: &Site, body: Value) -> (String, String) {
    let g =
        s.w.admin
            .created(
                &format!("/api/v1/sites/{}/access-grants", s.w.site_id),
                body,
            )
            .await;
    (
        g["grant_id"].as_str().unwrap().into(),
        g["pin"].as_str().unwrap().into(),
    )
}

/// Types a PIN at a door's keypad. `None` when the agent did not answer
/// (it crashed).
pub(crate) async fn type_pin(agent: &AgentProcess, door: &str, pin: &str) -> Option<(u16, Value)> {
    let resp = reqwest::Client::new()
        .post(format!("{}/kiosk/api/door", agent.kiosk))
        .json(&json!({"door_id": door, "pin": pin}))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.json().await.unwrap_or(Value::Null)))
}

/// Waits until the controller's cache knows the grant (the first success).
pub(crate) async fn first_open(agent: &AgentProcess, door: &str, pin: &str) {
    eventually(10, "the grant to reach the door", || async {
        let (status, _) = type_pin(agent, door, pin).await?;
        (status == 200).then_some(())
    })
    .await;
}

/// The visitor walks through and the door shuts behind them. The board
/// acts on the unlock frame a moment after the agent sent it, so wait for the
/// latch to release first.
pub(crate) async fn walk_through(bank: &SimulatedBank, lock: LockAddress) {
    eventually(5, "the door to open", || async {
        bank.door_open(lock).then_some(())
    })
    .await;
    bank.close_door(lock);
}

/// Releases of `lock` once the board has acted on every frame sent so far.
pub(crate) async fn settled_releases(bank: &SimulatedBank, lock: LockAddress) -> u32 {
    tokio::time::sleep(Duration::from_millis(300)).await;
    bank.releases(lock)
}

pub(crate) fn hour() -> i64 {
    3_600_000
}

#[tokio::test]
async fn a_visitor_pin_opens_each_door_of_its_path_once_and_revocation_reaches_the_door() {
    let p = CubbyProcess::start(bin(), None);
    let s = site(&p).await;
    let (express, pin) = grant(
        &s,
        json!({"label": "Courier Anna", "path_id": s.path, "not_after_ms": now_ms() + hour(), "max_uses": 1,
               "host_resident_id": s.w.residents[0]}),
    )
    .await;
    first_open(&s.agent, &s.lobby, &pin).await;
    walk_through(&s.bank, LOBBY_LOCK).await;
    // Single use: the lobby stays shut the second time, with the same answer
    // as any wrong code; the gym is not on the path.
    for door in [&s.lobby, &s.gym] {
        let (status, body) = type_pin(&s.agent, door, &pin).await.unwrap();
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["code"], "code_rejected");
    }
    assert_eq!(settled_releases(&s.bank, LOBBY_LOCK).await, 1);
    assert_eq!(s.bank.releases(GYM_LOCK), 0);

    // Every use is visible on the grant, once.
    let used = eventually(10, "the use recorded at the server", || async {
        let (_, g) =
            s.w.admin
                .get(&format!("/api/v1/access-grants/{express}"))
                .await;
        (g["uses"].as_array().map(Vec::len) == Some(1)).then_some(g)
    })
    .await;
    assert_eq!(used["uses"][0]["door_id"], s.lobby.as_str());

    // A multi-use PIN for the gym, revoked: the door refuses it within 60 s.
    let (gym_grant, gym_pin) = grant(
        &s,
        json!({"label": "Trainer", "doors": [s.gym], "not_after_ms": now_ms() + hour()}),
    )
    .await;
    first_open(&s.agent, &s.gym, &gym_pin).await;
    // The trainer walks through; the door shuts behind them.
    walk_through(&s.bank, GYM_LOCK).await;
    let (status, _) = type_pin(&s.agent, &s.gym, &gym_pin).await.unwrap();
    assert_eq!(status, 200, "unlimited uses");
    walk_through(&s.bank, GYM_LOCK).await;
    let revoked_at = std::time::Instant::now();
    let (status, _) =
        s.w.admin
            .post(
                &format!("/api/v1/access-grants/{gym_grant}/revoke"),
                json!({}),
            )
            .await;
    assert_eq!(status, 204);
    eventually(60, "the revocation to reach the door", || async {
        let (status, _) = type_pin(&s.agent, &s.gym, &gym_pin).await?;
        (status == 403).then_some(())
    })
    .await;
    assert!(revoked_at.elapsed() < Duration::from_secs(60));
    // From then on the PIN opens nothing (tries racing the revocation may
    // have opened the door before it arrived).
    if s.bank.door_open(GYM_LOCK) {
        s.bank.close_door(GYM_LOCK);
    }
    let opened = settled_releases(&s.bank, GYM_LOCK).await;
    assert!(opened >= 2);
    for _ in 0..3 {
        let (status, _) = type_pin(&s.agent, &s.gym, &gym_pin).await.unwrap();
        assert_eq!(status, 403);
    }
    assert_eq!(settled_releases(&s.bank, GYM_LOCK).await, opened);

    // Bad input changes nothing.
    let (status, body) =
        s.w.admin
            .post(
                &format!("/api/v1/sites/{}/access-grants", s.w.site_id),
                json!({"label": "x", "doors": [s.gym], "not_after_ms": now_ms() - 1}),
            )
            .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) =
        s.w.admin
            .post(
                &format!("/api/v1/sites/{}/access-grants", s.w.site_id),
                json!({"label": "x", "doors": [s.gym], "not_after_ms": now_ms() + hour(),
                   "schedule": [{"days": ["mon"], "start": "18:00", "end": "09:00"}]}),
            )
            .await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn with_the_server_down_the_door_still_counts_uses() {
    let mut p = CubbyProcess::start(bin(), None);
    let s = site(&p).await;
    let (id, pin) = grant(
        &s,
        json!({"label": "Cleaner", "doors": [s.gym], "not_after_ms": now_ms() + hour(), "max_uses": 2}),
    )
    .await;
    first_open(&s.agent, &s.gym, &pin).await;
    walk_through(&s.bank, GYM_LOCK).await;
    p.kill();
    let (status, _) = type_pin(&s.agent, &s.gym, &pin).await.unwrap();
    assert_eq!(status, 200, "second use, offline");
    walk_through(&s.bank, GYM_LOCK).await;
    let (status, _) = type_pin(&s.agent, &s.gym, &pin).await.unwrap();
    assert_eq!(status, 403, "third use refused offline");
    assert_eq!(settled_releases(&s.bank, GYM_LOCK).await, 2);
    // Back online, the server learns both uses from the journal, once each.
    p.restart();
    let admin = cubby_testkit::Client::new(&p.base, cubby_testkit::ADMIN_TOKEN);
    eventually(20, "both uses at the server", || async {
        let (_, g) = admin.get(&format!("/api/v1/access-grants/{id}")).await;
        (g["uses"].as_array().map(Vec::len) == Some(2)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn past_its_cache_a_door_takes_offline_codes_only_and_they_cannot_be_revoked_there() {
    // Caches last 10 s here (7 days by default), so the door outlives its
    // cache within the test.
    let mut p = CubbyProcess::start_with_env(
        bin(),
        None,
        Vec::new(),
        vec![("CUBBY_CACHE_LIFETIME_SECS".into(), "10".into())],
    );
    let s = site(&p).await;
    let (_, pin) = grant(
        &s,
        json!({"label": "Cleaner", "doors": [s.lobby], "not_after_ms": now_ms() + hour()}),
    )
    .await;
    let codes = format!("/api/v1/doors/{}/offline-codes", s.lobby);
    let (status, body) =
        s.w.admin
            .post(&codes, json!({"label": "Plumber", "hours": 25}))
            .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_input"))
    );
    let offline =
        s.w.admin
            .created(&codes, json!({"label": "Plumber", "hours": 2}))
            .await;
    let code = offline["pin"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 14);
    assert!(
        offline["not_after_ms"].as_i64().unwrap() - offline["not_before_ms"].as_i64().unwrap()
            <= 2 * hour()
    );
    let revoked =
        s.w.admin
            .created(&codes, json!({"label": "Fired plumber", "hours": 2}))
            .await;
    assert_ne!(revoked["pin"], offline["pin"], "another slot, another code");
    let (status, _) =
        s.w.admin
            .post(
                &format!(
                    "/api/v1/access-grants/{}/revoke",
                    revoked["grant_id"].as_str().unwrap()
                ),
                json!({}),
            )
            .await;
    assert_eq!(status, 204);

    // Online, an offline code is an ordinary grant in the cache.
    first_open(&s.agent, &s.lobby, &code).await;
    walk_through(&s.bank, LOBBY_LOCK).await;
    // Revoked while the cache is valid: refused once the revocation arrives
    // (a try racing it may still open, and the visitor walks through).
    let revoked_pin = revoked["pin"].as_str().unwrap().to_string();
    eventually(10, "the revocation to reach the door", || async {
        let (status, _) = type_pin(&s.agent, &s.lobby, &revoked_pin).await?;
        if status == 200 {
            walk_through(&s.bank, LOBBY_LOCK).await;
        }
        (status == 403).then_some(())
    })
    .await;
    // The server re-signs the cache before it runs out.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let (status, _) = type_pin(&s.agent, &s.lobby, &pin).await.unwrap();
    assert_eq!(status, 200, "a refreshed cache outlives the first lifetime");
    walk_through(&s.bank, LOBBY_LOCK).await;

    // The server goes away; once the cache has expired the door takes no
    // ordinary PIN, but does take the offline code, on its own door only.
    p.kill();
    eventually(30, "the door's cache to expire", || async {
        let (status, _) = type_pin(&s.agent, &s.lobby, &pin).await?;
        if status == 200 {
            // Still valid: the cleaner walks through.
            walk_through(&s.bank, LOBBY_LOCK).await;
        }
        (status == 503).then_some(())
    })
    .await;
    let before = settled_releases(&s.bank, LOBBY_LOCK).await;
    let (status, body) = type_pin(&s.agent, &s.lobby, &code).await.unwrap();
    assert_eq!(status, 200, "{body}");
    walk_through(&s.bank, LOBBY_LOCK).await;
    let mut wrong = code.clone().into_bytes();
    wrong[13] = b'0' + (wrong[13] - b'0' + 1) % 10;
    let (status, _) = type_pin(&s.agent, &s.lobby, std::str::from_utf8(&wrong).unwrap())
        .await
        .unwrap();
    assert_eq!(status, 403);
    let (status, _) = type_pin(&s.agent, &s.gym, &code).await.unwrap();
    assert_eq!(status, 403, "another door's key");
    // Documented: offline, a revoked code still opens until its window ends.
    let (status, _) = type_pin(&s.agent, &s.lobby, revoked["pin"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(status, 200, "not revocable offline");
    walk_through(&s.bank, LOBBY_LOCK).await;
    assert_eq!(settled_releases(&s.bank, LOBBY_LOCK).await, before + 2);

    // Back online, the offline use lands on the code's grant.
    p.restart();
    let admin = cubby_testkit::Client::new(&p.base, cubby_testkit::ADMIN_TOKEN);
    let id = offline["grant_id"].as_str().unwrap();
    eventually(20, "the offline use at the server", || async {
        let (_, g) = admin.get(&format!("/api/v1/access-grants/{id}")).await;
        (g["uses"].as_array().map(Vec::len) == Some(2)).then_some(g)
    })
    .await;
}

#[tokio::test]
async fn a_single_use_pin_opens_at_most_once_whatever_step_the_agent_crashes_at() {
    let p = CubbyProcess::start(bin(), None);
    let mut s = site(&p).await;
    let mut opened_before = 0;
    for fault in ["after_access_journal", "after_door_release"] {
        let before = s.agent.get("/kiosk/api/state").await["cache_version"]
            .as_u64()
            .unwrap_or(0);
        let (id, pin) = grant(
            &s,
            json!({"label": fault, "doors": [s.lobby], "not_after_ms": now_ms() + hour(), "max_uses": 1}),
        )
        .await;
        // The grant must be in the agent's stored cache before the fault is
        // armed: the restarted agent decides from that cache.
        eventually(10, "a cache with the grant", || async {
            let v = s.agent.get("/kiosk/api/state").await["cache_version"].as_u64()?;
            (v > before).then_some(())
        })
        .await;
        s.agent.set_env("CUBBY_AGENT_FAULT", fault);
        s.agent.start_again();
        wait_ready(&s.w.admin, &s.w.locker_id, &s.agent).await;
        // The agent dies at the fault, mid-request.
        let answer = type_pin(&s.agent, &s.lobby, &pin).await;
        assert!(
            answer.is_none(),
            "{fault}: the agent should have crashed, got {answer:?}"
        );
        assert!(s.agent.wait_exit(10), "{fault}: the agent did not exit");
        let after_crash = settled_releases(&s.bank, LOBBY_LOCK).await - opened_before;
        let expected = u32::from(fault == "after_door_release");
        assert_eq!(after_crash, expected, "{fault}: releases at the crash");

        s.agent.set_env("CUBBY_AGENT_FAULT", "");
        s.agent.start_again();
        wait_ready(&s.w.admin, &s.w.locker_id, &s.agent).await;
        for _ in 0..3 {
            let (status, body) = type_pin(&s.agent, &s.lobby, &pin).await.unwrap();
            assert_eq!(status, 403, "{fault}: reused after restart: {body}");
        }
        let total = settled_releases(&s.bank, LOBBY_LOCK).await - opened_before;
        assert!(total <= 1, "{fault}: {total} releases for a single-use PIN");
        if s.bank.door_open(LOBBY_LOCK) {
            s.bank.close_door(LOBBY_LOCK);
        }
        opened_before = s.bank.releases(LOBBY_LOCK);
        // The server hears of the use exactly once.
        eventually(20, "the use at the server", || async {
            let (_, g) = s.w.admin.get(&format!("/api/v1/access-grants/{id}")).await;
            (g["uses"].as_array().map(Vec::len) == Some(1)).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn wrong_pins_at_a_door_lock_its_keypad_and_raise_an_incident() {
    let p = CubbyProcess::start(bin(), None);
    let s = site(&p).await;
    let (_, pin) = grant(
        &s,
        json!({"label": "Guest", "doors": [s.gym], "not_after_ms": now_ms() + hour()}),
    )
    .await;
    first_open(&s.agent, &s.gym, &pin).await;
    for i in 0..10 {
        let wrong = format!("{:08}", (pin.parse::<u64>().unwrap() + 1 + i) % 100_000_000);
        let (status, _) = type_pin(&s.agent, &s.gym, &wrong).await.unwrap();
        assert_eq!(status, 403);
    }
    // Locked now, even for the right PIN.
    let (status, body) = type_pin(&s.agent, &s.gym, &pin).await.unwrap();
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "keypad_locked");
    eventually(20, "a keypad_locked incident", || async {
        let (_, list) =
            s.w.admin
                .get(&format!("/api/v1/sites/{}/incidents", s.w.site_id))
                .await;
        list.as_array()?
            .iter()
            .any(|i| i["kind"] == "keypad_locked")
            .then_some(())
    })
    .await;
}
