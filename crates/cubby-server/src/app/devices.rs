//! Remote opens: a staff member opens one compartment from afar. A token
//! alone never opens a door: a passkey of the same token must have signed
//! within the last few minutes (the step-up proof), and the locker still
//! applies its own cap on opens of occupied compartments.

use axum::http::StatusCode;
use cubby_domain::codes::Code;
use cubby_domain::ids;
use cubby_domain::model::clean_text;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::idempotency::IdempotencyKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::places::locker_for;
use super::{AppResult, Changes, Committed, commit_idempotent};
use crate::auth::step_up::check_step_up;
use crate::auth::{Audit, Caller, MANAGERS, STAFF};
use crate::error::ApiError;
use crate::{AppState, new_id, now_ms};
use cubby_domain::audit::AuditAction;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OpenQueued {
    pub command_id: String,
    pub device_id: String,
}

/// Why a door would be released for someone who is not at the locker with a
/// credential of their own.
pub enum Release<'a> {
    /// Staff open one compartment from afar.
    RemoteOpen,
    /// An expired parcel goes back to its carrier.
    ReturnToCarrier { parcel_carrier: Option<&'a str> },
}

/// The one place that decides whether `caller` may have a door released from
/// afar: staff always need a fresh step-up of their own passkey; a carrier
/// takes back only its own parcels (another carrier's are not found).
pub fn authorise_release(
    state: &AppState,
    caller: &Caller,
    release: Release<'_>,
    step_up: Option<&str>,
) -> AppResult<()> {
    match release {
        Release::RemoteOpen => {
            caller.require(MANAGERS)?;
            check_step_up(&state.secret, caller, step_up, now_ms())
        }
        Release::ReturnToCarrier { parcel_carrier } if caller.is_carrier_side() => {
            if caller.carrier.as_deref() == parcel_carrier {
                Ok(())
            } else {
                Err(ApiError::not_found("parcel"))
            }
        }
        Release::ReturnToCarrier { .. } => {
            caller.require(STAFF)?;
            check_step_up(&state.secret, caller, step_up, now_ms())
        }
    }
}

/// Queues a signed unlock of `label` at the locker's agent.
pub async fn remote_open(
    state: &AppState,
    caller: &Caller,
    locker_id: &str,
    label: String,
    reason: &str,
    step_up: Option<&str>,
    key: Option<IdempotencyKey>,
) -> AppResult<Committed<OpenQueued>> {
    caller.require(MANAGERS)?;
    let (locker, site) = locker_for(state, caller, locker_id).await?;
    if let Err(refused) = authorise_release(state, caller, Release::RemoteOpen, step_up) {
        if step_up.is_some() {
            let failed = Audit::new(
                caller,
                AuditAction::StepUpFailed,
                format!("locker:{}/{label}", locker.id),
                "remote open with a step-up proof that is not valid",
            );
            if let Err(e) = failed.record_alone(&state.store, now_ms()).await {
                tracing::warn!("audit event not recorded: {e}");
            }
        }
        return Err(refused);
    }
    let reason = clean_text("reason", reason, 500)?;
    let known = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::devices::compartment_labels(&mut conn, &locker.id).await?
    };
    if !known.contains(&label) {
        return Err(ApiError::not_found("compartment"));
    }
    let cmd_id = new_id(ids::COMMAND);
    let actor = caller.actor();
    let now = now_ms();
    let audit = Audit::new(
        caller,
        AuditAction::RemoteOpen,
        format!("locker:{}/{label}", locker.id),
        reason.clone(),
    )
    .in_org(site.org_id.clone());
    commit_idempotent(state, key, StatusCode::ACCEPTED, move |conn| {
        Box::pin(async move {
            let device = db::devices::queue_unlock(
                conn,
                &db::devices::NewUnlock {
                    cmd_id: cmd_id.clone(),
                    tx_id: cmd_id.clone(),
                    locker_id: locker.id.clone(),
                    compartment_label: label,
                    purpose: "staff",
                    parcel_id: None,
                    actor,
                    reason,
                },
                now,
            )
            .await?
            .ok_or(OpError::Conflict {
                code: Code::NoDevice,
                message: "this locker has no agent to open it".into(),
            })?;
            audit.record(conn, now).await?;
            Ok((
                OpenQueued {
                    command_id: cmd_id,
                    device_id: device,
                },
                Changes::command(),
            ))
        })
    })
    .await
}
