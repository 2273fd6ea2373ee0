//! The manager console in a real browser (Debian chromium + playwright-core,
//! the script in `e2e/console.mjs`) against the real server: sign-in, sites,
//! site, a locker grid that follows a deposit live, axe-core with no serious
//! violations, no CSP violation, nothing loaded from elsewhere.

use cubby_testkit::{ADMIN_TOKEN, CubbyProcess};
use serde_json::Value;
use std::ffi::OsString;

use crate::{bin, seed, small_bank};

#[tokio::test]
async fn a_manager_signs_in_and_watches_a_locker_grid_change_live() {
    if !crate::kiosk_browser::browser_or_skip() {
        return;
    }
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    // A manager of the site's organisation, as in real life.
    let manager = w
        .admin
        .created(
            "/api/v1/tokens",
            serde_json::json!({"role": "manager", "organisation_id": site_org(&w).await, "label": "Maria"}),
        )
        .await;
    let shots = tempfile::tempdir().unwrap();
    let result = crate::kiosk_browser::run_journey(
        "console.mjs",
        [
            OsString::from(&p.base),
            OsString::from(manager["token"].as_str().unwrap()),
            OsString::from(&w.locker_id),
            OsString::from(&w.residents[0]),
            OsString::from(shots.path()),
        ],
    );
    assert!(
        result["checks"].as_array().is_some_and(|c| c.len() >= 15),
        "{result}"
    );
    for page in ["sign-in", "sites", "site", "new-locker", "locker"] {
        assert!(
            shots.path().join(format!("console-{page}.png")).exists(),
            "a screenshot of the {page} page"
        );
    }
    // Keep the screenshots where a person can look at them.
    keep_screenshots(shots.path());
}

pub(crate) async fn site_org(w: &crate::World) -> String {
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    site["organisation_id"].as_str().unwrap().to_string()
}

/// A courier deposits a batch from a handheld browser (`e2e/courier.mjs`),
/// and a parcel that fits nowhere is sent to the parcel room.
#[tokio::test]
async fn a_courier_deposits_a_batch_from_a_handheld_browser() {
    if !crate::kiosk_browser::browser_or_skip() {
        return;
    }
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let carrier = w
        .admin
        .created(
            "/api/v1/carriers",
            serde_json::json!({"code": "dhl", "name": "DHL", "organisation_id": site_org(&w).await}),
        )
        .await;
    let courier = w
        .admin
        .created(
            &format!(
                "/api/v1/carriers/{}/couriers",
                carrier["id"].as_str().unwrap()
            ),
            serde_json::json!({"name": "Marek"}),
        )
        .await;
    // DHL pre-advised the batch (a courier deposits nothing unannounced).
    for i in 1..=4 {
        w.pre_advise(&format!("COURIERBATCH{i}"), "dhl").await;
    }
    let shots = tempfile::tempdir().unwrap();
    crate::kiosk_browser::run_journey(
        "courier.mjs",
        [
            OsString::from(&p.base),
            OsString::from(courier["token"].as_str().unwrap()),
            OsString::from(shots.path()),
        ],
    );
    // The server holds the three parcels, each the courier's carrier's and
    // each in its own door; the fourth was never recorded.
    let (_, parcels) = w
        .admin
        .get(&format!("/api/v1/sites/{}/parcels", w.site_id))
        .await;
    let mine: Vec<&Value> = parcels
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["tracking_number"]
                .as_str()
                .unwrap_or("")
                .starts_with("COURIERBATCH")
                && p["state"] != "announced"
        })
        .collect();
    assert_eq!(mine.len(), 3, "{parcels}");
    assert!(
        mine.iter()
            .all(|p| p["carrier"] == "dhl" && p["state"] == "deposited")
    );
    keep_screenshots(shots.path());
}

/// A resident registers a passkey from an invitation and signs in with it
/// (`e2e/portal.mjs`, Chromium's virtual authenticator).
#[tokio::test]
async fn a_resident_enrols_a_passkey_and_signs_in_with_it() {
    if !crate::kiosk_browser::browser_or_skip() {
        return;
    }
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (_, identity) = crate::edge::provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = cubby_testkit::AgentProcess::start(
        bin(),
        &identity,
        &tmp.path().join("agent"),
        &p.mqtt,
        &[],
    );
    crate::edge::wait_ready(&w.admin, &w.locker_id, &agent).await;
    let d = crate::edge::deposit_into_a01(&w, &agent).await;
    // A gate and the way in, for visitor codes.
    let gate = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/doors", w.site_id),
            serde_json::json!({"name": "Gate", "kind": "perimeter"}),
        )
        .await;
    w.admin
        .created(
            &format!("/api/v1/sites/{}/door-paths", w.site_id),
            serde_json::json!({"name": "Street gate", "doors": [gate["id"]]}),
        )
        .await;
    let first = d["parcel_id"].as_str().unwrap().to_string();
    // House rules the resident acknowledges in the portal.
    let rules = cubby_domain::policy::SitePolicy {
        community_rules: "Collect within 5 days.\nNo parcels in the corridor.".into(),
        ..Default::default()
    };
    let (status, body) = w
        .admin
        .put(
            &format!("/api/v1/sites/{}/policy", w.site_id),
            serde_json::to_value(&rules).unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let invite = w
        .admin
        .created(
            &format!("/api/v1/residents/{}/portal-invites", w.residents[0]),
            serde_json::json!({}),
        )
        .await;
    let path = invite["path"].as_str().unwrap();
    assert!(path.starts_with("/portal/enrol#code="), "{invite}");
    // A ceremony not started from the portal's own page is refused.
    let (status, body) = w
        .admin
        .post(
            "/portal/passkeys/sign-in/start",
            serde_json::json!({"email": "anna@example.org"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "cross_origin");
    let base = p.base.replace("127.0.0.1", "localhost");
    let shots = tempfile::tempdir().unwrap();
    crate::kiosk_browser::run_journey(
        "portal.mjs",
        [
            OsString::from(&base),
            OsString::from(path),
            OsString::from("anna@example.org"),
            OsString::from("RB123456785GB"),
            OsString::from(shots.path()),
            OsString::from(format!("{}/", agent.kiosk)),
            OsString::from(ADMIN_TOKEN),
            OsString::from(&w.locker_id),
            OsString::from(&w.residents[0]),
        ],
    );
    assert!(shots.path().join("portal-home.png").exists());
    // Both pick-ups reach the server from the locker's journal.
    let picked = cubby_testkit::eventually(10, "both pick-ups at the server", || async {
        let (_, parcels) = w
            .admin
            .get(&format!("/api/v1/sites/{}/parcels", w.site_id))
            .await;
        let picked: Vec<String> = parcels
            .as_array()?
            .iter()
            .filter(|p| p["state"] == "picked_up")
            .filter_map(|p| p["id"].as_str().map(str::to_string))
            .collect();
        (picked.len() == 2).then_some(picked)
    })
    .await;
    assert!(picked.contains(&first));
    keep_screenshots(shots.path());
}

/// Copies a run's screenshots to `CUBBY_SCREENSHOTS`, when it is set.
fn keep_screenshots(from: &std::path::Path) {
    if let Ok(dir) = std::env::var("CUBBY_SCREENSHOTS") {
        for f in std::fs::read_dir(from).unwrap().flatten() {
            let _ = std::fs::copy(f.path(), std::path::Path::new(&dir).join(f.file_name()));
        }
    }
}

/// Staff passkeys in a real browser (`e2e/staff_passkey.mjs`): the first
/// admin enrols from the first-start link, signs in with the passkey alone,
/// and opens a door remotely after a step-up; the door opens on the real
/// agent's board, once (a refused step-up sends nothing).
#[tokio::test]
async fn an_admin_enrols_a_passkey_signs_in_with_it_and_opens_a_door_after_a_step_up() {
    if !crate::kiosk_browser::browser_or_skip() {
        return;
    }
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (_, identity) = crate::edge::provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = cubby_testkit::AgentProcess::start(
        bin(),
        &identity,
        &tmp.path().join("agent"),
        &p.mqtt,
        &[],
    );
    crate::edge::wait_ready(&w.admin, &w.locker_id, &agent).await;
    // The first-start link was used in `seed`; the admin invites itself to
    // enrol this browser's passkey too (an admin with a fresh step-up).
    let (_, tokens) = w.admin.get("/api/v1/tokens").await;
    let admin_id = tokens["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "admin")
        .and_then(|t| t["id"].as_str())
        .unwrap()
        .to_string();
    let invite = w
        .admin
        .created(
            &format!("/api/v1/tokens/{admin_id}/passkey-invites"),
            serde_json::json!({}),
        )
        .await["path"]
        .as_str()
        .unwrap()
        .to_string();
    let invite = format!("{}{invite}", p.base.replace("127.0.0.1", "localhost"));
    let shots = tempfile::tempdir().unwrap();
    crate::kiosk_browser::run_journey(
        "staff_passkey.mjs",
        [
            OsString::from(p.base.replace("127.0.0.1", "localhost")),
            OsString::from(&invite),
            OsString::from(&w.locker_id),
            OsString::from(shots.path()),
        ],
    );
    crate::edge::wait_open(&agent, "A01").await;
    assert_eq!(agent.total_releases().await, 1, "one step-up, one door");
    for page in ["passkeys", "remote-open"] {
        assert!(
            shots.path().join(format!("console-{page}.png")).exists(),
            "a screenshot of the {page} page"
        );
    }
    keep_screenshots(shots.path());
}
