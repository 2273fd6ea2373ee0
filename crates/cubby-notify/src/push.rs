//! Web push (RFC 8030) with message encryption (RFC 8291, `aes128gcm`) and
//! VAPID (RFC 8292): the browser gives a push endpoint and two keys; we
//! encrypt the notice for that browser only and sign a short-lived token that
//! tells the push service who sends it. Pure RustCrypto, no OpenSSL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};

use crate::SendError;

/// What a browser's `pushManager.subscribe()` returns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PushSubscription {
    pub endpoint: String,
    /// The browser's P-256 public key, uncompressed, base64url.
    pub p256dh: String,
    /// The browser's 16-byte authentication secret, base64url.
    pub auth: String,
}

impl PushSubscription {
    /// Checks the keys' shapes (not the endpoint: the caller checks URLs).
    pub fn validate(&self) -> Result<(), String> {
        let key = URL_SAFE_NO_PAD
            .decode(self.p256dh.trim_end_matches('='))
            .map_err(|_| "p256dh is not base64url".to_string())?;
        web_push_native::p256::PublicKey::from_sec1_bytes(&key)
            .map_err(|_| "p256dh is not a P-256 public key".to_string())?;
        let auth = URL_SAFE_NO_PAD
            .decode(self.auth.trim_end_matches('='))
            .map_err(|_| "auth is not base64url".to_string())?;
        if auth.len() != 16 {
            return Err("auth must be 16 bytes".into());
        }
        Ok(())
    }
}

/// How long a VAPID token is valid (RFC 8292: at most 24 hours).
const VAPID_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// How long the push service keeps an undelivered message.
const TTL_SECONDS: u64 = 24 * 3600;

pub struct PushTransport {
    key: SigningKey,
    /// `mailto:` or `https:` contact for the push service operator.
    subject: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for PushTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushTransport")
            .field("subject", &self.subject)
            .field("public_key", &self.public_key())
            .finish()
    }
}

impl PushTransport {
    /// A transport signing with the VAPID key derived from `seed` (32 bytes).
    pub fn new(seed: &[u8; 32], subject: impl Into<String>) -> Result<PushTransport, SendError> {
        crate::install_ring_provider();
        let key = SigningKey::from_slice(seed).map_err(|_| SendError {
            retryable: false,
            message: "the VAPID key seed is not a valid P-256 scalar".into(),
        })?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SendError {
                retryable: false,
                message: format!("push client: {e}"),
            })?;
        Ok(PushTransport {
            key,
            subject: subject.into(),
            client,
        })
    }

    /// The application server key browsers subscribe with (uncompressed
    /// P-256 point, base64url).
    pub fn public_key(&self) -> String {
        let point = self.key.verifying_key().to_encoded_point(false);
        URL_SAFE_NO_PAD.encode(point.as_bytes())
    }

    /// The `Authorization: vapid t=…, k=…` value for an endpoint's origin.
    pub fn vapid_header(&self, endpoint: &str, now: SystemTime) -> Result<String, SendError> {
        let url = reqwest::Url::parse(endpoint).map_err(|_| SendError {
            retryable: false,
            message: "the push endpoint is not a URL".into(),
        })?;
        let audience = url.origin().ascii_serialization();
        let exp = now
            .checked_add(VAPID_LIFETIME)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = URL_SAFE_NO_PAD.encode(
            serde_json::json!({"aud": audience, "exp": exp, "sub": self.subject}).to_string(),
        );
        let signing_input = format!("{header}.{claims}");
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        let token = format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        );
        Ok(format!("vapid t={token}, k={}", self.public_key()))
    }

    /// Encrypts `payload` for the subscription and posts it to its push
    /// service. 404 and 410 mean the subscription is gone (permanent).
    pub async fn send(&self, to: &PushSubscription, payload: &[u8]) -> Result<(), SendError> {
        let permanent = |m: String| SendError {
            retryable: false,
            message: m,
        };
        to.validate().map_err(permanent)?;
        let ua_public = URL_SAFE_NO_PAD
            .decode(to.p256dh.trim_end_matches('='))
            .ok()
            .and_then(|k| web_push_native::p256::PublicKey::from_sec1_bytes(&k).ok())
            .ok_or_else(|| permanent("p256dh is not a P-256 public key".into()))?;
        let auth_bytes = URL_SAFE_NO_PAD
            .decode(to.auth.trim_end_matches('='))
            .map_err(|_| permanent("auth is not base64url".into()))?;
        let auth = web_push_native::Auth::clone_from_slice(&auth_bytes);
        let body = web_push_native::encrypt(payload.to_vec(), &ua_public, &auth)
            .map_err(|e| permanent(format!("encrypting the push message: {e:?}")))?;
        let authorization = self.vapid_header(&to.endpoint, SystemTime::now())?;
        let answer = self
            .client
            .post(&to.endpoint)
            .header("TTL", TTL_SECONDS.to_string())
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("Urgency", "normal")
            .header("Authorization", authorization)
            .body(body)
            .send()
            .await
            .map_err(|e| SendError {
                retryable: true,
                message: format!("push service unreachable: {}", e.without_url()),
            })?;
        let status = answer.status().as_u16();
        match status {
            200..=299 => Ok(()),
            404 | 410 => Err(permanent(format!(
                "the push subscription is gone ({status})"
            ))),
            408 | 429 | 500..=599 => Err(SendError {
                retryable: true,
                message: format!("push service answered {status}"),
            }),
            _ => Err(permanent(format!("push service answered {status}"))),
        }
    }
}
