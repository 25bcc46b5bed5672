//! `EVENTS_SECRET_OCID` and `WEBHOOK_SECRET_OCID`: the events endpoint's secret and the webhook
//! signing secret read from OCI Vault at startup, through the signature-checking stand-in, as
//! `JWT_SECRET_OCID` is (`oci_vault.rs`).

use crate::common;

use common::TestServer;
use mediaserver_oci::PrivateKey;
use mediaserver_oci_standin::Standin;
use reqwest::StatusCode;

const TENANCY: &str = "ocid1.tenancy.oc1..aaaasharedsecrets";
const USER: &str = "ocid1.user.oc1..aaaasharedsecrets";
const EVENTS_OCID: &str = "ocid1.vaultsecret.oc1.iad.amaaaaaaeventssecret";
const WEBHOOK_OCID: &str = "ocid1.vaultsecret.oc1.iad.amaaaaaawebhooksecret";
const EVENTS_SECRET: &str = "events-secret-held-in-the-vault";
const WEBHOOK_SECRET: &str = "webhook-secret-held-in-the-vault";

#[tokio::test]
async fn events_and_webhook_secrets_come_from_the_vault() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    // As `echo secret | oci vault secret create…` leaves it: with a newline.
    standin.put_secret(EVENTS_OCID, format!("{EVENTS_SECRET}\n").as_bytes());
    standin.put_secret(WEBHOOK_OCID, WEBHOOK_SECRET.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    standin.keys().insert_api_key(TENANCY, USER, &key);
    let oci_config = common::write_oci_config(dir.path(), TENANCY, USER, &key)
        .display()
        .to_string();
    let env = [
        ("EVENTS_SECRET_OCID", EVENTS_OCID),
        ("WEBHOOK_URL", "http://127.0.0.1:9/hook"),
        ("WEBHOOK_SECRET_OCID", WEBHOOK_OCID),
        ("OCI_AUTH", "api_key"),
        ("OCI_CONFIG_FILE", oci_config.as_str()),
        ("OCI_SECRETS_ENDPOINT", standin.url()),
    ];
    let data = tempfile::tempdir().unwrap();
    let config = common::config_with(data.path(), &env);
    let config = mediaserver::resolve_oci_secrets(config)
        .await
        .expect("secrets from the vault");
    assert_eq!(standin.secret_reads(), 2);
    let webhook = config.http.webhook.as_ref().expect("webhook configured");
    assert_eq!(webhook.secret.expose(), WEBHOOK_SECRET);

    // The events endpoint answers the vault's secret, and only it.
    let state = mediaserver::build_state(&config).await.expect("state");
    let s = TestServer::start_state(data, &config, state).await;
    let post = |secret: &str| {
        s.client
            .post(s.url("/v1/events/object-storage"))
            .bearer_auth(secret)
            .body(r#"{"hello":"world"}"#)
            .send()
    };
    assert_eq!(
        post("wrong").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let with_newline = s
        .client
        .post(s.url("/v1/events/object-storage"))
        .query(&[("token", format!("{EVENTS_SECRET}\n"))])
        .body(r#"{"hello":"world"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        with_newline.status(),
        StatusCode::UNAUTHORIZED,
        "the newline is not part of the secret"
    );
    // Past authentication: the body is what is refused.
    assert_eq!(
        post(EVENTS_SECRET).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    // An empty secret, or one that is not there: refused at startup, naming variable and secret.
    standin.put_secret(EVENTS_OCID, b"\n");
    let cfg = common::config_with(tempfile::tempdir().unwrap().path(), &env);
    let err = format!(
        "{:#}",
        mediaserver::resolve_oci_secrets(cfg).await.unwrap_err()
    );
    assert!(
        err.contains("EVENTS_SECRET_OCID") && err.contains(EVENTS_OCID),
        "{err}"
    );
    let mut missing = env;
    missing[2] = (
        "WEBHOOK_SECRET_OCID",
        "ocid1.vaultsecret.oc1.iad.amaaaaaagone",
    );
    standin.put_secret(EVENTS_OCID, EVENTS_SECRET.as_bytes());
    let cfg = common::config_with(tempfile::tempdir().unwrap().path(), &missing);
    let err = format!(
        "{:#}",
        mediaserver::resolve_oci_secrets(cfg).await.unwrap_err()
    );
    assert!(
        err.contains("WEBHOOK_SECRET_OCID") && err.contains("amaaaaaagone"),
        "{err}"
    );
    assert!(
        !err.contains(WEBHOOK_SECRET) && !err.contains(EVENTS_SECRET),
        "{err}"
    );
}
