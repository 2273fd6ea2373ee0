//! Parcels: pre-advice, deposit, pick-up, the lifecycle moves and their credentials, and reading parcels back.

use cubby_domain::Millis;
use cubby_domain::allocation;
use cubby_domain::allocation::Allocation;
use cubby_domain::allocation::NoCompartmentFits;
use cubby_domain::allocation::ParcelRequest;
use cubby_domain::allocation::Visit;
use cubby_domain::codes::Code;
use cubby_domain::credentials::CREDENTIAL_FAILURE_LIMIT;
use cubby_domain::dims::Dimensions;
use cubby_domain::lifecycle;
use cubby_domain::lifecycle::ParcelState;
use cubby_domain::lifecycle::Transition;
use cubby_domain::model::ReachBand;
use cubby_domain::model::TemperatureZone;
use cubby_domain::model::match_recipient;
use cubby_domain::throttle::KeypadRefusal;
use cubby_domain::throttle::ThrottlePolicy;
use cubby_domain::tracking::TrackingNumber;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::OpError;
use crate::custody::append_event;
use crate::lockers;
use crate::lockers::LockerRow;
use crate::lockers::load_throttle;
use crate::lockers::lock_locker;
use crate::lockers::save_throttle;
use crate::reservations;
use crate::residents;
use crate::residents::ResidentRow;
use crate::rows::{int, mm, opt_text, parse, text};
use crate::tenants;

mod collect;
mod overflow;
mod sending;
use collect::issue_credentials;
pub use collect::{
    PickupOutcome, PresentedMac, issue_pass, pickup, pickup_reported_by_device, reissue_code,
};
pub use overflow::{PointIds, overflow_options, redirect, redirect_to_point};
pub use sending::{
    CachedDropOff, DropOffSecret, LIVE_PER_RESIDENT, Sending, SendingAnnouncement,
    announce_sending, cache_drop_offs, drop_off_reported_by_device, sending_of,
    sendings_of_resident,
};

#[derive(Debug, Clone, Serialize)]
pub struct ParcelRow {
    pub id: String,
    pub site_id: String,
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub resident_id: Option<String>,
    pub recipient_unit: Option<String>,
    pub recipient_name: Option<String>,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub weight_g: Option<i64>,
    pub temperature: TemperatureZone,
    pub state: ParcelState,
    pub locker_id: Option<String>,
    pub compartment_id: Option<String>,
    pub compartment_label: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// The locker a pre-advised parcel was redirected to.
    pub redirected_to: Option<String>,
}

const PARCEL_SELECT: &str = "SELECT p.id, p.site_id, p.tracking_number, p.carrier, p.resident_id, p.recipient_unit, p.recipient_name, \
     p.width_mm, p.height_mm, p.depth_mm, p.weight_g, p.temperature, p.state, p.locker_id, p.compartment_id, c.label AS compartment_label, \
     p.created_ms, p.updated_ms, p.redirected_to FROM parcels p LEFT JOIN compartments c ON c.id = p.compartment_id";

pub(crate) fn parcel_row(r: &AnyRow) -> Result<ParcelRow, sqlx::Error> {
    let state_text = text(r, "state")?;
    Ok(ParcelRow {
        id: text(r, "id")?,
        site_id: text(r, "site_id")?,
        tracking_number: text(r, "tracking_number")?,
        carrier: opt_text(r, "carrier")?,
        resident_id: opt_text(r, "resident_id")?,
        recipient_unit: opt_text(r, "recipient_unit")?,
        recipient_name: opt_text(r, "recipient_name")?,
        width_mm: mm(r, "width_mm")?,
        height_mm: mm(r, "height_mm")?,
        depth_mm: mm(r, "depth_mm")?,
        weight_g: r.try_get("weight_g")?,
        temperature: parse(r, "temperature")?,
        state: ParcelState::parse(&state_text)
            .map_err(|e| sqlx::Error::Decode(e.to_string().into()))?,
        locker_id: opt_text(r, "locker_id")?,
        compartment_id: opt_text(r, "compartment_id")?,
        compartment_label: opt_text(r, "compartment_label")?,
        created_ms: int(r, "created_ms")?,
        updated_ms: int(r, "updated_ms")?,
        redirected_to: opt_text(r, "redirected_to")?,
    })
}

pub async fn parcel(conn: &mut AnyConnection, id: &str) -> Result<Option<ParcelRow>, OpError> {
    // PARCEL_SELECT is a constant; sqlx wants proof the text is not user input.
    let sql = sqlx::AssertSqlSafe(format!("{PARCEL_SELECT} WHERE p.id = $1"));
    let row = sqlx::query(sql)
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(parcel_row).transpose()?)
}

/// Parcels of a site, newest first, optionally by state, tracking number or resident.
pub async fn parcels(
    conn: &mut AnyConnection,
    site_id: &str,
    state: Option<ParcelState>,
    tracking_number: Option<&str>,
    limit: i64,
) -> Result<Vec<ParcelRow>, OpError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{PARCEL_SELECT} WHERE p.site_id = $1 AND ($2 = '' OR p.state = $2) AND ($3 = '' OR p.tracking_number = $3) \
         ORDER BY p.created_ms DESC, p.id LIMIT $4"
    ));
    let rows = sqlx::query(sql)
        .bind(site_id.to_string())
        .bind(state.map(|s| s.as_str().to_string()).unwrap_or_default())
        .bind(tracking_number.unwrap_or_default().to_string())
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(parcel_row).collect::<Result<_, _>>()?)
}

pub(crate) async fn parcels_where(
    conn: &mut AnyConnection,
    clause: &'static str,
    a: &str,
    b: &str,
) -> Result<Vec<ParcelRow>, OpError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{PARCEL_SELECT} WHERE {clause} ORDER BY p.created_ms, p.id"
    ));
    let rows = sqlx::query(sql)
        .bind(a.to_string())
        .bind(b.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(parcel_row).collect::<Result<_, _>>()?)
}

/// Parcels at a locker that wait for their carrier: expired ones going back,
/// and residents' returns and shipments dropped off.
pub async fn awaiting_carrier_at_locker(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<Vec<ParcelRow>, OpError> {
    parcels_where(
        conn,
        "p.locker_id = $1 AND p.state IN ($2, 'dropped_off')",
        locker_id,
        ParcelState::Expired.as_str(),
    )
    .await
}

/// A site's parcels whose tracking number, recipient unit or recipient name
/// matches what staff typed, newest first (at most `limit`).
pub async fn search_parcels(
    conn: &mut AnyConnection,
    site_id: &str,
    query: &str,
    limit: i64,
) -> Result<Vec<ParcelRow>, OpError> {
    let q = query.trim();
    // The name is matched on its normalised words, as deposits match it.
    let key = cubby_domain::model::name_key(q)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let sql = sqlx::AssertSqlSafe(format!(
        "{PARCEL_SELECT} LEFT JOIN residents r ON r.id = p.resident_id \
         WHERE p.site_id = $1 AND (p.tracking_number = $2 OR p.recipient_unit = $3 OR r.unit = $3 \
         OR ($4 <> '' AND r.name_key LIKE '%' || $4 || '%' ESCAPE '\\')) \
         ORDER BY p.created_ms DESC, p.id LIMIT $5"
    ));
    let rows = sqlx::query(sql)
        .bind(site_id.to_string())
        .bind(q.to_ascii_uppercase())
        .bind(q.to_string())
        .bind(key)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(parcel_row).collect::<Result<_, _>>()?)
}

/// Who a parcel is for, as the courier or carrier gave it.
#[derive(Debug, Clone)]
pub enum Recipient {
    Resident(String),
    UnitAndName { unit: String, name: String },
}

/// Secrets made by the caller from the OS random generator; the store keeps MACs only.
#[derive(Debug, Clone)]
pub struct DepositSecrets {
    pub code: String,
    pub code_mac: [u8; 32],
    /// The code's MAC under the locker's own credential key, which the locker's
    /// agent holds so that it can decide pick-ups offline.
    pub code_local_mac: [u8; 32],
    pub code_credential_id: String,
    pub qr_token: String,
    pub qr_mac: [u8; 32],
    pub qr_local_mac: [u8; 32],
    pub qr_credential_id: String,
    /// The same code and token under the other lockers of the site, for a
    /// deposit that overflows there (codes are scoped to their locker). Empty
    /// when the site does not overflow.
    pub elsewhere: Vec<LockerSecrets>,
}

/// A deposit's code and QR token as another locker of the site checks them.
#[derive(Debug, Clone)]
pub struct LockerSecrets {
    pub locker_id: String,
    pub code_mac: [u8; 32],
    pub code_local_mac: [u8; 32],
    pub qr_local_mac: [u8; 32],
    /// For the code as a credential at this locker when the parcel is not here.
    pub credential_id: String,
}

impl DepositSecrets {
    /// These secrets as `locker_id` checks them.
    pub fn at(&self, locker_id: &str) -> Option<DepositSecrets> {
        let there = self.elsewhere.iter().find(|l| l.locker_id == locker_id)?;
        Some(DepositSecrets {
            code_mac: there.code_mac,
            code_local_mac: there.code_local_mac,
            qr_local_mac: there.qr_local_mac,
            elsewhere: Vec::new(),
            ..self.clone()
        })
    }
}

#[derive(Debug, Clone)]
pub struct DepositRequest {
    pub parcel_id: String,
    pub locker_id: String,
    pub tracking_number: TrackingNumber,
    pub carrier: Option<String>,
    pub recipient: Recipient,
    pub dims: Dimensions,
    pub weight_g: Option<u32>,
    pub temperature: TemperatureZone,
    pub actor: String,
    pub now: Millis,
    /// The compartment the parcel is already in, when the locker chose it
    /// (a courier's deposit decided at the locker): only that one is
    /// considered.
    pub placed_at: Option<String>,
    /// The reservation whose held compartments this deposit takes (a
    /// pre-advised tracking number on a reservation finds it too).
    pub reservation_id: Option<String>,
    /// When nothing fits here, deposit at the nearest other locker of the
    /// site that takes the parcel (the site's policy allows it).
    pub overflow_to_nearest: bool,
}

/// The plain credentials to tell the recipient (never stored).
#[derive(Debug, Clone)]
pub struct IssuedCredential {
    /// `None` when the recipient already holds a code for this locker: it now
    /// opens this parcel too (one code for all parcels waiting in one locker).
    pub code: Option<String>,
    pub qr_token: String,
}

#[derive(Debug, Clone)]
pub struct DepositOutcome {
    pub parcel: ParcelRow,
    pub allocation: Allocation,
    pub locker: LockerRow,
    pub resident: Option<ResidentRow>,
    pub credential: Option<IssuedCredential>,
    /// The full locker the deposit was asked for, when it overflowed.
    pub overflowed_from: Option<String>,
}

/// Where an arrived parcel was put.
pub(crate) enum ArrivedAt<'a> {
    Compartment {
        locker_id: &'a str,
        compartment_id: &'a str,
    },
    Shelf {
        zone_id: &'a str,
        room_grant_id: Option<&'a str>,
    },
}

/// A parcel that arrived: at a compartment (deposit) or on a shelf.
pub(crate) struct Arrival<'a> {
    pub parcel_id: &'a str,
    pub site_id: &'a str,
    /// It continues a pre-advice (same id and history) rather than starting anew.
    pub announced: bool,
    pub tracking_number: &'a TrackingNumber,
    pub carrier: Option<String>,
    pub resident_id: Option<String>,
    pub unit: Option<String>,
    pub name: Option<String>,
    pub dims: Dimensions,
    pub weight_g: Option<i64>,
    pub temperature: TemperatureZone,
    pub state: ParcelState,
    pub place: ArrivedAt<'a>,
    pub now: Millis,
}

/// Writes an arrived parcel: updates its pre-advice, or inserts it. The
/// carrier of a pre-advice is kept when the arrival names none.
pub(crate) async fn upsert_arrived(
    conn: &mut AnyConnection,
    a: &Arrival<'_>,
) -> Result<(), OpError> {
    let (locker_id, compartment_id, zone_id, grant_id) = match a.place {
        ArrivedAt::Compartment {
            locker_id,
            compartment_id,
        } => (Some(locker_id), Some(compartment_id), None, None),
        ArrivedAt::Shelf {
            zone_id,
            room_grant_id,
        } => (None, None, Some(zone_id), room_grant_id),
    };
    // A parcel bigger than its pre-advice said: the carrier's report counts it.
    if a.announced
        && let Some(before) = parcel(conn, a.parcel_id).await?
        && !a.dims.fits_in(&Dimensions::new(
            before.width_mm,
            before.height_mm,
            before.depth_mm,
        ))
    {
        sqlx::query("UPDATE parcels SET size_mismatch = 1 WHERE id = $1")
            .bind(a.parcel_id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    let sql = if a.announced {
        "UPDATE parcels SET state = $1, resident_id = $2, recipient_unit = $3, recipient_name = $4, width_mm = $5, height_mm = $6, \
         depth_mm = $7, weight_g = $8, temperature = $9, locker_id = $10, compartment_id = $11, shelf_zone_id = $12, \
         room_grant_id = $13, updated_ms = $14, carrier = COALESCE($15, carrier) WHERE id = $16"
    } else {
        "INSERT INTO parcels (state, resident_id, recipient_unit, recipient_name, width_mm, height_mm, depth_mm, weight_g, \
         temperature, locker_id, compartment_id, shelf_zone_id, room_grant_id, created_ms, updated_ms, carrier, id, site_id, \
         tracking_number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16, $17, $18)"
    };
    let mut q = sqlx::query(sql)
        .bind(a.state.as_str().to_string())
        .bind(a.resident_id.clone())
        .bind(a.unit.clone())
        .bind(a.name.clone())
        .bind(i64::from(a.dims.width_mm))
        .bind(i64::from(a.dims.height_mm))
        .bind(i64::from(a.dims.depth_mm))
        .bind(a.weight_g)
        .bind(a.temperature.as_str().to_string())
        .bind(locker_id.map(str::to_string))
        .bind(compartment_id.map(str::to_string))
        .bind(zone_id.map(str::to_string))
        .bind(grant_id.map(str::to_string))
        .bind(a.now)
        .bind(a.carrier.clone())
        .bind(a.parcel_id.to_string());
    if !a.announced {
        q = q
            .bind(a.site_id.to_string())
            .bind(a.tracking_number.as_str().to_string());
    }
    q.execute(&mut *conn).await?;
    Ok(())
}

/// The pre-advised parcel with this tracking number, which a delivery
/// continues (same id and history); a parcel with it already here is a
/// conflict.
pub async fn announced_parcel(
    conn: &mut AnyConnection,
    site_id: &str,
    tracking_number: &TrackingNumber,
) -> Result<Option<ParcelRow>, OpError> {
    let existing = parcels_where(
        conn,
        "p.site_id = $1 AND p.tracking_number = $2 AND p.state IN ('announced', 'deposited', 'on_hold', 'unassigned', 'expired')",
        site_id,
        tracking_number.as_str(),
    )
    .await?;
    match existing.first() {
        Some(p) if p.state == ParcelState::Announced => Ok(Some(p.clone())),
        Some(_) => Err(OpError::Conflict {
            code: Code::ParcelAlreadyDeposited,
            message: "a parcel with this tracking number is already here on this site".into(),
        }),
        None => Ok(None),
    }
}

pub(crate) async fn resolve_recipient(
    conn: &mut AnyConnection,
    site_id: &str,
    recipient: &Recipient,
) -> Result<Option<ResidentRow>, OpError> {
    match recipient {
        Recipient::Resident(id) => match residents::resident(conn, id).await? {
            Some(r) if r.site_id == site_id => Ok(Some(r)),
            _ => Err(OpError::NotFound { what: "resident" }),
        },
        Recipient::UnitAndName { unit, name } => {
            let candidates = residents::residents_in_unit(conn, site_id, unit).await?;
            let keys: Vec<(String, String)> = candidates
                .iter()
                .map(|(r, k)| (r.id.clone(), k.clone()))
                .collect();
            let chosen = match_recipient(name, &keys).map(str::to_string);
            Ok(candidates
                .into_iter()
                .map(|(r, _)| r)
                .find(|r| Some(&r.id) == chosen.as_ref()))
        }
    }
}

fn reach_of(resident: &ResidentRow) -> Option<ReachBand> {
    match (resident.reach_min_mm, resident.reach_max_mm) {
        (Some(lo), Some(hi)) => {
            ReachBand::new(u32::try_from(lo).ok()?, u32::try_from(hi).ok()?).ok()
        }
        _ => None,
    }
}

/// Deposits a parcel: finds the recipient, allocates a compartment, records custody
/// and issues pick-up credentials. When nothing fits and the request allows
/// it, the parcel goes to the nearest other locker of the site that takes it.
pub async fn deposit(
    conn: &mut AnyConnection,
    req: &DepositRequest,
    secrets: &DepositSecrets,
) -> Result<DepositOutcome, OpError> {
    match deposit_at(conn, req, secrets).await {
        Err(OpError::NoCompartmentFits { reason, overflow })
            if req.overflow_to_nearest && req.placed_at.is_none() =>
        {
            // The code must be minted for the locker it will be typed at.
            let Some((nearest, secrets_there)) = overflow
                .iter()
                .filter(|o| o.kind == "locker")
                .find_map(|o| secrets.at(&o.id).map(|s| (o, s)))
            else {
                return Err(OpError::NoCompartmentFits { reason, overflow });
            };
            let there = DepositRequest {
                locker_id: nearest.id.clone(),
                overflow_to_nearest: false,
                ..req.clone()
            };
            let mut out = deposit_at(conn, &there, &secrets_there).await?;
            out.overflowed_from = Some(req.locker_id.clone());
            one_code_for_both(conn, req, secrets, &out).await?;
            Ok(out)
        }
        other => other,
    }
}

/// After an overflow, the resident's fresh code opens what waits for them
/// at the full locker too: one code for the site's two lockers, as the
/// notice says. (Their earlier code there keeps working.)
async fn one_code_for_both(
    conn: &mut AnyConnection,
    req: &DepositRequest,
    secrets: &DepositSecrets,
    out: &DepositOutcome,
) -> Result<(), OpError> {
    let (Some(resident), Some(IssuedCredential { code: Some(_), .. })) =
        (&out.resident, &out.credential)
    else {
        return Ok(());
    };
    let waiting = parcels_where(
        conn,
        "p.locker_id = $1 AND p.resident_id = $2 AND p.state IN ('deposited', 'on_hold', 'expired')",
        &req.locker_id,
        &resident.id,
    )
    .await?;
    if waiting.is_empty() {
        return Ok(());
    }
    let Some(there) = secrets
        .elsewhere
        .iter()
        .find(|l| l.locker_id == out.locker.id)
    else {
        return Ok(());
    };
    collect::insert_credential(
        conn,
        &there.credential_id,
        &req.locker_id,
        &resident.id,
        "keypad",
        (&secrets.code_mac, &secrets.code_local_mac),
        None,
        req.now,
    )
    .await
}

async fn deposit_at(
    conn: &mut AnyConnection,
    req: &DepositRequest,
    secrets: &DepositSecrets,
) -> Result<DepositOutcome, OpError> {
    let locker = lock_locker(conn, &req.locker_id).await?;
    let resident = resolve_recipient(conn, &locker.site_id, &req.recipient).await?;

    let announced = announced_parcel(conn, &locker.site_id, &req.tracking_number).await?;
    if let Some(a) = &announced {
        overflow::refuse_if_redirected(a, &locker)?;
    } else {
        overflow::refuse_if_moved_to_point(conn, &locker.site_id, &req.tracking_number).await?;
    }
    let parcel_id = announced
        .as_ref()
        .map(|p| p.id.clone())
        .unwrap_or_else(|| req.parcel_id.clone());
    let transition = if resident.is_some() {
        Transition::Deposit
    } else {
        Transition::DepositUnassigned
    };
    let new_state = lifecycle::apply(announced.as_ref().map(|p| p.state), transition)?;

    let request = ParcelRequest {
        dims: req.dims,
        temperature: req.temperature,
        recipient_key: resident.as_ref().map(|r| r.id.clone()),
        carrier: req.carrier.clone(),
        reach: resident.as_ref().and_then(reach_of),
        // Only a compartment this depositor opened during this visit may be
        // shared with the new parcel.
        visit: Some(Visit {
            depositor: req.actor.clone(),
            now_ms: req.now,
        }),
    };
    let holds = reservations::for_deposit(
        conn,
        &locker,
        req.reservation_id.as_deref(),
        &req.tracking_number,
        req.carrier.as_deref(),
        req.now,
    )
    .await?;
    let mut view = lockers::allocation_view(conn, &locker.id).await?;
    // Held compartments: the deposit's own first (after consolidation),
    // nobody else's. A parcel already placed at the locker stays where it is.
    let own_view = holds.own_view(&view);
    match &req.placed_at {
        Some(label) => view.retain(|c| &c.label == label),
        None => holds.mark_reserved(&mut view),
    }
    let own = match req.placed_at {
        Some(_) => Vec::new(),
        None => allocation::rank(&request, &own_view, &Default::default()).unwrap_or_default(),
    };
    let ranked = match (
        allocation::rank(&request, &view, &locker.carrier_quotas),
        own,
    ) {
        (Ok(general), own) => {
            let (consolidated, empty): (Vec<_>, Vec<_>) =
                general.into_iter().partition(|a| a.consolidated);
            consolidated
                .into_iter()
                .chain(own)
                .chain(empty)
                .collect::<Vec<_>>()
        }
        (Err(_), own) if !own.is_empty() => own,
        (Err(reason), _) => return Err(no_fit(conn, &locker, &request, req.now, reason).await),
    };
    let holder_key = resident
        .as_ref()
        .map(|r| r.id.clone())
        .unwrap_or_else(|| format!("unassigned:{parcel_id}"));
    let mut chosen = None;
    for candidate in ranked {
        if candidate.consolidated {
            chosen = Some(candidate);
            break;
        }
        // The primary key on compartment_holders is the last word on double booking.
        let claimed = sqlx::query(
            "INSERT INTO compartment_holders (compartment_id, locker_id, recipient_key, carrier, opened_by, opened_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (compartment_id) DO NOTHING",
        )
        .bind(candidate.compartment_id.clone())
        .bind(locker.id.clone())
        .bind(holder_key.clone())
        .bind(req.carrier.clone())
        .bind(req.actor.clone())
        .bind(req.now)
        .execute(&mut *conn)
        .await?;
        if claimed.rows_affected() == 1 {
            chosen = Some(candidate);
            break;
        }
    }
    if let Some(a) = &chosen
        && holds.all.contains(&a.compartment_id)
    {
        let own = holds.own.contains(&a.compartment_id);
        reservations::settle_hold(conn, &a.compartment_id, &parcel_id, own, req.now).await?;
    }
    let Some(allocation) = chosen else {
        return Err(no_fit(
            conn,
            &locker,
            &request,
            req.now,
            NoCompartmentFits::AllOccupied {
                zone: req.temperature,
            },
        )
        .await);
    };

    let (unit, name) = match &req.recipient {
        Recipient::Resident(_) => (resident.as_ref().map(|r| r.unit.clone()), None),
        Recipient::UnitAndName { unit, name } => (Some(unit.clone()), Some(name.clone())),
    };
    upsert_arrived(
        conn,
        &Arrival {
            parcel_id: &parcel_id,
            site_id: &locker.site_id,
            announced: announced.is_some(),
            tracking_number: &req.tracking_number,
            carrier: req.carrier.clone(),
            resident_id: resident.as_ref().map(|r| r.id.clone()),
            unit,
            name,
            dims: req.dims,
            weight_g: req.weight_g.map(i64::from),
            temperature: req.temperature,
            state: new_state,
            place: ArrivedAt::Compartment {
                locker_id: &locker.id,
                compartment_id: &allocation.compartment_id,
            },
            now: req.now,
        },
    )
    .await?;
    let place = format!("locker {} / {}", locker.name, allocation.label);
    let reason = match (allocation.consolidated, resident.is_some()) {
        (_, false) => "deposited; recipient not recognised, waiting in the manager queue",
        (true, true) => "deposited with the recipient's other parcels",
        (false, true) => "deposited",
    };
    append_event(
        conn,
        &locker.site_id,
        &parcel_id,
        transition.event_kind(),
        &req.actor,
        req.now,
        &place,
        reason,
    )
    .await?;

    let credential = match &resident {
        Some(r) => {
            Some(issue_credentials(conn, &locker.id, &r.id, &parcel_id, secrets, req.now).await?)
        }
        None => None,
    };
    let mut parcel = parcel(conn, &parcel_id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })?;
    // Vacation: a parcel for a resident who is away is held from the start,
    // so it does not expire before they are back.
    if let Some(r) = &resident
        && residents::away_until(conn, &r.id)
            .await?
            .is_some_and(|until| until > req.now)
    {
        parcel = apply_transition(
            conn,
            &parcel,
            Transition::Hold,
            "system:vacation",
            "held while the recipient is away",
            req.now,
        )
        .await?;
    }
    Ok(DepositOutcome {
        parcel,
        allocation,
        locker,
        resident,
        credential,
        overflowed_from: None,
    })
}

async fn no_fit(
    conn: &mut AnyConnection,
    locker: &LockerRow,
    request: &ParcelRequest,
    now: Millis,
    reason: NoCompartmentFits,
) -> OpError {
    match overflow_options(conn, locker, request, now).await {
        Ok(overflow) => OpError::NoCompartmentFits { reason, overflow },
        Err(e) => e,
    }
}

/// Pre-advice from a carrier: the parcel exists before it arrives.
#[derive(Debug, Clone)]
pub struct Announcement {
    pub parcel_id: String,
    pub site_id: String,
    pub tracking_number: TrackingNumber,
    pub carrier: Option<String>,
    pub resident_id: Option<String>,
    pub dims: Dimensions,
    pub weight_g: Option<u32>,
    pub temperature: TemperatureZone,
    pub actor: String,
    pub now: Millis,
}

pub async fn announce(conn: &mut AnyConnection, a: &Announcement) -> Result<ParcelRow, OpError> {
    let site = tenants::site(conn, &a.site_id)
        .await?
        .ok_or(OpError::NotFound { what: "site" })?;
    if let Some(rid) = &a.resident_id {
        match residents::resident(conn, rid).await? {
            Some(r) if r.site_id == site.id => {}
            _ => return Err(OpError::NotFound { what: "resident" }),
        }
    }
    let live = parcels_where(
        conn,
        "p.site_id = $1 AND p.tracking_number = $2 AND p.state IN ('announced', 'deposited', 'on_hold', 'unassigned', 'expired')",
        &site.id,
        a.tracking_number.as_str(),
    )
    .await?;
    if !live.is_empty() {
        return Err(OpError::Conflict {
            code: Code::ParcelExists,
            message: "a parcel with this tracking number is already expected or here".into(),
        });
    }
    let state = lifecycle::apply(None, Transition::Announce)?;
    sqlx::query(
        "INSERT INTO parcels (id, site_id, tracking_number, carrier, resident_id, width_mm, height_mm, depth_mm, weight_g, temperature, \
         state, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(a.parcel_id.clone())
    .bind(site.id.clone())
    .bind(a.tracking_number.as_str().to_string())
    .bind(a.carrier.clone())
    .bind(a.resident_id.clone())
    .bind(i64::from(a.dims.width_mm))
    .bind(i64::from(a.dims.height_mm))
    .bind(i64::from(a.dims.depth_mm))
    .bind(a.weight_g.map(i64::from))
    .bind(a.temperature.as_str().to_string())
    .bind(state.as_str().to_string())
    .bind(a.now)
    .execute(&mut *conn)
    .await?;
    append_event(
        conn,
        &site.id,
        &a.parcel_id,
        Transition::Announce.event_kind(),
        &a.actor,
        a.now,
        "carrier pre-advice",
        "pre-advised",
    )
    .await?;
    parcel(conn, &a.parcel_id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })
}

/// Applies one lifecycle transition to a stored parcel and keeps compartments and
/// credentials in step: a compartment is released when its last parcel leaves, and
/// the recipient's credentials at a locker end when nothing is left to collect.
pub(crate) async fn apply_transition(
    conn: &mut AnyConnection,
    p: &ParcelRow,
    t: Transition,
    actor: &str,
    reason: &str,
    now: Millis,
) -> Result<ParcelRow, OpError> {
    let next = lifecycle::apply(Some(p.state), t)?;
    sqlx::query("UPDATE parcels SET state = $1, updated_ms = $2 WHERE id = $3")
        .bind(next.as_str().to_string())
        .bind(now)
        .bind(p.id.clone())
        .execute(&mut *conn)
        .await?;
    let place = match (&p.locker_id, &p.compartment_label) {
        (Some(_), Some(label)) => {
            let name = match &p.locker_id {
                Some(id) => lockers::locker(conn, id)
                    .await?
                    .map(|l| l.name)
                    .unwrap_or_default(),
                None => String::new(),
            };
            format!("locker {name} / {label}")
        }
        _ => "site".to_string(),
    };
    append_event(
        conn,
        &p.site_id,
        &p.id,
        t.event_kind(),
        actor,
        now,
        &place,
        reason,
    )
    .await?;
    if p.state == ParcelState::ReturnAnnounced {
        sending::end_drop_off_code(conn, &p.id).await?;
    }
    if p.state.is_in_compartment() && !next.is_in_compartment() {
        if let Some(cid) = &p.compartment_id {
            let others = sqlx::query(
                "SELECT COUNT(*) AS n FROM parcels WHERE compartment_id = $1 AND id <> $2 AND state IN ('deposited', 'on_hold', 'unassigned', 'expired', 'dropped_off')",
            )
            .bind(cid.clone())
            .bind(p.id.clone())
            .fetch_one(&mut *conn)
            .await?;
            if int(&others, "n")? == 0 {
                sqlx::query("DELETE FROM compartment_holders WHERE compartment_id = $1")
                    .bind(cid.clone())
                    .execute(&mut *conn)
                    .await?;
            }
        }
        if let (Some(lid), Some(rid)) = (&p.locker_id, &p.resident_id) {
            let left = parcels_where(
                conn,
                "p.locker_id = $1 AND p.resident_id = $2 AND p.state IN ('deposited', 'on_hold', 'expired')",
                lid,
                rid,
            )
            .await?;
            if left.iter().all(|o| o.id == p.id) {
                sqlx::query("UPDATE pickup_credentials SET active = 0 WHERE locker_id = $1 AND resident_id = $2")
                    .bind(lid.clone())
                    .bind(rid.clone())
                    .execute(&mut *conn)
                    .await?;
            } else {
                sqlx::query("UPDATE pickup_credentials SET active = 0 WHERE parcel_id = $1")
                    .bind(p.id.clone())
                    .execute(&mut *conn)
                    .await?;
            }
        }
    }
    parcel(conn, &p.id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })
}

/// A staff or system transition (hold, release, expire, return, cancel, pick-up by
/// hand, or assigning an unassigned parcel to a resident with fresh credentials).
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    conn: &mut AnyConnection,
    parcel_id: &str,
    t: Transition,
    assign_to: Option<(&str, &DepositSecrets)>,
    actor: &str,
    reason: &str,
    now: Millis,
) -> Result<(ParcelRow, Option<IssuedCredential>), OpError> {
    let p = parcel(conn, parcel_id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })?;
    if let Some(lid) = &p.locker_id {
        lock_locker(conn, lid).await?;
    }
    let mut issued = None;
    if t == Transition::Assign {
        let Some((resident_id, secrets)) = assign_to else {
            return Err(cubby_domain::model::Invalid::new(
                "resident_id",
                "is required to assign a parcel",
            )
            .into());
        };
        lifecycle::apply(Some(p.state), t)?;
        match residents::resident(conn, resident_id).await? {
            Some(r) if r.site_id == p.site_id => {}
            _ => return Err(OpError::NotFound { what: "resident" }),
        }
        sqlx::query("UPDATE parcels SET resident_id = $1 WHERE id = $2")
            .bind(resident_id.to_string())
            .bind(p.id.clone())
            .execute(&mut *conn)
            .await?;
        if let Some(cid) = &p.compartment_id {
            sqlx::query(
                "UPDATE compartment_holders SET recipient_key = $1 WHERE compartment_id = $2",
            )
            .bind(resident_id.to_string())
            .bind(cid.clone())
            .execute(&mut *conn)
            .await?;
        }
        if let Some(lid) = &p.locker_id {
            issued = Some(issue_credentials(conn, lid, resident_id, &p.id, secrets, now).await?);
        }
    }
    let p = parcel(conn, parcel_id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })?;
    let after = apply_transition(conn, &p, t, actor, reason, now).await?;
    Ok((after, issued))
}

/// A resident's parcels, newest first (at most `limit`).
pub async fn parcels_of_resident(
    conn: &mut AnyConnection,
    site_id: &str,
    resident_id: &str,
    limit: usize,
) -> Result<Vec<ParcelRow>, OpError> {
    let mut rows = parcels_where(
        conn,
        "p.site_id = $1 AND p.resident_id = $2",
        site_id,
        resident_id,
    )
    .await?;
    rows.reverse();
    rows.truncate(limit);
    Ok(rows)
}
