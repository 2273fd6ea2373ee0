//! Locker banks and their compartments; keypad review and code re-issue.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cubby_domain::allocation::CarrierQuotas;
use cubby_domain::codes::Code;
use cubby_domain::credentials::{keypad_code_mac, new_keypad_code};
use cubby_domain::dims::Dimensions;
use cubby_domain::ids;
use cubby_domain::model::{CompartmentStatus, TemperatureZone, clean_text};
use cubby_protocol::cache::{CredentialKind, local_credential_mac};
use cubby_store::OpError;
use cubby_store::ops::{self, NewCompartment, NewLocker};
use cubby_store::queries::{self, CompartmentRow, LockerRow, SiteRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::check_id;
use super::sites::site_for;
use crate::auth::{Caller, MANAGERS, STAFF};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::{JsonBody, idempotency_key, write_json};
use crate::{AppState, new_id, now_ms, os_rng};

/// Loads a locker the caller may see, with its site.
pub(crate) async fn locker_for(
    state: &AppState,
    caller: &Caller,
    locker_id: &str,
) -> ApiResult<(LockerRow, SiteRow)> {
    check_id(ids::LOCKER, locker_id, "locker")?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let locker = queries::locker(&mut conn, locker_id)
        .await?
        .ok_or_else(|| ApiError::not_found("locker"))?;
    drop(conn);
    let site = site_for(state, caller, &locker.site_id)
        .await
        .map_err(|_| ApiError::not_found("locker"))?;
    Ok((locker, site))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompartmentBody {
    /// Printed on the door, unique in the locker (e.g. `A01`).
    pub label: String,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    /// ambient (default), chilled or frozen.
    pub temperature: Option<String>,
    /// Height of the compartment floor above the ground (default 1000 mm).
    pub height_above_floor_mm: Option<u32>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLockerBody {
    pub name: String,
    pub compartments: Vec<NewCompartmentBody>,
    /// Most compartments each carrier code may hold at once, e.g. `{"dhl": 20}`.
    pub carrier_quotas: Option<std::collections::BTreeMap<String, u32>>,
}

#[derive(Serialize, ToSchema)]
pub struct Compartment {
    pub id: String,
    pub label: String,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    /// a, b, c or d (InPost-like, by the smallest inner side).
    pub size_class: String,
    pub temperature: String,
    pub height_above_floor_mm: u32,
    /// What the manager set: available, reserved or out_of_service.
    pub status: String,
    /// What it is now: available, reserved, occupied or out_of_service.
    pub state: String,
}

impl From<CompartmentRow> for Compartment {
    fn from(c: CompartmentRow) -> Self {
        Compartment {
            id: c.id,
            label: c.label,
            width_mm: c.width_mm,
            height_mm: c.height_mm,
            depth_mm: c.depth_mm,
            size_class: c.size_class,
            temperature: c.temperature.to_string(),
            height_above_floor_mm: c.height_above_floor_mm,
            status: c.status.to_string(),
            state: c.state.to_string(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Locker {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub carrier_quotas: std::collections::BTreeMap<String, u32>,
    pub compartments: Vec<Compartment>,
}

fn locker_dto(l: LockerRow, compartments: Vec<CompartmentRow>) -> Locker {
    Locker {
        id: l.id,
        site_id: l.site_id,
        name: l.name,
        carrier_quotas: l.carrier_quotas,
        compartments: compartments.into_iter().map(Compartment::from).collect(),
    }
}

/// Add a locker bank with its compartments.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/lockers", params(("site_id" = String, Path)), request_body = NewLockerBody,
    responses((status = 201, body = Locker), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_locker(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewLockerBody>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let locker = new_locker(&state, site.id, body.value)?;
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let now = now_ms();
    write_json(&state, key, StatusCode::CREATED, move |conn| {
        Box::pin(async move {
            let (l, c) = ops::create_locker(conn, &locker, now).await?;
            Ok(locker_dto(l, c))
        })
    })
    .await
}

/// A locker bank to store from a request, every compartment checked.
pub(crate) fn new_locker(
    state: &AppState,
    site_id: String,
    req: NewLockerBody,
) -> ApiResult<NewLocker> {
    let max = state.policies.max_compartments_per_locker as usize;
    if req.compartments.is_empty() || req.compartments.len() > max {
        return Err(ApiError::invalid(
            "compartments",
            format!(
                "a locker has 1 to {max} compartments (the keypad code policy is sized for that many live codes)"
            ),
        ));
    }
    let mut labels = std::collections::BTreeSet::new();
    let mut compartments = Vec::with_capacity(req.compartments.len());
    for c in &req.compartments {
        let label = clean_text("compartments.label", &c.label, 20)?;
        if !labels.insert(label.clone()) {
            return Err(ApiError::invalid(
                "compartments.label",
                format!("{label:?} appears twice"),
            ));
        }
        let inner = Dimensions::new(c.width_mm, c.height_mm, c.depth_mm);
        if !inner.is_valid() {
            return Err(ApiError::invalid(
                "compartments",
                format!("{label}: every side must be 1 to 3000 mm"),
            ));
        }
        let temperature = c
            .temperature
            .as_deref()
            .map(str::parse::<TemperatureZone>)
            .transpose()?
            .unwrap_or(TemperatureZone::Ambient);
        let height = c.height_above_floor_mm.unwrap_or(1000);
        if height > 3000 {
            return Err(ApiError::invalid(
                "compartments.height_above_floor_mm",
                "must be at most 3000",
            ));
        }
        compartments.push(NewCompartment {
            id: new_id(ids::COMPARTMENT),
            label,
            inner,
            temperature,
            height_above_floor_mm: height,
        });
    }
    let mut quotas = CarrierQuotas::new();
    for (carrier, limit) in req.carrier_quotas.unwrap_or_default() {
        quotas.insert(super::admin::carrier_code(&carrier)?, limit);
    }
    Ok(NewLocker {
        id: new_id(ids::LOCKER),
        site_id,
        name: clean_text("name", &req.name, 200)?,
        carrier_quotas: quotas,
        compartments,
    })
}

/// List a site's lockers with live compartment state.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/lockers", params(("site_id" = String, Path)),
    responses((status = 200, body = Vec<Locker>), (status = 404, body = ErrorBody)))]
pub async fn list_lockers(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<Json<Vec<Locker>>> {
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let mut out = Vec::new();
    for l in queries::lockers(&mut conn, &site.id).await? {
        let c = queries::compartments(&mut conn, &l.id).await?;
        out.push(locker_dto(l, c));
    }
    Ok(Json(out))
}

/// Get a locker with live compartment state.
#[utoipa::path(get, path = "/api/v1/lockers/{locker_id}", params(("locker_id" = String, Path)),
    responses((status = 200, body = Locker), (status = 404, body = ErrorBody)))]
pub async fn get_locker(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
) -> ApiResult<Json<Locker>> {
    caller.require(STAFF)?;
    let (locker, _) = locker_for(&state, &caller, &locker_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let c = queries::compartments(&mut conn, &locker.id).await?;
    Ok(Json(locker_dto(locker, c)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    /// available, reserved or out_of_service.
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct Done {
    pub ok: bool,
}

/// Set a compartment's status (take it out of service, reserve it, or make it available).
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/compartments/{compartment_id}/status",
    params(("locker_id" = String, Path), ("compartment_id" = String, Path)), request_body = StatusBody,
    responses((status = 200, body = Done), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn set_compartment_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((locker_id, compartment_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: JsonBody<StatusBody>,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    let (locker, _) = locker_for(&state, &caller, &locker_id).await?;
    check_id(ids::COMPARTMENT, &compartment_id, "compartment")?;
    let status: CompartmentStatus = body.value.status.parse()?;
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let locker_id = locker.id.clone();
    let answer = write_json(&state, key, StatusCode::OK, move |conn| {
        Box::pin(async move {
            ops::set_compartment_status(conn, &locker.id, &compartment_id, status).await?;
            Ok(Done { ok: true })
        })
    })
    .await;
    // The locker chooses doors for courier deposits from its free list.
    state.devices.locker_changed(&locker_id);
    answer
}

/// Staff review of a keypad disabled after too many wrong codes: accept codes again.
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/keypad/reset", params(("locker_id" = String, Path)),
    responses((status = 200, body = Done), (status = 404, body = ErrorBody)))]
pub async fn reset_keypad(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    let (locker, _) = locker_for(&state, &caller, &locker_id).await?;
    let key = idempotency_key(&headers, &caller, [0; 32])?;
    write_json(&state, key, StatusCode::OK, move |conn| {
        Box::pin(async move {
            ops::reset_keypad(conn, &locker.id).await?;
            Ok(Done { ok: true })
        })
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct ReissuedCode {
    pub resident_id: String,
    pub locker_id: String,
    /// A message with the new code is queued for the resident; the old code stops working now.
    pub notified: bool,
}

/// Replace a resident's keypad code at a locker; the new code is sent to them, never returned here.
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/residents/{resident_id}/code",
    params(("locker_id" = String, Path), ("resident_id" = String, Path)),
    responses((status = 200, body = ReissuedCode), (status = 404, body = ErrorBody)))]
pub async fn reissue_code(
    State(state): State<AppState>,
    caller: Caller,
    Path((locker_id, resident_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    let (locker, site) = locker_for(&state, &caller, &locker_id).await?;
    check_id(ids::RESIDENT, &resident_id, "resident")?;
    let key = idempotency_key(&headers, &caller, [1; 32])?;
    let secret = state.secret.clone();
    let digits = state.policies.code_digits;
    let mut last = None;
    for _ in 0..3 {
        let code = new_keypad_code(digits, &mut os_rng());
        let mac = keypad_code_mac(&secret, &locker.id, &code);
        let local_mac = local_credential_mac(
            &crate::devices::locker_credential_key(&secret, &locker.id),
            CredentialKind::Keypad,
            &code,
        );
        let (locker, site, resident_id) = (locker.clone(), site.clone(), resident_id.clone());
        let cred_id = new_id(ids::CREDENTIAL);
        let msg_id = new_id(ids::MESSAGE);
        let now = now_ms();
        let result = write_json(&state, key.clone(), StatusCode::OK, move |conn| {
            Box::pin(async move {
                let resident = ops::reissue_code(
                    conn,
                    &locker.id,
                    &resident_id,
                    &cred_id,
                    (&mac, &local_mac),
                    now,
                )
                .await?;
                let msg =
                    super::parcels::code_message(msg_id, &site, &locker, &resident, &code, None);
                ops::enqueue(conn, &msg, now).await?;
                Ok(ReissuedCode {
                    resident_id: resident.id,
                    locker_id: locker.id,
                    notified: true,
                })
            })
        })
        .await;
        match result {
            Err(e) if e.code == Code::CredentialCollision => last = Some(e),
            other => {
                // The old code must leave the locker's cache now.
                state.devices.locker_changed(&locker_id);
                return other;
            }
        }
    }
    Err(last.unwrap_or_else(|| ApiError::new(Code::Unavailable, "retry")))
}
