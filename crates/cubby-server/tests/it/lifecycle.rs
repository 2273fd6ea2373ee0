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
