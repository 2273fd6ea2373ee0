//! The one error type the channels return.

use std::fmt;

/// A notification could not be delivered to the provider.
///
/// `retryable` tells the outbox what to do: `true` for outages (connection
/// refused, timeouts, SMTP 4xx, HTTP 429 / 5xx), `false` when trying again
/// cannot help (SMTP 5xx, HTTP 4xx, a malformed address or configuration).
/// `message` never contains the notification's body, code or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SendError {
    /// Whether a later attempt may succeed.
    pub retryable: bool,
    /// What went wrong, for logs and the outbox row.
    pub message: String,
}

impl SendError {
    /// A failure worth retrying.
    pub fn retryable(message: impl Into<String>) -> SendError {
        SendError {
            retryable: true,
            message: message.into(),
        }
    }

    /// A failure that will not go away by retrying.
    pub fn permanent(message: impl Into<String>) -> SendError {
        SendError {
            retryable: false,
            message: message.into(),
        }
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.retryable {
            "retryable"
        } else {
            "permanent"
        };
        write!(f, "{what} send failure: {}", self.message)
    }
}

/// `err` and its sources, joined with ": ", skipping repeats (many errors
/// print their source inside their own message).
pub(crate) fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        source = e.source();
    }
    out
}
