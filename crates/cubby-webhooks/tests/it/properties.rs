//! Sign/verify properties, secret encoding and filters, over generated inputs.

use std::time::Duration;

use cubby_webhooks::{
    DEFAULT_TOLERANCE, EventFilter, EventType, Secret, VerifyError, WebhookHeaders, sign, verify,
};
use proptest::prelude::*;

use crate::at;

fn secret_strategy() -> impl Strategy<Value = Secret> {
    prop::collection::vec(any::<u8>(), 24..=64)
        .prop_map(|k| Secret::from_bytes(k).expect("24..=64 bytes"))
}

fn msg_id_strategy() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,40}"
}

const T0: i64 = 1_760_000_000;
const TOL: i64 = 300;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Signed with every active secret, a message verifies with any one of them,
    /// at any clock within the tolerance.
    #[test]
    fn signed_messages_verify_with_any_active_secret(
        secrets in prop::collection::vec(secret_strategy(), 1..4),
        msg_id in msg_id_strategy(),
        body in prop::collection::vec(any::<u8>(), 0..512),
        skew in -TOL..=TOL,
        pick in any::<prop::sample::Index>(),
    ) {
        let headers = WebhookHeaders::sign(&secrets, &msg_id, T0, &body);
        prop_assert_eq!(headers.signature.split(' ').count(), secrets.len());
        let one = secrets[pick.index(secrets.len())].clone();
        prop_assert_eq!(verify(&[one], &headers, &body, at(T0 + skew), DEFAULT_TOLERANCE), Ok(()));
        prop_assert_eq!(verify(&secrets, &headers, &body, at(T0), DEFAULT_TOLERANCE), Ok(()));
    }

    /// Any change to body, id or timestamp, or another secret, is refused.
    #[test]
    fn tampering_is_refused(
        secret in secret_strategy(),
        other in secret_strategy(),
        msg_id in msg_id_strategy(),
        body in prop::collection::vec(any::<u8>(), 1..512),
        flip_at in any::<prop::sample::Index>(),
        flip_bit in 0u8..8,
        ts_delta in 1i64..=TOL,
    ) {
        let headers = WebhookHeaders::sign(std::slice::from_ref(&secret), &msg_id, T0, &body);
        let now = at(T0);

        let mut bad_body = body.clone();
        let i = flip_at.index(bad_body.len());
        bad_body[i] ^= 1 << flip_bit;
        prop_assert_eq!(verify(std::slice::from_ref(&secret), &headers, &bad_body, now, DEFAULT_TOLERANCE), Err(VerifyError::NoMatchingSignature));

        let mut longer = body.clone();
        longer.push(b' ');
        prop_assert_eq!(verify(std::slice::from_ref(&secret), &headers, &longer, now, DEFAULT_TOLERANCE), Err(VerifyError::NoMatchingSignature));

        let bad_id = WebhookHeaders { id: format!("{msg_id}x"), ..headers.clone() };
        prop_assert_eq!(verify(std::slice::from_ref(&secret), &bad_id, &body, now, DEFAULT_TOLERANCE), Err(VerifyError::NoMatchingSignature));

        let bad_ts = WebhookHeaders { timestamp: (T0 + ts_delta).to_string(), ..headers.clone() };
        prop_assert_eq!(verify(std::slice::from_ref(&secret), &bad_ts, &body, now, DEFAULT_TOLERANCE), Err(VerifyError::NoMatchingSignature));

        prop_assume!(other != secret);
        prop_assert_eq!(verify(&[other], &headers, &body, now, DEFAULT_TOLERANCE), Err(VerifyError::NoMatchingSignature));
    }

    /// Timestamps beyond the tolerance are refused either way, even with a good signature.
    #[test]
    fn stale_and_future_timestamps_are_refused(
        secret in secret_strategy(),
        beyond in 1i64..1_000_000,
    ) {
        let headers = WebhookHeaders::sign(std::slice::from_ref(&secret), "msg_1", T0, b"{}");
        let s = std::slice::from_ref(&secret);
        prop_assert_eq!(verify(s, &headers, b"{}", at(T0 + TOL + beyond), DEFAULT_TOLERANCE), Err(VerifyError::TimestampTooOld));
        prop_assert_eq!(verify(s, &headers, b"{}", at(T0 - TOL - beyond), DEFAULT_TOLERANCE), Err(VerifyError::TimestampTooNew));
        // The edges are inside.
        prop_assert_eq!(verify(s, &headers, b"{}", at(T0 + TOL), DEFAULT_TOLERANCE), Ok(()));
        prop_assert_eq!(verify(s, &headers, b"{}", at(T0 - TOL), DEFAULT_TOLERANCE), Ok(()));
    }

    /// One good `v1` signature among junk, other schemes and stale signatures is enough.
    #[test]
    fn one_matching_signature_among_many_passes(
        secret in secret_strategy(),
        old in secret_strategy(),
        position in 0usize..5,
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let good = sign(&secret, "msg_rot", T0, &body);
        let mut entries = vec![
            sign(&old, "msg_rot", T0, &body),
            "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==".to_owned(),
            "v1,not-base64!!".to_owned(),
            "garbage".to_owned(),
        ];
        entries.insert(position.min(entries.len()), good);
        let headers = WebhookHeaders { id: "msg_rot".into(), timestamp: T0.to_string(), signature: entries.join(" ") };
        prop_assert_eq!(verify(std::slice::from_ref(&secret), &headers, &body, at(T0), DEFAULT_TOLERANCE), Ok(()));
    }

    #[test]
    fn secrets_round_trip_through_their_text_form(secret in secret_strategy()) {
        let text = secret.expose();
        prop_assert!(text.starts_with("whsec_"));
        prop_assert_eq!(Secret::parse(&text), Ok(secret.clone()));
        // Unpadded, as some tools print them.
        prop_assert_eq!(Secret::parse(text.trim_end_matches('=')), Ok(secret));
    }

    #[test]
    fn exact_filters_match_exactly_their_types(mask in any::<u16>()) {
        let chosen: Vec<EventType> = EventType::ALL.iter().copied().enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0).map(|(_, t)| t).collect();
        let f = EventFilter::only(&chosen);
        for &t in EventType::ALL {
            prop_assert_eq!(f.matches(t), chosen.contains(&t));
        }
        if !chosen.is_empty() {
            prop_assert_eq!(EventFilter::parse(&f.to_strings()), Ok(f.clone()));
        }
    }
}

#[test]
fn missing_and_malformed_headers_are_named() {
    let s = crate::secrets(1, 1);
    let h = WebhookHeaders::sign(&s, "msg_1", T0, b"{}");
    let no_sig = WebhookHeaders {
        signature: "v2,abc".into(),
        ..h.clone()
    };
    assert_eq!(
        verify(&s, &no_sig, b"{}", at(T0), DEFAULT_TOLERANCE),
        Err(VerifyError::NoMatchingSignature)
    );
    for bad in ["", "12.5", "-5", "abc", "99999999999999999999999"] {
        let bad_ts = WebhookHeaders {
            timestamp: bad.into(),
            ..h.clone()
        };
        assert_eq!(
            verify(&s, &bad_ts, b"{}", at(T0), DEFAULT_TOLERANCE),
            Err(VerifyError::InvalidHeader("webhook-timestamp")),
            "{bad:?}"
        );
    }
    assert_eq!(
        verify(&[], &h, b"{}", at(T0), DEFAULT_TOLERANCE),
        Err(VerifyError::NoSecrets)
    );
    // A smaller tolerance is honoured.
    assert_eq!(
        verify(&s, &h, b"{}", at(T0 + 11), Duration::from_secs(10)),
        Err(VerifyError::TimestampTooOld)
    );
}
