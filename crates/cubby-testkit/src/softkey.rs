//! A software passkey: the authenticator half of WebAuthn (ES256, "none"
//! attestation, user verified), so API tests can enrol a staff passkey and
//! prove it the way a browser would. The server checks it with webauthn-rs
//! exactly as it checks a real device.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// One credential on a software authenticator, for one origin.
pub struct SoftPasskey {
    key: SigningKey,
    pub cred_id: Vec<u8>,
    user_handle: String,
    counter: u32,
    origin: String,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// CBOR head: major type and length (RFC 8949 §3).
fn cbor_head(out: &mut Vec<u8>, major: u8, len: u64) {
    let m = major << 5;
    match len {
        0..=23 => out.push(m | len as u8),
        24..=0xff => out.extend([m | 24, len as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((len as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((len as u32).to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        cbor_head(out, 0, v as u64);
    } else {
        cbor_head(out, 1, (-1 - v) as u64);
    }
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    cbor_head(out, 2, b.len() as u64);
    out.extend(b);
}

fn cbor_text(out: &mut Vec<u8>, t: &str) {
    cbor_head(out, 3, t.len() as u64);
    out.extend(t.as_bytes());
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str()
        .unwrap_or_else(|| panic!("options lack {path:?}: {v}"))
}

impl SoftPasskey {
    /// A new credential for pages of `origin` (for example
    /// `http://localhost:8080`).
    pub fn new(origin: &str) -> SoftPasskey {
        let mut rng = StdRng::from_os_rng();
        let key = loop {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            if let Ok(k) = SigningKey::from_slice(&secret) {
                break k;
            }
        };
        let mut cred_id = vec![0u8; 32];
        rng.fill_bytes(&mut cred_id);
        SoftPasskey {
            key,
            cred_id,
            user_handle: String::new(),
            counter: 0,
            origin: origin.to_string(),
        }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    fn auth_data(&self, rp_id: &str, flags: u8) -> Vec<u8> {
        let mut d = Sha256::digest(rp_id.as_bytes()).to_vec();
        d.push(flags);
        d.extend(self.counter.to_be_bytes());
        d
    }

    /// Answers `navigator.credentials.create` for the server's options
    /// (`{"publicKey": …}`): the credential JSON the server's finish expects.
    pub fn register(&mut self, options: &Value) -> Value {
        let challenge = str_at(options, &["publicKey", "challenge"]);
        let rp_id = str_at(options, &["publicKey", "rp", "id"]).to_string();
        self.user_handle = str_at(options, &["publicKey", "user", "id"]).to_string();
        let point = self.key.verifying_key().to_encoded_point(false);
        let mut cose = Vec::new();
        cbor_head(&mut cose, 5, 5);
        for (k, v) in [(1, 2), (3, -7), (-1, 1)] {
            cbor_int(&mut cose, k);
            cbor_int(&mut cose, v);
        }
        cbor_int(&mut cose, -2);
        cbor_bytes(&mut cose, point.x().expect("x").as_slice());
        cbor_int(&mut cose, -3);
        cbor_bytes(&mut cose, point.y().expect("y").as_slice());
        // User present, user verified, attested credential data follows.
        let mut auth = self.auth_data(&rp_id, 0x45);
        auth.extend([0u8; 16]);
        auth.extend((self.cred_id.len() as u16).to_be_bytes());
        auth.extend(&self.cred_id);
        auth.extend(&cose);
        let mut att = Vec::new();
        cbor_head(&mut att, 5, 3);
        cbor_text(&mut att, "fmt");
        cbor_text(&mut att, "none");
        cbor_text(&mut att, "attStmt");
        cbor_head(&mut att, 5, 0);
        cbor_text(&mut att, "authData");
        cbor_bytes(&mut att, &auth);
        let client_data = self.client_data("webauthn.create", challenge);
        json!({
            "id": b64(&self.cred_id),
            "rawId": b64(&self.cred_id),
            "type": "public-key",
            "response": {"attestationObject": b64(&att), "clientDataJSON": b64(&client_data)},
            "extensions": {},
        })
    }

    /// Answers `navigator.credentials.get` for the server's options.
    pub fn assert(&mut self, options: &Value) -> Value {
        let challenge = str_at(options, &["publicKey", "challenge"]);
        let rp_id = str_at(options, &["publicKey", "rpId"]).to_string();
        self.counter += 1;
        // User present and verified.
        let auth = self.auth_data(&rp_id, 0x05);
        let client_data = self.client_data("webauthn.get", challenge);
        let mut signed = auth.clone();
        signed.extend(Sha256::digest(&client_data));
        let sig: Signature = self.key.sign(&signed);
        json!({
            "id": b64(&self.cred_id),
            "rawId": b64(&self.cred_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth),
                "clientDataJSON": b64(&client_data),
                "signature": b64(sig.to_der().as_bytes()),
                "userHandle": self.user_handle,
            },
            "extensions": {},
        })
    }
}

/// A staff member's browser on this machine: talks to the console's JSON
/// calls under the host name `localhost` (passkeys need a name, not an IP).
pub struct StaffBrowser {
    pub http: reqwest::Client,
    /// `http://localhost:PORT`
    pub origin: String,
}

impl StaffBrowser {
    pub fn new(base: &str) -> StaffBrowser {
        StaffBrowser {
            http: crate::http_client(),
            origin: base.replace("127.0.0.1", "localhost"),
        }
    }

    /// POST JSON as a page of the console would (same Origin).
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.origin))
            .header("Origin", &self.origin)
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("POST");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Enrols a new software passkey for the console from an invitation
    /// link (or path) ending in `#code=…`.
    pub async fn enrol(&self, invite: &str) -> Result<SoftPasskey, (u16, Value)> {
        self.enrol_at("/console/passkeys", invite).await
    }

    /// As [`StaffBrowser::enrol`], for the passkey pages under `prefix`
    /// (`/console/passkeys` or `/portal/passkeys`).
    pub async fn enrol_at(&self, prefix: &str, invite: &str) -> Result<SoftPasskey, (u16, Value)> {
        let code = invite.rsplit_once("#code=").map_or("", |(_, c)| c.trim());
        let (status, start) = self
            .post(
                &format!("{prefix}/register/start"),
                None,
                json!({"code": code}),
            )
            .await;
        if status != 200 {
            return Err((status, start));
        }
        let mut key = SoftPasskey::new(&self.origin);
        let credential = key.register(&start["options"]);
        let (status, done) = self
            .post(
                &format!("{prefix}/register/finish"),
                None,
                json!({"ceremony": start["ceremony"], "credential": credential}),
            )
            .await;
        if status != 200 {
            return Err((status, done));
        }
        Ok(key)
    }

    /// A step-up proof for `token` from `key` through the API.
    pub async fn step_up(
        &self,
        token: &str,
        key: &mut SoftPasskey,
    ) -> Result<String, (u16, Value)> {
        let (status, start) = self
            .post("/api/v1/step-up/start", Some(token), json!({}))
            .await;
        if status != 200 {
            return Err((status, start));
        }
        let credential = key.assert(&start["options"]);
        let (status, done) = self
            .post(
                "/api/v1/step-up/finish",
                Some(token),
                json!({"ceremony": start["ceremony"], "credential": credential}),
            )
            .await;
        match done["proof"].as_str() {
            Some(p) if status == 200 => Ok(p.to_string()),
            _ => Err((status, done)),
        }
    }
}
