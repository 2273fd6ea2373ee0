//! The integration test binary of `cubby-domain`: property tests of the domain
//! rules (lifecycle, allocation, credentials, throttle, custody) and the tidy
//! test that keeps IO crates out of the domain's dependency closure.
//!
//! Every property is checked against an oracle written here, independently of the
//! code under test (a transition table, a direct computation, a model).

mod access;
mod allocation;
mod lifecycle;
mod points;
mod tidy;

use proptest::test_runner::Config;

/// Proptest settings shared by the tests below: moderate case counts so the whole
/// binary runs in seconds.
fn config(cases: u32) -> Config {
    Config {
        cases,
        ..Config::default()
    }
}

/// Keypad code policy: `CodePolicy::check` against a direct, exact computation.
mod credentials {
    use cubby_domain::credentials::{CodePolicy, WeakPolicy};
    use proptest::prelude::*;

    /// The policy rule of security.md written out directly: 8 to 12 digits, a code
    /// space at least 1,000 times the active codes, and ≥ 10 expected years for a
    /// guesser at the daily limit to hit any active code. Exact integer arithmetic:
    /// years = (S + 1) / ((N + 1) · L · 365.25) ≥ 10  ⇔  4 (S + 1) ≥ 14,610 (N + 1) L.
    /// (Equality is impossible: the left side is not a multiple of 5.)
    fn expected(digits: u32, daily: u32, active: u32) -> Result<(), &'static str> {
        if !(8..=12).contains(&digits) {
            return Err("digits");
        }
        if daily == 0 {
            return Err("no daily limit");
        }
        let space = 10u128.pow(digits);
        if space < 1_000 * u128::from(active) {
            return Err("space");
        }
        if 4 * (space + 1) < 14_610 * (u128::from(active) + 1) * u128::from(daily) {
            return Err("too fast");
        }
        Ok(())
    }

    fn kind(r: &Result<(), WeakPolicy>) -> Result<(), &'static str> {
        match r {
            Ok(()) => Ok(()),
            Err(WeakPolicy::Digits(_)) => Err("digits"),
            Err(WeakPolicy::NoDailyLimit) => Err("no daily limit"),
            Err(WeakPolicy::SpaceTooSmall { .. }) => Err("space"),
            Err(WeakPolicy::TooFastToGuess { .. }) => Err("too fast"),
        }
    }

    fn check_agrees(digits: u32, daily: u32, active: u32) -> Result<(), TestCaseError> {
        let policy = CodePolicy {
            digits,
            keypad_daily_failure_limit: daily,
            max_active_codes: active,
        };
        let got = policy.check();
        let want = expected(digits, daily, active);
        prop_assert_eq!(
            got.is_ok(),
            want.is_ok(),
            "{:?}: check() = {:?}, expected {:?}",
            policy,
            got,
            want
        );
        prop_assert_eq!(kind(&got), want, "{:?}: wrong reason {:?}", policy, got);
        match got {
            Err(WeakPolicy::Digits(d)) => prop_assert_eq!(d, digits),
            Err(WeakPolicy::SpaceTooSmall { active: a, .. }) => prop_assert_eq!(a, active),
            Err(WeakPolicy::TooFastToGuess { years }) => {
                prop_assert!(years < 10.0, "years {}", years)
            }
            _ => {}
        }
        Ok(())
    }

    /// 0 to `u32::MAX`, spread evenly over orders of magnitude.
    fn wide_u32() -> impl Strategy<Value = u32> {
        (0u32..32, any::<u32>()).prop_map(|(shift, x)| x >> shift)
    }

    proptest! {
        #![proptest_config(crate::config(512))]

        #[test]
        fn code_policy_check_agrees_with_direct_computation(
            digits in 4u32..=14,
            daily in 1u32..=1000,
            active in 1u32..=5000,
        ) {
            check_agrees(digits, daily, active)?;
        }

        /// Over the whole `u32` range (log-uniform), where the code-space rule can
        /// decide on its own: with at most 5,000 codes it never can, because a space
        /// under 1,000 codes per code is always also too fast to guess.
        #[test]
        fn code_policy_check_agrees_over_wide_ranges(
            digits in 0u32..=16,
            daily in wide_u32(),
            active in wide_u32(),
        ) {
            check_agrees(digits, daily, active)?;
        }

        #[test]
        fn max_compartments_is_the_largest_passing_code_count(
            digits in 4u32..=14,
            daily in 1u32..=1000,
        ) {
            let policy = CodePolicy { digits, keypad_daily_failure_limit: daily, max_active_codes: 1 };
            let max = policy.max_compartments_per_locker();
            if max > 0 {
                prop_assert_eq!(expected(digits, daily, max), Ok(()), "{} compartments should pass", max);
            }
            if max < 1_000_000 {
                prop_assert!(expected(digits, daily, max + 1).is_err(), "{} compartments should fail", max + 1);
            }
        }
    }

    #[test]
    fn zero_daily_limit_is_refused() {
        let policy = CodePolicy {
            digits: 8,
            keypad_daily_failure_limit: 0,
            max_active_codes: 1,
        };
        assert_eq!(policy.check(), Err(WeakPolicy::NoDailyLimit));
    }
}

/// Keypad throttle: a model of security.md's lockout and daily limit, run against
/// `KeypadState` over random sequences of wrong codes, right codes and waiting.
mod throttle {
    use std::collections::BTreeMap;

    use cubby_domain::Millis;
    use cubby_domain::throttle::{KeypadRefusal, KeypadState, ThrottlePolicy};
    use proptest::collection::vec;
    use proptest::prelude::*;

    const DAY_MS: Millis = 86_400_000;

    #[derive(Debug, Clone)]
    enum Event {
        /// Someone types a wrong code.
        Wrong,
        /// Someone types a right code.
        Right,
        /// Time passes (0 to 200 s).
        Wait(Millis),
    }

    fn events() -> impl Strategy<Value = Vec<Event>> {
        // The mix varies per case: some runs hammer wrong codes, some are mostly waiting.
        (1u32..=10, 1u32..=3, 1u32..=4).prop_flat_map(|(wrong, right, wait)| {
            vec(
                prop_oneof![
                    wrong => Just(Event::Wrong),
                    right => Just(Event::Right),
                    wait => (0..=200_000 as Millis).prop_map(Event::Wait),
                ],
                0..300,
            )
        })
    }

    fn policies() -> impl Strategy<Value = ThrottlePolicy> {
        prop_oneof![
            2 => Just(ThrottlePolicy::default()),
            1 => (1u32..=12, 1_000..=120_000 as Millis, 0..=120_000 as Millis, 1u32..=60).prop_map(
                |(lockout_after, lockout_base_ms, lockout_step_ms, daily_limit)| ThrottlePolicy {
                    lockout_after,
                    lockout_base_ms,
                    lockout_step_ms,
                    daily_limit,
                }
            ),
        ]
    }

    fn start_times() -> impl Strategy<Value = Millis> {
        // Often a few minutes before a UTC midnight, so runs cross into a new day.
        (
            19_000i64..21_000,
            prop_oneof![0..DAY_MS, DAY_MS - 600_000..DAY_MS],
        )
            .prop_map(|(day, offset)| day * DAY_MS + offset)
    }

    /// security.md, written out: `lockout_after` consecutive failures lock for the
    /// base time, each further one adds a step; `daily_limit` failures in one UTC
    /// day disable the keypad until staff reset it (it stays disabled past midnight).
    #[derive(Debug, Default)]
    struct Model {
        consecutive: u32,
        locked_until: Millis,
        disabled: bool,
        failures_per_day: BTreeMap<i64, u32>,
    }

    impl Model {
        fn expected_check(&self, now: Millis) -> Result<(), KeypadRefusal> {
            if self.disabled {
                Err(KeypadRefusal::Disabled)
            } else if now < self.locked_until {
                let ms = self.locked_until - now;
                Err(KeypadRefusal::LockedOut {
                    retry_after_secs: ((ms + 999) / 1000) as u64,
                })
            } else {
                Ok(())
            }
        }
    }

    proptest! {
        #![proptest_config(crate::config(256))]

        #[test]
        fn keypad_throttle_follows_the_lockout_model(
            policy in policies(),
            start in start_times(),
            events in events(),
            // Whether the caller asks `check` before trying a code (the real flow) or
            // records every attempt regardless (a caller that forgot: counting must
            // still hold).
            gated in any::<bool>(),
        ) {
            let mut state = KeypadState::default();
            let mut model = Model::default();
            let mut now = start;
            for (step, event) in events.iter().enumerate() {
                match event {
                    Event::Wait(ms) => now += ms,
                    Event::Wrong => {
                        if !gated || state.check(now).is_ok() {
                            state.record_failure(now, &policy);
                            let today = now.div_euclid(DAY_MS);
                            let count = model.failures_per_day.entry(today).or_insert(0);
                            *count += 1;
                            let count = *count;
                            model.consecutive += 1;
                            if count >= policy.daily_limit {
                                model.disabled = true;
                            }
                            if model.consecutive >= policy.lockout_after {
                                let extra = Millis::from(model.consecutive - policy.lockout_after);
                                model.locked_until = now + policy.lockout_base_ms + policy.lockout_step_ms * extra;
                            }
                            // The daily limit: never more than `daily_limit` failures in a
                            // UTC day without the keypad being disabled.
                            prop_assert!(
                                count < policy.daily_limit || state.disabled,
                                "step {}: {} failures recorded on UTC day {} (limit {}) but keypad not disabled: {:?}",
                                step, count, today, policy.daily_limit, state
                            );
                        }
                    }
                    Event::Right => {
                        if !gated || state.check(now).is_ok() {
                            state.record_success();
                            model.consecutive = 0;
                            model.locked_until = 0;
                        }
                    }
                }
                prop_assert_eq!(
                    state.disabled, model.disabled,
                    "step {}: disabled flag differs from the model (failures per day {:?})",
                    step, model.failures_per_day
                );
                // The lockout: after `lockout_after`+ consecutive failures, refused until it passes.
                if model.consecutive >= policy.lockout_after && now < model.locked_until {
                    prop_assert!(state.check(now).is_err(), "step {}: locked out until {} but check({}) passed", step, model.locked_until, now);
                }
                prop_assert_eq!(
                    state.check(now), model.expected_check(now),
                    "step {} at {}: {:?} vs model {:?}", step, now, state, model
                );
                // Probe the lock's end exactly: refused 1 ms before, allowed at it.
                if !model.disabled && model.locked_until > now {
                    prop_assert!(state.check(model.locked_until - 1).is_err());
                    prop_assert_eq!(state.check(model.locked_until), Ok(()));
                }
            }
        }
    }

    #[test]
    fn ten_consecutive_failures_lock_for_90_seconds_each_further_adds_90() {
        let p = ThrottlePolicy::default();
        let mut s = KeypadState::default();
        let t0: Millis = 5 * DAY_MS + 1_000;
        for i in 0..9 {
            s.record_failure(t0 + i, &p);
        }
        assert_eq!(s.check(t0 + 9), Ok(()), "9 failures must not lock");
        s.record_failure(t0 + 9, &p);
        assert_eq!(
            s.check(t0 + 9),
            Err(KeypadRefusal::LockedOut {
                retry_after_secs: 90
            })
        );
        assert!(s.check(t0 + 9 + 89_999).is_err());
        assert_eq!(s.check(t0 + 9 + 90_000), Ok(()));
        s.record_failure(t0 + 100_000, &p);
        assert_eq!(
            s.check(t0 + 100_000),
            Err(KeypadRefusal::LockedOut {
                retry_after_secs: 180
            })
        );
    }
}

/// Chain of custody: any single-byte edit, deletion or adjacent swap is detected.
mod custody {
    use cubby_domain::custody::{ChainBreak, CustodyEvent, GENESIS, verify_chain};
    use proptest::collection::vec;
    use proptest::prelude::*;

    const SITE: &str = "site_a";

    type Chain = Vec<(CustodyEvent, [u8; 32])>;

    /// Non-empty ASCII text, so flipping bits below 0x80 keeps it a valid `String`.
    fn text() -> impl Strategy<Value = String> {
        "[ -~]{1,24}"
    }

    fn chains() -> impl Strategy<Value = Chain> {
        vec(
            (
                text(),
                text(),
                text(),
                text(),
                text(),
                0i64..4_000_000_000_000,
            ),
            1..=50,
        )
        .prop_map(|rows| {
            let mut prev = GENESIS;
            rows.into_iter()
                .enumerate()
                .map(|(i, (parcel_id, kind, actor, place, reason, at_ms))| {
                    let event = CustodyEvent {
                        site_id: SITE.into(),
                        seq: i as i64 + 1,
                        parcel_id,
                        kind,
                        actor,
                        at_ms,
                        place,
                        reason,
                    };
                    let hash = event.chain_hash(&prev);
                    prev = hash;
                    (event, hash)
                })
                .collect()
        })
    }

    #[derive(Debug, Clone)]
    enum Tamper {
        /// XOR one byte of one field (`field` 0..=8: the eight event fields and the
        /// stored hash) of event `index` with a non-zero `mask`.
        Flip {
            index: usize,
            field: usize,
            byte: usize,
            mask: u8,
        },
        Delete {
            index: usize,
        },
        /// Swap events `index` and `index + 1` with their stored hashes.
        Swap {
            index: usize,
            renumber: bool,
        },
        /// Like `Flip` on an event field, by a forger who then recomputes the stored
        /// hashes from there to the end: only the separately kept head reveals it.
        Rewrite {
            index: usize,
            field: usize,
            byte: usize,
            mask: u8,
        },
        /// Move the last byte of text field `field` to the front of the next one, so
        /// the fields' concatenation is unchanged (defeated by length prefixes).
        Shift {
            index: usize,
            field: usize,
        },
    }

    fn chain_and_tamper() -> impl Strategy<Value = (Chain, Tamper)> {
        chains().prop_flat_map(|chain| {
            let n = chain.len();
            let flip = (0..n, 0usize..9, any::<usize>(), 1u8..=255).prop_map(
                |(index, field, byte, mask)| Tamper::Flip {
                    index,
                    field,
                    byte,
                    mask,
                },
            );
            let delete = (0..n).prop_map(|index| Tamper::Delete { index });
            let rewrite = (0..n, 0usize..8, any::<usize>(), 1u8..=255).prop_map(
                |(index, field, byte, mask)| Tamper::Rewrite {
                    index,
                    field,
                    byte,
                    mask,
                },
            );
            let shift = (0..n, 0usize..5).prop_map(|(index, field)| Tamper::Shift { index, field });
            let tamper = if n >= 2 {
                let swap = (0..n - 1, any::<bool>())
                    .prop_map(|(index, renumber)| Tamper::Swap { index, renumber });
                prop_oneof![3 => flip, 3 => delete, 3 => swap, 1 => rewrite, 1 => shift].boxed()
            } else {
                prop_oneof![3 => flip, 3 => delete, 1 => rewrite, 1 => shift].boxed()
            };
            (Just(chain), tamper)
        })
    }

    fn flip_text(s: &mut String, byte: usize, mask: u8) {
        let mut bytes = std::mem::take(s).into_bytes();
        let i = byte % bytes.len();
        // Keep it ASCII (valid UTF-8) while still changing it.
        bytes[i] ^= mask & 0x7f | u8::from(mask & 0x7f == 0);
        *s = String::from_utf8(bytes).expect("ASCII stays UTF-8");
    }

    fn flip_i64(v: &mut i64, byte: usize, mask: u8) {
        let mut bytes = v.to_be_bytes();
        bytes[byte % 8] ^= mask;
        *v = i64::from_be_bytes(bytes);
    }

    fn flip_field(event: &mut CustodyEvent, field: usize, byte: usize, mask: u8) {
        match field {
            0 => flip_text(&mut event.site_id, byte, mask),
            1 => flip_i64(&mut event.seq, byte, mask),
            2 => flip_text(&mut event.parcel_id, byte, mask),
            3 => flip_text(&mut event.kind, byte, mask),
            4 => flip_text(&mut event.actor, byte, mask),
            5 => flip_i64(&mut event.at_ms, byte, mask),
            6 => flip_text(&mut event.place, byte, mask),
            _ => flip_text(&mut event.reason, byte, mask),
        }
    }

    /// The text fields in the order the hash covers them.
    fn text_fields(event: &mut CustodyEvent) -> [&mut String; 6] {
        [
            &mut event.site_id,
            &mut event.parcel_id,
            &mut event.kind,
            &mut event.actor,
            &mut event.place,
            &mut event.reason,
        ]
    }

    fn apply(chain: &mut Chain, tamper: &Tamper) {
        match *tamper {
            Tamper::Flip {
                index,
                field,
                byte,
                mask,
            } => {
                let (event, hash) = &mut chain[index];
                if field < 8 {
                    flip_field(event, field, byte, mask);
                } else {
                    hash[byte % 32] ^= mask;
                }
            }
            Tamper::Rewrite {
                index,
                field,
                byte,
                mask,
            } => {
                flip_field(&mut chain[index].0, field, byte, mask);
                let mut prev = if index == 0 {
                    GENESIS
                } else {
                    chain[index - 1].1
                };
                for (event, hash) in &mut chain[index..] {
                    *hash = event.chain_hash(&prev);
                    prev = *hash;
                }
            }
            Tamper::Shift { index, field } => {
                let fields = text_fields(&mut chain[index].0);
                let moved = fields[field].pop().expect("text fields are non-empty");
                fields[field + 1].insert(0, moved);
            }
            Tamper::Delete { index } => {
                chain.remove(index);
            }
            Tamper::Swap { index, renumber } => {
                chain.swap(index, index + 1);
                if renumber {
                    // A careful forger also fixes the sequence numbers.
                    chain[index].0.seq = index as i64 + 1;
                    chain[index + 1].0.seq = index as i64 + 2;
                }
            }
        }
    }

    fn verify(chain: &Chain, head: Option<(i64, [u8; 32])>) -> Result<u64, ChainBreak> {
        verify_chain(SITE, chain.iter().map(|(e, h)| (e, *h)), head)
    }

    proptest! {
        #![proptest_config(crate::config(256))]

        #[test]
        fn custody_chain_detects_any_edit_deletion_or_swap((chain, tamper) in chain_and_tamper()) {
            let n = chain.len();
            let head = Some((n as i64, chain[n - 1].1));
            prop_assert_eq!(verify(&chain, head), Ok(n as u64), "untouched chain must verify");
            prop_assert_eq!(verify(&chain, None), Ok(n as u64), "untouched chain must verify without head");

            let mut tampered = chain.clone();
            apply(&mut tampered, &tamper);
            prop_assert_ne!(&tampered, &chain, "the tamper must change something");
            let result = verify(&tampered, head);
            prop_assert!(result.is_err(), "{:?} went undetected: {:?}", tamper, result);
        }
    }
}
