//! Returns and shipments on both backends: a drop-off code is unique in its
//! locker, listed for the locker's agent only while it may be used, recorded
//! once where the locker put the parcel, refused when it cannot be
//! reconciled, and the parcel waits in the return queue for its carrier.

use cubby_domain::codes::Code;
use cubby_domain::dims::Dimensions;
use cubby_domain::lifecycle::{ParcelState, Transition};
use cubby_domain::model::TemperatureZone;
use cubby_store as db;
use cubby_store::parcels::{DropOffSecret, Sending, SendingAnnouncement};
use cubby_store::{OpError, Store, StoreConfig};

use crate::{Site, seed};

fn announcement(site: &Site, n: u8, dims: Dimensions, mac_byte: u8) -> SendingAnnouncement {
    SendingAnnouncement {
        parcel_id: format!("par_s{n:031}"),
        resident_id: site.residents[0].clone(),
        locker_id: site.locker_id.clone(),
        sending: Sending::Return,
        tracking_number: format!("CUBBYREF{n:04}"),
        carrier: "dhl".into(),
        dims,
        weight_g: None,
        temperature: TemperatureZone::Ambient,
        secret: DropOffSecret {
            credential_id: format!("crd_d{n}"),
            mac: [mac_byte; 32],
            local_mac: [mac_byte.wrapping_add(100); 32],
        },
        expires_ms: 100_000,
        actor: "resident".into(),
        now: 1_000 + i64::from(n),
    }
}

async fn announce(
    store: &Store,
    a: SendingAnnouncement,
) -> Result<db::parcels::ParcelRow, OpError> {
    store
        .transact(move |conn| {
            Box::pin(async move { db::parcels::announce_sending(conn, &a).await })
        })
        .await
}

async fn report(
    store: &Store,
    site: &Site,
    credential: &str,
    parcel: &str,
    label: &str,
) -> Option<String> {
    let (l, c, p, label) = (
        site.locker_id.clone(),
        credential.to_string(),
        parcel.to_string(),
        label.to_string(),
    );
    store
        .transact(move |conn| {
            Box::pin(async move {
                db::parcels::drop_off_reported_by_device(
                    conn,
                    &l,
                    &c,
                    &p,
                    &label,
                    "device:test",
                    5_000,
                )
                .await
            })
        })
        .await
        .unwrap()
}

pub async fn returns_are_dropped_off_once_and_wait_for_their_carrier(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 2, 1).await;
    let small = Dimensions::new(300, 60, 200);
    let first = announce(&store, announcement(&site, 1, small, 1))
        .await
        .unwrap();
    assert_eq!(first.state, ParcelState::ReturnAnnounced);
    // The same code's MAC twice in one locker is a collision, answered for a retry.
    let collided = announce(&store, announcement(&site, 2, small, 1)).await;
    assert!(
        matches!(
            &collided,
            Err(OpError::Conflict {
                code: Code::CredentialCollision,
                ..
            })
        ),
        "{collided:?}"
    );
    // Nothing of the collided attempt stayed.
    let mut conn = store.reader().await.unwrap();
    assert!(
        db::parcels::parcel(&mut conn, &format!("par_s{:031}", 2))
            .await
            .unwrap()
            .is_none()
    );
    // Too large for every door: refused before anything is stored.
    let huge = announce(
        &store,
        announcement(&site, 3, Dimensions::new(2000, 2000, 2000), 3),
    )
    .await;
    assert!(
        matches!(huge, Err(OpError::NoCompartmentFits { .. })),
        "{huge:?}"
    );
    let second = announce(&store, announcement(&site, 4, small, 4))
        .await
        .unwrap();

    let listed = db::parcels::cache_drop_offs(&mut conn, &site.locker_id, 2_000)
        .await
        .unwrap();
    let ids: Vec<&str> = listed.iter().map(|d| d.parcel_id.as_str()).collect();
    assert_eq!(ids, [first.id.as_str(), second.id.as_str()]);
    assert_eq!(
        listed[0].local_mac, [101; 32],
        "the locker gets only its own MAC"
    );
    // Expired codes are not listed.
    assert!(
        db::parcels::cache_drop_offs(&mut conn, &site.locker_id, 100_000)
            .await
            .unwrap()
            .is_empty()
    );
    drop(conn);

    // The locker reports the first drop-off: recorded in that door, once.
    assert_eq!(
        report(&store, &site, "crd_d1", &first.id, "D00").await,
        None
    );
    let mut conn = store.reader().await.unwrap();
    let p = db::parcels::parcel(&mut conn, &first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (p.state, p.compartment_label.as_deref()),
        (ParcelState::DroppedOff, Some("D00"))
    );
    let queue = db::parcels::awaiting_carrier_at_locker(&mut conn, &site.locker_id)
        .await
        .unwrap();
    assert_eq!(
        queue.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        [first.id.as_str()]
    );
    let listed = db::parcels::cache_drop_offs(&mut conn, &site.locker_id, 2_000)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "a used code leaves the cache");
    drop(conn);
    assert!(
        report(&store, &site, "crd_d1", &first.id, "D00")
            .await
            .is_some(),
        "twice is unreconciled"
    );
    // Into a door the server knows is taken, or with another parcel's code: unreconciled.
    assert!(
        report(&store, &site, "crd_d4", &second.id, "D00")
            .await
            .is_some()
    );
    assert!(
        report(&store, &site, "crd_d1", &second.id, "D01")
            .await
            .is_some()
    );
    let mut conn = store.reader().await.unwrap();
    let p = db::parcels::parcel(&mut conn, &second.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.state, ParcelState::ReturnAnnounced);
    drop(conn);

    // A cancelled one ends its code; the carrier takes the dropped one and the door frees.
    let (s, f) = (second.id.clone(), first.id.clone());
    store
        .transact(move |conn| {
            Box::pin(async move {
                db::parcels::transition(
                    conn,
                    &s,
                    Transition::Cancel,
                    None,
                    "resident",
                    "changed mind",
                    6_000,
                )
                .await?;
                db::parcels::transition(
                    conn,
                    &f,
                    Transition::Return,
                    None,
                    "carrier:dhl",
                    "collected",
                    7_000,
                )
                .await
            })
        })
        .await
        .unwrap();
    let mut conn = store.reader().await.unwrap();
    assert!(
        db::parcels::cache_drop_offs(&mut conn, &site.locker_id, 2_000)
            .await
            .unwrap()
            .is_empty()
    );
    let view = db::lockers::allocation_view(&mut conn, &site.locker_id)
        .await
        .unwrap();
    let taken: Vec<(&str, bool)> = view
        .iter()
        .map(|c| (c.label.as_str(), c.contents.is_some()))
        .collect();
    // D00 is free again; D01, where the locker put something nobody could
    // claim, stays out of allocation until staff look.
    assert_eq!(taken, [("D00", false), ("D01", true)]);
    let sent = db::parcels::sendings_of_resident(&mut conn, &site.residents[0])
        .await
        .unwrap();
    let states: Vec<ParcelState> = sent.iter().map(|(p, _, _)| p.state).collect();
    assert_eq!(
        states,
        [ParcelState::Cancelled, ParcelState::ReturnedToCarrier]
    );
}
