//! Organisations, sites and buildings.

use cubby_domain::Millis;
use cubby_domain::codes::Code;
use cubby_domain::custody::GENESIS;
use cubby_domain::model::Timezone;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::OpError;
use crate::rows::text;

#[derive(Debug, Clone, Serialize)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
}

pub async fn organisations(conn: &mut AnyConnection) -> Result<Vec<OrgRow>, OpError> {
    let rows = sqlx::query("SELECT id, name FROM organisations ORDER BY created_ms, id")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(OrgRow {
                id: text(r, "id")?,
                name: text(r, "name")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

pub async fn organisation_exists(conn: &mut AnyConnection, id: &str) -> Result<bool, OpError> {
    Ok(sqlx::query("SELECT id FROM organisations WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub timezone: String,
}

fn site_row(r: &AnyRow) -> Result<SiteRow, sqlx::Error> {
    Ok(SiteRow {
        id: text(r, "id")?,
        org_id: text(r, "org_id")?,
        name: text(r, "name")?,
        timezone: text(r, "timezone")?,
    })
}

pub async fn site(conn: &mut AnyConnection, id: &str) -> Result<Option<SiteRow>, OpError> {
    let row = sqlx::query("SELECT id, org_id, name, timezone FROM sites WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(site_row).transpose()?)
}

pub async fn sites(
    conn: &mut AnyConnection,
    org_id: Option<&str>,
) -> Result<Vec<SiteRow>, OpError> {
    let rows = match org_id {
        Some(org) => {
            sqlx::query("SELECT id, org_id, name, timezone FROM sites WHERE org_id = $1 ORDER BY created_ms, id")
                .bind(org.to_string())
                .fetch_all(&mut *conn)
                .await?
        }
        None => sqlx::query("SELECT id, org_id, name, timezone FROM sites ORDER BY created_ms, id").fetch_all(&mut *conn).await?,
    };
    Ok(rows.iter().map(site_row).collect::<Result<_, _>>()?)
}

pub async fn create_org(
    conn: &mut AnyConnection,
    id: &str,
    name: &str,
    now: Millis,
) -> Result<(), OpError> {
    sqlx::query("INSERT INTO organisations (id, name, created_ms) VALUES ($1, $2, $3)")
        .bind(id.to_string())
        .bind(name.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Creates a site with the head of its (empty) custody chain.
pub async fn create_site(
    conn: &mut AnyConnection,
    id: &str,
    org_id: &str,
    name: &str,
    timezone: &Timezone,
    now: Millis,
) -> Result<SiteRow, OpError> {
    if !organisation_exists(conn, org_id).await? {
        return Err(OpError::NotFound {
            what: "organisation",
        });
    }
    sqlx::query(
        "INSERT INTO sites (id, org_id, name, timezone, created_ms) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.to_string())
    .bind(org_id.to_string())
    .bind(name.to_string())
    .bind(timezone.as_str().to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO custody_heads (site_id, seq, hash) VALUES ($1, 0, $2)")
        .bind(id.to_string())
        .bind(GENESIS.to_vec())
        .execute(&mut *conn)
        .await?;
    Ok(SiteRow {
        id: id.into(),
        org_id: org_id.into(),
        name: name.into(),
        timezone: timezone.as_str().into(),
    })
}

pub async fn create_building(
    conn: &mut AnyConnection,
    id: &str,
    site_id: &str,
    name: &str,
) -> Result<(), OpError> {
    let inserted = sqlx::query("INSERT INTO buildings (id, site_id, name) VALUES ($1, $2, $3) ON CONFLICT (site_id, name) DO NOTHING")
        .bind(id.to_string())
        .bind(site_id.to_string())
        .bind(name.to_string())
        .execute(&mut *conn)
        .await?;
    if inserted.rows_affected() == 0 {
        return Err(OpError::Conflict {
            code: Code::BuildingExists,
            message: format!("a building named {name:?} already exists on this site"),
        });
    }
    Ok(())
}
