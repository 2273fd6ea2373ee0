//! Loading what a caller names, with the check of who may see it. Another
//! organisation's objects are "not found", never "forbidden", so ids are not
//! confirmed.

use cubby_domain::ids;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::lockers::LockerRow;
use cubby_store::parcels::ParcelRow;
use cubby_store::tenants::SiteRow;

use super::{AppResult, check_id};
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// A site of the caller's organisation.
pub async fn site_for(state: &AppState, caller: &Caller, site_id: &str) -> AppResult<SiteRow> {
    check_id(ids::SITE, site_id, "site")?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    match db::tenants::site(&mut conn, site_id).await? {
        Some(site) if caller.sees_org(&site.org_id) && caller.sees_site(&site.id) => Ok(site),
        _ => Err(ApiError::not_found("site")),
    }
}

/// The site of something the caller named by id: 404 naming that thing
/// (not the site) when the caller may not see it.
pub async fn site_holding(
    state: &AppState,
    caller: &Caller,
    site_id: &str,
    what: &str,
) -> AppResult<SiteRow> {
    site_for(state, caller, site_id)
        .await
        .map_err(|_| ApiError::not_found(what))
}

/// A locker of the caller's organisation, with its site.
pub async fn locker_for(
    state: &AppState,
    caller: &Caller,
    locker_id: &str,
) -> AppResult<(LockerRow, SiteRow)> {
    check_id(ids::LOCKER, locker_id, "locker")?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let locker = db::lockers::locker(&mut conn, locker_id)
        .await?
        .ok_or_else(|| ApiError::not_found("locker"))?;
    drop(conn);
    let site = site_for(state, caller, &locker.site_id)
        .await
        .map_err(|_| ApiError::not_found("locker"))?;
    Ok((locker, site))
}

/// A parcel at a site of the caller's organisation, with the site. Carrier
/// tokens see only their own carrier's parcels.
pub async fn parcel_for(
    state: &AppState,
    caller: &Caller,
    parcel_id: &str,
) -> AppResult<(ParcelRow, SiteRow)> {
    check_id(ids::PARCEL, parcel_id, "parcel")?;
    let parcel = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::parcels::parcel(&mut conn, parcel_id)
            .await?
            .ok_or_else(|| ApiError::not_found("parcel"))?
    };
    let site = site_for(state, caller, &parcel.site_id)
        .await
        .map_err(|_| ApiError::not_found("parcel"))?;
    if caller.is_carrier_side() && parcel.carrier != caller.carrier {
        return Err(ApiError::not_found("parcel"));
    }
    Ok((parcel, site))
}

/// A resident of a site the caller may act at, and that site; 404 for
/// anyone else's (ids are not confirmed).
pub async fn resident_for(
    state: &AppState,
    caller: &Caller,
    resident_id: &str,
) -> AppResult<(db::residents::ResidentRow, SiteRow)> {
    check_id(ids::RESIDENT, resident_id, "resident")?;
    let resident = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::residents::resident(&mut conn, resident_id)
            .await?
            .ok_or_else(|| ApiError::not_found("resident"))?
    };
    let site = site_for(state, caller, &resident.site_id)
        .await
        .map_err(|_| ApiError::not_found("resident"))?;
    Ok((resident, site))
}
