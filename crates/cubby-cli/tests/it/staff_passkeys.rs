//! Staff MFA for remote opens, end to end: the real server and a real agent
//! with a simulated lock bank; the staff member's passkey is a software
//! authenticator checked by the server exactly as a device would be.

use cubby_testkit::softkey::StaffBrowser;
use cubby_testkit::{AgentProcess, Client, CubbyProcess};
use serde_json::{Value, json};

use crate::edge::{provision, wait_open, wait_ready};
use crate::{bin, now_ms, seed, small_bank};

async fn open(
    p: &CubbyProcess,
    token: &str,
    locker: &str,
    label: &str,
    proof: Option<&str>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(p.url(&format!(
            "/api/v1/lockers/{locker}/compartments/{label}/open"
        )))
        .bearer_auth(token)
        .json(&json!({"reason": "resident locked out of the app"}));
    if let Some(proof) = proof {
        req = req.header("Cubby-Step-Up", proof);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_remote_open_needs_a_fresh_passkey_proof_of_the_same_staff_token() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (_, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = AgentProcess::start(bin(), &identity, &tmp.path().join("agent"), &p.mqtt, &[]);
    wait_ready(&w.admin, &w.locker_id, &agent).await;
    let admin_token = cubby_testkit::ADMIN_TOKEN;
    let browser = StaffBrowser::new(&p.base);

    // A token alone opens nothing.
    let (status, body) = open(&p, admin_token, &w.locker_id, "A01", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("step_up_required")),
        "{body}"
    );
    // Without a passkey there is nothing to step up with (a new manager).
    let fresh = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "manager", "organisation_id": crate::console_browser::site_org(&w).await, "label": "new"}),
        )
        .await;
    let (status, body) = browser
        .post(
            "/api/v1/step-up/start",
            Some(fresh["token"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("no_passkey")),
        "{body}"
    );

    // The first admin enrolled from the link printed at first start (in
    // `seed`); the link enrols once.
    let invite = p
        .admin_passkey_invite
        .clone()
        .expect("the first start prints an enrolment link");
    assert!(invite.starts_with("http://localhost:"), "{invite}");
    let again = browser
        .enrol(&invite)
        .await
        .err()
        .expect("a used link enrols nothing");
    assert_eq!(again.1["code"], "invite_not_valid", "{:?}", again);

    // Forged and altered proofs are refused; nothing moves.
    let far = now_ms() + 60_000;
    for forged in [
        format!("v1.{far}.{}", "0".repeat(64)),
        "v1.x.y".to_string(),
        "a proof".to_string(),
    ] {
        let (status, body) = open(&p, admin_token, &w.locker_id, "A01", Some(&forged)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("step_up_required")),
            "{forged}: {body}"
        );
    }
    let proof = w.admin_proof().await;
    let (_, rest) = proof.split_once('.').unwrap();
    let (expires, mac) = rest.split_once('.').unwrap();
    let stretched = format!("v1.{}.{mac}", expires.parse::<i64>().unwrap() + 3_600_000);
    let (status, _) = open(&p, admin_token, &w.locker_id, "A01", Some(&stretched)).await;
    assert_eq!(status, 403, "an expiry moved later breaks the MAC");
    assert_eq!(
        agent.total_releases().await,
        0,
        "no door opened without a valid proof"
    );

    // With a fresh proof the door opens, on the real board.
    let (status, body) = open(&p, admin_token, &w.locker_id, "A01", Some(&proof)).await;
    assert_eq!(status, 202, "{body}");
    wait_open(&agent, "A01").await;
    assert_eq!(agent.releases(0, 1).await, 1);

    // A manager's token cannot borrow the admin's proof, nor step up
    // before it has a passkey of its own.
    let manager = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "manager", "organisation_id": crate::console_browser::site_org(&w).await, "label": "Maria (manager)"}),
        )
        .await;
    let manager_token = manager["token"].as_str().unwrap().to_string();
    let manager_id = manager["id"].as_str().unwrap().to_string();
    let (status, _) = open(&p, &manager_token, &w.locker_id, "A02", Some(&proof)).await;
    assert_eq!(status, 403, "a proof is bound to the token that earned it");

    // Only an admin who has just proved a passkey can invite the manager.
    let invite_path = format!("/api/v1/tokens/{manager_id}/passkey-invites");
    let (status, body) = Client::new(&p.base, admin_token)
        .post(&invite_path, json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("step_up_required")),
        "{body}"
    );
    let (status, body) = Client::new(&p.base, &manager_token)
        .post(&invite_path, json!({}))
        .await;
    assert_eq!(status, 403, "managers do not invite: {body}");
    let res = reqwest::Client::new()
        .post(p.url(&invite_path))
        .bearer_auth(admin_token)
        .header("Cubby-Step-Up", &proof)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let manager_invite: Value = res.json().await.unwrap();
    let mut manager_key = browser
        .enrol(manager_invite["path"].as_str().unwrap())
        .await
        .expect("the manager enrols");

    // The admin's passkey cannot answer the manager's challenge.
    let (status, start) = browser
        .post("/api/v1/step-up/start", Some(&manager_token), json!({}))
        .await;
    assert_eq!(status, 200, "{start}");
    let answer = w.admin_key.lock().await.assert(&start["options"]);
    let (status, body) = browser
        .post(
            "/api/v1/step-up/finish",
            Some(&manager_token),
            json!({"ceremony": start["ceremony"], "credential": answer}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("passkey_refused")),
        "{body}"
    );

    let manager_proof = browser
        .step_up(&manager_token, &mut manager_key)
        .await
        .expect("step-up");
    let (status, body) = open(
        &p,
        &manager_token,
        &w.locker_id,
        "A02",
        Some(&manager_proof),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    wait_open(&agent, "A02").await;
    assert_eq!(agent.total_releases().await, 2);

    // A ceremony is single use: replaying a finished one proves nothing.
    let (status, start) = browser
        .post("/api/v1/step-up/start", Some(&manager_token), json!({}))
        .await;
    assert_eq!(status, 200);
    let answer = manager_key.assert(&start["options"]);
    let finish = json!({"ceremony": start["ceremony"], "credential": answer});
    let (status, _) = browser
        .post(
            "/api/v1/step-up/finish",
            Some(&manager_token),
            finish.clone(),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = browser
        .post("/api/v1/step-up/finish", Some(&manager_token), finish)
        .await;
    assert_eq!(status, 403, "a replayed step-up is refused");

    // A second passkey needs a proof of the first, even for a signed-in
    // page: without a session or an invitation, registration is refused.
    let (status, body) = browser
        .post(
            "/console/passkeys/register/start",
            None,
            json!({"step_up": manager_proof}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("invite_not_valid")),
        "{body}"
    );
}

/// Every resident keeps their own passkey: each is stored under its own
/// credential id (they once all shared an empty one, so only the first
/// resident could ever enrol).
#[tokio::test]
async fn residents_each_enrol_their_own_passkey() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let browser = StaffBrowser::new(&p.base);
    for resident in &w.residents[..2] {
        let invite = w
            .admin
            .created(
                &format!("/api/v1/residents/{resident}/portal-invites"),
                json!({}),
            )
            .await;
        browser
            .enrol_at("/portal/passkeys", invite["path"].as_str().unwrap())
            .await
            .expect("each resident enrols");
    }
}

/// When nobody with a passkey is left to invite, the server's host (its
/// data directory and secret) mints an enrolment link; tokens that are not
/// live staff tokens get none.
#[tokio::test]
async fn the_servers_host_mints_an_enrolment_link_for_a_staff_token() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let concierge = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "concierge", "organisation_id": crate::console_browser::site_org(&w).await, "label": "Desk"}),
        )
        .await;
    let link = |token_id: &str| {
        std::process::Command::new(bin())
            .args([
                "admin",
                "passkey-link",
                "--token-id",
                token_id,
                "--data-dir",
            ])
            .arg(&p.data_dir)
            .env_remove("CUBBY_DATABASE_URL")
            .output()
            .unwrap()
    };
    let out = link(concierge["id"].as_str().unwrap());
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = stdout
        .split_whitespace()
        .find(|w| w.starts_with("/console/passkeys/enrol#code="))
        .expect("an enrolment path");
    let browser = StaffBrowser::new(&p.base);
    let mut key = browser.enrol(path).await.expect("the concierge enrols");
    let token = concierge["token"].as_str().unwrap();
    browser
        .step_up(token, &mut key)
        .await
        .expect("and steps up");

    let out = link("tok_00000000000000000000000000000000");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("is not a live staff token"));
}
