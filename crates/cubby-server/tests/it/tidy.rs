//! The server's layers, held by reading its source (as rust-analyzer's tidy
//! tests do): HTTP adapters (`api/`, `web/`) call use cases (`app/`), which
//! call `auth/` and the store; workers (the scheduler, the retention job,
//! the device link, the outbox and webhook senders) call `app/` too. Nothing calls upward or
//! sideways between adapters, and no two modules import each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The server's top-level modules that take part in the layering. `lib.rs`
/// (the composition root: state, start-up, the router that mounts both
/// adapters) is left out on purpose.
const MODULES: &[&str] = &[
    "api",
    "app",
    "auth",
    "devices",
    "error",
    "outbox",
    "retention",
    "scheduler",
    "web",
    "webhooks",
    "write",
];

/// Who may not name whom.
const FORBIDDEN: &[(&str, &str, &str)] = &[
    ("web", "api", "web pages call app/, never an API handler"),
    ("app", "api", "use cases know nothing of HTTP handlers"),
    ("app", "web", "use cases know nothing of pages"),
    ("auth", "api", "authentication sits below the adapters"),
    ("auth", "web", "authentication sits below the adapters"),
    ("auth", "app", "authentication sits below the use cases"),
    ("scheduler", "api", "workers call app/"),
    ("devices", "api", "workers call app/"),
    ("outbox", "api", "workers call app/"),
    ("webhooks", "api", "workers call app/"),
    ("api", "web", "adapters never call each other"),
    ("app", "scheduler", "use cases do not reach into workers"),
    ("app", "retention", "use cases do not reach into workers"),
    ("retention", "api", "workers call app/"),
    ("retention", "web", "workers call app/"),
    ("scheduler", "web", "workers call app/"),
    ("devices", "web", "workers call app/"),
    ("outbox", "web", "workers call app/"),
    ("webhooks", "web", "workers call app/"),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`None` for `lib.rs`).
fn module_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib").then(|| name.to_string())
}

/// Every top-level module a piece of source names through `crate::`, with
/// `use crate::{a, b::c}` groups opened. Comments are skipped.
fn named_modules(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let head: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.insert(head);
            }
        } else {
            let head: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(head);
        }
        rest = after;
    }
    found.retain(|m| MODULES.contains(&m.as_str()));
    found
}

/// Module → the modules its files name.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("read source");
        let mut named = named_modules(&text);
        named.remove(&module);
        graph.entry(module).or_default().extend(named);
    }
    graph
}

fn violations(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for (from, to, why) in FORBIDDEN {
        if graph.get(*from).is_some_and(|n| n.contains(*to)) {
            out.push(format!("{from}/ names crate::{to}: {why}"));
        }
    }
    for (a, named) in graph {
        for b in named {
            if a < b && graph.get(b).is_some_and(|n| n.contains(a)) {
                out.push(format!("{a} and {b} import each other"));
            }
        }
    }
    out
}

#[test]
fn the_server_keeps_its_layers() {
    let found = violations(&graph());
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
}

#[test]
fn the_layering_check_catches_a_page_calling_an_api_handler() {
    // The check itself must be able to fail: a `use crate::api` placed in
    // web/ is caught, and so is a circle.
    let mut graph = graph();
    let planted = named_modules("use crate::{AppState, api::parcels::deposit};");
    assert!(planted.contains("api"));
    graph.entry("web".into()).or_default().extend(planted);
    let found = violations(&graph);
    assert!(
        found.iter().any(|v| v.starts_with("web/ names crate::api")),
        "{found:?}"
    );
    graph
        .entry("auth".into())
        .or_default()
        .insert("write".into());
    graph
        .entry("write".into())
        .or_default()
        .insert("auth".into());
    assert!(
        violations(&graph)
            .iter()
            .any(|v| v.contains("import each other")),
        "a circle went unseen"
    );
}

/// The functions of `text`, as `(name, body)`: each `fn` up to the next.
fn functions(text: &str) -> Vec<(String, String)> {
    let starts: Vec<usize> = text.match_indices("fn ").map(|(i, _)| i).collect();
    starts
        .iter()
        .enumerate()
        .map(|(n, &i)| {
            let end = starts.get(n + 1).copied().unwrap_or(text.len());
            let name: String = text[i + 3..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (name, text[i..end].to_string())
        })
        .collect()
}

/// The use cases that can queue an unlock; each asks `authorise_release`.
const UNLOCKING_USE_CASES: &[&str] = &[
    "app::parcels::deposit",
    "app::devices::remote_open",
    "app::devices::return_to_carrier",
    "app::devices::approve_bulk_open",
];

/// Every unlock the server queues is queued by one of the
/// [`UNLOCKING_USE_CASES`], after `authorise_release` said yes; and the
/// HTTP entry points into them are exactly those `authority.rs` attacks.
#[test]
fn every_path_that_queues_an_unlock_asks_authorise_release_first() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut queuing = BTreeSet::new();
    let mut entry_points = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source");
        let rel = file
            .strip_prefix(src())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        for (name, body) in functions(&text) {
            if let Some(at) = body.find("queue_unlock(")
                && !name.starts_with("queue_unlock")
            {
                let module = rel.trim_end_matches(".rs").replace('/', "::");
                queuing.insert(format!("{module}::{name}"));
                let asked = body.find("authorise_release(");
                assert!(
                    asked.is_some_and(|a| a < at),
                    "{rel}: {name} queues an unlock without asking authorise_release first"
                );
            }
            if rel.starts_with("api/") || rel.starts_with("web/") {
                for use_case in UNLOCKING_USE_CASES {
                    let short = use_case.trim_start_matches("app::");
                    if body.contains(&format!("{short}(")) || body.contains(&format!("{use_case}("))
                    {
                        entry_points.insert(format!("{rel}::{name}"));
                    }
                }
            }
        }
    }
    let expected: BTreeSet<String> = UNLOCKING_USE_CASES.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        queuing, expected,
        "the use cases that queue unlocks changed"
    );
    // Each of these is tried without its authority in authority.rs
    // (`no_route_queues_an_unlock_without_its_authority`); the web forms
    // reach the same use cases.
    let expected_entry_points: BTreeSet<String> = [
        "api/parcels.rs::deposit",
        "api/devices.rs::open_compartment",
        "api/returns.rs::return_parcel",
        "api/devices.rs::approve_bulk_open",
        "web/courier.rs::deposit",
        "web/lockers.rs::open_remotely",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(entry_points, expected_entry_points);
}
