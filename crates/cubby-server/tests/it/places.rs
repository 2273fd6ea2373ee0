//! Editing and retiring places: a site's name, time zone and address; its
//! buildings and units; its doors and door paths. Each edit names the
//! version it read, each removal is refused with a code that says what
//! still holds the place, and another organisation's places are not found.

use cubby_testkit::Client;
use cubby_testkit::world::{seed, small_bank};
use serde_json::json;

use crate::support::App;

#[tokio::test]
async fn a_site_is_renamed_moved_to_another_zone_and_given_an_address() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let path = format!("/api/v1/sites/{}", w.site_id);
    let (_, site) = w.admin.get(&path).await;
    let v = site["version"].as_i64().unwrap();

    let (status, edited) = w
        .admin
        .patch(
            &path,
            json!({"version": v, "name": "Riverside Court", "timezone": "Europe/Berlin", "address": "Flussweg 3, Berlin"}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (
            &edited["name"],
            &edited["timezone"],
            &edited["address"],
            edited["version"].as_i64()
        ),
        (
            &json!("Riverside Court"),
            &json!("Europe/Berlin"),
            &json!("Flussweg 3, Berlin"),
            Some(v + 1)
        )
    );
    // A second staff member's edit from the old version changes nothing.
    let (status, stale) = w
        .admin
        .patch(&path, json!({"version": v, "name": "Old"}))
        .await;
    assert_eq!(
        (status, stale["code"].as_str()),
        (409, Some("edit_conflict"))
    );
    // Bad input names its field; `null` clears the address.
    let (status, bad) = w
        .admin
        .patch(&path, json!({"version": v + 1, "timezone": "Mars/Olympus"}))
        .await;
    assert_eq!(
        (status, bad["details"]["field"].as_str()),
        (422, Some("timezone")),
        "{bad}"
    );
    let (status, cleared) = w
        .admin
        .patch(&path, json!({"version": v + 1, "address": null}))
        .await;
    assert_eq!((status, cleared["address"].clone()), (200, json!(null)));
    let (_, now) = w.admin.get(&path).await;
    assert_eq!(now["name"], "Riverside Court");

    // Concierges do not edit sites; other organisations do not see them.
    let concierge = crate::authority::staff(&app, &w, "concierge").await;
    let (status, _) = concierge
        .patch(&path, json!({"version": v + 2, "name": "Mine"}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = Client::new(&app.base, "not-a-token")
        .patch(&path, json!({"version": v + 2, "name": "Mine"}))
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn buildings_and_units_are_renamed_moved_and_removed_only_when_empty() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let site = w.site_id.clone();
    let north = w
        .admin
        .created(
            &format!("/api/v1/sites/{site}/buildings"),
            json!({"name": "Nort"}),
        )
        .await;
    let south = w
        .admin
        .created(
            &format!("/api/v1/sites/{site}/buildings"),
            json!({"name": "South"}),
        )
        .await;
    let b = format!("/api/v1/buildings/{}", north["id"].as_str().unwrap());
    let (status, renamed) = w
        .admin
        .patch(&b, json!({"version": 1, "name": "North"}))
        .await;
    assert_eq!(
        (status, renamed["name"].as_str()),
        (200, Some("North")),
        "{renamed}"
    );
    let (status, taken) = w
        .admin
        .patch(&b, json!({"version": 2, "name": "South"}))
        .await;
    assert_eq!(
        (status, taken["code"].as_str()),
        (409, Some("building_exists"))
    );

    // The first resident's unit is put in the North building: the
    // building is held; the unit is held while she lives there.
    let anna = w.residents[0].clone();
    let (_, r) = w.admin.get(&format!("/api/v1/residents/{anna}")).await;
    let unit = r["unit"].as_str().unwrap().to_string();
    let u = format!("/api/v1/sites/{site}/units/{unit}");
    let (status, _) = w.admin.patch(&u, json!({"building_id": north["id"]})).await;
    assert_eq!(status, 204);
    let (_, units) = w.admin.get(&format!("/api/v1/sites/{site}/units")).await;
    let listed = units
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["label"] == unit.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (listed["building_id"].clone(), listed["residents"].as_i64()),
        (north["id"].clone(), Some(1))
    );
    let (status, held) = w.admin.delete(&b).await;
    assert_eq!(
        (status, held["code"].as_str()),
        (409, Some("building_in_use")),
        "{held}"
    );
    let (status, held) = w.admin.delete(&u).await;
    assert_eq!(
        (status, held["code"].as_str()),
        (409, Some("unit_in_use")),
        "{held}"
    );

    // She moves to a new unit; the old one is then empty and goes, and
    // with it the last thing in the North building.
    let (status, moved) = w
        .admin
        .patch(
            &format!("/api/v1/residents/{anna}"),
            json!({"version": r["version"], "unit": "9Z"}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    let (status, body) = w.admin.delete(&u).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = w.admin.delete(&u).await;
    assert_eq!(status, 404);
    let (status, body) = w.admin.delete(&b).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = w.admin.patch(&b, json!({"version": 2, "name": "X"})).await;
    assert_eq!(status, 404);
    // A unit cannot be put in another site's building, or a missing one.
    let (status, _) = w
        .admin
        .patch(
            &format!("/api/v1/sites/{site}/units/9Z"),
            json!({"building_id": "bld_00000000000000000000000000"}),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = w
        .admin
        .patch(
            &format!("/api/v1/sites/{site}/units/9Z"),
            json!({"building_id": south["id"]}),
        )
        .await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn doors_and_paths_are_edited_and_retired_only_when_nothing_names_them() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let site = w.site_id.clone();
    let gym = w
        .admin
        .created(
            &format!("/api/v1/sites/{site}/doors"),
            json!({"name": "Gim", "kind": "shared"}),
        )
        .await;
    let roof = w
        .admin
        .created(
            &format!("/api/v1/sites/{site}/doors"),
            json!({"name": "Roof", "kind": "shared"}),
        )
        .await;
    let door = format!("/api/v1/doors/{}", gym["id"].as_str().unwrap());

    // A security setting: a bare token without a step-up is refused.
    let bare = Client::new(&app.base, cubby_testkit::ADMIN_TOKEN);
    let (status, body) = bare
        .patch(&door, json!({"version": 1, "name": "Gym"}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("step_up_required"))
    );
    let (status, edited) = w
        .admin
        .patch(
            &door,
            json!({"version": 1, "name": "Gym", "fail_mode": "safe"}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (edited["name"].as_str(), edited["fail_mode"].as_str()),
        (Some("Gym"), Some("safe"))
    );
    let (status, bad) = w
        .admin
        .patch(&door, json!({"version": 2, "fail_mode": "open"}))
        .await;
    assert_eq!(
        (status, bad["details"]["field"].as_str()),
        (422, Some("fail_mode"))
    );
    let (status, stale) = w
        .admin
        .patch(&door, json!({"version": 1, "name": "X"}))
        .await;
    assert_eq!(
        (status, stale["code"].as_str()),
        (409, Some("edit_conflict"))
    );

    // A path names the gym; a grant over the roof is live.
    let path = w
        .admin
        .created(
            &format!("/api/v1/sites/{site}/door-paths"),
            json!({"name": "To the gym", "doors": [gym["id"]]}),
        )
        .await;
    let grant = w
        .admin
        .created(
            &format!("/api/v1/sites/{site}/access-grants"),
            json!({"label": "Roofer", "doors": [roof["id"]], "not_after_ms": cubby_server::now_ms() + 3_600_000}),
        )
        .await;
    let (status, held) = w.admin.post(&format!("{door}/retire"), json!({})).await;
    assert_eq!(
        (status, held["code"].as_str()),
        (409, Some("door_in_use")),
        "{held}"
    );
    let roof_door = format!("/api/v1/doors/{}", roof["id"].as_str().unwrap());
    let (status, held) = w
        .admin
        .post(&format!("{roof_door}/retire"), json!({}))
        .await;
    assert_eq!((status, held["code"].as_str()), (409, Some("door_in_use")));

    // The path now leads to the roof instead; the gym is free to retire.
    let p = format!("/api/v1/door-paths/{}", path["id"].as_str().unwrap());
    let (status, bad) = w
        .admin
        .patch(&p, json!({"version": 1, "doors": [roof["id"], roof["id"]]}))
        .await;
    assert_eq!(
        (status, bad["details"]["field"].as_str()),
        (422, Some("doors"))
    );
    let (status, edited) = w
        .admin
        .patch(
            &p,
            json!({"version": 1, "name": "To the roof", "doors": [roof["id"]]}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["doors"], json!([roof["id"]]));
    let (status, body) = w.admin.post(&format!("{door}/retire"), json!({})).await;
    assert_eq!(status, 204, "{body}");
    let (_, doors) = w.admin.get(&format!("/api/v1/sites/{site}/doors")).await;
    assert_eq!(doors.as_array().map(Vec::len), Some(1), "{doors}");
    let (status, _) = w
        .admin
        .patch(&door, json!({"version": 3, "name": "Back"}))
        .await;
    assert_eq!(status, 404, "a retired door is gone");
    // A retired door is no longer a door a path or a grant can name.
    let (status, bad) = w
        .admin
        .patch(&p, json!({"version": 2, "doors": [gym["id"]]}))
        .await;
    assert_eq!(
        (status, bad["details"]["field"].as_str()),
        (422, Some("doors"))
    );

    // The grant is revoked: the roof is held by the path alone, which goes.
    let (status, _) = w
        .admin
        .post(
            &format!(
                "/api/v1/access-grants/{}/revoke",
                grant["grant_id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = w.admin.delete(&p).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = w
        .admin
        .post(&format!("{roof_door}/retire"), json!({}))
        .await;
    assert_eq!(status, 204, "{body}");
    let (_, events) = w
        .admin
        .get("/api/v1/audit-events?action=door.changed")
        .await;
    let reasons: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"retired") && reasons.contains(&"removed"),
        "{reasons:?}"
    );
}

#[tokio::test]
async fn a_carrier_is_renamed_and_a_courier_who_left_is_closed_out() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let courier = w.courier_account("dhl").await;
    let (_, carriers) = w.admin.get("/api/v1/carriers").await;
    let dhl = carriers
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "dhl")
        .unwrap()
        .clone();
    let carrier = format!("/api/v1/carriers/{}", dhl["id"].as_str().unwrap());
    let (status, renamed) = w
        .admin
        .patch(&carrier, json!({"name": "DHL Parcel Polska"}))
        .await;
    assert_eq!(
        (status, renamed["name"].as_str()),
        (200, Some("DHL Parcel Polska"))
    );
    assert_eq!(renamed["code"], "dhl", "the code tokens carry stays");
    let (status, bad) = w.admin.patch(&carrier, json!({"name": ""})).await;
    assert_eq!(
        (status, bad["details"]["field"].as_str()),
        (422, Some("name"))
    );

    // The courier has a pass at the locker.
    let marek = Client::new(&app.base, courier["token"].as_str().unwrap());
    marek
        .created(
            &format!("/api/v1/lockers/{}/courier-passes", w.locker_id),
            json!({}),
        )
        .await;
    assert_eq!(live_passes(&app, &w.locker_id).await, 1);

    let closing = format!(
        "/api/v1/couriers/{}",
        courier["courier_id"].as_str().unwrap()
    );
    let bare = Client::new(&app.base, cubby_testkit::ADMIN_TOKEN);
    let (status, _) = bare.delete(&closing).await;
    assert_eq!(status, 403, "a security setting takes a step-up");
    let (status, body) = w.admin.delete(&closing).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = w.admin.delete(&closing).await;
    assert_eq!(status, 404, "closed once");
    // Its token, its pass and its name are gone.
    let (status, body) = marek
        .post(
            &format!("/api/v1/lockers/{}/courier-passes", w.locker_id),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("token_revoked")),
        "{body}"
    );
    assert_eq!(live_passes(&app, &w.locker_id).await, 0);
    let (_, couriers) = w.admin.get(&format!("{carrier}/couriers")).await;
    assert_eq!(couriers, json!([]));
    let mut conn = app.store().reader().await.unwrap();
    let row = cubby_store::couriers::courier(&mut conn, courier["courier_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.name, "");
}

async fn live_passes(app: &App, locker: &str) -> usize {
    let mut conn = app.store().reader().await.unwrap();
    cubby_store::couriers::cache_courier_passes(&mut conn, locker, cubby_server::now_ms())
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn the_console_saves_a_sites_details_and_says_when_the_form_is_stale() {
    use crate::web_guards::hidden;
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let console = crate::lifecycle::Console::sign_in(&app).await;
    let page_path = format!("/console/sites/{}", w.site_id);
    let (status, page) = console.get(&page_path).await;
    assert_eq!(status, 200);
    let (csrf, version) = (hidden(&page, "csrf"), hidden(&page, "version"));
    let save = |tz: &'static str, version: String| {
        let (console, csrf, action) = (&console, csrf.clone(), format!("{page_path}/details"));
        async move {
            console
                .post(
                    &action,
                    &[
                        ("csrf", csrf.as_str()),
                        ("version", version.as_str()),
                        ("name", "Riverside Court"),
                        ("timezone", tz),
                        ("address", "Flussweg 3"),
                    ],
                )
                .await
        }
    };
    let (status, bad) = save("Nowhere/City", version.clone()).await;
    assert_eq!(status, 200);
    assert!(bad.contains("time zone"), "{bad}");
    let (status, saved) = save("Europe/Berlin", version.clone()).await;
    assert_eq!(status, 200, "{saved}");
    assert!(saved.contains("The site is saved."), "{saved}");
    assert!(saved.contains("value=\"Flussweg 3\""), "{saved}");
    let (_, stale) = save("Europe/Warsaw", version).await;
    assert!(stale.contains("changed since you read"), "{stale}");
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    assert_eq!(
        (site["timezone"].as_str(), site["address"].as_str()),
        (Some("Europe/Berlin"), Some("Flussweg 3"))
    );
}
