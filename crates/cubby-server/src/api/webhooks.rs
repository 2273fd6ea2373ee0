//! Webhook subscriptions of an organisation: create (the signing secret is
//! shown once), list, disable, the delivery log, and replay.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cubby_domain::codes::Code;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::webhooks::SubscriptionRow;
use cubby_webhooks::{EventFilter, Secret};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sites::site_for;
use crate::auth::{Audit, Caller};
use cubby_domain::audit::AuditAction;
use cubby_domain::model::Role;

/// Who may subscribe: managers for their organisation, carriers for their
/// own parcels.
const SUBSCRIBERS: &[Role] = &[Role::Manager, Role::Carrier];

/// What a carrier may hear about its parcels: not when residents collect
/// them or are reminded (occupancy timing is the residents' business).
const CARRIER_EVENTS: &[cubby_webhooks::EventType] = &[
    cubby_webhooks::EventType::ParcelAnnounced,
    cubby_webhooks::EventType::ParcelDeposited,
    cubby_webhooks::EventType::ParcelExpired,
    cubby_webhooks::EventType::ParcelReturned,
    cubby_webhooks::EventType::ParcelDroppedOff,
    cubby_webhooks::EventType::ParcelRedirected,
];
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::{JsonBody, QueryParams};
use crate::{AppState, new_id, now_ms, os_rng};

const SUBSCRIPTION_PREFIX: &str = "whs";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// https, or http to a loopback address for testing.
    pub url: String,
    /// Event types or patterns: `parcel.deposited`, `parcel.*`, `*`.
    pub events: Vec<String>,
    /// Only this site's events (default: every site of the organisation).
    pub site_id: Option<String>,
    /// The organisation (admin tokens only; others use their own).
    pub org_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Webhook {
    pub id: String,
    pub org_id: String,
    pub site_id: Option<String>,
    /// Set for a carrier's own subscription: only its parcels.
    pub carrier: Option<String>,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub created_ms: i64,
    /// The signing secret (`whsec_…`): only in the answer that creates it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<SubscriptionRow> for Webhook {
    fn from(s: SubscriptionRow) -> Self {
        Webhook {
            id: s.id,
            org_id: s.org_id,
            site_id: s.site_id,
            carrier: s.carrier,
            url: s.url,
            events: s.filter,
            active: s.active,
            disabled_reason: s.disabled_reason,
            created_ms: s.created_ms,
            secret: None,
        }
    }
}

/// Subscribe an endpoint to events. Deliveries are signed after the Standard
/// Webhooks specification (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature`); the event schemas are in this document's components.
///
/// Managers subscribe for their organisation. A carrier token subscribes for
/// its own parcels only (announced, deposited, expired, returned): this is how
/// a carrier hears that a parcel waits for it in the return queue.
#[utoipa::path(post, path = "/api/v1/webhooks", request_body = NewWebhook,
    responses((status = 201, body = Webhook), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_webhook(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    body: JsonBody<NewWebhook>,
) -> ApiResult<Response> {
    caller.require(SUBSCRIBERS)?;
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let req = body.value;
    let url = cubby_webhooks::validate_url(&req.url, state.policies.webhook_targets)
        .map_err(|e| ApiError::invalid("url", e))?
        .to_string();
    let filter = EventFilter::parse(&req.events).map_err(|e| ApiError::invalid("events", e))?;
    let carrier = if caller.role == Role::Carrier {
        if let Some(t) = filter
            .matching_types()
            .into_iter()
            .find(|t| !CARRIER_EVENTS.contains(t))
        {
            return Err(ApiError::invalid(
                "events",
                format!("a carrier may not subscribe to {}", t.as_str()),
            ));
        }
        caller.carrier.clone()
    } else {
        None
    };
    let (org_id, site_id) = match (&req.site_id, &caller.org_id, &req.org_id) {
        (Some(site), _, _) => {
            let site = site_for(&state, &caller, site).await?;
            (site.org_id, Some(site.id))
        }
        (None, Some(own), None) => (own.clone(), None),
        (None, Some(own), Some(given)) if own == given => (own.clone(), None),
        (None, Some(_), Some(_)) => return Err(ApiError::not_found("organisation")),
        (None, None, Some(given)) => (given.clone(), None),
        (None, None, None) => {
            return Err(ApiError::invalid(
                "org_id",
                "an admin token must say which organisation the webhook is for",
            ));
        }
    };
    let secret = Secret::generate(&mut os_rng());
    let row = SubscriptionRow {
        id: new_id(SUBSCRIPTION_PREFIX),
        org_id,
        site_id,
        carrier,
        url,
        secret: secret.expose(),
        filter: filter.to_strings(),
        active: true,
        disabled_reason: None,
        created_ms: now_ms(),
    };
    let stored = row.clone();
    let audit = Audit::new(
        &caller,
        AuditAction::WebhookChanged,
        format!("webhook:{}", row.id),
        format!("created for {}", row.url),
    )
    .in_org(row.org_id.clone());
    let now = row.created_ms;
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::webhooks::create_subscription(conn, &stored).await?;
                audit.record(conn, now).await
            })
        })
        .await?;
    let mut answer = Webhook::from(row);
    answer.secret = Some(secret.expose());
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// The organisation's webhook subscriptions (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/webhooks", responses((status = 200, body = [Webhook])))]
pub async fn list_webhooks(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Webhook>>> {
    caller.require(SUBSCRIBERS)?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let carrier = (caller.role == Role::Carrier)
        .then(|| caller.carrier.clone())
        .flatten();
    let rows =
        db::webhooks::subscriptions_of_org(&mut conn, caller.org_id.as_deref(), carrier.as_deref())
            .await?;
    Ok(Json(rows.into_iter().map(Webhook::from).collect()))
}

async fn own_subscription(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> ApiResult<SubscriptionRow> {
    caller.require(SUBSCRIBERS)?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let s = db::webhooks::subscription(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("webhook"))?;
    let carrier_of_other = caller.role == Role::Carrier && s.carrier != caller.carrier;
    match &caller.org_id {
        Some(org) if *org != s.org_id => Err(ApiError::not_found("webhook")),
        _ if carrier_of_other => Err(ApiError::not_found("webhook")),
        _ => Ok(s),
    }
}

/// Stop a subscription; what it still had to deliver is cancelled.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/disable", params(("webhook_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn disable_webhook(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(webhook_id): Path<String>,
) -> ApiResult<Response> {
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let s = own_subscription(&state, &caller, &webhook_id).await?;
    let reason = format!("disabled by {}", caller.actor());
    let audit = Audit::new(
        &caller,
        AuditAction::WebhookChanged,
        format!("webhook:{}", s.id),
        "disabled",
    )
    .in_org(s.org_id.clone());
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::webhooks::disable_subscription(conn, &s.id, &reason).await?;
                audit.record(conn, now_ms()).await
            })
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize, ToSchema)]
pub struct Delivery {
    /// The `webhook-id` the endpoint saw.
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    /// pending, delivered, failed or cancelled.
    pub status: String,
    pub attempts: i64,
    /// When the next attempt is due (pending only).
    pub next_ms: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub delivered_ms: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// The delivery log of a subscription, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}/deliveries", params(("webhook_id" = String, Path), DeliveriesQuery),
    responses((status = 200, body = [Delivery]), (status = 404, body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
    QueryParams(q): QueryParams<DeliveriesQuery>,
) -> ApiResult<Json<Vec<Delivery>>> {
    let s = own_subscription(&state, &caller, &webhook_id).await?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::webhooks::deliveries_of(&mut conn, &s.id, limit).await?;
    Ok(Json(
        rows.into_iter()
            .map(|d| Delivery {
                id: d.id,
                event_id: d.event_id,
                event_type: d.event_type,
                status: d.status,
                attempts: d.attempts,
                next_ms: d.next_ms,
                last_status: d.last_status,
                last_error: d.last_error,
                created_ms: d.created_ms,
                delivered_ms: d.delivered_ms,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    /// Replay this one event…
    pub event_id: Option<String>,
    /// …or every event since this instant (ms since the epoch; default 0).
    pub since_ms: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Replayed {
    pub queued: u64,
}

/// Send events again (new deliveries, same event ids and bodies).
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/replay", params(("webhook_id" = String, Path)), request_body = ReplayBody,
    responses((status = 200, body = Replayed), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Path(webhook_id): Path<String>,
    body: JsonBody<ReplayBody>,
) -> ApiResult<Json<Replayed>> {
    let s = own_subscription(&state, &caller, &webhook_id).await?;
    if !s.active {
        return Err(ApiError::new(
            Code::WebhookDisabled,
            "this webhook is disabled; create a new one",
        ));
    }
    let req = body.value;
    let now = state.clock.now();
    let queued = state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::webhooks::replay(
                    conn,
                    &s.id,
                    req.event_id.as_deref(),
                    req.since_ms.unwrap_or(0),
                    || cubby_webhooks::new_message_id(&mut os_rng()),
                    now,
                )
                .await
            })
        })
        .await?;
    Ok(Json(Replayed { queued }))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(disable_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(replay))
}
