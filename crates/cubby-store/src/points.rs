//! Out-of-home pick-up points: a site's public profile (place, hours,
//! accessibility) and what the finder reads: the points of a latitude band
//! and their free compartments (no reservation's holds).

use cubby_domain::Millis;
use cubby_domain::points::GeoPoint;
use sqlx::AnyConnection;

use crate::OpError;
use crate::rows::{int, mm, opt_text, text};

/// A site's public profile, as stored.
#[derive(Debug, Clone)]
pub struct PublicPointRow {
    pub site_id: String,
    pub name: String,
    pub address: Option<String>,
    pub timezone: String,
    pub at: GeoPoint,
    /// JSON of `cubby_domain::points::OpeningHours`.
    pub opening_hours: String,
    pub accessibility: String,
}

const POINT_SELECT: &str = "SELECT s.id AS site_id, s.name, s.address, s.timezone, p.lat_e6, p.lon_e6, p.opening_hours, p.accessibility \
     FROM public_points p JOIN sites s ON s.id = p.site_id";

fn point_row(r: &sqlx::any::AnyRow) -> Result<PublicPointRow, sqlx::Error> {
    Ok(PublicPointRow {
        site_id: text(r, "site_id")?,
        name: text(r, "name")?,
        address: opt_text(r, "address")?,
        timezone: text(r, "timezone")?,
        at: GeoPoint::from_micro(int(r, "lat_e6")?, int(r, "lon_e6")?),
        opening_hours: text(r, "opening_hours")?,
        accessibility: text(r, "accessibility")?,
    })
}

/// Makes a site a public pick-up point, or updates its profile.
pub async fn set_public_point(
    conn: &mut AnyConnection,
    site_id: &str,
    at: GeoPoint,
    opening_hours_json: &str,
    accessibility: &str,
    now: Millis,
) -> Result<PublicPointRow, OpError> {
    let (lat, lon) = at.to_micro();
    sqlx::query(
        "INSERT INTO public_points (site_id, lat_e6, lon_e6, opening_hours, accessibility, updated_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (site_id) DO UPDATE SET lat_e6 = excluded.lat_e6, \
         lon_e6 = excluded.lon_e6, opening_hours = excluded.opening_hours, accessibility = excluded.accessibility, \
         updated_ms = excluded.updated_ms",
    )
    .bind(site_id.to_string())
    .bind(lat)
    .bind(lon)
    .bind(opening_hours_json.to_string())
    .bind(accessibility.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE sites SET kind = 'public_point' WHERE id = $1")
        .bind(site_id.to_string())
        .execute(&mut *conn)
        .await?;
    public_point(conn, site_id)
        .await?
        .ok_or(OpError::NotFound { what: "site" })
}

/// Withdraws a site from the public: it is residential again.
pub async fn clear_public_point(conn: &mut AnyConnection, site_id: &str) -> Result<bool, OpError> {
    let gone = sqlx::query("DELETE FROM public_points WHERE site_id = $1")
        .bind(site_id.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE sites SET kind = 'residential' WHERE id = $1")
        .bind(site_id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(gone.rows_affected() > 0)
}

pub async fn public_point(
    conn: &mut AnyConnection,
    site_id: &str,
) -> Result<Option<PublicPointRow>, OpError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{POINT_SELECT} WHERE p.site_id = $1"
    )))
    .bind(site_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(point_row).transpose()?)
}

/// A box in micro-degrees: (south, north) and (west, east).
pub type Band = ((i64, i64), (i64, i64));

/// Every public point in the box.
pub async fn points_in_band(
    conn: &mut AnyConnection,
    ((lo, hi), (west, east)): Band,
) -> Result<Vec<PublicPointRow>, OpError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{POINT_SELECT} WHERE p.lat_e6 >= $1 AND p.lat_e6 <= $2 AND p.lon_e6 >= $3 AND p.lon_e6 <= $4 ORDER BY p.site_id"
    )))
    .bind(lo)
    .bind(hi)
    .bind(west)
    .bind(east)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(point_row).collect::<Result<_, _>>()?)
}

/// A free compartment at a public point: empty, in service, held by no
/// reservation.
#[derive(Debug, Clone)]
pub struct FreeCompartment {
    pub site_id: String,
    pub locker_id: String,
    pub locker_name: String,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub temperature: String,
}

/// The free compartments of the public points in the box.
pub async fn free_in_band(
    conn: &mut AnyConnection,
    ((lo, hi), (west, east)): Band,
    now: Millis,
) -> Result<Vec<FreeCompartment>, OpError> {
    let rows = sqlx::query(
        "SELECT l.site_id, l.id AS locker_id, l.name AS locker_name, c.width_mm, c.height_mm, c.depth_mm, c.temperature \
         FROM public_points p JOIN lockers l ON l.site_id = p.site_id JOIN compartments c ON c.locker_id = l.id \
         LEFT JOIN compartment_holders h ON h.compartment_id = c.id \
         WHERE p.lat_e6 >= $1 AND p.lat_e6 <= $2 AND p.lon_e6 >= $3 AND p.lon_e6 <= $4 \
         AND c.status = 'available' AND h.compartment_id IS NULL \
         AND NOT EXISTS (SELECT 1 FROM reservation_holds rh WHERE rh.compartment_id = c.id AND rh.state = 'held' AND rh.to_ms > $5) \
         ORDER BY l.site_id, l.name, l.id",
    )
    .bind(lo)
    .bind(hi)
    .bind(west)
    .bind(east)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(FreeCompartment {
                site_id: text(r, "site_id")?,
                locker_id: text(r, "locker_id")?,
                locker_name: text(r, "locker_name")?,
                width_mm: mm(r, "width_mm")?,
                height_mm: mm(r, "height_mm")?,
                depth_mm: mm(r, "depth_mm")?,
                temperature: text(r, "temperature")?,
            })
        })
        .collect()
}
