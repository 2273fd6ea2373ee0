//! cubby-notify integration tests: templates (snapshots), e-mail against a
//! real SMTP server (aiosmtpd), SMS against a local HTTP server.

mod email;
mod sms;
mod support;
mod templates;
