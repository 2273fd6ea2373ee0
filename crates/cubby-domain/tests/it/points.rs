//! The pick-up point finder: great-circle distances against published
//! figures, and hundreds of generated points ranked and filtered as a brute
//! force says; opening hours in the point's own zone.

use cubby_domain::model::Timezone;
use cubby_domain::points::{Candidate, GeoPoint, OpeningHours, OpeningSpan, nearest};
use proptest::prelude::*;

fn at(lat: f64, lon: f64) -> GeoPoint {
    GeoPoint::new(lat, lon).unwrap()
}

#[test]
fn distances_match_the_great_circle() {
    // Warsaw Palace of Culture to Kraków Main Square: 252 km as the crow flies.
    let d = at(52.2318, 21.0060).distance_m(at(50.0617, 19.9373));
    assert!((d - 252_000.0).abs() < 2_000.0, "{d}");
    // A quarter of the equator.
    let q = at(0.0, 0.0).distance_m(at(0.0, 90.0));
    assert!((q - 10_007_543.0).abs() < 100.0, "{q}");
    // Across the antimeridian is short, not half the world.
    let a = at(0.0, 179.9).distance_m(at(0.0, -179.9));
    assert!(a < 25_000.0, "{a}");
    assert_eq!(at(10.0, 10.0).distance_m(at(10.0, 10.0)), 0.0);
}

proptest! {
    /// Anywhere on Earth (poles and the antimeridian too), the two bands
    /// hold every point within the radius.
    #[test]
    fn the_prefilter_bands_never_drop_a_point_in_range(
        lat in -90f64..90.0, lon in -180f64..180.0,
        bearing in 0f64..360.0, fraction in 0f64..1.0, radius in 100f64..100_000.0,
    ) {
        let origin = at(lat, lon);
        // A point `fraction * radius` away along `bearing` (spherical destination).
        let d = fraction * radius / cubby_domain::points::EARTH_RADIUS_M;
        let (p1, l1, b) = (lat.to_radians(), lon.to_radians(), bearing.to_radians());
        let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * b.cos()).asin();
        let l2 = l1 + (b.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
        let lon2 = (l2.to_degrees() + 540.0) % 360.0 - 180.0;
        let there = at(p2.to_degrees().clamp(-90.0, 90.0), lon2.clamp(-180.0, 180.0));
        prop_assume!(origin.distance_m(there) <= radius);
        let (la, lo) = there.to_micro();
        let (s, n) = origin.lat_band_micro(radius);
        let (w, e) = origin.lon_band_micro(radius);
        prop_assert!(s <= la && la <= n);
        prop_assert!(w <= lo && lo <= e, "{w}..{e} drops {lo} ({origin:?} → {there:?})");
    }
}

#[test]
fn bad_coordinates_are_refused() {
    for (lat, lon, field) in [
        (91.0, 0.0, "lat"),
        (0.0, 181.0, "lon"),
        (f64::NAN, 0.0, "lat"),
    ] {
        assert_eq!(GeoPoint::new(lat, lon).unwrap_err().field, field);
    }
    let p = at(52.123456, -1.654321);
    let (la, lo) = p.to_micro();
    assert_eq!(GeoPoint::from_micro(la, lo), p);
}

fn around(origin: GeoPoint) -> impl Strategy<Value = Vec<Candidate>> {
    proptest::collection::vec(
        (-0.3f64..0.3, -0.5f64..0.5, proptest::bool::weighted(0.7)),
        200..400,
    )
    .prop_map(move |v| {
        v.into_iter()
            .map(|(dl, dn, fits)| Candidate {
                at: at(origin.lat + dl, origin.lon + dn),
                fits,
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Hundreds of points around a city: the answer is every fitting point
    /// within the radius and nothing else, nearest first, and the latitude
    /// band the store prefilters with never drops one of them.
    #[test]
    fn the_finder_ranks_and_filters_like_a_brute_force(
        points in around(GeoPoint { lat: 52.23, lon: 21.01 }),
        radius in 500f64..30_000.0,
    ) {
        let origin = at(52.23, 21.01);
        let found = nearest(origin, radius, &points);
        for pair in found.windows(2) {
            prop_assert!(pair[0].1 <= pair[1].1, "nearest first");
        }
        let mut wanted: Vec<usize> = points
            .iter()
            .enumerate()
            .filter(|(_, c)| c.fits && origin.distance_m(c.at) <= radius)
            .map(|(i, _)| i)
            .collect();
        let mut got: Vec<usize> = found.iter().map(|(i, _)| *i).collect();
        got.sort_unstable();
        wanted.sort_unstable();
        prop_assert_eq!(got, wanted);
        let (lo, hi) = origin.lat_band_micro(radius);
        let (west, east) = origin.lon_band_micro(radius);
        for (i, _) in &found {
            let (lat, lon) = points[*i].at.to_micro();
            prop_assert!(lo <= lat && lat <= hi, "band {lo}..{hi} drops {lat}");
            prop_assert!(west <= lon && lon <= east, "band {west}..{east} drops {lon}");
        }
    }
}

#[test]
fn opening_hours_are_read_in_the_points_zone() {
    let hours = OpeningHours {
        always_open: false,
        spans: vec![OpeningSpan {
            days: vec![
                "mon".into(),
                "tue".into(),
                "wed".into(),
                "thu".into(),
                "fri".into(),
            ],
            open: "08:00".into(),
            close: "20:00".into(),
        }],
    };
    hours.validate().unwrap();
    let warsaw = Timezone::parse("Europe/Warsaw").unwrap();
    // Thursday 2026-12-03 07:30 UTC is 08:30 in Warsaw: open.
    assert!(hours.is_open(&warsaw, 1_796_283_000_000));
    // 19:30 UTC is 20:30 there: closed.
    assert!(!hours.is_open(&warsaw, 1_796_326_200_000));
    // Saturday noon: closed.
    assert!(!hours.is_open(&warsaw, 1_796_470_000_000));
    assert!(
        OpeningHours {
            always_open: true,
            spans: vec![]
        }
        .is_open(&warsaw, 0)
    );
    for bad in [
        OpeningHours::default(),
        OpeningHours {
            always_open: false,
            spans: vec![OpeningSpan {
                days: vec![],
                open: "20:00".into(),
                close: "08:00".into(),
            }],
        },
        OpeningHours {
            always_open: false,
            spans: vec![OpeningSpan {
                days: vec!["sunday".into()],
                open: "08:00".into(),
                close: "09:00".into(),
            }],
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
}
