//! The console's sites and a site's lockers and open incidents.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use cubby_domain::model::{CompartmentState, Role};
use cubby_store as db;
use cubby_store::OpError;

use super::*;
use crate::auth::{MANAGERS, STAFF};
use crate::{AppState, app};

pub(super) struct SiteLine {
    id: String,
    name: String,
    timezone: String,
    lockers: usize,
    compartments: usize,
    occupied: usize,
    incidents: usize,
}

#[derive(Template)]
#[template(path = "console/sites.html")]
pub(super) struct SitesPage {
    csrf: String,
    who: String,
    sites: Vec<SiteLine>,
}

pub(super) async fn occupancy(
    conn: &mut cubby_store::AnyConnection,
    locker_id: &str,
) -> Result<(usize, usize), OpError> {
    let cs = db::lockers::compartments(conn, locker_id).await?;
    let occupied = cs
        .iter()
        .filter(|c| c.state == CompartmentState::Occupied)
        .count();
    Ok((occupied, cs.len()))
}

pub(super) async fn open_incidents(
    conn: &mut cubby_store::AnyConnection,
    site_id: &str,
) -> Result<Vec<db::incidents::IncidentRow>, OpError> {
    Ok(db::incidents::incidents(conn, None, Some(site_id), 500)
        .await?
        .into_iter()
        .filter(|i| i.resolved_ms.is_none())
        .collect())
}

pub(super) async fn sites_page(State(state): State<AppState>, session: Session) -> Response {
    if session.caller.require(STAFF).is_err() {
        return not_found("page");
    }
    let built: Result<Vec<SiteLine>, OpError> = async {
        let mut conn = state.store.reader().await?;
        let org = match session.caller.role {
            Role::Admin => None,
            _ => session.caller.org_id.as_deref(),
        };
        let mut out = Vec::new();
        for s in db::tenants::sites(&mut conn, org).await? {
            let lockers = db::lockers::lockers(&mut conn, &s.id).await?;
            let (mut occupied, mut compartments) = (0, 0);
            for l in &lockers {
                let (o, n) = occupancy(&mut conn, &l.id).await?;
                occupied += o;
                compartments += n;
            }
            let incidents = open_incidents(&mut conn, &s.id).await?.len();
            out.push(SiteLine {
                id: s.id,
                name: s.name,
                timezone: s.timezone,
                lockers: lockers.len(),
                compartments,
                occupied,
                incidents,
            });
        }
        Ok(out)
    }
    .await;
    match built {
        Ok(sites) => render(&SitesPage {
            csrf: session.csrf,
            who: session.who,
            sites,
        }),
        Err(e) => unavailable(e),
    }
}

pub(super) struct LockerLine {
    id: String,
    name: String,
    compartments: usize,
    occupied: usize,
    percent: usize,
}

pub(super) struct IncidentLine {
    when: String,
    kind: String,
    place: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/site.html")]
pub(super) struct SitePage {
    csrf: String,
    who: String,
    id: String,
    manager: bool,
    name: String,
    timezone: String,
    address: String,
    version: i64,
    notice: Option<String>,
    lockers: Vec<LockerLine>,
    incidents: Vec<IncidentLine>,
}

pub(super) async fn site_page(
    State(state): State<AppState>,
    session: Session,
    Path(site_id): Path<String>,
) -> Response {
    site_page_with(&state, session, &site_id, None).await
}

#[derive(serde::Deserialize)]
pub(super) struct SiteForm {
    version: i64,
    name: String,
    timezone: String,
    #[serde(default)]
    address: String,
}

/// Saves a site's name, time zone and address (managers), naming the
/// version the form showed; the page says what happened.
pub(super) async fn save_site(
    State(state): State<AppState>,
    Path(site_id): Path<String>,
    CsrfForm { session, form }: CsrfForm<Session, SiteForm>,
) -> Response {
    let address = form.address.trim();
    let patch = app::sites::SitePatch {
        version: form.version,
        name: Some(form.name),
        timezone: Some(form.timezone),
        address: Some((!address.is_empty()).then(|| address.to_string())),
    };
    let notice = match app::sites::edit_site(&state, &session.caller, &site_id, patch).await {
        Ok(_) => "The site is saved.".to_string(),
        Err(e) => e.message,
    };
    site_page_with(&state, session, &site_id, Some(notice)).await
}

async fn site_page_with(
    state: &AppState,
    session: Session,
    site_id: &str,
    notice: Option<String>,
) -> Response {
    let site = match site_of(state, &session, site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let built: Result<(Vec<LockerLine>, Vec<IncidentLine>), OpError> = async {
        let mut conn = state.store.reader().await?;
        let mut lockers = Vec::new();
        let mut names = std::collections::HashMap::new();
        for l in db::lockers::lockers(&mut conn, &site.id).await? {
            let (occupied, compartments) = occupancy(&mut conn, &l.id).await?;
            names.insert(l.id.clone(), l.name.clone());
            lockers.push(LockerLine {
                id: l.id,
                name: l.name,
                compartments,
                occupied,
                percent: (occupied * 100).checked_div(compartments).unwrap_or(0),
            });
        }
        let incidents = open_incidents(&mut conn, &site.id)
            .await?
            .into_iter()
            .take(100)
            .map(|i| IncidentLine {
                when: utc(i.created_ms),
                kind: i.kind.replace('_', " "),
                place: match (&i.locker_id, &i.compartment) {
                    (Some(l), Some(c)) => {
                        format!("{} / {c}", names.get(l).cloned().unwrap_or_default())
                    }
                    (Some(l), None) => names.get(l).cloned().unwrap_or_default(),
                    _ => "site".to_string(),
                },
                detail: i.detail,
            })
            .collect();
        Ok((lockers, incidents))
    }
    .await;
    match built {
        Ok((lockers, incidents)) => render(&SitePage {
            manager: session.caller.require(MANAGERS).is_ok(),
            csrf: session.csrf,
            who: session.who,
            id: site.id,
            name: site.name,
            timezone: site.timezone,
            address: site.address.unwrap_or_default(),
            version: site.version,
            notice,
            lockers,
            incidents,
        }),
        Err(e) => unavailable(e),
    }
}
