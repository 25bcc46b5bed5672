//! The code map's dependency rules hold: every workspace crate's normal and build dependencies
//! (from `cargo metadata`) are among the workspace crates `ARCHITECTURE.md` lets it use, none of
//! the outside crates it forbids, and a crate marked "tests only" is nobody's normal dependency.
//! The rules are read from ARCHITECTURE.md's table, so the document and this guard cannot drift
//! apart; a new crate fails here until the table gives it a row.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

struct Rule {
    may_use: BTreeSet<String>,
    must_not_use: BTreeSet<String>,
    tests_only: bool,
}

/// The backticked names in one table cell.
fn names(cell: &str) -> BTreeSet<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn rules(doc: &str) -> BTreeMap<String, Rule> {
    let section = doc
        .split("\n## ")
        .find(|s| s.starts_with("Dependency rules"))
        .expect("ARCHITECTURE.md has a '## Dependency rules' section");
    let mut out = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
        assert_eq!(cells.len(), 4, "a dependency rule row has 4 cells: {line}");
        let krate = names(cells[0]).into_iter().next().expect("crate name");
        let rule = Rule {
            may_use: names(cells[1]),
            must_not_use: names(cells[2]),
            tests_only: cells[3].contains("tests only"),
        };
        assert!(
            out.insert(krate.clone(), rule).is_none(),
            "{krate} has two rows"
        );
    }
    assert!(out.len() >= 8, "the table was not read: {} rows", out.len());
    out
}

#[test]
fn crates_depend_only_on_what_the_code_map_allows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let rules = rules(&doc);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("running cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let members: BTreeSet<String> = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_string())
        .collect();
    let mut problems = Vec::new();
    for name in &members {
        if !rules.contains_key(name) {
            problems.push(format!(
                "{name} has no row in ARCHITECTURE.md's dependency rules"
            ));
        }
    }
    for krate in rules.keys() {
        if !members.contains(krate) {
            problems.push(format!(
                "ARCHITECTURE.md has a rule for {krate}, which is not a workspace crate"
            ));
        }
    }
    for package in meta["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().unwrap_or_default();
        let Some(rule) = rules.get(name) else {
            continue;
        };
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            // Tests may use anything; what ships is normal and build dependencies.
            if dep["kind"].as_str() == Some("dev") {
                continue;
            }
            let dep_name = dep["name"].as_str().unwrap_or_default();
            if members.contains(dep_name) {
                if !rule.may_use.contains(dep_name) {
                    problems.push(format!(
                        "{name} depends on {dep_name}, which the code map does not allow"
                    ));
                }
                if rules.get(dep_name).is_some_and(|r| r.tests_only) {
                    problems.push(format!(
                        "{name} depends on {dep_name}, which is for tests only"
                    ));
                }
            } else if rule.must_not_use.contains(dep_name) {
                problems.push(format!(
                    "{name} depends on {dep_name}, which the code map forbids"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_crate_takes_the_workspace_lints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root.join("crates")).expect("crates/") {
        let manifest = entry.expect("entry").path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let takes_them = text
            .split("\n[")
            .any(|section| section.starts_with("lints]") && section.contains("workspace = true"));
        if !takes_them {
            missing.push(manifest.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "without `[lints] workspace = true`: {missing:?}"
    );
}

#[test]
fn the_rule_table_reader_sees_violations() {
    // The guard above passes on an empty reading too; check the reader on a known table.
    let doc = "# x\n\n## Dependency rules\n\n| crate | may use | must not use | kind |\n|---|---|---|---|\n\
        | `a` | `b` | `axum`, `sqlx` | library |\n| `b` | — | — | tests only |\n\
        | `c` | — | — | library |\n| `d` | — | — | library |\n| `e` | — | — | library |\n\
        | `f` | — | — | library |\n| `g` | — | — | library |\n| `h` | — | — | library |\n\n## Next\n| `z` | — | — | x |\n";
    let r = rules(doc);
    assert_eq!(r.len(), 8);
    assert!(r["a"].may_use.contains("b"));
    assert!(r["a"].must_not_use.contains("sqlx"));
    assert!(r["b"].tests_only && !r["a"].tests_only);
    assert!(!r.contains_key("z"));
}
