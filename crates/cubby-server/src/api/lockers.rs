//! Locker banks and their compartments; keypad review and code re-issue.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cubby_domain::ids;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::lockers::CompartmentRow;
use cubby_store::lockers::LockerRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::check_id;
use super::sites::site_for;
use crate::app;
use crate::auth::{Caller, MANAGERS, STAFF};
use crate::error::{ApiResult, ErrorBody};
use crate::write::{JsonBody, answer, idempotency_key, write_json};
use crate::{AppState, now_ms};

pub(crate) use crate::app::places::locker_for;

pub use crate::app::lockers::{NewLockerBody, new_locker};

#[derive(Serialize, ToSchema)]
pub struct Compartment {
    pub id: String,
    pub label: String,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    /// a, b, c or d (InPost-like, by the smallest inner side).
    pub size_class: String,
    pub temperature: String,
    pub height_above_floor_mm: u32,
    /// What the manager set: available, reserved or out_of_service.
    pub status: String,
    /// Why it is out of service, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// What it is now: available, reserved, occupied or out_of_service.
    pub state: String,
}

impl From<CompartmentRow> for Compartment {
    fn from(c: CompartmentRow) -> Self {
        Compartment {
            id: c.id,
            label: c.label,
            width_mm: c.width_mm,
            height_mm: c.height_mm,
            depth_mm: c.depth_mm,
            size_class: c.size_class,
            temperature: c.temperature.to_string(),
            height_above_floor_mm: c.height_above_floor_mm,
            status: c.status.to_string(),
            status_reason: c.status_reason,
            state: c.state.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Locker {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub carrier_quotas: std::collections::BTreeMap<String, u32>,
    /// Send it back with an edit (`PATCH /api/v1/lockers/{locker_id}`).
    pub version: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_position: Option<crate::app::lockers::PlanPositionBody>,
    pub compartments: Vec<Compartment>,
}

fn locker_dto(l: LockerRow, compartments: Vec<CompartmentRow>) -> Locker {
    Locker {
        id: l.id,
        site_id: l.site_id,
        name: l.name,
        carrier_quotas: l.carrier_quotas,
        version: l.version,
        plan_position: l
            .plan_position
            .map(|p| crate::app::lockers::PlanPositionBody {
                x_m: p.x_m,
                y_m: p.y_m,
            }),
        compartments: compartments.into_iter().map(Compartment::from).collect(),
    }
}

/// Add a locker bank with its compartments.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/lockers", params(("site_id" = String, Path)), request_body = NewLockerBody,
    responses((status = 201, body = Locker), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_locker(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewLockerBody>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let locker = new_locker(&state, site.id, body.value)?;
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let now = now_ms();
    write_json(&state, key, StatusCode::CREATED, move |conn| {
        Box::pin(async move {
            let (l, c) = db::lockers::create_locker(conn, &locker, now).await?;
            Ok(locker_dto(l, c))
        })
    })
    .await
}

/// List a site's lockers with live compartment state.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/lockers", params(("site_id" = String, Path)),
    responses((status = 200, body = Vec<Locker>), (status = 404, body = ErrorBody)))]
pub async fn list_lockers(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<Json<Vec<Locker>>> {
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let mut out = Vec::new();
    for l in db::lockers::lockers(&mut conn, &site.id).await? {
        let c = db::lockers::compartments(&mut conn, &l.id).await?;
        out.push(locker_dto(l, c));
    }
    Ok(Json(out))
}

/// Get a locker with live compartment state.
#[utoipa::path(get, path = "/api/v1/lockers/{locker_id}", params(("locker_id" = String, Path)),
    responses((status = 200, body = Locker), (status = 404, body = ErrorBody)))]
pub async fn get_locker(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
) -> ApiResult<Json<Locker>> {
    caller.require(STAFF)?;
    let (locker, _) = locker_for(&state, &caller, &locker_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let c = db::lockers::compartments(&mut conn, &locker.id).await?;
    Ok(Json(locker_dto(locker, c)))
}

pub use crate::app::lockers::LockerPatch;

/// Rename a locker or change its per-carrier quotas (managers). Send the
/// `version` you read: if someone edited the locker since, the answer is 409
/// `edit_conflict` and nothing changes.
#[utoipa::path(patch, path = "/api/v1/lockers/{locker_id}", params(("locker_id" = String, Path)), request_body = LockerPatch,
    responses((status = 200, body = Locker), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_locker(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
    body: JsonBody<LockerPatch>,
) -> ApiResult<Json<Locker>> {
    let (l, c) = app::lockers::edit_locker(&state, &caller, &locker_id, body.value).await?;
    Ok(Json(locker_dto(l, c)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// available, reserved or out_of_service.
    pub status: String,
    /// Why a compartment is out of service (a broken hinge, a stuck lock);
    /// shown to staff. Kept only while it is out of service.
    pub reason: Option<String>,
}

pub use crate::app::Done;

/// Set a compartment's status (take it out of service, reserve it, or make it available).
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/compartments/{compartment_id}/status",
    params(("locker_id" = String, Path), ("compartment_id" = String, Path)), request_body = StatusBody,
    responses((status = 200, body = Done), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_compartment_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((locker_id, compartment_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: JsonBody<StatusBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let req = body.value;
    let done = app::lockers::set_compartment_status(
        &state,
        &caller,
        &locker_id,
        &compartment_id,
        &req.status,
        req.reason.as_deref(),
        key,
    )
    .await?;
    Ok(answer(done))
}

/// Staff review of a keypad disabled after too many wrong codes: accept codes again.
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/keypad/reset", params(("locker_id" = String, Path)),
    responses((status = 200, body = Done), (status = 404, body = ErrorBody)))]
pub async fn reset_keypad(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    let (locker, _) = locker_for(&state, &caller, &locker_id).await?;
    let key = idempotency_key(&headers, &caller, [0; 32])?;
    write_json(&state, key, StatusCode::OK, move |conn| {
        Box::pin(async move {
            db::lockers::reset_keypad(conn, &locker.id).await?;
            Ok(Done { ok: true })
        })
    })
    .await
}

pub use crate::app::lockers::ReissuedCode;

/// Replace a resident's keypad code at a locker; the new code is sent to them, never returned here.
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/residents/{resident_id}/code",
    params(("locker_id" = String, Path), ("resident_id" = String, Path)),
    responses((status = 200, body = ReissuedCode), (status = 404, body = ErrorBody)))]
pub async fn reissue_code(
    State(state): State<AppState>,
    caller: Caller,
    Path((locker_id, resident_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    let (locker, site) = locker_for(&state, &caller, &locker_id).await?;
    check_id(ids::RESIDENT, &resident_id, "resident")?;
    let key = idempotency_key(&headers, &caller, [1; 32])?;
    let done = app::lockers::reissue_code(&state, &locker, &site, &resident_id, key).await?;
    Ok(answer(done))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_locker, list_lockers))
        .routes(routes!(get_locker, patch_locker))
        .routes(routes!(set_compartment_status))
        .routes(routes!(reset_keypad))
        .routes(routes!(reissue_code))
}
