//! The two migration trees are kept by hand (one per backend), so a test
//! holds them together: after every migration, SQLite and PostgreSQL have the
//! same tables, the same columns in each, and the same named indexes over the
//! same columns.

use std::collections::BTreeMap;

use cubby_store::{Store, StoreConfig};
use sqlx::Row;

/// Table → its columns; index name → (table, columns in order).
#[derive(Debug, PartialEq, Eq)]
struct Schema {
    tables: BTreeMap<String, Vec<String>>,
    indexes: BTreeMap<String, (String, Vec<String>)>,
}

async fn strings(
    conn: &mut sqlx::AnyConnection,
    sql: &str,
    bind: Option<&str>,
) -> Vec<Vec<String>> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()));
    if let Some(b) = bind {
        q = q.bind(b.to_string());
    }
    q.fetch_all(&mut *conn)
        .await
        .expect("schema query")
        .iter()
        .map(|row| {
            (0..row.len())
                .map(|i| row.try_get::<String, _>(i).expect("text column"))
                .collect()
        })
        .collect()
}

async fn sqlite_schema(store: &Store) -> Schema {
    let mut conn = store.reader().await.expect("reader");
    let mut tables = BTreeMap::new();
    for t in strings(
        &mut conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
        None,
    )
    .await
    {
        let mut cols: Vec<String> = strings(
            &mut conn,
            "SELECT name FROM pragma_table_info($1)",
            Some(&t[0]),
        )
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
        cols.sort();
        tables.insert(t[0].clone(), cols);
    }
    let mut indexes = BTreeMap::new();
    for i in strings(
        &mut conn,
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
        None,
    )
    .await
    {
        let cols: Vec<String> = strings(
            &mut conn,
            "SELECT name FROM pragma_index_info($1) ORDER BY seqno",
            Some(&i[0]),
        )
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
        indexes.insert(i[0].clone(), (i[1].clone(), cols));
    }
    Schema { tables, indexes }
}

async fn postgres_schema(store: &Store) -> Schema {
    let mut conn = store.reader().await.expect("reader");
    let mut tables = BTreeMap::new();
    for t in strings(
        &mut conn,
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_sqlx%' ORDER BY 1",
        None,
    )
    .await
    {
        let mut cols: Vec<String> = strings(
            &mut conn,
            "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
            Some(&t[0]),
        )
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
        cols.sort();
        tables.insert(t[0].clone(), cols);
    }
    // Indexes created by CREATE INDEX, not those behind primary keys and
    // UNIQUE constraints (SQLite's `sqlite_autoindex_*`, left out above).
    let mut indexes = BTreeMap::new();
    for i in strings(
        &mut conn,
        "SELECT c.relname::text, t.relname::text, \
                array_to_string(ARRAY(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) \
                    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n), ',') \
         FROM pg_index x \
         JOIN pg_class c ON c.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace ns ON ns.oid = t.relnamespace \
         WHERE ns.nspname = current_schema() AND t.relname NOT LIKE '\\_sqlx%' \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) \
         ORDER BY 1",
        None,
    )
    .await
    {
        let cols = i[2].split(',').map(str::to_string).collect();
        indexes.insert(i[0].clone(), (i[1].clone(), cols));
    }
    Schema { tables, indexes }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_trees_build_the_same_schema() {
    let Some(url) = cubby_testkit::fresh_postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let lite = Store::open(&StoreConfig::sqlite_in(dir.path()))
        .await
        .expect("sqlite");
    let pg = Store::open(&StoreConfig::new(url)).await.expect("postgres");
    let (a, b) = (sqlite_schema(&lite).await, postgres_schema(&pg).await);
    assert!(
        a.tables.len() > 20,
        "read too few tables: {:?}",
        a.tables.keys()
    );
    let mut differences = Vec::new();
    for name in a.tables.keys().chain(b.tables.keys()) {
        if a.tables.get(name) != b.tables.get(name)
            && !differences
                .iter()
                .any(|d: &String| d.starts_with(&format!("table {name}:")))
        {
            differences.push(format!(
                "table {name}: sqlite {:?} / postgres {:?}",
                a.tables.get(name),
                b.tables.get(name)
            ));
        }
    }
    for name in a.indexes.keys().chain(b.indexes.keys()) {
        if a.indexes.get(name) != b.indexes.get(name)
            && !differences
                .iter()
                .any(|d: &String| d.starts_with(&format!("index {name}:")))
        {
            differences.push(format!(
                "index {name}: sqlite {:?} / postgres {:?}",
                a.indexes.get(name),
                b.indexes.get(name)
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "the migration trees differ:\n{}",
        differences.join("\n")
    );
}

/// The export of a person (`residents::export`) reads every column that
/// names a resident: a table gaining such a column without joining
/// `SUBJECT_COLUMNS` (or, if it is not a person, `NOT_SUBJECT_COLUMNS`)
/// fails here.
#[tokio::test]
async fn every_column_naming_a_resident_is_exported() {
    use cubby_store::residents::export::{NOT_SUBJECT_COLUMNS, SUBJECT_COLUMNS};
    let dir = tempfile::tempdir().expect("temp dir");
    let lite = Store::open(&StoreConfig::sqlite_in(dir.path()))
        .await
        .expect("sqlite");
    let schema = sqlite_schema(&lite).await;
    let looks_personal =
        |c: &str| c.contains("resident") || ["added_by", "recipient_key", "subject"].contains(&c);
    let mut missing = Vec::new();
    for (table, columns) in &schema.tables {
        for c in columns.iter().filter(|c| looks_personal(c)) {
            let listed = SUBJECT_COLUMNS
                .iter()
                .chain(NOT_SUBJECT_COLUMNS)
                .any(|(t, col)| t == table && col == c);
            if !listed {
                missing.push(format!("{table}.{c}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "columns naming a resident that the export does not read: {missing:?}"
    );
    for (table, column) in SUBJECT_COLUMNS {
        assert!(
            schema
                .tables
                .get(*table)
                .is_some_and(|cols| cols.iter().any(|c| c == column)),
            "{table}.{column} is listed but not in the schema"
        );
    }
}
