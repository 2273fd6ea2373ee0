//! Topic names, topic filters and matching (MQTT 3.1.1 §4.7).

/// Maximum length of a topic name or filter: it is encoded with a u16 length prefix.
const MAX_TOPIC_BYTES: usize = 65_535;

/// `true` if `topic` is a valid topic name for PUBLISH: non-empty, at most
/// 65,535 bytes, no wildcard characters and no NUL (§4.7.3, §1.5.3).
pub(crate) fn is_valid_topic_name(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= MAX_TOPIC_BYTES && !topic.contains(['+', '#', '\0'])
}

/// `true` if `filter` is a valid topic filter for SUBSCRIBE/UNSUBSCRIBE:
/// non-empty, no NUL, `+` only as a whole level, `#` only as the whole last level.
pub(crate) fn is_valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.len() > MAX_TOPIC_BYTES || filter.contains('\0') {
        return false;
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let is_last = levels.peek().is_none();
        if level.contains('#') && (level != "#" || !is_last) {
            return false;
        }
        if level.contains('+') && level != "+" {
            return false;
        }
    }
    true
}

/// Whether the topic filter `filter` matches the topic name `topic`.
///
/// Implements MQTT 3.1.1 §4.7: `+` matches exactly one level (possibly empty),
/// `#` matches any number of levels *including the parent level* (so `sport/#`
/// matches `sport`), and filters starting with a wildcard do not match topics
/// starting with `$` (so `#` does not see `$SYS/...`). Invalid filters or topic
/// names never match, which makes this safe to use in ACL checks.
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    if !is_valid_filter(filter) || !is_valid_topic_name(topic) {
        return false;
    }
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut filter_levels = filter.split('/');
    let mut topic_levels = topic.split('/');
    loop {
        match (filter_levels.next(), topic_levels.next()) {
            // Validity guarantees `#` is last; it also covers "no level left" (parent match).
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(f), Some(t)) if f == t => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_name_validity() {
        assert!(is_valid_topic_name("a"));
        assert!(is_valid_topic_name("/"));
        assert!(is_valid_topic_name("$SYS/x"));
        assert!(!is_valid_topic_name(""));
        assert!(!is_valid_topic_name("a/+"));
        assert!(!is_valid_topic_name("a/#"));
        assert!(!is_valid_topic_name("a\0b"));
    }

    #[test]
    fn filter_validity() {
        for ok in [
            "#",
            "+",
            "a/#",
            "+/+",
            "/+",
            "a//b",
            "sport/+/player1",
            "+/tennis/#",
            "/",
        ] {
            assert!(is_valid_filter(ok), "{ok} should be valid");
        }
        for bad in [
            "",
            "sport/tennis#",
            "sport/tennis/#/ranking",
            "sport+",
            "#/a",
            "a/b#",
            "a+/b",
            "a\0",
        ] {
            assert!(!is_valid_filter(bad), "{bad} should be invalid");
        }
    }

    #[test]
    fn matching_basics() {
        assert!(topic_matches("a/b", "a/b"));
        assert!(!topic_matches("a/b", "a/b/c"));
        assert!(!topic_matches("a/b/c", "a/b"));
        assert!(topic_matches("sport/#", "sport"));
        assert!(topic_matches("#", "a/b/c"));
        assert!(!topic_matches("#", "$SYS/x"));
        assert!(topic_matches("$SYS/#", "$SYS/x"));
        assert!(
            !topic_matches("a/+", "a/+"),
            "wildcards are not valid in topic names"
        );
        assert!(!topic_matches("a/b#", "a/b"), "invalid filters never match");
    }
}
