//! Issue 15's authority findings, tried the way an attacker would: an
//! unannounced courier deposit, a carrier the site never enabled, a token
//! guessed over and over, a stolen token after rotation; and the security
//! audit log that records them.

use cubby_testkit::world::{World, seed, small_bank};
use cubby_testkit::{ADMIN_TOKEN, Client};
use serde_json::{Value, json};

use crate::support::App;

async fn org_of(w: &World) -> Value {
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    site["organisation_id"].clone()
}

pub(crate) async fn carrier_token(app: &App, w: &World, carrier: &str) -> Client {
    let org = org_of(w).await;
    let t = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "carrier", "carrier": carrier, "organisation_id": org, "label": carrier}),
        )
        .await;
    Client::new(&app.base, t["token"].as_str().unwrap())
}

/// A staff member of the site's organisation with a token of `role`.
pub(crate) async fn staff(app: &App, w: &World, role: &str) -> Client {
    let org = org_of(w).await;
    let t = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": role, "organisation_id": org, "label": role}),
        )
        .await;
    Client::new(&app.base, t["token"].as_str().unwrap())
}

fn parcel(tracking: &str) -> Value {
    json!({"tracking_number": tracking, "recipient": {"unit": "A-1", "name": "Anna Kowalska"},
           "width_mm": 300, "height_mm": 60, "depth_mm": 200})
}

async fn audit(admin: &Client, action: &str) -> Vec<Value> {
    let (status, body) = admin
        .get(&format!("/api/v1/audit-events?action={action}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().unwrap().clone()
}

/// A carrier token deposits only what it pre-advised, only where its
/// carrier is enabled; another carrier's pre-advice does not count; a site
/// may opt in to unannounced deposits.
#[tokio::test]
async fn a_courier_deposits_only_pre_advised_parcels_where_its_carrier_is_enabled() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let deposits = format!("/api/v1/lockers/{}/deposits", w.locker_id);
    let ups = carrier_token(&app, &w, "ups").await;
    // Unannounced: refused, and nothing is placed.
    let (status, body) = ups.post(&deposits, parcel("1ZUNANNOUNCED1")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("not_pre_advised")),
        "{body}"
    );
    // Pre-advised for DHL: still not UPS's to deposit.
    w.pre_advise("JJD0000000001", "dhl").await;
    let (status, body) = ups.post(&deposits, parcel("JJD0000000001")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("not_pre_advised")),
        "{body}"
    );
    let (_, parcels) = w
        .admin
        .get(&format!("/api/v1/sites/{}/parcels", w.site_id))
        .await;
    assert!(
        parcels
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["state"] == "announced"),
        "{parcels}"
    );
    // Pre-advised for UPS: deposited.
    w.pre_advise("1ZANNOUNCED001", "ups").await;
    ups.created(&deposits, parcel("1ZANNOUNCED001")).await;

    // A carrier the site never enabled neither deposits nor pre-advises.
    let gls = carrier_token(&app, &w, "gls").await;
    let (status, body) = gls
        .post(
            &format!("/api/v1/sites/{}/announcements", w.site_id),
            json!({"tracking_number": "GLS000000001", "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("carrier_not_enabled")),
        "{body}"
    );
    w.pre_advise("GLS000000002", "gls").await;
    let (status, body) = gls.post(&deposits, parcel("GLS000000002")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("carrier_not_enabled")),
        "{body}"
    );

    // The site opts in to unannounced deposits: then UPS may.
    let policy_path = format!("/api/v1/sites/{}/policy", w.site_id);
    let (_, current) = w.admin.get(&policy_path).await;
    let mut policy = current["policy"].clone();
    policy["allow_unannounced_carrier_deposits"] = json!(true);
    let (status, body) = w.admin.put(&policy_path, policy).await;
    assert_eq!(status, 200, "{body}");
    ups.created(&deposits, parcel("1ZUNANNOUNCED1")).await;

    // A UPS courier with a pass for the locker, before UPS is disabled.
    let ups_courier = w.courier_account("ups").await;
    let ups_courier_client = Client::new(&app.base, ups_courier["token"].as_str().unwrap());
    ups_courier_client
        .created(
            &format!("/api/v1/lockers/{}/courier-passes", w.locker_id),
            json!({}),
        )
        .await;
    {
        let mut conn = app.store().reader().await.unwrap();
        let passes = cubby_store::couriers::cache_courier_passes(
            &mut conn,
            &w.locker_id,
            cubby_server::now_ms(),
        )
        .await
        .unwrap();
        assert_eq!(passes.len(), 1, "{passes:?}");
    }
    // A courier token without an account names no courier: no pass.
    let (status, body) = Client::new(
        &app.base,
        w.admin
            .created(
                "/api/v1/tokens",
                json!({"role": "courier", "carrier": "ups", "organisation_id": org_of(&w).await, "label": "shared"}),
            )
            .await["token"]
            .as_str()
            .unwrap(),
    )
    .post(
        &format!("/api/v1/lockers/{}/courier-passes", w.locker_id),
        json!({"courier_id": ups_courier["courier_id"]}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("personal_courier_token_required")),
        "{body}"
    );

    // Disabling a carrier: its tokens stop depositing there at once.
    let (status, _) = w
        .admin
        .delete(&format!("/api/v1/sites/{}/carriers/ups", w.site_id))
        .await;
    assert_eq!(status, 204);
    let (status, body) = ups.post(&deposits, parcel("1ZUNANNOUNCED2")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("carrier_not_enabled")),
        "{body}"
    );
    let (_, listed) = w
        .admin
        .get(&format!("/api/v1/sites/{}/carriers", w.site_id))
        .await;
    assert_eq!(listed["carriers"].as_array().unwrap().len(), 1, "{listed}");
    // Its passes at the site's lockers were revoked with it: they leave the
    // locker's cache.
    {
        let mut conn = app.store().reader().await.unwrap();
        let passes = cubby_store::couriers::cache_courier_passes(
            &mut conn,
            &w.locker_id,
            cubby_server::now_ms(),
        )
        .await
        .unwrap();
        assert!(passes.iter().all(|p| p.carrier != "ups"), "{passes:?}");
    }
    // Enabling and disabling carriers is audited; carriers cannot do it.
    assert_eq!(audit(&w.admin, "carrier.disabled").await.len(), 1);
    let (status, _) = ups
        .put(
            &format!("/api/v1/sites/{}/carriers/ups", w.site_id),
            json!({}),
        )
        .await;
    assert_eq!(status, 403);
}

/// Rotation gives a new token acting as the old one and revokes the old
/// one at once; both steps are in the audit log.
#[tokio::test]
async fn a_rotated_token_stops_working_and_its_successor_acts_alike() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let org = org_of(&w).await;
    let issued = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "concierge", "organisation_id": org, "label": "front desk", "site_ids": [w.site_id]}),
        )
        .await;
    let old = Client::new(&app.base, issued["token"].as_str().unwrap());
    let (status, _) = old.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    assert_eq!(status, 200);
    let rotated = w
        .admin
        .created(
            &format!("/api/v1/tokens/{}/rotate", issued["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(rotated["replaces"], issued["id"]);
    assert_eq!(rotated["role"], "concierge");
    assert_eq!(rotated["site_ids"], json!([w.site_id]));
    let (status, body) = old.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_revoked"))
    );
    let new = Client::new(&app.base, rotated["token"].as_str().unwrap());
    let (status, _) = new.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    assert_eq!(status, 200);
    // A revoked token is not rotated again (its thief gets nothing).
    let (status, _) = w
        .admin
        .post(
            &format!("/api/v1/tokens/{}/rotate", issued["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(audit(&w.admin, "token.rotated").await.len(), 1);
    let issued_events = audit(&w.admin, "token.issued").await;
    assert!(
        issued_events
            .iter()
            .any(|e| e["target"] == format!("token:{}", issued["id"].as_str().unwrap())),
        "{issued_events:?}"
    );
}

/// Guessing bearer tokens: after ten wrong ones in a minute the source gets
/// 429 with Retry-After, even with a right token, and every failure is in
/// the audit log. Console sign-ins count alike.
#[tokio::test]
async fn wrong_bearer_tokens_are_throttled_per_source_and_audited() {
    let app = App::start().await;
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..12 {
        let res = http
            .get(app.url("/api/v1/sites"))
            .bearer_auth(format!("cby_guess_{i:040}"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            let retry: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry), "{retry}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["code"], "too_many_attempts");
        }
    }
    assert_eq!(&statuses[..9], &[401; 9], "{statuses:?}");
    assert_eq!(&statuses[9..], &[429; 3], "{statuses:?}");
    // The right token from the same source waits too: guessing is not
    // confirmed by a different answer.
    let res = http
        .get(app.url("/api/v1/sites"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    // A console sign-in from the same source is throttled as well.
    let res = http
        .post(app.url("/console/sign-in"))
        .header("origin", &app.base)
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    // The audit log (read through the in-process store: this source may
    // not call the API for a minute) holds each failure and the throttle.
    let events = app.audit_events().await;
    let failed = events.iter().filter(|(a, _)| a == "auth.failed").count();
    let throttled = events.iter().filter(|(a, _)| a == "auth.throttled").count();
    assert_eq!((failed, throttled), (10, 1), "{events:?}");
    assert!(
        events.iter().all(|(_, source)| source == "127.0.0.1"),
        "{events:?}"
    );
}

/// The audit log is for managers (their organisation) and admins; a
/// concierge or carrier is refused, and unknown filters are refused.
#[tokio::test]
async fn the_audit_log_is_read_by_managers_and_admins_only() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let concierge = staff(&app, &w, "concierge").await;
    let (status, _) = concierge.get("/api/v1/audit-events").await;
    assert_eq!(status, 403);
    let (status, body) = w
        .admin
        .get("/api/v1/audit-events?action=token.stolen")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_input"))
    );
    let manager = staff(&app, &w, "manager").await;
    let (status, body) = manager.get("/api/v1/audit-events?since_ms=0").await;
    assert_eq!(status, 200, "{body}");
    // A manager of some sites only would see the others' events: refused.
    let scoped = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "manager", "organisation_id": org_of(&w).await, "label": "one site", "site_ids": [w.site_id]}),
        )
        .await;
    let (status, _) = Client::new(&app.base, scoped["token"].as_str().unwrap())
        .get("/api/v1/audit-events")
        .await;
    assert_eq!(status, 403);
    let events = body["events"].as_array().unwrap();
    // Newest first: the manager's own token was the last one issued.
    assert_eq!(events[0]["action"], "token.issued", "{body}");
    assert!(
        events
            .iter()
            .all(|e| !e["actor"].as_str().unwrap().contains('@'))
    );
}

/// Only a manager (of the resident's site) mints a portal invitation — the
/// link makes its holder the resident — and each one is audited.
#[tokio::test]
async fn a_concierge_cannot_mint_a_portal_invitation() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let concierge = staff(&app, &w, "concierge").await;
    let path = format!("/api/v1/residents/{}/portal-invites", w.residents[0]);
    let (status, _) = concierge.post(&path, json!({})).await;
    assert_eq!(status, 403);
    assert!(audit(&w.admin, "invite.issued").await.is_empty());
    let manager = staff(&app, &w, "manager").await;
    let invite = manager.created(&path, json!({})).await;
    assert!(invite["path"].as_str().unwrap().contains("#"), "{invite}");
    let events = audit(&w.admin, "invite.issued").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["target"], format!("resident:{}", w.residents[0]));
}

/// The console shows the audit log to a signed-in admin, filtered by action.
#[tokio::test]
async fn the_console_shows_the_audit_log() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let org = org_of(&w).await;
    w.admin
        .created(
            "/api/v1/tokens",
            json!({"role": "concierge", "organisation_id": org, "label": "desk"}),
        )
        .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http
        .post(app.url("/console/sign-in"))
        .header("origin", &app.base)
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = |q: &'static str| {
        let (http, cookie, url) = (
            http.clone(),
            cookie.clone(),
            app.url(&format!("/console/audit{q}")),
        );
        async move {
            let res = http.get(url).header("cookie", cookie).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.text().await.unwrap()
        }
    };
    let all = page("").await;
    assert!(
        all.contains("token.issued") && all.contains("carrier.enabled"),
        "{all}"
    );
    let only = page("?action=carrier.enabled").await;
    let rows = only.matches("<tr><td>").count();
    assert_eq!(rows, 2, "dhl and ups were enabled: {only}");
}

/// Every route that can queue an unlock (the list `tidy.rs` derives from
/// the source) refuses without its authority, and queues nothing: a
/// resident or an unannounced carrier depositing, a remote open without a
/// step-up, a return by staff without one or by another carrier, a bulk
/// open asked without a step-up or approved by the one who asked. With two
/// staff members each proving a passkey, the bulk open goes through.
#[tokio::test]
async fn no_route_queues_an_unlock_without_its_authority() {
    use cubby_testkit::softkey::StaffBrowser;
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let org = org_of(&w).await;
    // An agent's identity, so that unlocks would be queued for it.
    w.admin
        .created(
            &format!("/api/v1/lockers/{}/devices", w.locker_id),
            json!({}),
        )
        .await;
    let token = |body: Value| {
        let admin = w.admin.clone();
        async move {
            let t = admin.created("/api/v1/tokens", body).await;
            (
                t["id"].as_str().unwrap().to_string(),
                t["token"].as_str().unwrap().to_string(),
            )
        }
    };
    let (_, resident) = token(json!({"role": "resident", "resident_id": w.residents[0], "organisation_id": org, "label": "r"})).await;
    let (_, concierge) =
        token(json!({"role": "concierge", "organisation_id": org, "label": "desk"})).await;
    let (manager_id, manager) =
        token(json!({"role": "manager", "organisation_id": org, "label": "boss"})).await;
    let resident = Client::new(&app.base, &resident);
    let concierge = Client::new(&app.base, &concierge);
    let manager = Client::new(&app.base, &manager);
    let ups = carrier_token(&app, &w, "ups").await;
    // One parcel in A01, expired, waiting to go back to DHL.
    let deposits = format!("/api/v1/lockers/{}/deposits", w.locker_id);
    let d = w
        .admin
        .created(
            &deposits,
            cubby_testkit::world::parcel("RETURN0001", &w.residents[0], 60),
        )
        .await;
    let pid = d["parcel_id"].as_str().unwrap().to_string();
    let (status, _) = w
        .admin
        .post(
            &format!("/api/v1/parcels/{pid}/transitions"),
            json!({"action": "expire"}),
        )
        .await;
    assert_eq!(status, 200);
    let before = app.open_unlocks().await;
    assert_eq!(before, 1, "the staff deposit queued its unlock");

    let open = format!("/api/v1/lockers/{}/compartments/A01/open", w.locker_id);
    let give_back = format!("/api/v1/parcels/{pid}/return");
    let bulk = format!("/api/v1/lockers/{}/bulk-opens", w.locker_id);
    let bulk_body = json!({"labels": ["A01", "A02"], "reason": "move-out"});
    // The admin's token alone, without its passkey's proof.
    let bare_admin = Client::new(&app.base, ADMIN_TOKEN);
    let attempts: Vec<(&str, &Client, &str, Value, u16, &str)> = vec![
        (
            "deposit as a resident",
            &resident,
            &deposits,
            parcel("RES0000001"),
            403,
            "forbidden",
        ),
        (
            "unannounced carrier deposit",
            &ups,
            &deposits,
            parcel("1ZSNEAKY01"),
            403,
            "not_pre_advised",
        ),
        (
            "remote open without a step-up",
            &bare_admin,
            &open,
            json!({"reason": "x"}),
            403,
            "step_up_required",
        ),
        (
            "remote open by a concierge",
            &concierge,
            &open,
            json!({"reason": "x"}),
            403,
            "forbidden",
        ),
        (
            "return by staff without a step-up",
            &manager,
            &give_back,
            json!({}),
            403,
            "step_up_required",
        ),
        (
            "return by another carrier",
            &ups,
            &give_back,
            json!({}),
            404,
            "not_found",
        ),
        (
            "bulk open without a step-up",
            &bare_admin,
            &bulk,
            bulk_body.clone(),
            403,
            "step_up_required",
        ),
        (
            "bulk open by a concierge",
            &concierge,
            &bulk,
            bulk_body.clone(),
            403,
            "forbidden",
        ),
    ];
    for (what, who, path, body, status, code) in attempts {
        let (got, answer) = who.post(path, body).await;
        assert_eq!(
            (got, answer["code"].as_str()),
            (status, Some(code)),
            "{what}: {answer}"
        );
        assert_eq!(app.open_unlocks().await, before, "{what} queued an unlock");
    }

    // Two staff members with passkeys (the admin enrolled one in `seed`).
    let browser = StaffBrowser::new(&app.base);
    let admin = w.admin.clone();
    let invite = admin
        .created(
            &format!("/api/v1/tokens/{manager_id}/passkey-invites"),
            json!({}),
        )
        .await;
    let mut manager_key = browser
        .enrol(invite["path"].as_str().unwrap())
        .await
        .expect("the manager enrols");
    let manager_proof = browser
        .step_up(&manager.token, &mut manager_key)
        .await
        .expect("step-up");
    let manager = manager.with_step_up(&manager_proof);

    let (status, asked) = admin.post(&bulk, bulk_body.clone()).await;
    assert_eq!(
        (status, asked["state"].as_str()),
        (202, Some("awaiting_second_staff")),
        "{asked}"
    );
    assert_eq!(app.open_unlocks().await, before, "asking opens nothing");
    let approve = format!(
        "/api/v1/bulk-opens/{}/approve",
        asked["bulk_open_id"].as_str().unwrap()
    );
    // The one who asked cannot approve; the second, without a step-up, neither.
    let (status, body) = admin.post(&approve, json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("second_staff_required")),
        "{body}"
    );
    let bare = Client::new(&app.base, &manager.token);
    let (status, body) = bare.post(&approve, json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("step_up_required")),
        "{body}"
    );
    assert_eq!(app.open_unlocks().await, before);
    let (status, done) = manager.post(&approve, json!({})).await;
    assert_eq!(
        (status, done["state"].as_str()),
        (202, Some("approved")),
        "{done}"
    );
    assert_eq!(done["command_ids"].as_array().unwrap().len(), 2);
    assert_eq!(app.open_unlocks().await, before + 2);
    // Once only.
    let (status, _) = manager.post(&approve, json!({})).await;
    assert_eq!(status, 409);
    assert_eq!(app.open_unlocks().await, before + 2);
    let events = audit(&w.admin, "bulk_open").await;
    assert_eq!(events.len(), 2, "asked and approved: {events:?}");

    // One staff member alone opens a few doors from afar, then needs a
    // second: opening door after door is a bulk open too.
    for label in ["B01", "C01", "K01"] {
        let (status, body) = admin
            .post(
                &format!("/api/v1/lockers/{}/compartments/{label}/open", w.locker_id),
                json!({"reason": "checking the hinges"}),
            )
            .await;
        assert_eq!(status, 202, "{label}: {body}");
    }
    let (status, body) = admin
        .post(
            &format!("/api/v1/lockers/{}/compartments/A02/open", w.locker_id),
            json!({"reason": "and one more"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("second_staff_required")),
        "{body}"
    );
    assert_eq!(app.open_unlocks().await, before + 5);

    // Rotating the manager's token keeps their passkey: the new token steps up.
    let rotated = admin
        .created(&format!("/api/v1/tokens/{manager_id}/rotate"), json!({}))
        .await;
    browser
        .step_up(rotated["token"].as_str().unwrap(), &mut manager_key)
        .await
        .expect("the rotated token steps up with the same passkey");
}

/// Changing a site's security settings needs a fresh passkey step-up from
/// staff: the admin's or a manager's token alone is refused with 403
/// `step_up_required` and nothing changes; the same calls with a proof pass.
#[tokio::test]
async fn security_settings_change_only_after_a_step_up() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let org = org_of(&w).await;
    let bare = Client::new(&app.base, ADMIN_TOKEN);
    let site = w.site_id.clone();
    let (_, policy) = w.admin.get(&format!("/api/v1/sites/{site}/policy")).await;
    let tokens_before = w.admin.get("/api/v1/tokens").await.1["tokens"]
        .as_array()
        .unwrap()
        .len();
    let (_, some_token) = w.admin.get("/api/v1/tokens").await;
    let first = some_token["tokens"][0]["id"].as_str().unwrap().to_string();
    let changes: Vec<(&str, String, Value)> = vec![
        (
            "PUT",
            format!("/api/v1/sites/{site}/policy"),
            policy["policy"].clone(),
        ),
        (
            "POST",
            "/api/v1/tokens".into(),
            json!({"role": "manager", "organisation_id": org, "label": "x"}),
        ),
        ("POST", format!("/api/v1/tokens/{first}/revoke"), json!({})),
        ("POST", format!("/api/v1/tokens/{first}/rotate"), json!({})),
        (
            "POST",
            "/api/v1/webhooks".into(),
            json!({"url": "https://hooks.example.com/x", "events": ["parcel.*"], "site_id": site}),
        ),
        (
            "POST",
            format!("/api/v1/sites/{site}/doors"),
            json!({"name": "Side gate", "kind": "perimeter"}),
        ),
        (
            "POST",
            format!("/api/v1/lockers/{}/devices", w.locker_id),
            json!({}),
        ),
        (
            "PUT",
            format!("/api/v1/sites/{site}/carriers/gls"),
            json!({}),
        ),
        (
            "DELETE",
            format!("/api/v1/sites/{site}/carriers/dhl"),
            json!({}),
        ),
    ];
    for (method, path, body) in &changes {
        let (status, answer) = match *method {
            "PUT" => bare.put(path, body.clone()).await,
            "DELETE" => bare.delete(path).await,
            _ => bare.post(path, body.clone()).await,
        };
        assert_eq!(
            (status, answer["code"].as_str()),
            (403, Some("step_up_required")),
            "{method} {path}: {answer}"
        );
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("security settings"),
            "{answer}"
        );
    }
    // Nothing changed.
    let (_, after) = w.admin.get("/api/v1/tokens").await;
    assert_eq!(after["tokens"].as_array().unwrap().len(), tokens_before);
    assert!(after["tokens"][0]["revoked_at_ms"].is_null());
    let (_, carriers) = w.admin.get(&format!("/api/v1/sites/{site}/carriers")).await;
    assert_eq!(
        carriers["carriers"].as_array().unwrap().len(),
        2,
        "{carriers}"
    );
    let (_, devices) = w
        .admin
        .get(&format!("/api/v1/lockers/{}/devices", w.locker_id))
        .await;
    assert_eq!(devices, json!([]));
    // With the proof, the same changes go through (the last three shown).
    w.admin
        .created(
            &format!("/api/v1/lockers/{}/devices", w.locker_id),
            json!({}),
        )
        .await;
    let (status, _) = w
        .admin
        .put(&format!("/api/v1/sites/{site}/carriers/gls"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = w
        .admin
        .delete(&format!("/api/v1/sites/{site}/carriers/dhl"))
        .await;
    assert_eq!(status, 204);
    // A carrier's own integration is not a site setting: no passkey there.
    let dhl = carrier_token(&app, &w, "dhl").await;
    let (status, body) = dhl
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://hooks.example.com/dhl", "events": ["parcel.deposited"]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}
