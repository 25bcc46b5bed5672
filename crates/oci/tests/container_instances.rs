//! The Container Instances client against the stand-in: signed create/get/list/delete, the
//! lifecycle with a scripted exit code, `opc-retry-token`, and the body checks.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use mediaserver_oci::auth::{AuthKind, AuthSettings};
use mediaserver_oci::container_instances::{
    ContainerInstancesClient, CreateContainer, CreateContainerInstance, CreateVnic, LifecycleState,
    ShapeConfig,
};
use mediaserver_oci::{OciClient, OciError, PrivateKey, Region};
use mediaserver_oci_standin::Standin;

const TENANCY: &str = "ocid1.tenancy.oc1..aaaaci";
const USER: &str = "ocid1.user.oc1..aaaaci";
const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaajobs";

async fn client(standin: &Standin, register: bool) -> ContainerInstancesClient {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    let key_path = dir.path().join("key.pem");
    std::fs::write(&key_path, key.to_pkcs8_pem().unwrap()).unwrap();
    let cfg = dir.path().join("config");
    std::fs::write(
        &cfg,
        format!(
            "[DEFAULT]\nuser={USER}\nfingerprint={}\ntenancy={TENANCY}\nkey_file={}\n",
            key.fingerprint(),
            key_path.display()
        ),
    )
    .unwrap();
    if register {
        standin.keys().insert_api_key(TENANCY, USER, &key);
    }
    let settings = AuthSettings {
        kind: AuthKind::ApiKey,
        config_file: Some(cfg),
        region: Some(Region::lookup("iad").unwrap()),
        overrides: standin.overrides(),
        ..Default::default()
    };
    let oci = OciClient::connect(&settings, reqwest::Client::new())
        .await
        .unwrap();
    // The key file is read at connect time; the directory may go.
    drop(dir);
    ContainerInstancesClient::new(oci)
}

fn details(job: &str) -> CreateContainerInstance {
    CreateContainerInstance {
        compartment_id: COMPARTMENT.into(),
        availability_domain: "Uocm:US-ASHBURN-AD-1".into(),
        display_name: format!("mediaserver-job-{job}"),
        shape: "CI.Standard.E4.Flex".into(),
        shape_config: ShapeConfig {
            ocpus: 1.0,
            memory_in_gbs: Some(4.0),
        },
        containers: vec![CreateContainer {
            display_name: "transcode".into(),
            image_url: format!("iad.ocir.io/ns/mediaserver@sha256:{}", "b".repeat(64)),
            command: None,
            arguments: vec!["transcode".into(), "a".into(), "b".into()],
            environment_variables: [("OCI_AUTH".to_string(), "resource_principal".to_string())]
                .into(),
            is_resource_principal_disabled: false,
            volume_mounts: Vec::new(),
        }],
        vnics: vec![CreateVnic {
            subnet_id: "ocid1.subnet.oc1.iad.aaaa".into(),
            is_public_ip_assigned: false,
        }],
        container_restart_policy: "NEVER".into(),
        graceful_shutdown_timeout_in_seconds: None,
        freeform_tags: [("mediaserver-job".to_string(), job.to_string())].into(),
        volumes: Vec::new(),
    }
}

async fn wait_for(
    ci: &ContainerInstancesClient,
    id: &str,
    state: LifecycleState,
) -> mediaserver_oci::container_instances::ContainerInstance {
    for _ in 0..100 {
        let i = ci.get(id).await.unwrap();
        if i.lifecycle_state == state {
            return i;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} never reached {state:?}");
}

#[tokio::test]
async fn create_run_exit_code_list_and_delete() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    let sim = standin.container_instances();
    sim.set_exit_code(3);
    sim.set_page_size(1);
    let ci = client(&standin, true).await;

    let created = ci.create(&details("j1"), Some("j1-1")).await.unwrap();
    assert_eq!(created.lifecycle_state, LifecycleState::Creating);
    assert_eq!(created.display_name, "mediaserver-job-j1");
    assert_eq!(created.freeform_tags["mediaserver-job"], "j1");
    // The same retry token: the same instance, not a second one.
    let again = ci.create(&details("j1"), Some("j1-1")).await.unwrap();
    assert_eq!(again.id, created.id);
    let other = ci.create(&details("j2"), Some("j2-1")).await.unwrap();
    assert_ne!(other.id, created.id);
    assert_eq!(sim.creates().len(), 2);
    assert_eq!(
        sim.creates()[0]["containers"][0]["arguments"][0],
        "transcode"
    );

    let done = wait_for(&ci, &created.id, LifecycleState::Inactive).await;
    let container = ci
        .get_container(&done.containers[0].container_id)
        .await
        .unwrap();
    assert_eq!(container.lifecycle_state, LifecycleState::Inactive);
    assert_eq!(container.exit_code, Some(3));

    // Paged (one per page) and filtered by display name.
    let all = ci.list(COMPARTMENT, None).await.unwrap();
    assert_eq!(all.len(), 2);
    let one = ci
        .list(COMPARTMENT, Some("mediaserver-job-j2"))
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].id, other.id);
    assert!(ci
        .list("ocid1.compartment.oc1..other", None)
        .await
        .unwrap()
        .is_empty());

    ci.delete(&created.id).await.unwrap();
    wait_for(&ci, &created.id, LifecycleState::Deleted).await;
    assert_eq!(sim.deletes(), 1);
    // Gone is gone: a second delete is refused by the service, a missing one counts as done.
    assert!(ci.delete(&created.id).await.is_err());
    ci.delete("ocid1.computecontainerinstance.oc1.iad.nothing")
        .await
        .unwrap();
}

#[tokio::test]
async fn bodies_breaking_the_contract_and_unsigned_requests_are_refused() {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    let ci = client(&standin, true).await;
    let mut d = details("j3");
    d.containers[0].image_url = "iad.ocir.io/ns/mediaserver:latest".into();
    let err = ci.create(&d, None).await.unwrap_err();
    match err {
        OciError::Service {
            status,
            code,
            message,
            ..
        } => {
            assert_eq!((status, code.as_str()), (400, "InvalidParameter"));
            assert!(message.contains("not pinned by digest"), "{message}");
        }
        other => panic!("{other}"),
    }
    let mut d = details("j3");
    d.container_restart_policy = "ALWAYS".into();
    assert!(ci
        .create(&d, None)
        .await
        .unwrap_err()
        .to_string()
        .contains("must be NEVER"));
    let mut d = details("j3");
    d.freeform_tags.clear();
    assert!(ci
        .create(&d, None)
        .await
        .unwrap_err()
        .to_string()
        .contains("mediaserver-job"));
    assert!(standin.container_instances().creates().is_empty());

    let stranger = client(&standin, false).await;
    let err = stranger.create(&details("j4"), None).await.unwrap_err();
    assert!(matches!(err, OciError::NotAuthenticated { .. }), "{err}");
    assert!(standin.container_instances().creates().is_empty());
    assert_eq!(standin.container_instances().rejections().len(), 4);
}
