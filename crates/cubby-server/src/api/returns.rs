//! The return-to-carrier queue: parcels that expired at a locker wait for
//! their carrier. A carrier's (or courier's) token lists its own and takes
//! them back; the locker's agent opens the door for the courier.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use cubby_store as db;
use cubby_store::OpError;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::lockers::locker_for;
use crate::AppState;
use crate::app;
use crate::auth::step_up::STEP_UP_HEADER;
use crate::auth::{Caller, DEPOSITORS};
use crate::error::{ApiResult, ErrorBody};
use crate::write::{answer, idempotency_key};

#[derive(Serialize, ToSchema)]
pub struct ReturnItem {
    pub parcel_id: String,
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub compartment: Option<String>,
}

/// Expired parcels at a locker waiting to go back: a carrier's token sees its
/// own, staff see all.
#[utoipa::path(get, path = "/api/v1/lockers/{locker_id}/returns", params(("locker_id" = String, Path)),
    responses((status = 200, body = [ReturnItem]), (status = 404, body = ErrorBody)))]
pub async fn list_returns(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
) -> ApiResult<Json<Vec<ReturnItem>>> {
    caller.require(DEPOSITORS)?;
    let (locker, _) = locker_for(&state, &caller, &locker_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::parcels::awaiting_carrier_at_locker(&mut conn, &locker.id).await?;
    Ok(Json(
        rows.into_iter()
            .filter(|p| !caller.is_carrier_side() || p.carrier == caller.carrier)
            .map(|p| ReturnItem {
                parcel_id: p.id,
                tracking_number: p.tracking_number,
                carrier: p.carrier,
                compartment: p.compartment_label,
            })
            .collect(),
    ))
}

pub use crate::app::devices::Returned;

/// Take an expired parcel back. A carrier's token may take only its own
/// parcels (another carrier's answer 404); the door opens for the courier.
/// Staff need a step-up proof in `Cubby-Step-Up`: this opens a door.
#[utoipa::path(post, path = "/api/v1/parcels/{parcel_id}/return", params(("parcel_id" = String, Path)),
    responses((status = 200, body = Returned), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn return_parcel(
    State(state): State<AppState>,
    caller: Caller,
    Path(parcel_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let step_up = headers.get(STEP_UP_HEADER).and_then(|v| v.to_str().ok());
    let key = idempotency_key(&headers, &caller, [2; 32])?;
    let done = app::devices::return_to_carrier(&state, &caller, &parcel_id, step_up, key).await?;
    Ok(answer(done))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_returns))
        .routes(routes!(return_parcel))
}
