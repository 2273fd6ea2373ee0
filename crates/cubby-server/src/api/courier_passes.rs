//! Courier passes: a code that lets a carrier's courier deposit that carrier's
//! pre-advised parcels at one locker, decided by the locker itself so that it
//! works while the locker is offline.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cubby_domain::audit::AuditAction;
use cubby_domain::credentials::new_keypad_code;
use cubby_domain::ids;
use cubby_protocol::cache::{CredentialKind, local_credential_mac};
use cubby_store as db;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::check_id;
use super::lockers::locker_for;
use crate::app::{self, Changes};
use crate::auth::{Caller, DEPOSITORS, STAFF};
use crate::devices::locker_credential_key;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::JsonBody;
use crate::{AppState, new_id, now_ms, os_rng};

/// Digits of a courier pass code: longer than a resident's code, because a
/// pass opens any empty door for any pre-advised parcel of its carrier.
pub const PASS_DIGITS: u32 = 10;
/// A pass covers one visit: at most four hours (security.md).
pub const DEFAULT_PASS_MINUTES: u32 = 120;
pub const MAX_PASS_MINUTES: u32 = 4 * 60;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassBody {
    /// The carrier whose parcels the pass deposits. Carrier and courier tokens
    /// may leave it out (their own carrier); staff must give it.
    pub carrier: Option<String>,
    /// The courier account the pass is for (one courier, one visit). A
    /// courier's own token may leave it out; carrier and staff tokens must
    /// name one of the carrier's couriers.
    pub courier_id: Option<String>,
    /// How long the visit may last, 1 to 240 minutes (default 120).
    pub valid_minutes: Option<u32>,
}

/// A new pass. The code is shown once; only its MAC is stored.
#[derive(Serialize, ToSchema)]
pub struct IssuedPass {
    pub pass_id: String,
    pub locker_id: String,
    pub carrier: String,
    pub courier_id: String,
    /// Type it at the locker's kiosk (`POST /kiosk/api/deposit`).
    pub code: String,
    pub expires_ms: i64,
}

/// Issue a courier pass for one locker.
///
/// With the pass, a courier deposits the carrier's pre-advised parcels
/// (`POST /api/v1/sites/{site_id}/announcements`) at the locker's kiosk; the
/// locker chooses the door itself, online or offline, and the deposit reaches
/// the server with its journal.
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/courier-passes", params(("locker_id" = String, Path)), request_body = PassBody,
    responses((status = 201, body = IssuedPass), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn issue_pass(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
    body: JsonBody<PassBody>,
) -> ApiResult<Response> {
    caller.require(DEPOSITORS)?;
    let (locker, site) = locker_for(&state, &caller, &locker_id).await?;
    let req = body.value;
    let carrier = match (&caller.carrier, &req.carrier) {
        (Some(own), Some(given)) if crate::app::couriers::carrier_code(given)? != *own => {
            return Err(ApiError::invalid(
                "carrier",
                "differs from the carrier of this token",
            ));
        }
        (Some(own), _) => own.clone(),
        (None, Some(given)) => crate::app::couriers::carrier_code(given)?,
        (None, None) => {
            return Err(ApiError::invalid(
                "carrier",
                "say which carrier's parcels the pass deposits",
            ));
        }
    };
    let courier =
        app::couriers::pass_holder(&state, &caller, &carrier, req.courier_id.as_deref()).await?;
    app::couriers::require_enabled(&state, &site.id, &carrier).await?;
    let minutes = req.valid_minutes.unwrap_or(DEFAULT_PASS_MINUTES);
    if !(1..=MAX_PASS_MINUTES).contains(&minutes) {
        return Err(ApiError::invalid(
            "valid_minutes",
            format!("must be 1 to {MAX_PASS_MINUTES}"),
        ));
    }
    let code = new_keypad_code(PASS_DIGITS, &mut os_rng());
    let locker_key = locker_credential_key(&state.secret, &locker.id);
    let now = now_ms();
    let pass = db::couriers::NewCourierPass {
        id: new_id(ids::COURIER_PASS),
        locker_id: locker.id.clone(),
        carrier: carrier.clone(),
        local_mac: local_credential_mac(&locker_key, CredentialKind::Courier, &code),
        expires_ms: now + i64::from(minutes) * 60_000,
        created_by: caller.actor(),
        courier_id: Some(courier.clone()),
    };
    let issued = IssuedPass {
        pass_id: pass.id.clone(),
        locker_id: locker.id,
        carrier,
        courier_id: courier,
        code,
        expires_ms: pass.expires_ms,
    };
    // The locker learns the pass now, while it is still online.
    let changes = Changes::locker(issued.locker_id.clone());
    let audit = crate::auth::Audit::new(
        &caller,
        AuditAction::CourierPassIssued,
        format!("courier_pass:{}", pass.id),
        format!(
            "locker {} carrier {} courier {} for {minutes} min",
            issued.locker_id, issued.carrier, issued.courier_id
        ),
    )
    .in_org(site.org_id.clone());
    app::commit(&state, move |conn| {
        Box::pin(async move {
            db::couriers::issue_courier_pass(conn, &pass, now).await?;
            audit.record(conn, now).await?;
            Ok(((), changes))
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

/// Revoke a courier pass. A locker that is offline learns it when it
/// reconnects; deposits it accepted meanwhile are recorded and flagged.
#[utoipa::path(post, path = "/api/v1/courier-passes/{pass_id}/revoke", params(("pass_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_pass(
    State(state): State<AppState>,
    caller: Caller,
    Path(pass_id): Path<String>,
) -> ApiResult<Response> {
    caller.require(DEPOSITORS)?;
    check_id(ids::COURIER_PASS, &pass_id, "courier pass")?;
    let pass = {
        let mut conn = state
            .store
            .reader()
            .await
            .map_err(cubby_store::OpError::from)?;
        cubby_store::couriers::courier_pass(&mut conn, &pass_id)
            .await?
            .ok_or(ApiError::not_found("courier pass"))?
    };
    // The caller must see the locker; a carrier only its own passes.
    let (_, site) = locker_for(&state, &caller, &pass.locker_id).await?;
    if !STAFF.contains(&caller.role) && caller.carrier.as_deref().is_some_and(|c| c != pass.carrier)
    {
        return Err(ApiError::not_found("courier pass"));
    }
    let changes = Changes::locker(pass.locker_id.clone());
    let audit = crate::auth::Audit::new(
        &caller,
        AuditAction::CourierPassRevoked,
        format!("courier_pass:{pass_id}"),
        format!("locker {}", pass.locker_id),
    )
    .in_org(site.org_id.clone());
    app::commit(&state, move |conn| {
        Box::pin(async move {
            db::couriers::revoke_courier_pass(conn, &pass_id).await?;
            audit.record(conn, now_ms()).await?;
            Ok(((), changes))
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_pass))
        .routes(routes!(revoke_pass))
}
