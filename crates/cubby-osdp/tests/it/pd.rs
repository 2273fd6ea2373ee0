//! Harness around `tests/osdp_pd.py`: a real libosdp PeripheralDevice bridged
//! to a TCP port, driven over stdin and reporting over stdout (JSON lines).

use std::collections::BTreeMap;
use std::io::Read;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

// Also compiled into other crates' tests (the agent's reader test), so the
// path goes through the crates directory.
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../cubby-osdp/tests/osdp_pd.py"
);

fn python() -> String {
    std::env::var("CUBBY_OSDP_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Whether libosdp's Python package is importable. `osdp` alone is not
/// enough: an unrelated PyPI package uses the same module name, so also
/// require libosdp's `osdp_sys` extension and `osdp.PeripheralDevice`.
fn libosdp_available() -> Result<(), String> {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    AVAILABLE
        .get_or_init(|| {
            let out = std::process::Command::new(python())
                .args(["-c", "import osdp_sys, osdp; osdp.PeripheralDevice"])
                .output()
                .map_err(|e| format!("cannot run {}: {e}", python()))?;
            if out.status.success() {
                Ok(())
            } else {
                let err = String::from_utf8_lossy(&out.stderr);
                Err(err
                    .trim()
                    .lines()
                    .last()
                    .unwrap_or("import failed")
                    .to_string())
            }
        })
        .clone()
}

/// Returns true if the test should run; false (after a note on stderr) if it
/// should be skipped. Panics when libosdp is missing and `CI` is set.
pub fn require_libosdp(test: &str) -> bool {
    match libosdp_available() {
        Ok(()) => true,
        Err(why) => {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "{test}: libosdp (python3 -m pip install libosdp==3.2.9) is required when CI is set: {why}"
                );
            }
            // Written to the real stderr (not eprintln!, which the test
            // harness captures) so the skip is visible in a normal run.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: libosdp is not importable ({why}); install it with `python3 -m pip install libosdp==3.2.9`"
            );
            false
        }
    }
}

/// PD start-up options.
#[derive(Clone, Debug)]
pub struct PdOptions {
    pub address: u8,
    pub scbk: Option<[u8; 16]>,
    pub enforce_secure: bool,
}

impl PdOptions {
    pub fn secure(address: u8, scbk: [u8; 16]) -> Self {
        Self {
            address,
            scbk: Some(scbk),
            enforce_secure: true,
        }
    }
}

/// A flat JSON value as printed by the PD script.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Num(i64),
    Str(String),
}

pub type Json = BTreeMap<String, Value>;

pub trait JsonExt {
    fn str(&self, k: &str) -> Option<&str>;
    fn num(&self, k: &str) -> Option<i64>;
    fn bool(&self, k: &str) -> Option<bool>;
}

impl JsonExt for Json {
    fn str(&self, k: &str) -> Option<&str> {
        match self.get(k) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }
    fn num(&self, k: &str) -> Option<i64> {
        match self.get(k) {
            Some(Value::Num(n)) => Some(*n),
            _ => None,
        }
    }
    fn bool(&self, k: &str) -> Option<bool> {
        match self.get(k) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }
}

/// Parse one flat JSON object (string, integer, bool and null values).
pub fn parse_json(line: &str) -> Option<Json> {
    let mut p = Parser {
        s: line.trim().as_bytes(),
        i: 0,
    };
    let obj = p.object()?;
    p.ws();
    (p.i == p.s.len()).then_some(obj)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.s.get(self.i) == Some(&c)).then(|| self.i += 1)
    }
    fn object(&mut self) -> Option<Json> {
        self.eat(b'{')?;
        let mut m = Json::new();
        if self.eat(b'}').is_some() {
            return Some(m);
        }
        loop {
            let k = self.string()?;
            self.eat(b':')?;
            let v = self.value()?;
            m.insert(k, v);
            if self.eat(b',').is_none() {
                self.eat(b'}')?;
                return Some(m);
            }
        }
    }
    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            let c = *self.s.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return Some(out),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hex = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
                        }
                        other => out.push(char::from(other)),
                    }
                }
                _ => {
                    // Re-decode multi-byte UTF-8 sequences.
                    let start = self.i - 1;
                    let len = match c {
                        0x00..=0x7F => 1,
                        0xC0..=0xDF => 2,
                        0xE0..=0xEF => 3,
                        _ => 4,
                    };
                    let chunk = std::str::from_utf8(self.s.get(start..start + len)?).ok()?;
                    out.push_str(chunk);
                    self.i = start + len;
                }
            }
        }
    }
    fn value(&mut self) -> Option<Value> {
        self.ws();
        let rest = &self.s[self.i..];
        if rest.first() == Some(&b'"') {
            return self.string().map(Value::Str);
        }
        for (word, v) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ] {
            if rest.starts_with(word.as_bytes()) {
                self.i += word.len();
                return Some(v);
            }
        }
        let len = rest
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == b'-')
            .count();
        let n = std::str::from_utf8(&rest[..len]).ok()?.parse().ok()?;
        self.i += len;
        Some(Value::Num(n))
    }
}

/// A running libosdp PD process.
pub struct Pd {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
    stderr: tempfile::NamedTempFile,
    pub port: u16,
}

impl Pd {
    /// Start the PD; `None` means "skip this test" (see [`require_libosdp`]).
    pub async fn spawn(test: &str, opts: PdOptions) -> Option<Pd> {
        if !require_libosdp(test) {
            return None;
        }
        let stderr = tempfile::NamedTempFile::new().expect("temp file for PD stderr");
        let mut cmd = Command::new(python());
        cmd.arg(SCRIPT)
            .arg("--address")
            .arg(opts.address.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr.reopen().expect("reopen stderr file"))
            .kill_on_drop(true);
        if let Some(k) = opts.scbk {
            cmd.arg("--scbk").arg(hex(&k));
        }
        if opts.enforce_secure {
            cmd.arg("--enforce-secure");
        }
        // libosdp log level 0-7 (default 4 = warnings); 7 traces every command.
        if let Ok(level) = std::env::var("CUBBY_OSDP_PD_LOG_LEVEL") {
            cmd.arg("--log-level").arg(level);
        }
        let mut child = cmd.spawn().expect("spawn python3 tests/osdp_pd.py");
        let stdout = child.stdout.take().expect("PD stdout");
        let stdin = child.stdin.take();
        let (tx, mut lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = r.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = timeout(Duration::from_secs(20), lines.recv())
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let port = first
            .strip_prefix("READY ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("PD did not print READY <port>; got {first:?}"));
        Some(Pd {
            child,
            stdin,
            lines,
            seen: Vec::new(),
            stderr,
            port,
        })
    }

    /// Open the CP side of the link.
    pub async fn connect(&mut self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port))
            .await
            .expect("connect to PD bridge");
        s.set_nodelay(true).expect("nodelay");
        self.expect("connected", Duration::from_secs(10), |j| {
            j.str("type") == Some("connected")
        })
        .await;
        s
    }

    /// Send one instruction line to the PD script.
    pub async fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("PD stdin open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write PD stdin");
        stdin.flush().await.expect("flush PD stdin");
    }

    /// Wait for a JSON line matching `pred`.
    pub async fn expect(
        &mut self,
        what: &str,
        within: Duration,
        pred: impl Fn(&Json) -> bool,
    ) -> Json {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.lines.recv()).await {
                Ok(Some(line)) => {
                    self.seen.push(line.clone());
                    if let Some(j) = parse_json(&line)
                        && pred(&j)
                    {
                        return j;
                    }
                }
                Ok(None) | Err(_) => panic!(
                    "PD never reported {what} within {within:?}; PD said:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Everything the PD printed so far (plus anything pending right now).
    pub fn drain(&mut self) -> Vec<Json> {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.seen.iter().filter_map(|l| parse_json(l)).collect()
    }

    /// What the PD (libosdp's logger) wrote to stderr so far.
    pub fn stderr_text(&self) -> String {
        let mut log = String::new();
        if let Ok(mut f) = self.stderr.reopen() {
            let _ = f.read_to_string(&mut log);
        }
        log
    }

    /// Kill the PD process (SIGKILL) and reap it.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Send a signal (e.g. "STOP", "CONT") to the PD process.
    pub async fn signal(&mut self, sig: &str) {
        let pid = self.child.id().expect("PD still running");
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(pid.to_string())
            .status()
            .await
            .expect("run kill");
        assert!(status.success(), "kill -{sig} {pid} failed");
    }
}

impl Drop for Pd {
    fn drop(&mut self) {
        if std::thread::panicking() || std::env::var_os("CUBBY_OSDP_PD_LOG_LEVEL").is_some() {
            let log = self.stderr_text();
            eprintln!("---- PD stdout ----\n{}", self.seen.join("\n"));
            eprintln!("---- PD stderr ----\n{log}");
        }
        let _ = self.child.start_kill();
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn json_parser() {
    let j =
        parse_json(r#"{"a": 1, "b": "x\"y", "c": true, "d": null, "e": -3, "f": "é"}"#).unwrap();
    assert_eq!(j.num("a"), Some(1));
    assert_eq!(j.str("b"), Some("x\"y"));
    assert_eq!(j.bool("c"), Some(true));
    assert_eq!(j.get("d"), Some(&Value::Null));
    assert_eq!(j.num("e"), Some(-3));
    assert_eq!(j.str("f"), Some("é"));
    assert!(parse_json("{\"a\": }").is_none());
    assert!(parse_json("{}").unwrap().is_empty());
}
