//! Free capacity for carriers, by locker, compartment size and temperature
//! zone: what is free now, what is reserved, and how many compartments are
//! expected free at given instants (those free now plus the occupied ones
//! whose parcels are expected to have left by then). Pure: the server says
//! when each occupied compartment is expected to free up.

use std::collections::BTreeMap;

use chrono::{Duration, TimeZone};
use serde::Serialize;

use crate::Millis;
use crate::dims::Dimensions;
use crate::model::{CompartmentStatus, SizeClass, TemperatureZone, Timezone};

/// One compartment as the capacity answer needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub locker_id: String,
    pub inner: Dimensions,
    pub temperature: TemperatureZone,
    pub status: CompartmentStatus,
    pub occupied: bool,
    /// Held by a carrier's reservation: counted as reserved, never free.
    pub held: bool,
    /// When an occupied compartment is expected to be empty (None: not
    /// known, so never counted as freeing).
    pub frees_at: Option<Millis>,
}

/// Compartments of one size and zone at one locker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassCapacity {
    pub locker_id: String,
    pub size_class: SizeClass,
    pub inner: Dimensions,
    pub temperature: TemperatureZone,
    /// In service.
    pub total: u32,
    pub free_now: u32,
    pub reserved: u32,
    /// Expected free at each instant asked for, in order.
    pub expected_free: Vec<u32>,
}

/// Groups `slots` by locker, size and zone (smallest size first) and counts
/// what is free now and expected free at each of `at`.
pub fn count_capacity(slots: &[Slot], at: &[Millis]) -> Vec<ClassCapacity> {
    let mut classes: BTreeMap<(String, u64, Dimensions, TemperatureZone), ClassCapacity> =
        BTreeMap::new();
    for s in slots
        .iter()
        .filter(|s| s.status != CompartmentStatus::OutOfService)
    {
        let key = (
            s.locker_id.clone(),
            s.inner.volume_mm3(),
            s.inner,
            s.temperature,
        );
        let class = classes.entry(key).or_insert_with(|| ClassCapacity {
            locker_id: s.locker_id.clone(),
            size_class: SizeClass::for_inner(&s.inner),
            inner: s.inner,
            temperature: s.temperature,
            total: 0,
            free_now: 0,
            reserved: 0,
            expected_free: vec![0; at.len()],
        });
        class.total += 1;
        let free = !s.occupied && !s.held && s.status == CompartmentStatus::Available;
        if free {
            class.free_now += 1;
        }
        if !s.occupied && (s.held || s.status == CompartmentStatus::Reserved) {
            class.reserved += 1;
        }
        for (i, t) in at.iter().enumerate() {
            let freed = s.occupied
                && s.status == CompartmentStatus::Available
                && s.frees_at.is_some_and(|f| f <= *t);
            if free || freed {
                class.expected_free[i] += 1;
            }
        }
    }
    classes.into_values().collect()
}

/// The instants a capacity answer reports for a period: its start, then
/// the local midnight of each following day up to its end, each with its
/// local date (`YYYY-MM-DD`).
pub fn days_of(tz: &Timezone, from_ms: Millis, to_ms: Millis) -> Vec<(String, Millis)> {
    let Some(start) = tz.local_time(from_ms) else {
        return Vec::new();
    };
    let Ok(zone) = tz.as_str().parse::<chrono_tz::Tz>() else {
        return Vec::new();
    };
    let mut out = vec![(start.date().to_string(), from_ms)];
    let mut date = start.date();
    loop {
        date += Duration::days(1);
        let Some(midnight) = date
            .and_hms_opt(0, 0, 0)
            .and_then(|t| zone.from_local_datetime(&t).earliest())
            .map(|t| t.timestamp_millis())
        else {
            break;
        };
        if midnight > to_ms {
            break;
        }
        out.push((date.to_string(), midnight));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(locker: &str, h: u32, occupied: bool, frees_at: Option<Millis>) -> Slot {
        Slot {
            locker_id: locker.into(),
            inner: Dimensions::new(380, h, 640),
            temperature: TemperatureZone::Ambient,
            status: CompartmentStatus::Available,
            occupied,
            held: false,
            frees_at,
        }
    }

    #[test]
    fn free_reserved_and_expected_free_are_counted_per_class() {
        let mut reserved = slot("l1", 80, false, None);
        reserved.status = CompartmentStatus::Reserved;
        let mut broken = slot("l1", 80, false, None);
        broken.status = CompartmentStatus::OutOfService;
        let mut held = slot("l1", 80, false, None);
        held.held = true;
        let slots = vec![
            held,
            slot("l1", 80, false, None),
            slot("l1", 80, true, Some(100)),
            slot("l1", 80, true, Some(300)),
            slot("l1", 80, true, None),
            reserved,
            broken,
            slot("l1", 190, true, Some(50)),
            slot("l2", 80, false, None),
        ];
        let classes = count_capacity(&slots, &[0, 100, 1_000]);
        assert_eq!(classes.len(), 3);
        let small = &classes[0];
        assert_eq!(
            (small.locker_id.as_str(), small.size_class, small.total),
            ("l1", SizeClass::A, 6)
        );
        assert_eq!((small.free_now, small.reserved), (1, 2));
        // Unknown leave times never count; a reserved or held one is not free.
        assert_eq!(small.expected_free, vec![1, 2, 3]);
        assert_eq!(classes[1].size_class, SizeClass::B);
        assert_eq!(classes[1].expected_free, vec![0, 1, 1]);
        assert_eq!(classes[2].locker_id, "l2");
    }

    #[test]
    fn days_start_at_the_period_then_at_each_local_midnight() {
        let tz = Timezone::parse("Europe/Warsaw").unwrap();
        let zone: chrono_tz::Tz = "Europe/Warsaw".parse().unwrap();
        let at = |d: u32, h: u32| {
            zone.with_ymd_and_hms(2026, 10, d, h, 0, 0)
                .unwrap()
                .timestamp_millis()
        };
        // Across the end of summer time (25 October 2026).
        let days = days_of(&tz, at(24, 15), at(26, 12));
        let labels: Vec<&str> = days.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(labels, ["2026-10-24", "2026-10-25", "2026-10-26"]);
        assert_eq!(days[0].1, at(24, 15));
        assert_eq!(days[1].1, at(25, 0));
        assert_eq!(days[2].1 - days[1].1, 25 * 3_600_000, "a 25-hour day");
    }
}
