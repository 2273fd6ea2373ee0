//! Offline door codes: genuine codes verify exactly inside their window, at
//! their own door only; any other digits are refused.

use cubby_protocol::offline::{
    MAX_OFFLINE_HOURS, OFFLINE_CODE_DIGITS, offline_code, offline_grant_id, verify_offline_code,
};
use proptest::prelude::*;

const HOUR: i64 = 3_600_000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn a_code_is_valid_exactly_inside_its_window(
        start_hour in 400_000i64..600_000,
        hours in 1u32..=MAX_OFFLINE_HOURS,
        slot in 0u8..10,
        // From two hours before the start to two hours after the end.
        offset in -2 * HOUR..(26 * HOUR),
        key in proptest::array::uniform32(any::<u8>()),
    ) {
        let code = offline_code(&key, start_hour, hours, slot).unwrap();
        prop_assert_eq!(code.len(), OFFLINE_CODE_DIGITS);
        let start = start_hour * HOUR;
        let now = start + offset;
        let inside = now >= start && now < start + i64::from(hours) * HOUR;
        let verdict = verify_offline_code(&key, &code, now);
        prop_assert_eq!(verdict.is_some(), inside, "code {} at offset {}", code, offset);
        if let Some(v) = verdict {
            prop_assert_eq!(v.start_hour, start_hour);
            prop_assert_eq!(v.hours, hours);
            prop_assert_eq!(v.not_after_ms - v.not_before_ms, i64::from(hours) * HOUR);
            prop_assert_eq!(v.grant_id, offline_grant_id(&key, start_hour, hours, slot));
        }
        // Another door's key never accepts it.
        let mut other = key;
        other[0] ^= 1;
        prop_assert!(verify_offline_code(&other, &code, start).is_none());
    }

    #[test]
    fn a_changed_digit_is_refused(
        start_hour in 400_000i64..600_000,
        hours in 1u32..=MAX_OFFLINE_HOURS,
        slot in 0u8..10,
        at in 0usize..OFFLINE_CODE_DIGITS,
        bump in 1u8..10,
    ) {
        let key = [42u8; 32];
        let code = offline_code(&key, start_hour, hours, slot).unwrap();
        let mut bytes = code.into_bytes();
        bytes[at] = b'0' + (bytes[at] - b'0' + bump) % 10;
        let changed = String::from_utf8(bytes).unwrap();
        // A changed window digit may still name a window that contains now;
        // its MAC then no longer matches (or the window is not now).
        prop_assert!(verify_offline_code(&key, &changed, start_hour * HOUR).is_none());
    }
}

#[test]
fn out_of_range_windows_and_malformed_codes_are_refused() {
    let key = [1u8; 32];
    assert!(offline_code(&key, 500_000, 0, 0).is_none());
    assert!(offline_code(&key, 500_000, 25, 0).is_none());
    assert!(offline_code(&key, 500_000, 1, 10).is_none());
    let now = 500_000 * HOUR;
    for bad in [
        "",
        "1234",
        "12345678901234567",
        "00001012345678",
        "abcdefghijklmn",
    ] {
        assert!(verify_offline_code(&key, bad, now).is_none(), "{bad}");
    }
    // The three-digit hour wraps every 1000 hours: a code is not valid 1000
    // hours later.
    let code = offline_code(&key, 500_000, 24, 3).unwrap();
    assert!(verify_offline_code(&key, &code, now).is_some());
    assert!(verify_offline_code(&key, &code, now + 1000 * HOUR).is_none());
}
