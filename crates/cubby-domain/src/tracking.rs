//! Tracking numbers: normalised, and checked where the format has a check digit,
//! so a typo is caught at the locker, not at the depot.
//!
//! Two entry points. [`TrackingNumber::parse`] knows nothing of the carrier: it
//! only rejects shapes that belong to one format alone (UPU S10, UPS 1Z), because
//! a pure-digit number of 12 or 20 digits could be any of several carriers' and
//! rejecting it on one carrier's rule would turn away another carrier's parcel.
//! [`TrackingNumber::parse_for`] is told the carrier, so it can hold the number to
//! that carrier's formats and their check digits.

mod check;
#[cfg(test)]
mod tests;

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::model::Invalid;

/// A normalised tracking number (upper case, no whitespace) and the format it
/// was accepted as. Equality, hashing and serde look at the text alone: the
/// format is how it was read, not part of its identity, and a stored number is
/// read back with [`TrackingNumber::parse`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingNumber {
    value: String,
    format: TrackingFormat,
}

/// Which known format a tracking number matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackingFormat {
    /// UPU S10: 2 letters, 8 digits, a mod-11 check digit, a country code.
    UpuS10,
    /// UPS: "1Z" and 16 letters and digits, modified mod-10 check digit.
    Ups1Z,
    /// DHL Express waybill: 10 digits, check digit = first 9 digits mod 7.
    DhlExpress,
    /// DHL Paket 12-digit Identcode: mod 10 with weights 4 and 9.
    DhlPaket,
    /// DHL Paket 20-digit NVE: "00" and an SSCC-18, GS1 mod 10.
    DhlPaketNve,
    /// FedEx Express 12 digits: mod 11 with weights 1, 3, 7 from the right.
    FedExExpress,
    /// FedEx Ground 15 digits: GS1 mod 10.
    FedExGround,
    /// FedEx Ground "96" barcode, 22 digits: GS1 mod 10 over its last 15.
    FedExGround96,
    /// USPS IMpb (20, 22, 26 digits, or 30/34 with the "420" ZIP routing code).
    UspsImpb,
    /// DPD parcel number: 14 digits, optionally followed by its check character.
    DpdParcel,
    /// DPD 28-character label barcode with its ISO 7064 MOD 37,36 character.
    DpdBarcode,
    /// GLS parcel number: 11 digits, or 12 with the check digit.
    Gls,
    /// InPost parcel number: 24 digits, no published check rule.
    InPost,
    /// Anything else: accepted on its shape only.
    Other,
}

impl TrackingNumber {
    /// Parses a number whose carrier is unknown. Only S10 and 1Z numbers are
    /// checked; everything else of 6–40 letters and digits is accepted as
    /// [`TrackingFormat::Other`].
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let value = normalise(input)?;
        let format = detect(&value);
        if format.check_ok(&value) {
            Ok(TrackingNumber { value, format })
        } else {
            Err(Invalid::new(
                "tracking_number",
                format!("check digit does not match ({})", format.label()),
            ))
        }
    }

    /// Parses a number for a known carrier (a lowercase code such as "dhl",
    /// "dhl_express", "dhl_paket", "fedex", "usps", "dpd", "gls", "inpost",
    /// "royal_mail", "ups"). A number in the shape of one of that carrier's
    /// checked formats must carry its check digit; other shapes are checked
    /// as [`TrackingNumber::parse`] checks them. An unknown or absent code falls back
    /// to [`TrackingNumber::parse`], so a carrier Cubby has no rules for still
    /// gets its parcels in.
    pub fn parse_for(input: &str, carrier_code: Option<&str>) -> Result<Self, Invalid> {
        let Some(carrier) = carrier_code.and_then(carrier) else {
            return Self::parse(input);
        };
        let value = normalise(input)?;
        let mut shape_matched = false;
        for &format in carrier.formats {
            if format.shape(&value) {
                if format.check_ok(&value) {
                    return Ok(TrackingNumber { value, format });
                }
                shape_matched = true;
            }
        }
        if shape_matched {
            return Err(Invalid::new(
                "tracking_number",
                format!("check digit does not match ({})", carrier.name),
            ));
        }
        // A shape none of the carrier's checked formats has: carriers issue
        // more formats than those with a published check rule (piece
        // numbers, SmartPost, mail services), and turning a real parcel away
        // at the locker is worse than a typo the recipient's name still
        // catches.
        Self::parse(input)
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The format the number was accepted as. A number read back from storage
    /// went through [`TrackingNumber::parse`], so it reports only S10, 1Z or
    /// [`TrackingFormat::Other`].
    pub fn format(&self) -> TrackingFormat {
        self.format
    }
}

impl PartialEq for TrackingNumber {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for TrackingNumber {}

impl Hash for TrackingNumber {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl TryFrom<String> for TrackingNumber {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Invalid> {
        TrackingNumber::parse(&value)
    }
}

impl From<TrackingNumber> for String {
    fn from(value: TrackingNumber) -> String {
        value.value
    }
}

fn normalise(input: &str) -> Result<String, Invalid> {
    let s: String = input
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if !(6..=40).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Invalid::new(
            "tracking_number",
            "must be 6 to 40 letters and digits",
        ));
    }
    Ok(s)
}

/// The formats `parse` can tell apart without knowing the carrier.
fn detect(s: &str) -> TrackingFormat {
    if TrackingFormat::UpuS10.shape(s) {
        TrackingFormat::UpuS10
    } else if TrackingFormat::Ups1Z.shape(s) {
        TrackingFormat::Ups1Z
    } else {
        TrackingFormat::Other
    }
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

impl TrackingFormat {
    /// Whether `s` (normalised) has this format's length and character classes;
    /// says nothing of the check digit.
    fn shape(self, s: &str) -> bool {
        let b = s.as_bytes();
        let n = b.len();
        let digits = all_digits(s);
        match self {
            TrackingFormat::UpuS10 => {
                n == 13
                    && b[..2].iter().all(u8::is_ascii_alphabetic)
                    && b[2..11].iter().all(u8::is_ascii_digit)
                    && b[11..].iter().all(u8::is_ascii_alphabetic)
            }
            TrackingFormat::Ups1Z => n == 18 && s.starts_with("1Z"),
            TrackingFormat::DhlExpress => n == 10 && digits,
            TrackingFormat::DhlPaket => n == 12 && digits,
            TrackingFormat::DhlPaketNve => n == 20 && digits && s.starts_with("00"),
            TrackingFormat::FedExExpress => n == 12 && digits,
            TrackingFormat::FedExGround => n == 15 && digits,
            TrackingFormat::FedExGround96 => n == 22 && digits && s.starts_with("96"),
            // IMpb tracking parts open with a channel identifier 91–95; the long
            // forms carry the "420" + ZIP routing code in front of that.
            TrackingFormat::UspsImpb => {
                digits
                    && match n {
                        20 => true,
                        22 | 26 => b[0] == b'9',
                        30 | 34 => s.starts_with("420"),
                        _ => false,
                    }
            }
            TrackingFormat::DpdParcel => (n == 14 || n == 15) && all_digits(&s[..14]),
            TrackingFormat::DpdBarcode => n == 28 && all_digits(&s[7..27]),
            TrackingFormat::Gls => (n == 11 || n == 12) && digits,
            TrackingFormat::InPost => n == 24 && digits,
            TrackingFormat::Other => false,
        }
    }

    /// Whether the check digit (or character) of a number of this shape is
    /// right. Shapes that carry no check digit pass.
    fn check_ok(self, s: &str) -> bool {
        match self {
            TrackingFormat::UpuS10 => check::s10(s),
            TrackingFormat::Ups1Z => check::ups_1z(s),
            TrackingFormat::DhlExpress => check::mod7(s),
            TrackingFormat::DhlPaket => check::identcode(s),
            TrackingFormat::DhlPaketNve | TrackingFormat::FedExGround => check::gs1(s),
            TrackingFormat::FedExExpress => check::fedex_express(s),
            // The first 7 digits ("96", service container and class codes) sit
            // outside the 15-digit tracking number the check digit covers.
            TrackingFormat::FedExGround96 => s.get(7..).is_some_and(check::gs1),
            TrackingFormat::UspsImpb => check::impb(s),
            // A bare 14-digit DPD number is printed without its check character.
            TrackingFormat::DpdParcel => s.len() == 14 || check::iso7064_mod37_36(s),
            TrackingFormat::DpdBarcode => check::iso7064_mod37_36(s),
            // An 11-digit GLS number is the parcel number without its check digit.
            TrackingFormat::Gls => s.len() == 11 || check::gls(s),
            TrackingFormat::InPost | TrackingFormat::Other => true,
        }
    }

    fn label(self) -> &'static str {
        match self {
            TrackingFormat::UpuS10 => "UPU S10",
            TrackingFormat::Ups1Z => "UPS 1Z",
            TrackingFormat::DhlExpress => "DHL Express",
            TrackingFormat::DhlPaket | TrackingFormat::DhlPaketNve => "DHL Paket",
            TrackingFormat::FedExExpress => "FedEx Express",
            TrackingFormat::FedExGround | TrackingFormat::FedExGround96 => "FedEx Ground",
            TrackingFormat::UspsImpb => "USPS IMpb",
            TrackingFormat::DpdParcel | TrackingFormat::DpdBarcode => "DPD",
            TrackingFormat::Gls => "GLS",
            TrackingFormat::InPost => "InPost",
            TrackingFormat::Other => "other",
        }
    }
}

/// A carrier's formats, in the order they are tried.
struct Carrier {
    code: &'static str,
    name: &'static str,
    formats: &'static [TrackingFormat],
}

fn carrier(code: &str) -> Option<&'static Carrier> {
    let code = code.trim();
    CARRIERS.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

use self::TrackingFormat as F;

static CARRIERS: [Carrier; 10] = [
    Carrier {
        code: "dhl",
        name: "DHL",
        formats: &[F::DhlExpress, F::DhlPaket, F::DhlPaketNve, F::UpuS10],
    },
    Carrier {
        code: "dhl_express",
        name: "DHL Express",
        formats: &[F::DhlExpress],
    },
    Carrier {
        code: "dhl_paket",
        name: "DHL Paket",
        formats: &[F::DhlPaket, F::DhlPaketNve, F::UpuS10],
    },
    Carrier {
        code: "fedex",
        name: "FedEx",
        formats: &[F::FedExExpress, F::FedExGround, F::FedExGround96],
    },
    Carrier {
        code: "usps",
        name: "USPS",
        formats: &[F::UspsImpb, F::UpuS10],
    },
    Carrier {
        code: "dpd",
        name: "DPD",
        formats: &[F::DpdParcel, F::DpdBarcode],
    },
    Carrier {
        code: "gls",
        name: "GLS",
        formats: &[F::Gls],
    },
    Carrier {
        code: "inpost",
        name: "InPost",
        formats: &[F::InPost],
    },
    Carrier {
        code: "royal_mail",
        name: "Royal Mail",
        formats: &[F::UpuS10],
    },
    Carrier {
        code: "ups",
        name: "UPS",
        formats: &[F::Ups1Z],
    },
];
