//! Editing and retiring a site's places: the site itself (name, time zone,
//! address), its buildings and its units. Edits name the version they read
//! (409 `edit_conflict` otherwise); what still holds a place keeps it
//! (409 with a code that says what).

use cubby_domain::ids;
use cubby_domain::model::{Timezone, clean_text};
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::tenants::{BuildingRow, SiteEdit, SiteRow, UnitRow};
use serde::Deserialize;
use utoipa::ToSchema;

use super::places::site_for;
use super::residents::present;
use super::{AppResult, Changes, check_id, commit};
use crate::AppState;
use crate::auth::{Caller, MANAGERS, STAFF};
use crate::error::ApiError;

/// An edit of a site: what is given changes, the rest stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    /// The version you read (`GET /api/v1/sites/{site_id}`).
    pub version: i64,
    pub name: Option<String>,
    /// IANA time zone, e.g. `Europe/Warsaw`. Times already recorded stay
    /// as they were; what is scheduled from now on uses the new zone.
    pub timezone: Option<String>,
    /// Postal address shown to couriers; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
}

pub async fn edit_site(
    state: &AppState,
    caller: &Caller,
    site_id: &str,
    patch: SitePatch,
) -> AppResult<SiteRow> {
    caller.require(MANAGERS)?;
    let site = site_for(state, caller, site_id).await?;
    let edit = SiteEdit {
        name: patch
            .name
            .as_deref()
            .map(|n| clean_text("name", n, 200))
            .transpose()?,
        timezone: patch.timezone.as_deref().map(Timezone::parse).transpose()?,
        address: patch
            .address
            .map(|a| {
                a.as_deref()
                    .map(|a| clean_text("address", a, 300))
                    .transpose()
            })
            .transpose()?,
    };
    let version = patch.version;
    commit(state, move |conn| {
        Box::pin(async move {
            let row = db::tenants::edit_site(conn, &site.id, version, &edit).await?;
            Ok((row, Changes::none()))
        })
    })
    .await
}

/// A building of a site the caller manages.
async fn building_for(
    state: &AppState,
    caller: &Caller,
    building_id: &str,
) -> AppResult<BuildingRow> {
    check_id(ids::BUILDING, building_id, "building")?;
    let building = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::tenants::building(&mut conn, building_id)
            .await?
            .ok_or_else(|| ApiError::not_found("building"))?
    };
    super::places::site_holding(state, caller, &building.site_id, "building").await?;
    Ok(building)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildingPatch {
    pub version: i64,
    pub name: String,
}

pub async fn rename_building(
    state: &AppState,
    caller: &Caller,
    building_id: &str,
    patch: BuildingPatch,
) -> AppResult<BuildingRow> {
    caller.require(MANAGERS)?;
    let building = building_for(state, caller, building_id).await?;
    let name = clean_text("name", &patch.name, 200)?;
    commit(state, move |conn| {
        Box::pin(async move {
            let row =
                db::tenants::rename_building(conn, &building.id, patch.version, &name).await?;
            Ok((row, Changes::none()))
        })
    })
    .await
}

pub async fn remove_building(
    state: &AppState,
    caller: &Caller,
    building_id: &str,
) -> AppResult<()> {
    caller.require(MANAGERS)?;
    let building = building_for(state, caller, building_id).await?;
    commit(state, move |conn| {
        Box::pin(async move {
            db::tenants::remove_building(conn, &building.id).await?;
            Ok(((), Changes::none()))
        })
    })
    .await
}

pub async fn units(state: &AppState, caller: &Caller, site_id: &str) -> AppResult<Vec<UnitRow>> {
    caller.require(STAFF)?;
    let site = site_for(state, caller, site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    Ok(db::tenants::units(&mut conn, &site.id).await?)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    /// The building the unit is in; `null` for none.
    #[schema(value_type = Option<String>)]
    pub building_id: Option<String>,
}

pub async fn place_unit(
    state: &AppState,
    caller: &Caller,
    site_id: &str,
    label: &str,
    patch: UnitPatch,
) -> AppResult<()> {
    caller.require(MANAGERS)?;
    let site = site_for(state, caller, site_id).await?;
    if let Some(b) = &patch.building_id {
        check_id(ids::BUILDING, b, "building_id")?;
    }
    let label = label.to_string();
    commit(state, move |conn| {
        Box::pin(async move {
            db::tenants::place_unit(conn, &site.id, &label, patch.building_id.as_deref()).await?;
            Ok(((), Changes::none()))
        })
    })
    .await
}

pub async fn remove_unit(
    state: &AppState,
    caller: &Caller,
    site_id: &str,
    label: &str,
) -> AppResult<()> {
    caller.require(MANAGERS)?;
    let site = site_for(state, caller, site_id).await?;
    let label = label.to_string();
    commit(state, move |conn| {
        Box::pin(async move {
            db::tenants::remove_unit(conn, &site.id, &label).await?;
            Ok(((), Changes::none()))
        })
    })
    .await
}
