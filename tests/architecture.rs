//! The workspace's dependency rules, checked over `cargo metadata`: which of our crates may depend
//! on which (drivers and the UI import nothing of ours, the core imports no UI, kiosk, tools or
//! demo, the tools never import the kiosk), that the kiosk's `.deb` build links none of the
//! technician tools' crates, and that the crate graph in docs/architecture.md is the one the
//! manifests give (`ZIZHU_BLESS=1` rewrites it).
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Each crate of ours and the crates of ours it may depend on (any kind: normal, build, dev).
/// A new edge is a decision: add it here, and docs/architecture.md says why.
const ALLOWED: &[(&str, &[&str])] = &[
    ("zizhu-fonts", &[]),
    ("zizhu-drivers", &["zizhu-fonts"]),
    ("zizhu-ui", &["zizhu-fonts"]),
    ("zizhu-status", &[]),
    ("zizhu-core", &["zizhu-drivers"]),
    ("zizhu-demo", &["zizhu-core", "zizhu-drivers"]),
    ("zizhu-testkit", &["zizhu-core"]),
    ("zizhu-tools", &["zizhu-core", "zizhu-status"]),
    ("zizhu-voice", &["zizhu-core", "zizhu-status"]),
    (
        "zizhu-kiosk",
        &[
            "zizhu-core",
            "zizhu-status",
            "zizhu-demo",
            "zizhu-drivers",
            "zizhu-ui",
            "zizhu-voice",
            "zizhu-fonts",
        ],
    ),
    (
        "zizhu",
        &[
            "zizhu-core",
            "zizhu-status",
            "zizhu-demo",
            "zizhu-kiosk",
            "zizhu-tools",
            "zizhu-drivers",
            "zizhu-ui",
            "zizhu-voice",
            "zizhu-testkit",
        ],
    ),
];

/// Crates only the technician and operator tools need (`zizhu-tools`' feature `workbench`); the
/// kiosk's package must not link them. It links `zizhu-tools` without that feature, for the
/// first-boot provisioning step the kiosk runs.
const TOOLS_ONLY: &[&str] = &["fatfs", "liblzma", "quick-xml", "indicatif"];

fn metadata(args: &[&str]) -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata JSON")
}

/// Our crates (the workspace members) and, for each, the workspace members it depends on.
fn our_graph() -> BTreeMap<String, BTreeSet<String>> {
    let meta = metadata(&["--no-deps"]);
    let packages = meta["packages"].as_array().expect("packages");
    let ours: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .map(|d| d["name"].as_str().expect("dependency name").to_string())
                .filter(|d| ours.contains(d))
                .collect();
            (p["name"].as_str().expect("name").to_string(), deps)
        })
        .collect()
}

#[test]
fn crates_depend_only_along_the_documented_direction() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(k, v)| (*k, v.iter().copied().collect()))
        .collect();
    let mut wrong = Vec::new();
    for (krate, deps) in our_graph() {
        let Some(ok) = allowed.get(krate.as_str()) else {
            wrong.push(format!(
                "{krate} is not in ALLOWED of tests/architecture.rs"
            ));
            continue;
        };
        for d in deps {
            if !ok.contains(d.as_str()) {
                wrong.push(format!("{krate} -> {d}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "dependency edges against docs/architecture.md: {wrong:?}; remove the dependency, or \
         move the code to a crate that may have it"
    );
}

/// The rule itself is checked against a graph with a forbidden edge, so a broken check shows.
#[test]
fn the_rule_rejects_a_forbidden_edge() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(k, v)| (*k, v.iter().copied().collect()))
        .collect();
    for (from, to) in [
        ("zizhu-core", "zizhu-ui"),
        ("zizhu-core", "zizhu-kiosk"),
        ("zizhu-tools", "zizhu-kiosk"),
        ("zizhu-drivers", "zizhu-core"),
    ] {
        assert!(
            !allowed[from].contains(to),
            "{from} -> {to} must be forbidden"
        );
    }
}

/// Every package reachable from the `zizhu` package over normal dependencies, with the features
/// the kiosk's `.deb` is built with (`[package.metadata.deb]`: no default features, `linuxkms`).
fn deb_closure() -> BTreeSet<String> {
    let meta = metadata(&[
        "--no-default-features",
        "--features",
        "linuxkms",
        "--filter-platform",
        "aarch64-unknown-linux-gnu",
    ]);
    let names: BTreeMap<&str, &str> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().expect("id"),
                p["name"].as_str().expect("name"),
            )
        })
        .collect();
    let nodes: BTreeMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| (n["id"].as_str().expect("id"), n))
        .collect();
    let root = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "zizhu")
        .and_then(|p| p["id"].as_str())
        .expect("the zizhu package");
    let mut seen = BTreeSet::new();
    let mut todo = vec![root];
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().expect("deps") {
            let normal = dep["dep_kinds"]
                .as_array()
                .expect("dep_kinds")
                .iter()
                .any(|k| k["kind"].is_null());
            if normal {
                todo.push(dep["pkg"].as_str().expect("pkg"));
            }
        }
    }
    seen.iter().map(|id| names[id].to_string()).collect()
}

#[test]
fn the_kiosk_package_links_none_of_the_tools() {
    let closure = deb_closure();
    assert!(
        closure.contains("zizhu-kiosk") && closure.contains("slint"),
        "{closure:?}"
    );
    let linked: Vec<&str> = TOOLS_ONLY
        .iter()
        .copied()
        .filter(|c| closure.contains(*c))
        .collect();
    assert!(
        linked.is_empty(),
        "the .deb build (no default features, linuxkms) links {linked:?}; keep them behind the \
         `tools` feature (zizhu-tools' `workbench`)"
    );
}

/// The crate graph as a mermaid flowchart, edges sorted.
fn mermaid() -> String {
    let mut s = String::from("```mermaid\nflowchart TD\n");
    for (krate, deps) in our_graph() {
        for d in deps {
            s.push_str(&format!("    {krate} --> {d}\n"));
        }
    }
    s.push_str("```\n");
    s
}

const BEGIN: &str = "<!-- crate graph: generated by tests/architecture.rs -->\n";
const END: &str = "<!-- end of crate graph -->";

#[test]
fn the_documented_crate_graph_is_the_real_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md");
    let doc = std::fs::read_to_string(&path).expect("docs/architecture.md");
    let start = doc.find(BEGIN).expect("the crate graph's begin marker") + BEGIN.len();
    let end = start
        + doc[start..]
            .find(END)
            .expect("the crate graph's end marker");
    let want = mermaid();
    if doc[start..end] == want {
        return;
    }
    if std::env::var_os("ZIZHU_BLESS").is_some() {
        let updated = format!("{}{want}{}", &doc[..start], &doc[end..]);
        std::fs::write(&path, updated).expect("writing docs/architecture.md");
        return;
    }
    panic!(
        "docs/architecture.md's crate graph is stale; run `ZIZHU_BLESS=1 cargo test --test \
         integration architecture::` and commit the result. It should be:\n{want}"
    );
}
