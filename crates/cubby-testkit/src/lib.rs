//! Test helpers: start the real `cubby` binary on 127.0.0.1 with a fresh data
//! directory, talk to it over HTTP, and find (or insist on, in CI) PostgreSQL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub mod softkey;
pub mod world;

/// The admin token every test server is started with.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef0123";

/// A running `cubby serve` process. Killed when dropped.
pub struct CubbyProcess {
    pub base: String,
    /// Where agents connect (host:port): the embedded broker, kept on the same
    /// port across restarts so agents find it again.
    pub mqtt: String,
    /// The first admin's passkey enrolment link, printed on the first start.
    pub admin_passkey_invite: Option<String>,
    /// Extra `serve` arguments (for example `--mqtt-url`).
    pub extra_args: Vec<String>,
    pub data_dir: PathBuf,
    pub outbox_dir: PathBuf,
    pub database_url: Option<String>,
    bin: PathBuf,
    /// Extra environment of the server process (provider credentials).
    envs: Vec<(String, String)>,
    child: Option<Child>,
    _tmp: Option<tempfile::TempDir>,
}

impl CubbyProcess {
    /// Starts `bin serve` on a free port with a new data directory (SQLite) or the
    /// given PostgreSQL database.
    pub fn start(bin: &Path, database_url: Option<String>) -> CubbyProcess {
        CubbyProcess::start_with(bin, database_url, Vec::new())
    }

    /// As [`CubbyProcess::start`], with extra `serve` arguments.
    pub fn start_with(
        bin: &Path,
        database_url: Option<String>,
        extra_args: Vec<String>,
    ) -> CubbyProcess {
        CubbyProcess::start_with_env(bin, database_url, extra_args, Vec::new())
    }

    /// As [`CubbyProcess::start_with`], with extra environment variables
    /// (secrets never go on a command line).
    pub fn start_with_env(
        bin: &Path,
        database_url: Option<String>,
        extra_args: Vec<String>,
        envs: Vec<(String, String)>,
    ) -> CubbyProcess {
        let tmp = tempfile::Builder::new()
            .prefix("cubby-test-")
            .tempdir()
            .expect("temp dir");
        let data_dir = tmp.path().join("data");
        let outbox_dir = tmp.path().join("outbox");
        let mut p = CubbyProcess {
            base: String::new(),
            mqtt: String::new(),
            admin_passkey_invite: None,
            extra_args,
            data_dir,
            outbox_dir,
            database_url,
            bin: bin.to_path_buf(),
            envs,
            child: None,
            _tmp: Some(tmp),
        };
        p.spawn();
        p
    }

    /// Starts the process (again) on the same data directory, database and
    /// broker port.
    pub fn spawn(&mut self) {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--outbox-dir")
            .arg(&self.outbox_dir)
            .env("CUBBY_ADMIN_TOKEN", ADMIN_TOKEN)
            // The tests' webhook receivers and push services listen on this
            // machine; a test of the SSRF guard sets it back to 0.
            .env("CUBBY_WEBHOOKS_ALLOW_LOOPBACK", "1")
            .env_remove("CUBBY_DATABASE_URL")
            .env_remove("CUBBY_LISTEN")
            .env_remove("CUBBY_MQTT_LISTEN")
            .env_remove("CUBBY_MQTT_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        if !self.extra_args.iter().any(|a| a == "--mqtt-url") {
            let listen = if self.mqtt.is_empty() {
                "127.0.0.1:0".to_string()
            } else {
                self.mqtt.clone()
            };
            cmd.arg("--mqtt-listen").arg(listen);
        }
        cmd.args(&self.extra_args);
        let mut child = cmd.spawn().expect("start cubby serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut base = None;
        let mqtt = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("cubby listening on ") {
                        base = Some(url.trim().to_string());
                    }
                    // First-start secrets are in a file of the data directory.
                    if let Some(rest) = line.strip_prefix("first start: ")
                        && let Some((_, file)) = rest.split_once(" are in ")
                    {
                        let file = file.split(" (").next().unwrap_or(file);
                        let text = std::fs::read_to_string(file).expect("first-start file");
                        for l in text.lines() {
                            if let Some((_, link)) = l.split_once("passkey (once, within 7 days): ")
                            {
                                self.admin_passkey_invite = Some(link.trim().to_string());
                            }
                        }
                    }
                    if let Some(addr) = line.strip_prefix("locker agents connect to mqtt://") {
                        break addr.trim().to_string();
                    }
                }
                _ => panic!("cubby serve exited before listening"),
            }
        };
        let base = base.expect("the HTTP address is printed before the broker's");
        self.mqtt = mqtt;
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        self.base = base;
        self.child = Some(child);
    }

    /// Kills the process (SIGKILL: no graceful shutdown) and starts it again on the
    /// same data directory and database.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Notification files delivered so far, oldest first.
    pub fn outbox(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.outbox_dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|t| serde_json::from_str(&t).ok())
            .collect()
    }

    /// Waits until at least `n` notifications were delivered.
    pub async fn wait_outbox(&self, n: usize) -> Vec<Value> {
        for _ in 0..100 {
            let msgs = self.outbox();
            if msgs.len() >= n {
                return msgs;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {n} notifications, have {}", self.outbox().len());
    }
}

impl Drop for CubbyProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A small HTTP client bound to one server and token.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    /// A step-up proof sent with every request (`Cubby-Step-Up`).
    pub step_up: Option<String>,
}

impl Client {
    pub fn new(base: &str, token: &str) -> Client {
        Client {
            http: http_client(),
            base: base.to_string(),
            token: token.to_string(),
            step_up: None,
        }
    }

    /// The same caller, sending `proof` as its step-up.
    pub fn with_step_up(&self, proof: &str) -> Client {
        Client {
            step_up: Some(proof.to_string()),
            ..self.clone()
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        match &self.step_up {
            Some(p) => req.header("Cubby-Step-Up", p),
            None => req,
        }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let res = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("GET");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.post_with(path, body, None).await.0
    }

    /// POST with an optional Idempotency-Key; also returns the raw headers.
    pub async fn post_with(
        &self,
        path: &str,
        body: Value,
        key: Option<&str>,
    ) -> ((u16, Value), reqwest::header::HeaderMap) {
        let mut req = self.request(reqwest::Method::POST, path).json(&body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let res = req.send().await.expect("POST");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        ((status, res.json().await.unwrap_or(Value::Null)), headers)
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let res = self
            .request(reqwest::Method::DELETE, path)
            .send()
            .await
            .expect("DELETE");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .request(reqwest::Method::PUT, path)
            .json(&body)
            .send()
            .await
            .expect("PUT");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .request(reqwest::Method::PATCH, path)
            .json(&body)
            .send()
            .await
            .expect("PATCH");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// POST that must answer 201; returns the body.
    pub async fn created(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.post(path, body).await;
        assert_eq!(status, 201, "POST {path}: {v}");
        v
    }
}

/// PostgreSQL for tests: `CUBBY_TEST_POSTGRES` or the machine's local server. In CI
/// (`CI=true`) it must be there; elsewhere its absence skips the test with a notice.
/// An HTTP client for tests: it never reuses a connection idle for more
/// than two seconds, so it does not race the server closing idle
/// keep-alive connections (its header deadline).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .expect("http client")
}

pub async fn postgres_admin_url() -> Option<String> {
    let url = std::env::var("CUBBY_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let reachable = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect("127.0.0.1:5432"),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    if reachable || std::env::var("CUBBY_TEST_POSTGRES").is_ok() {
        return Some(url);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("PostgreSQL is required in CI but 127.0.0.1:5432 is not reachable");
    }
    eprintln!(
        "SKIPPED: PostgreSQL not reachable on 127.0.0.1:5432 (set CUBBY_TEST_POSTGRES to run the PostgreSQL tier)"
    );
    None
}

/// A new empty PostgreSQL database for one test; its URL.
pub async fn fresh_postgres_database() -> Option<String> {
    use sqlx::{Connection, Executor};
    let admin = postgres_admin_url().await?;
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to PostgreSQL");
    let name = format!("cubby_test_{}_{}", std::process::id(), rand_suffix());
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .unwrap_or(admin);
    Some(format!("{base}/{name}"))
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{nanos}_{}", N.fetch_add(1, Ordering::Relaxed))
}

/// A running `cubby agent` with a simulated lock bank. Killed when dropped.
pub struct AgentProcess {
    /// The kiosk's base URL.
    pub kiosk: String,
    pub data_dir: PathBuf,
    args: Vec<String>,
    bin: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl AgentProcess {
    /// Starts `bin agent --simulate` with the identity file, on a fresh kiosk port.
    pub fn start(
        bin: &Path,
        identity: &Path,
        data_dir: &Path,
        mqtt: &str,
        extra: &[&str],
    ) -> AgentProcess {
        let mut all = vec!["--simulate"];
        all.extend_from_slice(extra);
        AgentProcess::start_with_boards(bin, identity, data_dir, mqtt, &all)
    }

    /// Starts `bin agent` with the identity file on a fresh kiosk port; `extra`
    /// must say how to reach the boards (`--simulate`, `--tcp HOST:PORT`, …).
    pub fn start_with_boards(
        bin: &Path,
        identity: &Path,
        data_dir: &Path,
        mqtt: &str,
        extra: &[&str],
    ) -> AgentProcess {
        let mut args = vec![
            "agent".to_string(),
            "--identity".into(),
            identity.display().to_string(),
            "--data-dir".into(),
            data_dir.display().to_string(),
            "--mqtt".into(),
            mqtt.to_string(),
            "--kiosk-listen".into(),
            "127.0.0.1:0".into(),
            "--poll-ms".into(),
            "50".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut a = AgentProcess {
            kiosk: String::new(),
            data_dir: data_dir.to_path_buf(),
            args,
            bin: bin.to_path_buf(),
            env: Vec::new(),
            child: None,
        };
        a.spawn();
        a
    }

    /// Environment for the next start (e.g. `CUBBY_AGENT_FAULT` for crash
    /// injection); an empty value removes the variable.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        if !value.is_empty() {
            self.env.push((key.to_string(), value.to_string()));
        }
    }

    /// Starts the agent again on the same data directory (after it died).
    pub fn start_again(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Waits for the process to exit by itself (a crash-injection fault) and
    /// returns whether it did within `secs`.
    pub fn wait_exit(&mut self, secs: u64) -> bool {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if let Some(c) = self.child.as_mut()
                && matches!(c.try_wait(), Ok(Some(_)))
            {
                self.child = None;
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn spawn(&mut self) {
        let mut child = Command::new(&self.bin)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start cubby agent");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let kiosk = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some((_, url)) = line.split_once(" kiosk on ") {
                        break url.trim().to_string();
                    }
                }
                _ => panic!("cubby agent exited before its kiosk listened"),
            }
        };
        std::thread::spawn(move || for _ in lines {});
        self.kiosk = kiosk;
        self.child = Some(child);
    }

    /// SIGKILL, then start again on the same data directory.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .post(format!("{}{path}", self.kiosk))
            .json(&body)
            .send()
            .await
            .expect("kiosk request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}{path}", self.kiosk))
            .send()
            .await
            .expect("kiosk request")
            .json()
            .await
            .unwrap_or(Value::Null)
    }

    /// Physical releases of one simulated lock so far.
    pub async fn releases(&self, board: u8, lock: u8) -> u64 {
        self.get(&format!("/sim/{board}/{lock}/releases")).await["releases"]
            .as_u64()
            .unwrap_or(0)
    }

    pub async fn total_releases(&self) -> u64 {
        self.get("/sim/releases").await["total"]
            .as_u64()
            .unwrap_or(0)
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` every 50 ms until it returns Some, or panics after `secs`.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
