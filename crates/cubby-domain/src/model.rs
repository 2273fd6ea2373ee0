//! The things Cubby manages, as values. Constructors validate, so a value that
//! exists is a value that is allowed.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a value was refused; `field` names the input that was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = Invalid;
            fn from_str(s: &str) -> Result<Self, Invalid> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Invalid::new(stringify!($name), format!(
                        "unknown value {s:?}; expected one of: {}",
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }
    };
}

string_enum!(
    /// Temperature zone of a compartment, and the zone a parcel needs.
    TemperatureZone { Ambient => "ambient", Chilled => "chilled", Frozen => "frozen" }
);

string_enum!(
    /// Status a manager sets on a compartment. Whether it is occupied is not stored
    /// here: it follows from the parcels inside (see [`CompartmentState`]).
    CompartmentStatus { Available => "available", Reserved => "reserved", OutOfService => "out_of_service" }
);

string_enum!(
    /// What a compartment is right now, as shown to people.
    CompartmentState { Available => "available", Reserved => "reserved", Occupied => "occupied", OutOfService => "out_of_service" }
);

string_enum!(
    /// Size class, by inner height, on the InPost-like A/B/C/D scale.
    SizeClass { A => "a", B => "b", C => "c", D => "d" }
);

string_enum!(
    /// Who an API token acts for. Admins span organisations; everyone else is
    /// confined to one organisation.
    Role { Admin => "admin", Manager => "manager", Concierge => "concierge", Carrier => "carrier", Courier => "courier", Resident => "resident" }
);

string_enum!(
    /// Language of a resident's notifications.
    Language { En => "en", Es => "es", Pl => "pl", De => "de" }
);

impl SizeClass {
    /// Classify by the smallest inner side (what limits a parcel's thickness),
    /// with the InPost A/B/C heights (80, 190, 410 mm) as boundaries.
    pub fn for_inner(dims: &crate::dims::Dimensions) -> SizeClass {
        let smallest = dims.width_mm.min(dims.height_mm).min(dims.depth_mm);
        match smallest {
            0..=80 => SizeClass::A,
            81..=190 => SizeClass::B,
            191..=410 => SizeClass::C,
            _ => SizeClass::D,
        }
    }
}

/// An IANA time zone name, checked against the tz database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timezone(String);

impl Timezone {
    pub fn parse(name: &str) -> Result<Self, Invalid> {
        name.parse::<chrono_tz::Tz>()
            .map(|tz| Timezone(tz.name().to_string()))
            .map_err(|_| {
                Invalid::new(
                    "timezone",
                    format!("{name:?} is not an IANA time zone such as Europe/Warsaw"),
                )
            })
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wall-clock time at the site for a UTC instant in milliseconds.
    pub fn local_time(&self, at_ms: i64) -> Option<chrono::NaiveDateTime> {
        let tz: chrono_tz::Tz = self.0.parse().ok()?;
        chrono::DateTime::from_timestamp_millis(at_ms).map(|t| t.with_timezone(&tz).naive_local())
    }
}

impl TryFrom<String> for Timezone {
    type Error = Invalid;
    fn try_from(value: String) -> Result<Self, Invalid> {
        Timezone::parse(&value)
    }
}

impl From<Timezone> for String {
    fn from(value: Timezone) -> String {
        value.0
    }
}

/// A human-entered name or label: trimmed, non-empty, bounded, no control characters.
pub fn clean_text(field: &'static str, value: &str, max_chars: usize) -> Result<String, Invalid> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(Invalid::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(Invalid::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_string())
}

/// A plausible e-mail address: one `@`, something on both sides, a dot in the domain.
pub fn clean_email(value: &str) -> Result<String, Invalid> {
    let v = clean_text("email", value, 254)?;
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !v.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    };
    if ok {
        Ok(v)
    } else {
        Err(Invalid::new("email", "is not an e-mail address"))
    }
}

/// A phone number in E.164 form (`+` and 8 to 15 digits), spaces and dashes removed.
pub fn clean_phone(value: &str) -> Result<String, Invalid> {
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(compact)
    } else {
        Err(Invalid::new(
            "phone",
            "must be in international form, e.g. +48 601 234 567",
        ))
    }
}

/// Heights above the floor a resident can reach, in mm (e.g. 381–1219 for the
/// ADA 15–48 in band). Allocation prefers compartments inside the band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReachBand {
    pub min_mm: u32,
    pub max_mm: u32,
}

impl ReachBand {
    pub fn new(min_mm: u32, max_mm: u32) -> Result<Self, Invalid> {
        if min_mm > max_mm || max_mm > 3_000 {
            return Err(Invalid::new("reach", "min_mm must be ≤ max_mm ≤ 3000"));
        }
        Ok(Self { min_mm, max_mm })
    }
    pub fn contains(&self, height_mm: u32) -> bool {
        (self.min_mm..=self.max_mm).contains(&height_mm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dims::Dimensions;

    #[test]
    fn timezone_is_checked() {
        assert_eq!(
            Timezone::parse("Europe/Warsaw").map(|t| t.0),
            Ok("Europe/Warsaw".into())
        );
        assert!(Timezone::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn size_classes_follow_inpost() {
        assert_eq!(
            SizeClass::for_inner(&Dimensions::new(380, 80, 640)),
            SizeClass::A
        );
        assert_eq!(
            SizeClass::for_inner(&Dimensions::new(380, 190, 640)),
            SizeClass::B
        );
        assert_eq!(
            SizeClass::for_inner(&Dimensions::new(380, 410, 640)),
            SizeClass::C
        );
        assert_eq!(
            SizeClass::for_inner(&Dimensions::new(500, 500, 800)),
            SizeClass::D
        );
    }

    #[test]
    fn contact_details_are_checked() {
        assert!(clean_email("ana@example.org").is_ok());
        assert!(clean_email("ana@example").is_err());
        assert!(clean_email("a na@example.org").is_err());
        assert_eq!(clean_phone("+48 601-234-567"), Ok("+48601234567".into()));
        assert!(clean_phone("601234567").is_err());
        assert!(clean_text("name", "  ", 10).is_err());
        assert!(clean_text("name", "a\u{0}b", 10).is_err());
    }

    #[test]
    fn enums_round_trip() {
        for z in TemperatureZone::ALL {
            assert_eq!(z.as_str().parse::<TemperatureZone>(), Ok(*z));
        }
        assert!("warm".parse::<TemperatureZone>().is_err());
    }
}

/// A name folded for matching what a courier typed against residents' names:
/// lower case, letters and digits only, words in order. Diacritics are kept
/// (ł and l are different letters to the people who own them).
pub fn name_key(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Picks the resident a typed name means among `(id, name_key)` candidates of one
/// unit: an exact key match, else the only one sharing a word of the typed name
/// (e.g. a surname). Ambiguity is no match: a wrong guess would hand a parcel to the
/// wrong person.
pub fn match_recipient<'a>(typed: &str, candidates: &'a [(String, String)]) -> Option<&'a str> {
    let key = name_key(typed);
    if key.is_empty() {
        return None;
    }
    if let Some((id, _)) = candidates.iter().find(|(_, k)| *k == key) {
        return Some(id);
    }
    let words: Vec<&str> = key.split(' ').filter(|w| w.len() >= 2).collect();
    let mut sharing = candidates
        .iter()
        .filter(|(_, k)| k.split(' ').any(|w| words.contains(&w)));
    match (sharing.next(), sharing.next()) {
        (Some((id, _)), None) => Some(id),
        _ => None,
    }
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn fuzzy_recipient_match() {
        let c = vec![
            ("r1".to_string(), name_key("Anna Kowalska")),
            ("r2".to_string(), name_key("Jan Nowak")),
        ];
        assert_eq!(match_recipient("anna  KOWALSKA", &c), Some("r1"));
        assert_eq!(match_recipient("A. Kowalska", &c), Some("r1"));
        assert_eq!(match_recipient("Piotr Wiśniewski", &c), None);
        let twins = vec![
            ("r1".to_string(), name_key("Anna Nowak")),
            ("r2".to_string(), name_key("Jan Nowak")),
        ];
        assert_eq!(match_recipient("Nowak", &twins), None);
    }
}
