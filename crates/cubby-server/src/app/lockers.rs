//! Locker banks: a bank and its compartments, every field checked, stored
//! in one transaction.

use axum::http::StatusCode;
use cubby_domain::allocation::CarrierQuotas;
use cubby_domain::dims::Dimensions;
use cubby_domain::ids;
use cubby_domain::model::{TemperatureZone, clean_text};
use cubby_store as db;
use cubby_store::idempotency::IdempotencyKey;
use cubby_store::lockers::CompartmentRow;
use cubby_store::lockers::LockerRow;
use cubby_store::lockers::NewCompartment;
use cubby_store::lockers::NewLocker;
use cubby_store::tenants::SiteRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::credentials::{fresh_keypad_code, retrying};
use super::notices::code_message;
use super::{AppResult, Changes, Committed, commit, commit_idempotent};
use crate::auth::{Caller, MANAGERS};
use crate::error::ApiError;
use crate::{AppState, new_id, now_ms};

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

/// A locker bank to store from a request, every compartment checked.
pub fn new_locker(state: &AppState, site_id: String, req: NewLockerBody) -> AppResult<NewLocker> {
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
        quotas.insert(crate::app::couriers::carrier_code(&carrier)?, limit);
    }
    Ok(NewLocker {
        id: new_id(ids::LOCKER),
        site_id,
        name: clean_text("name", &req.name, 200)?,
        carrier_quotas: quotas,
        compartments,
    })
}

/// Stores a checked locker bank.
pub async fn add_locker(
    state: &AppState,
    locker: NewLocker,
) -> AppResult<(LockerRow, Vec<CompartmentRow>)> {
    let now = now_ms();
    commit(state, move |conn| {
        Box::pin(async move {
            let stored = db::lockers::create_locker(conn, &locker, now).await?;
            Ok((stored, Changes::none()))
        })
    })
    .await
}

/// An edit of a locker: what is given changes, the rest stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockerPatch {
    /// The version you read (`GET /api/v1/lockers/{locker_id}`).
    pub version: i64,
    pub name: Option<String>,
    /// Most compartments each carrier may occupy at once (replaces them all;
    /// `{}` removes every quota).
    pub carrier_quotas: Option<std::collections::BTreeMap<String, u32>>,
    /// Where it stands on the site plan, in metres from any fixed corner:
    /// a full locker offers the nearest places first.
    pub plan_position: Option<PlanPositionBody>,
}

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy, Debug)]
#[serde(deny_unknown_fields)]
pub struct PlanPositionBody {
    pub x_m: i64,
    pub y_m: i64,
}

/// Renames a locker or replaces its quotas, if nobody edited it since the
/// caller read it (`edit_conflict` otherwise).
pub async fn edit_locker(
    state: &AppState,
    caller: &Caller,
    locker_id: &str,
    patch: LockerPatch,
) -> AppResult<(LockerRow, Vec<CompartmentRow>)> {
    caller.require(MANAGERS)?;
    let (locker, _) = super::places::locker_for(state, caller, locker_id).await?;
    let name = patch
        .name
        .as_deref()
        .map(|n| clean_text("name", n, 200))
        .transpose()?;
    let quotas = match patch.carrier_quotas {
        Some(given) => {
            let mut quotas = CarrierQuotas::new();
            for (carrier, limit) in given {
                quotas.insert(crate::app::couriers::carrier_code(&carrier)?, limit);
            }
            Some(quotas)
        }
        None => None,
    };
    let plan_position = match patch.plan_position {
        Some(p) if p.x_m.abs() > 100_000 || p.y_m.abs() > 100_000 => {
            return Err(crate::error::ApiError::invalid(
                "plan_position",
                "metres within 100 km of the plan's corner",
            ));
        }
        Some(p) => Some(cubby_domain::overflow::PlanPosition {
            x_m: p.x_m,
            y_m: p.y_m,
        }),
        None => None,
    };
    let (id, version) = (locker.id.clone(), patch.version);
    commit(state, move |conn| {
        Box::pin(async move {
            let (l, _) = db::lockers::edit_locker(
                conn,
                &id,
                version,
                name.as_deref(),
                quotas.as_ref(),
                plan_position,
            )
            .await?;
            let c = db::lockers::compartments(conn, &id).await?;
            // Quotas shape where couriers are let in: the locker hears now.
            Ok(((l, c), Changes::locker(id.clone())))
        })
    })
    .await
}

/// Takes a compartment out of service (with why), reserves it, or makes it
/// available again; the locker hears at once (it picks doors for couriers).
pub async fn set_compartment_status(
    state: &AppState,
    caller: &Caller,
    locker_id: &str,
    compartment_id: &str,
    status: &str,
    reason: Option<&str>,
    key: Option<IdempotencyKey>,
) -> AppResult<Committed<super::Done>> {
    caller.require(crate::auth::STAFF)?;
    let (locker, _) = super::places::locker_for(state, caller, locker_id).await?;
    super::check_id(ids::COMPARTMENT, compartment_id, "compartment")?;
    let status: cubby_domain::model::CompartmentStatus = status.parse()?;
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| clean_text("reason", r, 200))
        .transpose()?;
    let compartment_id = compartment_id.to_string();
    commit_idempotent(state, key, StatusCode::OK, move |conn| {
        Box::pin(async move {
            db::lockers::set_compartment_status(
                conn,
                &locker.id,
                &compartment_id,
                status,
                reason.as_deref(),
            )
            .await?;
            Ok((super::Done { ok: true }, Changes::locker(locker.id)))
        })
    })
    .await
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReissuedCode {
    pub resident_id: String,
    pub locker_id: String,
    /// A message with the new code is queued for the resident; the old code stops working now.
    pub notified: bool,
}

/// Replaces a resident's keypad code at a locker; the new code goes to them
/// in a message, and the old one leaves the locker's cache at once.
pub async fn reissue_code(
    state: &AppState,
    locker: &LockerRow,
    site: &SiteRow,
    resident_id: &str,
    key: Option<IdempotencyKey>,
) -> AppResult<Committed<ReissuedCode>> {
    retrying(
        || fresh_keypad_code(state, &locker.id),
        |fresh| {
            let (locker, site, resident_id) =
                (locker.clone(), site.clone(), resident_id.to_string());
            let cred_id = new_id(ids::CREDENTIAL);
            let msg_id = new_id(ids::MESSAGE);
            let now = now_ms();
            commit_idempotent(state, key.clone(), StatusCode::OK, move |conn| {
                Box::pin(async move {
                    let resident = db::parcels::reissue_code(
                        conn,
                        &locker.id,
                        &resident_id,
                        &cred_id,
                        (&fresh.mac, &fresh.local_mac),
                        now,
                    )
                    .await?;
                    let msg = code_message(msg_id, &site, &locker, &resident, &fresh.code, None);
                    db::outbox::enqueue(conn, &msg, now).await?;
                    Ok((
                        ReissuedCode {
                            resident_id: resident.id,
                            locker_id: locker.id.clone(),
                            notified: true,
                        },
                        Changes::locker(locker.id),
                    ))
                })
            })
        },
    )
    .await
}
