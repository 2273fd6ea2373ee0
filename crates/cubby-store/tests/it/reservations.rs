//! Reservations on both backends: holds are distinct, within the site's
//! share, never given to another deposit, taken by the reservation's own,
//! released at the window's end and on cancel, even with two instances
//! planning and depositing at once.

use std::collections::BTreeSet;

use cubby_domain::dims::Dimensions;
use cubby_domain::model::TemperatureZone;
use cubby_domain::reservation::{ReservationRules, Wanted};
use cubby_domain::tracking::TrackingNumber;
use cubby_store as db;
use cubby_store::parcels::{DepositRequest, Recipient};
use cubby_store::reservations::{Created, NewReservation, WantedParcel};
use cubby_store::{OpError, Store, StoreConfig};

use crate::{Site, secrets, seed};

const WINDOW_END: i64 = 50_000;

fn rules(percent: u32) -> ReservationRules {
    ReservationRules {
        max_held_percent: percent,
        ..ReservationRules::default()
    }
}

fn wanted(tracking: Option<&str>) -> WantedParcel {
    WantedParcel {
        wanted: Wanted {
            dims: Dimensions::new(300, 100, 200),
            temperature: TemperatureZone::Ambient,
        },
        tracking_number: tracking.map(|t| TrackingNumber::parse(t).unwrap()),
    }
}

async fn reserve(
    store: &Store,
    site: &Site,
    n: usize,
    parcels: Vec<WantedParcel>,
    percent: u32,
) -> Result<Created, OpError> {
    let r = NewReservation {
        id: format!("rsv_{n:032}"),
        site_id: site.site_id.clone(),
        carrier: "dhl".into(),
        from_ms: 1_000,
        to_ms: WINDOW_END,
        parcels,
        rules: rules(percent),
        slot: None,
        created_by: "carrier:dhl".into(),
        now: 1_000 + n as i64,
    };
    store
        .transact(move |conn| Box::pin(async move { db::reservations::create(conn, &r).await }))
        .await
}

async fn deposit(
    store: &Store,
    site: &Site,
    i: usize,
    carrier: &str,
    reservation: Option<&str>,
    now: i64,
) -> Result<String, OpError> {
    let req = DepositRequest {
        parcel_id: format!("par_{i:032}"),
        locker_id: site.locker_id.clone(),
        tracking_number: TrackingNumber::parse(&format!("RSV{i:06}")).unwrap(),
        carrier: Some(carrier.into()),
        recipient: Recipient::Resident(site.residents[i].clone()),
        dims: Dimensions::new(300, 100, 200),
        weight_g: None,
        temperature: TemperatureZone::Ambient,
        actor: format!("courier:{i}"),
        now,
        placed_at: None,
        reservation_id: reservation.map(str::to_string),
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

async fn live_holds(store: &Store, site: &Site) -> Vec<String> {
    let mut conn = store.reader().await.unwrap();
    db::reservations::held_at_site(&mut conn, &site.site_id, 0)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

pub async fn concurrent_reservations_never_over_hold(config: StoreConfig) {
    // Two stores on one database stand for two server instances.
    let a = Store::open(&config).await.unwrap();
    let b = Store::open(&config).await.unwrap();
    let site = std::sync::Arc::new(seed(&a, 20, 20).await);
    let mut tasks = Vec::new();
    for n in 0..8 {
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        let site = site.clone();
        tasks.push(tokio::spawn(async move {
            let parcels = (0..3).map(|_| wanted(None)).collect();
            reserve(&store, &site, n, parcels, 50)
                .await
                .map(|c| (c.reservation.holds.len(), c.refused.len()))
        }));
    }
    // Unreserved deposits race the planners for the same compartments.
    let mut deposits = Vec::new();
    for i in 0..6 {
        let store = if i % 2 == 0 { b.clone() } else { a.clone() };
        let site = site.clone();
        deposits.push(tokio::spawn(async move {
            deposit(&store, &site, i, "ups", None, 2_000).await
        }));
    }
    let (mut held, mut refused) = (0, 0);
    for t in tasks {
        let (h, r) = t.await.unwrap().unwrap();
        assert_eq!(h + r, 3, "every parcel is answered");
        held += h;
        refused += r;
    }
    let mut filled = BTreeSet::new();
    for t in deposits {
        filled.insert(t.await.unwrap().unwrap());
    }
    // Half of 20 compartments may be held: 10 of the 24 parcels asked for.
    assert_eq!((held, refused), (10, 14));
    let holds = live_holds(&a, &site).await;
    assert_eq!(holds.len(), 10, "each hold on its own compartment");
    assert!(
        holds.iter().all(|h| !filled.contains(h)),
        "no deposit landed in a held compartment: {holds:?} {filled:?}"
    );
}

pub async fn holds_go_to_their_reservation_and_end_with_the_window(config: StoreConfig) {
    let store = Store::open(&config).await.unwrap();
    let site = seed(&store, 6, 9).await;
    let parcels = vec![
        wanted(Some("RSV000001")),
        wanted(None),
        wanted(None),
        wanted(None),
    ];
    let created = reserve(&store, &site, 1, parcels, 50).await.unwrap();
    // 50 % of 6 compartments: three held, the fourth parcel refused.
    assert_eq!(created.reservation.holds.len(), 3);
    let refused: Vec<_> = created
        .refused
        .iter()
        .map(|(i, r)| (*i, r.as_str()))
        .collect();
    assert_eq!(refused, [(3, "site_share_reached")]);
    let held: BTreeSet<String> = created
        .reservation
        .holds
        .iter()
        .map(|h| h.compartment_id.clone())
        .collect();
    let rid = created.reservation.id.clone();

    // Another carrier's deposits take the three free compartments, then
    // nothing: held ones are not given away.
    for i in 3..6 {
        let c = deposit(&store, &site, i, "ups", None, 2_000).await.unwrap();
        assert!(!held.contains(&c), "{c} is held");
    }
    let full = deposit(&store, &site, 6, "ups", None, 2_000).await;
    assert!(
        matches!(full, Err(OpError::NoCompartmentFits { .. })),
        "{full:?}"
    );
    // Another carrier cannot name the reservation.
    let stolen = deposit(&store, &site, 7, "ups", Some(&rid), 2_000).await;
    assert!(
        matches!(stolen, Err(OpError::NotFound { .. })),
        "{stolen:?}"
    );

    // The tracking number given with the reservation finds its hold without
    // naming it; naming the reservation takes another.
    let tracked = deposit(&store, &site, 1, "dhl", None, 3_000).await.unwrap();
    let named = deposit(&store, &site, 2, "dhl", Some(&rid), 3_000)
        .await
        .unwrap();
    assert!(held.contains(&tracked) && held.contains(&named) && tracked != named);
    let mut conn = store.reader().await.unwrap();
    let r = db::reservations::reservation(&mut conn, &rid)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    let first = &r.holds[0];
    assert_eq!(
        (
            first.state.as_str(),
            first.compartment_id.as_str(),
            first.parcel_id.as_deref()
        ),
        (
            "used",
            tracked.as_str(),
            Some(format!("par_{:032}", 1).as_str())
        )
    );
    let states: Vec<&str> = r.holds.iter().map(|h| h.state.as_str()).collect();
    assert_eq!(states, ["used", "used", "held"]);

    // At the window's end the unused hold is released, and a deposit naming
    // the reservation is told so.
    let released = store
        .transact(|conn| {
            Box::pin(async move { db::reservations::release_ended(conn, None, WINDOW_END).await })
        })
        .await
        .unwrap();
    assert_eq!(released, 1);
    assert!(live_holds(&store, &site).await.is_empty());
    let late = deposit(&store, &site, 8, "dhl", Some(&rid), WINDOW_END + 1).await;
    assert!(
        matches!(&late, Err(OpError::Conflict { code, .. }) if code.name() == "reservation_ended"),
        "{late:?}"
    );
    // The released compartment is free again, for anyone.
    deposit(&store, &site, 6, "ups", None, WINDOW_END + 2)
        .await
        .unwrap();

    // Nothing is free now: a reservation holds nothing and says why.
    let none = reserve(&store, &site, 2, vec![wanted(None)], 90)
        .await
        .unwrap();
    assert!(none.reservation.holds.is_empty());
    assert_eq!(none.refused[0].1.as_str(), "no_free_compartment");
    // Cancelling twice changes nothing the second time.
    for _ in 0..2 {
        let id = none.reservation.id.clone();
        let cancelled = store
            .transact(move |conn| {
                Box::pin(async move { db::reservations::cancel(conn, &id, 9_000).await })
            })
            .await
            .unwrap();
        assert_eq!(cancelled.cancelled_ms, Some(9_000));
    }
}
