//! Web push subscriptions: the key browsers subscribe with, and a resident's
//! subscribed browsers (their notices are pushed as well as mailed).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cubby_domain::codes::Code;
use cubby_store as db;
use cubby_store::OpError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::check_id;
use super::sites::site_for;
use crate::auth::{Caller, STAFF};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::JsonBody;
use crate::{AppState, new_id, now_ms};

const PUSH_SUBSCRIPTION: &str = "psub";

#[derive(Serialize, ToSchema)]
pub struct PushKey {
    /// The VAPID application server key (uncompressed P-256, base64url) for
    /// `pushManager.subscribe({applicationServerKey})`.
    pub public_key: String,
}

/// The key browsers subscribe to web push with.
#[utoipa::path(get, path = "/api/v1/push/key", responses((status = 200, body = PushKey)))]
pub async fn push_key(State(state): State<AppState>, _caller: Caller) -> ApiResult<Json<PushKey>> {
    let transport =
        cubby_notify::PushTransport::new(&crate::push_key_seed(&state.secret), crate::PUSH_SUBJECT)
            .map_err(|e| ApiError::new(Code::Unavailable, e.message))?;
    Ok(Json(PushKey {
        public_key: transport.public_key(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushKeys {
    pub p256dh: String,
    pub auth: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPushSubscription {
    /// The browser's push endpoint (https).
    pub endpoint: String,
    pub keys: PushKeys,
}

#[derive(Serialize, ToSchema)]
pub struct PushSubscribed {
    pub id: String,
    pub resident_id: String,
}

/// Subscribe a resident's browser to web push (what `pushManager.subscribe`
/// returned). Staff register it today; residents will from their portal.
#[utoipa::path(post, path = "/api/v1/residents/{resident_id}/push-subscriptions", params(("resident_id" = String, Path)),
    request_body = NewPushSubscription,
    responses((status = 201, body = PushSubscribed), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn subscribe(
    State(state): State<AppState>,
    caller: Caller,
    Path(resident_id): Path<String>,
    body: JsonBody<NewPushSubscription>,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    check_id(cubby_domain::ids::RESIDENT, &resident_id, "resident")?;
    let resident = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        cubby_store::residents::resident(&mut conn, &resident_id)
            .await?
            .ok_or_else(|| ApiError::not_found("resident"))?
    };
    site_for(&state, &caller, &resident.site_id)
        .await
        .map_err(|_| ApiError::not_found("resident"))?;
    let req = body.value;
    let endpoint = cubby_webhooks::validate_url(&req.endpoint, state.policies.webhook_targets)
        .map_err(|e| ApiError::invalid("endpoint", e))?
        .to_string();
    let sub = cubby_notify::PushSubscription {
        endpoint,
        p256dh: req.keys.p256dh,
        auth: req.keys.auth,
    };
    sub.validate().map_err(|e| ApiError::invalid("keys", e))?;
    let row = db::outbox::PushSubscriptionRow {
        id: new_id(PUSH_SUBSCRIPTION),
        resident_id: resident.id.clone(),
        endpoint: sub.endpoint,
        p256dh: sub.p256dh,
        auth: sub.auth,
        created_ms: now_ms(),
    };
    let answer = PushSubscribed {
        id: row.id.clone(),
        resident_id: resident.id,
    };
    state
        .store
        .transact(move |conn| {
            Box::pin(async move { db::outbox::add_push_subscription(conn, &row).await })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// Stop pushing to a browser.
#[utoipa::path(delete, path = "/api/v1/push-subscriptions/{subscription_id}", params(("subscription_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    caller: Caller,
    Path(subscription_id): Path<String>,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    let removed = state
        .store
        .transact(move |conn| {
            Box::pin(
                async move { db::outbox::delete_push_subscription(conn, &subscription_id).await },
            )
        })
        .await?;
    if !removed {
        return Err(ApiError::not_found("push subscription"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(push_key))
        .routes(routes!(subscribe))
        .routes(routes!(unsubscribe))
}
