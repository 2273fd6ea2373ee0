//! Which carriers a site lets deposit (a security setting: a carrier's and
//! its couriers' tokens deposit, pre-advise and get courier passes only at
//! sites that enabled it).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::app::couriers::{self, SiteCarriers};
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};

/// The carriers enabled at a site.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/carriers", params(("site_id" = String, Path)),
    responses((status = 200, body = SiteCarriers), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_site_carriers(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<Json<SiteCarriers>> {
    Ok(Json(
        couriers::site_carriers(&state, &caller, &site_id).await?,
    ))
}

/// Enable a carrier at a site (managers; idempotent).
#[utoipa::path(put, path = "/api/v1/sites/{site_id}/carriers/{carrier}", params(("site_id" = String, Path), ("carrier" = String, Path)),
    responses((status = 200, body = SiteCarriers), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn enable_site_carrier(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path((site_id, carrier)): Path<(String, String)>,
) -> ApiResult<Json<SiteCarriers>> {
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    Ok(Json(
        couriers::set_site_carrier(&state, &caller, &site_id, &carrier, true).await?,
    ))
}

/// Stop a carrier depositing at a site (managers). Parcels it already
/// deposited stay; its pre-advice and courier passes no longer work there.
#[utoipa::path(delete, path = "/api/v1/sites/{site_id}/carriers/{carrier}", params(("site_id" = String, Path), ("carrier" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn disable_site_carrier(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path((site_id, carrier)): Path<(String, String)>,
) -> ApiResult<Response> {
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    couriers::set_site_carrier(&state, &caller, &site_id, &carrier, false).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_site_carriers))
        .routes(routes!(enable_site_carrier, disable_site_carrier))
}
