//! Passkeys of residents, the invitations that enrol the first one, and
//! WebAuthn ceremonies in progress. The server secret keys the invitation
//! codes; the passkeys themselves hold only public keys.

use cubby_domain::Millis;
use sqlx::AnyConnection;

use crate::OpError;
use crate::queries::{opt_text, text};

pub async fn create_invite(
    conn: &mut AnyConnection,
    code_mac: &[u8; 32],
    resident_id: &str,
    created_by: &str,
    now: Millis,
    expires_ms: Millis,
) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO portal_invites (code_mac, resident_id, created_by, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(code_mac.to_vec())
    .bind(resident_id.to_string())
    .bind(created_by.to_string())
    .bind(now)
    .bind(expires_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The resident of a live, unused invitation.
pub async fn invite(
    conn: &mut AnyConnection,
    code_mac: &[u8; 32],
    now: Millis,
) -> Result<Option<String>, OpError> {
    let row = sqlx::query(
        "SELECT resident_id FROM portal_invites WHERE code_mac = $1 AND used_ms IS NULL AND expires_ms > $2",
    )
    .bind(code_mac.to_vec())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| text(&r, "resident_id")).transpose()?)
}

/// Spends an invitation; false if it was spent or expired meanwhile.
pub async fn spend_invite(
    conn: &mut AnyConnection,
    code_mac: &[u8; 32],
    now: Millis,
) -> Result<bool, OpError> {
    let done = sqlx::query(
        "UPDATE portal_invites SET used_ms = $1 WHERE code_mac = $2 AND used_ms IS NULL AND expires_ms > $1",
    )
    .bind(now)
    .bind(code_mac.to_vec())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn save_ceremony(
    conn: &mut AnyConnection,
    id: &str,
    kind: &str,
    resident_id: Option<&str>,
    state: &str,
    now: Millis,
    expires_ms: Millis,
) -> Result<(), OpError> {
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_ms < $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (id, kind, resident_id, state, expires_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.to_string())
    .bind(kind.to_string())
    .bind(resident_id.map(str::to_string))
    .bind(state.to_string())
    .bind(expires_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes a live ceremony of `kind` out (single use): (resident, state).
pub async fn take_ceremony(
    conn: &mut AnyConnection,
    id: &str,
    kind: &str,
    now: Millis,
) -> Result<Option<(Option<String>, String)>, OpError> {
    let row = sqlx::query(
        "SELECT resident_id, state FROM webauthn_ceremonies WHERE id = $1 AND kind = $2 AND expires_ms > $3",
    )
    .bind(id.to_string())
    .bind(kind.to_string())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(row
        .map(|r| Ok::<_, sqlx::Error>((opt_text(&r, "resident_id")?, text(&r, "state")?)))
        .transpose()?)
}

pub async fn add_passkey(
    conn: &mut AnyConnection,
    cred_id: &str,
    resident_id: &str,
    passkey: &str,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO passkeys (cred_id, resident_id, passkey, created_ms) VALUES ($1, $2, $3, $4)",
    )
    .bind(cred_id.to_string())
    .bind(resident_id.to_string())
    .bind(passkey.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Passkeys (credential id, resident, JSON) of the residents with this email.
pub async fn passkeys_by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Vec<(String, String, String)>, OpError> {
    let rows = sqlx::query(
        "SELECT p.cred_id, p.resident_id, p.passkey FROM passkeys p JOIN residents r ON r.id = p.resident_id \
         WHERE r.email = $1 AND r.removed_ms IS NULL ORDER BY p.created_ms",
    )
    .bind(email.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok((
                text(r, "cred_id")?,
                text(r, "resident_id")?,
                text(r, "passkey")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

pub async fn passkeys_of(
    conn: &mut AnyConnection,
    resident_id: &str,
) -> Result<Vec<(String, Millis)>, OpError> {
    let rows = sqlx::query(
        "SELECT cred_id, created_ms FROM passkeys WHERE resident_id = $1 ORDER BY created_ms",
    )
    .bind(resident_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((text(r, "cred_id")?, crate::queries::int(r, "created_ms")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

/// (resident, passkey JSON) of a credential id.
pub async fn passkey(
    conn: &mut AnyConnection,
    cred_id: &str,
) -> Result<Option<(String, String)>, OpError> {
    let row = sqlx::query("SELECT resident_id, passkey FROM passkeys WHERE cred_id = $1")
        .bind(cred_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row
        .map(|r| Ok::<_, sqlx::Error>((text(&r, "resident_id")?, text(&r, "passkey")?)))
        .transpose()?)
}

/// After a sign-in: the passkey's new counter, and when it was used.
pub async fn touch_passkey(
    conn: &mut AnyConnection,
    cred_id: &str,
    passkey: &str,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query("UPDATE passkeys SET passkey = $1, last_used_ms = $2 WHERE cred_id = $3")
        .bind(passkey.to_string())
        .bind(now)
        .bind(cred_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The resident's portal token (what their browser sessions act as),
/// created on first use.
pub async fn portal_token(
    conn: &mut AnyConnection,
    resident_id: &str,
    new_id: &str,
    unusable_mac: &[u8; 32],
    org_id: &str,
    now: Millis,
) -> Result<String, OpError> {
    let row = sqlx::query(
        "SELECT id FROM api_tokens WHERE resident_id = $1 AND label = 'portal' AND revoked = 0",
    )
    .bind(resident_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(r) = row {
        return Ok(text(&r, "id")?);
    }
    sqlx::query(
        "INSERT INTO api_tokens (id, token_mac, org_id, role, carrier, label, created_ms, revoked, resident_id) \
         VALUES ($1, $2, $3, 'resident', NULL, 'portal', $4, 0, $5)",
    )
    .bind(new_id.to_string())
    .bind(unusable_mac.to_vec())
    .bind(org_id.to_string())
    .bind(now)
    .bind(resident_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(new_id.to_string())
}
