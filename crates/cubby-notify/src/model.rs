//! The message model: what a notification is about, in which language, for whom.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What happened, i.e. which template family renders the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A parcel was deposited: carries the pick-up code and the QR token.
    ParcelReady,
    /// Reminder that a parcel is still waiting (before it expires).
    Reminder,
    /// The parcel's pick-up window ends today.
    ExpiringToday,
    /// The pick-up window ended; the parcel moved to the return queue.
    Expired,
    /// The parcel was handed back to the carrier.
    ReturnedToCarrier,
    /// A vacation / hold request was confirmed.
    HoldConfirmed,
    /// A new pick-up code was issued (the old one no longer works).
    CodeReissued,
    /// To staff: a parcel is past the site's threshold. Unit and locker only.
    Escalation,
}

impl NoticeKind {
    /// Every kind, in declaration order.
    pub const ALL: [NoticeKind; 8] = [
        NoticeKind::ParcelReady,
        NoticeKind::Reminder,
        NoticeKind::ExpiringToday,
        NoticeKind::Expired,
        NoticeKind::ReturnedToCarrier,
        NoticeKind::HoldConfirmed,
        NoticeKind::CodeReissued,
        NoticeKind::Escalation,
    ];

    /// The stable snake_case name (as stored in JSON and used in template names).
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::ParcelReady => "parcel_ready",
            NoticeKind::Reminder => "reminder",
            NoticeKind::ExpiringToday => "expiring_today",
            NoticeKind::Expired => "expired",
            NoticeKind::ReturnedToCarrier => "returned_to_carrier",
            NoticeKind::HoldConfirmed => "hold_confirmed",
            NoticeKind::CodeReissued => "code_reissued",
            NoticeKind::Escalation => "escalation",
        }
    }

    /// Parses the snake_case name; `None` for anything else.
    pub fn parse(name: &str) -> Option<NoticeKind> {
        NoticeKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A language we ship templates for. Anything else falls back to English.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(from = "String", into = "String")]
pub enum Language {
    /// English (the fallback).
    #[default]
    En,
    /// Spanish.
    Es,
    /// Polish.
    Pl,
    /// German.
    De,
}

impl Language {
    /// Every language, in declaration order.
    pub const ALL: [Language; 4] = [Language::En, Language::Es, Language::Pl, Language::De];

    /// Parses a language tag: `"es"`, `"ES"`, `"es-MX"` and `"es_MX"` are Spanish.
    /// Anything unknown or empty is English.
    pub fn parse(tag: &str) -> Language {
        let primary = tag
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "es" => Language::Es,
            "pl" => Language::Pl,
            "de" => Language::De,
            _ => Language::En,
        }
    }

    /// The two-letter code.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
            Language::Pl => "pl",
            Language::De => "de",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for Language {
    fn from(tag: String) -> Self {
        Language::parse(&tag)
    }
}

impl From<Language> for String {
    fn from(lang: Language) -> Self {
        lang.as_str().to_owned()
    }
}

/// One notification, as stored in an outbox row (JSON) and rendered by
/// [`render`](crate::render).
///
/// There is deliberately no field for an item description, a merchant or a
/// tracking number: a notice cannot leak what it does not hold. Unknown JSON
/// fields are ignored on deserialisation (and so dropped).
///
/// `Debug` redacts `code` and `qr_token`, so a notice can be logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Which template family.
    pub kind: NoticeKind,
    /// Recipient's language.
    #[serde(default)]
    pub language: Language,
    /// How to address the recipient (resident, or staff member for escalations).
    pub recipient_name: String,
    /// The site (building) name.
    pub site_name: String,
    /// The locker bank / parcel room name.
    pub locker_name: String,
    /// The keypad pick-up code, if this notice carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The QR / app token; rendered only as an inline image, never as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_token: Option<String>,
    /// Pick-up deadline, already formatted in the site's time zone and the
    /// recipient's language by the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_local: Option<String>,
    /// How many parcels the notice is about (at least 1 for parcel notices).
    #[serde(default = "one")]
    pub parcel_count: u32,
    /// The resident's unit (escalations to staff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Days the parcel has been waiting (escalations to staff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_waiting: Option<u32>,
    /// End of a hold / vacation period, already formatted (hold_confirmed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_until_local: Option<String>,
    /// The carrier a parcel was returned to (returned_to_carrier), e.g. "DHL".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier_name: Option<String>,
}

fn one() -> u32 {
    1
}

impl Notice {
    /// A notice with the required fields and every optional one empty.
    pub fn new(
        kind: NoticeKind,
        language: Language,
        recipient_name: impl Into<String>,
        site_name: impl Into<String>,
        locker_name: impl Into<String>,
    ) -> Notice {
        Notice {
            kind,
            language,
            recipient_name: recipient_name.into(),
            site_name: site_name.into(),
            locker_name: locker_name.into(),
            code: None,
            qr_token: None,
            expires_at_local: None,
            parcel_count: 1,
            unit: None,
            days_waiting: None,
            hold_until_local: None,
            carrier_name: None,
        }
    }

    /// Serialises for an outbox row.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Reads an outbox row.
    pub fn from_json(json: &str) -> Result<Notice, serde_json::Error> {
        serde_json::from_str(json)
    }
}

fn redacted(v: &Option<String>) -> &'static str {
    if v.is_some() {
        "Some(<redacted>)"
    } else {
        "None"
    }
}

impl fmt::Debug for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notice")
            .field("kind", &self.kind)
            .field("language", &self.language)
            .field("recipient_name", &self.recipient_name)
            .field("site_name", &self.site_name)
            .field("locker_name", &self.locker_name)
            .field("code", &format_args!("{}", redacted(&self.code)))
            .field("qr_token", &format_args!("{}", redacted(&self.qr_token)))
            .field("expires_at_local", &self.expires_at_local)
            .field("parcel_count", &self.parcel_count)
            .field("unit", &self.unit)
            .field("days_waiting", &self.days_waiting)
            .field("hold_until_local", &self.hold_until_local)
            .field("carrier_name", &self.carrier_name)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_parse_and_fallback() {
        assert_eq!(Language::parse("en"), Language::En);
        assert_eq!(Language::parse("es"), Language::Es);
        assert_eq!(Language::parse("pl"), Language::Pl);
        assert_eq!(Language::parse("de"), Language::De);
        assert_eq!(Language::parse("DE-at"), Language::De);
        assert_eq!(Language::parse("es_MX"), Language::Es);
        assert_eq!(Language::parse("fr"), Language::En);
        assert_eq!(Language::parse(""), Language::En);
    }

    #[test]
    fn kind_names_round_trip() {
        for k in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(NoticeKind::parse("nope"), None);
    }

    #[test]
    fn json_round_trip_and_unknown_language_falls_back() {
        let mut n = Notice::new(NoticeKind::ParcelReady, Language::Pl, "Ala", "Site", "L1");
        n.code = Some("12345678".into());
        let json = n.to_json().unwrap();
        assert!(json.contains("\"language\":\"pl\""), "{json}");
        assert_eq!(Notice::from_json(&json).unwrap(), n);

        let row = r#"{"kind":"reminder","language":"fr","recipient_name":"A",
            "site_name":"S","locker_name":"L","merchant":"ACME"}"#;
        let n = Notice::from_json(row).unwrap();
        assert_eq!(n.language, Language::En);
        assert_eq!(n.parcel_count, 1);
    }

    #[test]
    fn debug_redacts_secrets() {
        let mut n = Notice::new(NoticeKind::ParcelReady, Language::En, "A", "S", "L");
        n.code = Some("87654321".into());
        n.qr_token = Some("tok-secret".into());
        let dbg = format!("{n:?}");
        assert!(!dbg.contains("87654321"), "{dbg}");
        assert!(!dbg.contains("tok-secret"), "{dbg}");
        assert!(dbg.contains("redacted"));
    }
}
