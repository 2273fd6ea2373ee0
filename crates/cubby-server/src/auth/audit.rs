//! Writing the security audit log (see `cubby_domain::audit`): who did what
//! to which target, from where and why. Use cases record inside their own
//! transaction, so an action and its audit event commit together; refusals
//! (a wrong token, a failed step-up) are recorded on their own.

use cubby_domain::Millis;
use cubby_domain::audit::AuditAction;
use cubby_store as db;
use cubby_store::AnyConnection;
use cubby_store::{OpError, Store};

use super::Caller;
use super::throttle::Source;

/// An audit event about to be recorded.
#[derive(Debug, Clone)]
pub struct Audit {
    event: db::audit::NewAuditEvent,
}

impl Audit {
    /// `caller` did `action` to `target`.
    pub fn new(
        caller: &Caller,
        action: AuditAction,
        target: impl Into<String>,
        reason: impl Into<String>,
    ) -> Audit {
        let mut audit = Audit::unknown(&Source(caller.source.clone()), action, target, reason)
            .by(caller.actor());
        audit.event.org_id = caller.org_id.clone();
        audit
    }

    /// `actor` (an actor string as custody events carry it) did `action`,
    /// where no request is at hand (a use case handed only the actor).
    pub fn of_actor(
        actor: impl Into<String>,
        action: AuditAction,
        target: impl Into<String>,
        reason: impl Into<String>,
    ) -> Audit {
        Audit::unknown(&Source("unknown".into()), action, target, reason).by(actor)
    }

    /// Somebody not (yet) known did `action`: a wrong token, a failed sign-in.
    pub fn unknown(
        source: &Source,
        action: AuditAction,
        target: impl Into<String>,
        reason: impl Into<String>,
    ) -> Audit {
        Audit {
            event: db::audit::NewAuditEvent {
                at_ms: 0,
                action: action.as_str(),
                actor: "anonymous".into(),
                source: source.0.clone(),
                target: target.into(),
                org_id: None,
                reason: reason.into(),
            },
        }
    }

    /// The acting identity when it is not a bearer token (`session:…`).
    pub fn by(mut self, actor: impl Into<String>) -> Audit {
        self.event.actor = actor.into();
        self
    }

    /// The organisation the target belongs to (the caller's by default).
    pub fn in_org(mut self, org_id: impl Into<String>) -> Audit {
        self.event.org_id = Some(org_id.into());
        self
    }

    /// Records it in the caller's transaction.
    pub async fn record(mut self, conn: &mut AnyConnection, now: Millis) -> Result<(), OpError> {
        self.event.at_ms = now;
        db::audit::append(conn, &self.event).await.map(|_| ())
    }

    /// Records it in a transaction of its own.
    pub async fn record_alone(self, store: &Store, now: Millis) -> Result<(), OpError> {
        store
            .transact(move |conn| Box::pin(async move { self.record(conn, now).await }))
            .await
    }
}
