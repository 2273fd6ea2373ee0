//! Ed25519 signatures over the exact bytes of a JSON payload.
//!
//! The payload travels as a string next to its signature, so the verifier checks
//! the bytes it received and only then parses them: there is no canonical form to
//! get wrong.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{MAX_MESSAGE_BYTES, ProtocolError};

/// A payload and the server's signature over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    /// The JSON document, as a string.
    pub payload: String,
    /// Ed25519 signature of `payload`'s UTF-8 bytes, standard base64.
    pub sig: String,
}

/// The server's signing key, derived from 32 secret bytes.
pub fn signing_key(seed: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(seed)
}

/// The public half as lower-case hex, the form handed to devices.
pub fn public_key_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

/// Parses a public key from hex.
pub fn parse_public_key(hex_key: &str) -> Result<VerifyingKey, ProtocolError> {
    let bytes = hex::decode(hex_key.trim())
        .map_err(|_| ProtocolError::Malformed("public key is not hex".into()))?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| ProtocolError::Malformed("public key must be 32 bytes".into()))?;
    VerifyingKey::from_bytes(&arr)
        .map_err(|_| ProtocolError::Malformed("not an Ed25519 public key".into()))
}

/// Signs `value` serialised as JSON.
pub fn sign<T: Serialize>(key: &SigningKey, value: &T) -> Signed {
    // Serialising our own plain structs cannot fail; an empty object would
    // simply not verify as the expected type on the other side.
    let payload = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string());
    let sig = key.sign(payload.as_bytes());
    Signed {
        payload,
        sig: STANDARD.encode(sig.to_bytes()),
    }
}

/// Checks the signature, then parses the payload.
pub fn verify<T: DeserializeOwned>(
    signed: &Signed,
    key: &VerifyingKey,
) -> Result<T, ProtocolError> {
    if signed.payload.len() > MAX_MESSAGE_BYTES {
        return Err(ProtocolError::TooLarge);
    }
    let sig_bytes = STANDARD
        .decode(signed.sig.as_bytes())
        .map_err(|_| ProtocolError::BadSignature)?;
    let sig_arr: [u8; 64] = sig_bytes
        .try_into()
        .map_err(|_| ProtocolError::BadSignature)?;
    key.verify(signed.payload.as_bytes(), &Signature::from_bytes(&sig_arr))
        .map_err(|_| ProtocolError::BadSignature)?;
    serde_json::from_str(&signed.payload).map_err(|e| ProtocolError::Malformed(e.to_string()))
}

/// Parses a whole message body of a known type, with the size cap applied first.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ProtocolError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(ProtocolError::TooLarge);
    }
    serde_json::from_slice(bytes).map_err(|e| ProtocolError::Malformed(e.to_string()))
}
