//! A small client for the admin API of a server this process started (the
//! demo and the benchmarks drive it through its public HTTP API).

use reqwest::Client;
use serde_json::Value;

#[derive(Clone)]
pub struct AdminApi {
    pub client: Client,
    pub base: String,
    pub token: String,
    /// This process runs the server: it holds the server secret, and so
    /// mints the admin's step-up proof itself (`secret`, admin token id)
    /// where a person would prove a passkey. Only the demo and the
    /// benchmarks do this, against the server they started.
    pub step_up: Option<(std::sync::Arc<Vec<u8>>, String)>,
}

impl AdminApi {
    /// The admin API of a server this process started, acting as `token`.
    pub async fn of_running(
        running: &crate::serve::Running,
        client: Client,
        token: String,
    ) -> anyhow::Result<AdminApi> {
        let secret = running.state.secret.clone();
        let mac = cubby_server::auth::token_mac(&secret, &token);
        let mut conn = running.state.store.reader().await?;
        let row = cubby_store::tokens::token_by_mac(&mut conn, &mac)
            .await
            .map_err(cubby_server::anyhow_op)?
            .ok_or_else(|| anyhow::anyhow!("the admin token is not known to this server"))?;
        Ok(AdminApi {
            client,
            base: format!("http://{}", running.addr),
            token,
            step_up: Some((secret, row.id)),
        })
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        match &self.step_up {
            Some((secret, token_id)) => {
                let expires = cubby_server::now_ms() + cubby_server::auth::step_up::STEP_UP_MS;
                let proof = cubby_server::auth::step_up::step_up_proof(secret, token_id, expires);
                req.header(cubby_server::auth::step_up::STEP_UP_HEADER, proof)
            }
            None => req,
        }
    }

    /// POSTs JSON; any status is an answer, only transport failures are errors.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        let res = self
            .request(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    /// POSTs JSON that must create something (201).
    pub async fn created(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let (status, v) = self.post(path, body).await?;
        anyhow::ensure!(status == 201, "POST {path} answered {status}: {v}");
        Ok(v)
    }

    /// PUTs JSON that must answer 200.
    pub async fn put(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let res = self
            .request(reqwest::Method::PUT, path)
            .json(&body)
            .send()
            .await?;
        let status = res.status().as_u16();
        let v = res.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status == 200, "PUT {path} answered {status}: {v}");
        Ok(v)
    }

    /// GETs JSON that must answer 200.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let res = self.request(reqwest::Method::GET, path).send().await?;
        let status = res.status().as_u16();
        let v = res.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status == 200, "GET {path} answered {status}: {v}");
        Ok(v)
    }
}

/// A locker agent running in this process on simulated Kerong boards.
pub struct SimulatedAgent {
    pub device_id: String,
    pub kiosk: String,
    pub sim: cubby_boards::SimulatedBank,
    pub task: tokio::task::JoinHandle<()>,
}

/// Registers a device for the locker through the API and starts a real agent
/// for it in this process, connected to the broker over a socket like any
/// other (the demo and the edge benchmarks).
pub async fn start_simulated_agent(
    api: &AdminApi,
    locker_id: &str,
    dir: &std::path::Path,
    mqtt_addr: &str,
    boards: Vec<u8>,
    locks_per_board: u8,
    poll: std::time::Duration,
) -> anyhow::Result<SimulatedAgent> {
    use anyhow::Context;
    let v = api
        .created(
            &format!("/api/v1/lockers/{locker_id}/devices"),
            serde_json::json!({}),
        )
        .await?;
    let identity: cubby_protocol::messages::DeviceIdentity =
        serde_json::from_value(v).context("reading the device identity")?;
    let (host, port) = mqtt_addr
        .rsplit_once(':')
        .context("broker address is host:port")?;
    let device_id = identity.device_id.clone();
    let agent_dir = dir.join("agents").join(&identity.device_id);
    std::fs::create_dir_all(&agent_dir)?;
    let running = cubby_agent::start(cubby_agent::AgentConfig {
        identity,
        data_dir: agent_dir,
        mqtt_host: host.to_string(),
        mqtt_port: port.parse().context("broker port")?,
        family: cubby_boards::Family::Kerong,
        link: cubby_agent::BoardLink::Simulated,
        boards,
        locks_per_board,
        kiosk_listen: "127.0.0.1:0".into(),
        poll,
        policy: cubby_agent::EdgePolicy::default(),
        readers: Vec::new(),
    })
    .await?;
    let sim = running
        .sim
        .context("a simulated agent always has a simulated bank")?;
    Ok(SimulatedAgent {
        device_id,
        kiosk: format!("http://{}", running.kiosk_addr),
        sim,
        task: running.task,
    })
}
