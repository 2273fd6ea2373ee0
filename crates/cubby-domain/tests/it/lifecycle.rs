//! The parcel lifecycle against a transition table transcribed by hand from the
//! diagram at the top of `lifecycle.rs` (the reference never calls `apply`).

use cubby_domain::lifecycle::{
    self, ALL_STATES, ALL_TRANSITIONS, IllegalTransition, ParcelState as S, StateName,
    Transition as T,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

/// Every allowed step, `(from, transition, to)`, read off the diagram:
///
/// ```text
///  (new) ──announce──▶ announced ──deposit──▶ deposited ──pick_up──▶ picked_up
///    │                    │   └──cancel──▶ cancelled     │  ▲   └─hold─▶ on_hold ─release─┐
///    ├──deposit──▶ deposited                              │  └────────────────────────────┘
///    └──deposit_unassigned──▶ unassigned ──assign──▶ deposited
///  deposited / on_hold / unassigned ──expire──▶ expired ──return──▶ returned_to_carrier
///  on_hold / expired ──pick_up──▶ picked_up
///  deposited / on_hold ──unassign (recipient moved out)──▶ unassigned
///  (new) ──announce_return──▶ return_announced ──drop_off──▶ dropped_off ──return──▶ returned_to_carrier
///                               └──cancel──▶ cancelled
/// ```
///
/// Reading note: the `│` dropping from `announced` (beside its `└──cancel`) joins
/// the two deposit branches drawn under `(new)`, so an announced parcel may be
/// deposited for a known recipient or deposited unassigned, like a new one.
/// Nothing else leaves picked_up, returned_to_carrier or cancelled.
const TABLE: &[(Option<S>, T, S)] = &[
    // (new)
    (None, T::Announce, S::Announced),
    (None, T::Deposit, S::Deposited),
    (None, T::DepositUnassigned, S::Unassigned),
    // announced
    (Some(S::Announced), T::Deposit, S::Deposited),
    (Some(S::Announced), T::DepositUnassigned, S::Unassigned),
    (Some(S::Announced), T::Cancel, S::Cancelled),
    // deposited
    (Some(S::Deposited), T::PickUp, S::PickedUp),
    (Some(S::Deposited), T::Hold, S::OnHold),
    (Some(S::Deposited), T::Expire, S::Expired),
    (Some(S::Deposited), T::Unassign, S::Unassigned),
    // on_hold
    (Some(S::OnHold), T::Release, S::Deposited),
    (Some(S::OnHold), T::Expire, S::Expired),
    (Some(S::OnHold), T::PickUp, S::PickedUp),
    (Some(S::OnHold), T::Unassign, S::Unassigned),
    // unassigned
    (Some(S::Unassigned), T::Assign, S::Deposited),
    (Some(S::Unassigned), T::Expire, S::Expired),
    // expired
    (Some(S::Expired), T::Return, S::ReturnedToCarrier),
    (Some(S::Expired), T::PickUp, S::PickedUp),
    // a resident's return or shipment
    (None, T::AnnounceReturn, S::ReturnAnnounced),
    (Some(S::ReturnAnnounced), T::DropOff, S::DroppedOff),
    (Some(S::ReturnAnnounced), T::Cancel, S::Cancelled),
    (Some(S::DroppedOff), T::Return, S::ReturnedToCarrier),
];

/// The reference rule: the table's entry, or `None` when the step is illegal.
fn reference_next(from: Option<S>, t: T) -> Option<S> {
    TABLE
        .iter()
        .find(|(f, tr, _)| *f == from && *tr == t)
        .map(|(_, _, to)| *to)
}

fn legal_from(from: Option<S>) -> Vec<T> {
    TABLE
        .iter()
        .filter(|(f, _, _)| *f == from)
        .map(|(_, t, _)| *t)
        .collect()
}

/// The reference state: where the parcel is, and what the last step should have done.
#[derive(Debug, Clone)]
struct Model {
    state: Option<S>,
    last: Option<Outcome>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Moved(S),
    Refused,
}

struct Lifecycle;

impl ReferenceStateMachine for Lifecycle {
    type State = Model;
    type Transition = T;

    fn init_state() -> BoxedStrategy<Model> {
        // Mostly a new parcel; sometimes one already in any state, so rarely reached
        // states get as many transitions thrown at them as common ones.
        prop_oneof![
            2 => Just(None),
            1 => select(ALL_STATES).prop_map(Some),
        ]
        .prop_map(|state| Model { state, last: None })
        .boxed()
    }

    fn transitions(model: &Model) -> BoxedStrategy<T> {
        // Any transition at all (illegal ones included), biased towards legal ones so
        // runs travel deep into the lifecycle instead of bouncing off the start.
        let legal = legal_from(model.state);
        if legal.is_empty() {
            select(ALL_TRANSITIONS).boxed()
        } else {
            prop_oneof![
                3 => select(legal),
                2 => select(ALL_TRANSITIONS),
            ]
            .boxed()
        }
    }

    fn apply(model: Model, t: &T) -> Model {
        match reference_next(model.state, *t) {
            Some(to) => Model {
                state: Some(to),
                last: Some(Outcome::Moved(to)),
            },
            None => Model {
                state: model.state,
                last: Some(Outcome::Refused),
            },
        }
    }
}

/// The system under test: a parcel driven only by `lifecycle::apply`.
struct Parcel {
    start: Option<S>,
    state: Option<S>,
    /// Accepted transitions since `start`.
    history: Vec<T>,
}

impl StateMachineTest for Lifecycle {
    type SystemUnderTest = Parcel;
    type Reference = Lifecycle;

    fn init_test(model: &Model) -> Parcel {
        Parcel {
            start: model.state,
            state: model.state,
            history: Vec::new(),
        }
    }

    fn apply(mut parcel: Parcel, model: &Model, t: T) -> Parcel {
        let before = parcel.state;
        let got = lifecycle::apply(before, t);
        match (model.last, got) {
            (Some(Outcome::Moved(to)), Ok(next)) => {
                assert_eq!(
                    next, to,
                    "{before:?} --{t:?}--> {next:?}, but the diagram says {to:?}"
                );
                parcel.state = Some(next);
                parcel.history.push(t);
            }
            (Some(Outcome::Refused), Err(e)) => {
                assert_eq!(
                    e,
                    IllegalTransition {
                        from: StateName(before),
                        transition: t
                    }
                );
                assert!(!e.to_string().is_empty());
            }
            (Some(Outcome::Moved(to)), Err(e)) => {
                panic!("{before:?} --{t:?}--> {to:?} is in the diagram, but apply refused it: {e}")
            }
            (Some(Outcome::Refused), Ok(next)) => {
                panic!(
                    "{before:?} --{t:?}--> is not in the diagram, but apply allowed it (to {next:?})"
                )
            }
            (None, _) => unreachable!("the reference records every step"),
        }
        parcel
    }

    fn check_invariants(parcel: &Parcel, model: &Model) {
        assert_eq!(parcel.state, model.state);
        if parcel.start.is_none() {
            // The accepted history replays to the same state.
            assert_eq!(lifecycle::replay(&parcel.history), Ok(parcel.state));
        }
        if let Some(s) = parcel.state {
            assert_eq!(
                s.is_final(),
                legal_from(Some(s)).is_empty(),
                "is_final of {s:?}"
            );
            assert!(
                !s.is_collectable() || s.is_in_compartment(),
                "{s:?} collectable but not in a compartment"
            );
        }
    }
}

prop_state_machine! {
    #![proptest_config(crate::config(128))]

    #[test]
    fn lifecycle_apply_matches_the_diagram(sequential 1..40 => Lifecycle);
}

/// Sequences that mostly follow legal paths, with an occasional arbitrary step.
fn transition_sequences() -> impl Strategy<Value = Vec<T>> {
    vec((any::<bool>(), 0usize..16, select(ALL_TRANSITIONS)), 0..25).prop_map(|choices| {
        let mut state = None;
        let mut seq = Vec::new();
        for (follow, pick, any_t) in choices {
            let legal = legal_from(state);
            let t = if follow && !legal.is_empty() {
                legal[pick % legal.len()]
            } else {
                any_t
            };
            if let Some(next) = reference_next(state, t) {
                state = Some(next);
            }
            seq.push(t);
        }
        seq
    })
}

fn fold_apply(seq: &[T]) -> Result<Option<S>, IllegalTransition> {
    seq.iter()
        .try_fold(None, |state, t| lifecycle::apply(state, *t).map(Some))
}

proptest! {
    #![proptest_config(crate::config(256))]

    #[test]
    fn replay_equals_folding_apply_and_state_predicates_hold(seq in transition_sequences()) {
        let replayed = lifecycle::replay(&seq);
        prop_assert_eq!(replayed, fold_apply(&seq));
        // And the reference agrees on where the sequence ends (or first breaks).
        let mut state = None;
        let mut broke = None;
        for t in &seq {
            match reference_next(state, *t) {
                Some(next) => state = Some(next),
                None => {
                    broke = Some(IllegalTransition { from: StateName(state), transition: *t });
                    break;
                }
            }
        }
        prop_assert_eq!(replayed, broke.map_or(Ok(state), Err));

        if let Ok(Some(s)) = replayed {
            if s.is_final() {
                for t in ALL_TRANSITIONS {
                    prop_assert!(lifecycle::apply(Some(s), *t).is_err(), "final {:?} accepted {:?}", s, t);
                }
            }
            prop_assert!(!s.is_collectable() || s.is_in_compartment(), "{:?}", s);
            prop_assert_eq!(S::parse(s.as_str()), Ok(s));
        }
        for t in &seq {
            prop_assert_eq!(T::from_event_kind(t.event_kind()), Some(*t));
        }
    }
}

#[test]
fn reference_table_has_one_entry_per_step() {
    for (i, (from, t, _)) in TABLE.iter().enumerate() {
        assert!(
            TABLE[..i].iter().all(|(f, tr, _)| (f, tr) != (from, t)),
            "duplicate table entry for {from:?} --{t:?}-->"
        );
    }
}

#[test]
fn apply_matches_the_table_for_every_state_and_transition() {
    let froms = std::iter::once(None).chain(ALL_STATES.iter().copied().map(Some));
    for from in froms {
        for t in ALL_TRANSITIONS {
            let got = lifecycle::apply(from, *t).ok();
            assert_eq!(got, reference_next(from, *t), "{from:?} --{t:?}-->");
        }
    }
}

#[test]
fn final_states_accept_nothing_and_are_exactly_the_ends_of_the_diagram() {
    let finals: Vec<S> = ALL_STATES.iter().copied().filter(S::is_final).collect();
    assert_eq!(
        finals,
        vec![S::PickedUp, S::ReturnedToCarrier, S::Cancelled]
    );
    for s in &finals {
        for t in ALL_TRANSITIONS {
            assert!(
                lifecycle::apply(Some(*s), *t).is_err(),
                "final {s:?} accepted {t:?}"
            );
        }
    }
}

#[test]
fn collectable_implies_in_compartment() {
    for s in ALL_STATES {
        assert!(!s.is_collectable() || s.is_in_compartment(), "{s:?}");
    }
}

#[test]
fn event_kinds_round_trip_and_are_distinct() {
    for t in ALL_TRANSITIONS {
        assert_eq!(T::from_event_kind(t.event_kind()), Some(*t));
    }
    let mut kinds: Vec<&str> = ALL_TRANSITIONS.iter().map(T::event_kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), ALL_TRANSITIONS.len());
    assert_eq!(T::from_event_kind("teleported"), None);
}
