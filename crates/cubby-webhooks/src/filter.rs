//! Which event types a subscription wants: exact names, `group.*` wildcards, or `*`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::events::EventType;

/// Most patterns one filter may hold.
pub const MAX_PATTERNS: usize = 64;

/// One entry of a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pattern {
    /// `*`: every type, including types added later.
    All,
    /// `parcel.*`: every type whose name starts with `parcel.` (stored
    /// without the `*`), including types added later.
    Prefix(String),
    /// One exact type.
    Exact(EventType),
}

impl Pattern {
    pub fn matches(&self, t: EventType) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Prefix(prefix) => t.as_str().starts_with(prefix.as_str()),
            Pattern::Exact(e) => *e == t,
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::All => f.write_str("*"),
            Pattern::Prefix(p) => write!(f, "{p}*"),
            Pattern::Exact(t) => f.write_str(t.as_str()),
        }
    }
}

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error(
        "event filter is empty: list at least one event type, a wildcard such as \"parcel.*\", or \"*\""
    )]
    Empty,
    #[error("event filter has {0} entries; at most 64 are allowed")]
    TooMany(usize),
    #[error("unknown event type {0:?} in filter (known: {known})", known = known_types())]
    UnknownType(String),
    #[error("wildcard {0:?} matches no event type (wildcards look like \"parcel.*\")")]
    NoMatch(String),
    #[error("{0:?} is not a valid filter entry: use an event type, \"group.*\" or \"*\"")]
    Malformed(String),
}

fn known_types() -> String {
    EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A subscription's choice of event types. Serialised as a list of strings
/// (`["parcel.*", "locker.door_forced"]`), canonical (sorted, without duplicates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct EventFilter {
    patterns: Vec<Pattern>,
}

impl EventFilter {
    /// Every event type (`*`).
    pub fn all() -> EventFilter {
        EventFilter {
            patterns: vec![Pattern::All],
        }
    }

    /// Exactly these types.
    pub fn only(types: &[EventType]) -> EventFilter {
        EventFilter::canonical(types.iter().copied().map(Pattern::Exact).collect())
    }

    /// Reads a list of entries: an exact type name (`parcel.deposited`), a
    /// wildcard over a dotted prefix (`parcel.*`) or `*`. Entries are trimmed;
    /// unknown names and wildcards that match nothing are refused, so a typo
    /// does not silently subscribe to nothing.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<EventFilter, FilterError> {
        if entries.is_empty() {
            return Err(FilterError::Empty);
        }
        if entries.len() > MAX_PATTERNS {
            return Err(FilterError::TooMany(entries.len()));
        }
        let mut patterns = Vec::with_capacity(entries.len());
        for entry in entries {
            patterns.push(parse_pattern(entry.as_ref().trim())?);
        }
        Ok(EventFilter::canonical(patterns))
    }

    /// Sorted by text, without duplicates; `*` swallows everything else.
    fn canonical(mut patterns: Vec<Pattern>) -> EventFilter {
        if patterns.contains(&Pattern::All) {
            return EventFilter::all();
        }
        patterns.sort_by_cached_key(Pattern::to_string);
        patterns.dedup();
        EventFilter { patterns }
    }

    /// Whether an event of type `t` goes to this subscription.
    pub fn matches(&self, t: EventType) -> bool {
        self.patterns.iter().any(|p| p.matches(t))
    }

    /// The types this filter lets through today.
    pub fn matching_types(&self) -> Vec<EventType> {
        EventType::ALL
            .iter()
            .copied()
            .filter(|&t| self.matches(t))
            .collect()
    }

    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// The canonical list of entries.
    pub fn to_strings(&self) -> Vec<String> {
        self.patterns.iter().map(Pattern::to_string).collect()
    }
}

fn parse_pattern(entry: &str) -> Result<Pattern, FilterError> {
    if entry == "*" {
        return Ok(Pattern::All);
    }
    if let Some(prefix) = entry.strip_suffix('*') {
        let well_formed = prefix.ends_with('.')
            && prefix.len() > 1
            && !prefix.contains('*')
            && !prefix.starts_with('.')
            && !prefix.contains("..")
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
        if !well_formed {
            return Err(FilterError::Malformed(entry.to_owned()));
        }
        if !EventType::ALL
            .iter()
            .any(|t| t.as_str().starts_with(prefix))
        {
            return Err(FilterError::NoMatch(entry.to_owned()));
        }
        return Ok(Pattern::Prefix(prefix.to_owned()));
    }
    if entry.contains('*') {
        return Err(FilterError::Malformed(entry.to_owned()));
    }
    EventType::parse(entry)
        .map(Pattern::Exact)
        .map_err(|_| FilterError::UnknownType(entry.to_owned()))
}

impl TryFrom<Vec<String>> for EventFilter {
    type Error = FilterError;
    fn try_from(entries: Vec<String>) -> Result<EventFilter, FilterError> {
        EventFilter::parse(&entries)
    }
}

impl From<EventFilter> for Vec<String> {
    fn from(filter: EventFilter) -> Vec<String> {
        filter.to_strings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_wildcard_and_all() {
        let f = EventFilter::parse(&["parcel.*", "locker.door_forced"]).unwrap();
        assert!(f.matches(EventType::ParcelDeposited));
        assert!(f.matches(EventType::ParcelReturned));
        assert!(f.matches(EventType::LockerDoorForced));
        assert!(!f.matches(EventType::LockerOffline));
        assert!(!f.matches(EventType::AccessGranted));
        let all = EventFilter::parse(&["*"]).unwrap();
        assert!(EventType::ALL.iter().all(|&t| all.matches(t)));
        assert_eq!(all, EventFilter::all());
        assert_eq!(
            EventFilter::parse(&["parcel.expired", "*"]).unwrap(),
            EventFilter::all()
        );
        let one = EventFilter::only(&[EventType::AccessDenied]);
        assert_eq!(one.matching_types(), vec![EventType::AccessDenied]);
    }

    #[test]
    fn every_group_wildcard_matches_exactly_its_group() {
        for group in ["parcel", "locker", "access", "incident"] {
            let f = EventFilter::parse(&[format!("{group}.*")]).unwrap();
            for &t in EventType::ALL {
                assert_eq!(f.matches(t), t.group() == group, "{group}.* vs {t}");
            }
        }
    }

    #[test]
    fn bad_entries_are_refused_with_clear_errors() {
        let empty: [&str; 0] = [];
        assert_eq!(EventFilter::parse(&empty), Err(FilterError::Empty));
        assert_eq!(
            EventFilter::parse(&["parcel.lost"]),
            Err(FilterError::UnknownType("parcel.lost".into()))
        );
        let msg = EventFilter::parse(&["parcel.lost"])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("parcel.deposited"), "{msg}");
        assert_eq!(
            EventFilter::parse(&["billing.*"]),
            Err(FilterError::NoMatch("billing.*".into()))
        );
        for bad in [
            "parcel*",
            "parcel.*.x",
            "*.deposited",
            "par*cel.x",
            ".*",
            "Parcel.*",
            "**",
        ] {
            assert!(EventFilter::parse(&[bad]).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..65).map(|_| "*".to_owned()).collect();
        assert_eq!(EventFilter::parse(&many), Err(FilterError::TooMany(65)));
    }

    #[test]
    fn serialises_as_a_canonical_list() {
        let f = EventFilter::parse(&[" parcel.* ", "access.denied", "parcel.*"]).unwrap();
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, r#"["access.denied","parcel.*"]"#);
        let back: EventFilter = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
        assert!(serde_json::from_str::<EventFilter>(r#"["nope"]"#).is_err());
        assert!(serde_json::from_str::<EventFilter>("[]").is_err());
    }
}
