//! Delivery of the notification outbox. Rows are written in the same transaction
//! as the change they announce; this task hands them to a transport and marks them
//! delivered. A transport outage only delays messages: deposits and pick-ups never
//! wait for it.

use std::path::PathBuf;
use std::time::Duration;

use cubby_store::queries::{self, OutboxRow};
use cubby_store::{Store, ops};

use crate::now_ms;

/// Writes each message as one JSON file (`<created>-<id>.json`) in a directory:
/// the development transport, and the one the tests read.
#[derive(Debug, Clone)]
pub struct FileTransport {
    pub dir: PathBuf,
}

impl FileTransport {
    pub fn deliver(&self, msg: &OutboxRow) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)?;
        let doc = serde_json::json!({
            "id": msg.id,
            "channel": msg.channel,
            "to": msg.recipient,
            "subject": msg.subject,
            "body": msg.body,
            "payload": msg.payload,
            "created_ms": msg.created_ms,
        });
        let name = format!("{:013}-{}.json", msg.created_ms, msg.id);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(
            serde_json::to_string_pretty(&doc)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        f.sync_all()?;
        // Rename makes the file appear whole or not at all; a crash before the row
        // is marked delivered rewrites the same name, so readers never see duplicates.
        std::fs::rename(&tmp, self.dir.join(name))?;
        std::fs::File::open(&self.dir)?.sync_all()
    }
}

const MAX_ATTEMPTS: i64 = 10;

/// Polls the outbox until the process ends.
pub async fn run(store: Store, transport: FileTransport) {
    loop {
        match deliver_pending(&store, &transport).await {
            Ok(0) => tokio::time::sleep(Duration::from_millis(200)).await,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "outbox delivery paused");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Delivers up to one page of pending messages; how many were handled.
pub async fn deliver_pending(
    store: &Store,
    transport: &FileTransport,
) -> Result<usize, cubby_store::OpError> {
    let pending = {
        let mut conn = store.reader().await?;
        queries::pending_outbox(&mut conn, 100).await?
    };
    let n = pending.len();
    for msg in pending {
        let outcome = transport.deliver(&msg);
        let id = msg.id.clone();
        let now = now_ms();
        store
            .transact(move |conn| {
                Box::pin(async move {
                    match outcome {
                        Ok(()) => ops::mark_delivered(conn, &id, now).await,
                        Err(e) => ops::mark_failed(conn, &id, &e.to_string(), MAX_ATTEMPTS).await,
                    }
                })
            })
            .await?;
    }
    Ok(n)
}
