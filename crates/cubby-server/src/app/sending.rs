//! Returns and shipments a resident sends from a locker: announced with a
//! carrier and a size, a drop-off code shown once (stored only as MACs), the
//! parcel dropped at the kiosk (decided by the locker, online or not), the
//! carrier told by webhook and collecting through the return queue, the
//! resident told when it is gone.

use cubby_domain::credentials::{mac, new_keypad_code};
use cubby_domain::dims::Dimensions;
use cubby_domain::ids;
use cubby_domain::lifecycle::{ParcelState, Transition};
use cubby_domain::tracking::TrackingNumber;
use cubby_protocol::cache::{CredentialKind, local_credential_mac};
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::parcels::{DropOffSecret, ParcelRow, Sending, SendingAnnouncement};
use cubby_store::residents::ResidentRow;
use rand::RngCore;

use super::credentials::retrying;
use super::{AppResult, Changes, commit};
use crate::error::ApiError;
use crate::{AppState, new_id, now_ms, os_rng};

/// How long a drop-off code works.
pub const DROP_OFF_VALID_MS: i64 = 14 * 86_400_000;

/// What a resident asks to send.
#[derive(Debug, Clone)]
pub struct SendRequest {
    pub sending: Sending,
    pub carrier: String,
    pub tracking_number: Option<String>,
    pub locker_id: Option<String>,
    pub dims: Dimensions,
    pub weight_g: Option<u32>,
    pub temperature: Option<String>,
}

/// A drop-off code and its two MACs for one locker.
fn fresh_drop_off_code(state: &AppState, locker_id: &str) -> (String, DropOffSecret) {
    let code = new_keypad_code(state.policies.code_digits, &mut os_rng());
    let locker_key = crate::auth::keys::locker_credential_key(&state.secret, locker_id);
    let secret = DropOffSecret {
        credential_id: new_id(ids::CREDENTIAL),
        mac: mac(&state.secret, &["drop-off-code", locker_id, &code]),
        local_mac: local_credential_mac(&locker_key, CredentialKind::DropOff, &code),
    };
    (code, secret)
}

/// A reference for a parcel sent without a label yet: the carrier's own
/// number replaces it when the label is printed.
fn own_reference() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = os_rng();
    let tail: String = (0..10)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect();
    format!("CUBBY{tail}")
}

/// Announces a return or shipment: the parcel waits for drop-off at the
/// named locker (or the first of the site's lockers with a free compartment
/// that fits); answers the stored parcel and the drop-off code, shown once.
pub async fn announce(
    state: &AppState,
    me: &ResidentRow,
    req: SendRequest,
) -> AppResult<(ParcelRow, String, i64)> {
    let carrier = super::couriers::carrier_code(&req.carrier)?;
    super::couriers::require_enabled(state, &me.site_id, &carrier).await?;
    let tracking = match req.tracking_number.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => TrackingNumber::parse_for(t, Some(&carrier))?
            .as_str()
            .to_string(),
        _ => own_reference(),
    };
    if !req.dims.is_valid() {
        return Err(ApiError::invalid(
            "width_mm",
            "every side must be 1 to 3000 mm",
        ));
    }
    if req.weight_g.is_some_and(|w| w > 100_000) {
        return Err(ApiError::invalid(
            "weight_g",
            "must be at most 100000 (100 kg)",
        ));
    }
    let temperature = req
        .temperature
        .as_deref()
        .map(str::parse)
        .transpose()?
        .unwrap_or(cubby_domain::model::TemperatureZone::Ambient);
    let candidates: Vec<String> = match &req.locker_id {
        Some(id) => {
            super::check_id(ids::LOCKER, id, "locker_id")?;
            vec![id.clone()]
        }
        None => {
            let mut conn = state.store.reader().await.map_err(OpError::from)?;
            db::lockers::lockers(&mut conn, &me.site_id)
                .await?
                .into_iter()
                .map(|l| l.id)
                .collect()
        }
    };
    let mut last = ApiError::not_found("locker");
    for locker_id in candidates {
        let parcel_id = new_id(ids::PARCEL);
        let attempt = retrying(
            || fresh_drop_off_code(state, &locker_id),
            |(code, secret)| {
                let now = now_ms();
                let a = SendingAnnouncement {
                    parcel_id: parcel_id.clone(),
                    resident_id: me.id.clone(),
                    locker_id: locker_id.clone(),
                    sending: req.sending,
                    tracking_number: tracking.clone(),
                    carrier: carrier.clone(),
                    dims: req.dims,
                    weight_g: req.weight_g,
                    temperature,
                    secret,
                    expires_ms: now + DROP_OFF_VALID_MS,
                    actor: format!("resident:{}", me.id),
                    now,
                };
                async move {
                    let expires = a.expires_ms;
                    let row = commit(state, move |conn| {
                        Box::pin(async move {
                            let row = db::parcels::announce_sending(conn, &a).await?;
                            let changes = Changes::locker(a.locker_id.clone());
                            Ok((row, changes))
                        })
                    })
                    .await?;
                    Ok((row, code, expires))
                }
            },
        )
        .await;
        match attempt {
            Err(e)
                if req.locker_id.is_none()
                    && e.code == cubby_domain::codes::Code::NoCompartmentFits =>
            {
                last = e
            }
            other => return other,
        }
    }
    Err(last)
}

/// Cancels a return or shipment not yet dropped off; its code ends.
pub async fn cancel(state: &AppState, me: &ResidentRow, parcel_id: &str) -> AppResult<ParcelRow> {
    let p = mine(state, me, parcel_id).await?;
    if p.state != ParcelState::ReturnAnnounced {
        return Err(ApiError::new(
            cubby_domain::codes::Code::IllegalTransition,
            format!(
                "the parcel is {}: only one not yet dropped off can be cancelled",
                p.state
            ),
        ));
    }
    let actor = format!("resident:{}", me.id);
    let now = now_ms();
    commit(state, move |conn| {
        Box::pin(async move {
            let (after, _) = db::parcels::transition(
                conn,
                &p.id,
                Transition::Cancel,
                None,
                &actor,
                "cancelled by the resident",
                now,
            )
            .await?;
            let changes = Changes::locker(after.locker_id.clone().unwrap_or_default());
            Ok((after, changes))
        })
    })
    .await
}

/// One of the resident's own returns or shipments (another's answers 404).
pub async fn mine(state: &AppState, me: &ResidentRow, parcel_id: &str) -> AppResult<ParcelRow> {
    super::check_id(ids::PARCEL, parcel_id, "parcel_id")?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let p = db::parcels::parcel(&mut conn, parcel_id).await?;
    let sending = db::parcels::sending_of(&mut conn, parcel_id).await?;
    match p {
        Some(p) if p.resident_id.as_deref() == Some(me.id.as_str()) && sending.is_some() => Ok(p),
        _ => Err(ApiError::not_found("parcel")),
    }
}
