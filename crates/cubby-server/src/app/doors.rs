//! Editing and retiring doors and door paths. These are security settings:
//! the adapters ask for a settings step-up first, every change is audited,
//! and a change to a door reaches its controller's cache. A door a path or
//! a live grant still names is not retired (409 `door_in_use`); a path a
//! parcel room is reached by is not removed (409 `path_in_use`).

use std::collections::BTreeSet;

use cubby_domain::audit::AuditAction;
use cubby_domain::ids;
use cubby_domain::model::clean_text;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::access::{DoorRow, PathRow};
use cubby_store::tenants::SiteRow;
use serde::Deserialize;
use utoipa::ToSchema;

use super::access::doors_of;
use super::places::site_holding;
use super::{AppResult, Changes, check_id, commit};
use crate::auth::{Audit, Caller, MANAGERS};
use crate::error::ApiError;
use crate::{AppState, now_ms};

/// A live door of a site the caller manages, with the site.
async fn door_for(
    state: &AppState,
    caller: &Caller,
    door_id: &str,
) -> AppResult<(DoorRow, SiteRow)> {
    caller.require(MANAGERS)?;
    check_id(ids::DOOR, door_id, "door")?;
    let door = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::access::door(&mut conn, door_id)
            .await?
            .ok_or_else(|| ApiError::not_found("door"))?
    };
    let site = site_holding(state, caller, &door.site_id, "door").await?;
    Ok((door, site))
}

async fn path_for(
    state: &AppState,
    caller: &Caller,
    path_id: &str,
) -> AppResult<(PathRow, SiteRow)> {
    caller.require(MANAGERS)?;
    check_id(ids::DOOR_PATH, path_id, "door path")?;
    let path = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::access::path(&mut conn, path_id)
            .await?
            .ok_or_else(|| ApiError::not_found("door path"))?
    };
    let site = site_holding(state, caller, &path.site_id, "door path").await?;
    Ok((path, site))
}

/// A path's doors: 1 to 16, none twice, all live doors of the site.
pub async fn check_path_doors(state: &AppState, site_id: &str, doors: &[String]) -> AppResult<()> {
    if doors.is_empty() || doors.len() > 16 {
        return Err(ApiError::invalid("doors", "a path has 1 to 16 doors"));
    }
    let distinct: BTreeSet<&String> = doors.iter().collect();
    if distinct.len() != doors.len() {
        return Err(ApiError::invalid("doors", "a door appears twice"));
    }
    doors_of(state, site_id, doors).await
}

pub fn check_fail_mode(mode: &str) -> AppResult<()> {
    if mode != "secure" && mode != "safe" {
        return Err(ApiError::invalid("fail_mode", "secure or safe"));
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoorPatch {
    /// The version you read (`GET /api/v1/sites/{site_id}/doors`).
    pub version: i64,
    pub name: Option<String>,
    /// `secure` or `safe`.
    pub fail_mode: Option<String>,
}

pub async fn edit_door(
    state: &AppState,
    caller: &Caller,
    door_id: &str,
    patch: DoorPatch,
) -> AppResult<DoorRow> {
    let (door, site) = door_for(state, caller, door_id).await?;
    let name = patch
        .name
        .as_deref()
        .map(|n| clean_text("name", n, 80))
        .transpose()?;
    if let Some(mode) = &patch.fail_mode {
        check_fail_mode(mode)?;
    }
    let audit = Audit::new(
        caller,
        AuditAction::DoorChanged,
        format!("door:{}", door.id),
        "edited",
    )
    .in_org(site.org_id);
    let changes = door
        .device_id
        .clone()
        .map(|d| Changes::none().and_device(d))
        .unwrap_or_default();
    commit(state, move |conn| {
        Box::pin(async move {
            let row = db::access::edit_door(
                conn,
                &door.id,
                patch.version,
                name.as_deref(),
                patch.fail_mode.as_deref(),
            )
            .await?;
            audit.record(conn, now_ms()).await?;
            Ok((row, changes))
        })
    })
    .await
}

pub async fn retire_door(state: &AppState, caller: &Caller, door_id: &str) -> AppResult<()> {
    let (door, site) = door_for(state, caller, door_id).await?;
    let audit = Audit::new(
        caller,
        AuditAction::DoorChanged,
        format!("door:{}", door.id),
        "retired",
    )
    .in_org(site.org_id);
    let changes = door
        .device_id
        .clone()
        .map(|d| Changes::none().and_device(d))
        .unwrap_or_default();
    commit(state, move |conn| {
        Box::pin(async move {
            let now = now_ms();
            db::access::retire_door(conn, &door.id, now).await?;
            audit.record(conn, now).await?;
            Ok(((), changes))
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathPatch {
    /// The version you read (`GET /api/v1/sites/{site_id}/door-paths`).
    pub version: i64,
    pub name: Option<String>,
    /// Door ids in walking order. Grants already issued keep their doors.
    pub doors: Option<Vec<String>>,
}

pub async fn edit_path(
    state: &AppState,
    caller: &Caller,
    path_id: &str,
    patch: PathPatch,
) -> AppResult<PathRow> {
    let (path, site) = path_for(state, caller, path_id).await?;
    let name = patch
        .name
        .as_deref()
        .map(|n| clean_text("name", n, 80))
        .transpose()?;
    if let Some(doors) = &patch.doors {
        check_path_doors(state, &site.id, doors).await?;
    }
    let audit = Audit::new(
        caller,
        AuditAction::DoorChanged,
        format!("door_path:{}", path.id),
        "edited",
    )
    .in_org(site.org_id);
    commit(state, move |conn| {
        Box::pin(async move {
            let row = db::access::edit_path(
                conn,
                &path.id,
                patch.version,
                name.as_deref(),
                patch.doors.as_deref(),
            )
            .await?;
            audit.record(conn, now_ms()).await?;
            Ok((row, Changes::none()))
        })
    })
    .await
}

pub async fn remove_path(state: &AppState, caller: &Caller, path_id: &str) -> AppResult<()> {
    let (path, site) = path_for(state, caller, path_id).await?;
    let audit = Audit::new(
        caller,
        AuditAction::DoorChanged,
        format!("door_path:{}", path.id),
        "removed",
    )
    .in_org(site.org_id);
    commit(state, move |conn| {
        Box::pin(async move {
            db::access::remove_path(conn, &path.id).await?;
            audit.record(conn, now_ms()).await?;
            Ok(((), Changes::none()))
        })
    })
    .await
}
