//! Parcels: intake (pre-advice and deposit), pick-up and the staff moves
//! through the lifecycle. Every change of state goes through the store's
//! `lifecycle::apply` and appends one custody event.

use axum::http::StatusCode;
use cubby_domain::credentials::{Presented, classify, keypad_code_mac, qr_token_mac};
use cubby_domain::dims::Dimensions;
use cubby_domain::ids;
use cubby_domain::lifecycle::Transition;
use cubby_domain::model::{TemperatureZone, clean_text};
use cubby_domain::tracking::TrackingNumber;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::idempotency::IdempotencyKey;
use cubby_store::parcels::Announcement;
use cubby_store::parcels::DepositRequest;
use cubby_store::parcels::ParcelRow;
use cubby_store::parcels::PickupOutcome;
use cubby_store::parcels::PresentedMac;
use cubby_store::parcels::Recipient;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::credentials::{fresh_secrets, retrying};
use super::notices::code_message;
use super::places::{locker_for, parcel_for, site_for};
use super::{AppResult, Changes, Committed, check_id, commit, commit_idempotent};
use crate::auth::{Caller, STAFF};
use crate::error::ApiError;
use crate::{AppState, new_id, now_ms};

#[derive(Deserialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct RecipientBody {
    /// A known resident; or give `unit` and `name` as printed on the label.
    pub resident_id: Option<String>,
    pub unit: Option<String>,
    pub name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepositBody {
    pub tracking_number: String,
    /// Carrier code (carrier and courier tokens always deposit as their own carrier).
    pub carrier: Option<String>,
    pub recipient: RecipientBody,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub weight_g: Option<u32>,
    /// ambient (default), chilled or frozen.
    pub temperature: Option<String>,
    /// The carrier's reservation whose held compartment this parcel takes.
    pub reservation_id: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Debug)]
pub struct CompartmentRef {
    pub id: String,
    pub label: String,
}

#[derive(Serialize, Deserialize, ToSchema, Debug)]
pub struct Deposited {
    pub parcel_id: String,
    pub state: String,
    /// The locker the parcel is in: another one than asked for when it
    /// overflowed.
    pub locker_id: String,
    /// The full locker the deposit was asked for, when the site's policy
    /// sent the parcel to the nearest locker with room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflowed_from: Option<String>,
    pub compartment: CompartmentRef,
    /// Placed with the recipient's other parcels.
    pub consolidated: bool,
    /// Inside the recipient's reach band (true when they have none).
    pub within_reach: bool,
    /// False when the recipient was not recognised: the parcel waits in the
    /// manager queue. Never told to carrier and courier tokens: a deposit
    /// must not confirm to a carrier who lives where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_known: Option<bool>,
    /// The signed unlock sent to the locker's agent; absent when the locker has
    /// no agent (the door is opened by hand).
    pub unlock_command_id: Option<String>,
}

/// Who a parcel is for: a resident id, or the unit and name on the label.
pub fn recipient_of(r: &RecipientBody) -> AppResult<Recipient> {
    Ok(match (&r.resident_id, &r.unit, &r.name) {
        (Some(id), None, None) => {
            check_id(ids::RESIDENT, id, "resident")?;
            Recipient::Resident(id.clone())
        }
        (None, Some(unit), Some(name)) => Recipient::UnitAndName {
            unit: clean_text("recipient.unit", unit, 40)?,
            name: clean_text("recipient.name", name, 200)?,
        },
        _ => {
            return Err(ApiError::invalid(
                "recipient",
                "give either resident_id, or unit and name",
            ));
        }
    })
}

/// A parcel's intake fields, checked.
pub struct Validated {
    pub tracking: TrackingNumber,
    pub carrier: Option<String>,
    pub dims: Dimensions,
    pub weight_g: Option<u32>,
    pub temperature: TemperatureZone,
}

/// Checks a parcel's intake fields as every intake path does (deposit,
/// pre-advice, shelving). A carrier's token speaks for its own carrier only.
pub fn validate_parcel(
    tracking: &str,
    carrier: Option<&str>,
    caller: &Caller,
    dims: Dimensions,
    weight_g: Option<u32>,
    temperature: Option<&str>,
) -> AppResult<Validated> {
    let carrier = match (&caller.carrier, carrier) {
        (Some(own), Some(given)) if super::couriers::carrier_code(given)? != *own => {
            return Err(ApiError::invalid(
                "carrier",
                "differs from the carrier of this token",
            ));
        }
        (Some(own), _) => Some(own.clone()),
        (None, Some(given)) => Some(super::couriers::carrier_code(given)?),
        (None, None) => None,
    };
    // A known carrier's own formats and check digits catch a mistyped number.
    let tracking = TrackingNumber::parse_for(tracking, carrier.as_deref())?;
    if !dims.is_valid() {
        return Err(ApiError::invalid(
            "width_mm",
            "every side must be 1 to 3000 mm",
        ));
    }
    if weight_g.is_some_and(|w| w > 100_000) {
        return Err(ApiError::invalid(
            "weight_g",
            "must be at most 100000 (100 kg)",
        ));
    }
    let temperature = temperature
        .map(str::parse::<TemperatureZone>)
        .transpose()?
        .unwrap_or(TemperatureZone::Ambient);
    Ok(Validated {
        tracking,
        carrier,
        dims,
        weight_g,
        temperature,
    })
}

/// Deposit a parcel: allocates the smallest fitting compartment, queues the
/// unlock for the locker's agent and the notice for the recipient, in one
/// transaction.
pub async fn deposit(
    state: &AppState,
    caller: &Caller,
    locker_id: &str,
    req: DepositBody,
    key: Option<IdempotencyKey>,
) -> AppResult<Committed<Deposited>> {
    super::devices::authorise_release(state, caller, super::devices::Release::Deposit, None)?;
    let (locker, site) = locker_for(state, caller, locker_id).await?;
    let v = validate_parcel(
        &req.tracking_number,
        req.carrier.as_deref(),
        caller,
        Dimensions::new(req.width_mm, req.height_mm, req.depth_mm),
        req.weight_g,
        req.temperature.as_deref(),
    )?;
    let recipient = recipient_of(&req.recipient)?;
    if let Some(id) = &req.reservation_id {
        check_id(ids::RESERVATION, id, "reservation")?;
    }
    let carrier_side = caller.is_carrier_side();
    let (overflow, others) = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let overflow = db::schedule::site_policy(&mut conn, &site.id)
            .await?
            .1
            .overflow_to_nearest_locker;
        // The other lockers it may overflow to: the code is minted for them too.
        let others: Vec<String> = if overflow {
            db::lockers::lockers(&mut conn, &site.id)
                .await?
                .into_iter()
                .map(|l| l.id)
                .collect()
        } else {
            Vec::new()
        };
        (overflow, others)
    };
    retrying(
        || super::credentials::fresh_secrets_overflowing(state, &locker.id, &others),
        |secrets| {
            let request = DepositRequest {
                parcel_id: new_id(ids::PARCEL),
                locker_id: locker.id.clone(),
                tracking_number: v.tracking.clone(),
                carrier: v.carrier.clone(),
                recipient: recipient.clone(),
                dims: v.dims,
                weight_g: v.weight_g,
                temperature: v.temperature,
                actor: caller.actor(),
                now: now_ms(),
                placed_at: None,
                reservation_id: req.reservation_id.clone(),
                overflow_to_nearest: overflow,
            };
            let site = site.clone();
            let msg_id = new_id(ids::MESSAGE);
            let cmd_id = new_id(ids::COMMAND);
            commit_idempotent(state, key.clone(), StatusCode::CREATED, move |conn| {
                Box::pin(async move {
                    if let (true, Some(carrier)) = (carrier_side, &request.carrier) {
                        super::couriers::authorise_carrier_deposit(
                            conn,
                            &site.id,
                            carrier,
                            &request.tracking_number,
                        )
                        .await?;
                    }
                    let out = db::parcels::deposit(conn, &request, &secrets).await?;
                    // Open the door for the courier when the locker has an agent.
                    let unlock = db::devices::queue_unlock(
                        conn,
                        &db::devices::NewUnlock {
                            cmd_id: cmd_id.clone(),
                            tx_id: out.parcel.id.clone(),
                            locker_id: out.locker.id.clone(),
                            compartment_label: out.allocation.label.clone(),
                            purpose: "deposit",
                            parcel_id: Some(out.parcel.id.clone()),
                            actor: request.actor.clone(),
                            reason: "courier deposit".into(),
                        },
                        request.now,
                    )
                    .await?
                    .map(|_| cmd_id);
                    if let (Some(resident), Some(cred)) = (&out.resident, &out.credential) {
                        let msg = code_message(
                            msg_id,
                            &site,
                            &out.locker,
                            resident,
                            cred.code.as_deref().unwrap_or(""),
                            Some(&cred.qr_token),
                        );
                        db::outbox::enqueue(conn, &msg, request.now).await?;
                        db::outbox::enqueue_push_copies(
                            conn,
                            &msg,
                            &resident.id,
                            request.now,
                            || new_id(ids::MESSAGE),
                        )
                        .await?;
                    }
                    // The unlock and the new credential go out now, not at
                    // the next tick.
                    let changes = Changes::locker(out.locker.id.clone());
                    // A carrier learns that its parcel is in the locker, not
                    // whether the name on the label matched a resident.
                    let state = if carrier_side && out.resident.is_none() {
                        cubby_domain::lifecycle::ParcelState::Deposited.to_string()
                    } else {
                        out.parcel.state.to_string()
                    };
                    Ok((
                        Deposited {
                            parcel_id: out.parcel.id,
                            state,
                            locker_id: out.locker.id.clone(),
                            overflowed_from: out.overflowed_from.clone(),
                            compartment: CompartmentRef {
                                id: out.allocation.compartment_id,
                                label: out.allocation.label,
                            },
                            consolidated: out.allocation.consolidated,
                            within_reach: out.allocation.within_reach,
                            recipient_known: (!carrier_side).then_some(out.resident.is_some()),
                            unlock_command_id: unlock,
                        },
                        changes,
                    ))
                })
            })
        },
    )
    .await
}

#[derive(Serialize, ToSchema)]
pub struct PickedUpParcel {
    pub parcel_id: String,
    pub compartment: CompartmentRef,
}

#[derive(Serialize, ToSchema)]
pub struct PickedUp {
    /// Every parcel the credential's holder had waiting in this locker; open these doors.
    pub parcels: Vec<PickedUpParcel>,
}

/// Collect parcels with a keypad code or a QR token (staff at the counter).
/// A wrong code and a code for no parcel answer alike; the keypad throttle
/// applies.
pub async fn pickup(
    state: &AppState,
    caller: &Caller,
    locker_id: &str,
    code: &str,
) -> AppResult<PickedUp> {
    caller.require(STAFF)?;
    let (locker, _) = locker_for(state, caller, locker_id).await?;
    let (presented, via) = if code.len() > 64 {
        (PresentedMac::Malformed, "keypad")
    } else {
        match classify(code, state.policies.code_digits) {
            Presented::Keypad(c) => (
                PresentedMac::Keypad(keypad_code_mac(&state.secret, &locker.id, &c)),
                "keypad code",
            ),
            Presented::Qr(t) => (PresentedMac::Qr(qr_token_mac(&state.secret, &t)), "QR code"),
            Presented::Malformed => (PresentedMac::Malformed, "keypad"),
        }
    };
    let policy = state.policies.throttle;
    let now = now_ms();
    let locker_id = locker.id.clone();
    let outcome = commit(state, move |conn| {
        Box::pin(async move {
            let outcome =
                db::parcels::pickup(conn, &locker_id, &presented, &policy, via, now).await?;
            // The locker's cache must drop the used credential.
            let changes = match outcome {
                PickupOutcome::Opened { .. } => Changes::locker(locker_id),
                _ => Changes::none(),
            };
            Ok((outcome, changes))
        })
    })
    .await?;
    match outcome {
        PickupOutcome::Opened { parcels, .. } => Ok(PickedUp {
            parcels: parcels
                .into_iter()
                .map(|p| PickedUpParcel {
                    parcel_id: p.id,
                    compartment: CompartmentRef {
                        id: p.compartment_id.unwrap_or_default(),
                        label: p.compartment_label.unwrap_or_default(),
                    },
                })
                .collect(),
        }),
        PickupOutcome::Rejected => Err(ApiError::code_rejected()),
        PickupOutcome::Refused(r) => Err(ApiError::keypad(r)),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementBody {
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub resident_id: Option<String>,
    /// At a public pick-up point: who collects, known by email or phone
    /// (they are told there, and get their code); instead of `resident_id`.
    pub recipient: Option<PointRecipient>,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub weight_g: Option<u32>,
    pub temperature: Option<String>,
}

/// Someone collecting at a public pick-up point: no unit, a way to reach them.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointRecipient {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// en, es, pl or de.
    pub language: Option<String>,
}

/// The unit public-point recipients are filed under.
pub const PUBLIC_UNIT: &str = "PUBLIC";

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Announced {
    pub parcel_id: String,
    pub state: String,
}

/// Pre-advice (carrier integration): the parcel exists, announced, before it
/// arrives. The site's lockers list pre-advised parcels for couriers with a
/// pass.
pub async fn announce(
    state: &AppState,
    caller: &Caller,
    site_id: &str,
    req: AnnouncementBody,
    key: Option<IdempotencyKey>,
) -> AppResult<Committed<Announced>> {
    use cubby_domain::model::Role;
    caller.require(&[Role::Manager, Role::Concierge, Role::Carrier])?;
    let site = site_for(state, caller, site_id).await?;
    let v = validate_parcel(
        &req.tracking_number,
        req.carrier.as_deref(),
        caller,
        Dimensions::new(req.width_mm, req.height_mm, req.depth_mm),
        req.weight_g,
        req.temperature.as_deref(),
    )?;
    if let Some(rid) = &req.resident_id {
        check_id(ids::RESIDENT, rid, "resident")?;
    }
    let guest = match req.recipient {
        None => None,
        Some(_) if site.kind != "public_point" => {
            return Err(ApiError::invalid(
                "recipient",
                "only public pick-up points take recipients by email or phone; name a resident_id",
            ));
        }
        Some(_) if req.resident_id.is_some() => {
            return Err(ApiError::invalid(
                "recipient",
                "give resident_id or recipient, not both",
            ));
        }
        Some(r) if r.email.is_none() && r.phone.is_none() => {
            return Err(ApiError::invalid(
                "recipient",
                "give an email or a phone number: the recipient is told there",
            ));
        }
        Some(r) => Some(super::residents::new_resident(
            super::residents::NewResidentBody {
                name: r.name,
                unit: PUBLIC_UNIT.into(),
                email: r.email,
                phone: r.phone,
                language: r.language,
                building_id: None,
                reach: None,
            },
            site.id.clone(),
        )?),
    };
    // A carrier pre-advises only where the site lets it deposit.
    if let (Some(carrier), true) = (&v.carrier, caller.is_carrier_side()) {
        super::couriers::require_enabled(state, &site.id, carrier).await?;
    }
    let a = Announcement {
        parcel_id: new_id(ids::PARCEL),
        site_id: site.id,
        tracking_number: v.tracking,
        carrier: v.carrier,
        resident_id: req.resident_id,
        dims: v.dims,
        weight_g: v.weight_g,
        temperature: v.temperature,
        actor: caller.actor(),
        now: now_ms(),
    };
    commit_idempotent(state, key, StatusCode::CREATED, move |conn| {
        Box::pin(async move {
            let mut a = a;
            if let Some(g) = &guest {
                a.resident_id = Some(db::residents::recipient_at_point(conn, g, a.now).await?.id);
            }
            let p = db::parcels::announce(conn, &a).await?;
            Ok((
                Announced {
                    parcel_id: p.id,
                    state: p.state.to_string(),
                },
                Changes::site(a.site_id.clone()),
            ))
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// hold, release, expire, return, cancel, pick_up (handed over by staff) or assign.
    pub action: String,
    /// Why, in words; recorded in the chain of custody.
    pub reason: Option<String>,
    /// For `assign`: the resident an unassigned parcel belongs to.
    pub resident_id: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Transitioned {
    pub parcel_id: String,
    pub state: String,
}

/// Move a parcel through its lifecycle by hand (staff).
pub async fn transition(
    state: &AppState,
    caller: &Caller,
    parcel_id: &str,
    req: TransitionBody,
    key: Option<IdempotencyKey>,
) -> AppResult<Committed<Transitioned>> {
    caller.require(STAFF)?;
    let (parcel, site) = parcel_for(state, caller, parcel_id).await?;
    let t = match req.action.as_str() {
        "hold" => Transition::Hold,
        "release" => Transition::Release,
        "expire" => Transition::Expire,
        "return" => Transition::Return,
        "cancel" => Transition::Cancel,
        "pick_up" => Transition::PickUp,
        "assign" => Transition::Assign,
        _ => {
            return Err(ApiError::invalid(
                "action",
                "must be hold, release, expire, return, cancel, pick_up or assign",
            ));
        }
    };
    let reason = match &req.reason {
        Some(r) => clean_text("reason", r, 500)?,
        None => format!("{} by staff", req.action.replace('_', " ")),
    };
    let assign = match (t, req.resident_id) {
        (Transition::Assign, Some(rid)) => {
            check_id(ids::RESIDENT, &rid, "resident")?;
            Some(rid)
        }
        (Transition::Assign, None) => {
            return Err(ApiError::invalid(
                "resident_id",
                "is required to assign a parcel",
            ));
        }
        (_, Some(_)) => return Err(ApiError::invalid("resident_id", "only goes with assign")),
        (_, None) => None,
    };
    let secrets = fresh_secrets(state, parcel.locker_id.as_deref().unwrap_or(""));
    let actor = caller.actor();
    let now = now_ms();
    let msg_id = new_id(ids::MESSAGE);
    let parcel_id = parcel.id.clone();
    // Holds are measured on the scheduler's clock.
    let schedule_now = state.clock.now();
    // A held, expired, returned or assigned parcel changes its locker's cache
    // (and a cancelled pre-advice the site's).
    let changes = match &parcel.locker_id {
        Some(locker_id) => Changes::locker(locker_id.clone()),
        None => Changes::site(parcel.site_id.clone()),
    };
    commit_idempotent(state, key, StatusCode::OK, move |conn| {
        Box::pin(async move {
            let (after, issued) = db::parcels::transition(
                conn,
                &parcel_id,
                t,
                assign.as_deref().map(|r| (r, &secrets)),
                &actor,
                &reason,
                now,
            )
            .await?;
            // A hold pauses reminders and extends the stay; its end resumes them.
            if matches!(t, Transition::Hold | Transition::Release) {
                db::schedule::schedule_hold(conn, &parcel_id, t == Transition::Hold, schedule_now)
                    .await?;
            }
            if let (Some(cred), Some(rid), Some(lid)) =
                (issued, &after.resident_id, &after.locker_id)
            {
                let resident = db::residents::resident(conn, rid)
                    .await?
                    .ok_or(OpError::NotFound { what: "resident" })?;
                let locker = db::lockers::locker(conn, lid)
                    .await?
                    .ok_or(OpError::NotFound { what: "locker" })?;
                let msg = code_message(
                    msg_id,
                    &site,
                    &locker,
                    &resident,
                    cred.code.as_deref().unwrap_or(""),
                    Some(&cred.qr_token),
                );
                db::outbox::enqueue(conn, &msg, now).await?;
            }
            Ok((
                Transitioned {
                    parcel_id: after.id,
                    state: after.state.to_string(),
                },
                changes,
            ))
        })
    })
    .await
}

/// A resident holds (`Hold`) or releases (`Release`) one of their parcels: a
/// hold pauses reminders and extends its stay.
pub async fn hold_or_release(
    state: &AppState,
    parcel: &ParcelRow,
    t: Transition,
    actor: &str,
) -> AppResult<ParcelRow> {
    let now = now_ms();
    let schedule_now = state.clock.now();
    let (parcel_id, actor) = (parcel.id.clone(), actor.to_string());
    let reason = if t == Transition::Hold {
        "held by the resident"
    } else {
        "hold ended by the resident"
    };
    let changes = parcel
        .locker_id
        .clone()
        .map(Changes::locker)
        .unwrap_or_default();
    commit(state, move |conn| {
        Box::pin(async move {
            let (after, _) =
                db::parcels::transition(conn, &parcel_id, t, None, &actor, reason, now).await?;
            db::schedule::schedule_hold(conn, &parcel_id, t == Transition::Hold, schedule_now)
                .await?;
            Ok((after, changes))
        })
    })
    .await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectBody {
    /// Another locker of the parcel's site, or a locker of a public pick-up point.
    pub locker_id: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Redirected {
    /// The parcel as the target expects it: a new id when it moved to a
    /// pick-up point of another site (the old one is cancelled there).
    pub parcel_id: String,
    pub locker_id: String,
}

/// Sends a parcel that has not arrived yet to another locker of its site:
/// only that locker takes the deposit (others answer `parcel_redirected`)
/// and only its cache lists the parcel. Staff, or the resident it is for.
pub async fn redirect(
    state: &AppState,
    caller: &Caller,
    parcel_id: &str,
    body: RedirectBody,
) -> AppResult<Redirected> {
    use cubby_domain::model::Role;
    caller.require(&[Role::Manager, Role::Concierge, Role::Resident])?;
    let (parcel, _) = parcel_for(state, caller, parcel_id).await?;
    if caller.role == Role::Resident && caller.resident_id != parcel.resident_id {
        return Err(ApiError::not_found("parcel"));
    }
    check_id(ids::LOCKER, &body.locker_id, "locker")?;
    let actor = caller.actor();
    let locker_id = body.locker_id;
    let target_site = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::lockers::locker(&mut conn, &locker_id)
            .await?
            .map(|l| l.site_id)
            .ok_or_else(|| ApiError::not_found("locker"))?
    };
    // Another site's locker: only a public pick-up point, where custody
    // continues as a new pre-advice in that site's chain.
    if target_site != parcel.site_id {
        let ids = db::parcels::PointIds {
            parcel_id: new_id(ids::PARCEL),
            resident_id: new_id(ids::RESIDENT),
        };
        let from_site = parcel.site_id.clone();
        return commit(state, move |conn| {
            Box::pin(async move {
                let p = db::parcels::redirect_to_point(
                    conn,
                    &parcel.id,
                    &locker_id,
                    &ids,
                    &actor,
                    now_ms(),
                )
                .await?;
                Ok((
                    Redirected {
                        parcel_id: p.id,
                        locker_id,
                    },
                    Changes::site(from_site).and_site(p.site_id),
                ))
            })
        })
        .await;
    }
    commit(state, move |conn| {
        Box::pin(async move {
            let p = db::parcels::redirect(conn, &parcel.id, &locker_id, &actor, now_ms()).await?;
            // Every locker of the site re-learns which parcels it expects.
            Ok((
                Redirected {
                    parcel_id: p.id,
                    locker_id,
                },
                Changes::site(p.site_id),
            ))
        })
    })
    .await
}
