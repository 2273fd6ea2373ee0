//! API tokens: stored as MACs, looked up by MAC, bound to a resident or a courier.

use cubby_domain::Millis;
use cubby_domain::model::Role;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;
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
    /// When it stops working (`None`: issued before tokens expired).
    pub expires_ms: Option<Millis>,
    /// Revoked: it opens nothing any more (kept to say so, and for the record).
    pub revoked: bool,
    /// The sites of its organisation it acts at (`None`: all of them).
    pub site_ids: Option<Vec<String>>,
}

/// The columns [`token_row`] reads, for a query on `api_tokens` (alias-free).
pub(crate) const TOKEN_COLUMNS: &str =
    "id, org_id, role, carrier, label, resident_id, courier_id, expires_ms, revoked, site_ids";

pub async fn token_by_mac(
    conn: &mut AnyConnection,
    mac: &[u8; 32],
) -> Result<Option<TokenRow>, OpError> {
    // Revoked and expired tokens come back too, so that the caller can say
    // which (`token_revoked`, `token_expired`) instead of "unknown".
    token_where(conn, "token_mac = $1", mac.to_vec()).await
}

/// A token by id, with what it acts for (revoked and expired ones too).
pub async fn token_row_by_id(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<TokenRow>, OpError> {
    token_where(conn, "id = $1", id.to_string()).await
}

async fn token_where<'q, T>(
    conn: &mut AnyConnection,
    condition: &'static str,
    value: T,
) -> Result<Option<TokenRow>, OpError>
where
    T: 'q + Send + sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE {condition}"
    )))
    .bind(value)
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
        expires_ms: r.try_get::<Option<i64>, _>("expires_ms")?,
        revoked: int(r, "revoked")? != 0,
        site_ids: opt_text(r, "site_ids")?
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| sqlx::Error::Decode(e.into()))?,
    })
}

impl TokenRow {
    /// Whether it still works at `now`.
    pub fn live(&self, now: Millis) -> bool {
        !self.revoked && self.expires_ms.is_none_or(|t| t > now)
    }
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
/// What a new token may do, and for how long.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub id: &'a str,
    pub mac: &'a [u8; 32],
    pub org_id: Option<&'a str>,
    pub role: Role,
    pub carrier: Option<&'a str>,
    pub label: &'a str,
    pub expires_ms: Option<Millis>,
    pub site_ids: Option<&'a [String]>,
}

pub async fn create_token(
    conn: &mut AnyConnection,
    t: &NewToken<'_>,
    now: Millis,
) -> Result<(), OpError> {
    if let Some(org) = t.org_id
        && !tenants::organisation_exists(conn, org).await?
    {
        return Err(OpError::NotFound {
            what: "organisation",
        });
    }
    let site_ids = t
        .site_ids
        .map(|ids| serde_json::to_string(ids).unwrap_or_default());
    sqlx::query("INSERT INTO api_tokens (id, token_mac, org_id, role, carrier, label, created_ms, revoked, expires_ms, site_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)")
        .bind(t.id.to_string())
        .bind(t.mac.to_vec())
        .bind(t.org_id.map(str::to_string))
        .bind(t.role.as_str().to_string())
        .bind(t.carrier.map(str::to_string))
        .bind(t.label.to_string())
        .bind(now)
        .bind(t.expires_ms)
        .bind(site_ids)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, Serialize)]
pub struct TokenLine {
    pub id: String,
    pub org_id: Option<String>,
    pub role: String,
    pub carrier: Option<String>,
    pub label: String,
    pub created_ms: Millis,
    pub expires_ms: Option<Millis>,
    pub revoked_ms: Option<Millis>,
    pub revoked: bool,
    pub site_ids: Option<Vec<String>>,
}

const LINE_SELECT: &str = "SELECT id, org_id, role, carrier, label, created_ms, expires_ms, revoked_ms, revoked, site_ids FROM api_tokens";

fn token_line(r: &AnyRow) -> Result<TokenLine, sqlx::Error> {
    Ok(TokenLine {
        id: text(r, "id")?,
        org_id: opt_text(r, "org_id")?,
        role: text(r, "role")?,
        carrier: opt_text(r, "carrier")?,
        label: text(r, "label")?,
        created_ms: int(r, "created_ms")?,
        expires_ms: r.try_get::<Option<i64>, _>("expires_ms")?,
        revoked_ms: r.try_get::<Option<i64>, _>("revoked_ms")?,
        revoked: int(r, "revoked")? != 0,
        site_ids: opt_text(r, "site_ids")?
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| sqlx::Error::Decode(e.into()))?,
    })
}

/// The tokens of one organisation, or of all (`None`), oldest first. The
/// portal's own session tokens are not listed: they are the resident's.
pub async fn tokens_of(
    conn: &mut AnyConnection,
    org_id: Option<&str>,
) -> Result<Vec<TokenLine>, OpError> {
    let rows = match org_id {
        Some(org) => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{LINE_SELECT} WHERE org_id = $1 AND NOT (role = 'resident' AND label = 'portal') ORDER BY created_ms, id"
            )))
            .bind(org.to_string())
            .fetch_all(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{LINE_SELECT} WHERE NOT (role = 'resident' AND label = 'portal') ORDER BY created_ms, id"
            )))
            .fetch_all(&mut *conn)
            .await?
        }
    };
    Ok(rows.iter().map(token_line).collect::<Result<_, _>>()?)
}

/// One token as listed, by id.
pub async fn token(conn: &mut AnyConnection, id: &str) -> Result<Option<TokenLine>, OpError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{LINE_SELECT} WHERE id = $1")))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(token_line).transpose()?)
}

/// Revokes a token only if it still works at `now`: false when it was
/// already revoked or had expired (a rotation racing a revocation loses).
pub async fn revoke_live_token(
    conn: &mut AnyConnection,
    id: &str,
    now: Millis,
) -> Result<bool, OpError> {
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked = 1, revoked_ms = $1 \
         WHERE id = $2 AND revoked = 0 AND (expires_ms IS NULL OR expires_ms > $1)",
    )
    .bind(now)
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes a token (once): its row as it is now, or `None` when there is
/// no such token. Revoking again changes nothing.
pub async fn revoke_token(
    conn: &mut AnyConnection,
    id: &str,
    now: Millis,
) -> Result<Option<TokenLine>, OpError> {
    sqlx::query(
        "UPDATE api_tokens SET revoked = 1, revoked_ms = COALESCE(revoked_ms, $1) WHERE id = $2",
    )
    .bind(now)
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    token(conn, id).await
}
