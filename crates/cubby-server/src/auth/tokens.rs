//! Bearer API tokens. A token is stored as a MAC under the server secret; the
//! caller it resolves to carries a role and, except for admins, one organisation.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use cubby_domain::codes::Code;
use cubby_domain::credentials::mac;
use cubby_domain::model::Role;
use cubby_store as db;
use cubby_store::tokens::TokenRow;

use super::Audit;
use super::throttle::{AfterFailure, FAILURES_PER_WINDOW, Source, source_of, too_many};
use crate::AppState;
use crate::error::ApiError;
use cubby_domain::audit::AuditAction;

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: String,
    pub role: Role,
    pub org_id: Option<String>,
    pub carrier: Option<String>,
    /// For a resident token: the resident it acts for.
    pub resident_id: Option<String>,
    /// For a personal courier token: the courier account.
    pub courier_id: Option<String>,
    /// The sites of its organisation this token acts at (`None`: every one).
    pub site_ids: Option<Vec<String>>,
    /// Where the request came from (the peer address), for the audit log.
    pub source: String,
}

pub fn token_mac(secret: &[u8], token: &str) -> [u8; 32] {
    mac(secret, &["api-token", token])
}

impl Caller {
    pub(crate) fn from_row(row: TokenRow) -> Self {
        Caller {
            token_id: row.id,
            role: row.role,
            org_id: row.org_id,
            carrier: row.carrier,
            resident_id: row.resident_id,
            courier_id: row.courier_id,
            site_ids: row.site_ids,
            source: "unknown".into(),
        }
    }

    /// Whether this caller may act at site `site_id` (its token's site scope).
    pub fn sees_site(&self, site_id: &str) -> bool {
        self.site_ids
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|s| s == site_id))
    }

    /// Whether this caller may see data of organisation `org_id`.
    pub fn sees_org(&self, org_id: &str) -> bool {
        self.role == Role::Admin || self.org_id.as_deref() == Some(org_id)
    }

    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if self.role == Role::Admin || allowed.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    pub fn is_carrier_side(&self) -> bool {
        matches!(self.role, Role::Carrier | Role::Courier)
    }

    /// The actor string written into custody events.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.role, self.token_id)
    }
}

pub const STAFF: &[Role] = &[Role::Manager, Role::Concierge];
pub const MANAGERS: &[Role] = &[Role::Manager];
pub const DEPOSITORS: &[Role] = &[Role::Manager, Role::Concierge, Role::Carrier, Role::Courier];

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauthorised = || ApiError::new(Code::Unauthorized, "a valid bearer token is required");
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorised)?;
        let source = source_of(parts);
        let now = crate::now_ms();
        // A source that guessed too often waits, right or wrong this time.
        state.failures.check(&source, now)?;
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 200);
        let row = match token {
            Some(token) => {
                let mac = token_mac(&state.secret, token);
                let mut conn = state
                    .store
                    .reader()
                    .await
                    .map_err(|e| ApiError::from(cubby_store::OpError::Store(e)))?;
                db::tokens::token_by_mac(&mut conn, &mac).await?
            }
            None => None,
        };
        let refusal = match &row {
            None => unauthorised(),
            Some(r) if r.revoked => ApiError::new(
                Code::TokenRevoked,
                "this token was revoked: it opens nothing any more",
            ),
            Some(r) if !r.live(now) => ApiError::new(
                Code::TokenExpired,
                "this token has expired: ask for a new one",
            ),
            Some(r) => {
                let mut caller = Caller::from_row(r.clone());
                caller.source = source.0;
                return Ok(caller);
            }
        };
        let target = row.map_or_else(
            || "token:unknown".to_string(),
            |r| format!("token:{}", r.id),
        );
        Err(credential_failed(state, &source, target, refusal, now).await)
    }
}

/// Counts and audits a failed credential from `source`; the answer to send
/// (429 once the source used its allowance up).
pub(crate) async fn credential_failed(
    state: &AppState,
    source: &Source,
    target: String,
    refusal: ApiError,
    now: cubby_domain::Millis,
) -> ApiError {
    let after = state.failures.fail(source, now);
    let mut audit = vec![Audit::unknown(
        source,
        AuditAction::AuthFailed,
        target.clone(),
        refusal.code.name(),
    )];
    let answer = match after {
        AfterFailure::Counted => refusal,
        AfterFailure::NowThrottled { retry_after_secs } => {
            audit.push(Audit::unknown(
                source,
                AuditAction::AuthThrottled,
                target,
                format!("{FAILURES_PER_WINDOW} failures within a minute"),
            ));
            too_many(retry_after_secs)
        }
    };
    for a in audit {
        // The refusal stands even when the log cannot be written now.
        if let Err(e) = a.record_alone(&state.store, now).await {
            tracing::warn!("audit event not recorded: {e}");
        }
    }
    answer
}
