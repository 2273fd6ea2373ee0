use cubby_domain::Millis;
use sqlx::AnyConnection;

use crate::OpError;

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
    sqlx::query(
        "INSERT INTO outbox (id, created_ms, site_id, channel, recipient, subject, body, payload, status, attempts) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0)",
    )
    .bind(msg.id.clone())
    .bind(now)
    .bind(msg.site_id.clone())
    .bind(msg.channel.clone())
    .bind(msg.recipient.clone())
    .bind(msg.subject.clone())
    .bind(msg.body.clone())
    .bind(msg.payload.to_string())
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
    Ok(())
}

/// Records a failed attempt; after `max_attempts` the message is parked as `failed`.
pub async fn mark_failed(
    conn: &mut AnyConnection,
    id: &str,
    error: &str,
    max_attempts: i64,
) -> Result<(), OpError> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $1, \
         status = CASE WHEN attempts + 1 >= $2 THEN 'failed' ELSE 'pending' END WHERE id = $3",
    )
    .bind(error.chars().take(500).collect::<String>())
    .bind(max_attempts)
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
