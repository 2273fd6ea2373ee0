//! Doors, door paths and access grants (visitor PINs). A grant's PIN is shown
//! once; the server keeps its MAC, and each controller driving one of the
//! grant's doors gets a MAC under its own key in its signed cache, so the
//! door decides on its own, online or offline.

use cubby_domain::codes::Code;
use std::collections::BTreeSet;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cubby_domain::access::{
    GrantRule, Weekday, WeeklyWindow, format_minute_of_day, parse_minute_of_day,
};
use cubby_domain::credentials::{mac, new_keypad_code};
use cubby_domain::ids;
use cubby_domain::model::clean_text;
use cubby_protocol::cache::{CredentialKind, local_credential_mac};
use cubby_store::ops::access::{self as store, DoorRow, NewGrant, PathRow};
use cubby_store::{OpError, device_queries};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::check_id;
use super::sites::site_for;
use crate::auth::{Caller, MANAGERS, STAFF};
use crate::devices::locker_credential_key;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::JsonBody;
use crate::{AppState, new_id, now_ms, os_rng};

/// Digits of a door PIN: a PIN alone selects the grant, so 8 (security.md).
pub const PIN_DIGITS: u32 = 8;
/// Live grants a site may hold: the code space must stay ≥ 1,000 × them.
pub const MAX_LIVE_GRANTS: i64 = 100_000;

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
        }
    }
}

/// Add a door to a site.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/doors", params(("site_id" = String, Path)), request_body = NewDoor,
    responses((status = 201, body = Door), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_door(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    body: JsonBody<NewDoor>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
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
    if fail_mode != "secure" && fail_mode != "safe" {
        return Err(ApiError::invalid("fail_mode", "secure or safe"));
    }
    match (&req.device_id, req.lock_output) {
        (Some(device_id), Some(output)) => {
            check_id(ids::DEVICE, device_id, "device")?;
            let mut conn = state.store.reader().await.map_err(OpError::from)?;
            let device = device_queries::device(&mut conn, device_id)
                .await?
                .filter(|d| d.site_id == site.id && !d.revoked)
                .ok_or_else(|| ApiError::invalid("device_id", "no such device at this site"))?;
            let compartments = device_queries::compartment_labels(&mut conn, &device.locker_id)
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
    };
    let stored = row.clone();
    state
        .store
        .transact(move |conn| Box::pin(async move { store::add_door(conn, &stored).await }))
        .await?;
    if let Some(device) = &row.device_id {
        state.devices.device_changed(device);
    }
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
    let doors = store::doors_of_site(&mut conn, &site.id).await?;
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
}

impl From<PathRow> for DoorPath {
    fn from(p: PathRow) -> Self {
        DoorPath {
            id: p.id,
            site_id: p.site_id,
            name: p.name,
            doors: p.doors,
        }
    }
}

async fn doors_of(state: &AppState, site_id: &str, ids_given: &[String]) -> ApiResult<()> {
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    for id in ids_given {
        check_id(ids::DOOR, id, "door")?;
        match store::door(&mut conn, id).await? {
            Some(d) if d.site_id == site_id => {}
            _ => {
                return Err(ApiError::invalid(
                    "doors",
                    format!("{id} is not a door of this site"),
                ));
            }
        }
    }
    Ok(())
}

/// Define a path: an ordered route of doors one grant can cover.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/door-paths", params(("site_id" = String, Path)), request_body = NewPath,
    responses((status = 201, body = DoorPath), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_path(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    body: JsonBody<NewPath>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let req = body.value;
    let name = clean_text("name", &req.name, 80)?;
    if req.doors.is_empty() || req.doors.len() > 16 {
        return Err(ApiError::invalid("doors", "a path has 1 to 16 doors"));
    }
    let distinct: BTreeSet<&String> = req.doors.iter().collect();
    if distinct.len() != req.doors.len() {
        return Err(ApiError::invalid("doors", "a door appears twice"));
    }
    doors_of(&state, &site.id, &req.doors).await?;
    let row = PathRow {
        id: new_id(ids::DOOR_PATH),
        site_id: site.id,
        name,
        doors: req.doors,
        created_ms: now_ms(),
    };
    let stored = row.clone();
    state
        .store
        .transact(move |conn| Box::pin(async move { store::add_path(conn, &stored).await }))
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
    let paths = store::paths_of_site(&mut conn, &site.id).await?;
    Ok(Json(paths.into_iter().map(DoorPath::from).collect()))
}

/// A weekly window in the site's time zone.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// `mon` … `sun`.
    pub days: Vec<String>,
    /// `HH:MM`, inclusive.
    pub start: String,
    /// `HH:MM` (up to `24:00`), exclusive. A window past midnight is two windows.
    pub end: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrantBody {
    /// Shown to the host and staff, e.g. "Plumber" or "Anna (guest)".
    pub label: String,
    /// Doors the PIN opens. Give doors, a path, or both.
    pub doors: Option<Vec<String>>,
    pub path_id: Option<String>,
    /// Default: now.
    pub not_before_ms: Option<i64>,
    pub not_after_ms: i64,
    /// Openings per door: 1 for a single-use "express" PIN; absent for
    /// unlimited within the period.
    pub max_uses: Option<u32>,
    /// Weekly windows in the site's time zone; absent or empty for any time.
    pub schedule: Option<Vec<Window>>,
    /// The resident the visitor comes to see.
    pub host_resident_id: Option<String>,
}

/// A new grant. The PIN is shown once; only MACs of it are stored.
#[derive(Serialize, ToSchema)]
pub struct IssuedGrant {
    pub grant_id: String,
    pub pin: String,
    pub doors: Vec<String>,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
    pub max_uses: Option<u32>,
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

fn parse_day(text: &str) -> Option<Weekday> {
    let i = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .position(|d| *d == text)?;
    Some(Weekday::ALL[i])
}

fn day_name(d: Weekday) -> &'static str {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][d.index()]
}

fn to_window(w: &WeeklyWindow) -> Window {
    Window {
        days: w.days.iter().map(|d| day_name(*d).to_string()).collect(),
        start: format_minute_of_day(w.start_minute),
        end: format_minute_of_day(w.end_minute),
    }
}

/// Doors named directly plus those of a path, all checked to be this site's.
pub(crate) async fn grant_doors(
    state: &AppState,
    site_id: &str,
    doors: Vec<String>,
    path_id: Option<&str>,
) -> ApiResult<BTreeSet<String>> {
    let mut doors: BTreeSet<String> = doors.into_iter().collect();
    if let Some(path_id) = path_id {
        check_id(ids::DOOR_PATH, path_id, "path")?;
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let path = store::path(&mut conn, path_id)
            .await?
            .filter(|p| p.site_id == site_id)
            .ok_or_else(|| ApiError::invalid("path_id", "no such path at this site"))?;
        doors.extend(path.doors);
    }
    let door_list: Vec<String> = doors.iter().cloned().collect();
    doors_of(state, site_id, &door_list).await?;
    Ok(doors)
}

pub(crate) fn parse_schedule(windows: Vec<Window>) -> ApiResult<Vec<WeeklyWindow>> {
    let mut schedule = Vec::new();
    for w in windows {
        let mut days = BTreeSet::new();
        for d in &w.days {
            days.insert(parse_day(d).ok_or_else(|| {
                ApiError::invalid("schedule", format!("{d:?} is not a day (mon … sun)"))
            })?);
        }
        schedule.push(WeeklyWindow {
            days,
            start_minute: parse_minute_of_day("schedule", &w.start)?,
            end_minute: parse_minute_of_day("schedule", &w.end)?,
        });
    }
    Ok(schedule)
}

/// What a grant is, before its PIN is drawn.
#[derive(Debug, Clone)]
pub(crate) struct GrantDraft {
    pub site_id: String,
    /// visitor, courier_visit or room_code
    pub kind: &'static str,
    pub label: String,
    pub host_resident_id: Option<String>,
    pub carrier: Option<String>,
    pub courier_id: Option<String>,
    pub room_id: Option<String>,
    pub rule: GrantRule,
    pub created_by: String,
}

/// A grant ready to store, with its PIN (shown once) and the controllers
/// whose caches change when it is stored.
pub(crate) struct MintedGrant {
    pub grant: NewGrant,
    pub pin: String,
    pub devices: Vec<String>,
}

impl MintedGrant {
    pub fn issued(&self) -> IssuedGrant {
        IssuedGrant {
            grant_id: self.grant.id.clone(),
            pin: self.pin.clone(),
            doors: self.grant.rule.doors.iter().cloned().collect(),
            not_before_ms: self.grant.rule.not_before_ms,
            not_after_ms: self.grant.rule.not_after_ms,
            max_uses: self.grant.rule.max_uses,
        }
    }
}

/// Draws a PIN for a draft and MACs it for the site and for each controller
/// driving one of its doors (under that controller's locker key). Refuses
/// once the site holds [`MAX_LIVE_GRANTS`].
pub(crate) async fn mint_grant(state: &AppState, draft: &GrantDraft) -> ApiResult<MintedGrant> {
    let now = now_ms();
    draft.rule.validate(now)?;
    let door_list: Vec<String> = draft.rule.doors.iter().cloned().collect();
    let device_lockers: Vec<(String, String)> = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let live = store::count_live_grants(&mut conn, &draft.site_id, now).await?;
        if live >= MAX_LIVE_GRANTS {
            return Err(ApiError::new(
                Code::TooManyGrants,
                format!("a site may hold {MAX_LIVE_GRANTS} live grants; revoke some first"),
            ));
        }
        let mut out = Vec::new();
        for device_id in store::devices_of_doors(&mut conn, &door_list).await? {
            if let Some(d) = device_queries::device(&mut conn, &device_id).await? {
                out.push((device_id, d.locker_id));
            }
        }
        out
    };
    let pin = new_keypad_code(PIN_DIGITS, &mut os_rng());
    let grant = NewGrant {
        id: new_id(ids::ACCESS_GRANT),
        site_id: draft.site_id.clone(),
        kind: draft.kind.to_string(),
        label: draft.label.clone(),
        host_resident_id: draft.host_resident_id.clone(),
        carrier: draft.carrier.clone(),
        rule: draft.rule.clone(),
        pin_mac: mac(&state.secret, &["door-pin", &draft.site_id, &pin]),
        macs: device_lockers
            .iter()
            .map(|(device, locker)| {
                let key = locker_credential_key(&state.secret, locker);
                (
                    device.clone(),
                    local_credential_mac(&key, CredentialKind::Door, &pin),
                )
            })
            .collect(),
        created_by: draft.created_by.clone(),
        courier_id: draft.courier_id.clone(),
        room_id: draft.room_id.clone(),
    };
    Ok(MintedGrant {
        grant,
        pin,
        devices: device_lockers.into_iter().map(|(d, _)| d).collect(),
    })
}

/// Mints and stores a grant, drawing a fresh PIN when it collides with
/// another grant of the site, and pushes the changed caches.
pub(crate) async fn store_grant(state: &AppState, draft: &GrantDraft) -> ApiResult<IssuedGrant> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let minted = mint_grant(state, draft).await?;
        let grant = minted.grant.clone();
        let now = now_ms();
        let stored = state
            .store
            .transact(move |conn| {
                Box::pin(async move { store::issue_grant(conn, &grant, now).await })
            })
            .await;
        match stored {
            Ok(()) => {
                for device in &minted.devices {
                    state.devices.device_changed(device);
                }
                return Ok(minted.issued());
            }
            // Another grant of the site has this PIN: draw again.
            Err(OpError::Conflict {
                code: Code::PinTaken,
                ..
            }) if attempts < 5 => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The label and rule a visitor grant's request asks for, every door checked
/// to be the site's.
pub(crate) async fn visitor_rule(
    state: &AppState,
    site_id: &str,
    req: NewGrantBody,
) -> ApiResult<(String, GrantRule)> {
    let label = clean_text("label", &req.label, 80)?;
    let doors = grant_doors(
        state,
        site_id,
        req.doors.unwrap_or_default(),
        req.path_id.as_deref(),
    )
    .await?;
    let rule = GrantRule {
        doors,
        not_before_ms: req.not_before_ms.unwrap_or_else(now_ms),
        not_after_ms: req.not_after_ms,
        max_uses: req.max_uses,
        schedule: parse_schedule(req.schedule.unwrap_or_default())?,
    };
    Ok((label, rule))
}

/// A grant's host must be a resident of the grant's site.
async fn check_host(state: &AppState, site_id: &str, host: &str) -> ApiResult<()> {
    check_id(ids::RESIDENT, host, "resident")?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    cubby_store::queries::resident(&mut conn, host)
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
        store::grants_of_site(&mut conn, &site.id, filter.host_resident_id.as_deref(), 500).await?;
    let mut out = Vec::with_capacity(rows.len());
    for g in rows {
        let uses = store::uses_of_grant(&mut conn, &g.id).await?;
        out.push(grant_view(g, uses));
    }
    Ok(Json(out))
}

pub(crate) fn grant_view(g: store::GrantRow, uses: Vec<store::UseRow>) -> Grant {
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
) -> ApiResult<store::GrantRow> {
    check_id(ids::ACCESS_GRANT, grant_id, "grant")?;
    let grant = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        store::grant(&mut conn, grant_id)
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
    let uses = store::uses_of_grant(&mut conn, &grant.id).await?;
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
    revoke_and_push(&state, &grant).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Revokes a grant and pushes the changed caches to its doors' controllers.
pub(crate) async fn revoke_and_push(state: &AppState, grant: &store::GrantRow) -> ApiResult<()> {
    let now = now_ms();
    let id = grant.id.clone();
    state
        .store
        .transact(move |conn| Box::pin(async move { store::revoke_grant(conn, &id, now).await }))
        .await?;
    let doors: Vec<String> = grant.rule.doors.iter().cloned().collect();
    let devices = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        store::devices_of_doors(&mut conn, &doors).await?
    };
    for device in devices {
        state.devices.device_changed(&device);
    }
    Ok(())
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
        store::door(&mut conn, &door_id)
            .await?
            .ok_or_else(|| ApiError::not_found("door"))?
    };
    let site = site_for(&state, &caller, &door.site_id)
        .await
        .map_err(|_| ApiError::not_found("door"))?;
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
            if store::grant(&mut conn, &id).await?.is_none() {
                free = Some(slot);
                break;
            }
        }
        let device = device_queries::device(&mut conn, &device_id)
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
    state
        .store
        .transact(move |conn| Box::pin(async move { store::issue_grant(conn, &grant, now).await }))
        .await?;
    state.devices.device_changed(&device_id);
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}
