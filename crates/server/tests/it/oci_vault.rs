//! Secrets from OCI Vault: `JWT_SECRET_OCID` and `DATABASE_URL_SECRET_OCID` read at startup
//! through the Secrets API of a local stand-in that verifies every request's signature, with
//! an API key (in process) and as an instance principal (the `mediaserver` binary).

use crate::common;

use base64::Engine as _;
use common::TestServer;
use hmac::{Hmac, Mac};
use mediaserver_oci::PrivateKey;
use mediaserver_oci_standin::Standin;
use reqwest::StatusCode;
use sha2::Sha256;

const TENANCY: &str = "ocid1.tenancy.oc1..aaaavault";
const USER: &str = "ocid1.user.oc1..aaaauser";
const JWT_OCID: &str = "ocid1.vaultsecret.oc1.iad.amaaaaaajwtsecret";
const DB_OCID: &str = "ocid1.vaultsecret.oc1.iad.amaaaaaadburl";
const JWT_SECRET: &str = "vault-held-signing-secret-0123456789abcdef";

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn hs256(secret: &str, header_payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(header_payload.as_bytes());
    b64url(&mac.finalize().into_bytes())
}

/// An access token minted outside the server with `secret`, for user `sub`'s login session
/// `sid`.
fn mint(secret: &str, sub: &str, sid: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let hp = format!(
        "{}.{}",
        b64url(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64url(serde_json::json!({"sub": sub, "role": "user", "sid": sid, "iat": now, "exp": now + 600, "typ": "access"}).to_string().as_bytes())
    );
    format!("{hp}.{}", hs256(secret, &hp))
}

#[tokio::test]
async fn jwt_secret_and_database_url_come_from_the_vault() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("from-vault.db");
    standin.put_secret(JWT_OCID, format!("{JWT_SECRET}\n").as_bytes());
    standin.put_secret(
        DB_OCID,
        format!("sqlite://{}", db_path.display()).as_bytes(),
    );

    let key = PrivateKey::generate().unwrap();
    standin.keys().insert_api_key(TENANCY, USER, &key);
    let oci_config = common::write_oci_config(dir.path(), TENANCY, USER, &key)
        .display()
        .to_string();
    let env = [
        ("JWT_SECRET_OCID", JWT_OCID),
        ("DATABASE_URL_SECRET_OCID", DB_OCID),
        ("OCI_AUTH", "api_key"),
        ("OCI_CONFIG_FILE", oci_config.as_str()),
        ("OCI_SECRETS_ENDPOINT", standin.url()),
    ];

    let data = tempfile::tempdir().unwrap();
    let config = common::config_with(data.path(), &env);
    let config = mediaserver::resolve_oci_secrets(config)
        .await
        .expect("secrets from the vault");
    assert_eq!(
        config.database.url,
        format!("sqlite://{}", db_path.display())
    );
    assert_eq!(standin.secret_reads(), 2);
    let state = mediaserver::build_state(&config).await.expect("state");
    assert!(
        db_path.exists(),
        "the database named in the vault secret was created"
    );
    let server = TestServer::start_state(data, &config, state).await;

    // Tokens the server issues are signed with the vault's secret...
    let token = server.user_token("vault@example.com").await;
    let (hp, sig) = token.rsplit_once('.').unwrap();
    assert_eq!(sig, hs256(JWT_SECRET, hp));
    let me: serde_json::Value = server
        .get("/v1/auth/me", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = me["id"].as_str().unwrap().to_string();
    // The session the server's token belongs to (a minted token must name a live one).
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(hp.split('.').nth(1).unwrap())
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let sid = claims["sid"].as_str().unwrap().to_string();

    // ...and a token minted elsewhere with that secret is accepted; one with another is not.
    let resp = server
        .get("/v1/auth/me", &mint(JWT_SECRET, &id, &sid))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = server
        .get(
            "/v1/auth/me",
            &mint("some-other-secret-0123456789abcdef0123", &id, &sid),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // A secret that is not there: the error names the variable and the secret.
    let mut env_missing = env;
    env_missing[0] = (
        "JWT_SECRET_OCID",
        "ocid1.vaultsecret.oc1.iad.amaaaaaanothere",
    );
    let cfg = common::config_with(tempfile::tempdir().unwrap().path(), &env_missing);
    let err = format!(
        "{:#}",
        mediaserver::resolve_oci_secrets(cfg).await.unwrap_err()
    );
    assert!(
        err.contains("JWT_SECRET_OCID")
            && err.contains("ocid1.vaultsecret.oc1.iad.amaaaaaanothere")
            && err.contains("404"),
        "{err}"
    );
}

fn bin(envs: &[(&str, &str)]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_mediaserver"));
    c.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        c.env("PATH", path);
    }
    c.envs(envs.iter().copied());
    c
}

#[tokio::test]
async fn the_binary_reads_vault_secrets_as_an_instance_principal() {
    let standin = Standin::start(TENANCY, "us-phoenix-1").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("ip.db");
    standin.put_secret(JWT_OCID, JWT_SECRET.as_bytes());
    standin.put_secret(
        DB_OCID,
        format!("sqlite://{}", db_path.display()).as_bytes(),
    );
    let metadata = format!("{}/opc/v2", standin.url());
    let base = [
        ("DATA_DIR", dir.path().to_str().unwrap()),
        ("OCI_AUTH", "instance_principal"),
        ("OCI_METADATA_ENDPOINT", metadata.as_str()),
        ("OCI_AUTH_ENDPOINT", standin.url()),
        ("OCI_SECRETS_ENDPOINT", standin.url()),
        ("DATABASE_URL_SECRET_OCID", DB_OCID),
    ];

    let mut env = base.to_vec();
    env.push(("JWT_SECRET_OCID", JWT_OCID));
    let out = bin(&env).arg("migrate").output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(db_path.exists(), "migrated the database named in the vault");
    assert_eq!(standin.federation_calls(), 1);

    let mut env = base.to_vec();
    env.push(("JWT_SECRET_OCID", "ocid1.vaultsecret.oc1.phx.amaaaaaagone"));
    let out = bin(&env).arg("migrate").output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("JWT_SECRET_OCID")
            && stderr.contains("ocid1.vaultsecret.oc1.phx.amaaaaaagone"),
        "{stderr}"
    );

    // OCI's clock (here the stand-in's) 15 minutes away: federation is refused, and the error
    // says which principal was used and that the clock may be skewed, without any token.
    standin.set_clock_offset_secs(900);
    let mut env = base.to_vec();
    env.push(("JWT_SECRET_OCID", JWT_OCID));
    let out = bin(&env).arg("migrate").output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("instance principal") && stderr.contains("clock skew"),
        "{stderr}"
    );
    assert!(!stderr.contains("ST$"), "{stderr}");
}
