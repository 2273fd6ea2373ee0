//! API tokens: how long they live, which sites they act at, listing and
//! revoking them. A revoked or expired token is refused on its next request
//! on every instance: tokens are looked up in the database on every request,
//! never cached.

use cubby_domain::Millis;
use cubby_domain::ids;
use cubby_domain::model::Role;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::tokens::TokenLine;

use super::{AppResult, Changes, check_id, commit};
use crate::AppState;
use crate::auth::{Audit, Caller, MANAGERS};
use crate::error::ApiError;
use cubby_domain::audit::AuditAction;

const DAY_MS: Millis = 86_400_000;
/// The longest any token may live.
pub const MAX_LIFETIME_MS: Millis = 365 * DAY_MS;
/// Most sites one token may be scoped to.
pub const MAX_SITES: usize = 100;

/// How long a token of `role` lives when its issuer does not say: people's
/// tokens a quarter, carriers' integrations a year, a resident's a month.
pub fn default_lifetime_ms(role: Role) -> Millis {
    match role {
        Role::Carrier | Role::Courier => 365 * DAY_MS,
        Role::Resident => 30 * DAY_MS,
        _ => 90 * DAY_MS,
    }
}

/// When a new token stops working: as asked (in the future, at most a year
/// away) or the role's default.
pub fn expiry(role: Role, asked: Option<Millis>, now: Millis) -> AppResult<Millis> {
    match asked {
        None => Ok(now + default_lifetime_ms(role)),
        Some(at) if at > now && at - now <= MAX_LIFETIME_MS => Ok(at),
        Some(_) => Err(ApiError::invalid(
            "expires_at_ms",
            "must be in the future and at most 365 days away",
        )),
    }
}

/// The sites a new token is scoped to: each a site of its organisation.
pub async fn sites_in(
    state: &AppState,
    org_id: Option<&str>,
    site_ids: Option<Vec<String>>,
) -> AppResult<Option<Vec<String>>> {
    let Some(mut ids) = site_ids else {
        return Ok(None);
    };
    ids.sort();
    ids.dedup();
    if ids.is_empty() || ids.len() > MAX_SITES {
        return Err(ApiError::invalid(
            "site_ids",
            format!("give 1 to {MAX_SITES} sites, or none for every site"),
        ));
    }
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    for id in &ids {
        let found = if ids::looks_like(ids::SITE, id) {
            db::tenants::site(&mut conn, id).await?
        } else {
            None
        };
        if found.is_none_or(|s| Some(s.org_id.as_str()) != org_id) {
            return Err(ApiError::invalid(
                "site_ids",
                format!("{id} is not a site of the token's organisation"),
            ));
        }
    }
    Ok(Some(ids))
}

/// The tokens a manager may see: their organisation's (every one for an
/// admin). Never a secret.
pub async fn list(state: &AppState, caller: &Caller) -> AppResult<Vec<TokenLine>> {
    caller.require(MANAGERS)?;
    let org = match caller.role {
        Role::Admin => None,
        _ => Some(caller.org_id.as_deref().ok_or_else(ApiError::forbidden)?),
    };
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    Ok(db::tokens::tokens_of(&mut conn, org).await?)
}

/// The token `token_id` if the caller may manage it: one of their
/// organisation's (an admin: any); never an admin's token for a manager.
async fn managed_token(
    state: &AppState,
    caller: &Caller,
    token_id: &str,
) -> AppResult<db::tokens::TokenRow> {
    caller.require(MANAGERS)?;
    check_id(ids::TOKEN, token_id, "token")?;
    let target = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::tokens::token_row_by_id(&mut conn, token_id).await?
    }
    .filter(|t| t.org_id.as_deref().is_none_or(|org| caller.sees_org(org)))
    .filter(|t| t.org_id.is_some() || caller.role == Role::Admin)
    .ok_or_else(|| ApiError::not_found("token"))?;
    if target.role == Role::Admin && caller.role != Role::Admin {
        return Err(ApiError::forbidden());
    }
    // A scoped manager manages only tokens within their own sites.
    if let Some(mine) = &caller.site_ids
        && target
            .site_ids
            .as_ref()
            .is_none_or(|theirs| !theirs.iter().all(|s| mine.contains(s)))
    {
        return Err(ApiError::not_found("token"));
    }
    Ok(target)
}

/// Revokes a token the caller manages. Effective on that token's next
/// request, on every instance (tokens are never cached).
pub async fn revoke(state: &AppState, caller: &Caller, token_id: &str) -> AppResult<TokenLine> {
    let target = managed_token(state, caller, token_id).await?;
    let (id, now) = (target.id.clone(), crate::now_ms());
    let mut audit = Audit::new(
        caller,
        AuditAction::TokenRevoked,
        format!("token:{id}"),
        format!("{} token", target.role),
    );
    if let Some(org) = &target.org_id {
        audit = audit.in_org(org.clone());
    }
    commit(state, move |conn| {
        Box::pin(async move {
            let line = db::tokens::revoke_token(conn, &id, now)
                .await?
                .ok_or(OpError::NotFound { what: "token" })?;
            audit.record(conn, now).await?;
            Ok((line, Changes::none()))
        })
    })
    .await
}

/// A token issued in place of another: the new secret, shown once.
pub struct Rotated {
    pub token: String,
    pub line: TokenLine,
    pub replaces: String,
}

/// Rotates a live token: a new one with the same role, organisation,
/// carrier, binding, label and sites, living for its role's default (or
/// until `expires_at_ms`); the old one is revoked in the same transaction.
pub async fn rotate(
    state: &AppState,
    caller: &Caller,
    token_id: &str,
    expires_at_ms: Option<Millis>,
) -> AppResult<Rotated> {
    let old = managed_token(state, caller, token_id).await?;
    let now = crate::now_ms();
    if !old.live(now) {
        return Err(ApiError::new(
            cubby_domain::codes::Code::Conflict,
            "a revoked or expired token cannot be rotated: issue a new one",
        ));
    }
    let expires_ms = expiry(old.role, expires_at_ms, now)?;
    let secret = crate::new_api_token();
    let mac = crate::auth::token_mac(&state.secret, &secret);
    let new_id = crate::new_id(ids::TOKEN);
    let mut audit = Audit::new(
        caller,
        AuditAction::TokenRotated,
        format!("token:{}", old.id),
        format!("replaced by token:{new_id}"),
    );
    if let Some(org) = &old.org_id {
        audit = audit.in_org(org.clone());
    }
    let replaces = old.id.clone();
    let line = commit(state, move |conn| {
        Box::pin(async move {
            // Revoke first, and only a token that still works: a rotation
            // racing a revocation (or another rotation) mints nothing.
            if !db::tokens::revoke_live_token(conn, &old.id, now).await? {
                return Err(OpError::Conflict {
                    code: cubby_domain::codes::Code::Conflict,
                    message: "the token was revoked or expired meanwhile: issue a new one".into(),
                });
            }
            db::tokens::create_token(
                conn,
                &db::tokens::NewToken {
                    id: &new_id,
                    mac: &mac,
                    org_id: old.org_id.as_deref(),
                    role: old.role,
                    carrier: old.carrier.as_deref(),
                    label: &old.label,
                    expires_ms: Some(expires_ms),
                    site_ids: old.site_ids.as_deref(),
                },
                now,
            )
            .await?;
            db::tokens::bind_token(
                conn,
                &new_id,
                old.resident_id.as_deref(),
                old.courier_id.as_deref(),
            )
            .await?;
            // Staff keep their passkeys (their second factor) across a rotation.
            if matches!(old.role, Role::Admin | Role::Manager | Role::Concierge) {
                db::passkeys::move_staff_passkeys(conn, &old.id, &new_id).await?;
            }
            audit.record(conn, now).await?;
            let line = db::tokens::token(conn, &new_id)
                .await?
                .ok_or(OpError::NotFound { what: "token" })?;
            Ok((line, Changes::none()))
        })
    })
    .await?;
    Ok(Rotated {
        token: secret,
        line,
        replaces,
    })
}
