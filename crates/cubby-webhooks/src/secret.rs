//! Endpoint signing secrets in the Standard Webhooks serialisation:
//! `whsec_` followed by the base64 of 24 to 64 random bytes.

use std::fmt;

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use rand::CryptoRng;

/// The prefix every serialised symmetric secret carries.
pub const SECRET_PREFIX: &str = "whsec_";
/// Fewest secret bytes accepted (192 bits, the specification's floor).
pub const MIN_SECRET_BYTES: usize = 24;
/// Most secret bytes accepted (512 bits, the specification's ceiling).
pub const MAX_SECRET_BYTES: usize = 64;
/// How many bytes [`Secret::generate`] draws.
pub const GENERATED_SECRET_BYTES: usize = 32;

/// Standard alphabet; padding may be present or left off (both are seen in the wild).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a serialised secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("webhook secret is empty")]
    Empty,
    #[error("webhook secret must start with \"whsec_\"")]
    MissingPrefix,
    #[error("webhook secret after \"whsec_\" is not valid base64 (standard alphabet): {0}")]
    NotBase64(String),
    #[error("webhook secret is {0} bytes; it must be at least 24 bytes (192 bits)")]
    TooShort(usize),
    #[error("webhook secret is {0} bytes; it must be at most 64 bytes (512 bits)")]
    TooLong(usize),
}

/// A symmetric signing secret (HMAC-SHA256 key) for one endpoint.
///
/// `Debug` never shows the key; [`Secret::expose`] gives the `whsec_…` form to
/// hand to the endpoint's owner, once.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    key: Vec<u8>,
}

impl Secret {
    /// A fresh secret of [`GENERATED_SECRET_BYTES`] bytes from a cryptographic RNG.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Secret {
        let mut key = vec![0u8; GENERATED_SECRET_BYTES];
        rng.fill_bytes(&mut key);
        Secret { key }
    }

    /// Reads the `whsec_<base64>` form. Leading and trailing white space is ignored.
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SecretError::Empty);
        }
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::MissingPrefix)?;
        if encoded.is_empty() {
            return Err(SecretError::Empty);
        }
        let key = LENIENT
            .decode(encoded)
            .map_err(|e| SecretError::NotBase64(e.to_string()))?;
        Secret::from_bytes(key)
    }

    /// A secret from raw key bytes (24 to 64 of them).
    pub fn from_bytes(key: Vec<u8>) -> Result<Secret, SecretError> {
        match key.len() {
            0 => Err(SecretError::Empty),
            n if n < MIN_SECRET_BYTES => Err(SecretError::TooShort(n)),
            n if n > MAX_SECRET_BYTES => Err(SecretError::TooLong(n)),
            _ => Ok(Secret { key }),
        }
    }

    /// The `whsec_<base64>` form (padded standard base64), for storage or for
    /// showing to the endpoint's owner.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// The raw HMAC key.
    pub fn as_bytes(&self) -> &[u8] {
        &self.key
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(whsec_…, {} bytes)", self.key.len())
    }
}

impl std::str::FromStr for Secret {
    type Err = SecretError;
    fn from_str(s: &str) -> Result<Secret, SecretError> {
        Secret::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn generated_secrets_round_trip_and_differ() {
        let mut rng = StdRng::seed_from_u64(1);
        let a = Secret::generate(&mut rng);
        let b = Secret::generate(&mut rng);
        assert_ne!(a, b);
        assert!(a.expose().starts_with("whsec_"));
        assert_eq!(Secret::parse(&a.expose()).unwrap(), a);
        assert_eq!(a.as_bytes().len(), GENERATED_SECRET_BYTES);
    }

    #[test]
    fn debug_hides_the_key() {
        let s = Secret::from_bytes(vec![7u8; 32]).unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains(&STANDARD.encode([7u8; 32])));
        assert!(!shown.contains(&s.expose()));
    }

    #[test]
    fn parse_accepts_unpadded_and_padded_base64() {
        let key = vec![0xabu8; 25]; // 25 bytes need padding
        let padded = STANDARD.encode(&key);
        assert!(padded.ends_with('='));
        let unpadded = padded.trim_end_matches('=');
        assert_eq!(
            Secret::parse(&format!("whsec_{padded}"))
                .unwrap()
                .as_bytes(),
            &key[..]
        );
        assert_eq!(
            Secret::parse(&format!("whsec_{unpadded}"))
                .unwrap()
                .as_bytes(),
            &key[..]
        );
    }

    #[test]
    fn parse_errors_are_clear() {
        assert_eq!(Secret::parse(""), Err(SecretError::Empty));
        assert_eq!(Secret::parse("whsec_"), Err(SecretError::Empty));
        let body = STANDARD.encode([1u8; 32]);
        assert_eq!(Secret::parse(&body), Err(SecretError::MissingPrefix));
        assert_eq!(
            Secret::parse(&format!("WHSEC_{body}")),
            Err(SecretError::MissingPrefix)
        );
        assert!(matches!(
            Secret::parse("whsec_not*base64!"),
            Err(SecretError::NotBase64(_))
        ));
        let short = STANDARD.encode([1u8; 23]);
        assert_eq!(
            Secret::parse(&format!("whsec_{short}")),
            Err(SecretError::TooShort(23))
        );
        let long = STANDARD.encode([1u8; 65]);
        assert_eq!(
            Secret::parse(&format!("whsec_{long}")),
            Err(SecretError::TooLong(65))
        );
        let msg = Secret::parse(&format!("whsec_{short}"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("at least 24 bytes"), "{msg}");
        // Limits are inclusive.
        for n in [24, 64] {
            let ok = STANDARD.encode(vec![1u8; n]);
            assert!(Secret::parse(&format!("whsec_{ok}")).is_ok());
        }
    }
}
