//! The capacity carriers plan deliveries with: per locker, size and zone,
//! free now, reserved and expected free each day, with no personal data;
//! only for staff and for carriers the site enabled.

use cubby_testkit::world::{parcel, seed, small_bank};
use serde_json::Value;

use crate::authority::{carrier_token, staff};
use crate::support::App;

const DAY: i64 = 86_400_000;

fn class<'a>(answer: &'a Value, height: u64, zone: &str) -> &'a Value {
    answer["lockers"][0]["classes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["height_mm"] == height && c["temperature"] == zone)
        .unwrap_or_else(|| panic!("no {height} mm {zone} class in {answer}"))
}

#[tokio::test]
async fn carriers_see_free_and_expected_capacity_by_size_and_zone() {
    let app = App::start().await;
    let w = seed(&app.base, &app.admin_passkey_invite, small_bank()).await;
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("CAPACITY01", &w.residents[0], 60),
        )
        .await;
    assert_eq!(d["compartment"]["label"], "A01");
    let from = cubby_server::now_ms();
    let path = format!(
        "/api/v1/sites/{}/capacity?from_ms={from}&to_ms={}",
        w.site_id,
        from + 6 * DAY
    );
    let dhl = carrier_token(&app, &w, "dhl").await;
    let (status, answer) = dhl.get(&path).await;
    assert_eq!(status, 200, "{answer}");
    let small = class(&answer, 80, "ambient");
    assert_eq!(
        (
            small["size_class"].as_str(),
            small["total"].as_u64(),
            small["free_now"].as_u64(),
            small["reserved"].as_u64()
        ),
        (Some("a"), Some(2), Some(1), Some(0)),
        "{answer}"
    );
    let days = small["expected_free"].as_array().unwrap();
    assert!(days.len() >= 6, "{answer}");
    assert_eq!(days[0]["count"], 1, "the parcel is still inside");
    // With no measured stays yet, it leaves at the latest when it expires
    // (five days for ambient parcels by default).
    assert_eq!(days[days.len() - 1]["count"], 2, "{answer}");
    assert_eq!(class(&answer, 190, "chilled")["free_now"], 1);
    // Nothing personal: no resident, tracking number or compartment label.
    let text = answer.to_string();
    for never in [w.residents[0].as_str(), "CAPACITY01", "A01", "Anna"] {
        assert!(!text.contains(never), "{never} in {text}");
    }

    // One zone only; a compartment out of service leaves the count.
    let (status, body) = w
        .set_compartment_status("A02", "out_of_service", "hinge")
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, ambient) = w.admin.get(&format!("{path}&temperature=ambient")).await;
    assert!(
        ambient["lockers"][0]["classes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["temperature"] == "ambient"),
        "{ambient}"
    );
    let small = class(&ambient, 80, "ambient");
    assert_eq!(
        (small["total"].as_u64(), small["free_now"].as_u64()),
        (Some(1), Some(0))
    );

    // A carrier the site did not enable, a resident, and bad periods.
    let fedex = carrier_token(&app, &w, "fedex").await;
    let (status, body) = fedex.get(&path).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("carrier_not_enabled")),
        "{body}"
    );
    let concierge = staff(&app, &w, "concierge").await;
    assert_eq!(concierge.get(&path).await.0, 200);
    let base = format!("/api/v1/sites/{}/capacity", w.site_id);
    for (query, field) in [
        (format!("?from_ms={from}&to_ms={}", from - 1), "to_ms"),
        (
            format!("?from_ms={from}&to_ms={}", from + 15 * DAY),
            "to_ms",
        ),
        ("?temperature=hot".to_string(), "temperature"),
    ] {
        let (status, body) = dhl.get(&format!("{base}{query}")).await;
        assert_eq!(
            (status, body["details"]["field"].as_str()),
            (422, Some(field)),
            "{query}: {body}"
        );
    }
    let (status, _) = dhl.get(&format!("{base}?colour=red")).await;
    assert_eq!(status, 422);
}
