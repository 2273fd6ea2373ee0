//! `topic_matches` against the examples of MQTT 3.1.1 §4.7.

use cubby_broker::topic_matches;

#[test]
fn spec_examples_table() {
    let table: &[(&str, &str, bool)] = &[
        // §4.7.1.2 multi-level wildcard
        ("sport/tennis/player1/#", "sport/tennis/player1", true),
        (
            "sport/tennis/player1/#",
            "sport/tennis/player1/ranking",
            true,
        ),
        (
            "sport/tennis/player1/#",
            "sport/tennis/player1/score/wimbledon",
            true,
        ),
        ("sport/#", "sport", true),
        ("#", "sport/tennis/player1", true),
        ("#", "/", true),
        // invalid filters never match
        ("sport/tennis#", "sport/tennis", false),
        (
            "sport/tennis/#/ranking",
            "sport/tennis/player1/ranking",
            false,
        ),
        // §4.7.1.3 single-level wildcard
        ("sport/tennis/+", "sport/tennis/player1", true),
        ("sport/tennis/+", "sport/tennis/player2", true),
        ("sport/tennis/+", "sport/tennis/player1/ranking", false),
        ("sport/+", "sport", false),
        ("sport/+", "sport/", true),
        ("+/+", "/finance", true),
        ("/+", "/finance", true),
        ("+", "/finance", false),
        ("+/tennis/#", "sport/tennis/player1", true),
        ("sport/+/player1", "sport/tennis/player1", true),
        ("sport+", "sport", false),
        // §4.7.2 topics beginning with $
        ("#", "$SYS/broker/clients", false),
        ("+/monitor/Clients", "$SYS/monitor/Clients", false),
        ("$SYS/#", "$SYS/monitor/Clients", true),
        ("$SYS/monitor/+", "$SYS/monitor/Clients", true),
        ("$SYS/+/Clients", "$SYS/monitor/Clients", true),
        // §4.7.3 case sensitivity, empty levels, exact match
        ("ACCOUNTS", "Accounts", false),
        ("a/b", "a/b", true),
        ("a//b", "a//b", true),
        ("a/+/b", "a//b", true),
        ("a/b", "a/b/", false),
        ("/", "/", true),
        // the fleet's own layout
        ("cubby/v1/dev/dev-1/#", "cubby/v1/dev/dev-1/cmd/open", true),
        (
            "cubby/v1/dev/dev-1/#",
            "cubby/v1/dev/dev-10/cmd/open",
            false,
        ),
        ("cubby/v1/dev/+/status", "cubby/v1/dev/dev-7/status", true),
        // wildcards are not allowed in topic names
        ("a/+", "a/+", false),
        ("#", "a/#", false),
        ("", "a", false),
        ("a", "", false),
    ];
    for &(filter, topic, expected) in table {
        assert_eq!(
            topic_matches(filter, topic),
            expected,
            "filter {filter:?} vs topic {topic:?}"
        );
    }
}
