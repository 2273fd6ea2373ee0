//! Out-of-home pick-up points through the real binary: managers publish
//! sites with a place, hours and access notes; a carrier's token finds the
//! nearest with a free compartment that takes its parcel (full, too small,
//! far and withdrawn points left out); the public page lists them without
//! loading anything from elsewhere.

use cubby_testkit::{Client, CubbyProcess};
use serde_json::{Value, json};

use crate::trust::carrier_token;
use crate::{bin, seed, small_bank};

/// Warsaw, Palace of Culture: where the searches start.
const HERE: (f64, f64) = (52.2318, 21.0060);

/// A new site with one locker of `doors` compartments of `height_mm`,
/// published as a pick-up point `north_m` metres north of [`HERE`].
async fn point(
    admin: &Client,
    name: &str,
    north_m: f64,
    doors: usize,
    height_mm: u32,
) -> (String, String) {
    let site = admin
        .created(
            "/api/v1/sites",
            json!({"name": name, "timezone": "Europe/Warsaw"}),
        )
        .await;
    let site_id = site["id"].as_str().unwrap().to_string();
    let compartments: Vec<Value> = (0..doors)
        .map(|i| json!({"label": format!("P{i:02}"), "width_mm": 380, "height_mm": height_mm, "depth_mm": 640}))
        .collect();
    let locker = admin
        .created(
            &format!("/api/v1/sites/{site_id}/lockers"),
            json!({"name": format!("{name} locker"), "compartments": compartments}),
        )
        .await;
    // One degree of latitude is 111.2 km on the finder's sphere.
    let lat = HERE.0 + north_m / 111_195.0;
    let (status, body) = admin
        .put(
            &format!("/api/v1/sites/{site_id}/public-point"),
            json!({"lat": lat, "lon": HERE.1,
                   "opening_hours": {"always_open": true},
                   "accessibility": "Step-free from the street"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["open_now"], true);
    (site_id, locker["id"].as_str().unwrap().to_string())
}

fn names(found: &Value) -> Vec<String> {
    found
        .as_array()
        .unwrap_or_else(|| panic!("{found}"))
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_pickup_point_finder_answers_nearest_first_with_room_for_the_parcel() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    assert_eq!(site["kind"], "residential");
    let org = site["organisation_id"].clone();

    let (kiosk_site, _) = point(&w.admin, "Kiosk Marszałkowska", 800.0, 2, 190).await;
    let (_, full_locker) = point(&w.admin, "Station Centralna", 300.0, 1, 190).await;
    let (_, _) = point(&w.admin, "Flat Letters", 150.0, 3, 40).await;
    let (_, _) = point(&w.admin, "Mall Arkadia", 2_500.0, 4, 410).await;
    let (far, _) = point(&w.admin, "Piaseczno", 18_000.0, 4, 410).await;
    let (withdrawn, _) = point(&w.admin, "Closed Shop", 100.0, 4, 410).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{kiosk_site}")).await;
    assert_eq!(site["kind"], "public_point");
    let (status, _) = w
        .admin
        .delete(&format!("/api/v1/sites/{withdrawn}/public-point"))
        .await;
    assert_eq!(status, 204);
    // The station's only door is taken.
    w.admin
        .created(
            &format!("/api/v1/lockers/{full_locker}/deposits"),
            json!({"tracking_number": "RB123456785GB", "carrier": "dhl",
                   "recipient": {"unit": "X", "name": "Walk-in"},
                   "width_mm": 300, "height_mm": 100, "depth_mm": 200}),
        )
        .await;

    let dhl = Client::new(&p.base, &carrier_token(&w, &org, "dhl").await);
    let find = |q: String| {
        let dhl = dhl.clone();
        async move { dhl.get(&format!("/api/v1/pickup-points?{q}")).await }
    };
    let here = format!("lat={}&lon={}", HERE.0, HERE.1);
    // A 100 mm parcel within 5 km: the flat-letter lockers are too small,
    // the station is full, the far one and the withdrawn one are left out.
    let (status, found) = find(format!("{here}&width_mm=300&height_mm=100&depth_mm=200")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(names(&found), ["Kiosk Marszałkowska", "Mall Arkadia"]);
    let d: Vec<u64> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["distance_m"].as_u64().unwrap())
        .collect();
    assert!(
        d[0].abs_diff(800) <= 2 && d[1].abs_diff(2_500) <= 5,
        "{d:?}"
    );
    assert_eq!(found[0]["free"], 2);
    assert_eq!(found[0]["accessibility"], "Step-free from the street");
    assert!(found[0]["lockers"][0]["locker_id"].is_string());
    let text = found.to_string();
    assert!(
        !text.contains("Walk-in") && !text.contains("RB123456785GB"),
        "{text}"
    );
    // Without a size, any free door counts: the letter lockers come first.
    let (_, any) = find(here.clone()).await;
    assert_eq!(
        names(&any),
        ["Flat Letters", "Kiosk Marszałkowska", "Mall Arkadia"]
    );
    // A wider radius reaches the far one; a smaller one only the nearest.
    let (_, wide) = find(format!(
        "{here}&radius_m=20000&height_mm=100&width_mm=300&depth_mm=200"
    ))
    .await;
    assert_eq!(names(&wide).last().map(String::as_str), Some("Piaseczno"));
    let (_, near) = find(format!(
        "{here}&radius_m=1000&width_mm=300&height_mm=100&depth_mm=200"
    ))
    .await;
    assert_eq!(names(&near), ["Kiosk Marszałkowska"]);
    // Chilled: nobody has a chilled door.
    let (_, cold) = find(format!(
        "{here}&width_mm=300&height_mm=100&depth_mm=200&temperature=chilled"
    ))
    .await;
    assert_eq!(cold, json!([]));

    // Bad questions get clear answers.
    for (q, field) in [
        ("lat=95&lon=21".to_string(), "lat"),
        (format!("{here}&radius_m=0"), "radius_m"),
        (format!("{here}&width_mm=300"), "width_mm"),
    ] {
        let (status, e) = find(q.clone()).await;
        assert_eq!(
            (status, e["details"]["field"].as_str()),
            (422, Some(field)),
            "{q}: {e}"
        );
    }
    let (status, _) = find("lat=x&lon=1".into()).await;
    assert_eq!(status, 422);
    let (status, _) = Client::new(&p.base, "nope")
        .get(&format!("/api/v1/pickup-points?{here}"))
        .await;
    assert_eq!(status, 401);
    // Only managers publish: a carrier may not, and bad hours are refused.
    let (status, _) = dhl
        .put(
            &format!("/api/v1/sites/{far}/public-point"),
            json!({"lat": 1, "lon": 1, "opening_hours": {"always_open": true}}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, e) = w
        .admin
        .put(
            &format!("/api/v1/sites/{far}/public-point"),
            json!({"lat": 52.0, "lon": 21.0, "opening_hours": {"spans": [{"open": "20:00", "close": "08:00"}]}}),
        )
        .await;
    assert_eq!(
        (status, e["details"]["field"].as_str()),
        (422, Some("opening_hours.spans")),
        "{e}"
    );

    // A carrier pre-advises a parcel to the kiosk for someone known only by
    // email: they are told when it arrives, with their code.
    let (status, body) = w
        .admin
        .put(
            &format!("/api/v1/sites/{kiosk_site}/carriers/dhl"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let announce = |site: String, tracking: &'static str, recipient: Value| {
        let dhl = dhl.clone();
        async move {
            dhl.post(
                &format!("/api/v1/sites/{site}/announcements"),
                json!({"tracking_number": tracking, "recipient": recipient,
                       "width_mm": 300, "height_mm": 100, "depth_mm": 200}),
            )
            .await
        }
    };
    let walk_in = json!({"name": "Ola Nowak", "email": "ola@example.org"});
    let (status, e) = announce(w.site_id.clone(), "1Z5R89390357567127", walk_in.clone()).await;
    assert_eq!(
        (status, e["details"]["field"].as_str()),
        (422, Some("recipient")),
        "residential sites name residents: {e}"
    );
    let (status, e) = announce(
        kiosk_site.clone(),
        "1Z5R89390357567127",
        json!({"name": "Nobody"}),
    )
    .await;
    assert_eq!(
        (status, e["details"]["field"].as_str()),
        (422, Some("recipient")),
        "{e}"
    );
    let (status, first) = announce(kiosk_site.clone(), "1Z5R89390357567127", walk_in.clone()).await;
    assert_eq!(status, 201, "{first}");
    let (status, _) = announce(kiosk_site.clone(), "RB123456785GB", walk_in).await;
    assert_eq!(status, 201);
    let (_, people) = w
        .admin
        .get(&format!("/api/v1/sites/{kiosk_site}/residents"))
        .await;
    assert_eq!(
        people.as_array().unwrap().len(),
        1,
        "one person for both parcels: {people}"
    );
    let (_, kiosk_view) = w
        .admin
        .get(&format!("/api/v1/sites/{kiosk_site}/lockers"))
        .await;
    let kiosk_locker = kiosk_view[0]["id"].as_str().unwrap().to_string();
    w.admin
        .created(
            &format!("/api/v1/lockers/{kiosk_locker}/deposits"),
            json!({"tracking_number": "1Z5R89390357567127", "carrier": "dhl",
                   "recipient": {"resident_id": people[0]["id"]},
                   "width_mm": 300, "height_mm": 100, "depth_mm": 200}),
        )
        .await;
    let told = cubby_testkit::eventually(10, "the recipient's notice", || async {
        p.outbox()
            .into_iter()
            .find(|m| m["to"] == "ola@example.org" && m["payload"]["code"].is_string())
    })
    .await;
    assert!(told.to_string().contains("Kiosk Marszałkowska"), "{told}");
    // The same email with another phone is someone else: their code must not go to Ola.
    let (status, body) = announce(
        kiosk_site.clone(),
        "RB000000005GB",
        json!({"name": "Piotr Nowak", "email": "ola@example.org", "phone": "+48601234567"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (_, people) = w
        .admin
        .get(&format!("/api/v1/sites/{kiosk_site}/residents"))
        .await;
    assert_eq!(people.as_array().unwrap().len(), 2, "{people}");

    // The public page: no sign-in, nothing loaded from elsewhere.
    let http = reqwest::Client::new();
    let page = http
        .get(format!(
            "{}/pickup-points?{here}&width_mm=300&height_mm=100&depth_mm=200",
            p.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    let kiosk = html
        .find("Kiosk Marszałkowska")
        .expect("the nearest point is listed");
    let mall = html.find("Mall Arkadia").expect("the next one too");
    assert!(kiosk < mall, "nearest first");
    assert!(html.contains("800 m") && html.contains("2.5 km"), "{html}");
    assert!(!html.contains("Station Centralna") && !html.contains("Closed Shop"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    let bad = http
        .get(format!("{}/pickup-points?lat=abc&lon=21", p.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 200);
    assert!(bad.text().await.unwrap().contains("is not a number"));

    // Anna, at home, sends a parcel still on its way to the kiosk point:
    // custody moves to the point's site, the carrier hears where it goes,
    // and she is told there.
    let (url, received) = crate::webhooks::endpoint(0).await;
    let (status, hook) = dhl
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["parcel.redirected"], "site_id": w.site_id}),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    let home = dhl
        .created(
            &format!("/api/v1/sites/{}/announcements", w.site_id),
            json!({"tracking_number": "RB876543216GB", "resident_id": w.residents[0],
                   "width_mm": 300, "height_mm": 100, "depth_mm": 200}),
        )
        .await;
    let home_id = home["parcel_id"].as_str().unwrap().to_string();
    let token = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "resident", "resident_id": w.residents[0], "organisation_id": org, "label": "app"}),
        )
        .await;
    let anna = Client::new(&p.base, token["token"].as_str().unwrap());
    let (status, e) = anna
        .post(
            &format!("/api/v1/parcels/{home_id}/redirect"),
            json!({"locker_id": full_locker}),
        )
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (403, Some("carrier_not_enabled")),
        "dhl does not deliver to the station: {e}"
    );
    let (status, moved) = anna
        .post(
            &format!("/api/v1/parcels/{home_id}/redirect"),
            json!({"locker_id": kiosk_locker}),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    let moved_id = moved["parcel_id"].as_str().unwrap().to_string();
    assert_ne!(moved_id, home_id);
    let (_, old) = w.admin.get(&format!("/api/v1/parcels/{home_id}")).await;
    assert_eq!(old["state"], "cancelled", "{old}");
    let (status, e) = dhl
        .post(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            json!({"tracking_number": "RB876543216GB",
                   "recipient": {"resident_id": w.residents[0]},
                   "width_mm": 300, "height_mm": 100, "depth_mm": 200}),
        )
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (403, Some("not_pre_advised")),
        "the courier cannot leave it at home any more: {e}"
    );
    let (status, e) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            json!({"tracking_number": "RB876543216GB", "carrier": "dhl",
                   "recipient": {"resident_id": w.residents[0]},
                   "width_mm": 300, "height_mm": 100, "depth_mm": 200}),
        )
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("parcel_redirected")),
        "staff are told where it goes: {e}"
    );
    let before = p.outbox().len();
    let there = w
        .admin
        .created(
            &format!("/api/v1/lockers/{kiosk_locker}/deposits"),
            json!({"tracking_number": "RB876543216GB", "carrier": "dhl",
                   "recipient": {"unit": "PUBLIC", "name": "Anna Kowalska"},
                   "width_mm": 300, "height_mm": 100, "depth_mm": 200}),
        )
        .await;
    assert_eq!(there["parcel_id"], moved_id.as_str(), "{there}");
    let told = cubby_testkit::eventually(10, "Anna's notice at the point", || async {
        p.outbox()
            .into_iter()
            .skip(before)
            .find(|m| m["to"] == "anna@example.org" && m["payload"]["code"].is_string())
    })
    .await;
    assert!(told.to_string().contains("Kiosk Marszałkowska"), "{told}");
    let event = cubby_testkit::eventually(20, "parcel.redirected to reach the carrier", || async {
        received.lock().unwrap().iter().find_map(|(_, body)| {
            let v: Value = serde_json::from_str(body).ok()?;
            (v["type"] == "parcel.redirected").then_some(v)
        })
    })
    .await;
    assert_eq!(event["data"]["parcel_id"], home_id.as_str());
    assert_eq!(event["data"]["locker_id"], kiosk_locker.as_str());
}
