//! Reservations: carriers hold compartments for a delivery window.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::app;
use crate::app::reservations::{Reservation, ReservationBody};
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::write::{JsonBody, answer, idempotency_key};

/// Reserve compartments for a delivery window (carrier tokens for their own
/// carrier, staff naming one). Each parcel is held in a free compartment
/// that fits it, or listed in `refused` with its reason: acceptance may be
/// partial. Held compartments are given to nobody else until the window
/// ends; a deposit naming `reservation_id`, or with a tracking number given
/// here, takes one. Unused holds are released at `expires_at_ms`. The site
/// policy's `reservations` caps the share held, each carrier's holds, how
/// far ahead and how long a window is, and its delivery slots.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/reservations", params(("site_id" = String, Path)), request_body = ReservationBody,
    responses((status = 201, body = Reservation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_reservation(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<ReservationBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let done = app::reservations::create(&state, &caller, &site_id, body.value, key).await?;
    Ok(answer(done))
}

/// A reservation and the state of each hold (its carrier, or staff).
#[utoipa::path(get, path = "/api/v1/reservations/{reservation_id}", params(("reservation_id" = String, Path)),
    responses((status = 200, body = Reservation), (status = 404, body = ErrorBody)))]
pub async fn get_reservation(
    State(state): State<AppState>,
    caller: Caller,
    Path(reservation_id): Path<String>,
) -> ApiResult<Json<Reservation>> {
    Ok(Json(
        app::reservations::get(&state, &caller, &reservation_id).await?,
    ))
}

/// Cancel a reservation: its live holds are released at once; cancelling
/// again changes nothing.
#[utoipa::path(delete, path = "/api/v1/reservations/{reservation_id}", params(("reservation_id" = String, Path)),
    responses((status = 200, body = Reservation), (status = 404, body = ErrorBody)))]
pub async fn cancel_reservation(
    State(state): State<AppState>,
    caller: Caller,
    Path(reservation_id): Path<String>,
) -> ApiResult<Json<Reservation>> {
    Ok(Json(
        app::reservations::cancel(&state, &caller, &reservation_id).await?,
    ))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_reservation))
        .routes(routes!(get_reservation, cancel_reservation))
}
