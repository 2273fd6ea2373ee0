//! Bad input gets a clear 4xx with a stable code and changes nothing; tenants
//! never see each other; the API document is current and served offline.

use cubby_testkit::world::{World, parcel, seed, small_bank};
use cubby_testkit::{ADMIN_TOKEN, Client};
use serde_json::{Value, json};

use crate::support::App;

#[tokio::test]
async fn bad_input_is_refused_clearly_and_changes_nothing() {
    let p = App::start().await;
    let w = seed(&p.base, &p.admin_passkey_invite, small_bank()).await;
    let (site, locker, r0) = (
        w.site_id.clone(),
        w.locker_id.clone(),
        w.residents[0].clone(),
    );
    let cases: Vec<(&str, String, Value)> = vec![
        (
            "sites",
            "/api/v1/sites".into(),
            json!({"name": "", "timezone": "Europe/Warsaw"}),
        ),
        (
            "sites",
            "/api/v1/sites".into(),
            json!({"name": "X", "timezone": "Mars/Olympus"}),
        ),
        ("sites", "/api/v1/sites".into(), json!({"name": "X"})),
        (
            "sites",
            "/api/v1/sites".into(),
            json!({"name": "X", "timezone": "UTC", "extra": 1}),
        ),
        ("sites", "/api/v1/sites".into(), json!([1, 2, 3])),
        (
            "sites",
            "/api/v1/sites".into(),
            json!({"name": 5, "timezone": "UTC"}),
        ),
        (
            "residents",
            format!("/api/v1/sites/{site}/residents"),
            json!({"name": "A", "unit": "1", "email": "not-an-email"}),
        ),
        (
            "residents",
            format!("/api/v1/sites/{site}/residents"),
            json!({"name": "A", "unit": "1", "phone": "12"}),
        ),
        (
            "residents",
            format!("/api/v1/sites/{site}/residents"),
            json!({"name": "A\u{0}B", "unit": "1"}),
        ),
        (
            "lockers",
            format!("/api/v1/sites/{site}/lockers"),
            json!({"name": "L", "compartments": []}),
        ),
        (
            "lockers",
            format!("/api/v1/sites/{site}/lockers"),
            json!({"name": "L", "compartments": [{"label": "A", "width_mm": 0, "height_mm": 1, "depth_mm": 1}]}),
        ),
        (
            "lockers",
            format!("/api/v1/sites/{site}/lockers"),
            json!({"name": "L", "compartments": [{"label": "A", "width_mm": -5, "height_mm": 1, "depth_mm": 1}]}),
        ),
        (
            "lockers",
            format!("/api/v1/sites/{site}/lockers"),
            json!({"name": "L", "compartments": [{"label": "A", "width_mm": 10, "height_mm": 10, "depth_mm": 10, "temperature": "lukewarm"}]}),
        ),
        (
            "deposit",
            format!("/api/v1/lockers/{locker}/deposits"),
            parcel("RB123456786GB", &r0, 60),
        ),
        (
            "deposit",
            format!("/api/v1/lockers/{locker}/deposits"),
            parcel("x", &r0, 60),
        ),
        (
            "deposit",
            format!("/api/v1/lockers/{locker}/deposits"),
            parcel("GOOD000001", "res_00000000000000000000000000000000", 60),
        ),
        (
            "deposit",
            format!("/api/v1/lockers/{locker}/deposits"),
            parcel("GOOD000001", "'; DROP TABLE parcels; --", 60),
        ),
        (
            "deposit",
            format!("/api/v1/lockers/{locker}/deposits"),
            json!({"tracking_number": "GOOD000001", "recipient": {}, "width_mm": 1, "height_mm": 1, "depth_mm": 1}),
        ),
        (
            "deposit",
            format!("/api/v1/lockers/{locker}/deposits"),
            json!({"tracking_number": "GOOD000001", "recipient": {"resident_id": r0}, "width_mm": 99999, "height_mm": 1, "depth_mm": 1}),
        ),
        (
            "deposit",
            format!("/api/v1/lockers/{locker}/deposits"),
            json!({"tracking_number": "GOOD000001", "recipient": {"resident_id": r0}, "width_mm": 10, "height_mm": 10, "depth_mm": 10, "temperature": "hot"}),
        ),
        (
            "deposit",
            "/api/v1/lockers/lck_nope/deposits".into(),
            parcel("GOOD000001", &r0, 60),
        ),
        (
            "pickup",
            format!("/api/v1/lockers/{locker}/pickups"),
            json!({"code": 12345678}),
        ),
        (
            "pickup",
            format!("/api/v1/lockers/{locker}/pickups"),
            json!({"code": "9".repeat(10_000)}),
        ),
        (
            "transition",
            "/api/v1/parcels/par_00000000000000000000000000000000/transitions".into(),
            json!({"action": "hold"}),
        ),
    ];
    for (what, path, body) in &cases {
        let (status, b) = w.admin.post(path, body.clone()).await;
        assert!(
            (400..500).contains(&status),
            "{what} {path} {body}: {status} {b}"
        );
        assert!(
            b["code"].is_string() && b["message"].is_string(),
            "{what}: error body {b}"
        );
    }
    // Not JSON at all, and JSON with the wrong content type.
    let raw = w
        .admin
        .http
        .post(p.url("/api/v1/sites"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 422);
    let raw = w
        .admin
        .http
        .post(p.url("/api/v1/sites"))
        .bearer_auth(ADMIN_TOKEN)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 415);
    let (status, b) = w
        .admin
        .get(&format!("/api/v1/sites/{site}/parcels?state=teleported"))
        .await;
    assert_eq!((status, b["code"].as_str()), (422, Some("invalid_input")));
    let (status, b) = w
        .admin
        .get(&format!("/api/v1/sites/{site}/residents?limit=lots"))
        .await;
    assert_eq!((status, b["code"].as_str()), (422, Some("invalid_query")));
    let (status, _) = w.admin.get("/api/v1/no/such/thing").await;
    assert_eq!(status, 404);
    // No token, bad token.
    let anon = Client::new(&p.base, "wrong-token-wrong-token");
    assert_eq!(anon.get("/api/v1/sites").await.0, 401);
    // Nothing changed: no parcels, one site.
    let (_, parcels) = w.admin.get(&format!("/api/v1/sites/{site}/parcels")).await;
    assert_eq!(parcels.as_array().unwrap().len(), 0);
    let (_, sites) = w.admin.get("/api/v1/sites").await;
    assert_eq!(sites.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn organisations_never_see_each_other() {
    let p = App::start().await;
    let w = seed(&p.base, &p.admin_passkey_invite, small_bank()).await;
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("TENANT0001", &w.residents[0], 60),
        )
        .await;
    let org = w
        .admin
        .created(
            "/api/v1/organisations",
            json!({"name": "Other Property Co"}),
        )
        .await;
    let t = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "manager", "organisation_id": org["id"], "label": "other manager"}),
        )
        .await;
    let other = Client::new(&p.base, t["token"].as_str().unwrap());
    let pid = d["parcel_id"].as_str().unwrap();
    for path in [
        format!("/api/v1/sites/{}", w.site_id),
        format!("/api/v1/lockers/{}", w.locker_id),
        format!("/api/v1/parcels/{pid}"),
        format!("/api/v1/residents/{}", w.residents[0]),
        format!("/api/v1/sites/{}/parcels", w.site_id),
    ] {
        let (status, body) = other.get(&path).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
    let (status, _) = other
        .post(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("TENANT0002", &w.residents[0], 60),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = other
        .post(
            &format!("/api/v1/parcels/{pid}/transitions"),
            json!({"action": "hold"}),
        )
        .await;
    assert_eq!(status, 404);
    let (_, sites) = other.get("/api/v1/sites").await;
    assert_eq!(sites.as_array().unwrap().len(), 0);
    // A manager cannot mint admin tokens.
    let (status, _) = other
        .post(
            "/api/v1/tokens",
            json!({"role": "admin", "label": "escalate"}),
        )
        .await;
    assert_eq!(status, 403);
    // A carrier token sees its own parcels without personal data or timing.
    let ct = w.admin.created("/api/v1/tokens", json!({"role": "carrier", "organisation_id": org_of(&w).await, "carrier": "dhl", "label": "dhl api"})).await;
    let carrier = Client::new(&p.base, ct["token"].as_str().unwrap());
    let (status, seen) = carrier.get(&format!("/api/v1/parcels/{pid}")).await;
    assert_eq!(status, 200, "{seen}");
    assert!(
        seen.get("recipient").is_none() && seen["events"][0].get("at").is_none(),
        "{seen}"
    );
    let ups = w.admin.created("/api/v1/tokens", json!({"role": "carrier", "organisation_id": org_of(&w).await, "carrier": "ups", "label": "ups api"})).await;
    let (status, _) = Client::new(&p.base, ups["token"].as_str().unwrap())
        .get(&format!("/api/v1/parcels/{pid}"))
        .await;
    assert_eq!(status, 404);
}

async fn org_of(w: &World) -> Value {
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    site["organisation_id"].clone()
}

#[tokio::test]
async fn openapi_document_is_current_and_docs_load_nothing_external() {
    let p = App::start().await;
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(p.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let served: Value = http
        .get(p.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let committed: Value = serde_json::from_str(include_str!("../../../../docs/openapi.json"))
        .expect("docs/openapi.json is JSON");
    assert_eq!(
        served, committed,
        "docs/openapi.json is out of date: regenerate with `cargo run -q -p cubby-cli -- openapi > docs/openapi.json`"
    );
    for path in [
        "/api/v1/sites",
        "/api/v1/lockers/{locker_id}/deposits",
        "/api/v1/lockers/{locker_id}/pickups",
        "/api/v1/parcels/{parcel_id}",
    ] {
        assert!(
            served["paths"].get(path).is_some(),
            "{path} missing from the document"
        );
    }
    let page = http.get(p.url("/api/docs")).send().await.unwrap();
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    let js = http
        .get(p.url("/api/docs.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for text in [&html, &js] {
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "docs reference an external address"
        );
    }
    assert!(js.contains("/api/v1/openapi.json"));
}
