//! Incidents raised by devices, the site or staff, and the steps staff take
//! on them (acknowledge, assign, comment, resolve).

use cubby_domain::Millis;
use cubby_domain::codes::Code;
use cubby_domain::incident::{Standing, Step};
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::OpError;
use crate::devices::device_place;
use crate::rows::{int, locked, opt_text, text};

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
    pub acknowledged_ms: Option<i64>,
    pub acknowledged_by: Option<String>,
    /// The staff token it is assigned to.
    pub assigned_to: Option<String>,
    pub resolved_by: Option<String>,
    pub resolve_reason: Option<String>,
    /// How often the cause happened at this place while the incident was open.
    pub occurrences: i64,
    /// When it last happened (the first time when only once).
    pub last_ms: Option<i64>,
}

const INCIDENT_SELECT: &str = "SELECT i.id, i.site_id, i.locker_id, i.device_id, i.compartment_label, i.parcel_id, i.kind, i.detail, \
     i.created_ms, i.resolved_ms, i.acknowledged_ms, i.acknowledged_by, i.assigned_to, i.resolved_by, i.resolve_reason, \
     i.occurrences, i.last_ms FROM incidents i";

fn incident_row(r: &AnyRow) -> Result<IncidentRow, sqlx::Error> {
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
        acknowledged_ms: r.try_get::<Option<i64>, _>("acknowledged_ms")?,
        acknowledged_by: opt_text(r, "acknowledged_by")?,
        assigned_to: opt_text(r, "assigned_to")?,
        resolved_by: opt_text(r, "resolved_by")?,
        resolve_reason: opt_text(r, "resolve_reason")?,
        occurrences: int(r, "occurrences")?,
        last_ms: r.try_get::<Option<i64>, _>("last_ms")?,
    })
}

/// Incidents of an organisation's sites (all when `org_id` is None), newest first.
pub async fn incidents(
    conn: &mut AnyConnection,
    org_id: Option<&str>,
    site_id: Option<&str>,
    limit: i64,
) -> Result<Vec<IncidentRow>, OpError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{INCIDENT_SELECT} JOIN sites s ON s.id = i.site_id \
         WHERE ($1 IS NULL OR s.org_id = $1) AND ($2 IS NULL OR i.site_id = $2) \
         ORDER BY i.created_ms DESC, i.id LIMIT $3"
    )))
    .bind(org_id.map(str::to_string))
    .bind(site_id.map(str::to_string))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(incident_row)
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

/// Folds a recurrence into the open incident of the same cause at the same
/// place, if there is one: answers its id.
async fn fold_into_open(
    conn: &mut AnyConnection,
    site_id: &str,
    kind: &str,
    locker_id: Option<&str>,
    compartment: Option<&str>,
    parcel_id: Option<&str>,
    now: Millis,
) -> Result<Option<String>, OpError> {
    let open = sqlx::query(
        "SELECT id FROM incidents WHERE site_id = $1 AND kind = $2 AND resolved_ms IS NULL \
         AND (locker_id = $3 OR (locker_id IS NULL AND $3 IS NULL)) \
         AND (compartment_label = $4 OR (compartment_label IS NULL AND $4 IS NULL)) \
         AND (parcel_id = $5 OR (parcel_id IS NULL AND $5 IS NULL)) ORDER BY created_ms DESC, id LIMIT 1",
    )
    .bind(site_id.to_string())
    .bind(kind.to_string())
    .bind(locker_id.map(str::to_string))
    .bind(compartment.map(str::to_string))
    .bind(parcel_id.map(str::to_string))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(open) = open else { return Ok(None) };
    let id = text(&open, "id")?;
    sqlx::query("UPDATE incidents SET occurrences = occurrences + 1, last_ms = $1 WHERE id = $2")
        .bind(now)
        .bind(id.clone())
        .execute(&mut *conn)
        .await?;
    Ok(Some(id))
}

/// Raises an incident for a device's locker, or folds it into the open one
/// of the same cause there.
pub async fn raise_incident(
    conn: &mut AnyConnection,
    i: &NewIncident<'_>,
    now: Millis,
) -> Result<(), OpError> {
    let place = device_place(conn, i.device_id).await?;
    if fold_into_open(
        conn,
        &place.site_id,
        i.kind,
        Some(&place.locker_id),
        i.compartment_label,
        i.parcel_id,
        now,
    )
    .await?
    .is_some()
    {
        return Ok(());
    }
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

/// Raises a site-level incident (no device involved), or folds it into the
/// open one of the same cause; answers the incident's id.
pub async fn raise_site_incident(
    conn: &mut AnyConnection,
    id: &str,
    site_id: &str,
    parcel_id: Option<&str>,
    kind: &str,
    detail: &str,
    now: Millis,
) -> Result<String, OpError> {
    if let Some(open) = fold_into_open(conn, site_id, kind, None, None, parcel_id, now).await? {
        return Ok(open);
    }
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
    Ok(id.to_string())
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

/// One incident, by id.
pub async fn incident(conn: &mut AnyConnection, id: &str) -> Result<Option<IncidentRow>, OpError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{INCIDENT_SELECT} WHERE i.id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(incident_row).transpose()?)
}

/// Locks an incident for a workflow step and answers it.
async fn lock_incident(conn: &mut AnyConnection, id: &str) -> Result<IncidentRow, OpError> {
    sqlx::query(locked!(conn, "SELECT id FROM incidents WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(OpError::NotFound { what: "incident" })?;
    incident(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "incident" })
}

fn standing(i: &IncidentRow) -> Standing {
    Standing {
        acknowledged: i.acknowledged_ms.is_some(),
        resolved: i.resolved_ms.is_some(),
    }
}

fn refused(e: cubby_domain::incident::Refused) -> OpError {
    OpError::Conflict {
        code: Code::IncidentResolved,
        message: e.to_string(),
    }
}

/// One workflow step on an incident, under its row lock; answers it after.
pub async fn step(
    conn: &mut AnyConnection,
    id: &str,
    step: &IncidentStep,
    actor: &str,
    now: Millis,
) -> Result<IncidentRow, OpError> {
    let before = lock_incident(conn, id).await?;
    let kind = match step {
        IncidentStep::Acknowledge => Step::Acknowledge,
        IncidentStep::Assign { .. } => Step::Assign,
        IncidentStep::Comment { .. } => Step::Comment,
        IncidentStep::Resolve { .. } => Step::Resolve,
    };
    cubby_domain::incident::apply(standing(&before), kind).map_err(refused)?;
    match step {
        IncidentStep::Acknowledge => {
            sqlx::query(
                "UPDATE incidents SET acknowledged_ms = $1, acknowledged_by = $2 WHERE id = $3 AND acknowledged_ms IS NULL",
            )
            .bind(now)
            .bind(actor.to_string())
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
        }
        IncidentStep::Assign { token_id } => {
            sqlx::query("UPDATE incidents SET assigned_to = $1, assigned_ms = $2 WHERE id = $3")
                .bind(token_id.clone())
                .bind(now)
                .bind(id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        IncidentStep::Comment { comment_id, text } => {
            sqlx::query(
                "INSERT INTO incident_comments (id, incident_id, actor, text, at_ms) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(comment_id.clone())
            .bind(id.to_string())
            .bind(actor.to_string())
            .bind(text.clone())
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
        IncidentStep::Resolve { reason } => {
            sqlx::query(
                "UPDATE incidents SET resolved_ms = $1, resolved_by = $2, resolve_reason = $3, \
                 acknowledged_ms = COALESCE(acknowledged_ms, $1), acknowledged_by = COALESCE(acknowledged_by, $2) WHERE id = $4",
            )
            .bind(now)
            .bind(actor.to_string())
            .bind(reason.clone())
            .bind(id.to_string())
            .execute(&mut *conn)
            .await?;
        }
    }
    incident(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "incident" })
}

/// A workflow step, with what it carries.
#[derive(Debug, Clone)]
pub enum IncidentStep {
    Acknowledge,
    Assign { token_id: String },
    Comment { comment_id: String, text: String },
    Resolve { reason: String },
}

/// A comment on an incident.
#[derive(Debug, Clone, Serialize)]
pub struct CommentRow {
    pub id: String,
    pub actor: String,
    pub text: String,
    pub at_ms: i64,
}

/// An incident's comments, oldest first.
pub async fn comments(
    conn: &mut AnyConnection,
    incident_id: &str,
) -> Result<Vec<CommentRow>, OpError> {
    let rows = sqlx::query(
        "SELECT id, actor, text, at_ms FROM incident_comments WHERE incident_id = $1 ORDER BY at_ms, id",
    )
    .bind(incident_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CommentRow {
                id: text(r, "id")?,
                actor: text(r, "actor")?,
                text: text(r, "text")?,
                at_ms: int(r, "at_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}
