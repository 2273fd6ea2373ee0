//! Export and erasure through the real binary, on SQLite and PostgreSQL:
//! after erasure nothing of the person is left — not in any table, not in
//! the database files — and the custody and audit chains still verify.

use cubby_testkit::{Client, CubbyProcess, fresh_postgres_database};
use serde_json::{Value, json};

use crate::{bin, seed, small_bank};

const NAME: &str = "Anna Kowalska";
const EMAIL: &str = "anna@example.org";

/// Gives Anna a life in the building (a parcel, a delegate, a visitor PIN,
/// an app token), exports it, erases her: the erasure's answer.
async fn live_then_erase(p: &CubbyProcess) -> Value {
    let w = seed(p, small_bank()).await;
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    let anna = w.residents[0].clone();
    let token = w
        .admin
        .created(
            "/api/v1/tokens",
            json!({"role": "resident", "resident_id": anna, "organisation_id": site["organisation_id"], "label": "Anna Kowalska's phone"}),
        )
        .await;
    let anna_client = Client::new(&p.base, token["token"].as_str().unwrap());
    let d = w
        .admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            crate::parcel("ERASE00001", &anna, 60),
        )
        .await;
    anna_client
        .created(
            &format!(
                "/api/v1/me/parcels/{}/delegates",
                d["parcel_id"].as_str().unwrap()
            ),
            json!({"name": "Neighbour"}),
        )
        .await;
    p.wait_outbox(1).await;
    let (status, export) = w
        .admin
        .get(&format!("/api/v1/residents/{anna}/export"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(export["data"]["residents"][0]["email"], EMAIL);

    // Only an admin with a fresh step-up erases.
    let (status, body) = Client::new(&p.base, cubby_testkit::ADMIN_TOKEN)
        .post(&format!("/api/v1/residents/{anna}/erase"), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("step_up_required")),
        "{body}"
    );
    let (status, erased) = w
        .admin
        .post(&format!("/api/v1/residents/{anna}/erase"), json!({}))
        .await;
    assert_eq!(status, 200, "{erased}");
    let (status, _) = w.admin.get(&format!("/api/v1/residents/{anna}")).await;
    assert_eq!(status, 404, "her id answers 404");
    let (status, _) = w
        .admin
        .get(&format!("/api/v1/residents/{anna}/export"))
        .await;
    assert_eq!(status, 404);
    let (_, events) = w.admin.get("/api/v1/audit-events?action=erasure").await;
    assert_eq!(events["events"][0]["target"], format!("resident:{anna}"));
    erased
}

#[tokio::test]
async fn an_erased_resident_leaves_nothing_in_the_sqlite_files() {
    let mut p = CubbyProcess::start(bin(), None);
    live_then_erase(&p).await;
    p.kill();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&p.data_dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap_or_default();
        for needle in [NAME, EMAIL] {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(format!("{} holds {needle}", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "{found:?}");
    let out = std::process::Command::new(bin())
        .args(["audit", "verify", "--data-dir"])
        .arg(&p.data_dir)
        .env_remove("CUBBY_DATABASE_URL")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("security audit log"), "{text}");
}

#[tokio::test]
async fn an_erased_resident_leaves_nothing_in_any_postgres_table() {
    use sqlx::{Connection, Row};
    let Some(url) = fresh_postgres_database().await else {
        return;
    };
    let p = CubbyProcess::start(bin(), Some(url.clone()));
    live_then_erase(&p).await;
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>("table_name"))
    .collect();
    assert!(tables.len() > 20, "{tables:?}");
    let mut found = Vec::new();
    for t in &tables {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT \"{t}\"::text AS r FROM \"{t}\""
        )))
        .fetch_all(&mut conn)
        .await
        .unwrap();
        for r in rows {
            let text: String = r.get("r");
            for needle in [NAME, EMAIL] {
                if text.contains(needle) {
                    found.push(format!("{t}: {text}"));
                }
            }
        }
    }
    assert!(found.is_empty(), "{found:?}");
    let out = std::process::Command::new(bin())
        .args(["audit", "verify", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
