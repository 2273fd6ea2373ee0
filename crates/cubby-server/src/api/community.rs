//! Carrier compliance and impact reports (`/api/v1/sites/{site_id}/carrier-report`)
//! and the community rules residents read and acknowledge once
//! (`/api/v1/me/rules`).

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::me::me;
use crate::app;
use crate::app::carrier_reports::CarrierReport;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::write::QueryParams;
use crate::{AppState, now_ms};

const DAY_MS: i64 = 86_400_000;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// Start of the period (default: 30 days before `to_ms`).
    pub from_ms: Option<i64>,
    /// End of the period, exclusive (default: now). At most 366 days long.
    pub to_ms: Option<i64>,
}

/// Per carrier: deliveries inside and outside the site's courier windows,
/// unannounced and wrong-size parcels, reservations used or wasted; for the
/// site, failed home deliveries avoided and the van-km and CO2e that saves
/// (estimates). A carrier's token reads only its own line.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/carrier-report", params(("site_id" = String, Path), PeriodQuery),
    responses((status = 200, body = CarrierReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn carrier_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> ApiResult<Json<CarrierReport>> {
    let to = q.to_ms.unwrap_or_else(now_ms);
    let from = q.from_ms.unwrap_or(to.saturating_sub(30 * DAY_MS));
    Ok(Json(
        app::carrier_reports::carrier_report(&state, &caller, &site_id, from, to).await?,
    ))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CommunityRules {
    /// Plain text; empty when the site publishes none.
    pub rules: String,
    /// When I acknowledged them (once).
    pub acknowledged_ms: Option<i64>,
}

/// My site's community rules, and whether I acknowledged them.
#[utoipa::path(get, path = "/api/v1/me/rules", responses((status = 200, body = CommunityRules), (status = 403, body = ErrorBody)))]
pub async fn my_rules(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<CommunityRules>> {
    let me = me(&state, &caller).await?;
    let (rules, acknowledged_ms) = app::residents::community_rules(&state, &me).await?;
    Ok(Json(CommunityRules {
        rules,
        acknowledged_ms,
    }))
}

/// I have read the rules. The first acknowledgement stays.
#[utoipa::path(post, path = "/api/v1/me/rules/acknowledge", responses((status = 200, body = CommunityRules), (status = 403, body = ErrorBody)))]
pub async fn acknowledge_rules(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<CommunityRules>> {
    let me = me(&state, &caller).await?;
    let at = app::residents::acknowledge_rules(&state, &me).await?;
    let (rules, _) = app::residents::community_rules(&state, &me).await?;
    Ok(Json(CommunityRules {
        rules,
        acknowledged_ms: Some(at),
    }))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(carrier_report))
        .routes(routes!(my_rules))
        .routes(routes!(acknowledge_rules))
}
