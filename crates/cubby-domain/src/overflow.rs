//! Overflow: where a parcel goes when its locker has no compartment for it.
//! Only places that can take it now are offered, nearest first by their
//! position on the site plan (metres); places without a position come after,
//! by name. Pure: the store says what each place can take.

use serde::Serialize;

/// A position on the site plan, in metres from any fixed origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlanPosition {
    pub x_m: i64,
    pub y_m: i64,
}

impl PlanPosition {
    /// Straight-line distance in whole metres (rounded).
    pub fn distance_to(&self, other: &PlanPosition) -> u32 {
        let (dx, dy) = ((self.x_m - other.x_m) as f64, (self.y_m - other.y_m) as f64);
        dx.hypot(dy).round().min(f64::from(u32::MAX)) as u32
    }
}

/// Another place on the site and how many more parcels like this one it
/// takes now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// `locker` or `parcel_room`.
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    pub position: Option<PlanPosition>,
    pub takes: u32,
}

/// A place offered for overflow, with its distance from the full locker
/// when both have a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    pub place: Place,
    pub distance_m: Option<u32>,
}

/// The places that take the parcel now, nearest first.
pub fn nearest_first(from: Option<PlanPosition>, places: Vec<Place>) -> Vec<Offered> {
    let mut offered: Vec<Offered> = places
        .into_iter()
        .filter(|p| p.takes > 0)
        .map(|place| Offered {
            distance_m: from.zip(place.position).map(|(a, b)| a.distance_to(&b)),
            place,
        })
        .collect();
    offered.sort_by(|a, b| {
        (
            a.distance_m.is_none(),
            a.distance_m,
            &a.place.name,
            &a.place.id,
        )
            .cmp(&(
                b.distance_m.is_none(),
                b.distance_m,
                &b.place.name,
                &b.place.id,
            ))
    });
    offered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(id: &str, at: Option<(i64, i64)>, takes: u32) -> Place {
        Place {
            kind: "locker",
            id: id.into(),
            name: format!("Locker {id}"),
            position: at.map(|(x_m, y_m)| PlanPosition { x_m, y_m }),
            takes,
        }
    }

    #[test]
    fn only_places_that_take_it_nearest_first_then_unplaced_by_name() {
        let from = Some(PlanPosition { x_m: 0, y_m: 0 });
        let offered = nearest_first(
            from,
            vec![
                place("far", Some((30, 40)), 1),
                place("full", Some((1, 1)), 0),
                place("near", Some((3, 4)), 2),
                place("b-unplaced", None, 1),
                place("a-unplaced", None, 1),
            ],
        );
        let order: Vec<(&str, Option<u32>)> = offered
            .iter()
            .map(|o| (o.place.id.as_str(), o.distance_m))
            .collect();
        assert_eq!(
            order,
            [
                ("near", Some(5)),
                ("far", Some(50)),
                ("a-unplaced", None),
                ("b-unplaced", None)
            ]
        );
    }

    #[test]
    fn without_a_position_for_the_full_locker_all_go_by_name() {
        let offered = nearest_first(None, vec![place("z", Some((1, 1)), 1), place("a", None, 1)]);
        let ids: Vec<&str> = offered.iter().map(|o| o.place.id.as_str()).collect();
        assert_eq!(ids, ["a", "z"]);
    }
}
