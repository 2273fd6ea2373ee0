//! The security audit log in the console (managers: their organisation's
//! events; admins: all), filtered by action, newest first.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use cubby_domain::audit::AuditAction;
use serde::Deserialize;

use super::*;
use crate::AppState;
use crate::app;

struct AuditLine {
    seq: i64,
    when: String,
    action: String,
    actor: String,
    source: String,
    target: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
pub(super) struct AuditPage {
    csrf: String,
    who: String,
    actions: Vec<&'static str>,
    chosen: String,
    events: Vec<AuditLine>,
}

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    action: Option<String>,
}

pub(super) async fn audit_page(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<AuditQuery>,
) -> Response {
    let action = q.action.filter(|a| !a.is_empty());
    let filter = app::audit::AuditFilter {
        action: action.clone(),
        limit: Some(500),
        ..Default::default()
    };
    match app::audit::events(&state, &session.caller, filter).await {
        Ok(events) => render(&AuditPage {
            csrf: session.csrf,
            who: session.who,
            actions: AuditAction::ALL.iter().map(|a| a.as_str()).collect(),
            chosen: action.unwrap_or_default(),
            events: events
                .into_iter()
                .map(|e| AuditLine {
                    seq: e.seq,
                    when: utc(e.at_ms),
                    action: e.action,
                    actor: e.actor,
                    source: e.source,
                    target: e.target,
                    reason: e.reason,
                })
                .collect(),
        }),
        Err(e) => refused(&e),
    }
}
