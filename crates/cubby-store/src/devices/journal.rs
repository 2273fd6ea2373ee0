//! A locker's journal arriving: stored exactly once per entry, in chain order, and acted on (deposits confirmed or recorded, pick-ups, incidents, door uses).

use super::*;

/// What journal ingest needs from the server: ids, and fresh pick-up
/// credentials for parcels couriers deposited at the locker.
pub trait IngestHooks: Send {
    fn new_id(&mut self) -> String;
    /// An id for a message queued during ingest.
    fn new_message_id(&mut self) -> String {
        self.new_id()
    }
    fn deposit_secrets(&mut self, locker_id: &str) -> DepositSecrets;
}

/// The answer to one journal batch.
#[derive(Debug, Clone)]
pub struct JournalIngest {
    /// Every entry up to here is stored.
    pub up_to_seq: u64,
    /// Set when the batch did not continue the stored chain.
    pub resend_from: Option<u64>,
    /// Entries newly stored by this batch.
    pub stored: u64,
    /// Parcels couriers deposited at the locker, recorded by this batch: their
    /// recipients must be told (in the same transaction).
    pub deposits: Vec<DepositOutcome>,
    /// Residents' returns and shipments couriers took at the locker: their
    /// senders must be told.
    pub sendings_collected: Vec<parcels::ParcelRow>,
    /// Credentials the locker accepted or refused, for `access.*` webhooks.
    pub access: Vec<AccessNote>,
}

/// A credential the locker accepted or refused (nothing of the credential
/// itself: how it was presented, which doors, which parcels).
#[derive(Debug, Clone)]
pub struct AccessNote {
    pub seq: u64,
    pub at_ms: Millis,
    pub granted: bool,
    /// `keypad`, `qr`, `phone`, `courier` or `drop_off`.
    pub via: String,
    pub compartments: Vec<String>,
    pub parcel_ids: Vec<String>,
    /// For a refusal: `no_match` or `locked_out`.
    pub reason: Option<String>,
}

/// Stores a batch of journal entries from a device, exactly once each, and acts
/// on them (pick-ups, deposit confirmations, incidents). Entries already stored
/// are skipped; a batch that does not continue the stored chain stores nothing
/// and asks for a resend; an altered entry raises an incident.
pub async fn ingest_journal(
    conn: &mut AnyConnection,
    device_id: &str,
    entries: &[JournalEntry],
    now: Millis,
    hooks: &mut dyn IngestHooks,
) -> Result<JournalIngest, OpError> {
    let row = sqlx::query(locked!(
        conn,
        "SELECT journal_seq, journal_hash FROM devices WHERE id = $1"
    ))
    .bind(device_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(OpError::NotFound { what: "device" })?;
    let head_seq = int(&row, "journal_seq")? as u64;
    let head_hash = text(&row, "journal_hash")?;
    let fresh: Vec<&JournalEntry> = entries.iter().filter(|e| e.seq > head_seq).collect();
    if fresh.is_empty() {
        return Ok(JournalIngest {
            up_to_seq: head_seq,
            resend_from: None,
            stored: 0,
            deposits: Vec::new(),
            sendings_collected: Vec::new(),
            access: Vec::new(),
        });
    }
    let owned: Vec<JournalEntry> = fresh.iter().map(|e| (*e).clone()).collect();
    if let Err(broken) = verify_continuation(head_seq, &head_hash, &owned) {
        // A gap means entries were lost in transit: ask again. Anything else is
        // an altered journal, which staff must see.
        if !matches!(broken, cubby_protocol::journal::JournalBreak::Gap { .. }) {
            raise_incident(
                conn,
                &NewIncident {
                    id: hooks.new_id(),
                    device_id,
                    compartment_label: None,
                    parcel_id: None,
                    kind: "journal_chain_broken",
                    detail: broken.to_string(),
                },
                now,
            )
            .await?;
        }
        return Ok(JournalIngest {
            up_to_seq: head_seq,
            resend_from: Some(head_seq + 1),
            stored: 0,
            deposits: Vec::new(),
            sendings_collected: Vec::new(),
            access: Vec::new(),
        });
    }
    let place = device_place(conn, device_id).await?;
    let mut deposits = Vec::new();
    let mut sendings_collected = Vec::new();
    let mut access = Vec::new();
    for e in &owned {
        let body = serde_json::to_string(&e.event).unwrap_or_default();
        sqlx::query(
            "INSERT INTO device_events (device_id, seq, at_ms, kind, compartment_label, body, hash, received_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(device_id.to_string())
        .bind(e.seq as i64)
        .bind(e.at_ms)
        .bind(e.event.kind().to_string())
        .bind(compartment_of(&e.event))
        .bind(body)
        .bind(e.hash.clone())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if let Some(done) = act_on(
            conn,
            device_id,
            &place,
            e,
            now,
            hooks,
            &mut sendings_collected,
            &mut access,
        )
        .await?
        {
            deposits.push(done);
        }
    }
    let last = owned.last().map(|e| (e.seq, e.hash.clone()));
    if let Some((seq, hash)) = last.clone() {
        sqlx::query("UPDATE devices SET journal_seq = $1, journal_hash = $2, last_seen_ms = $3 WHERE id = $4")
            .bind(seq as i64)
            .bind(hash)
            .bind(now)
            .bind(device_id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(JournalIngest {
        up_to_seq: last.map(|l| l.0).unwrap_or(head_seq),
        resend_from: None,
        stored: owned.len() as u64,
        deposits,
        sendings_collected,
        access,
    })
}

pub(super) fn compartment_of(e: &EdgeEvent) -> Option<String> {
    match e {
        EdgeEvent::Unlocked { compartment, .. }
        | EdgeEvent::DoorOpened { compartment, .. }
        | EdgeEvent::DoorClosed { compartment, .. }
        | EdgeEvent::DoorForced { compartment }
        | EdgeEvent::DoorHeldOpen { compartment, .. }
        | EdgeEvent::LockStuck { compartment }
        | EdgeEvent::DepositMade { compartment, .. }
        | EdgeEvent::DropOffMade { compartment, .. }
        | EdgeEvent::ReturnCollected { compartment, .. } => Some(compartment.clone()),
        _ => None,
    }
}

/// What the server does with one journal entry. Returns the deposit it
/// recorded, if the entry was a courier's deposit at the locker.
#[allow(clippy::too_many_arguments)]
pub(super) async fn act_on(
    conn: &mut AnyConnection,
    device_id: &str,
    place: &DevicePlace,
    e: &JournalEntry,
    now: Millis,
    hooks: &mut dyn IngestHooks,
    sendings_collected: &mut Vec<parcels::ParcelRow>,
    access: &mut Vec<AccessNote>,
) -> Result<Option<DepositOutcome>, OpError> {
    let note = |granted: bool,
                via: &str,
                compartments: Vec<String>,
                parcel_ids: Vec<String>,
                reason: Option<&str>| AccessNote {
        seq: e.seq,
        at_ms: e.at_ms,
        granted,
        via: via.to_string(),
        compartments,
        parcel_ids,
        reason: reason.map(str::to_string),
    };
    let mut recorded = None;
    let actor = format!("device:{device_id}");
    let incident = |kind: &'static str, label: Option<&str>, detail: String| {
        (kind, label.map(str::to_string), detail)
    };
    let raised = match &e.event {
        EdgeEvent::PickupGranted {
            credential_id,
            compartments,
            via,
            ..
        } => {
            let who = format!("{actor} ({} at the locker)", via.as_str());
            let taken = pickup_reported_by_device(
                conn,
                &place.locker_id,
                credential_id,
                compartments,
                &who,
                e.at_ms,
            )
            .await?;
            access.push(note(
                true,
                via.as_str(),
                compartments.clone(),
                taken.iter().map(|p| p.id.clone()).collect(),
                None,
            ));
            if taken.is_empty() {
                Some(incident(
                    "pickup_unmatched",
                    compartments.first().map(String::as_str),
                    format!(
                        "the locker opened {} for credential {credential_id}, but no waiting parcel matched",
                        compartments.join(", ")
                    ),
                ))
            } else {
                None
            }
        }
        EdgeEvent::PickupDenied { via } => {
            access.push(note(
                false,
                via.as_str(),
                Vec::new(),
                Vec::new(),
                Some("no_match"),
            ));
            None
        }
        EdgeEvent::AccessGranted { grant_id, door_id } => {
            let new = access::record_access_use(conn, device_id, e.seq, grant_id, door_id, e.at_ms)
                .await?;
            // A room code's holder went into the parcel room: their parcels
            // there are collected and the code ends.
            if new {
                access::notify_host_of_use(
                    conn,
                    hooks.new_message_id(),
                    grant_id,
                    door_id,
                    e.at_ms,
                    now,
                )
                .await?;
                rooms::room_entered(
                    conn,
                    grant_id,
                    door_id,
                    &format!("{actor} (room code {grant_id})"),
                    e.at_ms,
                )
                .await?;
            }
            None
        }
        EdgeEvent::DoorClosed {
            compartment,
            item_present,
        } => door_closed(
            conn,
            device_id,
            place,
            e.seq,
            compartment,
            *item_present,
            &actor,
            now,
        )
        .await?
        .map(|(kind, detail)| incident(kind, Some(compartment), detail)),
        EdgeEvent::DepositMade {
            pass_id,
            parcel_id,
            compartment,
        } => {
            let (outcome, problem) = edge_deposit(
                conn,
                device_id,
                place,
                pass_id,
                parcel_id,
                compartment,
                e.at_ms,
                hooks,
            )
            .await?;
            // Every use of a courier pass is in the security audit log,
            // whether or not the deposit could be reconciled.
            let reason = problem.as_ref().map_or_else(
                || format!("deposited parcel {parcel_id}"),
                |(_, d)| d.clone(),
            );
            audit_pass_use(
                conn,
                device_id,
                place,
                pass_id,
                compartment,
                e.at_ms,
                reason,
            )
            .await?;
            recorded = outcome;
            access.push(note(
                true,
                "courier",
                vec![compartment.clone()],
                vec![parcel_id.clone()],
                None,
            ));
            problem.map(|(kind, detail)| incident(kind, Some(compartment), detail))
        }
        EdgeEvent::DropOffMade {
            credential_id,
            parcel_id,
            compartment,
        } => parcels::drop_off_reported_by_device(
            conn,
            &place.locker_id,
            credential_id,
            parcel_id,
            compartment,
            &format!("{actor} (drop-off code at the locker)"),
            e.at_ms,
        )
        .await?
        .map(|detail| incident("drop_off_unreconciled", Some(compartment), detail)),
        EdgeEvent::ReturnCollected {
            pass_id,
            parcel_id,
            compartment,
        } => {
            let (taken, problem) = return_collected(
                conn,
                place,
                pass_id,
                parcel_id,
                compartment,
                &actor,
                e.at_ms,
            )
            .await?;
            let reason = problem.as_ref().map_or_else(
                || format!("took parcel {parcel_id} for its carrier"),
                |(_, d)| d.clone(),
            );
            audit_pass_use(
                conn,
                device_id,
                place,
                pass_id,
                compartment,
                e.at_ms,
                reason,
            )
            .await?;
            sendings_collected.extend(taken);
            problem.map(|(kind, detail)| incident(kind, Some(compartment), detail))
        }
        EdgeEvent::DoorForced { compartment } => Some(incident(
            "door_forced",
            Some(compartment),
            "the door opened without an unlock".into(),
        )),
        EdgeEvent::DoorHeldOpen {
            compartment,
            seconds,
        } => Some(incident(
            "door_held_open",
            Some(compartment),
            format!("the door has been open for {seconds} s"),
        )),
        EdgeEvent::LockStuck { compartment } => Some(incident(
            "lock_stuck",
            Some(compartment),
            "the lock did not release when told to".into(),
        )),
        EdgeEvent::CommandRefused { cmd_id, reason, .. } => Some(incident(
            "remote_open_refused",
            None,
            format!("the locker refused unlock {cmd_id}: {reason}"),
        )),
        EdgeEvent::BoardFault { detail } => Some(incident("board_fault", None, detail.clone())),
        // Brute force at a keypad (a locker's or a door's): staff must know.
        EdgeEvent::KeypadLocked { until_ms } => Some(incident(
            "keypad_locked",
            None,
            match until_ms {
                Some(until) => format!("too many wrong codes; keypad locked until {until} (ms)"),
                None => "keypad entry disabled for the day after too many wrong codes".into(),
            },
        )),
        EdgeEvent::CacheRefused { reason } => Some(incident(
            "cache_refused",
            None,
            format!("the locker refused a credential cache: {reason}"),
        )),
        _ => None,
    };
    if let Some((kind, label, detail)) = raised {
        raise_incident(
            conn,
            &NewIncident {
                id: hooks.new_id(),
                device_id,
                compartment_label: label.as_deref(),
                parcel_id: None,
                kind,
                detail,
            },
            now,
        )
        .await?;
    }
    Ok(recorded)
}

/// Records a deposit a courier made at the locker with a courier pass. The
/// parcel is physically in the compartment whatever the server thinks, so a
/// pass that was revoked or expired meanwhile still records the deposit (and
/// raises an incident); a deposit that cannot be reconciled (the parcel is
/// unknown or no longer pre-advised, the compartment is taken in the server's
/// view) raises `deposit_unreconciled` for staff.
#[allow(clippy::too_many_arguments)]
pub(super) async fn edge_deposit(
    conn: &mut AnyConnection,
    device_id: &str,
    place: &DevicePlace,
    pass_id: &str,
    parcel_id: &str,
    label: &str,
    at_ms: Millis,
    hooks: &mut dyn IngestHooks,
) -> Result<(Option<DepositOutcome>, Option<(&'static str, String)>), OpError> {
    let unreconciled = |detail: String| Ok((None, Some(("deposit_unreconciled", detail))));
    let Some(parcel) = parcels::parcel(conn, parcel_id).await? else {
        return unreconciled(format!(
            "the locker recorded a deposit of unknown parcel {parcel_id} into {label}"
        ));
    };
    if parcel.state != cubby_domain::lifecycle::ParcelState::Announced
        || parcel.site_id != place.site_id
    {
        return unreconciled(format!(
            "the locker recorded a deposit of parcel {parcel_id} into {label}, but the parcel is {} here",
            parcel.state
        ));
    }
    let Some(resident_id) = parcel.resident_id.clone() else {
        return unreconciled(format!(
            "parcel {parcel_id} was deposited into {label} but has no known recipient"
        ));
    };
    let pass_problem = courier_pass_problem(conn, place, pass_id, &parcel, at_ms).await?;
    let Ok(tracking_number) =
        cubby_domain::tracking::TrackingNumber::parse(&parcel.tracking_number)
    else {
        return unreconciled(format!(
            "parcel {parcel_id} has an unreadable tracking number"
        ));
    };
    let request = DepositRequest {
        parcel_id: parcel.id.clone(),
        locker_id: place.locker_id.clone(),
        tracking_number,
        carrier: parcel.carrier.clone(),
        recipient: Recipient::Resident(resident_id),
        dims: cubby_domain::dims::Dimensions::new(
            parcel.width_mm,
            parcel.height_mm,
            parcel.depth_mm,
        ),
        weight_g: parcel.weight_g.and_then(|w| u32::try_from(w).ok()),
        temperature: parcel.temperature,
        actor: format!("device:{device_id} (courier pass {pass_id} at the locker)"),
        now: at_ms,
        placed_at: Some(label.to_string()),
        reservation_id: None,
        overflow_to_nearest: false,
    };
    let secrets = hooks.deposit_secrets(&place.locker_id);
    match deposit(conn, &request, &secrets).await {
        Ok(outcome) => Ok((
            Some(outcome),
            pass_problem.map(|d| ("courier_pass_invalid", d)),
        )),
        Err(e @ (OpError::NoCompartmentFits { .. } | OpError::Illegal(_))) => unreconciled(
            format!("parcel {parcel_id} is in {label} but could not be recorded there: {e}"),
        ),
        Err(OpError::Conflict { code, message }) if code != Code::CredentialCollision => {
            unreconciled(format!(
                "parcel {parcel_id} is in {label} but could not be recorded there: {message}"
            ))
        }
        Err(e) => Err(e),
    }
}

/// A courier pass used at the locker, in the security audit log.
async fn audit_pass_use(
    conn: &mut AnyConnection,
    device_id: &str,
    place: &DevicePlace,
    pass_id: &str,
    compartment: &str,
    at_ms: Millis,
    reason: String,
) -> Result<(), OpError> {
    let org_id = crate::tenants::site(conn, &place.site_id)
        .await?
        .map(|s| s.org_id);
    crate::audit::append(
        conn,
        &crate::audit::NewAuditEvent {
            at_ms,
            action: cubby_domain::audit::AuditAction::CourierPassUsed.as_str(),
            actor: format!("courier_pass:{pass_id}"),
            source: format!("device:{device_id}"),
            target: format!("locker:{}/{compartment}", place.locker_id),
            org_id,
            reason,
        },
    )
    .await?;
    Ok(())
}

/// Records a parcel a courier took for its carrier at the locker. The
/// parcel left whatever the server thinks: a pass revoked meanwhile still
/// records it (and raises `courier_pass_invalid`); a parcel that was not
/// waiting for that carrier there raises `return_unreconciled`. Answers the
/// parcel when it was a resident's return or shipment (its sender is told).
#[allow(clippy::too_many_arguments)]
async fn return_collected(
    conn: &mut AnyConnection,
    place: &DevicePlace,
    pass_id: &str,
    parcel_id: &str,
    label: &str,
    actor: &str,
    at_ms: Millis,
) -> Result<(Option<parcels::ParcelRow>, Option<(&'static str, String)>), OpError> {
    use cubby_domain::lifecycle::{ParcelState, Transition};
    let parcel = parcels::parcel(conn, parcel_id).await?;
    let Some(parcel) = parcel.filter(|p| {
        matches!(p.state, ParcelState::Expired | ParcelState::DroppedOff)
            && p.locker_id.as_deref() == Some(place.locker_id.as_str())
            && p.compartment_label.as_deref() == Some(label)
    }) else {
        return Ok((
            None,
            Some((
                "return_unreconciled",
                format!(
                    "a courier took parcel {parcel_id} from {label}, but it was not waiting there for its carrier"
                ),
            )),
        ));
    };
    let problem = courier_pass_problem(conn, place, pass_id, &parcel, at_ms).await?;
    let was_sending = parcel.state == ParcelState::DroppedOff;
    let (after, _) = parcels::transition(
        conn,
        &parcel.id,
        Transition::Return,
        None,
        &format!("{actor} (courier pass {pass_id} at the locker)"),
        "taken by the carrier's courier",
        at_ms,
    )
    .await?;
    Ok((
        was_sending.then_some(after),
        problem.map(|d| ("courier_pass_invalid", d)),
    ))
}

/// What is wrong with a courier pass used at the locker for `parcel`, if
/// anything (the locker may have acted on a pass the server has since
/// revoked, or that has expired).
async fn courier_pass_problem(
    conn: &mut AnyConnection,
    place: &DevicePlace,
    pass_id: &str,
    parcel: &parcels::ParcelRow,
    at_ms: Millis,
) -> Result<Option<String>, OpError> {
    let parcel_id = &parcel.id;
    let pass = sqlx::query(
        "SELECT locker_id, carrier, revoked, expires_ms FROM courier_passes WHERE id = $1",
    )
    .bind(pass_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match &pass {
        None => Some(format!("unknown courier pass {pass_id}")),
        Some(r) if text(r, "locker_id")? != place.locker_id => {
            Some(format!("courier pass {pass_id} belongs to another locker"))
        }
        Some(r) if int(r, "revoked")? != 0 => Some(format!(
            "courier pass {pass_id} was revoked before the locker learned it"
        )),
        Some(r) if int(r, "expires_ms")? < at_ms => {
            Some(format!("courier pass {pass_id} had expired"))
        }
        Some(r)
            if parcel
                .carrier
                .as_ref()
                .is_some_and(|c| *c != text(r, "carrier").unwrap_or_default()) =>
        {
            Some(format!(
                "courier pass {pass_id} is for another carrier than parcel {parcel_id}"
            ))
        }
        Some(r)
            if !crate::couriers::is_enabled_at_site(
                conn,
                &place.site_id,
                &text(r, "carrier").unwrap_or_default(),
            )
            .await? =>
        {
            Some(format!(
                "courier pass {pass_id} is for a carrier this site no longer lets deposit"
            ))
        }
        Some(_) => None,
    })
}

/// A door closed: compare with why it was opened. Returns an incident to raise.
#[allow(clippy::too_many_arguments)]
pub(super) async fn door_closed(
    conn: &mut AnyConnection,
    device_id: &str,
    place: &DevicePlace,
    seq: u64,
    label: &str,
    item_present: Option<bool>,
    actor: &str,
    now: Millis,
) -> Result<Option<(&'static str, String)>, OpError> {
    // Without a presence sensor there is nothing to compare.
    let Some(present) = item_present else {
        return Ok(None);
    };
    // The opening this close ends: the latest unlock or pick-up of this
    // compartment since its previous close.
    let rows = sqlx::query(
        "SELECT kind, body FROM device_events WHERE device_id = $1 AND compartment_label = $2 AND seq < $3 \
         AND kind IN ('unlocked', 'deposit_made', 'drop_off_made', 'door_closed') ORDER BY seq DESC LIMIT 1",
    )
    .bind(device_id.to_string())
    .bind(label.to_string())
    .bind(seq as i64)
    .fetch_all(&mut *conn)
    .await?;
    let opened_by = rows
        .first()
        .filter(|r| text(r, "kind").is_ok_and(|k| k != "door_closed"))
        .and_then(|r| text(r, "body").ok())
        .and_then(|b| serde_json::from_str::<EdgeEvent>(&b).ok());
    let for_deposit = match opened_by {
        Some(EdgeEvent::Unlocked { purpose, .. }) => {
            purpose == cubby_protocol::command::Purpose::Deposit
        }
        Some(EdgeEvent::DepositMade { .. } | EdgeEvent::DropOffMade { .. }) => true,
        _ => false,
    };
    let picked_up = recent_pickup_of(conn, device_id, seq, label).await?;
    if for_deposit && !picked_up {
        let parcels = sqlx::query(
            "SELECT p.id FROM parcels p JOIN compartments c ON c.id = p.compartment_id \
             WHERE c.locker_id = $1 AND c.label = $2 AND p.state = 'deposited'",
        )
        .bind(place.locker_id.clone())
        .bind(label.to_string())
        .fetch_all(&mut *conn)
        .await?;
        if !present {
            return Ok(Some((
                "deposit_not_detected",
                "the door closed after a deposit but the compartment is empty".into(),
            )));
        }
        for p in &parcels {
            append_event(
                conn,
                &place.site_id,
                &text(p, "id")?,
                "deposit_confirmed",
                actor,
                now,
                &format!("locker {} / {label}", place.locker_name),
                "the door closed with the item inside",
            )
            .await?;
        }
        return Ok(None);
    }
    if picked_up && present {
        return Ok(Some((
            "item_left_after_pickup",
            "the door closed after a pick-up with an item still inside".into(),
        )));
    }
    Ok(None)
}

/// Whether the compartment's last opening was a pick-up.
pub(super) async fn recent_pickup_of(
    conn: &mut AnyConnection,
    device_id: &str,
    seq: u64,
    label: &str,
) -> Result<bool, OpError> {
    // Pick-up entries name several compartments, so they are matched on the
    // body; the window is bounded by the compartment's previous close.
    let prev_close = sqlx::query(
        "SELECT COALESCE(MAX(seq), 0) AS s FROM device_events WHERE device_id = $1 AND compartment_label = $2 AND kind = 'door_closed' AND seq < $3",
    )
    .bind(device_id.to_string())
    .bind(label.to_string())
    .bind(seq as i64)
    .fetch_one(&mut *conn)
    .await?;
    let since = int(&prev_close, "s")?;
    let rows = sqlx::query(
        "SELECT body FROM device_events WHERE device_id = $1 AND kind = 'pickup_granted' AND seq > $2 AND seq < $3",
    )
    .bind(device_id.to_string())
    .bind(since)
    .bind(seq as i64)
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        if let Ok(EdgeEvent::PickupGranted { compartments, .. }) =
            serde_json::from_str::<EdgeEvent>(&text(&r, "body")?)
            && compartments.iter().any(|c| c == label)
        {
            return Ok(true);
        }
    }
    Ok(false)
}
