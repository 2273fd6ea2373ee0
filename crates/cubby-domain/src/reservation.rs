//! Reservations: a carrier holds compartments for a delivery window, so a van
//! does not arrive with 40 parcels for a bank with 6 free doors.
//!
//! Rules (a site's [`ReservationRules`]):
//! - a hold pins one compartment that is empty and available now, from the
//!   moment it is granted until the window ends (then it is released), so it
//!   is certain to be free when the courier comes; only the reservation's
//!   own deposits may use it;
//! - reservations together hold at most `max_held_percent` of a site's
//!   in-service compartments of each temperature zone, and one carrier at
//!   most `max_held_per_carrier`, so residents' other carriers are never
//!   starved;
//! - a window starts at most `max_lead_hours` ahead and lasts at most
//!   `max_window_hours`; when the site publishes delivery slots the window
//!   lies inside one, and the slot's parcel limit counts every reservation in
//!   it;
//! - each parcel is held or refused with a reason: acceptance may be partial.
//!
//! Pure: the store gathers what is free and what is held, [`plan_holds`]
//! decides.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Duration, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::dims::Dimensions;
use crate::model::{Invalid, TemperatureZone, Timezone};

const HOUR_MS: Millis = 3_600_000;
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// How a site lets carriers reserve capacity (part of its policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReservationRules {
    /// Share of each zone's in-service compartments that reservations may
    /// hold at once, in percent (0 turns reservations off).
    pub max_held_percent: u32,
    /// Most compartments one carrier may hold at the site at once.
    pub max_held_per_carrier: u32,
    /// How far ahead a window may start, in hours.
    pub max_lead_hours: u32,
    /// The longest window, in hours.
    pub max_window_hours: u32,
    /// Courier windows the site publishes, in its time zone; none: any
    /// window within the rules above.
    pub delivery_slots: Vec<DeliverySlot>,
}

impl Default for ReservationRules {
    fn default() -> Self {
        ReservationRules {
            max_held_percent: 30,
            max_held_per_carrier: 40,
            max_lead_hours: 48,
            max_window_hours: 12,
            delivery_slots: Vec::new(),
        }
    }
}

/// A published courier window, for example 09:00–12:00 on weekdays for 40
/// parcels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySlot {
    /// `mon` … `sun`; empty: every day.
    #[serde(default)]
    pub days: Vec<String>,
    /// "HH:MM", site local time; `end` after `start` on the same day.
    pub start: String,
    pub end: String,
    /// Parcels all reservations in one occurrence may hold together.
    pub max_parcels: u32,
}

fn hhmm(field: &'static str, s: &str) -> Result<NaiveTime, Invalid> {
    NaiveTime::parse_from_str(s, "%H:%M")
        .map_err(|_| Invalid::new(field, format!("{s:?} is not a time like 09:00")))
}

impl ReservationRules {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.max_held_percent > 90 {
            return Err(Invalid::new(
                "reservations.max_held_percent",
                "at most 90: some compartments stay for deliveries nobody reserved",
            ));
        }
        if !(1..=10_000).contains(&self.max_held_per_carrier) {
            return Err(Invalid::new(
                "reservations.max_held_per_carrier",
                "must be 1 to 10000",
            ));
        }
        if !(1..=14 * 24).contains(&self.max_lead_hours) {
            return Err(Invalid::new(
                "reservations.max_lead_hours",
                "must be 1 to 336 hours (14 days)",
            ));
        }
        if !(1..=24).contains(&self.max_window_hours) {
            return Err(Invalid::new(
                "reservations.max_window_hours",
                "must be 1 to 24 hours",
            ));
        }
        if self.delivery_slots.len() > 20 {
            return Err(Invalid::new(
                "reservations.delivery_slots",
                "at most 20 slots",
            ));
        }
        for s in &self.delivery_slots {
            let start = hhmm("reservations.delivery_slots.start", &s.start)?;
            let end = hhmm("reservations.delivery_slots.end", &s.end)?;
            if end <= start {
                return Err(Invalid::new(
                    "reservations.delivery_slots.end",
                    "must be after start on the same day",
                ));
            }
            if let Some(d) = s.days.iter().find(|d| !WEEKDAYS.contains(&d.as_str())) {
                return Err(Invalid::new(
                    "reservations.delivery_slots.days",
                    format!("{d:?} is not one of mon, tue, wed, thu, fri, sat, sun"),
                ));
            }
            if !(1..=10_000).contains(&s.max_parcels) {
                return Err(Invalid::new(
                    "reservations.delivery_slots.max_parcels",
                    "must be 1 to 10000",
                ));
            }
        }
        Ok(())
    }
}

/// One day's occurrence of a delivery slot, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SlotOccurrence {
    pub from_ms: Millis,
    pub to_ms: Millis,
    pub max_parcels: u32,
}

/// The occurrences of `slots` overlapping `[from_ms, to_ms)`, earliest first.
/// Local times skipped by a daylight-saving change move to the first valid
/// instant after them.
pub fn occurrences(
    slots: &[DeliverySlot],
    tz: &Timezone,
    from_ms: Millis,
    to_ms: Millis,
) -> Vec<SlotOccurrence> {
    let (Some(first), Some(last), Ok(zone)) = (
        tz.local_time(from_ms),
        tz.local_time(to_ms),
        tz.as_str().parse::<chrono_tz::Tz>(),
    ) else {
        return Vec::new();
    };
    let instant = |date: chrono::NaiveDate, t: NaiveTime| -> Option<Millis> {
        let local = date.and_time(t);
        zone.from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })
            .map(|x| x.timestamp_millis())
    };
    let mut out = Vec::new();
    let mut date = first.date();
    while date <= last.date() {
        let weekday = WEEKDAYS[date.weekday().num_days_from_monday() as usize];
        for s in &slots_on(slots, weekday) {
            let (Ok(start), Ok(end)) = (hhmm("start", &s.start), hhmm("end", &s.end)) else {
                continue;
            };
            if let (Some(a), Some(b)) = (instant(date, start), instant(date, end))
                && a < to_ms
                && b > from_ms
            {
                out.push(SlotOccurrence {
                    from_ms: a,
                    to_ms: b,
                    max_parcels: s.max_parcels,
                });
            }
        }
        date += Duration::days(1);
    }
    out.sort_by_key(|o| (o.from_ms, o.to_ms));
    out
}

fn slots_on<'a>(slots: &'a [DeliverySlot], weekday: &str) -> Vec<&'a DeliverySlot> {
    slots
        .iter()
        .filter(|s| s.days.is_empty() || s.days.iter().any(|d| d == weekday))
        .collect()
}

/// Checks a requested window against the rules at `now`; answers the slot
/// occurrence it lies in when the site publishes slots.
pub fn check_window(
    rules: &ReservationRules,
    tz: &Timezone,
    now: Millis,
    from_ms: Millis,
    to_ms: Millis,
) -> Result<Option<SlotOccurrence>, Invalid> {
    if rules.max_held_percent == 0 {
        return Err(Invalid::new("site", "this site does not take reservations"));
    }
    if to_ms <= from_ms {
        return Err(Invalid::new("window.to_ms", "must be after window.from_ms"));
    }
    if to_ms <= now {
        return Err(Invalid::new("window.to_ms", "the window has already ended"));
    }
    if from_ms > now + Millis::from(rules.max_lead_hours) * HOUR_MS {
        return Err(Invalid::new(
            "window.from_ms",
            format!(
                "a window starts at most {} hours ahead on this site",
                rules.max_lead_hours
            ),
        ));
    }
    if to_ms - from_ms > Millis::from(rules.max_window_hours) * HOUR_MS {
        return Err(Invalid::new(
            "window",
            format!(
                "a window lasts at most {} hours on this site",
                rules.max_window_hours
            ),
        ));
    }
    if rules.delivery_slots.is_empty() {
        return Ok(None);
    }
    occurrences(&rules.delivery_slots, tz, from_ms, to_ms)
        .into_iter()
        .find(|o| o.from_ms <= from_ms && to_ms <= o.to_ms)
        .map(Some)
        .ok_or_else(|| {
            Invalid::new(
                "window",
                "lies outside the site's delivery slots (see the capacity answer)",
            )
        })
}

/// A parcel a reservation asks room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    pub dims: Dimensions,
    pub temperature: TemperatureZone,
}

/// A compartment that is empty and available, and held by nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreeCompartment {
    pub compartment_id: String,
    pub locker_id: String,
    pub label: String,
    pub inner: Dimensions,
    pub temperature: TemperatureZone,
}

/// How much more may be held right now.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Budget {
    /// Per zone: compartments the site's share still allows.
    pub share_left: BTreeMap<TemperatureZone, u32>,
    /// Compartments this carrier may still hold.
    pub carrier_left: u32,
    /// Parcels the slot occurrence still takes (None: no slots).
    pub slot_left: Option<u32>,
}

impl Budget {
    /// The share left in one zone: `percent` of `in_service`, rounded down,
    /// less what is held already.
    pub fn share(in_service: u32, held: u32, percent: u32) -> u32 {
        let cap = u64::from(in_service) * u64::from(percent) / 100;
        u32::try_from(cap.saturating_sub(u64::from(held))).unwrap_or(u32::MAX)
    }
}

/// Why one parcel of a reservation is not held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Larger than every compartment of its zone on the site.
    TooLarge,
    /// Every compartment it fits in is occupied, held or out of service.
    NoFreeCompartment,
    /// Reservations already hold the site's reservable share of the zone.
    SiteShareReached,
    /// The carrier holds as many compartments as the site allows one carrier.
    CarrierQuotaReached,
    /// The delivery slot is fully booked.
    SlotFull,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::TooLarge => "too_large",
            Refusal::NoFreeCompartment => "no_free_compartment",
            Refusal::SiteShareReached => "site_share_reached",
            Refusal::CarrierQuotaReached => "carrier_quota_reached",
            Refusal::SlotFull => "slot_full",
        }
    }
}

/// What [`plan_holds`] decides: per requested parcel (by its index), the
/// compartment held or why not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub held: Vec<(usize, FreeCompartment)>,
    pub refused: Vec<(usize, Refusal)>,
}

/// Holds a compartment for each wanted parcel the budget allows. Larger
/// parcels choose first, each the smallest free compartment of its zone it
/// fits in (lowest label on ties), so small parcels do not take the doors
/// large ones need. `in_service` are the sizes of every in-service
/// compartment of the site (to tell "too large" from "all taken").
pub fn plan_holds(
    wanted: &[Wanted],
    free: &[FreeCompartment],
    in_service: &[(TemperatureZone, Dimensions)],
    budget: &Budget,
) -> Plan {
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(wanted[i].dims.volume_mm3()), i));
    let mut candidates: Vec<&FreeCompartment> = free.iter().collect();
    candidates.sort_by(|a, b| {
        (a.inner.volume_mm3(), &a.locker_id, &a.label).cmp(&(
            b.inner.volume_mm3(),
            &b.locker_id,
            &b.label,
        ))
    });
    let mut taken: BTreeSet<usize> = BTreeSet::new();
    let mut share_left = budget.share_left.clone();
    let mut carrier_left = budget.carrier_left;
    let mut slot_left = budget.slot_left;
    let mut plan = Plan::default();
    for i in order {
        let w = wanted[i];
        let refusal = if !in_service
            .iter()
            .any(|(zone, inner)| *zone == w.temperature && w.dims.fits_in(inner))
        {
            Some(Refusal::TooLarge)
        } else if slot_left == Some(0) {
            Some(Refusal::SlotFull)
        } else if carrier_left == 0 {
            Some(Refusal::CarrierQuotaReached)
        } else if share_left.get(&w.temperature).copied().unwrap_or(0) == 0 {
            Some(Refusal::SiteShareReached)
        } else {
            None
        };
        if let Some(r) = refusal {
            plan.refused.push((i, r));
            continue;
        }
        let choice = candidates.iter().enumerate().position(|(k, c)| {
            !taken.contains(&k) && c.temperature == w.temperature && w.dims.fits_in(&c.inner)
        });
        let Some(k) = choice else {
            plan.refused.push((i, Refusal::NoFreeCompartment));
            continue;
        };
        taken.insert(k);
        carrier_left -= 1;
        slot_left = slot_left.map(|n| n - 1);
        if let Some(n) = share_left.get_mut(&w.temperature) {
            *n -= 1;
        }
        plan.held.push((i, candidates[k].clone()));
    }
    plan.held.sort_by_key(|(i, _)| *i);
    plan.refused.sort_by_key(|(i, _)| *i);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn free(id: &str, h: u32, zone: TemperatureZone) -> FreeCompartment {
        FreeCompartment {
            compartment_id: id.into(),
            locker_id: "l1".into(),
            label: id.into(),
            inner: Dimensions::new(400, h, 500),
            temperature: zone,
        }
    }

    fn budget(share: u32, carrier: u32, slot: Option<u32>) -> Budget {
        Budget {
            share_left: TemperatureZone::ALL.iter().map(|z| (*z, share)).collect(),
            carrier_left: carrier,
            slot_left: slot,
        }
    }

    fn parcel(h: u32) -> Wanted {
        Wanted {
            dims: Dimensions::new(300, h, 300),
            temperature: TemperatureZone::Ambient,
        }
    }

    #[test]
    fn large_parcels_choose_first_and_each_takes_the_smallest_fit() {
        let ambient = TemperatureZone::Ambient;
        let compartments = [free("big", 400, ambient), free("small", 100, ambient)];
        let sizes: Vec<_> = compartments
            .iter()
            .map(|c| (c.temperature, c.inner))
            .collect();
        // Asked small first: a first-come plan would give the small parcel
        // the small door anyway, but the large one must not lose the big door.
        let plan = plan_holds(
            &[parcel(80), parcel(350)],
            &compartments,
            &sizes,
            &budget(9, 9, None),
        );
        let held: Vec<_> = plan
            .held
            .iter()
            .map(|(i, c)| (*i, c.label.as_str()))
            .collect();
        assert_eq!(held, vec![(0, "small"), (1, "big")]);
        assert!(plan.refused.is_empty());
    }

    #[test]
    fn each_limit_refuses_with_its_reason() {
        let ambient = TemperatureZone::Ambient;
        let compartments = [free("a", 200, ambient), free("b", 200, ambient)];
        let sizes: Vec<_> = compartments
            .iter()
            .map(|c| (c.temperature, c.inner))
            .collect();
        let three = [parcel(100), parcel(100), parcel(100)];
        let reasons = |b: Budget| {
            plan_holds(&three, &compartments, &sizes, &b)
                .refused
                .iter()
                .map(|(_, r)| r.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(reasons(budget(9, 9, None)), ["no_free_compartment"]);
        assert_eq!(reasons(budget(1, 9, None)), ["site_share_reached"; 2]);
        assert_eq!(reasons(budget(9, 1, None)), ["carrier_quota_reached"; 2]);
        assert_eq!(reasons(budget(9, 9, Some(0))), ["slot_full"; 3]);
        let huge = plan_holds(&[parcel(900)], &compartments, &sizes, &budget(9, 9, None));
        assert_eq!(huge.refused, vec![(0, Refusal::TooLarge)]);
    }

    #[test]
    fn the_share_rounds_down_and_counts_what_is_held() {
        assert_eq!(Budget::share(10, 0, 30), 3);
        assert_eq!(Budget::share(10, 2, 30), 1);
        assert_eq!(Budget::share(10, 5, 30), 0);
        assert_eq!(Budget::share(3, 0, 30), 0);
    }

    fn warsaw() -> Timezone {
        Timezone::parse("Europe/Warsaw").expect("zone")
    }

    fn at(s: &str) -> Millis {
        chrono::DateTime::parse_from_rfc3339(s)
            .expect("instant")
            .timestamp_millis()
    }

    fn morning_slot() -> ReservationRules {
        ReservationRules {
            delivery_slots: vec![DeliverySlot {
                days: vec!["mon".into(), "tue".into()],
                start: "09:00".into(),
                end: "12:00".into(),
                max_parcels: 40,
            }],
            ..ReservationRules::default()
        }
    }

    #[test]
    fn slots_are_placed_in_the_site_time_zone_on_their_days() {
        // 2026-12-07 is a Monday; Warsaw is UTC+1 in December.
        let rules = morning_slot();
        let found = occurrences(
            &rules.delivery_slots,
            &warsaw(),
            at("2026-12-06T00:00:00Z"),
            at("2026-12-10T00:00:00Z"),
        );
        assert_eq!(
            found,
            vec![
                SlotOccurrence {
                    from_ms: at("2026-12-07T08:00:00Z"),
                    to_ms: at("2026-12-07T11:00:00Z"),
                    max_parcels: 40
                },
                SlotOccurrence {
                    from_ms: at("2026-12-08T08:00:00Z"),
                    to_ms: at("2026-12-08T11:00:00Z"),
                    max_parcels: 40
                },
            ]
        );
    }

    #[test]
    fn a_window_must_lie_inside_a_slot_and_within_the_lead_time() {
        let rules = morning_slot();
        let now = at("2026-12-06T12:00:00Z");
        let inside = check_window(
            &rules,
            &warsaw(),
            now,
            at("2026-12-07T08:30:00Z"),
            at("2026-12-07T10:00:00Z"),
        );
        assert_eq!(inside.map(|o| o.map(|o| o.max_parcels)), Ok(Some(40)));
        let outside = check_window(
            &rules,
            &warsaw(),
            now,
            at("2026-12-07T10:30:00Z"),
            at("2026-12-07T12:00:00Z"),
        );
        assert!(outside.is_err());
        let too_far = check_window(
            &ReservationRules::default(),
            &warsaw(),
            now,
            now + 49 * HOUR_MS,
            now + 50 * HOUR_MS,
        );
        assert!(too_far.is_err());
        let off = ReservationRules {
            max_held_percent: 0,
            ..ReservationRules::default()
        };
        assert!(check_window(&off, &warsaw(), now, now, now + HOUR_MS).is_err());
    }

    #[test]
    fn bad_slots_are_refused_with_their_field() {
        let mut rules = morning_slot();
        rules.delivery_slots[0].end = "08:00".into();
        assert_eq!(
            rules.validate().map_err(|e| e.field),
            Err("reservations.delivery_slots.end")
        );
        let mut rules = morning_slot();
        rules.delivery_slots[0].days = vec!["monday".into()];
        assert!(rules.validate().is_err());
        assert!(morning_slot().validate().is_ok());
    }

    proptest! {
        /// Whatever is asked, a plan never holds one compartment twice, never
        /// holds one a parcel does not fit or of another zone, never exceeds
        /// a limit, and answers every parcel exactly once.
        #[test]
        fn plans_never_over_hold(
            compartments in proptest::collection::vec((50u32..500, 0usize..3), 0..30),
            parcels in proptest::collection::vec((20u32..600, 0usize..3), 0..40),
            share in 0u32..20,
            carrier in 0u32..20,
            slot in proptest::option::of(0u32..20),
        ) {
            let zone = |z: usize| TemperatureZone::ALL[z];
            let free: Vec<FreeCompartment> = compartments
                .iter()
                .enumerate()
                .map(|(k, (h, z))| free(&format!("c{k:02}"), *h, zone(*z)))
                .collect();
            let sizes: Vec<_> = free.iter().map(|c| (c.temperature, c.inner)).collect();
            let wanted: Vec<Wanted> = parcels
                .iter()
                .map(|(h, z)| Wanted { dims: Dimensions::new(300, *h, 300), temperature: zone(*z) })
                .collect();
            let plan = plan_holds(&wanted, &free, &sizes, &budget(share, carrier, slot));
            let mut answered: Vec<usize> = plan.held.iter().map(|(i, _)| *i)
                .chain(plan.refused.iter().map(|(i, _)| *i)).collect();
            answered.sort_unstable();
            prop_assert_eq!(answered, (0..wanted.len()).collect::<Vec<_>>());
            let ids: BTreeSet<&str> = plan.held.iter().map(|(_, c)| c.compartment_id.as_str()).collect();
            prop_assert_eq!(ids.len(), plan.held.len());
            for (i, c) in &plan.held {
                prop_assert!(wanted[*i].dims.fits_in(&c.inner));
                prop_assert_eq!(wanted[*i].temperature, c.temperature);
            }
            let n = plan.held.len() as u32;
            prop_assert!(n <= carrier);
            prop_assert!(slot.is_none_or(|s| n <= s));
            for z in TemperatureZone::ALL {
                let in_zone = plan.held.iter().filter(|(_, c)| c.temperature == *z).count() as u32;
                prop_assert!(in_zone <= share);
            }
        }
    }
}
