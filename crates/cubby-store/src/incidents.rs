//! Incidents raised by devices, the site or staff, and resolving them.

use cubby_domain::Millis;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;

use crate::OpError;
use crate::devices::device_place;
use crate::rows::{int, opt_text, text};

#[derive(Debug, Clone, Serialize)]
pub struct IncidentRow {
    pub id: String,
    pub site_id: String,
    pub locker_id: Option<String>,
    pub device_id: Option<String>,
    pub compartment: Option<String>,
    pub parcel_id: Option<String>,
    pub kind: String,
    pub detail: String,
    pub created_ms: i64,
    pub resolved_ms: Option<i64>,
}

/// Incidents of an organisation's sites (all when `org_id` is None), newest first.
pub async fn incidents(
    conn: &mut AnyConnection,
    org_id: Option<&str>,
    site_id: Option<&str>,
    limit: i64,
) -> Result<Vec<IncidentRow>, OpError> {
    let rows = sqlx::query(
        "SELECT i.id, i.site_id, i.locker_id, i.device_id, i.compartment_label, i.parcel_id, i.kind, i.detail, i.created_ms, i.resolved_ms \
         FROM incidents i JOIN sites s ON s.id = i.site_id \
         WHERE ($1 IS NULL OR s.org_id = $1) AND ($2 IS NULL OR i.site_id = $2) \
         ORDER BY i.created_ms DESC, i.id LIMIT $3",
    )
    .bind(org_id.map(str::to_string))
    .bind(site_id.map(str::to_string))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(IncidentRow {
                id: text(r, "id")?,
                site_id: text(r, "site_id")?,
                locker_id: opt_text(r, "locker_id")?,
                device_id: opt_text(r, "device_id")?,
                compartment: opt_text(r, "compartment_label")?,
                parcel_id: opt_text(r, "parcel_id")?,
                kind: text(r, "kind")?,
                detail: text(r, "detail")?,
                created_ms: int(r, "created_ms")?,
                resolved_ms: r.try_get::<Option<i64>, _>("resolved_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// A problem staff must look at.
#[derive(Debug, Clone)]
pub struct NewIncident<'a> {
    pub id: String,
    pub device_id: &'a str,
    pub compartment_label: Option<&'a str>,
    pub parcel_id: Option<&'a str>,
    pub kind: &'a str,
    pub detail: String,
}

pub async fn raise_incident(
    conn: &mut AnyConnection,
    i: &NewIncident<'_>,
    now: Millis,
) -> Result<(), OpError> {
    let place = device_place(conn, i.device_id).await?;
    sqlx::query(
        "INSERT INTO incidents (id, site_id, locker_id, device_id, compartment_label, parcel_id, kind, detail, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(i.id.clone())
    .bind(place.site_id)
    .bind(place.locker_id)
    .bind(i.device_id.to_string())
    .bind(i.compartment_label.map(str::to_string))
    .bind(i.parcel_id.map(str::to_string))
    .bind(i.kind.to_string())
    .bind(i.detail.clone())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Raises a site-level incident (no device involved).
pub async fn raise_site_incident(
    conn: &mut AnyConnection,
    id: &str,
    site_id: &str,
    parcel_id: Option<&str>,
    kind: &str,
    detail: &str,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query(
        "INSERT INTO incidents (id, site_id, parcel_id, kind, detail, created_ms) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.to_string())
    .bind(site_id.to_string())
    .bind(parcel_id.map(str::to_string))
    .bind(kind.to_string())
    .bind(detail.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Marks an incident of a site resolved (the first resolution stands).
/// Returns false when the site has no such incident.
pub async fn resolve_incident(
    conn: &mut AnyConnection,
    site_id: &str,
    incident_id: &str,
    now: Millis,
) -> Result<bool, OpError> {
    let found = sqlx::query("SELECT 1 AS one FROM incidents WHERE id = $1 AND site_id = $2")
        .bind(incident_id.to_string())
        .bind(site_id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if found {
        sqlx::query("UPDATE incidents SET resolved_ms = $1 WHERE id = $2 AND resolved_ms IS NULL")
            .bind(now)
            .bind(incident_id.to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(found)
}
