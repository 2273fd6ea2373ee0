//! Courier screens for a handheld browser: sign in with the courier's token,
//! pick the locker, then one short form per parcel (scan or type the
//! tracking number, unit and name, pick the size) that deposits through the
//! same path as the API and says at once which door opened, or where to take
//! a parcel that fits nowhere here.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use cubby_domain::ids;
use cubby_domain::model::Role;
use cubby_store as db;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{CsrfForm, CsrfOnly};
use super::{
    Portal, Session, forbidden_form, not_found, random_hex, render, session_of, unavailable,
};
use crate::AppState;
use crate::app::{
    self,
    parcels::{DepositBody, RecipientBody},
};
use crate::auth::DEPOSITORS;
use crate::write::idempotency_key_of;
use cubby_domain::codes::Code;

pub(crate) const COURIER: Portal = Portal {
    cookie: "cubby_courier",
    path: "/courier",
    sign_in: "/courier/sign-in",
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/courier", get(lockers_page))
        .route("/courier/sign-in", get(sign_in_page).post(sign_in))
        .route("/courier/sign-out", post(sign_out))
        .route(
            "/courier/lockers/{locker_id}",
            get(deposit_page).post(deposit),
        )
}

/// A signed-in courier (or carrier depot).
struct CourierSession(Session);

impl super::FormSession for CourierSession {
    fn session(&self) -> &Session {
        &self.0
    }
    fn refused() -> Response {
        forbidden_form()
    }
}

impl axum::extract::FromRequestParts<AppState> for CourierSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let s = session_of(parts, state, &COURIER).await?;
        if s.caller.require(DEPOSITORS).is_err() {
            return Err(not_found("page"));
        }
        Ok(CourierSession(s))
    }
}

#[derive(Template)]
#[template(path = "courier/sign_in.html")]
struct SignInPage {
    error: Option<String>,
}

async fn sign_in_page() -> Response {
    render(&SignInPage { error: None })
}

#[derive(Deserialize)]
struct SignInForm {
    token: String,
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    source: crate::auth::Source,
    Form(form): Form<SignInForm>,
) -> Response {
    super::open_portal_session(
        &state,
        &headers,
        &source,
        &form.token,
        super::SignInRule {
            portal: &COURIER,
            allowed: |role| matches!(role, Role::Courier | Role::Carrier),
            refusal: "These screens are for couriers: sign in with your courier token.",
        },
        |error| render(&SignInPage { error: Some(error) }),
    )
    .await
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    _: CsrfForm<CourierSession, CsrfOnly>,
) -> Response {
    super::close_portal_session(&state, &headers, &COURIER).await
}

#[derive(Template)]
#[template(path = "courier/lockers.html")]
struct LockersPage {
    csrf: String,
    who: String,
    /// (locker id, locker name, site name)
    lockers: Vec<(String, String, String)>,
}

async fn lockers_page(
    State(state): State<AppState>,
    CourierSession(session): CourierSession,
) -> Response {
    let built: Result<Vec<(String, String, String)>, cubby_store::OpError> = async {
        let mut conn = state.store.reader().await?;
        let mut out = Vec::new();
        for site in db::tenants::sites(&mut conn, session.caller.org_id.as_deref()).await? {
            for l in db::lockers::lockers(&mut conn, &site.id).await? {
                out.push((l.id, l.name, site.name.clone()));
            }
        }
        Ok(out)
    }
    .await;
    match built {
        Ok(lockers) => render(&LockersPage {
            csrf: session.csrf,
            who: session.who,
            lockers,
        }),
        Err(e) => unavailable(e),
    }
}

/// What the last parcel came to.
struct Outcome {
    /// `opened` or `refused`
    kind: &'static str,
    headline: String,
    detail: Option<String>,
}

#[derive(Template)]
#[template(path = "courier/deposit.html")]
struct DepositPage {
    csrf: String,
    who: String,
    locker_id: String,
    locker: String,
    nonce: String,
    done: String,
    batch: Vec<String>,
    outcome: Option<Outcome>,
}

/// The locker, if it belongs to the courier's organisation.
async fn locker_of(
    state: &AppState,
    session: &Session,
    locker_id: &str,
) -> Result<db::lockers::LockerRow, Response> {
    if !ids::looks_like(ids::LOCKER, locker_id) {
        return Err(not_found("locker"));
    }
    let mut conn = state.store.reader().await.map_err(unavailable)?;
    let locker = db::lockers::locker(&mut conn, locker_id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| not_found("locker"))?;
    let site = db::tenants::site(&mut conn, &locker.site_id)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| not_found("locker"))?;
    if session.caller.sees_org(&site.org_id) {
        Ok(locker)
    } else {
        Err(not_found("locker"))
    }
}

fn page(
    session: Session,
    locker: db::lockers::LockerRow,
    done: String,
    outcome: Option<Outcome>,
) -> Response {
    let batch = done
        .split('|')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    render(&DepositPage {
        csrf: session.csrf,
        who: session.who,
        locker_id: locker.id,
        locker: locker.name,
        nonce: random_hex(),
        done,
        batch,
        outcome,
    })
}

async fn deposit_page(
    State(state): State<AppState>,
    CourierSession(session): CourierSession,
    Path(locker_id): Path<String>,
) -> Response {
    match locker_of(&state, &session, &locker_id).await {
        Ok(locker) => page(session, locker, String::new(), None),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct DepositForm {
    /// A fresh value per rendered form: sent as the Idempotency-Key, so a
    /// form submitted twice deposits once.
    nonce: String,
    #[serde(default)]
    done: String,
    tracking: String,
    unit: String,
    name: String,
    size: String,
}

/// Outer sizes the three size buttons stand for (mm).
fn dims_of(size: &str) -> Option<(u32, u32, u32)> {
    match size {
        "small" => Some((300, 70, 300)),
        "medium" => Some((300, 180, 300)),
        "large" => Some((300, 400, 300)),
        _ => None,
    }
}

async fn deposit(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(locker_id): Path<String>,
    CsrfForm {
        session: CourierSession(session),
        form,
    }: CsrfForm<CourierSession, DepositForm>,
) -> Response {
    let locker = match locker_of(&state, &session, &locker_id).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let Some((w, h, d)) = dims_of(&form.size) else {
        let outcome = Outcome {
            kind: "refused",
            headline: "Pick a size.".into(),
            detail: None,
        };
        return page(session, locker, form.done, Some(outcome));
    };
    let body = DepositBody {
        tracking_number: form.tracking.clone(),
        carrier: None,
        recipient: RecipientBody {
            resident_id: None,
            unit: Some(form.unit.clone()),
            name: Some(form.name.clone()),
        },
        width_mm: w,
        height_mm: h,
        depth_mm: d,
        weight_g: None,
        temperature: None,
        reservation_id: None,
    };
    // The same fields give the same fingerprint, so a resubmitted form is
    // answered from the idempotency record instead of depositing again.
    let fingerprint: [u8; 32] = Sha256::digest(
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            form.tracking, form.unit, form.name, form.size
        )
        .as_bytes(),
    )
    .into();
    let answer = match idempotency_key_of(&form.nonce, &session.caller, fingerprint) {
        Ok(key) => {
            app::parcels::deposit(&state, &session.caller, &locker.id, body, Some(key)).await
        }
        Err(e) => Err(e),
    };
    let mut done = form.done.clone();
    let outcome = match answer {
        Ok(done_now) => {
            let deposited = done_now.value;
            let label = deposited.compartment.label;
            done.push('|');
            done.push_str(&format!("{label}: {}", form.tracking.trim()));
            Outcome {
                kind: "opened",
                headline: format!("Door {label} is open: put the parcel in and close the door."),
                detail: (deposited.recipient_known == Some(false)).then(|| {
                    "The recipient is not on the list here: the manager will match the parcel."
                        .to_string()
                }),
            }
        }
        Err(e) if e.code == Code::NoCompartmentFits => {
            let places: Vec<String> = e
                .details
                .as_ref()
                .and_then(|d| d["overflow"].as_array())
                .map(|o| {
                    o.iter()
                        .filter_map(|p| {
                            let name = p["name"].as_str()?;
                            Some(match p["kind"].as_str() {
                                Some("parcel_room") => format!("the parcel room \"{name}\""),
                                _ => format!("the locker \"{name}\""),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            Outcome {
                kind: "refused",
                headline: "No compartment here fits this parcel.".into(),
                detail: Some(if places.is_empty() {
                    "Keep it on the van; nothing on this site can take it now.".into()
                } else {
                    format!("Take it to {}.", places.join(" or "))
                }),
            }
        }
        Err(e) => Outcome {
            kind: "refused",
            headline: e.message,
            detail: None,
        },
    };
    page(session, locker, done, Some(outcome))
}
