//! The storage conformance suite: every test body runs on SQLite and on PostgreSQL
//! (PostgreSQL skips locally without a server, never in CI).

use cubby_domain::dims::Dimensions;
use cubby_domain::model::{Language, TemperatureZone, Timezone};
use cubby_domain::tracking::TrackingNumber;
use cubby_store as db;
use cubby_store::idempotency::IdempotencyKey;
use cubby_store::idempotency::Stored;
use cubby_store::lockers::NewCompartment;
use cubby_store::lockers::NewLocker;
use cubby_store::parcels::DepositRequest;
use cubby_store::parcels::DepositSecrets;
use cubby_store::parcels::Recipient;
use cubby_store::residents::NewResident;
use cubby_store::{OpError, Store, StoreConfig};

async fn sqlite() -> (StoreConfig, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (StoreConfig::sqlite_in(dir.path()), dir)
}

async fn postgres() -> Option<StoreConfig> {
    cubby_testkit::fresh_postgres_database()
        .await
        .map(StoreConfig::new)
}

/// Runs one conformance body on both backends.
macro_rules! conformance {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let (config, _dir) = super::sqlite().await;
                super::$name(config).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let Some(config) = super::postgres().await else {
                    return;
                };
                super::$name(config).await;
            }
        }
    };
}

conformance!(reopening_runs_migrations_once);
conformance!(two_instances_never_double_book);
conformance!(custody_events_are_append_only);
conformance!(idempotency_records_round_trip);
conformance!(a_failed_job_rolls_back_only_itself);
conformance!(stays_come_from_the_custody_chain);
conformance!(policies_are_versioned_and_the_schedule_is_durable);

mod devices;
use devices::{
    access_grants_are_cached_revoked_and_counted,
    commands_are_queued_numbered_answered_and_expired,
    deposits_made_at_the_locker_are_recorded_where_the_locker_put_them,
    journals_are_stored_once_and_act_on_parcels,
};
conformance!(commands_are_queued_numbered_answered_and_expired);
conformance!(access_grants_are_cached_revoked_and_counted);
conformance!(journals_are_stored_once_and_act_on_parcels);
conformance!(deposits_made_at_the_locker_are_recorded_where_the_locker_put_them);

mod retention;
use retention::the_audit_log_is_pruned_from_its_front_only;
conformance!(the_audit_log_is_pruned_from_its_front_only);

mod reservations;
use reservations::{
    concurrent_reservations_never_over_hold, holds_go_to_their_reservation_and_end_with_the_window,
};
conformance!(concurrent_reservations_never_over_hold);
conformance!(holds_go_to_their_reservation_and_end_with_the_window);

mod schema;
mod self_service;
mod sending;
use sending::returns_are_dropped_off_once_and_wait_for_their_carrier;
conformance!(returns_are_dropped_off_once_and_wait_for_their_carrier);
use self_service::{
    households_vacation_delegates_and_rooms, invitations_ceremonies_and_passkeys,
    parcels_are_found_by_tracking_unit_or_name,
};
conformance!(households_vacation_delegates_and_rooms);
conformance!(invitations_ceremonies_and_passkeys);
conformance!(parcels_are_found_by_tracking_unit_or_name);
conformance!(a_move_out_queues_parcels_and_stops_codes);
conformance!(capacity_slots_say_what_is_inside_and_since_when);

struct Site {
    site_id: String,
    locker_id: String,
    residents: Vec<String>,
}

async fn seed(store: &Store, compartments: usize, residents: usize) -> Site {
    let site = Site {
        site_id: "site_00000000000000000000000000000001".into(),
        locker_id: "lck_00000000000000000000000000000001".into(),
        residents: (0..residents).map(|i| format!("res_{i:032}")).collect(),
    };
    let (s, l, rs) = (
        site.site_id.clone(),
        site.locker_id.clone(),
        site.residents.clone(),
    );
    store
        .transact(move |conn| {
            Box::pin(async move {
                db::tenants::create_org(conn, "org_1", "Org", 1).await?;
                db::tenants::create_site(
                    conn,
                    &s,
                    "org_1",
                    "Site",
                    &Timezone::parse("Europe/Warsaw")?,
                    1,
                )
                .await?;
                for (i, id) in rs.iter().enumerate() {
                    let r = NewResident {
                        id: id.clone(),
                        site_id: s.clone(),
                        unit: format!("U{i}"),
                        building_id: None,
                        name: format!("Person {i}"),
                        email: None,
                        phone: None,
                        language: Language::En,
                        reach: None,
                    };
                    db::residents::create_resident(conn, &r, 1).await?;
                }
                let compartments = (0..compartments)
                    .map(|i| NewCompartment {
                        id: format!("cmp_{i:032}"),
                        label: format!("D{i:02}"),
                        inner: Dimensions::new(380, 190, 640),
                        temperature: TemperatureZone::Ambient,
                        height_above_floor_mm: 1000,
                    })
                    .collect();
                let locker = NewLocker {
                    id: l.clone(),
                    site_id: s.clone(),
                    name: "Lobby".into(),
                    carrier_quotas: Default::default(),
                    compartments,
                };
                db::lockers::create_locker(conn, &locker, 1).await?;
                Ok(())
            })
        })
        .await
        .unwrap();
    site
}

fn secrets(i: usize) -> DepositSecrets {
    let mut code_mac = [0u8; 32];
    code_mac[..8].copy_from_slice(&(i as u64).to_be_bytes());
    let mut qr_mac = code_mac;
    qr_mac[31] = 1;
    DepositSecrets {
        code: format!("{i:08}"),
        code_mac,
        // Distinct values stand in for the locker-key MACs the server computes.
        code_local_mac: {
            let mut m = code_mac;
            m[30] = 7;
            m
        },
        code_credential_id: format!("crd_k{i}"),
        qr_token: format!("{i:032}"),
        qr_mac,
        qr_local_mac: {
            let mut m = qr_mac;
            m[30] = 7;
            m
        },
        qr_credential_id: format!("crd_q{i}"),
        elsewhere: Vec::new(),
    }
}

async fn deposit(store: &Store, site: &Site, i: usize) -> Result<String, OpError> {
    let req = DepositRequest {
        parcel_id: format!("par_{i:032}"),
        locker_id: site.locker_id.clone(),
        tracking_number: TrackingNumber::parse(&format!("CONF{i:06}")).unwrap(),
        carrier: None,
        recipient: Recipient::Resident(site.residents[i].clone()),
        dims: Dimensions::new(300, 100, 200),
        weight_g: None,
        temperature: TemperatureZone::Ambient,
        actor: "test".into(),
        now: 1_000 + i as i64,
        placed_at: None,
        reservation_id: None,
        overflow_to_nearest: false,
    };
    let s = secrets(i);
    store
        .transact(move |conn| {
            Box::pin(async move {
                db::parcels::deposit(conn, &req, &s)
                    .await
                    .map(|o| o.allocation.compartment_id)
            })
        })
        .await
}

async fn reopening_runs_migrations_once(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 2, 1).await;
    deposit(&store, &site, 0).await.unwrap();
    drop(store);
    let again = Store::open(&config).await.unwrap();
    let mut conn = again.reader().await.unwrap();
    assert_eq!(
        db::reports::count(&mut conn, db::reports::Table::Parcels)
            .await
            .unwrap(),
        1
    );
    let verdicts = db::custody::verify_custody(&mut conn).await.unwrap();
    assert_eq!(verdicts, vec![(site.site_id.clone(), Ok(1))]);
}

async fn two_instances_never_double_book(config: StoreConfig) {
    // Two stores on one database stand for two server instances.
    let a = Store::open(&config).await.unwrap();
    let b = Store::open(&config).await.unwrap();
    let site = std::sync::Arc::new(seed(&a, 10, 30).await);
    let mut tasks = Vec::new();
    for i in 0..30 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let site = site.clone();
        tasks.push(tokio::spawn(async move { deposit(&store, &site, i).await }));
    }
    let mut taken = Vec::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(compartment) => taken.push(compartment),
            Err(OpError::NoCompartmentFits { .. }) => refused += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    let distinct: std::collections::BTreeSet<_> = taken.iter().collect();
    assert_eq!((taken.len(), distinct.len(), refused), (10, 10, 20));
    let mut conn = a.reader().await.unwrap();
    assert_eq!(
        db::reports::count(&mut conn, db::reports::Table::Holders)
            .await
            .unwrap(),
        10
    );
    // Both instances appended to one site's chain; it is still one unbroken chain.
    let verdicts = db::custody::verify_custody(&mut conn).await.unwrap();
    assert_eq!(verdicts, vec![(site.site_id.clone(), Ok(10))]);
}

async fn custody_events_are_append_only(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 2, 1).await;
    deposit(&store, &site, 0).await.unwrap();
    for sql in [
        "UPDATE custody_events SET reason = 'rewritten'",
        "DELETE FROM custody_events",
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
    let mut conn = store.reader().await.unwrap();
    let verdicts = db::custody::verify_custody(&mut conn).await.unwrap();
    assert!(verdicts.iter().all(|(_, v)| v.is_ok()));
}

async fn idempotency_records_round_trip(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let key = IdempotencyKey {
        scope: "tok_a".into(),
        key: "k1".into(),
        fingerprint: [7; 32],
    };
    let (k1, k2, k3) = (
        key.clone(),
        key.clone(),
        IdempotencyKey {
            fingerprint: [8; 32],
            ..key.clone()
        },
    );
    let stored = Stored {
        status: 201,
        body: "{\"id\":1}".into(),
    };
    let s1 = stored.clone();
    store
        .transact(move |conn| {
            Box::pin(async move { db::idempotency::remember(conn, &k1, &s1, 1).await })
        })
        .await
        .unwrap();
    let got = store
        .transact(move |conn| Box::pin(async move { db::idempotency::recall(conn, &k2).await }))
        .await
        .unwrap();
    assert_eq!(got, Some(stored));
    let other = store
        .transact(move |conn| Box::pin(async move { db::idempotency::recall(conn, &k3).await }))
        .await;
    assert!(matches!(other, Err(OpError::IdempotencyMismatch)));
}

async fn a_failed_job_rolls_back_only_itself(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .transact(move |conn| {
                    Box::pin(async move {
                        db::tenants::create_org(conn, &format!("org_{i}"), "Org", 1).await?;
                        if i % 2 == 1 {
                            // Fails after writing: its organisation must disappear with it.
                            db::tenants::create_site(
                                conn,
                                "site_x",
                                "org_missing",
                                "X",
                                &Timezone::parse("UTC")?,
                                1,
                            )
                            .await?;
                        }
                        Ok(())
                    })
                })
                .await
        }));
    }
    let mut failed = 0;
    for t in tasks {
        if t.await.unwrap().is_err() {
            failed += 1;
        }
    }
    assert_eq!(failed, 10);
    let mut conn = store.reader().await.unwrap();
    let orgs = db::tenants::organisations(&mut conn).await.unwrap();
    let mut ids: Vec<_> = orgs.iter().map(|o| o.id.clone()).collect();
    ids.sort();
    let mut expected: Vec<_> = (0..20)
        .filter(|i| i % 2 == 0)
        .map(|i| format!("org_{i}"))
        .collect();
    expected.sort();
    assert_eq!(ids, expected);
}

async fn stays_come_from_the_custody_chain(config: StoreConfig) {
    use cubby_domain::lifecycle::Transition;
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 4, 3).await;
    for i in 0..3 {
        deposit(&store, &site, i).await.unwrap();
    }
    // Parcel 1 is collected at 50,000 ms.
    store
        .transact(|conn| {
            Box::pin(async move {
                db::parcels::transition(
                    conn,
                    &format!("par_{:032}", 1),
                    Transition::PickUp,
                    None,
                    "test",
                    "collected",
                    50_000,
                )
                .await
                .map(|_| ())
            })
        })
        .await
        .unwrap();
    let mut conn = store.reader().await.unwrap();
    let all = db::reports::stays(&mut conn, &site.site_id, None, 0)
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|s| (s.arrived_ms, s.left_ms))
            .collect::<Vec<_>>(),
        vec![(1_000, None), (1_001, Some(50_000)), (1_002, None)]
    );
    assert_eq!(all[0].height_mm, 100);
    let later = db::reports::stays(&mut conn, &site.site_id, Some(&site.locker_id), 1_001)
        .await
        .unwrap();
    assert_eq!(later.len(), 2);
    let elsewhere = db::reports::stays(&mut conn, &site.site_id, Some("lck_other"), 0)
        .await
        .unwrap();
    assert!(elsewhere.is_empty());
    assert_eq!(
        db::lockers::compartments_in_service(&mut conn, &site.site_id, None)
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        db::residents::residents_on_site(&mut conn, &site.site_id)
            .await
            .unwrap(),
        3
    );
}

async fn policies_are_versioned_and_the_schedule_is_durable(config: StoreConfig) {
    use cubby_domain::policy::SitePolicy;
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 4, 2).await;
    let sid = site.site_id.clone();
    let mut conn = store.reader().await.unwrap();
    let (v0, p0) = db::schedule::site_policy(&mut conn, &sid).await.unwrap();
    drop(conn);
    assert_eq!((v0, p0), (0, SitePolicy::default()));
    let bad = SitePolicy {
        max_hold_days: 1_000,
        ..SitePolicy::default()
    };
    let s2 = sid.clone();
    let refused = store
        .transact(move |conn| {
            Box::pin(async move { db::schedule::save_policy(conn, &s2, &bad, "test", 5).await })
        })
        .await;
    assert!(matches!(refused, Err(OpError::Invalid(_))));
    for expected in [1, 2] {
        let s2 = sid.clone();
        let p = SitePolicy {
            max_hold_days: expected,
            ..SitePolicy::default()
        };
        let v = store
            .transact(move |conn| {
                Box::pin(async move { db::schedule::save_policy(conn, &s2, &p, "test", 5).await })
            })
            .await
            .unwrap();
        assert_eq!(v, expected);
    }
    deposit(&store, &site, 0).await.unwrap();
    let mut conn = store.reader().await.unwrap();
    let (v, p) = db::schedule::site_policy(&mut conn, &sid).await.unwrap();
    assert_eq!((v, p.max_hold_days), (2, 2));
    let fresh = db::schedule::unscheduled_parcels(&mut conn, 10)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].deposited_ms, 1_000);
    let row = db::schedule::ScheduleRow {
        parcel_id: fresh[0].parcel_id.clone(),
        site_id: sid.clone(),
        deposited_ms: 1_000,
        next_ms: Some(50_000),
        reminded: vec![],
        escalated: false,
        hold_ms: 0,
        hold_since_ms: None,
    };
    let (r1, r2) = (row.clone(), row.clone());
    store
        .transact(move |conn| {
            Box::pin(async move {
                db::schedule::insert_schedule(conn, &r1).await?;
                // A second insert (another instance) changes nothing.
                db::schedule::insert_schedule(
                    conn,
                    &db::schedule::ScheduleRow {
                        next_ms: Some(1),
                        ..r2
                    },
                )
                .await
            })
        })
        .await
        .unwrap();
    let mut conn = store.reader().await.unwrap();
    assert!(
        db::schedule::unscheduled_parcels(&mut conn, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db::schedule::due_parcels(&mut conn, 49_999, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db::schedule::due_parcels(&mut conn, 50_000, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    drop(conn);
    let pid = row.parcel_id.clone();
    let after = store
        .transact(move |conn| {
            Box::pin(async move {
                let mut r = db::schedule::lock_schedule(conn, &pid).await?.expect("row");
                r.reminded.push("24h-before-expiry".into());
                r.next_ms = Some(90_000);
                db::schedule::update_schedule(conn, &r).await?;
                db::schedule::schedule_hold(conn, &pid, true, 60_000).await?;
                db::schedule::schedule_hold(conn, &pid, false, 100_000).await?;
                db::schedule::lock_schedule(conn, &pid).await
            })
        })
        .await
        .unwrap()
        .expect("row");
    assert_eq!(after.reminded, vec!["24h-before-expiry".to_string()]);
    assert_eq!((after.hold_ms, after.hold_since_ms), (40_000, None));
    assert_eq!(after.next_ms, Some(100_000), "looked at again after a hold");
}

/// A move-out sends the waiting parcel to the manager's queue with its
/// custody event, stops the resident's codes, keeps the custody chain
/// whole, and happens once.
async fn a_move_out_queues_parcels_and_stops_codes(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 2, 1).await;
    deposit(&store, &site, 0).await.unwrap();
    let resident = site.residents[0].clone();
    let again = resident.clone();
    let out = store
        .transact(move |conn| {
            Box::pin(
                async move { db::residents::move_out(conn, &resident, "staff:test", 5_000).await },
            )
        })
        .await
        .unwrap();
    assert_eq!(out.parcels_queued, vec![format!("par_{:032}", 0)]);
    assert_eq!(out.lockers, vec![site.locker_id.clone()]);
    assert!(out.codes_revoked >= 1, "{out:?}");
    let twice = store
        .transact(move |conn| {
            Box::pin(
                async move { db::residents::move_out(conn, &again, "staff:test", 6_000).await },
            )
        })
        .await;
    assert!(matches!(twice, Err(OpError::NotFound { .. })), "{twice:?}");
    let mut conn = store.reader().await.unwrap();
    let parcel = db::parcels::parcel(&mut conn, &format!("par_{:032}", 0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        parcel.state,
        cubby_domain::lifecycle::ParcelState::Unassigned
    );
    assert_eq!(parcel.resident_id, None);
    let kinds: Vec<String> = db::custody::custody_events(&mut conn, &parcel.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["deposited", "recipient_moved_out"]);
    let verdicts = db::custody::verify_custody(&mut conn).await.unwrap();
    assert_eq!(verdicts, vec![(site.site_id.clone(), Ok(2))]);
    assert!(
        !db::residents::resident_is_live(&mut conn, &site.residents[0])
            .await
            .unwrap()
    );
}

/// The capacity answer's rows: one per compartment, occupied ones with
/// their parcel's deposit time.
async fn capacity_slots_say_what_is_inside_and_since_when(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 3, 1).await;
    deposit(&store, &site, 0).await.unwrap();
    let mut conn = store.reader().await.unwrap();
    let slots = db::lockers::capacity_slots(&mut conn, &site.site_id, 0)
        .await
        .unwrap();
    assert_eq!(slots.len(), 3);
    let inside: Vec<_> = slots.iter().filter(|s| s.occupied).collect();
    assert_eq!(inside.len(), 1, "{slots:?}");
    assert_eq!(inside[0].deposited_ms, Some(1_000));
    assert!(
        slots
            .iter()
            .filter(|s| !s.occupied)
            .all(|s| s.deposited_ms.is_none())
    );
}
