//! Community policies of a site: how long parcels may stay, when residents are
//! reminded, what happens at expiry, holds, quiet hours and escalation to
//! staff. Policies are data: validated here, versioned by the store, and every
//! decision names the policy version and rule that made it.
//!
//! Pure: the scheduler asks [`plan_for`] what is due for a parcel at an
//! instant; the answer is in UTC milliseconds, computed in the site's local
//! time where people are involved (quiet hours), so daylight-saving changes
//! move nothing by an hour.

use chrono::{Duration, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::model::{Invalid, TemperatureZone, Timezone};
use crate::reservation::ReservationRules;

const HOUR_MS: Millis = 3_600_000;

/// Hours per temperature zone.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneHours {
    pub ambient: u32,
    pub chilled: u32,
    pub frozen: u32,
}

impl ZoneHours {
    pub fn of(&self, zone: TemperatureZone) -> u32 {
        match zone {
            TemperatureZone::Ambient => self.ambient,
            TemperatureZone::Chilled => self.chilled,
            TemperatureZone::Frozen => self.frozen,
        }
    }
}

/// A reminder some hours before expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderRule {
    /// Stable name shown in the parcel's timeline, e.g. `24h-before-expiry`.
    pub id: String,
    pub hours_before_expiry: u32,
}

/// What happens to a parcel nobody collected in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AtExpiry {
    /// Expired and queued for the carrier to take back (carrier notified).
    ReturnToCarrier,
    /// Expired and left for staff to deal with.
    KeepForStaff,
}

/// Local hours during which nobody is messaged (e.g. 22:00–07:00).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// "HH:MM", site local time.
    pub start: String,
    pub end: String,
}

/// A site's community policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SitePolicy {
    /// How long a parcel may stay before it expires, per zone.
    pub dwell_limit_hours: ZoneHours,
    /// Reminders before expiry, for ambient parcels.
    pub reminders: Vec<ReminderRule>,
    /// Perishables (chilled, frozen) are reminded at this fraction of each
    /// rule's lead time ("half-time for perishables").
    pub perishable_reminder_factor: f64,
    pub at_expiry: AtExpiry,
    /// Most days a resident's hold or vacation may extend a parcel's expiry.
    pub max_hold_days: u32,
    pub quiet_hours: Option<QuietHours>,
    /// Staff are told about parcels still waiting this many hours after
    /// deposit (None: never).
    pub escalate_after_hours: Option<u32>,
    /// Whether carrier and courier tokens may deposit parcels they did not
    /// pre-advise (off: an unannounced parcel is refused with
    /// `not_pre_advised`, so a stolen courier token cannot fill lockers).
    pub allow_unannounced_carrier_deposits: bool,
    /// When a locker has no compartment for a parcel, deposit it at once at
    /// the nearest other locker of the site that has one (off: the deposit
    /// is refused with the places that could take it).
    pub overflow_to_nearest_locker: bool,
    /// How long personal data is kept.
    pub retention: Retention,
    /// How carriers may reserve compartments, and the courier windows.
    pub reservations: ReservationRules,
    /// The house rules residents read in the portal and acknowledge once
    /// (plain text; empty: none published).
    pub community_rules: String,
}

/// Longest community rules text, in characters.
pub const MAX_COMMUNITY_RULES: usize = 4_000;

const DAY_MS: Millis = 24 * HOUR_MS;

/// How long a site keeps personal data (security.md "Audit and privacy");
/// the retention job deletes what is older. Every period can be shortened,
/// none lengthened past the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Days after pick-up or return that a parcel keeps its recipient's
    /// name, unit and link and its tracking number, and that the notices
    /// and webhook events about it are kept (1 to 30).
    pub parcel_days: u32,
    /// Days door and access events are kept: locker journal events, door
    /// commands, PIN uses, and grants and courier passes after they end
    /// (1 to 90).
    pub access_days: u32,
    /// Days the security audit log keeps an event (183 to 365). The log is
    /// one chain for the installation, so it keeps events as long as the
    /// longest of the sites asks.
    pub audit_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            parcel_days: 30,
            access_days: 90,
            audit_days: 365,
        }
    }
}

impl Retention {
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(1..=30).contains(&self.parcel_days) {
            return Err(Invalid::new(
                "retention.parcel_days",
                "must be 1 to 30 days",
            ));
        }
        if !(1..=90).contains(&self.access_days) {
            return Err(Invalid::new(
                "retention.access_days",
                "must be 1 to 90 days",
            ));
        }
        if !(183..=365).contains(&self.audit_days) {
            return Err(Invalid::new(
                "retention.audit_days",
                "must be 183 to 365 days (6 to 12 months)",
            ));
        }
        Ok(())
    }

    /// The instants before which each kind of data has expired at `now`.
    pub fn cutoffs(&self, now: Millis) -> Cutoffs {
        Cutoffs {
            parcels_before: now - Millis::from(self.parcel_days) * DAY_MS,
            access_before: now - Millis::from(self.access_days) * DAY_MS,
            audit_before: now - Millis::from(self.audit_days) * DAY_MS,
        }
    }
}

/// What [`Retention::cutoffs`] answers: data last touched before each
/// instant is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub parcels_before: Millis,
    pub access_before: Millis,
    pub audit_before: Millis,
}

impl Default for SitePolicy {
    fn default() -> Self {
        SitePolicy {
            dwell_limit_hours: ZoneHours {
                ambient: 5 * 24,
                chilled: 24,
                frozen: 24,
            },
            reminders: vec![
                ReminderRule {
                    id: "24h-before-expiry".into(),
                    hours_before_expiry: 24,
                },
                ReminderRule {
                    id: "6h-before-expiry".into(),
                    hours_before_expiry: 6,
                },
            ],
            perishable_reminder_factor: 0.5,
            at_expiry: AtExpiry::ReturnToCarrier,
            max_hold_days: 14,
            quiet_hours: Some(QuietHours {
                start: "22:00".into(),
                end: "07:00".into(),
            }),
            escalate_after_hours: Some(4 * 24),
            allow_unannounced_carrier_deposits: false,
            overflow_to_nearest_locker: false,
            retention: Retention::default(),
            reservations: ReservationRules::default(),
            community_rules: String::new(),
        }
    }
}

fn parse_hhmm(field: &'static str, s: &str) -> Result<NaiveTime, Invalid> {
    NaiveTime::parse_from_str(s, "%H:%M")
        .map_err(|_| Invalid::new(field, format!("{s:?} is not a time like 22:00")))
}

impl SitePolicy {
    /// Checks every rule; the first problem is reported with its field.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.community_rules.chars().count() > MAX_COMMUNITY_RULES {
            return Err(Invalid::new("community_rules", "at most 4000 characters"));
        }
        if self
            .community_rules
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(Invalid::new(
                "community_rules",
                "plain text: no control characters other than line breaks",
            ));
        }
        let d = &self.dwell_limit_hours;
        for (field, h) in [
            ("dwell_limit_hours.ambient", d.ambient),
            ("dwell_limit_hours.chilled", d.chilled),
            ("dwell_limit_hours.frozen", d.frozen),
        ] {
            if !(1..=60 * 24).contains(&h) {
                return Err(Invalid::new(field, "must be 1 to 1440 hours (60 days)"));
            }
        }
        if self.reminders.len() > 5 {
            return Err(Invalid::new("reminders", "at most 5 reminders"));
        }
        let mut seen = std::collections::BTreeSet::new();
        for r in &self.reminders {
            if r.id.is_empty()
                || r.id.len() > 40
                || !r
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(Invalid::new(
                    "reminders.id",
                    "1 to 40 letters, digits, dashes or underscores",
                ));
            }
            if !seen.insert(r.id.as_str()) {
                return Err(Invalid::new(
                    "reminders.id",
                    format!("{} is repeated", r.id),
                ));
            }
            if r.hours_before_expiry == 0 || r.hours_before_expiry >= d.ambient {
                return Err(Invalid::new(
                    "reminders.hours_before_expiry",
                    "must be at least 1 and less than the ambient dwell limit",
                ));
            }
        }
        if !(self.perishable_reminder_factor > 0.0 && self.perishable_reminder_factor <= 1.0) {
            return Err(Invalid::new(
                "perishable_reminder_factor",
                "must be above 0 and at most 1",
            ));
        }
        if self.max_hold_days > 60 {
            return Err(Invalid::new("max_hold_days", "at most 60 days"));
        }
        if let Some(q) = &self.quiet_hours {
            let (s, e) = (
                parse_hhmm("quiet_hours.start", &q.start)?,
                parse_hhmm("quiet_hours.end", &q.end)?,
            );
            if s == e {
                return Err(Invalid::new("quiet_hours", "start and end must differ"));
            }
        }
        if let Some(h) = self.escalate_after_hours
            && !(1..=60 * 24).contains(&h)
        {
            return Err(Invalid::new(
                "escalate_after_hours",
                "must be 1 to 1440 hours",
            ));
        }
        self.retention.validate()?;
        self.reservations.validate()
    }

    /// When a parcel deposited at `deposited_ms` expires, with `hold_ms` of
    /// hold added (capped at the site maximum).
    pub fn expires_at(
        &self,
        zone: TemperatureZone,
        deposited_ms: Millis,
        hold_ms: Millis,
    ) -> Millis {
        let hold = hold_ms.clamp(0, Millis::from(self.max_hold_days) * 24 * HOUR_MS);
        // (`hold_ms` may be Millis::MAX: "as long as the site allows".)
        deposited_ms + Millis::from(self.dwell_limit_hours.of(zone)) * HOUR_MS + hold
    }

    /// The reminder rules for a zone with their lead time in milliseconds.
    pub fn reminders_for(&self, zone: TemperatureZone) -> Vec<(&str, Millis)> {
        let factor = if zone == TemperatureZone::Ambient {
            1.0
        } else {
            self.perishable_reminder_factor
        };
        let limit = Millis::from(self.dwell_limit_hours.of(zone)) * HOUR_MS;
        self.reminders
            .iter()
            .map(|r| {
                let lead = (f64::from(r.hours_before_expiry) * factor * HOUR_MS as f64) as Millis;
                (r.id.as_str(), lead)
            })
            // A lead as long as the stay would remind at the deposit itself.
            .filter(|(_, lead)| *lead > 0 && *lead < limit)
            .collect()
    }

    /// The first instant at or after `at_ms` outside quiet hours, in the
    /// site's local time.
    pub fn outside_quiet_hours(&self, tz: &Timezone, at_ms: Millis) -> Millis {
        let Some(q) = &self.quiet_hours else {
            return at_ms;
        };
        let (Ok(start), Ok(end)) = (
            parse_hhmm("quiet_hours.start", &q.start),
            parse_hhmm("quiet_hours.end", &q.end),
        ) else {
            return at_ms;
        };
        let Ok(zone) = tz.as_str().parse::<chrono_tz::Tz>() else {
            return at_ms;
        };
        let Some(local) = tz.local_time(at_ms) else {
            return at_ms;
        };
        let t = local.time();
        let quiet = if start < end {
            t >= start && t < end
        } else {
            t >= start || t < end
        };
        if !quiet {
            return at_ms;
        }
        // The end of this quiet period: today's end if still ahead, else tomorrow's.
        let end_date = if t < end {
            local.date()
        } else {
            local.date() + Duration::days(1)
        };
        let end_local = end_date.and_time(end);
        // A local time skipped by a DST change resolves to the first valid one after.
        let mut candidate = end_local;
        for _ in 0..4 {
            if let Some(t) = zone.from_local_datetime(&candidate).earliest() {
                return t.timestamp_millis().max(at_ms);
            }
            candidate += Duration::minutes(30);
        }
        at_ms
    }
}

/// What the scheduler should do for a parcel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    Reminder { rule: String },
    Expire,
    Escalate,
}

/// A parcel as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelClock {
    pub zone: TemperatureZone,
    pub deposited_ms: Millis,
    /// Total hold granted so far (extends the expiry).
    pub hold_ms: Millis,
    /// On hold right now: reminders pause.
    pub on_hold: bool,
    /// Reminder rules already sent for this parcel.
    pub reminded: Vec<String>,
    pub escalated: bool,
}

/// One scheduled step: what, and when it becomes due (UTC ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub due: Due,
    pub at_ms: Millis,
}

/// Every step still ahead (or overdue) for a parcel, earliest first. A
/// reminder falling in quiet hours moves to their end; a reminder that would
/// only arrive after expiry is dropped; a parcel on hold gets no reminders.
pub fn plan_for(policy: &SitePolicy, tz: &Timezone, p: &ParcelClock) -> Vec<Step> {
    let expires = policy.expires_at(p.zone, p.deposited_ms, p.hold_ms);
    let mut steps = Vec::new();
    if !p.on_hold {
        for (rule, lead) in policy.reminders_for(p.zone) {
            if p.reminded.iter().any(|r| r == rule) {
                continue;
            }
            let at = policy.outside_quiet_hours(tz, expires - lead);
            if at < expires {
                steps.push(Step {
                    due: Due::Reminder { rule: rule.into() },
                    at_ms: at,
                });
            }
        }
        steps.push(Step {
            due: Due::Expire,
            at_ms: expires,
        });
    } else {
        // On hold: no reminders, and the latest expiry the site allows.
        steps.push(Step {
            due: Due::Expire,
            at_ms: policy.expires_at(p.zone, p.deposited_ms, Millis::MAX),
        });
    }
    if let Some(h) = policy.escalate_after_hours
        && !p.escalated
    {
        steps.push(Step {
            due: Due::Escalate,
            at_ms: p.deposited_ms + Millis::from(h) * HOUR_MS,
        });
    }
    steps.sort_by_key(|s| s.at_ms);
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn warsaw() -> Timezone {
        Timezone::parse("Europe/Warsaw").unwrap()
    }

    fn ms(y: i32, m: u32, d: u32, h: u32, min: u32, tz: &Timezone) -> Millis {
        let zone: chrono_tz::Tz = tz.as_str().parse().unwrap();
        zone.with_ymd_and_hms(y, m, d, h, min, 0)
            .earliest()
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn retention_keeps_to_the_rule_and_cuts_off_by_whole_days() {
        let r = Retention::default();
        assert_eq!((r.parcel_days, r.access_days, r.audit_days), (30, 90, 365));
        r.validate().unwrap();
        for (bad, field) in [
            (
                Retention {
                    parcel_days: 31,
                    ..r
                },
                "retention.parcel_days",
            ),
            (
                Retention {
                    parcel_days: 0,
                    ..r
                },
                "retention.parcel_days",
            ),
            (
                Retention {
                    access_days: 91,
                    ..r
                },
                "retention.access_days",
            ),
            (
                Retention {
                    audit_days: 182,
                    ..r
                },
                "retention.audit_days",
            ),
            (
                Retention {
                    audit_days: 366,
                    ..r
                },
                "retention.audit_days",
            ),
        ] {
            let policy = SitePolicy {
                retention: bad,
                ..SitePolicy::default()
            };
            assert_eq!(policy.validate().unwrap_err().field, field);
        }
        let c = r.cutoffs(100 * DAY_MS);
        assert_eq!(c.parcels_before, 70 * DAY_MS);
        assert_eq!(c.access_before, 10 * DAY_MS);
        assert_eq!(c.audit_before, -265 * DAY_MS);
        // A policy stored before retention existed reads with the defaults.
        let old: SitePolicy = serde_json::from_str(r#"{"max_hold_days": 3}"#).unwrap();
        assert_eq!(old.retention, r);
    }

    #[test]
    fn the_default_policy_is_valid_and_reminds_at_24h_and_6h() {
        let p = SitePolicy::default();
        p.validate().unwrap();
        let r = p.reminders_for(TemperatureZone::Ambient);
        assert_eq!(
            r,
            vec![
                ("24h-before-expiry", 24 * HOUR_MS),
                ("6h-before-expiry", 6 * HOUR_MS)
            ]
        );
        // Perishables: half the lead time, inside a 24 h limit.
        let r = p.reminders_for(TemperatureZone::Chilled);
        assert_eq!(
            r,
            vec![
                ("24h-before-expiry", 12 * HOUR_MS),
                ("6h-before-expiry", 3 * HOUR_MS)
            ]
        );
    }

    #[test]
    fn bad_policies_name_the_field() {
        let mut p = SitePolicy::default();
        p.dwell_limit_hours.chilled = 0;
        assert_eq!(p.validate().unwrap_err().field, "dwell_limit_hours.chilled");
        let p = SitePolicy {
            quiet_hours: Some(QuietHours {
                start: "25:00".into(),
                end: "07:00".into(),
            }),
            ..SitePolicy::default()
        };
        assert_eq!(p.validate().unwrap_err().field, "quiet_hours.start");
        let mut p = SitePolicy::default();
        p.reminders[1].id = p.reminders[0].id.clone();
        assert_eq!(p.validate().unwrap_err().field, "reminders.id");
        let mut p = SitePolicy::default();
        p.reminders[0].hours_before_expiry = 500;
        assert_eq!(
            p.validate().unwrap_err().field,
            "reminders.hours_before_expiry"
        );
    }

    #[test]
    fn a_reminder_in_quiet_hours_waits_for_the_morning() {
        let tz = warsaw();
        let p = SitePolicy::default();
        let at = ms(2026, 11, 24, 23, 30, &tz);
        assert_eq!(p.outside_quiet_hours(&tz, at), ms(2026, 11, 25, 7, 0, &tz));
        let early = ms(2026, 11, 25, 5, 0, &tz);
        assert_eq!(
            p.outside_quiet_hours(&tz, early),
            ms(2026, 11, 25, 7, 0, &tz)
        );
        let day = ms(2026, 11, 25, 12, 0, &tz);
        assert_eq!(p.outside_quiet_hours(&tz, day), day);
    }

    #[test]
    fn quiet_hours_end_at_local_seven_across_daylight_saving_changes() {
        let tz = warsaw();
        let p = SitePolicy::default();
        // Night of 24–25 October 2026: clocks go back at 03:00 (CEST → CET).
        let night = ms(2026, 10, 24, 23, 0, &tz);
        let end = p.outside_quiet_hours(&tz, night);
        assert_eq!(end, ms(2026, 10, 25, 7, 0, &tz));
        // 9 hours of wall clock but 10 real hours passed.
        assert_eq!(end - night, 9 * HOUR_MS);
        // Night of 28–29 March 2026: clocks go forward at 02:00.
        let spring = ms(2026, 3, 28, 23, 0, &tz);
        assert_eq!(p.outside_quiet_hours(&tz, spring) - spring, 7 * HOUR_MS);
    }

    #[test]
    fn holds_pause_reminders_and_extend_expiry_within_the_maximum() {
        let tz = warsaw();
        let p = SitePolicy::default();
        let dep = ms(2026, 11, 2, 10, 0, &tz);
        let mut c = ParcelClock {
            zone: TemperatureZone::Ambient,
            deposited_ms: dep,
            hold_ms: 0,
            on_hold: false,
            reminded: vec![],
            escalated: false,
        };
        let steps = plan_for(&p, &tz, &c);
        let kinds: Vec<_> = steps.iter().map(|s| s.due.clone()).collect();
        assert_eq!(
            kinds,
            // Escalation at 96 h coincides with the 24 h reminder: reminders first.
            vec![
                Due::Reminder {
                    rule: "24h-before-expiry".into()
                },
                Due::Escalate,
                Due::Reminder {
                    rule: "6h-before-expiry".into()
                },
                Due::Expire
            ]
        );
        assert_eq!(steps[3].at_ms, dep + 120 * HOUR_MS);
        c.on_hold = true;
        c.hold_ms = 100 * 24 * HOUR_MS;
        let steps = plan_for(&p, &tz, &c);
        assert_eq!(
            steps.iter().map(|s| s.due.clone()).collect::<Vec<_>>(),
            vec![Due::Escalate, Due::Expire],
            "no reminders while on hold"
        );
        assert_eq!(steps[1].at_ms, dep + (120 + 14 * 24) * HOUR_MS);
        assert_eq!(
            p.expires_at(TemperatureZone::Ambient, dep, c.hold_ms),
            dep + 120 * HOUR_MS + 14 * 24 * HOUR_MS
        );
    }

    proptest! {
        /// Whatever the deposit time, zone and hold: reminders never fall in
        /// quiet hours, come before expiry, and each rule appears at most once.
        #[test]
        fn reminders_respect_quiet_hours_and_expiry(
            minutes in 0i64..(366 * 24 * 60),
            zone in prop_oneof![Just(TemperatureZone::Ambient), Just(TemperatureZone::Chilled), Just(TemperatureZone::Frozen)],
            hold_h in 0i64..400,
            tzname in prop_oneof![Just("Europe/Warsaw"), Just("America/New_York"), Just("Australia/Sydney"), Just("UTC")],
        ) {
            let tz = Timezone::parse(tzname).unwrap();
            let p = SitePolicy::default();
            let dep = 1_767_225_600_000 + minutes * 60_000; // from 2026-01-01
            let c = ParcelClock { zone, deposited_ms: dep, hold_ms: hold_h * HOUR_MS, on_hold: false, reminded: vec![], escalated: false };
            let steps = plan_for(&p, &tz, &c);
            let expires = p.expires_at(zone, dep, c.hold_ms);
            let mut rules = std::collections::BTreeSet::new();
            for s in &steps {
                if let Due::Reminder { rule } = &s.due {
                    prop_assert!(rules.insert(rule.clone()));
                    prop_assert!(s.at_ms < expires);
                    let t = tz.local_time(s.at_ms).unwrap().time();
                    let (q0, q1) = (NaiveTime::from_hms_opt(22, 0, 0).unwrap(), NaiveTime::from_hms_opt(7, 0, 0).unwrap());
                    prop_assert!(!(t >= q0 || t < q1), "reminder at local {t}");
                }
            }
            prop_assert!(steps.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
            prop_assert_eq!(steps.iter().filter(|s| s.due == Due::Expire).count(), 1);
        }
    }
}
