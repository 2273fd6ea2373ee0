//! SMS through an HTTP provider adapter (Twilio's API, or a generic JSON one).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::email::install_ring_provider;
use crate::error::{SendError, chain};

/// How to authenticate to a [`SmsFormat::Generic`] provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GenericAuth {
    /// `Authorization: Bearer {auth_token}` (`account_sid` unused).
    #[default]
    Bearer,
    /// HTTP Basic with `account_sid` : `auth_token`.
    Basic,
}

/// The provider's request shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsFormat {
    /// Twilio's Programmable Messaging API:
    /// `POST {base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`,
    /// form-encoded `To`, `From`, `Body`, HTTP Basic `account_sid:auth_token`.
    /// The message id is the `sid` of the JSON reply.
    Twilio,
    /// A generic JSON gateway: `POST {base_url}{path}` with
    /// `Content-Type: application/json` and body
    /// `{"to": "+48…", "from": "…", "body": "…"}`, authenticated per `auth`.
    /// Any 2xx is success; the message id is the reply's `id` (string or
    /// number) when the reply is JSON and has one.
    Generic {
        /// Path appended to `base_url`, e.g. `/v1/messages`.
        path: String,
        /// How to authenticate.
        #[serde(default)]
        auth: GenericAuth,
    },
}

/// Where and how to send SMS. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsConfig {
    /// Provider base URL without a trailing slash, e.g. `https://api.twilio.com`.
    pub base_url: String,
    /// Account id (Twilio "Account SID").
    pub account_sid: String,
    /// Secret token.
    pub auth_token: String,
    /// Sender number or alphanumeric sender id.
    pub from: String,
    /// Request shape.
    pub format: SmsFormat,
    /// Whole-request timeout; `None` means 10 s.
    #[serde(default)]
    pub timeout: Option<Duration>,
}

impl fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("from", &self.from)
            .field("format", &self.format)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// What the provider said about an accepted message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsReceipt {
    /// HTTP status of the reply.
    pub status: u16,
    /// The provider's message id, when it gave one.
    pub provider_id: Option<String>,
}

/// Sends SMS bodies (normally [`Rendered::sms`](crate::Rendered::sms)).
#[derive(Clone)]
pub struct SmsTransport {
    client: reqwest::Client,
    config: SmsConfig,
}

impl fmt::Debug for SmsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsTransport")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SmsTransport {
    /// Builds the HTTP client (rustls, ring, Mozilla roots).
    pub fn new(config: SmsConfig) -> Result<SmsTransport, SendError> {
        install_ring_provider();
        let client = reqwest::Client::builder()
            .timeout(config.timeout.unwrap_or(Duration::from_secs(10)))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SendError::permanent(format!("HTTP client: {}", chain(&e))))?;
        Ok(SmsTransport { client, config })
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> String {
        let base = self.config.base_url.trim_end_matches('/');
        match &self.config.format {
            SmsFormat::Twilio => format!(
                "{base}/2010-04-01/Accounts/{}/Messages.json",
                self.config.account_sid
            ),
            SmsFormat::Generic { path, .. } => format!("{base}{path}"),
        }
    }

    /// Sends `body` to the number `to` (E.164, e.g. `+48600100200`).
    pub async fn send(&self, to: &str, body: &str) -> Result<SmsReceipt, SendError> {
        let c = &self.config;
        let request = self.client.post(self.endpoint());
        let request = match &c.format {
            SmsFormat::Twilio => request
                .basic_auth(&c.account_sid, Some(&c.auth_token))
                .form(&[("To", to), ("From", c.from.as_str()), ("Body", body)]),
            SmsFormat::Generic { auth, .. } => {
                let request = match auth {
                    GenericAuth::Bearer => request.bearer_auth(&c.auth_token),
                    GenericAuth::Basic => request.basic_auth(&c.account_sid, Some(&c.auth_token)),
                };
                request.json(&serde_json::json!({ "to": to, "from": c.from, "body": body }))
            }
        };
        let response = request.send().await.map_err(|e| {
            // Connection refused, DNS, TLS handshake, timeouts: all may pass.
            SendError::retryable(format!("SMS provider unreachable: {}", chain(&e)))
        })?;
        let status = response.status();
        let reply = response.text().await.unwrap_or_default();
        let json: Option<serde_json::Value> = serde_json::from_str(&reply).ok();
        if status.is_success() {
            let id_key = match c.format {
                SmsFormat::Twilio => "sid",
                SmsFormat::Generic { .. } => "id",
            };
            let provider_id = json.as_ref().and_then(|j| match j.get(id_key) {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            });
            return Ok(SmsReceipt {
                status: status.as_u16(),
                provider_id,
            });
        }
        // The provider's own error code (Twilio: `code`, e.g. 21211), never
        // the reply body: it may echo the recipient or the message.
        let code = json
            .as_ref()
            .and_then(|j| j.get("code"))
            .map(|v| format!(", provider code {v}"))
            .unwrap_or_default();
        let message = format!("SMS provider replied HTTP {}{code}", status.as_u16());
        if status.as_u16() == 429 || status.as_u16() == 408 || status.is_server_error() {
            Err(SendError::retryable(message))
        } else {
            Err(SendError::permanent(message))
        }
    }
}
