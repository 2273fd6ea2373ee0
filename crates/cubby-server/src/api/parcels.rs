//! Parcels: pre-advice, deposit, pick-up, timeline and staff transitions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use cubby_domain::lifecycle::ParcelState;
use cubby_domain::tracking::TrackingNumber;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::parcels::ParcelRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::app::{self, places::parcel_for, places::site_for};
use crate::auth::{Caller, DEPOSITORS, STAFF};
use crate::error::{ApiResult, ErrorBody};
use crate::write::{JsonBody, QueryParams, answer, idempotency_key};

pub use crate::app::parcels::{
    Announced, AnnouncementBody, CompartmentRef, DepositBody, Deposited, PickedUp, RecipientBody,
    TransitionBody, Transitioned, recipient_of, validate_parcel,
};

/// Deposit a parcel: allocates the smallest fitting compartment and notifies the recipient.
///
/// When nothing fits, answers 409 `no_compartment_fits` with the `reason` and the
/// site's `overflow` options (parcel rooms, other lockers).
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/deposits", params(("locker_id" = String, Path)), request_body = DepositBody,
    responses((status = 201, body = Deposited), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deposit(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<DepositBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let done = app::parcels::deposit(&state, &caller, &locker_id, body.value, key).await?;
    Ok(answer(done))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickupBody {
    /// The keypad code or the scanned QR token.
    pub code: String,
}

/// Collect parcels with a keypad code or QR token.
///
/// A wrong code and a code for no parcel get the same answer (403 `code_rejected`).
/// After 10 consecutive wrong codes the keypad locks (429 `keypad_locked` with
/// Retry-After); after 50 in a day it is disabled until staff review (429
/// `keypad_disabled`); QR tokens keep working.
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/pickups", params(("locker_id" = String, Path)), request_body = PickupBody,
    responses((status = 200, body = PickedUp), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn pickup(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
    body: JsonBody<PickupBody>,
) -> ApiResult<Json<PickedUp>> {
    Ok(Json(
        app::parcels::pickup(&state, &caller, &locker_id, &body.value.code).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CustodyEventDto {
    pub seq: i64,
    /// announced, deposited, deposited_unassigned, recipient_assigned, held, released, picked_up, expired, returned_to_carrier, cancelled.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// RFC 3339 UTC. Omitted for carrier tokens (no occupancy timing leaves Cubby).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Parcel {
    pub id: String,
    pub site_id: String,
    pub state: String,
    pub tracking_number: String,
    pub carrier: Option<String>,
    /// Omitted for carrier tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compartment: Option<CompartmentRef>,
    pub locker_id: Option<String>,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub temperature: String,
    /// The chain of custody, oldest first.
    pub events: Vec<CustodyEventDto>,
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub(crate) fn parcel_dto(
    p: ParcelRow,
    events: Vec<cubby_domain::custody::CustodyEvent>,
    redacted: bool,
) -> Parcel {
    let compartment = match (p.compartment_id, p.compartment_label) {
        (Some(id), Some(label)) if !redacted => Some(CompartmentRef { id, label }),
        _ => None,
    };
    Parcel {
        id: p.id,
        site_id: p.site_id,
        state: p.state.to_string(),
        tracking_number: p.tracking_number,
        carrier: p.carrier,
        recipient: (!redacted).then(|| {
            serde_json::json!({ "resident_id": p.resident_id, "unit": p.recipient_unit, "name": p.recipient_name })
        }),
        compartment,
        locker_id: p.locker_id,
        width_mm: p.width_mm,
        height_mm: p.height_mm,
        depth_mm: p.depth_mm,
        temperature: p.temperature.to_string(),
        events: events
            .into_iter()
            .map(|e| CustodyEventDto {
                seq: e.seq,
                kind: e.kind,
                actor: (!redacted).then_some(e.actor),
                at: (!redacted).then(|| rfc3339(e.at_ms)),
                place: (!redacted).then_some(e.place),
                reason: (!redacted).then_some(e.reason),
            })
            .collect(),
    }
}

/// A parcel with its chain of custody. Carrier tokens see only their own parcels,
/// without personal data or timing.
#[utoipa::path(get, path = "/api/v1/parcels/{parcel_id}", params(("parcel_id" = String, Path)),
    responses((status = 200, body = Parcel), (status = 404, body = ErrorBody)))]
pub async fn get_parcel(
    State(state): State<AppState>,
    caller: Caller,
    Path(parcel_id): Path<String>,
) -> ApiResult<Json<Parcel>> {
    caller.require(DEPOSITORS)?;
    let (parcel, _) = parcel_for(&state, &caller, &parcel_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let events = db::custody::custody_events(&mut conn, &parcel.id).await?;
    Ok(Json(parcel_dto(parcel, events, caller.is_carrier_side())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ParcelFilter {
    /// Only parcels in this state (e.g. `unassigned` for the manager queue).
    pub state: Option<String>,
    pub tracking_number: Option<String>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ParcelSummary {
    pub id: String,
    pub state: String,
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub resident_id: Option<String>,
    pub locker_id: Option<String>,
    pub compartment: Option<CompartmentRef>,
}

/// Search a site's parcels, newest first.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/parcels", params(("site_id" = String, Path), ParcelFilter),
    responses((status = 200, body = Vec<ParcelSummary>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_parcels(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    QueryParams(filter): QueryParams<ParcelFilter>,
) -> ApiResult<Json<Vec<ParcelSummary>>> {
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let st = filter
        .state
        .as_deref()
        .map(ParcelState::parse)
        .transpose()?;
    let tracking = filter
        .tracking_number
        .as_deref()
        .map(TrackingNumber::parse)
        .transpose()?;
    let limit = filter.limit.unwrap_or(100).clamp(1, 500);
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::parcels::parcels(
        &mut conn,
        &site.id,
        st,
        tracking.as_ref().map(|t| t.as_str()),
        limit,
    )
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|p| ParcelSummary {
                id: p.id,
                state: p.state.to_string(),
                tracking_number: p.tracking_number,
                carrier: p.carrier,
                resident_id: p.resident_id,
                locker_id: p.locker_id,
                compartment: p
                    .compartment_id
                    .zip(p.compartment_label)
                    .map(|(id, label)| CompartmentRef { id, label }),
            })
            .collect(),
    ))
}

/// Pre-advise a parcel (carrier integration): it exists, announced, before it arrives.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/announcements", params(("site_id" = String, Path)), request_body = AnnouncementBody,
    responses((status = 201, body = Announced), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn announce(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<AnnouncementBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let done = app::parcels::announce(&state, &caller, &site_id, body.value, key).await?;
    Ok(answer(done))
}

/// Move a parcel through its lifecycle by hand (staff). Illegal moves answer 409 `illegal_transition`.
#[utoipa::path(post, path = "/api/v1/parcels/{parcel_id}/transitions", params(("parcel_id" = String, Path)), request_body = TransitionBody,
    responses((status = 200, body = Transitioned), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    Path(parcel_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<TransitionBody>,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let done = app::parcels::transition(&state, &caller, &parcel_id, body.value, key).await?;
    Ok(answer(done))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
/// Redirect a parcel that has not arrived yet to another locker of its site
/// (staff, or the resident it is for). Deposits elsewhere answer 409
/// `parcel_redirected`.
#[utoipa::path(post, path = "/api/v1/parcels/{parcel_id}/redirect", params(("parcel_id" = String, Path)), request_body = app::parcels::RedirectBody,
    responses((status = 200, body = app::parcels::Redirected), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn redirect_parcel(
    State(state): State<AppState>,
    caller: Caller,
    Path(parcel_id): Path<String>,
    body: JsonBody<app::parcels::RedirectBody>,
) -> ApiResult<Json<app::parcels::Redirected>> {
    Ok(Json(
        app::parcels::redirect(&state, &caller, &parcel_id, body.value).await?,
    ))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(announce))
        .routes(routes!(list_parcels))
        .routes(routes!(deposit))
        .routes(routes!(pickup))
        .routes(routes!(get_parcel))
        .routes(routes!(transition))
        .routes(routes!(redirect_parcel))
}
