//! Carriers, their courier accounts and courier passes (with what a pass may deposit).

use cubby_domain::Millis;
use cubby_domain::codes::Code;
use sqlx::AnyConnection;

use crate::OpError;
use crate::lockers;
use crate::rows::{hash32, int, mm, opt_text, text};

/// A courier pass as the locker's cache holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedCourierPass {
    pub id: String,
    pub locker_id: String,
    pub carrier: String,
    pub local_mac: [u8; 32],
    pub expires_ms: i64,
}

/// Courier passes valid at a locker now.
pub async fn cache_courier_passes(
    conn: &mut AnyConnection,
    locker_id: &str,
    now: i64,
) -> Result<Vec<CachedCourierPass>, OpError> {
    let rows = sqlx::query(
        "SELECT p.id, p.locker_id, p.carrier, p.local_mac, p.expires_ms FROM courier_passes p \
         JOIN lockers l ON l.id = p.locker_id \
         JOIN site_carriers sc ON sc.site_id = l.site_id AND sc.carrier = p.carrier \
         WHERE p.locker_id = $1 AND p.revoked = 0 AND p.expires_ms > $2 ORDER BY p.id",
    )
    .bind(locker_id.to_string())
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CachedCourierPass {
                id: text(r, "id")?,
                locker_id: text(r, "locker_id")?,
                carrier: text(r, "carrier")?,
                local_mac: hash32(r, "local_mac")?,
                expires_ms: int(r, "expires_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// A pre-advised parcel a courier may deposit at a locker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedParcelRow {
    pub parcel_id: String,
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub temperature: String,
}

/// Most pre-advised parcels one locker's cache lists.
pub const MAX_EXPECTED_PER_LOCKER: i64 = 2_000;

/// Pre-advised parcels with a known recipient on the locker's site, newest
/// first: a courier with a pass may deposit them at the locker on its own.
pub async fn expected_parcels(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<Vec<ExpectedParcelRow>, OpError> {
    let rows = sqlx::query(
        "SELECT p.id, p.tracking_number, p.carrier, p.width_mm, p.height_mm, p.depth_mm, p.temperature \
         FROM parcels p JOIN lockers l ON l.site_id = p.site_id \
         WHERE l.id = $1 AND p.state = 'announced' AND p.resident_id IS NOT NULL \
         AND (p.redirected_to IS NULL OR p.redirected_to = l.id) \
         AND EXISTS (SELECT 1 FROM site_carriers sc WHERE sc.site_id = p.site_id AND sc.carrier = p.carrier) \
         ORDER BY p.created_ms DESC, p.id LIMIT $2",
    )
    .bind(locker_id.to_string())
    .bind(MAX_EXPECTED_PER_LOCKER)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ExpectedParcelRow {
                parcel_id: text(r, "id")?,
                tracking_number: text(r, "tracking_number")?,
                carrier: opt_text(r, "carrier")?,
                width_mm: mm(r, "width_mm")?,
                height_mm: mm(r, "height_mm")?,
                depth_mm: mm(r, "depth_mm")?,
                temperature: text(r, "temperature")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// One courier pass, for revocation checks.
pub async fn courier_pass(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<CachedCourierPass>, OpError> {
    let row = sqlx::query(
        "SELECT id, carrier, local_mac, expires_ms, locker_id FROM courier_passes WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(CachedCourierPass {
            id: text(&r, "id")?,
            carrier: text(&r, "carrier")?,
            local_mac: hash32(&r, "local_mac")?,
            expires_ms: int(&r, "expires_ms")?,
            locker_id: text(&r, "locker_id")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| OpError::from(e))
}

/// A courier pass to store. The code itself is never stored.
#[derive(Debug, Clone)]
pub struct NewCourierPass {
    pub id: String,
    pub locker_id: String,
    pub carrier: String,
    pub local_mac: [u8; 32],
    pub expires_ms: Millis,
    pub created_by: String,
    /// The one courier account the pass is for.
    pub courier_id: Option<String>,
}

pub async fn issue_courier_pass(
    conn: &mut AnyConnection,
    pass: &NewCourierPass,
    now: Millis,
) -> Result<(), OpError> {
    lockers::locker(conn, &pass.locker_id)
        .await?
        .ok_or(OpError::NotFound { what: "locker" })?;
    sqlx::query(
        "INSERT INTO courier_passes (id, locker_id, carrier, local_mac, created_ms, expires_ms, created_by, courier_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(pass.id.clone())
    .bind(pass.locker_id.clone())
    .bind(pass.carrier.clone())
    .bind(pass.local_mac.to_vec())
    .bind(now)
    .bind(pass.expires_ms)
    .bind(pass.created_by.clone())
    .bind(pass.courier_id.clone())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn revoke_courier_pass(conn: &mut AnyConnection, id: &str) -> Result<(), OpError> {
    let done = sqlx::query("UPDATE courier_passes SET revoked = 1 WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(OpError::NotFound {
            what: "courier pass",
        });
    }
    Ok(())
}

// ------------------------------------------------------- carriers per site

/// Lets a carrier deposit at a site (idempotent).
pub async fn enable_at_site(
    conn: &mut AnyConnection,
    site_id: &str,
    carrier: &str,
    actor: &str,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO site_carriers (site_id, carrier, enabled_by, enabled_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (site_id, carrier) DO NOTHING",
    )
    .bind(site_id.to_string())
    .bind(carrier.to_string())
    .bind(actor.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Stops a carrier depositing at a site and revokes its courier passes
/// there: the lockers whose passes changed, or `None` when the carrier was
/// not enabled.
pub async fn disable_at_site(
    conn: &mut AnyConnection,
    site_id: &str,
    carrier: &str,
) -> Result<Option<Vec<String>>, OpError> {
    let done = sqlx::query("DELETE FROM site_carriers WHERE site_id = $1 AND carrier = $2")
        .bind(site_id.to_string())
        .bind(carrier.to_string())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let lockers = sqlx::query(
        "SELECT DISTINCT p.locker_id FROM courier_passes p JOIN lockers l ON l.id = p.locker_id \
         WHERE l.site_id = $1 AND p.carrier = $2 AND p.revoked = 0 ORDER BY p.locker_id",
    )
    .bind(site_id.to_string())
    .bind(carrier.to_string())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| text(r, "locker_id"))
    .collect::<Result<Vec<_>, _>>()?;
    sqlx::query(
        "UPDATE courier_passes SET revoked = 1 WHERE carrier = $1 AND revoked = 0 \
         AND locker_id IN (SELECT id FROM lockers WHERE site_id = $2)",
    )
    .bind(carrier.to_string())
    .bind(site_id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(Some(lockers))
}

/// The carriers enabled at a site, with when: `(carrier, enabled_ms)`.
pub async fn enabled_at_site(
    conn: &mut AnyConnection,
    site_id: &str,
) -> Result<Vec<(String, i64)>, OpError> {
    let rows = sqlx::query(
        "SELECT carrier, enabled_ms FROM site_carriers WHERE site_id = $1 ORDER BY carrier",
    )
    .bind(site_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((text(r, "carrier")?, int(r, "enabled_ms")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

pub async fn is_enabled_at_site(
    conn: &mut AnyConnection,
    site_id: &str,
    carrier: &str,
) -> Result<bool, OpError> {
    let row = sqlx::query("SELECT 1 AS one FROM site_carriers WHERE site_id = $1 AND carrier = $2")
        .bind(site_id.to_string())
        .bind(carrier.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

// ---------------------------------------------------------------- carriers

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierRow {
    pub id: String,
    pub org_id: String,
    pub code: String,
    pub name: String,
}

pub async fn carrier(conn: &mut AnyConnection, id: &str) -> Result<Option<CarrierRow>, OpError> {
    let row = sqlx::query("SELECT id, org_id, code, name FROM carriers WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row
        .map(|r| {
            Ok::<_, sqlx::Error>(CarrierRow {
                id: text(&r, "id")?,
                org_id: text(&r, "org_id")?,
                code: text(&r, "code")?,
                name: text(&r, "name")?,
            })
        })
        .transpose()?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourierRow {
    pub id: String,
    pub carrier_id: String,
    /// The carrier's code (`dhl`), as carrier-bound tokens carry it.
    pub carrier: String,
    pub org_id: String,
    pub name: String,
    pub created_ms: Millis,
}

const COURIER_SELECT: &str = "SELECT c.id, c.carrier_id, k.code, k.org_id, c.name, c.created_ms \
     FROM couriers c JOIN carriers k ON k.id = c.carrier_id";

fn courier_row(r: &sqlx::any::AnyRow) -> Result<CourierRow, sqlx::Error> {
    Ok(CourierRow {
        id: text(r, "id")?,
        carrier_id: text(r, "carrier_id")?,
        carrier: text(r, "code")?,
        org_id: text(r, "org_id")?,
        name: text(r, "name")?,
        created_ms: int(r, "created_ms")?,
    })
}

/// A personal courier account of a carrier.
pub async fn add_courier(
    conn: &mut AnyConnection,
    id: &str,
    carrier_id: &str,
    name: &str,
    now: Millis,
) -> Result<CourierRow, OpError> {
    carrier(conn, carrier_id)
        .await?
        .ok_or(OpError::NotFound { what: "carrier" })?;
    sqlx::query("INSERT INTO couriers (id, carrier_id, name, created_ms) VALUES ($1, $2, $3, $4)")
        .bind(id.to_string())
        .bind(carrier_id.to_string())
        .bind(name.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    courier(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "courier" })
}

pub async fn courier(conn: &mut AnyConnection, id: &str) -> Result<Option<CourierRow>, OpError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{COURIER_SELECT} WHERE c.id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(courier_row).transpose()?)
}

pub async fn couriers_of_carrier(
    conn: &mut AnyConnection,
    carrier_id: &str,
) -> Result<Vec<CourierRow>, OpError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{COURIER_SELECT} WHERE c.carrier_id = $1 AND c.closed_ms IS NULL ORDER BY c.created_ms, c.id"
    )))
    .bind(carrier_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(courier_row).collect::<Result<_, _>>()?)
}

/// Closes a courier account (the courier left): its tokens, passes and
/// live visit grants are revoked, and its name is deleted — custody events
/// and door uses name the account by id only, which then names nobody. The
/// lockers whose passes changed; not found when already closed.
pub async fn close_courier_account(
    conn: &mut AnyConnection,
    courier_id: &str,
    now: Millis,
) -> Result<Vec<String>, OpError> {
    let closed = sqlx::query(
        "UPDATE couriers SET name = '', closed_ms = $1 WHERE id = $2 AND closed_ms IS NULL",
    )
    .bind(now)
    .bind(courier_id.to_string())
    .execute(&mut *conn)
    .await?;
    if closed.rows_affected() == 0 {
        return Err(OpError::NotFound { what: "courier" });
    }
    sqlx::query(
        "UPDATE api_tokens SET revoked = 1, revoked_ms = COALESCE(revoked_ms, $1) WHERE courier_id = $2",
    )
    .bind(now)
    .bind(courier_id.to_string())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE access_grants SET revoked_ms = $1 WHERE courier_id = $2 AND revoked_ms IS NULL AND not_after_ms > $1",
    )
    .bind(now)
    .bind(courier_id.to_string())
    .execute(&mut *conn)
    .await?;
    let lockers = crate::rows::texts(
        conn,
        "SELECT DISTINCT locker_id FROM courier_passes WHERE courier_id = $1 AND revoked = 0 ORDER BY locker_id",
        courier_id,
        "locker_id",
    )
    .await?;
    sqlx::query("UPDATE courier_passes SET revoked = 1 WHERE courier_id = $1")
        .bind(courier_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(lockers)
}

/// Renames a carrier (its code, which tokens and parcels carry, stays).
pub async fn rename_carrier(
    conn: &mut AnyConnection,
    id: &str,
    name: &str,
) -> Result<CarrierRow, OpError> {
    sqlx::query("UPDATE carriers SET name = $1 WHERE id = $2")
        .bind(name.to_string())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    carrier(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "carrier" })
}

/// The carriers of one organisation, or of every organisation (`None`), by
/// organisation and code.
pub async fn carriers(
    conn: &mut AnyConnection,
    org_id: Option<&str>,
) -> Result<Vec<CarrierRow>, OpError> {
    let rows = match org_id {
        Some(org) => sqlx::query(
            "SELECT id, org_id, code, name FROM carriers WHERE org_id = $1 ORDER BY org_id, code",
        )
        .bind(org.to_string())
        .fetch_all(&mut *conn)
        .await?,
        None => {
            sqlx::query("SELECT id, org_id, code, name FROM carriers ORDER BY org_id, code")
                .fetch_all(&mut *conn)
                .await?
        }
    };
    Ok(rows
        .iter()
        .map(|r| {
            Ok(CarrierRow {
                id: text(r, "id")?,
                org_id: text(r, "org_id")?,
                code: text(r, "code")?,
                name: text(r, "name")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

pub async fn create_carrier(
    conn: &mut AnyConnection,
    id: &str,
    org_id: &str,
    code: &str,
    name: &str,
) -> Result<(), OpError> {
    let inserted = sqlx::query("INSERT INTO carriers (id, org_id, code, name) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, code) DO NOTHING")
        .bind(id.to_string())
        .bind(org_id.to_string())
        .bind(code.to_string())
        .bind(name.to_string())
        .execute(&mut *conn)
        .await?;
    if inserted.rows_affected() == 0 {
        return Err(OpError::Conflict {
            code: Code::CarrierExists,
            message: format!("carrier code {code:?} is already registered"),
        });
    }
    Ok(())
}
