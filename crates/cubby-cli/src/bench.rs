//! `cubby bench ingest`: custody events through the real path (HTTP → validation
//! → lifecycle → hash chain → group commit on disk), printed beside a raw SQLite
//! insert of the same rows with the same durability, in the same run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use serde_json::json;
use tokio::sync::Mutex;

use crate::serve::{ServeConfig, start};

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Custody events to ingest (one pre-advice each).
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Write the machine-readable result here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Where the databases go (a fresh temporary directory by default). Put it on
    /// the disk you want measured.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// fsync latency of the disk under `dir`, in ms: (p50, p99).
fn measure_fsync(dir: &Path, rounds: usize) -> anyhow::Result<(f64, f64)> {
    let path = dir.join("fsync-probe");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    let block = [0u8; 4096];
    let mut lat = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        f.write_all(&block)?;
        let t = Instant::now();
        f.sync_data()?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    std::fs::remove_file(&path)?;
    lat.sort_by(f64::total_cmp);
    Ok((percentile(&lat, 0.5), percentile(&lat, 0.99)))
}

pub async fn ingest(args: IngestArgs) -> anyhow::Result<bool> {
    anyhow::ensure!(
        (1..=1_000_000).contains(&args.events),
        "--events must be 1 to 1,000,000"
    );
    anyhow::ensure!(
        (1..=1024).contains(&args.concurrency),
        "--concurrency must be 1 to 1024"
    );
    let tmp = tempfile::Builder::new()
        .prefix("cubby-bench-")
        .tempdir_in(args.dir.clone().unwrap_or_else(std::env::temp_dir))?;
    let (fsync_p50, fsync_p99) = measure_fsync(tmp.path(), 200)?;
    println!(
        "disk: fsync p50 {fsync_p50:.3} ms, p99 {fsync_p99:.3} ms ({})",
        tmp.path().display()
    );

    // --- the real path ---
    let config = ServeConfig {
        listen: "127.0.0.1:0".into(),
        data_dir: tmp.path().join("server"),
        ..ServeConfig::default()
    };
    let running = start(&config).await?;
    let token = running
        .generated_admin_token
        .clone()
        .context("a fresh data directory yields an admin token")?;
    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let site: serde_json::Value = client
        .post(format!("{base}/api/v1/sites"))
        .bearer_auth(&token)
        .json(&json!({"name": "Bench site", "timezone": "Europe/Warsaw"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let site_id = site["id"].as_str().context("site id")?.to_string();
    let before = running.state.store.writer_stats();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(args.events)));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, base, token, site_id, next, latencies) = (
            client.clone(),
            base.clone(),
            token.clone(),
            site_id.clone(),
            next.clone(),
            latencies.clone(),
        );
        let total = args.events;
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                let res = client
                    .post(format!("{base}/api/v1/sites/{site_id}/announcements"))
                    .bearer_auth(&token)
                    .json(&json!({"tracking_number": format!("BENCH{i:010}"), "carrier": "bench", "width_mm": 300, "height_mm": 100, "depth_mm": 200}))
                    .send()
                    .await?;
                anyhow::ensure!(res.status() == 201, "announcement {i} answered {}", res.status());
                mine.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            latencies.lock().await.extend(mine);
            Ok::<_, anyhow::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = running.state.store.writer_stats();
    let mut lat = std::mem::take(&mut *latencies.lock().await);
    lat.sort_by(f64::total_cmp);
    let rate = args.events as f64 / elapsed;
    let batches = (after.batches - before.batches).max(1);
    let mean_batch = (after.jobs - before.jobs) as f64 / batches as f64;
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    running.task.abort();
    let db = config.data_dir.join("cubby.db");
    let bytes_per_event = checkpointed_size(&db).await? as f64 / args.events as f64;
    println!(
        "cubby ingest: {} events in {elapsed:.2} s = {rate:.0} events/s; ack p50 {p50:.2} ms, p99 {p99:.2} ms; {batches} commits, mean {mean_batch:.1} events per commit; {bytes_per_event:.0} bytes per event on disk (parcel + event + indexes)",
        args.events
    );

    // --- baseline: the same rows, same durability, same batch size, no server ---
    let batch = mean_batch.round().max(1.0) as usize;
    let (base_rate, base_elapsed) =
        raw_sqlite_baseline(&tmp.path().join("baseline.db"), args.events, batch).await?;
    let ratio = rate / base_rate;
    println!(
        "baseline raw SQLite insert (WAL, synchronous=FULL, {batch} rows per commit): {base_rate:.0} rows/s ({base_elapsed:.2} s)"
    );
    println!("ratio cubby/baseline: {ratio:.2} (target ≥ 0.5)");
    let result = json!({
        "benchmark": "ingest",
        "events": args.events,
        "concurrency": args.concurrency,
        "events_per_sec": rate,
        "ack_p50_ms": p50,
        "ack_p99_ms": p99,
        "commits": batches,
        "mean_events_per_commit": mean_batch,
        "bytes_per_event": bytes_per_event,
        "fsync_p50_ms": fsync_p50,
        "fsync_p99_ms": fsync_p99,
        "baseline_rows_per_sec": base_rate,
        "ratio": ratio,
    });
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&result)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{result}");
    Ok(true)
}

async fn checkpointed_size(db: &Path) -> anyhow::Result<u64> {
    use sqlx::{ConnectOptions, Connection, Executor};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .connect()
        .await?;
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    conn.close().await?;
    Ok(std::fs::metadata(db)?.len())
}

/// Inserts `rows` rows shaped like the real path's writes (a parcel row and a
/// custody event row per event) in transactions of `batch` rows, WAL +
/// synchronous=FULL, one connection.
async fn raw_sqlite_baseline(db: &Path, rows: usize, batch: usize) -> anyhow::Result<(f64, f64)> {
    use sqlx::{ConnectOptions, Executor};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
        .connect()
        .await?;
    conn.execute(
        "CREATE TABLE parcels (id TEXT PRIMARY KEY, site_id TEXT NOT NULL, tracking_number TEXT NOT NULL, state TEXT NOT NULL, created_ms INTEGER NOT NULL); \
         CREATE INDEX parcels_tracking ON parcels(site_id, tracking_number); \
         CREATE TABLE custody_events (site_id TEXT NOT NULL, seq INTEGER NOT NULL, parcel_id TEXT NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL, \
         at_ms INTEGER NOT NULL, place TEXT NOT NULL, reason TEXT NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (site_id, seq)) WITHOUT ROWID; \
         CREATE INDEX custody_parcel ON custody_events(parcel_id);",
    )
    .await?;
    let started = Instant::now();
    let mut seq = 0i64;
    while (seq as usize) < rows {
        conn.execute("BEGIN IMMEDIATE").await?;
        for _ in 0..batch.min(rows - seq as usize) {
            seq += 1;
            let id = format!("par_{seq:032x}");
            sqlx::query("INSERT INTO parcels (id, site_id, tracking_number, state, created_ms) VALUES ($1, 'site_x', $2, 'announced', $3)")
                .bind(id.clone())
                .bind(format!("BENCH{seq:010}"))
                .bind(seq)
                .execute(&mut conn)
                .await?;
            sqlx::query("INSERT INTO custody_events (site_id, seq, parcel_id, kind, actor, at_ms, place, reason, hash) VALUES ('site_x', $1, $2, 'announced', 'admin:tok', $3, 'carrier pre-advice', 'pre-advised', $4)")
                .bind(seq)
                .bind(id)
                .bind(seq)
                .bind(vec![0u8; 32])
                .execute(&mut conn)
                .await?;
        }
        conn.execute("COMMIT").await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok((rows as f64 / elapsed, elapsed))
}
