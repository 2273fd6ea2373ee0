//! Webhook subscriptions, events derived behind a cursor, deliveries and retries.

use cubby_domain::Millis;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::OpError;
use crate::rows::{int, locked, opt_text, text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRow {
    pub id: String,
    pub org_id: String,
    pub site_id: Option<String>,
    /// A carrier's subscription hears only about that carrier's parcels.
    pub carrier: Option<String>,
    pub url: String,
    pub secret: String,
    pub filter: Vec<String>,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub created_ms: Millis,
}

fn subscription_row(r: &sqlx::any::AnyRow) -> Result<SubscriptionRow, sqlx::Error> {
    Ok(SubscriptionRow {
        id: text(r, "id")?,
        org_id: text(r, "org_id")?,
        site_id: opt_text(r, "site_id")?,
        carrier: opt_text(r, "carrier")?,
        url: text(r, "url")?,
        secret: text(r, "secret")?,
        filter: serde_json::from_str(&text(r, "filter")?).unwrap_or_default(),
        active: int(r, "active")? != 0,
        disabled_reason: opt_text(r, "disabled_reason")?,
        created_ms: int(r, "created_ms")?,
    })
}

const SUBSCRIPTION_COLUMNS: &str =
    "id, org_id, site_id, carrier, url, secret, filter, active, disabled_reason, created_ms";

/// Stores a subscription and starts its sites' cursors at their current head:
/// a new subscription hears what happens from now on.
pub async fn create_subscription(
    conn: &mut AnyConnection,
    s: &SubscriptionRow,
) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO webhook_subscriptions (id, org_id, site_id, url, secret, filter, active, created_ms, carrier) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)",
    )
    .bind(s.id.clone())
    .bind(s.org_id.clone())
    .bind(s.site_id.clone())
    .bind(s.url.clone())
    .bind(s.secret.clone())
    .bind(serde_json::to_string(&s.filter).unwrap_or_else(|_| "[]".into()))
    .bind(s.created_ms)
    .bind(s.carrier.clone())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO webhook_cursors (site_id, custody_seq) \
         SELECT h.site_id, h.seq FROM custody_heads h JOIN sites s ON s.id = h.site_id \
         WHERE s.org_id = $1 AND ($2 IS NULL OR s.id = $2) \
         ON CONFLICT (site_id) DO NOTHING",
    )
    .bind(s.org_id.clone())
    .bind(s.site_id.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An organisation's subscriptions (all with None), or one carrier's.
pub async fn subscriptions_of_org(
    conn: &mut AnyConnection,
    org_id: Option<&str>,
    carrier: Option<&str>,
) -> Result<Vec<SubscriptionRow>, OpError> {
    let sql = format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE ($1 IS NULL OR org_id = $1) \
         AND ($2 IS NULL OR carrier = $2) ORDER BY created_ms, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org_id.map(str::to_string))
        .bind(carrier.map(str::to_string))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(subscription_row)
        .collect::<Result<_, _>>()
        .map_err(OpError::from)
}

pub async fn subscription(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<SubscriptionRow>, OpError> {
    let sql = format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref()
        .map(subscription_row)
        .transpose()
        .map_err(OpError::from)
}

/// Stops a subscription and cancels what it still had to deliver.
pub async fn disable_subscription(
    conn: &mut AnyConnection,
    id: &str,
    reason: &str,
) -> Result<(), OpError> {
    let done = sqlx::query(
        "UPDATE webhook_subscriptions SET active = 0, disabled_reason = $1 WHERE id = $2",
    )
    .bind(reason.to_string())
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(OpError::NotFound {
            what: "webhook subscription",
        });
    }
    sqlx::query(
        "UPDATE webhook_deliveries SET status = 'cancelled', last_error = $1 WHERE subscription_id = $2 AND status = 'pending'",
    )
    .bind(reason.to_string())
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One custody event not yet turned into a webhook event, with what a
/// payload may carry about its parcel (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustodyForWebhook {
    pub site_id: String,
    pub org_id: String,
    pub seq: i64,
    pub parcel_id: String,
    pub kind: String,
    pub at_ms: Millis,
    pub locker_id: Option<String>,
    pub compartment_id: Option<String>,
    pub compartment_label: Option<String>,
    pub carrier: Option<String>,
    pub state: String,
    /// The locker a pre-advised parcel was redirected to.
    pub redirected_to: Option<String>,
}

/// Custody events past each site's cursor, in chain order.
pub async fn custody_for_webhooks(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<CustodyForWebhook>, OpError> {
    let rows = sqlx::query(
        "SELECT e.site_id, s.org_id, e.seq, e.parcel_id, e.kind, e.at_ms, p.locker_id, p.compartment_id, \
         c.label AS compartment_label, p.carrier, p.state, p.redirected_to \
         FROM webhook_cursors w JOIN custody_events e ON e.site_id = w.site_id AND e.seq > w.custody_seq \
         JOIN sites s ON s.id = e.site_id JOIN parcels p ON p.id = e.parcel_id \
         LEFT JOIN compartments c ON c.id = p.compartment_id \
         ORDER BY e.site_id, e.seq LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CustodyForWebhook {
                site_id: text(r, "site_id")?,
                org_id: text(r, "org_id")?,
                seq: int(r, "seq")?,
                parcel_id: text(r, "parcel_id")?,
                kind: text(r, "kind")?,
                at_ms: int(r, "at_ms")?,
                locker_id: opt_text(r, "locker_id")?,
                compartment_id: opt_text(r, "compartment_id")?,
                compartment_label: opt_text(r, "compartment_label")?,
                carrier: opt_text(r, "carrier")?,
                state: text(r, "state")?,
                redirected_to: opt_text(r, "redirected_to")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// Moves a site's cursor forward (never back), locking it for the transaction.
pub async fn advance_cursor(
    conn: &mut AnyConnection,
    site_id: &str,
    seq: i64,
) -> Result<bool, OpError> {
    let row = sqlx::query(locked!(
        conn,
        "SELECT custody_seq FROM webhook_cursors WHERE site_id = $1"
    ))
    .bind(site_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(false);
    };
    if int(&row, "custody_seq")? >= seq {
        // Another instance got here first.
        return Ok(false);
    }
    sqlx::query("UPDATE webhook_cursors SET custody_seq = $1 WHERE site_id = $2")
        .bind(seq)
        .bind(site_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// An incident not yet announced by webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentForWebhook {
    pub id: String,
    pub org_id: String,
    pub site_id: String,
    pub locker_id: Option<String>,
    pub compartment_label: Option<String>,
    pub parcel_id: Option<String>,
    pub kind: String,
    pub created_ms: Millis,
}

pub async fn incidents_for_webhooks(
    conn: &mut AnyConnection,
    limit: i64,
) -> Result<Vec<IncidentForWebhook>, OpError> {
    let rows = sqlx::query(
        "SELECT i.id, s.org_id, i.site_id, i.locker_id, i.compartment_label, i.parcel_id, i.kind, i.created_ms \
         FROM incidents i JOIN sites s ON s.id = i.site_id \
         WHERE i.webhook_emitted = 0 ORDER BY i.created_ms, i.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(IncidentForWebhook {
                id: text(r, "id")?,
                org_id: text(r, "org_id")?,
                site_id: text(r, "site_id")?,
                locker_id: opt_text(r, "locker_id")?,
                compartment_label: opt_text(r, "compartment_label")?,
                parcel_id: opt_text(r, "parcel_id")?,
                kind: text(r, "kind")?,
                created_ms: int(r, "created_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// Marks an incident announced; false if another instance already did.
pub async fn mark_incident_emitted(conn: &mut AnyConnection, id: &str) -> Result<bool, OpError> {
    let done = sqlx::query(
        "UPDATE incidents SET webhook_emitted = 1 WHERE id = $1 AND webhook_emitted = 0",
    )
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Active subscriptions that may hear about a site.
pub async fn subscriptions_for_site(
    conn: &mut AnyConnection,
    org_id: &str,
    site_id: &str,
) -> Result<Vec<SubscriptionRow>, OpError> {
    let sql = format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions \
         WHERE active = 1 AND org_id = $1 AND (site_id IS NULL OR site_id = $2) ORDER BY id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(org_id.to_string())
        .bind(site_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(subscription_row)
        .collect::<Result<_, _>>()
        .map_err(OpError::from)
}

/// Stores an event (once: the id is derived from its source).
#[allow(clippy::too_many_arguments)]
pub async fn insert_event(
    conn: &mut AnyConnection,
    id: &str,
    org_id: &str,
    site_id: &str,
    event_type: &str,
    body: &str,
    now: Millis,
) -> Result<bool, OpError> {
    let done = sqlx::query(
        "INSERT INTO webhook_events (id, org_id, site_id, type, body, created_ms) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(org_id.to_string())
    .bind(site_id.to_string())
    .bind(event_type.to_string())
    .bind(body.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_delivery(
    conn: &mut AnyConnection,
    id: &str,
    event_id: &str,
    subscription_id: &str,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, event_id, subscription_id, status, attempts, next_ms, created_ms) \
         VALUES ($1, $2, $3, 'pending', 0, $4, $4) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(event_id.to_string())
    .bind(subscription_id.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A delivery due now, with what is needed to send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    pub id: String,
    pub event_id: String,
    pub subscription_id: String,
    pub attempts: i64,
    pub url: String,
    pub secret: String,
    pub body: String,
}

pub async fn due_deliveries(
    conn: &mut AnyConnection,
    now: Millis,
    limit: i64,
) -> Result<Vec<DueDelivery>, OpError> {
    let rows = sqlx::query(
        "SELECT d.id, d.event_id, d.subscription_id, d.attempts, s.url, s.secret, e.body \
         FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id \
         JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.status = 'pending' AND d.next_ms <= $1 AND s.active = 1 ORDER BY d.next_ms, d.id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DueDelivery {
                id: text(r, "id")?,
                event_id: text(r, "event_id")?,
                subscription_id: text(r, "subscription_id")?,
                attempts: int(r, "attempts")?,
                url: text(r, "url")?,
                secret: text(r, "secret")?,
                body: text(r, "body")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// Takes a due delivery for `lease_ms`; false if another instance has it.
pub async fn claim_delivery(
    conn: &mut AnyConnection,
    id: &str,
    now: Millis,
    lease_ms: Millis,
) -> Result<bool, OpError> {
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET next_ms = $1 WHERE id = $2 AND status = 'pending' AND next_ms <= $3",
    )
    .bind(now + lease_ms)
    .bind(id.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    /// `pending` (retry at `next_ms`), `delivered` or `failed`.
    pub status: &'static str,
    pub next_ms: Millis,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub at_ms: Millis,
}

pub async fn record_attempt(
    conn: &mut AnyConnection,
    id: &str,
    a: &AttemptResult,
) -> Result<(), OpError> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, next_ms = $2, last_status = $3, \
         last_error = $4, delivered_ms = $5 WHERE id = $6",
    )
    .bind(a.status.to_string())
    .bind(a.next_ms)
    .bind(a.http_status.map(i64::from))
    .bind(a.error.clone())
    .bind((a.status == "delivered").then_some(a.at_ms))
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub next_ms: Millis,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_ms: Millis,
    pub delivered_ms: Option<Millis>,
}

pub async fn deliveries_of(
    conn: &mut AnyConnection,
    subscription_id: &str,
    limit: i64,
) -> Result<Vec<DeliveryRow>, OpError> {
    let rows = sqlx::query(
        "SELECT d.id, d.event_id, e.type, d.status, d.attempts, d.next_ms, d.last_status, d.last_error, \
         d.created_ms, d.delivered_ms FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.subscription_id = $1 ORDER BY d.created_ms DESC, d.id DESC LIMIT $2",
    )
    .bind(subscription_id.to_string())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DeliveryRow {
                id: text(r, "id")?,
                event_id: text(r, "event_id")?,
                event_type: text(r, "type")?,
                status: text(r, "status")?,
                attempts: int(r, "attempts")?,
                next_ms: int(r, "next_ms")?,
                last_status: r.try_get::<Option<i64>, _>("last_status")?,
                last_error: opt_text(r, "last_error")?,
                created_ms: int(r, "created_ms")?,
                delivered_ms: r.try_get::<Option<i64>, _>("delivered_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// Queues the subscription's events again (a new delivery each, sent now):
/// every event since `since_ms`, or one event.
pub async fn replay(
    conn: &mut AnyConnection,
    subscription_id: &str,
    event_id: Option<&str>,
    since_ms: Millis,
    mut new_id: impl FnMut() -> String,
    now: Millis,
) -> Result<u64, OpError> {
    let rows = sqlx::query(
        "SELECT DISTINCT d.event_id, e.created_ms FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.subscription_id = $1 AND e.created_ms >= $2 AND ($3 IS NULL OR d.event_id = $3) \
         ORDER BY e.created_ms, d.event_id LIMIT 10000",
    )
    .bind(subscription_id.to_string())
    .bind(since_ms)
    .bind(event_id.map(str::to_string))
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        insert_delivery(conn, &new_id(), &text(r, "event_id")?, subscription_id, now).await?;
    }
    Ok(rows.len() as u64)
}
