//! The server's layers, held by reading its source (as rust-analyzer's tidy
//! tests do): HTTP adapters (`api/`, `web/`) call use cases (`app/`), which
//! call `auth/` and the store; workers (the scheduler, the device link, the
//! outbox and webhook senders) call `app/` too. Nothing calls upward or
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
