//! `cubby audit verify` on a real database, before and after tampering.

use std::process::Command;

use cubby_testkit::CubbyProcess;
use sqlx::{Connection, Executor};

use crate::{bin, parcel, seed, small_bank};

fn verify(dir: &std::path::Path) -> (bool, String) {
    let out = Command::new(bin())
        .args(["audit", "verify", "--data-dir"])
        .arg(dir)
        .env_remove("CUBBY_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

async fn tamper(db: &std::path::Path, sql: &'static str) {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    conn.execute("DROP TRIGGER IF EXISTS custody_events_no_update; DROP TRIGGER IF EXISTS custody_events_no_delete; \
                  DROP TRIGGER IF EXISTS security_events_no_update; DROP TRIGGER IF EXISTS security_events_no_delete;").await.unwrap();
    conn.execute(sql).await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn audit_verify_detects_edits_deletions_and_reordering() {
    let mut p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    for (i, h) in [60, 150, 30, 300].iter().enumerate() {
        w.admin
            .created(
                &format!("/api/v1/lockers/{}/deposits", w.locker_id),
                parcel(&format!("AUDIT{i:05}"), &w.residents[i % 3], *h),
            )
            .await;
    }
    p.kill();
    let dir = p.data_dir.clone();
    let db = dir.join("cubby.db");
    // kill -9 leaves recent commits in the WAL: the snapshot keeps both files.
    let wal = dir.join("cubby.db-wal");
    let pristine = (std::fs::read(&db).unwrap(), std::fs::read(&wal).ok());
    let (ok, out) = verify(&dir);
    assert!(ok, "{out}");
    assert!(out.contains("4 events"), "{out}");
    // The seed enabled two carriers: the security audit log holds them.
    assert!(out.contains("security audit log: 2 events"), "{out}");

    // The database itself refuses to change history.
    {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let refused = conn
            .execute("UPDATE custody_events SET reason = 'x' WHERE seq = 1")
            .await;
        assert!(refused.unwrap_err().to_string().contains("append-only"));
        let refused = conn
            .execute("DELETE FROM security_events WHERE seq = 1")
            .await;
        assert!(refused.unwrap_err().to_string().contains("append-only"));
        // Nor may its head be reset to hide a truncated log.
        for reset in [
            "UPDATE security_head SET seq = 0, hash = zeroblob(32)",
            "DELETE FROM security_head",
        ] {
            let refused = conn.execute(reset).await;
            assert!(
                refused
                    .unwrap_err()
                    .to_string()
                    .contains("only moves forward"),
                "{reset}"
            );
        }
        conn.close().await.unwrap();
    }

    let cases: [(&'static str, &'static str); 8] = [
        (
            "site",
            "UPDATE custody_events SET reason = reason || '!' WHERE seq = 2",
        ),
        ("site", "DELETE FROM custody_events WHERE seq = 2"),
        (
            "site",
            "UPDATE custody_events SET seq = 100 WHERE seq = 2; UPDATE custody_events SET seq = 2 WHERE seq = 3; UPDATE custody_events SET seq = 3 WHERE seq = 100;",
        ),
        ("site", "DELETE FROM custody_events WHERE seq = 4"),
        // The security audit log: an edited actor, a deleted event, two
        // swapped, the last one gone.
        (
            "security audit",
            "UPDATE security_events SET actor = 'admin:tok_someone_else' WHERE seq = 1",
        ),
        (
            "security audit",
            "DELETE FROM security_events WHERE seq = 1",
        ),
        (
            "security audit",
            "UPDATE security_events SET seq = 100 WHERE seq = 1; UPDATE security_events SET seq = 1 WHERE seq = 2; UPDATE security_events SET seq = 2 WHERE seq = 100;",
        ),
        (
            "security audit",
            "DELETE FROM security_events WHERE seq = 2",
        ),
    ];
    for (chain, sql) in cases {
        std::fs::write(&db, &pristine.0).unwrap();
        let _ = std::fs::remove_file(dir.join("cubby.db-shm"));
        match &pristine.1 {
            Some(bytes) => std::fs::write(&wal, bytes).unwrap(),
            None => {
                let _ = std::fs::remove_file(&wal);
            }
        }
        tamper(&db, sql).await;
        let (ok, out) = verify(&dir);
        assert!(!ok, "tampering went unnoticed: {sql}\n{out}");
        assert!(
            out.lines()
                .any(|l| l.starts_with("BROKEN") && l.contains(chain)),
            "{sql}: {out}"
        );
    }
}
