//! Passkeys of residents and staff: invitations, ceremonies, credentials.

use cubby_domain::Millis;
use cubby_domain::codes::Code;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::OpError;
use crate::rows;
use crate::rows::{opt_text, text};
use crate::tokens;

/// Whose passkeys: a resident's (owner = resident id) or a staff token's
/// (owner = token id). Both kinds follow the same rules in their own tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Resident,
    Staff,
}

impl Holder {
    /// (passkey table, invitation table, owner column).
    fn tables(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Holder::Resident => ("passkeys", "portal_invites", "resident_id"),
            Holder::Staff => ("staff_passkeys", "staff_passkey_invites", "token_id"),
        }
    }
}

pub async fn create_invite(
    conn: &mut AnyConnection,
    holder: Holder,
    code_mac: &[u8; 32],
    owner: &str,
    created_by: &str,
    now: Millis,
    expires_ms: Millis,
) -> Result<(), OpError> {
    let (_, invites, owner_col) = holder.tables();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {invites} (code_mac, {owner_col}, created_by, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)"
    )))
    .bind(code_mac.to_vec())
    .bind(owner.to_string())
    .bind(created_by.to_string())
    .bind(now)
    .bind(expires_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The owner of a live, unused invitation.
pub async fn invite(
    conn: &mut AnyConnection,
    holder: Holder,
    code_mac: &[u8; 32],
    now: Millis,
) -> Result<Option<String>, OpError> {
    let (_, invites, owner_col) = holder.tables();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {owner_col} FROM {invites} WHERE code_mac = $1 AND used_ms IS NULL AND expires_ms > $2"
    )))
    .bind(code_mac.to_vec())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| text(&r, owner_col)).transpose()?)
}

/// Spends an invitation; false if it was spent or expired meanwhile.
pub async fn spend_invite(
    conn: &mut AnyConnection,
    holder: Holder,
    code_mac: &[u8; 32],
    now: Millis,
) -> Result<bool, OpError> {
    let (_, invites, _) = holder.tables();
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {invites} SET used_ms = $1 WHERE code_mac = $2 AND used_ms IS NULL AND expires_ms > $1"
    )))
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
    subject: Option<&str>,
    state: &str,
    now: Millis,
    expires_ms: Millis,
) -> Result<(), OpError> {
    sqlx::query("DELETE FROM webauthn_ceremonies WHERE expires_ms < $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO webauthn_ceremonies (id, kind, subject, state, expires_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.to_string())
    .bind(kind.to_string())
    .bind(subject.map(str::to_string))
    .bind(state.to_string())
    .bind(expires_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Takes a live ceremony of `kind` out (single use): (subject, state).
pub async fn take_ceremony(
    conn: &mut AnyConnection,
    id: &str,
    kind: &str,
    now: Millis,
) -> Result<Option<(Option<String>, String)>, OpError> {
    let row = sqlx::query(
        "SELECT subject, state FROM webauthn_ceremonies WHERE id = $1 AND kind = $2 AND expires_ms > $3",
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
        .map(|r| Ok::<_, sqlx::Error>((opt_text(&r, "subject")?, text(&r, "state")?)))
        .transpose()?)
}

pub async fn add_passkey(
    conn: &mut AnyConnection,
    holder: Holder,
    cred_id: &str,
    owner: &str,
    passkey: &str,
    now: Millis,
) -> Result<(), OpError> {
    let (table, _, owner_col) = holder.tables();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {table} (cred_id, {owner_col}, passkey, created_ms) VALUES ($1, $2, $3, $4)"
    )))
    .bind(cred_id.to_string())
    .bind(owner.to_string())
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

/// One passkey as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyLine {
    pub cred_id: String,
    pub created_ms: Millis,
    pub last_used_ms: Option<Millis>,
    /// webauthn-rs's Passkey, as JSON.
    pub passkey: String,
}

pub async fn passkeys_of(
    conn: &mut AnyConnection,
    holder: Holder,
    owner: &str,
) -> Result<Vec<PasskeyLine>, OpError> {
    let (table, _, owner_col) = holder.tables();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT cred_id, created_ms, last_used_ms, passkey FROM {table} WHERE {owner_col} = $1 ORDER BY created_ms, cred_id"
    )))
    .bind(owner.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(PasskeyLine {
                cred_id: text(r, "cred_id")?,
                created_ms: rows::int(r, "created_ms")?,
                last_used_ms: r.try_get::<Option<i64>, _>("last_used_ms")?,
                passkey: text(r, "passkey")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// (owner, passkey JSON) of a credential id.
pub async fn passkey(
    conn: &mut AnyConnection,
    holder: Holder,
    cred_id: &str,
) -> Result<Option<(String, String)>, OpError> {
    let (table, _, owner_col) = holder.tables();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {owner_col}, passkey FROM {table} WHERE cred_id = $1"
    )))
    .bind(cred_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row
        .map(|r| Ok::<_, sqlx::Error>((text(&r, owner_col)?, text(&r, "passkey")?)))
        .transpose()?)
}

/// Removes one of the owner's passkeys, never the last one (that would lock
/// the owner out until somebody invites them again). `Ok(false)`: no such
/// passkey of theirs.
pub async fn remove_passkey(
    conn: &mut AnyConnection,
    holder: Holder,
    owner: &str,
    cred_id: &str,
) -> Result<bool, OpError> {
    let (table, _, owner_col) = holder.tables();
    let held = passkeys_of(conn, holder, owner).await?;
    if !held.iter().any(|p| p.cred_id == cred_id) {
        return Ok(false);
    }
    if held.len() == 1 {
        return Err(OpError::Conflict {
            code: Code::LastPasskey,
            message: "this is the only passkey: add another before removing it".into(),
        });
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {table} WHERE cred_id = $1 AND {owner_col} = $2"
    )))
    .bind(cred_id.to_string())
    .bind(owner.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// After a sign-in: the passkey's new counter, and when it was used.
pub async fn touch_passkey(
    conn: &mut AnyConnection,
    holder: Holder,
    cred_id: &str,
    passkey: &str,
    now: Millis,
) -> Result<(), OpError> {
    let (table, _, _) = holder.tables();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET passkey = $1, last_used_ms = $2 WHERE cred_id = $3"
    )))
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

/// A staff token by id, if it is live and may use the console.
pub async fn staff_token(
    conn: &mut AnyConnection,
    token_id: &str,
) -> Result<Option<tokens::TokenRow>, OpError> {
    let row = sqlx::query(
        "SELECT id, org_id, role, carrier, label, resident_id, courier_id, expires_ms, revoked, site_ids FROM api_tokens \
         WHERE id = $1 AND revoked = 0 AND role IN ('admin', 'manager', 'concierge')",
    )
    .bind(token_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(tokens::token_row).transpose()?)
}

/// Moves a staff token's passkeys to the token that replaces it (rotation
/// keeps the holder's second factor).
pub async fn move_staff_passkeys(
    conn: &mut AnyConnection,
    from_token: &str,
    to_token: &str,
) -> Result<(), OpError> {
    sqlx::query("UPDATE staff_passkeys SET token_id = $1 WHERE token_id = $2")
        .bind(to_token.to_string())
        .bind(from_token.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
