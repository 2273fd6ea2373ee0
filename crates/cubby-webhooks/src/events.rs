//! The event catalogue: stable dotted type names, one typed payload per type,
//! the envelope sent as the request body, and subscription filters.
//!
//! Payloads are "thin" in the specification's sense and hold **no personal
//! data**: only ids, times, site/locker ids, compartment labels, carrier codes,
//! states and machine-readable reasons. Never resident names, units, emails,
//! phones, pick-up codes, QR tokens, tracking numbers or item descriptions
//! (security.md: carriers and integrators must not get personal data). A
//! consumer that needs more calls the API, where access is checked and logged.
//!
//! Type names carry no version suffix: a payload only ever gains optional
//! fields. A change that would break consumers gets a new type name
//! (`parcel.deposited.v2`) next to the old one, so subscribers opt in.

use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every kind of event Cubby sends. Serialised as its dotted name.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum EventType {
    /// A carrier pre-advised a parcel.
    #[serde(rename = "parcel.announced")]
    ParcelAnnounced,
    /// A parcel was put in a compartment (or the parcel room).
    #[serde(rename = "parcel.deposited")]
    ParcelDeposited,
    /// The recipient was reminded to collect a parcel.
    #[serde(rename = "parcel.reminder_sent")]
    ParcelReminderSent,
    /// The recipient took the parcel out.
    #[serde(rename = "parcel.picked_up")]
    ParcelPickedUp,
    /// The pick-up deadline passed.
    #[serde(rename = "parcel.expired")]
    ParcelExpired,
    /// The parcel went back to its carrier.
    #[serde(rename = "parcel.returned")]
    ParcelReturned,
    /// A resident's return or shipment was put in a compartment: the carrier
    /// may collect it.
    #[serde(rename = "parcel.dropped_off")]
    ParcelDroppedOff,
    /// A parcel not yet delivered is to go to another locker (or pick-up point).
    #[serde(rename = "parcel.redirected")]
    ParcelRedirected,
    /// A door opened without an unlock.
    #[serde(rename = "locker.door_forced")]
    LockerDoorForced,
    /// A chilled or frozen zone left its temperature band.
    #[serde(rename = "locker.temperature_alarm")]
    LockerTemperatureAlarm,
    /// The locker's agent stopped reporting.
    #[serde(rename = "locker.offline")]
    LockerOffline,
    /// The locker's agent reports again.
    #[serde(rename = "locker.online")]
    LockerOnline,
    /// A credential opened compartments at a locker.
    #[serde(rename = "access.granted")]
    AccessGranted,
    /// A credential presented at a locker was refused.
    #[serde(rename = "access.denied")]
    AccessDenied,
    /// An incident was opened for staff.
    #[serde(rename = "incident.raised")]
    IncidentRaised,
}

impl EventType {
    /// Every event type, in catalogue order.
    pub const ALL: &'static [EventType] = &[
        EventType::ParcelAnnounced,
        EventType::ParcelDeposited,
        EventType::ParcelReminderSent,
        EventType::ParcelPickedUp,
        EventType::ParcelExpired,
        EventType::ParcelReturned,
        EventType::ParcelDroppedOff,
        EventType::ParcelRedirected,
        EventType::LockerDoorForced,
        EventType::LockerTemperatureAlarm,
        EventType::LockerOffline,
        EventType::LockerOnline,
        EventType::AccessGranted,
        EventType::AccessDenied,
        EventType::IncidentRaised,
    ];

    /// The stable dotted name, e.g. `parcel.deposited`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::ParcelAnnounced => "parcel.announced",
            EventType::ParcelDeposited => "parcel.deposited",
            EventType::ParcelReminderSent => "parcel.reminder_sent",
            EventType::ParcelPickedUp => "parcel.picked_up",
            EventType::ParcelExpired => "parcel.expired",
            EventType::ParcelReturned => "parcel.returned",
            EventType::ParcelDroppedOff => "parcel.dropped_off",
            EventType::ParcelRedirected => "parcel.redirected",
            EventType::LockerDoorForced => "locker.door_forced",
            EventType::LockerTemperatureAlarm => "locker.temperature_alarm",
            EventType::LockerOffline => "locker.offline",
            EventType::LockerOnline => "locker.online",
            EventType::AccessGranted => "access.granted",
            EventType::AccessDenied => "access.denied",
            EventType::IncidentRaised => "incident.raised",
        }
    }

    /// The type with this exact dotted name.
    pub fn parse(name: &str) -> Result<EventType, UnknownEventType> {
        EventType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| UnknownEventType(name.to_owned()))
    }
}

impl EventType {
    /// The first segment of the name: `parcel`, `locker`, `access` or `incident`.
    pub fn group(self) -> &'static str {
        let name = self.as_str();
        name.split_once('.').map_or(name, |(group, _)| group)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventType {
    type Err = UnknownEventType;
    fn from_str(s: &str) -> Result<EventType, UnknownEventType> {
        EventType::parse(s)
    }
}

/// A type name that is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown event type {0:?}; known types: parcel.*, locker.*, access.*, incident.* (see EventType::ALL)"
)]
pub struct UnknownEventType(pub String);

// ---------------------------------------------------------------------------
// Payload building blocks

/// Where a parcel is in its life (the server's lifecycle states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParcelState {
    Announced,
    Deposited,
    OnHold,
    Unassigned,
    PickedUp,
    Expired,
    ReturnedToCarrier,
    Cancelled,
    ReturnAnnounced,
    DroppedOff,
}

/// How a door was opened or attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessMethod {
    /// A keypad code (the code itself is never sent).
    Keypad,
    /// A QR token (the token itself is never sent).
    Qr,
    /// A courier's pass.
    CourierPass,
    /// A remote open by staff through the API.
    Remote,
    /// A resident's phone answering the kiosk's challenge.
    Phone,
}

/// Why access was refused; nothing that identifies what was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DenialReason {
    /// The credential matched nothing.
    NoMatch,
    /// The credential was valid once but has expired.
    Expired,
    /// The keypad is locked out after repeated failures.
    LockedOut,
    /// Known credential, but not allowed here (e.g. a parcel not pre-advised).
    NotPermitted,
}

/// A temperature-controlled zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemperatureZone {
    Chilled,
    Frozen,
}

// ---------------------------------------------------------------------------
// Payloads, one per event type

/// `parcel.announced`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParcelAnnounced {
    pub parcel_id: String,
    pub site_id: String,
    /// Carrier code, e.g. `dhl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    pub state: ParcelState,
}

/// `parcel.deposited`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParcelDeposited {
    pub parcel_id: String,
    pub site_id: String,
    /// Absent for parcels put in a parcel room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locker_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_id: Option<String>,
    /// The label printed on the door, e.g. `A07`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    pub state: ParcelState,
    /// When the parcel expires if not collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub pickup_deadline: Option<DateTime<Utc>>,
}

/// `parcel.reminder_sent` (which channel, and to whom, is not said).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParcelReminderSent {
    pub parcel_id: String,
    pub site_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locker_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_label: Option<String>,
    pub state: ParcelState,
    /// 1 for the first reminder, 2 for the second, …
    pub reminder: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub pickup_deadline: Option<DateTime<Utc>>,
}

/// `parcel.picked_up`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParcelPickedUp {
    pub parcel_id: String,
    pub site_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locker_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    pub state: ParcelState,
}

/// `parcel.expired`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParcelExpired {
    pub parcel_id: String,
    pub site_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locker_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    pub state: ParcelState,
}

/// `parcel.returned` (handed back to the carrier)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParcelReturned {
    pub parcel_id: String,
    pub site_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locker_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    pub state: ParcelState,
}

/// `parcel.dropped_off` (a resident's return or shipment is in a compartment)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParcelDroppedOff {
    pub parcel_id: String,
    pub site_id: String,
    pub locker_id: String,
    /// The label printed on the door the courier opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    pub state: ParcelState,
}

/// `parcel.redirected` (deliver it to `locker_id` instead; for a pick-up
/// point of another site, the parcel continues there under a new id in that
/// site's `parcel.announced`)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ParcelRedirected {
    pub parcel_id: String,
    pub site_id: String,
    /// Where it goes now.
    pub locker_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
}

/// `locker.door_forced`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LockerDoorForced {
    pub locker_id: String,
    pub site_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_id: Option<String>,
    pub compartment_label: String,
    /// The incident opened for it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<String>,
}

/// `locker.temperature_alarm`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LockerTemperatureAlarm {
    pub locker_id: String,
    pub site_id: String,
    pub zone: TemperatureZone,
    /// Degrees Celsius measured.
    pub measured_celsius: f64,
    /// The limit that was crossed, degrees Celsius.
    pub limit_celsius: f64,
}

/// `locker.offline`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LockerOffline {
    pub locker_id: String,
    pub site_id: String,
    /// When the agent was last heard from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// `locker.online`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LockerOnline {
    pub locker_id: String,
    pub site_id: String,
    /// How long it was offline, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_seconds: Option<u64>,
}

/// `access.granted`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessGranted {
    pub site_id: String,
    pub locker_id: String,
    pub method: AccessMethod,
    /// The doors that opened.
    pub compartment_labels: Vec<String>,
    /// The parcels behind those doors, when known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parcel_ids: Vec<String>,
    /// Carrier code, for courier passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
}

/// `access.denied` (carries nothing that identifies what was presented)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessDenied {
    pub site_id: String,
    pub locker_id: String,
    pub method: AccessMethod,
    pub reason: DenialReason,
}

/// `incident.raised`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IncidentRaised {
    pub incident_id: String,
    pub site_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locker_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compartment_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parcel_id: Option<String>,
    /// A short machine name such as `door_forced`, `lock_stuck`,
    /// `door_held_open`, `board_fault`. Never the free-text detail.
    pub kind: String,
}

/// The payload of an event, tagged by its type. Serialised (inside [`Event`])
/// as `"type": "<name>", "data": { … }`. The names are spelled again here for
/// serde; the test `serialised_type_is_as_str` keeps them equal to
/// [`EventType::as_str`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "data")]
pub enum EventData {
    #[serde(rename = "parcel.announced")]
    ParcelAnnounced(ParcelAnnounced),
    #[serde(rename = "parcel.deposited")]
    ParcelDeposited(ParcelDeposited),
    #[serde(rename = "parcel.reminder_sent")]
    ParcelReminderSent(ParcelReminderSent),
    #[serde(rename = "parcel.picked_up")]
    ParcelPickedUp(ParcelPickedUp),
    #[serde(rename = "parcel.expired")]
    ParcelExpired(ParcelExpired),
    #[serde(rename = "parcel.returned")]
    ParcelReturned(ParcelReturned),
    #[serde(rename = "parcel.dropped_off")]
    ParcelDroppedOff(ParcelDroppedOff),
    #[serde(rename = "parcel.redirected")]
    ParcelRedirected(ParcelRedirected),
    #[serde(rename = "locker.door_forced")]
    LockerDoorForced(LockerDoorForced),
    #[serde(rename = "locker.temperature_alarm")]
    LockerTemperatureAlarm(LockerTemperatureAlarm),
    #[serde(rename = "locker.offline")]
    LockerOffline(LockerOffline),
    #[serde(rename = "locker.online")]
    LockerOnline(LockerOnline),
    #[serde(rename = "access.granted")]
    AccessGranted(AccessGranted),
    #[serde(rename = "access.denied")]
    AccessDenied(AccessDenied),
    #[serde(rename = "incident.raised")]
    IncidentRaised(IncidentRaised),
}

impl EventData {
    /// The type this payload belongs to.
    pub fn event_type(&self) -> EventType {
        match self {
            EventData::ParcelAnnounced(_) => EventType::ParcelAnnounced,
            EventData::ParcelDeposited(_) => EventType::ParcelDeposited,
            EventData::ParcelReminderSent(_) => EventType::ParcelReminderSent,
            EventData::ParcelPickedUp(_) => EventType::ParcelPickedUp,
            EventData::ParcelExpired(_) => EventType::ParcelExpired,
            EventData::ParcelReturned(_) => EventType::ParcelReturned,
            EventData::ParcelDroppedOff(_) => EventType::ParcelDroppedOff,
            EventData::ParcelRedirected(_) => EventType::ParcelRedirected,
            EventData::LockerDoorForced(_) => EventType::LockerDoorForced,
            EventData::LockerTemperatureAlarm(_) => EventType::LockerTemperatureAlarm,
            EventData::LockerOffline(_) => EventType::LockerOffline,
            EventData::LockerOnline(_) => EventType::LockerOnline,
            EventData::AccessGranted(_) => EventType::AccessGranted,
            EventData::AccessDenied(_) => EventType::AccessDenied,
            EventData::IncidentRaised(_) => EventType::IncidentRaised,
        }
    }
}

impl EventData {
    /// A realistic example payload of type `t`, for documentation, OpenAPI
    /// examples and tests. Ids are fixed so examples stay stable.
    pub fn example(t: EventType) -> EventData {
        const PARCEL: &str = "par_5f0c2b7a9d1e4c3b8a6f0e1d2c3b4a59";
        const SITE: &str = "site_0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a";
        const LOCKER: &str = "lck_1a2b3c4d5e6f708192a3b4c5d6e7f809";
        const COMPARTMENT: &str = "cmp_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
        const INCIDENT: &str = "inc_4b3a29180f7e6d5c4b3a291807f6e5d4";
        let s = |v: &str| v.to_owned();
        let deadline = DateTime::parse_from_rfc3339("2026-03-09T18:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .ok();
        match t {
            EventType::ParcelAnnounced => EventData::ParcelAnnounced(ParcelAnnounced {
                parcel_id: s(PARCEL),
                site_id: s(SITE),
                carrier: Some(s("dhl")),
                state: ParcelState::Announced,
            }),
            EventType::ParcelDeposited => EventData::ParcelDeposited(ParcelDeposited {
                parcel_id: s(PARCEL),
                site_id: s(SITE),
                locker_id: Some(s(LOCKER)),
                compartment_id: Some(s(COMPARTMENT)),
                compartment_label: Some(s("A07")),
                carrier: Some(s("dhl")),
                state: ParcelState::Deposited,
                pickup_deadline: deadline,
            }),
            EventType::ParcelReminderSent => EventData::ParcelReminderSent(ParcelReminderSent {
                parcel_id: s(PARCEL),
                site_id: s(SITE),
                locker_id: Some(s(LOCKER)),
                compartment_label: Some(s("A07")),
                state: ParcelState::Deposited,
                reminder: 1,
                pickup_deadline: deadline,
            }),
            EventType::ParcelPickedUp => EventData::ParcelPickedUp(ParcelPickedUp {
                parcel_id: s(PARCEL),
                site_id: s(SITE),
                locker_id: Some(s(LOCKER)),
                compartment_label: Some(s("A07")),
                carrier: Some(s("dhl")),
                state: ParcelState::PickedUp,
            }),
            EventType::ParcelExpired => EventData::ParcelExpired(ParcelExpired {
                parcel_id: s(PARCEL),
                site_id: s(SITE),
                locker_id: Some(s(LOCKER)),
                compartment_label: Some(s("A07")),
                carrier: Some(s("dhl")),
                state: ParcelState::Expired,
            }),
            EventType::ParcelReturned => EventData::ParcelReturned(ParcelReturned {
                parcel_id: s(PARCEL),
                site_id: s(SITE),
                locker_id: Some(s(LOCKER)),
                carrier: Some(s("dhl")),
                state: ParcelState::ReturnedToCarrier,
            }),
            EventType::ParcelDroppedOff => EventData::ParcelDroppedOff(ParcelDroppedOff {
                parcel_id: s(PARCEL),
                site_id: s(SITE),
                locker_id: s(LOCKER),
                compartment_label: Some(s("A07")),
                carrier: Some(s("dhl")),
                state: ParcelState::DroppedOff,
            }),
            EventType::ParcelRedirected => EventData::ParcelRedirected(ParcelRedirected {
                parcel_id: s(PARCEL),
                site_id: s(SITE),
                locker_id: s(LOCKER),
                carrier: Some(s("dhl")),
            }),
            EventType::LockerDoorForced => EventData::LockerDoorForced(LockerDoorForced {
                locker_id: s(LOCKER),
                site_id: s(SITE),
                compartment_id: Some(s(COMPARTMENT)),
                compartment_label: s("A07"),
                incident_id: Some(s(INCIDENT)),
            }),
            EventType::LockerTemperatureAlarm => {
                EventData::LockerTemperatureAlarm(LockerTemperatureAlarm {
                    locker_id: s(LOCKER),
                    site_id: s(SITE),
                    zone: TemperatureZone::Chilled,
                    measured_celsius: 9.5,
                    limit_celsius: 8.0,
                })
            }
            EventType::LockerOffline => EventData::LockerOffline(LockerOffline {
                locker_id: s(LOCKER),
                site_id: s(SITE),
                last_seen_at: deadline,
            }),
            EventType::LockerOnline => EventData::LockerOnline(LockerOnline {
                locker_id: s(LOCKER),
                site_id: s(SITE),
                offline_seconds: Some(420),
            }),
            EventType::AccessGranted => EventData::AccessGranted(AccessGranted {
                site_id: s(SITE),
                locker_id: s(LOCKER),
                method: AccessMethod::Keypad,
                compartment_labels: vec![s("A07")],
                parcel_ids: vec![s(PARCEL)],
                carrier: None,
            }),
            EventType::AccessDenied => EventData::AccessDenied(AccessDenied {
                site_id: s(SITE),
                locker_id: s(LOCKER),
                method: AccessMethod::Keypad,
                reason: DenialReason::NoMatch,
            }),
            EventType::IncidentRaised => EventData::IncidentRaised(IncidentRaised {
                incident_id: s(INCIDENT),
                site_id: s(SITE),
                locker_id: Some(s(LOCKER)),
                compartment_label: Some(s("A07")),
                parcel_id: None,
                kind: s("door_forced"),
            }),
        }
    }
}

/// The request body of a webhook, after the specification's recommended
/// structure: `{"id": "evt_…", "timestamp": "<RFC 3339>", "type": "parcel.deposited", "data": {…}}`.
/// `timestamp` is when the event happened (not when it is delivered; that is
/// the `webhook-timestamp` header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Stable unique id (`evt_` + 32 hex), the same for every endpoint and retry.
    pub id: String,
    /// When the event happened, RFC 3339 in UTC.
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: DateTime<Utc>,
    /// `type` and `data`.
    #[serde(flatten)]
    pub data: EventData,
}

impl Event {
    /// An event; the timestamp is kept to the millisecond.
    pub fn new(id: impl Into<String>, timestamp: DateTime<Utc>, data: EventData) -> Event {
        Event {
            id: id.into(),
            timestamp: timestamp.trunc_subsecs(3),
            data,
        }
    }

    /// A new event with a fresh random id (see [`crate::new_event_id`]).
    pub fn generate<R: rand::RngCore + ?Sized>(
        rng: &mut R,
        timestamp: DateTime<Utc>,
        data: EventData,
    ) -> Event {
        Event::new(crate::new_event_id(rng), timestamp, data)
    }

    pub fn event_type(&self) -> EventType {
        self.data.event_type()
    }

    /// The exact bytes to send and sign (compact JSON).
    pub fn to_body(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_well_formed() {
        assert_eq!(EventType::ALL.len(), 15);
        for &t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Ok(t));
            assert_eq!(t.to_string(), t.as_str());
            assert!(
                t.as_str().bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'_'
                    || b == b'.'),
                "{t}"
            );
            assert_eq!(t.as_str().split('.').count(), 2, "{t}");
            assert!(["parcel", "locker", "access", "incident"].contains(&t.group()));
        }
        let err = EventType::parse("parcel.lost").unwrap_err();
        assert!(err.to_string().contains("parcel.lost"));
        assert!(EventType::parse("Parcel.Deposited").is_err());
    }

    #[test]
    fn schema_enum_is_the_dotted_names() {
        use utoipa::PartialSchema;
        let v = serde_json::to_value(EventType::schema()).unwrap();
        let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(v["enum"], serde_json::json!(names));
    }

    #[test]
    fn serialised_type_is_as_str() {
        for &t in EventType::ALL {
            let data = EventData::example(t);
            assert_eq!(data.event_type(), t);
            let v = serde_json::to_value(&data).unwrap();
            assert_eq!(v["type"], t.as_str());
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
    }

    #[test]
    fn envelope_has_the_recommended_shape_and_round_trips() {
        let at = DateTime::parse_from_rfc3339("2026-03-02T09:15:00.250Z")
            .unwrap()
            .with_timezone(&Utc);
        let e = Event::new(
            "evt_00000000000000000000000000000001",
            at,
            EventData::example(EventType::ParcelDeposited),
        );
        let v: serde_json::Value = serde_json::from_slice(&e.to_body().unwrap()).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["data", "id", "timestamp", "type"]);
        assert_eq!(v["type"], "parcel.deposited");
        assert_eq!(v["timestamp"], "2026-03-02T09:15:00.250Z");
        assert_eq!(v["data"]["compartment_label"], "A07");
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }
}
