//! `cubby bench edge-decision` (P4): a kiosk code → the unlock frame with the
//! server and broker stopped, and the server-consulted deposit → unlock path.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use cubby_boards::LockAddress;
use serde_json::{Value, json};

use super::{
    LOCKS_PER_BOARD, address, create_locker, create_residents, create_site, deposit_body,
    eventually, finish, fsync_latency, kiosk_state, ms, observe, outbox_codes, start_bench_agent,
    start_server, stats, temp_dir, wait_ready, wait_synced,
};

#[derive(Args, Debug)]
pub struct EdgeDecisionArgs {
    /// Pick-ups to time (each one a parcel deposited for its own resident first;
    /// spread over lockers of at most 150 compartments, one agent each).
    #[arg(long, default_value_t = 200)]
    pub pickups: usize,
    /// How often each agent polls its lock boards (the `cubby agent` default).
    #[arg(long, default_value_t = 100)]
    pub poll_ms: u64,
    /// Write the machine-readable result here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where the databases and agent journals go (a fresh temporary directory by default).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

pub async fn edge_decision(args: EdgeDecisionArgs) -> anyhow::Result<bool> {
    anyhow::ensure!(
        (1..=1000).contains(&args.pickups),
        "--pickups must be 1 to 1,000"
    );
    anyhow::ensure!(
        (10..=1000).contains(&args.poll_ms),
        "--poll-ms must be 10 to 1,000"
    );
    let n = args.pickups;
    let tmp = temp_dir(args.dir.as_ref())?;
    let fsync = fsync_latency(tmp.path())?;
    println!("disk: fsync {fsync} ({})", tmp.path().display());
    let outbox = tmp.path().join("outbox");
    let (mut running, api) = start_server(tmp.path(), Some(outbox.clone()), None).await?;
    let site_id = create_site(&api).await?;
    let residents = create_residents(&api, &site_id, n).await?;
    let lockers = n.div_ceil(150);
    let per_locker = n.div_ceil(lockers);
    let poll = Duration::from_millis(args.poll_ms);
    let mut agents = Vec::new();
    for l in 0..lockers {
        let locker_id = create_locker(&api, &site_id, &format!("Bank {l}"), per_locker).await?;
        agents.push(
            start_bench_agent(
                &api,
                &locker_id,
                per_locker,
                tmp.path(),
                &running.mqtt_addr,
                poll,
            )
            .await?,
        );
    }
    for agent in &agents {
        wait_ready(&api, agent).await?;
    }
    println!(
        "{lockers} locker(s) of {per_locker} compartments, one agent each (simulated Kerong boards, poll {} ms), embedded broker {}",
        args.poll_ms, running.mqtt_addr
    );

    // --- server consulted: deposit API call → signed unlock over MQTT → agent → latch released ---
    let mut server_path = Vec::with_capacity(n);
    let mut api_answer = Vec::with_capacity(n);
    // (agent index, label, address, resident)
    let mut placed = Vec::with_capacity(n);
    for (i, resident) in residents.iter().enumerate() {
        let a = i % lockers;
        let agent = &agents[a];
        let before = agent.sim.total_releases();
        let t0 = Instant::now();
        let (status, v) = api
            .post(
                &format!("/api/v1/lockers/{}/deposits", agent.locker_id),
                deposit_body(i, resident),
            )
            .await?;
        let answered = t0.elapsed();
        anyhow::ensure!(status == 201, "deposit {i} answered {status}: {v}");
        anyhow::ensure!(
            v["unlock_command_id"].is_string(),
            "deposit {i} sent no unlock: {v}"
        );
        let label = v["compartment"]["label"]
            .as_str()
            .context("compartment label")?
            .to_string();
        let addr = address(&label, agent.compartments)?;
        let released = observe(Duration::from_secs(10), || {
            agent.sim.total_releases() > before
        })
        .await
        .with_context(|| format!("deposit {i}: the door did not open within 10 s"))?;
        anyhow::ensure!(
            agent.sim.releases(addr) == 1,
            "deposit {i}: a door other than {label} opened"
        );
        server_path.push(ms(released - t0));
        api_answer.push(ms(answered));
        // The courier puts the parcel in and shuts the door.
        agent.sim.put_item(addr);
        agent.sim.close_door(addr);
        placed.push((a, label, addr, resident.clone()));
    }
    let server_stats = stats(&server_path);
    let api_stats = stats(&api_answer);

    // Every credential must be in the agents' caches before the server goes.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for agent in &agents {
        wait_synced(&api, agent).await?;
    }
    let codes = eventually(30, "every pick-up code in the outbox", || async {
        let codes = outbox_codes(&outbox);
        Ok(residents
            .iter()
            .all(|r| codes.contains_key(r))
            .then_some(codes))
    })
    .await?;

    // A lobby door on the first agent's spare lock output, and one PIN per
    // pick-up for it, in the agents' caches before the server goes.
    let door_output = agents[0].compartments;
    let door_addr = LockAddress::new(
        (door_output / LOCKS_PER_BOARD) as u8,
        (door_output % LOCKS_PER_BOARD) as u8 + 1,
    );
    let door = api
        .created(
            &format!("/api/v1/sites/{site_id}/doors"),
            json!({"name": "Lobby", "kind": "lobby", "device_id": agents[0].device_id, "lock_output": door_output}),
        )
        .await?;
    let door_id = door["id"].as_str().context("door id")?.to_string();
    let mut pins = Vec::with_capacity(n);
    let not_after = cubby_server::now_ms() + 3_600_000;
    for i in 0..n {
        let g = api
            .created(
                &format!("/api/v1/sites/{site_id}/access-grants"),
                json!({"label": format!("Visitor {i}"), "doors": [door_id], "not_after_ms": not_after}),
            )
            .await?;
        pins.push(g["pin"].as_str().context("pin")?.to_string());
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    wait_synced(&api, &agents[0]).await?;

    // --- baseline: bare loopback HTTP round trips to the same kiosk ---
    let client = reqwest::Client::new();
    let mut bare = Vec::with_capacity(n);
    let mut via_engine = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let res = client.get(format!("{}/", agents[0].kiosk)).send().await?;
        anyhow::ensure!(res.status() == 200, "kiosk page answered {}", res.status());
        res.bytes().await?;
        bare.push(ms(t.elapsed()));
        let t = Instant::now();
        kiosk_state(&client, &agents[0]).await?;
        via_engine.push(ms(t.elapsed()));
    }
    let bare_stats = stats(&bare);
    let engine_stats = stats(&via_engine);

    // --- offline: the server and its broker stop ---
    running.task.abort();
    if let Some(broker) = running.broker.take() {
        broker.shutdown().await;
    }
    let broker_down = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect(&running.mqtt_addr),
    )
    .await
    .map(|r| r.is_err())
    .unwrap_or(true);
    let api_down = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect(running.addr),
    )
    .await
    .map(|r| r.is_err())
    .unwrap_or(true);
    anyhow::ensure!(
        broker_down && api_down,
        "the server or its broker still answers"
    );
    // Let the agents notice the lost link.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let mut rtt = Vec::with_capacity(n);
    let mut to_release = Vec::with_capacity(n);
    let (mut visible_at_answer, mut failures) = (0usize, 0usize);
    for (a, label, addr, resident) in &placed {
        let agent = &agents[*a];
        let code = codes.get(resident).context("code of a resident")?;
        let before = agent.sim.releases(*addr);
        let t0 = Instant::now();
        let res = client
            .post(format!("{}/pickup", agent.kiosk_api))
            .json(&json!({"code": code}))
            .send()
            .await?;
        let status = res.status().as_u16();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        let answered = Instant::now();
        if status != 200 || v["opened"] != json!([label]) {
            failures += 1;
            tracing::warn!(status, %v, "pick-up at the kiosk did not open {label}");
            continue;
        }
        let released = if agent.sim.releases(*addr) > before {
            visible_at_answer += 1;
            answered
        } else {
            observe(Duration::from_secs(5), || {
                agent.sim.releases(*addr) > before
            })
            .await
            .with_context(|| format!("the latch of {label} never released"))?
        };
        rtt.push(ms(answered - t0));
        to_release.push(ms(released.max(answered) - t0));
        agent.sim.take_item(*addr);
        agent.sim.close_door(*addr);
    }
    let offline_stats = stats(&rtt);
    let offline_release = stats(&to_release);

    // --- offline door decisions: PIN → grant rule in the site's zone → journal fsync → unlock frame ---
    let mut door_rtt = Vec::with_capacity(n);
    let mut door_failures = 0usize;
    for pin in &pins {
        let before = agents[0].sim.releases(door_addr);
        let t0 = Instant::now();
        let res = client
            .post(format!("{}/door", agents[0].kiosk_api))
            .json(&json!({"door_id": door_id, "pin": pin}))
            .send()
            .await?;
        let status = res.status().as_u16();
        let answered = t0.elapsed();
        if status != 200 {
            door_failures += 1;
            continue;
        }
        observe(Duration::from_secs(5), || {
            agents[0].sim.releases(door_addr) > before
        })
        .await
        .context("the door's latch never released")?;
        door_rtt.push(ms(answered));
        agents[0].sim.close_door(door_addr);
    }
    let door_stats = stats(&door_rtt);
    let failures = failures + door_failures;
    let offline_ok = failures == 0 && offline_stats.p99_ms <= 20.0;
    let server_ok = server_stats.p99_ms <= 100.0;

    println!(
        "edge decision OFFLINE (server and broker stopped; kiosk POST pickup → journal fsync → unlock frame written to the bus → answer): {} pick-ups, {failures} failed; kiosk round trip {offline_stats} (target p99 ≤ 20 ms: {}); latch released on the simulated board when the answer arrived: {visible_at_answer}/{}",
        placed.len(),
        if offline_ok { "met" } else { "MISSED" },
        rtt.len()
    );
    println!(
        "door decision OFFLINE (kiosk POST door PIN → grant rule → journal fsync → unlock frame → answer): {} PINs, {door_failures} failed; round trip {door_stats}",
        door_rtt.len()
    );
    println!(
        "server consulted (deposit API call → commit → signed unlock over MQTT → agent journal fsync → latch released): {server_stats} (target p99 ≤ 100 ms: {}); API answer alone {api_stats}",
        if server_ok { "met" } else { "MISSED" }
    );
    println!(
        "baseline (same run, same kiosk, loopback HTTP): GET / {bare_stats}; GET state (through the agent's engine queue) {engine_stats}"
    );
    let result = json!({
        "benchmark": "edge-decision",
        "pickups": placed.len(),
        "failures": failures,
        "lockers": lockers,
        "compartments_per_locker": per_locker,
        "poll_ms": args.poll_ms,
        "offline_kiosk_round_trip": offline_stats,
        "offline_code_to_release": offline_release,
        "offline_release_visible_at_answer": visible_at_answer,
        "offline_door_pins": door_rtt.len(),
        "offline_door_failures": door_failures,
        "offline_door_round_trip": door_stats,
        "server_consulted_deposit_to_release": server_stats,
        "server_consulted_api_answer": api_stats,
        "baseline_kiosk_get_page": bare_stats,
        "baseline_kiosk_get_state": engine_stats,
        "fsync": fsync,
        "target_offline_p99_ms": 20,
        "target_server_p99_ms": 100,
        "offline_target_met": offline_ok,
        "server_target_met": server_ok,
    });
    finish(args.json.as_ref(), &result)?;
    Ok(failures == 0)
}
