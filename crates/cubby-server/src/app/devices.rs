//! Remote opens: a staff member opens one compartment from afar. A token
//! alone never opens a door: a passkey of the same token must have signed
//! within the last few minutes (the step-up proof), and the locker still
//! applies its own cap on opens of occupied compartments.

use axum::http::StatusCode;
use cubby_domain::codes::Code;
use cubby_domain::ids;
use cubby_domain::lifecycle::{ParcelState, Transition};
use cubby_domain::model::clean_text;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::idempotency::IdempotencyKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::places::locker_for;
use super::{AppResult, Changes, Committed, commit, commit_idempotent};
use crate::auth::step_up::check_step_up;
use crate::auth::{Audit, Caller, DEPOSITORS, MANAGERS, STAFF};
use crate::error::ApiError;
use crate::{AppState, new_id, now_ms};
use cubby_domain::audit::AuditAction;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct OpenQueued {
    pub command_id: String,
    pub device_id: String,
}

/// Why the server would queue an unlock. Pick-ups with a credential are
/// decided at the locker (its kiosk and cache) and at the counter, where
/// staff hand the parcel over; the server queues no unlock for them.
pub enum Release<'a> {
    /// A courier or staff member puts a parcel in. The store then gives only
    /// an empty compartment, or one this depositor opened in this visit, and
    /// a carrier's parcel must be pre-advised for it
    /// (`couriers::authorise_carrier_deposit`, inside the deposit's
    /// transaction).
    Deposit,
    /// Staff open one compartment from afar.
    RemoteOpen,
    /// Staff open several compartments: the requester, then a second staff
    /// member, each with their own step-up.
    BulkOpen,
    /// An expired parcel goes back to its carrier.
    ReturnToCarrier { parcel_carrier: Option<&'a str> },
}

/// The one place that decides whether `caller` may have the server queue an
/// unlock: depositors deposit; staff opening from afar always need a fresh
/// step-up of their own passkey; a carrier takes back only its own parcels
/// (another carrier's are not found). Every path that queues an unlock calls
/// it first (a test in `tests/it/tidy.rs` holds this).
pub fn authorise_release(
    state: &AppState,
    caller: &Caller,
    release: Release<'_>,
    step_up: Option<&str>,
) -> AppResult<()> {
    match release {
        Release::Deposit => caller.require(DEPOSITORS),
        Release::BulkOpen => {
            caller.require(MANAGERS)?;
            check_step_up(&state.secret, caller, step_up, now_ms())
        }
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
    // One person opens a few doors from afar; more than that, one after the
    // other, is a bulk open and needs a second staff member.
    let recent = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::devices::remote_opens_by(&mut conn, &locker.id, &actor, now - SOLO_OPEN_WINDOW_MS)
            .await?
    };
    if recent >= SOLO_OPENS_PER_WINDOW {
        return Err(ApiError::new(
            Code::SecondStaffRequired,
            format!(
                "you opened {recent} doors of this locker in the last 10 minutes: open more as a bulk open, approved by a second staff member"
            ),
        ));
    }
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

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Returned {
    pub parcel_id: String,
    pub state: String,
    pub compartment: Option<String>,
    /// The signed unlock sent to the locker's agent; absent without an agent.
    pub unlock_command_id: Option<String>,
}

/// Takes an expired parcel back for its carrier: the door opens for the
/// courier. Staff need their step-up (this opens a door from afar).
pub async fn return_to_carrier(
    state: &AppState,
    caller: &Caller,
    parcel_id: &str,
    step_up: Option<&str>,
    key: Option<IdempotencyKey>,
) -> AppResult<Committed<Returned>> {
    caller.require(DEPOSITORS)?;
    // The parcel's site is the tenant check; a carrier sees only its parcels.
    let (parcel, _) = super::places::parcel_for(state, caller, parcel_id).await?;
    let Some(locker_id) = parcel.locker_id.clone() else {
        return Err(ApiError::not_found("parcel"));
    };
    authorise_release(
        state,
        caller,
        Release::ReturnToCarrier {
            parcel_carrier: parcel.carrier.as_deref(),
        },
        step_up,
    )?;
    if !matches!(parcel.state, ParcelState::Expired | ParcelState::DroppedOff) {
        return Err(ApiError::new(
            Code::NotInReturnQueue,
            format!("the parcel is {}, not waiting to be returned", parcel.state),
        ));
    }
    let actor = caller.actor();
    let cmd_id = new_id(ids::COMMAND);
    let now = now_ms();
    commit_idempotent(state, key, StatusCode::OK, move |conn| {
        Box::pin(async move {
            let (after, _) = db::parcels::transition(
                conn,
                &parcel.id,
                Transition::Return,
                None,
                &actor,
                "taken back by the carrier",
                now,
            )
            .await?;
            // A resident's own return or shipment: they hear it has gone.
            if parcel.state == ParcelState::DroppedOff {
                tell_sender(conn, &parcel, new_id(ids::MESSAGE), now).await?;
            }
            let unlock = match &parcel.compartment_label {
                Some(label) => db::devices::queue_unlock(
                    conn,
                    &db::devices::NewUnlock {
                        cmd_id: cmd_id.clone(),
                        tx_id: parcel.id.clone(),
                        locker_id: locker_id.clone(),
                        compartment_label: label.clone(),
                        purpose: "return",
                        parcel_id: Some(parcel.id.clone()),
                        actor: actor.clone(),
                        reason: "return to carrier".into(),
                    },
                    now,
                )
                .await?
                .map(|_| cmd_id),
                None => None,
            };
            Ok((
                Returned {
                    parcel_id: after.id,
                    state: after.state.to_string(),
                    compartment: parcel.compartment_label.clone(),
                    unlock_command_id: unlock,
                },
                // The unlock goes out now, and the locker's cache drops the parcel.
                Changes::locker(locker_id).and_command(),
            ))
        })
    })
    .await
}

/// Queues the "collected" message for the resident who dropped `parcel` off.
pub(crate) async fn tell_sender(
    conn: &mut cubby_store::AnyConnection,
    parcel: &db::parcels::ParcelRow,
    message_id: String,
    now: i64,
) -> Result<(), OpError> {
    let (Some(resident_id), Some(locker_id)) = (&parcel.resident_id, &parcel.locker_id) else {
        return Ok(());
    };
    let resident = db::residents::resident(conn, resident_id).await?;
    let locker = db::lockers::locker(conn, locker_id).await?;
    let site = db::tenants::site(conn, &parcel.site_id).await?;
    if let (Some(resident), Some(locker), Some(site)) = (resident, locker, site) {
        let msg = super::notices::sending_collected_message(
            message_id,
            &site,
            &locker,
            &resident,
            parcel.carrier.as_deref(),
            &parcel.id,
        );
        db::outbox::enqueue(conn, &msg, now).await?;
    }
    Ok(())
}

/// How long a bulk-open request waits for its second staff member.
pub const BULK_OPEN_WAIT_MS: i64 = 10 * 60_000;
/// Most compartments one bulk open may release: the locker itself opens at
/// most 10 occupied compartments from afar per 10 minutes unless it is put
/// in maintenance mode at the locker (security.md), so a larger clear-out is
/// done there.
pub const MAX_BULK_OPEN: usize = 10;
/// Remote opens one staff member may queue at one locker per window before
/// a second staff member must approve (a bulk open).
pub const SOLO_OPENS_PER_WINDOW: i64 = 3;
pub const SOLO_OPEN_WINDOW_MS: i64 = 10 * 60_000;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BulkOpen {
    pub bulk_open_id: String,
    pub locker_id: String,
    pub labels: Vec<String>,
    /// `awaiting_second_staff`, then `approved`.
    pub state: String,
    pub expires_ms: i64,
    /// Once approved: the unlocks queued, one per compartment.
    #[serde(default)]
    pub command_ids: Vec<String>,
}

/// Asks to open several compartments of a locker (emptying it for
/// maintenance, a move-out). Nothing opens yet: a second staff member
/// approves with their own step-up.
pub async fn request_bulk_open(
    state: &AppState,
    caller: &Caller,
    locker_id: &str,
    labels: Vec<String>,
    reason: &str,
    step_up: Option<&str>,
) -> AppResult<BulkOpen> {
    caller.require(MANAGERS)?;
    let (locker, site) = locker_for(state, caller, locker_id).await?;
    authorise_release(state, caller, Release::BulkOpen, step_up)?;
    let reason = clean_text("reason", reason, 500)?;
    let mut labels = labels;
    labels.sort();
    labels.dedup();
    if labels.len() < 2 || labels.len() > MAX_BULK_OPEN {
        return Err(ApiError::invalid(
            "labels",
            format!("give 2 to {MAX_BULK_OPEN} compartments (one is a remote open)"),
        ));
    }
    let known = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::devices::compartment_labels(&mut conn, &locker.id).await?
    };
    if let Some(unknown) = labels.iter().find(|l| !known.contains(l)) {
        return Err(ApiError::invalid(
            "labels",
            format!("{unknown} is not a compartment of this locker"),
        ));
    }
    let now = now_ms();
    let row = db::devices::BulkOpenRow {
        id: new_id(ids::BULK_OPEN),
        locker_id: locker.id.clone(),
        labels: labels.clone(),
        reason: reason.clone(),
        requested_by: caller.token_id.clone(),
        expires_ms: now + BULK_OPEN_WAIT_MS,
        approved_by: None,
    };
    let audit = Audit::new(
        caller,
        AuditAction::BulkOpen,
        format!("locker:{}/{}", locker.id, labels.join(",")),
        format!("requested: {reason}"),
    )
    .in_org(site.org_id.clone());
    let answer = BulkOpen {
        bulk_open_id: row.id.clone(),
        locker_id: locker.id,
        labels,
        state: "awaiting_second_staff".into(),
        expires_ms: row.expires_ms,
        command_ids: Vec::new(),
    };
    commit(state, move |conn| {
        Box::pin(async move {
            db::devices::request_bulk_open(conn, &row, now).await?;
            audit.record(conn, now).await?;
            Ok(((), Changes::none()))
        })
    })
    .await?;
    Ok(answer)
}

/// A second staff member approves a bulk open: every door is queued. The
/// requester cannot approve their own request.
pub async fn approve_bulk_open(
    state: &AppState,
    caller: &Caller,
    bulk_open_id: &str,
    step_up: Option<&str>,
) -> AppResult<BulkOpen> {
    caller.require(MANAGERS)?;
    super::check_id(ids::BULK_OPEN, bulk_open_id, "bulk open")?;
    let request = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::devices::bulk_open(&mut conn, bulk_open_id)
            .await?
            .ok_or_else(|| ApiError::not_found("bulk open"))?
    };
    let (locker, site) = locker_for(state, caller, &request.locker_id).await?;
    authorise_release(state, caller, Release::BulkOpen, step_up)?;
    if request.requested_by == caller.token_id {
        return Err(ApiError::new(
            Code::SecondStaffRequired,
            "a bulk open needs a second staff member: someone else approves it with their own step-up",
        ));
    }
    let now = now_ms();
    if request.approved_by.is_some() || request.expires_ms <= now {
        return Err(ApiError::new(
            Code::Conflict,
            "this bulk open was already approved or has expired: ask again",
        ));
    }
    let actor = caller.actor();
    let cmd_ids: Vec<String> = request
        .labels
        .iter()
        .map(|_| new_id(ids::COMMAND))
        .collect();
    let audit = Audit::new(
        caller,
        AuditAction::BulkOpen,
        format!("locker:{}/{}", locker.id, request.labels.join(",")),
        format!(
            "approved (requested by token:{}): {}",
            request.requested_by, request.reason
        ),
    )
    .in_org(site.org_id.clone());
    let (id, approver) = (request.id.clone(), caller.token_id.clone());
    let labels = request.labels.clone();
    let reason = request.reason.clone();
    let locker_id = locker.id.clone();
    let queued = commit(state, move |conn| {
        Box::pin(async move {
            if !db::devices::approve_bulk_open(conn, &id, &approver, now).await? {
                return Err(OpError::Conflict {
                    code: Code::Conflict,
                    message: "this bulk open was already approved".into(),
                });
            }
            let mut queued = Vec::new();
            for (label, cmd_id) in labels.iter().zip(cmd_ids) {
                let device = db::devices::queue_unlock(
                    conn,
                    &db::devices::NewUnlock {
                        cmd_id: cmd_id.clone(),
                        tx_id: cmd_id.clone(),
                        locker_id: locker_id.clone(),
                        compartment_label: label.clone(),
                        purpose: "staff",
                        parcel_id: None,
                        actor: actor.clone(),
                        reason: format!("bulk open: {reason}"),
                    },
                    now,
                )
                .await?
                .ok_or(OpError::Conflict {
                    code: Code::NoDevice,
                    message: "this locker has no agent to open it".into(),
                })?;
                let _ = device;
                queued.push(cmd_id);
            }
            audit.record(conn, now).await?;
            Ok((queued, Changes::command()))
        })
    })
    .await?;
    Ok(BulkOpen {
        bulk_open_id: request.id,
        locker_id: locker.id,
        labels: request.labels,
        state: "approved".into(),
        expires_ms: request.expires_ms,
        command_ids: queued,
    })
}
