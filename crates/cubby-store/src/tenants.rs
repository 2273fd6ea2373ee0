//! Organisations, sites and buildings.

use cubby_domain::Millis;
use cubby_domain::codes::Code;
use cubby_domain::custody::GENESIS;
use cubby_domain::model::Timezone;
use serde::Serialize;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

use crate::OpError;
use crate::rows::{conflict, expect_version, int, locked, opt_text, text};

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
    pub address: Option<String>,
    pub version: i64,
    /// `residential`, or `public_point` (an out-of-home pick-up point).
    pub kind: String,
}

fn site_row(r: &AnyRow) -> Result<SiteRow, sqlx::Error> {
    Ok(SiteRow {
        id: text(r, "id")?,
        org_id: text(r, "org_id")?,
        name: text(r, "name")?,
        timezone: text(r, "timezone")?,
        address: opt_text(r, "address")?,
        version: int(r, "version")?,
        kind: text(r, "kind")?,
    })
}

pub async fn site(conn: &mut AnyConnection, id: &str) -> Result<Option<SiteRow>, OpError> {
    let row = sqlx::query(
        "SELECT id, org_id, name, timezone, address, version, kind FROM sites WHERE id = $1",
    )
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
            sqlx::query("SELECT id, org_id, name, timezone, address, version, kind FROM sites WHERE org_id = $1 ORDER BY created_ms, id")
                .bind(org.to_string())
                .fetch_all(&mut *conn)
                .await?
        }
        None => sqlx::query("SELECT id, org_id, name, timezone, address, version, kind FROM sites ORDER BY created_ms, id").fetch_all(&mut *conn).await?,
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
        address: None,
        version: 1,
        kind: "residential".into(),
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

/// An edit of a site: what is given changes (`address: Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct SiteEdit {
    pub name: Option<String>,
    pub timezone: Option<Timezone>,
    pub address: Option<Option<String>>,
}

/// Edits a site still at `expected_version` (else `edit_conflict`).
pub async fn edit_site(
    conn: &mut AnyConnection,
    id: &str,
    expected_version: i64,
    edit: &SiteEdit,
) -> Result<SiteRow, OpError> {
    expect_version(
        conn,
        locked!(conn, "SELECT version FROM sites WHERE id = $1"),
        id,
        expected_version,
        "site",
    )
    .await?;
    let mut site = site(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "site" })?;
    if let Some(name) = &edit.name {
        site.name = name.clone();
    }
    if let Some(tz) = &edit.timezone {
        site.timezone = tz.as_str().to_string();
    }
    if let Some(address) = &edit.address {
        site.address = address.clone();
    }
    site.version = expected_version + 1;
    sqlx::query(
        "UPDATE sites SET name = $1, timezone = $2, address = $3, version = $4 WHERE id = $5",
    )
    .bind(site.name.clone())
    .bind(site.timezone.clone())
    .bind(site.address.clone())
    .bind(site.version)
    .bind(id.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(site)
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildingRow {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub version: i64,
}

pub async fn building(conn: &mut AnyConnection, id: &str) -> Result<Option<BuildingRow>, OpError> {
    let row = sqlx::query("SELECT id, site_id, name, version FROM buildings WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        Ok(BuildingRow {
            id: text(&r, "id")?,
            site_id: text(&r, "site_id")?,
            name: text(&r, "name")?,
            version: int(&r, "version")?,
        })
    })
    .transpose()
    .map_err(|e: sqlx::Error| OpError::from(e))
}

/// Renames a building still at `expected_version`.
pub async fn rename_building(
    conn: &mut AnyConnection,
    id: &str,
    expected_version: i64,
    name: &str,
) -> Result<BuildingRow, OpError> {
    expect_version(
        conn,
        locked!(conn, "SELECT version FROM buildings WHERE id = $1"),
        id,
        expected_version,
        "building",
    )
    .await?;
    let mut b = building(conn, id)
        .await?
        .ok_or(OpError::NotFound { what: "building" })?;
    let taken =
        sqlx::query("SELECT id FROM buildings WHERE site_id = $1 AND name = $2 AND id <> $3")
            .bind(b.site_id.clone())
            .bind(name.to_string())
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    if taken.is_some() {
        return Err(conflict(
            Code::BuildingExists,
            "another building of this site has that name",
        ));
    }
    b.name = name.to_string();
    b.version = expected_version + 1;
    sqlx::query("UPDATE buildings SET name = $1, version = $2 WHERE id = $3")
        .bind(b.name.clone())
        .bind(b.version)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(b)
}

/// Removes a building no unit or resident is in (else `building_in_use`).
pub async fn remove_building(conn: &mut AnyConnection, id: &str) -> Result<(), OpError> {
    let held = sqlx::query("SELECT COUNT(*) AS n FROM units WHERE building_id = $1")
        .bind(id.to_string())
        .fetch_one(&mut *conn)
        .await?;
    if int(&held, "n")? > 0 {
        return Err(conflict(
            Code::BuildingInUse,
            "units are still in this building: move them to another first",
        ));
    }
    let gone = sqlx::query("DELETE FROM buildings WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    if gone.rows_affected() == 0 {
        return Err(OpError::NotFound { what: "building" });
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitRow {
    pub label: String,
    pub building_id: Option<String>,
    /// Residents living there now.
    pub residents: i64,
}

pub async fn units(conn: &mut AnyConnection, site_id: &str) -> Result<Vec<UnitRow>, OpError> {
    let rows = sqlx::query(
        "SELECT u.label, u.building_id, \
         (SELECT COUNT(*) FROM residents r WHERE r.site_id = u.site_id AND r.unit = u.label AND r.removed_ms IS NULL) AS residents \
         FROM units u WHERE u.site_id = $1 ORDER BY u.label",
    )
    .bind(site_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UnitRow {
                label: text(r, "label")?,
                building_id: opt_text(r, "building_id")?,
                residents: int(r, "residents")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// Puts a unit in a building of its site (None: in none).
pub async fn place_unit(
    conn: &mut AnyConnection,
    site_id: &str,
    label: &str,
    building_id: Option<&str>,
) -> Result<(), OpError> {
    if let Some(b) = building_id {
        match building(conn, b).await? {
            Some(b) if b.site_id == site_id => {}
            _ => return Err(OpError::NotFound { what: "building" }),
        }
    }
    let placed = sqlx::query("UPDATE units SET building_id = $1 WHERE site_id = $2 AND label = $3")
        .bind(building_id.map(str::to_string))
        .bind(site_id.to_string())
        .bind(label.to_string())
        .execute(&mut *conn)
        .await?;
    if placed.rows_affected() == 0 {
        return Err(OpError::NotFound { what: "unit" });
    }
    Ok(())
}

/// Removes a unit nobody lives in and no waiting parcel is addressed to
/// (else `unit_in_use`).
pub async fn remove_unit(
    conn: &mut AnyConnection,
    site_id: &str,
    label: &str,
) -> Result<(), OpError> {
    let held = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM residents WHERE site_id = $1 AND unit = $2 AND removed_ms IS NULL) + \
         (SELECT COUNT(*) FROM parcels WHERE site_id = $1 AND recipient_unit = $2 \
          AND state NOT IN ('picked_up', 'returned_to_carrier', 'cancelled')) AS n",
    )
    .bind(site_id.to_string())
    .bind(label.to_string())
    .fetch_one(&mut *conn)
    .await?;
    if int(&held, "n")? > 0 {
        return Err(conflict(
            Code::UnitInUse,
            "residents live in this unit or parcels wait for it: move them out first",
        ));
    }
    let gone = sqlx::query("DELETE FROM units WHERE site_id = $1 AND label = $2")
        .bind(site_id.to_string())
        .bind(label.to_string())
        .execute(&mut *conn)
        .await?;
    if gone.rows_affected() == 0 {
        return Err(OpError::NotFound { what: "unit" });
    }
    Ok(())
}
