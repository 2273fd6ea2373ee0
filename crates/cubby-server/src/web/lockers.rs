//! A locker bank's grid, a remote open after a step-up, and setting up a new bank.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use cubby_domain::credentials::mac;
use cubby_domain::ids;
use cubby_domain::model::CompartmentState;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::tenants::SiteRow;
use serde::{Deserialize, Serialize};

use super::*;
use crate::AppState;
use crate::app;
use crate::app::lockers::{NewCompartmentBody, NewLockerBody, add_locker, new_locker};
use crate::auth::MANAGERS;
use crate::write::idempotency_key_of;

/// One compartment as the grid shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct Cell {
    label: String,
    /// available, occupied, reserved, out_of_service or alarm
    state: &'static str,
    #[serde(skip)]
    words: &'static str,
}

pub(super) async fn grid_cells(
    conn: &mut cubby_store::AnyConnection,
    site_id: &str,
    locker_id: &str,
) -> Result<Vec<Cell>, OpError> {
    let alarms: Vec<String> = open_incidents(conn, site_id)
        .await?
        .into_iter()
        .filter(|i| {
            i.locker_id.as_deref() == Some(locker_id) && ALARM_KINDS.contains(&i.kind.as_str())
        })
        .filter_map(|i| i.compartment)
        .collect();
    Ok(db::lockers::compartments(conn, locker_id)
        .await?
        .into_iter()
        .map(|c| {
            let (state, words) = if alarms.contains(&c.label) {
                ("alarm", "alarm")
            } else {
                match c.state {
                    CompartmentState::Available => ("available", "free"),
                    CompartmentState::Occupied => ("occupied", "occupied"),
                    CompartmentState::Reserved => ("reserved", "reserved"),
                    CompartmentState::OutOfService => ("out_of_service", "out of service"),
                }
            };
            Cell {
                label: c.label,
                state,
                words,
            }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "console/locker.html")]
pub(super) struct LockerPage {
    csrf: String,
    who: String,
    notice: Option<String>,
    /// Whether this staff member may open doors remotely (managers).
    can_open: bool,
    /// A fresh Idempotency-Key for the remote-open form.
    nonce: String,
    id: String,
    name: String,
    site_id: String,
    site_name: String,
    cells: Vec<Cell>,
    /// The locker's version, for the quotas form.
    version: i64,
    /// Quotas as the form shows them: `dhl=2, ups=3`.
    quotas: String,
    /// Compartments out of service, with why.
    out_of_service: Vec<(String, String)>,
}

/// The locker and its site, if this staff member may see them.
pub(super) async fn locker_of(
    state: &AppState,
    session: &Session,
    locker_id: &str,
) -> Result<(db::lockers::LockerRow, SiteRow), Response> {
    if !ids::looks_like(ids::LOCKER, locker_id) {
        return Err(not_found("locker"));
    }
    let locker = {
        let mut conn = state.store.reader().await.map_err(unavailable)?;
        db::lockers::locker(&mut conn, locker_id)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| not_found("locker"))?
    };
    let site = site_of(state, session, &locker.site_id)
        .await
        .map_err(|_| not_found("locker"))?;
    Ok((locker, site))
}

pub(super) async fn locker_page(
    State(state): State<AppState>,
    session: Session,
    Path(locker_id): Path<String>,
) -> Response {
    locker_page_with(&state, session, &locker_id, None).await
}

pub(super) async fn locker_page_with(
    state: &AppState,
    session: Session,
    locker_id: &str,
    notice: Option<String>,
) -> Response {
    let (locker, site) = match locker_of(state, &session, locker_id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let cells = match state.store.reader().await {
        Ok(mut conn) => match grid_cells(&mut conn, &site.id, &locker.id).await {
            Ok(cells) => db::lockers::compartments(&mut conn, &locker.id)
                .await
                .map(|c| (cells, c)),
            Err(e) => Err(e),
        },
        Err(e) => Err(OpError::from(e)),
    };
    let quotas = locker
        .carrier_quotas
        .iter()
        .map(|(c, n)| format!("{c}={n}"))
        .collect::<Vec<_>>()
        .join(", ");
    match cells {
        Ok((cells, compartments)) => render(&LockerPage {
            version: locker.version,
            quotas,
            out_of_service: compartments
                .into_iter()
                .filter(|c| c.state == CompartmentState::OutOfService)
                .map(|c| (c.label, c.status_reason.unwrap_or_default()))
                .collect(),
            can_open: session.caller.require(MANAGERS).is_ok(),
            csrf: session.csrf,
            who: session.who,
            notice,
            nonce: random_hex(),
            id: locker.id,
            name: locker.name,
            site_id: site.id,
            site_name: site.name,
            cells,
        }),
        Err(e) => unavailable(e),
    }
}

#[derive(Deserialize)]
pub(super) struct QuotasForm {
    version: i64,
    #[serde(default)]
    quotas: String,
}

/// Reads `dhl=2, ups=3` (empty: no quotas).
fn parse_quotas(text: &str) -> Result<std::collections::BTreeMap<String, u32>, String> {
    let mut out = std::collections::BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (carrier, n) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?}: write carrier=number, e.g. dhl=2"))?;
        let n: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("{part:?}: the quota must be a whole number"))?;
        out.insert(carrier.trim().to_string(), n);
    }
    Ok(out)
}

/// Replaces the locker's per-carrier quotas (managers), through the API's
/// use case and its version check.
pub(super) async fn set_quotas(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(locker_id): Path<String>,
    CsrfForm { session, form }: CsrfForm<Session, QuotasForm>,
) -> Response {
    let notice = match parse_quotas(&form.quotas) {
        Err(e) => e,
        Ok(quotas) => {
            let patch = app::lockers::LockerPatch {
                version: form.version,
                name: None,
                carrier_quotas: Some(quotas),
                plan_position: None,
            };
            match app::lockers::edit_locker(&state, &session.caller, &locker_id, patch).await {
                Ok(_) => "The quotas are saved.".to_string(),
                Err(e) => e.message,
            }
        }
    };
    locker_page_with(&state, session, &locker_id, Some(notice)).await
}

#[derive(Deserialize)]
pub(super) struct ServiceForm {
    label: String,
    /// `out_of_service` or `available`.
    status: String,
    #[serde(default)]
    reason: String,
}

/// Takes a compartment out of service with why, or back into service.
pub(super) async fn set_service(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(locker_id): Path<String>,
    CsrfForm { session, form }: CsrfForm<Session, ServiceForm>,
) -> Response {
    let found = match state.store.reader().await {
        Ok(mut conn) => db::lockers::compartments(&mut conn, &locker_id).await,
        Err(e) => Err(OpError::from(e)),
    };
    let id = match found {
        Ok(c) => c.into_iter().find(|c| c.label == form.label).map(|c| c.id),
        Err(e) => return unavailable(e),
    };
    let notice = match id {
        None => "There is no such compartment in this locker.".to_string(),
        Some(_) if form.status == "out_of_service" && form.reason.trim().is_empty() => {
            "Say why the compartment is out of service.".to_string()
        }
        Some(id) => match app::lockers::set_compartment_status(
            &state,
            &session.caller,
            &locker_id,
            &id,
            &form.status,
            Some(&form.reason),
            None,
        )
        .await
        {
            Ok(_) if form.status == "out_of_service" => {
                format!("{} is out of service.", form.label)
            }
            Ok(_) => format!("{} is back in service.", form.label),
            Err(e) => e.message,
        },
    };
    locker_page_with(&state, session, &locker_id, Some(notice)).await
}

#[derive(Deserialize)]
pub(super) struct OpenForm {
    nonce: String,
    label: String,
    reason: String,
    #[serde(default)]
    step_up: String,
}

/// Opens one compartment remotely through the same use case as the API, with the
/// step-up proof the page's script obtained from the staff member's passkey.
pub(super) async fn open_remotely(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(locker_id): Path<String>,
    CsrfForm { session, form }: CsrfForm<Session, OpenForm>,
) -> Response {
    // The fingerprint ties the form's key to what it asked for.
    let fingerprint = mac(
        &state.secret,
        &["console-open", &locker_id, &form.label, &form.reason],
    );
    let answer = match idempotency_key_of(&form.nonce, &session.caller, fingerprint) {
        Ok(key) => {
            app::devices::remote_open(
                &state,
                &session.caller,
                &locker_id,
                form.label.clone(),
                &form.reason,
                Some(&form.step_up),
                Some(key),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let notice = match answer {
        Ok(_) => format!(
            "Door {} was sent the command to open. The locker checks its own cap before it does.",
            form.label
        ),
        Err(e) => e.message,
    };
    locker_page_with(&state, session, &locker_id, Some(notice)).await
}

#[derive(Deserialize, Default)]
pub(super) struct NewLockerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    small: String,
    #[serde(default)]
    medium: String,
    #[serde(default)]
    large: String,
    #[serde(default)]
    chilled: String,
}

#[derive(Template)]
#[template(path = "console/new_locker.html")]
pub(super) struct NewLockerPage {
    csrf: String,
    who: String,
    site_id: String,
    site_name: String,
    name: String,
    small: String,
    medium: String,
    large: String,
    chilled: String,
    error: Option<String>,
}

pub(super) fn new_locker_form(
    session: Session,
    site: SiteRow,
    form: NewLockerForm,
    error: Option<String>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut res = render(&NewLockerPage {
        csrf: session.csrf,
        who: session.who,
        site_id: site.id,
        site_name: site.name,
        name: form.name,
        small: form.small,
        medium: form.medium,
        large: form.large,
        chilled: form.chilled,
        error,
    });
    *res.status_mut() = status;
    res
}

pub(super) async fn new_locker_page(
    State(state): State<AppState>,
    session: Session,
    Path(site_id): Path<String>,
) -> Response {
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if session.caller.require(MANAGERS).is_err() {
        return not_found("page");
    }
    let defaults = NewLockerForm {
        small: "0".into(),
        medium: "0".into(),
        large: "0".into(),
        chilled: "0".into(),
        ..Default::default()
    };
    new_locker_form(session, site, defaults, None)
}

/// Compartments of the bank from the form's counts, labelled by size.
pub(super) fn compartments_of(form: &NewLockerForm) -> Result<Vec<NewCompartmentBody>, String> {
    let sizes = [
        (&form.small, "A", 80, None, "small"),
        (&form.medium, "B", 190, None, "medium"),
        (&form.large, "C", 410, None, "large"),
        (&form.chilled, "K", 190, Some("chilled"), "chilled"),
    ];
    let mut out = Vec::new();
    for (count, prefix, height, zone, what) in sizes {
        let n: u32 =
            match count.trim() {
                "" => 0,
                t => t.parse().ok().filter(|n| *n <= 500).ok_or_else(|| {
                    format!("The number of {what} compartments must be 0 to 500.")
                })?,
            };
        for i in 1..=n {
            out.push(NewCompartmentBody {
                label: format!("{prefix}{i:02}"),
                width_mm: 380,
                height_mm: height,
                depth_mm: 640,
                temperature: zone.map(str::to_string),
                height_above_floor_mm: None,
            });
        }
    }
    Ok(out)
}

pub(super) async fn create_locker(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(site_id): Path<String>,
    CsrfForm { session, form }: CsrfForm<Session, NewLockerForm>,
) -> Response {
    let site = match site_of(&state, &session, &site_id).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if session.caller.require(MANAGERS).is_err() {
        return not_found("page");
    }
    let compartments = match compartments_of(&form) {
        Ok(c) => c,
        Err(e) => return new_locker_form(session, site, form, Some(e)),
    };
    let body = NewLockerBody {
        name: form.name.clone(),
        compartments,
        carrier_quotas: None,
    };
    let locker = match new_locker(&state, site.id.clone(), body) {
        Ok(l) => l,
        Err(e) => return new_locker_form(session, site, form, Some(e.message)),
    };
    let id = locker.id.clone();
    let stored = add_locker(&state, locker).await;
    match stored {
        Ok(_) => Redirect::to(&format!("/console/lockers/{id}")).into_response(),
        Err(e) => new_locker_form(session, site, form, Some(e.message)),
    }
}
