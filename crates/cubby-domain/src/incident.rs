//! Incidents as a workflow, pure: how serious each cause is, and which
//! steps staff may take from where an incident stands (acknowledge, assign,
//! comment, resolve; nothing changes a resolved one).

use serde::{Deserialize, Serialize};

use crate::model::Invalid;

/// How urgently staff must look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// The severity of an incident's cause. Someone may be getting in (a
/// forced door, a tampered journal or cache, a pass used after it was
/// revoked): critical. A door, lock or parcel needs a person soon: warning.
pub fn severity_of(kind: &str) -> Severity {
    match kind {
        "door_forced"
        | "journal_chain_broken"
        | "cache_refused"
        | "courier_pass_invalid"
        | "tamper" => Severity::Critical,
        "lock_stuck"
        | "door_held_open"
        | "keypad_locked"
        | "board_fault"
        | "deposit_not_detected"
        | "item_left_after_pickup"
        | "remote_open_refused"
        | "deposit_unreconciled"
        | "drop_off_unreconciled"
        | "return_unreconciled"
        | "pickup_unmatched"
        | "parcel_not_found"
        | "locker_offline" => Severity::Warning,
        _ => Severity::Info,
    }
}

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    pub acknowledged: bool,
    pub resolved: bool,
}

/// A step of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Acknowledge,
    Assign,
    Comment,
    Resolve,
}

/// Why a step is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the incident is resolved: nothing changes it any more")]
    Resolved,
}

/// The standing after `step`, or why it is refused. Acknowledging twice
/// keeps the first acknowledgement; resolving acknowledges too.
pub fn apply(from: Standing, step: Step) -> Result<Standing, Refused> {
    if from.resolved {
        return Err(Refused::Resolved);
    }
    Ok(match step {
        Step::Acknowledge => Standing {
            acknowledged: true,
            ..from
        },
        Step::Assign | Step::Comment => from,
        Step::Resolve => Standing {
            acknowledged: true,
            resolved: true,
        },
    })
}

/// A comment or a resolution's reason: plain text, 1 to 2,000 characters.
pub fn clean_note(field: &'static str, text: &str) -> Result<String, Invalid> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > 2_000 {
        return Err(Invalid::new(field, "must be 1 to 2000 characters"));
    }
    if t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Invalid::new(
            field,
            "plain text: no control characters other than line breaks",
        ));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_changes_a_resolved_incident_and_resolving_acknowledges() {
        let open = Standing::default();
        let done = apply(open, Step::Resolve).unwrap();
        assert_eq!(
            done,
            Standing {
                acknowledged: true,
                resolved: true
            }
        );
        for step in [
            Step::Acknowledge,
            Step::Assign,
            Step::Comment,
            Step::Resolve,
        ] {
            assert_eq!(apply(done, step), Err(Refused::Resolved));
        }
        let ack = apply(open, Step::Acknowledge).unwrap();
        assert_eq!(apply(ack, Step::Acknowledge), Ok(ack));
        assert_eq!(apply(ack, Step::Comment), Ok(ack));
    }

    #[test]
    fn break_ins_are_critical() {
        assert_eq!(severity_of("door_forced"), Severity::Critical);
        assert_eq!(severity_of("lock_stuck"), Severity::Warning);
        assert_eq!(severity_of("something_new"), Severity::Info);
        assert!(clean_note("text", "  ").is_err());
        assert_eq!(
            clean_note("text", " checked the hinge ").unwrap(),
            "checked the hinge"
        );
    }
}
