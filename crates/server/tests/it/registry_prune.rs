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
    let push = |tag: &str, content: &str, created: &str| {
        reg.push_created(USER, PASS, "ns/app", tag, content.as_bytes(), Some(created))
    };
    // Computed once: the same image pushed twice must carry the same time.
    let now = days_ago(0);
    let images = [
        ("d400", push("d400", "d400", &days_ago(400))),
        ("d300", push("d300", "d300", &days_ago(300))),
        ("d200", push("d200", "d200", &days_ago(200))),
        ("d100", push("d100", "d100", &days_ago(100))),
        ("new", push("new", "new", &now)),
    ];
    // A second tag on the newest image: one image, two tags.
    assert_eq!(push("latest", "new", &now), images[4].1);
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

/// `--protect` takes what `registry resolve --pin` prints (`host/repository@digest`), a tag of
/// the repository, or a bare digest; a value that names no image of the repository stops the
/// prune before anything is deleted, rather than protecting nothing.
#[test]
fn prune_protects_pinned_references_and_tags_and_refuses_what_it_cannot_read() {
    let reg = TestRegistry::start(&[(USER, PASS)]);
    let push = |tag: &str, created: &str| {
        reg.push_created(USER, PASS, "ns/app", tag, tag.as_bytes(), Some(created))
    };
    let images = [
        ("d300", push("d300", &days_ago(300))),
        ("d200", push("d200", &days_ago(200))),
        ("d100", push("d100", &days_ago(100))),
        ("new", push("new", &days_ago(0))),
    ];
    let repo = format!("{}/ns/app", reg.host);
    let env = [("OCIR_USERNAME", USER), ("OCIR_AUTH_TOKEN", PASS)];
    let prune = |extra: &[&str]| {
        let mut args = vec![
            "registry",
            "prune",
            "--insecure",
            repo.as_str(),
            "--keep",
            "1",
        ];
        args.extend_from_slice(extra);
        mediaserver(&args, &env, None)
    };

    // Refused before anything is deleted: a digest in another form, another repository's
    // image, a tag that does not exist.
    let upper = images[0].1.to_uppercase();
    let elsewhere = format!("{}/ns/other@{}", reg.host, images[0].1);
    for bad in [upper.as_str(), elsewhere.as_str(), "no-such-tag"] {
        let out = prune(&["--protect", bad]);
        assert!(!out.status.success(), "--protect {bad}: {}", stdout(&out));
        assert!(stderr(&out).contains("--protect"), "{}", stderr(&out));
        assert_eq!(present(&reg, &images), ["d300", "d200", "d100", "new"]);
    }

    // The pinned form of d300, the tag d200: only d100 goes.
    let pinned = format!("{repo}@{}", images[0].1);
    let out = prune(&["--protect", &pinned, "--protect", "d200"]);
    assert!(out.status.success(), "{}\n{}", stderr(&out), reg.log());
    let out = stdout(&out);
    assert!(
        out.contains(&format!("keep (pinned)\t{}", images[0].1)),
        "{out}"
    );
    assert!(
        out.contains(&format!("keep (pinned)\t{}", images[1].1)),
        "{out}"
    );
    assert_eq!(present(&reg, &images), ["d300", "d200", "new"]);
}

const TENANCY: &str = "ocid1.tenancy.oc1..aaaaregistryprune";
const OCI_USER: &str = "ocid1.user.oc1..aaaaregistryprune";
const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaapruned";

/// On OCIR the tags are read through the registry and the images deleted through the
/// Artifacts API: a registry standing in for OCIR's (`ARTIFACTS_REGISTRY_HOST`) holds the
/// images, the OCI stand-in the same images as the Artifacts API lists them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_on_ocir_deletes_through_the_artifacts_api() {
    use mediaserver_oci::PrivateKey;
    use mediaserver_oci_standin::Standin;

    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    let key = PrivateKey::generate().unwrap();
    standin.keys().insert_api_key(TENANCY, OCI_USER, &key);
    let (reg, digests) = tokio::task::spawn_blocking(|| {
        let reg = TestRegistry::start(&[(USER, PASS)]);
        let digests: Vec<String> = [("a", 30), ("b", 20), ("c", 10)]
            .iter()
            .map(|(tag, age)| {
                let created = days_ago(*age);
                reg.push_created(USER, PASS, "ns/app", tag, tag.as_bytes(), Some(&created))
            })
            .collect();
        (reg, digests)
    })
    .await
    .unwrap();
    let ids: Vec<String> = ["a", "b", "c"]
        .iter()
        .zip(&digests)
        .map(|(tag, d)| standin.add_ocir_image(COMPARTMENT, "app", d, &[tag]))
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let cfg = crate::common::write_oci_config(dir.path(), TENANCY, OCI_USER, &key);
    let cfg = cfg.display().to_string();
    let worker = format!("{}/ns/app:a", reg.host);
    let env = [
        ("ARTIFACTS_REGISTRY_PROVIDER", "OCI_OCIR"),
        ("OCI_REGION", "us-ashburn-1"),
        ("OCI_NAMESPACE", "ns"),
        ("OCI_CONTAINER_REPOSITORY_NAME", "app"),
        ("ARTIFACTS_REGISTRY_HOST", reg.host.as_str()),
        ("OCIR_USERNAME", USER),
        ("OCIR_AUTH_TOKEN", PASS),
        ("OCI_AUTH", "api_key"),
        ("OCI_CONFIG_FILE", cfg.as_str()),
        ("OCI_ARTIFACTS_ENDPOINT", standin.url()),
        ("OCI_COMPARTMENT_ID", COMPARTMENT),
        ("WORKER_IMAGE", worker.as_str()),
    ];
    // No REPO: the configured one. The oldest is pinned, the newest kept: b goes.
    let out = crate::registry::mediaserver_off_runtime(
        &["registry", "prune", "--insecure", "--keep", "1"],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains(&format!("deleted\t{}", digests[1])), "{text}");
    assert!(
        text.contains(&format!("keep (pinned)\t{}", digests[0])),
        "{text}"
    );
    let key_id = format!("{TENANCY}/{OCI_USER}/{}", key.fingerprint());
    assert_eq!(standin.ocir_image_deletes(), [(key_id, ids[1].clone())]);
    let left: Vec<String> = standin.ocir_images().into_iter().map(|i| i.id).collect();
    assert_eq!(left, [ids[0].clone(), ids[2].clone()]);
}
