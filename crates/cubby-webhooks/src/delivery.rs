//! Sending one attempt of a webhook, judging the answer, checking endpoint URLs,
//! and the retry schedule. Storage, scheduling and the decision to retry belong
//! to the server; this module only says what happened and whether a retry can help.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::{Rng, RngCore};
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::{Client, StatusCode, Url};

use crate::events::Event;
use crate::secret::Secret;
use crate::signing::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookHeaders, validate_msg_id,
};
use crate::targets::{Internal, PublicOnly, Targets, internal};

/// Time allowed for one attempt, connect to last byte (the specification
/// recommends 15 to 30 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Time allowed to open the connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// Sent as `user-agent`.
pub const USER_AGENT: &str = concat!("Cubby-Webhooks/", env!("CARGO_PKG_VERSION"));

/// A client for webhook delivery: no redirects (the specification treats 3xx
/// as a failure, and following them would let an endpoint bounce requests to
/// internal addresses), [`CONNECT_TIMEOUT`], [`REQUEST_TIMEOUT`], our user agent.
/// Build it once and share it.
///
/// HTTPS needs a TLS backend feature of reqwest somewhere in the build (the
/// workspace's reqwest has none by default).
///
/// The client connects only to addresses `targets` allows: names are
/// resolved at each connection and internal addresses dropped.
pub fn client(targets: Targets) -> Result<WebhookClient, reqwest::Error> {
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(USER_AGENT)
        .no_proxy()
        .dns_resolver(std::sync::Arc::new(PublicOnly(targets)))
        .build()?;
    Ok(WebhookClient { http, targets })
}

/// An HTTP client for webhooks and the targets it may reach.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: Client,
    targets: Targets,
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryOutcome {
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// A 2xx answer: done.
    pub delivered: bool,
    /// Not delivered, and trying again later may succeed (408, 429, 5xx, 3xx,
    /// connection errors, timeouts).
    pub retryable: bool,
    /// 410 Gone: the endpoint asked not to be sent anything again; disable the
    /// subscription. Never retryable.
    pub gone: bool,
    /// What went wrong, for the delivery log (no secrets, no URL query).
    pub error: Option<String>,
    /// Time from sending to the answer (or the failure).
    pub duration_ms: u64,
    /// The endpoint's `Retry-After` (seconds form), capped at [`MAX_RETRY_DELAY`];
    /// the next attempt should not come sooner.
    pub retry_after: Option<Duration>,
}

impl DeliveryOutcome {
    fn failed(error: String, retryable: bool, started: Instant) -> DeliveryOutcome {
        DeliveryOutcome {
            status: None,
            delivered: false,
            retryable,
            gone: false,
            error: Some(error),
            duration_ms: elapsed_ms(started),
            retry_after: None,
        }
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Sends `event` to `url` as one attempt of message `msg_id`: a `POST` with the
/// compact JSON body, `content-type: application/json` and the three Standard
/// Webhooks headers, signed with every secret in `secrets` (newest first) at
/// `now`. Times out after [`REQUEST_TIMEOUT`].
///
/// `msg_id` must stay the same on every retry of the message (receivers use
/// it to drop duplicates); it must match [`validate_msg_id`].
pub async fn deliver(
    client: &WebhookClient,
    url: &str,
    secrets: &[Secret],
    event: &Event,
    msg_id: &str,
    now: DateTime<Utc>,
) -> DeliveryOutcome {
    deliver_with_timeout(client, url, secrets, event, msg_id, now, REQUEST_TIMEOUT).await
}

/// [`deliver`] with another time limit for the attempt.
pub async fn deliver_with_timeout(
    client: &WebhookClient,
    url: &str,
    secrets: &[Secret],
    event: &Event,
    msg_id: &str,
    now: DateTime<Utc>,
    timeout: Duration,
) -> DeliveryOutcome {
    match event.to_body() {
        Ok(body) => deliver_body(client, url, secrets, body, msg_id, now, timeout).await,
        Err(e) => DeliveryOutcome::failed(
            format!("event could not be serialised: {e}"),
            false,
            Instant::now(),
        ),
    }
}

/// [`deliver`] for a body already serialised (e.g. kept by the server so that
/// every retry sends the same bytes).
pub async fn deliver_body(
    client: &WebhookClient,
    url: &str,
    secrets: &[Secret],
    body: Vec<u8>,
    msg_id: &str,
    now: DateTime<Utc>,
    timeout: Duration,
) -> DeliveryOutcome {
    let started = Instant::now();
    let url = match validate_url(url, client.targets) {
        Ok(url) => url,
        Err(e) => return DeliveryOutcome::failed(e.to_string(), false, started),
    };
    if let Err(e) = validate_msg_id(msg_id) {
        return DeliveryOutcome::failed(e.to_string(), false, started);
    }
    if secrets.is_empty() {
        return DeliveryOutcome::failed(
            "no signing secret for this endpoint".to_owned(),
            false,
            started,
        );
    }
    let headers = WebhookHeaders::sign(secrets, msg_id, now.timestamp(), &body);
    let request = client
        .http
        .post(url)
        .timeout(timeout)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(HEADER_ID, headers.id)
        .header(HEADER_TIMESTAMP, headers.timestamp)
        .header(HEADER_SIGNATURE, headers.signature)
        .body(body);

    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => {
            // A request that could not even be built will not build next time.
            let retryable = !e.is_builder();
            let what = if e.is_timeout() {
                format!("timed out after {} ms", timeout.as_millis())
            } else if e.is_connect() {
                format!("could not connect: {}", error_chain(&e))
            } else {
                format!("request failed: {}", error_chain(&e))
            };
            return DeliveryOutcome::failed(what, retryable, started);
        }
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|secs| Duration::from_secs(secs).min(MAX_RETRY_DELAY));

    let (delivered, retryable, gone) = classify(status);
    let error = if delivered {
        None
    } else {
        // The answer's body is never read or quoted: an endpoint pointed at
        // an internal service must not turn the delivery log into a way of
        // reading it.
        let mut message = match status.canonical_reason() {
            Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
            None => format!("HTTP {}", status.as_u16()),
        };
        if gone {
            message.push_str(" (the endpoint asked to stop: disable the subscription)");
        } else if status.is_redirection() {
            message.push_str(" (redirects are not followed: update the endpoint URL)");
        }
        Some(message)
    };
    DeliveryOutcome {
        status: Some(status.as_u16()),
        delivered,
        retryable,
        gone,
        error,
        duration_ms: elapsed_ms(started),
        retry_after: if delivered { None } else { retry_after },
    }
}

/// `(delivered, retryable, gone)` for a status.
pub fn classify(status: StatusCode) -> (bool, bool, bool) {
    let code = status.as_u16();
    if status.is_success() {
        (true, false, false)
    } else if code == 410 {
        (false, false, true)
    } else if code == 408 || code == 429 || status.is_server_error() {
        (false, true, false)
    } else if status.is_client_error() {
        (false, false, false)
    } else {
        // 1xx left over, 3xx: a failure the endpoint's owner can fix.
        (false, true, false)
    }
}

/// The error and its causes, e.g. `error sending request: … Connection refused`,
/// without the URL (its query may hold a token).
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    parts.push(strip_url(e));
    while let Some(err) = current {
        let text = err.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        current = err.source();
    }
    parts.join(": ")
}

fn strip_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

// ---------------------------------------------------------------------------
// Endpoint URLs

/// Why an endpoint URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("endpoint URL is empty")]
    Empty,
    #[error("endpoint URL is {0} characters long; at most 2048 are allowed")]
    TooLong(usize),
    #[error("endpoint URL is not a valid absolute URL: {0}")]
    Invalid(String),
    #[error("endpoint URL must use https (got {0:?})")]
    Scheme(String),
    #[error(
        "endpoint URL must use https; plain http is allowed only for localhost and loopback addresses"
    )]
    PlainHttp,
    #[error(
        "endpoint URL must not contain a user name or password; use the signature to authenticate"
    )]
    Credentials,
    #[error("endpoint URL has no host")]
    NoHost,
    #[error("endpoint URL must not have a #fragment (it is never sent)")]
    Fragment,
    #[error(
        "endpoint URL points at {0}, an internal address (loopback, private, link-local, unique-local or reserved): webhooks go to public addresses only"
    )]
    ForbiddenAddress(String),
}

/// Checks an endpoint URL for a subscription: absolute, at most
/// [`MAX_URL_LEN`] characters, `https` (plain `http` only to a loopback
/// address or `localhost`, and only when `targets` allows loopback), no user
/// name or password, no fragment, and not an IP literal of an internal
/// network (loopback unless allowed, private, shared, link-local — cloud
/// metadata services live there —, unique-local, unspecified, multicast,
/// broadcast, reserved).
///
/// A host name is checked again at every delivery, when it is resolved (see
/// [`client`]).
pub fn validate_url(text: &str, targets: Targets) -> Result<Url, UrlError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(UrlError::Empty);
    }
    if text.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong(text.len()));
    }
    let url = Url::parse(text).map_err(|e| UrlError::Invalid(e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    if url.fragment().is_some() {
        return Err(UrlError::Fragment);
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or(UrlError::NoHost)?;
    let ip: Option<IpAddr> = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok();
    let loopback = match ip {
        Some(ip) => internal(ip) == Some(Internal::Loopback),
        None => {
            let h = host.trim_end_matches('.').to_ascii_lowercase();
            h == "localhost" || h.ends_with(".localhost")
        }
    };
    if loopback && !targets.allow_loopback {
        return Err(UrlError::ForbiddenAddress(host.to_string()));
    }
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(UrlError::PlainHttp),
        other => return Err(UrlError::Scheme(other.to_owned())),
    }
    if let Some(ip) = ip
        && !targets.allows(ip)
    {
        return Err(UrlError::ForbiddenAddress(ip.to_string()));
    }
    Ok(url)
}

// ---------------------------------------------------------------------------
// Retries

/// Attempts per message, the first included; after the last failure the
/// server gives up (and, if an endpoint keeps failing, tells its owner and
/// disables it, as the specification recommends).
pub const MAX_ATTEMPTS: u32 = 8;

/// The longest wait between two attempts (also the cap on `Retry-After`).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(14 * 3600);

/// Upper bounds of the wait after the 1st, 2nd, … failed attempt, after the
/// specification's example schedule; the last one repeats. Their sum
/// (7 retries) is about 31.6 hours.
pub const RETRY_CEILINGS: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    MAX_RETRY_DELAY,
];

/// The shortest wait, so a retry never fires at once.
pub const MIN_RETRY_DELAY: Duration = Duration::from_secs(1);

/// How long to wait before the next attempt, after `attempts` attempts have
/// failed (1 after the first). Exponential backoff with full jitter: uniform
/// between [`MIN_RETRY_DELAY`] and the ceiling from [`RETRY_CEILINGS`], so
/// endpoints that failed together do not get their retries together. With
/// [`MAX_ATTEMPTS`] = 8 the retries spread over about a day (16 h on average,
/// at most 31.6 h). Callers stop once `attempts >= MAX_ATTEMPTS`; past the
/// table the last ceiling is used. Take the larger of this and the outcome's
/// `retry_after`.
pub fn next_attempt_delay<R: RngCore + ?Sized>(attempts: u32, rng: &mut R) -> Duration {
    let index = usize::try_from(attempts.max(1) - 1)
        .unwrap_or(usize::MAX)
        .min(RETRY_CEILINGS.len() - 1);
    let ceiling = RETRY_CEILINGS[index];
    let low = MIN_RETRY_DELAY.as_millis() as u64;
    let high = ceiling.as_millis() as u64;
    Duration::from_millis(rng.random_range(low..=high))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn status_classes() {
        let c = |n: u16| classify(StatusCode::from_u16(n).unwrap());
        assert_eq!(c(200), (true, false, false));
        assert_eq!(c(204), (true, false, false));
        assert_eq!(c(410), (false, false, true));
        for n in [408, 429, 500, 502, 503, 504, 301, 302, 307] {
            assert_eq!(c(n), (false, true, false), "{n}");
        }
        for n in [400, 401, 403, 404, 405, 413, 422] {
            assert_eq!(c(n), (false, false, false), "{n}");
        }
    }

    #[test]
    fn urls() {
        for ok in [
            "https://hooks.example.com/cubby",
            "https://hooks.example.com:8443/a?b=c",
            "https://93.184.215.14/hook",
        ] {
            assert!(validate_url(ok, Targets::PUBLIC).is_ok(), "{ok}");
        }
        // This machine only with the test flag, then also over plain http.
        for local in [
            "http://localhost:8080/hook",
            "http://127.0.0.1:9/x",
            "http://127.8.9.10/x",
            "http://[::1]:8080/x",
        ] {
            assert!(
                validate_url(local, Targets::WITH_LOOPBACK).is_ok(),
                "{local}"
            );
            assert!(
                matches!(
                    validate_url(local, Targets::PUBLIC),
                    Err(UrlError::ForbiddenAddress(_))
                ),
                "{local}"
            );
        }
        let err = |s: &str| validate_url(s, Targets::WITH_LOOPBACK).unwrap_err();
        assert_eq!(err(""), UrlError::Empty);
        assert_eq!(err("http://hooks.example.com/x"), UrlError::PlainHttp);
        assert_eq!(err("http://10.0.0.1/x"), UrlError::PlainHttp);
        assert_eq!(err("ftp://example.com/x"), UrlError::Scheme("ftp".into()));
        assert_eq!(err("https://u:p@example.com/x"), UrlError::Credentials);
        assert_eq!(err("https://u@example.com/x"), UrlError::Credentials);
        assert_eq!(err("https://example.com/x#frag"), UrlError::Fragment);
        assert!(matches!(err("/relative"), UrlError::Invalid(_)));
        for internal in [
            "https://169.254.169.254/latest",
            "https://0.0.0.0/",
            "https://[fe80::1]/",
            "https://[::ffff:169.254.1.1]/",
            "https://224.0.0.1/",
            "https://10.1.2.3/internal",
            "https://172.20.0.5/",
            "https://192.168.0.1/",
            "https://[fd00::1]/",
        ] {
            assert!(
                matches!(err(internal), UrlError::ForbiddenAddress(_)),
                "{internal}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(err(&long), UrlError::TooLong(long.len()));
        assert!(err("http://example.com").to_string().contains("https"));
    }

    #[test]
    fn delays_stay_within_their_ceilings_and_grow() {
        let mut rng = StdRng::seed_from_u64(7);
        for attempts in 0..20u32 {
            let ceiling =
                RETRY_CEILINGS[(attempts.max(1) as usize - 1).min(RETRY_CEILINGS.len() - 1)];
            for _ in 0..200 {
                let d = next_attempt_delay(attempts, &mut rng);
                assert!(d >= MIN_RETRY_DELAY && d <= ceiling, "{attempts}: {d:?}");
                assert!(d <= MAX_RETRY_DELAY);
            }
        }
        // Ceilings grow and the whole schedule spans about a day or more.
        assert!(RETRY_CEILINGS.windows(2).all(|w| w[0] < w[1]));
        let total: Duration = RETRY_CEILINGS.iter().sum();
        assert!(total >= Duration::from_secs(24 * 3600), "{total:?}");
        assert_eq!(RETRY_CEILINGS.len() as u32, MAX_ATTEMPTS - 1);
        // Jitter: not always the same value.
        let a: Vec<Duration> = (0..10).map(|_| next_attempt_delay(4, &mut rng)).collect();
        assert!(a.windows(2).any(|w| w[0] != w[1]));
    }
}
