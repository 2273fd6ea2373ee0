//! Pick-up credentials and collecting: codes and QR tokens issued to a resident per locker, checked at the counter or reported by a locker, with the keypad throttle.

use super::*;

/// A keypad code for (locker, resident) unless one is active, and a QR token for the parcel.
pub(super) async fn issue_credentials(
    conn: &mut AnyConnection,
    locker_id: &str,
    resident_id: &str,
    parcel_id: &str,
    s: &DepositSecrets,
    now: Millis,
) -> Result<IssuedCredential, OpError> {
    let active = sqlx::query("SELECT id FROM pickup_credentials WHERE locker_id = $1 AND resident_id = $2 AND kind = 'keypad' AND active = 1")
        .bind(locker_id.to_string())
        .bind(resident_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let code = if active.is_some() {
        None
    } else {
        insert_credential(
            conn,
            &s.code_credential_id,
            locker_id,
            resident_id,
            "keypad",
            (&s.code_mac, &s.code_local_mac),
            None,
            now,
        )
        .await?;
        Some(s.code.clone())
    };
    insert_credential(
        conn,
        &s.qr_credential_id,
        locker_id,
        resident_id,
        "qr",
        (&s.qr_mac, &s.qr_local_mac),
        Some(parcel_id),
        now,
    )
    .await?;
    Ok(IssuedCredential {
        code,
        qr_token: s.qr_token.clone(),
    })
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_credential(
    conn: &mut AnyConnection,
    id: &str,
    locker_id: &str,
    resident_id: &str,
    kind: &str,
    (mac, local_mac): (&[u8; 32], &[u8; 32]),
    parcel_id: Option<&str>,
    now: Millis,
) -> Result<(), OpError> {
    let inserted = sqlx::query(
        "INSERT INTO pickup_credentials (id, locker_id, resident_id, kind, mac, local_mac, parcel_id, active, failures, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 0, $8) ON CONFLICT (mac) DO NOTHING",
    )
    .bind(id.to_string())
    .bind(locker_id.to_string())
    .bind(resident_id.to_string())
    .bind(kind.to_string())
    .bind(mac.to_vec())
    .bind(local_mac.to_vec())
    .bind(parcel_id.map(str::to_string))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        // Two live codes collided in one locker's code space (about 1 in 250,000 at
        // a full 410-door bank): the caller retries with fresh secrets.
        return Err(OpError::Conflict {
            code: Code::CredentialCollision,
            message: "a fresh code collided; retry".into(),
        });
    }
    Ok(())
}

/// A presented pick-up credential, already turned into its MAC by the caller.
#[derive(Debug, Clone)]
pub enum PresentedMac {
    Keypad([u8; 32]),
    Qr([u8; 32]),
    Malformed,
}

#[derive(Debug, Clone)]
pub enum PickupOutcome {
    /// The doors to open.
    Opened {
        resident_id: String,
        parcels: Vec<ParcelRow>,
    },
    /// Wrong code, unknown parcel, used token: one answer for all of them.
    Rejected,
    /// Keypad locked or disabled; nothing was checked.
    Refused(KeypadRefusal),
}

/// Checks a presented credential at a locker and, when it is good, records the
/// pick-up of every parcel its holder has waiting there. Failures are counted
/// durably (this job commits them) before the answer is given.
pub async fn pickup(
    conn: &mut AnyConnection,
    locker_id: &str,
    presented: &PresentedMac,
    policy: &ThrottlePolicy,
    actor_via: &str,
    now: Millis,
) -> Result<PickupOutcome, OpError> {
    let locker = lock_locker(conn, locker_id).await?;
    let is_keypad = !matches!(presented, PresentedMac::Qr(_));
    let mut throttle = load_throttle(conn, &locker.id).await?;
    if is_keypad && let Err(refusal) = throttle.check(now) {
        return Ok(PickupOutcome::Refused(refusal));
    }
    let found = match presented {
        PresentedMac::Keypad(mac) | PresentedMac::Qr(mac) => {
            sqlx::query("SELECT id, locker_id, resident_id, kind, parcel_id, failures FROM pickup_credentials WHERE mac = $1 AND active = 1")
                .bind(mac.to_vec())
                .fetch_optional(&mut *conn)
                .await?
        }
        PresentedMac::Malformed => None,
    };
    let holder = match found {
        Some(row) if text(&row, "locker_id")? == locker.id => Some(Holder {
            resident_id: text(&row, "resident_id")?,
            credential_id: text(&row, "id")?,
            delegate_for: delegate_parcel(&row)?,
        }),
        Some(row) => {
            // A real token at the wrong locker: count it against that token.
            let failures = int(&row, "failures")? + 1;
            sqlx::query("UPDATE pickup_credentials SET failures = $1, active = CASE WHEN $1 >= $2 THEN 0 ELSE active END WHERE id = $3")
                .bind(failures)
                .bind(i64::from(CREDENTIAL_FAILURE_LIMIT))
                .bind(text(&row, "id")?)
                .execute(&mut *conn)
                .await?;
            None
        }
        None => None,
    };
    let collected = match &holder {
        Some(h) => {
            let actor = match &h.delegate_for {
                Some(_) => format!(
                    "delegate {} of resident:{} ({actor_via})",
                    h.credential_id, h.resident_id
                ),
                None => format!("resident:{} ({actor_via})", h.resident_id),
            };
            collect(
                conn,
                &locker,
                &h.resident_id,
                h.delegate_for.as_deref(),
                &actor,
                now,
            )
            .await?
        }
        None => Vec::new(),
    };
    if collected.is_empty() {
        if is_keypad {
            throttle.record_failure(now, policy);
            save_throttle(conn, &locker.id, &throttle).await?;
            // The failure that locks the keypad is brute force staff must
            // hear of, as they do from a locker's own keypad.
            if let Err(refusal) = throttle.check(now) {
                let seed = format!("{}:{now}:{}", locker.id, throttle.failures_today);
                let id = format!(
                    "inc_{}",
                    hex::encode(
                        &cubby_domain::credentials::mac(b"api-keypad-incident", &[&seed])[..16]
                    )
                );
                crate::incidents::raise_site_incident(
                    conn,
                    &id,
                    &locker.site_id,
                    None,
                    "keypad_locked",
                    &format!("too many wrong codes at locker {}: {refusal}", locker.name),
                    now,
                )
                .await?;
            }
        }
        return Ok(PickupOutcome::Rejected);
    }
    if is_keypad && throttle.consecutive_failures > 0 {
        throttle.record_success();
        save_throttle(conn, &locker.id, &throttle).await?;
    }
    Ok(PickupOutcome::Opened {
        resident_id: holder.map(|h| h.resident_id).unwrap_or_default(),
        parcels: collected,
    })
}

/// Whose credential was presented: a delegate code opens one parcel only.
pub(super) struct Holder {
    resident_id: String,
    credential_id: String,
    delegate_for: Option<String>,
}

/// The parcel a delegate code is limited to (`None` for the recipient's own
/// credentials, which open everything they have waiting at the locker).
pub(super) fn delegate_parcel(row: &sqlx::any::AnyRow) -> Result<Option<String>, sqlx::Error> {
    if text(row, "kind")? == "delegate" {
        opt_text(row, "parcel_id")
    } else {
        Ok(None)
    }
}

/// Every collectable parcel of `resident_id` at `locker` (or just `only`) is
/// picked up.
pub(crate) async fn collect(
    conn: &mut AnyConnection,
    locker: &LockerRow,
    resident_id: &str,
    only: Option<&str>,
    actor: &str,
    now: Millis,
) -> Result<Vec<ParcelRow>, OpError> {
    let waiting = parcels_where(
        conn,
        "p.locker_id = $1 AND p.resident_id = $2 AND p.state IN ('deposited', 'on_hold', 'expired')",
        &locker.id,
        resident_id,
    )
    .await?;
    let mut out = Vec::with_capacity(waiting.len());
    for p in waiting
        .into_iter()
        .filter(|p| only.is_none_or(|id| id == p.id))
    {
        out.push(
            apply_transition(
                conn,
                &p,
                Transition::PickUp,
                actor,
                "collected with the pick-up credential",
                now,
            )
            .await?,
        );
    }
    Ok(out)
}

/// Replaces a resident's keypad code at a locker (lost message, suspected leak).
pub async fn reissue_code(
    conn: &mut AnyConnection,
    locker_id: &str,
    resident_id: &str,
    credential_id: &str,
    code_macs: (&[u8; 32], &[u8; 32]),
    now: Millis,
) -> Result<ResidentRow, OpError> {
    let locker = lock_locker(conn, locker_id).await?;
    let resident = residents::resident(conn, resident_id)
        .await?
        .filter(|r| r.site_id == locker.site_id)
        .ok_or(OpError::NotFound { what: "resident" })?;
    let waiting = parcels_where(
        conn,
        "p.locker_id = $1 AND p.resident_id = $2 AND p.state IN ('deposited', 'on_hold', 'expired')",
        &locker.id,
        resident_id,
    )
    .await?;
    if waiting.is_empty() {
        return Err(OpError::NotFound {
            what: "parcel waiting for this resident at this locker",
        });
    }
    sqlx::query("UPDATE pickup_credentials SET active = 0 WHERE locker_id = $1 AND resident_id = $2 AND kind = 'keypad'")
        .bind(locker.id.clone())
        .bind(resident_id.to_string())
        .execute(&mut *conn)
        .await?;
    insert_credential(
        conn,
        credential_id,
        &locker.id,
        resident_id,
        "keypad",
        code_macs,
        None,
        now,
    )
    .await?;
    Ok(resident)
}

/// A pick-up pass shown in the resident portal: a fresh keypad code (it
/// replaces the one in their messages) and a fresh QR token, both opening
/// everything they have waiting at the locker.
pub async fn issue_pass(
    conn: &mut AnyConnection,
    locker_id: &str,
    resident_id: &str,
    s: &DepositSecrets,
    now: Millis,
) -> Result<(), OpError> {
    reissue_code(
        conn,
        locker_id,
        resident_id,
        &s.code_credential_id,
        (&s.code_mac, &s.code_local_mac),
        now,
    )
    .await?;
    insert_credential(
        conn,
        &s.qr_credential_id,
        locker_id,
        resident_id,
        "qr",
        (&s.qr_mac, &s.qr_local_mac),
        None,
        now,
    )
    .await
}

/// A pick-up a locker decided on its own (from its credential cache) and
/// reported in its journal. The credential names the resident; only parcels in
/// the compartments the locker actually opened are picked up. Returns the
/// parcels picked up (empty when nothing matched, for example when staff had
/// already handed the parcel out).
pub async fn pickup_reported_by_device(
    conn: &mut AnyConnection,
    locker_id: &str,
    credential_id: &str,
    opened: &[String],
    actor: &str,
    now: Millis,
) -> Result<Vec<ParcelRow>, OpError> {
    let locker = lock_locker(conn, locker_id).await?;
    let Some(cred) =
        sqlx::query("SELECT resident_id, kind, parcel_id FROM pickup_credentials WHERE id = $1 AND locker_id = $2")
            .bind(credential_id.to_string())
            .bind(locker.id.clone())
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(Vec::new());
    };
    let resident_id = text(&cred, "resident_id")?;
    let only = delegate_parcel(&cred)?;
    let actor = match &only {
        Some(_) => format!("{actor}, delegate {credential_id} of resident:{resident_id}"),
        None => actor.to_string(),
    };
    let waiting = parcels_where(
        conn,
        "p.locker_id = $1 AND p.resident_id = $2 AND p.state IN ('deposited', 'on_hold', 'expired')",
        &locker.id,
        &resident_id,
    )
    .await?;
    let mut out = Vec::new();
    for p in waiting {
        let in_opened = p
            .compartment_label
            .as_ref()
            .is_some_and(|l| opened.contains(l));
        if in_opened && only.as_ref().is_none_or(|id| *id == p.id) {
            out.push(
                apply_transition(
                    conn,
                    &p,
                    Transition::PickUp,
                    &actor,
                    "collected at the locker with the pick-up credential",
                    now,
                )
                .await?,
            );
        }
    }
    Ok(out)
}
