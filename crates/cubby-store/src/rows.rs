//! Reading rows the same way on both backends, the row lock, and the conflict helper.

use cubby_domain::codes::Code;
use sqlx::AnyConnection;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::OpError;

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

/// Whether the connection is PostgreSQL (row locks needed) rather than SQLite.
pub(crate) fn is_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("postgresql")
        || conn.backend_name().eq_ignore_ascii_case("postgres")
}

/// The row lock: picks the `FOR UPDATE` variant of a statement on PostgreSQL
/// (SQLite needs none: its one writer already holds the write lock).
macro_rules! locked {
    ($conn:expr, $sql:literal) => {
        if crate::rows::is_postgres($conn) {
            concat!($sql, " FOR UPDATE")
        } else {
            $sql
        }
    };
}

/// The one text column `col` of every row a query with one text parameter
/// answers (ids of the rows a change touches).
pub(crate) async fn texts(
    conn: &mut AnyConnection,
    sql: &'static str,
    value: &str,
    col: &str,
) -> Result<Vec<String>, OpError> {
    let rows = sqlx::query(sql)
        .bind(value.to_string())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .iter()
        .map(|r| text(r, col))
        .collect::<Result<_, _>>()?)
}

/// Checks the version of the row `sql` reads by id (a statement made with
/// [`locked!`], so the row stays locked until the edit commits): not found,
/// or `edit_conflict` when someone changed it since the caller read it.
pub(crate) async fn expect_version(
    conn: &mut AnyConnection,
    sql: &'static str,
    id: &str,
    expected: i64,
    what: &'static str,
) -> Result<(), OpError> {
    let row = sqlx::query(sql)
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(OpError::NotFound { what })?;
    if int(&row, "version")? != expected {
        return Err(OpError::Conflict {
            code: Code::EditConflict,
            message: format!(
                "the {what} was changed since you read it: read it again and redo the edit"
            ),
        });
    }
    Ok(())
}

/// A conflict with a stable code.
pub(crate) fn conflict(code: Code, message: &str) -> OpError {
    OpError::Conflict {
        code,
        message: message.into(),
    }
}
pub(crate) use locked;
