//! The return-to-carrier queue: parcels that expired at a locker wait for
//! their carrier. A carrier's (or courier's) token lists its own and takes
//! them back; the locker's agent opens the door for the courier.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cubby_domain::codes::Code;
use cubby_domain::ids::{self};
use cubby_domain::lifecycle::{ParcelState, Transition};
use cubby_store as db;
use cubby_store::OpError;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::lockers::locker_for;
use crate::app::places::parcel_for;
use crate::app::{self, Changes};
use crate::auth::step_up::STEP_UP_HEADER;
use crate::auth::{Caller, DEPOSITORS};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::{idempotency_key, write_json_with};
use crate::{AppState, new_id, now_ms};

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
    let rows = db::parcels::expired_at_locker(&mut conn, &locker.id).await?;
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

#[derive(Serialize, ToSchema)]
pub struct Returned {
    pub parcel_id: String,
    pub state: String,
    pub compartment: Option<String>,
    /// The signed unlock sent to the locker's agent; absent without an agent.
    pub unlock_command_id: Option<String>,
}

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
    caller.require(DEPOSITORS)?;
    // The parcel's site is the tenant check; a carrier sees only its parcels.
    let (parcel, _) = parcel_for(&state, &caller, &parcel_id).await?;
    let Some(locker_id) = parcel.locker_id.clone() else {
        return Err(ApiError::not_found("parcel"));
    };
    // Staff returning a parcel open a door from afar: their passkey step-up.
    let step_up = headers.get(STEP_UP_HEADER).and_then(|v| v.to_str().ok());
    app::devices::authorise_release(
        &state,
        &caller,
        app::devices::Release::ReturnToCarrier {
            parcel_carrier: parcel.carrier.as_deref(),
        },
        step_up,
    )?;
    if parcel.state != ParcelState::Expired {
        return Err(ApiError::new(
            Code::NotInReturnQueue,
            format!("the parcel is {}, not waiting to be returned", parcel.state),
        ));
    }
    let key = idempotency_key(&headers, &caller, [2; 32])?;
    let actor = caller.actor();
    let cmd_id = new_id(ids::COMMAND);
    let now = now_ms();
    write_json_with(&state, key, StatusCode::OK, move |conn| {
        Box::pin(async move {
            let (after, _) = db::parcels::transition(
                conn,
                &parcel.id,
                Transition::Return,
                None,
                &actor,
                "taken back by the carrier",
                now,
            )
            .await?;
            let unlock = match &parcel.compartment_label {
                Some(label) => db::devices::queue_unlock(
                    conn,
                    &db::devices::NewUnlock {
                        cmd_id: cmd_id.clone(),
                        tx_id: parcel.id.clone(),
                        locker_id: locker_id.clone(),
                        compartment_label: label.clone(),
                        purpose: "return",
                        parcel_id: Some(parcel.id.clone()),
                        actor: actor.clone(),
                        reason: "return to carrier".into(),
                    },
                    now,
                )
                .await?
                .map(|_| cmd_id),
                None => None,
            };
            Ok((
                Returned {
                    parcel_id: after.id,
                    state: after.state.to_string(),
                    compartment: parcel.compartment_label.clone(),
                    unlock_command_id: unlock,
                },
                // The unlock goes out now, and the locker's cache drops the parcel.
                Changes::locker(locker_id).and_command(),
            ))
        })
    })
    .await
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_returns))
        .routes(routes!(return_parcel))
}
