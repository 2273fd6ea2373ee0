//! Smaller trust findings, each as an attacker or a careless client would
//! try it.

use cubby_testkit::world::{World, seed, small_bank};
use cubby_testkit::{ADMIN_TOKEN, Client};
use serde_json::{Value, json};

use crate::support::App;

async fn org_of(w: &World) -> Value {
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    site["organisation_id"].clone()
}

async fn token(w: &World, body: Value) -> String {
    w.admin.created("/api/v1/tokens", body).await["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A unit naming a building that does not exist, or another organisation's
/// building, is refused with 422 (it answered 503 and could attach units to
/// another organisation's building).
#[tokio::test]
async fn a_resident_in_an_unknown_or_foreign_building_is_refused() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let other = w
        .admin
        .created(
            "/api/v1/sites",
            json!({"name": "Elsewhere", "timezone": "Europe/Berlin"}),
        )
        .await;
    let foreign = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/buildings", other["id"].as_str().unwrap()),
            json!({"name": "Tower B"}),
        )
        .await;
    for building in [
        json!("bld_00000000000000000000000000000000"),
        foreign["id"].clone(),
    ] {
        let (status, body) = w
            .admin
            .post(
                &format!("/api/v1/sites/{}/residents", w.site_id),
                json!({"name": "Eve", "unit": "Z-1", "building_id": building}),
            )
            .await;
        assert_eq!(
            (
                status,
                body["code"].as_str(),
                body["details"]["field"].as_str()
            ),
            (422, Some("invalid_input"), Some("building_id")),
            "{body}"
        );
    }
    let own = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/buildings", w.site_id),
            json!({"name": "Tower A"}),
        )
        .await;
    w.admin
        .created(
            &format!("/api/v1/sites/{}/residents", w.site_id),
            json!({"name": "Ada", "unit": "T-1", "building_id": own["id"]}),
        )
        .await;
}

/// Residents, carriers and couriers do not read a site's policy (its
/// security settings); staff do.
#[tokio::test]
async fn only_staff_read_a_sites_policy() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let org = org_of(&w).await;
    let path = format!("/api/v1/sites/{}/policy", w.site_id);
    for body in [
        json!({"role": "resident", "resident_id": w.residents[0], "organisation_id": org, "label": "r"}),
        json!({"role": "carrier", "carrier": "dhl", "organisation_id": org, "label": "c"}),
    ] {
        let other = Client::new(&app.base, &token(&w, body).await);
        let (status, _) = other.get(&path).await;
        assert_eq!(status, 403);
    }
    let concierge = Client::new(
        &app.base,
        &token(
            &w,
            json!({"role": "concierge", "organisation_id": org, "label": "desk"}),
        )
        .await,
    );
    let (status, body) = concierge.get(&path).await;
    assert_eq!(status, 200, "{body}");
}

/// A carrier's deposit answer never confirms whether a name lives in a
/// unit; staff are told.
#[tokio::test]
async fn a_carrier_is_never_told_whether_a_recipient_lives_here() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let org = org_of(&w).await;
    let dhl = Client::new(
        &app.base,
        &token(
            &w,
            json!({"role": "carrier", "carrier": "dhl", "organisation_id": org, "label": "dhl"}),
        )
        .await,
    );
    let deposits = format!("/api/v1/lockers/{}/deposits", w.locker_id);
    let label = |tracking: &str, unit: &str, name: &str| {
        json!({"tracking_number": tracking, "recipient": {"unit": unit, "name": name},
               "width_mm": 300, "height_mm": 60, "depth_mm": 200})
    };
    for tracking in ["PROBE00001", "PROBE00002"] {
        w.pre_advise(tracking, "dhl").await;
    }
    let known = dhl
        .created(&deposits, label("PROBE00001", "A-1", "Anna Kowalska"))
        .await;
    let unknown = dhl
        .created(&deposits, label("PROBE00002", "Z-9", "Nobody Here"))
        .await;
    for answer in [&known, &unknown] {
        assert!(answer.get("recipient_known").is_none(), "{answer}");
        assert_eq!(answer["state"], "deposited", "{answer}");
    }
    let staff = w
        .admin
        .created(&deposits, label("PROBE00003", "Z-9", "Nobody Here"))
        .await;
    assert_eq!(
        (staff["recipient_known"].as_bool(), staff["state"].as_str()),
        (Some(false), Some("unassigned"))
    );
}

/// Finishing a step-up with a broken body answers in the API's error shape.
#[tokio::test]
async fn a_broken_step_up_answers_with_a_code() {
    let app = App::start().await;
    let admin = Client::new(&app.base, ADMIN_TOKEN);
    let (status, body) = admin
        .post("/api/v1/step-up/finish", json!({"ceremony": 7}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_body")),
        "{body}"
    );
}

/// Wrong codes at the API's counter lock the keypad and tell staff, once.
#[tokio::test]
async fn a_keypad_locked_at_the_api_raises_one_incident() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let pickups = format!("/api/v1/lockers/{}/pickups", w.locker_id);
    let mut statuses = Vec::new();
    for i in 0..12 {
        let (status, _) = w
            .admin
            .post(&pickups, json!({"code": format!("{:08}", 10_000_000 + i)}))
            .await;
        statuses.push(status);
    }
    assert_eq!(&statuses[..10], &[403; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
    let (_, incidents) = w
        .admin
        .get(&format!("/api/v1/sites/{}/incidents", w.site_id))
        .await;
    let locked: Vec<&Value> = incidents
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "keypad_locked")
        .collect();
    assert_eq!(locked.len(), 1, "{incidents}");
}

/// A resident cannot let a visitor into the parcel room; staff can only
/// with a step-up; a courier's visit opens its room's entry path, never a
/// path of its choosing.
#[tokio::test]
async fn visitor_and_courier_pins_stay_out_of_doors_not_theirs() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let org = org_of(&w).await;
    let site = &w.site_id;
    let door = |name: &str, kind: &str| json!({"name": name, "kind": kind});
    let lobby = w
        .admin
        .created(
            &format!("/api/v1/sites/{site}/doors"),
            door("Lobby", "lobby"),
        )
        .await["id"]
        .clone();
    let room_door = w
        .admin
        .created(
            &format!("/api/v1/sites/{site}/doors"),
            door("Parcel room", "parcel_room"),
        )
        .await["id"]
        .clone();
    let gym = w
        .admin
        .created(
            &format!("/api/v1/sites/{site}/doors"),
            door("Gym", "shared"),
        )
        .await["id"]
        .clone();
    let into_room = w
        .admin
        .created(
            &format!("/api/v1/sites/{site}/door-paths"),
            json!({"name": "Lobby to parcel room", "doors": [lobby, room_door]}),
        )
        .await["id"]
        .clone();
    let to_gym = w
        .admin
        .created(
            &format!("/api/v1/sites/{site}/door-paths"),
            json!({"name": "Lobby to gym", "doors": [lobby, gym]}),
        )
        .await["id"]
        .clone();
    let soon = cubby_server::now_ms() + 3_600_000;

    let anna = Client::new(
        &app.base,
        &token(&w, json!({"role": "resident", "resident_id": w.residents[0], "organisation_id": org, "label": "anna"})).await,
    );
    let (status, body) = anna
        .post(
            "/api/v1/me/access-grants",
            json!({"label": "Friend", "path_id": into_room, "not_after_ms": soon}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("door_not_allowed")),
        "{body}"
    );
    let (status, body) = anna
        .post(
            "/api/v1/me/access-grants",
            json!({"label": "Friend", "path_id": to_gym, "not_after_ms": soon}),
        )
        .await;
    assert_eq!(status, 201, "the gym is fine: {body}");

    // Staff's token alone (no passkey proof) gets no parcel-room PIN.
    let (status, body) = Client::new(&app.base, ADMIN_TOKEN)
        .post(
            &format!("/api/v1/sites/{site}/access-grants"),
            json!({"label": "Cleaner", "doors": [room_door], "not_after_ms": soon}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("step_up_required")),
        "{body}"
    );
    // Nor an offline code for it, which no revocation reaches at a door past
    // its cache.
    let (status, body) = Client::new(&app.base, ADMIN_TOKEN)
        .post(
            &format!(
                "/api/v1/doors/{}/offline-codes",
                room_door.as_str().unwrap()
            ),
            json!({"label": "Cleaner"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("step_up_required")),
        "{body}"
    );

    let carrier = w
        .admin
        .created(
            "/api/v1/carriers",
            json!({"code": "dhl", "name": "DHL", "organisation_id": org}),
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
    let marek = Client::new(&app.base, courier["token"].as_str().unwrap());
    let (status, body) = marek
        .post(
            &format!("/api/v1/sites/{site}/courier-visits"),
            json!({"path_id": to_gym, "minutes": 30}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("door_not_allowed")),
        "{body}"
    );
    let (_, grants) = w
        .admin
        .get(&format!("/api/v1/sites/{site}/access-grants"))
        .await;
    assert_eq!(
        grants.as_array().map(Vec::len),
        Some(1),
        "only the gym PIN: {grants}"
    );
}

/// Every byte the data directory holds (database, WAL), for a plaintext scan.
fn data_bytes(app: &App) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(&app.data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.extend(std::fs::read(path).unwrap());
        }
    }
    all
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// A token issued under an `Idempotency-Key` is shown once: the record kept
/// to answer a retry holds no secret, and the retry says it is withheld.
#[tokio::test]
async fn an_idempotent_token_issue_keeps_no_secret() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let org = org_of(&w).await;
    let body = json!({"role": "manager", "organisation_id": org, "label": "night desk"});
    let ((status, first), _) = w
        .admin
        .post_with("/api/v1/tokens", body.clone(), Some("issue-night-desk"))
        .await;
    assert_eq!(status, 201, "{first}");
    let secret = first["token"]
        .as_str()
        .expect("shown the first time")
        .to_string();
    let ((status, again), headers) = w
        .admin
        .post_with("/api/v1/tokens", body, Some("issue-night-desk"))
        .await;
    assert_eq!(status, 201);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(again["id"], first["id"]);
    assert!(again.get("token").is_none(), "{again}");
    assert_eq!(again["secret_withheld"], true);
    assert!(
        !holds(&data_bytes(&app), &secret),
        "the token is on disk in plaintext"
    );
    // The token itself works.
    let (status, _) = Client::new(&app.base, &secret).get("/api/v1/sites").await;
    assert_eq!(status, 200);
}

/// Tokens are listed without secrets, expire, and stop on their next request
/// once revoked (`token_revoked`); a manager never revokes an admin's token;
/// a site-scoped token sees its sites only.
#[tokio::test]
async fn tokens_are_listed_revoked_expired_and_scoped() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let org = org_of(&w).await;
    let now = cubby_server::now_ms();
    let issued = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "manager", "organisation_id": org, "label": "night desk"}),
        )
        .await;
    let secret = issued["token"].as_str().unwrap().to_string();
    let id = issued["id"].as_str().unwrap().to_string();
    let expires = issued["expires_at_ms"].as_i64().unwrap();
    assert!(
        expires > now + 89 * 86_400_000 && expires < now + 91 * 86_400_000,
        "90 days by default: {issued}"
    );
    let manager = Client::new(&app.base, &secret);
    let (status, list) = manager.get("/api/v1/tokens").await;
    assert_eq!(status, 200, "{list}");
    let mine = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .expect("listed")
        .clone();
    assert_eq!(
        (mine["role"].as_str(), mine["label"].as_str()),
        (Some("manager"), Some("night desk"))
    );
    assert!(mine["revoked_at_ms"].is_null() && mine["expires_at_ms"] == expires);
    assert!(
        !list.to_string().contains(&secret),
        "a list never shows a secret"
    );
    // Past a year, or in the past: refused.
    for at in [now - 1, now + 400 * 86_400_000] {
        let (status, body) = w
            .admin
            .post("/api/v1/tokens", json!({"role": "manager", "organisation_id": org, "label": "x", "expires_at_ms": at}))
            .await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some("expires_at_ms")),
            "{body}"
        );
    }
    // A manager may not revoke the first admin's token.
    let (_, all) = w.admin.get("/api/v1/tokens").await;
    let first_admin = all["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "admin")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = manager
        .post(&format!("/api/v1/tokens/{first_admin}/revoke"), json!({}))
        .await;
    assert!(status == 403 || status == 404, "{status}");
    // Revoked: refused on the very next request, saying so.
    let (status, body) = w
        .admin
        .post(&format!("/api/v1/tokens/{id}/revoke"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["revoked_at_ms"].as_i64().unwrap() >= now);
    let (status, body) = manager.get("/api/v1/sites").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_revoked")),
        "{body}"
    );
    let (status, body) = Client::new(&app.base, "cby_no_such_token")
        .get("/api/v1/sites")
        .await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    // Expired: a token that ran out one millisecond ago works no more.
    let short = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "concierge", "organisation_id": org, "label": "temp", "expires_at_ms": cubby_server::now_ms() + 300}),
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (status, body) = Client::new(&app.base, short["token"].as_str().unwrap())
        .get("/api/v1/sites")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_expired")),
        "{body}"
    );
    // Scoped to one site: the other site is not found, and not listed.
    let other = w
        .admin
        .created(
            "/api/v1/sites",
            json!({"name": "Annex", "timezone": "Europe/Warsaw", "organisation_id": org}),
        )
        .await;
    let scoped = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "manager", "organisation_id": org, "label": "annex only", "site_ids": [other["id"]]}),
        )
        .await;
    let annex = Client::new(&app.base, scoped["token"].as_str().unwrap());
    let (status, _) = annex.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    assert_eq!(status, 404);
    let (status, _) = annex.get(&format!("/api/v1/lockers/{}", w.locker_id)).await;
    assert_eq!(status, 404);
    let (_, sites) = annex.get("/api/v1/sites").await;
    assert_eq!(sites.as_array().map(Vec::len), Some(1), "{sites}");
    // It cannot widen itself by issuing an unscoped token.
    let (status, _) = annex
        .post(
            "/api/v1/tokens",
            json!({"role": "concierge", "label": "wide", "site_ids": [w.site_id]}),
        )
        .await;
    assert_eq!(status, 403);
}
