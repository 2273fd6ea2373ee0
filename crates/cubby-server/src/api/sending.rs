//! Returns and shipments from the resident's own API
//! (`/api/v1/me/returns`): announce one with a carrier and a size and get a
//! drop-off code for the kiosk, list them, cancel one not yet dropped off.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cubby_domain::dims::Dimensions;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::parcels::{ParcelRow, Sending};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::me::me;
use crate::AppState;
use crate::app;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::write::JsonBody;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSendingBody {
    /// `return` (to a shop, the default) or `shipment`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub kind: Option<Sending>,
    /// The carrier's code, e.g. `dhl`; it must be enabled at the site.
    pub carrier: String,
    /// The number on the label, when there is one (checked against the
    /// carrier's formats); without it Cubby gives a reference.
    pub tracking_number: Option<String>,
    /// The locker to drop it at; by default the first of the site's lockers
    /// with a free compartment that fits.
    pub locker_id: Option<String>,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub weight_g: Option<u32>,
    /// `ambient` (default), `chilled` or `frozen`.
    pub temperature: Option<String>,
}

/// A return or shipment of mine.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SendingItem {
    pub parcel_id: String,
    /// `return` or `shipment`.
    pub kind: String,
    /// `return_announced`, `dropped_off`, `returned_to_carrier` (collected) or `cancelled`.
    pub state: String,
    pub carrier: Option<String>,
    pub tracking_number: String,
    pub locker_id: Option<String>,
    /// The door it was dropped into.
    pub compartment: Option<String>,
    /// Until when the drop-off code works, while it is not dropped off.
    pub code_expires_ms: Option<i64>,
    pub created_ms: i64,
}

/// The answer to a new return or shipment: the drop-off code, shown once.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct IssuedSending {
    #[serde(flatten)]
    pub sending: SendingItem,
    /// Type it at the locker's kiosk ("Send a parcel"); a free door that fits opens.
    pub drop_off_code: String,
}

fn item(p: ParcelRow, kind: Sending, code_expires_ms: Option<i64>) -> SendingItem {
    SendingItem {
        parcel_id: p.id,
        kind: kind.as_str().to_string(),
        state: p.state.to_string(),
        carrier: p.carrier,
        tracking_number: p.tracking_number,
        locker_id: p.locker_id,
        compartment: p.compartment_label,
        code_expires_ms,
        created_ms: p.created_ms,
    }
}

/// Announce a return or a shipment. The answer carries the drop-off code
/// once; the locker decides the drop-off itself, with or without the server.
#[utoipa::path(post, path = "/api/v1/me/returns", request_body = NewSendingBody,
    responses((status = 201, body = IssuedSending), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn announce_sending(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<NewSendingBody>,
) -> ApiResult<Response> {
    let me = me(&state, &caller).await?;
    let b = body.value;
    let kind = b.kind.unwrap_or(Sending::Return);
    let (row, code, expires) = app::sending::announce(
        &state,
        &me,
        app::sending::SendRequest {
            sending: kind,
            carrier: b.carrier,
            tracking_number: b.tracking_number,
            locker_id: b.locker_id,
            dims: Dimensions::new(b.width_mm, b.height_mm, b.depth_mm),
            weight_g: b.weight_g,
            temperature: b.temperature,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedSending {
            sending: item(row, kind, Some(expires)),
            drop_off_code: code,
        }),
    )
        .into_response())
}

/// My returns and shipments, newest first.
#[utoipa::path(get, path = "/api/v1/me/returns", responses((status = 200, body = [SendingItem]), (status = 403, body = ErrorBody)))]
pub async fn my_sendings(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<SendingItem>>> {
    let me = me(&state, &caller).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::parcels::sendings_of_resident(&mut conn, &me.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(p, kind, expires)| item(p, kind, expires))
            .collect(),
    ))
}

/// Cancel a return or shipment not yet dropped off; its code stops working.
#[utoipa::path(delete, path = "/api/v1/me/returns/{parcel_id}", params(("parcel_id" = String, Path)),
    responses((status = 200, body = SendingItem), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel_sending(
    State(state): State<AppState>,
    caller: Caller,
    Path(parcel_id): Path<String>,
) -> ApiResult<Json<SendingItem>> {
    let me = me(&state, &caller).await?;
    let p = app::sending::cancel(&state, &me, &parcel_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let kind = db::parcels::sending_of(&mut conn, &p.id)
        .await?
        .map_or(Sending::Return, |(k, _)| k);
    Ok(Json(item(p, kind, None)))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(announce_sending, my_sendings))
        .routes(routes!(cancel_sending))
}
