//! `mediaserver registry prune` against a real registry (docker-registry, images pushed by
//! skopeo with known creation times): the newest N stay, `--older-than` spares younger ones,
//! `--dry-run` deletes nothing, and the image `WORKER_IMAGE` runs (or a `--protect` digest) is
//! never deleted.

use crate::registry::{mediaserver, stderr, stdout};
use crate::registry_support::TestRegistry;

const USER: &str = "ci";
const PASS: &str = "ci-password";

fn days_ago(d: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::days(d))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The digests among `all` still in the registry.
fn present(reg: &TestRegistry, all: &[(&str, String)]) -> Vec<String> {
    all.iter()
        .filter(|(_, d)| reg.has_manifest(USER, PASS, "ns/app", d))
        .map(|(n, _)| n.to_string())
        .collect()
}

#[test]
fn prune_keeps_the_newest_the_young_and_the_pinned_and_dry_run_deletes_nothing() {
    let reg = TestRegistry::start(&[(USER, PASS)]);
    let push = |tag: &str, age: Option<i64>| {
        let created = age.map(days_ago);
        reg.push_created(
            USER,
            PASS,
            "ns/app",
            tag,
            tag.as_bytes(),
            created.as_deref(),
        )
    };
    let images = [
        ("d400", push("d400", Some(400))),
        ("d300", push("d300", Some(300))),
        ("d200", push("d200", Some(200))),
        ("d100", push("d100", Some(100))),
        ("new", push("new", Some(0))),
    ];
    // A second tag on the newest image: one image, two tags.
    assert_eq!(
        reg.push_created(USER, PASS, "ns/app", "latest", b"new", Some(&days_ago(0))),
        images[4].1
    );
    let repo = format!("{}/ns/app", reg.host);
    let env = [("OCIR_USERNAME", USER), ("OCIR_AUTH_TOKEN", PASS)];
    let prune = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["registry", "prune", "--insecure", repo.as_str()];
        args.extend_from_slice(extra);
        let out = mediaserver(&args, env, None);
        assert!(out.status.success(), "{}\n{}", stderr(&out), reg.log());
        stdout(&out)
    };

    // --dry-run: says what would go, deletes nothing.
    let out = prune(&["--keep", "1", "--dry-run"], &env);
    assert_eq!(out.matches("would delete").count(), 4, "{out}");
    assert!(
        out.contains(&format!("keep (newest)\t{}", images[4].1)),
        "{out}"
    );
    assert!(
        out.contains("latest,new") || out.contains("new,latest"),
        "{out}"
    );
    assert_eq!(
        present(&reg, &images),
        ["d400", "d300", "d200", "d100", "new"]
    );

    // --older-than 250d with WORKER_IMAGE on the oldest: only d300 goes.
    let worker = format!("{repo}:d400");
    let mut pinned_env = env.to_vec();
    pinned_env.push(("WORKER_IMAGE", worker.as_str()));
    let out = prune(&["--keep", "1", "--older-than", "250d"], &pinned_env);
    assert!(
        out.contains(&format!("keep (pinned)\t{}", images[0].1)),
        "{out}"
    );
    assert!(out.contains(&format!("deleted\t{}", images[1].1)), "{out}");
    assert_eq!(out.matches("deleted").count(), 1, "{out}");
    assert_eq!(present(&reg, &images), ["d400", "d200", "d100", "new"]);

    // --keep 1 and --protect d100: d200 goes; the pinned d400 still stays.
    let protect = images[3].1.clone();
    let out = prune(&["--keep", "1", "--protect", &protect], &pinned_env);
    assert_eq!(out.matches("deleted").count(), 1, "{out}");
    assert_eq!(present(&reg, &images), ["d400", "d100", "new"]);

    // Without the pin, --keep 2 leaves the two newest.
    let out = prune(&["--keep", "2"], &env);
    assert!(out.contains(&format!("deleted\t{}", images[0].1)), "{out}");
    assert_eq!(present(&reg, &images), ["d100", "new"]);
    let out = mediaserver(&["registry", "tags", "--insecure", &repo], &env, None);
    let mut tags: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    tags.sort();
    assert_eq!(tags, ["d100", "latest", "new"]);

    // A bad --older-than is a usage error.
    let out = mediaserver(
        &[
            "registry",
            "prune",
            "--insecure",
            &repo,
            "--keep",
            "1",
            "--older-than",
            "soon",
        ],
        &env,
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--older-than 'soon'"),
        "{}",
        stderr(&out)
    );
}
