//! The manager console in a real browser (Debian chromium + playwright-core,
//! the script in `e2e/console.mjs`) against the real server: sign-in, sites,
//! site, a locker grid that follows a deposit live, axe-core with no serious
//! violations, no CSP violation, nothing loaded from elsewhere.

use std::process::Command;

use cubby_testkit::{ADMIN_TOKEN, CubbyProcess};
use serde_json::Value;

use crate::kiosk_browser::{browser_ready, e2e_dir};
use crate::{bin, seed, small_bank};

#[tokio::test]
async fn a_manager_signs_in_and_watches_a_locker_grid_change_live() {
    if !browser_ready() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install chromium and e2e/node_modules (.ci/run does)"
        );
        eprintln!("SKIPPED: install chromium and run npm ci in e2e/ for browser tests");
        return;
    }
    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let shots = tempfile::tempdir().unwrap();
    let out = Command::new("node")
        .arg(e2e_dir().join("console.mjs"))
        .arg(&p.base)
        .arg(ADMIN_TOKEN)
        .arg(&w.locker_id)
        .arg(&w.residents[0])
        .arg(shots.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let result: Value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    assert!(
        out.status.success(),
        "browser checks failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        result["checks"].as_array().is_some_and(|c| c.len() >= 15),
        "{result}"
    );
    for page in ["sign-in", "sites", "site", "locker"] {
        assert!(
            shots.path().join(format!("console-{page}.png")).exists(),
            "a screenshot of the {page} page"
        );
    }
    // Keep the screenshots where a person can look at them.
    if let Ok(dir) = std::env::var("CUBBY_SCREENSHOTS") {
        for f in std::fs::read_dir(shots.path()).unwrap().flatten() {
            let _ = std::fs::copy(f.path(), std::path::Path::new(&dir).join(f.file_name()));
        }
    }
}
