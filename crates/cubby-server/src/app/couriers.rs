//! Carriers and their couriers: carrier codes, who may manage a carrier's
//! courier accounts, and opening one (a personal token, shown once).

use cubby_domain::ids;
use cubby_domain::model::{Role, clean_text};
use cubby_store as db;
use cubby_store::OpError;
use serde::Serialize;
use utoipa::ToSchema;

use super::{AppResult, check_id};
use crate::auth::{Caller, MANAGERS, token_mac};
use crate::error::ApiError;
use crate::{AppState, new_api_token, new_id, now_ms};

/// Carrier codes: lower-case letters, digits and dashes, 1–32 long (`dhl`, `inpost`).
pub fn carrier_code(raw: &str) -> AppResult<String> {
    let code = raw.trim().to_ascii_lowercase();
    if (1..=32).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Ok(code)
    } else {
        Err(ApiError::invalid(
            "carrier",
            "must be 1 to 32 letters, digits or dashes",
        ))
    }
}

#[derive(Serialize, ToSchema)]
pub struct IssuedCourier {
    pub courier_id: String,
    pub carrier: String,
    pub name: String,
    /// The courier's personal bearer token (role courier). Shown once.
    pub token: String,
}

/// The carrier, if the caller may manage its couriers: a manager of its
/// organisation, or a carrier token of the same carrier.
pub async fn carrier_for(
    state: &AppState,
    caller: &Caller,
    carrier_id: &str,
) -> AppResult<db::couriers::CarrierRow> {
    check_id(ids::CARRIER, carrier_id, "carrier")?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let carrier = db::couriers::carrier(&mut conn, carrier_id)
        .await?
        .filter(|c| caller.sees_org(&c.org_id))
        .ok_or_else(|| ApiError::not_found("carrier"))?;
    let allowed = match caller.role {
        Role::Admin | Role::Manager => true,
        Role::Carrier => caller.carrier.as_deref() == Some(carrier.code.as_str()),
        _ => false,
    };
    if allowed {
        Ok(carrier)
    } else {
        Err(ApiError::forbidden())
    }
}

/// A courier account of a carrier with its personal token (shown once).
pub async fn open_courier_account(
    state: &AppState,
    carrier: db::couriers::CarrierRow,
    name: &str,
) -> AppResult<IssuedCourier> {
    let name = clean_text("name", name, 120)?;
    let courier_id = new_id(ids::COURIER);
    let token = new_api_token();
    let mac = token_mac(&state.secret, &token);
    let token_id = new_id(ids::TOKEN);
    let now = now_ms();
    let expires_ms = super::tokens::expiry(Role::Courier, None, now)?;
    let (cid, cname, code, org) = (
        courier_id.clone(),
        name.clone(),
        carrier.code.clone(),
        carrier.org_id.clone(),
    );
    let carrier_row_id = carrier.id.clone();
    state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::couriers::add_courier(conn, &cid, &carrier_row_id, &cname, now).await?;
                db::tokens::create_token(
                    conn,
                    &db::tokens::NewToken {
                        id: &token_id,
                        mac: &mac,
                        org_id: Some(&org),
                        role: Role::Courier,
                        carrier: Some(&code),
                        label: &format!("courier {cname}"),
                        expires_ms: Some(expires_ms),
                        site_ids: None,
                    },
                    now,
                )
                .await?;
                db::tokens::bind_token(conn, &token_id, None, Some(&cid)).await
            })
        })
        .await?;
    Ok(IssuedCourier {
        courier_id,
        carrier: carrier.code,
        name,
        token,
    })
}

/// The carriers a manager works with: their organisation's (every
/// organisation's for an admin).
pub async fn carriers_for(
    state: &AppState,
    caller: &Caller,
) -> AppResult<Vec<db::couriers::CarrierRow>> {
    caller.require(MANAGERS)?;
    let org = match caller.role {
        Role::Admin => None,
        _ => Some(caller.org_id.as_deref().ok_or_else(ApiError::forbidden)?),
    };
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    Ok(db::couriers::carriers(&mut conn, org).await?)
}
