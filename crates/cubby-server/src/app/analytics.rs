//! What a site measured: arrivals, stays and occupancy from the chain of
//! custody, in the site's time zone (the planner's inputs).

use chrono::Duration;
use cubby_domain::Millis;
use cubby_domain::capacity::{ClassCapacity, Slot, count_capacity, days_of};
use cubby_domain::model::{TemperatureZone, Timezone};
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

/// Longest period a capacity answer covers.
pub const CAPACITY_MAX_DAYS: i64 = 14;

/// Free capacity of a site for depositors: per locker, size and zone, free
/// now, reserved, and expected free at the start of the period and at each
/// local midnight in it. An occupied compartment is expected to free up
/// when its last parcel's measured median stay (8 weeks of this site) has
/// passed, and at the latest when that parcel expires under the policy.
/// Carries no personal data.
pub async fn capacity(
    state: &AppState,
    site: &db::tenants::SiteRow,
    from_ms: Millis,
    to_ms: Millis,
    temperature: Option<TemperatureZone>,
) -> AppResult<(Vec<(String, Millis)>, Vec<ClassCapacity>)> {
    if to_ms <= from_ms {
        return Err(ApiError::invalid("to_ms", "must be after from_ms"));
    }
    if to_ms - from_ms > CAPACITY_MAX_DAYS * 86_400_000 {
        return Err(ApiError::invalid("to_ms", "a period lasts at most 14 days"));
    }
    let tz = Timezone::parse(&site.timezone)?;
    let (activity, _) = measure(state, &site.id, &site.timezone, None, 56).await?;
    let median_ms = activity
        .dwell
        .p50_hours
        .map(|h| (h * 3_600_000.0) as Millis);
    let (slots, policy) = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let slots = db::lockers::capacity_slots(&mut conn, &site.id, now_ms()).await?;
        let (_, policy) = db::schedule::site_policy(&mut conn, &site.id).await?;
        (slots, policy)
    };
    let slots: Vec<Slot> = slots
        .into_iter()
        .filter(|s| temperature.is_none_or(|t| t == s.temperature))
        .map(|s| {
            let frees_at = s.deposited_ms.map(|deposited| {
                let expires = policy.expires_at(s.temperature, deposited, s.hold_ms.unwrap_or(0));
                median_ms.map_or(expires, |m| (deposited + m).min(expires))
            });
            Slot {
                locker_id: s.locker_id,
                inner: s.inner,
                temperature: s.temperature,
                status: s.status,
                occupied: s.occupied,
                held: s.held,
                frees_at,
            }
        })
        .collect();
    let days = days_of(&tz, from_ms, to_ms);
    let at: Vec<Millis> = days.iter().map(|(_, t)| *t).collect();
    Ok((days, count_capacity(&slots, &at)))
}
