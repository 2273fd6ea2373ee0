//! Parcels: pre-advice, deposit, pick-up, timeline and staff transitions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cubby_domain::codes::Code;
use cubby_domain::credentials::{
    Presented, classify, keypad_code_mac, new_keypad_code, new_qr_token, qr_token_mac,
};
use cubby_domain::dims::Dimensions;
use cubby_domain::ids;
use cubby_domain::lifecycle::{ParcelState, Transition};
use cubby_domain::model::{Role, TemperatureZone, clean_text};
use cubby_domain::tracking::TrackingNumber;
use cubby_protocol::cache::{CredentialKind, local_credential_mac};
use cubby_store::OpError;
use cubby_store::ops::{
    self, Announcement, DepositRequest, DepositSecrets, Message, PickupOutcome, PresentedMac,
    Recipient,
};
use cubby_store::queries::{self, LockerRow, ParcelRow, ResidentRow, SiteRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::check_id;
use super::lockers::locker_for;
use super::sites::site_for;
use crate::auth::{Caller, DEPOSITORS, STAFF};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::write::{JsonBody, QueryParams, idempotency_key, write_json};
use crate::{AppState, new_id, now_ms, os_rng};

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
}

#[derive(Serialize, ToSchema, Clone)]
pub struct CompartmentRef {
    pub id: String,
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct Deposited {
    pub parcel_id: String,
    pub state: String,
    pub compartment: CompartmentRef,
    /// Placed with the recipient's other parcels.
    pub consolidated: bool,
    /// Inside the recipient's reach band (true when they have none).
    pub within_reach: bool,
    /// False when the recipient was not recognised: the parcel waits in the manager queue.
    pub recipient_known: bool,
    /// The signed unlock sent to the locker's agent; absent when the locker has
    /// no agent (the door is opened by hand).
    pub unlock_command_id: Option<String>,
}

/// Who a parcel is for: a resident id, or the unit and name on the label.
pub(crate) fn recipient_of(r: &RecipientBody) -> ApiResult<Recipient> {
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

pub(crate) struct Validated {
    pub tracking: TrackingNumber,
    pub carrier: Option<String>,
    pub dims: Dimensions,
    pub weight_g: Option<u32>,
    pub temperature: TemperatureZone,
}

pub(crate) fn validate_parcel(
    tracking: &str,
    carrier: Option<&str>,
    caller: &Caller,
    dims: Dimensions,
    weight_g: Option<u32>,
    temperature: Option<&str>,
) -> ApiResult<Validated> {
    let tracking = TrackingNumber::parse(tracking)?;
    let carrier = match (&caller.carrier, carrier) {
        // A carrier's token speaks for its own carrier only.
        (Some(own), Some(given)) if super::admin::carrier_code(given)? != *own => {
            return Err(ApiError::invalid(
                "carrier",
                "differs from the carrier of this token",
            ));
        }
        (Some(own), _) => Some(own.clone()),
        (None, Some(given)) => Some(super::admin::carrier_code(given)?),
        (None, None) => None,
    };
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

pub(crate) fn fresh_secrets(state: &AppState, locker_id: &str) -> DepositSecrets {
    let mut rng = os_rng();
    let code = new_keypad_code(state.policies.code_digits, &mut rng);
    let qr_token = new_qr_token(&mut rng);
    let locker_key = crate::devices::locker_credential_key(&state.secret, locker_id);
    DepositSecrets {
        code_mac: keypad_code_mac(&state.secret, locker_id, &code),
        code_local_mac: local_credential_mac(&locker_key, CredentialKind::Keypad, &code),
        qr_local_mac: local_credential_mac(&locker_key, CredentialKind::Qr, &qr_token),
        code,
        code_credential_id: new_id(ids::CREDENTIAL),
        qr_mac: qr_token_mac(&state.secret, &qr_token),
        qr_token,
        qr_credential_id: new_id(ids::CREDENTIAL),
    }
}

/// What the templates render a message from (in the resident's language).
pub(crate) fn notice(
    kind: cubby_notify::NoticeKind,
    resident: &ResidentRow,
    site_name: &str,
    locker_name: &str,
    code: Option<&str>,
    qr_token: Option<&str>,
) -> serde_json::Value {
    let mut n = cubby_notify::Notice::new(
        kind,
        cubby_notify::Language::parse(&resident.language),
        resident.name.clone(),
        site_name,
        locker_name,
    );
    n.code = code.map(str::to_string);
    n.qr_token = qr_token.map(str::to_string);
    n.unit = Some(resident.unit.clone());
    serde_json::to_value(&n).unwrap_or(serde_json::Value::Null)
}

/// The pick-up notice. It names no merchant and no contents (security.md): thieves
/// read lock screens too.
pub(crate) fn code_message(
    id: String,
    site: &SiteRow,
    locker: &LockerRow,
    resident: &ResidentRow,
    code: &str,
    qr_token: Option<&str>,
) -> Message {
    let (channel, recipient) = resident.contact(&site.name);
    let code_line = if code.is_empty() {
        "Your existing pick-up code for this locker opens it too.".to_string()
    } else {
        format!("Your pick-up code: {code} (it opens all your parcels in this locker).")
    };
    let body = format!(
        "Hello {name},\n\nA parcel is waiting for you in locker \"{locker}\" at {site}.\n{code_line}\n{qr}\nCollect it at any time.",
        name = resident.name,
        locker = locker.name,
        site = site.name,
        qr = qr_token
            .map(|t| format!("Or scan your pick-up QR code: {t}"))
            .unwrap_or_default(),
    );
    Message {
        id,
        site_id: site.id.clone(),
        channel: channel.to_string(),
        recipient,
        subject: "A parcel is waiting for you".to_string(),
        body,
        payload: serde_json::json!({
            "kind": "parcel_ready",
            "resident_id": resident.id,
            "locker_id": locker.id,
            "code": if code.is_empty() { None } else { Some(code) },
            "qr_token": qr_token,
            "notice": notice(
                cubby_notify::NoticeKind::ParcelReady,
                resident,
                &site.name,
                &locker.name,
                (!code.is_empty()).then_some(code),
                qr_token,
            ),
        }),
    }
}

/// Deposit a parcel: allocates the smallest fitting compartment and notifies the recipient.
///
/// When nothing fits, answers 409 `no_compartment_fits` with the `reason` and the
/// site's `overflow` options (parcel rooms, other lockers).
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/deposits", params(("locker_id" = String, Path)), request_body = DepositBody,
    responses((status = 201, body = Deposited), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deposit(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<DepositBody>,
) -> ApiResult<Response> {
    caller.require(DEPOSITORS)?;
    let (locker, site) = locker_for(&state, &caller, &locker_id).await?;
    let req = body.value;
    let v = validate_parcel(
        &req.tracking_number,
        req.carrier.as_deref(),
        &caller,
        Dimensions::new(req.width_mm, req.height_mm, req.depth_mm),
        req.weight_g,
        req.temperature.as_deref(),
    )?;
    let recipient = recipient_of(&req.recipient)?;
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let mut last = None;
    // A fresh code can collide with a live one in the same locker (rare); retry with new secrets.
    for _ in 0..3 {
        let secrets = fresh_secrets(&state, &locker.id);
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
        };
        let site = site.clone();
        let msg_id = new_id(ids::MESSAGE);
        let cmd_id = new_id(ids::COMMAND);
        let result = write_json(&state, key.clone(), StatusCode::CREATED, move |conn| {
            Box::pin(async move {
                let out = ops::deposit(conn, &request, &secrets).await?;
                // Open the door for the courier when the locker has an agent.
                let unlock = ops::queue_unlock(
                    conn,
                    &ops::NewUnlock {
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
                    ops::enqueue(conn, &msg, request.now).await?;
                    ops::enqueue_push_copies(conn, &msg, &resident.id, request.now, || {
                        new_id(ids::MESSAGE)
                    })
                    .await?;
                }
                Ok(Deposited {
                    parcel_id: out.parcel.id,
                    state: out.parcel.state.to_string(),
                    compartment: CompartmentRef {
                        id: out.allocation.compartment_id,
                        label: out.allocation.label,
                    },
                    consolidated: out.allocation.consolidated,
                    within_reach: out.allocation.within_reach,
                    recipient_known: out.resident.is_some(),
                    unlock_command_id: unlock,
                })
            })
        })
        .await;
        match result {
            Err(e) if e.code == Code::CredentialCollision => last = Some(e),
            other => {
                // The unlock and the new credential go out now, not at the next tick.
                state.devices.locker_changed(&locker.id);
                return other;
            }
        }
    }
    Err(last.unwrap_or_else(|| ApiError::new(Code::Unavailable, "retry")))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickupBody {
    /// The keypad code or the scanned QR token.
    pub code: String,
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

/// Collect parcels with a keypad code or QR token.
///
/// A wrong code and a code for no parcel get the same answer (403 `code_rejected`).
/// After 10 consecutive wrong codes the keypad locks (429 `keypad_locked` with
/// Retry-After); after 50 in a day it is disabled until staff review (429
/// `keypad_disabled`); QR tokens keep working.
#[utoipa::path(post, path = "/api/v1/lockers/{locker_id}/pickups", params(("locker_id" = String, Path)), request_body = PickupBody,
    responses((status = 200, body = PickedUp), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn pickup(
    State(state): State<AppState>,
    caller: Caller,
    Path(locker_id): Path<String>,
    body: JsonBody<PickupBody>,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    let (locker, _) = locker_for(&state, &caller, &locker_id).await?;
    let code = body.value.code;
    let (presented, via) = if code.len() > 64 {
        (PresentedMac::Malformed, "keypad")
    } else {
        match classify(&code, state.policies.code_digits) {
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
    let outcome = state
        .store
        .transact(move |conn| {
            Box::pin(
                async move { ops::pickup(conn, &locker_id, &presented, &policy, via, now).await },
            )
        })
        .await?;
    if matches!(outcome, PickupOutcome::Opened { .. }) {
        // The locker's cache must drop the used credential.
        state.devices.locker_changed(&locker.id);
    }
    match outcome {
        PickupOutcome::Opened { parcels, .. } => Ok(Json(PickedUp {
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
        })
        .into_response()),
        PickupOutcome::Rejected => Err(ApiError::code_rejected()),
        PickupOutcome::Refused(r) => Err(ApiError::keypad(r)),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CustodyEventDto {
    pub seq: i64,
    /// announced, deposited, deposited_unassigned, recipient_assigned, held, released, picked_up, expired, returned_to_carrier, cancelled.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// RFC 3339 UTC. Omitted for carrier tokens (no occupancy timing leaves Cubby).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Parcel {
    pub id: String,
    pub site_id: String,
    pub state: String,
    pub tracking_number: String,
    pub carrier: Option<String>,
    /// Omitted for carrier tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compartment: Option<CompartmentRef>,
    pub locker_id: Option<String>,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub temperature: String,
    /// The chain of custody, oldest first.
    pub events: Vec<CustodyEventDto>,
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

pub(crate) fn parcel_dto(
    p: ParcelRow,
    events: Vec<cubby_domain::custody::CustodyEvent>,
    redacted: bool,
) -> Parcel {
    let compartment = match (p.compartment_id, p.compartment_label) {
        (Some(id), Some(label)) if !redacted => Some(CompartmentRef { id, label }),
        _ => None,
    };
    Parcel {
        id: p.id,
        site_id: p.site_id,
        state: p.state.to_string(),
        tracking_number: p.tracking_number,
        carrier: p.carrier,
        recipient: (!redacted).then(|| {
            serde_json::json!({ "resident_id": p.resident_id, "unit": p.recipient_unit, "name": p.recipient_name })
        }),
        compartment,
        locker_id: p.locker_id,
        width_mm: p.width_mm,
        height_mm: p.height_mm,
        depth_mm: p.depth_mm,
        temperature: p.temperature.to_string(),
        events: events
            .into_iter()
            .map(|e| CustodyEventDto {
                seq: e.seq,
                kind: e.kind,
                actor: (!redacted).then_some(e.actor),
                at: (!redacted).then(|| rfc3339(e.at_ms)),
                place: (!redacted).then_some(e.place),
                reason: (!redacted).then_some(e.reason),
            })
            .collect(),
    }
}

/// A parcel with its chain of custody. Carrier tokens see only their own parcels,
/// without personal data or timing.
#[utoipa::path(get, path = "/api/v1/parcels/{parcel_id}", params(("parcel_id" = String, Path)),
    responses((status = 200, body = Parcel), (status = 404, body = ErrorBody)))]
pub async fn get_parcel(
    State(state): State<AppState>,
    caller: Caller,
    Path(parcel_id): Path<String>,
) -> ApiResult<Json<Parcel>> {
    caller.require(DEPOSITORS)?;
    check_id(ids::PARCEL, &parcel_id, "parcel")?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let parcel = queries::parcel(&mut conn, &parcel_id)
        .await?
        .ok_or_else(|| ApiError::not_found("parcel"))?;
    let events = queries::custody_events(&mut conn, &parcel_id).await?;
    drop(conn);
    site_for(&state, &caller, &parcel.site_id)
        .await
        .map_err(|_| ApiError::not_found("parcel"))?;
    if caller.is_carrier_side() && parcel.carrier != caller.carrier {
        return Err(ApiError::not_found("parcel"));
    }
    Ok(Json(parcel_dto(parcel, events, caller.is_carrier_side())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ParcelFilter {
    /// Only parcels in this state (e.g. `unassigned` for the manager queue).
    pub state: Option<String>,
    pub tracking_number: Option<String>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ParcelSummary {
    pub id: String,
    pub state: String,
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub resident_id: Option<String>,
    pub locker_id: Option<String>,
    pub compartment: Option<CompartmentRef>,
}

/// Search a site's parcels, newest first.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/parcels", params(("site_id" = String, Path), ParcelFilter),
    responses((status = 200, body = Vec<ParcelSummary>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_parcels(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    QueryParams(filter): QueryParams<ParcelFilter>,
) -> ApiResult<Json<Vec<ParcelSummary>>> {
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let st = filter
        .state
        .as_deref()
        .map(ParcelState::parse)
        .transpose()?;
    let tracking = filter
        .tracking_number
        .as_deref()
        .map(TrackingNumber::parse)
        .transpose()?;
    let limit = filter.limit.unwrap_or(100).clamp(1, 500);
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = queries::parcels(
        &mut conn,
        &site.id,
        st,
        tracking.as_ref().map(|t| t.as_str()),
        limit,
    )
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|p| ParcelSummary {
                id: p.id,
                state: p.state.to_string(),
                tracking_number: p.tracking_number,
                carrier: p.carrier,
                resident_id: p.resident_id,
                locker_id: p.locker_id,
                compartment: p
                    .compartment_id
                    .zip(p.compartment_label)
                    .map(|(id, label)| CompartmentRef { id, label }),
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementBody {
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub resident_id: Option<String>,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub weight_g: Option<u32>,
    pub temperature: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Announced {
    pub parcel_id: String,
    pub state: String,
}

/// Pre-advise a parcel (carrier integration): it exists, announced, before it arrives.
#[utoipa::path(post, path = "/api/v1/sites/{site_id}/announcements", params(("site_id" = String, Path)), request_body = AnnouncementBody,
    responses((status = 201, body = Announced), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn announce(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<AnnouncementBody>,
) -> ApiResult<Response> {
    caller.require(&[Role::Manager, Role::Concierge, Role::Carrier])?;
    let site = site_for(&state, &caller, &site_id).await?;
    let req = body.value;
    let v = validate_parcel(
        &req.tracking_number,
        req.carrier.as_deref(),
        &caller,
        Dimensions::new(req.width_mm, req.height_mm, req.depth_mm),
        req.weight_g,
        req.temperature.as_deref(),
    )?;
    if let Some(rid) = &req.resident_id {
        check_id(ids::RESIDENT, rid, "resident")?;
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
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let site_id = a.site_id.clone();
    let answer = write_json(&state, key, StatusCode::CREATED, move |conn| {
        Box::pin(async move {
            let p = ops::announce(conn, &a).await?;
            Ok(Announced {
                parcel_id: p.id,
                state: p.state.to_string(),
            })
        })
    })
    .await;
    // The site's lockers list pre-advised parcels for couriers with a pass.
    state.devices.site_changed(&site_id);
    answer
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

#[derive(Serialize, ToSchema)]
pub struct Transitioned {
    pub parcel_id: String,
    pub state: String,
}

/// Move a parcel through its lifecycle by hand (staff). Illegal moves answer 409 `illegal_transition`.
#[utoipa::path(post, path = "/api/v1/parcels/{parcel_id}/transitions", params(("parcel_id" = String, Path)), request_body = TransitionBody,
    responses((status = 200, body = Transitioned), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    Path(parcel_id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<TransitionBody>,
) -> ApiResult<Response> {
    caller.require(STAFF)?;
    check_id(ids::PARCEL, &parcel_id, "parcel")?;
    let parcel = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        queries::parcel(&mut conn, &parcel_id)
            .await?
            .ok_or_else(|| ApiError::not_found("parcel"))?
    };
    let site = site_for(&state, &caller, &parcel.site_id)
        .await
        .map_err(|_| ApiError::not_found("parcel"))?;
    let req = body.value;
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
    let secrets = fresh_secrets(&state, parcel.locker_id.as_deref().unwrap_or(""));
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let actor = caller.actor();
    let now = now_ms();
    let msg_id = new_id(ids::MESSAGE);
    let parcel_id = parcel.id.clone();
    // Holds are measured on the scheduler's clock.
    let schedule_now = state.clock.now();
    let answer = write_json(&state, key, StatusCode::OK, move |conn| {
        Box::pin(async move {
            let (after, issued) = ops::transition(
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
                ops::schedule_hold(conn, &parcel_id, t == Transition::Hold, schedule_now).await?;
            }
            if let (Some(cred), Some(rid), Some(lid)) =
                (issued, &after.resident_id, &after.locker_id)
            {
                let resident = queries::resident(conn, rid)
                    .await?
                    .ok_or(OpError::NotFound { what: "resident" })?;
                let locker = queries::locker(conn, lid)
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
                ops::enqueue(conn, &msg, now).await?;
            }
            Ok(Transitioned {
                parcel_id: after.id,
                state: after.state.to_string(),
            })
        })
    })
    .await;
    // A held, expired, returned or assigned parcel changes its locker's cache
    // (and a cancelled pre-advice the site's).
    match &parcel.locker_id {
        Some(locker_id) => state.devices.locker_changed(locker_id),
        None => state.devices.site_changed(&parcel.site_id),
    }
    answer
}
