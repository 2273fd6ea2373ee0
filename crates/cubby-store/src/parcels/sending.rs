//! Returns and shipments a resident sends from a locker: announced with a
//! carrier and a size, dropped into a free compartment with a drop-off code
//! (decided at the locker, reported in its journal), taken by the carrier
//! through the return queue.

use super::*;

/// What a resident sends: a return to a shop, or a new shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sending {
    Return,
    Shipment,
}

impl Sending {
    pub fn as_str(self) -> &'static str {
        match self {
            Sending::Return => "return",
            Sending::Shipment => "shipment",
        }
    }
}

/// Most returns or shipments one resident may have announced and not yet
/// dropped off: a cap on codes that hold nothing yet.
pub const LIVE_PER_RESIDENT: i64 = 10;

/// A drop-off code, already turned into its two MACs by the caller.
#[derive(Debug, Clone)]
pub struct DropOffSecret {
    pub credential_id: String,
    /// Under the server secret, scoped to the locker: uniqueness among live codes.
    pub mac: [u8; 32],
    /// Under the locker's own key, for its agent.
    pub local_mac: [u8; 32],
}

#[derive(Debug, Clone)]
pub struct SendingAnnouncement {
    pub parcel_id: String,
    pub resident_id: String,
    pub locker_id: String,
    pub sending: Sending,
    pub tracking_number: String,
    pub carrier: String,
    pub dims: Dimensions,
    pub weight_g: Option<u32>,
    pub temperature: TemperatureZone,
    pub secret: DropOffSecret,
    pub expires_ms: Millis,
    pub actor: String,
    pub now: Millis,
}

/// Announces a return or shipment for one locker of the resident's site.
/// The locker must have a free compartment that takes it now (so the code
/// is worth walking down for); the code's MAC must not collide with another
/// live drop-off code of that locker.
pub async fn announce_sending(
    conn: &mut AnyConnection,
    a: &SendingAnnouncement,
) -> Result<ParcelRow, OpError> {
    let resident = residents::resident(conn, &a.resident_id)
        .await?
        .ok_or(OpError::NotFound { what: "resident" })?;
    let locker = lock_locker(conn, &a.locker_id).await?;
    if locker.site_id != resident.site_id {
        return Err(OpError::NotFound { what: "locker" });
    }
    // Only codes that still work count: an abandoned return ends with its code.
    let live = sqlx::query(
        "SELECT COUNT(*) AS n FROM parcels p JOIN drop_off_codes d ON d.parcel_id = p.id \
         WHERE p.resident_id = $1 AND p.state = 'return_announced' AND d.active = 1 AND d.expires_ms > $2",
    )
    .bind(a.resident_id.clone())
    .bind(a.now)
    .fetch_one(&mut *conn)
    .await?;
    if int(&live, "n")? >= LIVE_PER_RESIDENT {
        return Err(OpError::Conflict {
            code: Code::TooManyReturns,
            message: format!(
                "at most {LIVE_PER_RESIDENT} returns or shipments may wait to be dropped off; drop one off or cancel it first"
            ),
        });
    }
    let view = lockers::allocation_view(conn, &locker.id).await?;
    let held = reservations::held_at_site(conn, &locker.site_id, a.now).await?;
    let free: Vec<_> = view
        .into_iter()
        .filter(|c| c.contents.is_none() && !held.contains(&c.id))
        .collect();
    let request = ParcelRequest {
        dims: a.dims,
        temperature: a.temperature,
        recipient_key: None,
        carrier: Some(a.carrier.clone()),
        reach: None,
        visit: None,
    };
    if let Err(no_fit) = allocation::allocate(&request, &free, &allocation::CarrierQuotas::new()) {
        return Err(OpError::NoCompartmentFits {
            reason: no_fit,
            overflow: Vec::new(),
        });
    }
    let state = lifecycle::apply(None, Transition::AnnounceReturn)?;
    sqlx::query(
        "INSERT INTO parcels (id, site_id, tracking_number, carrier, resident_id, width_mm, height_mm, depth_mm, weight_g, temperature, \
         state, locker_id, sending, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(a.parcel_id.clone())
    .bind(locker.site_id.clone())
    .bind(a.tracking_number.clone())
    .bind(a.carrier.clone())
    .bind(a.resident_id.clone())
    .bind(i64::from(a.dims.width_mm))
    .bind(i64::from(a.dims.height_mm))
    .bind(i64::from(a.dims.depth_mm))
    .bind(a.weight_g.map(i64::from))
    .bind(a.temperature.as_str().to_string())
    .bind(state.as_str().to_string())
    .bind(locker.id.clone())
    .bind(a.sending.as_str().to_string())
    .bind(a.now)
    .execute(&mut *conn)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO drop_off_codes (id, parcel_id, locker_id, mac, local_mac, active, expires_ms, created_ms) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7) ON CONFLICT (mac) DO NOTHING",
    )
    .bind(a.secret.credential_id.clone())
    .bind(a.parcel_id.clone())
    .bind(locker.id.clone())
    .bind(a.secret.mac.to_vec())
    .bind(a.secret.local_mac.to_vec())
    .bind(a.expires_ms)
    .bind(a.now)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(OpError::Conflict {
            code: Code::CredentialCollision,
            message: "a fresh code collided; retry".into(),
        });
    }
    append_event(
        conn,
        &locker.site_id,
        &a.parcel_id,
        Transition::AnnounceReturn.event_kind(),
        &a.actor,
        a.now,
        &format!("locker {}", locker.name),
        &format!(
            "{} for {} announced by the resident",
            a.sending.as_str(),
            a.carrier
        ),
    )
    .await?;
    parcel(conn, &a.parcel_id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })
}

/// A resident's returns and shipments, newest first.
pub async fn sendings_of_resident(
    conn: &mut AnyConnection,
    resident_id: &str,
) -> Result<Vec<(ParcelRow, Sending, Option<Millis>)>, OpError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{PARCEL_SELECT} WHERE p.resident_id = $1 AND p.sending IS NOT NULL ORDER BY p.created_ms DESC, p.id"
    )))
    .bind(resident_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let p = parcel_row(r)?;
        let (sending, expires) = sending_of(conn, &p.id)
            .await?
            .unwrap_or((Sending::Return, None));
        out.push((p, sending, expires));
    }
    Ok(out)
}

/// Whether a parcel is a resident's return or shipment, and until when its
/// drop-off code works (while it has not been dropped off).
pub async fn sending_of(
    conn: &mut AnyConnection,
    parcel_id: &str,
) -> Result<Option<(Sending, Option<Millis>)>, OpError> {
    let row = sqlx::query(
        "SELECT p.sending, d.expires_ms, d.active FROM parcels p LEFT JOIN drop_off_codes d ON d.parcel_id = p.id WHERE p.id = $1",
    )
    .bind(parcel_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let sending = match opt_text(&row, "sending")?.as_deref() {
        Some("return") => Sending::Return,
        Some("shipment") => Sending::Shipment,
        _ => return Ok(None),
    };
    let active = row.try_get::<Option<i64>, _>("active")?.unwrap_or(0) != 0;
    let expires = row.try_get::<Option<i64>, _>("expires_ms")?;
    Ok(Some((sending, expires.filter(|_| active))))
}

/// A live drop-off code as a locker's agent needs it.
#[derive(Debug, Clone)]
pub struct CachedDropOff {
    pub parcel_id: String,
    pub credential_id: String,
    pub local_mac: [u8; 32],
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub temperature: String,
    pub expires_ms: Millis,
}

/// The live drop-off codes of a locker.
pub async fn cache_drop_offs(
    conn: &mut AnyConnection,
    locker_id: &str,
    now: Millis,
) -> Result<Vec<CachedDropOff>, OpError> {
    let rows = sqlx::query(
        "SELECT d.id, d.parcel_id, d.local_mac, d.expires_ms, p.width_mm, p.height_mm, p.depth_mm, p.temperature \
         FROM drop_off_codes d JOIN parcels p ON p.id = d.parcel_id \
         WHERE d.locker_id = $1 AND d.active = 1 AND d.expires_ms > $2 AND p.state = 'return_announced' ORDER BY d.id",
    )
    .bind(locker_id.to_string())
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CachedDropOff {
                parcel_id: text(r, "parcel_id")?,
                credential_id: text(r, "id")?,
                local_mac: crate::rows::hash32(r, "local_mac")?,
                width_mm: mm(r, "width_mm")?,
                height_mm: mm(r, "height_mm")?,
                depth_mm: mm(r, "depth_mm")?,
                temperature: text(r, "temperature")?,
                expires_ms: int(r, "expires_ms")?,
            })
        })
        .collect()
}

/// Records a drop-off a locker decided and journalled. Returns the incident
/// to raise when it cannot be reconciled (unknown or ended code, the
/// compartment is taken in the server's view): the parcel is in the door
/// whatever the server thinks, so staff must look.
pub async fn drop_off_reported_by_device(
    conn: &mut AnyConnection,
    locker_id: &str,
    credential_id: &str,
    parcel_id: &str,
    label: &str,
    actor: &str,
    at_ms: Millis,
) -> Result<Option<String>, OpError> {
    // Serialised with deposits and the resident's cancel at this locker.
    lock_locker(conn, locker_id).await?;
    let code = sqlx::query("SELECT parcel_id, locker_id FROM drop_off_codes WHERE id = $1")
        .bind(credential_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let matches = match &code {
        Some(r) => text(r, "parcel_id")? == parcel_id && text(r, "locker_id")? == locker_id,
        None => false,
    };
    let p = parcel(conn, parcel_id).await?;
    let Some(p) = p.filter(|p| matches && p.state == ParcelState::ReturnAnnounced) else {
        // Something is in that door whatever the server thinks: keep it from
        // being handed out until staff look.
        block_door(conn, locker_id, label, parcel_id, actor, at_ms).await?;
        return Ok(Some(format!(
            "the locker took drop-off {parcel_id} into {label}, but no announced return matches it"
        )));
    };
    let compartment = sqlx::query(
        "SELECT c.id, h.compartment_id AS taken FROM compartments c \
         LEFT JOIN compartment_holders h ON h.compartment_id = c.id WHERE c.locker_id = $1 AND c.label = $2",
    )
    .bind(locker_id.to_string())
    .bind(label.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(compartment) = compartment else {
        return Ok(Some(format!(
            "the locker took drop-off {parcel_id} into {label}, which it does not have"
        )));
    };
    if opt_text(&compartment, "taken")?.is_some() {
        return Ok(Some(format!(
            "the locker took drop-off {parcel_id} into {label}, which already holds a parcel"
        )));
    }
    let compartment_id = text(&compartment, "id")?;
    sqlx::query(
        "INSERT INTO compartment_holders (compartment_id, locker_id, recipient_key, carrier, opened_by, opened_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(compartment_id.clone())
    .bind(locker_id.to_string())
    .bind(format!("sending:{parcel_id}"))
    .bind(p.carrier.clone())
    .bind(actor.to_string())
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE parcels SET compartment_id = $1 WHERE id = $2")
        .bind(compartment_id)
        .bind(p.id.clone())
        .execute(&mut *conn)
        .await?;
    let p = parcel(conn, &p.id)
        .await?
        .ok_or(OpError::NotFound { what: "parcel" })?;
    apply_transition(
        conn,
        &p,
        Transition::DropOff,
        actor,
        "dropped off with the resident's code",
        at_ms,
    )
    .await?;
    Ok(None)
}

/// Marks a door as holding something nobody can claim yet.
async fn block_door(
    conn: &mut AnyConnection,
    locker_id: &str,
    label: &str,
    parcel_id: &str,
    actor: &str,
    at_ms: Millis,
) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO compartment_holders (compartment_id, locker_id, recipient_key, carrier, opened_by, opened_ms) \
         SELECT c.id, c.locker_id, $3, NULL, $4, $5 FROM compartments c WHERE c.locker_id = $1 AND c.label = $2 \
         ON CONFLICT (compartment_id) DO NOTHING",
    )
    .bind(locker_id.to_string())
    .bind(label.to_string())
    .bind(format!("unreconciled:{parcel_id}"))
    .bind(actor.to_string())
    .bind(at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends the drop-off code of a parcel that left `return_announced`.
pub(super) async fn end_drop_off_code(
    conn: &mut AnyConnection,
    parcel_id: &str,
) -> Result<(), OpError> {
    sqlx::query("UPDATE drop_off_codes SET active = 0 WHERE parcel_id = $1")
        .bind(parcel_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
