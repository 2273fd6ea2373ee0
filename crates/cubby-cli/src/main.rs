//! `cubby`: the one binary. Runs the server, the demo, the audit check and the
//! ingest benchmark.

mod admin_api;
mod agent;
mod bench;
mod bench_edge;
mod demo;
mod plan;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cubby",
    version,
    about = "Smart parcel lockers and parcel rooms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (HTTP API, notification outbox).
    Serve(serve::ServeArgs),
    /// Run a complete demo on free ports: a seeded site, simulated couriers and residents.
    Demo(demo::DemoArgs),
    /// Audit tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Benchmarks (print figures with their baseline).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Print the OpenAPI document of the HTTP API.
    Openapi,
    /// Size parcel lockers or a parcel room for a building; Erlang B; forecasts.
    Plan(Box<plan::PlanArgs>),
    /// Run the agent beside a locker bank: lock boards, kiosk, offline decisions.
    Agent(agent::AgentArgs),
    /// Administration against a running server.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Locker agents.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// On the server's host: a one-time link that enrols a passkey for a
    /// staff token (when nobody with a passkey is left to invite them).
    PasskeyLink {
        /// The staff token's id (`tok_…`).
        #[arg(long)]
        token_id: String,
        #[arg(long, env = "CUBBY_DATA_DIR", default_value = "cubby-data")]
        data_dir: PathBuf,
        #[arg(long, env = "CUBBY_DATABASE_URL")]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Register a new agent for a locker and write its identity file.
    Add(agent::DeviceAddArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify every site's hash-chained custody log; exits 1 if any chain is broken.
    Verify {
        #[arg(long, env = "CUBBY_DATA_DIR", default_value = "cubby-data")]
        data_dir: PathBuf,
        #[arg(long, env = "CUBBY_DATABASE_URL")]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Durable custody ingest through the HTTP API, beside a raw SQLite baseline.
    Ingest(bench::IngestArgs),
    /// P4: kiosk code → unlock frame offline, and deposit → unlock via the server, beside a bare kiosk round trip.
    EdgeDecision(bench_edge::EdgeDecisionArgs),
    /// P6: a courier's batch of deposits at one locker through the real path, beside the API alone.
    CourierBatch(bench_edge::CourierBatchArgs),
    /// P5: many simulated agents publishing QoS 1 journal batches into durable ingest, beside Mosquitto alone.
    Fleet(bench_edge::FleetArgs),
    /// Carriers: the capacity query and reservations on 1,000 compartments, beside a site read and pre-advice.
    Capacity(bench_edge::CapacityArgs),
    /// P7 and P8: the planner (closed form per building; 1,000 simulated years).
    Planner(plan::PlanBenchArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CUBBY_LOG")
                .unwrap_or_else(|_| "warn,cubby=info,cubby_broker=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve::run(args).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Audit {
                command:
                    AuditCommand::Verify {
                        data_dir,
                        database_url,
                    },
            } => audit_verify(data_dir, database_url).await,
            Command::Bench {
                command: BenchCommand::Ingest(args),
            } => bench::ingest(args).await,
            Command::Bench {
                command: BenchCommand::EdgeDecision(args),
            } => bench_edge::edge_decision(args).await,
            Command::Bench {
                command: BenchCommand::CourierBatch(args),
            } => bench_edge::courier_batch(args).await,
            Command::Bench {
                command: BenchCommand::Fleet(args),
            } => bench_edge::fleet(args).await,
            Command::Bench {
                command: BenchCommand::Capacity(args),
            } => bench_edge::capacity(args).await,
            // CPU-bound: off the async workers.
            Command::Bench {
                command: BenchCommand::Planner(args),
            } => tokio::task::spawn_blocking(move || plan::bench(args))
                .await
                .map_err(anyhow::Error::from)
                .and_then(|r| r.map(|()| true)),
            Command::Plan(args) => tokio::task::spawn_blocking(move || plan::run(*args))
                .await
                .map_err(anyhow::Error::from)
                .and_then(|r| r.map(|()| true)),
            Command::Agent(args) => agent::run(args).await,
            Command::Admin {
                command:
                    AdminCommand::Device {
                        command: DeviceCommand::Add(args),
                    },
            } => agent::device_add(args).await,
            Command::Admin {
                command:
                    AdminCommand::PasskeyLink {
                        token_id,
                        data_dir,
                        database_url,
                    },
            } => passkey_link(token_id, data_dir, database_url).await,
            Command::Openapi => {
                println!("{}", cubby_server::api::openapi_json());
                Ok(true)
            }
        }
    });
    match result {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn passkey_link(
    token_id: String,
    data_dir: PathBuf,
    database_url: Option<String>,
) -> anyhow::Result<bool> {
    let secret_file = data_dir.join("secret.key");
    let from_env = std::env::var("CUBBY_SECRET").ok();
    if from_env.is_none() && !secret_file.exists() {
        anyhow::bail!(
            "no server secret at {}: run this on the server's host, with its data directory",
            secret_file.display()
        );
    }
    if database_url.is_none() && !data_dir.join("cubby.db").exists() {
        anyhow::bail!("no database at {}", data_dir.join("cubby.db").display());
    }
    let secret = cubby_server::load_or_create_secret(from_env.as_deref(), &secret_file)?;
    let store =
        cubby_store::Store::open(&serve::store_config(&data_dir, database_url.as_deref())).await?;
    match cubby_server::auth::passkeys::host_invite(&store, &secret, &token_id)
        .await
        .map_err(cubby_server::anyhow_op)?
    {
        Some(invite) => {
            println!(
                "enrol a passkey for {token_id} (once, within 7 days): open {} under the console's host name",
                invite.path
            );
            Ok(true)
        }
        None => {
            println!("{token_id} is not a live staff token (admin, manager or concierge)");
            Ok(false)
        }
    }
}

async fn audit_verify(data_dir: PathBuf, database_url: Option<String>) -> anyhow::Result<bool> {
    let config = serve::store_config(&data_dir, database_url.as_deref());
    if database_url.is_none() && !data_dir.join("cubby.db").exists() {
        anyhow::bail!("no database at {}", data_dir.join("cubby.db").display());
    }
    let (_, pool) = cubby_store::open_read_only(&config).await?;
    let mut conn = pool.acquire().await?;
    let verdicts = cubby_store::custody::verify_custody(&mut conn)
        .await
        .map_err(cubby_server::anyhow_op)?;
    let mut ok = true;
    let mut total = 0;
    for (site, verdict) in verdicts {
        match verdict {
            Ok(n) => {
                total += n;
                println!("ok      site {site}: {n} events");
            }
            Err(e) => {
                ok = false;
                println!("BROKEN  {e}");
            }
        }
    }
    if ok {
        println!("custody chains intact: {total} events verified");
    } else {
        println!("custody chain verification FAILED");
    }
    // The security audit log is one chain of its own.
    match cubby_store::audit::verify(&mut conn)
        .await
        .map_err(cubby_server::anyhow_op)?
    {
        Ok(n) => println!("ok      security audit log: {n} events"),
        Err(e) => {
            ok = false;
            println!("BROKEN  {e}");
            println!("security audit log verification FAILED");
        }
    }
    Ok(ok)
}
