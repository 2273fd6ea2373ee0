//! Counts and analytics read from the chain of custody.

use sqlx::AnyConnection;
use sqlx::Row;

use crate::OpError;
use crate::rows::{int, mm, opt_text, text};

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
         FROM parcels p WHERE p.site_id = $1 AND p.created_ms >= $2 AND p.state NOT IN ('announced', 'cancelled') AND p.sending IS NULL \
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

/// A delivery into a locker or room in a period, for the carrier report.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub carrier: Option<String>,
    pub at_ms: i64,
    /// The carrier pre-advised it.
    pub pre_advised: bool,
    /// It arrived larger than its pre-advice said.
    pub size_mismatch: bool,
}

/// The deliveries of a site in `[from_ms, to_ms)`, in time order.
pub async fn deliveries(
    conn: &mut AnyConnection,
    site_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<Delivery>, OpError> {
    let rows = sqlx::query(
        "SELECT p.carrier, e.at_ms, p.size_mismatch, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM custody_events a WHERE a.parcel_id = p.id AND a.kind = 'announced') THEN 1 ELSE 0 END AS BIGINT) AS pre_advised \
         FROM custody_events e JOIN parcels p ON p.id = e.parcel_id \
         WHERE e.site_id = $1 AND e.kind IN ('deposited', 'deposited_unassigned') AND e.at_ms >= $2 AND e.at_ms < $3 \
         ORDER BY e.seq",
    )
    .bind(site_id.to_string())
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(Delivery {
                carrier: opt_text(r, "carrier")?,
                at_ms: int(r, "at_ms")?,
                pre_advised: int(r, "pre_advised")? != 0,
                size_mismatch: int(r, "size_mismatch")? != 0,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// Reserved compartments of reservations whose window starts in
/// `[from_ms, to_ms)`: (carrier, hold state, count). `used` went to a
/// delivery, `released` ended unused at the window's end (wasted),
/// `cancelled` and `displaced` ended otherwise, `held` is still open.
pub async fn reservation_holds(
    conn: &mut AnyConnection,
    site_id: &str,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(String, String, i64)>, OpError> {
    let rows = sqlx::query(
        "SELECT r.carrier, h.state, COUNT(*) AS n FROM reservation_holds h JOIN reservations r ON r.id = h.reservation_id \
         WHERE r.site_id = $1 AND r.from_ms >= $2 AND r.from_ms < $3 GROUP BY r.carrier, h.state ORDER BY r.carrier, h.state",
    )
    .bind(site_id.to_string())
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((text(r, "carrier")?, text(r, "state")?, int(r, "n")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}
