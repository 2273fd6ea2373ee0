//! What a site measured: arrivals, stays and occupancy from the chain of
//! custody, in the site's time zone (the planner's inputs).

use chrono::Duration;
use cubby_domain::model::Timezone;
use cubby_planner::{SiteActivity, Stay, size_of, summarise};
use cubby_store as db;
use cubby_store::OpError;

use super::AppResult;
use crate::error::ApiError;
use crate::{AppState, now_ms};

/// The measured activity of a site (or one locker) over `days` days ending
/// today, in the site's time zone.
pub async fn measure(
    state: &AppState,
    site_id: &str,
    timezone: &str,
    locker_id: Option<&str>,
    days: u32,
) -> AppResult<(SiteActivity, u32)> {
    let tz = Timezone::parse(timezone)?;
    let now = now_ms();
    let today = tz
        .local_time(now)
        .map(|t| t.date())
        .ok_or_else(|| ApiError::invalid("timezone", "cannot place today in it"))?;
    let from = today - Duration::days(i64::from(days) - 1);
    // Parcels deposited up to two weeks earlier may still be inside.
    let since = now - (i64::from(days) + 15) * 86_400_000;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::reports::stays(&mut conn, site_id, locker_id, since).await?;
    let capacity = db::lockers::compartments_in_service(&mut conn, site_id, locker_id).await?;
    drop(conn);
    let stays: Vec<Stay> = rows
        .iter()
        .filter_map(|r| {
            Some(Stay {
                arrived: tz.local_time(r.arrived_ms)?,
                left: r.left_ms.and_then(|l| tz.local_time(l)),
                size: size_of(r.width_mm, r.height_mm, r.depth_mm),
            })
        })
        .collect();
    Ok((summarise(&stays, from, today), capacity))
}
