//! Reports: daily volume, occupancy and dwell as inline SVG bars, deliveries per carrier, staff time saved.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use cubby_store as db;
use cubby_store::OpError;
use serde::Deserialize;

use super::*;
use crate::app;
use crate::{AppState, now_ms};

#[derive(Template)]
#[template(path = "console/reports.html")]
pub(super) struct ReportsPage {
    csrf: String,
    who: String,
    site_id: String,
    site_name: String,
    days: u32,
    from: String,
    to: String,
    capacity: u32,
    arrivals: u32,
    busiest: u32,
    peak: u32,
    collected: u32,
    p50: String,
    p90: String,
    self_service: i64,
    hours_saved: String,
    volume_svg: String,
    occupancy_svg: String,
    dwell_svg: String,
    carriers: Vec<(String, i64, String, i64)>,
    /// Per carrier: (carrier, inside / outside the courier windows, wrong size, reservations used / wasted).
    compliance: Vec<(String, String, u64, String)>,
    impact: app::carrier_reports::ImpactEstimate,
}

#[derive(Deserialize)]
pub(super) struct ReportQuery {
    days: Option<u32>,
}

/// Minutes of desk time one parcel takes without lockers (facts.md, Camden).
pub(super) const STAFF_MINUTES_PER_PARCEL: f64 = 10.0;

pub(super) async fn reports_page(
    State(state): State<AppState>,
    session: Session,
    Path(site_id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ReportQuery>,
) -> Response {
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let days = q.days.unwrap_or(28).clamp(7, 366);
    let (activity, capacity) =
        match app::analytics::measure(&state, &site.id, &site.timezone, None, days).await {
            Ok(v) => v,
            Err(e) => return unavailable(e.message),
        };
    let since = now_ms() - i64::from(days) * 86_400_000;
    let extra: Result<_, OpError> = async {
        let mut conn = state.store.reader().await?;
        Ok((
            db::reports::carrier_compliance(&mut conn, &site.id, since).await?,
            db::reports::self_service_pickups(&mut conn, &site.id, since).await?,
        ))
    }
    .await;
    let (carriers, self_service) = match extra {
        Ok(v) => v,
        Err(e) => return unavailable(e),
    };
    let report = match app::carrier_reports::carrier_report(
        &state,
        &session.caller,
        &site.id,
        since,
        now_ms(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return unavailable(e.message),
    };
    let compliance = report
        .carriers
        .iter()
        .map(|l| {
            (
                l.carrier.clone().unwrap_or_else(|| "(none)".into()),
                match (l.inside_slots, l.outside_slots) {
                    (Some(i), Some(o)) => format!("{i} / {o}"),
                    _ => "no windows published".into(),
                },
                l.wrong_size,
                format!("{} / {}", l.reservations.used, l.reservations.wasted),
            )
        })
        .collect();
    let labels: Vec<String> = activity
        .days
        .iter()
        .map(|d| d.date.format("%m-%d").to_string())
        .collect();
    let every = (activity.days.len() / 7).max(1);
    let arrivals: Vec<f64> = activity
        .days
        .iter()
        .map(|d| f64::from(d.arrivals))
        .collect();
    let occupancy: Vec<f64> = activity
        .days
        .iter()
        .map(|d| f64::from(d.peak_occupancy))
        .collect();
    let (dwell_labels, dwell_counts): (Vec<String>, Vec<f64>) = activity
        .dwell
        .histogram
        .iter()
        .map(|(l, n)| (l.clone(), f64::from(*n)))
        .unzip();
    let hours = |h: Option<f64>| h.map_or("—".to_string(), |h| format!("{h:.1} h"));
    let pct = |part: i64, of: i64| {
        if of == 0 {
            "—".to_string()
        } else {
            format!("{} %", part * 100 / of)
        }
    };
    render(&ReportsPage {
        csrf: session.csrf,
        who: session.who,
        site_id: site.id,
        site_name: site.name,
        days,
        from: activity.from.to_string(),
        to: activity.to.to_string(),
        capacity,
        arrivals: activity.days.iter().map(|d| d.arrivals).sum(),
        busiest: activity.days.iter().map(|d| d.arrivals).max().unwrap_or(0),
        peak: activity.peak_occupancy,
        collected: activity.dwell.collected,
        p50: hours(activity.dwell.p50_hours),
        p90: hours(activity.dwell.p90_hours),
        self_service,
        hours_saved: format!(
            "{:.1}",
            self_service as f64 * STAFF_MINUTES_PER_PARCEL / 60.0
        ),
        volume_svg: charts::bars("Parcels arriving per day", &labels, &arrivals, every),
        occupancy_svg: charts::bars(
            "Most parcels inside at once, per day",
            &labels,
            &occupancy,
            every,
        ),
        dwell_svg: charts::bars(
            "Parcels by how long they stayed",
            &dwell_labels,
            &dwell_counts,
            1,
        ),
        compliance,
        impact: report.impact,
        carriers: carriers
            .into_iter()
            .map(|(c, n, announced, unmatched)| {
                (
                    c.unwrap_or_else(|| "(none)".into()),
                    n,
                    pct(announced, n),
                    unmatched,
                )
            })
            .collect(),
    })
}
