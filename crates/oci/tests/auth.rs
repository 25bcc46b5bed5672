//! The three principals against the local stand-in, which verifies signatures, dates, body
//! hashes and (for federation) the certificate chain the way OCI does; and the errors a user
//! sees for a broken setup.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method};
use mediaserver_oci::auth::config_file::ConfigFile;
use mediaserver_oci::auth::{ApiKeyProvider, AuthKind, AuthSettings, ResourcePrincipalProvider};
use mediaserver_oci::signer::{self, Body, BodySigning};
use mediaserver_oci::{vault, OciClient, OciError, PrivateKey, Region};
use mediaserver_oci_standin::{Standin, VerifyOptions};
use url::Url;

const TENANCY: &str = "ocid1.tenancy.oc1..aaaastandin";
const USER: &str = "ocid1.user.oc1..aaaauser";
const SECRET: &str = "ocid1.vaultsecret.oc1.iad.amaaaaaajwt";

fn settings(kind: AuthKind, standin: &Standin) -> AuthSettings {
    AuthSettings {
        kind,
        region: Some(Region::lookup("us-ashburn-1").unwrap()),
        overrides: standin.overrides(),
        ..Default::default()
    }
}

/// A config file + key file in `dir`; returns the config path.
fn write_config(
    dir: &Path,
    key: &PrivateKey,
    fingerprint: &str,
    extra: &str,
) -> std::path::PathBuf {
    let key_path = dir.join("key.pem");
    std::fs::write(&key_path, key.to_pkcs8_pem().unwrap()).unwrap();
    let cfg = dir.join("config");
    std::fs::write(
        &cfg,
        format!(
            "[DEFAULT]\nuser={USER}\nfingerprint={fingerprint}\ntenancy={TENANCY}\nregion=us-ashburn-1\nkey_file={}\n{extra}\n",
            key_path.display()
        ),
    )
    .unwrap();
    cfg
}

#[tokio::test]
async fn api_key_reads_a_vault_secret_and_401_names_the_key() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    standin.put_secret(SECRET, b"jwt-secret-value\n");
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    let cfg = write_config(
        dir.path(),
        &key,
        key.fingerprint(),
        "[PROD]\nregion=eu-frankfurt-1\n",
    );
    let mut s = settings(AuthKind::ApiKey, &standin);
    s.config_file = Some(cfg.clone());
    s.profile = Some("PROD".into());
    s.region = None;

    // Not registered yet: 401 naming the principal, no clock hint.
    let client = OciClient::connect(&s, reqwest::Client::new())
        .await
        .unwrap();
    assert_eq!(
        client.region().id(),
        "eu-frankfurt-1",
        "the profile's region, over DEFAULT's"
    );
    let err = vault::read_secret_string(&client, SECRET)
        .await
        .unwrap_err()
        .to_string();
    let key_id = format!("{TENANCY}/{USER}/{}", key.fingerprint());
    assert!(
        err.contains(SECRET) && err.contains(&format!("API key {key_id}")),
        "{err}"
    );
    assert!(!err.contains("clock"), "{err}");

    standin.keys().insert_api_key(TENANCY, USER, &key);
    assert_eq!(
        vault::read_secret_string(&client, SECRET).await.unwrap(),
        "jwt-secret-value"
    );

    // A stand-in clock 10 minutes ahead: the date is rejected and the error says why.
    standin.set_clock_offset_secs(600);
    let err = vault::read_secret_string(&client, SECRET)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("clock may be skewed"), "{err}");
    standin.set_clock_offset_secs(0);

    let err = vault::read_secret_string(&client, "ocid1.vaultsecret.oc1.iad.missing")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("ocid1.vaultsecret.oc1.iad.missing") && msg.contains("404"),
        "{msg}"
    );
    // The request's own error stays the cause: a caller can tell a missing secret from an
    // outage without reading the message.
    let cause = std::error::Error::source(&err).and_then(|c| c.downcast_ref::<OciError>());
    assert!(
        matches!(cause, Some(OciError::Service { status: 404, .. })),
        "{err:?}"
    );
    let msg = vault::read_secret_string(&client, "not-an-ocid")
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("'not-an-ocid' is not a secret OCID"), "{msg}");
}

#[test]
fn config_file_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    let cfg = write_config(dir.path(), &key, key.fingerprint(), "");

    let msg = ApiKeyProvider::from_config_file(&cfg, "NOPE")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("profile 'NOPE' not found") && msg.contains("DEFAULT"),
        "{msg}"
    );

    let msg = ApiKeyProvider::from_config_file(&dir.path().join("absent"), "DEFAULT")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("absent") && msg.contains("does not exist"),
        "{msg}"
    );

    let wrong_fp = "12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc:de:f0";
    let cfg = write_config(dir.path(), &key, wrong_fp, "");
    let msg = ApiKeyProvider::from_config_file(&cfg, "DEFAULT")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(wrong_fp) && msg.contains(key.fingerprint()),
        "{msg}"
    );

    // An encrypted key with the wrong pass phrase, and a key_file that is not there.
    let enc =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys/traditional_aes128.pem");
    let text = format!(
        "[DEFAULT]\nuser={USER}\nfingerprint=aa\ntenancy={TENANCY}\nkey_file={}\npass_phrase=nope\n[GONE]\nkey_file=/nonexistent/key.pem\n",
        enc.display()
    );
    std::fs::write(&cfg, text).unwrap();
    let msg = ApiKeyProvider::from_config_file(&cfg, "DEFAULT")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("wrong pass phrase") && msg.contains("traditional_aes128.pem"),
        "{msg}"
    );
    let msg = ApiKeyProvider::from_config_file(&cfg, "GONE")
        .unwrap_err()
        .to_string();
    assert!(msg.contains("/nonexistent/key.pem"), "{msg}");

    let parsed = ConfigFile::load(&cfg).unwrap();
    let msg = ApiKeyProvider::from_profile(
        &ConfigFile::parse("[X]\nuser=u\n", Path::new("inline"))
            .unwrap()
            .profile("X")
            .unwrap(),
        parsed.path(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("'tenancy' is missing") && msg.contains("[X]"),
        "{msg}"
    );
}

#[tokio::test]
async fn instance_principal_federates_refreshes_before_expiry_and_after_401() {
    let standin = Standin::start(TENANCY, "iad").await.unwrap();
    standin.put_secret(SECRET, b"s3");
    // Long enough that a loaded machine still reuses the first token, short enough to wait out.
    standin.set_token_ttl_secs(8);
    let mut s = settings(AuthKind::InstancePrincipal, &standin);
    s.region = None; // from the metadata service ("iad")
    let client = OciClient::connect(&s, reqwest::Client::new())
        .await
        .unwrap();
    assert_eq!(client.region().id(), "us-ashburn-1");
    assert_eq!(client.auth().tenancy_id().as_deref(), Some(TENANCY));
    assert_eq!(standin.federation_calls(), 1);
    assert_eq!(
        vault::read_secret_string(&client, SECRET).await.unwrap(),
        "s3"
    );
    assert_eq!(standin.federation_calls(), 1, "a fresh token is reused");

    // Half of the 8 s lifetime later the token is renewed before use.
    tokio::time::sleep(Duration::from_millis(4200)).await;
    assert_eq!(
        vault::read_secret_string(&client, SECRET).await.unwrap(),
        "s3"
    );
    assert_eq!(standin.federation_calls(), 2);

    // A revoked token: 401, then one refresh and a successful retry.
    standin.set_token_ttl_secs(1200);
    client.auth().refresh().await.unwrap();
    let before = standin.federation_calls();
    standin.revoke_session_tokens();
    assert_eq!(
        vault::read_secret_string(&client, SECRET).await.unwrap(),
        "s3"
    );
    assert_eq!(standin.federation_calls(), before + 1);

    // Every stand-in rejection was a revoked token, never a malformed request.
    for r in standin.rejections() {
        assert_eq!(r.message, "unknown keyId", "{r}");
    }

    // A skewed clock breaks federation, and the error says which principal and why.
    standin.set_clock_offset_secs(-900);
    standin.revoke_session_tokens();
    let err = vault::read_secret_string(&client, SECRET)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("instance principal") && err.contains("clock skew"),
        "{err}"
    );
    assert!(!err.contains("ST$"), "{err}");
}

#[tokio::test]
async fn instance_principal_without_metadata_service_fails_clearly() {
    let s = AuthSettings {
        kind: AuthKind::InstancePrincipal,
        overrides: mediaserver_oci::EndpointOverrides {
            metadata: Some("http://127.0.0.1:9/opc/v2".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let err = OciClient::connect(&s, reqwest::Client::new())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("instance metadata service") && err.contains("127.0.0.1:9"),
        "{err}"
    );
}

#[tokio::test]
async fn resource_principal_inline_and_rotating_files() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    standin.put_secret(SECRET, b"rp");
    let key = PrivateKey::generate().unwrap();

    // Inline token and encrypted key.
    let enc_pem = encrypt_pkcs8(&key, "pw");
    let token = standin.issue_session_token(key.public_key_der(), 1200);
    let env = |rpst: &str, pem: &str, pass: Option<&str>| {
        let rpst = rpst.to_string();
        let pem = pem.to_string();
        let pass = pass.map(str::to_string);
        AuthSettings::from_lookup(move |name| match name {
            "OCI_AUTH" => Some("resource_principal".into()),
            "OCI_RESOURCE_PRINCIPAL_VERSION" => Some("2.2".into()),
            "OCI_RESOURCE_PRINCIPAL_RPST" => Some(rpst.clone()),
            "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM" => Some(pem.clone()),
            "OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM_PASSPHRASE" => pass.clone(),
            "OCI_RESOURCE_PRINCIPAL_REGION" => Some("us-ashburn-1".into()),
            _ => None,
        })
        .unwrap()
    };
    let mut s = env(&token, &enc_pem, Some("pw"));
    s.overrides = standin.overrides();
    let client = OciClient::connect(&s, reqwest::Client::new())
        .await
        .unwrap();
    assert_eq!(
        vault::read_secret_string(&client, SECRET).await.unwrap(),
        "rp"
    );
    assert_eq!(client.auth().tenancy_id().as_deref(), Some(TENANCY));

    // An inline token cannot be refreshed: a 401 is final and names the principal, not the token.
    standin.revoke_session_tokens();
    let err = vault::read_secret_string(&client, SECRET)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("session token of resource principal"), "{err}");
    assert!(!err.contains(&token) && !err.contains("ST$"), "{err}");

    // Files: the token file is re-read when the token nears expiry.
    let dir = tempfile::tempdir().unwrap();
    let (rpst_path, pem_path) = (dir.path().join("rpst"), dir.path().join("key.pem"));
    std::fs::write(
        &rpst_path,
        standin.issue_session_token(key.public_key_der(), 4),
    )
    .unwrap();
    std::fs::write(&pem_path, key.to_pkcs8_pem().unwrap()).unwrap();
    let mut s = env(
        rpst_path.to_str().unwrap(),
        pem_path.to_str().unwrap(),
        None,
    );
    s.overrides = standin.overrides();
    let client = OciClient::connect(&s, reqwest::Client::new())
        .await
        .unwrap();
    assert_eq!(
        vault::read_secret_string(&client, SECRET).await.unwrap(),
        "rp"
    );
    standin.revoke_session_tokens();
    std::fs::write(
        &rpst_path,
        standin.issue_session_token(key.public_key_der(), 1200),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(
        vault::read_secret_string(&client, SECRET).await.unwrap(),
        "rp"
    );
}

#[test]
fn resource_principal_setup_errors() {
    let make = |vars: &'static [(&'static str, &'static str)]| {
        let s = AuthSettings::from_lookup(|n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        })
        .unwrap();
        ResourcePrincipalProvider::from_env(&s.resource_principal)
            .unwrap_err()
            .to_string()
    };
    let msg = make(&[]);
    assert!(
        msg.contains("OCI_RESOURCE_PRINCIPAL_VERSION is not set"),
        "{msg}"
    );
    let msg = make(&[("OCI_RESOURCE_PRINCIPAL_VERSION", "1.1")]);
    assert!(msg.contains("'1.1'") && msg.contains("2.2"), "{msg}");
    let msg = make(&[("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2")]);
    assert!(
        msg.contains("OCI_RESOURCE_PRINCIPAL_RPST is not set"),
        "{msg}"
    );
    let msg = make(&[
        ("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2"),
        ("OCI_RESOURCE_PRINCIPAL_RPST", "/nonexistent/rpst"),
        ("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", "/nonexistent/key.pem"),
        ("OCI_RESOURCE_PRINCIPAL_REGION", "us-ashburn-1"),
    ]);
    assert!(msg.contains("/nonexistent/rpst"), "{msg}");
    let msg = make(&[
        ("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2"),
        ("OCI_RESOURCE_PRINCIPAL_RPST", "a.b.c"),
        ("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", "x"),
        ("OCI_RESOURCE_PRINCIPAL_REGION", "atlantis-1"),
    ]);
    assert!(msg.contains("atlantis-1"), "{msg}");
}

#[test]
fn oci_auth_values_are_validated() {
    let err = AuthSettings::from_lookup(|n| (n == "OCI_AUTH").then(|| "password".to_string()))
        .unwrap_err();
    assert!(
        err.to_string().contains("OCI_AUTH") && err.to_string().contains("'password'"),
        "{err}"
    );
    let err = AuthSettings::from_lookup(|n| (n == "OCI_REGION").then(|| "moon-1".to_string()))
        .unwrap_err();
    assert!(
        err.to_string().contains("OCI_REGION") && err.to_string().contains("moon-1"),
        "{err}"
    );
}

/// The stand-in's verifier: a correctly signed request passes; a tampered body, a changed
/// signed header, an unknown key and an old date do not.
#[test]
fn verifier_rejects_tampering() {
    let key = PrivateKey::generate().unwrap();
    let registry = mediaserver_oci_standin::KeyRegistry::default();
    let key_id = registry.insert_api_key(TENANCY, USER, &key);
    let url = Url::parse("http://127.0.0.1:1/20210415/containerInstances?x=1").unwrap();
    let body = br#"{"displayName":"job"}"#;
    let mut headers = HeaderMap::new();
    signer::sign_parts(
        &Method::POST,
        &url,
        &mut headers,
        Body::Bytes(body),
        &key_id,
        &key,
        BodySigning::Auto,
    )
    .unwrap();
    let target = signer::request_target(&url);
    let opts = VerifyOptions::default();
    let ok = registry
        .verify(&Method::POST, &target, &headers, Some(body), &opts)
        .unwrap();
    assert_eq!(ok.key_id, key_id);

    let err = registry
        .verify(
            &Method::POST,
            &target,
            &headers,
            Some(br#"{"displayName":"evil"}"#),
            &opts,
        )
        .unwrap_err();
    assert!(err.message.contains("x-content-sha256"), "{err}");

    let mut forged = headers.clone();
    forged.insert(
        "x-content-sha256",
        HeaderValue::from_str(&signer::content_sha256(b"{}")).unwrap(),
    );
    forged.insert("content-length", HeaderValue::from_static("2"));
    let err = registry
        .verify(&Method::POST, &target, &forged, Some(b"{}"), &opts)
        .unwrap_err();
    assert_eq!(err.message, "the signature does not verify");

    let err = registry
        .verify(
            &Method::POST,
            "/20210415/containerInstances?x=2",
            &headers,
            Some(body),
            &opts,
        )
        .unwrap_err();
    assert_eq!(err.message, "the signature does not verify");

    let mut no_body_sig = HeaderMap::new();
    signer::sign_parts(
        &Method::POST,
        &url,
        &mut no_body_sig,
        Body::Bytes(body),
        &key_id,
        &key,
        BodySigning::Exclude,
    )
    .unwrap();
    let err = registry
        .verify(&Method::POST, &target, &no_body_sig, Some(body), &opts)
        .unwrap_err();
    assert!(err.message.contains("content-length"), "{err}");

    let other = PrivateKey::generate().unwrap();
    let mut h = HeaderMap::new();
    signer::sign_parts(
        &Method::GET,
        &url,
        &mut h,
        Body::None,
        &key_id,
        &other,
        BodySigning::Auto,
    )
    .unwrap();
    assert!(registry
        .verify(&Method::GET, &target, &h, None, &opts)
        .is_err());
    let mut h = HeaderMap::new();
    signer::sign_parts(
        &Method::GET,
        &url,
        &mut h,
        Body::None,
        "someone/else/aa",
        &key,
        BodySigning::Auto,
    )
    .unwrap();
    assert_eq!(
        registry
            .verify(&Method::GET, &target, &h, None, &opts)
            .unwrap_err()
            .message,
        "unknown keyId"
    );

    let mut old = HeaderMap::new();
    old.insert(
        "date",
        HeaderValue::from_static("Thu, 05 Jan 2014 21:31:40 GMT"),
    );
    signer::sign_parts(
        &Method::GET,
        &url,
        &mut old,
        Body::None,
        &key_id,
        &key,
        BodySigning::Auto,
    )
    .unwrap();
    let err = registry
        .verify(&Method::GET, &target, &old, None, &opts)
        .unwrap_err();
    assert!(err.message.contains("clock skew"), "{err}");
}

/// PKCS#8 encrypted with AES-256-CBC/PBKDF2, as `openssl pkcs8 -topk8 -v2 aes-256-cbc` writes.
fn encrypt_pkcs8(key: &PrivateKey, pass: &str) -> String {
    use pkcs8::der::Decode;
    let pem_text = key.to_pkcs8_pem().unwrap();
    let der = pem::parse(pem_text).unwrap().into_contents();
    let info = pkcs8::PrivateKeyInfo::from_der(&der).unwrap();
    // PBKDF2 rather than the crate's default scrypt, which takes many seconds unoptimised.
    let (salt, iv): ([u8; 16], [u8; 16]) = (rand::random(), rand::random());
    let params =
        pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, &salt, &iv).unwrap();
    let enc = info.encrypt_with_params(params, pass).unwrap();
    pem::encode(&pem::Pem::new(
        "ENCRYPTED PRIVATE KEY",
        enc.as_bytes().to_vec(),
    ))
}
