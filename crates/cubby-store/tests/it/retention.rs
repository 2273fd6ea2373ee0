//! Retention of the security audit log on both backends: events leave from
//! the front only, behind a floor that moves forward, and the chain still
//! verifies from it; nothing else can delete an event.

use cubby_store as db;
use cubby_store::audit::NewAuditEvent;
use cubby_store::{Store, StoreConfig};

fn event(at_ms: i64) -> NewAuditEvent {
    NewAuditEvent {
        at_ms,
        action: "token.issued",
        actor: "staff:test".into(),
        source: "127.0.0.1".into(),
        target: "token:t".into(),
        org_id: None,
        reason: String::new(),
    }
}

pub async fn the_audit_log_is_pruned_from_its_front_only(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    store
        .transact(|conn| {
            Box::pin(async move {
                for at in 1..=5 {
                    db::audit::append(conn, &event(at * 1_000)).await?;
                }
                Ok(())
            })
        })
        .await
        .unwrap();

    // Deleting an event directly, or moving the floor back or to nowhere,
    // is refused by the database itself.
    for sql in [
        "DELETE FROM security_events WHERE seq = 3",
        "UPDATE security_floor SET seq = 9, hash = hash WHERE id = 1",
        "DELETE FROM security_floor",
    ] {
        let refused = store
            .transact(move |conn| {
                Box::pin(async move {
                    sqlx::query(sql).execute(&mut *conn).await?;
                    Ok(())
                })
            })
            .await;
        assert!(refused.is_err(), "{sql} was allowed");
    }

    let purged = store
        .transact(|conn| {
            Box::pin(async move { db::retention::purge_installation(conn, 0, 2_500).await })
        })
        .await
        .unwrap();
    assert_eq!(purged.get("audit_events"), Some(&2), "{purged:?}");
    let mut conn = store.reader().await.unwrap();
    assert_eq!(db::audit::verify(&mut conn).await.unwrap(), Ok(3));
    drop(conn);

    // Once: the same cutoff deletes nothing more; the floor never goes back.
    let again = store
        .transact(|conn| {
            Box::pin(async move { db::retention::purge_installation(conn, 0, 2_500).await })
        })
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
    let back = store
        .transact(|conn| {
            Box::pin(async move {
                sqlx::query("UPDATE security_floor SET seq = 1 WHERE id = 1")
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await;
    assert!(back.is_err());

    // A later append chains on; pruning everything leaves a chain that
    // verifies from the floor alone.
    store
        .transact(|conn| {
            Box::pin(async move {
                db::audit::append(conn, &event(6_000)).await?;
                db::retention::purge_installation(conn, 0, 10_000).await
            })
        })
        .await
        .unwrap();
    let mut conn = store.reader().await.unwrap();
    assert_eq!(db::audit::verify(&mut conn).await.unwrap(), Ok(0));
}
