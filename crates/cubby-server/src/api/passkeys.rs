//! Passkey endpoints of the API: the step-up ceremony (a proof good for five
//! minutes of remote opens by the same token) and enrolment invitations for
//! staff tokens and residents. The ceremonies themselves live in `auth/`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cubby_domain::Millis;
use cubby_domain::ids;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::passkeys::Holder;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use webauthn_rs::prelude::PublicKeyCredential;

use super::check_id;
use crate::AppState;
use crate::auth::passkeys::{Challenge, Invite, create_invite};
use crate::auth::step_up::{StepUp, begin_step_up, finish_step_up, require_step_up};
use crate::auth::{Caller, MANAGERS};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::JsonBody;

/// Begin a step-up: answer the challenge with one of this staff token's
/// passkeys (`navigator.credentials.get`), then finish it. The request's Host
/// is the relying party, as in the console.
#[utoipa::path(post, path = "/api/v1/step-up/start",
    responses((status = 200, body = Challenge), (status = 409, body = ErrorBody), (status = 421, body = ErrorBody)))]
pub async fn api_step_up_start(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<Json<Challenge>> {
    Ok(Json(begin_step_up(&state, &headers, &caller).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepUpFinish {
    pub ceremony: String,
    /// The browser's PublicKeyCredential, binary fields as base64url.
    #[schema(value_type = Object)]
    pub credential: PublicKeyCredential,
}

/// Finish a step-up: a proof good for five minutes of remote opens by this
/// token.
#[utoipa::path(post, path = "/api/v1/step-up/finish", request_body = StepUpFinish,
    responses((status = 200, body = StepUp), (status = 403, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn api_step_up_finish(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<StepUpFinish>,
) -> ApiResult<Json<StepUp>> {
    let body = body.value;
    Ok(Json(
        finish_step_up(&state, &headers, &caller, &body.ceremony, &body.credential).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct StaffPasskeyInvite {
    /// Open this path on the console's host; the code is in the fragment.
    pub path: String,
    pub expires_ms: Millis,
}

/// Invite the holder of a staff token to enrol a passkey (admin, with a
/// step-up proof: an invitation leads to opening doors).
#[utoipa::path(post, path = "/api/v1/tokens/{token_id}/passkey-invites", params(("token_id" = String, Path)),
    responses((status = 201, body = StaffPasskeyInvite), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn api_passkey_invite(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(token_id): Path<String>,
) -> ApiResult<Response> {
    caller.require(&[])?;
    require_step_up(&state, &caller, &headers)?;
    check_id(ids::TOKEN, &token_id, "token")?;
    let found = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::passkeys::staff_token(&mut conn, &token_id)
            .await?
            .filter(|t| t.live(crate::now_ms()))
    };
    if found.is_none() {
        return Err(ApiError::not_found("staff token"));
    }
    let Invite { path, expires_ms } = create_invite(
        &state.store,
        &state.secret,
        Holder::Staff,
        &token_id,
        &caller.actor(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(StaffPasskeyInvite { path, expires_ms }),
    )
        .into_response())
}

#[derive(Serialize, ToSchema)]
pub struct PortalInvite {
    /// Open this path on the portal's host; the code is in the fragment.
    pub path: String,
    pub expires_ms: i64,
}

/// Invite a resident to the portal: a one-time link (valid 7 days) that
/// registers their first passkey. Managers only (of the resident's site),
/// and audited: whoever holds the link becomes the resident in the portal.
#[utoipa::path(post, path = "/api/v1/residents/{resident_id}/portal-invites", params(("resident_id" = String, Path)),
    responses((status = 201, body = PortalInvite), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path(resident_id): Path<String>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    check_id(ids::RESIDENT, &resident_id, "resident")?;
    let site = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let resident = db::residents::resident(&mut conn, &resident_id)
            .await?
            .ok_or_else(|| ApiError::not_found("resident"))?;
        db::tenants::site(&mut conn, &resident.site_id)
            .await?
            .filter(|s| caller.sees_org(&s.org_id) && caller.sees_site(&s.id))
            .ok_or_else(|| ApiError::not_found("resident"))?
    };
    let Invite { path, expires_ms } = create_invite(
        &state.store,
        &state.secret,
        Holder::Resident,
        &resident_id,
        &caller.actor(),
    )
    .await?;
    crate::auth::Audit::new(
        &caller,
        cubby_domain::audit::AuditAction::InviteIssued,
        format!("resident:{resident_id}"),
        "portal invitation",
    )
    .in_org(site.org_id)
    .record_alone(&state.store, crate::now_ms())
    .await?;
    Ok((StatusCode::CREATED, Json(PortalInvite { path, expires_ms })).into_response())
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(api_passkey_invite))
        .routes(routes!(api_step_up_start))
        .routes(routes!(api_step_up_finish))
        .routes(routes!(invite))
}
