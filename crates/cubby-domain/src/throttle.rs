//! Keypad lockout (security.md): 10 consecutive failures lock the keypad for 90 s,
//! each further failure adds 90 s, and 50 failures in a day disable keypad entry
//! until staff review. QR / app pick-up is not affected. The state is plain data so
//! the store can persist it and it survives restarts.

use serde::{Deserialize, Serialize};

use crate::Millis;

const DAY_MS: Millis = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottlePolicy {
    pub lockout_after: u32,
    pub lockout_base_ms: Millis,
    pub lockout_step_ms: Millis,
    pub daily_limit: u32,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            lockout_after: 10,
            lockout_base_ms: 90_000,
            lockout_step_ms: 90_000,
            daily_limit: 50,
        }
    }
}

/// Persisted per keypad (per locker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeypadState {
    pub consecutive_failures: u32,
    pub locked_until_ms: Millis,
    /// UTC day number the daily counter belongs to.
    pub day: i64,
    pub failures_today: u32,
    pub disabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeypadRefusal {
    #[error("too many wrong codes; try again in {retry_after_secs} s")]
    LockedOut { retry_after_secs: u64 },
    #[error(
        "keypad entry is disabled after too many wrong codes today; use the QR code or ask staff"
    )]
    Disabled,
}

impl KeypadState {
    /// Whether a code may be tried at `now`.
    pub fn check(&self, now: Millis) -> Result<(), KeypadRefusal> {
        if self.disabled {
            return Err(KeypadRefusal::Disabled);
        }
        if now < self.locked_until_ms {
            let ms = self.locked_until_ms - now;
            return Err(KeypadRefusal::LockedOut {
                retry_after_secs: (ms as u64).div_ceil(1000),
            });
        }
        Ok(())
    }

    pub fn record_failure(&mut self, now: Millis, policy: &ThrottlePolicy) {
        let today = now.div_euclid(DAY_MS);
        if today != self.day {
            self.day = today;
            self.failures_today = 0;
        }
        self.failures_today = self.failures_today.saturating_add(1);
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        if self.failures_today >= policy.daily_limit {
            self.disabled = true;
        }
        if self.consecutive_failures >= policy.lockout_after {
            let extra = i64::from(self.consecutive_failures - policy.lockout_after);
            self.locked_until_ms = now + policy.lockout_base_ms + policy.lockout_step_ms * extra;
        }
    }

    pub fn record_success(&mut self) {
        self.consecutive_failures = 0;
        self.locked_until_ms = 0;
    }

    /// Staff reviewed the keypad: entry allowed again, counters cleared.
    pub fn reset(&mut self) {
        *self = KeypadState {
            day: self.day,
            ..KeypadState::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_lock_for_90s_then_grow() {
        let p = ThrottlePolicy::default();
        let mut s = KeypadState::default();
        let t0 = 1_000_000;
        for i in 0..9 {
            s.record_failure(t0 + i, &p);
            assert!(s.check(t0 + i).is_ok());
        }
        s.record_failure(t0 + 9, &p);
        assert_eq!(
            s.check(t0 + 9),
            Err(KeypadRefusal::LockedOut {
                retry_after_secs: 90
            })
        );
        assert!(s.check(t0 + 9 + 90_000).is_ok());
        s.record_failure(t0 + 100_000, &p);
        assert_eq!(
            s.check(t0 + 100_000),
            Err(KeypadRefusal::LockedOut {
                retry_after_secs: 180
            })
        );
        s.record_success();
        assert!(s.check(t0 + 100_001).is_ok());
    }

    #[test]
    fn fifty_a_day_disables_until_reset() {
        let p = ThrottlePolicy::default();
        let mut s = KeypadState::default();
        for i in 0..50 {
            // Spread out and interleaved with successes so lockouts never trigger.
            s.record_failure(i * 1_000, &p);
            if i % 5 == 0 {
                s.record_success();
            }
        }
        assert_eq!(s.check(60_000), Err(KeypadRefusal::Disabled));
        s.reset();
        assert!(s.check(60_000).is_ok());
    }

    #[test]
    fn daily_counter_rolls_over() {
        let p = ThrottlePolicy::default();
        let mut s = KeypadState::default();
        for i in 0..40 {
            s.record_failure(i, &p);
            s.record_success();
        }
        for i in 0..40 {
            s.record_failure(DAY_MS + i, &p);
            s.record_success();
        }
        assert!(!s.disabled);
    }
}
