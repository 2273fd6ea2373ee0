//! Compartment allocation over random lockers, checked against the rules of
//! `allocation.rs` written out directly.

use std::collections::BTreeSet;

use cubby_domain::allocation::{
    Allocation, CarrierQuotas, CompartmentView, Contents, NoCompartmentFits, ParcelRequest, Visit,
    allocate, rank,
};
use cubby_domain::dims::{Dimensions, stack_fits};
use cubby_domain::model::{CompartmentStatus, ReachBand, TemperatureZone};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

const RECIPIENTS: &[&str] = &["r0", "r1", "r2", "r3", "r4"];
const CARRIERS: &[&str] = &["c0", "c1", "c2"];
const DEPOSITORS: &[&str] = &["courier:tok_a", "courier:tok_b", "manager:tok_m"];
const HOUR: i64 = 3_600_000;

fn dims(side: std::ops::RangeInclusive<u32>) -> impl Strategy<Value = Dimensions> {
    (side.clone(), side.clone(), side).prop_map(|(w, h, d)| Dimensions::new(w, h, d))
}

fn compartment_dims() -> BoxedStrategy<Dimensions> {
    prop_oneof![
        3 => dims(50..=700),
        // Standard A/B/C doors, so equal volumes (label tie-breaks) happen too.
        1 => select(vec![
            Dimensions::new(380, 80, 640),
            Dimensions::new(380, 190, 640),
            Dimensions::new(380, 410, 640),
        ]),
    ]
    .boxed()
}

fn zone_weighted() -> impl Strategy<Value = TemperatureZone> {
    // Ambient-heavy, so small lockers often lack a chilled or frozen compartment.
    prop_oneof![
        6 => Just(TemperatureZone::Ambient),
        2 => Just(TemperatureZone::Chilled),
        1 => Just(TemperatureZone::Frozen),
    ]
}

fn status() -> impl Strategy<Value = CompartmentStatus> {
    prop_oneof![
        6 => Just(CompartmentStatus::Available),
        1 => Just(CompartmentStatus::Reserved),
        1 => Just(CompartmentStatus::OutOfService),
    ]
}

fn contents() -> impl Strategy<Value = Contents> {
    (
        select(RECIPIENTS),
        option::of(select(CARRIERS)),
        vec(dims(20..=250), 1..=3),
        option::weighted(0.8, select(DEPOSITORS)),
        option::weighted(0.9, 0i64..=6 * HOUR),
    )
        .prop_map(
            |(recipient, carrier, parcels, opened_by, opened_ms)| Contents {
                recipient_key: recipient.to_string(),
                carrier: carrier.map(str::to_string),
                parcels,
                opened_by: opened_by.map(str::to_string),
                opened_ms,
            },
        )
}

fn lockers() -> impl Strategy<Value = Vec<CompartmentView>> {
    vec(
        (
            compartment_dims(),
            zone_weighted(),
            0u32..=2_000,
            status(),
            option::weighted(0.5, contents()),
            select(vec!["A", "B", "C"]),
        ),
        1..40,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(
                |(i, (inner, temperature, height, status, contents, column))| CompartmentView {
                    id: format!("cmp_{i}"),
                    label: format!("{column}{:02}", 40 - i),
                    inner,
                    temperature,
                    height_above_floor_mm: height,
                    status,
                    contents,
                },
            )
            .collect()
    })
}

fn parcels() -> impl Strategy<Value = ParcelRequest> {
    (
        prop_oneof![4 => dims(20..=250), 2 => dims(20..=450), 1 => dims(20..=750)],
        select(TemperatureZone::ALL),
        option::weighted(0.8, select(vec!["r0", "r1", "r2"])),
        option::of(select(CARRIERS)),
        option::of(
            (0u32..=1_500, 0u32..=1_500)
                .prop_map(|(min, span)| ReachBand::new(min, min + span).unwrap()),
        ),
        option::weighted(
            0.9,
            (select(DEPOSITORS), 0i64..=6 * HOUR).prop_map(|(d, now_ms)| Visit {
                depositor: d.to_string(),
                now_ms,
            }),
        ),
    )
        .prop_map(
            |(dims, temperature, recipient, carrier, reach, visit)| ParcelRequest {
                dims,
                temperature,
                recipient_key: recipient.map(str::to_string),
                carrier: carrier.map(str::to_string),
                reach,
                visit,
            },
        )
}

fn quotas() -> impl Strategy<Value = CarrierQuotas> {
    vec(option::of(0u32..=5), CARRIERS.len()).prop_map(|limits| {
        CARRIERS
            .iter()
            .zip(limits)
            .filter_map(|(c, l)| l.map(|l| (c.to_string(), l)))
            .collect()
    })
}

// ---- The rules, written out. ----

fn in_zone(p: &ParcelRequest, c: &CompartmentView) -> bool {
    c.temperature == p.temperature
}

fn within_reach(p: &ParcelRequest, c: &CompartmentView) -> bool {
    match p.reach {
        None => true,
        Some(band) => {
            band.min_mm <= c.height_above_floor_mm && c.height_above_floor_mm <= band.max_mm
        }
    }
}

/// The same depositor opened it during the same visit (four hours at most,
/// never in the future).
fn same_visit(p: &ParcelRequest, ct: &Contents) -> bool {
    match (&p.visit, &ct.opened_by, ct.opened_ms) {
        (Some(v), Some(by), Some(at)) => {
            *by == v.depositor && at <= v.now_ms && v.now_ms - at <= 4 * HOUR
        }
        _ => false,
    }
}

/// The recipient's own compartment, opened by this depositor during this
/// visit, that can take the parcel stacked on top.
fn can_consolidate(p: &ParcelRequest, c: &CompartmentView) -> bool {
    let (Some(key), Some(ct)) = (&p.recipient_key, &c.contents) else {
        return false;
    };
    if !same_visit(p, ct) {
        return false;
    }
    let mut all = ct.parcels.clone();
    all.push(p.dims);
    in_zone(p, c)
        && c.status == CompartmentStatus::Available
        && &ct.recipient_key == key
        && stack_fits(&all, &c.inner)
}

/// An empty, usable compartment of the right zone that the parcel fits in.
fn empty_fit(p: &ParcelRequest, c: &CompartmentView) -> bool {
    in_zone(p, c)
        && c.status == CompartmentStatus::Available
        && c.contents.is_none()
        && p.dims.fits_in(&c.inner)
}

fn held(carrier: &str, cs: &[CompartmentView]) -> u32 {
    cs.iter()
        .filter(|c| {
            c.contents
                .as_ref()
                .is_some_and(|ct| ct.carrier.as_deref() == Some(carrier))
        })
        .count() as u32
}

/// `Some((carrier, limit, held))` when the parcel's carrier has a quota.
fn quota(
    p: &ParcelRequest,
    cs: &[CompartmentView],
    q: &CarrierQuotas,
) -> Option<(String, u32, u32)> {
    let carrier = p.carrier.as_ref()?;
    let limit = *q.get(carrier)?;
    Some((carrier.clone(), limit, held(carrier, cs)))
}

fn quota_reached(p: &ParcelRequest, cs: &[CompartmentView], q: &CarrierQuotas) -> bool {
    quota(p, cs, q).is_some_and(|(_, limit, held)| held >= limit)
}

fn preference(p: &ParcelRequest, c: &CompartmentView) -> (bool, u64, String) {
    (!within_reach(p, c), c.inner.volume_mm3(), c.label.clone())
}

fn find<'a>(cs: &'a [CompartmentView], id: &str) -> &'a CompartmentView {
    cs.iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("allocated compartment {id} does not exist"))
}

/// Everything that must hold for one chosen compartment.
fn check_choice(p: &ParcelRequest, cs: &[CompartmentView], q: &CarrierQuotas, a: &Allocation) {
    let c = find(cs, &a.compartment_id);
    assert_eq!(a.label, c.label);
    assert_eq!(c.temperature, p.temperature, "wrong zone");
    assert_eq!(c.status, CompartmentStatus::Available, "not available");
    assert_eq!(a.within_reach, within_reach(p, c), "within_reach flag");
    if a.consolidated {
        let ct = c
            .contents
            .as_ref()
            .expect("consolidated into an empty compartment");
        assert_eq!(
            p.recipient_key.as_deref(),
            Some(ct.recipient_key.as_str()),
            "someone else's compartment"
        );
        assert!(
            same_visit(p, ct),
            "a compartment another depositor opened, or from another visit: {ct:?}"
        );
        let mut all = ct.parcels.clone();
        all.push(p.dims);
        assert!(
            stack_fits(&all, &c.inner),
            "consolidated parcels do not stack in {:?}",
            c.inner
        );
    } else {
        assert!(
            p.dims.fits_in(&c.inner),
            "{:?} does not fit {:?}",
            p.dims,
            c.inner
        );
        assert!(c.contents.is_none(), "not empty: {:?}", c.contents);
        if let Some((carrier, limit, held)) = quota(p, cs, q) {
            assert!(
                held < limit,
                "carrier {carrier} holds {held} of {limit} but got a new compartment"
            );
        }
    }
}

proptest! {
    #![proptest_config(crate::config(256))]

    #[test]
    fn allocation_follows_the_rules(cs in lockers(), p in parcels(), q in quotas()) {
        let result = allocate(&p, &cs, &q);
        let own: Vec<&CompartmentView> = cs.iter().filter(|c| can_consolidate(&p, c)).collect();
        let empty: Vec<&CompartmentView> = cs.iter().filter(|c| empty_fit(&p, c)).collect();
        let reached = quota_reached(&p, &cs, &q);

        match &result {
            Ok(a) => {
                check_choice(&p, &cs, &q, a);
                let chosen = find(&cs, &a.compartment_id);
                if a.consolidated {
                    // Among own compartments: in reach first, then smallest, then lowest label.
                    for o in &own {
                        prop_assert!(preference(&p, chosen) <= preference(&p, o),
                            "consolidated into {} but {} is preferable", chosen.label, o.label);
                    }
                } else {
                    // Consolidation is preferred over a new compartment.
                    prop_assert!(own.is_empty(), "took empty {} although own {} could take it", chosen.label, own[0].label);
                    let vol = chosen.inner.volume_mm3();
                    for e in &empty {
                        // Smallest fit among compartments with the same reach value.
                        if within_reach(&p, e) == a.within_reach {
                            prop_assert!(e.inner.volume_mm3() >= vol,
                                "{} ({} mm³) chosen over smaller {} ({} mm³)", chosen.label, vol, e.label, e.inner.volume_mm3());
                            if e.inner.volume_mm3() == vol {
                                prop_assert!(chosen.label <= e.label, "tie: {} chosen over {}", chosen.label, e.label);
                            }
                        }
                        // In reach is preferred.
                        prop_assert!(a.within_reach || !within_reach(&p, e), "{} out of reach chosen over {} in reach", chosen.label, e.label);
                        if p.reach.is_none() {
                            prop_assert!(e.inner.volume_mm3() >= vol, "{} chosen over smaller {}", chosen.label, e.label);
                        }
                    }
                }
            }
            Err(err) => {
                // Never refuse while something acceptable exists.
                prop_assert!(own.is_empty(), "{:?} although {} could consolidate", err, own[0].label);
                prop_assert!(reached || empty.is_empty(), "{:?} although {} is free and fits", err, empty[0].label);
                let zone_cs: Vec<&CompartmentView> = cs.iter().filter(|c| in_zone(&p, c)).collect();
                match err {
                    NoCompartmentFits::NoSuchZone { zone } => {
                        prop_assert_eq!(*zone, p.temperature);
                        prop_assert!(zone_cs.is_empty(), "NoSuchZone but {} is {}", zone_cs[0].label, zone);
                    }
                    NoCompartmentFits::TooLarge { zone } => {
                        prop_assert_eq!(*zone, p.temperature);
                        prop_assert!(!zone_cs.is_empty(), "TooLarge for a zone with no compartments");
                        prop_assert!(zone_cs.iter().all(|c| !p.dims.fits_in(&c.inner)), "TooLarge but something fits");
                    }
                    NoCompartmentFits::AllOccupied { zone } => {
                        prop_assert_eq!(*zone, p.temperature);
                        for c in zone_cs.iter().filter(|c| p.dims.fits_in(&c.inner)) {
                            prop_assert!(c.status != CompartmentStatus::Available || c.contents.is_some(),
                                "AllOccupied but {} is available and empty", c.label);
                        }
                    }
                    NoCompartmentFits::CarrierQuotaReached { carrier, limit } => {
                        prop_assert_eq!(p.carrier.as_ref(), Some(carrier));
                        prop_assert_eq!(q.get(carrier), Some(limit));
                        let held = held(carrier, &cs);
                        prop_assert!(held >= *limit, "quota {} but {} holds only {}", limit, carrier, held);
                    }
                }
            }
        }
    }

    #[test]
    fn rank_lists_every_acceptable_compartment_once_best_first(cs in lockers(), p in parcels(), q in quotas()) {
        let ranked = rank(&p, &cs, &q);
        prop_assert_eq!(ranked.clone().map(|r| r[0].clone()), allocate(&p, &cs, &q));
        let Ok(ranked) = ranked else { return Ok(()) };
        prop_assert!(!ranked.is_empty());

        let ids: BTreeSet<&str> = ranked.iter().map(|a| a.compartment_id.as_str()).collect();
        prop_assert_eq!(ids.len(), ranked.len(), "duplicate compartment in {:?}", ranked);

        let mut expected: BTreeSet<&str> = cs.iter().filter(|c| can_consolidate(&p, c)).map(|c| c.id.as_str()).collect();
        if !quota_reached(&p, &cs, &q) {
            expected.extend(cs.iter().filter(|c| empty_fit(&p, c)).map(|c| c.id.as_str()));
        }
        prop_assert_eq!(&ids, &expected);

        for a in &ranked {
            check_choice(&p, &cs, &q, a);
        }
        for pair in ranked.windows(2) {
            let (x, y) = (&pair[0], &pair[1]);
            prop_assert!(x.consolidated || !y.consolidated, "consolidation must come first: {:?}", ranked);
            if x.consolidated == y.consolidated {
                prop_assert!(
                    preference(&p, find(&cs, &x.compartment_id)) < preference(&p, find(&cs, &y.compartment_id)),
                    "{} ranked before {}", x.label, y.label
                );
            }
        }
    }

    #[test]
    fn fits_in_is_some_axis_aligned_rotation(parcel in dims(1..=800), inner in dims(1..=800)) {
        let (w, h, d) = (inner.width_mm, inner.height_mm, inner.depth_mm);
        let [a, b, c] = [parcel.width_mm, parcel.height_mm, parcel.depth_mm];
        let rotations = [(a, b, c), (a, c, b), (b, a, c), (b, c, a), (c, a, b), (c, b, a)];
        let brute = rotations.iter().any(|&(x, y, z)| x <= w && y <= h && z <= d);
        prop_assert_eq!(parcel.fits_in(&inner), brute);
    }
}

#[test]
fn prefers_consolidation_then_smallest_fit_then_label() {
    let cv =
        |id: &str, label: &str, inner: Dimensions, contents: Option<Contents>| CompartmentView {
            id: id.into(),
            label: label.into(),
            inner,
            temperature: TemperatureZone::Ambient,
            height_above_floor_mm: 500,
            status: CompartmentStatus::Available,
            contents,
        };
    let big = Dimensions::new(380, 410, 640);
    let small = Dimensions::new(380, 190, 640);
    let parcel = ParcelRequest {
        dims: Dimensions::new(300, 80, 400),
        temperature: TemperatureZone::Ambient,
        recipient_key: Some("r1".into()),
        carrier: Some("c0".into()),
        reach: None,
        visit: Some(Visit {
            depositor: "courier:tok_a".into(),
            now_ms: HOUR,
        }),
    };
    let mine = Contents {
        recipient_key: "r1".into(),
        carrier: Some("c0".into()),
        parcels: vec![Dimensions::new(300, 80, 400)],
        opened_by: Some("courier:tok_a".into()),
        opened_ms: Some(HOUR - 60_000),
    };
    let cs = vec![
        cv("x", "B02", small, None),
        cv("y", "B01", small, None),
        cv("z", "A01", big, None),
        cv("w", "C01", big, Some(mine)),
    ];
    let q = CarrierQuotas::new();
    let a = allocate(&parcel, &cs, &q).unwrap();
    assert_eq!((a.compartment_id.as_str(), a.consolidated), ("w", true));
    let empty_only = &cs[..3];
    let a = allocate(&parcel, empty_only, &q).unwrap();
    assert_eq!((a.compartment_id.as_str(), a.consolidated), ("y", false));
    let q: CarrierQuotas = [("c0".to_string(), 0)].into_iter().collect();
    assert_eq!(
        allocate(&parcel, empty_only, &q),
        Err(NoCompartmentFits::CarrierQuotaReached {
            carrier: "c0".into(),
            limit: 0
        })
    );
}

/// A courier is only ever given empty compartments or the ones it filled
/// itself in this visit: never one another depositor opened (another
/// carrier's parcels for the same resident), nor its own from an earlier
/// visit.
#[test]
fn a_depositor_never_shares_a_compartment_it_did_not_open_in_this_visit() {
    let door = |id: &str, label: &str, contents: Option<Contents>| CompartmentView {
        id: id.into(),
        label: label.into(),
        inner: Dimensions::new(380, 410, 640),
        temperature: TemperatureZone::Ambient,
        height_above_floor_mm: 500,
        status: CompartmentStatus::Available,
        contents,
    };
    let held = |by: Option<&str>, at: Option<i64>| Contents {
        recipient_key: "r1".into(),
        carrier: Some("dhl".into()),
        parcels: vec![Dimensions::new(300, 80, 400)],
        opened_by: by.map(str::to_string),
        opened_ms: at,
    };
    let ups = |visit: Option<Visit>| ParcelRequest {
        dims: Dimensions::new(300, 80, 400),
        temperature: TemperatureZone::Ambient,
        recipient_key: Some("r1".into()),
        carrier: Some("ups".into()),
        reach: None,
        visit,
    };
    let now = 10 * HOUR;
    let visit = |who: &str| {
        Some(Visit {
            depositor: who.into(),
            now_ms: now,
        })
    };
    let q = CarrierQuotas::new();
    for (contents, parcel, shared) in [
        // The DHL courier's compartment: the UPS courier gets the empty door.
        (
            held(Some("courier:dhl"), Some(now - 60_000)),
            ups(visit("courier:ups")),
            false,
        ),
        // Filled before openers were recorded: never shared.
        (held(None, None), ups(visit("courier:ups")), false),
        // Its own, earlier today but in another visit: not shared either.
        (
            held(Some("courier:ups"), Some(now - 5 * HOUR)),
            ups(visit("courier:ups")),
            false,
        ),
        // No visit given: empty compartments only.
        (
            held(Some("courier:ups"), Some(now - 60_000)),
            ups(None),
            false,
        ),
        // Its own, a minute ago: shared.
        (
            held(Some("courier:ups"), Some(now - 60_000)),
            ups(visit("courier:ups")),
            true,
        ),
    ] {
        let cs = vec![
            door("full", "A01", Some(contents)),
            door("empty", "A02", None),
        ];
        let a = allocate(&parcel, &cs, &q).unwrap();
        assert_eq!(a.consolidated, shared, "{cs:?} {parcel:?}");
        assert_eq!(a.compartment_id, if shared { "full" } else { "empty" });
    }
    // With no empty door left, a parcel that may not share finds nothing.
    let cs = vec![door(
        "full",
        "A01",
        Some(held(Some("courier:dhl"), Some(now))),
    )];
    assert_eq!(
        allocate(&ups(visit("courier:ups")), &cs, &q),
        Err(NoCompartmentFits::AllOccupied {
            zone: TemperatureZone::Ambient
        })
    );
}
