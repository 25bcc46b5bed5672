//! `mediaserver registry resolve|tags` against a real registry (docker-registry with htpasswd
//! auth, images pushed by skopeo from OCI layouts built by the test), and OCIR's signed token
//! exchange against the OCI stand-in, whose token the registry accepts as the password of
//! `BEARER_TOKEN` (what OCIR does with the tokens it issues).

use crate::registry_support as support;

use mediaserver_oci::PrivateKey;
use mediaserver_oci_standin::Standin;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use support::TestRegistry;

const USER: &str = "ci";
const PASS: &str = "ci-password";

/// Runs the binary with only the variables given (plus PATH/HOME), `stdin` fed in.
/// [`mediaserver`] from an async test whose runtime also serves the stand-in it talks to.
pub(crate) async fn mediaserver_off_runtime(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        mediaserver(&args, &env, None)
    })
    .await
    .unwrap()
}

pub(crate) fn mediaserver(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mediaserver"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run mediaserver");
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

fn creds() -> [(&'static str, &'static str); 2] {
    [("OCIR_USERNAME", USER), ("OCIR_AUTH_TOKEN", PASS)]
}

#[test]
fn resolve_prints_the_digest_skopeo_reports_and_tags_lists_the_pushed_tags() {
    let reg = TestRegistry::start(&[(USER, PASS)]);
    let v1 = reg.push(USER, PASS, "ns/app", "v1", b"first image");
    let v2 = reg.push(USER, PASS, "ns/app", "v2", b"second image");
    assert_ne!(v1, v2);
    // The same content under another tag: same manifest, same digest.
    let latest = reg.push(USER, PASS, "ns/app", "latest", b"second image");
    assert_eq!(latest, v2);

    let image = format!("{}/ns/app:v1", reg.host);
    let out = mediaserver(
        &["registry", "resolve", "--insecure", &image],
        &creds(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), v1);

    // Password on standard input, user from the flag; no tag means latest; --pinned.
    let repo = format!("{}/ns/app", reg.host);
    let out = mediaserver(
        &[
            "registry",
            "resolve",
            "--insecure",
            "--username",
            USER,
            "--password-stdin",
            "--pinned",
            &repo,
        ],
        &[],
        Some(&format!("{PASS}\n")),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{repo}@{v2}"));

    // A reference that already carries the digest is checked, and agrees.
    let by_digest = format!("{repo}:v1@{v1}");
    let out = mediaserver(
        &["registry", "resolve", "--insecure", &by_digest],
        &creds(),
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), v1);

    let out = mediaserver(&["registry", "tags", "--insecure", &repo], &creds(), None);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut tags: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    tags.sort();
    assert_eq!(tags, ["latest", "v1", "v2"]);
}

#[test]
fn wrong_password_unknown_tag_and_bad_references_are_clear_errors() {
    let reg = TestRegistry::start(&[(USER, PASS)]);
    reg.push(USER, PASS, "ns/app", "v1", b"an image");
    let image = format!("{}/ns/app:v1", reg.host);

    let out = mediaserver(
        &["registry", "resolve", "--insecure", &image],
        &[
            ("OCIR_USERNAME", USER),
            ("OCIR_AUTH_TOKEN", "not-the-password"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "registry {} refused the login as user 'ci' (401 Unauthorized)",
            reg.host
        )),
        "{err}"
    );
    assert!(
        !err.contains("not-the-password"),
        "the password leaked: {err}"
    );

    let out = mediaserver(&["registry", "tags", "--insecure", &image], &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("refused the login anonymously (401"),
        "{}",
        stderr(&out)
    );

    let missing = format!("{}/ns/app:v9", reg.host);
    let out = mediaserver(
        &["registry", "resolve", "--insecure", &missing],
        &creds(),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "tag 'v9' of repository ns/app not found in registry {}",
            reg.host
        )),
        "{err}"
    );

    let out = mediaserver(
        &[
            "registry",
            "tags",
            "--insecure",
            &format!("{}/ns/nothing", reg.host),
        ],
        &creds(),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("repository ns/nothing not found"),
        "{}",
        stderr(&out)
    );

    let bad = format!("{}/ns/app:Bad Tag!", reg.host);
    let out = mediaserver(&["registry", "resolve", "--insecure", &bad], &creds(), None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("tag 'Bad Tag!' (at character"), "{err}");
    assert!(
        err.contains("is invalid: a tag is 1 to 128 letters"),
        "{err}"
    );

    // OCIR user names must carry the tenancy namespace; said before anything is sent.
    let out = mediaserver(
        &["registry", "resolve", "iad.ocir.io/axaxnpcrorw5/app:v1"],
        &[("OCIR_USERNAME", "jane"), ("OCIR_AUTH_TOKEN", "t")],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("<tenancy namespace>/oracleidentitycloudservice/<user name>"),
        "{}",
        stderr(&out)
    );
}

const TENANCY: &str = "ocid1.tenancy.oc1..aaaaregistrytest";
const OCI_USER: &str = "ocid1.user.oc1..aaaaregistry";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oci_signed_token_exchange_logs_in_as_bearer_token() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    let token = "ocir-token-from-the-standin";
    standin.set_ocir_token(token);
    let reg = TestRegistry::start(&[(USER, PASS), ("BEARER_TOKEN", token)]);
    let digest = reg.push(USER, PASS, "ns/app", "v1", b"token image");

    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    let cfg = crate::common::write_oci_config(dir.path(), TENANCY, OCI_USER, &key);
    let cfg = cfg.display().to_string();
    let env = [
        ("OCI_AUTH", "api_key"),
        ("OCI_CONFIG_FILE", cfg.as_str()),
        ("OCIR_ENDPOINT", standin.url()),
        // Ignored with --oci-auth.
        ("OCIR_USERNAME", "someone"),
    ];
    let image = format!("{}/ns/app:v1", reg.host);
    let args = [
        "registry",
        "resolve",
        "--insecure",
        "--oci-auth",
        image.as_str(),
    ];

    // The key is not known to OCI yet: the exchange is refused, naming the principal.
    let out = mediaserver_off_runtime(&args, &env).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("OCIR token exchange at"), "{err}");
    assert!(err.contains("/20180419/docker/token failed"), "{err}");
    assert!(
        err.contains(&format!(
            "signed as API key {TENANCY}/{OCI_USER}/{}",
            key.fingerprint()
        )),
        "{err}"
    );
    assert_eq!(standin.ocir_token_calls(), 0);

    standin.keys().insert_api_key(TENANCY, OCI_USER, &key);
    let out = mediaserver_off_runtime(&args, &env).await;
    assert!(
        out.status.success(),
        "{}\nregistry: {}",
        stderr(&out),
        reg.log()
    );
    assert_eq!(stdout(&out), digest);
    assert_eq!(standin.ocir_token_calls(), 1);
    assert_eq!(
        standin.ocir_token_signers(),
        [format!("{TENANCY}/{OCI_USER}/{}", key.fingerprint())]
    );
}

/// A registry that pages its tag list by at most 100, whatever `n` asks for (as registries
/// may: the distribution spec lets them return fewer), with a `Link` to the next page.
async fn capped_tags_registry(tags: Vec<String>) -> String {
    use axum::extract::Query;
    use axum::response::IntoResponse;
    let tags = std::sync::Arc::new(tags);
    let list = move |Query(q): Query<std::collections::HashMap<String, String>>| {
        let tags = tags.clone();
        async move {
            let n = q
                .get("n")
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or(100)
                .min(100);
            let after: Vec<&String> = tags
                .iter()
                .filter(|t| q.get("last").is_none_or(|l| t.as_str() > l.as_str()))
                .collect();
            let page: Vec<&String> = after.iter().copied().take(n).collect();
            let mut resp =
                axum::Json(serde_json::json!({"name": "ns/app", "tags": page})).into_response();
            if let (true, Some(last)) = (after.len() > n, page.last()) {
                let link = format!("</v2/ns/app/tags/list?n={n}&last={last}>; rel=\"next\"");
                resp.headers_mut()
                    .insert("link", link.parse().expect("header value"));
            }
            resp
        }
    };
    let app = axum::Router::new()
        .route("/v2/", axum::routing::get(|| async { "{}" }))
        .route("/v2/ns/app/tags/list", axum::routing::get(list));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });
    host
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_follows_pages_shorter_than_it_asked_for() {
    let all: Vec<String> = (0..250).map(|i| format!("t{i:03}")).collect();
    let host = capped_tags_registry(all.clone()).await;
    let repo = format!("{host}/ns/app");
    let out = mediaserver_off_runtime(
        &["registry", "tags", "--insecure", "--anonymous", &repo],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(listed, all);
}
