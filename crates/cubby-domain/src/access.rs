//! Access grants: who may open which door, when, and how often.
//!
//! A grant is a rule attached to one PIN: the doors it covers (a path such as
//! perimeter → lobby → parcel room is expanded to its doors when the grant is
//! issued), a validity period, an optional weekly schedule in the site's time
//! zone, and an optional use limit.
//!
//! **A use is one opening of one door.** A grant with `max_uses = 1` opens each
//! door in its scope at most once: a visitor walks the whole path once. Counting
//! per door keeps the rule exact offline, because every door is driven by one
//! agent, which holds the only counter that matters for it.
//!
//! **Schedules are wall-clock times at the site.** An instant is inside a weekly
//! window when its local time, in the site's zone, falls on one of the window's
//! days within `[start, end)`. On the spring-forward night a window inside the
//! skipped hour does not happen; on the fall-back night the repeated hour is
//! inside the window both times. The reference model in this crate's tests
//! checks exactly this against hand-written daylight-saving rules.

use std::collections::BTreeSet;

use chrono::{Datelike, Timelike};
use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::model::{Invalid, Timezone};

/// Longest validity period of a grant: a year and a day.
pub const MAX_GRANT_MS: Millis = 366 * 86_400_000;
/// Most doors one grant may name.
pub const MAX_GRANT_DOORS: usize = 64;
/// Most weekly windows on one grant.
pub const MAX_WINDOWS: usize = 14;
/// Highest use limit (per door); more than this is "unlimited".
pub const MAX_USES: u32 = 10_000;
/// Minutes in a day: a window may end at 24:00.
pub const DAY_MINUTES: u16 = 1440;

/// A day of the week, Monday first (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// Monday = 0 … Sunday = 6.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// One recurring window: on these days, from `start` (inclusive) to `end`
/// (exclusive), in minutes after local midnight. A window that should run past
/// midnight is written as two windows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyWindow {
    pub days: BTreeSet<Weekday>,
    pub start_minute: u16,
    pub end_minute: u16,
}

impl WeeklyWindow {
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.days.is_empty() {
            return Err(Invalid::new("schedule", "a window needs at least one day"));
        }
        if self.end_minute > DAY_MINUTES || self.start_minute >= self.end_minute {
            return Err(Invalid::new(
                "schedule",
                format!(
                    "a window runs from start_minute to a later end_minute within one day (0..=1440); got {}..{} (split a window that crosses midnight in two)",
                    self.start_minute, self.end_minute
                ),
            ));
        }
        Ok(())
    }

    fn contains(&self, weekday: Weekday, minute_of_day: u16) -> bool {
        self.days.contains(&weekday)
            && self.start_minute <= minute_of_day
            && minute_of_day < self.end_minute
    }
}

/// The rule a grant's PIN is checked against, at the server and at the door.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRule {
    /// Door ids the grant opens.
    pub doors: BTreeSet<String>,
    /// First instant the grant opens anything (inclusive).
    pub not_before_ms: Millis,
    /// First instant it no longer does (exclusive).
    pub not_after_ms: Millis,
    /// Openings allowed per door; `None` is unlimited within the period.
    pub max_uses: Option<u32>,
    /// Weekly windows in the site's zone; empty means at any time of day.
    #[serde(default)]
    pub schedule: Vec<WeeklyWindow>,
}

/// Why a door stays shut. The order of the variants is the order of the
/// checks: the first that fails is the one reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Denied {
    #[error("the grant was revoked")]
    Revoked,
    #[error("the grant does not cover this door")]
    WrongDoor,
    #[error("the grant is not valid yet")]
    NotYetValid,
    #[error("the grant has expired")]
    Expired,
    #[error("outside the grant's weekly schedule")]
    OutsideSchedule,
    #[error("the grant's uses at this door are spent")]
    UsedUp,
}

impl Denied {
    pub fn as_str(self) -> &'static str {
        match self {
            Denied::Revoked => "revoked",
            Denied::WrongDoor => "wrong_door",
            Denied::NotYetValid => "not_yet_valid",
            Denied::Expired => "expired",
            Denied::OutsideSchedule => "outside_schedule",
            Denied::UsedUp => "used_up",
        }
    }
}

impl GrantRule {
    /// Checks a rule before it is stored; `now` bounds how far in the past it
    /// may start to be useful.
    pub fn validate(&self, now: Millis) -> Result<(), Invalid> {
        if self.doors.is_empty() {
            return Err(Invalid::new("doors", "a grant needs at least one door"));
        }
        if self.doors.len() > MAX_GRANT_DOORS {
            return Err(Invalid::new(
                "doors",
                format!("a grant may name at most {MAX_GRANT_DOORS} doors"),
            ));
        }
        if self.not_after_ms <= self.not_before_ms {
            return Err(Invalid::new("not_after", "must be later than not_before"));
        }
        if self.not_after_ms <= now {
            return Err(Invalid::new("not_after", "must be in the future"));
        }
        if self.not_after_ms - self.not_before_ms > MAX_GRANT_MS {
            return Err(Invalid::new(
                "not_after",
                "a grant may last at most 366 days",
            ));
        }
        if let Some(uses) = self.max_uses
            && !(1..=MAX_USES).contains(&uses)
        {
            return Err(Invalid::new(
                "max_uses",
                format!("between 1 and {MAX_USES}, or absent for unlimited"),
            ));
        }
        if self.schedule.len() > MAX_WINDOWS {
            return Err(Invalid::new(
                "schedule",
                format!("at most {MAX_WINDOWS} windows"),
            ));
        }
        self.schedule.iter().try_for_each(WeeklyWindow::validate)
    }

    /// Whether the grant opens `door` at `at`, given how often it has already
    /// opened that door. Pure: the caller supplies time, count and revocation.
    pub fn decide(
        &self,
        door: &str,
        at: Millis,
        uses_at_door: u32,
        revoked: bool,
        zone: &Timezone,
    ) -> Result<(), Denied> {
        if revoked {
            return Err(Denied::Revoked);
        }
        if !self.doors.contains(door) {
            return Err(Denied::WrongDoor);
        }
        if at < self.not_before_ms {
            return Err(Denied::NotYetValid);
        }
        if at >= self.not_after_ms {
            return Err(Denied::Expired);
        }
        if !self.in_schedule(at, zone) {
            return Err(Denied::OutsideSchedule);
        }
        if self.max_uses.is_some_and(|max| uses_at_door >= max) {
            return Err(Denied::UsedUp);
        }
        Ok(())
    }

    /// True when there is no schedule, or `at` falls in one of its windows.
    pub fn in_schedule(&self, at: Millis, zone: &Timezone) -> bool {
        if self.schedule.is_empty() {
            return true;
        }
        let Some(local) = zone.local_time(at) else {
            // An instant chrono cannot represent is outside every window.
            return false;
        };
        let weekday = Weekday::ALL[local.weekday().num_days_from_monday() as usize];
        // Seconds are ignored: windows are whole minutes.
        let minute = (local.hour() * 60 + local.minute()) as u16;
        self.schedule.iter().any(|w| w.contains(weekday, minute))
    }
}

/// Parses `HH:MM` (00:00 to 24:00) into minutes after midnight.
pub fn parse_minute_of_day(field: &'static str, text: &str) -> Result<u16, Invalid> {
    let bad = || {
        Invalid::new(
            field,
            format!("{text:?} is not a time of day such as 07:30"),
        )
    };
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h * 60 + m > DAY_MINUTES {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Formats minutes after midnight as `HH:MM`.
pub fn format_minute_of_day(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> GrantRule {
        GrantRule {
            doors: ["door_a".to_string()].into(),
            not_before_ms: 1_000,
            not_after_ms: 2_000,
            max_uses: Some(1),
            schedule: vec![],
        }
    }

    fn utc() -> Timezone {
        Timezone::parse("UTC").unwrap()
    }

    #[test]
    fn single_use_opens_once_per_door() {
        let r = rule();
        assert_eq!(r.decide("door_a", 1_500, 0, false, &utc()), Ok(()));
        assert_eq!(
            r.decide("door_a", 1_500, 1, false, &utc()),
            Err(Denied::UsedUp)
        );
        assert_eq!(
            r.decide("door_b", 1_500, 0, false, &utc()),
            Err(Denied::WrongDoor)
        );
    }

    #[test]
    fn period_is_half_open() {
        let r = rule();
        assert_eq!(
            r.decide("door_a", 999, 0, false, &utc()),
            Err(Denied::NotYetValid)
        );
        assert_eq!(r.decide("door_a", 1_000, 0, false, &utc()), Ok(()));
        assert_eq!(
            r.decide("door_a", 2_000, 0, false, &utc()),
            Err(Denied::Expired)
        );
    }

    #[test]
    fn revocation_wins_over_everything() {
        assert_eq!(
            rule().decide("door_b", 0, 9, true, &utc()),
            Err(Denied::Revoked)
        );
    }

    #[test]
    fn validation_refuses_bad_rules() {
        let mut r = rule();
        r.not_after_ms = 1_000;
        assert!(r.validate(0).is_err());
        let mut r = rule();
        r.doors.clear();
        assert!(r.validate(0).is_err());
        let mut r = rule();
        r.max_uses = Some(0);
        assert!(r.validate(0).is_err());
        let mut r = rule();
        r.schedule = vec![WeeklyWindow {
            days: [Weekday::Mon].into(),
            start_minute: 600,
            end_minute: 600,
        }];
        assert!(r.validate(0).is_err());
        assert!(rule().validate(0).is_ok());
        assert!(rule().validate(5_000).is_err(), "already over");
    }

    #[test]
    fn times_of_day_parse_and_print() {
        assert_eq!(parse_minute_of_day("start", "07:30"), Ok(450));
        assert_eq!(parse_minute_of_day("end", "24:00"), Ok(1440));
        assert!(parse_minute_of_day("end", "24:01").is_err());
        assert!(parse_minute_of_day("end", "7:30").is_err());
        assert!(parse_minute_of_day("end", "07:60").is_err());
        assert_eq!(format_minute_of_day(450), "07:30");
    }

    #[test]
    fn spring_forward_skips_and_fall_back_repeats() {
        // Europe/Warsaw, 2026: clocks go 02:00 → 03:00 on 29 March (01:00 UTC)
        // and 03:00 → 02:00 on 25 October (01:00 UTC).
        let zone = Timezone::parse("Europe/Warsaw").unwrap();
        let r = GrantRule {
            schedule: vec![WeeklyWindow {
                days: [Weekday::Sun].into(),
                start_minute: 2 * 60,
                end_minute: 2 * 60 + 30,
            }],
            not_before_ms: 0,
            not_after_ms: i64::MAX,
            ..rule()
        };
        let march_29_0100_utc = 1_774_746_000_000;
        // 00:30 UTC = 01:30 CET: before the window. 01:00 UTC = 03:00 CEST:
        // the window 02:00–02:30 never happened.
        assert!(!r.in_schedule(march_29_0100_utc - 1_800_000, &zone));
        assert!(!r.in_schedule(march_29_0100_utc, &zone));
        let october_25_0100_utc = 1_792_890_000_000;
        // 00:15 UTC = 02:15 CEST, and 01:15 UTC = 02:15 CET: inside both times.
        assert!(r.in_schedule(october_25_0100_utc - 2_700_000, &zone));
        assert!(r.in_schedule(october_25_0100_utc + 900_000, &zone));
        assert!(!r.in_schedule(october_25_0100_utc + 1_800_000, &zone));
    }
}
