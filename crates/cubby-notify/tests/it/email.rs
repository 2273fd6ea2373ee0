//! E-mail against a real SMTP server: aiosmtpd, run by `tests/smtp_sink.py`.
//!
//! Without aiosmtpd these tests skip with a message, unless `CI` is set, where
//! they fail: CI must `pip install aiosmtpd`.

use std::io::{BufRead, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use cubby_notify::qr::PNG_SIGNATURE;
use cubby_notify::{
    EmailConfig, EmailTransport, Language, NoticeKind, Overrides, SmtpSecurity, render,
};
use serde_json::Value;

use crate::support::full;

/// Kills the server when the test ends, however it ends.
struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sink {
    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the n-th stored message and returns its parsed form and raw bytes.
    fn message(&self, n: usize) -> (Value, Vec<u8>) {
        let json = self.dir.path().join(format!("msg{n}.json"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !json.exists() {
            assert!(
                Instant::now() < deadline,
                "no message {n} stored in {:?}",
                self.dir.path()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let parsed = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        let raw = std::fs::read(self.dir.path().join(format!("msg{n}.eml"))).unwrap();
        (parsed, raw)
    }
}

fn aiosmtpd_present() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Starts aiosmtpd, or returns `None` (test skipped) when it is missing
/// locally. Panics when it is missing and `CI` is set.
fn start_sink(test: &str) -> Option<Sink> {
    if !aiosmtpd_present() {
        if std::env::var_os("CI").is_some() {
            panic!("{test}: python3 module aiosmtpd is required in CI (pip install aiosmtpd)");
        }
        // Straight to stderr, past the test harness's capture, so the skip
        // shows in a normal `cargo test` run.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: python3 module aiosmtpd not installed (pip install aiosmtpd)"
        );
        return None;
    }
    let script: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
    let dir = tempfile::tempdir().unwrap();
    // Port 0: the sink binds a port of the kernel's choosing and reports it,
    // so parallel tests never race for one.
    let mut child = Command::new("python3")
        .arg(&script)
        .arg("0")
        .arg(dir.path())
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
        .unwrap_or_else(|| panic!("aiosmtpd did not start: {line:?}"));
    let sink = Sink { child, port, dir };
    Some(sink)
}

fn config(port: u16) -> EmailConfig {
    EmailConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "Cubby <parcels@cubby.example>".into(),
        timeout: Duration::from_secs(5),
        helo_name: None,
        extra_root_pem: None,
    }
}

fn parts<'a>(msg: &'a Value, content_type: &str) -> Vec<&'a Value> {
    msg["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["content_type"] == content_type)
        .collect()
}

#[tokio::test]
async fn sends_multipart_with_inline_qr_to_real_smtp_server() {
    let Some(sink) = start_sink("sends_multipart_with_inline_qr_to_real_smtp_server") else {
        return;
    };
    let notice = full(NoticeKind::ParcelReady, Language::Es);
    let rendered = render(&notice, &Overrides::new()).unwrap();
    let email = EmailTransport::new(config(sink.port)).unwrap();
    email
        .send(
            "Ana López <ana@example.org>",
            &rendered,
            notice.qr_token.as_deref(),
        )
        .await
        .unwrap();

    let (msg, raw) = sink.message(1);
    assert_eq!(msg["rcpt_tos"], serde_json::json!(["ana@example.org"]));
    assert_eq!(msg["mail_from"], "parcels@cubby.example");
    assert_eq!(msg["to"], "Ana López <ana@example.org>");
    assert_eq!(
        msg["subject"],
        "Sus paquetes están listos en Lobby Locker A"
    );
    assert_eq!(msg["content_type"], "multipart/alternative");
    assert_eq!(parts(&msg, "multipart/related").len(), 1);

    let text = parts(&msg, "text/plain");
    assert_eq!(text.len(), 1);
    let text = text[0]["text"].as_str().unwrap();
    assert!(text.contains("Código de recogida: 48213907"), "{text}");
    assert!(text.contains("Hola, Maria Nowak:"), "{text}");

    let html = parts(&msg, "text/html");
    assert_eq!(html.len(), 1);
    let html = html[0]["text"].as_str().unwrap();
    assert!(html.contains("src=\"cid:cubby-pickup-qr\""), "{html}");
    assert!(html.contains("48213907"));

    let png = parts(&msg, "image/png");
    assert_eq!(png.len(), 1);
    assert_eq!(png[0]["content_id"], "<cubby-pickup-qr>");
    assert_eq!(png[0]["disposition"], "inline");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(png[0]["payload_b64"].as_str().unwrap())
        .unwrap();
    assert_eq!(&bytes[..8], &PNG_SIGNATURE);
    assert_eq!(&bytes[12..16], b"IHDR");

    // The token travels only inside the picture.
    let raw = String::from_utf8_lossy(&raw);
    assert!(!raw.contains("qr-7f3a9c"));
}

#[tokio::test]
async fn without_qr_the_message_is_plain_alternative() {
    let Some(sink) = start_sink("without_qr_the_message_is_plain_alternative") else {
        return;
    };
    let notice = full(NoticeKind::Escalation, Language::De);
    let rendered = render(&notice, &Overrides::new()).unwrap();
    let email = EmailTransport::new(config(sink.port)).unwrap();
    email
        .send("desk@example.org", &rendered, None)
        .await
        .unwrap();
    let (msg, _) = sink.message(1);
    assert_eq!(
        msg["subject"],
        "Paket überfällig: Wohnung 4B, Lobby Locker A"
    );
    assert_eq!(msg["content_type"], "multipart/alternative");
    assert!(parts(&msg, "image/png").is_empty());
    assert!(parts(&msg, "multipart/related").is_empty());
    assert_eq!(parts(&msg, "text/plain").len(), 1);
    assert_eq!(parts(&msg, "text/html").len(), 1);
}

#[tokio::test]
async fn smtp_4xx_is_retryable_5xx_permanent_and_stopped_server_retryable() {
    let Some(mut sink) =
        start_sink("smtp_4xx_is_retryable_5xx_permanent_and_stopped_server_retryable")
    else {
        return;
    };
    let rendered = render(&full(NoticeKind::Reminder, Language::En), &Overrides::new()).unwrap();
    let email = EmailTransport::new(config(sink.port)).unwrap();

    let err = email
        .send("reject451@example.org", &rendered, None)
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
    assert!(err.message.contains("451"), "{err}");

    let err = email
        .send("reject550@example.org", &rendered, None)
        .await
        .unwrap_err();
    assert!(!err.retryable, "{err}");
    assert!(err.message.contains("550"), "{err}");

    sink.stop();
    let err = email
        .send("sam@example.org", &rendered, None)
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
    // No code or body in the error.
    assert!(!err.message.contains("48213907"), "{err}");
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    let port = free_port(); // bound, then released: nothing listens there
    let rendered = render(
        &full(NoticeKind::ParcelReady, Language::En),
        &Overrides::new(),
    )
    .unwrap();
    let email = EmailTransport::new(config(port)).unwrap();
    let err = email
        .send("sam@example.org", &rendered, Some("tok"))
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
}

#[tokio::test]
async fn silent_server_times_out_retryably() {
    // Accepts the connection but never sends a greeting.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut cfg = config(port);
    cfg.timeout = Duration::from_millis(300);
    let rendered = render(
        &full(NoticeKind::ParcelReady, Language::En),
        &Overrides::new(),
    )
    .unwrap();
    let email = EmailTransport::new(cfg).unwrap();
    let started = Instant::now();
    let err = email
        .send("sam@example.org", &rendered, None)
        .await
        .unwrap_err();
    assert!(err.retryable, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(listener);
}

#[test]
fn bad_addresses_are_permanent() {
    let mut cfg = config(25);
    cfg.from = "not an address".into();
    assert!(!EmailTransport::new(cfg).unwrap_err().retryable);
    let email = EmailTransport::new(config(25)).unwrap();
    let rendered = render(&full(NoticeKind::Expired, Language::En), &Overrides::new()).unwrap();
    assert!(
        !email
            .build_message("nope", &rendered, None)
            .unwrap_err()
            .retryable
    );
}

#[test]
fn tls_modes_build_with_ring_and_debug_hides_password() {
    for security in [SmtpSecurity::StartTls, SmtpSecurity::Tls] {
        let mut cfg = config(587);
        cfg.host = "smtp.example.org".into();
        cfg.security = security;
        cfg.username = Some("cubby".into());
        cfg.password = Some("hunter2-secret".into());
        assert!(!format!("{cfg:?}").contains("hunter2-secret"));
        EmailTransport::new(cfg).unwrap();
    }
}

/// A port that was free a moment ago (bound, then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
