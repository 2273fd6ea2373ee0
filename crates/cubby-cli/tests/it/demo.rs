//! `cubby demo` end to end: the server, the embedded broker and one real agent
//! per locker bank, with simulated couriers and residents.

use std::time::Duration;

use crate::bin;

/// The numbers in "demo stopped: deposited N (placed behind M doors),
/// collected K at kiosks (taken from T doors), …".
fn figures(line: &str) -> Vec<u64> {
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[tokio::test]
async fn demo_runs_agents_that_open_doors_for_couriers_and_residents() {
    let dir = tempfile::tempdir().unwrap();
    let child = tokio::process::Command::new(bin())
        .args(["demo", "--duration", "12", "--data-dir"])
        .arg(dir.path())
        .env_remove("CUBBY_ADMIN_TOKEN")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), child)
        .await
        .expect("the demo stops by itself")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.matches("  Agent:").count(),
        2,
        "one agent per locker bank: {stdout}"
    );
    let last = stdout
        .lines()
        .find(|l| l.starts_with("demo stopped:"))
        .unwrap_or_else(|| panic!("no summary line: {stdout}"));
    let f = figures(last);
    let [deposited, placed, collected, taken, _no_fit] = f[..] else {
        panic!("unexpected summary: {last}");
    };
    assert!(deposited >= 10, "couriers deposited: {last}");
    // Every placement happened behind a door the agent opened for a deposit.
    assert!(
        placed >= deposited / 2 && placed <= deposited,
        "the agents opened doors for the deposits: {last}"
    );
    assert!(collected >= 1, "residents collected at the kiosks: {last}");
    assert_eq!(
        collected, taken,
        "each kiosk opening was a parcel taken: {last}"
    );
    // The agents' journals were written in the data directory.
    let agents = std::fs::read_dir(dir.path().join("agents"))
        .unwrap()
        .count();
    assert_eq!(agents, 2);
    no_secret_left_in_plaintext(dir.path(), &stdout);
}

/// After the demo ran, no pick-up code, QR token or the admin token is
/// anywhere in the data directory in plain text — not in any table of the
/// database (nor its write-ahead log), not in the agents' caches and
/// journals. Only the residents' mailbox (the demo's file outbox) holds
/// the codes, as a resident's email would.
fn no_secret_left_in_plaintext(data: &std::path::Path, stdout: &str) {
    let outbox = data.join("outbox");
    let mut secrets: Vec<String> = Vec::new();
    for e in std::fs::read_dir(&outbox).unwrap().flatten() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(
            &std::fs::read_to_string(e.path()).unwrap_or_default(),
        ) else {
            continue;
        };
        for field in ["code", "qr_token"] {
            if let Some(s) = msg["payload"][field].as_str() {
                secrets.push(s.to_string());
            }
        }
    }
    let codes = secrets.len();
    assert!(codes >= 10, "the demo sent codes: {codes}");
    let token = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Admin token:"))
        .map(|t| t.trim().to_string())
        .expect("the demo prints its admin token");
    secrets.push(token);
    let mut files = Vec::new();
    let mut dirs = vec![data.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let path = e.path();
            if path == outbox {
                continue;
            } else if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(files.iter().any(|f| f.ends_with("cubby.db")), "{files:?}");
    let mut found = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_default();
        for secret in &secrets {
            if bytes.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                found.push(format!("{} holds {secret}", f.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "{} of {} secrets found in {} files: {found:?}",
        found.len(),
        secrets.len(),
        files.len()
    );
}

/// The README's promise: after `cubby demo`, the printed console address and
/// admin token show a live console within a minute (`e2e/demo.mjs`).
#[tokio::test]
async fn the_demo_console_is_live_within_a_minute() {
    use tokio::io::AsyncBufReadExt;
    if !crate::kiosk_browser::browser_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(bin())
        .args(["demo", "--duration", "120", "--data-dir"])
        .arg(dir.path())
        .env_remove("CUBBY_ADMIN_TOKEN")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut console, mut token) = (None, None);
    let started = std::time::Instant::now();
    while console.is_none() || token.is_none() {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the demo prints its addresses")
            .unwrap()
            .expect("the demo keeps running");
        if let Some(rest) = line.trim().strip_prefix("Console:") {
            console = rest.split_whitespace().next().map(str::to_string);
        }
        if let Some(rest) = line.trim().strip_prefix("Admin token:") {
            token = Some(rest.trim().to_string());
        }
    }
    // Keep reading the demo's output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let out = tokio::process::Command::new("node")
        .arg(crate::kiosk_browser::e2e_dir().join("demo.mjs"))
        .arg(console.unwrap())
        .arg(token.unwrap())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser checks failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "a live console within a minute of starting the demo: {:?}",
        started.elapsed()
    );
    let _ = child.kill().await;
}
