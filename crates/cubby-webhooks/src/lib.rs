//! Signed webhooks for Cubby after the [Standard Webhooks] specification.
//!
//! - [`Secret`]: `whsec_…` endpoint secrets (24–64 random bytes).
//! - [`sign`] / [`verify`]: `webhook-id`, `webhook-timestamp`, `webhook-signature`
//!   headers, HMAC-SHA256 over `{id}.{timestamp}.{body}`, several signatures for
//!   secret rotation, constant-time comparison, timestamp tolerance.
//! - [`EventType`], [`EventData`], [`Event`]: the catalogue and the JSON
//!   envelope (`id`, `type`, `timestamp`, `data`), free of personal data.
//! - [`EventFilter`]: which types a subscription wants (`parcel.*`, `*`, exact names).
//! - [`deliver`]: one HTTP attempt and its [`DeliveryOutcome`]; [`validate_url`];
//!   [`next_attempt_delay`] and [`MAX_ATTEMPTS`] for the retry schedule.
//!
//! Pure apart from [`deliver`]: no storage, no clock (times are passed in),
//! randomness from the caller's RNG.
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com

mod delivery;
mod events;
mod filter;
mod secret;
mod signing;
mod targets;

pub use delivery::{
    CONNECT_TIMEOUT, DeliveryOutcome, MAX_ATTEMPTS, MAX_RETRY_DELAY, MAX_URL_LEN, MIN_RETRY_DELAY,
    REQUEST_TIMEOUT, RETRY_CEILINGS, USER_AGENT, UrlError, WebhookClient, classify, client,
    deliver, deliver_body, deliver_with_timeout, next_attempt_delay, validate_url,
};
pub use events::{
    AccessDenied, AccessGranted, AccessMethod, DenialReason, Event, EventData, EventType,
    IncidentRaised, LockerDoorForced, LockerOffline, LockerOnline, LockerTemperatureAlarm,
    ParcelAnnounced, ParcelDeposited, ParcelDroppedOff, ParcelExpired, ParcelPickedUp,
    ParcelRedirected, ParcelReminderSent, ParcelReturned, ParcelState, TemperatureZone,
    UnknownEventType,
};
pub use filter::{EventFilter, FilterError, MAX_PATTERNS, Pattern};
pub use secret::{
    GENERATED_SECRET_BYTES, MAX_SECRET_BYTES, MIN_SECRET_BYTES, SECRET_PREFIX, Secret, SecretError,
};
pub use signing::{
    DEFAULT_TOLERANCE, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_MSG_ID_LEN, MsgIdError,
    SIGNATURE_VERSION, VerifyError, WebhookHeaders, sign, signature_header, validate_msg_id,
    verify,
};
pub use targets::Targets;

/// A new event id: `evt_` and 32 hex characters (128 random bits).
pub fn new_event_id<R: rand::RngCore + ?Sized>(rng: &mut R) -> String {
    prefixed_id("evt", rng)
}

/// A new message id for the `webhook-id` header: `msg_` and 32 hex characters.
/// Keep it for every retry of the message.
pub fn new_message_id<R: rand::RngCore + ?Sized>(rng: &mut R) -> String {
    prefixed_id("msg", rng)
}

fn prefixed_id<R: rand::RngCore + ?Sized>(prefix: &str, rng: &mut R) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    format!("{prefix}_{}", hex::encode(bytes))
}

/// Every schema this crate derives with utoipa, for the server's OpenAPI
/// document: `(name, schema)` pairs in catalogue order.
pub fn schemas() -> Vec<(
    String,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
)> {
    use utoipa::ToSchema;
    fn one<T: ToSchema>() -> (
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    ) {
        (T::name().into_owned(), T::schema())
    }
    vec![
        one::<Event>(),
        one::<EventData>(),
        one::<EventType>(),
        one::<ParcelState>(),
        one::<AccessMethod>(),
        one::<DenialReason>(),
        one::<TemperatureZone>(),
        one::<ParcelAnnounced>(),
        one::<ParcelDeposited>(),
        one::<ParcelReminderSent>(),
        one::<ParcelPickedUp>(),
        one::<ParcelExpired>(),
        one::<ParcelReturned>(),
        one::<ParcelDroppedOff>(),
        one::<ParcelRedirected>(),
        one::<LockerDoorForced>(),
        one::<LockerTemperatureAlarm>(),
        one::<LockerOffline>(),
        one::<LockerOnline>(),
        one::<AccessGranted>(),
        one::<AccessDenied>(),
        one::<IncidentRaised>(),
    ]
}
