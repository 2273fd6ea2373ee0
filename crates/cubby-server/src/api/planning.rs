//! Planning from the API: size a building (`POST /plans`), what a site
//! measured (`/analytics`), an 8-week forecast with a capacity warning and a
//! planner re-run on measured inputs (`/forecast`), and the forecast free
//! capacity of one locker for carriers (`/capacity-forecast`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate};
use cubby_domain::codes::Code;
use cubby_planner::{
    CapacityOutlook, DailyForecast, ForecastError, Plan, PlanInput, PlanOptions, SiteActivity,
    capacity_warning, forecast_daily,
};
use cubby_store as db;
use cubby_store::OpError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::lockers::locker_for;
use super::sites::site_for;
use crate::AppState;
use crate::auth::{Caller, DEPOSITORS, STAFF};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::{JsonBody, QueryParams};

/// Most replications a plan may ask for through the API (CPU is shared).
pub const MAX_API_REPLICATIONS: u32 = 500;
const DEFAULT_API_REPLICATIONS: u32 = 100;
/// Days forecast ahead.
pub const FORECAST_DAYS: usize = 56;
/// Most days of history read for analytics and forecasts.
pub const MAX_HISTORY_DAYS: u32 = 730;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// The planner's input (see docs/planner.md); every field has a default,
    /// e.g. `{"units": 200}`.
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    /// Simulation replications, 0 to 500 (default 100; 0 = closed form only).
    pub replications: Option<u32>,
    pub seed: Option<u64>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    /// `json` (default) or `html` (a self-contained report page with charts).
    pub format: Option<String>,
}

fn plan_error(e: cubby_planner::InvalidInput) -> ApiError {
    let field = e
        .problems
        .first()
        .map(|p| p.field.clone())
        .unwrap_or_default();
    ApiError::new(Code::InvalidInput, e.to_string())
        .with_details(serde_json::json!({ "field": field, "problems": e.problems }))
}

/// Runs the planner off the async workers: a plan is seconds of CPU.
async fn run_plan(input: PlanInput, opts: PlanOptions) -> ApiResult<Plan> {
    tokio::task::spawn_blocking(move || cubby_planner::plan(&input, &opts))
        .await
        .map_err(|_| ApiError::new(Code::Unavailable, "the planner stopped; retry"))?
        .map_err(plan_error)
}

/// Size parcel lockers (and the parcel-room alternative) for a building.
///
/// Closed form (Erlang B per size class with overflow) refined by a seeded
/// simulation with courier batches; the answer lists its assumptions. With
/// `?format=html` the answer is a report page with SVG charts.
#[utoipa::path(post, path = "/api/v1/plans", params(PlanQuery), request_body = PlanRequest,
    responses((status = 200, description = "The plan (JSON with `compartments_total`) or its HTML report"), (status = 422, body = ErrorBody)))]
pub async fn create_plan(
    _caller: Caller,
    QueryParams(q): QueryParams<PlanQuery>,
    body: JsonBody<PlanRequest>,
) -> ApiResult<Response> {
    let html = match q.format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(_) => return Err(ApiError::invalid("format", "must be json or html")),
    };
    let req = body.value;
    let input: PlanInput =
        serde_json::from_value(req.input).map_err(|e| ApiError::invalid("input", e))?;
    let replications = req.replications.unwrap_or(DEFAULT_API_REPLICATIONS);
    if replications > MAX_API_REPLICATIONS {
        return Err(ApiError::invalid(
            "replications",
            format!("must be at most {MAX_API_REPLICATIONS}"),
        ));
    }
    let opts = PlanOptions {
        replications,
        seed: req.seed.unwrap_or(7),
        threads: 1,
        refine: replications > 0,
    };
    let plan = run_plan(input, opts).await?;
    if html {
        let page = plan.report_html();
        return Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response());
    }
    Ok(Json(plan).into_response())
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PeriodQuery {
    /// Days of history, ending today (default 56, 1 to 730).
    pub days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SiteAnalytics {
    pub site_id: String,
    /// Compartments in service on the site's lockers.
    pub capacity: u32,
    /// Arrivals per day by size, dwell distribution and peak occupancy.
    #[schema(value_type = Object)]
    pub activity: SiteActivity,
}

use crate::app::analytics::measure;

fn period(q: &PeriodQuery, default: u32) -> ApiResult<u32> {
    let days = q.days.unwrap_or(default);
    if !(1..=MAX_HISTORY_DAYS).contains(&days) {
        return Err(ApiError::invalid(
            "days",
            format!("must be 1 to {MAX_HISTORY_DAYS}"),
        ));
    }
    Ok(days)
}

/// What a site measured: arrivals per day by size, dwell, peak occupancy.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/analytics", params(("site_id" = String, Path), PeriodQuery),
    responses((status = 200, body = SiteAnalytics), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn site_analytics(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> ApiResult<Json<SiteAnalytics>> {
    caller.require(STAFF)?;
    let days = period(&q, 56)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let (activity, capacity) = measure(&state, &site.id, &site.timezone, None, days).await?;
    Ok(Json(SiteAnalytics {
        site_id: site.id,
        capacity,
        activity,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ForecastQuery {
    /// Days of history to learn from, ending today (default 365, 14 to 730).
    pub days: Option<u32>,
    /// Share of days the compartments should suffice for (default 0.99).
    pub service_level: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct Recommendation {
    /// Compartments in service now.
    pub installed: u32,
    /// What the planner sizes for the measured volume, size mix and dwell.
    pub recommended: u32,
    /// Compartments to add (0 when the installed ones suffice).
    pub expand_by: u32,
    pub sized_by: String,
}

#[derive(Serialize, ToSchema)]
pub struct SiteForecast {
    pub site_id: String,
    pub history_days: u32,
    /// Mean dwell measured over the history (hours).
    pub mean_dwell_hours: f64,
    pub capacity: u32,
    /// Daily arrivals for the next 56 days with intervals.
    #[schema(value_type = Object)]
    pub forecast: DailyForecast,
    /// Compartments needed day by day and the first day they run short.
    #[schema(value_type = Object)]
    pub outlook: CapacityOutlook,
    /// The planner re-run on the measured inputs.
    pub recommendation: Recommendation,
}

fn forecast_error(e: ForecastError) -> ApiError {
    match e {
        ForecastError::InsufficientHistory { needed, got } => ApiError::new(
            Code::InsufficientHistory,
            format!("forecasting needs at least {needed} days of deposits; this site has {got}"),
        )
        .with_details(serde_json::json!({ "needed": needed, "got": got })),
        other => ApiError::new(Code::InvalidInput, other.to_string()),
    }
}

/// The history to learn from: from the first day anything arrived up to
/// yesterday (today is not over yet).
fn trimmed_history(activity: &SiteActivity) -> (Vec<f64>, NaiveDate) {
    let complete = activity.days.len().saturating_sub(1);
    let first = activity.days[..complete]
        .iter()
        .position(|d| d.arrivals > 0)
        .unwrap_or(complete);
    let history = activity.daily_arrivals()[first..complete].to_vec();
    let start = activity
        .days
        .get(first)
        .map(|d| d.date)
        .unwrap_or(activity.to);
    (history, start)
}

/// Forecast a site's next 8 weeks of arrivals and occupancy, warn before
/// capacity runs short, and re-plan the site on what it measured.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/forecast", params(("site_id" = String, Path), ForecastQuery),
    responses((status = 200, body = SiteForecast), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn site_forecast(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    QueryParams(q): QueryParams<ForecastQuery>,
) -> ApiResult<Json<SiteForecast>> {
    caller.require(STAFF)?;
    let days = period(
        &PeriodQuery {
            days: Some(q.days.unwrap_or(365)),
        },
        365,
    )?;
    let service_level = q.service_level.unwrap_or(0.99);
    if !(service_level > 0.5 && service_level < 1.0) {
        return Err(ApiError::invalid(
            "service_level",
            "must be between 0.5 and 1 (exclusive)",
        ));
    }
    let site = site_for(&state, &caller, &site_id).await?;
    let (activity, capacity) = measure(&state, &site.id, &site.timezone, None, days).await?;
    let (history, start) = trimmed_history(&activity);
    let mean_dwell_hours = activity.dwell.mean_hours.unwrap_or(20.0).max(0.1);
    let first_day = start + Duration::days(history.len() as i64);
    let hist = history.clone();
    let (forecast, outlook) = tokio::task::spawn_blocking(move || {
        let forecast = forecast_daily(&hist, first_day, FORECAST_DAYS, 0.95)?;
        let outlook = capacity_warning(&forecast, mean_dwell_hours, capacity, service_level)?;
        Ok::<_, ForecastError>((forecast, outlook))
    })
    .await
    .map_err(|_| ApiError::new(Code::Unavailable, "retry"))?
    .map_err(forecast_error)?;
    // The planner on measured inputs: volume from the history, the measured
    // size mix and dwell, the default peak and service targets.
    // Units only shape the rules-of-thumb comparison here: the volume comes
    // from the history.
    let residents = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::residents::residents_on_site(&mut conn, &site.id).await?
    };
    let mut input = PlanInput {
        units: None,
        residents: Some(residents.max(1)),
        daily_history: Some(history.clone()),
        target_blocking: 1.0 - service_level,
        ..PlanInput::default()
    };
    input.dwell.mean_hours = mean_dwell_hours;
    if activity.size_mix.s + activity.size_mix.m + activity.size_mix.l + activity.size_mix.xl > 0.0
    {
        input.size_mix = activity.size_mix;
    }
    let plan = run_plan(
        input,
        PlanOptions {
            replications: 50,
            seed: 7,
            threads: 1,
            refine: true,
        },
    )
    .await?;
    let recommended = plan.compartments_total;
    Ok(Json(SiteForecast {
        site_id: site.id,
        history_days: history.len() as u32,
        mean_dwell_hours,
        capacity,
        forecast,
        outlook,
        recommendation: Recommendation {
            installed: capacity,
            recommended,
            expand_by: recommended.saturating_sub(capacity),
            sized_by: plan.sized_by.clone(),
        },
    }))
}

#[derive(Serialize, ToSchema)]
pub struct CapacityDay {
    pub date: String,
    /// Parcels expected that day (point forecast).
    pub expected_arrivals: f64,
    /// Compartments to spare beyond those the forecast needs at a 99 %
    /// service level (Erlang B on forecast arrivals × measured dwell).
    pub expected_free_compartments: u32,
}

#[derive(Serialize, ToSchema)]
pub struct LockerCapacityForecast {
    pub locker_id: String,
    pub capacity: u32,
    pub days: Vec<CapacityDay>,
}

/// Forecast free capacity of one locker for the next 8 weeks, so that carriers
/// can plan deliveries against it. Carries no personal data.
#[utoipa::path(get, path = "/api/v1/lockers/{locker_id}/capacity-forecast", params(("locker_id" = String, Path)),
    responses((status = 200, body = LockerCapacityForecast), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn locker_capacity_forecast(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
) -> ApiResult<Json<LockerCapacityForecast>> {
    caller.require(DEPOSITORS)?;
    let (locker, site) = locker_for(&state, &caller, &locker_id).await?;
    let (activity, capacity) =
        measure(&state, &site.id, &site.timezone, Some(&locker.id), 365).await?;
    let (history, start) = trimmed_history(&activity);
    let mean_dwell_hours = activity.dwell.mean_hours.unwrap_or(20.0).max(0.1);
    let first_day = start + Duration::days(history.len() as i64);
    let outlook = tokio::task::spawn_blocking(move || {
        let forecast = forecast_daily(&history, first_day, FORECAST_DAYS, 0.95)?;
        capacity_warning(&forecast, mean_dwell_hours, capacity, 0.99)
    })
    .await
    .map_err(|_| ApiError::new(Code::Unavailable, "retry"))?
    .map_err(forecast_error)?;
    let days = outlook
        .days
        .iter()
        .map(|d| CapacityDay {
            date: d.date.to_string(),
            expected_arrivals: d.arrivals,
            expected_free_compartments: capacity.saturating_sub(d.compartments_needed),
        })
        .collect();
    Ok(Json(LockerCapacityForecast {
        locker_id: locker.id,
        capacity,
        days,
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CapacityQuery {
    /// Start of the period (default: now), ms since the epoch.
    pub from_ms: Option<i64>,
    /// End of the period (default: two days after its start; at most 14 days).
    pub to_ms: Option<i64>,
    /// Only this zone: `ambient`, `chilled` or `frozen`.
    pub temperature: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ExpectedFree {
    /// Site-local date; the first counts from the period's start, the
    /// others from that day's local midnight.
    pub day: String,
    pub count: u32,
}

#[derive(Serialize, ToSchema)]
pub struct CapacityClass {
    /// `a` to `d`, by inner height.
    pub size_class: String,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub temperature: String,
    /// In service.
    pub total: u32,
    pub free_now: u32,
    pub reserved: u32,
    pub expected_free: Vec<ExpectedFree>,
}

#[derive(Serialize, ToSchema)]
pub struct LockerCapacity {
    pub locker_id: String,
    pub classes: Vec<CapacityClass>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliverySlotAnswer {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Parcels all reservations in this slot may hold together.
    pub max_parcels: u32,
    /// Parcels reservations already booked into it.
    pub booked: u32,
}

#[derive(Serialize, ToSchema)]
pub struct SiteCapacity {
    pub site_id: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub lockers: Vec<LockerCapacity>,
    /// The courier windows the site publishes in the period (empty: any
    /// window); reservations lie inside one.
    pub delivery_slots: Vec<DeliverySlotAnswer>,
}

/// Free capacity of a site for planning deliveries, by locker, compartment
/// size and temperature zone: free now, reserved, and expected free each day
/// of the period (what is free now plus what the site's measured stays and
/// its policy's expiries say will have left). Staff, and carrier and courier
/// tokens of a carrier the site enabled. No personal data.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/capacity", params(("site_id" = String, Path), CapacityQuery),
    responses((status = 200, body = SiteCapacity), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn site_capacity(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    QueryParams(q): QueryParams<CapacityQuery>,
) -> ApiResult<Json<SiteCapacity>> {
    caller.require(DEPOSITORS)?;
    let site = site_for(&state, &caller, &site_id).await?;
    if caller.is_carrier_side() {
        let carrier = caller.carrier.as_deref().ok_or_else(ApiError::forbidden)?;
        crate::app::couriers::require_enabled(&state, &site.id, carrier).await?;
    }
    let temperature = q
        .temperature
        .as_deref()
        .map(str::parse::<cubby_domain::model::TemperatureZone>)
        .transpose()
        .map_err(|_| ApiError::invalid("temperature", "ambient, chilled or frozen"))?;
    let from_ms = q.from_ms.unwrap_or_else(crate::now_ms);
    let to_ms = q.to_ms.unwrap_or(from_ms + 2 * 86_400_000);
    let (days, classes) =
        crate::app::analytics::capacity(&state, &site, from_ms, to_ms, temperature).await?;
    let mut lockers: Vec<LockerCapacity> = Vec::new();
    for c in classes {
        let class = CapacityClass {
            size_class: c.size_class.as_str().to_string(),
            width_mm: c.inner.width_mm,
            height_mm: c.inner.height_mm,
            depth_mm: c.inner.depth_mm,
            temperature: c.temperature.as_str().to_string(),
            total: c.total,
            free_now: c.free_now,
            reserved: c.reserved,
            expected_free: days
                .iter()
                .zip(&c.expected_free)
                .map(|((day, _), count)| ExpectedFree {
                    day: day.clone(),
                    count: *count,
                })
                .collect(),
        };
        match lockers.last_mut() {
            Some(l) if l.locker_id == c.locker_id => l.classes.push(class),
            _ => lockers.push(LockerCapacity {
                locker_id: c.locker_id,
                classes: vec![class],
            }),
        }
    }
    let delivery_slots = crate::app::reservations::delivery_slots(&state, &site, from_ms, to_ms)
        .await?
        .into_iter()
        .map(|(slot, booked)| DeliverySlotAnswer {
            from_ms: slot.from_ms,
            to_ms: slot.to_ms,
            max_parcels: slot.max_parcels,
            booked,
        })
        .collect();
    Ok(Json(SiteCapacity {
        site_id: site.id,
        from_ms,
        to_ms,
        lockers,
        delivery_slots,
    }))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_plan))
        .routes(routes!(site_analytics))
        .routes(routes!(site_forecast))
        .routes(routes!(locker_capacity_forecast))
        .routes(routes!(site_capacity))
}
