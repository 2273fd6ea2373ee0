//! Throttling failed credentials per source (security.md: guessing is
//! throttled). A source that presents ten wrong bearer tokens or console
//! sign-ins within a minute is refused with 429 and `Retry-After` until the
//! minute is over. Kept in memory: each instance throttles the sources it
//! sees, and a restart forgets (the audit log keeps every failure).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use cubby_domain::Millis;
use cubby_domain::codes::Code;

use crate::error::ApiError;

/// Failures a source may have within one window.
pub const FAILURES_PER_WINDOW: u32 = 10;
pub const WINDOW_MS: Millis = 60_000;
/// Sources remembered at most; past it, finished windows are forgotten first.
const MAX_SOURCES: usize = 50_000;

/// Where a request came from: the peer's IP address (`unknown` when the
/// server was not told, as in a test calling the router directly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(source_of(parts))
    }
}

pub fn source_of(parts: &Parts) -> Source {
    Source(
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string()),
    )
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started_ms: Millis,
    failures: u32,
}

#[derive(Debug, Default)]
pub struct FailureThrottle {
    windows: Mutex<Windows>,
}

#[derive(Debug, Default)]
struct Windows {
    by_source: HashMap<String, Window>,
    /// When finished windows were last swept (at most once a second, so a
    /// flood of new sources costs no scan per request).
    swept_ms: Millis,
}

/// What a source is counted by: its IPv4 address, or the /64 an IPv6
/// address is in (one host holds a whole /64).
fn key_of(source: &Source) -> String {
    match source.0.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(a)) if a.to_ipv4_mapped().is_none() => {
            let s = a.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(a)) => a
            .to_ipv4_mapped()
            .map_or(source.0.clone(), |v4| v4.to_string()),
        _ => source.0.clone(),
    }
}

/// What a failure did to its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Still within its allowance.
    Counted,
    /// This failure used the allowance up: the source now waits.
    NowThrottled { retry_after_secs: u64 },
}

impl FailureThrottle {
    /// Refuses a source that used up its allowance, saying how long to wait.
    pub fn check(&self, source: &Source, now: Millis) -> Result<(), ApiError> {
        let windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match windows.by_source.get(&key_of(source)) {
            Some(w) if w.failures >= FAILURES_PER_WINDOW && now < w.started_ms + WINDOW_MS => {
                Err(too_many(retry_after(w, now)))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed credential from `source`.
    pub fn fail(&self, source: &Source, now: Millis) -> AfterFailure {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let key = key_of(source);
        if windows.by_source.len() >= MAX_SOURCES && !windows.by_source.contains_key(&key) {
            if now - windows.swept_ms >= 1_000 {
                windows.swept_ms = now;
                windows
                    .by_source
                    .retain(|_, w| now < w.started_ms + WINDOW_MS);
            }
            // Still full: this many sources failing at once is a flood the
            // audit log records; new ones are not tracked until it ebbs.
            if windows.by_source.len() >= MAX_SOURCES {
                return AfterFailure::Counted;
            }
        }
        let w = windows.by_source.entry(key).or_insert(Window {
            started_ms: now,
            failures: 0,
        });
        if now >= w.started_ms + WINDOW_MS {
            *w = Window {
                started_ms: now,
                failures: 0,
            };
        }
        w.failures = w.failures.saturating_add(1);
        if w.failures == FAILURES_PER_WINDOW {
            AfterFailure::NowThrottled {
                retry_after_secs: retry_after(w, now),
            }
        } else {
            AfterFailure::Counted
        }
    }
}

fn retry_after(w: &Window, now: Millis) -> u64 {
    let ms = (w.started_ms + WINDOW_MS - now).max(0);
    u64::try_from((ms + 999) / 1000).unwrap_or(1).max(1)
}

pub fn too_many(retry_after_secs: u64) -> ApiError {
    let mut e = ApiError::new(
        Code::TooManyAttempts,
        format!("too many failed attempts from here: try again in {retry_after_secs} s"),
    );
    e.retry_after_secs = Some(retry_after_secs);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_in_a_minute_throttle_that_source_only_until_the_minute_ends() {
        let t = FailureThrottle::default();
        let (a, b) = (Source("10.0.0.1".into()), Source("10.0.0.2".into()));
        let now = 1_000_000;
        for i in 0..FAILURES_PER_WINDOW - 1 {
            assert_eq!(t.fail(&a, now + i64::from(i)), AfterFailure::Counted);
            assert!(t.check(&a, now + i64::from(i)).is_ok());
        }
        assert!(matches!(
            t.fail(&a, now + 100),
            AfterFailure::NowThrottled { .. }
        ));
        let refused = t.check(&a, now + 1_000).expect_err("throttled");
        assert_eq!(refused.status.as_u16(), 429);
        assert_eq!(refused.retry_after_secs, Some(59));
        // Another address of the same IPv6 /64 is the same source.
        let v6 = Source("2001:db8:1:2::10".into());
        for _ in 0..FAILURES_PER_WINDOW {
            t.fail(&v6, now);
        }
        assert!(
            t.check(&Source("2001:db8:1:2:ffff::1".into()), now)
                .is_err()
        );
        assert!(t.check(&Source("2001:db8:1:3::10".into()), now).is_ok());
        // Another source is not affected; the first is let in after the minute.
        assert!(t.check(&b, now + 1_000).is_ok());
        assert!(t.check(&a, now + WINDOW_MS).is_ok());
        assert_eq!(t.fail(&a, now + WINDOW_MS), AfterFailure::Counted);
    }
}
