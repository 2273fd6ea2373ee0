//! Trust findings, tried as an attacker would through the real binary.

use cubby_testkit::{Client, CubbyProcess};
use serde_json::{Value, json};

use crate::{bin, seed, small_bank};

pub(crate) async fn carrier_token(w: &crate::World, org: &Value, carrier: &str) -> String {
    w.admin
        .created(
            "/api/v1/tokens",
            json!({"role": "carrier", "organisation_id": org, "carrier": carrier, "label": carrier}),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn flat(tracking: &str) -> Value {
    // A name and unit copied from a label: all a thief needs to know.
    json!({"tracking_number": tracking, "recipient": {"unit": "A-1", "name": "Anna Kowalska"},
           "width_mm": 300, "height_mm": 15, "depth_mm": 200})
}

/// A UPS courier depositing for a resident whose DHL parcel fills a
/// compartment is given an empty door, never the DHL one; so is staff. The
/// DHL courier may add its own second parcel to the door it opened.
#[tokio::test]
async fn a_courier_never_opens_a_compartment_holding_another_delivery() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let org = site["organisation_id"].clone();
    let dhl = Client::new(&p.base, &carrier_token(&w, &org, "dhl").await);
    let ups = Client::new(&p.base, &carrier_token(&w, &org, "ups").await);
    let deposits = format!("/api/v1/lockers/{}/deposits", w.locker_id);
    for (tracking, carrier) in [
        ("DHLFIRST01", "dhl"),
        ("UPSSECOND1", "ups"),
        ("DHLSECOND2", "dhl"),
    ] {
        w.pre_advise(tracking, carrier).await;
    }
    let first = dhl.created(&deposits, flat("DHLFIRST01")).await;
    let door = first["compartment"]["id"].clone();
    let by_ups = ups.created(&deposits, flat("UPSSECOND1")).await;
    assert_ne!(
        by_ups["compartment"]["id"], door,
        "UPS was shown DHL's parcel: {by_ups}"
    );
    assert_eq!(by_ups["consolidated"], false);
    let by_staff = w.admin.created(&deposits, flat("STAFFTHIRD")).await;
    assert_ne!(by_staff["compartment"]["id"], door, "{by_staff}");
    assert_ne!(by_staff["compartment"]["id"], by_ups["compartment"]["id"]);
    // Its own door, in the same visit: the DHL courier may stack a second parcel.
    let again = dhl.created(&deposits, flat("DHLSECOND2")).await;
    assert_eq!(again["compartment"]["id"], door, "{again}");
    assert_eq!(again["consolidated"], true);
}

/// A manager or concierge cannot get a door opened by sending a parcel back
/// to its carrier without the passkey step-up: expire, then return, answers
/// 403 `step_up_required` and the parcel stays where it is.
#[tokio::test]
async fn expire_then_return_opens_no_door_without_a_step_up() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let org = site["organisation_id"].clone();
    let manager = Client::new(
        &p.base,
        w.admin
            .created(
                "/api/v1/tokens",
                json!({"role": "manager", "organisation_id": org, "label": "manager"}),
            )
            .await["token"]
            .as_str()
            .unwrap(),
    );
    let d = manager
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            json!({"tracking_number": "RETURN0001", "carrier": "dhl", "recipient": {"resident_id": w.residents[0]},
                   "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    let pid = d["parcel_id"].as_str().unwrap();
    let (status, _) = manager
        .post(
            &format!("/api/v1/parcels/{pid}/transitions"),
            json!({"action": "expire"}),
        )
        .await;
    assert_eq!(status, 200);
    // The admin's token alone, without its passkey's proof.
    let bare_admin = Client::new(&p.base, cubby_testkit::ADMIN_TOKEN);
    for who in [&manager, &bare_admin] {
        let (status, body) = who
            .post(&format!("/api/v1/parcels/{pid}/return"), json!({}))
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("step_up_required")),
            "{body}"
        );
    }
    let (_, parcel) = w.admin.get(&format!("/api/v1/parcels/{pid}")).await;
    assert_eq!(parcel["state"], "expired", "nothing moved: {parcel}");
    // The parcel's own carrier takes it back; another carrier does not see it.
    let ups = Client::new(&p.base, &carrier_token(&w, &org, "ups").await);
    let (status, _) = ups
        .post(&format!("/api/v1/parcels/{pid}/return"), json!({}))
        .await;
    assert_eq!(status, 404);
    let dhl = Client::new(&p.base, &carrier_token(&w, &org, "dhl").await);
    let (status, body) = dhl
        .post(&format!("/api/v1/parcels/{pid}/return"), json!({}))
        .await;
    assert_eq!(
        (status, body["state"].as_str()),
        (200, Some("returned_to_carrier")),
        "{body}"
    );
}

/// An operator's admin token shorter than 128 bits of hex is refused at
/// start-up rather than guarded by a guessable secret.
#[tokio::test]
async fn a_short_admin_token_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("CUBBY_ADMIN_TOKEN", "twelve-chars")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), out)
        .await
        .expect("the server gives up by itself")
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CUBBY_ADMIN_TOKEN must be 32"), "{stderr}");
}

/// First-start secrets never reach stdout (and so no log collector): they
/// are in a file only the server's user can read, in a data directory only
/// it can enter, beside a database file only it can read.
#[test]
fn first_start_secrets_and_the_database_are_this_users_only() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = std::process::Command::new(bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--mqtt-listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(&data)
        .env_remove("CUBBY_ADMIN_TOKEN")
        .env_remove("CUBBY_DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("locker agents connect");
        printed.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let stdout = printed.join("\n");
    let file = data.join("first-start.txt");
    assert!(stdout.contains(&file.display().to_string()), "{stdout}");
    let secrets = std::fs::read_to_string(&file).unwrap();
    let token = secrets
        .split_whitespace()
        .find(|w| w.starts_with("cby_"))
        .expect("the admin token is in the file");
    assert!(
        !stdout.contains(token),
        "the token went to stdout: {stdout}"
    );
    assert!(secrets.contains("#code="), "{secrets}");
    assert!(
        !stdout.contains("#code="),
        "the enrolment code went to stdout"
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("cubby.db")), 0o600);
    assert_eq!(mode(&data.join("secret.key")), 0o600);
}

/// Once a notice is delivered, the server keeps neither its pick-up code nor
/// its QR token: only the recipient's mailbox has them.
#[tokio::test]
async fn a_delivered_notice_leaves_no_code_in_the_data_directory() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    w.admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            crate::parcel("SCAN000001", &w.residents[0], 60),
        )
        .await;
    let sent = p.wait_outbox(1).await;
    let code = sent[0]["payload"]["code"].as_str().unwrap().to_string();
    let qr = sent[0]["payload"]["qr_token"].as_str().unwrap().to_string();
    let scan = || {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&p.data_dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap_or_default();
            for secret in [&code, &qr] {
                if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                    found.push(format!("{} holds {secret}", path.display()));
                }
            }
        }
        found
    };
    let mut left = scan();
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        left = scan();
    }
    assert!(left.is_empty(), "{left:?}");
}

/// Webhooks cannot be aimed inward (SSRF): a server started without the
/// test flag refuses loopback, private and link-local targets when the
/// subscription is made, and a name that resolves to this machine is
/// dropped at delivery — the listener there sees no connection, and the
/// delivery log says why without telling whether a port is open.
#[tokio::test]
async fn webhooks_never_reach_loopback_or_private_networks() {
    let p = CubbyProcess::start_with_env(
        bin(),
        None,
        Vec::new(),
        vec![("CUBBY_WEBHOOKS_ALLOW_LOOPBACK".into(), "0".into())],
    );
    let w = seed(&p, small_bank()).await;
    // Something internal listens: count whoever connects.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("https://127.0.0.1:{port}/hook"),
        format!("https://localhost:{port}/hook"),
        "https://10.0.0.1/hook".to_string(),
        "https://10.20.30.40:8443/hook".to_string(),
        "https://192.168.1.1/hook".to_string(),
        "https://169.254.169.254/latest/meta-data".to_string(),
        "https://[fd00::1]/hook".to_string(),
    ] {
        let (status, body) = w
            .admin
            .post(
                "/api/v1/webhooks",
                json!({"url": url, "events": ["parcel.*"], "site_id": w.site_id}),
            )
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("url")),
            "{url}: {body}"
        );
    }
    // DNS rebinding: a name that is not an address literal, resolving here.
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let resolves_here = !host.is_empty()
        && std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
            .is_ok_and(|mut a| a.all(|a| a.ip().is_loopback()));
    if !resolves_here {
        eprintln!("skipping the rebinding half: this machine's name does not resolve to loopback");
        return;
    }
    let hook = w
        .admin
        .created(
            "/api/v1/webhooks",
            json!({"url": format!("https://{host}:{port}/hook"), "events": ["parcel.*"], "site_id": w.site_id}),
        )
        .await;
    w.admin
        .created(
            &format!("/api/v1/sites/{}/announcements", w.site_id),
            json!({"tracking_number": "SSRF00001", "carrier": "dhl", "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    let deliveries = format!(
        "/api/v1/webhooks/{}/deliveries",
        hook["id"].as_str().unwrap()
    );
    let attempted = cubby_testkit::eventually(20, "a delivery attempt", || async {
        let (_, d) = w.admin.get(&deliveries).await;
        d.as_array()?
            .iter()
            .find(|d| d["attempts"].as_i64() > Some(0))
            .cloned()
    })
    .await;
    assert!(attempted["last_status"].is_null(), "{attempted}");
    let error = attempted["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("public address"), "{error}");
    assert!(
        listener.accept().is_err(),
        "the webhook connected to this machine"
    );
}

/// Slow and idle clients are cut off at the header deadline (and the
/// server keeps serving): a slowloris client trickling header lines, and
/// sockets that never send a byte.
#[tokio::test]
async fn slowloris_and_idle_sockets_are_closed() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let p = CubbyProcess::start_with_env(
        bin(),
        None,
        Vec::new(),
        vec![
            ("CUBBY_HTTP_HEADER_TIMEOUT_MS".into(), "1500".into()),
            ("CUBBY_HTTP_MAX_CONNECTIONS".into(), "64".into()),
        ],
    );
    let addr = p.base.trim_start_matches("http://").to_string();
    let started = Instant::now();
    let idle: Vec<std::net::TcpStream> = (0..100)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let slow_cut = loop {
        let mut b = [0u8; 256];
        match slow.read(&mut b) {
            Ok(0) => break Some(started.elapsed()),
            Ok(_) => break None,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                break Some(started.elapsed());
            }
            Err(_) => {}
        }
        if slow.write_all(b"X-Slow: 1\r\n").is_err() {
            break Some(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(10) {
            break None;
        }
    };
    assert!(
        slow_cut.is_some_and(|t| t < Duration::from_secs(5)),
        "the slowloris client was held: {slow_cut:?}"
    );
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
        let mut b = [0u8; 16];
        let closed = matches!(s.read(&mut b), Ok(0))
            || matches!(s.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset);
        assert!(closed, "an idle socket was held open");
    }
    let (status, _) = Client::new(&p.base, cubby_testkit::ADMIN_TOKEN)
        .get("/api/v1/sites")
        .await;
    assert_eq!(status, 200);
}

/// Through the real binary: a revoked token and an expired one are refused
/// on their next request with their own codes, a rotated one likewise, and
/// a courier token depositing a parcel nobody pre-advised is refused
/// without any door being chosen.
#[tokio::test]
async fn revoked_expired_and_unannounced_are_refused_by_the_binary() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let org = site["organisation_id"].clone();
    let soon = crate::now_ms() + 1_500;
    let short = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "concierge", "organisation_id": org, "label": "temp", "expires_at_ms": soon}),
        )
        .await;
    let kept = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "concierge", "organisation_id": org, "label": "desk"}),
        )
        .await;
    let short_client = Client::new(&p.base, short["token"].as_str().unwrap());
    let kept_client = Client::new(&p.base, kept["token"].as_str().unwrap());
    let sites = format!("/api/v1/sites/{}", w.site_id);
    assert_eq!(kept_client.get(&sites).await.0, 200);
    let (status, _) = w
        .admin
        .post(
            &format!("/api/v1/tokens/{}/revoke", kept["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = kept_client.get(&sites).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_revoked")),
        "{body}"
    );
    while crate::now_ms() <= soon {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, body) = short_client.get(&sites).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_expired")),
        "{body}"
    );

    let courier = w.courier_account("ups").await;
    let ups = Client::new(&p.base, courier["token"].as_str().unwrap());
    let (status, body) = ups
        .post(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            flat("1ZNOBODYSAID1"),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("not_pre_advised")),
        "{body}"
    );
    let (_, parcels) = w
        .admin
        .get(&format!("/api/v1/sites/{}/parcels", w.site_id))
        .await;
    assert_eq!(parcels, json!([]), "nothing was deposited");
}
