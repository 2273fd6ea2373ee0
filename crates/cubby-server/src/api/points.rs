//! Out-of-home pick-up points: a site's public profile
//! (`/api/v1/sites/{site_id}/public-point`, managers) and the finder
//! (`GET /api/v1/pickup-points`, any token: carriers choose where to send).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use cubby_domain::model::Role;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::app;
use crate::app::points::{FoundPoint, PublicPoint, PublicPointBody, Search};
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::write::{JsonBody, QueryParams};

/// Make the site a public pick-up point, or change its place, hours or
/// accessibility notes.
#[utoipa::path(put, path = "/api/v1/sites/{site_id}/public-point", params(("site_id" = String, Path)), request_body = PublicPointBody,
    responses((status = 200, body = PublicPoint), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_public_point(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    body: JsonBody<PublicPointBody>,
) -> ApiResult<Json<PublicPoint>> {
    Ok(Json(
        app::points::set(&state, &caller, &site_id, body.value).await?,
    ))
}

/// The site's public profile (404 when it is not a pick-up point).
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/public-point", params(("site_id" = String, Path)),
    responses((status = 200, body = PublicPoint), (status = 404, body = ErrorBody)))]
pub async fn get_public_point(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<Json<PublicPoint>> {
    Ok(Json(app::points::get(&state, &caller, &site_id).await?))
}

/// Withdraw the site from the public: it is residential again.
#[utoipa::path(delete, path = "/api/v1/sites/{site_id}/public-point", params(("site_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn clear_public_point(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<StatusCode> {
    app::points::clear(&state, &caller, &site_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PointsQuery {
    /// Where to search from, degrees (WGS 84).
    pub lat: f64,
    pub lon: f64,
    /// How far, metres (1–100000, default 5000).
    pub radius_m: Option<u32>,
    /// The parcel to place: all three sides, or none.
    pub width_mm: Option<u32>,
    pub height_mm: Option<u32>,
    pub depth_mm: Option<u32>,
    /// `ambient` (default), `chilled` or `frozen`.
    pub temperature: Option<String>,
}

/// Public pick-up points with a free compartment that takes the parcel,
/// nearest first by great-circle distance (at most 50). Any token may ask;
/// nothing personal is in the answer.
#[utoipa::path(get, path = "/api/v1/pickup-points", params(PointsQuery),
    responses((status = 200, body = [FoundPoint]), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn find_pickup_points(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<PointsQuery>,
) -> ApiResult<Json<Vec<FoundPoint>>> {
    caller.require(&[
        Role::Manager,
        Role::Concierge,
        Role::Carrier,
        Role::Courier,
        Role::Resident,
    ])?;
    let search = Search::new(
        q.lat,
        q.lon,
        q.radius_m,
        (q.width_mm, q.height_mm, q.depth_mm),
        q.temperature.as_deref(),
    )?;
    Ok(Json(app::points::find(&state, &search).await?))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            set_public_point,
            get_public_point,
            clear_public_point
        ))
        .routes(routes!(find_pickup_points))
}
