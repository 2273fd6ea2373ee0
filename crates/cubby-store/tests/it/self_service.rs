//! Self-service on both backends: households, vacation, delegate codes and
//! open-shelf parcel rooms with their one-entry room codes.

use cubby_domain::access::GrantRule;
use cubby_domain::dims::Dimensions;
use cubby_domain::lifecycle::ParcelState;
use cubby_domain::model::{Language, TemperatureZone};
use cubby_domain::tracking::TrackingNumber;
use cubby_store as db;
use cubby_store::access::DoorRow;
use cubby_store::access::NewGrant;
use cubby_store::access::PathRow;
use cubby_store::parcels::Recipient;
use cubby_store::residents::NewDelegate;
use cubby_store::residents::NewResident;
use cubby_store::rooms::NewRoom;
use cubby_store::rooms::ShelveRequest;
use cubby_store::{OpError, Store, StoreConfig};

use crate::devices::{DEVICE, add_device};
use crate::{deposit, seed};

fn conflict_code(e: &OpError) -> &'static str {
    match e {
        OpError::Conflict { code, .. } => code.name(),
        OpError::NotFound { .. } => "not_found",
        _ => "other",
    }
}

pub async fn households_vacation_delegates_and_rooms(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 3, 2).await;
    add_device(&store, &site).await;
    let (anna, jan) = (site.residents[0].clone(), site.residents[1].clone());

    // Household: a member joins Anna's unit only, and leaves again.
    let member = |id: &str, unit: &str| NewResident {
        id: id.into(),
        site_id: site.site_id.clone(),
        unit: unit.into(),
        building_id: None,
        name: "Piotr".into(),
        email: None,
        phone: None,
        language: Language::Pl,
        reach: None,
    };
    let (ok, elsewhere) = (member("res_m1", "U0"), member("res_m2", "U1"));
    let a = anna.clone();
    let (added, refused) = store
        .transact(move |conn| {
            Box::pin(async move {
                let host = db::residents::resident(conn, &a).await?.unwrap();
                let added = db::residents::add_household_member(conn, &host, &ok, 5).await?;
                let refused = db::residents::add_household_member(conn, &host, &elsewhere, 5)
                    .await
                    .map(|_| ())
                    .unwrap_err();
                Ok((added, refused))
            })
        })
        .await
        .unwrap();
    assert_eq!(added.unit, "U0");
    assert_eq!(conflict_code(&refused), "wrong_unit");
    let mut conn = store.reader().await.unwrap();
    let household = db::residents::household(&mut conn, &site.site_id, "U0")
        .await
        .unwrap();
    assert_eq!(household.len(), 2);
    assert_eq!(household[1].added_by.as_deref(), Some(anna.as_str()));
    assert!(household[0].added_by.is_none(), "staff registered Anna");
    drop(conn);
    let (a, j) = (anna.clone(), jan.clone());
    let (removed, again, staffs) = store
        .transact(move |conn| {
            Box::pin(async move {
                let host = db::residents::resident(conn, &a).await?.unwrap();
                let other = db::residents::resident(conn, &j).await?.unwrap();
                let removed =
                    db::residents::remove_household_member(conn, &host, "res_m1", 6).await;
                let again = db::residents::remove_household_member(conn, &host, "res_m1", 7).await;
                // Jan is in another unit; Anna was registered by staff.
                let staffs = db::residents::remove_household_member(conn, &other, &a, 7).await;
                Ok((removed.is_ok(), again.unwrap_err(), staffs.unwrap_err()))
            })
        })
        .await
        .unwrap();
    assert!(removed);
    assert_eq!(conflict_code(&again), "not_found");
    assert_eq!(conflict_code(&staffs), "not_found");
    let mut conn = store.reader().await.unwrap();
    assert!(
        !db::residents::resident_is_live(&mut conn, "res_m1")
            .await
            .unwrap()
    );
    assert!(
        db::residents::resident_is_live(&mut conn, &anna)
            .await
            .unwrap()
    );
    drop(conn);

    // Vacation: a parcel for someone away is held from the start.
    let a = anna.clone();
    store
        .transact(move |conn| {
            Box::pin(async move { db::residents::set_away_until(conn, &a, Some(1_000_000)).await })
        })
        .await
        .unwrap();
    deposit(&store, &site, 0).await.unwrap();
    let parcel_id = format!("par_{:032}", 0);
    let mut conn = store.reader().await.unwrap();
    let parcel = db::parcels::parcel(&mut conn, &parcel_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(parcel.state, ParcelState::OnHold);
    let label = parcel.compartment_label.clone().unwrap();
    drop(conn);

    // Delegate codes: one parcel's compartment, at most 3 live, revocable,
    // only by the recipient.
    let delegate = |i: u8, resident: &str| NewDelegate {
        id: format!("crd_d{i}"),
        parcel_id: parcel_id.clone(),
        resident_id: resident.to_string(),
        name: format!("friend {i}"),
        mac: [100 + i; 32],
        local_mac: [150 + i; 32],
    };
    let tries = vec![
        delegate(1, &anna),
        delegate(2, &anna),
        delegate(3, &anna),
        delegate(4, &anna),
        delegate(5, &jan),
    ];
    let outcomes = store
        .transact(move |conn| {
            Box::pin(async move {
                let mut out = Vec::new();
                for d in &tries {
                    out.push(
                        db::residents::issue_delegate(conn, d, 10)
                            .await
                            .map(|r| r.id),
                    );
                }
                Ok(out)
            })
        })
        .await
        .unwrap();
    assert!(outcomes[..3].iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(
        conflict_code(outcomes[3].as_ref().unwrap_err()),
        "too_many_delegates"
    );
    assert_eq!(
        conflict_code(outcomes[4].as_ref().unwrap_err()),
        "not_found"
    );
    let a = anna.clone();
    let revoked = store
        .transact(move |conn| {
            Box::pin(async move { db::residents::revoke_delegate(conn, &a, "crd_d1", 20).await })
        })
        .await
        .unwrap();
    assert!(!revoked.active);
    assert_eq!(revoked.revoked_ms, Some(20));
    let mut conn = store.reader().await.unwrap();
    let cached = db::devices::cache_credentials(&mut conn, &site.locker_id)
        .await
        .unwrap();
    let delegates: Vec<_> = cached.iter().filter(|c| c.kind == "delegate").collect();
    assert_eq!(delegates.len(), 2, "the revoked code is gone");
    assert!(
        delegates
            .iter()
            .all(|c| c.compartments == vec![label.clone()])
    );
    assert_eq!(
        db::residents::delegates_of_resident(&mut conn, &anna)
            .await
            .unwrap()
            .len(),
        3
    );
    drop(conn);

    // A parcel room behind a door driven by the device.
    let room = NewRoom {
        id: "room_1".into(),
        site_id: site.site_id.clone(),
        name: "Mail room".into(),
        zones: vec![
            ("zone_a".into(), "A".into(), 1),
            ("zone_b".into(), "B".into(), 5),
        ],
    };
    let door = DoorRow {
        id: "door_room".into(),
        site_id: site.site_id.clone(),
        name: "Mail room door".into(),
        kind: "parcel_room".into(),
        fail_mode: "secure".into(),
        device_id: Some(DEVICE.into()),
        lock_output: Some(3),
        created_ms: 1,
        version: 1,
    };
    let path = PathRow {
        id: "dpath_room".into(),
        site_id: site.site_id.clone(),
        name: "Into the mail room".into(),
        doors: vec!["door_room".into()],
        created_ms: 1,
        version: 1,
    };
    store
        .transact(move |conn| {
            Box::pin(async move {
                db::rooms::create_room(conn, &room, 1).await?;
                db::access::add_door(conn, &door).await?;
                db::access::add_path(conn, &path).await?;
                db::rooms::set_room_path(conn, "room_1", "dpath_room").await
            })
        })
        .await
        .unwrap();
    let shelve = |i: u8, zone: &str| ShelveRequest {
        parcel_id: format!("par_room{i}"),
        room_id: "room_1".into(),
        zone: zone.into(),
        tracking_number: TrackingNumber::parse(&format!("ROOM{i:06}")).unwrap(),
        carrier: Some("dhl".into()),
        recipient: Recipient::Resident(jan.clone()),
        dims: Dimensions::new(300, 200, 200),
        temperature: TemperatureZone::Ambient,
        actor: "courier:test".into(),
        now: 100,
        room_code: NewGrant {
            id: format!("agr_room{i}"),
            site_id: site.site_id.clone(),
            kind: "room_code".into(),
            label: "room code".into(),
            host_resident_id: None,
            carrier: None,
            rule: GrantRule {
                doors: ["door_room".to_string()].into(),
                not_before_ms: 100,
                not_after_ms: 1_000_000,
                max_uses: Some(1),
                schedule: vec![],
            },
            pin_mac: [i; 32],
            macs: vec![(DEVICE.into(), [i; 32])],
            created_by: "test".into(),
            courier_id: None,
            room_id: Some("room_1".into()),
        },
    };
    let (first, second, third) = (shelve(1, "A"), shelve(2, "A"), shelve(3, "B"));
    let (a, b, c) = store
        .transact(move |conn| {
            Box::pin(async move {
                let a = db::rooms::shelve(conn, &first).await?;
                let b = db::rooms::shelve(conn, &second)
                    .await
                    .map(|_| ())
                    .unwrap_err();
                let c = db::rooms::shelve(conn, &third).await?;
                Ok((a, b, c))
            })
        })
        .await
        .unwrap();
    assert!(a.new_code);
    assert_eq!(a.grant_id.as_deref(), Some("agr_room1"));
    assert_eq!(conflict_code(&b), "zone_full");
    assert!(!c.new_code, "Jan's unused code covers the second parcel");
    assert_eq!(c.grant_id.as_deref(), Some("agr_room1"));
    let mut conn = store.reader().await.unwrap();
    let grant = db::access::grant(&mut conn, "agr_room1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grant.host_resident_id.as_deref(), Some(jan.as_str()));
    assert_eq!(
        db::rooms::shelf_of(&mut conn, "par_room3").await.unwrap(),
        Some(("room_1".into(), "B".into()))
    );
    drop(conn);

    // Jan goes in once: both parcels are collected and the code ends.
    let collected = store
        .transact(move |conn| {
            Box::pin(async move {
                db::access::record_access_use(conn, DEVICE, 1, "agr_room1", "door_room", 500)
                    .await?;
                db::rooms::room_entered(conn, "agr_room1", "door_room", "device:test", 500).await
            })
        })
        .await
        .unwrap();
    assert_eq!(collected.len(), 2);
    assert!(collected.iter().all(|p| p.state == ParcelState::PickedUp));
    let mut conn = store.reader().await.unwrap();
    let grant = db::access::grant(&mut conn, "agr_room1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(grant.revoked_ms, Some(500));
    let entries = db::rooms::entries_through(
        &mut conn,
        &site.site_id,
        &["room_code"],
        Some(&["door_room".to_string()]),
        0,
        1_000,
        10,
    )
    .await
    .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].host_resident_id.as_deref(), Some(jan.as_str()));
    assert!(
        db::rooms::entries_through(
            &mut conn,
            &site.site_id,
            &["courier_visit"],
            None,
            0,
            1_000,
            10
        )
        .await
        .unwrap()
        .is_empty()
    );
}

/// Invitations are spent once; ceremonies are taken once and expire; the
/// portal token is made once per resident.
pub async fn invitations_ceremonies_and_passkeys(config: StoreConfig) {
    use cubby_store as db;
    use cubby_store::passkeys::Holder::{Resident, Staff};
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 1, 1).await;
    let anna = site.residents[0].clone();
    let a = anna.clone();
    let outcome = store
        .transact(move |conn| {
            Box::pin(async move {
                db::passkeys::create_invite(conn, Resident, &[1; 32], &a, "manager:tok", 10, 100)
                    .await?;
                let live = db::passkeys::invite(conn, Resident, &[1; 32], 50).await?;
                let expired = db::passkeys::invite(conn, Resident, &[1; 32], 100).await?;
                let first = db::passkeys::spend_invite(conn, Resident, &[1; 32], 60).await?;
                let second = db::passkeys::spend_invite(conn, Resident, &[1; 32], 61).await?;
                let after = db::passkeys::invite(conn, Resident, &[1; 32], 62).await?;
                db::passkeys::save_ceremony(conn, "c1", "register", Some(&a), "{}", 10, 100)
                    .await?;
                let wrong_kind = db::passkeys::take_ceremony(conn, "c1", "sign_in", 20).await?;
                db::passkeys::save_ceremony(conn, "c2", "register", Some(&a), "{\"s\":1}", 10, 100)
                    .await?;
                let taken = db::passkeys::take_ceremony(conn, "c2", "register", 20).await?;
                let again = db::passkeys::take_ceremony(conn, "c2", "register", 21).await?;
                db::passkeys::save_ceremony(conn, "c3", "sign_in", None, "{}", 10, 100).await?;
                let late = db::passkeys::take_ceremony(conn, "c3", "sign_in", 100).await?;
                Ok((
                    live, expired, first, second, after, wrong_kind, taken, again, late,
                ))
            })
        })
        .await
        .unwrap();
    let (live, expired, first, second, after, wrong_kind, taken, again, late) = outcome;
    assert_eq!(live.as_deref(), Some(anna.as_str()));
    assert!(expired.is_none(), "expired");
    assert!(first && !second, "spent once");
    assert!(after.is_none());
    assert!(
        wrong_kind.is_none(),
        "a ceremony answers only its own kind (and is gone)"
    );
    assert_eq!(taken, Some((Some(anna.clone()), "{\"s\":1}".to_string())));
    assert!(again.is_none(), "single use");
    assert!(late.is_none(), "expired");

    let a = anna.clone();
    let (t1, t2, keys, found) = store
        .transact(move |conn| {
            Box::pin(async move {
                db::passkeys::add_passkey(conn, Resident, "cred-1", &a, "{\"k\":1}", 30).await?;
                let t1 =
                    db::passkeys::portal_token(conn, &a, "tok_p1", &[7; 32], "org_1", 30).await?;
                let t2 =
                    db::passkeys::portal_token(conn, &a, "tok_p2", &[8; 32], "org_1", 31).await?;
                db::passkeys::touch_passkey(conn, Resident, "cred-1", "{\"k\":2}", 40).await?;
                let keys = db::passkeys::passkeys_of(conn, Resident, &a).await?;
                let found = db::passkeys::passkey(conn, Resident, "cred-1").await?;
                Ok((t1, t2, keys, found))
            })
        })
        .await
        .unwrap();
    assert_eq!(
        (t1.as_str(), t2.as_str()),
        ("tok_p1", "tok_p1"),
        "one portal token"
    );
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].last_used_ms, Some(40));
    assert_eq!(found, Some((anna.clone(), "{\"k\":2}".to_string())));

    // Staff tokens hold passkeys under the same rules in their own tables;
    // an invitation of one kind is nothing to the other. The last passkey
    // cannot be removed, nor anyone else's.
    let a = anna.clone();
    let outcome = store
        .transact(move |conn| {
            Box::pin(async move {
                cubby_store::tokens::create_token(
                    conn,
                    &cubby_store::tokens::NewToken {
                        id: "tok_staff",
                        mac: &[9; 32],
                        org_id: None,
                        role: cubby_domain::model::Role::Manager,
                        carrier: None,
                        label: "Maria",
                        expires_ms: None,
                        site_ids: None,
                    },
                    1,
                )
                .await?;
                db::passkeys::create_invite(
                    conn,
                    Staff,
                    &[2; 32],
                    "tok_staff",
                    "admin:tok",
                    10,
                    100,
                )
                .await?;
                let as_portal = db::passkeys::invite(conn, Resident, &[2; 32], 50).await?;
                let as_staff = db::passkeys::invite(conn, Staff, &[2; 32], 50).await?;
                db::passkeys::add_passkey(conn, Staff, "cred-s1", "tok_staff", "{}", 30).await?;
                let last = db::passkeys::remove_passkey(conn, Staff, "tok_staff", "cred-s1").await;
                db::passkeys::add_passkey(conn, Staff, "cred-s2", "tok_staff", "{}", 31).await?;
                let not_theirs =
                    db::passkeys::remove_passkey(conn, Staff, "tok_staff", "cred-1").await?;
                let not_staff = db::passkeys::passkey(conn, Staff, "cred-1").await?;
                let removed =
                    db::passkeys::remove_passkey(conn, Staff, "tok_staff", "cred-s1").await?;
                let left = db::passkeys::passkeys_of(conn, Staff, "tok_staff").await?;
                let resident_keys = db::passkeys::passkeys_of(conn, Resident, &a).await?;
                let staff = db::passkeys::staff_token(conn, "tok_staff").await?;
                let portal = db::passkeys::staff_token(conn, "tok_p1").await?;
                Ok((
                    as_portal,
                    as_staff,
                    last.is_err(),
                    not_theirs,
                    not_staff,
                    removed,
                    left.len(),
                    resident_keys.len(),
                    staff.map(|t| t.label),
                    portal.is_none(),
                ))
            })
        })
        .await
        .unwrap();
    assert_eq!(
        outcome,
        (
            None,
            Some("tok_staff".to_string()),
            true,
            false,
            None,
            true,
            1,
            1,
            Some("Maria".to_string()),
            true
        )
    );
}

/// Staff find parcels by tracking number, unit or a word of the name; the
/// typed text is never a pattern.
pub async fn parcels_are_found_by_tracking_unit_or_name(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 2, 2).await;
    deposit(&store, &site, 0).await.unwrap();
    let mut conn = store.reader().await.unwrap();
    for (q, n) in [
        ("conf000000", 1),
        ("U0", 1),
        ("U1", 0),
        ("person", 1),
        ("Person 0", 1),
        ("%", 0),
        ("_", 0),
        ("nobody", 0),
    ] {
        let found = db::parcels::search_parcels(&mut conn, &site.site_id, q, 10)
            .await
            .unwrap();
        assert_eq!(found.len(), n, "{q:?}");
    }
    // The report queries run alike on both backends.
    assert_eq!(
        db::reports::carrier_compliance(&mut conn, &site.site_id, 0)
            .await
            .unwrap(),
        vec![(None, 1, 0, 0)]
    );
    assert_eq!(
        db::reports::self_service_pickups(&mut conn, &site.site_id, 0)
            .await
            .unwrap(),
        0
    );
}
