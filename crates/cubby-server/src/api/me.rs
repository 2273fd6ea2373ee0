//! The resident's own API (`/api/v1/me/…`), for a resident token: their
//! parcels, holds and vacation, household members, delegate codes, visitor
//! PINs, and when couriers entered their building. A resident token sees
//! nothing of other residents.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cubby_domain::codes::Code;
use cubby_domain::ids;
use cubby_domain::lifecycle::Transition;
use cubby_domain::model::{Role, clean_text};
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::residents::ResidentRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::{Grant, IssuedGrant, NewGrantBody, grant_view};
use super::check_id;
use super::parcels::{Parcel, parcel_dto};
use super::sites::{NewResidentBody, Resident, new_resident};
use crate::app;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::{JsonBody, QueryParams};
use crate::{AppState, now_ms};

/// Longest a resident's visitor PIN may last.
const DAY_MS: i64 = 86_400_000;

/// The resident a resident token acts for (live, not removed).
pub(crate) async fn me(state: &AppState, caller: &Caller) -> ApiResult<ResidentRow> {
    let rid = match (caller.role, &caller.resident_id) {
        (Role::Resident, Some(rid)) => rid.clone(),
        _ => return Err(ApiError::forbidden()),
    };
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    if !db::residents::resident_is_live(&mut conn, &rid).await? {
        return Err(ApiError::forbidden());
    }
    db::residents::resident(&mut conn, &rid)
        .await?
        .ok_or_else(ApiError::forbidden)
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub resident: Resident,
    /// While set and in the future, new parcels are held.
    pub away_until_ms: Option<i64>,
}

/// Who the resident token acts for.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me), (status = 403, body = ErrorBody)))]
pub async fn get_me(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Me>> {
    let me = me(&state, &caller).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let away = db::residents::away_until(&mut conn, &me.id).await?;
    Ok(Json(Me {
        resident: Resident::from(me),
        away_until_ms: away,
    }))
}

/// Everything held about the resident (GDPR Art. 15): the same document
/// staff get from `GET /api/v1/residents/{resident_id}/export`.
#[utoipa::path(get, path = "/api/v1/me/export", responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn my_export(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    let me = me(&state, &caller).await?;
    Ok(Json(
        crate::app::residents::export(&state, &caller, &me.id).await?,
    ))
}

/// The resident's parcels, newest first (at most 100), with their custody.
#[utoipa::path(get, path = "/api/v1/me/parcels", responses((status = 200, body = [Parcel]), (status = 403, body = ErrorBody)))]
pub async fn my_parcels(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Parcel>>> {
    let me = me(&state, &caller).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::parcels::parcels_of_resident(&mut conn, &me.site_id, &me.id, 100).await?;
    let mut out = Vec::with_capacity(rows.len());
    for p in rows {
        let events = db::custody::custody_events(&mut conn, &p.id).await?;
        out.push(parcel_dto(p, events, false));
    }
    Ok(Json(out))
}

/// One of the resident's own parcels, or 404.
async fn my_parcel(
    state: &AppState,
    me: &ResidentRow,
    parcel_id: &str,
) -> ApiResult<db::parcels::ParcelRow> {
    check_id(ids::PARCEL, parcel_id, "parcel")?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    db::parcels::parcel(&mut conn, parcel_id)
        .await?
        .filter(|p| p.resident_id.as_deref() == Some(me.id.as_str()))
        .ok_or_else(|| ApiError::not_found("parcel"))
}

#[derive(Serialize, ToSchema)]
pub struct HoldState {
    pub parcel_id: String,
    pub state: String,
}

/// Hold (`hold`) or release (`release`) one of my parcels: a hold pauses
/// reminders and extends its stay.
#[utoipa::path(post, path = "/api/v1/me/parcels/{parcel_id}/{action}", params(("parcel_id" = String, Path), ("action" = String, Path, description = "hold or release")),
    responses((status = 200, body = HoldState), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn hold_parcel(
    State(state): State<AppState>,
    caller: Caller,
    Path((parcel_id, action)): Path<(String, String)>,
) -> ApiResult<Json<HoldState>> {
    let me = me(&state, &caller).await?;
    let t = match action.as_str() {
        "hold" => Transition::Hold,
        "release" => Transition::Release,
        _ => return Err(ApiError::not_found("action")),
    };
    let parcel = my_parcel(&state, &me, &parcel_id).await?;
    let after = app::parcels::hold_or_release(&state, &parcel, t, &caller.actor()).await?;
    Ok(Json(HoldState {
        parcel_id: after.id,
        state: after.state.to_string(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VacationBody {
    /// Back on this instant (epoch ms, at most 60 days ahead); `null` ends
    /// vacation now.
    pub away_until_ms: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Vacation {
    pub away_until_ms: Option<i64>,
    /// Parcels already waiting that were put on hold.
    pub held: Vec<String>,
}

/// Vacation: until the given instant, parcels waiting and parcels that
/// arrive are held instead of expiring.
#[utoipa::path(put, path = "/api/v1/me/vacation", request_body = VacationBody,
    responses((status = 200, body = Vacation), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_vacation(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<VacationBody>,
) -> ApiResult<Json<Vacation>> {
    let me = me(&state, &caller).await?;
    let until = body.value.away_until_ms;
    let held = app::residents::apply_vacation(&state, &me, until, &caller.actor()).await?;
    Ok(Json(Vacation {
        away_until_ms: until,
        held,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Member {
    #[serde(flatten)]
    pub resident: Resident,
    /// The resident who added them; absent when staff did.
    pub added_by: Option<String>,
}

/// The residents of my unit.
#[utoipa::path(get, path = "/api/v1/me/household", responses((status = 200, body = [Member]), (status = 403, body = ErrorBody)))]
pub async fn household(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Member>>> {
    let me = me(&state, &caller).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let members = db::residents::household(&mut conn, &me.site_id, &me.unit).await?;
    Ok(Json(
        members
            .into_iter()
            .map(|m| Member {
                resident: Resident::from(m.resident),
                added_by: m.added_by,
            })
            .collect(),
    ))
}

/// Add someone who lives with me: they get their own notices and codes for
/// parcels addressed to them. The unit is mine (a different unit is refused).
#[utoipa::path(post, path = "/api/v1/me/household", request_body = NewResidentBody,
    responses((status = 201, body = Member), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<NewResidentBody>,
) -> ApiResult<Response> {
    let me = me(&state, &caller).await?;
    let req = body.value;
    if req.building_id.is_some() {
        return Err(ApiError::invalid(
            "building_id",
            "a household member lives in your building",
        ));
    }
    let member = new_resident(req, me.site_id.clone())?;
    if member.unit != me.unit {
        return Err(ApiError::invalid("unit", "must be your own unit"));
    }
    let now = now_ms();
    let host = me.clone();
    let row = state
        .store
        .transact(move |conn| {
            Box::pin(
                async move { db::residents::add_household_member(conn, &host, &member, now).await },
            )
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Member {
            resident: Resident::from(row),
            added_by: Some(me.id),
        }),
    )
        .into_response())
}

/// Remove a household member I (or another resident of my unit) added.
#[utoipa::path(post, path = "/api/v1/me/household/{resident_id}/remove", params(("resident_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(resident_id): Path<String>,
) -> ApiResult<Response> {
    let me = me(&state, &caller).await?;
    check_id(ids::RESIDENT, &resident_id, "household member")?;
    let now = now_ms();
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::residents::remove_household_member(conn, &me, &resident_id, now).await
            })
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDelegateBody {
    /// Who collects for me, as I would describe them ("neighbour in 3B").
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct IssuedDelegate {
    pub delegate_id: String,
    pub parcel_id: String,
    /// Opens this parcel's compartment only. Shown once.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct Delegate {
    pub id: String,
    pub parcel_id: String,
    pub name: String,
    pub active: bool,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
}

impl From<db::residents::DelegateRow> for Delegate {
    fn from(d: db::residents::DelegateRow) -> Self {
        Delegate {
            id: d.id,
            parcel_id: d.parcel_id,
            name: d.name,
            active: d.active,
            created_ms: d.created_ms,
            revoked_ms: d.revoked_ms,
        }
    }
}

/// Share one parcel with someone else: a delegate code that opens only its
/// compartment, at most 3 live per parcel, revocable. Its pick-up is recorded
/// as the delegate's in the chain of custody.
#[utoipa::path(post, path = "/api/v1/me/parcels/{parcel_id}/delegates", params(("parcel_id" = String, Path)), request_body = NewDelegateBody,
    responses((status = 201, body = IssuedDelegate), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_delegate(
    State(state): State<AppState>,
    caller: Caller,
    Path(parcel_id): Path<String>,
    body: JsonBody<NewDelegateBody>,
) -> ApiResult<Response> {
    let me = me(&state, &caller).await?;
    let name = clean_text("name", &body.value.name, 80)?;
    let parcel = my_parcel(&state, &me, &parcel_id).await?;
    let (row, code) = app::residents::issue_delegate(&state, &me.id, &parcel, &name).await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedDelegate {
            delegate_id: row.id,
            parcel_id: row.parcel_id,
            code,
        }),
    )
        .into_response())
}

/// Every delegate code I issued, newest first.
#[utoipa::path(get, path = "/api/v1/me/delegates", responses((status = 200, body = [Delegate]), (status = 403, body = ErrorBody)))]
pub async fn delegates(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Delegate>>> {
    let me = me(&state, &caller).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::residents::delegates_of_resident(&mut conn, &me.id).await?;
    Ok(Json(rows.into_iter().map(Delegate::from).collect()))
}

/// Revoke a delegate code; the locker drops it from its cache at once.
#[utoipa::path(post, path = "/api/v1/me/delegates/{delegate_id}/revoke", params(("delegate_id" = String, Path)),
    responses((status = 200, body = Delegate), (status = 404, body = ErrorBody)))]
pub async fn revoke_delegate(
    State(state): State<AppState>,
    caller: Caller,
    Path(delegate_id): Path<String>,
) -> ApiResult<Json<Delegate>> {
    let me = me(&state, &caller).await?;
    check_id(ids::CREDENTIAL, &delegate_id, "delegate")?;
    let row = app::residents::revoke_delegate(&state, &me.id, &delegate_id).await?;
    Ok(Json(Delegate::from(row)))
}

/// Let a visitor in: a PIN for doors or a path of my site, for up to 31
/// days, optionally on a weekly schedule. I am told of every use.
#[utoipa::path(post, path = "/api/v1/me/access-grants", request_body = NewGrantBody,
    responses((status = 201, body = IssuedGrant), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn issue_my_grant(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<NewGrantBody>,
) -> ApiResult<Response> {
    let me = me(&state, &caller).await?;
    let issued = app::access::issue_visitor_grant(&state, &me, body.value, caller.actor()).await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

/// My visitor PINs with every use, newest first.
#[utoipa::path(get, path = "/api/v1/me/access-grants", responses((status = 200, body = [Grant]), (status = 403, body = ErrorBody)))]
pub async fn my_grants(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Grant>>> {
    let me = me(&state, &caller).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::access::grants_of_site(&mut conn, &me.site_id, Some(&me.id), 500).await?;
    let mut out = Vec::new();
    for g in rows.into_iter().filter(|g| g.kind == "visitor") {
        let uses = db::access::uses_of_grant(&mut conn, &g.id).await?;
        out.push(grant_view(g, uses));
    }
    Ok(Json(out))
}

/// Revoke one of my visitor PINs.
#[utoipa::path(post, path = "/api/v1/me/access-grants/{grant_id}/revoke", params(("grant_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_my_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(grant_id): Path<String>,
) -> ApiResult<Response> {
    let me = me(&state, &caller).await?;
    check_id(ids::ACCESS_GRANT, &grant_id, "grant")?;
    let grant = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::access::grant(&mut conn, &grant_id)
            .await?
            .filter(|g| {
                g.host_resident_id.as_deref() == Some(me.id.as_str()) && g.kind == "visitor"
            })
            .ok_or_else(|| ApiError::not_found("grant"))?
    };
    super::access::revoke_and_push(&state, &caller, &grant).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    /// Look back this many days (1–31, default 7).
    pub days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CourierEntry {
    pub at_ms: i64,
    pub door: String,
    /// The carrier whose courier came in.
    pub carrier: Option<String>,
}

/// When couriers came into my building (by door and carrier), newest last.
#[utoipa::path(get, path = "/api/v1/me/courier-entries", params(EntriesQuery),
    responses((status = 200, body = [CourierEntry]), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn courier_entries(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<EntriesQuery>,
) -> ApiResult<Json<Vec<CourierEntry>>> {
    let me = me(&state, &caller).await?;
    let days = q.days.unwrap_or(7);
    if !(1..=31).contains(&days) {
        return Err(ApiError::invalid("days", "must be 1 to 31"));
    }
    let now = now_ms();
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::rooms::entries_through(
        &mut conn,
        &me.site_id,
        &["courier_visit"],
        None,
        now - days * DAY_MS,
        now,
        1000,
    )
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|e| CourierEntry {
                at_ms: e.at_ms,
                door: e.door_name,
                carrier: e.carrier,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct NotFoundReport {
    pub incident_id: String,
    /// Everyone who went through the parcel room's doors since the parcel was
    /// shelved (courier visits and room codes), oldest first.
    pub entries: Vec<RoomEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct RoomEntry {
    pub at_ms: i64,
    pub door: String,
    /// visitor, courier_visit or room_code
    pub kind: String,
    pub grant_id: String,
    pub label: String,
    pub carrier: Option<String>,
    pub courier_id: Option<String>,
    pub resident_id: Option<String>,
}

impl From<db::rooms::EntryRow> for RoomEntry {
    fn from(e: db::rooms::EntryRow) -> Self {
        RoomEntry {
            at_ms: e.at_ms,
            door: e.door_name,
            kind: e.kind,
            grant_id: e.grant_id,
            label: e.label,
            carrier: e.carrier,
            courier_id: e.courier_id,
            resident_id: e.host_resident_id,
        }
    }
}

/// My parcel was not on its shelf: staff get an incident listing every entry
/// into the room since it was shelved.
#[utoipa::path(post, path = "/api/v1/me/parcels/{parcel_id}/not-found", params(("parcel_id" = String, Path)),
    responses((status = 201, body = NotFoundReport), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn my_parcel_not_found(
    State(state): State<AppState>,
    caller: Caller,
    Path(parcel_id): Path<String>,
) -> ApiResult<Response> {
    let me = me(&state, &caller).await?;
    let parcel = my_parcel(&state, &me, &parcel_id).await?;
    let report = super::rooms::report_not_found(&state, &parcel, &caller.actor()).await?;
    Ok((StatusCode::CREATED, Json(report)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhonePickupBody {
    /// The device whose kiosk shows the challenge (in its QR code).
    pub device_id: String,
    /// The kiosk's challenge, 32 hex digits.
    pub nonce: String,
}

#[derive(Serialize, ToSchema)]
pub struct PhonePickupToken {
    /// Hand this, as it is, to the kiosk (`POST /kiosk/api/phone-pickup`).
    pub token: String,
    pub expires_ms: i64,
}

/// Collect with my phone at the locker: answers the challenge the kiosk
/// shows with a token, signed for that device and valid for a minute, that
/// opens my compartments there when the phone hands it to the kiosk.
#[utoipa::path(post, path = "/api/v1/me/phone-pickups", request_body = PhonePickupBody,
    responses((status = 201, body = PhonePickupToken), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn phone_pickup(
    State(state): State<AppState>,
    caller: Caller,
    body: JsonBody<PhonePickupBody>,
) -> ApiResult<Response> {
    use cubby_protocol::phone::{PHONE_PICKUP, PhonePickup};
    let me = me(&state, &caller).await?;
    let req = body.value;
    check_id(ids::DEVICE, &req.device_id, "device")?;
    if req.nonce.len() != 32 || !req.nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::invalid(
            "nonce",
            "must be the 32 hex digits the kiosk shows",
        ));
    }
    let credential_id = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let device = cubby_store::devices::device(&mut conn, &req.device_id)
            .await?
            .filter(|d| d.site_id == me.site_id)
            .ok_or_else(|| ApiError::not_found("device"))?;
        db::residents::code_credential_at(&mut conn, &device.locker_id, &me.id)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    Code::NothingToCollect,
                    "nothing is waiting for you in this locker",
                )
            })?
    };
    let now = now_ms();
    let token = PhonePickup {
        purpose: PHONE_PICKUP.to_string(),
        device_id: req.device_id,
        nonce: req.nonce.to_ascii_lowercase(),
        credential_id,
        issued_ms: now,
        expires_ms: now + 60_000,
    };
    let signed = cubby_protocol::signing::sign(&crate::devices::signing_key(&state.secret), &token);
    Ok((
        StatusCode::CREATED,
        Json(PhonePickupToken {
            token: serde_json::to_string(&signed).unwrap_or_default(),
            expires_ms: token.expires_ms,
        }),
    )
        .into_response())
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me))
        .routes(routes!(my_export))
        .routes(routes!(my_parcels))
        .routes(routes!(add_delegate))
        .routes(routes!(my_parcel_not_found))
        .routes(routes!(hold_parcel))
        .routes(routes!(set_vacation))
        .routes(routes!(household, add_member))
        .routes(routes!(remove_member))
        .routes(routes!(delegates))
        .routes(routes!(revoke_delegate))
        .routes(routes!(my_grants, issue_my_grant))
        .routes(routes!(revoke_my_grant))
        .routes(routes!(courier_entries))
        .routes(routes!(phone_pickup))
}
