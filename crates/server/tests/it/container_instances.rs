//! `JOB_RUNNER=oci-container-instances` end to end. The server signs as an API key; the OCI
//! stand-in serves Object Storage and Container Instances and verifies every signature and
//! every create body; `WORKER_IMAGE` lives in a real registry (docker-registry, pushed with
//! skopeo) and is resolved to its digest before anything launches. The stand-in's "container
//! runtime" runs the real `mediaserver transcode` with the instance's arguments and environment
//! plus the resource-principal variables Container Instances injects, so the outputs the job
//! records are the ones that container wrote.

use crate::common;
use crate::registry_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use mediaserver_oci::container_instances::LifecycleState;
use mediaserver_oci::PrivateKey;
use mediaserver_oci_standin::container_instances::{RunFuture, RunRequest, RunResult};
use mediaserver_oci_standin::{ContainerInstancesStandin, Standin};
use registry_support::TestRegistry;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

const TENANCY: &str = "ocid1.tenancy.oc1..aaaajobrunner";
const USER: &str = "ocid1.user.oc1..aaaajobrunner";
const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaajobs";
const SUBNET: &str = "ocid1.subnet.oc1.iad.aaaaprivate";
const AD: &str = "Uocm:US-ASHBURN-AD-1";
const JWT: &str = "container-instances-test-secret-0123456789";
const OCIR_TOKEN: &str = "ocir-token-for-the-server-principal";

pub(crate) struct World {
    pub(crate) standin: Standin,
    registry: TestRegistry,
    digest: String,
    _cfg_dir: tempfile::TempDir,
    cfg: String,
    image: String,
}

pub(crate) async fn world() -> World {
    let standin = Standin::start(TENANCY, "us-ashburn-1").await.unwrap();
    standin.object_storage().create_bucket("media");
    let key = PrivateKey::generate().unwrap();
    standin.keys().insert_api_key(TENANCY, USER, &key);
    let cfg_dir = tempfile::tempdir().unwrap();
    let cfg = write_oci_config(cfg_dir.path(), TENANCY, USER, &key);
    // BEARER_TOKEN: what OCIR's token exchange hands out (the stand-in's token) logs in as.
    standin.set_ocir_token(OCIR_TOKEN);
    let registry = TestRegistry::start(&[("ci", "ci-pass"), ("BEARER_TOKEN", OCIR_TOKEN)]);
    let digest = registry.push("ci", "ci-pass", "ns/mediaserver", "v1", b"worker image");
    let image = format!("{}/ns/mediaserver:v1", registry.host);
    World {
        standin,
        registry,
        digest,
        cfg: cfg.display().to_string(),
        _cfg_dir: cfg_dir,
        image,
    }
}

impl World {
    pub(crate) fn env<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut env = vec![
            ("STORAGE_PROVIDER", "OCIBucket"),
            ("MEDIA_BUCKET", "media"),
            ("OCI_NAMESPACE", "standinns"),
            ("OCI_AUTH", "api_key"),
            ("OCI_CONFIG_FILE", self.cfg.as_str()),
            ("OCI_OBJECTSTORAGE_ENDPOINT", self.standin.url()),
            ("OCI_CONTAINER_INSTANCES_ENDPOINT", self.standin.url()),
            ("JWT_SECRET", JWT),
            ("JOB_RUNNER", "oci-container-instances"),
            ("OCI_COMPARTMENT_ID", COMPARTMENT),
            ("OCI_AVAILABILITY_DOMAIN", AD),
            ("OCI_SUBNET_ID", SUBNET),
            ("OCI_CI_OCPUS", "2"),
            ("OCI_CI_MEMORY_GB", "8"),
            ("OCI_CI_POLL_SECONDS", "1"),
            ("WORKER_IMAGE", self.image.as_str()),
            ("OCIR_USERNAME", "ci"),
            ("OCIR_AUTH_TOKEN", "ci-pass"),
            ("TRANSCODE_PRESET", "ultrafast"),
            ("WORKERS", "0"),
        ];
        for (k, v) in extra {
            env.retain(|(e, _)| e != k);
            env.push((k, v));
        }
        env
    }

    /// Runs each container as the real `mediaserver transcode`, with the instance's arguments
    /// and environment plus a resource principal issued by the stand-in; `gate` holds a
    /// container back until a permit is added.
    pub(crate) fn run_transcode(&self, gate: Option<Arc<Semaphore>>, runs: Arc<AtomicUsize>) {
        let rp_key = PrivateKey::generate().unwrap();
        let rpst = self
            .standin
            .issue_session_token(rp_key.public_key_der(), 3600);
        let pem = rp_key.to_pkcs8_pem().unwrap();
        self.standin.container_instances().set_runner(Arc::new(
            move |req: RunRequest| -> RunFuture {
                let (rpst, pem, gate, runs) =
                    (rpst.clone(), pem.clone(), gate.clone(), runs.clone());
                Box::pin(async move {
                    if let Some(g) = gate {
                        let _permit = g.acquire().await.unwrap();
                    }
                    runs.fetch_add(1, Ordering::SeqCst);
                    let scratch = tempfile::tempdir().unwrap();
                    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mediaserver"));
                    cmd.args(&req.arguments)
                        .env_clear()
                        .env("PATH", std::env::var("PATH").unwrap_or_default())
                        .env("DATA_DIR", scratch.path())
                        .envs(&req.environment)
                        .env("OCI_RESOURCE_PRINCIPAL_VERSION", "2.2")
                        .env("OCI_RESOURCE_PRINCIPAL_RPST", &rpst)
                        .env("OCI_RESOURCE_PRINCIPAL_PRIVATE_PEM", &pem)
                        .env("OCI_RESOURCE_PRINCIPAL_REGION", "us-ashburn-1");
                    // The instance's mounted scratch volume (OCI_CI_SCRATCH_GB) is a directory here.
                    if req.environment.contains_key("TEMP_DIR") {
                        cmd.env("TEMP_DIR", scratch.path().join("scratch"));
                    }
                    let out = cmd.output().await.unwrap();
                    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
                    RunResult {
                        exit_code: out.status.code().unwrap_or(-1),
                        details: (!out.status.success())
                            .then(|| stderr.lines().last().unwrap_or_default().to_string()),
                    }
                })
            },
        ));
    }
}

/// A pipeline with the Container Instances runner over the server's state, as `serve` builds
/// it, with short shutdown grace and retry backoff for the test.
pub(crate) async fn start_workers(
    s: &TestServer,
    env: &[(&str, &str)],
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let config = config_with(s.dir.path(), env);
    let mut pipeline = mediaserver::pipeline(&config, &s.state)
        .await
        .expect("pipeline with the job runner");
    let mut settings = (*pipeline.settings).clone();
    settings.shutdown_grace = Duration::from_millis(300);
    settings.retry.backoff_base = Duration::from_millis(200);
    pipeline.settings = Arc::new(settings);
    let stop = CancellationToken::new();
    let handle = tokio::spawn(mediaserver::run_workers(
        pipeline,
        1,
        "ci-test".into(),
        stop.clone().cancelled_owned(),
    ));
    (stop, handle)
}

async fn wait_until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the first instance's container runs.
async fn wait_running(ci: &ContainerInstancesStandin) {
    wait_until("the instance to be running", 30, || {
        ci.instances()
            .first()
            .is_some_and(|i| i.lifecycle_state == LifecycleState::Active)
    })
    .await;
}

pub(crate) fn all_deleted(standin: &Standin) -> bool {
    standin
        .container_instances()
        .instances()
        .iter()
        .all(|i| i.lifecycle_state.is_deleted())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_runs_as_one_pinned_instance_and_is_recorded_from_its_outputs() {
    let w = world().await;
    let runs = Arc::new(AtomicUsize::new(0));
    w.run_transcode(None, runs.clone());
    let env = w.env(&[]);
    let s = TestServer::start_with(&env).await;
    let (stop, workers) = start_workers(&s, &env).await;
    let token = s.user_token("ci@example.com").await;

    let item = s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await;
    let id = item["id"].as_str().unwrap().to_string();
    let done = s.wait_done(&token, &id, 180).await;
    assert_eq!(done["status"], "ready", "{done}");
    assert_eq!(done["playable"], true, "{done}");
    assert!(!done["renditions"].as_array().unwrap().is_empty(), "{done}");
    assert!(done["duration_seconds"].as_f64().unwrap() > 0.5, "{done}");
    // Read back from the container's summary like the rest: the source and the audio tracks.
    assert_eq!(done["source"]["codec"], "h264", "{done}");
    assert_eq!(
        (&done["source"]["width"], &done["source"]["height"]),
        (&serde_json::json!(320), &serde_json::json!(240)),
        "{done}"
    );
    assert_eq!(done["audio_tracks"].as_array().unwrap().len(), 1, "{done}");

    // Exactly one instance, with the body the job needs.
    let ci = w.standin.container_instances();
    let creates = ci.creates();
    assert_eq!(creates.len(), 1, "{creates:?}");
    let body = &creates[0];
    let job_id = body["freeformTags"]["mediaserver-job"].as_str().unwrap();
    assert_eq!(body["displayName"], format!("mediaserver-job-{job_id}"));
    assert_eq!(body["freeformTags"]["mediaserver-media"], id.as_str());
    assert_eq!(body["compartmentId"], COMPARTMENT);
    assert_eq!(body["availabilityDomain"], AD);
    assert_eq!(body["shape"], "CI.Standard.E4.Flex");
    assert_eq!(body["shapeConfig"]["ocpus"], 2.0);
    assert_eq!(body["shapeConfig"]["memoryInGBs"], 8.0);
    assert_eq!(body["vnics"][0]["subnetId"], SUBNET);
    assert_eq!(body["containerRestartPolicy"], "NEVER");
    let c = &body["containers"][0];
    // The tag was resolved through the registry: the instance runs exactly that digest.
    assert_eq!(
        c["imageUrl"],
        format!("{}/ns/mediaserver@{}", w.registry.host, w.digest)
    );
    // The item says where it was encoded: this runner, that digest, that instance.
    let runner = &done["encode"]["runner"];
    assert_eq!(runner["kind"], "container-instances", "{done}");
    assert_eq!(runner["image"], c["imageUrl"], "{done}");
    assert!(
        runner["instance"].as_str().is_some_and(|i| !i.is_empty()),
        "{done}"
    );
    assert_eq!(
        c["arguments"],
        serde_json::json!([
            "transcode",
            format!("oci://standinns/media/originals/{id}/clip.mp4"),
            format!("oci://standinns/media/media/{id}"),
            // A video: the container splits it if it is longer than CHUNK_MIN_SECONDS.
            "--split",
        ])
    );
    assert_eq!(c["environmentVariables"]["CHUNK_SECONDS"], "60");
    assert_eq!(c["environmentVariables"]["CHUNK_MIN_SECONDS"], "120");
    assert_eq!(c["environmentVariables"]["OCI_AUTH"], "resource_principal");
    assert_eq!(c["environmentVariables"]["OCI_REGION"], "us-ashburn-1");
    assert_eq!(c["isResourcePrincipalDisabled"], false);
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // The finished instance is deleted; nothing was refused anywhere.
    wait_until("the instance's deletion", 10, || all_deleted(&w.standin)).await;
    assert_eq!(ci.deletes(), 1);
    assert!(ci.rejections().is_empty(), "{:?}", ci.rejections());
    assert!(
        w.standin.object_storage().rejections().is_empty(),
        "{:?}",
        w.standin.object_storage().rejections()
    );

    // What the container wrote is what players get.
    let r = s
        .get(&format!("/v1/media/{id}/hls/master.m3u8"), &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("#EXTM3U"));
    let names = w.standin.object_storage().object_names("media");
    assert!(
        names.contains(&format!("media/{id}/transcode.json")),
        "{names:?}"
    );
    stop.cancel();
    workers.await.unwrap();
}

/// The container's encode progress reaches the item while the instance runs (not only 0 and
/// then `ready`), and the progress object does not stay among the outputs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_container_reports_its_progress_on_the_item() {
    let w = world().await;
    w.run_transcode(None, Arc::new(AtomicUsize::new(0)));
    let env = w.env(&[]);
    let s = TestServer::start_with(&env).await;
    let (stop, workers) = start_workers(&s, &env).await;
    let token = s.user_token("progress@example.com").await;
    let item = s.upload_ok(&token, "long.mp4", read(&long_clip())).await;
    let id = item["id"].as_str().unwrap().to_string();

    // Watch the item as the web page does.
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    let mut seen = Vec::new();
    let done = loop {
        let item: Value = s
            .get(&format!("/v1/media/{id}"), &token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if item["status"] == "ready" || item["status"] == "failed" {
            break item;
        }
        seen.push(item["progress"].as_i64().unwrap());
        assert!(std::time::Instant::now() < deadline, "not done: {item}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["status"], "ready", "{done}");
    seen.dedup();
    assert!(
        seen.iter().any(|p| (1..95).contains(p)),
        "no progress between 0 and 95 % while the container encoded: {seen:?}"
    );
    assert!(seen.windows(2).all(|p| p[0] <= p[1]), "went back: {seen:?}");
    let names = w.standin.object_storage().object_names("media");
    assert!(
        !names.contains(&format!("media/{id}/progress.json")),
        "{names:?}"
    );
    assert!(names.contains(&format!("media/{id}/transcode.json")));
    stop.cancel();
    workers.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_adopts_the_running_instance_instead_of_creating_another() {
    let w = world().await;
    let gate = Arc::new(Semaphore::new(0));
    let runs = Arc::new(AtomicUsize::new(0));
    w.run_transcode(Some(gate.clone()), runs.clone());
    let env = w.env(&[]);
    let s = TestServer::start_with(&env).await;
    let (stop, workers) = start_workers(&s, &env).await;
    let token = s.user_token("restart@example.com").await;
    let item = s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await;
    let id = item["id"].as_str().unwrap().to_string();

    let ci = w.standin.container_instances().clone();
    wait_running(&ci).await;
    // The server goes away while the container runs: the job goes back to the queue, the
    // instance stays.
    stop.cancel();
    workers.await.unwrap();
    assert_eq!(ci.deletes(), 0);
    let item: Value = s
        .get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(item["status"], "ready");

    // A new server process (new runner, image resolved again) claims the job again.
    let (stop, workers) = start_workers(&s, &env).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(ci.creates().len(), 1, "a second instance was created");
    gate.add_permits(1);
    let done = s.wait_done(&token, &id, 180).await;
    assert_eq!(done["status"], "ready", "{done}");
    assert_eq!(ci.creates().len(), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    wait_until("the instance's deletion", 10, || all_deleted(&w.standin)).await;
    assert_eq!(ci.deletes(), 1);
    stop.cancel();
    workers.await.unwrap();
}

/// The timeout counts from the instance's creation, not from when this server began waiting:
/// an adopted instance already past `TRANSCODE_TIMEOUT_SECONDS` is deleted at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adopted_instance_past_the_timeout_is_deleted_at_once() {
    let w = world().await;
    let gate = Arc::new(Semaphore::new(0));
    w.run_transcode(Some(gate), Arc::new(AtomicUsize::new(0)));
    let env = w.env(&[("TRANSCODE_TIMEOUT_SECONDS", "3600")]);
    let s = TestServer::start_with(&env).await;
    let (stop, workers) = start_workers(&s, &env).await;
    let token = s.user_token("timeout@example.com").await;
    s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await;
    let ci = w.standin.container_instances().clone();
    wait_running(&ci).await;
    stop.cancel();
    workers.await.unwrap();
    let first = ci.instances()[0].id.clone();
    // Started by the previous server two hours ago.
    ci.backdate(&first, Duration::from_secs(2 * 3600));

    let (stop, workers) = start_workers(&s, &env).await;
    wait_until("the overdue instance's deletion", 30, || {
        ci.instances()
            .iter()
            .any(|i| i.id == first && i.lifecycle_state.is_deleted())
    })
    .await;
    // The attempt failed and the job was retried on a new instance.
    wait_until("a new instance", 30, || ci.creates().len() == 2).await;
    stop.cancel();
    workers.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_container_fails_the_job_with_its_exit_code_and_reason() {
    let w = world().await;
    let ci = w.standin.container_instances().clone();
    ci.set_runner(Arc::new(|_req: RunRequest| -> RunFuture {
        Box::pin(async {
            RunResult {
                exit_code: 137,
                details: Some("OOMKilled: the container ran out of memory".into()),
            }
        })
    }));
    let env = w.env(&[("JOB_MAX_ATTEMPTS", "2")]);
    let s = TestServer::start_with(&env).await;
    let (stop, workers) = start_workers(&s, &env).await;
    let token = s.user_token("fail@example.com").await;
    let item = s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await;
    let id = item["id"].as_str().unwrap().to_string();
    let done = s.wait_done(&token, &id, 60).await;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap();
    assert!(
        error.contains("the transcode container exited with code 137: OOMKilled: the container ran out of memory"),
        "{error}"
    );
    // Two attempts, each on its own instance, each deleted when it ended.
    assert_eq!(ci.creates().len(), 2);
    wait_until("the instances' deletion", 10, || all_deleted(&w.standin)).await;
    assert_eq!(ci.deletes(), 2);
    stop.cancel();
    workers.await.unwrap();
}

/// Container Instances down (503 to every call) when a job starts is an outage, not the
/// media's fault: with one attempt allowed the job still waits, retried without counting, and
/// the item becomes ready on one instance once the service is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_instances_outage_does_not_use_up_the_attempts() {
    let w = world().await;
    let runs = Arc::new(AtomicUsize::new(0));
    w.run_transcode(None, runs.clone());
    let ci = w.standin.container_instances().clone();
    let env = w.env(&[("JOB_MAX_ATTEMPTS", "1")]);
    let s = TestServer::start_with(&env).await;
    let (stop, workers) = start_workers(&s, &env).await;
    ci.set_unavailable(true);
    let token = s.user_token("outage@example.com").await;
    let item = s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await;
    let id: mediaserver_core::MediaId = item["id"].as_str().unwrap().parse().unwrap();

    // Tried and handed back, more than once, each time without using the one attempt.
    let mut deferrals = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut seen_at = None;
    while deferrals < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the job was not retried"
        );
        let jobs = s.state.repo.jobs_for_media(&id).await.unwrap();
        let job = jobs.last().expect("the item's job");
        assert_ne!(job.status, mediaserver_core::JobStatus::Failed, "{job:?}");
        if job.status == mediaserver_core::JobStatus::Queued && job.last_error.is_some() {
            assert_eq!(job.attempts, 0, "an outage used up an attempt: {job:?}");
            let error = job.last_error.as_deref().unwrap_or_default();
            assert!(error.contains("503"), "{error}");
            if seen_at != Some(job.updated_at) {
                seen_at = Some(job.updated_at);
                deferrals += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ci.creates().is_empty());
    let current: Value = s
        .get(&format!("/v1/media/{id}"), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(current["status"], "failed", "{current}");

    ci.set_unavailable(false);
    let done = s.wait_done(&token, id.as_ref(), 120).await;
    assert_eq!(done["status"], "ready", "{done}");
    assert_eq!(ci.creates().len(), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    stop.cancel();
    workers.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_image_that_does_not_resolve_stops_startup() {
    let w = world().await;
    let missing = format!("{}/ns/mediaserver:v9", w.registry.host);
    let env = w.env(&[("WORKER_IMAGE", missing.as_str())]);
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &env);
    let err = format!("{:#}", mediaserver::job_runner(&config).await.unwrap_err());
    assert!(
        err.contains(&format!("WORKER_IMAGE: resolving {missing} to a digest")),
        "{err}"
    );
    assert!(
        err.contains("tag 'v9' of repository ns/mediaserver not found"),
        "{err}"
    );

    let env = w.env(&[("OCIR_AUTH_TOKEN", "wrong")]);
    let config = config_with(dir.path(), &env);
    let err = format!("{:#}", mediaserver::job_runner(&config).await.unwrap_err());
    assert!(err.contains("refused the login as user 'ci' (401"), "{err}");
    assert!(w.standin.container_instances().creates().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_registry_credentials_the_server_principal_exchanges_a_signed_request() {
    let w = world().await;
    // No OCIR_USERNAME/OCIR_AUTH_TOKEN: the image is resolved with a token from OCIR's token
    // exchange (here the stand-in, via OCIR_ENDPOINT), signed as the server's API key.
    let mut env = w.env(&[("OCIR_ENDPOINT", w.standin.url())]);
    env.retain(|(k, _)| *k != "OCIR_USERNAME" && *k != "OCIR_AUTH_TOKEN");
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), &env);
    let runner = mediaserver::job_runner(&config)
        .await
        .expect("job runner")
        .expect("the Container Instances runner");
    assert_eq!(
        runner.template.pinned_image,
        format!("{}/ns/mediaserver@{}", w.registry.host, w.digest)
    );
    assert_eq!(w.standin.ocir_token_calls(), 1);
    assert_eq!(
        w.standin.ocir_token_signers(),
        [format!("{TENANCY}/{USER}/{}", api_key_fingerprint(&w))]
    );
}

fn api_key_fingerprint(w: &World) -> String {
    let cfg = std::fs::read_to_string(&w.cfg).unwrap();
    cfg.lines()
        .find_map(|l| l.strip_prefix("fingerprint="))
        .unwrap()
        .to_string()
}

/// `OCI_CI_SCRATCH_GB`: Container Instances have a fixed 15 GB disk, so more scratch space is
/// an in-memory directory mounted as the job's `TEMP_DIR`, its size added to the memory.
#[tokio::test]
async fn scratch_gb_gives_each_job_an_in_memory_scratch_directory() {
    let w = world().await;
    w.run_transcode(None, Arc::new(AtomicUsize::new(0)));
    let env = w.env(&[("OCI_CI_SCRATCH_GB", "20")]);
    let s = TestServer::start_with(&env).await;
    let (stop, workers) = start_workers(&s, &env).await;
    let token = s.user_token("ci@example.com").await;
    let item = s.upload_ok(&token, "clip.mp4", read(&fixtures().mp4)).await;
    let id = item["id"].as_str().unwrap().to_string();
    let done = s.wait_done(&token, &id, 180).await;
    assert_eq!(done["status"], "ready", "{done}");

    let creates = w.standin.container_instances().creates();
    assert_eq!(creates.len(), 1, "{creates:?}");
    let body = &creates[0];
    assert_eq!(
        body["shapeConfig"]["memoryInGBs"], 28.0,
        "8 GB + 20 GB of scratch"
    );
    assert_eq!(body["volumes"][0]["name"], "scratch");
    assert_eq!(body["volumes"][0]["volumeType"], "EMPTYDIR");
    assert_eq!(body["volumes"][0]["backingStore"], "MEMORY");
    let c = &body["containers"][0];
    assert_eq!(c["volumeMounts"][0]["mountPath"], "/scratch");
    assert_eq!(c["volumeMounts"][0]["volumeName"], "scratch");
    assert_eq!(c["environmentVariables"]["TEMP_DIR"], "/scratch");
    stop.cancel();
    workers.await.ok();
}
