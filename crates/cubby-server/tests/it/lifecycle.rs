//! Correcting what exists: a resident's name and unit, a locker's quotas, a
//! compartment out of service — each edit checked as creation is, refused
//! when someone else edited first, and kept within the caller's tenancy.

use cubby_testkit::Client;
use cubby_testkit::world::{World, seed, small_bank};
use serde_json::{Value, json};

use crate::support::App;

async fn resident(w: &World, id: &str) -> Value {
    let (status, r) = w.admin.get(&format!("/api/v1/residents/{id}")).await;
    assert_eq!(status, 200, "{r}");
    r
}

/// The admin signed in to the console, posting forms as its pages do (the
/// session cookie, the console's Origin, and the page's CSRF token).
pub(crate) struct Console {
    http: reqwest::Client,
    cookie: String,
    base: String,
}

impl Console {
    pub(crate) async fn sign_in(app: &App) -> Console {
        let http = crate::web_guards::no_redirects();
        let res = http
            .post(app.url("/console/sign-in"))
            .header("origin", &app.base)
            .form(&[("token", cubby_testkit::ADMIN_TOKEN)])
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
        Console {
            http,
            cookie,
            base: app.base.clone(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("origin", &self.base)
            .form(form)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }
}

#[tokio::test]
async fn staff_correct_and_move_a_resident_and_concurrent_edits_do_not_overwrite() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let anna = w.residents[0].clone();
    let path = format!("/api/v1/residents/{anna}");
    let before = resident(&w, &anna).await;
    assert_eq!(before["version"], 1);

    // A typo in the name is corrected.
    let (status, fixed) = w
        .admin
        .patch(&path, json!({"version": 1, "name": "Anna Kowalska-Nowak"}))
        .await;
    assert_eq!(status, 200, "{fixed}");
    assert_eq!(
        (fixed["name"].as_str(), fixed["version"].as_i64()),
        (Some("Anna Kowalska-Nowak"), Some(2))
    );
    // A second edit made from the old reading is refused, and changes nothing.
    let (status, body) = w
        .admin
        .patch(&path, json!({"version": 1, "name": "Anna K."}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("edit_conflict")),
        "{body}"
    );
    assert_eq!(resident(&w, &anna).await["name"], "Anna Kowalska-Nowak");
    // Bad input changes nothing either.
    for (bad, field) in [
        (json!({"version": 2, "email": "not an address"}), "email"),
        (json!({"version": 2, "name": ""}), "name"),
        (json!({"version": 2, "language": "xx"}), "language"),
        (
            json!({"version": 2, "reach": {"min_mm": 900, "max_mm": 100}}),
            "reach",
        ),
    ] {
        let (status, body) = w.admin.patch(&path, bad).await;
        assert_eq!(status, 422, "{field}: {body}");
    }
    let (status, body) = w
        .admin
        .patch(&path, json!({"version": 2, "colour": "red"}))
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(resident(&w, &anna).await["version"], 2);

    // She moves to another unit of the site, and clears her phone.
    let (status, moved) = w
        .admin
        .patch(&path, json!({"version": 2, "unit": "C-3", "phone": null}))
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(
        (moved["unit"].as_str(), moved["phone"].as_str()),
        (Some("C-3"), None)
    );
    // A parcel labelled with her new unit finds her.
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            json!({"tracking_number": "MOVED00001", "carrier": "dhl",
                   "recipient": {"unit": "C-3", "name": "Anna Kowalska-Nowak"},
                   "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    assert_eq!(d["recipient_known"], true, "{d}");

    // Another organisation's manager, and a resident, cannot edit her.
    let other_org = w
        .admin
        .created("/api/v1/organisations", json!({"name": "Elsewhere"}))
        .await;
    let outsider = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "manager", "organisation_id": other_org["id"], "label": "x"}),
        )
        .await;
    let outsider = Client::new(&app.base, outsider["token"].as_str().unwrap());
    let (status, _) = outsider
        .patch(&path, json!({"version": 3, "name": "Eve"}))
        .await;
    assert_eq!(status, 404);
    assert_eq!(resident(&w, &anna).await["name"], "Anna Kowalska-Nowak");
}

#[tokio::test]
async fn a_locker_gets_new_quotas_and_a_broken_compartment_leaves_service_with_its_reason() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let locker_path = format!("/api/v1/lockers/{}", w.locker_id);
    let (_, locker) = w.admin.get(&locker_path).await;
    assert_eq!(locker["version"], 1);
    let (status, edited) = w
        .admin
        .patch(
            &locker_path,
            json!({"version": 1, "name": "Lobby (north)", "carrier_quotas": {"DHL": 1}}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["carrier_quotas"], json!({"dhl": 1}));
    assert_eq!(edited["version"], 2);
    let (status, body) = w
        .admin
        .patch(&locker_path, json!({"version": 1, "carrier_quotas": {}}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("edit_conflict"))
    );
    // DHL now fills at most one compartment here.
    let deposits = format!("/api/v1/lockers/{}/deposits", w.locker_id);
    w.admin
        .created(
            &deposits,
            cubby_testkit::world::parcel("QUOTA00001", &w.residents[0], 60),
        )
        .await;
    let (status, body) = w
        .admin
        .post(
            &deposits,
            cubby_testkit::world::parcel("QUOTA00002", &w.residents[1], 60),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("no_compartment_fits")),
        "{body}"
    );

    // A compartment breaks: out of service, with why; nothing goes in it.
    let a02 = edited["compartments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"] == "A02")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/compartments/{a02}/status", w.locker_id),
            json!({"status": "out_of_service", "reason": "hinge broken"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, now) = w.admin.get(&locker_path).await;
    let shown = now["compartments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"] == "A02")
        .unwrap()
        .clone();
    assert_eq!(
        (shown["state"].as_str(), shown["status_reason"].as_str()),
        (Some("out_of_service"), Some("hinge broken"))
    );
    let ups = w
        .admin
        .created(
            &deposits,
            json!({"tracking_number": "1ZBROKEN0001", "carrier": "ups", "recipient": {"resident_id": w.residents[2]},
                   "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    assert_ne!(ups["compartment"]["label"], "A02", "{ups}");
    // Back in service, the reason goes.
    let (status, _) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/compartments/{a02}/status", w.locker_id),
            json!({"status": "available"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, now) = w.admin.get(&locker_path).await;
    let shown = now["compartments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"] == "A02")
        .unwrap()
        .clone();
    assert!(shown.get("status_reason").is_none(), "{shown}");
    // Concierges do not change quotas.
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let concierge = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "concierge", "organisation_id": site["organisation_id"], "label": "desk"}),
        )
        .await;
    let concierge = Client::new(&app.base, concierge["token"].as_str().unwrap());
    let (status, _) = concierge
        .patch(&locker_path, json!({"version": 2, "carrier_quotas": {}}))
        .await;
    assert_eq!(status, 403);
}

/// The same edit from the console: the residents page lists her, her page
/// saves a corrected name, and a page opened before someone else's save is
/// told so and changes nothing.
#[tokio::test]
async fn the_console_corrects_a_residents_name_and_refuses_a_stale_form() {
    use crate::web_guards::hidden;
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let console = Console::sign_in(&app).await;
    let (status, list) = console
        .get(&format!("/console/sites/{}/residents", w.site_id))
        .await;
    assert_eq!(status, 200);
    let anna = &w.residents[0];
    assert!(list.contains(&format!("/console/residents/{anna}")) && list.contains("Anna Kowalska"));
    let page_path = format!("/console/residents/{anna}");
    let (_, page) = console.get(&page_path).await;
    let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
    let save = |name: &'static str, version: String| {
        let (console, page_path, csrf) = (&console, &page_path, csrf.clone());
        async move {
            console
                .post(
                    page_path,
                    &[
                        ("csrf", csrf.as_str()),
                        ("version", version.as_str()),
                        ("name", name),
                        ("unit", "A-1"),
                        ("email", "anna@example.org"),
                        ("phone", ""),
                        ("language", "pl"),
                    ],
                )
                .await
        }
    };
    let (status, saved) = save("Anna Kowalski", version.clone()).await;
    assert_eq!(status, 200, "{saved}");
    assert!(saved.contains("Saved."), "{saved}");
    // A second tab, opened before that save, is refused.
    let (status, stale) = save("Anna Kovalska", version).await;
    assert_eq!(status, 409, "{stale}");
    assert!(stale.contains("changed since you read"), "{stale}");
    let (_, r) = w.admin.get(&format!("/api/v1/residents/{anna}")).await;
    assert_eq!(
        (r["name"].as_str(), r["language"].as_str()),
        (Some("Anna Kowalski"), Some("pl"))
    );
}

/// A manager changes a locker's quotas and takes a compartment out of
/// service from the locker's console page.
#[tokio::test]
async fn the_console_changes_quotas_and_takes_a_compartment_out_of_service() {
    use crate::web_guards::hidden;
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let console = Console::sign_in(&app).await;
    let page_url = format!("/console/lockers/{}", w.locker_id);
    let (_, page) = console.get(&page_url).await;
    let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let (console, url, csrf) = (&console, format!("{page_url}/{path}"), csrf.clone());
        async move {
            let mut form = form;
            form.push(("csrf", csrf));
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            console.post(&url, &form).await
        }
    };
    let (status, saved) = post(
        "quotas",
        vec![
            ("version", version.clone()),
            ("quotas", "DHL=1, ups=2".into()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(saved.contains("The quotas are saved."), "{saved}");
    let (_, locker) = w
        .admin
        .get(&format!("/api/v1/lockers/{}", w.locker_id))
        .await;
    assert_eq!(locker["carrier_quotas"], json!({"dhl": 1, "ups": 2}));
    // The same form again (its version is now stale) saves nothing.
    let (_, stale) = post("quotas", vec![("version", version), ("quotas", "".into())]).await;
    assert!(stale.contains("changed since you read"), "{stale}");
    let (_, bad) = post(
        "quotas",
        vec![("version", "2".into()), ("quotas", "dhl=lots".into())],
    )
    .await;
    assert!(bad.contains("whole number"), "{bad}");

    // Out of service needs a reason; with one, the compartment leaves service.
    let (_, refused) = post(
        "service",
        vec![
            ("label", "A02".into()),
            ("status", "out_of_service".into()),
            ("reason", " ".into()),
        ],
    )
    .await;
    assert!(refused.contains("Say why"), "{refused}");
    let (_, done) = post(
        "service",
        vec![
            ("label", "A02".into()),
            ("status", "out_of_service".into()),
            ("reason", "door sticks".into()),
        ],
    )
    .await;
    assert!(
        done.contains("A02 is out of service.") && done.contains("A02: door sticks"),
        "{done}"
    );
    let (_, locker) = w
        .admin
        .get(&format!("/api/v1/lockers/{}", w.locker_id))
        .await;
    let a02 = locker["compartments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"] == "A02")
        .unwrap()
        .clone();
    assert_eq!(
        (a02["state"].as_str(), a02["status_reason"].as_str()),
        (Some("out_of_service"), Some("door sticks"))
    );
}

/// A resident moves out: her token, codes and the visitor PIN she hosts
/// stop, the parcel waiting for her goes to the manager's queue (where staff
/// can give it to someone else), she can no longer be edited, and the
/// move-out is audited.
#[tokio::test]
async fn a_resident_moves_out_and_everything_of_hers_stops() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let org = site["organisation_id"].clone();
    let anna = w.residents[0].clone();
    let token = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "resident", "resident_id": anna, "organisation_id": org, "label": "anna's app"}),
        )
        .await;
    let anna_client = Client::new(&app.base, token["token"].as_str().unwrap());
    let door = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/doors", w.site_id),
            json!({"name": "Gym", "kind": "shared"}),
        )
        .await;
    let path = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/door-paths", w.site_id),
            json!({"name": "To the gym", "doors": [door["id"]]}),
        )
        .await;
    anna_client
        .created(
            "/api/v1/me/access-grants",
            json!({"label": "Trainer", "path_id": path["id"], "not_after_ms": cubby_server::now_ms() + 3_600_000}),
        )
        .await;
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            cubby_testkit::world::parcel("MOVEOUT001", &anna, 60),
        )
        .await;
    let pid = d["parcel_id"].as_str().unwrap().to_string();

    let (status, out) = w
        .admin
        .post(&format!("/api/v1/residents/{anna}/move-out"), json!({}))
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["parcels_to_manager_queue"], json!([pid]));
    assert_eq!(out["tokens_revoked"], 1);
    assert_eq!(out["visitor_grants_revoked"], 1);
    assert!(out["codes_revoked"].as_u64() >= Some(1), "{out}");

    let (status, body) = anna_client.get("/api/v1/me").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_revoked"))
    );
    let (_, parcel) = w.admin.get(&format!("/api/v1/parcels/{pid}")).await;
    assert_eq!(parcel["state"], "unassigned", "{parcel}");
    assert!(
        parcel["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "recipient_moved_out"),
        "{parcel}"
    );
    // Staff give the parcel to someone else.
    let (status, body) = w
        .admin
        .post(
            &format!("/api/v1/parcels/{pid}/transitions"),
            json!({"action": "assign", "resident_id": w.residents[1], "reason": "her flatmate"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // She is no longer edited or moved out again; the move-out is audited.
    let (status, _) = w
        .admin
        .patch(
            &format!("/api/v1/residents/{anna}"),
            json!({"version": 1, "name": "x"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .admin
        .post(&format!("/api/v1/residents/{anna}/move-out"), json!({}))
        .await;
    assert_eq!(status, 404);
    let (_, events) = w
        .admin
        .get("/api/v1/audit-events?action=resident.moved_out")
        .await;
    assert_eq!(events["events"][0]["target"], format!("resident:{anna}"));
    // A concierge does not move people out.
    let concierge = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "concierge", "organisation_id": org, "label": "desk"}),
        )
        .await;
    let (status, _) = Client::new(&app.base, concierge["token"].as_str().unwrap())
        .post(
            &format!("/api/v1/residents/{}/move-out", w.residents[2]),
            json!({}),
        )
        .await;
    assert_eq!(status, 403);
}

/// The console's move-out asks for a confirmation, then ends the tenancy.
#[tokio::test]
async fn the_console_moves_a_resident_out_after_a_confirmation() {
    use crate::web_guards::hidden;
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let console = Console::sign_in(&app).await;
    let jan = w.residents[1].clone();
    let page_url = format!("/console/residents/{jan}");
    let (_, page) = console.get(&page_url).await;
    let csrf = hidden(&page, "csrf");
    let send = |confirm: &'static str| {
        let (console, url, csrf) = (&console, format!("{page_url}/move-out"), csrf.clone());
        async move {
            console
                .post(&url, &[("csrf", csrf.as_str()), ("confirm", confirm)])
                .await
        }
    };
    let (status, _) = send("").await;
    assert_eq!(status, 422);
    let (_, r) = w
        .admin
        .patch(
            &format!("/api/v1/residents/{jan}"),
            json!({"version": 1, "language": "de"}),
        )
        .await;
    assert_eq!(r["language"], "de", "unconfirmed, nothing happened: {r}");
    let (status, done) = send("yes").await;
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("Moved out:"), "{done}");
    // Her page now says so and offers no edit.
    assert!(done.contains("has moved out: their codes"), "{done}");
    assert!(
        !done.contains(&format!("action=\"/console/residents/{jan}\"")),
        "{done}"
    );
    let (status, _) = w
        .admin
        .patch(
            &format!("/api/v1/residents/{jan}"),
            json!({"version": 2, "language": "en"}),
        )
        .await;
    assert_eq!(status, 404, "moved out");
}

/// Staff export everything held about a resident; the resident's own
/// export is the same document; no secret is in it; both are audited.
#[tokio::test]
async fn a_residents_data_is_exported_whole_and_without_secrets() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let anna = w.residents[0].clone();
    let token = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "resident", "resident_id": anna, "organisation_id": site["organisation_id"], "label": "anna's app"}),
        )
        .await;
    let anna_client = Client::new(&app.base, token["token"].as_str().unwrap());
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            cubby_testkit::world::parcel("EXPORT0001", &anna, 60),
        )
        .await;
    let pid = d["parcel_id"].as_str().unwrap();
    anna_client
        .created(
            &format!("/api/v1/me/parcels/{pid}/delegates"),
            json!({"name": "Neighbour"}),
        )
        .await;

    let door = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/doors", w.site_id),
            json!({"name": "Lobby", "kind": "lobby"}),
        )
        .await;
    let path = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/door-paths", w.site_id),
            json!({"name": "In", "doors": [door["id"]]}),
        )
        .await;
    anna_client
        .created(
            "/api/v1/me/access-grants",
            json!({"label": "Plumber", "path_id": path["id"], "not_after_ms": cubby_server::now_ms() + 3_600_000}),
        )
        .await;

    let (status, staff) = w
        .admin
        .get(&format!("/api/v1/residents/{anna}/export"))
        .await;
    assert_eq!(status, 200, "{staff}");
    let data = &staff["data"];
    assert_eq!(data["access_grants"][0]["label"], "Plumber", "{data}");
    assert!(data["door_uses_of_hosted_grants"].is_array(), "{data}");
    assert!(
        data["courier_entries_with_their_parcels"].is_array(),
        "{data}"
    );
    assert!(
        data["audit_events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "grant.issued"
                && e["actor"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("resident:"))),
        "what she did herself is hers: {data}"
    );
    assert_eq!(data["residents"][0]["name"], "Anna Kowalska");
    assert_eq!(data["parcels"][0]["id"], pid);
    assert!(
        data["custody_events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "deposited"),
        "{data}"
    );
    assert_eq!(data["api_tokens"][0]["label"], "anna's app");
    let kinds: Vec<&str> = data["pickup_credentials"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"delegate") && kinds.contains(&"keypad"),
        "{kinds:?}"
    );
    assert!(
        !data["notices"].as_array().unwrap().is_empty(),
        "the pick-up notice: {data}"
    );
    // No secret, no MAC, no message body.
    let text = staff.to_string();
    for never in [
        "mac\"",
        "token_mac",
        "\"body\"",
        "\"payload\"",
        token["token"].as_str().unwrap(),
    ] {
        assert!(!text.contains(never), "{never} in the export");
    }
    // The resident's own export is the same document.
    let (status, own) = anna_client.get("/api/v1/me/export").await;
    assert_eq!(status, 200, "{own}");
    let without_audit = |v: &Value| {
        let mut d = v["data"].clone();
        d.as_object_mut().unwrap().remove("audit_events");
        d
    };
    assert_eq!(without_audit(&own), without_audit(&staff));
    // Another resident cannot export her; both exports are audited.
    let jan = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "resident", "resident_id": w.residents[1], "organisation_id": site["organisation_id"], "label": "jan"}),
        )
        .await;
    let (status, _) = Client::new(&app.base, jan["token"].as_str().unwrap())
        .get(&format!("/api/v1/residents/{anna}/export"))
        .await;
    assert_eq!(status, 403);
    let (_, events) = w.admin.get("/api/v1/audit-events?action=export").await;
    assert_eq!(events["events"].as_array().unwrap().len(), 2, "{events}");
    assert!(
        own["data"]["audit_events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "export"),
        "the staff's export of her data is about her: {own}"
    );
}

/// security.md: managers see aggregates, never one resident's presence
/// pattern. After Anna collects a parcel, the analytics and the console's
/// reports name no resident, unit or moment of her pick-up.
#[tokio::test]
async fn reports_show_aggregates_never_a_residents_pickup_times() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let anna = w.residents[0].clone();
    let (_, profile) = w.admin.get(&format!("/api/v1/residents/{anna}")).await;
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            cubby_testkit::world::parcel("AGGREGATE1", &anna, 60),
        )
        .await;
    let pid = d["parcel_id"].as_str().unwrap().to_string();
    let code = {
        let mut conn = app.store().reader().await.unwrap();
        cubby_store::outbox::pending_outbox(&mut conn, 10, i64::MAX)
            .await
            .unwrap()
            .into_iter()
            .find_map(|m| m.payload["code"].as_str().map(str::to_string))
            .expect("the notice carries the code")
    };
    let (status, body) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/pickups", w.locker_id),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, parcel) = w.admin.get(&format!("/api/v1/parcels/{pid}")).await;
    let picked_at = parcel["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "picked_up")
        .and_then(|e| e["at"].as_str())
        .expect("a pick-up event")
        .chars()
        .take(19)
        .collect::<String>();

    let (status, analytics) = w
        .admin
        .get(&format!("/api/v1/sites/{}/analytics", w.site_id))
        .await;
    assert_eq!(status, 200, "{analytics}");
    assert_eq!(
        analytics["activity"]["days"]
            .as_array()
            .map(|d| d.is_empty()),
        Some(false),
        "{analytics}"
    );
    let console = Console::sign_in(&app).await;
    let (status, page) = console
        .get(&format!("/console/sites/{}/reports", w.site_id))
        .await;
    assert_eq!(status, 200);
    for (what, text) in [("analytics", analytics.to_string()), ("reports page", page)] {
        for needle in [
            anna.as_str(),
            profile["name"].as_str().unwrap(),
            picked_at.as_str(),
        ] {
            assert!(!text.contains(needle), "the {what} show {needle}");
        }
        let unit = format!(">{}<", profile["unit"].as_str().unwrap());
        assert!(!text.contains(&unit), "the {what} show the unit");
    }
}
