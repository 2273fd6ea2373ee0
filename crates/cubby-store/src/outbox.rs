//! The notification outbox, site template overrides and web-push subscriptions.

use cubby_domain::Millis;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::OpError;
use crate::rows::{int, opt_text, text};

#[derive(Debug, Clone, Serialize)]
pub struct OutboxRow {
    pub id: String,
    pub site_id: String,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub payload: serde_json::Value,
    pub created_ms: i64,
    pub attempts: i64,
}

/// Messages to deliver now: pending and not held back past `now` (quiet hours).
pub async fn pending_outbox(
    conn: &mut AnyConnection,
    limit: i64,
    now: i64,
) -> Result<Vec<OutboxRow>, OpError> {
    let rows = sqlx::query(
        "SELECT id, site_id, channel, recipient, subject, body, payload, created_ms, attempts FROM outbox \
         WHERE status = 'pending' AND (not_before_ms IS NULL OR not_before_ms <= $2) ORDER BY created_ms, id LIMIT $1",
    )
    .bind(limit)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let payload: String = text(r, "payload")?;
            Ok(OutboxRow {
                id: text(r, "id")?,
                site_id: text(r, "site_id")?,
                channel: text(r, "channel")?,
                recipient: text(r, "recipient")?,
                subject: text(r, "subject")?,
                body: text(r, "body")?,
                payload: serde_json::from_str(&payload)
                    .map_err(|e| sqlx::Error::Decode(e.into()))?,
                created_ms: int(r, "created_ms")?,
                attempts: int(r, "attempts")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// A message's delivery status, without its content (codes stay out of reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStatusRow {
    pub id: String,
    pub channel: String,
    pub kind: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub delivered_ms: Option<i64>,
    pub not_before_ms: Option<i64>,
}

/// A site's messages, newest first, optionally of one status.
pub async fn messages_of_site(
    conn: &mut AnyConnection,
    site_id: &str,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<MessageStatusRow>, OpError> {
    let rows = sqlx::query(
        "SELECT id, channel, payload, status, attempts, last_error, created_ms, delivered_ms, not_before_ms \
         FROM outbox WHERE site_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY created_ms DESC, id LIMIT $3",
    )
    .bind(site_id.to_string())
    .bind(status.map(str::to_string))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let payload: serde_json::Value =
                serde_json::from_str(&text(r, "payload")?).unwrap_or_default();
            Ok(MessageStatusRow {
                id: text(r, "id")?,
                channel: text(r, "channel")?,
                kind: payload["kind"].as_str().map(str::to_string),
                status: text(r, "status")?,
                attempts: int(r, "attempts")?,
                last_error: opt_text(r, "last_error")?,
                created_ms: int(r, "created_ms")?,
                delivered_ms: r.try_get::<Option<i64>, _>("delivered_ms")?,
                not_before_ms: r.try_get::<Option<i64>, _>("not_before_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// One outgoing message, stored before anyone is told the change happened.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub site_id: String,
    /// `email`, `sms` or `staff` (no contact details: concierge passes it on).
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    /// Structured content for transports (codes, links, parcel ids).
    pub payload: serde_json::Value,
}

pub async fn enqueue(conn: &mut AnyConnection, msg: &Message, now: Millis) -> Result<(), OpError> {
    enqueue_not_before(conn, msg, now, None).await
}

/// Queues a message that must not be delivered before `not_before` (the end
/// of quiet hours).
pub async fn enqueue_not_before(
    conn: &mut AnyConnection,
    msg: &Message,
    now: Millis,
    not_before: Option<Millis>,
) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO outbox (id, created_ms, site_id, channel, recipient, subject, body, payload, status, attempts, not_before_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9)",
    )
    .bind(msg.id.clone())
    .bind(now)
    .bind(msg.site_id.clone())
    .bind(msg.channel.clone())
    .bind(msg.recipient.clone())
    .bind(msg.subject.clone())
    .bind(msg.body.clone())
    .bind(msg.payload.to_string())
    .bind(not_before)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn mark_delivered(
    conn: &mut AnyConnection,
    id: &str,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query("UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_ms = $1 WHERE id = $2")
        .bind(now)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    erase_secrets(conn, id).await
}

/// A message delivered or given up on keeps no pick-up code, QR token or
/// text that carries them: what remains is its kind, recipient and status.
async fn erase_secrets(conn: &mut AnyConnection, id: &str) -> Result<(), OpError> {
    let Some(row) = sqlx::query(
        "SELECT payload FROM outbox WHERE id = $1 AND status IN ('delivered', 'failed')",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(());
    };
    let mut payload: serde_json::Value =
        serde_json::from_str(&text(&row, "payload")?).unwrap_or_default();
    for secret in ["code", "qr_token"] {
        if let Some(o) = payload.as_object_mut() {
            o.remove(secret);
        }
        if let Some(o) = payload.get_mut("notice").and_then(|n| n.as_object_mut()) {
            o.remove(secret);
        }
    }
    sqlx::query("UPDATE outbox SET body = '', payload = $1 WHERE id = $2")
        .bind(payload.to_string())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records a failed attempt: retried at `retry_at`, or parked as `failed`
/// after `max_attempts` (or at once when the failure is permanent).
pub async fn mark_failed(
    conn: &mut AnyConnection,
    id: &str,
    error: &str,
    max_attempts: i64,
    retry_at: Option<Millis>,
) -> Result<(), OpError> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $1, not_before_ms = $4, \
         status = CASE WHEN attempts + 1 >= $2 OR $4 IS NULL THEN 'failed' ELSE 'pending' END WHERE id = $3",
    )
    .bind(error.chars().take(500).collect::<String>())
    .bind(max_attempts)
    .bind(id.to_string())
    .bind(retry_at)
    .execute(&mut *conn)
    .await?;
    // Given up on: nothing will ever send it, so nothing keeps its secrets.
    erase_secrets(conn, id).await
}

/// Takes a due message for `lease_ms` so that no other instance sends it at
/// the same time; false if another one has it (or it is no longer due).
pub async fn claim_message(
    conn: &mut AnyConnection,
    id: &str,
    now: Millis,
    lease_ms: Millis,
) -> Result<bool, OpError> {
    let done = sqlx::query(
        "UPDATE outbox SET not_before_ms = $1 WHERE id = $2 AND status = 'pending' \
         AND (not_before_ms IS NULL OR not_before_ms <= $3)",
    )
    .bind(now + lease_ms)
    .bind(id.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An operator's template override (validated by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateOverride {
    pub kind: String,
    pub language: String,
    pub part: String,
    pub source: String,
    pub updated_ms: Millis,
    pub updated_by: String,
}

pub async fn put_template(
    conn: &mut AnyConnection,
    site_id: &str,
    t: &TemplateOverride,
) -> Result<(), OpError> {
    sqlx::query(
        "DELETE FROM site_templates WHERE site_id = $1 AND kind = $2 AND language = $3 AND part = $4",
    )
    .bind(site_id.to_string())
    .bind(t.kind.clone())
    .bind(t.language.clone())
    .bind(t.part.clone())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO site_templates (site_id, kind, language, part, source, updated_ms, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(site_id.to_string())
    .bind(t.kind.clone())
    .bind(t.language.clone())
    .bind(t.part.clone())
    .bind(t.source.clone())
    .bind(t.updated_ms)
    .bind(t.updated_by.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes an override; false when there was none.
pub async fn delete_template(
    conn: &mut AnyConnection,
    site_id: &str,
    kind: &str,
    language: &str,
    part: &str,
) -> Result<bool, OpError> {
    let done = sqlx::query(
        "DELETE FROM site_templates WHERE site_id = $1 AND kind = $2 AND language = $3 AND part = $4",
    )
    .bind(site_id.to_string())
    .bind(kind.to_string())
    .bind(language.to_string())
    .bind(part.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn templates_of_site(
    conn: &mut AnyConnection,
    site_id: &str,
) -> Result<Vec<TemplateOverride>, OpError> {
    let rows = sqlx::query(
        "SELECT kind, language, part, source, updated_ms, updated_by FROM site_templates \
         WHERE site_id = $1 ORDER BY kind, language, part",
    )
    .bind(site_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TemplateOverride {
                kind: text(r, "kind")?,
                language: text(r, "language")?,
                part: text(r, "part")?,
                source: text(r, "source")?,
                updated_ms: int(r, "updated_ms")?,
                updated_by: text(r, "updated_by")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// A browser subscribed to a resident's web push notices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscriptionRow {
    pub id: String,
    pub resident_id: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_ms: Millis,
}

pub async fn add_push_subscription(
    conn: &mut AnyConnection,
    s: &PushSubscriptionRow,
) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO push_subscriptions (id, resident_id, endpoint, p256dh, auth, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(s.id.clone())
    .bind(s.resident_id.clone())
    .bind(s.endpoint.clone())
    .bind(s.p256dh.clone())
    .bind(s.auth.clone())
    .bind(s.created_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn delete_push_subscription(conn: &mut AnyConnection, id: &str) -> Result<bool, OpError> {
    let done = sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn push_subscriptions_of(
    conn: &mut AnyConnection,
    resident_id: &str,
) -> Result<Vec<PushSubscriptionRow>, OpError> {
    let rows = sqlx::query(
        "SELECT id, resident_id, endpoint, p256dh, auth, created_ms FROM push_subscriptions WHERE resident_id = $1 ORDER BY id",
    )
    .bind(resident_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PushSubscriptionRow {
                id: text(r, "id")?,
                resident_id: text(r, "resident_id")?,
                endpoint: text(r, "endpoint")?,
                p256dh: text(r, "p256dh")?,
                auth: text(r, "auth")?,
                created_ms: int(r, "created_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// Copies a resident's message to each of their subscribed browsers (web
/// push), in the same transaction.
pub async fn enqueue_push_copies(
    conn: &mut AnyConnection,
    msg: &Message,
    resident_id: &str,
    now: Millis,
    mut new_id: impl FnMut() -> String,
) -> Result<(), OpError> {
    for s in push_subscriptions_of(conn, resident_id).await? {
        let mut payload = msg.payload.clone();
        payload["push"] =
            serde_json::json!({"endpoint": s.endpoint, "p256dh": s.p256dh, "auth": s.auth});
        let copy = Message {
            id: new_id(),
            site_id: msg.site_id.clone(),
            channel: "push".into(),
            recipient: s.id.clone(),
            subject: msg.subject.clone(),
            body: msg.body.clone(),
            payload,
        };
        enqueue(conn, &copy, now).await?;
    }
    Ok(())
}
