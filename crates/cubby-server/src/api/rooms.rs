//! Courier accounts and visits, and open-shelf parcel rooms: a courier comes
//! in with a per-visit PIN, logs each parcel to a shelf zone, and the
//! recipient gets a room code that lets them in once to collect. Every entry
//! is logged; a parcel that is not on its shelf becomes an incident listing
//! who went in.

use cubby_domain::codes::Code;
use std::collections::BTreeSet;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cubby_domain::access::GrantRule;
use cubby_domain::dims::Dimensions;
use cubby_domain::ids;
use cubby_domain::model::{Role, clean_text};
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::outbox::Message;
use cubby_store::parcels::ParcelRow;
use cubby_store::residents::ResidentRow;
use cubby_store::rooms::ShelveRequest;
use cubby_store::tenants::SiteRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::access::{GrantDraft, IssuedGrant, mint_grant, store_grant};
use super::check_id;
use super::me::{NotFoundReport, RoomEntry};
use super::parcels::{RecipientBody, recipient_of, validate_parcel};
use super::sites::site_for;
use crate::app::couriers::{IssuedCourier, carrier_for, open_courier_account};
use crate::app::notices::notice;
use crate::app::{self, Changes};
use crate::auth::{Caller, DEPOSITORS, MANAGERS, STAFF};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::JsonBody;
use crate::{AppState, new_id, now_ms};

/// Longest courier visit.
pub const MAX_VISIT_MINUTES: i64 = 120;
/// Openings per door a courier visit allows (in and out, with a second trip).
pub const VISIT_USES_PER_DOOR: u32 = 6;
/// How long a room code waits for its holder.
pub const ROOM_CODE_DAYS: i64 = 14;
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCourierBody {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct Courier {
    pub id: String,
    pub carrier: String,
    pub name: String,
    pub created_ms: i64,
}

/// Open a personal courier account for a carrier: the courier gets their own
/// token, and every door they open is recorded as theirs.
#[utoipa::path(post, path = "/api/v1/carriers/{carrier_id}/couriers", params(("carrier_id" = String, Path)), request_body = NewCourierBody,
    responses((status = 201, body = IssuedCourier), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_courier(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(carrier_id): Path<String>,
    body: JsonBody<NewCourierBody>,
) -> ApiResult<Response> {
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let carrier = carrier_for(&state, &caller, &carrier_id).await?;
    let issued = open_courier_account(&state, carrier, &body.value.name).await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

/// A carrier's courier accounts.
#[utoipa::path(get, path = "/api/v1/carriers/{carrier_id}/couriers", params(("carrier_id" = String, Path)),
    responses((status = 200, body = [Courier]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_couriers(
    State(state): State<AppState>,
    caller: Caller,
    Path(carrier_id): Path<String>,
) -> ApiResult<Json<Vec<Courier>>> {
    let carrier = carrier_for(&state, &caller, &carrier_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::couriers::couriers_of_carrier(&mut conn, &carrier.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| Courier {
                id: c.id,
                carrier: c.carrier,
                name: c.name,
                created_ms: c.created_ms,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVisitBody {
    /// Into this parcel room (its path's doors), the only doors a courier
    /// visit opens; `path_id` is refused with `door_not_allowed`.
    pub room_id: Option<String>,
    pub path_id: Option<String>,
    /// Length of the visit from now (1–120, default 30).
    pub minutes: Option<i64>,
}

/// The room of this site, or 404.
async fn room_for(
    state: &AppState,
    caller: &Caller,
    room_id: &str,
) -> ApiResult<(db::rooms::RoomRow, SiteRow)> {
    check_id(ids::ROOM, room_id, "parcel room")?;
    let room = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::rooms::room(&mut conn, room_id)
            .await?
            .ok_or_else(|| ApiError::not_found("parcel room"))?
    };
    let site = site_for(state, caller, &room.site_id)
        .await
        .map_err(|_| ApiError::not_found("parcel room"))?;
    Ok((room, site))
}

/// The doors of a room's entry path, or 409 when it has none yet.
async fn room_doors(
    state: &AppState,
    room: &db::rooms::RoomRow,
) -> ApiResult<Vec<db::access::DoorRow>> {
    let Some(path_id) = &room.path_id else {
        return Err(ApiError::new(
            Code::RoomHasNoPath,
            "this parcel room has no entry path yet; set one with PUT /parcel-rooms/{id}/path",
        ));
    };
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let path = db::access::path(&mut conn, path_id)
        .await?
        .ok_or_else(|| ApiError::not_found("path"))?;
    let mut out = Vec::new();
    for id in &path.doors {
        if let Some(d) = db::access::door(&mut conn, id).await? {
            out.push(d);
        }
    }
    Ok(out)
}

/// A courier's per-visit PIN: opens the doors on the way to a parcel room
/// (or a path) between now and the end of the visit, and is recorded against
/// the courier's own account. Needs a personal courier token.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/courier-visits", params(("site_id" = String, Path)), request_body = NewVisitBody,
    responses((status = 201, body = IssuedGrant), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn start_visit(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    body: JsonBody<NewVisitBody>,
) -> ApiResult<Response> {
    let courier_id = match (caller.role, &caller.courier_id) {
        (Role::Courier, Some(c)) => c.clone(),
        _ => {
            return Err(ApiError::new(
                Code::PersonalCourierTokenRequired,
                "a courier visit needs the courier's own token",
            ));
        }
    };
    let site = site_for(&state, &caller, &site_id).await?;
    // Only a carrier the site lets deposit sends its couriers in.
    if let Some(carrier) = &caller.carrier {
        crate::app::couriers::require_enabled(&state, &site.id, carrier).await?;
    }
    let req = body.value;
    let minutes = req.minutes.unwrap_or(30);
    if !(1..=MAX_VISIT_MINUTES).contains(&minutes) {
        return Err(ApiError::invalid("minutes", "must be 1 to 120"));
    }
    let doors: BTreeSet<String> = match (&req.room_id, &req.path_id) {
        (Some(room_id), None) => {
            let (room, _) = room_for(&state, &caller, room_id).await?;
            if room.site_id != site.id {
                return Err(ApiError::not_found("parcel room"));
            }
            room_doors(&state, &room)
                .await?
                .into_iter()
                .map(|d| d.id)
                .collect()
        }
        // A courier's PIN covers the way into a parcel room and nothing else.
        (None, Some(_)) => {
            return Err(ApiError::new(
                Code::DoorNotAllowed,
                "a courier visit opens only a parcel room's entry path: give room_id",
            ));
        }
        _ => {
            return Err(ApiError::invalid(
                "room_id",
                "give either room_id or path_id",
            ));
        }
    };
    let courier = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::couriers::courier(&mut conn, &courier_id)
            .await?
            .ok_or_else(ApiError::forbidden)?
    };
    let now = now_ms();
    let issued = store_grant(
        &state,
        &GrantDraft {
            site_id: site.id.clone(),
            kind: "courier_visit",
            label: format!("{} courier {}", courier.carrier, courier.name),
            host_resident_id: None,
            carrier: Some(courier.carrier.clone()),
            courier_id: Some(courier.id.clone()),
            room_id: req.room_id.clone(),
            rule: GrantRule {
                doors,
                not_before_ms: now,
                not_after_ms: now + minutes * MINUTE_MS,
                max_uses: Some(VISIT_USES_PER_DOOR),
                schedule: Vec::new(),
            },
            created_by: caller.actor(),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoomPathBody {
    /// The path from the street into the room; its last door is the room's.
    pub path_id: String,
}

/// Set the door path that leads into a parcel room. Courier visits and room
/// codes open its doors.
#[utoipa::path(put, path = "/api/v1/parcel-rooms/{room_id}/path", params(("room_id" = String, Path)), request_body = RoomPathBody,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_room_path(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(room_id): Path<String>,
    body: JsonBody<RoomPathBody>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let (room, _) = room_for(&state, &caller, &room_id).await?;
    let path_id = body.value.path_id;
    check_id(ids::DOOR_PATH, &path_id, "path")?;
    {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let path = db::access::path(&mut conn, &path_id)
            .await?
            .filter(|p| p.site_id == room.site_id)
            .ok_or_else(|| ApiError::invalid("path_id", "no such path at this site"))?;
        let mut ends_in_room = false;
        if let Some(last) = path.doors.last() {
            ends_in_room = db::access::door(&mut conn, last)
                .await?
                .is_some_and(|d| d.kind == "parcel_room");
        }
        if !ends_in_room {
            return Err(ApiError::invalid(
                "path_id",
                "the path's last door must be a parcel_room door",
            ));
        }
    }
    state
        .store
        .transact(move |conn| {
            Box::pin(async move { db::rooms::set_room_path(conn, &room.id, &path_id).await })
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShelveBody {
    pub tracking_number: String,
    pub carrier: Option<String>,
    /// The shelf zone's label, as printed on the shelf.
    pub zone: String,
    pub recipient: RecipientBody,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    /// ambient (default), chilled or frozen.
    pub temperature: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ShelvedParcel {
    pub parcel_id: String,
    pub state: String,
    pub zone: String,
    /// False when the recipient was not recognised: the parcel waits in the
    /// manager queue and no room code is sent.
    pub recipient_known: bool,
    /// Whether a new room code was sent (else the recipient's unused one
    /// covers this parcel too).
    pub room_code_sent: bool,
}

/// Log a parcel to a shelf zone of a parcel room. Its recipient is sent a
/// room code that lets them in once, until their parcels are collected.
#[utoipa::path(post, path = "/api/v1/parcel-rooms/{room_id}/parcels", params(("room_id" = String, Path)), request_body = ShelveBody,
    responses((status = 201, body = ShelvedParcel), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn shelve(
    State(state): State<AppState>,
    caller: Caller,
    Path(room_id): Path<String>,
    body: JsonBody<ShelveBody>,
) -> ApiResult<Response> {
    caller.require(DEPOSITORS)?;
    let (room, site) = room_for(&state, &caller, &room_id).await?;
    let req = body.value;
    let v = validate_parcel(
        &req.tracking_number,
        req.carrier.as_deref(),
        &caller,
        Dimensions::new(req.width_mm, req.height_mm, req.depth_mm),
        None,
        req.temperature.as_deref(),
    )?;
    let recipient = recipient_of(&req.recipient)?;
    let zone = clean_text("zone", &req.zone, 40)?;
    let doors: BTreeSet<String> = room_doors(&state, &room)
        .await?
        .into_iter()
        .map(|d| d.id)
        .collect();
    let mut attempts = 0;
    loop {
        attempts += 1;
        let now = now_ms();
        let minted = mint_grant(
            &state,
            &GrantDraft {
                site_id: site.id.clone(),
                kind: "room_code",
                label: format!("room code for {}", room.name),
                host_resident_id: None,
                carrier: None,
                courier_id: None,
                room_id: Some(room.id.clone()),
                rule: GrantRule {
                    doors: doors.clone(),
                    not_before_ms: now,
                    not_after_ms: now + ROOM_CODE_DAYS * DAY_MS,
                    max_uses: Some(1),
                    schedule: Vec::new(),
                },
                created_by: caller.actor(),
            },
        )
        .await?;
        let request = ShelveRequest {
            parcel_id: new_id(ids::PARCEL),
            room_id: room.id.clone(),
            zone: zone.clone(),
            tracking_number: v.tracking.clone(),
            carrier: v.carrier.clone(),
            recipient: recipient.clone(),
            dims: v.dims,
            temperature: v.temperature,
            actor: caller.actor(),
            now,
            room_code: minted.grant.clone(),
        };
        let pin = minted.pin.clone();
        let site_row = site.clone();
        let msg_id = new_id(ids::MESSAGE);
        let devices = minted.devices.clone();
        let stored = app::commit(&state, move |conn| {
            Box::pin(async move {
                let out = db::rooms::shelve(conn, &request).await?;
                if let Some(resident) = &out.resident {
                    let msg = room_code_message(
                        msg_id,
                        &site_row,
                        &out.room.name,
                        &out.zone,
                        resident,
                        out.new_code.then_some(pin.as_str()),
                    );
                    db::outbox::enqueue(conn, &msg, now).await?;
                }
                // A new room code reaches the room's door controllers now.
                let changes = if out.new_code {
                    devices
                        .into_iter()
                        .fold(Changes::none(), |c, d| c.and_device(d))
                } else {
                    Changes::none()
                };
                Ok((out, changes))
            })
        })
        .await;
        match stored {
            Ok(out) => {
                return Ok((
                    StatusCode::CREATED,
                    Json(ShelvedParcel {
                        parcel_id: out.parcel.id,
                        state: out.parcel.state.to_string(),
                        zone: out.zone,
                        recipient_known: out.resident.is_some(),
                        room_code_sent: out.new_code,
                    }),
                )
                    .into_response());
            }
            Err(e) if e.code == Code::PinTaken && attempts < 5 => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The notice of a parcel on a shelf, with the room code when it is new. No
/// merchant, no contents (security.md).
fn room_code_message(
    id: String,
    site: &SiteRow,
    room: &str,
    zone: &str,
    resident: &ResidentRow,
    code: Option<&str>,
) -> Message {
    let (channel, recipient) = resident.contact(&site.name);
    let place = format!("{room}, shelf {zone}");
    Message {
        id,
        site_id: site.id.clone(),
        channel: channel.to_string(),
        recipient,
        subject: "A parcel is waiting for you".to_string(),
        // No code in the stored body: it is rendered from the notice at
        // send time, and the notice's code is erased once sent.
        body: format!(
            "Hello {name},\n\nA parcel is waiting for you in the parcel room \"{room}\" at {site}, on shelf {zone}.",
            name = resident.name,
            site = site.name,
        ),
        payload: serde_json::json!({
            "kind": "parcel_ready",
            "resident_id": resident.id,
            "room": room,
            "zone": zone,
            "code": code,
            "notice": notice(
                cubby_notify::NoticeKind::ParcelReady,
                resident,
                &site.name,
                &place,
                code,
                None,
            ),
        }),
    }
}

/// Files a "parcel not found" incident for a shelved parcel with every entry
/// into its room since it was shelved.
pub(crate) async fn report_not_found(
    state: &AppState,
    parcel: &ParcelRow,
    reporter: &str,
) -> ApiResult<NotFoundReport> {
    let (room_id, zone, shelved_ms) = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let (room_id, zone) = db::rooms::shelf_of(&mut conn, &parcel.id)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    Code::NotInAParcelRoom,
                    "only a parcel logged to a parcel room's shelf can be reported not found",
                )
            })?;
        let at = db::custody::last_event_at(&mut conn, &parcel.id, "deposited")
            .await?
            .unwrap_or(parcel.created_ms);
        (room_id, zone, at)
    };
    let room = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::rooms::room(&mut conn, &room_id)
            .await?
            .ok_or_else(|| ApiError::not_found("parcel room"))?
    };
    let room_door_ids: Vec<String> = match room_doors(state, &room).await {
        Ok(doors) => doors
            .into_iter()
            .filter(|d| d.kind == "parcel_room")
            .map(|d| d.id)
            .collect(),
        Err(_) => Vec::new(),
    };
    let entries = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::rooms::entries_through(
            &mut conn,
            &parcel.site_id,
            &["visitor", "courier_visit", "room_code"],
            Some(&room_door_ids),
            shelved_ms,
            now_ms(),
            1000,
        )
        .await?
    };
    let incident_id = new_id(ids::INCIDENT);
    let detail = format!(
        "parcel {} reported not found on shelf {zone} of {} by {reporter}; {} entries into the room since it was shelved",
        parcel.id,
        room.name,
        entries.len()
    );
    let (iid, site_id, pid, now) = (
        incident_id,
        parcel.site_id.clone(),
        parcel.id.clone(),
        now_ms(),
    );
    // A second report while the first is open folds into it: its id.
    let incident_id = state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::incidents::raise_site_incident(
                    conn,
                    &iid,
                    &site_id,
                    Some(&pid),
                    "parcel_not_found",
                    &detail,
                    now,
                )
                .await
            })
        })
        .await?;
    Ok(NotFoundReport {
        incident_id,
        entries: entries.into_iter().map(RoomEntry::from).collect(),
    })
}

/// A parcel was not on its shelf (staff): raises an incident with every entry
/// into the room since it was shelved.
#[utoipa::path(post, path = "/api/v1/parcels/{parcel_id}/not-found", params(("parcel_id" = String, Path)),
    responses((status = 201, body = NotFoundReport), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn parcel_not_found(
    State(state): State<AppState>,
    caller: Caller,
    Path(parcel_id): Path<String>,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    let (parcel, _) = crate::app::places::parcel_for(&state, &caller, &parcel_id).await?;
    let report = report_not_found(&state, &parcel, &caller.actor()).await?;
    Ok((StatusCode::CREATED, Json(report)).into_response())
}

/// Every entry into a parcel room's doors over the last `days` (staff).
#[utoipa::path(get, path = "/api/v1/parcel-rooms/{room_id}/entries", params(("room_id" = String, Path)),
    responses((status = 200, body = [RoomEntry]), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn room_entries(
    State(state): State<AppState>,
    caller: Caller,
    Path(room_id): Path<String>,
) -> ApiResult<Json<Vec<RoomEntry>>> {
    caller.require(STAFF)?;
    let (room, _) = room_for(&state, &caller, &room_id).await?;
    let door_ids: Vec<String> = room_doors(&state, &room)
        .await?
        .into_iter()
        .filter(|d| d.kind == "parcel_room")
        .map(|d| d.id)
        .collect();
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::rooms::entries_through(
        &mut conn,
        &room.site_id,
        &["visitor", "courier_visit", "room_code"],
        Some(&door_ids),
        now_ms() - 31 * DAY_MS,
        now_ms(),
        1000,
    )
    .await?;
    Ok(Json(rows.into_iter().map(RoomEntry::from).collect()))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
/// Close a courier account (managers, with a settings step-up; audited):
/// its token, passes and visit PINs stop at once and its name is deleted;
/// what it did stays recorded under its id.
#[utoipa::path(delete, path = "/api/v1/couriers/{courier_id}", params(("courier_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn close_courier(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(courier_id): Path<String>,
) -> ApiResult<StatusCode> {
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    crate::app::couriers::close_courier_account(&state, &caller, &courier_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarrierPatch {
    pub name: String,
}

/// Rename a carrier (managers). Its code, which tokens and parcels carry,
/// stays; to stop it depositing at a site, disable it there.
#[utoipa::path(patch, path = "/api/v1/carriers/{carrier_id}", params(("carrier_id" = String, Path)), request_body = CarrierPatch,
    responses((status = 200, body = crate::api::admin::Carrier), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_carrier(
    State(state): State<AppState>,
    caller: Caller,
    Path(carrier_id): Path<String>,
    body: JsonBody<CarrierPatch>,
) -> ApiResult<Json<crate::api::admin::Carrier>> {
    let c = crate::app::couriers::rename_carrier(&state, &caller, &carrier_id, &body.value.name)
        .await?;
    Ok(Json(crate::api::admin::Carrier {
        id: c.id,
        code: c.code,
        name: c.name,
    }))
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_couriers, add_courier))
        .routes(routes!(close_courier))
        .routes(routes!(patch_carrier))
        .routes(routes!(start_visit))
        .routes(routes!(set_room_path))
        .routes(routes!(shelve))
        .routes(routes!(room_entries))
        .routes(routes!(parcel_not_found))
}
