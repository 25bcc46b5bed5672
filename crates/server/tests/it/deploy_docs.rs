//! Drift guard between the deployment files and the binary: every `mediaserver <subcommand>`
//! that the Dockerfile, `deploy/**`, `docs/*.md` and `.github/workflows` invoke exists (its
//! `--help` succeeds), and every environment variable they set for the server is one the code
//! reads (its name appears as a string literal in `crates/*/src`).
//!
//! The files are scanned as text, for the shapes they use: container `command`/`args` lists
//! (YAML flow or block lists), Terraform `command`/`arguments` lists, Dockerfile
//! `ENTRYPOINT`+`CMD`, shell lines in fenced code blocks and workflow scripts, and backticked
//! spans in prose and comments; env names from YAML `env:` lists and ConfigMap/Secret data,
//! Terraform `environment_variables`, the runtime stage's `ENV` and the docs' `export X=`.
//! A YAML and an HCL parser would be two dependencies for one test; instead the test checks
//! that the scan found the entrypoints and variables known to be there, so a shape it cannot
//! read fails loudly rather than passing empty.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root())
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>, keep: &dyn Fn(&Path) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if p.is_dir() {
            if !name.starts_with('.') || name == ".github" {
                files_under(&p, out, keep);
            }
        } else if keep(&p) {
            out.push(p);
        }
    }
}

fn ext(p: &Path) -> &str {
    p.extension().and_then(|e| e.to_str()).unwrap_or("")
}

/// The files the deployment story consists of.
fn deploy_files() -> Vec<PathBuf> {
    let r = root();
    let mut files = vec![r.join("Dockerfile")];
    files_under(&r.join("deploy"), &mut files, &|p| {
        matches!(ext(p), "yaml" | "yml" | "tf" | "example")
    });
    files_under(&r.join("docs"), &mut files, &|p| ext(p) == "md");
    files_under(&r.join(".github/workflows"), &mut files, &|p| {
        matches!(ext(p), "yml" | "yaml")
    });
    files
}

/// Where a finding came from, for the failure message.
type Found = BTreeMap<String, BTreeSet<String>>;

fn note(found: &mut Found, key: String, file: &Path, line: usize) {
    found
        .entry(key)
        .or_default()
        .insert(format!("{}:{}", rel(file), line + 1));
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    let s = s.split(" #").next().unwrap_or(s).trim();
    s.trim_matches(|c| c == '"' || c == '\'').to_string()
}

/// `["a", "b"]` → `[a, b]`.
fn flow_list(s: &str) -> Option<Vec<String>> {
    let s = s.trim();
    let inner = s.strip_prefix('[')?.split(']').next()?;
    Some(
        inner
            .split(',')
            .map(unquote)
            .filter(|t| !t.is_empty())
            .collect(),
    )
}

/// The value of key `key` at line `i`: a flow list on the same line, or a block list below it.
fn yaml_list(lines: &[&str], i: usize, key: &str) -> Option<Vec<String>> {
    let line = lines[i];
    let rest = line
        .trim_start()
        .strip_prefix("- ")
        .unwrap_or(line.trim_start());
    let value = rest.strip_prefix(key)?.strip_prefix(':')?;
    if let Some(list) = flow_list(value) {
        return Some(list);
    }
    if !value.trim().is_empty() {
        return None;
    }
    let base = indent(line);
    let mut items = Vec::new();
    for l in &lines[i + 1..] {
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        if indent(l) < base || (indent(l) == base && !l.trim_start().starts_with("- ")) {
            break;
        }
        match l.trim_start().strip_prefix("- ") {
            Some(item) => items.push(unquote(item)),
            None => break,
        }
    }
    Some(items)
}

/// Subcommand words of a `mediaserver` invocation: the leading bare words, at most two
/// (`user create`, `registry resolve`), stopping at the first option or argument value.
fn subcommand(args: &[String]) -> Vec<String> {
    args.iter()
        .take_while(|a| {
            !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !a.starts_with('-')
        })
        .take(2)
        .cloned()
        .collect()
}

fn is_binary(token: &str) -> bool {
    let t = token.trim_matches(|c| c == '"' || c == '\'' || c == '`');
    t == "mediaserver" || t.ends_with("/mediaserver")
}

/// Shell text: each command of the line (split at `&&`, `||`, `;`, `|`, `$(`, ` -- `) whose
/// first word, after `VAR=value` assignments and `env`/`exec`/`sudo`, is the binary.
fn shell_invocations(line: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut text = line.to_string();
    for sep in ["&&", "||", ";", "|", "$(", " -- ", "`"] {
        text = text.replace(sep, "\n");
    }
    for cmd in text.lines() {
        let mut words = cmd.split_whitespace().skip_while(|w| {
            matches!(*w, "env" | "exec" | "sudo" | "$")
                || (w.contains('=') && !w.starts_with('-') && !w.starts_with('='))
        });
        if words.next().is_some_and(is_binary) {
            let args: Vec<String> = words.map(unquote).collect();
            out.push(args);
        }
    }
    out
}

/// Backticked spans in prose and comments: `mediaserver transcode SRC DEST`.
fn backticked_invocations(line: &str) -> Vec<Vec<String>> {
    line.split('`')
        .skip(1)
        .step_by(2)
        .flat_map(shell_invocations)
        .collect()
}

#[derive(Default)]
struct Scan {
    invocations: Found,
    env: Found,
    files: usize,
}

impl Scan {
    fn invocation(&mut self, args: &[String], file: &Path, line: usize) {
        let sub = subcommand(args);
        if !sub.is_empty() {
            note(&mut self.invocations, sub.join(" "), file, line);
        }
    }

    fn env_name(&mut self, name: &str, file: &Path, line: usize) {
        let name = unquote(name);
        if !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        {
            note(&mut self.env, name, file, line);
        }
    }

    fn dockerfile(&mut self, file: &Path, text: &str) {
        let lines: Vec<&str> = text.lines().collect();
        let last_from = lines
            .iter()
            .rposition(|l| l.trim_start().starts_with("FROM "))
            .unwrap_or(0);
        let mut entrypoint: Option<(Vec<String>, usize)> = None;
        let mut cmd: Option<(Vec<String>, usize)> = None;
        let mut in_env = false;
        for (i, l) in lines.iter().enumerate().skip(last_from) {
            let t = l.trim();
            if let Some(v) = t.strip_prefix("ENTRYPOINT ") {
                entrypoint = flow_list(v).map(|e| (e, i));
            } else if let Some(v) = t.strip_prefix("CMD ") {
                cmd = flow_list(v).map(|c| (c, i));
            }
            let env_part = if let Some(v) = t.strip_prefix("ENV ") {
                in_env = true;
                Some(v)
            } else if in_env {
                Some(t)
            } else {
                None
            };
            if let Some(part) = env_part {
                for assignment in part.trim_end_matches('\\').split_whitespace() {
                    if let Some((name, _)) = assignment.split_once('=') {
                        self.env_name(name, file, i);
                    }
                }
                in_env = t.ends_with('\\');
            }
        }
        if let Some((ep, i)) = entrypoint {
            if ep.last().is_some_and(|e| is_binary(e)) {
                let args = cmd.map(|(c, _)| c).unwrap_or_default();
                self.invocation(&args, file, i);
            }
        }
    }

    /// Comments: backticked spans, and example command lines (indented after the `#`).
    fn comment(&mut self, comment: &str, file: &Path, line: usize) {
        for args in backticked_invocations(comment) {
            self.invocation(&args, file, line);
        }
        if comment.starts_with("  ") {
            for args in shell_invocations(comment) {
                self.invocation(&args, file, line);
            }
        }
    }

    fn yaml(&mut self, file: &Path, text: &str, workflow: bool) {
        let lines: Vec<&str> = text.lines().collect();
        let mut env_block: Option<usize> = None;
        let mut data_block: Option<usize> = None;
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            if let Some(comment) = t.strip_prefix('#') {
                self.comment(comment, file, i);
                continue;
            }
            if l.trim().is_empty() {
                continue;
            }
            if env_block.is_some_and(|base| indent(l) <= base) {
                env_block = None;
            }
            if data_block.is_some_and(|base| indent(l) <= base) {
                data_block = None;
            }
            if env_block.is_some() {
                if let Some(name) = t.strip_prefix("- name:") {
                    self.env_name(name, file, i);
                }
            }
            if data_block.is_some() {
                if let Some((key, _)) = t.split_once(':') {
                    self.env_name(key, file, i);
                }
            }
            match t.trim_end() {
                "env:" => env_block = Some(indent(l)),
                "data:" | "stringData:" => data_block = Some(indent(l)),
                _ => {}
            }
            for key in ["command", "args"] {
                if let Some(list) = yaml_list(&lines, i, key) {
                    let args = match key {
                        "command" => match list.iter().position(|w| is_binary(w)) {
                            Some(p) => list[p + 1..].to_vec(),
                            None => continue,
                        },
                        _ => list,
                    };
                    self.invocation(&args, file, i);
                }
            }
            // Workflow `run:` scripts.
            if workflow {
                let script = t.trim_start_matches("- ").trim_start_matches("run:");
                for args in shell_invocations(script) {
                    self.invocation(&args, file, i);
                }
            }
        }
    }

    fn terraform(&mut self, file: &Path, text: &str) {
        let lines: Vec<&str> = text.lines().collect();
        let mut env_depth: Option<usize> = None;
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim();
            if let Some(comment) = t.strip_prefix('#') {
                self.comment(comment, file, i);
                continue;
            }
            if let Some(depth) = env_depth {
                if t.starts_with('}') {
                    env_depth = None;
                } else if indent(l) > depth {
                    if let Some((key, _)) = t.split_once('=') {
                        self.env_name(key.trim(), file, i);
                    }
                }
                continue;
            }
            if t.starts_with("environment_variables") && t.ends_with('{') {
                env_depth = Some(indent(l));
                continue;
            }
            for key in ["command", "arguments"] {
                let Some(value) = t
                    .strip_prefix(key)
                    .and_then(|r| r.trim_start().strip_prefix('='))
                else {
                    continue;
                };
                // A list, possibly spread over several lines.
                let mut joined = value.trim().to_string();
                let mut j = i;
                while !joined.contains(']') && j + 1 < lines.len() {
                    j += 1;
                    joined.push_str(lines[j].trim());
                }
                if let Some(list) = flow_list(&joined) {
                    let args = match key {
                        "command" => match list.iter().position(|w| is_binary(w)) {
                            Some(p) => list[p + 1..].to_vec(),
                            None => continue,
                        },
                        _ => list,
                    };
                    self.invocation(&args, file, i);
                }
            }
        }
    }

    fn markdown(&mut self, file: &Path, text: &str) {
        let mut in_code = false;
        let mut pending = String::new();
        for (i, l) in text.lines().enumerate() {
            if l.trim_start().starts_with("```") {
                in_code = !in_code;
                pending.clear();
                continue;
            }
            if in_code {
                // Join backslash continuations into one command line.
                pending.push_str(l.trim_end().trim_end_matches('\\'));
                pending.push(' ');
                if l.trim_end().ends_with('\\') {
                    continue;
                }
                let line = std::mem::take(&mut pending);
                for args in shell_invocations(&line) {
                    self.invocation(&args, file, i);
                }
                if let Some(rest) = line.trim_start().strip_prefix("export ") {
                    for assignment in rest.split_whitespace() {
                        if let Some((name, _)) = assignment.split_once('=') {
                            self.env_name(name, file, i);
                        }
                    }
                }
            } else {
                for args in backticked_invocations(l) {
                    self.invocation(&args, file, i);
                }
            }
        }
    }

    fn run() -> Scan {
        let mut scan = Scan::default();
        for file in deploy_files() {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            scan.files += 1;
            let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
            match ext(&file) {
                _ if name == "Dockerfile" => scan.dockerfile(&file, &text),
                "yaml" | "yml" => scan.yaml(&file, &text, rel(&file).starts_with(".github")),
                "tf" | "example" => scan.terraform(&file, &text),
                "md" => scan.markdown(&file, &text),
                _ => {}
            }
        }
        scan
    }
}

/// The workspace's Rust sources, concatenated: a variable is read when its name appears there
/// as a string literal.
fn code_text() -> String {
    let mut files = Vec::new();
    let crates = root().join("crates");
    for krate in std::fs::read_dir(&crates).expect("crates/").flatten() {
        files_under(&krate.path().join("src"), &mut files, &|p| ext(p) == "rs");
    }
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

fn listing(found: &Found, keys: &[&String]) -> String {
    keys.iter()
        .map(|k| {
            let at: Vec<&str> = found[*k].iter().map(String::as_str).collect();
            format!("  {k}  ({})", at.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_scan_sees_the_deployment_entrypoints_and_variables() {
    let scan = Scan::run();
    assert!(
        scan.files >= 10,
        "only {} deployment files found",
        scan.files
    );
    for sub in ["serve", "worker", "transcode", "user create"] {
        assert!(
            scan.invocations.contains_key(sub),
            "the scan found no `mediaserver {sub}` in the deployment files: found {:?}",
            scan.invocations.keys().collect::<Vec<_>>()
        );
    }
    for var in [
        "DATABASE_URL",
        "JWT_SECRET",
        "STORAGE_PROVIDER",
        "STORAGE_ENDPOINT",
        "MEDIA_BUCKET",
        "OCI_AUTH",
        "JWT_SECRET_OCID",
        "EVENTS_SECRET_OCID",
        "DATA_DIR",
    ] {
        assert!(
            scan.env.contains_key(var),
            "the scan found no {var} in the deployment files: found {:?}",
            scan.env.keys().collect::<Vec<_>>()
        );
    }
}

#[test]
fn every_subcommand_the_deployment_files_run_exists() {
    let scan = Scan::run();
    let mut missing = Vec::new();
    let mut errors = Vec::new();
    for sub in scan.invocations.keys() {
        let out = Command::new(env!("CARGO_BIN_EXE_mediaserver"))
            .args(sub.split(' '))
            .arg("--help")
            .output()
            .expect("run mediaserver");
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !stdout.contains("Usage") {
            missing.push(sub);
            errors.push(format!(
                "mediaserver {sub} --help: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "the deployment files run subcommands that `mediaserver` does not have:\n{}\n{}",
        listing(&scan.invocations, &missing),
        errors.join("\n")
    );
}

#[test]
fn every_variable_the_deployment_files_set_is_read_by_the_code() {
    let scan = Scan::run();
    let code = code_text();
    let unknown: Vec<&String> = scan
        .env
        .keys()
        .filter(|n| !code.contains(&format!("\"{n}\"")))
        .collect();
    assert!(
        unknown.is_empty(),
        "the deployment files set environment variables that no crate reads \
         (no \"NAME\" literal in crates/*/src):\n{}",
        listing(&scan.env, &unknown)
    );
}

/// Bucket events without a public endpoint are wired in the deployment files: Terraform gives
/// the server its stream, the Kubernetes component runs `mediaserver watch` for the queue.
#[test]
fn the_deployment_files_wire_the_event_consumer() {
    let scan = Scan::run();
    for var in ["EVENTS_SOURCE", "EVENTS_CONSUMER"] {
        assert!(
            scan.env.contains_key(var),
            "the scan found no {var} in the deployment files: found {:?}",
            scan.env.keys().collect::<Vec<_>>()
        );
    }
    assert!(
        scan.invocations.contains_key("watch"),
        "no `mediaserver watch` in the deployment files: found {:?}",
        scan.invocations.keys().collect::<Vec<_>>()
    );
}

#[test]
fn the_scanner_reads_each_shape() {
    // Flow and block lists, command + args, shell lines with assignments and separators.
    let yaml = "containers:\n  - name: a\n    args: [\"worker\", \"--concurrency\", \"1\"]\n  - name: b\n    command:\n      - /usr/local/bin/mediaserver\n      - user\n      - create\n      - --admin\n    env:\n      - name: PORT\n        value: \"1\"\n    ports: []\n";
    let mut scan = Scan::default();
    scan.yaml(Path::new("x.yaml"), yaml, false);
    assert_eq!(
        scan.invocations.keys().collect::<Vec<_>>(),
        ["user create", "worker"]
    );
    assert_eq!(scan.env.keys().collect::<Vec<_>>(), ["PORT"]);

    let tf = "  containers {\n    arguments = [\n      \"transcode\", \"s3://a/b\",\n    ]\n    environment_variables = {\n      OCI_AUTH = \"x\"\n      PORT     = \"3000\"\n    }\n  }\n";
    let mut scan = Scan::default();
    scan.terraform(Path::new("x.tf"), tf);
    assert_eq!(scan.invocations.keys().collect::<Vec<_>>(), ["transcode"]);
    assert_eq!(scan.env.keys().collect::<Vec<_>>(), ["OCI_AUTH", "PORT"]);

    let md = "Run `mediaserver watch --once` or:\n\n```sh\nexport LOG_LEVEL=debug\nkubectl exec deploy/x -- mediaserver migrate && \\\n  FOO=1 ./target/release/mediaserver registry tags repo\nkubectl -n mediaserver get pods\n```\n";
    let mut scan = Scan::default();
    scan.markdown(Path::new("x.md"), md);
    assert_eq!(
        scan.invocations.keys().collect::<Vec<_>>(),
        ["migrate", "registry tags", "watch"]
    );
    assert_eq!(scan.env.keys().collect::<Vec<_>>(), ["LOG_LEVEL"]);

    let docker = "FROM rust AS b\nENV CC_x=gcc\nFROM debian\nENV DATA_DIR=/d \\\n    PORT=3000\nENTRYPOINT [\"mediaserver\"]\nCMD [\"serve\"]\n";
    let mut scan = Scan::default();
    scan.dockerfile(Path::new("Dockerfile"), docker);
    assert_eq!(scan.invocations.keys().collect::<Vec<_>>(), ["serve"]);
    assert_eq!(scan.env.keys().collect::<Vec<_>>(), ["DATA_DIR", "PORT"]);
}

/// The Terraform's variables: every `var.x` any file uses is declared in `variables.tf`, and
/// every declared one is explained to the operator — in docs/deploy-oci.md or in
/// terraform.tfvars.example — so a new variable cannot ship unexplained.
#[test]
fn every_terraform_variable_is_declared_and_documented() {
    let dir = root().join("deploy/oci/terraform");
    let declared: std::collections::BTreeSet<String> =
        std::fs::read_to_string(dir.join("variables.tf"))
            .unwrap()
            .lines()
            .filter_map(|l| l.strip_prefix("variable \""))
            .filter_map(|l| l.split('"').next().map(String::from))
            .collect();
    for known in [
        "image_tag",
        "ocir_immutable",
        "ocir_scanning",
        "ci_push_group_name",
    ] {
        assert!(
            declared.contains(known),
            "{known} not found in {declared:?}"
        );
    }
    let mut used = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if ext(&path) != "tf" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, _) in text.match_indices("var.") {
            let name: String = text[i + 4..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            // `var.` inside a longer identifier (e.g. `xvar.`) is not a reference.
            let before = text[..i].chars().last();
            if !name.is_empty() && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                used.insert(name);
            }
        }
    }
    let undeclared: Vec<_> = used.difference(&declared).collect();
    assert!(
        undeclared.is_empty(),
        "used but not declared: {undeclared:?}"
    );
    let docs = std::fs::read_to_string(root().join("docs/deploy-oci.md")).unwrap()
        + &std::fs::read_to_string(dir.join("terraform.tfvars.example")).unwrap();
    let undocumented: Vec<_> = declared
        .iter()
        .filter(|v| !docs.contains(&format!("`{v}`")) && !docs.contains(&format!("{v} ")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "Terraform variables docs/deploy-oci.md does not explain: {undocumented:?}"
    );
}
