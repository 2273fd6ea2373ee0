//! `cubby serve`: configuration (flags > `CUBBY_*` environment > config file >
//! defaults), start-up checks, and the server loop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use cubby_server::devices::MqttSettings;
use cubby_server::outbox::FileTransport;
use cubby_server::{AppState, Policies};
use cubby_store::{Store, StoreConfig};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Args, Debug, Clone, Default, Serialize)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// Directory for the SQLite database, the server secret and (by default) nothing else.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Use PostgreSQL instead of the embedded SQLite, e.g. postgres://user@host/db.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Deliver notifications as JSON files in this directory.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox_dir: Option<PathBuf>,
    /// Address of the embedded MQTT broker that locker agents connect to (port 0 picks a free port).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mqtt_listen: Option<String>,
    /// Use an external MQTT broker instead of the embedded one, e.g. mqtt://127.0.0.1:1883
    /// or mqtt://cubby-server:PASSWORD@127.0.0.1:1883.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mqtt_url: Option<String>,
    /// Send email through this SMTP server: smtp://host:port (plain),
    /// smtp+starttls://host:port or smtps://host:port. User and password come
    /// from CUBBY_SMTP_USER and CUBBY_SMTP_PASSWORD.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    /// The From address of email notices.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_from: Option<String>,
    /// Send SMS through this provider (Twilio's API shape), e.g.
    /// https://api.twilio.com; account and token from CUBBY_SMS_ACCOUNT and
    /// CUBBY_SMS_TOKEN.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_url: Option<String>,
    /// The sender number or name of SMS notices.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_from: Option<String>,
    /// For tests: the scheduler and the outbox read the time (ms since the
    /// epoch) from this file, so that weeks can pass in seconds.
    #[arg(long, hide = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_clock_file: Option<PathBuf>,
    /// A TOML file with the same keys (listen, data_dir, database_url, outbox_dir, mqtt_listen, mqtt_url, code_digits, keypad_daily_failure_limit).
    #[arg(long)]
    #[serde(skip)]
    pub config: Option<PathBuf>,
}

/// The settled configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServeConfig {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub outbox_dir: Option<PathBuf>,
    pub mqtt_listen: String,
    pub mqtt_url: Option<String>,
    pub code_digits: u32,
    pub keypad_daily_failure_limit: u32,
    pub max_compartments_per_locker: u32,
    /// How long an agent's credential cache stays valid without the server
    /// (seconds, 10 s to 30 days; default 7 days).
    pub cache_lifetime_secs: u64,
    /// How long a locker may be offline before staff are told (seconds,
    /// 5 s to a day; default 120).
    pub offline_grace_secs: u64,
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    pub sms_url: Option<String>,
    pub sms_from: Option<String>,
    pub test_clock_file: Option<PathBuf>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        let p = Policies::default();
        ServeConfig {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("cubby-data"),
            database_url: None,
            outbox_dir: None,
            // Not 1883: a system Mosquitto often holds that port.
            mqtt_listen: "127.0.0.1:1884".into(),
            mqtt_url: None,
            code_digits: p.code_digits,
            keypad_daily_failure_limit: p.throttle.daily_limit,
            max_compartments_per_locker: p.max_compartments_per_locker,
            cache_lifetime_secs: (p.cache_lifetime_ms / 1000) as u64,
            offline_grace_secs: (p.offline_grace_ms / 1000) as u64,
            smtp_url: None,
            smtp_from: None,
            sms_url: None,
            sms_from: None,
            test_clock_file: None,
        }
    }
}

impl ServeArgs {
    pub fn settle(&self) -> anyhow::Result<ServeConfig> {
        let mut fig = Figment::from(Serialized::defaults(ServeConfig::default()));
        if let Some(file) = &self.config {
            anyhow::ensure!(
                file.exists(),
                "config file {} does not exist",
                file.display()
            );
            fig = fig.merge(Toml::file(file));
        }
        fig = fig
            .merge(Env::prefixed("CUBBY_").only(&[
                "listen",
                "data_dir",
                "database_url",
                "outbox_dir",
                "mqtt_listen",
                "mqtt_url",
                "code_digits",
                "keypad_daily_failure_limit",
                "max_compartments_per_locker",
                "cache_lifetime_secs",
                "offline_grace_secs",
                "smtp_url",
                "smtp_from",
                "sms_url",
                "sms_from",
            ]))
            .merge(Serialized::defaults(self.clone()));
        fig.extract().context("reading the configuration")
    }
}

/// Readable (and writable) by this user only.
fn private(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("restricting {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// First-start secrets go to a file only this user can read, never to
/// stdout (which ends up in every log collector). Answers the file's path.
fn write_first_start(data_dir: &Path, lines: &[String]) -> anyhow::Result<std::path::PathBuf> {
    use std::io::Write;
    let path = data_dir.join("first-start.txt");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    for line in lines {
        writeln!(f, "{line}")?;
    }
    f.sync_all()?;
    private(&path, 0o600)?;
    Ok(path)
}

pub fn store_config(data_dir: &Path, database_url: Option<&str>) -> StoreConfig {
    match database_url {
        Some(url) => StoreConfig::new(url),
        None => StoreConfig::sqlite_in(data_dir),
    }
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub generated_admin_token: Option<String>,
    /// First start only: the path that enrols the first admin's passkey.
    pub admin_passkey_invite: Option<String>,
    /// Where locker agents connect.
    pub mqtt_addr: String,
    /// The embedded broker, when one runs; dropping it stops it.
    pub broker: Option<cubby_broker::BrokerHandle>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Opens everything and starts serving; returns once the socket is listening.
pub async fn start(config: &ServeConfig) -> anyhow::Result<Running> {
    cubby_server::install_tls_provider();
    let policies = Policies {
        code_digits: config.code_digits,
        throttle: cubby_domain::throttle::ThrottlePolicy {
            daily_limit: config.keypad_daily_failure_limit,
            ..Default::default()
        },
        max_compartments_per_locker: config.max_compartments_per_locker,
        cache_lifetime_ms: (config.cache_lifetime_secs as i64).saturating_mul(1000),
        offline_grace_ms: (config.offline_grace_secs as i64).saturating_mul(1000),
        webhook_targets: cubby_webhooks::Targets::from_env(),
    };
    anyhow::ensure!(
        (5..=86_400).contains(&config.offline_grace_secs),
        "offline_grace_secs must be 5 seconds to a day"
    );
    anyhow::ensure!(
        (10..=30 * 86_400).contains(&config.cache_lifetime_secs),
        "cache_lifetime_secs must be 10 seconds to 30 days"
    );
    policies
        .check()
        .context("refusing weak pick-up code settings (security floor)")?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    // The data directory holds the secret and the database: this user only.
    private(&config.data_dir, 0o700)?;
    let secret = cubby_server::load_or_create_secret(
        std::env::var("CUBBY_SECRET").ok().as_deref(),
        &config.data_dir.join("secret.key"),
    )?;
    let store = Store::open(&store_config(
        &config.data_dir,
        config.database_url.as_deref(),
    ))
    .await
    .context("opening the database")?;
    if config.database_url.is_none() {
        for file in ["cubby.db", "cubby.db-wal", "cubby.db-shm"] {
            let path = config.data_dir.join(file);
            if path.exists() {
                private(&path, 0o600)?;
            }
        }
    }
    let state = AppState {
        store: store.clone(),
        secret: Arc::new(secret),
        policies: Arc::new(policies),
        devices: cubby_server::devices::DeviceHub::new(),
        failures: Default::default(),
        clock: match &config.test_clock_file {
            Some(path) => cubby_server::Clock::File(path.clone()),
            None => cubby_server::Clock::System,
        },
    };
    let boot =
        cubby_server::bootstrap(&state, std::env::var("CUBBY_ADMIN_TOKEN").ok().as_deref()).await?;
    let transports = transports(config, &state.secret)?;
    if !transports.is_empty() {
        tokio::spawn(cubby_server::outbox::run(
            store.clone(),
            transports,
            state.clock.clone(),
        ));
    }
    tokio::spawn(cubby_server::scheduler::run(state.clone()));
    tokio::spawn(cubby_server::retention::run(state.clone()));
    tokio::spawn(cubby_server::webhooks::run(state.clone()));
    let (broker, mqtt) = start_mqtt(config, &state).await?;
    let mqtt_addr = format!("{}:{}", mqtt.host, mqtt.port);
    cubby_server::devices::start(state.clone(), mqtt).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let app = cubby_server::router(state.clone());
    let task = tokio::spawn(async move {
        cubby_http::serve(
            listener,
            app,
            cubby_http::Limits::from_env(),
            shutdown_signal(),
        )
        .await
    });
    Ok(Running {
        addr,
        state,
        generated_admin_token: boot.generated_admin_token,
        admin_passkey_invite: boot.admin_passkey_invite,
        mqtt_addr,
        broker,
        task,
    })
}

/// The notification transports the configuration names.
fn transports(
    config: &ServeConfig,
    secret: &[u8],
) -> anyhow::Result<cubby_server::outbox::Transports> {
    use cubby_notify::{EmailConfig, SmsConfig, SmsFormat, SmtpSecurity};
    let mut t = cubby_server::outbox::Transports::default();
    if let Some(dir) = &config.outbox_dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        t.file = Some(FileTransport { dir: dir.clone() });
    }
    if let Some(url) = &config.smtp_url {
        let (security, rest) = if let Some(r) = url.strip_prefix("smtps://") {
            (SmtpSecurity::Tls, r)
        } else if let Some(r) = url.strip_prefix("smtp+starttls://") {
            (SmtpSecurity::StartTls, r)
        } else if let Some(r) = url.strip_prefix("smtp://") {
            (SmtpSecurity::None, r)
        } else {
            anyhow::bail!("smtp_url must start with smtp://, smtp+starttls:// or smtps://");
        };
        let (host, port) = rest
            .trim_end_matches('/')
            .rsplit_once(':')
            .context("smtp_url must name host:port")?;
        let from = config
            .smtp_from
            .clone()
            .context("smtp_from is required with smtp_url")?;
        t.email = Some(
            cubby_notify::EmailTransport::new(EmailConfig {
                host: host.to_string(),
                port: port.parse().context("smtp_url port")?,
                security,
                username: std::env::var("CUBBY_SMTP_USER").ok(),
                password: std::env::var("CUBBY_SMTP_PASSWORD").ok(),
                from,
                timeout: std::time::Duration::from_secs(15),
                helo_name: None,
                extra_root_pem: None,
            })
            .map_err(|e| anyhow::anyhow!("SMTP settings: {}", e.message))?,
        );
    }
    t.push = Some(
        cubby_notify::PushTransport::new(
            &cubby_server::push_key_seed(secret),
            cubby_server::PUSH_SUBJECT,
        )
        .map_err(|e| anyhow::anyhow!("web push: {}", e.message))?,
    );
    if let Some(url) = &config.sms_url {
        t.sms = Some(
            cubby_notify::SmsTransport::new(SmsConfig {
                base_url: url.clone(),
                account_sid: std::env::var("CUBBY_SMS_ACCOUNT")
                    .context("CUBBY_SMS_ACCOUNT is required with sms_url")?,
                auth_token: std::env::var("CUBBY_SMS_TOKEN")
                    .context("CUBBY_SMS_TOKEN is required with sms_url")?,
                from: config
                    .sms_from
                    .clone()
                    .context("sms_from is required with sms_url")?,
                format: SmsFormat::Twilio,
                timeout: None,
            })
            .map_err(|e| anyhow::anyhow!("SMS settings: {}", e.message))?,
        );
    }
    Ok(t)
}

/// Starts the embedded broker, or settles the external broker's address.
async fn start_mqtt(
    config: &ServeConfig,
    state: &AppState,
) -> anyhow::Result<(Option<cubby_broker::BrokerHandle>, MqttSettings)> {
    if let Some(url) = &config.mqtt_url {
        let rest = url
            .strip_prefix("mqtt://")
            .context("mqtt_url must start with mqtt://")?;
        // mqtt://user:password@host:port, for a broker that admits the server
        // by password (see docs/mosquitto-acl.example).
        let (credentials, rest) = match rest.rsplit_once('@') {
            Some((userinfo, hostport)) => {
                let (user, pass) = userinfo.split_once(':').with_context(|| {
                    "mqtt_url credentials must be user:password@host:port".to_string()
                })?;
                (Some((user.to_string(), pass.to_string())), hostport)
            }
            None => (None, rest),
        };
        let (host, port) = rest
            .trim_end_matches('/')
            .rsplit_once(':')
            .map(|(h, p)| (h.to_string(), p.parse::<u16>()))
            .unwrap_or((rest.to_string(), Ok(1883)));
        // The URL may hold a password: errors name the host only.
        let port = port.with_context(|| format!("mqtt_url for host {host:?} has a bad port"))?;
        return Ok((
            None,
            MqttSettings {
                host,
                port,
                credentials,
            },
        ));
    }
    let listen: SocketAddr = config
        .mqtt_listen
        .parse()
        .with_context(|| format!("mqtt_listen {:?} is not an address", config.mqtt_listen))?;
    let password = cubby_server::devices::server_mqtt_password(&state.secret);
    let auth = cubby_server::devices::DeviceAuthorizer {
        hub: state.devices.clone(),
        secret: state.secret.clone(),
        server_password: password.clone(),
    };
    let broker = cubby_broker::Broker::start(
        cubby_broker::BrokerConfig {
            listen,
            ..Default::default()
        },
        Arc::new(auth),
    )
    .await
    .with_context(|| format!("starting the MQTT broker on {listen}"))?;
    let addr = broker.local_addr();
    Ok((
        Some(broker),
        MqttSettings {
            host: addr.ip().to_string(),
            port: addr.port(),
            credentials: Some(("cubby-server".into(), password)),
        },
    ))
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<bool> {
    let config = args.settle()?;
    let running = start(&config).await?;
    let mut secrets = Vec::new();
    if let Some(token) = &running.generated_admin_token {
        secrets.push(format!(
            "admin token (shown once, store it safely): {token}"
        ));
    }
    if let Some(path) = &running.admin_passkey_invite {
        secrets.push(format!(
            "enrol the first admin's passkey (once, within 7 days): {}",
            console_link(running.addr, path)
        ));
    }
    if !secrets.is_empty() {
        let file = write_first_start(&config.data_dir, &secrets)?;
        println!(
            "first start: the admin token and the first admin's passkey link are in {} (this user only; delete it once they are stored safely)",
            file.display()
        );
    }
    println!("cubby listening on http://{}", running.addr);
    println!("locker agents connect to mqtt://{}", running.mqtt_addr);
    println!("API docs: http://{}/api/docs", running.addr);
    running.task.await??;
    if let Some(broker) = running.broker {
        broker.shutdown().await;
    }
    Ok(true)
}

/// A console link for a browser on this machine. Passkeys are bound to a
/// host name, never to an IP address, so a loopback address is named
/// `localhost`; other addresses are shown as they are, to be replaced by the
/// server's name.
pub fn console_link(addr: SocketAddr, path: &str) -> String {
    if addr.ip().is_loopback() {
        format!("http://localhost:{}{path}", addr.port())
    } else {
        format!("http://{addr}{path}  (open it under this server's host name)")
    }
}
