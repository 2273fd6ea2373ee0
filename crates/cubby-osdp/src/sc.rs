//! OSDP Secure Channel (SCS_11..SCS_18), control-panel side.
//!
//! * Session keys: `S-ENC = AES(SCBK, 01 82 RND.A[0..6] 00*8)`, `S-MAC1` and
//!   `S-MAC2` likewise with `01 01` and `01 02`.
//! * Client cryptogram (PD -> CP, in osdp_CCRYPT): `AES(S-ENC, RND.A || RND.B)`.
//! * Server cryptogram (CP -> PD, in osdp_SCRYPT): `AES(S-ENC, RND.B || RND.A)`.
//! * Initial R-MAC (osdp_RMAC_I): `AES(S-MAC2, AES(S-MAC1, server cryptogram))`.
//! * MAC: AES-CBC over the packet up to the MAC (padded with `0x80 00..` if it
//!   is not a multiple of 16), every block but the last with S-MAC1, the last
//!   with S-MAC2. The IV of a command's MAC is the previous reply's full MAC
//!   (R-MAC-I for the first command); the IV of a reply's MAC is the command's.
//!   Four bytes go on the wire; the full 16 are chained.
//! * Data (SCS_17/SCS_18): `data || 0x80 || 00..` to a multiple of 16,
//!   AES-CBC with S-ENC and IV = bitwise NOT of the last MAC received by the
//!   sender (a command uses ~R-MAC, a reply ~C-MAC).

use crate::codec::{Frame, MAC_LEN, Packet, SecurityBlock, scs};
use aes::Aes128;
use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use std::fmt;
use thiserror::Error;

/// OSDP command code osdp_CHLNG.
pub const CMD_CHLNG: u8 = 0x76;
/// OSDP command code osdp_SCRYPT.
pub const CMD_SCRYPT: u8 = 0x77;
/// OSDP reply code osdp_CCRYPT.
pub const REPLY_CCRYPT: u8 = 0x76;
/// OSDP reply code osdp_RMAC_I.
pub const REPLY_RMAC_I: u8 = 0x78;
const REPLY_NAK: u8 = 0x41;

/// The install-mode default key SCBK-D (`0x30, 0x31, .. 0x3F`).
pub const SCBK_D: [u8; 16] = [
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
];

const BLOCK: usize = 16;
const EOM: u8 = 0x80;

/// Which base key the secure channel uses.
#[derive(Clone, PartialEq, Eq)]
pub enum BaseKey {
    /// A PD-specific 16-byte Secure Channel Base Key (the normal case).
    Scbk([u8; 16]),
    /// The well-known default key SCBK-D, accepted by PDs in install mode
    /// only. Offers no secrecy; use it only to provision a real SCBK.
    InstallModeDefault,
}

impl BaseKey {
    fn bytes(&self) -> [u8; 16] {
        match self {
            BaseKey::Scbk(k) => *k,
            BaseKey::InstallModeDefault => SCBK_D,
        }
    }

    /// The key-type byte sent in the SCS_11/SCS_13 security block
    /// (1 = SCBK, 0 = SCBK-D).
    pub fn key_type(&self) -> u8 {
        match self {
            BaseKey::Scbk(_) => 1,
            BaseKey::InstallModeDefault => 0,
        }
    }
}

impl fmt::Debug for BaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaseKey::Scbk(_) => f.write_str("Scbk(<redacted>)"),
            BaseKey::InstallModeDefault => f.write_str("InstallModeDefault"),
        }
    }
}

/// Secure channel failures.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ScError {
    /// The PD's client cryptogram does not verify: it holds a different key.
    #[error(
        "secure channel rejected: the PD's cryptogram does not match our key (wrong SCBK, or the PD is not in install mode for SCBK-D)"
    )]
    KeyMismatch,
    /// The PD refused the handshake with osdp_NAK.
    #[error("secure channel rejected: PD answered {step} with NAK (error code {code})")]
    PdNak {
        /// Handshake step (`osdp_CHLNG` or `osdp_SCRYPT`).
        step: &'static str,
        /// NAK error code (5 = security block not supported / cryptogram
        /// rejected, 6 = security conditions not met).
        code: u8,
    },
    /// The PD reported in osdp_RMAC_I that it rejected our cryptogram.
    #[error("secure channel rejected: PD did not accept the server cryptogram (status {0:#04x})")]
    ServerCryptogramRejected(u8),
    /// The initial R-MAC from the PD is not the one our keys produce.
    #[error("secure channel rejected: initial R-MAC mismatch")]
    RmacMismatch,
    /// The PD answered with the wrong reply or security block.
    #[error("secure channel handshake: unexpected reply {code:#04x} ({detail})")]
    UnexpectedReply {
        /// Reply code received.
        code: u8,
        /// What was wrong with it.
        detail: &'static str,
    },
    /// A secured reply carried a wrong MAC.
    #[error("secure channel: reply MAC does not verify")]
    BadMac,
    /// An encrypted data block did not decrypt to valid padding.
    #[error("secure channel: encrypted data block is malformed")]
    BadCiphertext,
    /// A reply arrived in plain text while the channel is active.
    #[error("secure channel: unexpected plain-text reply {0:#04x}")]
    Plaintext(u8),
    /// The operating system random number generator failed.
    #[error("secure channel: random number generator failed")]
    Rng,
}

fn cipher(key: &[u8; 16]) -> Aes128 {
    Aes128::new(&GenericArray::from(*key))
}

fn ecb(key: &[u8; 16], block: &[u8; 16]) -> [u8; 16] {
    let mut b = GenericArray::from(*block);
    cipher(key).encrypt_block(&mut b);
    b.into()
}

fn xor(a: &mut [u8; 16], b: &[u8]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}

fn not(a: &[u8; 16]) -> [u8; 16] {
    let mut out = *a;
    for x in out.iter_mut() {
        *x = !*x;
    }
    out
}

/// Session keys derived from the base key and the CP's random number.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    /// Data encryption key.
    pub s_enc: [u8; 16],
    /// MAC key for all blocks but the last.
    pub s_mac1: [u8; 16],
    /// MAC key for the last block.
    pub s_mac2: [u8; 16],
}

impl fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKeys(<redacted>)")
    }
}

impl SessionKeys {
    /// Derive S-ENC, S-MAC1 and S-MAC2 from `scbk` and RND.A.
    pub fn derive(scbk: &[u8; 16], rnd_a: &[u8; 8]) -> Self {
        let make = |b0: u8, b1: u8| {
            let mut block = [0u8; 16];
            block[0] = b0;
            block[1] = b1;
            block[2..8].copy_from_slice(&rnd_a[..6]);
            ecb(scbk, &block)
        };
        Self {
            s_enc: make(0x01, 0x82),
            s_mac1: make(0x01, 0x01),
            s_mac2: make(0x01, 0x02),
        }
    }

    /// The PD's client cryptogram: `AES(S-ENC, RND.A || RND.B)`.
    pub fn client_cryptogram(&self, rnd_a: &[u8; 8], rnd_b: &[u8; 8]) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(rnd_a);
        b[8..].copy_from_slice(rnd_b);
        ecb(&self.s_enc, &b)
    }

    /// The CP's server cryptogram: `AES(S-ENC, RND.B || RND.A)`.
    pub fn server_cryptogram(&self, rnd_a: &[u8; 8], rnd_b: &[u8; 8]) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(rnd_b);
        b[8..].copy_from_slice(rnd_a);
        ecb(&self.s_enc, &b)
    }

    /// R-MAC-I: `AES(S-MAC2, AES(S-MAC1, server cryptogram))`.
    pub fn initial_rmac(&self, server_cryptogram: &[u8; 16]) -> [u8; 16] {
        ecb(&self.s_mac2, &ecb(&self.s_mac1, server_cryptogram))
    }

    /// Full 16-byte MAC of `msg` chained from `iv`.
    pub fn mac(&self, iv: &[u8; 16], msg: &[u8]) -> [u8; 16] {
        let mut padded = msg.to_vec();
        if padded.is_empty() || !padded.len().is_multiple_of(BLOCK) {
            padded.push(EOM);
            padded.resize(padded.len().div_ceil(BLOCK) * BLOCK, 0);
        }
        let nblocks = padded.len() / BLOCK;
        let mac1 = cipher(&self.s_mac1);
        let mut chain = *iv;
        for (i, block) in padded.chunks_exact(BLOCK).enumerate() {
            xor(&mut chain, block);
            if i + 1 < nblocks {
                let mut b = GenericArray::from(chain);
                mac1.encrypt_block(&mut b);
                chain = b.into();
            } else {
                chain = ecb(&self.s_mac2, &chain);
            }
        }
        chain
    }

    /// Pad (`0x80 00..`) and encrypt `data` with S-ENC, IV = `!last_mac`.
    pub fn encrypt(&self, last_mac: &[u8; 16], data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        out.push(EOM);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        let enc = cipher(&self.s_enc);
        let mut chain = not(last_mac);
        for block in out.chunks_exact_mut(BLOCK) {
            xor(&mut chain, block);
            let mut b = GenericArray::from(chain);
            enc.encrypt_block(&mut b);
            chain = b.into();
            block.copy_from_slice(&chain);
        }
        out
    }

    /// Decrypt with S-ENC, IV = `!last_mac`, and strip the `0x80 00..` padding.
    pub fn decrypt(&self, last_mac: &[u8; 16], data: &[u8]) -> Result<Vec<u8>, ScError> {
        if data.is_empty() || !data.len().is_multiple_of(BLOCK) {
            return Err(ScError::BadCiphertext);
        }
        let dec = cipher(&self.s_enc);
        let mut prev = not(last_mac);
        let mut out = Vec::with_capacity(data.len());
        for block in data.chunks_exact(BLOCK) {
            let mut b = GenericArray::clone_from_slice(block);
            dec.decrypt_block(&mut b);
            let mut plain: [u8; 16] = b.into();
            xor(&mut plain, &prev);
            out.extend_from_slice(&plain);
            prev.copy_from_slice(block);
        }
        while out.last() == Some(&0) {
            out.pop();
        }
        if out.pop() != Some(EOM) {
            return Err(ScError::BadCiphertext);
        }
        Ok(out)
    }
}

fn random8() -> Result<[u8; 8], ScError> {
    use rand::TryRngCore;
    let mut r = [0u8; 8];
    rand::rngs::OsRng
        .try_fill_bytes(&mut r)
        .map_err(|_| ScError::Rng)?;
    Ok(r)
}

/// Step 1 of the handshake: the CP's challenge.
#[derive(Debug)]
pub struct Handshake {
    key: BaseKey,
    rnd_a: [u8; 8],
}

impl Handshake {
    /// Start a handshake with a fresh random RND.A.
    pub fn new(key: BaseKey) -> Result<Self, ScError> {
        Ok(Self::with_random(key, random8()?))
    }

    /// Start a handshake with a given RND.A (tests).
    pub fn with_random(key: BaseKey, rnd_a: [u8; 8]) -> Self {
        Self { key, rnd_a }
    }

    /// The osdp_CHLNG command (SCS_11) for `address` with sequence `seq`.
    pub fn challenge(&self, address: u8, seq: u8) -> Frame {
        let mut f = Frame::command(address, seq, CMD_CHLNG, &self.rnd_a);
        f.security = Some(SecurityBlock::new(scs::SCS_11, &[self.key.key_type()]));
        f
    }

    /// Check the PD's osdp_CCRYPT (SCS_12) reply and move to step 2.
    pub fn on_ccrypt(self, reply: &Frame) -> Result<Authenticating, ScError> {
        if reply.code == REPLY_NAK {
            return Err(ScError::PdNak {
                step: "osdp_CHLNG",
                code: reply.data.first().copied().unwrap_or(0),
            });
        }
        if reply.code != REPLY_CCRYPT {
            return Err(ScError::UnexpectedReply {
                code: reply.code,
                detail: "expected osdp_CCRYPT",
            });
        }
        match &reply.security {
            Some(sb) if sb.kind == scs::SCS_12 => {
                if sb.data.first().is_some_and(|&t| t != self.key.key_type()) {
                    return Err(ScError::KeyMismatch);
                }
            }
            _ => {
                return Err(ScError::UnexpectedReply {
                    code: reply.code,
                    detail: "osdp_CCRYPT without an SCS_12 security block",
                });
            }
        }
        if reply.data.len() != 32 {
            return Err(ScError::UnexpectedReply {
                code: reply.code,
                detail: "osdp_CCRYPT must carry 32 bytes",
            });
        }
        let mut cuid = [0u8; 8];
        let mut rnd_b = [0u8; 8];
        let mut client = [0u8; 16];
        cuid.copy_from_slice(&reply.data[..8]);
        rnd_b.copy_from_slice(&reply.data[8..16]);
        client.copy_from_slice(&reply.data[16..32]);
        let keys = SessionKeys::derive(&self.key.bytes(), &self.rnd_a);
        let expected = keys.client_cryptogram(&self.rnd_a, &rnd_b);
        if !ct_eq(&expected, &client) {
            return Err(ScError::KeyMismatch);
        }
        let server = keys.server_cryptogram(&self.rnd_a, &rnd_b);
        Ok(Authenticating {
            key_type: self.key.key_type(),
            keys,
            server,
            cuid,
        })
    }
}

/// Step 2 of the handshake: the PD has proven its key; prove ours.
#[derive(Debug)]
pub struct Authenticating {
    key_type: u8,
    keys: SessionKeys,
    server: [u8; 16],
    cuid: [u8; 8],
}

impl Authenticating {
    /// The PD's client UID from osdp_CCRYPT.
    pub fn client_uid(&self) -> [u8; 8] {
        self.cuid
    }

    /// The osdp_SCRYPT command (SCS_13).
    pub fn server_cryptogram(&self, address: u8, seq: u8) -> Frame {
        let mut f = Frame::command(address, seq, CMD_SCRYPT, &self.server);
        f.security = Some(SecurityBlock::new(scs::SCS_13, &[self.key_type]));
        f
    }

    /// Check the PD's osdp_RMAC_I (SCS_14) and open the session.
    pub fn on_rmac_i(self, reply: &Frame) -> Result<Session, ScError> {
        if reply.code == REPLY_NAK {
            return Err(ScError::PdNak {
                step: "osdp_SCRYPT",
                code: reply.data.first().copied().unwrap_or(0),
            });
        }
        if reply.code != REPLY_RMAC_I {
            return Err(ScError::UnexpectedReply {
                code: reply.code,
                detail: "expected osdp_RMAC_I",
            });
        }
        match &reply.security {
            Some(sb) if sb.kind == scs::SCS_14 => match sb.data.first() {
                Some(0x01) => {}
                Some(&status) => return Err(ScError::ServerCryptogramRejected(status)),
                None => {
                    return Err(ScError::UnexpectedReply {
                        code: reply.code,
                        detail: "SCS_14 without a status byte",
                    });
                }
            },
            _ => {
                return Err(ScError::UnexpectedReply {
                    code: reply.code,
                    detail: "osdp_RMAC_I without an SCS_14 security block",
                });
            }
        }
        let expected = self.keys.initial_rmac(&self.server);
        if reply.data.len() != 16 || !ct_eq(&expected, &reply.data) {
            return Err(ScError::RmacMismatch);
        }
        Ok(Session {
            keys: self.keys,
            r_mac: expected,
            c_mac: [0; 16],
        })
    }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An established secure session (CP side): seals commands, opens replies.
#[derive(Debug)]
pub struct Session {
    keys: SessionKeys,
    /// Last reply MAC (R-MAC-I right after the handshake).
    r_mac: [u8; 16],
    /// Last command MAC.
    c_mac: [u8; 16],
}

impl Session {
    /// Open a session directly from keys and R-MAC-I (tests).
    pub fn from_parts(keys: SessionKeys, rmac_i: [u8; 16]) -> Self {
        Self {
            keys,
            r_mac: rmac_i,
            c_mac: [0; 16],
        }
    }

    /// Secure a plain command: SCS_15 if it has no data, SCS_17 (encrypted)
    /// otherwise; append the MAC. Returns the bytes to transmit.
    pub fn seal(&mut self, mut frame: Frame) -> Result<Vec<u8>, crate::codec::EncodeError> {
        if frame.data.is_empty() {
            frame.security = Some(SecurityBlock::new(scs::SCS_15, &[]));
        } else {
            frame.data = self.keys.encrypt(&self.r_mac, &frame.data);
            frame.security = Some(SecurityBlock::new(scs::SCS_17, &[]));
        }
        let keys = &self.keys;
        let r_mac = self.r_mac;
        let mut full = [0u8; 16];
        let bytes = frame.encode_with_mac(|pre| {
            full = keys.mac(&r_mac, pre);
            let mut m = [0u8; MAC_LEN];
            m.copy_from_slice(&full[..MAC_LEN]);
            m
        })?;
        self.c_mac = full;
        Ok(bytes)
    }

    /// Verify a reply's MAC, decrypt its data, and return the plain frame.
    /// A plain-text osdp_NAK is returned as [`ScError::Plaintext`]: the PD
    /// has dropped the session.
    pub fn open(&mut self, packet: &Packet) -> Result<Frame, ScError> {
        let frame = packet.frame();
        let kind = match &frame.security {
            Some(sb) if sb.kind == scs::SCS_16 || sb.kind == scs::SCS_18 => sb.kind,
            _ => return Err(ScError::Plaintext(frame.code)),
        };
        let (Some(input), Some(mac)) = (packet.mac_input(), frame.mac) else {
            return Err(ScError::BadMac);
        };
        let full = self.keys.mac(&self.c_mac, input);
        if !ct_eq(&full[..MAC_LEN], &mac) {
            return Err(ScError::BadMac);
        }
        let mut plain = frame.clone();
        if kind == scs::SCS_18 {
            plain.data = self.keys.decrypt(&self.c_mac, &frame.data)?;
        }
        self.r_mac = full;
        plain.security = None;
        plain.mac = None;
        Ok(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Decoder;

    fn hex<const N: usize>(s: &str) -> [u8; N] {
        let v: Vec<u8> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect();
        v.try_into().unwrap()
    }

    const RND_A: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
    const RND_B: [u8; 8] = [0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8];

    // Reference values computed independently (Python `cryptography`, AES-ECB/CBC
    // primitives) from the OSDP formulas, SCBK = SCBK-D.
    #[test]
    fn aes_known_answer() {
        // FIPS-197 appendix C.1.
        let key = hex::<16>("000102030405060708090a0b0c0d0e0f");
        let pt = hex::<16>("00112233445566778899aabbccddeeff");
        assert_eq!(
            ecb(&key, &pt),
            hex::<16>("69c4e0d86a7b0430d8cdb78070b4c55a")
        );
    }

    #[test]
    fn session_keys_and_cryptograms() {
        let k = SessionKeys::derive(&SCBK_D, &RND_A);
        assert_eq!(k.s_enc, hex::<16>("9088006279d41b618acaf4760e9deec6"));
        assert_eq!(k.s_mac1, hex::<16>("336a2fd840a10efbb5c322397b9759ef"));
        assert_eq!(k.s_mac2, hex::<16>("fb271d4a53cd634a17cdac9c9adc86bd"));
        assert_eq!(
            k.client_cryptogram(&RND_A, &RND_B),
            hex::<16>("d6c7ee3c9d492527d3e17251dee89c43")
        );
        let server = k.server_cryptogram(&RND_A, &RND_B);
        assert_eq!(server, hex::<16>("27f94486474e718fc9d19b7e6d6cd1bf"));
        assert_eq!(
            k.initial_rmac(&server),
            hex::<16>("e7be1571d2cad0e42ca7d474f14ae53c")
        );
    }

    #[test]
    fn mac_and_encryption_vectors() {
        let k = SessionKeys::derive(&SCBK_D, &RND_A);
        let rmac = hex::<16>("e7be1571d2cad0e42ca7d474f14ae53c");
        let m20: Vec<u8> = (0..20).collect();
        let m32: Vec<u8> = (0..32).collect();
        let m7: Vec<u8> = (0..7).collect();
        assert_eq!(
            k.mac(&rmac, &m20),
            hex::<16>("e53a4873e798d0c5e9f21ab978e84243")
        );
        assert_eq!(
            k.mac(&rmac, &m32),
            hex::<16>("0f54c56f7135605d16a28725c1264372")
        );
        assert_eq!(
            k.mac(&rmac, &m7),
            hex::<16>("1f0cc5cde982bcc0510ebac5e867fa7c")
        );

        let d14 = [0, 0, 2, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let c14 = k.encrypt(&rmac, &d14);
        assert_eq!(c14, hex::<16>("4fd6f5bb8b6ae9c9238a2d3899875d6b").to_vec());
        assert_eq!(k.decrypt(&rmac, &c14).unwrap(), d14.to_vec());

        let d16: Vec<u8> = (0..16).collect();
        let c16 = k.encrypt(&rmac, &d16);
        assert_eq!(
            c16,
            hex::<32>("f97b14fe73239f0bf371fffb0ed14c9745d51e4a5cabc823d5d120a6146c41d9").to_vec()
        );
        assert_eq!(k.decrypt(&rmac, &c16).unwrap(), d16);
        assert_eq!(k.decrypt(&rmac, &c16[..15]), Err(ScError::BadCiphertext));
        assert_eq!(k.decrypt(&rmac, &[]), Err(ScError::BadCiphertext));
    }

    /// A minimal PD side built from the same formulas, to exercise the CP
    /// state machine end to end (the real peer is exercised in tests/it).
    fn pd_reply(seq: u8, code: u8, sb: SecurityBlock, data: &[u8]) -> Frame {
        Frame {
            address: 1,
            reply: true,
            sequence: seq,
            check: crate::codec::Check::Crc16,
            security: Some(sb),
            code,
            data: data.to_vec(),
            mac: None,
        }
    }

    #[test]
    fn handshake_and_session_roundtrip() {
        let scbk = [7u8; 16];
        let hs = Handshake::with_random(BaseKey::Scbk(scbk), RND_A);
        let chlng = hs.challenge(1, 1).encode().unwrap();
        assert_eq!(&chlng[4..9], &[0x0D, 3, 0x11, 1, 0x76]);

        let keys = SessionKeys::derive(&scbk, &RND_A);
        let mut ccrypt = vec![0xEE; 8];
        ccrypt.extend_from_slice(&RND_B);
        ccrypt.extend_from_slice(&keys.client_cryptogram(&RND_A, &RND_B));
        let reply = pd_reply(1, REPLY_CCRYPT, SecurityBlock::new(0x12, &[1]), &ccrypt);
        let auth = hs.on_ccrypt(&reply).unwrap();
        assert_eq!(auth.client_uid(), [0xEE; 8]);
        let scrypt = auth.server_cryptogram(1, 2);
        let server = keys.server_cryptogram(&RND_A, &RND_B);
        assert_eq!(scrypt.data, server.to_vec());
        let rmac_i = keys.initial_rmac(&server);
        let reply = pd_reply(2, REPLY_RMAC_I, SecurityBlock::new(0x14, &[1]), &rmac_i);
        let mut session = auth.on_rmac_i(&reply).unwrap();

        // Seal an LED-like command and check it as the PD would.
        let bytes = session
            .seal(Frame::command(
                1,
                3,
                0x69,
                &[0, 0, 2, 5, 0, 2, 0, 5, 0, 0, 0, 0, 0, 0],
            ))
            .unwrap();
        let mut d = Decoder::new();
        d.push(&bytes);
        let pkt = d.next_packet().unwrap();
        let c_mac = keys.mac(&rmac_i, pkt.mac_input().unwrap());
        assert_eq!(&c_mac[..4], &pkt.frame().mac.unwrap());
        assert_eq!(pkt.frame().security.as_ref().unwrap().kind, 0x17);
        let plain = keys.decrypt(&rmac_i, &pkt.frame().data).unwrap();
        assert_eq!(plain[2], 2);

        // PD replies with an encrypted osdp_KEYPAD (SCS_18).
        let reply = Frame {
            data: keys.encrypt(&c_mac, &[0, 2, b'4', b'2']),
            ..pd_reply(3, 0x53, SecurityBlock::new(0x18, &[]), &[])
        };
        let r_mac = std::cell::Cell::new([0u8; 16]);
        let wire = reply
            .encode_with_mac(|pre| {
                let full = keys.mac(&c_mac, pre);
                r_mac.set(full);
                full[..4].try_into().unwrap()
            })
            .unwrap();
        d.push(&wire);
        let pkt = d.next_packet().unwrap();
        let opened = session.open(&pkt).unwrap();
        assert_eq!(opened.data, vec![0, 2, b'4', b'2']);
        assert_eq!(session.r_mac, r_mac.get());

        // Tampering is detected.
        let mut bad = wire.clone();
        bad[8] ^= 1;
        let crc = crate::check::crc16(&bad[..bad.len() - 2]).to_le_bytes();
        let n = bad.len();
        bad[n - 2..].copy_from_slice(&crc);
        d.push(&bad);
        let pkt = d.next_packet().unwrap();
        assert_eq!(session.open(&pkt), Err(ScError::BadMac));
    }

    #[test]
    fn wrong_key_is_detected_at_ccrypt() {
        let hs = Handshake::with_random(BaseKey::Scbk([1; 16]), RND_A);
        let pd_keys = SessionKeys::derive(&[2; 16], &RND_A);
        let mut data = vec![0; 8];
        data.extend_from_slice(&RND_B);
        data.extend_from_slice(&pd_keys.client_cryptogram(&RND_A, &RND_B));
        let reply = pd_reply(1, REPLY_CCRYPT, SecurityBlock::new(0x12, &[1]), &data);
        assert_eq!(hs.on_ccrypt(&reply).unwrap_err(), ScError::KeyMismatch);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use crate::codec::Decoder;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encrypt_decrypt_roundtrip(key in any::<[u8; 16]>(), iv in any::<[u8; 16]>(), data in proptest::collection::vec(any::<u8>(), 0..100)) {
            let k = SessionKeys::derive(&key, &[0; 8]);
            let c = k.encrypt(&iv, &data);
            prop_assert_eq!(c.len() % 16, 0);
            prop_assert!(c.len() > data.len());
            prop_assert_eq!(k.decrypt(&iv, &c).unwrap(), data);
        }

        #[test]
        fn hostile_secured_replies_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120), data in proptest::collection::vec(any::<u8>(), 0..40), kind in 0x15u8..=0x18) {
            let mut s = Session::from_parts(SessionKeys::derive(&[3; 16], &[1; 8]), [0; 16]);
            // Arbitrary packets with a security block and a (wrong) MAC.
            let mut f = crate::codec::Frame::command(1, 1, 0x53, &data);
            f.reply = true;
            f.security = Some(SecurityBlock::new(kind, &[]));
            f.mac = Some([1, 2, 3, 4]);
            let mut d = Decoder::new();
            d.push(&f.encode().unwrap());
            d.push(&bytes);
            while let Some(p) = d.next_packet() {
                prop_assert!(s.open(&p).is_err());
            }
        }
    }
}
