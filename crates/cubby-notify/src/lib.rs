//! Notification channels and templates for Cubby.
//!
//! This crate turns a [`Notice`] (what happened, to whom, in which language)
//! into a [`Rendered`] message and delivers it by e-mail ([`EmailTransport`],
//! SMTP via lettre) or SMS ([`SmsTransport`], an HTTP provider adapter). It does
//! no scheduling, storage or retrying itself: the server's outbox stores a
//! [`Notice`] as JSON, calls [`render`] and a transport, and uses
//! [`SendError::retryable`] to decide between a later attempt and giving up.
//! Provider outages therefore never block anything but the outbox row.
//!
//! # What a notice may carry
//!
//! A [`Notice`] has no field for an item description, merchant or tracking
//! number, so no template can show one (unknown JSON fields are dropped when a
//! row is read). The pick-up code appears in bodies and SMS, never in a
//! subject; the QR token never appears as text, only as the inline QR image.
//! `Debug` of [`Notice`], [`Rendered`], [`EmailConfig`] and [`SmsConfig`]
//! redacts codes, tokens, bodies and secrets, and [`SendError`] messages never
//! include a message body or a provider's reply body.
//!
//! # Templates
//!
//! Built-in [minijinja](minijinja) templates exist for every [`NoticeKind`] in
//! every [`Language`] (en, es, pl, de; anything else falls back to en) and for
//! each [`Part`]: `subject`, `text`, `html` and `sms`. They are compiled into
//! the binary; [`default_source`] returns one so an operator can start from it.
//! A site can replace any (kind, language, part) with its own source through
//! [`Overrides`]; [`validate_override`] (also run by [`Overrides::insert`])
//! compiles it and test-renders it against sample notices, and any failure is
//! a [`TemplateError`] naming kind, language and part.
//!
//! Rendering rules: `trim_blocks` and `lstrip_blocks` are on; HTML parts are
//! auto-escaped, the others are not; an unknown variable is an error; a
//! render has a fuel limit, so an override cannot loop for ever; subject and
//! SMS are folded onto one line. Templates see these variables:
//!
//! | variable | value |
//! | --- | --- |
//! | `kind`, `language` | e.g. `"parcel_ready"`, `"pl"` |
//! | `recipient_name`, `site_name`, `locker_name` | strings |
//! | `code` | pick-up code or none |
//! | `has_qr` | whether the message carries the QR image |
//! | `qr_src` | `"cid:cubby-pickup-qr"` or none (use as `<img src>`) |
//! | `expires_at`, `hold_until` | preformatted local times or none |
//! | `parcel_count` | number |
//! | `unit`, `days_waiting`, `carrier_name` | escalation / return details or none |
//!
//! and one function, `plural(n, one, other)` or `plural(n, one, few, many)`
//! (Polish rules for the three-form call in Polish).
//!
//! # Channels
//!
//! E-mail is `multipart/alternative` (text + HTML); given a QR payload the HTML
//! becomes `multipart/related` with an inline PNG (Content-ID
//! [`render::QR_CONTENT_ID`]) drawn by [`qr::qr_png`], which uses the `qrcode`
//! crate for the symbol and a small PNG encoder of our own (stored deflate,
//! CRC-32, Adler-32). SMTP security is none, STARTTLS or implicit TLS, with
//! rustls and the ring provider (installed by [`install_ring_provider`]).
//! SMS speaks Twilio's Messages API or a documented generic JSON shape
//! ([`SmsFormat`]).
//!
//! Retry classification ([`SendError::retryable`]): SMTP 4xx, refused
//! connections, timeouts and TLS/network failures are retryable, SMTP 5xx and
//! malformed addresses are not; HTTP 408/429/5xx and connection failures are
//! retryable, other HTTP 4xx are not.
//!
//! # Example
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use cubby_notify::*;
//!
//! let mut notice = Notice::new(NoticeKind::ParcelReady, Language::parse("es-MX"),
//!     "Ana", "Riverside Court", "Lobby A");
//! notice.code = Some("48213907".into());
//! notice.qr_token = Some("opaque-token".into());
//! let rendered = render(&notice, &Overrides::new())?;
//!
//! let email = EmailTransport::new(EmailConfig {
//!     host: "smtp.example.org".into(), port: 587, security: SmtpSecurity::StartTls,
//!     username: Some("cubby".into()), password: Some("secret".into()),
//!     from: "Cubby <parcels@example.org>".into(), timeout: Duration::from_secs(20),
//!     helo_name: None, extra_root_pem: None,
//! })?;
//! email.send("ana@example.org", &rendered, notice.qr_token.as_deref()).await?;
//! # Ok(()) }
//! ```

mod defaults;
pub mod email;
pub mod error;
pub mod model;
pub mod qr;
pub mod render;
pub mod sms;

pub use email::{EmailConfig, EmailTransport, SmtpSecurity, install_ring_provider};
pub use error::SendError;
pub use model::{Language, Notice, NoticeKind};
pub use render::{
    Overrides, Part, Rendered, TemplateError, default_source, render, validate_override,
};
pub mod push;
pub use push::{PushSubscription, PushTransport};
pub use sms::{GenericAuth, SmsConfig, SmsFormat, SmsReceipt, SmsTransport};
