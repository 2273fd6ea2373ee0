//! One API error type: a stable `code`, an HTTP status, a message for people, and
//! never an internal detail in a 5xx body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cubby_domain::codes::Code;
use cubby_domain::throttle::KeypadRefusal;
use cubby_store::OpError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, documented machine-readable code (e.g. `no_compartment_fits`).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Extra facts for some codes (e.g. `reason` and `overflow` for `no_compartment_fits`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
    pub details: Option<serde_json::Value>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    /// An error with `code`; its status comes with the code.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::from_u16(code.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            message: message.into(),
            details: None,
            retry_after_secs: None,
        }
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("{what} not found"))
    }
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        Self::new(Code::InvalidInput, format!("{field}: {message}"))
            .with_details(serde_json::json!({ "field": field }))
    }
    pub fn forbidden() -> Self {
        Self::new(Code::Forbidden, "this token's role may not do that")
    }
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
    /// Wrong code and unknown parcel answer alike, word for word.
    pub fn code_rejected() -> Self {
        Self::new(
            Code::CodeRejected,
            cubby_domain::credentials::CODE_REJECTED_MESSAGE,
        )
    }
    pub fn keypad(refusal: KeypadRefusal) -> Self {
        match refusal {
            KeypadRefusal::LockedOut { retry_after_secs } => {
                let mut e = Self::new(Code::KeypadLocked, refusal.to_string());
                e.retry_after_secs = Some(retry_after_secs);
                e
            }
            KeypadRefusal::Disabled => Self::new(Code::KeypadDisabled, refusal.to_string()),
        }
    }
}

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::NotFound { what } => ApiError::not_found(what),
            OpError::Invalid(inv) => ApiError::invalid(inv.field, inv.message),
            OpError::Conflict { code, message } => ApiError::new(code, message),
            OpError::NoCompartmentFits { reason, overflow } => {
                let details = serde_json::json!({ "reason": reason, "overflow": overflow });
                ApiError::new(Code::NoCompartmentFits, reason.to_string()).with_details(details)
            }
            OpError::Illegal(t) => ApiError::new(Code::IllegalTransition, t.to_string()),
            OpError::IdempotencyMismatch => ApiError::new(
                Code::IdempotencyKeyReused,
                OpError::IdempotencyMismatch.to_string(),
            ),
            OpError::Store(inner) => {
                tracing::error!(error = %inner, "storage failure");
                ApiError::new(
                    Code::Unavailable,
                    "the service is temporarily unavailable; retry",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.name().to_string(),
            message: self.message,
            details: self.details,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<cubby_domain::model::Invalid> for ApiError {
    fn from(e: cubby_domain::model::Invalid) -> Self {
        ApiError::invalid(e.field, e.message)
    }
}
