//! Incidents as a workflow (`/api/v1/incidents/{incident_id}`): read one
//! with its comments, acknowledge, assign, comment, resolve. Staff only.

use axum::Json;
use axum::extract::{Path, State};
use cubby_domain::incident::severity_of;
use cubby_store::incidents::{CommentRow, IncidentRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::app;
use crate::app::incidents::Action;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::write::JsonBody;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Incident {
    pub id: String,
    pub site_id: String,
    pub locker_id: Option<String>,
    pub device_id: Option<String>,
    pub compartment: Option<String>,
    pub parcel_id: Option<String>,
    /// door_forced, door_held_open, lock_stuck, deposit_not_detected,
    /// item_left_after_pickup, unlock_not_done, remote_open_refused,
    /// pickup_unmatched, journal_chain_broken, board_fault, cache_refused,
    /// keypad_locked, deposit_unreconciled, drop_off_unreconciled, …
    pub kind: String,
    /// `info`, `warning` or `critical`, from the kind.
    pub severity: String,
    pub detail: String,
    pub created_ms: i64,
    pub acknowledged_ms: Option<i64>,
    pub acknowledged_by: Option<String>,
    /// The staff token it is assigned to.
    pub assigned_to: Option<String>,
    pub resolved_ms: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolve_reason: Option<String>,
    /// How often the cause happened here while the incident was open.
    pub occurrences: i64,
    /// When it last happened.
    pub last_ms: Option<i64>,
}

impl From<IncidentRow> for Incident {
    fn from(i: IncidentRow) -> Self {
        Incident {
            severity: severity_of(&i.kind).as_str().to_string(),
            id: i.id,
            site_id: i.site_id,
            locker_id: i.locker_id,
            device_id: i.device_id,
            compartment: i.compartment,
            parcel_id: i.parcel_id,
            kind: i.kind,
            detail: i.detail,
            created_ms: i.created_ms,
            acknowledged_ms: i.acknowledged_ms,
            acknowledged_by: i.acknowledged_by,
            assigned_to: i.assigned_to,
            resolved_ms: i.resolved_ms,
            resolved_by: i.resolved_by,
            resolve_reason: i.resolve_reason,
            occurrences: i.occurrences,
            last_ms: i.last_ms,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Comment {
    pub id: String,
    pub actor: String,
    pub text: String,
    pub at_ms: i64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct IncidentDetail {
    #[serde(flatten)]
    pub incident: Incident,
    pub comments: Vec<Comment>,
}

fn detail((row, comments): (IncidentRow, Vec<CommentRow>)) -> Json<IncidentDetail> {
    Json(IncidentDetail {
        incident: row.into(),
        comments: comments
            .into_iter()
            .map(|c| Comment {
                id: c.id,
                actor: c.actor,
                text: c.text,
                at_ms: c.at_ms,
            })
            .collect(),
    })
}

/// One incident with its comments.
#[utoipa::path(get, path = "/api/v1/incidents/{incident_id}", params(("incident_id" = String, Path)),
    responses((status = 200, body = IncidentDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<String>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(detail(
        app::incidents::get(&state, &caller, &incident_id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// Someone is on it (the first acknowledgement stands).
#[utoipa::path(post, path = "/api/v1/incidents/{incident_id}/acknowledge", params(("incident_id" = String, Path)), request_body = Empty,
    responses((status = 200, body = IncidentDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn acknowledge_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<String>,
    _body: JsonBody<Empty>,
) -> ApiResult<Json<IncidentDetail>> {
    Ok(detail(
        app::incidents::act(&state, &caller, &incident_id, Action::Acknowledge).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// A live staff token of the organisation.
    pub token_id: String,
}

/// Hand the incident to a colleague (their staff token).
#[utoipa::path(post, path = "/api/v1/incidents/{incident_id}/assign", params(("incident_id" = String, Path)), request_body = AssignBody,
    responses((status = 200, body = IncidentDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<String>,
    body: JsonBody<AssignBody>,
) -> ApiResult<Json<IncidentDetail>> {
    let token_id = body.value.token_id;
    Ok(detail(
        app::incidents::act(&state, &caller, &incident_id, Action::Assign { token_id }).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    /// Plain text, 1 to 2000 characters.
    pub text: String,
}

/// Add a comment.
#[utoipa::path(post, path = "/api/v1/incidents/{incident_id}/comments", params(("incident_id" = String, Path)), request_body = CommentBody,
    responses((status = 200, body = IncidentDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn comment_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<String>,
    body: JsonBody<CommentBody>,
) -> ApiResult<Json<IncidentDetail>> {
    let text = body.value.text;
    Ok(detail(
        app::incidents::act(&state, &caller, &incident_id, Action::Comment { text }).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// What was found and done, 1 to 2000 characters.
    pub reason: String,
}

/// Close it, saying why. Nothing changes a resolved incident.
#[utoipa::path(post, path = "/api/v1/incidents/{incident_id}/resolve", params(("incident_id" = String, Path)), request_body = ResolveBody,
    responses((status = 200, body = IncidentDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn resolve_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(incident_id): Path<String>,
    body: JsonBody<ResolveBody>,
) -> ApiResult<Json<IncidentDetail>> {
    let reason = body.value.reason;
    Ok(detail(
        app::incidents::act(&state, &caller, &incident_id, Action::Resolve { reason }).await?,
    ))
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_incident))
        .routes(routes!(acknowledge_incident))
        .routes(routes!(assign_incident))
        .routes(routes!(comment_incident))
        .routes(routes!(resolve_incident))
}
