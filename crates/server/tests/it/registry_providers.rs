//! `mediaserver registry tag|image|delete` per provider: deletes by tag and by digest in a real
//! registry (docker-registry, deletes enabled, images pushed by skopeo); ECR's login through
//! GetAuthorizationToken on a moto that checks SigV4 signatures and IAM policies, whose
//! `AWS:<password>` the test registry is set up to accept; and OCIR's delete through the
//! Artifacts API of the OCI stand-in, which verifies signatures. (Artifact Registry's OAuth
//! logins are in `registry_google.rs`, token-auth registries in `registry_token.rs`.)

use crate::registry::{mediaserver, mediaserver_off_runtime, stderr, stdout};
use crate::registry_support::TestRegistry;
use mediaserver_oci::PrivateKey;
use mediaserver_oci_standin::Standin;

const USER: &str = "ci";
const PASS: &str = "ci-password";

fn creds() -> [(&'static str, &'static str); 2] {
    [("OCIR_USERNAME", USER), ("OCIR_AUTH_TOKEN", PASS)]
}

#[test]
fn image_describes_and_delete_removes_by_tag_and_by_digest() {
    let reg = TestRegistry::start(&[(USER, PASS)]);
    let v1 = reg.push_created(
        USER,
        PASS,
        "ns/app",
        "v1",
        b"one",
        Some("2026-01-02T03:04:05Z"),
    );
    let v2 = reg.push(USER, PASS, "ns/app", "v2", b"two");
    assert_eq!(reg.push(USER, PASS, "ns/app", "latest", b"two"), v2);
    let repo = format!("{}/ns/app", reg.host);

    // get image: digest, platform, config digest, sizes as skopeo pushed them.
    let out = mediaserver(
        &["registry", "image", "--insecure", &format!("{repo}:v1")],
        &creds(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let info: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(info["digest"], v1.as_str());
    assert_eq!(info["platforms"], serde_json::json!(["linux/amd64"]));
    assert_eq!(info["created"], "2026-01-02T03:04:05Z");
    let manifest = skopeo_raw(&format!("{repo}:v1"));
    assert_eq!(info["config_digest"], manifest["config"]["digest"]);
    assert_eq!(info["total_size"], image_size(&manifest));

    // get tag from the configured repository (GENERIC), and the short IMAGE form.
    let generic = [
        ("ARTIFACTS_REGISTRY_PROVIDER", "GENERIC"),
        ("ARTIFACTS_REPOSITORY", repo.as_str()),
        ("OCIR_USERNAME", USER),
        ("OCIR_AUTH_TOKEN", PASS),
    ];
    let out = mediaserver(&["registry", "tag", "v9"], &generic, None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{repo}:v9"));

    // Delete by tag: v1's manifest goes, v2 stays.
    let out = mediaserver(&["registry", "delete", "--insecure", "v1"], &generic, None);
    assert!(out.status.success(), "{}\n{}", stderr(&out), reg.log());
    assert_eq!(stdout(&out), v1);
    assert!(!reg.has_manifest(USER, PASS, "ns/app", &v1));
    assert!(reg.has_manifest(USER, PASS, "ns/app", &v2));

    // Delete by digest: the manifest and both tags on it go.
    let by_digest = format!("{repo}@{v2}");
    let out = mediaserver(
        &["registry", "delete", "--insecure", &by_digest],
        &creds(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), v2);
    assert!(!reg.has_manifest(USER, PASS, "ns/app", &v2));
    let out = mediaserver(
        &[
            "registry",
            "resolve",
            "--insecure",
            &format!("{repo}:latest"),
        ],
        &creds(),
        None,
    );
    assert_eq!(out.status.code(), Some(1));

    // Again: not found, exit 1; a wrong password: refused, not leaked.
    let out = mediaserver(
        &["registry", "delete", "--insecure", &by_digest],
        &creds(),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not found in registry"),
        "{}",
        stderr(&out)
    );
    let out = mediaserver(
        &["registry", "delete", "--insecure", &by_digest],
        &[("OCIR_USERNAME", USER), ("OCIR_AUTH_TOKEN", "wrong-pass")],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("refused the login"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("wrong-pass"));
}

fn skopeo_raw(image: &str) -> serde_json::Value {
    let out = std::process::Command::new("skopeo")
        .args([
            "--insecure-policy",
            "inspect",
            "--raw",
            "--tls-verify=false",
        ])
        .arg(format!("--creds={USER}:{PASS}"))
        .arg(format!("docker://{image}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn image_size(manifest: &serde_json::Value) -> u64 {
    manifest["config"]["size"].as_u64().unwrap()
        + manifest["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["size"].as_u64().unwrap())
            .sum::<u64>()
}

#[test]
fn image_of_an_index_lists_its_platforms_and_sums_its_images() {
    let reg = TestRegistry::start(&[(USER, PASS)]);
    let digest = reg.push_index(
        USER,
        PASS,
        "ns/multi",
        "v1",
        &[
            ("linux", "amd64", b"amd64 build", "2026-01-01T00:00:00Z"),
            ("linux", "arm64", b"arm64 build", "2026-02-01T00:00:00Z"),
        ],
    );
    let repo = format!("{}/ns/multi", reg.host);
    let out = mediaserver(
        &["registry", "image", "--insecure", &format!("{repo}:v1")],
        &creds(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let info: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(info["digest"], digest.as_str());
    assert_eq!(
        info["media_type"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(
        info["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    assert_eq!(info["config_digest"], serde_json::Value::Null);
    // The newest of its images.
    assert_eq!(info["created"], "2026-02-01T00:00:00Z");
    let index = skopeo_raw(&format!("{repo}:v1"));
    let total: u64 = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            image_size(&skopeo_raw(&format!(
                "{repo}@{}",
                m["digest"].as_str().unwrap()
            )))
        })
        .sum();
    assert_eq!(info["total_size"], total);

    let out = mediaserver(
        &["registry", "delete", "--insecure", &format!("{repo}:v1")],
        &creds(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), digest);
    assert!(!reg.has_manifest(USER, PASS, "ns/multi", &digest));
}

/// moto's account and the password its GetAuthorizationToken hands out for it.
const MOTO_ACCOUNT: &str = "123456789012";
const MOTO_ECR_PASSWORD: &str = "123456789012-auth-token";

/// A moto server of its own that, after `free_actions` unchecked calls, checks every request
/// the way IAM does: the SigV4 signature (recomputed by botocore inside moto with the
/// access key's secret) and the user's policies.
struct AuthMoto {
    url: String,
    child: std::process::Child,
}

impl Drop for AuthMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl AuthMoto {
    fn start(free_actions: u32) -> AuthMoto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", free_actions.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m moto.server (scripts/install-deps.sh installs moto)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "moto did not start");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        AuthMoto {
            url: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    /// An IAM query call while calls are still free (moto routes by the credential scope).
    async fn iam(&self, params: &[(&str, &str)]) -> String {
        let mut form = vec![("Version", "2010-05-08")];
        form.extend_from_slice(params);
        let resp = reqwest::Client::new()
            .post(format!("{}/", self.url))
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAFREE/20250101/us-east-1/iam/aws4_request, \
                 SignedHeaders=host, Signature=00",
            )
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{params:?}: {}", resp.status());
        resp.text().await.unwrap()
    }
}

fn xml_text(xml: &str, tag: &str) -> String {
    let doc = roxmltree::Document::parse(xml).unwrap();
    doc.descendants()
        .find(|n| n.has_tag_name(tag))
        .and_then(|n| n.text())
        .unwrap_or_else(|| panic!("no {tag} in {xml}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecr_logs_in_with_the_token_from_a_sigv4_signed_get_authorization_token() {
    // Three free calls make a user allowed to ask for ECR tokens; every call after is checked.
    let moto = AuthMoto::start(3);
    moto.iam(&[("Action", "CreateUser"), ("UserName", "ci")])
        .await;
    let key = moto
        .iam(&[("Action", "CreateAccessKey"), ("UserName", "ci")])
        .await;
    let (key_id, secret) = (
        xml_text(&key, "AccessKeyId"),
        xml_text(&key, "SecretAccessKey"),
    );
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:GetAuthorizationToken","Resource":"*"}]}"#;
    moto.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "ci"),
        ("PolicyName", "ecr-login"),
        ("PolicyDocument", policy),
    ])
    .await;

    // The registry takes what ECR would: user AWS with the token's password.
    let reg = TestRegistry::start(&[(USER, PASS), ("AWS", MOTO_ECR_PASSWORD)]);
    let digest = reg.push(USER, PASS, "mediaserver", "v1", b"ecr image");
    let ecr = [
        ("ARTIFACTS_REGISTRY_PROVIDER", "AWS_ECR"),
        ("AWS_ACCOUNT_ID", MOTO_ACCOUNT),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DOCKER_REPOSITORY_NAME", "mediaserver"),
        ("AWS_ACCESS_KEY_ID", key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
        ("AWS_ECR_ENDPOINT", moto.url.as_str()),
    ];

    let out = mediaserver_off_runtime(&["registry", "tag", "v1"], &ecr).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mediaserver:v1"
    );

    let mut env = ecr.to_vec();
    env.push(("ARTIFACTS_REGISTRY_HOST", reg.host.as_str()));
    let out = mediaserver_off_runtime(&["registry", "image", "--insecure", "v1"], &env).await;
    assert!(out.status.success(), "{}\n{}", stderr(&out), reg.log());
    let info: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(info["digest"], digest.as_str());

    // A wrong secret: moto's signature check refuses it; the secret is not printed.
    let wrong: Vec<_> = env
        .iter()
        .map(|&(k, v)| {
            if k == "AWS_SECRET_ACCESS_KEY" {
                (k, "wrong-secret-value")
            } else {
                (k, v)
            }
        })
        .collect();
    let out = mediaserver_off_runtime(&["registry", "image", "--insecure", "v1"], &wrong).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("as AWS access key {key_id}")),
        "{err}"
    );
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(!err.contains("wrong-secret-value"), "{err}");

    let out = mediaserver_off_runtime(&["registry", "delete", "--insecure", "v1"], &env).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!reg.has_manifest(USER, PASS, "mediaserver", &digest));

    // Without AWS keys there is no ECR login: said before anything is sent.
    let no_keys: Vec<_> = env
        .iter()
        .copied()
        .filter(|(k, _)| !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET"))
        .collect();
    let out = mediaserver_off_runtime(&["registry", "image", "--insecure", "v1"], &no_keys).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("AWS_ACCESS_KEY_ID"),
        "{}",
        stderr(&out)
    );
}

const TENANCY: &str = "ocid1.tenancy.oc1..aaaaregistryproviders";
const OCI_USER: &str = "ocid1.user.oc1..aaaaregistryproviders";
const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaaimages";
const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// Deleting by digest deletes that image or nothing: a listing that is not filtered by digest
/// (an Artifacts API version without `imageDigest`) lists the repository's other images too,
/// and the first of them is not the one asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ocir_delete_by_digest_deletes_only_that_image() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    let keep = standin.add_ocir_image(COMPARTMENT, "app", D2, &["v2"]);
    let gone = standin.add_ocir_image(COMPARTMENT, "app", D1, &["v1"]);
    standin.ocir_ignore_digest_filter();
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    standin.keys().insert_api_key(TENANCY, OCI_USER, &key);
    let cfg = crate::common::write_oci_config(dir.path(), TENANCY, OCI_USER, &key);
    let cfg = cfg.display().to_string();
    let env = [
        ("OCI_AUTH", "api_key"),
        ("OCI_CONFIG_FILE", cfg.as_str()),
        ("OCI_ARTIFACTS_ENDPOINT", standin.url()),
        ("OCI_COMPARTMENT_ID", COMPARTMENT),
    ];
    let out = mediaserver_off_runtime(
        &["registry", "delete", &format!("iad.ocir.io/ns/app@{D1}")],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), D1);
    let deleted: Vec<String> = standin
        .ocir_image_deletes()
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(deleted, [gone]);
    let left: Vec<String> = standin.ocir_images().into_iter().map(|i| i.id).collect();
    assert_eq!(left, [keep]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ocir_deletes_through_the_signed_artifacts_api() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    let v1 = standin.add_ocir_image(COMPARTMENT, "app", D1, &["v1", "stable"]);
    let v2 = standin.add_ocir_image(COMPARTMENT, "app", D2, &["v2"]);
    standin.add_ocir_image(COMPARTMENT, "other", D1, &["v1"]);

    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    let cfg = crate::common::write_oci_config(dir.path(), TENANCY, OCI_USER, &key);
    let cfg = cfg.display().to_string();
    let env = [
        ("OCI_AUTH", "api_key"),
        ("OCI_CONFIG_FILE", cfg.as_str()),
        ("OCI_ARTIFACTS_ENDPOINT", standin.url()),
        ("OCI_COMPARTMENT_ID", COMPARTMENT),
    ];
    let by_tag = ["registry", "delete", "iad.ocir.io/ns/app:v1"];

    // The key is not known to OCI: refused, naming the principal; nothing deleted.
    let out = mediaserver_off_runtime(&by_tag, &env).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("ListContainerImages for iad.ocir.io/ns/app:v1"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{TENANCY}/{OCI_USER}/{}", key.fingerprint())),
        "{err}"
    );
    assert_eq!(standin.ocir_images().len(), 3);

    standin.keys().insert_api_key(TENANCY, OCI_USER, &key);
    let out = mediaserver_off_runtime(&by_tag, &env).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), D1);
    let key_id = format!("{TENANCY}/{OCI_USER}/{}", key.fingerprint());
    assert_eq!(standin.ocir_image_deletes(), [(key_id.clone(), v1)]);

    // By digest; the other repository's image with the same digest stays.
    let out = mediaserver_off_runtime(
        &["registry", "delete", &format!("iad.ocir.io/ns/app@{D2}")],
        &env,
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), D2);
    assert_eq!(standin.ocir_image_deletes()[1], (key_id, v2));
    let left = standin.ocir_images();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].repository_name, "other");

    // With the tenancy as the compartment, every compartment under it is searched.
    let by_tenancy = [env[0], env[1], env[2], ("OCI_COMPARTMENT_ID", TENANCY)];
    let out = mediaserver_off_runtime(
        &["registry", "delete", "iad.ocir.io/ns/other:v1"],
        &by_tenancy,
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(standin.ocir_images().is_empty());

    // Gone: not found. No compartment: said before anything is sent.
    let out = mediaserver_off_runtime(&by_tag, &env).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));
    let out = mediaserver_off_runtime(&by_tag, &env[..3]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("OCI_CONTAINER_REPOSITORY_COMPARTMENT_ID"),
        "{}",
        stderr(&out)
    );
}
