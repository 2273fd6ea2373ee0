//! A small client for the admin API of a server this process started (the
//! demo and the benchmarks drive it through its public HTTP API).

use reqwest::Client;
use serde_json::Value;

#[derive(Clone)]
pub struct AdminApi {
    pub client: Client,
    pub base: String,
    pub token: String,
}

impl AdminApi {
    /// POSTs JSON; any status is an answer, only transport failures are errors.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
        let res = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
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

    /// GETs JSON that must answer 200.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
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
