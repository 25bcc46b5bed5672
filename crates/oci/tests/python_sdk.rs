//! The signer agrees with the `oci` Python SDK's (`oci.signer.Signer`, PyPI `oci`) on a spread
//! of generated requests: every method, paths and queries with spaces, unicode and
//! percent-encoded characters, empty and binary bodies, explicit content types, and Object
//! Storage PutObject/UploadPart (which the SDK signs without body headers). With a fixed date
//! both must produce the same Authorization header byte for byte (RSASSA-PKCS1-v1_5 is
//! deterministic, so equal signatures mean equal signing strings).
//!
//! Needs `python3` with `oci` importable (scripts/install-deps.sh installs it). Without it the
//! test is skipped with a loud message, except under CI, where it fails.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::process::Command;

use base64::Engine as _;
use mediaserver_oci::signer::{self, BodySigning};
use mediaserver_oci::PrivateKey;
use rand::{Rng, SeedableRng};

const DATE: &str = "Tue, 07 Jan 2025 08:09:10 GMT";
const TENANCY: &str = "ocid1.tenancy.oc1..aaaaaaaaxyz";
const USER: &str = "ocid1.user.oc1..aaaaaaaauser";

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn oci_importable() -> bool {
    Command::new(python())
        .args(["-c", "import oci.signer"])
        .current_dir(std::env::temp_dir())
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

struct Case {
    method: reqwest::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    upload: bool,
}

fn segment(rng: &mut rand::rngs::StdRng) -> String {
    // Characters both `url` (Rust) and `requests` (Python) leave or encode the same way.
    const PIECES: &[&str] = &[
        "video", "a", "Z9", "-", "_", ".", "~", " ", "é", "ü", "日本", "%2F", "%20", "(1)", "!",
        "$", "'", "*", ",", "+", "@", ":", ";", "=", "&",
    ];
    let n = rng.gen_range(1..5);
    (0..n)
        .map(|_| PIECES[rng.gen_range(0..PIECES.len())])
        .collect::<String>()
}

fn query(rng: &mut rand::rngs::StdRng) -> String {
    const VALUES: &[&str] = &[
        "1",
        "a b",
        "ä",
        "x%3Dy",
        "CURRENT",
        "2024-01-01T00:00:00Z",
        "",
        "%2F",
    ];
    let n = rng.gen_range(0..4);
    let parts: Vec<String> = (0..n)
        .map(|i| format!("k{i}={}", VALUES[rng.gen_range(0..VALUES.len())]))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn cases() -> Vec<Case> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x0c1);
    let hosts = [
        "https://objectstorage.us-ashburn-1.oraclecloud.com",
        "http://127.0.0.1:8443",
    ];
    let mut out = Vec::new();
    for i in 0..60 {
        let host = hosts[i % 2];
        let method = [
            reqwest::Method::GET,
            reqwest::Method::HEAD,
            reqwest::Method::DELETE,
            reqwest::Method::POST,
            reqwest::Method::PUT,
            reqwest::Method::PATCH,
        ][i % 6]
            .clone();
        let object_op = rng.gen_bool(0.5);
        let path = if object_op {
            let kind = if rng.gen_bool(0.5) { "o" } else { "u" };
            format!("/n/ns{i}/b/bucket-{i}/{kind}/{}", segment(&mut rng))
        } else {
            format!(
                "/2019030{}/{}/{}",
                i % 10,
                segment(&mut rng),
                segment(&mut rng)
            )
        };
        let url = format!("{host}{path}{}", query(&mut rng));
        let has_body = matches!(method.as_str(), "POST" | "PUT" | "PATCH");
        let body = has_body.then(|| match rng.gen_range(0..3) {
            0 => Vec::new(),
            1 => format!("{{\"name\":\"{}\",\"n\":{i}}}", segment(&mut rng)).into_bytes(),
            _ => (0..rng.gen_range(1..3000))
                .map(|_| rng.gen::<u8>())
                .collect(),
        });
        let mut headers = vec![("date".to_string(), DATE.to_string())];
        if has_body && rng.gen_bool(0.4) {
            headers.push(("content-type".into(), "application/octet-stream".into()));
        }
        if rng.gen_bool(0.3) {
            headers.push(("opc-request-id".into(), format!("req-{i}")));
        }
        let upload = method == reqwest::Method::PUT && object_op;
        out.push(Case {
            method,
            url,
            headers,
            body,
            upload,
        });
    }
    out
}

fn auth_params(v: &str) -> HashMap<String, String> {
    mediaserver_oci_standin::parse_authorization(v)
        .unwrap()
        .into_iter()
        .collect()
}

#[test]
fn agrees_with_the_oci_python_sdk() {
    if !oci_importable() {
        if std::env::var_os("CI").is_some() {
            panic!("python `oci` is not importable under CI: scripts/install-deps.sh must install it (pip install oci)");
        }
        eprintln!("\n!!!!!!!! SKIPPED agrees_with_the_oci_python_sdk: `{} -c 'import oci'` failed; run scripts/install-deps.sh (pip install oci) !!!!!!!!\n", python());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    let key_file = dir.path().join("key.pem");
    std::fs::write(&key_file, key.to_pkcs8_pem().unwrap()).unwrap();
    let key_id = format!("{TENANCY}/{USER}/{}", key.fingerprint());
    let client = reqwest::Client::new();

    let cases = cases();
    let mut ours = Vec::new();
    let mut json_cases = Vec::new();
    for c in &cases {
        let mut b = client.request(c.method.clone(), &c.url);
        for (k, v) in &c.headers {
            b = b.header(k, v);
        }
        if let Some(body) = &c.body {
            b = b.body(body.clone());
        }
        let mut req = b.build().unwrap();
        signer::sign_reqwest(&mut req, &key_id, &key, BodySigning::Auto).unwrap();
        json_cases.push(serde_json::json!({
            "method": c.method.as_str(),
            "url": req.url().as_str(),
            "headers": c.headers.iter().cloned().collect::<HashMap<_, _>>(),
            "body_b64": c.body.as_ref().map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
            "exclude_body": c.upload,
            "tenancy": TENANCY,
            "user": USER,
            "fingerprint": key.fingerprint(),
            "key_file": key_file,
        }));
        ours.push(req);
    }
    let cases_file = dir.path().join("cases.json");
    std::fs::write(&cases_file, serde_json::to_vec(&json_cases).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oci_sdk_sign.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&cases_file)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python signer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(theirs.len(), ours.len());

    let (mut uploads, mut with_body) = (0, 0);
    for ((req, case), py) in ours.iter().zip(&cases).zip(&theirs) {
        let what = format!("{} {}", case.method, req.url());
        assert_eq!(
            py["path_url"],
            signer::request_target(req.url()),
            "{what}: both send the same target"
        );
        let py_auth = py["headers"]["authorization"].as_str().unwrap();
        let rs_auth = req.headers()["authorization"].to_str().unwrap();
        let (p, r) = (auth_params(py_auth), auth_params(rs_auth));
        assert_eq!(p["headers"], r["headers"], "{what}: signed header list");
        assert_eq!(p["keyId"], r["keyId"], "{what}");
        assert_eq!(p["signature"], r["signature"], "{what}: signature");
        for h in r["headers"].split(' ').filter(|h| *h != "(request-target)") {
            assert_eq!(
                py["headers"][h].as_str(),
                req.headers()[h].to_str().ok(),
                "{what}: header {h}"
            );
        }
        uploads += usize::from(case.upload);
        with_body += usize::from(r["headers"].contains("x-content-sha256"));
    }
    assert!(
        uploads >= 3 && with_body >= 10,
        "the spread covers uploads ({uploads}) and bodies ({with_body})"
    );
}
