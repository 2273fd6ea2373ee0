//! Doors, door paths and access grants (visitor PINs). A grant's PIN is shown
//! once; the server keeps its MAC, and each controller driving one of the
//! grant's doors gets a MAC under its own key in its signed cache, so the
//! door decides on its own, online or offline.

use cubby_domain::codes::Code;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cubby_domain::access::{GrantRule, WeeklyWindow, format_minute_of_day};
use cubby_domain::credentials::mac;
use cubby_domain::ids;
use cubby_domain::model::clean_text;
use cubby_protocol::cache::{CredentialKind, local_credential_mac};
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::access::DoorRow;
use cubby_store::access::NewGrant;
use cubby_store::access::PathRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::check_id;
use super::sites::site_for;
pub use crate::app::access::{
    GrantDraft, IssuedGrant, NewGrantBody, Window, day_name, mint_grant, revoke_and_push,
    store_grant, visitor_rule,
};
use crate::app::{self, Changes};
use crate::auth::step_up::STEP_UP_HEADER;
use crate::auth::{Caller, MANAGERS, STAFF};
use crate::devices::locker_credential_key;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::JsonBody;
use crate::{AppState, new_id, now_ms};

const DOOR_KINDS: &[&str] = &["perimeter", "lobby", "parcel_room", "shared"];

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDoor {
    pub name: String,
    /// `perimeter`, `lobby`, `parcel_room` or `shared` (gym, laundry, roof).
    pub kind: String,
    /// `secure` (locked without power; the default) or `safe` (unlocked
    /// without power). Fire release of egress doors is wired, never software.
    pub fail_mode: Option<String>,
    /// The agent that drives the door's lock.
    pub device_id: Option<String>,
    /// The lock output on that agent, counted in its wiring order (boards then
    /// locks, from 0) after its compartments.
    pub lock_output: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct Door {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub kind: String,
    pub fail_mode: String,
    pub device_id: Option<String>,
    pub lock_output: Option<u32>,
    /// Send it back with an edit (`PATCH /api/v1/doors/{door_id}`).
    pub version: i64,
}

impl From<DoorRow> for Door {
    fn from(d: DoorRow) -> Self {
        Door {
            id: d.id,
            site_id: d.site_id,
            name: d.name,
            kind: d.kind,
            fail_mode: d.fail_mode,
            device_id: d.device_id,
            lock_output: d.lock_output,
            version: d.version,
        }
    }
}

/// Add a door to a site.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/doors", params(("site_id" = String, Path)), request_body = NewDoor,
    responses((status = 201, body = Door), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_door(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(site_id): Path<String>,
    body: JsonBody<NewDoor>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let req = body.value;
    let name = clean_text("name", &req.name, 80)?;
    if !DOOR_KINDS.contains(&req.kind.as_str()) {
        return Err(ApiError::invalid(
            "kind",
            format!("one of {}", DOOR_KINDS.join(", ")),
        ));
    }
    let fail_mode = req.fail_mode.unwrap_or_else(|| "secure".into());
    app::doors::check_fail_mode(&fail_mode)?;
    match (&req.device_id, req.lock_output) {
        (Some(device_id), Some(output)) => {
            check_id(ids::DEVICE, device_id, "device")?;
            let mut conn = state.store.reader().await.map_err(OpError::from)?;
            let device = db::devices::device(&mut conn, device_id)
                .await?
                .filter(|d| d.site_id == site.id && !d.revoked)
                .ok_or_else(|| ApiError::invalid("device_id", "no such device at this site"))?;
            let compartments = db::devices::compartment_labels(&mut conn, &device.locker_id)
                .await?
                .len() as u32;
            if output < compartments || output > 1023 {
                return Err(ApiError::invalid(
                    "lock_output",
                    format!(
                        "outputs 0..{compartments} drive this device's compartments; a door uses one from {compartments} to 1023"
                    ),
                ));
            }
        }
        (None, None) => {}
        _ => {
            return Err(ApiError::invalid(
                "lock_output",
                "give device_id and lock_output together, or neither",
            ));
        }
    }
    let row = DoorRow {
        id: new_id(ids::DOOR),
        site_id: site.id,
        name,
        kind: req.kind,
        fail_mode,
        device_id: req.device_id,
        lock_output: req.lock_output,
        created_ms: now_ms(),
        version: 1,
    };
    let stored = row.clone();
    let changes = row
        .device_id
        .clone()
        .map(|d| Changes::none().and_device(d))
        .unwrap_or_default();
    app::commit(&state, move |conn| {
        Box::pin(async move {
            db::access::add_door(conn, &stored).await?;
            Ok(((), changes))
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(Door::from(row))).into_response())
}

/// List a site's doors.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/doors", params(("site_id" = String, Path)),
    responses((status = 200, body = [Door]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_doors(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<Json<Vec<Door>>> {
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let doors = db::access::doors_of_site(&mut conn, &site.id).await?;
    Ok(Json(doors.into_iter().map(Door::from).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPath {
    pub name: String,
    /// Door ids in walking order, e.g. perimeter gate, lobby, parcel room.
    pub doors: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DoorPath {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub doors: Vec<String>,
    /// Send it back with an edit (`PATCH /api/v1/door-paths/{path_id}`).
    pub version: i64,
}

impl From<PathRow> for DoorPath {
    fn from(p: PathRow) -> Self {
        DoorPath {
            id: p.id,
            site_id: p.site_id,
            name: p.name,
            doors: p.doors,
            version: p.version,
        }
    }
}

/// Define a path: an ordered route of doors one grant can cover.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/door-paths", params(("site_id" = String, Path)), request_body = NewPath,
    responses((status = 201, body = DoorPath), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_path(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(site_id): Path<String>,
    body: JsonBody<NewPath>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let req = body.value;
    let name = clean_text("name", &req.name, 80)?;
    app::doors::check_path_doors(&state, &site.id, &req.doors).await?;
    let row = PathRow {
        id: new_id(ids::DOOR_PATH),
        site_id: site.id,
        name,
        doors: req.doors,
        created_ms: now_ms(),
        version: 1,
    };
    let stored = row.clone();
    state
        .store
        .transact(move |conn| Box::pin(async move { db::access::add_path(conn, &stored).await }))
        .await?;
    Ok((StatusCode::CREATED, Json(DoorPath::from(row))).into_response())
}

/// List a site's door paths.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/door-paths", params(("site_id" = String, Path)),
    responses((status = 200, body = [DoorPath]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_paths(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<Json<Vec<DoorPath>>> {
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let paths = db::access::paths_of_site(&mut conn, &site.id).await?;
    Ok(Json(paths.into_iter().map(DoorPath::from).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct GrantUse {
    pub door_id: String,
    pub at_ms: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Grant {
    pub id: String,
    pub site_id: String,
    /// visitor, courier_visit or room_code
    pub kind: String,
    pub label: String,
    pub host_resident_id: Option<String>,
    pub doors: Vec<String>,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
    pub max_uses: Option<u32>,
    pub schedule: Vec<Window>,
    pub revoked_ms: Option<i64>,
    pub created_by: String,
    pub created_ms: i64,
    /// Every opening the grant made, as the controllers journalled them.
    pub uses: Vec<GrantUse>,
}

fn to_window(w: &WeeklyWindow) -> Window {
    Window {
        days: w.days.iter().map(|d| day_name(*d).to_string()).collect(),
        start: format_minute_of_day(w.start_minute),
        end: format_minute_of_day(w.end_minute),
    }
}

/// A grant's host must be a resident of the grant's site.
async fn check_host(state: &AppState, site_id: &str, host: &str) -> ApiResult<()> {
    check_id(ids::RESIDENT, host, "resident")?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    cubby_store::residents::resident(&mut conn, host)
        .await?
        .filter(|r| r.site_id == site_id)
        .ok_or_else(|| ApiError::invalid("host_resident_id", "no such resident at this site"))?;
    Ok(())
}

/// Issue an access grant: a PIN for doors or a path, between two instants,
/// optionally on a weekly schedule and with a use limit per door.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/access-grants", params(("site_id" = String, Path)), request_body = NewGrantBody,
    responses((status = 201, body = IssuedGrant), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn issue_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewGrantBody>,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let req = body.value;
    if let Some(host) = &req.host_resident_id {
        check_host(&state, &site.id, host).await?;
    }
    let host = req.host_resident_id.clone();
    let (label, rule) = visitor_rule(&state, &site.id, req).await?;
    // Into the parcel room, where everybody's parcels are: staff only, with
    // a fresh passkey step-up.
    if !app::access::parcel_room_doors(&state, &rule.doors)
        .await?
        .is_empty()
    {
        let proof = headers.get(STEP_UP_HEADER).and_then(|v| v.to_str().ok());
        crate::auth::step_up::check_step_up(&state.secret, &caller, proof, now_ms())?;
    }
    let issued = store_grant(
        &state,
        &GrantDraft {
            site_id: site.id.clone(),
            kind: "visitor",
            label,
            host_resident_id: host,
            carrier: None,
            courier_id: None,
            room_id: None,
            rule,
            created_by: caller.actor(),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

#[derive(Deserialize, IntoParams)]
pub struct GrantFilter {
    /// Only the grants of this host resident.
    pub host_resident_id: Option<String>,
}

/// List a site's access grants, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/access-grants", params(("site_id" = String, Path), GrantFilter),
    responses((status = 200, body = [Grant]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_grants(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    Query(filter): Query<GrantFilter>,
) -> ApiResult<Json<Vec<Grant>>> {
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows =
        db::access::grants_of_site(&mut conn, &site.id, filter.host_resident_id.as_deref(), 500)
            .await?;
    let mut out = Vec::with_capacity(rows.len());
    for g in rows {
        let uses = db::access::uses_of_grant(&mut conn, &g.id).await?;
        out.push(grant_view(g, uses));
    }
    Ok(Json(out))
}

pub(crate) fn grant_view(g: db::access::GrantRow, uses: Vec<db::access::UseRow>) -> Grant {
    Grant {
        id: g.id,
        site_id: g.site_id,
        kind: g.kind,
        label: g.label,
        host_resident_id: g.host_resident_id,
        doors: g.rule.doors.iter().cloned().collect(),
        not_before_ms: g.rule.not_before_ms,
        not_after_ms: g.rule.not_after_ms,
        max_uses: g.rule.max_uses,
        schedule: g.rule.schedule.iter().map(to_window).collect(),
        revoked_ms: g.revoked_ms,
        created_by: g.created_by,
        created_ms: g.created_ms,
        uses: uses
            .into_iter()
            .map(|u| GrantUse {
                door_id: u.door_id,
                at_ms: u.at_ms,
            })
            .collect(),
    }
}

async fn grant_for(
    state: &AppState,
    caller: &Caller,
    grant_id: &str,
) -> ApiResult<db::access::GrantRow> {
    check_id(ids::ACCESS_GRANT, grant_id, "grant")?;
    let grant = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::access::grant(&mut conn, grant_id)
            .await?
            .ok_or(ApiError::not_found("grant"))?
    };
    // Hides grants of other organisations behind the same 404.
    site_for(state, caller, &grant.site_id)
        .await
        .map_err(|_| ApiError::not_found("grant"))?;
    Ok(grant)
}

/// One grant with every use.
#[utoipa::path(get, path = "/api/v1/access-grants/{grant_id}", params(("grant_id" = String, Path)),
    responses((status = 200, body = Grant), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(grant_id): Path<String>,
) -> ApiResult<Json<Grant>> {
    caller.require(STAFF)?;
    let grant = grant_for(&state, &caller, &grant_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let uses = db::access::uses_of_grant(&mut conn, &grant.id).await?;
    Ok(Json(grant_view(grant, uses)))
}

/// Revoke a grant. Online controllers drop it from their cache at once (well
/// within 60 s); one that is offline drops it first thing on reconnecting.
#[utoipa::path(post, path = "/api/v1/access-grants/{grant_id}/revoke", params(("grant_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(grant_id): Path<String>,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    let grant = grant_for(&state, &caller, &grant_id).await?;
    revoke_and_push(&state, &caller, &grant).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOfflineCodeBody {
    pub label: String,
    /// Hours from the start of the current hour (1–24, default 24).
    pub hours: Option<u32>,
    /// The resident the visitor comes to see (told of each use).
    pub host_resident_id: Option<String>,
}

/// Issue an offline code for one door: 14 digits that carry their own
/// validity (from the current hour, at most 24 hours) and a MAC under the
/// door's key. While the door's controller holds a valid cache the code is an
/// ordinary, revocable grant; past the cache's expiry the controller checks
/// the code on its own and it can no longer be revoked.
#[utoipa::path(post, path = "/api/v1/doors/{door_id}/offline-codes", params(("door_id" = String, Path)), request_body = NewOfflineCodeBody,
    responses((status = 201, body = IssuedGrant), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn issue_offline_code(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(door_id): Path<String>,
    body: JsonBody<NewOfflineCodeBody>,
) -> ApiResult<Response> {
    use cubby_protocol::offline::{
        MAX_OFFLINE_HOURS, OFFLINE_SLOTS, offline_code, offline_grant_id,
    };
    caller.require(STAFF)?;
    check_id(ids::DOOR, &door_id, "door")?;
    let door = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::access::door(&mut conn, &door_id)
            .await?
            .ok_or_else(|| ApiError::not_found("door"))?
    };
    let site = site_for(&state, &caller, &door.site_id)
        .await
        .map_err(|_| ApiError::not_found("door"))?;
    // An offline code cannot be revoked at a door past its cache: into the
    // parcel room it needs the same fresh step-up as a PIN does.
    let one_door = std::collections::BTreeSet::from([door.id.clone()]);
    if !app::access::parcel_room_doors(&state, &one_door)
        .await?
        .is_empty()
    {
        let proof = headers.get(STEP_UP_HEADER).and_then(|v| v.to_str().ok());
        crate::auth::step_up::check_step_up(&state.secret, &caller, proof, now_ms())?;
    }
    let req = body.value;
    let label = clean_text("label", &req.label, 80)?;
    let hours = req.hours.unwrap_or(MAX_OFFLINE_HOURS);
    if !(1..=MAX_OFFLINE_HOURS).contains(&hours) {
        return Err(ApiError::invalid("hours", "must be 1 to 24"));
    }
    let Some(device_id) = door.device_id.clone() else {
        return Err(ApiError::new(
            Code::DoorNotDriven,
            "no controller drives this door, so it cannot check offline codes",
        ));
    };
    if let Some(host) = &req.host_resident_id {
        check_host(&state, &site.id, host).await?;
    }
    let key = crate::devices::door_offline_key(&state.secret, &door.id);
    let now = now_ms();
    let start_hour = now / 3_600_000;
    let (slot, locker_id) = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let mut free = None;
        for slot in 0..OFFLINE_SLOTS {
            let id = offline_grant_id(&key, start_hour, hours, slot);
            if db::access::grant(&mut conn, &id).await?.is_none() {
                free = Some(slot);
                break;
            }
        }
        let device = db::devices::device(&mut conn, &device_id)
            .await?
            .ok_or_else(|| ApiError::not_found("device"))?;
        (free, device.locker_id)
    };
    let Some(slot) = slot else {
        return Err(ApiError::new(
            Code::OfflineCodesExhausted,
            "ten codes of this length were issued for this door this hour; try another length or the next hour",
        ));
    };
    let code = offline_code(&key, start_hour, hours, slot)
        .ok_or_else(|| ApiError::invalid("hours", "must be 1 to 24"))?;
    let rule = GrantRule {
        doors: [door.id.clone()].into(),
        not_before_ms: start_hour * 3_600_000,
        not_after_ms: (start_hour + i64::from(hours)) * 3_600_000,
        max_uses: None,
        schedule: Vec::new(),
    };
    rule.validate(now)?;
    let locker_key = locker_credential_key(&state.secret, &locker_id);
    let grant = NewGrant {
        id: offline_grant_id(&key, start_hour, hours, slot),
        site_id: site.id.clone(),
        kind: "offline_code".into(),
        label,
        host_resident_id: req.host_resident_id,
        carrier: None,
        rule,
        pin_mac: mac(&state.secret, &["door-pin", &site.id, &code]),
        macs: vec![(
            device_id.clone(),
            local_credential_mac(&locker_key, CredentialKind::Door, &code),
        )],
        created_by: caller.actor(),
        courier_id: None,
        room_id: None,
    };
    let issued = IssuedGrant {
        grant_id: grant.id.clone(),
        pin: code,
        doors: vec![door.id.clone()],
        not_before_ms: grant.rule.not_before_ms,
        not_after_ms: grant.rule.not_after_ms,
        max_uses: None,
    };
    let changes = Changes::none().and_device(device_id);
    app::commit(&state, move |conn| {
        Box::pin(async move {
            db::access::issue_grant(conn, &grant, now).await?;
            Ok(((), changes))
        })
    })
    .await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub use crate::app::doors::{DoorPatch, PathPatch};

/// Rename a door or change its fail mode (managers, with a settings
/// step-up; audited), naming the version you read.
#[utoipa::path(patch, path = "/api/v1/doors/{door_id}", params(("door_id" = String, Path)), request_body = DoorPatch,
    responses((status = 200, body = Door), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_door(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(door_id): Path<String>,
    body: JsonBody<DoorPatch>,
) -> ApiResult<Json<Door>> {
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let door = app::doors::edit_door(&state, &caller, &door_id, body.value).await?;
    Ok(Json(door.into()))
}

/// Retire a door (managers, with a settings step-up; audited): it leaves
/// the site's lists and its controller's cache, and its lock output is
/// free; uses recorded at it stay. While a door path or a live grant names
/// it: 409 `door_in_use`.
#[utoipa::path(post, path = "/api/v1/doors/{door_id}/retire", params(("door_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retire_door(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(door_id): Path<String>,
) -> ApiResult<StatusCode> {
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    app::doors::retire_door(&state, &caller, &door_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rename a door path or change its doors (managers, with a settings
/// step-up; audited). Grants already issued over it keep their doors.
#[utoipa::path(patch, path = "/api/v1/door-paths/{path_id}", params(("path_id" = String, Path)), request_body = PathPatch,
    responses((status = 200, body = DoorPath), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_path(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(path_id): Path<String>,
    body: JsonBody<PathPatch>,
) -> ApiResult<Json<DoorPath>> {
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let path = app::doors::edit_path(&state, &caller, &path_id, body.value).await?;
    Ok(Json(path.into()))
}

/// Remove a door path (managers, with a settings step-up; audited). While
/// a parcel room is reached by it: 409 `path_in_use`.
#[utoipa::path(delete, path = "/api/v1/door-paths/{path_id}", params(("path_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_path(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(path_id): Path<String>,
) -> ApiResult<StatusCode> {
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    app::doors::remove_path(&state, &caller, &path_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_door, list_doors))
        .routes(routes!(create_path, list_paths))
        .routes(routes!(patch_door))
        .routes(routes!(retire_door))
        .routes(routes!(patch_path, delete_path))
        .routes(routes!(issue_grant, list_grants))
        .routes(routes!(get_grant))
        .routes(routes!(issue_offline_code))
        .routes(routes!(revoke_grant))
}
