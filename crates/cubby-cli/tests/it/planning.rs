//! Planning through the real server: plans over the API, and analytics and
//! forecasts from ten weeks of real custody history written into the
//! server's own database (deposits and pick-ups at past times, through the
//! store's operations, while the server is stopped).

use cubby_domain::dims::Dimensions;
use cubby_domain::lifecycle::Transition;
use cubby_domain::model::TemperatureZone;
use cubby_domain::tracking::TrackingNumber;
use cubby_store as db;
use cubby_store::parcels::DepositRequest;
use cubby_store::parcels::DepositSecrets;
use cubby_store::parcels::Recipient;
use cubby_store::{OpError, Store, StoreConfig};
use cubby_testkit::{ADMIN_TOKEN, Client, CubbyProcess};
use serde_json::{Value, json};

use crate::{bin, seed};

const DAY_MS: i64 = 86_400_000;

pub fn secrets(n: usize) -> DepositSecrets {
    let mut mac = [0u8; 32];
    mac[..8].copy_from_slice(&(n as u64).to_be_bytes());
    let with = |tag: u8| {
        let mut m = mac;
        m[31] = tag;
        m
    };
    DepositSecrets {
        code: format!("{n:08}"),
        code_mac: with(1),
        code_local_mac: with(2),
        code_credential_id: format!("crd_{n:032x}"),
        qr_token: format!("{n:032}"),
        qr_mac: with(3),
        qr_local_mac: with(4),
        qr_credential_id: format!("crd_{:032x}", n + 1_000_000),
        elsewhere: Vec::new(),
    }
}

/// A UPU S10 tracking number with a valid check digit.
fn s10(serial: u32) -> String {
    let digits: Vec<u32> = format!("{serial:08}")
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let weights = [8, 6, 4, 2, 3, 5, 9, 7];
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    };
    format!("RR{serial:08}{check}PL")
}

/// Writes `days` days of deposits and pick-ups ending yesterday, returning the
/// deposits recorded per day (oldest first).
async fn write_history(
    data_dir: &std::path::Path,
    locker_id: &str,
    residents: &[String],
    days: i64,
    per_day: impl Fn(i64) -> usize,
) -> Vec<usize> {
    let store = Store::open(&StoreConfig::sqlite_in(data_dir))
        .await
        .unwrap();
    let now = cubby_server::now_ms();
    let midnight = now - now.rem_euclid(DAY_MS);
    // (time, is_deposit, parcel index)
    let mut events: Vec<(i64, bool, usize)> = Vec::new();
    let mut day_of = Vec::new();
    for d in 0..days {
        let day_start = midnight - (days - d) * DAY_MS;
        for i in 0..per_day(d) {
            let n = day_of.len();
            day_of.push(d as usize);
            let at = day_start + 7 * 3_600_000 + i as i64 * 900_000;
            // Dwell cycles 2 to 30 hours: a mean of 16 h.
            let dwell = (2 + (n as i64 * 7) % 29) * 3_600_000;
            events.push((at, true, n));
            events.push((at + dwell, false, n));
        }
    }
    events.sort();
    let mut recorded = vec![0usize; days as usize];
    let mut placed = vec![false; day_of.len()];
    for (at, deposit, n) in events {
        if at >= now {
            continue;
        }
        let parcel_id = format!("par_{n:032x}");
        if deposit {
            let req = DepositRequest {
                parcel_id: parcel_id.clone(),
                locker_id: locker_id.to_string(),
                tracking_number: TrackingNumber::parse(&s10(n as u32 + 1)).unwrap(),
                carrier: Some("dhl".into()),
                recipient: Recipient::Resident(residents[n % residents.len()].clone()),
                dims: Dimensions::new(300, 60, 200),
                weight_g: None,
                temperature: TemperatureZone::Ambient,
                actor: "history".into(),
                now: at,
                placed_at: None,
                reservation_id: None,
                overflow_to_nearest: false,
            };
            let s = secrets(n);
            let result = store
                .transact(move |conn| {
                    Box::pin(async move { db::parcels::deposit(conn, &req, &s).await.map(|_| ()) })
                })
                .await;
            match result {
                Ok(()) => {
                    recorded[day_of[n]] += 1;
                    placed[n] = true;
                }
                Err(OpError::NoCompartmentFits { .. }) => {}
                Err(e) => panic!("history deposit {n}: {e}"),
            }
        } else if placed[n] {
            store
                .transact(move |conn| {
                    Box::pin(async move {
                        db::parcels::transition(
                            conn,
                            &parcel_id,
                            Transition::PickUp,
                            None,
                            "history",
                            "collected",
                            at,
                        )
                        .await
                        .map(|_| ())
                    })
                })
                .await
                .unwrap();
        }
    }
    store.flush().await.unwrap();
    recorded
}

fn forty_compartments() -> Value {
    Value::Array(
        (1..=40)
            .map(|i| json!({"label": format!("M{i:02}"), "width_mm": 380, "height_mm": 190, "depth_mm": 640}))
            .collect(),
    )
}

#[tokio::test]
async fn ten_weeks_of_history_give_analytics_a_forecast_a_warning_and_a_recommendation() {
    let mut p = CubbyProcess::start(bin(), None);
    let admin = Client::new(&p.base, ADMIN_TOKEN);
    // A site on UTC, so that the test's days are the site's days.
    let site = admin
        .created(
            "/api/v1/sites",
            json!({"name": "History Court", "timezone": "UTC"}),
        )
        .await;
    let site_id = site["id"].as_str().unwrap().to_string();
    let locker = admin
        .created(
            &format!("/api/v1/sites/{site_id}/lockers"),
            json!({"name": "Lobby", "compartments": forty_compartments()}),
        )
        .await;
    let locker_id = locker["id"].as_str().unwrap().to_string();
    let mut residents = Vec::new();
    for i in 0..30 {
        let r = admin
            .created(
                &format!("/api/v1/sites/{site_id}/residents"),
                json!({"name": format!("Resident {i}"), "unit": format!("C-{i}")}),
            )
            .await;
        residents.push(r["id"].as_str().unwrap().to_string());
    }
    // A second site with no history at all.
    let empty = seed(&p, forty_compartments()).await;
    p.kill();
    // Weekdays grow from 30 to 50 parcels a day over ten weeks; weekends are quiet.
    let recorded = write_history(&p.data_dir, &locker_id, &residents, 70, |d| {
        let weekday = (d % 7) < 5;
        let base = 30.0 + 20.0 * d as f64 / 69.0;
        if weekday {
            base as usize
        } else {
            (base * 0.4) as usize
        }
    })
    .await;
    p.spawn();
    let admin = Client::new(&p.base, ADMIN_TOKEN);

    // Analytics count exactly what was recorded, day by day.
    let (status, a) = admin
        .get(&format!("/api/v1/sites/{}/analytics?days=70", site_id))
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["capacity"], 40);
    let days = a["activity"]["days"].as_array().unwrap();
    assert_eq!(days.len(), 70);
    let counted: Vec<u64> = days
        .iter()
        .map(|d| d["arrivals"].as_u64().unwrap())
        .collect();
    // The last day of the period is today, which has no history.
    let expected: Vec<u64> = recorded[1..].iter().map(|n| *n as u64).chain([0]).collect();
    assert_eq!(counted, expected);
    assert_eq!(days[10]["arrivals_by_size"]["S"], days[10]["arrivals"]);
    let dwell = &a["activity"]["dwell"];
    let mean = dwell["mean_hours"].as_f64().unwrap();
    assert!((12.0..=20.0).contains(&mean), "{dwell}");
    // Parcels, not doors: one resident's parcels share a compartment.
    let peak = a["activity"]["peak_occupancy"].as_u64().unwrap();
    assert!((10..=400).contains(&peak), "peak occupancy {peak}");

    // The forecast learns the weekly pattern and warns before capacity runs out.
    let (status, f) = admin
        .get(&format!(
            "/api/v1/sites/{}/forecast?days=70&service_level=0.999",
            site_id
        ))
        .await;
    assert_eq!(status, 200, "{f}");
    assert_eq!(f["history_days"], 69);
    let profile: Vec<f64> = f["forecast"]["weekly_profile"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let (busiest, quietest) = (
        profile.iter().cloned().fold(f64::MIN, f64::max),
        profile.iter().cloned().fold(f64::MAX, f64::min),
    );
    assert!(busiest > 1.5 * quietest, "weekly pattern: {profile:?}");
    let point: Vec<f64> = f["forecast"]["point"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(point.len(), 56);
    let next_week: f64 = point[..7].iter().sum();
    let last_week: f64 = recorded[63..].iter().sum::<usize>() as f64;
    assert!(
        next_week > 0.7 * last_week && next_week < 1.5 * last_week,
        "next week {next_week} vs last week {last_week}"
    );
    let warning = &f["outlook"]["first_exceeded"];
    assert!(warning.is_object(), "no capacity warning: {}", f["outlook"]);
    assert!(warning["compartments_needed"].as_u64().unwrap() > 40);
    let rec = &f["recommendation"];
    assert_eq!(rec["installed"], 40);
    assert!(rec["recommended"].as_u64().unwrap() > 40, "{rec}");
    assert_eq!(
        rec["expand_by"].as_u64().unwrap(),
        rec["recommended"].as_u64().unwrap() - 40
    );

    // Carriers see free capacity per day, and nothing personal.
    let (status, c) = admin
        .get(&format!("/api/v1/lockers/{}/capacity-forecast", locker_id))
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["days"].as_array().unwrap().len(), 56);
    assert!(c["days"][0]["expected_free_compartments"].as_u64().unwrap() <= 40);
    let text = c.to_string();
    assert!(!text.contains("res_") && !text.contains("Resident"));

    // A site without history gets a clear refusal, not a guess.
    let (status, e) = admin
        .get(&format!("/api/v1/sites/{}/forecast", empty.site_id))
        .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("insufficient_history"))
    );
}

#[tokio::test]
async fn plans_over_the_api_in_json_and_html_and_bad_input_is_refused() {
    let p = CubbyProcess::start(bin(), None);
    let admin = Client::new(&p.base, ADMIN_TOKEN);
    let (status, plan) = admin
        .post(
            "/api/v1/plans",
            json!({"input": {"units": 200}, "replications": 20}),
        )
        .await;
    assert_eq!(status, 200, "{plan}");
    let total = plan["compartments_total"].as_u64().unwrap();
    assert!((100..=250).contains(&total), "{total}");
    let page = reqwest::Client::new()
        .post(format!("{}/api/v1/plans?format=html", p.base))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"input": {"units": 120}, "replications": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg") && !html.contains("<script"));
    for (body, field) in [
        (json!({"input": {"units": 0}}), "units"),
        (
            json!({"input": {"units": 10}, "replications": 100000}),
            "replications",
        ),
        (json!({"input": {"unitz": 10}}), "input"),
    ] {
        let (status, e) = admin.post("/api/v1/plans", body).await;
        assert_eq!(status, 422, "{e}");
        assert!(e.to_string().contains(field), "{field}: {e}");
    }
}
