//! Browser sessions: stored as a MAC of their cookie, with their CSRF token.

use cubby_domain::Millis;
use sqlx::AnyConnection;

use crate::OpError;
use crate::rows::text;
use crate::tokens::TokenRow;
use crate::tokens::token_row;

pub async fn open_session(
    conn: &mut AnyConnection,
    id_mac: &[u8; 32],
    token_id: &str,
    csrf: &str,
    now: Millis,
    expires_ms: Millis,
) -> Result<(), OpError> {
    // Expired sessions go as new ones come.
    sqlx::query("DELETE FROM web_sessions WHERE expires_ms < $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO web_sessions (id_mac, token_id, csrf, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_mac.to_vec())
    .bind(token_id.to_string())
    .bind(csrf.to_string())
    .bind(now)
    .bind(expires_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The live session's token (not revoked) and CSRF value.
pub async fn session(
    conn: &mut AnyConnection,
    id_mac: &[u8; 32],
    now: Millis,
) -> Result<Option<(TokenRow, String)>, OpError> {
    let row = sqlx::query(
        "SELECT t.id, t.org_id, t.role, t.carrier, t.label, t.resident_id, t.courier_id, t.expires_ms, t.revoked, t.site_ids, s.csrf \
         FROM web_sessions s JOIN api_tokens t ON t.id = s.token_id \
         WHERE s.id_mac = $1 AND s.expires_ms > $2 AND t.revoked = 0 AND (t.expires_ms IS NULL OR t.expires_ms > $2)",
    )
    .bind(id_mac.to_vec())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row
        .map(|r| Ok::<_, sqlx::Error>((token_row(&r)?, text(&r, "csrf")?)))
        .transpose()?)
}

pub async fn close_session(conn: &mut AnyConnection, id_mac: &[u8; 32]) -> Result<(), OpError> {
    sqlx::query("DELETE FROM web_sessions WHERE id_mac = $1")
        .bind(id_mac.to_vec())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
