//! Incidents as a workflow: staff read one, acknowledge it, assign it to a
//! colleague's token, comment, and resolve it with a reason. Every step is
//! taken under the incident's row lock and recorded, with actor and time,
//! in the security audit log.

use cubby_domain::audit::AuditAction;
use cubby_domain::ids;
use cubby_domain::incident::clean_note;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::incidents::{CommentRow, IncidentRow, IncidentStep};

use super::places::site_for;
use super::{AppResult, Changes, check_id, commit};
use crate::auth::{Audit, Caller, STAFF};
use crate::error::ApiError;
use crate::{AppState, new_id, now_ms};

/// Comment ids.
const COMMENT: &str = "icm";

/// An incident of a site the caller sees, with its comments (another
/// organisation's answers 404).
pub async fn get(
    state: &AppState,
    caller: &Caller,
    incident_id: &str,
) -> AppResult<(IncidentRow, Vec<CommentRow>)> {
    caller.require(STAFF)?;
    check_id(ids::INCIDENT, incident_id, "incident")?;
    let (row, comments) = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let row = db::incidents::incident(&mut conn, incident_id)
            .await?
            .ok_or_else(|| ApiError::not_found("incident"))?;
        let comments = db::incidents::comments(&mut conn, incident_id).await?;
        (row, comments)
    };
    site_for(state, caller, &row.site_id)
        .await
        .map_err(|_| ApiError::not_found("incident"))?;
    Ok((row, comments))
}

/// What a staff member does to an incident.
#[derive(Debug, Clone)]
pub enum Action {
    Acknowledge,
    Assign { token_id: String },
    Comment { text: String },
    Resolve { reason: String },
}

/// Takes one step; answers the incident after it.
pub async fn act(
    state: &AppState,
    caller: &Caller,
    incident_id: &str,
    action: Action,
) -> AppResult<(IncidentRow, Vec<CommentRow>)> {
    let (before, comments) = get(state, caller, incident_id).await?;
    // Acknowledging again changes nothing, and records nothing.
    if matches!(action, Action::Acknowledge)
        && before.acknowledged_ms.is_some()
        && before.resolved_ms.is_none()
    {
        return Ok((before, comments));
    }
    let (step, audit_action, reason) = match action {
        Action::Acknowledge => (
            IncidentStep::Acknowledge,
            AuditAction::IncidentAcknowledged,
            String::new(),
        ),
        Action::Assign { token_id } => {
            check_id(ids::TOKEN, &token_id, "token_id")?;
            let mut conn = state.store.reader().await.map_err(OpError::from)?;
            let assignee = db::tokens::token(&mut conn, &token_id)
                .await?
                .filter(|t| {
                    !t.revoked && matches!(t.role.as_str(), "admin" | "manager" | "concierge")
                })
                .filter(|t| t.org_id.as_deref().is_none_or(|o| caller.sees_org(o)))
                .ok_or_else(|| {
                    ApiError::invalid("token_id", "no live staff token of yours has that id")
                })?;
            let reason = format!("assigned to {}", assignee.id);
            (
                IncidentStep::Assign {
                    token_id: assignee.id,
                },
                AuditAction::IncidentAssigned,
                reason,
            )
        }
        Action::Comment { text } => {
            let text = clean_note("text", &text)?;
            (
                IncidentStep::Comment {
                    comment_id: new_id(COMMENT),
                    text,
                },
                AuditAction::IncidentCommented,
                String::new(),
            )
        }
        Action::Resolve { reason } => {
            let reason = clean_note("reason", &reason)?;
            (
                IncidentStep::Resolve {
                    reason: reason.clone(),
                },
                AuditAction::IncidentResolved,
                reason,
            )
        }
    };
    let audit = Audit::new(
        caller,
        audit_action,
        format!("incident:{}", before.id),
        reason,
    );
    let (id, actor, now) = (before.id.clone(), caller.actor(), now_ms());
    commit(state, move |conn| {
        Box::pin(async move {
            db::incidents::step(conn, &id, &step, &actor, now).await?;
            audit.record(conn, now).await?;
            Ok(((), Changes::none()))
        })
    })
    .await?;
    get(state, caller, incident_id).await
}
