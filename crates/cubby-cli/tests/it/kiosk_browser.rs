//! The kiosk page in a real browser (Debian chromium + playwright-core, the
//! script in `e2e/kiosk.mjs`), served by a real agent with the server down.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use cubby_testkit::{AgentProcess, CubbyProcess};
use serde_json::{Value, json};

use crate::edge::{code_for, deposit_into_a01, provision, wait_cache_caught_up, wait_ready};
use crate::{bin, seed, small_bank};

pub(crate) fn e2e_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../e2e"))
}

/// Whether the browser tests can run; without chromium and the e2e
/// packages they skip with a note, except in CI, where that is a failure.
pub(crate) fn browser_or_skip() -> bool {
    if browser_ready() {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "CI must install chromium and e2e/node_modules (.ci/run does)"
    );
    eprintln!("SKIPPED: install chromium and run npm ci in e2e/ for browser tests");
    false
}

fn browser_ready() -> bool {
    Path::new("/usr/bin/chromium").exists()
        && e2e_dir().join("node_modules/playwright-core").exists()
}

/// Runs the browser journey `e2e/<script>` with `args`; it must pass every
/// check. Answers the JSON line it printed.
pub(crate) fn run_journey<I, A>(script: &str, args: I) -> Value
where
    I: IntoIterator<Item = A>,
    A: AsRef<std::ffi::OsStr>,
{
    let out = Command::new("node")
        .arg(e2e_dir().join(script))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser checks of {script} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_resident_collects_at_the_kiosk_page_in_a_browser_with_the_server_down() {
    if !browser_or_skip() {
        return;
    }
    let mut p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let tmp = tempfile::tempdir().unwrap();
    let (_, identity) = provision(&w.admin, &w.locker_id, tmp.path()).await;
    let agent = AgentProcess::start(bin(), &identity, &tmp.path().join("agent"), &p.mqtt, &[]);
    wait_ready(&w.admin, &w.locker_id, &agent).await;
    deposit_into_a01(&w, &agent).await;
    let code = code_for(&p, "anna@example.org").await;
    // Ben has a return to send.
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let token = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "resident", "resident_id": w.residents[1], "organisation_id": site["organisation_id"], "label": "app"}),
        )
        .await;
    let ben = cubby_testkit::Client::new(&p.base, token["token"].as_str().unwrap());
    let issued = ben
        .created(
            "/api/v1/me/returns",
            json!({"carrier": "dhl", "width_mm": 300, "height_mm": 60, "depth_mm": 200}),
        )
        .await;
    let drop_off_code = issued["drop_off_code"].as_str().unwrap().to_string();
    wait_cache_caught_up(&agent, 2).await;
    crate::edge::settled_cache(&w.admin, &w.locker_id, &agent).await;
    // The network is down: only the agent answers.
    p.kill();

    let shot = std::env::temp_dir().join("cubby-kiosk.png");
    let result = crate::kiosk_browser::run_journey(
        "kiosk.mjs",
        [
            OsString::from(format!("{}/", agent.kiosk)),
            OsString::from(&code),
            OsString::from(&shot),
            OsString::from(&drop_off_code),
        ],
    );
    assert!(
        result["opened"].as_str().is_some_and(|m| m.contains("A01")),
        "{result}"
    );
    assert_eq!(
        agent.releases(0, 1).await,
        2,
        "the browser's code opened the door"
    );
    assert!(
        result["dropped"]
            .as_str()
            .is_some_and(|m| m.contains("A02")),
        "the return went into the next free door: {result}"
    );
    assert_eq!(
        agent.releases(0, 2).await,
        1,
        "the drop-off code opened A02"
    );
    assert!(shot.exists(), "a screenshot of the kiosk");
}
