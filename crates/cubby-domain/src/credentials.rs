//! Pick-up credentials: keypad codes and QR tokens, how they are made, how they are
//! stored (keyed HMAC only), and the policy check that refuses weak settings.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Keypad code digits: security.md asks for ≥ 8 when the code alone selects a parcel.
pub const MIN_CODE_DIGITS: u32 = 8;
pub const MAX_CODE_DIGITS: u32 = 12;
/// QR / app tokens carry 128 random bits (32 hex characters).
pub const QR_TOKEN_BYTES: usize = 16;
/// Failures that suspend one credential when a failure can be attributed to it.
pub const CREDENTIAL_FAILURE_LIMIT: u32 = 5;

/// The one answer to a code that opens nothing, word for word the same at the
/// server and at the locker's kiosk: a wrong code, a used code and a code for
/// another locker must be indistinguishable.
pub const CODE_REJECTED: &str = crate::codes::Code::CodeRejected.name();
pub const CODE_REJECTED_MESSAGE: &str = "The code was not accepted.";

/// A fresh keypad code of `digits` decimal digits, uniformly distributed
/// (rejection sampling, so no digit is more likely than another).
pub fn new_keypad_code(digits: u32, rng: &mut dyn RngCore) -> String {
    let mut out = String::with_capacity(digits as usize);
    while out.len() < digits as usize {
        let byte = (rng.next_u32() & 0xff) as u8;
        // 250 = 25 × 10: values 250..=255 would bias digits 0–5.
        if byte < 250 {
            out.push(char::from(b'0' + byte % 10));
        }
    }
    out
}

/// A fresh QR / app token: 128 random bits as lowercase hex.
pub fn new_qr_token(rng: &mut dyn RngCore) -> String {
    let mut bytes = [0u8; QR_TOKEN_BYTES];
    rng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What a person typed or scanned, by its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    Keypad(String),
    Qr(String),
    /// Neither shape. Treated exactly like a wrong code (same answer, same count).
    Malformed,
}

pub fn classify(input: &str, code_digits: u32) -> Presented {
    let s = input.trim();
    if s.len() == code_digits as usize && s.bytes().all(|b| b.is_ascii_digit()) {
        Presented::Keypad(s.to_string())
    } else if s.len() == QR_TOKEN_BYTES * 2 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Presented::Qr(s.to_ascii_lowercase())
    } else {
        Presented::Malformed
    }
}

/// The stored form of a keypad code: HMAC-SHA256 under the server secret, scoped
/// to the locker whose code space it lives in.
pub fn keypad_code_mac(secret: &[u8], locker_id: &str, code: &str) -> [u8; 32] {
    mac(secret, &["pickup-code", locker_id, code])
}

/// The stored form of a QR token. Not scoped to a locker so that a valid token shown
/// at the wrong locker is recognised (and counted against that token).
pub fn qr_token_mac(secret: &[u8], token: &str) -> [u8; 32] {
    mac(secret, &["pickup-qr", token])
}

/// HMAC-SHA256 over length-prefixed parts (unambiguous: ("ab","c") ≠ ("a","bc")).
pub fn mac(secret: &[u8], parts: &[&str]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for part in parts {
        m.update(&(part.len() as u64).to_be_bytes());
        m.update(part.as_bytes());
    }
    m.finalize().into_bytes().into()
}

/// The settings that decide how hard keypad codes are to guess.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodePolicy {
    pub digits: u32,
    /// Keypad failures a day before keypad entry is disabled (throttle limit).
    pub keypad_daily_failure_limit: u32,
    /// Most codes live at once in one locker's code space (one per compartment at most).
    pub max_active_codes: u32,
}

/// A setting that security.md forbids, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WeakPolicy {
    #[error("keypad codes need between {MIN_CODE_DIGITS} and {MAX_CODE_DIGITS} digits, not {0}")]
    Digits(u32),
    #[error("code space {space} is less than 1,000 × {active} active codes")]
    SpaceTooSmall { space: f64, active: u32 },
    #[error(
        "a guesser at the throttle limit would open a compartment in {years:.1} years on average; at least 10 are required"
    )]
    TooFastToGuess { years: f64 },
    #[error("the daily keypad failure limit must be at least 1")]
    NoDailyLimit,
}

pub const MIN_YEARS_TO_GUESS: f64 = 10.0;

impl CodePolicy {
    pub fn code_space(&self) -> f64 {
        10f64.powi(self.digits as i32)
    }

    /// Expected years for a guesser allowed `keypad_daily_failure_limit` tries a day
    /// to hit any one of `max_active_codes` codes: (S + 1) / (N + 1) guesses.
    pub fn expected_years_to_guess(&self) -> f64 {
        let guesses = (self.code_space() + 1.0) / (f64::from(self.max_active_codes) + 1.0);
        guesses / f64::from(self.keypad_daily_failure_limit.max(1)) / 365.25
    }

    pub fn check(&self) -> Result<(), WeakPolicy> {
        if !(MIN_CODE_DIGITS..=MAX_CODE_DIGITS).contains(&self.digits) {
            return Err(WeakPolicy::Digits(self.digits));
        }
        if self.keypad_daily_failure_limit == 0 {
            return Err(WeakPolicy::NoDailyLimit);
        }
        if self.code_space() < 1000.0 * f64::from(self.max_active_codes) {
            return Err(WeakPolicy::SpaceTooSmall {
                space: self.code_space(),
                active: self.max_active_codes,
            });
        }
        let years = self.expected_years_to_guess();
        if years < MIN_YEARS_TO_GUESS {
            return Err(WeakPolicy::TooFastToGuess { years });
        }
        Ok(())
    }

    /// The most compartments one locker may have under this policy.
    pub fn max_compartments_per_locker(&self) -> u32 {
        let mut lo = 0u32;
        let mut hi = 1_000_000u32;
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if (CodePolicy {
                max_active_codes: mid,
                ..*self
            })
            .check()
            .is_ok()
            {
                lo = mid
            } else {
                hi = mid - 1
            }
        }
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn codes_have_the_requested_digits_and_vary() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let a = new_keypad_code(8, &mut rng);
        let b = new_keypad_code(8, &mut rng);
        assert_eq!(a.len(), 8);
        assert!(a.bytes().all(|c| c.is_ascii_digit()));
        assert_ne!(a, b);
        assert_eq!(new_qr_token(&mut rng).len(), 32);
    }

    #[test]
    fn digits_are_uniform() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            for c in new_keypad_code(8, &mut rng).bytes() {
                counts[(c - b'0') as usize] += 1;
            }
        }
        // 80,000 digits: each ≈ 8,000; 5 % tolerance is > 10 standard deviations.
        assert!(
            counts.iter().all(|&n| (7_600..=8_400).contains(&n)),
            "{counts:?}"
        );
    }

    #[test]
    fn default_policy_passes_and_weak_ones_fail() {
        let ok = CodePolicy {
            digits: 8,
            keypad_daily_failure_limit: 50,
            max_active_codes: 410,
        };
        assert!(ok.check().is_ok(), "{:?}", ok.check());
        assert!(ok.expected_years_to_guess() > 10.0);
        let six = CodePolicy { digits: 6, ..ok };
        assert_eq!(six.check(), Err(WeakPolicy::Digits(6)));
        let lax = CodePolicy {
            keypad_daily_failure_limit: 500,
            ..ok
        };
        assert!(matches!(
            lax.check(),
            Err(WeakPolicy::TooFastToGuess { .. })
        ));
        assert_eq!(ok.max_compartments_per_locker(), 546);
    }

    #[test]
    fn classify_by_shape() {
        assert_eq!(
            classify(" 12345678 ", 8),
            Presented::Keypad("12345678".into())
        );
        assert_eq!(
            classify("ABCDEF0123456789abcdef0123456789", 8),
            Presented::Qr("abcdef0123456789abcdef0123456789".into())
        );
        assert_eq!(classify("1234567", 8), Presented::Malformed);
        assert_eq!(classify("'; drop table", 8), Presented::Malformed);
    }

    #[test]
    fn macs_are_scoped() {
        let s = b"secret";
        assert_ne!(
            keypad_code_mac(s, "lck_a", "12345678"),
            keypad_code_mac(s, "lck_b", "12345678")
        );
        assert_ne!(mac(s, &["ab", "c"]), mac(s, &["a", "bc"]));
    }
}
