//! Locker agents: provisioning, status, their event journals, remote opens by
//! staff, and incidents.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cubby_domain::ids;
use cubby_protocol::messages::DeviceIdentity;
use cubby_store as db;
use cubby_store::OpError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::check_id;
use super::lockers::locker_for;
use super::sites::site_for;
use crate::app::{self, Changes};
use crate::auth::step_up::STEP_UP_HEADER;
use crate::auth::{Audit, Caller, MANAGERS, STAFF};
use crate::devices::{device_secret_mac, locker_credential_key, signing_key};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::{JsonBody, QueryParams, answer, idempotency_key};
use crate::{AppState, new_id, now_ms, os_random};
use cubby_domain::audit::AuditAction;

/// The identity file of a new device. The secret is shown once.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkOpenBody {
    /// The compartments to open (2 to 100 labels).
    pub labels: Vec<String>,
    /// Why; kept with the request, the commands and the audit log.
    pub reason: String,
}

pub use crate::app::devices::BulkOpen;

/// Ask to open several compartments at once (managers, with a step-up in
/// `Cubby-Step-Up`). Nothing opens until a second staff member approves.
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/bulk-opens",
    params(("locker_id" = String, Path),
        ("Cubby-Step-Up" = String, Header, description = "A step-up proof from /api/v1/step-up/finish")),
    request_body = BulkOpenBody,
    responses((status = 202, body = BulkOpen), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn request_bulk_open(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<BulkOpenBody>,
) -> ApiResult<Response> {
    let step_up = headers.get(STEP_UP_HEADER).and_then(|v| v.to_str().ok());
    let req = body.value;
    let asked = app::devices::request_bulk_open(
        &state,
        &caller,
        &locker_id,
        req.labels,
        &req.reason,
        step_up,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(asked)).into_response())
}

/// Approve a bulk open: a second staff member (not the one who asked), with
/// their own step-up. Every door of the request is queued.
#[utoipa::path(post, path = "/api/v1/bulk-opens/{bulk_open_id}/approve",
    params(("bulk_open_id" = String, Path),
        ("Cubby-Step-Up" = String, Header, description = "A step-up proof from /api/v1/step-up/finish")),
    responses((status = 202, body = BulkOpen), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve_bulk_open(
    State(state): State<AppState>,
    caller: Caller,
    Path(bulk_open_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let step_up = headers.get(STEP_UP_HEADER).and_then(|v| v.to_str().ok());
    let done = app::devices::approve_bulk_open(&state, &caller, &bulk_open_id, step_up).await?;
    Ok((StatusCode::ACCEPTED, Json(done)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct ProvisionedDevice {
    pub device_id: String,
    pub locker_id: String,
    /// MQTT password; only its MAC is stored.
    pub secret: String,
    /// Hex key for checking this locker's pick-up credentials offline.
    pub credential_key: String,
    /// Hex Ed25519 key that commands and caches are signed with.
    pub server_public_key: String,
}

/// Register a locker agent and get its identity file (`cubby agent --identity`).
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/devices", params(("locker_id" = String, Path)),
    responses((status = 201, body = ProvisionedDevice), (status = 404, body = ErrorBody)))]
pub async fn add_device(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(locker_id): Path<String>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let (locker, site) = locker_for(&state, &caller, &locker_id).await?;
    let device_id = new_id(ids::DEVICE);
    let mut raw = [0u8; 24];
    os_random(&mut raw);
    let secret = hex::encode(raw);
    let mac = device_secret_mac(&state.secret, &secret);
    let now = now_ms();
    let (dev, lck) = (device_id.clone(), locker.id.clone());
    let changes = Changes::none().and_device(device_id.clone());
    let audit = Audit::new(
        &caller,
        AuditAction::DeviceChanged,
        format!("device:{device_id}"),
        format!("provisioned for locker {}", locker.id),
    )
    .in_org(site.org_id.clone());
    app::commit(&state, move |conn| {
        Box::pin(async move {
            db::devices::add_device(conn, &dev, &lck, &mac, now).await?;
            audit.record(conn, now).await?;
            Ok(((), changes))
        })
    })
    .await?;
    // The embedded broker lets it in from now on.
    state.devices.add_credential(device_id.clone(), mac);
    let identity = DeviceIdentity {
        device_id,
        credential_key: hex::encode(locker_credential_key(&state.secret, &locker.id)),
        locker_id: locker.id,
        secret,
        server_public_key: cubby_protocol::signing::public_key_hex(&signing_key(&state.secret)),
    };
    Ok((StatusCode::CREATED, Json(identity)).into_response())
}

#[derive(Serialize, ToSchema)]
pub struct Device {
    pub id: String,
    pub locker_id: String,
    pub online: bool,
    pub revoked: bool,
    pub last_seen_ms: Option<i64>,
    /// Journal entries stored so far.
    pub journal_seq: i64,
    pub cache_version: i64,
    /// The device's last full state snapshot (device protocol `state`).
    #[schema(value_type = Object)]
    pub state: Option<serde_json::Value>,
}

impl From<db::devices::DeviceRow> for Device {
    fn from(d: db::devices::DeviceRow) -> Self {
        Device {
            id: d.id,
            locker_id: d.locker_id,
            online: d.online && !d.revoked,
            revoked: d.revoked,
            last_seen_ms: d.last_seen_ms,
            journal_seq: d.journal_seq,
            cache_version: d.cache_version,
            state: d.state.and_then(|s| serde_json::from_str(&s).ok()),
        }
    }
}

/// The locker's agents with their online status and last state.
#[utoipa::path(get, path = "/api/v1/lockers/{locker_id}/devices", params(("locker_id" = String, Path)),
    responses((status = 200, body = [Device]), (status = 404, body = ErrorBody)))]
pub async fn list_devices(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
) -> ApiResult<Json<Vec<Device>>> {
    caller.require(STAFF)?;
    let (locker, _) = locker_for(&state, &caller, &locker_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::devices::devices_of_locker(&mut conn, &locker.id).await?;
    Ok(Json(rows.into_iter().map(Device::from).collect()))
}

async fn device_for(
    state: &AppState,
    caller: &Caller,
    device_id: &str,
) -> ApiResult<db::devices::DeviceRow> {
    check_id(ids::DEVICE, device_id, "device")?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let dev = db::devices::device(&mut conn, device_id)
        .await?
        .filter(|d| caller.sees_org(&d.org_id))
        .ok_or_else(|| ApiError::not_found("device"))?;
    Ok(dev)
}

/// Revoke a device: the broker refuses it from its next connection.
#[utoipa::path(post, path = "/api/v1/devices/{device_id}/revoke", params(("device_id" = String, Path)),
    responses((status = 200, body = Device), (status = 404, body = ErrorBody)))]
pub async fn revoke_device(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(device_id): Path<String>,
) -> ApiResult<Json<Device>> {
    caller.require(MANAGERS)?;
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let dev = device_for(&state, &caller, &device_id).await?;
    let id = dev.id.clone();
    let audit = Audit::new(
        &caller,
        AuditAction::DeviceChanged,
        format!("device:{id}"),
        "revoked",
    )
    .in_org(dev.org_id.clone());
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::devices::revoke_device(conn, &id).await?;
                audit.record(conn, now_ms()).await
            })
        })
        .await?;
    state.devices.remove_credential(&dev.id);
    let dev = device_for(&state, &caller, &device_id).await?;
    Ok(Json(Device::from(dev)))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Return entries after this journal sequence number (default 0).
    pub after: Option<i64>,
    /// At most this many (default 100, maximum 1000).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceEvent {
    pub seq: i64,
    pub at_ms: i64,
    pub kind: String,
    pub compartment: Option<String>,
    #[schema(value_type = Object)]
    pub event: serde_json::Value,
}

/// The device's journal as stored on the server, in order, each entry once.
#[utoipa::path(get, path = "/api/v1/devices/{device_id}/events", params(("device_id" = String, Path), EventsQuery),
    responses((status = 200, body = [DeviceEvent]), (status = 404, body = ErrorBody)))]
pub async fn device_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(device_id): Path<String>,
    QueryParams(q): QueryParams<EventsQuery>,
) -> ApiResult<Json<Vec<DeviceEvent>>> {
    caller.require(STAFF)?;
    let dev = device_for(&state, &caller, &device_id).await?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 1000"));
    }
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows =
        db::devices::device_events(&mut conn, &dev.id, q.after.unwrap_or(0).max(0), limit).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| DeviceEvent {
                seq: r.seq,
                at_ms: r.at_ms,
                kind: r.kind,
                compartment: r.compartment,
                event: serde_json::from_str(&r.body).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenBody {
    /// Why staff open this door remotely; kept with the command.
    pub reason: String,
}

pub use crate::app::devices::OpenQueued;

/// Open one compartment remotely (managers). Needs a step-up proof in the
/// `Cubby-Step-Up` header (see `/api/v1/step-up/start`). The locker enforces
/// its own cap on remote opens of occupied compartments; beyond it the door
/// stays shut and an incident is recorded.
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/compartments/{label}/open",
    params(("locker_id" = String, Path), ("label" = String, Path),
        ("Cubby-Step-Up" = String, Header, description = "A step-up proof from /api/v1/step-up/finish")),
    request_body = OpenBody,
    responses((status = 202, body = OpenQueued), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn open_compartment(
    State(state): State<AppState>,
    caller: Caller,
    Path((locker_id, label)): Path<(String, String)>,
    headers: HeaderMap,
    body: JsonBody<OpenBody>,
) -> ApiResult<Response> {
    let step_up = headers.get(STEP_UP_HEADER).and_then(|v| v.to_str().ok());
    // The step-up is checked before the idempotency key is looked at, as
    // every remote open must prove a fresh passkey.
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let done = app::devices::remote_open(
        &state,
        &caller,
        &locker_id,
        label,
        &body.value.reason,
        step_up,
        key,
    )
    .await?;
    Ok(answer(done))
}

pub use super::incidents::Incident;

/// A site's incidents, newest first.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/incidents", params(("site_id" = String, Path)),
    responses((status = 200, body = [Incident]), (status = 404, body = ErrorBody)))]
pub async fn list_incidents(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<Json<Vec<Incident>>> {
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::incidents::incidents(&mut conn, None, Some(&site.id), 500).await?;
    Ok(Json(rows.into_iter().map(Incident::from).collect()))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_device, list_devices))
        .routes(routes!(revoke_device))
        .routes(routes!(device_events))
        .routes(routes!(open_compartment))
        .routes(routes!(request_bulk_open))
        .routes(routes!(approve_bulk_open))
        .routes(routes!(list_incidents))
}
