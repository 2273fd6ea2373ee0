//! Sites, buildings, residents and parcel rooms.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cubby_domain::ids;
use cubby_domain::model::{Timezone, clean_text};
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::residents::ResidentRow;
use cubby_store::rooms::NewRoom;
use cubby_store::tenants::{BuildingRow, SiteRow, UnitRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::check_id;
use crate::auth::{Caller, MANAGERS, STAFF};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::{JsonBody, QueryParams, idempotency_key, write_json};
use crate::{AppState, new_id, now_ms};

pub(crate) use crate::app::places::site_for;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    pub name: String,
    /// IANA time zone, e.g. `Europe/Warsaw`.
    pub timezone: String,
    /// Admins may name the organisation; others create in their own.
    pub organisation_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Site {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub timezone: String,
    pub address: Option<String>,
    /// Send it back with an edit (`PATCH /api/v1/sites/{site_id}`).
    pub version: i64,
    /// `residential`, or `public_point` (see `/api/v1/sites/{site_id}/public-point`).
    pub kind: String,
}

impl From<SiteRow> for Site {
    fn from(s: SiteRow) -> Self {
        Site {
            id: s.id,
            organisation_id: s.org_id,
            name: s.name,
            timezone: s.timezone,
            address: s.address,
            version: s.version,
            kind: s.kind,
        }
    }
}

/// Create a site.
#[utoipa::path(post, path = "/api/v1/sites", request_body = NewSite,
    responses((status = 201, body = Site), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_site(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewSite>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    let req = body.value;
    let name = clean_text("name", &req.name, 200)?;
    let tz = Timezone::parse(&req.timezone)?;
    let org_id = super::admin::resolve_org(&state, &caller, req.organisation_id).await?;
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let id = new_id(ids::SITE);
    let now = now_ms();
    write_json(&state, key, StatusCode::CREATED, move |conn| {
        Box::pin(async move {
            Ok(Site::from(
                db::tenants::create_site(conn, &id, &org_id, &name, &tz, now).await?,
            ))
        })
    })
    .await
}

/// List the sites the caller may see.
#[utoipa::path(get, path = "/api/v1/sites", responses((status = 200, body = Vec<Site>)))]
pub async fn list_sites(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Site>>> {
    caller.require(STAFF)?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let org = if caller.role == cubby_domain::model::Role::Admin {
        None
    } else {
        caller.org_id.as_deref()
    };
    Ok(Json(
        db::tenants::sites(&mut conn, org)
            .await?
            .into_iter()
            .filter(|s| caller.sees_site(&s.id))
            .map(Site::from)
            .collect(),
    ))
}

/// Get a site.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}", params(("site_id" = String, Path)),
    responses((status = 200, body = Site), (status = 404, body = ErrorBody)))]
pub async fn get_site(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<Json<Site>> {
    caller.require(STAFF)?;
    Ok(Json(site_for(&state, &caller, &site_id).await?.into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBuilding {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct Building {
    pub id: String,
    pub site_id: String,
    pub name: String,
    /// Send it back with an edit (`PATCH /api/v1/buildings/{building_id}`).
    pub version: i64,
}

impl From<BuildingRow> for Building {
    fn from(b: BuildingRow) -> Self {
        Building {
            id: b.id,
            site_id: b.site_id,
            name: b.name,
            version: b.version,
        }
    }
}

/// Add a building to a site.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/buildings", params(("site_id" = String, Path)), request_body = NewBuilding,
    responses((status = 201, body = Building), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_building(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewBuilding>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let name = clean_text("name", &body.value.name, 200)?;
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let id = new_id(ids::BUILDING);
    write_json(&state, key, StatusCode::CREATED, move |conn| {
        Box::pin(async move {
            db::tenants::create_building(conn, &id, &site.id, &name).await?;
            Ok(Building {
                id,
                site_id: site.id,
                name,
                version: 1,
            })
        })
    })
    .await
}

pub use crate::app::residents::{NewResidentBody, Reach, new_resident};

#[derive(Serialize, ToSchema)]
pub struct Resident {
    pub id: String,
    pub site_id: String,
    pub unit: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: String,
    pub reach: Option<Reach>,
    /// Send it back with an edit (`PATCH /api/v1/residents/{resident_id}`).
    pub version: i64,
}

impl From<ResidentRow> for Resident {
    fn from(r: ResidentRow) -> Self {
        let reach = match (r.reach_min_mm, r.reach_max_mm) {
            (Some(lo), Some(hi)) => Some(Reach {
                min_mm: lo as u32,
                max_mm: hi as u32,
            }),
            _ => None,
        };
        Resident {
            id: r.id,
            site_id: r.site_id,
            unit: r.unit,
            name: r.name,
            email: r.email,
            phone: r.phone,
            language: r.language,
            reach,
            version: r.version,
        }
    }
}

/// Add a resident (and their unit if it is new).
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/residents", params(("site_id" = String, Path)), request_body = NewResidentBody,
    responses((status = 201, body = Resident), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_resident(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewResidentBody>,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let resident = new_resident(body.value, site.id)?;
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let now = now_ms();
    write_json(&state, key, StatusCode::CREATED, move |conn| {
        Box::pin(async move {
            Ok(Resident::from(
                db::residents::create_resident(conn, &resident, now).await?,
            ))
        })
    })
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// At most this many (1–500, default 100).
    pub limit: Option<i64>,
    /// Return items after this id (from the last item of the previous page).
    pub after: Option<String>,
}

/// List a site's residents, by id.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/residents", params(("site_id" = String, Path), Page),
    responses((status = 200, body = Vec<Resident>), (status = 404, body = ErrorBody)))]
pub async fn list_residents(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Json<Vec<Resident>>> {
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let limit = page.limit.unwrap_or(100).clamp(1, 500);
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::residents::residents(
        &mut conn,
        &site.id,
        limit,
        page.after.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(Json(rows.into_iter().map(Resident::from).collect()))
}

/// Get a resident.
#[utoipa::path(get, path = "/api/v1/residents/{resident_id}", params(("resident_id" = String, Path)),
    responses((status = 200, body = Resident), (status = 404, body = ErrorBody)))]
pub async fn get_resident(
    State(state): State<AppState>,
    caller: Caller,
    Path(resident_id): Path<String>,
) -> ApiResult<Json<Resident>> {
    caller.require(STAFF)?;
    check_id(ids::RESIDENT, &resident_id, "resident")?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let resident = db::residents::resident(&mut conn, &resident_id)
        .await?
        .ok_or_else(|| ApiError::not_found("resident"))?;
    drop(conn);
    site_for(&state, &caller, &resident.site_id)
        .await
        .map_err(|_| ApiError::not_found("resident"))?;
    Ok(Json(resident.into()))
}

pub use crate::app::residents::ResidentPatch;

/// Correct or change a resident (staff): name, unit (a move within the
/// site), contact, language, reach. Send the `version` you read: if someone
/// edited the resident since, the answer is 409 `edit_conflict` and nothing
/// changes. `null` clears the email, phone or reach.
#[utoipa::path(patch, path = "/api/v1/residents/{resident_id}", params(("resident_id" = String, Path)), request_body = ResidentPatch,
    responses((status = 200, body = Resident), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_resident(
    State(state): State<AppState>,
    caller: Caller,
    Path(resident_id): Path<String>,
    body: JsonBody<ResidentPatch>,
) -> ApiResult<Json<Resident>> {
    let edited =
        crate::app::residents::edit_resident(&state, &caller, &resident_id, body.value).await?;
    Ok(Json(edited.into()))
}

/// Everything held about a resident, as one JSON document (GDPR Art. 15):
/// their profile and every row that names them (parcels with their custody
/// events, codes and delegates without their secrets, grants, tokens,
/// passkeys, push subscriptions), the notices sent to them (without bodies)
/// and the audit events about them. Staff of their site; the resident's
/// portal download is the same document. Audited.
#[utoipa::path(get, path = "/api/v1/residents/{resident_id}/export", params(("resident_id" = String, Path)),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export_resident(
    State(state): State<AppState>,
    caller: Caller,
    Path(resident_id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        crate::app::residents::export(&state, &caller, &resident_id).await?,
    ))
}

pub use crate::app::residents::Erased;

/// Erase a resident (GDPR Art. 17): admins, with a step-up proof in
/// `Cubby-Step-Up`. Their personal data leaves every table (and the
/// database's free pages); parcels and grants that other records need stay
/// without them; the custody and audit chains keep verifying. Afterwards the
/// resident's id answers 404. Audited.
#[utoipa::path(post, path = "/api/v1/residents/{resident_id}/erase", params(("resident_id" = String, Path)),
    responses((status = 200, body = Erased), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn erase_resident(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(resident_id): Path<String>,
) -> ApiResult<Json<Erased>> {
    let step_up = crate::auth::step_up::step_up_header(&headers);
    Ok(Json(
        crate::app::residents::erase(&state, &caller, &resident_id, step_up).await?,
    ))
}

pub use crate::app::residents::MovedOut;

/// A resident moves out (managers): their codes, tokens, passkeys and the
/// visitor PINs they host stop at once, parcels waiting for them go to the
/// manager's queue, and they can no longer be edited. Audited.
#[utoipa::path(post, path = "/api/v1/residents/{resident_id}/move-out", params(("resident_id" = String, Path)),
    responses((status = 200, body = MovedOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn move_out(
    State(state): State<AppState>,
    caller: Caller,
    Path(resident_id): Path<String>,
) -> ApiResult<Json<MovedOut>> {
    Ok(Json(
        crate::app::residents::move_out(&state, &caller, &resident_id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewZone {
    pub label: String,
    /// Parcels the shelf zone holds.
    pub capacity: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoomBody {
    pub name: String,
    pub zones: Vec<NewZone>,
}

#[derive(Serialize, ToSchema)]
pub struct Zone {
    pub id: String,
    pub label: String,
    pub capacity: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ParcelRoom {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub zones: Vec<Zone>,
    /// Total shelf capacity in parcels.
    pub capacity: i64,
}

/// Add an open-shelf parcel room with its shelf zones.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/parcel-rooms", params(("site_id" = String, Path)), request_body = NewRoomBody,
    responses((status = 201, body = ParcelRoom), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_room(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewRoomBody>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let req = body.value;
    if req.zones.is_empty() || req.zones.len() > 200 {
        return Err(ApiError::invalid(
            "zones",
            "a parcel room needs 1 to 200 shelf zones",
        ));
    }
    let mut zones = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for z in &req.zones {
        let label = clean_text("zones.label", &z.label, 40)?;
        if !seen.insert(label.clone()) {
            return Err(ApiError::invalid(
                "zones.label",
                format!("{label:?} appears twice"),
            ));
        }
        if z.capacity == 0 || z.capacity > 10_000 {
            return Err(ApiError::invalid("zones.capacity", "must be 1 to 10000"));
        }
        zones.push((new_id(ids::ZONE), label, z.capacity));
    }
    let room = NewRoom {
        id: new_id(ids::ROOM),
        site_id: site.id,
        name: clean_text("name", &req.name, 200)?,
        zones,
    };
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let now = now_ms();
    write_json(&state, key, StatusCode::CREATED, move |conn| {
        Box::pin(async move {
            let r = db::rooms::create_room(conn, &room, now).await?;
            let zones: Vec<Zone> = r
                .zones
                .into_iter()
                .map(|(id, label, capacity)| Zone {
                    id,
                    label,
                    capacity,
                })
                .collect();
            Ok(ParcelRoom {
                id: r.id,
                site_id: r.site_id,
                name: r.name,
                capacity: zones.iter().map(|z| z.capacity).sum(),
                zones,
            })
        })
    })
    .await
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub use crate::app::sites::{BuildingPatch, SitePatch, UnitPatch};

/// Correct or change a site (managers): name, time zone, address. Send the
/// `version` you read; a stale one answers 409 `edit_conflict`.
#[utoipa::path(patch, path = "/api/v1/sites/{site_id}", params(("site_id" = String, Path)), request_body = SitePatch,
    responses((status = 200, body = Site), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_site(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    body: JsonBody<SitePatch>,
) -> ApiResult<Json<Site>> {
    let site = crate::app::sites::edit_site(&state, &caller, &site_id, body.value).await?;
    Ok(Json(site.into()))
}

/// Rename a building (managers), naming the version you read.
#[utoipa::path(patch, path = "/api/v1/buildings/{building_id}", params(("building_id" = String, Path)), request_body = BuildingPatch,
    responses((status = 200, body = Building), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_building(
    State(state): State<AppState>,
    caller: Caller,
    Path(building_id): Path<String>,
    body: JsonBody<BuildingPatch>,
) -> ApiResult<Json<Building>> {
    let b = crate::app::sites::rename_building(&state, &caller, &building_id, body.value).await?;
    Ok(Json(b.into()))
}

/// Remove a building (managers). While units are in it: 409 `building_in_use`.
#[utoipa::path(delete, path = "/api/v1/buildings/{building_id}", params(("building_id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_building(
    State(state): State<AppState>,
    caller: Caller,
    Path(building_id): Path<String>,
) -> ApiResult<StatusCode> {
    crate::app::sites::remove_building(&state, &caller, &building_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Unit {
    pub label: String,
    pub building_id: Option<String>,
    /// How many residents live there now.
    pub residents: i64,
}

impl From<UnitRow> for Unit {
    fn from(u: UnitRow) -> Self {
        Unit {
            label: u.label,
            building_id: u.building_id,
            residents: u.residents,
        }
    }
}

/// A site's units (created when a resident is first registered in one).
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/units", params(("site_id" = String, Path)),
    responses((status = 200, body = [Unit]), (status = 404, body = ErrorBody)))]
pub async fn list_units(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<Json<Vec<Unit>>> {
    let units = crate::app::sites::units(&state, &caller, &site_id).await?;
    Ok(Json(units.into_iter().map(Unit::from).collect()))
}

/// Put a unit in a building of its site, or in none (managers).
#[utoipa::path(patch, path = "/api/v1/sites/{site_id}/units/{unit}", params(("site_id" = String, Path), ("unit" = String, Path)), request_body = UnitPatch,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch_unit(
    State(state): State<AppState>,
    caller: Caller,
    Path((site_id, unit)): Path<(String, String)>,
    body: JsonBody<UnitPatch>,
) -> ApiResult<StatusCode> {
    crate::app::sites::place_unit(&state, &caller, &site_id, &unit, body.value).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a unit (managers). While someone lives there or a parcel waits
/// for it: 409 `unit_in_use`.
#[utoipa::path(delete, path = "/api/v1/sites/{site_id}/units/{unit}", params(("site_id" = String, Path), ("unit" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_unit(
    State(state): State<AppState>,
    caller: Caller,
    Path((site_id, unit)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    crate::app::sites::remove_unit(&state, &caller, &site_id, &unit).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_site, list_sites))
        .routes(routes!(get_site, patch_site))
        .routes(routes!(create_building))
        .routes(routes!(patch_building, delete_building))
        .routes(routes!(list_units))
        .routes(routes!(patch_unit, delete_unit))
        .routes(routes!(create_resident, list_residents))
        .routes(routes!(get_resident, patch_resident))
        .routes(routes!(move_out))
        .routes(routes!(export_resident))
        .routes(routes!(erase_resident))
        .routes(routes!(create_room))
}
