//! Device operations on both backends: the command queue, journal ingest
//! exactly once per entry, the credential cache and incidents.

use cubby_domain::dims::Dimensions;
use cubby_domain::lifecycle::ParcelState;
use cubby_domain::model::TemperatureZone;
use cubby_domain::tracking::TrackingNumber;
use cubby_protocol::cache::CredentialKind;
use cubby_protocol::journal::{EdgeEvent, GENESIS, JournalEntry};
use cubby_store as db;
use cubby_store::devices::NewUnlock;
use cubby_store::{Store, StoreConfig};

use crate::{Site, deposit, seed};

pub(crate) const DEVICE: &str = "dev_00000000000000000000000000000001";

pub(crate) async fn add_device(store: &Store, site: &Site) {
    let locker = site.locker_id.clone();
    store
        .transact(move |conn| {
            Box::pin(
                async move { db::devices::add_device(conn, DEVICE, &locker, &[9; 32], 10).await },
            )
        })
        .await
        .unwrap();
}

/// Fresh incident ids.
fn ids() -> impl FnMut() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    || format!("inc_{:032}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Fresh ids; pick-up credentials as the server would issue them.
struct TestHooks;

impl db::devices::IngestHooks for TestHooks {
    fn new_id(&mut self) -> String {
        ids()()
    }
    fn deposit_secrets(&mut self, _locker_id: &str) -> db::parcels::DepositSecrets {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(1_000);
        crate::secrets(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// A chain of journal entries from `first` on, continuing `prev`.
fn chain(prev: &str, first: u64, events: Vec<EdgeEvent>) -> Vec<JournalEntry> {
    let mut prev = prev.to_string();
    let mut out = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        let seq = first + i as u64;
        let e = JournalEntry::next(&prev, seq, 5_000 + seq as i64, event);
        prev = e.hash.clone();
        out.push(e);
    }
    out
}

async fn ingest(
    store: &Store,
    entries: Vec<JournalEntry>,
) -> Result<db::devices::JournalIngest, cubby_store::OpError> {
    store
        .transact(move |conn| {
            Box::pin(async move {
                db::devices::ingest_journal(conn, DEVICE, &entries, 6_000, &mut TestHooks).await
            })
        })
        .await
}

async fn incident_kinds(store: &Store, site: &Site) -> Vec<String> {
    let mut conn = store.reader().await.unwrap();
    let mut kinds: Vec<String> =
        db::incidents::incidents(&mut conn, None, Some(&site.site_id), 100)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.kind)
            .collect();
    kinds.sort();
    kinds
}

pub async fn commands_are_queued_numbered_answered_and_expired(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 4, 2).await;
    let unlock = |n: u32| NewUnlock {
        cmd_id: format!("cmd_{n:032}"),
        tx_id: format!("tx{n}"),
        locker_id: site.locker_id.clone(),
        compartment_label: "D00".into(),
        purpose: "staff",
        parcel_id: None,
        actor: "test".into(),
        reason: "conformance".into(),
    };
    // Without a device there is nothing to queue.
    let u = unlock(0);
    let none = store
        .transact(move |conn| {
            Box::pin(async move { db::devices::queue_unlock(conn, &u, 20).await })
        })
        .await
        .unwrap();
    assert_eq!(none, None);
    add_device(&store, &site).await;
    for n in 1..=3 {
        let u = unlock(n);
        let queued = store
            .transact(move |conn| {
                Box::pin(async move { db::devices::queue_unlock(conn, &u, 20).await })
            })
            .await
            .unwrap();
        assert_eq!(queued.as_deref(), Some(DEVICE));
    }
    let mut conn = store.reader().await.unwrap();
    let open = db::devices::open_commands(&mut conn).await.unwrap();
    drop(conn);
    assert_eq!(open.len(), 3);
    assert!(open.iter().all(|c| c.status == "pending"));
    // Sequence numbers are taken once each, in order.
    let seqs = store
        .transact(|conn| {
            Box::pin(async move {
                let a = db::devices::next_command_seq(conn, DEVICE).await?;
                let b = db::devices::next_command_seq(conn, DEVICE).await?;
                Ok((a, b))
            })
        })
        .await
        .unwrap();
    assert_eq!(seqs, (1, 2));
    // Command 1 is sent and done, 2 is sent and fails, 3 never leaves.
    store
        .transact(|conn| {
            Box::pin(async move {
                let c1 = format!("cmd_{:032}", 1);
                let c2 = format!("cmd_{:032}", 2);
                db::devices::mark_command_sent(conn, &c1, Some((1, 40_000, "signed-1")), 30)
                    .await?;
                db::devices::mark_command_sent(conn, &c2, Some((2, 40_000, "signed-2")), 30)
                    .await?;
                // A resend changes nothing but the attempt count.
                db::devices::mark_command_sent(conn, &c1, None, 31).await?;
                db::devices::command_answered(conn, &c1, DEVICE, "done", "", ids()(), 32).await?;
                db::devices::command_answered(
                    conn,
                    &c2,
                    DEVICE,
                    "failed",
                    "lock stuck",
                    ids()(),
                    33,
                )
                .await?;
                // A late duplicate answer is ignored.
                db::devices::command_answered(conn, &c2, DEVICE, "failed", "again", ids()(), 34)
                    .await?;
                Ok(())
            })
        })
        .await
        .unwrap();
    let mut conn = store.reader().await.unwrap();
    let open = db::devices::open_commands(&mut conn).await.unwrap();
    drop(conn);
    assert_eq!(open.len(), 1, "only the unsent command is open");
    assert_eq!(open[0].cmd_id, format!("cmd_{:032}", 3));
    assert_eq!(incident_kinds(&store, &site).await, vec!["unlock_not_done"]);
    // The pending command outlives the pending limit and expires, once.
    let expired = store
        .transact(|conn| {
            Box::pin(async move {
                let first = db::devices::expire_commands(conn, 100_000, 60_000, ids()).await?;
                let again = db::devices::expire_commands(conn, 100_001, 60_000, ids()).await?;
                Ok((first, again))
            })
        })
        .await
        .unwrap();
    assert_eq!(expired, (1, 0));
    // The same cause at the same door while its incident is open: folded.
    assert_eq!(incident_kinds(&store, &site).await, vec!["unlock_not_done"]);
    let mut conn = store.reader().await.unwrap();
    let open = db::incidents::incidents(&mut conn, None, Some(&site.site_id), 10)
        .await
        .unwrap();
    assert_eq!(open[0].occurrences, 2);
    drop(conn);
}

pub async fn journals_are_stored_once_and_act_on_parcels(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 4, 2).await;
    add_device(&store, &site).await;
    deposit(&store, &site, 0).await.unwrap();
    deposit(&store, &site, 1).await.unwrap();

    // The cache holds each resident's two credentials with their compartment.
    let mut conn = store.reader().await.unwrap();
    let cached = db::devices::cache_credentials(&mut conn, &site.locker_id)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(cached.len(), 4, "{cached:?}");
    assert!(cached.iter().all(|c| c.compartments.len() == 1));
    let parcel0 = format!("par_{:032}", 0);
    let mut conn = store.reader().await.unwrap();
    let compartment0 = db::parcels::parcel(&mut conn, &parcel0)
        .await
        .unwrap()
        .unwrap()
        .compartment_label
        .unwrap();
    drop(conn);

    let events = vec![
        EdgeEvent::Boot {
            agent_version: "test".into(),
        },
        EdgeEvent::PickupGranted {
            credential_id: "crd_k0".into(),
            via: CredentialKind::Keypad,
            compartments: vec![compartment0.clone()],
            offline_capable: true,
        },
        EdgeEvent::DoorOpened {
            compartment: compartment0.clone(),
            commanded: true,
        },
        EdgeEvent::DoorForced {
            compartment: "D03".into(),
        },
    ];
    let entries = chain(GENESIS, 1, events);
    let first = ingest(&store, entries[..2].to_vec()).await.unwrap();
    assert_eq!(
        (first.up_to_seq, first.stored, first.resend_from),
        (2, 2, None)
    );
    // The whole batch again (a redelivery): the first two are skipped.
    let second = ingest(&store, entries.clone()).await.unwrap();
    assert_eq!((second.up_to_seq, second.stored), (4, 2));
    let third = ingest(&store, entries.clone()).await.unwrap();
    assert_eq!((third.up_to_seq, third.stored), (4, 0));

    // A gap asks for a resend and stores nothing.
    let later = chain(&entries[3].hash, 5, vec![EdgeEvent::BoardRecovered; 3]);
    let gap = ingest(&store, later[1..].to_vec()).await.unwrap();
    assert_eq!(
        (gap.up_to_seq, gap.resend_from, gap.stored),
        (4, Some(5), 0)
    );
    // An altered entry stores nothing and raises an incident.
    let mut altered = later.clone();
    altered[0].at_ms += 1;
    let bad = ingest(&store, altered).await.unwrap();
    assert_eq!((bad.up_to_seq, bad.stored), (4, 0));

    let mut conn = store.reader().await.unwrap();
    let stored = db::devices::device_events(&mut conn, DEVICE, 0, 100)
        .await
        .unwrap();
    assert_eq!(
        stored.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4],
        "each entry stored exactly once"
    );
    let p0 = db::parcels::parcel(&mut conn, &parcel0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p0.state, ParcelState::PickedUp, "the edge pick-up counted");
    let p1 = db::parcels::parcel(&mut conn, &format!("par_{:032}", 1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p1.state, ParcelState::Deposited);
    // The collected parcel's credentials leave the cache; the other stays.
    let cached = db::devices::cache_credentials(&mut conn, &site.locker_id)
        .await
        .unwrap();
    assert_eq!(cached.len(), 2);
    assert!(cached.iter().all(|c| c.id.ends_with('1')));
    let verdicts = db::custody::verify_custody(&mut conn).await.unwrap();
    assert!(verdicts.iter().all(|(_, v)| v.is_ok()), "{verdicts:?}");
    drop(conn);
    assert_eq!(
        incident_kinds(&store, &site).await,
        vec!["door_forced", "journal_chain_broken"]
    );
    // The correct continuation is accepted after all.
    let resumed = ingest(&store, later).await.unwrap();
    assert_eq!((resumed.up_to_seq, resumed.stored), (7, 3));
}

async fn announce(store: &Store, site: &Site, i: usize, tracking: &str) -> String {
    let a = db::parcels::Announcement {
        parcel_id: format!("par_a{i:031}"),
        site_id: site.site_id.clone(),
        tracking_number: TrackingNumber::parse(tracking).unwrap(),
        carrier: Some("dhl".into()),
        resident_id: Some(site.residents[i].clone()),
        dims: Dimensions::new(300, 100, 200),
        weight_g: None,
        temperature: TemperatureZone::Ambient,
        actor: "test".into(),
        now: 100,
    };
    store
        .transact(move |conn| Box::pin(async move { db::parcels::announce(conn, &a).await }))
        .await
        .unwrap()
        .id
}

pub async fn deposits_made_at_the_locker_are_recorded_where_the_locker_put_them(
    config: StoreConfig,
) {
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 4, 3).await;
    add_device(&store, &site).await;
    let first = announce(&store, &site, 0, "RB123456785GB").await;
    let second = announce(&store, &site, 1, "1Z5R89390357567127").await;
    let locker = site.locker_id.clone();
    let site_id = site.site_id.clone();
    store
        .transact(move |conn| {
            Box::pin(async move {
                // The site lets DHL deposit: only then do its passes count.
                db::couriers::enable_at_site(conn, &site_id, "dhl", "test", 40).await?;
                for (id, revoked) in [("cps_1", false), ("cps_2", true)] {
                    let pass = db::couriers::NewCourierPass {
                        id: id.into(),
                        locker_id: locker.clone(),
                        carrier: "dhl".into(),
                        local_mac: [3; 32],
                        expires_ms: 1_000_000,
                        created_by: "test".into(),
                        courier_id: None,
                    };
                    db::couriers::issue_courier_pass(conn, &pass, 50).await?;
                    if revoked {
                        db::couriers::revoke_courier_pass(conn, id).await?;
                    }
                }
                Ok(())
            })
        })
        .await
        .unwrap();
    let mut conn = store.reader().await.unwrap();
    let passes = db::couriers::cache_courier_passes(&mut conn, &site.locker_id, 60)
        .await
        .unwrap();
    assert_eq!(
        passes.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        vec!["cps_1"],
        "revoked passes leave the cache"
    );
    let expected = db::couriers::expected_parcels(&mut conn, &site.locker_id)
        .await
        .unwrap();
    assert_eq!(expected.len(), 2);
    drop(conn);

    let entries = chain(
        GENESIS,
        1,
        vec![
            EdgeEvent::DepositMade {
                pass_id: "cps_1".into(),
                parcel_id: first.clone(),
                compartment: "D02".into(),
            },
            // Accepted by a locker that had not yet heard of the revocation.
            EdgeEvent::DepositMade {
                pass_id: "cps_2".into(),
                parcel_id: second.clone(),
                compartment: "D03".into(),
            },
            EdgeEvent::DepositMade {
                pass_id: "cps_1".into(),
                parcel_id: "par_unknown".into(),
                compartment: "D00".into(),
            },
        ],
    );
    let done = ingest(&store, entries).await.unwrap();
    assert_eq!(done.stored, 3);
    assert_eq!(done.deposits.len(), 2, "both real parcels were recorded");
    assert!(done.deposits.iter().all(|d| d.credential.is_some()));
    let mut conn = store.reader().await.unwrap();
    for (id, label) in [(&first, "D02"), (&second, "D03")] {
        let p = db::parcels::parcel(&mut conn, id).await.unwrap().unwrap();
        assert_eq!(p.state, ParcelState::Deposited);
        assert_eq!(p.compartment_label.as_deref(), Some(label));
    }
    // The recipients can collect at the locker: their credentials are cached.
    let cached = db::devices::cache_credentials(&mut conn, &site.locker_id)
        .await
        .unwrap();
    assert_eq!(cached.len(), 4);
    let verdicts = db::custody::verify_custody(&mut conn).await.unwrap();
    assert!(verdicts.iter().all(|(_, v)| v.is_ok()), "{verdicts:?}");
    drop(conn);
    assert_eq!(
        incident_kinds(&store, &site).await,
        vec!["courier_pass_invalid", "deposit_unreconciled"]
    );
}

/// Doors, paths and access grants on both backends: PINs unique per site,
/// revocation drops a grant from the cache, uses are stored once each and
/// counted for the cache only up to the journal entry it reflects.
pub async fn access_grants_are_cached_revoked_and_counted(config: StoreConfig) {
    use cubby_domain::access::GrantRule;
    use cubby_store as db;
    use cubby_store::access::DoorRow;
    use cubby_store::access::NewGrant;
    use cubby_store::access::PathRow;

    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 2, 1).await;
    add_device(&store, &site).await;
    let door = |id: &str, output: Option<u32>| DoorRow {
        id: id.into(),
        site_id: site.site_id.clone(),
        name: id.into(),
        kind: "lobby".into(),
        fail_mode: "secure".into(),
        device_id: output.map(|_| DEVICE.to_string()),
        lock_output: output,
        created_ms: 1,
        version: 1,
    };
    let (gate, lobby) = (door("door_gate", None), door("door_lobby", Some(2)));
    let clash = door("door_clash", Some(2));
    let host = site.residents[0].clone();
    let rule = GrantRule {
        doors: ["door_gate".to_string(), "door_lobby".to_string()].into(),
        not_before_ms: 0,
        not_after_ms: 100_000,
        max_uses: Some(1),
        schedule: vec![],
    };
    let grant = |id: &str, pin_mac: [u8; 32]| NewGrant {
        id: id.into(),
        site_id: site.site_id.clone(),
        kind: "visitor".into(),
        label: "Guest".into(),
        host_resident_id: Some(host.clone()),
        carrier: None,
        rule: rule.clone(),
        pin_mac,
        macs: vec![(DEVICE.to_string(), [7; 32])],
        created_by: "test".into(),
        courier_id: None,
        room_id: None,
    };
    let (first, twin, second) = (
        grant("agr_1", [1; 32]),
        grant("agr_2", [1; 32]),
        grant("agr_3", [3; 32]),
    );
    let path = PathRow {
        id: "dpath_1".into(),
        site_id: site.site_id.clone(),
        name: "Street to lobby".into(),
        doors: vec!["door_gate".into(), "door_lobby".into()],
        created_ms: 1,
        version: 1,
    };
    store
        .transact(move |conn| {
            Box::pin(async move {
                db::access::add_door(conn, &gate).await?;
                db::access::add_door(conn, &lobby).await?;
                db::access::add_path(conn, &path).await?;
                db::access::issue_grant(conn, &first, 10).await?;
                db::access::issue_grant(conn, &second, 10).await
            })
        })
        .await
        .unwrap();
    // One lock output drives one door; one PIN belongs to one grant of a site.
    let err = store
        .transact(move |conn| Box::pin(async move { db::access::add_door(conn, &clash).await }))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            cubby_store::OpError::Conflict {
                code: cubby_domain::codes::Code::LockOutputTaken,
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .transact(move |conn| {
            Box::pin(async move { db::access::issue_grant(conn, &twin, 10).await })
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            cubby_store::OpError::Conflict {
                code: cubby_domain::codes::Code::PinTaken,
                ..
            }
        ),
        "{err:?}"
    );

    let mut conn = store.reader().await.unwrap();
    assert_eq!(
        db::access::doors_of_device(&mut conn, DEVICE)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        db::access::paths_of_site(&mut conn, &site.site_id)
            .await
            .unwrap()[0]
            .doors
            .len(),
        2
    );
    assert_eq!(
        db::access::count_live_grants(&mut conn, &site.site_id, 50)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        db::access::count_live_grants(&mut conn, &site.site_id, 100_000)
            .await
            .unwrap(),
        0
    );
    let mine = db::access::grants_of_site(&mut conn, &site.site_id, Some(&host), 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].rule, rule);
    assert!(
        db::access::grants_of_site(&mut conn, &site.site_id, Some("res_other"), 10)
            .await
            .unwrap()
            .is_empty()
    );
    drop(conn);

    // The controller journals a use of agr_1 at the lobby (entry 1) and one
    // of agr_3 (entry 2); the batch arrives twice.
    let batch = chain(
        GENESIS,
        1,
        vec![
            EdgeEvent::AccessGranted {
                grant_id: "agr_1".into(),
                door_id: "door_lobby".into(),
            },
            EdgeEvent::AccessGranted {
                grant_id: "agr_3".into(),
                door_id: "door_lobby".into(),
            },
        ],
    );
    for _ in 0..2 {
        let entries = batch.clone();
        store
            .transact(move |conn| {
                Box::pin(async move {
                    db::devices::ingest_journal(conn, DEVICE, &entries, 6_000, &mut TestHooks).await
                })
            })
            .await
            .unwrap();
    }
    store
        .transact(|conn| {
            Box::pin(async move { db::access::revoke_grant(conn, "agr_3", 7_000).await })
        })
        .await
        .unwrap();
    let mut conn = store.reader().await.unwrap();
    assert_eq!(
        db::access::uses_of_grant(&mut conn, "agr_1")
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        db::access::grant(&mut conn, "agr_3")
            .await
            .unwrap()
            .unwrap()
            .revoked_ms,
        Some(7_000)
    );
    // Revoked agr_3 is gone from the cache; agr_1's use counts once the cache
    // reflects entry 1, not before.
    let cached = db::access::cache_grants(&mut conn, DEVICE, 2, 8_000)
        .await
        .unwrap();
    assert_eq!(cached.len(), 1);
    assert_eq!(cached[0].grant_id, "agr_1");
    assert_eq!(cached[0].local_mac, [7; 32]);
    assert_eq!(cached[0].uses.get("door_lobby"), Some(&1));
    let earlier = db::access::cache_grants(&mut conn, DEVICE, 0, 8_000)
        .await
        .unwrap();
    assert!(earlier[0].uses.is_empty());
    assert!(
        db::access::cache_grants(&mut conn, DEVICE, 2, 100_000)
            .await
            .unwrap()
            .is_empty(),
        "over"
    );
}
