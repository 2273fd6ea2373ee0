//! Listing carriers: a manager sees their organisation's, never another's;
//! an admin sees every organisation's; carrier and courier tokens see none.

use cubby_testkit::world::{seed, small_bank};
use cubby_testkit::{ADMIN_TOKEN, Client};
use serde_json::{Value, json};

use crate::support::App;

fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|c| c["code"].as_str().expect("a code").to_string())
        .collect()
}

#[tokio::test]
async fn managers_list_their_own_carriers_only() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let org_a = site["organisation_id"].clone();
    let org_b = w
        .admin
        .created(
            "/api/v1/organisations",
            json!({"name": "Other Property Co"}),
        )
        .await["id"]
        .clone();
    let mut managers = Vec::new();
    for (org, carrier) in [(&org_a, "dhl"), (&org_b, "ups")] {
        let t = w
            .admin
            .created(
                "/api/v1/tokens",
                json!({"role": "manager", "organisation_id": org, "label": "manager"}),
            )
            .await;
        let manager = Client::new(&app.base, t["token"].as_str().unwrap());
        manager
            .created(
                "/api/v1/carriers",
                json!({"code": carrier, "name": carrier.to_uppercase()}),
            )
            .await;
        managers.push(manager);
    }
    let (status, mine) = managers[0].get("/api/v1/carriers").await;
    assert_eq!(status, 200, "{mine}");
    assert_eq!(codes(&mine), ["dhl"]);
    let (_, theirs) = managers[1].get("/api/v1/carriers").await;
    assert_eq!(codes(&theirs), ["ups"]);
    let admin = Client::new(&app.base, ADMIN_TOKEN);
    let (_, all) = admin.get("/api/v1/carriers").await;
    let mut all = codes(&all);
    all.sort();
    assert_eq!(all, ["dhl", "ups"]);
    // A carrier's own token is no manager: it lists nothing.
    let ct = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "carrier", "organisation_id": org_a, "carrier": "dhl", "label": "dhl api"}),
        )
        .await;
    let (status, body) = Client::new(&app.base, ct["token"].as_str().unwrap())
        .get("/api/v1/carriers")
        .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = Client::new(&app.base, "not-a-token-at-all")
        .get("/api/v1/carriers")
        .await;
    assert_eq!(status, 401);
}
