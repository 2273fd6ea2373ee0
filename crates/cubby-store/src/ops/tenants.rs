use cubby_domain::Millis;
use cubby_domain::codes::Code;
use cubby_domain::custody::GENESIS;
use cubby_domain::model::{Language, ReachBand, Role, Timezone, name_key};
use sqlx::AnyConnection;

use crate::OpError;
use crate::queries::{self, ResidentRow, SiteRow};

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
        && !queries::organisation_exists(conn, org).await?
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

/// Creates a site with the head of its (empty) custody chain.
pub async fn create_site(
    conn: &mut AnyConnection,
    id: &str,
    org_id: &str,
    name: &str,
    timezone: &Timezone,
    now: Millis,
) -> Result<SiteRow, OpError> {
    if !queries::organisation_exists(conn, org_id).await? {
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

#[derive(Debug, Clone)]
pub struct NewResident {
    pub id: String,
    pub site_id: String,
    pub unit: String,
    pub building_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Language,
    pub reach: Option<ReachBand>,
}

/// Creates a resident, and their unit if it is new.
pub async fn create_resident(
    conn: &mut AnyConnection,
    r: &NewResident,
    now: Millis,
) -> Result<ResidentRow, OpError> {
    sqlx::query("INSERT INTO units (site_id, label, building_id) VALUES ($1, $2, $3) ON CONFLICT (site_id, label) DO NOTHING")
        .bind(r.site_id.clone())
        .bind(r.unit.clone())
        .bind(r.building_id.clone())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO residents (id, site_id, unit, name, name_key, email, phone, language, reach_min_mm, reach_max_mm, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(r.id.clone())
    .bind(r.site_id.clone())
    .bind(r.unit.clone())
    .bind(r.name.clone())
    .bind(name_key(&r.name))
    .bind(r.email.clone())
    .bind(r.phone.clone())
    .bind(r.language.as_str().to_string())
    .bind(r.reach.map(|b| i64::from(b.min_mm)))
    .bind(r.reach.map(|b| i64::from(b.max_mm)))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(ResidentRow {
        id: r.id.clone(),
        site_id: r.site_id.clone(),
        unit: r.unit.clone(),
        name: r.name.clone(),
        email: r.email.clone(),
        phone: r.phone.clone(),
        language: r.language.as_str().to_string(),
        reach_min_mm: r.reach.map(|b| i64::from(b.min_mm)),
        reach_max_mm: r.reach.map(|b| i64::from(b.max_mm)),
    })
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
