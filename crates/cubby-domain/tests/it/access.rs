//! Access grants against a reference model: 10,000+ randomized grant / time /
//! door cases, with every decision compared to one computed here.
//!
//! The model does not use the tz database: it converts UTC to wall-clock time
//! with daylight-saving rules written out by hand (EU, US, New South Wales)
//! and civil-date arithmetic of its own, so a mistake in how the domain uses
//! chrono-tz (or in chrono-tz's rules for these years) shows up as a
//! disagreement. Half the instants are drawn within three hours of a
//! daylight-saving transition, where schedules go wrong.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};

use cubby_domain::access::{Denied, GrantRule, Weekday, WeeklyWindow};
use cubby_domain::model::Timezone;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn year_of_days(days: i64) -> i64 {
    // Walk from an estimate; the model favours obviousness over speed.
    let mut y = 1970 + days.div_euclid(365);
    while days_from_civil(y, 1, 1) > days {
        y -= 1;
    }
    while days_from_civil(y + 1, 1, 1) <= days {
        y += 1;
    }
    y
}

/// Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday).
fn weekday_of_days(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    next - days_from_civil(y, m, 1)
}

fn last_sunday(y: i64, m: i64) -> i64 {
    let last = days_from_civil(y, m, days_in_month(y, m));
    last - (weekday_of_days(last) + 1) % 7
}

fn nth_sunday(y: i64, m: i64, n: i64) -> i64 {
    let first = days_from_civil(y, m, 1);
    first + (6 - weekday_of_days(first)).rem_euclid(7) + 7 * (n - 1)
}

#[derive(Debug, Clone, Copy)]
enum Zone {
    Utc,
    Kolkata,
    Warsaw,
    London,
    NewYork,
    Sydney,
}

const ZONES: [Zone; 6] = [
    Zone::Utc,
    Zone::Kolkata,
    Zone::Warsaw,
    Zone::London,
    Zone::NewYork,
    Zone::Sydney,
];

impl Zone {
    fn name(self) -> &'static str {
        match self {
            Zone::Utc => "UTC",
            Zone::Kolkata => "Asia/Kolkata",
            Zone::Warsaw => "Europe/Warsaw",
            Zone::London => "Europe/London",
            Zone::NewYork => "America/New_York",
            Zone::Sydney => "Australia/Sydney",
        }
    }

    /// UTC instants of the year's two clock changes (empty without DST).
    fn transitions(self, y: i64) -> Vec<i64> {
        match self {
            Zone::Utc | Zone::Kolkata => vec![],
            // EU: last Sunday of March and of October, 01:00 UTC.
            Zone::Warsaw | Zone::London => vec![
                last_sunday(y, 3) * DAY + HOUR,
                last_sunday(y, 10) * DAY + HOUR,
            ],
            // US since 2007: second Sunday of March 02:00 EST (07:00 UTC),
            // first Sunday of November 02:00 EDT (06:00 UTC).
            Zone::NewYork => vec![
                nth_sunday(y, 3, 2) * DAY + 7 * HOUR,
                nth_sunday(y, 11, 1) * DAY + 6 * HOUR,
            ],
            // NSW: ends first Sunday of April 03:00 AEDT, starts first Sunday
            // of October 02:00 AEST; both are 16:00 UTC the Saturday before.
            Zone::Sydney => vec![
                nth_sunday(y, 4, 1) * DAY - 8 * HOUR,
                nth_sunday(y, 10, 1) * DAY - 8 * HOUR,
            ],
        }
    }

    /// Offset from UTC in milliseconds at a UTC instant.
    fn offset(self, t: i64) -> i64 {
        let y = year_of_days(t.div_euclid(DAY));
        match self {
            Zone::Utc => 0,
            Zone::Kolkata => 330 * MINUTE,
            Zone::Warsaw | Zone::London | Zone::NewYork => {
                let standard = match self {
                    Zone::Warsaw => HOUR,
                    Zone::London => 0,
                    _ => -5 * HOUR,
                };
                let tr = self.transitions(y);
                if tr[0] <= t && t < tr[1] {
                    standard + HOUR
                } else {
                    standard
                }
            }
            Zone::Sydney => {
                let tr = self.transitions(y);
                if t < tr[0] || t >= tr[1] {
                    11 * HOUR
                } else {
                    10 * HOUR
                }
            }
        }
    }

    /// (weekday Monday = 0, minute of the day) on the site's wall clock.
    fn wall_clock(self, t: i64) -> (i64, i64) {
        let local = t + self.offset(t);
        let days = local.div_euclid(DAY);
        (
            weekday_of_days(days),
            local.rem_euclid(DAY).div_euclid(MINUTE),
        )
    }
}

#[derive(Debug, Clone)]
struct Case {
    zone: Zone,
    at: i64,
    rule: GrantRule,
    door: String,
    uses: u32,
    revoked: bool,
}

/// The specification, written out once more: the checks in their documented
/// order, with time of day from the hand-written zone rules.
fn reference(c: &Case) -> Result<(), Denied> {
    let r = &c.rule;
    if c.revoked {
        return Err(Denied::Revoked);
    }
    if !r.doors.contains(&c.door) {
        return Err(Denied::WrongDoor);
    }
    if c.at < r.not_before_ms {
        return Err(Denied::NotYetValid);
    }
    if c.at >= r.not_after_ms {
        return Err(Denied::Expired);
    }
    if !r.schedule.is_empty() {
        let (weekday, minute) = c.zone.wall_clock(c.at);
        let inside = r.schedule.iter().any(|w| {
            w.days.iter().any(|d| d.index() as i64 == weekday)
                && i64::from(w.start_minute) <= minute
                && minute < i64::from(w.end_minute)
        });
        if !inside {
            return Err(Denied::OutsideSchedule);
        }
    }
    if let Some(max) = r.max_uses
        && c.uses >= max
    {
        return Err(Denied::UsedUp);
    }
    Ok(())
}

const DOORS: [&str; 5] = [
    "door_gate",
    "door_lobby",
    "door_room",
    "door_gym",
    "door_roof",
];

fn window() -> impl Strategy<Value = WeeklyWindow> {
    (
        proptest::collection::btree_set(0usize..7, 1..=7),
        0u16..96,
        1u16..=96,
    )
        .prop_map(|(days, a, len)| {
            // Quarter-hour grid, like people write schedules.
            let start = a * 15;
            let end = (start + len * 15).min(1440);
            let end = if end == start { start + 15 } else { end };
            WeeklyWindow {
                days: days.into_iter().map(|d| Weekday::ALL[d]).collect(),
                start_minute: start,
                end_minute: end,
            }
        })
}

fn case() -> impl Strategy<Value = Case> {
    let zone = (0usize..ZONES.len()).prop_map(|i| ZONES[i]);
    let instant = (
        zone,
        2025i64..=2034,
        any::<bool>(),
        0i64..(365 * DAY),
        -180i64..=180,
        0i64..60,
        0usize..2,
    )
        .prop_map(
            |(zone, y, near_change, anywhere, minutes, seconds, which)| {
                let at = match zone.transitions(y).get(which) {
                    Some(change) if near_change => change + minutes * MINUTE,
                    _ => days_from_civil(y, 1, 1) * DAY + anywhere,
                };
                // Whole minutes half the time, to land exactly on window edges.
                let at = if seconds % 2 == 0 {
                    at
                } else {
                    at + seconds * 1_000
                };
                (zone, at)
            },
        );
    (
        instant,
        proptest::collection::btree_set(0usize..4, 0..=4),
        0usize..DOORS.len(),
        -(20 * DAY / MINUTE)..(2 * DAY / MINUTE),
        1i64..(40 * DAY / MINUTE),
        proptest::option::weighted(0.6, 1u32..=3),
        0u32..=4,
        proptest::collection::vec(window(), 0..=3),
        proptest::bool::weighted(0.1),
    )
        .prop_map(
            |((zone, at), doors, door, start, length, max_uses, uses, schedule, revoked)| Case {
                zone,
                at,
                rule: GrantRule {
                    doors: doors.into_iter().map(|d| DOORS[d].to_string()).collect(),
                    not_before_ms: at + start * MINUTE,
                    not_after_ms: at + (start + length) * MINUTE,
                    max_uses,
                    schedule,
                },
                door: DOORS[door].to_string(),
                uses,
                revoked,
            },
        )
}

fn outcome_index(d: Result<(), Denied>) -> usize {
    match d {
        Ok(()) => 0,
        Err(Denied::Revoked) => 1,
        Err(Denied::WrongDoor) => 2,
        Err(Denied::NotYetValid) => 3,
        Err(Denied::Expired) => 4,
        Err(Denied::OutsideSchedule) => 5,
        Err(Denied::UsedUp) => 6,
    }
}

#[test]
fn grant_decisions_agree_with_the_reference_model() {
    const CASES: u32 = 12_000;
    let outcomes: [AtomicU32; 7] = Default::default();
    let scheduled_near_change = AtomicU32::new(0);
    let mut runner = TestRunner::new(crate::config(CASES));
    runner
        .run(&case(), |c| {
            let zone = Timezone::parse(c.zone.name()).expect("known zone");
            let got = c.rule.decide(&c.door, c.at, c.uses, c.revoked, &zone);
            let want = reference(&c);
            prop_assert_eq!(got, want, "case {:?}", c);
            outcomes[outcome_index(got)].fetch_add(1, Ordering::Relaxed);
            let y = year_of_days(c.at.div_euclid(DAY));
            let near = c
                .zone
                .transitions(y)
                .iter()
                .any(|t| (c.at - t).abs() <= 3 * HOUR);
            if near && !c.rule.schedule.is_empty() && got != Err(Denied::Expired) {
                scheduled_near_change.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    // The cases must have exercised every answer, and schedules at clock
    // changes, or agreeing would prove little.
    let counts: Vec<u32> = outcomes.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    for (i, n) in counts.iter().enumerate() {
        assert!(*n >= 100, "outcome {i} seen only {n} times: {counts:?}");
    }
    let near = scheduled_near_change.load(Ordering::Relaxed);
    assert!(
        near >= 1_000,
        "only {near} scheduled cases near a clock change"
    );
}

#[test]
fn the_models_clock_changes_match_known_dates() {
    // Published dates, checked once so the model itself is trusted.
    let utc = |y, m, d, h| days_from_civil(y, m, d) * DAY + h * HOUR;
    assert_eq!(
        Zone::Warsaw.transitions(2026),
        vec![utc(2026, 3, 29, 1), utc(2026, 10, 25, 1)]
    );
    assert_eq!(
        Zone::NewYork.transitions(2026),
        vec![utc(2026, 3, 8, 7), utc(2026, 11, 1, 6)]
    );
    assert_eq!(
        Zone::Sydney.transitions(2026),
        vec![utc(2026, 4, 4, 16), utc(2026, 10, 3, 16)]
    );
    assert_eq!(
        weekday_of_days(days_from_civil(2026, 11, 24)),
        1,
        "a Tuesday"
    );
    let noon_sydney_new_year = utc(2026, 1, 1, 1);
    assert_eq!(Zone::Sydney.wall_clock(noon_sydney_new_year), (3, 12 * 60));
}

#[test]
fn a_schedule_is_not_shifted_by_daylight_saving() {
    // Weekdays 09:00–17:00 in New York: 09:00 local is 14:00 UTC in winter
    // and 13:00 UTC in summer.
    let zone = Timezone::parse("America/New_York").unwrap();
    let rule = GrantRule {
        doors: BTreeSet::from(["door_gym".to_string()]),
        not_before_ms: 0,
        not_after_ms: i64::MAX,
        max_uses: None,
        schedule: vec![WeeklyWindow {
            days: [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ]
            .into(),
            start_minute: 9 * 60,
            end_minute: 17 * 60,
        }],
    };
    let at = |y, m, d, h| days_from_civil(y, m, d) * DAY + h * HOUR;
    let open = |t| rule.decide("door_gym", t, 0, false, &zone);
    assert_eq!(open(at(2026, 1, 13, 14)), Ok(()));
    assert_eq!(open(at(2026, 1, 13, 13)), Err(Denied::OutsideSchedule));
    assert_eq!(open(at(2026, 7, 14, 13)), Ok(()));
    assert_eq!(open(at(2026, 7, 14, 21)), Err(Denied::OutsideSchedule));
}
