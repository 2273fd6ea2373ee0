use cubby_domain::allocation::NoCompartmentFits;
use cubby_domain::codes::Code;
use cubby_domain::lifecycle::IllegalTransition;
use cubby_domain::model::Invalid;

/// Failures of the storage layer itself, identical on both backends.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database schema error: {0}")]
    Migration(String),
    #[error("unsupported database URL: {0}")]
    BadUrl(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn unavailable(e: impl std::fmt::Display) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Where a parcel that fits nowhere here could go instead.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OverflowOption {
    /// `parcel_room` or `locker`.
    pub kind: &'static str,
    pub id: String,
    pub name: String,
    /// Metres on the site plan from the full locker, when both are placed.
    pub distance_m: Option<u32>,
    /// How many more parcels like this one it takes now.
    pub takes: u32,
}

/// Why an operation did not happen. Each maps to one stable API error code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OpError {
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{message}")]
    Conflict { code: Code, message: String },
    #[error("{reason}")]
    NoCompartmentFits {
        reason: NoCompartmentFits,
        overflow: Vec<OverflowOption>,
    },
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for OpError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return OpError::Conflict {
                code: Code::Conflict,
                message: "this already exists".into(),
            };
        }
        OpError::Store(StoreError::unavailable(e))
    }
}
