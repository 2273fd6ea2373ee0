//! OSDP packet framing: a pure encoder and an incremental, bounded decoder.
//!
//! Wire layout (all multi-byte fields little-endian):
//!
//! ```text
//! SOM(0x53) ADDR LEN_LSB LEN_MSB CTRL [SEC_BLK_LEN SEC_BLK_TYPE SEC_BLK_DATA..] CODE DATA.. [MAC x4] CKSUM | CRC_LSB CRC_MSB
//! ```
//!
//! `LEN` counts the whole packet from SOM to the last check byte. `ADDR` has
//! bit 7 set on replies from a PD. `CTRL` carries the 2-bit sequence number
//! (bits 0-1), the CRC flag (bit 2: set = CRC-16, clear = 8-bit checksum) and
//! the security-block flag (bit 3). A 4-byte MAC is present exactly when the
//! security block type is SCS_15..SCS_18.

use crate::check::{checksum, crc16};
use thiserror::Error;

/// Start of message marker.
pub const SOM: u8 = 0x53;
/// Bit set in the address byte of every PD reply.
pub const REPLY_FLAG: u8 = 0x80;
/// Broadcast address (commands only).
pub const BROADCAST_ADDRESS: u8 = 0x7F;
/// Fixed header length: SOM, ADDR, LEN (2), CTRL.
pub const HEADER_LEN: usize = 5;
/// Length of the truncated MAC carried in secured packets.
pub const MAC_LEN: usize = 4;
/// Default upper bound on an accepted packet length.
pub const DEFAULT_MAX_PACKET_LEN: usize = 1024;
/// Smallest packet: header, code, 1-byte checksum.
pub const MIN_PACKET_LEN: usize = HEADER_LEN + 1 + 1;

/// Callback computing the truncated MAC over the bytes that precede it.
type MacFn<'a> = &'a mut dyn FnMut(&[u8]) -> [u8; MAC_LEN];

const CTRL_SQN: u8 = 0x03;
const CTRL_CRC: u8 = 0x04;
const CTRL_SCB: u8 = 0x08;

/// Secure channel security block types.
pub mod scs {
    /// CP -> PD: osdp_CHLNG.
    pub const SCS_11: u8 = 0x11;
    /// PD -> CP: osdp_CCRYPT.
    pub const SCS_12: u8 = 0x12;
    /// CP -> PD: osdp_SCRYPT.
    pub const SCS_13: u8 = 0x13;
    /// PD -> CP: osdp_RMAC_I.
    pub const SCS_14: u8 = 0x14;
    /// CP -> PD: MAC, data not encrypted.
    pub const SCS_15: u8 = 0x15;
    /// PD -> CP: MAC, data not encrypted.
    pub const SCS_16: u8 = 0x16;
    /// CP -> PD: MAC and encrypted data.
    pub const SCS_17: u8 = 0x17;
    /// PD -> CP: MAC and encrypted data.
    pub const SCS_18: u8 = 0x18;

    /// Whether packets carrying this block type end in a 4-byte MAC.
    pub fn carries_mac(kind: u8) -> bool {
        (SCS_15..=SCS_18).contains(&kind)
    }
}

/// Which integrity check trails the packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// 16-bit CRC (CRC-16/AUG-CCITT).
    Crc16,
    /// 8-bit two's-complement checksum.
    Checksum,
}

impl Check {
    fn len(self) -> usize {
        match self {
            Check::Crc16 => 2,
            Check::Checksum => 1,
        }
    }
}

/// The optional security control block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityBlock {
    /// SEC_BLK_TYPE (see [`scs`]).
    pub kind: u8,
    /// SEC_BLK_DATA (at most 253 bytes).
    pub data: Vec<u8>,
}

impl SecurityBlock {
    /// A block with the given type and data.
    pub fn new(kind: u8, data: &[u8]) -> Self {
        Self {
            kind,
            data: data.to_vec(),
        }
    }

    fn wire_len(&self) -> usize {
        2 + self.data.len()
    }
}

/// One OSDP packet, decoded (data as carried on the wire: still encrypted for
/// SCS_17/SCS_18).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// 7-bit PD address (0x00..=0x7E, or 0x7F for broadcast).
    pub address: u8,
    /// True for PD -> CP replies (bit 7 of the address byte).
    pub reply: bool,
    /// Sequence number, 0..=3.
    pub sequence: u8,
    /// Trailing integrity check.
    pub check: Check,
    /// Security control block, if present.
    pub security: Option<SecurityBlock>,
    /// Command or reply code.
    pub code: u8,
    /// Data block.
    pub data: Vec<u8>,
    /// Truncated MAC; present exactly when the security block type is
    /// SCS_15..=SCS_18.
    pub mac: Option<[u8; MAC_LEN]>,
}

impl Frame {
    /// A plain command to `address` using CRC-16.
    pub fn command(address: u8, sequence: u8, code: u8, data: &[u8]) -> Self {
        Self {
            address,
            reply: false,
            sequence,
            check: Check::Crc16,
            security: None,
            code,
            data: data.to_vec(),
            mac: None,
        }
    }

    fn needs_mac(&self) -> bool {
        self.security
            .as_ref()
            .is_some_and(|sb| scs::carries_mac(sb.kind))
    }

    /// Total length on the wire.
    pub fn wire_len(&self) -> usize {
        HEADER_LEN
            + self.security.as_ref().map_or(0, SecurityBlock::wire_len)
            + 1
            + self.data.len()
            + if self.needs_mac() { MAC_LEN } else { 0 }
            + self.check.len()
    }

    /// Encode using the MAC stored in `self.mac`.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        match (self.needs_mac(), self.mac) {
            (true, Some(mac)) => self.encode_inner(Some(&mut |_: &[u8]| mac)),
            (true, None) => Err(EncodeError::MissingMac),
            (false, Some(_)) => Err(EncodeError::UnexpectedMac),
            (false, None) => self.encode_inner(None),
        }
    }

    /// Encode, computing the MAC over every byte that precedes it (with the
    /// final length already in place). `self.mac` is ignored. Fails with
    /// [`EncodeError::UnexpectedMac`] if the security block carries no MAC.
    pub fn encode_with_mac(
        &self,
        mut mac: impl FnMut(&[u8]) -> [u8; MAC_LEN],
    ) -> Result<Vec<u8>, EncodeError> {
        if !self.needs_mac() {
            return Err(EncodeError::UnexpectedMac);
        }
        self.encode_inner(Some(&mut mac))
    }

    fn encode_inner(&self, mac: Option<MacFn<'_>>) -> Result<Vec<u8>, EncodeError> {
        if self.address > BROADCAST_ADDRESS {
            return Err(EncodeError::Address(self.address));
        }
        if self.sequence > 3 {
            return Err(EncodeError::Sequence(self.sequence));
        }
        let len = self.wire_len();
        let len16 = u16::try_from(len).map_err(|_| EncodeError::TooLong(len))?;
        let mut out = Vec::with_capacity(len);
        out.push(SOM);
        out.push(self.address | if self.reply { REPLY_FLAG } else { 0 });
        out.extend_from_slice(&len16.to_le_bytes());
        let mut ctrl = self.sequence & CTRL_SQN;
        if self.check == Check::Crc16 {
            ctrl |= CTRL_CRC;
        }
        if let Some(sb) = &self.security {
            ctrl |= CTRL_SCB;
            let sb_len = u8::try_from(sb.wire_len())
                .map_err(|_| EncodeError::SecurityBlockTooLong(sb.data.len()))?;
            out.push(ctrl);
            out.push(sb_len);
            out.push(sb.kind);
            out.extend_from_slice(&sb.data);
        } else {
            out.push(ctrl);
        }
        out.push(self.code);
        out.extend_from_slice(&self.data);
        if let Some(mac) = mac {
            let m = mac(&out);
            out.extend_from_slice(&m);
        }
        match self.check {
            Check::Crc16 => {
                let crc = crc16(&out);
                out.extend_from_slice(&crc.to_le_bytes());
            }
            Check::Checksum => {
                let c = checksum(&out);
                out.push(c);
            }
        }
        debug_assert_eq!(out.len(), len);
        Ok(out)
    }
}

/// Why a frame could not be encoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// Address above 0x7F.
    #[error("address {0:#04x} is out of range (max 0x7f)")]
    Address(u8),
    /// Sequence number above 3.
    #[error("sequence number {0} is out of range (0..=3)")]
    Sequence(u8),
    /// Packet longer than 65535 bytes.
    #[error("packet of {0} bytes exceeds the 16-bit length field")]
    TooLong(usize),
    /// Security block data longer than 253 bytes.
    #[error("security block data of {0} bytes is too long")]
    SecurityBlockTooLong(usize),
    /// SCS_15..SCS_18 packet without a MAC.
    #[error("security block type requires a MAC but none was supplied")]
    MissingMac,
    /// MAC supplied for a packet whose security block carries none.
    #[error("MAC supplied for a packet that does not carry one")]
    UnexpectedMac,
}

/// A decoded packet together with its raw bytes (needed to verify its MAC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    frame: Frame,
    raw: Vec<u8>,
}

impl Packet {
    /// The decoded frame.
    pub fn frame(&self) -> &Frame {
        &self.frame
    }

    /// Consume into the decoded frame.
    pub fn into_frame(self) -> Frame {
        self.frame
    }

    /// The packet exactly as received.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The bytes the MAC is computed over (everything before the MAC), if the
    /// packet carries a MAC.
    pub fn mac_input(&self) -> Option<&[u8]> {
        self.frame.mac?;
        let end = self
            .raw
            .len()
            .checked_sub(self.frame.check.len() + MAC_LEN)?;
        self.raw.get(..end)
    }
}

/// Incremental decoder. Feed it bytes as they arrive with [`Decoder::push`]
/// and take complete packets with [`Decoder::next_packet`]. Garbage before a
/// start-of-message, bad lengths, bad checks and malformed packets are
/// skipped; memory use is bounded by `4 * max_packet_len`.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    max_packet_len: usize,
    discarded: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    /// Decoder accepting packets up to [`DEFAULT_MAX_PACKET_LEN`] bytes.
    pub fn new() -> Self {
        Self::with_max_packet_len(DEFAULT_MAX_PACKET_LEN)
    }

    /// Decoder accepting packets up to `max` bytes (clamped to
    /// `MIN_PACKET_LEN..=65535`); longer declared lengths are rejected.
    pub fn with_max_packet_len(max: usize) -> Self {
        Self {
            buf: Vec::new(),
            max_packet_len: max.clamp(MIN_PACKET_LEN, usize::from(u16::MAX)),
            discarded: 0,
        }
    }

    /// Largest accepted packet length.
    pub fn max_packet_len(&self) -> usize {
        self.max_packet_len
    }

    /// Bytes currently buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Total bytes skipped so far (noise, bad checks, malformed packets,
    /// overflow).
    pub fn discarded_bytes(&self) -> u64 {
        self.discarded
    }

    /// Drop everything buffered.
    pub fn clear(&mut self) {
        self.discard(self.buf.len());
    }

    /// Append received bytes. If the buffer would exceed its bound, the oldest
    /// bytes are dropped; call [`Decoder::next_packet`] between pushes.
    pub fn push(&mut self, bytes: &[u8]) {
        let cap = self.max_packet_len * 4;
        if bytes.len() >= cap {
            self.clear();
            let skip = bytes.len() - cap;
            self.discarded += skip as u64;
            self.buf.extend_from_slice(&bytes[skip..]);
        } else {
            let overflow = (self.buf.len() + bytes.len()).saturating_sub(cap);
            self.discard(overflow);
            self.buf.extend_from_slice(bytes);
        }
    }

    fn discard(&mut self, n: usize) {
        let n = n.min(self.buf.len());
        self.buf.drain(..n);
        self.discarded += n as u64;
    }

    /// The next complete, check-verified packet, if one is buffered.
    pub fn next_packet(&mut self) -> Option<Packet> {
        loop {
            match self.buf.iter().position(|&b| b == SOM) {
                Some(i) => self.discard(i),
                None => {
                    self.clear();
                    return None;
                }
            }
            if self.buf.len() < HEADER_LEN {
                return None;
            }
            let len = usize::from(u16::from_le_bytes([self.buf[2], self.buf[3]]));
            let check = if self.buf[4] & CTRL_CRC != 0 {
                Check::Crc16
            } else {
                Check::Checksum
            };
            if len < HEADER_LEN + 1 + check.len() || len > self.max_packet_len {
                // Not a real start of message (or an oversized one): resync.
                self.discard(1);
                continue;
            }
            if self.buf.len() < len {
                return None;
            }
            let raw = &self.buf[..len];
            let body_len = len - check.len();
            let ok = match check {
                Check::Crc16 => {
                    crc16(&raw[..body_len])
                        == u16::from_le_bytes([raw[body_len], raw[body_len + 1]])
                }
                Check::Checksum => checksum(&raw[..body_len]) == raw[body_len],
            };
            if !ok {
                self.discard(1);
                continue;
            }
            match parse(raw, check) {
                Some(frame) => {
                    let raw = raw.to_vec();
                    self.buf.drain(..len);
                    return Some(Packet { frame, raw });
                }
                None => {
                    // Check passed but the structure is inconsistent: drop it.
                    self.discard(len);
                }
            }
        }
    }
}

/// Parse a packet whose length and check have been validated.
fn parse(raw: &[u8], check: Check) -> Option<Frame> {
    let addr = raw[1];
    let ctrl = raw[4];
    let body_end = raw.len() - check.len();
    let mut pos = HEADER_LEN;
    let security = if ctrl & CTRL_SCB != 0 {
        let sb_len = usize::from(*raw.get(pos)?);
        if sb_len < 2 || pos + sb_len >= body_end {
            return None;
        }
        let sb = SecurityBlock::new(raw[pos + 1], &raw[pos + 2..pos + sb_len]);
        pos += sb_len;
        Some(sb)
    } else {
        None
    };
    let mac_len = if security
        .as_ref()
        .is_some_and(|sb| scs::carries_mac(sb.kind))
    {
        MAC_LEN
    } else {
        0
    };
    let data_end = body_end.checked_sub(mac_len)?;
    if pos >= data_end {
        return None;
    }
    let code = raw[pos];
    let data = raw[pos + 1..data_end].to_vec();
    let mac = if mac_len > 0 {
        let mut m = [0u8; MAC_LEN];
        m.copy_from_slice(&raw[data_end..body_end]);
        Some(m)
    } else {
        None
    };
    Some(Frame {
        address: addr & !REPLY_FLAG,
        reply: addr & REPLY_FLAG != 0,
        sequence: ctrl & CTRL_SQN,
        check,
        security,
        code,
        data,
        mac,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn poll_to_address_zero() {
        // osdp_POLL, address 0, sequence 0, CRC-16: length 8, CTRL 0x04.
        // CRC-16/AUG-CCITT over 53 00 08 00 04 60 is 0xAAEB (sent LSB first).
        let bytes = Frame::command(0, 0, 0x60, &[]).encode().unwrap();
        assert_eq!(bytes, hex("530008000460ebaa"));
    }

    #[test]
    fn poll_with_checksum() {
        let mut f = Frame::command(0, 1, 0x60, &[]);
        f.check = Check::Checksum;
        let bytes = f.encode().unwrap();
        // 0x53+0x07+0x01+0x60 = 0xbb -> checksum 0x45.
        assert_eq!(bytes, hex("53000700016045"));
        let mut d = Decoder::new();
        d.push(&bytes);
        assert_eq!(d.next_packet().unwrap().into_frame(), f);
    }

    #[test]
    fn decodes_replies_captured_from_libosdp() {
        // Real bytes sent by a libosdp 3.2.9 PD at address 1.
        let mut d = Decoder::new();
        // osdp_ACK, sequence 2.
        d.push(&hex("5381080006406a60"));
        let ack = d.next_packet().unwrap().into_frame();
        assert_eq!(
            (ack.address, ack.reply, ack.sequence, ack.code),
            (1, true, 2, 0x40)
        );
        assert!(ack.data.is_empty());
        // osdp_PDID, sequence 0.
        d.push(&hex("538114000445b2a1000302785634120102034c0f"));
        let id = d.next_packet().unwrap().into_frame();
        assert_eq!((id.sequence, id.code), (0, 0x45));
        assert_eq!(id.data, hex("b2a100030278563412010203"));
        assert_eq!(d.buffered(), 0);
        assert_eq!(d.discarded_bytes(), 0);
    }

    #[test]
    fn skips_garbage_and_mark_bytes_and_handles_split_reads() {
        let pkt = Frame::command(5, 1, 0x69, &[1, 2, 3]).encode().unwrap();
        let mut stream = vec![0x00, 0x53, 0x53, 0xFF, 0x12, 0xFF];
        stream.extend_from_slice(&pkt);
        stream.extend_from_slice(&pkt);
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for b in &stream {
            d.push(std::slice::from_ref(b));
            while let Some(p) = d.next_packet() {
                got.push(p);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].raw(), &pkt[..]);
        assert_eq!(got[1].frame().data, vec![1, 2, 3]);
    }

    #[test]
    fn rejects_oversized_and_recovers() {
        let mut d = Decoder::with_max_packet_len(64);
        // Header claiming 0x0400 bytes: must not be waited for.
        d.push(&[SOM, 0x80, 0x00, 0x04, 0x04]);
        let good = Frame::command(1, 2, 0x60, &[]).encode().unwrap();
        d.push(&good);
        let p = d.next_packet().unwrap();
        assert_eq!(p.raw(), &good[..]);
        assert!(d.discarded_bytes() >= 5);
    }

    #[test]
    fn bad_crc_is_dropped() {
        let mut pkt = Frame::command(1, 1, 0x60, &[]).encode().unwrap();
        let n = pkt.len();
        pkt[n - 1] ^= 0xFF;
        let mut d = Decoder::new();
        d.push(&pkt);
        assert!(d.next_packet().is_none());
    }

    #[test]
    fn buffer_is_bounded() {
        let mut d = Decoder::with_max_packet_len(32);
        // A plausible header that never completes, then lots of bytes.
        d.push(&[SOM, 0x00, 0x20, 0x00, 0x04]);
        for _ in 0..100 {
            d.push(&[0x53; 50]);
            let _ = d.next_packet();
            assert!(d.buffered() <= 32 * 4);
        }
    }

    #[test]
    fn secured_frame_layout() {
        let f = Frame {
            address: 1,
            reply: false,
            sequence: 1,
            check: Check::Crc16,
            security: Some(SecurityBlock::new(scs::SCS_15, &[])),
            code: 0x60,
            data: vec![],
            mac: Some([1, 2, 3, 4]),
        };
        let bytes = f.encode().unwrap();
        assert_eq!(bytes.len(), 5 + 2 + 1 + 4 + 2);
        assert_eq!(&bytes[..8], &[0x53, 0x01, 14, 0, 0x0D, 2, 0x15, 0x60]);
        let mut d = Decoder::new();
        d.push(&bytes);
        let p = d.next_packet().unwrap();
        assert_eq!(p.mac_input().unwrap(), &bytes[..8]);
        assert_eq!(p.into_frame(), f);

        let mut seen = Vec::new();
        let b2 = f
            .encode_with_mac(|pre| {
                seen = pre.to_vec();
                [9, 9, 9, 9]
            })
            .unwrap();
        assert_eq!(seen, bytes[..8].to_vec());
        assert_eq!(&b2[8..12], &[9, 9, 9, 9]);
    }

    #[test]
    fn encode_errors() {
        assert_eq!(
            Frame::command(0x80, 0, 0x60, &[]).encode(),
            Err(EncodeError::Address(0x80))
        );
        assert_eq!(
            Frame::command(1, 4, 0x60, &[]).encode(),
            Err(EncodeError::Sequence(4))
        );
        let mut f = Frame::command(1, 0, 0x60, &[]);
        f.security = Some(SecurityBlock::new(scs::SCS_17, &[]));
        assert_eq!(f.encode(), Err(EncodeError::MissingMac));
        f.security = None;
        f.mac = Some([0; 4]);
        assert_eq!(f.encode(), Err(EncodeError::UnexpectedMac));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    fn arb_frame() -> impl Strategy<Value = Frame> {
        let sb = prop_oneof![
            Just(None),
            (0x11u8..=0x14, proptest::collection::vec(any::<u8>(), 0..4))
                .prop_map(|(k, d)| Some(SecurityBlock::new(k, &d))),
            (0x15u8..=0x18).prop_map(|k| Some(SecurityBlock::new(k, &[]))),
        ];
        (
            0u8..=0x7F,
            any::<bool>(),
            0u8..=3,
            any::<bool>(),
            sb,
            any::<u8>(),
            proptest::collection::vec(any::<u8>(), 0..300),
            any::<[u8; 4]>(),
        )
            .prop_map(
                |(address, reply, sequence, crc, security, code, data, mac)| {
                    let mac = security
                        .as_ref()
                        .filter(|s| scs::carries_mac(s.kind))
                        .map(|_| mac);
                    Frame {
                        address,
                        reply,
                        sequence,
                        check: if crc { Check::Crc16 } else { Check::Checksum },
                        security,
                        code,
                        data,
                        mac,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn encode_decode_roundtrip(frame in arb_frame(), noise in proptest::collection::vec(any::<u8>(), 0..20), split in 0usize..400) {
            let bytes = frame.encode().unwrap();
            prop_assert_eq!(bytes.len(), frame.wire_len());
            let mut d = Decoder::new();
            // Noise without a SOM byte cannot fake a packet start.
            let noise: Vec<u8> = noise.into_iter().filter(|&b| b != SOM).collect();
            d.push(&noise);
            let split = split.min(bytes.len());
            d.push(&bytes[..split]);
            let first = d.next_packet();
            d.push(&bytes[split..]);
            let pkt = first.or_else(|| d.next_packet()).unwrap();
            prop_assert_eq!(pkt.raw(), &bytes[..]);
            prop_assert_eq!(pkt.into_frame(), frame);
        }

        #[test]
        fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..10), max in 0usize..2000) {
            let mut d = Decoder::with_max_packet_len(max);
            for c in &chunks {
                d.push(c);
                while let Some(p) = d.next_packet() {
                    prop_assert!(p.raw().len() <= d.max_packet_len());
                    let _ = p.mac_input();
                }
                prop_assert!(d.buffered() <= d.max_packet_len() * 4);
            }
        }

        #[test]
        fn corrupted_packets_never_panic(frame in arb_frame(), idx in any::<usize>(), val in any::<u8>()) {
            let mut bytes = frame.encode().unwrap();
            let i = idx % bytes.len();
            bytes[i] = val;
            let mut d = Decoder::new();
            d.push(&bytes);
            while d.next_packet().is_some() {}
        }
    }
}
