//! API tokens: stored as MACs, looked up by MAC, bound to a resident or a courier.

use cubby_domain::Millis;
use cubby_domain::model::Role;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::OpError;
use crate::rows::{int, opt_text, parse, text};
use crate::tenants;

#[derive(Debug, Clone, Serialize)]
pub struct TokenRow {
    pub id: String,
    pub org_id: Option<String>,
    pub role: Role,
    pub carrier: Option<String>,
    pub label: String,
    /// The resident a resident token acts for.
    pub resident_id: Option<String>,
    /// The courier account a courier token belongs to, if personal.
    pub courier_id: Option<String>,
}

pub async fn token_by_mac(
    conn: &mut AnyConnection,
    mac: &[u8; 32],
) -> Result<Option<TokenRow>, OpError> {
    let row = sqlx::query("SELECT id, org_id, role, carrier, label, resident_id, courier_id FROM api_tokens WHERE token_mac = $1 AND revoked = 0")
        .bind(mac.to_vec())
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref()
        .map(token_row)
        .transpose()
        .map_err(OpError::from)
}

/// A token from a row holding api_tokens' id, org_id, role, carrier, label,
/// resident_id and courier_id.
pub(crate) fn token_row(r: &AnyRow) -> Result<TokenRow, sqlx::Error> {
    Ok(TokenRow {
        id: text(r, "id")?,
        org_id: opt_text(r, "org_id")?,
        role: parse(r, "role")?,
        carrier: opt_text(r, "carrier")?,
        label: text(r, "label")?,
        resident_id: opt_text(r, "resident_id")?,
        courier_id: opt_text(r, "courier_id")?,
    })
}

pub async fn count_tokens(conn: &mut AnyConnection) -> Result<i64, OpError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM api_tokens")
        .fetch_one(&mut *conn)
        .await?;
    Ok(int(&row, "n")?)
}

/// Binds a token just created to the resident or courier it acts for.
pub async fn bind_token(
    conn: &mut AnyConnection,
    token_id: &str,
    resident_id: Option<&str>,
    courier_id: Option<&str>,
) -> Result<(), OpError> {
    sqlx::query("UPDATE api_tokens SET resident_id = $1, courier_id = $2 WHERE id = $3")
        .bind(resident_id.map(str::to_string))
        .bind(courier_id.map(str::to_string))
        .bind(token_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stores a token by its MAC only: the plain token is shown once, to its creator.
#[allow(clippy::too_many_arguments)]
pub async fn create_token(
    conn: &mut AnyConnection,
    id: &str,
    mac: &[u8; 32],
    org_id: Option<&str>,
    role: Role,
    carrier: Option<&str>,
    label: &str,
    now: Millis,
) -> Result<(), OpError> {
    if let Some(org) = org_id
        && !tenants::organisation_exists(conn, org).await?
    {
        return Err(OpError::NotFound {
            what: "organisation",
        });
    }
    sqlx::query("INSERT INTO api_tokens (id, token_mac, org_id, role, carrier, label, created_ms, revoked) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)")
        .bind(id.to_string())
        .bind(mac.to_vec())
        .bind(org_id.map(str::to_string))
        .bind(role.as_str().to_string())
        .bind(carrier.map(str::to_string))
        .bind(label.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
