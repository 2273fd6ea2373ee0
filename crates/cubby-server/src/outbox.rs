//! Delivery of the notification outbox. Rows are written in the same transaction
//! as the change they announce; this task hands them to a transport and marks them
//! delivered. A transport outage only delays messages: deposits and pick-ups never
//! wait for it.

use std::path::PathBuf;
use std::time::Duration;

use cubby_store as db;

use cubby_store::Store;
use cubby_store::outbox::OutboxRow;

/// Writes each message as one JSON file (`<created>-<id>.json`) in a directory:
/// the development transport, and the one the tests read.
#[derive(Debug, Clone)]
pub struct FileTransport {
    pub dir: PathBuf,
}

impl FileTransport {
    /// Writes the message, with what the templates make of it when it
    /// carries a notice (so development shows what residents would get).
    pub fn deliver(
        &self,
        msg: &OutboxRow,
        overrides: &cubby_notify::Overrides,
    ) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.dir)?;
        let rendered = msg
            .payload
            .get("notice")
            .and_then(|_| rendered(msg, overrides).ok().map(|(r, _)| r));
        // The body as sent: rendered now, from the notice.
        let body = rendered
            .as_ref()
            .map_or(msg.body.clone(), |r| r.text.clone());
        let rendered = rendered.map(|r| {
            serde_json::json!({"subject": r.subject, "text": r.text, "html": r.html, "sms": r.sms})
        });
        let doc = serde_json::json!({
            "rendered": rendered,
            "id": msg.id,
            "channel": msg.channel,
            "to": msg.recipient,
            "subject": msg.subject,
            "body": body,
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

/// Why a transport could not deliver a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// Worth trying again later (outage, timeout, 4xx from SMTP, 429/5xx).
    pub retryable: bool,
    pub message: String,
}

/// Where messages go: email over SMTP, SMS through the provider adapter, and
/// the file transport for whatever has no real channel configured
/// (development, tests, and the staff channel).
#[derive(Debug, Default)]
pub struct Transports {
    pub file: Option<FileTransport>,
    pub email: Option<cubby_notify::EmailTransport>,
    pub sms: Option<cubby_notify::SmsTransport>,
    pub push: Option<cubby_notify::PushTransport>,
}

impl Transports {
    pub fn is_empty(&self) -> bool {
        self.file.is_none() && self.email.is_none() && self.sms.is_none() && self.push.is_none()
    }

    /// Whether some transport takes this channel; messages of a channel none
    /// takes wait (pending) until one is configured.
    pub fn handles(&self, channel: &str) -> bool {
        let real = match channel {
            "email" => self.email.is_some(),
            "sms" => self.sms.is_some(),
            "push" => self.push.is_some(),
            _ => false,
        };
        real || self.file.is_some()
    }

    pub async fn send(
        &self,
        msg: &OutboxRow,
        overrides: &cubby_notify::Overrides,
    ) -> Result<(), SendFailure> {
        let failure = |e: cubby_notify::SendError| SendFailure {
            retryable: e.retryable,
            message: e.message,
        };
        match (msg.channel.as_str(), &self.email, &self.sms) {
            ("email", Some(email), _) => {
                let (rendered, qr) = rendered(msg, overrides)?;
                email
                    .send(&msg.recipient, &rendered, qr.as_deref())
                    .await
                    .map_err(failure)
            }
            ("push", _, _) if self.push.is_some() => {
                let Some(push) = &self.push else {
                    return Err(SendFailure {
                        retryable: false,
                        message: "no push transport".into(),
                    });
                };
                let to: cubby_notify::PushSubscription =
                    serde_json::from_value(msg.payload["push"].clone()).map_err(|_| {
                        SendFailure {
                            retryable: false,
                            message: "the message names no push subscription".into(),
                        }
                    })?;
                let (rendered, _) = rendered(msg, overrides)?;
                // What the service worker shows: a title and one line.
                let body = serde_json::json!({"title": rendered.subject, "body": rendered.sms});
                push.send(&to, body.to_string().as_bytes())
                    .await
                    .map_err(failure)
            }
            ("sms", _, Some(sms)) => {
                let (rendered, _) = rendered(msg, overrides)?;
                sms.send(&msg.recipient, &rendered.sms)
                    .await
                    .map(|_| ())
                    .map_err(failure)
            }
            _ => match &self.file {
                Some(f) => f.deliver(msg, overrides).map_err(|e| SendFailure {
                    retryable: true,
                    message: e.to_string(),
                }),
                None => Err(SendFailure {
                    retryable: false,
                    message: format!("no transport is configured for {} messages", msg.channel),
                }),
            },
        }
    }
}

/// The message in the recipient's language from its notice (templates), or
/// its stored text for messages that carry none.
fn rendered(
    msg: &OutboxRow,
    overrides: &cubby_notify::Overrides,
) -> Result<(cubby_notify::Rendered, Option<String>), SendFailure> {
    let notice = msg
        .payload
        .get("notice")
        .and_then(|n| serde_json::from_value::<cubby_notify::Notice>(n.clone()).ok());
    match notice {
        // An operator's override that no longer renders must not cost the
        // resident the message: the built-in template takes over.
        Some(notice) => cubby_notify::render(&notice, overrides)
            .or_else(|e| {
                tracing::warn!("template override failed, using the built-in one: {e}");
                cubby_notify::render(&notice, &cubby_notify::Overrides::new())
            })
            .map(|r| (r, notice.qr_token.clone()))
            .map_err(|e| SendFailure {
                retryable: false,
                message: e.to_string(),
            }),
        None => {
            let escaped = msg
                .body
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            Ok((
                cubby_notify::Rendered {
                    subject: msg.subject.clone(),
                    text: msg.body.clone(),
                    html: format!("<pre>{escaped}</pre>"),
                    sms: msg.body.clone(),
                },
                None,
            ))
        }
    }
}

/// A site's stored overrides as the renderer takes them.
pub fn site_overrides(rows: &[db::outbox::TemplateOverride]) -> cubby_notify::Overrides {
    let mut o = cubby_notify::Overrides::new();
    for t in rows {
        if let (Some(kind), Some(part)) = (
            cubby_notify::NoticeKind::parse(&t.kind),
            cubby_notify::Part::parse(&t.part),
        ) {
            o.insert_unchecked(
                kind,
                cubby_notify::Language::parse(&t.language),
                part,
                t.source.clone(),
            );
        }
    }
    o
}

/// Retryable failures are tried again for about a day and a half before a
/// message is parked as `failed` (visible, never silently dropped).
pub const MAX_ATTEMPTS: i64 = 40;
const FIRST_RETRY_MS: i64 = 5_000;
const LONGEST_RETRY_MS: i64 = 3_600_000;
/// A message being sent is this instance's for this long.
const LEASE_MS: i64 = 60_000;
/// After this many failures in a row a channel (provider) rests…
const BREAKER_FAILURES: u32 = 3;
/// …for this long, so that an outage costs one probe, not every message.
const BREAKER_REST_MS: i64 = 30_000;

/// Exponential backoff with full jitter: uniform in [1 s, min(5 s · 2ⁿ, 1 h)].
pub fn retry_delay_ms(attempts: i64, rng: &mut impl rand::Rng) -> i64 {
    let exp = attempts.clamp(1, 20) - 1;
    let ceiling = (FIRST_RETRY_MS << exp).min(LONGEST_RETRY_MS);
    rng.random_range(1_000..=ceiling.max(1_000))
}

/// Per-channel circuit breakers.
#[derive(Debug, Default)]
pub struct Breakers {
    state: std::collections::HashMap<String, (u32, i64)>,
}

impl Breakers {
    pub fn open(&self, channel: &str, now: i64) -> bool {
        self.state
            .get(channel)
            .is_some_and(|(_, until)| *until > now)
    }
    fn failed(&mut self, channel: &str, now: i64) {
        let entry = self.state.entry(channel.to_string()).or_insert((0, 0));
        entry.0 += 1;
        if entry.0 >= BREAKER_FAILURES {
            entry.1 = now + BREAKER_REST_MS;
        }
    }
    fn succeeded(&mut self, channel: &str) {
        self.state.remove(channel);
    }
}

/// Polls the outbox until the process ends.
pub async fn run(store: Store, transport: Transports, clock: crate::Clock) {
    let mut breakers = Breakers::default();
    // Delivered messages lose their codes in the database, but SQLite's
    // write-ahead log still holds the pages as they were until a checkpoint:
    // once deliveries have quietened, fold the log into the database file
    // (which overwrites what was deleted) and empty it.
    let mut erased_since_checkpoint = false;
    loop {
        match deliver_pending(&store, &transport, clock.now(), &mut breakers).await {
            Ok(0) => {
                if erased_since_checkpoint {
                    if let Err(e) = store.checkpoint().await {
                        tracing::debug!(error = %e, "checkpoint deferred");
                    } else {
                        erased_since_checkpoint = false;
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Ok(_) => erased_since_checkpoint = true,
            Err(e) => {
                tracing::warn!(error = %e, "outbox delivery paused");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Delivers up to one page of due messages; how many were attempted. Each is
/// claimed first, so several instances never send one twice at once.
pub async fn deliver_pending(
    store: &Store,
    transport: &Transports,
    now: i64,
    breakers: &mut Breakers,
) -> Result<usize, cubby_store::OpError> {
    let pending = {
        let mut conn = store.reader().await?;
        db::outbox::pending_outbox(&mut conn, 100, now).await?
    };
    let mut attempted = 0;
    let mut overrides: std::collections::HashMap<String, cubby_notify::Overrides> =
        std::collections::HashMap::new();
    for msg in pending {
        if breakers.open(&msg.channel, now) || !transport.handles(&msg.channel) {
            continue;
        }
        if !overrides.contains_key(&msg.site_id) {
            let rows = {
                let mut conn = store.reader().await?;
                db::outbox::templates_of_site(&mut conn, &msg.site_id).await?
            };
            overrides.insert(msg.site_id.clone(), site_overrides(&rows));
        }
        let id = msg.id.clone();
        let claimed = store
            .transact(move |conn| {
                Box::pin(async move { db::outbox::claim_message(conn, &id, now, LEASE_MS).await })
            })
            .await?;
        if !claimed {
            continue;
        }
        attempted += 1;
        let site_overrides = overrides.get(&msg.site_id).cloned().unwrap_or_default();
        let outcome = transport.send(&msg, &site_overrides).await;
        let id = msg.id.clone();
        match &outcome {
            Ok(()) => breakers.succeeded(&msg.channel),
            Err(f) if f.retryable => breakers.failed(&msg.channel, now),
            Err(_) => {}
        }
        let retry_at = match &outcome {
            Err(f) if f.retryable => {
                Some(now + retry_delay_ms(msg.attempts + 1, &mut crate::os_rng()))
            }
            _ => None,
        };
        store
            .transact(move |conn| {
                Box::pin(async move {
                    match outcome {
                        Ok(()) => db::outbox::mark_delivered(conn, &id, now).await,
                        Err(f) => {
                            db::outbox::mark_failed(conn, &id, &f.message, MAX_ATTEMPTS, retry_at)
                                .await
                        }
                    }
                })
            })
            .await?;
    }
    Ok(attempted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_with_jitter_up_to_an_hour() {
        let mut rng = crate::os_rng();
        for attempts in 1..=40 {
            let ceiling = (FIRST_RETRY_MS << (attempts.min(20) - 1)).min(LONGEST_RETRY_MS);
            for _ in 0..50 {
                let d = retry_delay_ms(attempts, &mut rng);
                assert!((1_000..=ceiling.max(1_000)).contains(&d), "{attempts}: {d}");
            }
        }
        let spread: std::collections::BTreeSet<i64> =
            (0..50).map(|_| retry_delay_ms(10, &mut rng)).collect();
        assert!(spread.len() > 10, "jitter spreads retries");
    }

    #[test]
    fn a_channel_rests_after_three_failures_and_recovers_on_success() {
        let mut b = Breakers::default();
        b.failed("email", 0);
        b.failed("email", 0);
        assert!(!b.open("email", 1));
        b.failed("email", 0);
        assert!(b.open("email", 1) && !b.open("sms", 1));
        assert!(!b.open("email", BREAKER_REST_MS + 1));
        b.succeeded("email");
        b.failed("email", 0);
        assert!(!b.open("email", 1));
    }
}
