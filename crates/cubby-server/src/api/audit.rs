//! The security audit log, read back (admins: the whole installation;
//! managers: their organisation's events).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::write::QueryParams;
use crate::{AppState, app};

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only events at or after this instant.
    pub since_ms: Option<i64>,
    /// Only this action (`auth.failed`, `token.issued`, `remote_open`, …).
    pub action: Option<String>,
    /// At most this many, newest first (default 200, at most 1000).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEventView {
    pub seq: i64,
    pub at_ms: i64,
    pub action: String,
    /// Pseudonymous: a role and token id, `anonymous` or `system`.
    pub actor: String,
    /// The peer address the request came from.
    pub source: String,
    pub target: String,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEvents {
    pub events: Vec<AuditEventView>,
}

/// Security audit events, newest first: authentication failures, tokens
/// issued and revoked, remote opens, grants, policy, door, device and webhook
/// changes. Verify the chain with `cubby audit verify`.
#[utoipa::path(get, path = "/api/v1/audit-events", params(AuditQuery),
    responses((status = 200, body = AuditEvents), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_audit_events(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<Json<AuditEvents>> {
    let events = app::audit::events(
        &state,
        &caller,
        app::audit::AuditFilter {
            since_ms: q.since_ms,
            action: q.action,
            limit: q.limit,
        },
    )
    .await?;
    Ok(Json(AuditEvents {
        events: events
            .into_iter()
            .map(|e| AuditEventView {
                seq: e.seq,
                at_ms: e.at_ms,
                action: e.action,
                actor: e.actor,
                source: e.source,
                target: e.target,
                reason: e.reason,
            })
            .collect(),
    }))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_events))
}
