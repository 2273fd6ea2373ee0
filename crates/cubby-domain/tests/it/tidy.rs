//! Tidy: the domain stays pure. Its normal (non-dev, non-build) dependency closure,
//! as cargo resolves it, must not contain an async runtime, a database driver or
//! an HTTP stack.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::process::Command;

use serde_json::Value;

const FORBIDDEN: &[&str] = &[
    "tokio",
    "sqlx",
    "sqlx-core",
    "axum",
    "hyper",
    "reqwest",
    "mio",
];

struct Metadata {
    /// package id → package name
    names: BTreeMap<String, String>,
    /// package id → (dependency package id, whether any of its kinds is normal)
    edges: BTreeMap<String, Vec<(String, bool)>>,
    json: Value,
}

fn metadata() -> Metadata {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("could not run `cargo metadata`");
    assert!(
        out.status.success(),
        "`cargo metadata --format-version 1` failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value =
        serde_json::from_slice(&out.stdout).expect("cargo metadata printed invalid JSON");

    let names = json["packages"]
        .as_array()
        .expect("metadata has packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let edges = json["resolve"]["nodes"]
        .as_array()
        .expect("metadata has a resolve graph")
        .iter()
        .map(|node| {
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    // `kind` is null for a normal dependency, "dev" or "build" otherwise.
                    let normal = d["dep_kinds"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|k| k["kind"].is_null());
                    (d["pkg"].as_str().unwrap().to_string(), normal)
                })
                .collect();
            (node["id"].as_str().unwrap().to_string(), deps)
        })
        .collect();
    Metadata { names, edges, json }
}

impl Metadata {
    fn id_of(&self, name: &str) -> Option<String> {
        // A workspace member of that name (a registry crate could share it).
        let members: BTreeSet<&str> = self.json["workspace_members"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        self.names
            .iter()
            .find(|(id, n)| *n == name && members.contains(id.as_str()))
            .map(|(id, _)| id.clone())
    }

    /// Every package reachable from `root` over normal edges (plus dev edges out of
    /// the root itself when `with_root_dev`), each with the path that reaches it.
    fn closure(&self, root: &str, with_root_dev: bool) -> BTreeMap<String, Vec<String>> {
        let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
        paths.insert(root.to_string(), vec![self.names[root].clone()]);
        let mut queue = VecDeque::from([root.to_string()]);
        while let Some(id) = queue.pop_front() {
            for (dep, normal) in self.edges.get(&id).into_iter().flatten() {
                let follow = *normal || (with_root_dev && id == root);
                if follow && !paths.contains_key(dep) {
                    let mut path = paths[&id].clone();
                    path.push(self.names[dep].clone());
                    paths.insert(dep.clone(), path);
                    queue.push_back(dep.clone());
                }
            }
        }
        paths
    }

    /// Forbidden crates in a closure, each with how it is reached.
    fn forbidden_in(&self, closure: &BTreeMap<String, Vec<String>>) -> Vec<String> {
        closure
            .iter()
            .filter(|(id, _)| FORBIDDEN.contains(&self.names[*id].as_str()))
            .map(|(_, path)| path.join(" → "))
            .collect()
    }
}

#[test]
fn domain_dependency_closure_has_no_io_crates() {
    let meta = metadata();
    let root = meta
        .id_of("cubby-domain")
        .expect("cubby-domain is a workspace member");
    let closure = meta.closure(&root, false);

    // The walk really followed the graph: every direct normal dependency declared in
    // the manifest is in the closure.
    let declared: Vec<String> = meta.json["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"].as_str() == Some(root.as_str()))
        .unwrap()["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"].is_null())
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect();
    assert!(!declared.is_empty());
    let names: BTreeSet<&str> = closure.keys().map(|id| meta.names[id].as_str()).collect();
    for dep in &declared {
        assert!(
            names.contains(dep.as_str()),
            "declared dependency {dep} missing from the closure {names:?}"
        );
    }
    // Dev-dependencies are not part of it (but are found when asked for).
    assert!(
        !names.contains("proptest"),
        "proptest is a dev-dependency, not a normal one"
    );
    let with_dev = meta.closure(&root, true);
    assert!(
        with_dev.keys().any(|id| meta.names[id] == "proptest"),
        "dev edges were not recognised"
    );

    let found = meta.forbidden_in(&closure);
    assert!(
        found.is_empty(),
        "cubby-domain must stay free of IO (no {}), but its normal dependencies pull in:\n  {}\n\
         Move the code that needs these crates out of cubby-domain (into cubby-store or cubby-server).",
        FORBIDDEN.join(", "),
        found.join("\n  ")
    );
}

#[test]
fn tidy_check_catches_io_crates_where_they_are() {
    // The same check flags a workspace member that does use tokio, so the test
    // above can fail.
    let meta = metadata();
    let members: Vec<String> = meta.json["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    let uses_tokio = members.iter().find(|id| {
        meta.edges[*id]
            .iter()
            .any(|(dep, normal)| *normal && meta.names[dep] == "tokio")
    });
    if let Some(id) = uses_tokio {
        let found = meta.forbidden_in(&meta.closure(id, false));
        assert!(
            found.iter().any(|p| p.ends_with("tokio")),
            "{} uses tokio but the check found {found:?}",
            meta.names[id]
        );
    }
}
