//! Reads. Every function takes a connection so it can run on a read connection or
//! inside a write job alike.

use std::collections::BTreeMap;

use cubby_domain::allocation::{CarrierQuotas, CompartmentView, Contents};
use cubby_domain::custody::{ChainBreak, CustodyEvent, verify_chain};
use cubby_domain::dims::Dimensions;
use cubby_domain::lifecycle::ParcelState;
use cubby_domain::model::{CompartmentState, CompartmentStatus, Role, TemperatureZone};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::OpError;
use crate::error::OverflowOption;

pub(crate) fn text(row: &AnyRow, col: &str) -> Result<String, sqlx::Error> {
    row.try_get::<String, _>(col)
}
pub(crate) fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>, sqlx::Error> {
    row.try_get::<Option<String>, _>(col)
}
pub(crate) fn int(row: &AnyRow, col: &str) -> Result<i64, sqlx::Error> {
    row.try_get::<i64, _>(col)
}
pub(crate) fn mm(row: &AnyRow, col: &str) -> Result<u32, sqlx::Error> {
    Ok(u32::try_from(int(row, col)?).unwrap_or(u32::MAX))
}
pub(crate) fn parse<T: std::str::FromStr>(row: &AnyRow, col: &str) -> Result<T, sqlx::Error> {
    let raw = text(row, col)?;
    raw.parse()
        .map_err(|_| sqlx::Error::Decode(format!("bad {col} value {raw:?}").into()))
}
pub(crate) fn hash32(row: &AnyRow, col: &str) -> Result<[u8; 32], sqlx::Error> {
    let bytes: Vec<u8> = row.try_get(col)?;
    bytes
        .try_into()
        .map_err(|_| sqlx::Error::Decode(format!("{col} is not 32 bytes").into()))
}

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

#[derive(Debug, Clone, Serialize)]
pub struct ResidentRow {
    pub id: String,
    pub site_id: String,
    pub unit: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: String,
    pub reach_min_mm: Option<i64>,
    pub reach_max_mm: Option<i64>,
}

impl ResidentRow {
    /// Where a notice to this resident goes: (channel, recipient). Without
    /// email or phone, the site's concierge passes it on.
    pub fn contact(&self, site_name: &str) -> (&'static str, String) {
        match (&self.email, &self.phone) {
            (Some(email), _) => ("email", email.clone()),
            (None, Some(phone)) => ("sms", phone.clone()),
            (None, None) => (
                "staff",
                format!("concierge of {site_name} for unit {}", self.unit),
            ),
        }
    }
}

fn resident_row(r: &AnyRow) -> Result<ResidentRow, sqlx::Error> {
    Ok(ResidentRow {
        id: text(r, "id")?,
        site_id: text(r, "site_id")?,
        unit: text(r, "unit")?,
        name: text(r, "name")?,
        email: opt_text(r, "email")?,
        phone: opt_text(r, "phone")?,
        language: text(r, "language")?,
        reach_min_mm: r.try_get("reach_min_mm")?,
        reach_max_mm: r.try_get("reach_max_mm")?,
    })
}

pub async fn resident(conn: &mut AnyConnection, id: &str) -> Result<Option<ResidentRow>, OpError> {
    let row = sqlx::query("SELECT id, site_id, unit, name, email, phone, language, reach_min_mm, reach_max_mm FROM residents WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(resident_row).transpose()?)
}

pub async fn residents_in_unit(
    conn: &mut AnyConnection,
    site_id: &str,
    unit: &str,
) -> Result<Vec<(ResidentRow, String)>, OpError> {
    let rows = sqlx::query(
        "SELECT id, site_id, unit, name, name_key, email, phone, language, reach_min_mm, reach_max_mm FROM residents WHERE site_id = $1 AND unit = $2 AND removed_ms IS NULL ORDER BY id",
    )
    .bind(site_id.to_string())
    .bind(unit.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((resident_row(r)?, text(r, "name_key")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

pub async fn residents(
    conn: &mut AnyConnection,
    site_id: &str,
    limit: i64,
    after: &str,
) -> Result<Vec<ResidentRow>, OpError> {
    let rows = sqlx::query(
        "SELECT id, site_id, unit, name, email, phone, language, reach_min_mm, reach_max_mm FROM residents WHERE site_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(site_id.to_string())
    .bind(after.to_string())
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(resident_row).collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, Serialize)]
pub struct LockerRow {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub carrier_quotas: CarrierQuotas,
}

fn locker_row(r: &AnyRow) -> Result<LockerRow, sqlx::Error> {
    let quotas: String = text(r, "carrier_quotas")?;
    Ok(LockerRow {
        id: text(r, "id")?,
        site_id: text(r, "site_id")?,
        name: text(r, "name")?,
        carrier_quotas: serde_json::from_str(&quotas).map_err(|e| sqlx::Error::Decode(e.into()))?,
    })
}

pub async fn locker(conn: &mut AnyConnection, id: &str) -> Result<Option<LockerRow>, OpError> {
    let row = sqlx::query("SELECT id, site_id, name, carrier_quotas FROM lockers WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(locker_row).transpose()?)
}

pub async fn lockers(conn: &mut AnyConnection, site_id: &str) -> Result<Vec<LockerRow>, OpError> {
    let rows = sqlx::query("SELECT id, site_id, name, carrier_quotas FROM lockers WHERE site_id = $1 ORDER BY created_ms, id")
        .bind(site_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(locker_row).collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, Serialize)]
pub struct CompartmentRow {
    pub id: String,
    pub label: String,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub size_class: String,
    pub temperature: TemperatureZone,
    pub height_above_floor_mm: u32,
    pub status: CompartmentStatus,
    pub state: CompartmentState,
    #[serde(skip)]
    pub holder: Option<(String, Option<String>)>,
}

/// Compartments of a locker with who holds them, in label order.
pub async fn compartments(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<Vec<CompartmentRow>, OpError> {
    let rows = sqlx::query(
        "SELECT c.id, c.label, c.width_mm, c.height_mm, c.depth_mm, c.size_class, c.temperature, c.height_above_floor_mm, c.status, \
         h.recipient_key, h.carrier FROM compartments c LEFT JOIN compartment_holders h ON h.compartment_id = c.id \
         WHERE c.locker_id = $1 ORDER BY c.label",
    )
    .bind(locker_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let status: CompartmentStatus = parse(r, "status")?;
        let holder = opt_text(r, "recipient_key")?
            .map(|k| Ok::<_, sqlx::Error>((k, opt_text(r, "carrier")?)))
            .transpose()?;
        let state = match (status, &holder) {
            (CompartmentStatus::OutOfService, _) => CompartmentState::OutOfService,
            (_, Some(_)) => CompartmentState::Occupied,
            (CompartmentStatus::Reserved, None) => CompartmentState::Reserved,
            (CompartmentStatus::Available, None) => CompartmentState::Available,
        };
        out.push(CompartmentRow {
            id: text(r, "id")?,
            label: text(r, "label")?,
            width_mm: mm(r, "width_mm")?,
            height_mm: mm(r, "height_mm")?,
            depth_mm: mm(r, "depth_mm")?,
            size_class: text(r, "size_class")?,
            temperature: parse(r, "temperature")?,
            height_above_floor_mm: mm(r, "height_above_floor_mm")?,
            status,
            state,
            holder,
        });
    }
    Ok(out)
}

/// What allocation needs: compartments with the sizes of the parcels inside.
pub async fn allocation_view(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<Vec<CompartmentView>, OpError> {
    let compartments = compartments(conn, locker_id).await?;
    let rows = sqlx::query(
        "SELECT compartment_id, width_mm, height_mm, depth_mm FROM parcels WHERE locker_id = $1 AND compartment_id IS NOT NULL \
         AND state IN ('deposited', 'on_hold', 'unassigned', 'expired')",
    )
    .bind(locker_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut inside: BTreeMap<String, Vec<Dimensions>> = BTreeMap::new();
    for r in &rows {
        inside
            .entry(text(r, "compartment_id")?)
            .or_default()
            .push(Dimensions::new(
                mm(r, "width_mm")?,
                mm(r, "height_mm")?,
                mm(r, "depth_mm")?,
            ));
    }
    Ok(compartments
        .into_iter()
        .map(|c| CompartmentView {
            contents: c.holder.map(|(recipient_key, carrier)| Contents {
                recipient_key,
                carrier,
                parcels: inside.remove(&c.id).unwrap_or_default(),
            }),
            inner: Dimensions::new(c.width_mm, c.height_mm, c.depth_mm),
            id: c.id,
            label: c.label,
            temperature: c.temperature,
            height_above_floor_mm: c.height_above_floor_mm,
            status: c.status,
        })
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct ParcelRow {
    pub id: String,
    pub site_id: String,
    pub tracking_number: String,
    pub carrier: Option<String>,
    pub resident_id: Option<String>,
    pub recipient_unit: Option<String>,
    pub recipient_name: Option<String>,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub weight_g: Option<i64>,
    pub temperature: TemperatureZone,
    pub state: ParcelState,
    pub locker_id: Option<String>,
    pub compartment_id: Option<String>,
    pub compartment_label: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

const PARCEL_SELECT: &str = "SELECT p.id, p.site_id, p.tracking_number, p.carrier, p.resident_id, p.recipient_unit, p.recipient_name, \
     p.width_mm, p.height_mm, p.depth_mm, p.weight_g, p.temperature, p.state, p.locker_id, p.compartment_id, c.label AS compartment_label, \
     p.created_ms, p.updated_ms FROM parcels p LEFT JOIN compartments c ON c.id = p.compartment_id";

pub(crate) fn parcel_row(r: &AnyRow) -> Result<ParcelRow, sqlx::Error> {
    let state_text = text(r, "state")?;
    Ok(ParcelRow {
        id: text(r, "id")?,
        site_id: text(r, "site_id")?,
        tracking_number: text(r, "tracking_number")?,
        carrier: opt_text(r, "carrier")?,
        resident_id: opt_text(r, "resident_id")?,
        recipient_unit: opt_text(r, "recipient_unit")?,
        recipient_name: opt_text(r, "recipient_name")?,
        width_mm: mm(r, "width_mm")?,
        height_mm: mm(r, "height_mm")?,
        depth_mm: mm(r, "depth_mm")?,
        weight_g: r.try_get("weight_g")?,
        temperature: parse(r, "temperature")?,
        state: ParcelState::parse(&state_text)
            .map_err(|e| sqlx::Error::Decode(e.to_string().into()))?,
        locker_id: opt_text(r, "locker_id")?,
        compartment_id: opt_text(r, "compartment_id")?,
        compartment_label: opt_text(r, "compartment_label")?,
        created_ms: int(r, "created_ms")?,
        updated_ms: int(r, "updated_ms")?,
    })
}

pub async fn parcel(conn: &mut AnyConnection, id: &str) -> Result<Option<ParcelRow>, OpError> {
    // PARCEL_SELECT is a constant; sqlx wants proof the text is not user input.
    let sql = sqlx::AssertSqlSafe(format!("{PARCEL_SELECT} WHERE p.id = $1"));
    let row = sqlx::query(sql)
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.as_ref().map(parcel_row).transpose()?)
}

/// Parcels of a site, newest first, optionally by state, tracking number or resident.
pub async fn parcels(
    conn: &mut AnyConnection,
    site_id: &str,
    state: Option<ParcelState>,
    tracking_number: Option<&str>,
    limit: i64,
) -> Result<Vec<ParcelRow>, OpError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{PARCEL_SELECT} WHERE p.site_id = $1 AND ($2 = '' OR p.state = $2) AND ($3 = '' OR p.tracking_number = $3) \
         ORDER BY p.created_ms DESC, p.id LIMIT $4"
    ));
    let rows = sqlx::query(sql)
        .bind(site_id.to_string())
        .bind(state.map(|s| s.as_str().to_string()).unwrap_or_default())
        .bind(tracking_number.unwrap_or_default().to_string())
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(parcel_row).collect::<Result<_, _>>()?)
}

pub(crate) async fn parcels_where(
    conn: &mut AnyConnection,
    clause: &'static str,
    a: &str,
    b: &str,
) -> Result<Vec<ParcelRow>, OpError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "{PARCEL_SELECT} WHERE {clause} ORDER BY p.created_ms, p.id"
    ));
    let rows = sqlx::query(sql)
        .bind(a.to_string())
        .bind(b.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(parcel_row).collect::<Result<_, _>>()?)
}

pub async fn custody_events(
    conn: &mut AnyConnection,
    parcel_id: &str,
) -> Result<Vec<CustodyEvent>, OpError> {
    let rows = sqlx::query(
        "SELECT site_id, seq, parcel_id, kind, actor, at_ms, place, reason FROM custody_events WHERE parcel_id = $1 ORDER BY seq",
    )
    .bind(parcel_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.iter().map(event_row).collect::<Result<_, _>>()?)
}

fn event_row(r: &AnyRow) -> Result<CustodyEvent, sqlx::Error> {
    Ok(CustodyEvent {
        site_id: text(r, "site_id")?,
        seq: int(r, "seq")?,
        parcel_id: text(r, "parcel_id")?,
        kind: text(r, "kind")?,
        actor: text(r, "actor")?,
        at_ms: int(r, "at_ms")?,
        place: text(r, "place")?,
        reason: text(r, "reason")?,
    })
}

/// Verifies every site's custody chain; the number of events checked per site.
pub async fn verify_custody(
    conn: &mut AnyConnection,
) -> Result<Vec<(String, Result<u64, ChainBreak>)>, OpError> {
    let heads = sqlx::query("SELECT site_id, seq, hash FROM custody_heads ORDER BY site_id")
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::new();
    for h in &heads {
        let site_id = text(h, "site_id")?;
        let head = (int(h, "seq")?, hash32(h, "hash")?);
        let rows = sqlx::query(
            "SELECT site_id, seq, parcel_id, kind, actor, at_ms, place, reason, hash FROM custody_events WHERE site_id = $1 ORDER BY seq",
        )
        .bind(site_id.clone())
        .fetch_all(&mut *conn)
        .await?;
        let events = rows
            .iter()
            .map(|r| Ok((event_row(r)?, hash32(r, "hash")?)))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let verdict = verify_chain(&site_id, events.iter().map(|(e, h)| (e, *h)), Some(head));
        out.push((site_id, verdict));
    }
    Ok(out)
}

/// Other places on the site a parcel could go when this locker is full.
pub async fn overflow_options(
    conn: &mut AnyConnection,
    site_id: &str,
    except_locker: &str,
) -> Result<Vec<OverflowOption>, OpError> {
    let mut out = Vec::new();
    let rooms = sqlx::query("SELECT id, name FROM parcel_rooms WHERE site_id = $1 ORDER BY name")
        .bind(site_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    for r in &rooms {
        out.push(OverflowOption {
            kind: "parcel_room",
            id: text(r, "id")?,
            name: text(r, "name")?,
        });
    }
    let lockers =
        sqlx::query("SELECT id, name FROM lockers WHERE site_id = $1 AND id <> $2 ORDER BY name")
            .bind(site_id.to_string())
            .bind(except_locker.to_string())
            .fetch_all(&mut *conn)
            .await?;
    for r in &lockers {
        out.push(OverflowOption {
            kind: "locker",
            id: text(r, "id")?,
            name: text(r, "name")?,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct RoomRow {
    pub id: String,
    pub site_id: String,
    pub name: String,
    pub zones: Vec<(String, String, i64)>,
}

pub async fn room(conn: &mut AnyConnection, id: &str) -> Result<Option<RoomRow>, OpError> {
    let Some(r) = sqlx::query("SELECT id, site_id, name FROM parcel_rooms WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let zones = sqlx::query(
        "SELECT id, label, capacity FROM shelf_zones WHERE room_id = $1 ORDER BY label",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(RoomRow {
        id: text(&r, "id")?,
        site_id: text(&r, "site_id")?,
        name: text(&r, "name")?,
        zones: zones
            .iter()
            .map(|z| Ok((text(z, "id")?, text(z, "label")?, int(z, "capacity")?)))
            .collect::<Result<_, sqlx::Error>>()?,
    }))
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxRow {
    pub id: String,
    pub site_id: String,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub payload: serde_json::Value,
    pub created_ms: i64,
    pub attempts: i64,
}

/// Messages to deliver now: pending and not held back past `now` (quiet hours).
pub async fn pending_outbox(
    conn: &mut AnyConnection,
    limit: i64,
    now: i64,
) -> Result<Vec<OutboxRow>, OpError> {
    let rows = sqlx::query(
        "SELECT id, site_id, channel, recipient, subject, body, payload, created_ms, attempts FROM outbox \
         WHERE status = 'pending' AND (not_before_ms IS NULL OR not_before_ms <= $2) ORDER BY created_ms, id LIMIT $1",
    )
    .bind(limit)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let payload: String = text(r, "payload")?;
            Ok(OutboxRow {
                id: text(r, "id")?,
                site_id: text(r, "site_id")?,
                channel: text(r, "channel")?,
                recipient: text(r, "recipient")?,
                subject: text(r, "subject")?,
                body: text(r, "body")?,
                payload: serde_json::from_str(&payload)
                    .map_err(|e| sqlx::Error::Decode(e.into()))?,
                created_ms: int(r, "created_ms")?,
                attempts: int(r, "attempts")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// Counts for dashboards and the benchmark.
pub async fn count(conn: &mut AnyConnection, table: Table) -> Result<i64, OpError> {
    let sql = match table {
        Table::CustodyEvents => "SELECT COUNT(*) AS n FROM custody_events",
        Table::Parcels => "SELECT COUNT(*) AS n FROM parcels",
        Table::Outbox => "SELECT COUNT(*) AS n FROM outbox",
        Table::Holders => "SELECT COUNT(*) AS n FROM compartment_holders",
    };
    let row = sqlx::query(sql).fetch_one(&mut *conn).await?;
    Ok(int(&row, "n")?)
}

#[derive(Debug, Clone, Copy)]
pub enum Table {
    CustodyEvents,
    Parcels,
    Outbox,
    Holders,
}

/// One parcel's stay in a compartment, from the custody chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StayRow {
    pub parcel_id: String,
    pub locker_id: Option<String>,
    pub width_mm: u32,
    pub height_mm: u32,
    pub depth_mm: u32,
    pub arrived_ms: i64,
    /// Picked up or returned; `None` while inside.
    pub left_ms: Option<i64>,
}

/// Stays of parcels deposited on a site (or at one locker) since `since_ms`,
/// oldest first: the measured input of site analytics and forecasts.
pub async fn stays(
    conn: &mut AnyConnection,
    site_id: &str,
    locker_id: Option<&str>,
    since_ms: i64,
) -> Result<Vec<StayRow>, OpError> {
    let rows = sqlx::query(
        "SELECT p.id, p.locker_id, p.width_mm, p.height_mm, p.depth_mm, a.at_ms AS arrived_ms, \
         (SELECT MIN(l.at_ms) FROM custody_events l WHERE l.parcel_id = p.id \
          AND l.kind IN ('picked_up', 'returned_to_carrier')) AS left_ms \
         FROM custody_events a JOIN parcels p ON p.id = a.parcel_id \
         WHERE a.site_id = $1 AND a.at_ms >= $2 AND a.kind IN ('deposited', 'deposited_unassigned') \
         AND ($3 IS NULL OR p.locker_id = $3) \
         ORDER BY a.at_ms, p.id",
    )
    .bind(site_id.to_string())
    .bind(since_ms)
    .bind(locker_id.map(str::to_string))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StayRow {
                parcel_id: text(r, "id")?,
                locker_id: opt_text(r, "locker_id")?,
                width_mm: mm(r, "width_mm")?,
                height_mm: mm(r, "height_mm")?,
                depth_mm: mm(r, "depth_mm")?,
                arrived_ms: int(r, "arrived_ms")?,
                left_ms: r.try_get::<Option<i64>, _>("left_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// Compartments of a site's lockers (or of one locker) that are in service.
pub async fn compartments_in_service(
    conn: &mut AnyConnection,
    site_id: &str,
    locker_id: Option<&str>,
) -> Result<u32, OpError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM compartments c JOIN lockers l ON l.id = c.locker_id \
         WHERE l.site_id = $1 AND c.status <> 'out_of_service' AND ($2 IS NULL OR l.id = $2)",
    )
    .bind(site_id.to_string())
    .bind(locker_id.map(str::to_string))
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(int(&row, "n")?).unwrap_or(u32::MAX))
}

/// Residents registered on a site.
pub async fn residents_on_site(conn: &mut AnyConnection, site_id: &str) -> Result<u32, OpError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM residents WHERE site_id = $1")
        .bind(site_id.to_string())
        .fetch_one(&mut *conn)
        .await?;
    Ok(u32::try_from(int(&row, "n")?).unwrap_or(u32::MAX))
}

/// When the parcel's latest custody event of this kind happened.
pub async fn last_event_at(
    conn: &mut AnyConnection,
    parcel_id: &str,
    kind: &str,
) -> Result<Option<i64>, OpError> {
    let row = sqlx::query(
        "SELECT MAX(at_ms) AS at_ms FROM custody_events WHERE parcel_id = $1 AND kind = $2",
    )
    .bind(parcel_id.to_string())
    .bind(kind.to_string())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<Option<i64>, _>("at_ms")?)
}

/// How many custody events of this kind a parcel had up to `seq` of its
/// site's chain (the n-th reminder).
pub async fn count_events_up_to(
    conn: &mut AnyConnection,
    parcel_id: &str,
    kind: &str,
    site_id: &str,
    seq: i64,
) -> Result<u32, OpError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM custody_events WHERE site_id = $1 AND parcel_id = $2 AND kind = $3 AND seq <= $4",
    )
    .bind(site_id.to_string())
    .bind(parcel_id.to_string())
    .bind(kind.to_string())
    .bind(seq)
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(int(&row, "n")?).unwrap_or(0))
}

/// A message's delivery status, without its content (codes stay out of reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStatusRow {
    pub id: String,
    pub channel: String,
    pub kind: Option<String>,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub delivered_ms: Option<i64>,
    pub not_before_ms: Option<i64>,
}

/// A site's messages, newest first, optionally of one status.
pub async fn messages_of_site(
    conn: &mut AnyConnection,
    site_id: &str,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<MessageStatusRow>, OpError> {
    let rows = sqlx::query(
        "SELECT id, channel, payload, status, attempts, last_error, created_ms, delivered_ms, not_before_ms \
         FROM outbox WHERE site_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY created_ms DESC, id LIMIT $3",
    )
    .bind(site_id.to_string())
    .bind(status.map(str::to_string))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let payload: serde_json::Value =
                serde_json::from_str(&text(r, "payload")?).unwrap_or_default();
            Ok(MessageStatusRow {
                id: text(r, "id")?,
                channel: text(r, "channel")?,
                kind: payload["kind"].as_str().map(str::to_string),
                status: text(r, "status")?,
                attempts: int(r, "attempts")?,
                last_error: opt_text(r, "last_error")?,
                created_ms: int(r, "created_ms")?,
                delivered_ms: r.try_get::<Option<i64>, _>("delivered_ms")?,
                not_before_ms: r.try_get::<Option<i64>, _>("not_before_ms")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(OpError::from)
}

/// Parcels that expired at a locker and still wait to go back to the carrier.
pub async fn expired_at_locker(
    conn: &mut AnyConnection,
    locker_id: &str,
) -> Result<Vec<ParcelRow>, OpError> {
    parcels_where(
        conn,
        "p.locker_id = $1 AND p.state = $2",
        locker_id,
        ParcelState::Expired.as_str(),
    )
    .await
}

/// A site's parcels whose tracking number, recipient unit or recipient name
/// matches what staff typed, newest first (at most `limit`).
pub async fn search_parcels(
    conn: &mut AnyConnection,
    site_id: &str,
    query: &str,
    limit: i64,
) -> Result<Vec<ParcelRow>, OpError> {
    let q = query.trim();
    // The name is matched on its normalised words, as deposits match it.
    let key = cubby_domain::model::name_key(q)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let sql = sqlx::AssertSqlSafe(format!(
        "{PARCEL_SELECT} LEFT JOIN residents r ON r.id = p.resident_id \
         WHERE p.site_id = $1 AND (p.tracking_number = $2 OR p.recipient_unit = $3 OR r.unit = $3 \
         OR ($4 <> '' AND r.name_key LIKE '%' || $4 || '%' ESCAPE '\\')) \
         ORDER BY p.created_ms DESC, p.id LIMIT $5"
    ));
    let rows = sqlx::query(sql)
        .bind(site_id.to_string())
        .bind(q.to_ascii_uppercase())
        .bind(q.to_string())
        .bind(key)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(parcel_row).collect::<Result<_, _>>()?)
}

/// Deliveries per carrier since an instant: (carrier, delivered, of them
/// pre-advised, of them with the recipient not recognised).
pub async fn carrier_compliance(
    conn: &mut AnyConnection,
    site_id: &str,
    since_ms: i64,
) -> Result<Vec<(Option<String>, i64, i64, i64)>, OpError> {
    let rows = sqlx::query(
        "SELECT p.carrier, COUNT(*) AS n, \
         SUM(CASE WHEN EXISTS (SELECT 1 FROM custody_events e WHERE e.parcel_id = p.id AND e.kind = 'announced') THEN 1 ELSE 0 END) AS announced, \
         SUM(CASE WHEN EXISTS (SELECT 1 FROM custody_events e WHERE e.parcel_id = p.id AND e.kind = 'deposited_unassigned') THEN 1 ELSE 0 END) AS unmatched \
         FROM parcels p WHERE p.site_id = $1 AND p.created_ms >= $2 AND p.state NOT IN ('announced', 'cancelled') \
         GROUP BY p.carrier ORDER BY n DESC",
    )
    .bind(site_id.to_string())
    .bind(since_ms)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok((
                opt_text(r, "carrier")?,
                int(r, "n")?,
                int(r, "announced")?,
                int(r, "unmatched")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// Pick-ups since an instant that no staff member handed over: at a locker,
/// by a room code, or by the resident's own credential.
pub async fn self_service_pickups(
    conn: &mut AnyConnection,
    site_id: &str,
    since_ms: i64,
) -> Result<i64, OpError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM custody_events WHERE site_id = $1 AND kind = 'picked_up' AND at_ms >= $2 \
         AND (actor LIKE 'device:%' OR actor LIKE 'resident:%' OR actor LIKE 'delegate %')",
    )
    .bind(site_id.to_string())
    .bind(since_ms)
    .fetch_one(&mut *conn)
    .await?;
    Ok(int(&row, "n")?)
}
