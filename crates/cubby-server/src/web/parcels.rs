//! Parcel search (tracking number, unit or name; never a pattern) and a parcel's chain of custody.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use cubby_domain::ids;
use cubby_store as db;
use cubby_store::OpError;
use serde::Deserialize;

use super::*;
use crate::AppState;

pub(super) struct ParcelLine {
    id: String,
    tracking: String,
    recipient: String,
    state: String,
    place: String,
    updated: String,
}

/// Where a parcel is, in words.
pub(super) async fn place_of(
    conn: &mut cubby_store::AnyConnection,
    p: &db::parcels::ParcelRow,
) -> Result<String, OpError> {
    Ok(match (&p.locker_id, &p.compartment_label) {
        (Some(l), Some(label)) => {
            let name = db::lockers::locker(conn, l)
                .await?
                .map(|l| l.name)
                .unwrap_or_default();
            format!("{name} / {label}")
        }
        _ => match cubby_store::rooms::shelf_of(conn, &p.id).await? {
            Some((_, zone)) => format!("parcel room, zone {zone}"),
            None => "not in a locker".to_string(),
        },
    })
}

pub(super) async fn recipient_of(
    conn: &mut cubby_store::AnyConnection,
    p: &db::parcels::ParcelRow,
) -> Result<String, OpError> {
    Ok(match &p.resident_id {
        Some(rid) => match db::residents::resident(conn, rid).await? {
            Some(r) => format!("{} ({})", r.name, r.unit),
            None => "unknown".to_string(),
        },
        None => format!(
            "not matched: {} ({})",
            p.recipient_name.clone().unwrap_or_default(),
            p.recipient_unit.clone().unwrap_or_default()
        ),
    })
}

#[derive(Template)]
#[template(path = "console/parcels.html")]
pub(super) struct ParcelsPage {
    csrf: String,
    who: String,
    site_id: String,
    site_name: String,
    q: String,
    searched: bool,
    parcels: Vec<ParcelLine>,
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub(super) async fn parcels_page(
    State(state): State<AppState>,
    session: Session,
    Path(site_id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<SearchQuery>,
) -> Response {
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let q: String = query.q.trim().chars().take(100).collect();
    let built: Result<Vec<ParcelLine>, OpError> = async {
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = state.store.reader().await?;
        let mut out = Vec::new();
        for p in db::parcels::search_parcels(&mut conn, &site.id, &q, 200).await? {
            out.push(ParcelLine {
                recipient: recipient_of(&mut conn, &p).await?,
                place: place_of(&mut conn, &p).await?,
                id: p.id,
                tracking: p.tracking_number,
                state: p.state.as_str().replace('_', " "),
                updated: utc(p.updated_ms),
            });
        }
        Ok(out)
    }
    .await;
    match built {
        Ok(parcels) => render(&ParcelsPage {
            csrf: session.csrf,
            who: session.who,
            site_id: site.id,
            site_name: site.name,
            searched: !q.is_empty(),
            q,
            parcels,
        }),
        Err(e) => unavailable(e),
    }
}

pub(super) struct EventLine {
    kind: String,
    when: String,
    place: String,
    actor: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "console/parcel.html")]
pub(super) struct ParcelPage {
    csrf: String,
    who: String,
    site_id: String,
    site_name: String,
    tracking: String,
    state: String,
    recipient: String,
    carrier: String,
    place: String,
    events: Vec<EventLine>,
}

pub(super) async fn parcel_page(
    State(state): State<AppState>,
    session: Session,
    Path(parcel_id): Path<String>,
) -> Response {
    if !ids::looks_like(ids::PARCEL, &parcel_id) {
        return not_found("parcel");
    }
    let parcel = match state.store.reader().await {
        Ok(mut conn) => match db::parcels::parcel(&mut conn, &parcel_id).await {
            Ok(Some(p)) => p,
            Ok(None) => return not_found("parcel"),
            Err(e) => return unavailable(e),
        },
        Err(e) => return unavailable(e),
    };
    let site = match site_of(&state, &session, &parcel.site_id).await {
        Ok(s) => s,
        Err(_) => return not_found("parcel"),
    };
    let built: Result<(String, String, Vec<EventLine>), OpError> = async {
        let mut conn = state.store.reader().await?;
        let events = db::custody::custody_events(&mut conn, &parcel.id)
            .await?
            .into_iter()
            .map(|e| EventLine {
                kind: e.kind.replace('_', " "),
                when: utc(e.at_ms),
                place: e.place,
                actor: e.actor,
                reason: e.reason,
            })
            .collect();
        Ok((
            recipient_of(&mut conn, &parcel).await?,
            place_of(&mut conn, &parcel).await?,
            events,
        ))
    }
    .await;
    match built {
        Ok((recipient, place, events)) => render(&ParcelPage {
            csrf: session.csrf,
            who: session.who,
            site_id: site.id,
            site_name: site.name,
            tracking: parcel.tracking_number,
            state: parcel.state.as_str().replace('_', " "),
            recipient,
            carrier: parcel.carrier.unwrap_or_else(|| "unknown".into()),
            place,
            events,
        }),
        Err(e) => unavailable(e),
    }
}
