//! Everything held about one person (GDPR Art. 15), read table by table
//! from one list of the columns that name a resident. A test holds the list
//! against the schema: a table that gains such a column without joining the
//! list fails it.

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Column, Row};

use crate::OpError;

/// Every column of the schema that names a resident, by table.
pub const SUBJECT_COLUMNS: &[(&str, &str)] = &[
    ("residents", "id"),
    ("residents", "added_by"),
    ("parcels", "resident_id"),
    ("pickup_credentials", "resident_id"),
    ("compartment_holders", "recipient_key"),
    ("push_subscriptions", "resident_id"),
    ("access_grants", "host_resident_id"),
    ("api_tokens", "resident_id"),
    ("passkeys", "resident_id"),
    ("portal_invites", "resident_id"),
    ("webauthn_ceremonies", "subject"),
];

/// Columns whose name looks like a person's but is not one: the subject
/// line of a message.
pub const NOT_SUBJECT_COLUMNS: &[(&str, &str)] = &[("outbox", "subject")];

/// Columns never exported: secrets and their MACs, a ceremony's state, a
/// passkey's stored credential (the device holds its own).
const WITHHELD: &[&str] = &[
    "mac",
    "local_mac",
    "token_mac",
    "pin_mac",
    "code_mac",
    "state",
    "passkey",
    "secret",
];

/// A row as JSON: text and numbers as they are, binary columns left out.
fn row_json(r: &AnyRow) -> Map<String, Value> {
    let mut out = Map::new();
    for c in r.columns() {
        let name = c.name();
        if WITHHELD.contains(&name) {
            continue;
        }
        let value = if let Ok(v) = r.try_get::<Option<i64>, _>(name) {
            v.map_or(Value::Null, Value::from)
        } else if let Ok(v) = r.try_get::<Option<String>, _>(name) {
            v.map_or(Value::Null, Value::from)
        } else if let Ok(v) = r.try_get::<Option<f64>, _>(name) {
            v.map_or(Value::Null, Value::from)
        } else {
            // Binary: hashes and MACs, nothing a person could read.
            continue;
        };
        out.insert(name.to_string(), value);
    }
    out
}

/// Every row of every table that names the resident, by table; then the
/// custody events of their parcels, the notices sent to their address (no
/// bodies: codes are never shown again), the door uses of the grants they
/// host and the courier entries that delivered their parcels, and the
/// security audit events about them or by them.
pub async fn export(
    conn: &mut AnyConnection,
    resident_id: &str,
) -> Result<Map<String, Value>, OpError> {
    let mut doc = Map::new();
    for (table, column) in SUBJECT_COLUMNS {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT * FROM {table} WHERE {column} = $1"
        )))
        .bind(resident_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
        let key = if *column == "id" || table_has_one_subject(table) {
            (*table).to_string()
        } else {
            format!("{table}.{column}")
        };
        doc.insert(
            key,
            Value::Array(rows.iter().map(|r| Value::Object(row_json(r))).collect()),
        );
    }
    let parcel_ids: Vec<String> = doc
        .get("parcels")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut custody = Vec::new();
    for pid in &parcel_ids {
        for e in crate::custody::custody_events(conn, pid).await? {
            custody.push(serde_json::to_value(e).unwrap_or(Value::Null));
        }
    }
    doc.insert("custody_events".into(), Value::Array(custody));
    let contacts: Vec<String> = doc
        .get("residents")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .map(|r| {
            ["email", "phone"]
                .iter()
                .filter_map(|f| r[*f].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut notices = Vec::new();
    for to in &contacts {
        let rows = sqlx::query(
            "SELECT id, created_ms, channel, recipient, subject, status, attempts, delivered_ms FROM outbox WHERE recipient = $1 ORDER BY created_ms",
        )
        .bind(to.clone())
        .fetch_all(&mut *conn)
        .await?;
        notices.extend(rows.iter().map(|r| Value::Object(row_json(r))));
    }
    doc.insert("notices".into(), Value::Array(notices));
    // Who came through the doors on PINs they gave (visitor grants they
    // host), and the couriers' entries into a parcel room with their parcels.
    for (key, sql) in [
        (
            "door_uses_of_hosted_grants",
            "SELECT u.grant_id, u.door_id, u.at_ms FROM access_uses u JOIN access_grants g ON g.id = u.grant_id \
             WHERE g.host_resident_id = $1 ORDER BY u.at_ms",
        ),
        (
            "courier_entries_with_their_parcels",
            "SELECT u.grant_id, u.door_id, u.at_ms FROM access_uses u \
             WHERE u.grant_id IN (SELECT room_grant_id FROM parcels WHERE resident_id = $1) ORDER BY u.at_ms",
        ),
    ] {
        let rows = sqlx::query(sql)
            .bind(resident_id.to_string())
            .fetch_all(&mut *conn)
            .await?;
        doc.insert(
            key.into(),
            Value::Array(rows.iter().map(|r| Value::Object(row_json(r))).collect()),
        );
    }
    // Events about them, and what they did themselves with their tokens.
    let audit = sqlx::query(
        "SELECT seq, at_ms, action, actor, source, target, reason FROM security_events \
         WHERE target = $1 OR actor IN (SELECT 'resident:' || id FROM api_tokens WHERE resident_id = $2) ORDER BY seq",
    )
    .bind(format!("resident:{resident_id}"))
    .bind(resident_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    doc.insert(
        "audit_events".into(),
        Value::Array(audit.iter().map(|r| Value::Object(row_json(r))).collect()),
    );
    Ok(doc)
}

fn table_has_one_subject(table: &str) -> bool {
    SUBJECT_COLUMNS.iter().filter(|(t, _)| *t == table).count() == 1
}
