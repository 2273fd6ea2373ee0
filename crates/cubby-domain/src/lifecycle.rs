//! The parcel lifecycle as a pure state machine. Every change of state is caused
//! by exactly one [`Transition`], and every transition becomes a custody event.
//!
//! ```text
//!  (new) ──announce──▶ announced ──deposit──▶ deposited ──pick_up──▶ picked_up
//!    │                    │   └──cancel──▶ cancelled     │  ▲   └─hold─▶ on_hold ─release─┐
//!    ├──deposit──▶ deposited                              │  └────────────────────────────┘
//!    └──deposit_unassigned──▶ unassigned ──assign──▶ deposited
//!  deposited / on_hold / unassigned ──expire──▶ expired ──return──▶ returned_to_carrier
//!  on_hold / expired ──pick_up──▶ picked_up
//!  (new) ──announce_return──▶ return_announced ──drop_off──▶ dropped_off ──return──▶ returned_to_carrier
//!                               └──cancel──▶ cancelled
//! ```
//!
//! The last line is a resident's return or shipment: announced with a
//! carrier, dropped into a compartment at the kiosk, taken by the carrier.

use serde::{Deserialize, Serialize};

use crate::model::Invalid;

/// Where a parcel is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParcelState {
    Announced,
    Deposited,
    OnHold,
    Unassigned,
    PickedUp,
    Expired,
    ReturnedToCarrier,
    Cancelled,
    /// A resident announced a return or shipment; it is not at the locker yet.
    ReturnAnnounced,
    /// The resident put it in a compartment; it waits for the carrier.
    DroppedOff,
}

/// What happened to a parcel. Each variant is one custody event kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// A carrier pre-advised the parcel.
    Announce,
    /// A courier put the parcel in a compartment for a known recipient.
    Deposit,
    /// A courier put the parcel in a compartment but the recipient is unknown;
    /// it waits in the manager's queue.
    DepositUnassigned,
    /// Staff matched an unassigned parcel to a resident.
    Assign,
    /// The resident asked to keep the parcel longer.
    Hold,
    /// The hold ended.
    Release,
    /// The recipient (or their delegate) took the parcel out.
    PickUp,
    /// The dwell limit passed.
    Expire,
    /// The carrier took the parcel back.
    Return,
    /// The pre-advice was withdrawn before delivery.
    Cancel,
    /// The recipient moved out: the waiting parcel goes to the manager's
    /// queue (their codes no longer open it).
    Unassign,
    /// A resident announced a parcel to send (a return or a shipment).
    AnnounceReturn,
    /// The resident dropped it into a compartment with the drop-off code.
    DropOff,
}

pub const ALL_STATES: &[ParcelState] = &[
    ParcelState::Announced,
    ParcelState::Deposited,
    ParcelState::OnHold,
    ParcelState::Unassigned,
    ParcelState::PickedUp,
    ParcelState::Expired,
    ParcelState::ReturnedToCarrier,
    ParcelState::Cancelled,
    ParcelState::ReturnAnnounced,
    ParcelState::DroppedOff,
];

pub const ALL_TRANSITIONS: &[Transition] = &[
    Transition::Announce,
    Transition::Deposit,
    Transition::DepositUnassigned,
    Transition::Assign,
    Transition::Hold,
    Transition::Release,
    Transition::PickUp,
    Transition::Expire,
    Transition::Return,
    Transition::Cancel,
    Transition::Unassign,
    Transition::AnnounceReturn,
    Transition::DropOff,
];

/// A transition that the lifecycle does not allow from the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a parcel that is {from} cannot be {}", transition.past_tense())]
pub struct IllegalTransition {
    pub from: StateName,
    pub transition: Transition,
}

/// The state before a transition: `None` for a parcel that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateName(pub Option<ParcelState>);

impl std::fmt::Display for StateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(s) => f.write_str(s.as_str()),
            None => f.write_str("not yet known"),
        }
    }
}

/// The lifecycle rule: the state after `transition`, or why it is not allowed.
pub fn apply(
    from: Option<ParcelState>,
    transition: Transition,
) -> Result<ParcelState, IllegalTransition> {
    use ParcelState::*;
    use Transition::*;
    let to = match (from, transition) {
        (None, Announce) => Some(Announced),
        (None | Some(Announced), Deposit) => Some(Deposited),
        (None | Some(Announced), DepositUnassigned) => Some(Unassigned),
        (Some(Unassigned), Assign) => Some(Deposited),
        (Some(Deposited), Hold) => Some(OnHold),
        (Some(OnHold), Release) => Some(Deposited),
        (Some(Deposited | OnHold | Expired), PickUp) => Some(PickedUp),
        (Some(Deposited | OnHold | Unassigned), Expire) => Some(Expired),
        (Some(Expired | DroppedOff), Return) => Some(ReturnedToCarrier),
        (Some(Announced | ReturnAnnounced), Cancel) => Some(Cancelled),
        (None, AnnounceReturn) => Some(ReturnAnnounced),
        (Some(ReturnAnnounced), DropOff) => Some(DroppedOff),
        (Some(Deposited | OnHold), Unassign) => Some(Unassigned),
        _ => None,
    };
    to.ok_or(IllegalTransition {
        from: StateName(from),
        transition,
    })
}

impl ParcelState {
    pub fn as_str(&self) -> &'static str {
        match self {
            ParcelState::Announced => "announced",
            ParcelState::Deposited => "deposited",
            ParcelState::OnHold => "on_hold",
            ParcelState::Unassigned => "unassigned",
            ParcelState::PickedUp => "picked_up",
            ParcelState::Expired => "expired",
            ParcelState::ReturnedToCarrier => "returned_to_carrier",
            ParcelState::Cancelled => "cancelled",
            ParcelState::ReturnAnnounced => "return_announced",
            ParcelState::DroppedOff => "dropped_off",
        }
    }

    pub fn parse(s: &str) -> Result<Self, Invalid> {
        ALL_STATES
            .iter()
            .copied()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| Invalid::new("state", format!("unknown parcel state {s:?}")))
    }

    /// Whether the parcel is physically in a compartment.
    pub fn is_in_compartment(&self) -> bool {
        matches!(
            self,
            ParcelState::Deposited
                | ParcelState::OnHold
                | ParcelState::Unassigned
                | ParcelState::Expired
                | ParcelState::DroppedOff
        )
    }

    /// Whether the recipient may collect it with their credential.
    pub fn is_collectable(&self) -> bool {
        matches!(
            self,
            ParcelState::Deposited | ParcelState::OnHold | ParcelState::Expired
        )
    }

    /// No transition leaves this state.
    pub fn is_final(&self) -> bool {
        ALL_TRANSITIONS
            .iter()
            .all(|t| apply(Some(*self), *t).is_err())
    }
}

impl Transition {
    /// The custody event kind this transition records.
    pub fn event_kind(&self) -> &'static str {
        match self {
            Transition::Announce => "announced",
            Transition::Deposit => "deposited",
            Transition::DepositUnassigned => "deposited_unassigned",
            Transition::Assign => "recipient_assigned",
            Transition::Hold => "held",
            Transition::Release => "released",
            Transition::PickUp => "picked_up",
            Transition::Expire => "expired",
            Transition::Return => "returned_to_carrier",
            Transition::Cancel => "cancelled",
            Transition::Unassign => "recipient_moved_out",
            Transition::AnnounceReturn => "return_announced",
            Transition::DropOff => "dropped_off",
        }
    }

    pub fn from_event_kind(kind: &str) -> Option<Transition> {
        ALL_TRANSITIONS
            .iter()
            .copied()
            .find(|t| t.event_kind() == kind)
    }

    fn past_tense(&self) -> &'static str {
        match self {
            Transition::Announce => "announced",
            Transition::Deposit | Transition::DepositUnassigned => "deposited",
            Transition::Assign => "assigned a recipient",
            Transition::Hold => "put on hold",
            Transition::Release => "released from hold",
            Transition::PickUp => "picked up",
            Transition::Expire => "expired",
            Transition::Return => "returned to the carrier",
            Transition::Cancel => "cancelled",
            Transition::Unassign => "sent to the manager's queue (the recipient moved out)",
            Transition::AnnounceReturn => "announced for sending",
            Transition::DropOff => "dropped off",
        }
    }
}

impl std::fmt::Display for ParcelState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Replays a history of transitions from nothing; the final state or the first
/// illegal step. Used to check a stored timeline agrees with the stored state.
pub fn replay(transitions: &[Transition]) -> Result<Option<ParcelState>, IllegalTransition> {
    let mut state = None;
    for t in transitions {
        state = Some(apply(state, *t)?);
    }
    Ok(state)
}
