//! Signing and verification after the Standard Webhooks specification (symmetric
//! scheme, signature identifier `v1`).
//!
//! The signed content is `{msg_id}.{timestamp}.{body}`; the signature is the
//! standard base64 of its HMAC-SHA256 under the endpoint secret, sent as
//! `v1,<base64>`. Several signatures are separated by single spaces so a secret
//! can be rotated without downtime: the sender signs with every active secret,
//! the receiver accepts the message when any one matches.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use sha2::Sha256;

use crate::secret::{MAX_SECRET_BYTES, Secret};

type HmacSha256 = Hmac<Sha256>;

/// The unique message id; the same on every retry of one message.
pub const HEADER_ID: &str = "webhook-id";
/// When this attempt was made, integer unix seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Space-separated `v1,<base64>` signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// The signature identifier of the symmetric scheme.
pub const SIGNATURE_VERSION: &str = "v1";
/// How far a timestamp may be from the receiver's clock (either way).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// Longest message id [`validate_msg_id`] accepts.
pub const MAX_MSG_ID_LEN: usize = 128;
/// Signatures beyond this many in one header are not looked at.
const MAX_SIGNATURES: usize = 16;

/// The HMAC for `key`. HMAC pads a key no longer than the hash's block size
/// (64 bytes for SHA-256) with zeros, so placing the key in a zeroed 64-byte
/// block gives the same MAC while using the infallible fixed-size constructor;
/// [`Secret`] guarantees at most [`MAX_SECRET_BYTES`] (= 64) bytes.
fn mac_for(secret: &Secret) -> HmacSha256 {
    let key = secret.as_bytes();
    let mut block = [0u8; MAX_SECRET_BYTES];
    let n = key.len().min(MAX_SECRET_BYTES);
    block[..n].copy_from_slice(&key[..n]);
    <HmacSha256 as KeyInit>::new(&block.into())
}

fn signed_content_mac(secret: &Secret, msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = mac_for(secret);
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// One signature, `v1,<base64(HMAC-SHA256(secret, "{msg_id}.{timestamp}.{body}"))>`.
pub fn sign(secret: &Secret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = signed_content_mac(secret, msg_id, timestamp, body).finalize();
    format!("{SIGNATURE_VERSION},{}", STANDARD.encode(tag.into_bytes()))
}

/// The `webhook-signature` value: one signature per secret, space-separated,
/// in the order given (put the newest secret first).
pub fn signature_header(secrets: &[Secret], msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a message id cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsgIdError {
    #[error("message id is empty")]
    Empty,
    #[error("message id is {0} characters; at most 128 are allowed")]
    TooLong(usize),
    #[error(
        "message id may hold only ASCII letters, digits, '_' and '-' (a '.' would make the signed content ambiguous)"
    )]
    BadCharacter,
}

/// Message ids are put in front of the signed content, so they must not contain
/// `.` (the specification's warning); we allow `[A-Za-z0-9_-]{1,128}`.
pub fn validate_msg_id(msg_id: &str) -> Result<(), MsgIdError> {
    if msg_id.is_empty() {
        return Err(MsgIdError::Empty);
    }
    if msg_id.len() > MAX_MSG_ID_LEN {
        return Err(MsgIdError::TooLong(msg_id.len()));
    }
    if !msg_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(MsgIdError::BadCharacter);
    }
    Ok(())
}

/// Why a received webhook was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("header {0} is missing")]
    MissingHeader(&'static str),
    #[error("header {0} is not valid")]
    InvalidHeader(&'static str),
    #[error("webhook-timestamp is more than the tolerance in the past (possible replay)")]
    TimestampTooOld,
    #[error("webhook-timestamp is more than the tolerance in the future")]
    TimestampTooNew,
    #[error("no secret to verify with")]
    NoSecrets,
    #[error("no matching v1 signature found")]
    NoMatchingSignature,
}

/// The three Standard Webhooks headers of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHeaders {
    /// `webhook-id`
    pub id: String,
    /// `webhook-timestamp` (unix seconds, as text)
    pub timestamp: String,
    /// `webhook-signature`
    pub signature: String,
}

impl WebhookHeaders {
    /// Signs `body` with every secret for message `msg_id` at `timestamp` (unix seconds).
    pub fn sign(secrets: &[Secret], msg_id: &str, timestamp: i64, body: &[u8]) -> WebhookHeaders {
        WebhookHeaders {
            id: msg_id.to_owned(),
            timestamp: timestamp.to_string(),
            signature: signature_header(secrets, msg_id, timestamp, body),
        }
    }

    /// Reads the headers from a request (names are case-insensitive there).
    pub fn from_header_map(map: &HeaderMap) -> Result<WebhookHeaders, VerifyError> {
        let get = |name: &'static str| -> Result<String, VerifyError> {
            let value = map.get(name).ok_or(VerifyError::MissingHeader(name))?;
            let text = value
                .to_str()
                .map_err(|_| VerifyError::InvalidHeader(name))?;
            if text.is_empty() {
                return Err(VerifyError::MissingHeader(name));
            }
            Ok(text.to_owned())
        };
        Ok(WebhookHeaders {
            id: get(HEADER_ID)?,
            timestamp: get(HEADER_TIMESTAMP)?,
            signature: get(HEADER_SIGNATURE)?,
        })
    }

    /// Reads the headers from name/value pairs; names are compared without case.
    pub fn from_pairs<'a, I>(pairs: I) -> Result<WebhookHeaders, VerifyError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let (mut id, mut timestamp, mut signature) = (None, None, None);
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            if name.eq_ignore_ascii_case(HEADER_ID) {
                id = Some(value.to_owned());
            } else if name.eq_ignore_ascii_case(HEADER_TIMESTAMP) {
                timestamp = Some(value.to_owned());
            } else if name.eq_ignore_ascii_case(HEADER_SIGNATURE) {
                signature = Some(value.to_owned());
            }
        }
        Ok(WebhookHeaders {
            id: id.ok_or(VerifyError::MissingHeader(HEADER_ID))?,
            timestamp: timestamp.ok_or(VerifyError::MissingHeader(HEADER_TIMESTAMP))?,
            signature: signature.ok_or(VerifyError::MissingHeader(HEADER_SIGNATURE))?,
        })
    }

    /// The headers as (name, value) pairs, lower-case names.
    pub fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            (HEADER_ID, self.id.as_str()),
            (HEADER_TIMESTAMP, self.timestamp.as_str()),
            (HEADER_SIGNATURE, self.signature.as_str()),
        ]
    }
}

/// Checks a received webhook: the timestamp is within `tolerance` of `now`
/// (either way) and at least one `v1` signature in the header is the MAC of
/// `{id}.{timestamp}.{body}` under one of `secrets`. MACs are compared in
/// constant time. Signatures of other schemes (e.g. `v1a`) and malformed
/// entries are skipped, as the specification asks.
pub fn verify(
    secrets: &[Secret],
    headers: &WebhookHeaders,
    body: &[u8],
    now: DateTime<Utc>,
    tolerance: Duration,
) -> Result<(), VerifyError> {
    if secrets.is_empty() {
        return Err(VerifyError::NoSecrets);
    }
    if headers.id.is_empty() {
        return Err(VerifyError::MissingHeader(HEADER_ID));
    }
    let ts_text = headers.timestamp.trim();
    if ts_text.is_empty() || !ts_text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(VerifyError::InvalidHeader(HEADER_TIMESTAMP));
    }
    let timestamp: i64 = ts_text
        .parse()
        .map_err(|_| VerifyError::InvalidHeader(HEADER_TIMESTAMP))?;
    let tolerance = i64::try_from(tolerance.as_secs()).unwrap_or(i64::MAX);
    let now = now.timestamp();
    if timestamp < now.saturating_sub(tolerance) {
        return Err(VerifyError::TimestampTooOld);
    }
    if timestamp > now.saturating_add(tolerance) {
        return Err(VerifyError::TimestampTooNew);
    }

    let candidates: Vec<Vec<u8>> = headers
        .signature
        .split_whitespace()
        .take(MAX_SIGNATURES)
        .filter_map(|entry| {
            let (version, encoded) = entry.split_once(',')?;
            if version != SIGNATURE_VERSION {
                return None;
            }
            STANDARD.decode(encoded).ok()
        })
        .collect();
    if candidates.is_empty() {
        return Err(VerifyError::NoMatchingSignature);
    }
    let mut matched = false;
    for secret in secrets {
        let mac = signed_content_mac(secret, &headers.id, timestamp, body);
        for candidate in &candidates {
            // `verify_slice` compares in constant time (the length is not secret).
            // No early exit either, so the time does not tell which secret matched.
            matched |= mac.clone().verify_slice(candidate).is_ok();
        }
    }
    if matched {
        Ok(())
    } else {
        Err(VerifyError::NoMatchingSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(byte: u8) -> Secret {
        Secret::from_bytes(vec![byte; 32]).unwrap()
    }

    #[test]
    fn sign_matches_the_hmac_computed_the_long_way() {
        // The zero-padded key block must give exactly HMAC(key, …).
        for len in [24usize, 32, 63, 64] {
            let key: Vec<u8> = (0..len).map(|i| i as u8 ^ 0x5a).collect();
            let s = Secret::from_bytes(key.clone()).unwrap();
            let mut reference = <HmacSha256 as Mac>::new_from_slice(&key).unwrap();
            reference.update(b"msg_1.1674087231.{\"a\":1}");
            let expected = format!("v1,{}", STANDARD.encode(reference.finalize().into_bytes()));
            assert_eq!(sign(&s, "msg_1", 1674087231, b"{\"a\":1}"), expected);
        }
    }

    #[test]
    fn header_lists_one_signature_per_secret() {
        let h = WebhookHeaders::sign(&[secret(1), secret(2)], "msg_x", 10, b"{}");
        let parts: Vec<&str> = h.signature.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.starts_with("v1,")));
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn msg_ids_with_dots_or_spaces_are_refused() {
        assert!(validate_msg_id("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W").is_ok());
        assert_eq!(validate_msg_id(""), Err(MsgIdError::Empty));
        assert_eq!(validate_msg_id("a.b"), Err(MsgIdError::BadCharacter));
        assert_eq!(validate_msg_id("a b"), Err(MsgIdError::BadCharacter));
        assert_eq!(
            validate_msg_id(&"a".repeat(129)),
            Err(MsgIdError::TooLong(129))
        );
    }

    #[test]
    fn headers_are_read_without_regard_to_case() {
        let h = WebhookHeaders::from_pairs([
            ("Webhook-Id", "msg_1"),
            ("WEBHOOK-TIMESTAMP", "5"),
            ("webhook-signature", "v1,abc"),
            ("content-type", "application/json"),
        ])
        .unwrap();
        assert_eq!(h.id, "msg_1");
        assert_eq!(h.timestamp, "5");
        assert_eq!(
            WebhookHeaders::from_pairs([("webhook-id", "m"), ("webhook-timestamp", "5")]),
            Err(VerifyError::MissingHeader(HEADER_SIGNATURE))
        );
    }
}
