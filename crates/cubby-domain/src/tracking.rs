//! Tracking numbers: normalised, and checked where the format has a check digit
//! (UPU S10 mod-11, UPS 1Z), so a typo is caught at the locker, not at the depot.

use serde::{Deserialize, Serialize};

use crate::model::Invalid;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrackingNumber(String);

/// Which known format a tracking number matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackingFormat {
    UpuS10,
    Ups1Z,
    Other,
}

impl TrackingNumber {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
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
        match detect(&s) {
            TrackingFormat::UpuS10 if !s10_ok(&s) => Err(Invalid::new(
                "tracking_number",
                "check digit does not match (UPU S10)",
            )),
            TrackingFormat::Ups1Z if !ups_ok(&s) => Err(Invalid::new(
                "tracking_number",
                "check digit does not match (UPS 1Z)",
            )),
            _ => Ok(TrackingNumber(s)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn format(&self) -> TrackingFormat {
        detect(&self.0)
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
        value.0
    }
}

fn detect(s: &str) -> TrackingFormat {
    let b = s.as_bytes();
    if b.len() == 13
        && b[..2].iter().all(u8::is_ascii_alphabetic)
        && b[2..11].iter().all(u8::is_ascii_digit)
        && b[11..].iter().all(u8::is_ascii_alphabetic)
    {
        TrackingFormat::UpuS10
    } else if b.len() == 18 && s.starts_with("1Z") {
        TrackingFormat::Ups1Z
    } else {
        TrackingFormat::Other
    }
}

fn s10_ok(s: &str) -> bool {
    const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
    let digits: Vec<u32> = s[2..11].bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = digits[..8].iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    };
    check == digits[8]
}

fn ups_ok(s: &str) -> bool {
    let body = &s.as_bytes()[2..];
    let value = |b: u8| -> u32 {
        if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            (u32::from(b) - 63) % 10
        }
    };
    let sum: u32 = body[..15]
        .iter()
        .enumerate()
        .map(|(i, &b)| if i % 2 == 0 { value(b) } else { 2 * value(b) })
        .sum();
    body[15].is_ascii_digit() && (10 - sum % 10) % 10 == value(body[15])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_examples_validate() {
        assert_eq!(
            TrackingNumber::parse("RB123456785GB").map(|t| t.format()),
            Ok(TrackingFormat::UpuS10)
        );
        assert_eq!(
            TrackingNumber::parse("1Z5R89390357567127").map(|t| t.format()),
            Ok(TrackingFormat::Ups1Z)
        );
        assert_eq!(
            TrackingNumber::parse("rb 1234 5678 5gb").map(|t| t.0),
            Ok("RB123456785GB".into())
        );
    }

    #[test]
    fn typos_are_caught() {
        assert!(TrackingNumber::parse("RB123456786GB").is_err());
        assert!(TrackingNumber::parse("1Z5R89390357567128").is_err());
        assert!(TrackingNumber::parse("ABC").is_err());
        assert!(TrackingNumber::parse("AB-123456").is_err());
        assert!(TrackingNumber::parse("JD0002249876543210").is_ok());
    }
}
