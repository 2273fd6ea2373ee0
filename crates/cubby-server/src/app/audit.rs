//! Reading the security audit log back: admins see the whole installation,
//! managers their organisation's events (authentication failures of unknown
//! callers belong to no organisation: admins only).

use cubby_domain::audit::{AuditAction, AuditEvent};
use cubby_domain::model::Role;
use cubby_store as db;
use cubby_store::OpError;

use super::AppResult;
use crate::AppState;
use crate::auth::{Caller, MANAGERS};
use crate::error::ApiError;

/// Which events, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub since_ms: Option<i64>,
    pub action: Option<String>,
    /// At most this many (default 200, at most 1000).
    pub limit: Option<i64>,
}

pub async fn events(
    state: &AppState,
    caller: &Caller,
    filter: AuditFilter,
) -> AppResult<Vec<AuditEvent>> {
    caller.require(MANAGERS)?;
    if let Some(a) = &filter.action
        && AuditAction::parse(a).is_none()
    {
        return Err(ApiError::invalid(
            "action",
            format!("{a:?} is not an audited action"),
        ));
    }
    let limit = filter.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 1000"));
    }
    // Events are kept per organisation: a manager scoped to some sites of it
    // would see the others' (their remote opens, grants and sources).
    if caller.site_ids.is_some() {
        return Err(ApiError::forbidden());
    }
    let org_id = match caller.role {
        Role::Admin => None,
        _ => Some(caller.org_id.clone().ok_or_else(ApiError::forbidden)?),
    };
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    Ok(db::audit::events(
        &mut conn,
        &db::audit::AuditQuery {
            since_ms: filter.since_ms,
            action: filter.action,
            org_id,
            limit,
        },
    )
    .await?)
}
