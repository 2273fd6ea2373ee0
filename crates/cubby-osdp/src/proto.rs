//! OSDP command and reply codes, command builders and reply parsers (no IO).

use std::fmt;
use std::time::Duration;

/// Command codes (CP -> PD).
pub mod cmd {
    /// osdp_POLL.
    pub const POLL: u8 = 0x60;
    /// osdp_ID: request PD identification.
    pub const ID: u8 = 0x61;
    /// osdp_CAP: request PD capabilities.
    pub const CAP: u8 = 0x62;
    /// osdp_LSTAT: local status.
    pub const LSTAT: u8 = 0x64;
    /// osdp_OUT: output control.
    pub const OUT: u8 = 0x68;
    /// osdp_LED: reader LED control.
    pub const LED: u8 = 0x69;
    /// osdp_BUZ: reader buzzer control.
    pub const BUZ: u8 = 0x6A;
    /// osdp_TEXT: reader text output.
    pub const TEXT: u8 = 0x6B;
    /// osdp_CHLNG: secure channel challenge.
    pub const CHLNG: u8 = 0x76;
    /// osdp_SCRYPT: secure channel server cryptogram.
    pub const SCRYPT: u8 = 0x77;
}

/// Reply codes (PD -> CP).
pub mod reply {
    /// osdp_ACK.
    pub const ACK: u8 = 0x40;
    /// osdp_NAK.
    pub const NAK: u8 = 0x41;
    /// osdp_PDID.
    pub const PDID: u8 = 0x45;
    /// osdp_PDCAP.
    pub const PDCAP: u8 = 0x46;
    /// osdp_LSTATR.
    pub const LSTATR: u8 = 0x48;
    /// osdp_RAW: card data, raw bits.
    pub const RAW: u8 = 0x50;
    /// osdp_FMT: card data, formatted (ASCII).
    pub const FMT: u8 = 0x51;
    /// osdp_KEYPAD.
    pub const KEYPAD: u8 = 0x53;
    /// osdp_CCRYPT.
    pub const CCRYPT: u8 = 0x76;
    /// osdp_RMAC_I.
    pub const RMAC_I: u8 = 0x78;
    /// osdp_BUSY.
    pub const BUSY: u8 = 0x79;
}

/// PD identification (osdp_PDID).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdId {
    /// IEEE OUI vendor code (24 bits).
    pub vendor_code: u32,
    /// Model number.
    pub model: u8,
    /// Hardware version.
    pub version: u8,
    /// Serial number.
    pub serial_number: u32,
    /// Firmware version (major, minor, build).
    pub firmware: (u8, u8, u8),
}

impl PdId {
    /// Parse an osdp_PDID data block (12 bytes).
    pub fn parse(data: &[u8]) -> Option<Self> {
        if data.len() < 12 {
            return None;
        }
        Some(Self {
            vendor_code: u32::from_le_bytes([data[0], data[1], data[2], 0]),
            model: data[3],
            version: data[4],
            serial_number: u32::from_le_bytes([data[5], data[6], data[7], data[8]]),
            firmware: (data[9], data[10], data[11]),
        })
    }
}

/// One osdp_PDCAP entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capability {
    /// Function code (e.g. 4 = LED control, 9 = communication security).
    pub function: u8,
    /// Compliance level.
    pub compliance: u8,
    /// Number of items.
    pub items: u8,
}

impl Capability {
    /// Function code: card data format.
    pub const CARD_DATA_FORMAT: u8 = 3;
    /// Function code: reader LED control.
    pub const LED_CONTROL: u8 = 4;
    /// Function code: reader audible output.
    pub const AUDIBLE_OUTPUT: u8 = 5;
    /// Function code: check character (CRC-16) support.
    pub const CHECK_CHARACTER: u8 = 8;
    /// Function code: communication security.
    pub const COMMUNICATION_SECURITY: u8 = 9;
    /// Function code: receive buffer size.
    pub const RECEIVE_BUFFER_SIZE: u8 = 10;

    /// Parse an osdp_PDCAP data block (3-byte entries; a trailing partial
    /// entry is ignored).
    pub fn parse_list(data: &[u8]) -> Vec<Self> {
        data.chunks_exact(3)
            .map(|c| Self {
                function: c[0],
                compliance: c[1],
                items: c[2],
            })
            .collect()
    }
}

/// osdp_NAK error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NakCode {
    /// 0: no error (unspecified).
    None,
    /// 1: message check character(s) error.
    CheckCharacter,
    /// 2: command length error.
    CommandLength,
    /// 3: unknown command code (or not supported by this PD).
    UnknownCommand,
    /// 4: unexpected sequence number.
    SequenceNumber,
    /// 5: security block not supported (or cryptogram rejected).
    SecurityUnsupported,
    /// 6: communication security conditions not met (encryption required).
    SecurityConditions,
    /// 7: BIO_TYPE not supported.
    BioType,
    /// 8: BIO_FORMAT not supported.
    BioFormat,
    /// 9: unable to process the command record.
    Record,
    /// Any other code.
    Other(u8),
}

impl From<u8> for NakCode {
    fn from(c: u8) -> Self {
        match c {
            0 => NakCode::None,
            1 => NakCode::CheckCharacter,
            2 => NakCode::CommandLength,
            3 => NakCode::UnknownCommand,
            4 => NakCode::SequenceNumber,
            5 => NakCode::SecurityUnsupported,
            6 => NakCode::SecurityConditions,
            7 => NakCode::BioType,
            8 => NakCode::BioFormat,
            9 => NakCode::Record,
            other => NakCode::Other(other),
        }
    }
}

impl fmt::Display for NakCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            NakCode::None => "no error",
            NakCode::CheckCharacter => "message check character error",
            NakCode::CommandLength => "command length error",
            NakCode::UnknownCommand => "unknown or unsupported command",
            NakCode::SequenceNumber => "unexpected sequence number",
            NakCode::SecurityUnsupported => "security block not supported",
            NakCode::SecurityConditions => "communication security conditions not met",
            NakCode::BioType => "BIO_TYPE not supported",
            NakCode::BioFormat => "BIO_FORMAT not supported",
            NakCode::Record => "unable to process command record",
            NakCode::Other(c) => return write!(f, "NAK code {c}"),
        };
        f.write_str(s)
    }
}

/// Reader LED colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum LedColor {
    /// Off / black.
    Black = 0,
    /// Red.
    Red = 1,
    /// Green.
    Green = 2,
    /// Amber.
    Amber = 3,
    /// Blue.
    Blue = 4,
    /// Magenta.
    Magenta = 5,
    /// Cyan.
    Cyan = 6,
    /// White.
    White = 7,
}

/// On/off pattern of an LED, in units of 100 ms. `off_time == 0` is steady
/// on; both zero is rejected by PDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedPattern {
    /// Colour during the on phase.
    pub on_color: LedColor,
    /// Colour during the off phase.
    pub off_color: LedColor,
    /// On time, 100 ms units.
    pub on_time: u8,
    /// Off time, 100 ms units.
    pub off_time: u8,
}

impl LedPattern {
    /// Steady colour.
    pub fn steady(color: LedColor) -> Self {
        Self {
            on_color: color,
            off_color: color,
            on_time: 1,
            off_time: 0,
        }
    }

    /// Blink between `on` and `off` colours with the given phase lengths.
    pub fn blink(on: LedColor, off: LedColor, on_time: Duration, off_time: Duration) -> Self {
        Self {
            on_color: on,
            off_color: off,
            on_time: ticks_u8(on_time).max(1),
            off_time: ticks_u8(off_time),
        }
    }
}

/// The temporary part of an osdp_LED record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedTemporary {
    /// Leave the temporary state alone (control code 0).
    Nop,
    /// Cancel a running temporary state, show the permanent one (code 1).
    Cancel,
    /// Show `pattern` for `timer` (100 ms units), then revert (code 2).
    Set {
        /// Pattern to show.
        pattern: LedPattern,
        /// Duration, 100 ms units.
        timer: u16,
    },
}

/// The permanent part of an osdp_LED record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedPermanent {
    /// Leave the permanent state alone (control code 0).
    Nop,
    /// Set the permanent state (code 1).
    Set(LedPattern),
}

/// One osdp_LED record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LedCommand {
    /// Reader number (0 = the PD itself).
    pub reader: u8,
    /// LED number on that reader.
    pub led: u8,
    /// Temporary state.
    pub temporary: LedTemporary,
    /// Permanent state.
    pub permanent: LedPermanent,
}

fn ticks_u8(d: Duration) -> u8 {
    u8::try_from(d.as_millis().div_ceil(100)).unwrap_or(u8::MAX)
}

fn ticks_u16(d: Duration) -> u16 {
    u16::try_from(d.as_millis().div_ceil(100)).unwrap_or(u16::MAX)
}

impl LedCommand {
    /// Set LED 0 of reader 0 permanently to a steady colour.
    pub fn steady(color: LedColor) -> Self {
        Self {
            reader: 0,
            led: 0,
            temporary: LedTemporary::Nop,
            permanent: LedPermanent::Set(LedPattern::steady(color)),
        }
    }

    /// Show a steady colour on LED 0 of reader 0 for `duration` (rounded up to
    /// 100 ms), then return to the permanent state.
    pub fn flash(color: LedColor, duration: Duration) -> Self {
        Self {
            reader: 0,
            led: 0,
            temporary: LedTemporary::Set {
                pattern: LedPattern::steady(color),
                timer: ticks_u16(duration).max(1),
            },
            permanent: LedPermanent::Nop,
        }
    }

    /// Cancel any temporary state on LED 0 of reader 0.
    pub fn cancel_temporary() -> Self {
        Self {
            reader: 0,
            led: 0,
            temporary: LedTemporary::Cancel,
            permanent: LedPermanent::Nop,
        }
    }

    /// The 14-byte osdp_LED record.
    pub fn encode(&self) -> [u8; 14] {
        let mut b = [0u8; 14];
        b[0] = self.reader;
        b[1] = self.led;
        match self.temporary {
            LedTemporary::Nop => {}
            LedTemporary::Cancel => b[2] = 1,
            LedTemporary::Set { pattern, timer } => {
                b[2] = 2;
                b[3] = pattern.on_time;
                b[4] = pattern.off_time;
                b[5] = pattern.on_color as u8;
                b[6] = pattern.off_color as u8;
                b[7..9].copy_from_slice(&timer.to_le_bytes());
            }
        }
        if let LedPermanent::Set(p) = self.permanent {
            b[9] = 1;
            b[10] = p.on_time;
            b[11] = p.off_time;
            b[12] = p.on_color as u8;
            b[13] = p.off_color as u8;
        }
        b
    }
}

/// Buzzer tone codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// 1: off (stop the buzzer).
    Off,
    /// 2: the PD's default tone.
    Default,
    /// Any other tone code.
    Other(u8),
}

impl Tone {
    fn code(self) -> u8 {
        match self {
            Tone::Off => 1,
            Tone::Default => 2,
            Tone::Other(c) => c,
        }
    }
}

/// One osdp_BUZ record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuzzerCommand {
    /// Reader number.
    pub reader: u8,
    /// Tone.
    pub tone: Tone,
    /// On time, 100 ms units (must be non-zero unless the tone is `Off`).
    pub on_time: u8,
    /// Off time, 100 ms units.
    pub off_time: u8,
    /// Number of cycles; 0 = until told otherwise.
    pub count: u8,
}

impl BuzzerCommand {
    /// Beep `count` times with the default tone on reader 0.
    pub fn beep(on: Duration, off: Duration, count: u8) -> Self {
        Self {
            reader: 0,
            tone: Tone::Default,
            on_time: ticks_u8(on).max(1),
            off_time: ticks_u8(off),
            count,
        }
    }

    /// Silence the buzzer on reader 0.
    pub fn off() -> Self {
        Self {
            reader: 0,
            tone: Tone::Off,
            on_time: 0,
            off_time: 0,
            count: 0,
        }
    }

    /// The 5-byte osdp_BUZ record.
    pub fn encode(&self) -> [u8; 5] {
        [
            self.reader,
            self.tone.code(),
            self.on_time,
            self.off_time,
            self.count,
        ]
    }
}

/// Card data encoding reported by the PD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardFormat {
    /// osdp_RAW format 0: raw bits, unspecified format.
    RawUnspecified,
    /// osdp_RAW format 1: raw Wiegand bits.
    Wiegand,
    /// osdp_FMT: ASCII characters (`bits` = 8 per character).
    Ascii,
    /// osdp_RAW with another format code.
    Other(u8),
}

/// Unsolicited data a PD returns in reply to osdp_POLL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PdReport {
    /// Keys pressed (osdp_KEYPAD).
    Keypad {
        /// Reader number.
        reader: u8,
        /// Keys as text: `0`-`9`, `*`, `#`; function keys F1-F4 as `A`-`D`;
        /// other bytes as `?`.
        digits: String,
        /// The key bytes as sent.
        raw: Vec<u8>,
    },
    /// A card was read (osdp_RAW / osdp_FMT).
    Card {
        /// Reader number.
        reader: u8,
        /// Encoding.
        format: CardFormat,
        /// Number of valid bits in `data` (MSB first).
        bits: u16,
        /// Card data.
        data: Vec<u8>,
    },
}

/// Map osdp_KEYPAD bytes to text (`0x7F` is `*`, `0x0D` is `#`).
pub fn keypad_text(raw: &[u8]) -> String {
    raw.iter()
        .map(|&b| match b {
            b'0'..=b'9' | b'*' | b'#' => char::from(b),
            0x7F => '*',
            0x0D => '#',
            0x81..=0x84 => char::from(b'A' + (b - 0x81)),
            _ => '?',
        })
        .collect()
}

impl PdReport {
    /// Parse an osdp_KEYPAD, osdp_RAW or osdp_FMT reply. `None` for other
    /// codes or malformed data.
    pub fn parse(code: u8, data: &[u8]) -> Option<Self> {
        match code {
            reply::KEYPAD => {
                let (&reader, rest) = data.split_first()?;
                let (&count, keys) = rest.split_first()?;
                let raw = keys.get(..usize::from(count))?.to_vec();
                Some(PdReport::Keypad {
                    reader,
                    digits: keypad_text(&raw),
                    raw,
                })
            }
            reply::RAW => {
                if data.len() < 4 {
                    return None;
                }
                let bits = u16::from_le_bytes([data[2], data[3]]);
                let nbytes = usize::from(bits).div_ceil(8);
                let payload = data.get(4..4 + nbytes)?.to_vec();
                let format = match data[1] {
                    0 => CardFormat::RawUnspecified,
                    1 => CardFormat::Wiegand,
                    other => CardFormat::Other(other),
                };
                Some(PdReport::Card {
                    reader: data[0],
                    format,
                    bits,
                    data: payload,
                })
            }
            reply::FMT => {
                if data.len() < 3 {
                    return None;
                }
                let n = usize::from(data[2]);
                let payload = data.get(3..3 + n)?.to_vec();
                Some(PdReport::Card {
                    reader: data[0],
                    format: CardFormat::Ascii,
                    bits: u16::from(data[2]) * 8,
                    data: payload,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn led_records() {
        let green = LedCommand::flash(LedColor::Green, Duration::from_millis(1500));
        assert_eq!(green.encode(), [0, 0, 2, 1, 0, 2, 2, 15, 0, 0, 0, 0, 0, 0]);
        let red = LedCommand::steady(LedColor::Red);
        assert_eq!(red.encode(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1]);
        assert_eq!(LedCommand::cancel_temporary().encode()[2], 1);
    }

    #[test]
    fn buzzer_records() {
        let b = BuzzerCommand::beep(Duration::from_millis(300), Duration::from_millis(200), 3);
        assert_eq!(b.encode(), [0, 2, 3, 2, 3]);
        assert_eq!(BuzzerCommand::off().encode(), [0, 1, 0, 0, 0]);
    }

    #[test]
    fn parses_reports() {
        assert_eq!(
            PdReport::parse(reply::KEYPAD, &[0, 5, b'1', b'2', b'3', b'4', 0x0D]),
            Some(PdReport::Keypad {
                reader: 0,
                digits: "1234#".into(),
                raw: vec![b'1', b'2', b'3', b'4', 0x0D],
            })
        );
        assert_eq!(keypad_text(&[0x7F, 0x81, 0x01]), "*A?");
        assert_eq!(
            PdReport::parse(reply::RAW, &[0, 1, 26, 0, 0xAA, 0xBB, 0xCC, 0xC0]),
            Some(PdReport::Card {
                reader: 0,
                format: CardFormat::Wiegand,
                bits: 26,
                data: vec![0xAA, 0xBB, 0xCC, 0xC0],
            })
        );
        assert_eq!(PdReport::parse(reply::RAW, &[0, 1, 26, 0, 0xAA]), None);
        assert_eq!(
            PdReport::parse(reply::FMT, &[1, 0, 2, b'4', b'2']),
            Some(PdReport::Card {
                reader: 1,
                format: CardFormat::Ascii,
                bits: 16,
                data: b"42".to_vec(),
            })
        );
        assert_eq!(PdReport::parse(reply::KEYPAD, &[0, 3, b'1']), None);
        assert_eq!(PdReport::parse(reply::ACK, &[]), None);
    }

    #[test]
    fn parses_id_and_caps() {
        let id = PdId::parse(&[0xb2, 0xa1, 0x00, 3, 2, 0x78, 0x56, 0x34, 0x12, 1, 2, 3]).unwrap();
        assert_eq!(id.vendor_code, 0x00a1b2);
        assert_eq!(id.serial_number, 0x12345678);
        assert_eq!(id.firmware, (1, 2, 3));
        assert!(PdId::parse(&[0; 11]).is_none());
        let caps = Capability::parse_list(&[9, 1, 0, 4, 1, 1, 7]);
        assert_eq!(caps.len(), 2);
        assert_eq!(caps[0].function, Capability::COMMUNICATION_SECURITY);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn reply_parsers_never_panic(code in any::<u8>(), data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = PdReport::parse(code, &data);
            let _ = PdId::parse(&data);
            let _ = Capability::parse_list(&data);
            let _ = keypad_text(&data);
        }

        #[test]
        fn raw_card_roundtrip(bits in 1u16..=256, seed in any::<u8>()) {
            let n = usize::from(bits).div_ceil(8);
            let payload: Vec<u8> = (0..n).map(|i| seed.wrapping_add(i as u8)).collect();
            let mut data = vec![0, 1];
            data.extend_from_slice(&bits.to_le_bytes());
            data.extend_from_slice(&payload);
            prop_assert_eq!(
                PdReport::parse(reply::RAW, &data),
                Some(PdReport::Card { reader: 0, format: CardFormat::Wiegand, bits, data: payload })
            );
        }
    }
}
