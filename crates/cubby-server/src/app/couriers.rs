//! Carriers and their couriers: carrier codes, who may manage a carrier's
//! courier accounts, and opening one (a personal token, shown once).

use cubby_domain::audit::AuditAction;
use cubby_domain::codes::Code;
use cubby_domain::ids;
use cubby_domain::model::{Role, clean_text};
use cubby_domain::tracking::TrackingNumber;
use cubby_store as db;
use cubby_store::{AnyConnection, OpError};
use serde::Serialize;
use utoipa::ToSchema;

use super::{AppResult, Changes, check_id};
use crate::auth::{Audit, Caller, MANAGERS, token_mac};
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

/// The courier account a new courier pass is for: a courier's own token is
/// bound to itself; carrier and staff tokens name one of the carrier's
/// couriers. One pass, one courier, one visit.
pub async fn pass_holder(
    state: &AppState,
    caller: &Caller,
    carrier: &str,
    courier_id: Option<&str>,
) -> AppResult<String> {
    // A courier token issued without an account speaks for no courier.
    if caller.role == Role::Courier && caller.courier_id.is_none() {
        return Err(ApiError::new(
            Code::PersonalCourierTokenRequired,
            "courier passes are issued to a courier's own account token",
        ));
    }
    match (&caller.courier_id, courier_id) {
        (Some(own), Some(given)) if own != given => Err(ApiError::invalid(
            "courier_id",
            "a courier's token issues passes for that courier only",
        )),
        (Some(own), _) => Ok(own.clone()),
        (None, None) => Err(ApiError::invalid(
            "courier_id",
            "say which courier the pass is for (a pass is bound to one courier and one visit)",
        )),
        (None, Some(given)) => {
            check_id(ids::COURIER, given, "courier_id")?;
            let mut conn = state.store.reader().await.map_err(OpError::from)?;
            let courier = db::couriers::courier(&mut conn, given)
                .await?
                .filter(|c| caller.sees_org(&c.org_id))
                .ok_or_else(|| ApiError::not_found("courier"))?;
            if courier.carrier != carrier {
                return Err(ApiError::invalid(
                    "courier_id",
                    "the courier works for another carrier",
                ));
            }
            Ok(courier.id)
        }
    }
}

/// Refuses a carrier the site has not enabled.
pub async fn require_enabled(state: &AppState, site_id: &str, carrier: &str) -> AppResult<()> {
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    if db::couriers::is_enabled_at_site(&mut conn, site_id, carrier).await? {
        Ok(())
    } else {
        Err(carrier_not_enabled(carrier))
    }
}

fn carrier_not_enabled(carrier: &str) -> ApiError {
    ApiError::new(
        Code::CarrierNotEnabled,
        format!("carrier {carrier} is not enabled at this site: a manager enables it first"),
    )
}

/// Whether a carrier-side caller may deposit this parcel, decided inside the
/// deposit's transaction: its carrier is enabled at the site, and the parcel
/// was pre-advised for that carrier (unless the site's policy allows
/// unannounced carrier deposits). Staff deposits are not limited here.
pub async fn authorise_carrier_deposit(
    conn: &mut AnyConnection,
    site_id: &str,
    carrier: &str,
    tracking: &TrackingNumber,
) -> Result<(), OpError> {
    if !db::couriers::is_enabled_at_site(conn, site_id, carrier).await? {
        return Err(OpError::Conflict {
            code: Code::CarrierNotEnabled,
            message: format!("carrier {carrier} is not enabled at this site"),
        });
    }
    let announced = db::parcels::announced_parcel(conn, site_id, tracking).await?;
    if announced.is_some_and(|p| p.carrier.as_deref() == Some(carrier)) {
        return Ok(());
    }
    let (_, policy) = db::schedule::site_policy(conn, site_id).await?;
    if policy.allow_unannounced_carrier_deposits {
        return Ok(());
    }
    Err(OpError::Conflict {
        code: Code::NotPreAdvised,
        message: "this parcel was not pre-advised for your carrier at this site \
                  (POST /api/v1/sites/{site_id}/announcements first)"
            .into(),
    })
}

/// The carriers a site lets deposit.
#[derive(Serialize, ToSchema)]
pub struct SiteCarrier {
    pub carrier: String,
    pub enabled_at_ms: i64,
}

#[derive(Serialize, ToSchema)]
pub struct SiteCarriers {
    pub site_id: String,
    pub carriers: Vec<SiteCarrier>,
    /// From the site's policy: whether enabled carriers may also deposit
    /// parcels they did not pre-advise.
    pub allow_unannounced_carrier_deposits: bool,
}

pub async fn site_carriers(
    state: &AppState,
    caller: &Caller,
    site_id: &str,
) -> AppResult<SiteCarriers> {
    caller.require(crate::auth::STAFF)?;
    let site = super::places::site_for(state, caller, site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let carriers = db::couriers::enabled_at_site(&mut conn, &site.id).await?;
    let (_, policy) = db::schedule::site_policy(&mut conn, &site.id).await?;
    Ok(SiteCarriers {
        site_id: site.id,
        carriers: carriers
            .into_iter()
            .map(|(carrier, enabled_at_ms)| SiteCarrier {
                carrier,
                enabled_at_ms,
            })
            .collect(),
        allow_unannounced_carrier_deposits: policy.allow_unannounced_carrier_deposits,
    })
}

/// Enables (or, with `enabled: false`, disables) a carrier at a site: a
/// security setting, so a manager's, audited.
pub async fn set_site_carrier(
    state: &AppState,
    caller: &Caller,
    site_id: &str,
    carrier: &str,
    enabled: bool,
) -> AppResult<SiteCarriers> {
    caller.require(MANAGERS)?;
    let site = super::places::site_for(state, caller, site_id).await?;
    let carrier = carrier_code(carrier)?;
    let (sid, code, actor, now) = (site.id.clone(), carrier.clone(), caller.actor(), now_ms());
    let audit = Audit::new(
        caller,
        if enabled {
            AuditAction::CarrierEnabled
        } else {
            AuditAction::CarrierDisabled
        },
        format!("site:{}/carrier:{carrier}", site.id),
        if enabled {
            "may deposit"
        } else {
            "may no longer deposit"
        },
    )
    .in_org(site.org_id.clone());
    // Disabling revokes the carrier's passes at the site's lockers, and
    // every locker learns it (pre-advised parcels and passes leave its cache).
    let changed = super::commit(state, move |conn| {
        Box::pin(async move {
            let changed = if enabled {
                db::couriers::enable_at_site(conn, &sid, &code, &actor, now).await?;
                Some(Vec::new())
            } else {
                db::couriers::disable_at_site(conn, &sid, &code).await?
            };
            if changed.is_some() {
                audit.record(conn, now).await?;
            }
            let changes = match &changed {
                Some(_) => Changes::site(sid.clone()),
                None => Changes::none(),
            };
            Ok((changed.is_some(), changes))
        })
    })
    .await?;
    if !enabled && !changed {
        return Err(ApiError::not_found("carrier at this site"));
    }
    site_carriers(state, caller, &site.id).await
}

/// Closes a courier account of a carrier the caller manages: its token,
/// passes and visit PINs stop at once (the lockers learn it), and its name
/// is deleted. Audited.
pub async fn close_courier_account(
    state: &AppState,
    caller: &Caller,
    courier_id: &str,
) -> AppResult<()> {
    caller.require(MANAGERS)?;
    check_id(ids::COURIER, courier_id, "courier")?;
    let courier = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::couriers::courier(&mut conn, courier_id)
            .await?
            .filter(|c| caller.sees_org(&c.org_id))
            .ok_or_else(|| ApiError::not_found("courier"))?
    };
    let audit = Audit::new(
        caller,
        AuditAction::TokenRevoked,
        format!("courier:{}", courier.id),
        "courier account closed",
    )
    .in_org(courier.org_id.clone());
    super::commit(state, move |conn| {
        Box::pin(async move {
            let now = now_ms();
            let lockers = db::couriers::close_courier_account(conn, &courier.id, now).await?;
            audit.record(conn, now).await?;
            let changes = lockers
                .into_iter()
                .fold(Changes::none(), |c, l| c.and_locker(l));
            Ok(((), changes))
        })
    })
    .await
}

/// Renames a carrier of the caller's organisation (managers).
pub async fn rename_carrier(
    state: &AppState,
    caller: &Caller,
    carrier_id: &str,
    name: &str,
) -> AppResult<db::couriers::CarrierRow> {
    caller.require(MANAGERS)?;
    let carrier = carrier_for(state, caller, carrier_id).await?;
    let name = clean_text("name", name, 200)?;
    super::commit(state, move |conn| {
        Box::pin(async move {
            let row = db::couriers::rename_carrier(conn, &carrier.id, &name).await?;
            Ok((row, Changes::none()))
        })
    })
    .await
}
