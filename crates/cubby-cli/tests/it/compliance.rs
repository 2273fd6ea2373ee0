//! Carrier compliance and impact through the real binary: deliveries inside
//! and outside the site's courier windows, unannounced and larger-than-
//! announced parcels, reservations held and cancelled, the site's estimated
//! savings; a carrier reads only its own line. Residents read the community
//! rules and acknowledge them once.

use chrono::Timelike;
use cubby_domain::policy::SitePolicy;
use cubby_domain::reservation::DeliverySlot;
use cubby_testkit::{Client, CubbyProcess};
use serde_json::{Value, json};

use crate::trust::carrier_token;
use crate::{bin, now_ms, seed, small_bank};

const DAY: i64 = 86_400_000;

fn slot(start_hour: u32) -> DeliverySlot {
    DeliverySlot {
        days: vec![],
        start: format!("{start_hour:02}:00"),
        end: if start_hour == 23 {
            "23:59".into()
        } else {
            format!("{:02}:00", start_hour + 1)
        },
        max_parcels: 100,
    }
}

async fn set_policy(w: &crate::World, policy: &SitePolicy) {
    let (status, body) = w
        .admin
        .put(
            &format!("/api/v1/sites/{}/policy", w.site_id),
            serde_json::to_value(policy).unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

fn line<'a>(report: &'a Value, carrier: &str) -> &'a Value {
    report["carriers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["carrier"] == carrier)
        .unwrap_or_else(|| panic!("no line for {carrier}: {report}"))
}

#[tokio::test]
async fn carrier_reports_count_slots_pre_advice_sizes_and_reservations() {
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let org = site["organisation_id"].clone();
    // A courier window around the current hour on the site's clock.
    let local_hour = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Warsaw)
        .hour();
    let mut policy = SitePolicy::default();
    policy.reservations.delivery_slots = vec![slot(local_hour)];
    policy.community_rules = "Collect within 5 days.\nNo parcels in the corridor.".into();
    set_policy(&w, &policy).await;

    let deposits = format!("/api/v1/lockers/{}/deposits", w.locker_id);
    let parcel = |tracking: &str, carrier: &str, resident: &str, h: u32| {
        json!({"tracking_number": tracking, "carrier": carrier, "recipient": {"resident_id": resident},
               "width_mm": 300, "height_mm": h, "depth_mm": 200})
    };
    // DHL: one pre-advised as 60 mm that arrives 150 mm tall, one as announced.
    for tracking in ["DHLSIZE001", "DHLRIGHT01"] {
        w.admin
            .created(
                &format!("/api/v1/sites/{}/announcements", w.site_id),
                json!({"tracking_number": tracking, "carrier": "dhl", "resident_id": w.residents[0],
                       "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
            )
            .await;
    }
    w.admin
        .created(&deposits, parcel("DHLSIZE001", "dhl", &w.residents[0], 150))
        .await;
    w.admin
        .created(&deposits, parcel("DHLRIGHT01", "dhl", &w.residents[0], 60))
        .await;
    // UPS: unannounced, handed to staff at the desk.
    w.admin
        .created(&deposits, parcel("UPSUNANN01", "ups", &w.residents[1], 60))
        .await;
    // DHL reserves for tomorrow and cancels.
    let dhl = Client::new(&p.base, &carrier_token(&w, &org, "dhl").await);
    let tomorrow = now_ms() + DAY;
    let mut open_all_day = policy.clone();
    open_all_day.reservations.delivery_slots = vec![];
    set_policy(&w, &open_all_day).await;
    let (status, r) = dhl
        .post(
            &format!("/api/v1/sites/{}/reservations", w.site_id),
            json!({"window": {"from_ms": tomorrow, "to_ms": tomorrow + 3_600_000},
                   "parcels": [{"width_mm": 300, "height_mm": 60, "depth_mm": 200}]}),
        )
        .await;
    assert_eq!(status, 201, "{r}");
    let (status, _) = dhl
        .delete(&format!(
            "/api/v1/reservations/{}",
            r["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    set_policy(&w, &policy).await;

    let period = format!("from_ms={}&to_ms={}", now_ms() - DAY, now_ms() + 2 * DAY);
    let path = format!("/api/v1/sites/{}/carrier-report?{period}", w.site_id);
    let (status, report) = w.admin.get(&path).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["has_slots"], true);
    let d = line(&report, "dhl");
    assert_eq!(
        (
            d["deliveries"].as_u64(),
            d["inside_slots"].as_u64(),
            d["outside_slots"].as_u64(),
            d["pre_advised"].as_u64(),
            d["unannounced"].as_u64(),
            d["wrong_size"].as_u64(),
        ),
        (Some(2), Some(2), Some(0), Some(2), Some(0), Some(1)),
        "{report}"
    );
    assert_eq!(d["reservations"]["held"], 1);
    assert_eq!(d["reservations"]["cancelled"], 1);
    assert_eq!(d["reservations"]["used"], 0);
    let u = line(&report, "ups");
    assert_eq!(
        (u["deliveries"].as_u64(), u["unannounced"].as_u64()),
        (Some(1), Some(1))
    );
    // Three deliveries: 0.189 failed home deliveries avoided, labelled an estimate.
    assert_eq!(report["impact"]["deliveries"], 3);
    assert_eq!(report["impact"]["estimate"], true);
    assert_eq!(report["impact"]["failed_home_deliveries_avoided"], 0.2);
    assert!(
        report["impact"]["factors"]
            .to_string()
            .contains("doi:10.3141/2191-17")
    );
    let text = report.to_string();
    assert!(
        !text.contains("Anna") && !text.contains("DHLSIZE001"),
        "{text}"
    );

    // The same deliveries against a window hours away: outside.
    let mut elsewhere = policy.clone();
    elsewhere.reservations.delivery_slots = vec![slot((local_hour + 12) % 24)];
    set_policy(&w, &elsewhere).await;
    let (_, later) = w.admin.get(&path).await;
    assert_eq!(line(&later, "dhl")["outside_slots"], 2, "{later}");

    // A carrier reads only its own line.
    let (status, own) = dhl.get(&path).await;
    assert_eq!(status, 200, "{own}");
    assert_eq!(own["carriers"].as_array().unwrap().len(), 1, "{own}");
    assert_eq!(own["carriers"][0]["carrier"], "dhl");
    assert_eq!(own["impact"]["deliveries"], 2);
    // Bad periods are refused.
    let (status, e) = w
        .admin
        .get(&format!(
            "/api/v1/sites/{}/carrier-report?from_ms=10&to_ms=5",
            w.site_id
        ))
        .await;
    assert_eq!(
        (status, e["details"]["field"].as_str()),
        (422, Some("to_ms"))
    );

    // Community rules: read, acknowledged once.
    let t = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "resident", "resident_id": w.residents[0], "organisation_id": org, "label": "app"}),
        )
        .await;
    let anna = Client::new(&p.base, t["token"].as_str().unwrap());
    let (_, rules) = anna.get("/api/v1/me/rules").await;
    assert!(rules["rules"].as_str().unwrap().contains("corridor"));
    assert!(rules["acknowledged_ms"].is_null());
    let (status, first) = anna.post("/api/v1/me/rules/acknowledge", json!({})).await;
    assert_eq!(status, 200, "{first}");
    let at = first["acknowledged_ms"].as_i64().unwrap();
    let (_, again) = anna.post("/api/v1/me/rules/acknowledge", json!({})).await;
    assert_eq!(
        again["acknowledged_ms"].as_i64(),
        Some(at),
        "the first time stays"
    );
    // Rules that are not plain text are refused.
    let mut bad = policy.clone();
    bad.community_rules = "bell\u{7}".into();
    let (status, e) = w
        .admin
        .put(
            &format!("/api/v1/sites/{}/policy", w.site_id),
            serde_json::to_value(&bad).unwrap(),
        )
        .await;
    assert_eq!(
        (status, e["details"]["field"].as_str()),
        (422, Some("community_rules")),
        "{e}"
    );
}
