//! Email through a real SMTP server (aiosmtpd, started here): the notice
//! arrives in the resident's language with a code that works, and an SMTP
//! outage delays notices without losing any or blocking a pick-up.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use cubby_testkit::{CubbyProcess, eventually};
use serde_json::{Value, json};

use crate::{bin, parcel, seed, small_bank};

fn aiosmtpd_available() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A real SMTP server on 127.0.0.1:port writing each message to `dir`.
struct Sink {
    child: Child,
    port: u16,
}

impl Sink {
    /// Starts the server on `port`, or on a port of the kernel's choosing
    /// when `port` is 0 (read back from its "READY <port>" line).
    fn start(port: u16, dir: &Path) -> Sink {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../cubby-notify/tests/smtp_sink.py"
        );
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
        Sink { child, port }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Messages the sink received, oldest first.
fn mails(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort_by_key(|p| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.trim_start_matches("msg").parse::<u32>().ok())
    });
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|t| serde_json::from_str(&t).ok())
        .collect()
}

fn text_part(mail: &Value) -> String {
    mail["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["content_type"] == "text/plain")
        .and_then(|p| p["text"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// The first run of 8 or more digits in the text.
fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() >= 8)
        .map(str::to_string)
}

#[tokio::test]
async fn notices_arrive_by_smtp_in_the_residents_language_and_survive_an_outage() {
    if !aiosmtpd_available() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must install aiosmtpd (.ci/run does)"
        );
        eprintln!("SKIPPED: pip install aiosmtpd to run this test");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (first_dir, second_dir) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&first_dir).unwrap();
    std::fs::create_dir_all(&second_dir).unwrap();
    let sink = Sink::start(0, &first_dir);
    let port = sink.port;
    let p = CubbyProcess::start_with(
        bin(),
        None,
        vec![
            "--smtp-url".into(),
            format!("smtp://127.0.0.1:{port}"),
            "--smtp-from".into(),
            "Cubby <lockers@riverside.example>".into(),
        ],
    );
    let w = seed(&p, small_bank()).await;
    let sofia = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/residents", w.site_id),
            json!({"name": "Sofía García", "unit": "B-3", "email": "sofia@example.org", "language": "es"}),
        )
        .await;
    let sofia = sofia["id"].as_str().unwrap().to_string();

    w.admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RB123456785GB", &sofia, 60),
        )
        .await;
    let mail = eventually(15, "the notice by email", || async {
        mails(&first_dir).into_iter().find(|m| {
            m["to"]
                .as_str()
                .is_some_and(|t| t.contains("sofia@example.org"))
        })
    })
    .await;
    let text = text_part(&mail);
    assert!(text.contains("Sofía"), "{text}");
    // Spanish, not English.
    assert!(
        !mail["subject"].as_str().unwrap().contains("waiting"),
        "{mail}"
    );
    assert!(
        mail["parts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["content_type"] == "image/png"),
        "the QR code is embedded"
    );
    let code = code_in(&text).expect("a code in the email");

    // The SMTP server goes down; a second parcel arrives for Sofía.
    drop(sink);
    w.admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("1Z5R89390357567127", &sofia, 60),
        )
        .await;
    let messages = |status: &'static str| {
        let admin = w.admin.clone();
        let site = w.site_id.clone();
        async move {
            let (_, list) = admin
                .get(&format!("/api/v1/sites/{site}/messages?status={status}"))
                .await;
            list.as_array().cloned().unwrap_or_default()
        }
    };
    let waiting = eventually(15, "a failed attempt recorded", || async {
        messages("pending")
            .await
            .into_iter()
            .find(|m| m["channel"] == "email" && m["attempts"].as_i64() > Some(0))
    })
    .await;
    assert!(waiting["last_error"].is_string());
    // The outage blocks no pick-up: her code opens both parcels.
    let (status, picked) = w
        .admin
        .post(
            &format!("/api/v1/lockers/{}/pickups", w.locker_id),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, 200, "{picked}");
    assert_eq!(picked["parcels"].as_array().unwrap().len(), 2);

    // The server comes back: the delayed notice arrives, once.
    let _sink = Sink::start(port, &second_dir);
    eventually(60, "the delayed notice", || async {
        (mails(&second_dir).len() == 1).then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(mails(&second_dir).len(), 1);
    assert_eq!(mails(&first_dir).len(), 1);
    assert!(messages("failed").await.is_empty());
}

/// SMS through the provider adapter (Twilio's request shape) to a local
/// provider that is down at first: the notice waits, then arrives once.
#[tokio::test]
async fn sms_notices_survive_a_provider_outage() {
    use std::sync::{Arc, Mutex};

    use axum::http::StatusCode;

    let sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (seen, is_down) = (sent.clone(), down.clone());
    let app = axum::Router::new().route(
        "/2010-04-01/Accounts/{sid}/Messages.json",
        axum::routing::post(move |body: String| {
            let (seen, is_down) = (seen.clone(), is_down.clone());
            async move {
                if is_down.load(std::sync::atomic::Ordering::SeqCst) {
                    return (StatusCode::SERVICE_UNAVAILABLE, "{}".to_string());
                }
                seen.lock().unwrap().push(body);
                (StatusCode::CREATED, r#"{"sid":"SM1"}"#.to_string())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let provider = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let p = CubbyProcess::start_with_env(
        bin(),
        None,
        vec![
            "--sms-url".into(),
            provider,
            "--sms-from".into(),
            "+15550001111".into(),
        ],
        vec![
            ("CUBBY_SMS_ACCOUNT".into(), "AC0001".into()),
            ("CUBBY_SMS_TOKEN".into(), "secret-token".into()),
        ],
    );
    let w = seed(&p, small_bank()).await;
    let marek = w
        .admin
        .created(
            &format!("/api/v1/sites/{}/residents", w.site_id),
            json!({"name": "Marek Wójcik", "unit": "C-1", "phone": "+48600100200", "language": "pl"}),
        )
        .await;
    w.admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RB123456785GB", marek["id"].as_str().unwrap(), 60),
        )
        .await;
    let failed_once = eventually(15, "a failed attempt", || async {
        let (_, list) = w
            .admin
            .get(&format!(
                "/api/v1/sites/{}/messages?status=pending",
                w.site_id
            ))
            .await;
        list.as_array()?
            .iter()
            .find(|m| m["channel"] == "sms" && m["attempts"].as_i64() > Some(0))
            .cloned()
    })
    .await;
    assert!(failed_once["last_error"].as_str().unwrap().contains("503"));
    down.store(false, std::sync::atomic::Ordering::SeqCst);
    let body = eventually(60, "the SMS", || async {
        sent.lock().unwrap().first().cloned()
    })
    .await;
    // Form-encoded Twilio request: to, from, and a Polish body with the code.
    assert!(body.contains("To=%2B48600100200"), "{body}");
    let (_, list) = w
        .admin
        .get(&format!(
            "/api/v1/sites/{}/messages?status=delivered",
            w.site_id
        ))
        .await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|m| m["channel"] == "sms")
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(sent.lock().unwrap().len(), 1, "delivered once");
}
