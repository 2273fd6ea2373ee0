//! The security audit log: an append-only, hash-chained list of what was done
//! to the system's trust (sign-in failures, tokens issued and revoked, remote
//! opens, grants, policy, door, device and webhook changes, exports and
//! erasures). One chain for the whole installation, verified like the custody
//! chains by [`crate::custody::verify_chain`].
//!
//! Actors are pseudonymous: a token or session id, never a name or an email.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::custody::{Chained, hash_fields};

/// What happened. The wire names are stable: filters and reports use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    /// A bearer token that is unknown, revoked or expired was presented.
    #[serde(rename = "auth.failed")]
    AuthFailed,
    /// A source sent too many failed credentials and was told to wait.
    #[serde(rename = "auth.throttled")]
    AuthThrottled,
    #[serde(rename = "sign_in.failed")]
    SignInFailed,
    #[serde(rename = "step_up.failed")]
    StepUpFailed,
    #[serde(rename = "token.issued")]
    TokenIssued,
    #[serde(rename = "token.revoked")]
    TokenRevoked,
    #[serde(rename = "token.rotated")]
    TokenRotated,
    #[serde(rename = "remote_open")]
    RemoteOpen,
    #[serde(rename = "bulk_open")]
    BulkOpen,
    #[serde(rename = "grant.issued")]
    GrantIssued,
    #[serde(rename = "grant.revoked")]
    GrantRevoked,
    #[serde(rename = "courier_pass.issued")]
    CourierPassIssued,
    #[serde(rename = "courier_pass.revoked")]
    CourierPassRevoked,
    #[serde(rename = "courier_pass.used")]
    CourierPassUsed,
    #[serde(rename = "carrier.enabled")]
    CarrierEnabled,
    #[serde(rename = "carrier.disabled")]
    CarrierDisabled,
    #[serde(rename = "policy.changed")]
    PolicyChanged,
    #[serde(rename = "door.changed")]
    DoorChanged,
    #[serde(rename = "device.changed")]
    DeviceChanged,
    #[serde(rename = "webhook.changed")]
    WebhookChanged,
    #[serde(rename = "invite.issued")]
    InviteIssued,
    #[serde(rename = "export")]
    Export,
    #[serde(rename = "erasure")]
    Erasure,
    #[serde(rename = "resident.moved_out")]
    ResidentMovedOut,
    /// The retention job deleted expired data (counts, not content).
    #[serde(rename = "retention.purged")]
    RetentionPurged,
    #[serde(rename = "incident.acknowledged")]
    IncidentAcknowledged,
    #[serde(rename = "incident.assigned")]
    IncidentAssigned,
    #[serde(rename = "incident.commented")]
    IncidentCommented,
    #[serde(rename = "incident.resolved")]
    IncidentResolved,
}

impl AuditAction {
    pub const ALL: [AuditAction; 29] = [
        AuditAction::AuthFailed,
        AuditAction::AuthThrottled,
        AuditAction::SignInFailed,
        AuditAction::StepUpFailed,
        AuditAction::TokenIssued,
        AuditAction::TokenRevoked,
        AuditAction::TokenRotated,
        AuditAction::RemoteOpen,
        AuditAction::BulkOpen,
        AuditAction::GrantIssued,
        AuditAction::GrantRevoked,
        AuditAction::CourierPassIssued,
        AuditAction::CourierPassRevoked,
        AuditAction::CourierPassUsed,
        AuditAction::CarrierEnabled,
        AuditAction::CarrierDisabled,
        AuditAction::PolicyChanged,
        AuditAction::DoorChanged,
        AuditAction::DeviceChanged,
        AuditAction::WebhookChanged,
        AuditAction::InviteIssued,
        AuditAction::Export,
        AuditAction::Erasure,
        AuditAction::ResidentMovedOut,
        AuditAction::RetentionPurged,
        AuditAction::IncidentAcknowledged,
        AuditAction::IncidentAssigned,
        AuditAction::IncidentCommented,
        AuditAction::IncidentResolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::AuthFailed => "auth.failed",
            AuditAction::AuthThrottled => "auth.throttled",
            AuditAction::SignInFailed => "sign_in.failed",
            AuditAction::StepUpFailed => "step_up.failed",
            AuditAction::TokenIssued => "token.issued",
            AuditAction::TokenRevoked => "token.revoked",
            AuditAction::TokenRotated => "token.rotated",
            AuditAction::RemoteOpen => "remote_open",
            AuditAction::BulkOpen => "bulk_open",
            AuditAction::GrantIssued => "grant.issued",
            AuditAction::GrantRevoked => "grant.revoked",
            AuditAction::CourierPassIssued => "courier_pass.issued",
            AuditAction::CourierPassRevoked => "courier_pass.revoked",
            AuditAction::CourierPassUsed => "courier_pass.used",
            AuditAction::CarrierEnabled => "carrier.enabled",
            AuditAction::CarrierDisabled => "carrier.disabled",
            AuditAction::PolicyChanged => "policy.changed",
            AuditAction::DoorChanged => "door.changed",
            AuditAction::DeviceChanged => "device.changed",
            AuditAction::WebhookChanged => "webhook.changed",
            AuditAction::InviteIssued => "invite.issued",
            AuditAction::Export => "export",
            AuditAction::Erasure => "erasure",
            AuditAction::ResidentMovedOut => "resident.moved_out",
            AuditAction::RetentionPurged => "retention.purged",
            AuditAction::IncidentAcknowledged => "incident.acknowledged",
            AuditAction::IncidentAssigned => "incident.assigned",
            AuditAction::IncidentCommented => "incident.commented",
            AuditAction::IncidentResolved => "incident.resolved",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the security audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    pub at_ms: Millis,
    /// An [`AuditAction`] wire name.
    pub action: String,
    /// Who: `token:tok_…`, `session:…`, `anonymous`, `system`.
    pub actor: String,
    /// Where from: the peer address of the request, or `cli`, `scheduler`.
    pub source: String,
    /// What was acted on (`token:tok_…`, `site:site_…/policy`, `locker:…/A01`).
    pub target: String,
    /// The organisation the target belongs to, when it belongs to one.
    pub org_id: String,
    /// Why, or what was refused, in words.
    pub reason: String,
}

impl Chained for AuditEvent {
    fn seq(&self) -> i64 {
        self.seq
    }

    fn chain_hash(&self, prev: &[u8; 32]) -> [u8; 32] {
        hash_fields(
            b"cubby-audit-v1",
            prev,
            [self.seq, self.at_ms],
            &[
                &self.action,
                &self.actor,
                &self.source,
                &self.target,
                &self.org_id,
                &self.reason,
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custody::{ChainBreak, GENESIS, verify_chain};

    fn chain(n: i64) -> Vec<(AuditEvent, [u8; 32])> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let e = AuditEvent {
                    seq,
                    at_ms: 1_000 * seq,
                    action: AuditAction::TokenIssued.to_string(),
                    actor: "token:tok_admin".into(),
                    source: "127.0.0.1".into(),
                    target: format!("token:tok_{seq}"),
                    org_id: "org_a".into(),
                    reason: "role carrier".into(),
                };
                let h = e.chain_hash(&prev);
                prev = h;
                (e, h)
            })
            .collect()
    }

    #[test]
    fn every_action_round_trips_through_its_wire_name() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            let json = serde_json::to_string(&a).expect("serialises");
            assert_eq!(json, format!("\"{}\"", a.as_str()));
        }
        assert_eq!(AuditAction::parse("token.stolen"), None);
    }

    #[test]
    fn an_edited_deleted_or_reordered_event_breaks_the_chain() {
        let c = chain(4);
        let head = Some((4, c[3].1));
        let verify = |events: &[(AuditEvent, [u8; 32])]| {
            verify_chain("security audit", events.iter().map(|(e, h)| (e, *h)), head)
        };
        assert_eq!(verify(&c), Ok(4));
        let mut edited = c.clone();
        edited[1].0.actor = "token:tok_someone_else".into();
        assert!(matches!(
            verify(&edited),
            Err(ChainBreak::HashMismatch { seq: 2, .. })
        ));
        let mut deleted = c.clone();
        deleted.remove(2);
        assert!(matches!(verify(&deleted), Err(ChainBreak::Gap { .. })));
        let mut swapped = c.clone();
        swapped.swap(0, 1);
        swapped[0].0.seq = 1;
        swapped[1].0.seq = 2;
        assert!(matches!(
            verify(&swapped),
            Err(ChainBreak::HashMismatch { seq: 1, .. })
        ));
    }
}
