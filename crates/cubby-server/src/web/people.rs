//! Console pages for incidents (with resolving) and for carriers and their
//! courier accounts.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use cubby_domain::ids;
use cubby_domain::model::clean_text;
use cubby_store as db;
use cubby_store::OpError;
use serde::Deserialize;

use super::{CsrfForm, CsrfOnly};
use super::{Session, not_found, render, site_of, unavailable, utc};
use crate::AppState;
use crate::auth::MANAGERS;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/sites/{site_id}/incidents", get(incidents_page))
        .route(
            "/console/sites/{site_id}/incidents/{incident_id}/resolve",
            post(resolve),
        )
        .route("/console/carriers", get(carriers_page).post(add_carrier))
        .route("/console/carriers/{carrier_id}/couriers", post(add_courier))
}

struct IncidentLine {
    id: String,
    when: String,
    kind: String,
    place: String,
    detail: String,
    resolved: Option<String>,
}

#[derive(Template)]
#[template(path = "console/incidents.html")]
struct IncidentsPage {
    csrf: String,
    who: String,
    site_id: String,
    site_name: String,
    incidents: Vec<IncidentLine>,
}

async fn incidents_page(
    State(state): State<AppState>,
    session: Session,
    Path(site_id): Path<String>,
) -> Response {
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let built: Result<Vec<IncidentLine>, OpError> = async {
        let mut conn = state.store.reader().await?;
        let mut names = std::collections::HashMap::new();
        for l in db::lockers::lockers(&mut conn, &site.id).await? {
            names.insert(l.id, l.name);
        }
        Ok(
            db::incidents::incidents(&mut conn, None, Some(&site.id), 500)
                .await?
                .into_iter()
                .map(|i| IncidentLine {
                    place: match (&i.locker_id, &i.compartment) {
                        (Some(l), Some(c)) => {
                            format!("{} / {c}", names.get(l).cloned().unwrap_or_default())
                        }
                        (Some(l), None) => names.get(l).cloned().unwrap_or_default(),
                        _ => "site".into(),
                    },
                    id: i.id,
                    when: utc(i.created_ms),
                    kind: i.kind.replace('_', " "),
                    detail: i.detail,
                    resolved: i.resolved_ms.map(utc),
                })
                .collect(),
        )
    }
    .await;
    match built {
        Ok(incidents) => render(&IncidentsPage {
            csrf: session.csrf,
            who: session.who,
            site_id: site.id,
            site_name: site.name,
            incidents,
        }),
        Err(e) => unavailable(e),
    }
}

async fn resolve(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path((site_id, incident_id)): Path<(String, String)>,
    CsrfForm { session, form: _ }: CsrfForm<Session, CsrfOnly>,
) -> Response {
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !ids::looks_like(ids::INCIDENT, &incident_id) {
        return not_found("incident");
    }
    // The incident must be this site's before anything changes.
    match crate::app::incidents::get(&state, &session.caller, &incident_id).await {
        Ok((row, _)) if row.site_id == site.id => {}
        Ok(_) => return not_found("incident"),
        Err(e) if e.code == cubby_domain::codes::Code::NotFound => return not_found("incident"),
        Err(e) => return unavailable(e.message),
    }
    let done = crate::app::incidents::act(
        &state,
        &session.caller,
        &incident_id,
        crate::app::incidents::Action::Resolve {
            reason: "resolved in the console".into(),
        },
    )
    .await;
    match done {
        Ok(_) => Redirect::to(&format!("/console/sites/{}/incidents", site.id)).into_response(),
        // Resolving twice from two tabs: the first resolution stands.
        Err(e) if e.code == cubby_domain::codes::Code::IncidentResolved => {
            Redirect::to(&format!("/console/sites/{}/incidents", site.id)).into_response()
        }
        Err(e) => unavailable(e.message),
    }
}

struct CarrierLine {
    id: String,
    code: String,
    name: String,
    couriers: Vec<String>,
}

#[derive(Template)]
#[template(path = "console/carriers.html")]
struct CarriersPage {
    csrf: String,
    who: String,
    notice: Option<String>,
    carriers: Vec<CarrierLine>,
}

async fn carriers_view(state: &AppState, session: Session, notice: Option<String>) -> Response {
    if session.caller.require(MANAGERS).is_err() {
        return not_found("page");
    }
    let built: Result<Vec<CarrierLine>, crate::error::ApiError> = async {
        let carriers = crate::app::couriers::carriers_for(state, &session.caller).await?;
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let mut out = Vec::new();
        for c in carriers {
            let couriers = db::couriers::couriers_of_carrier(&mut conn, &c.id)
                .await?
                .into_iter()
                .map(|k| k.name)
                .collect();
            out.push(CarrierLine {
                id: c.id,
                code: c.code,
                name: c.name,
                couriers,
            });
        }
        Ok(out)
    }
    .await;
    match built {
        Ok(carriers) => render(&CarriersPage {
            csrf: session.csrf,
            who: session.who,
            notice,
            carriers,
        }),
        Err(e) => unavailable(e.message),
    }
}

async fn carriers_page(State(state): State<AppState>, session: Session) -> Response {
    carriers_view(&state, session, None).await
}

#[derive(Deserialize)]
struct CarrierForm {
    code: String,
    name: String,
}

async fn add_carrier(
    State(state): State<AppState>,
    _headers: HeaderMap,
    CsrfForm { session, form }: CsrfForm<Session, CarrierForm>,
) -> Response {
    if session.caller.require(MANAGERS).is_err() {
        return not_found("page");
    }
    // An administrator adds carriers to a manager's organisation via the API.
    let Some(org) = session.caller.org_id.clone() else {
        let msg = "Add carriers as a manager of the organisation.".to_string();
        return carriers_view(&state, session, Some(msg)).await;
    };
    let checked = crate::app::couriers::carrier_code(&form.code)
        .and_then(|code| Ok((code, clean_text("name", &form.name, 200)?)));
    let (code, name) = match checked {
        Ok(v) => v,
        Err(e) => return carriers_view(&state, session, Some(e.message)).await,
    };
    let id = crate::new_id(ids::CARRIER);
    let (c, n) = (code.clone(), name.clone());
    let stored = state
        .store
        .transact(move |conn| {
            Box::pin(
                async move { cubby_store::couriers::create_carrier(conn, &id, &org, &c, &n).await },
            )
        })
        .await;
    let notice = match stored {
        Ok(()) => format!("{name} ({code}) added."),
        Err(e) => crate::error::ApiError::from(e).message,
    };
    carriers_view(&state, session, Some(notice)).await
}

#[derive(Deserialize)]
struct CourierForm {
    name: String,
    /// The page's script fills it after the passkey step-up: a courier
    /// account comes with a token.
    #[serde(default)]
    step_up: String,
}

async fn add_courier(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(carrier_id): Path<String>,
    CsrfForm { session, form }: CsrfForm<Session, CourierForm>,
) -> Response {
    if session.caller.require(MANAGERS).is_err() || !ids::looks_like(ids::CARRIER, &carrier_id) {
        return not_found("carrier");
    }
    let carrier = match state.store.reader().await {
        Ok(mut conn) => match db::couriers::carrier(&mut conn, &carrier_id).await {
            Ok(Some(c)) if session.caller.sees_org(&c.org_id) => c,
            Ok(_) => return not_found("carrier"),
            Err(e) => return unavailable(e),
        },
        Err(e) => return unavailable(e),
    };
    if let Err(e) =
        crate::auth::step_up::require_settings_step_up(&state, &session.caller, Some(&form.step_up))
    {
        return carriers_view(&state, session, Some(e.message)).await;
    }
    let notice = match crate::app::couriers::open_courier_account(&state, carrier, &form.name).await
    {
        Ok(c) => format!(
            "{}'s account is open. Their token (shown once): {}",
            c.name, c.token
        ),
        Err(e) => e.message,
    };
    carriers_view(&state, session, Some(notice)).await
}
