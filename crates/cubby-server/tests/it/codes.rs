//! Error codes are a contract: clients branch on them.

use cubby_domain::codes::Code;

const COMMITTED: &str = include_str!("../../../../docs/error-codes.txt");

fn committed() -> Vec<(String, u16)> {
    COMMITTED
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, status) = l.split_once(' ').expect("`name status` per line");
            (name.to_string(), status.trim().parse().expect("a status"))
        })
        .collect()
}

#[test]
fn error_codes_are_only_ever_added() {
    let committed = committed();
    let now: Vec<(String, u16)> = Code::ALL
        .iter()
        .map(|c| (c.name().to_string(), c.status()))
        .collect();
    // Every committed code is still there, with its status, in its place:
    // new codes go at the end.
    assert!(
        now.len() >= committed.len(),
        "codes were removed: the committed list has {}, the enum {}",
        committed.len(),
        now.len()
    );
    for (i, (name, status)) in committed.iter().enumerate() {
        assert_eq!(
            &now[i],
            &(name.clone(), *status),
            "code {i} was `{name}` ({status}): codes are never renamed, moved or given another status"
        );
    }
    // And every code is committed, so the next change is checked against it.
    let added: Vec<String> = now[committed.len()..]
        .iter()
        .map(|(n, s)| format!("{n} {s}"))
        .collect();
    assert!(
        added.is_empty(),
        "new codes: append these lines to docs/error-codes.txt:\n{}",
        added.join("\n")
    );
}

#[test]
fn error_codes_are_unique_well_formed_and_described() {
    let mut seen = std::collections::HashSet::new();
    for c in Code::ALL {
        assert!(seen.insert(c.name()), "{} twice", c.name());
        assert!(
            c.name()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{} is not snake_case",
            c.name()
        );
        assert!(
            (400..600).contains(&c.status()),
            "{}: {}",
            c.name(),
            c.status()
        );
        assert!(
            !c.description().is_empty(),
            "{} has no description",
            c.name()
        );
    }
}

#[test]
fn the_openapi_document_lists_every_error_code() {
    let doc: serde_json::Value =
        serde_json::from_str(&cubby_server::api::openapi_json()).expect("JSON");
    let listed: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("an ErrorCode enum")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let all: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(listed, all);
}
