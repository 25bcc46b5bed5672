//! A stand-in of the Container Instances API (`/20210415/…`), served by [`super::Standin`].
//! Like the real service it verifies every request's signature (POST with the body headers and
//! `x-content-sha256` checked against the body), requires the create fields the API requires
//! (`compartmentId`, `availabilityDomain`, `shape`, `shapeConfig.ocpus`, `containers[].imageUrl`,
//! `vnics[].subnetId`), honours `opc-retry-token`, lists by compartment (and display name) with
//! `opc-next-page` paging, and answers with OCI's `{"code","message"}` errors. On top it
//! insists on mediaserver's contract for job instances: restart policy `NEVER`, every image
//! pinned by digest, and a `mediaserver-job` freeform tag.
//!
//! Lifecycle: a created instance is `CREATING`, becomes `ACTIVE` shortly after, and its
//! container "runs": a test-supplied [`ContainerRunner`] (for example one that runs the real
//! `mediaserver transcode` with the container's arguments and environment) or, without one,
//! a pause, then ends with the runner's (or the scripted) exit code: container and instance
//! `INACTIVE`, `exitCode` set. Deleting makes them `DELETING`, then `DELETED` (still listed).

// Handlers return a ready error `Response` from their helpers; boxing it buys nothing here.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::objectstorage::Clock;
use super::verify::{KeyRegistry, Rejection, VerifyOptions};
use mediaserver_oci::container_instances::{
    Container, ContainerInstance, InstanceContainer, LifecycleState,
};

/// What a container is asked to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub instance_id: String,
    pub image_url: String,
    pub command: Option<Vec<String>>,
    pub arguments: Vec<String>,
    pub environment: BTreeMap<String, String>,
    pub freeform_tags: BTreeMap<String, String>,
}

/// How a container ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    pub exit_code: i32,
    /// `lifecycleDetails` of the container (e.g. why it failed).
    pub details: Option<String>,
}

pub type RunFuture = Pin<Box<dyn Future<Output = RunResult> + Send>>;
/// Runs a container's process in a test ("the container runtime").
pub type ContainerRunner = Arc<dyn Fn(RunRequest) -> RunFuture + Send + Sync>;

/// How long an instance stays `CREATING`.
const START_AFTER: Duration = Duration::from_millis(100);
/// How long a container runs without a runner.
pub const RUN_FOR: Duration = Duration::from_millis(300);

/// Handle on the stand-in's Container Instances; clones share it.
#[derive(Clone)]
pub struct ContainerInstancesStandin {
    ci: Arc<Ci>,
}

struct Ci {
    keys: KeyRegistry,
    clock: Clock,
    data: Mutex<Data>,
    runner: Mutex<Option<ContainerRunner>>,
    exit_code: AtomicI32,
    page_size: AtomicUsize,
    rejections: Mutex<Vec<Rejection>>,
    serial: AtomicU64,
    deletes: AtomicUsize,
    /// While set, every request answers 503, as the service does during an incident.
    unavailable: AtomicBool,
}

#[derive(Default)]
struct Data {
    instances: BTreeMap<String, Inst>,
    /// opc-retry-token → instance id
    retry_tokens: HashMap<String, String>,
    /// Every accepted create body, in order.
    creates: Vec<serde_json::Value>,
}

struct Inst {
    compartment_id: String,
    instance: ContainerInstance,
    container: Container,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ContainerInstancesStandin {
    pub(crate) fn new(keys: KeyRegistry, clock: Clock) -> Self {
        ContainerInstancesStandin {
            ci: Arc::new(Ci {
                keys,
                clock,
                data: Mutex::new(Data::default()),
                runner: Mutex::new(None),
                exit_code: AtomicI32::new(0),
                page_size: AtomicUsize::new(100),
                rejections: Mutex::new(Vec::new()),
                serial: AtomicU64::new(0),
                deletes: AtomicUsize::new(0),
                unavailable: AtomicBool::new(false),
            }),
        }
    }

    pub(crate) fn router(&self) -> Router {
        Router::new()
            .route(
                "/20210415/containerInstances",
                get(list_instances).post(create_instance),
            )
            .route(
                "/20210415/containerInstances/{id}",
                get(get_instance).delete(delete_instance),
            )
            .route("/20210415/containers/{id}", get(get_container))
            .with_state(self.ci.clone())
    }

    /// Runs every container created from now on through `runner`.
    pub fn set_runner(&self, runner: ContainerRunner) {
        *lock(&self.ci.runner) = Some(runner);
    }

    /// Without a runner: containers end with this exit code after [`RUN_FOR`].
    pub fn set_exit_code(&self, code: i32) {
        self.ci.exit_code.store(code, Ordering::SeqCst);
    }

    /// Items per page of ListContainerInstances.
    pub fn set_page_size(&self, n: usize) {
        self.ci.page_size.store(n.max(1), Ordering::SeqCst);
    }

    /// Every accepted CreateContainerInstance body (a retried create with a known
    /// `opc-retry-token` is not a new create).
    pub fn creates(&self) -> Vec<serde_json::Value> {
        lock(&self.ci.data).creates.clone()
    }

    /// Every instance, deleted ones included.
    pub fn instances(&self) -> Vec<ContainerInstance> {
        lock(&self.ci.data)
            .instances
            .values()
            .map(|i| i.instance.clone())
            .collect()
    }

    /// Moves an instance's creation time `by` into the past (as if it had been running that
    /// long).
    pub fn backdate(&self, id: &str, by: Duration) {
        if let Some(i) = lock(&self.ci.data).instances.get_mut(id) {
            let by = chrono::Duration::from_std(by).unwrap_or_default();
            i.instance.time_created = i.instance.time_created.map(|t| t - by);
        }
    }

    /// DeleteContainerInstance calls accepted.
    pub fn deletes(&self) -> usize {
        self.ci.deletes.load(Ordering::SeqCst)
    }

    /// An outage of the service: while `true` every request answers 503 ServiceUnavailable
    /// (nothing is created, read or deleted); the instances keep running.
    pub fn set_unavailable(&self, down: bool) {
        self.ci.unavailable.store(down, Ordering::SeqCst);
    }

    /// Requests refused (signature or body).
    pub fn rejections(&self) -> Vec<Rejection> {
        lock(&self.ci.rejections).clone()
    }
}

impl Ci {
    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        let id = format!("standin-ci/{}", self.serial.fetch_add(1, Ordering::SeqCst));
        if let Ok(v) = HeaderValue::from_str(&id) {
            h.insert("opc-request-id", v);
        }
        if let Ok(v) = HeaderValue::from_str(
            &(self.clock)()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        ) {
            h.insert("date", v);
        }
        h
    }

    fn error(&self, status: u16, code: &str, message: &str) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut h = self.headers();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        let body = serde_json::json!({"code": code, "message": message}).to_string();
        (status, h, body).into_response()
    }

    fn reject(&self, r: Rejection) -> Response {
        let resp = self.error(r.status, r.code, &r.message);
        lock(&self.rejections).push(r);
        resp
    }

    fn invalid(&self, message: impl Into<String>) -> Response {
        self.reject(Rejection {
            status: 400,
            code: "InvalidParameter",
            message: message.into(),
        })
    }

    fn json(&self, status: StatusCode, value: &impl serde::Serialize) -> Response {
        let mut h = self.headers();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        let body = serde_json::to_string(value).unwrap_or_default();
        (status, h, body).into_response()
    }

    fn not_found(&self) -> Response {
        self.error(
            404,
            "NotAuthorizedOrNotFound",
            "Authorization failed or requested resource not found.",
        )
    }

    fn verify(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), Response> {
        // Every handler verifies first, so this is where an outage answers.
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(self.error(
                503,
                "ServiceUnavailable",
                "The service is currently unavailable.",
            ));
        }
        let opts = VerifyOptions {
            now: (self.clock)(),
            ..Default::default()
        };
        let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        self.keys
            .verify(method, target, headers, Some(body), &opts)
            .map(|_| ())
            .map_err(|r| self.reject(r))
    }

    fn set_state(&self, id: &str, state: LifecycleState, exit: Option<RunResult>) {
        let mut data = lock(&self.data);
        let Some(inst) = data.instances.get_mut(id) else {
            return;
        };
        // A deleted instance stays deleted whatever its container did.
        if inst.instance.lifecycle_state.is_deleted() && !state.is_deleted() {
            return;
        }
        inst.instance.lifecycle_state = state;
        inst.container.lifecycle_state = state;
        if let Some(r) = exit {
            inst.container.exit_code = Some(r.exit_code);
            inst.container.lifecycle_details = r.details;
        }
    }
}

fn str_field<'a>(v: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    v.get(name)
        .and_then(|x| x.as_str())
        .filter(|s| !s.trim().is_empty())
}

fn pinned_by_digest(image: &str) -> bool {
    image.rsplit_once("@sha256:").is_some_and(|(repo, hex)| {
        !repo.is_empty()
            && hex.len() == 64
            && hex.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
    })
}

/// The create body's problems, as the message of a 400 (the first one found).
fn check_create(v: &serde_json::Value) -> Result<(), String> {
    let compartment = str_field(v, "compartmentId").ok_or("compartmentId is required")?;
    if !compartment.starts_with("ocid1.compartment.") && !compartment.starts_with("ocid1.tenancy.")
    {
        return Err(format!(
            "compartmentId '{compartment}' is not a compartment OCID"
        ));
    }
    str_field(v, "availabilityDomain").ok_or("availabilityDomain is required")?;
    let shape = str_field(v, "shape").ok_or("shape is required")?;
    let ocpus = v
        .pointer("/shapeConfig/ocpus")
        .and_then(|x| x.as_f64())
        .ok_or("shapeConfig.ocpus is required")?;
    if ocpus <= 0.0 {
        return Err("shapeConfig.ocpus must be positive".into());
    }
    if let Some(m) = v.pointer("/shapeConfig/memoryInGBs") {
        if m.as_f64().is_none_or(|m| m <= 0.0) {
            return Err("shapeConfig.memoryInGBs must be a positive number".into());
        }
    }
    if !shape.starts_with("CI.") {
        return Err(format!("shape '{shape}' is not a container instance shape"));
    }
    let containers = v
        .get("containers")
        .and_then(|c| c.as_array())
        .filter(|c| !c.is_empty())
        .ok_or("containers: at least one container is required")?;
    for (i, c) in containers.iter().enumerate() {
        let image =
            str_field(c, "imageUrl").ok_or(format!("containers[{i}].imageUrl is required"))?;
        if !pinned_by_digest(image) {
            return Err(format!(
                "containers[{i}].imageUrl '{image}' is not pinned by digest (host/repository@sha256:<64 hex>)"
            ));
        }
        if let Some(env) = c.get("environmentVariables") {
            if !env
                .as_object()
                .is_some_and(|o| o.values().all(|x| x.is_string()))
            {
                return Err(format!(
                    "containers[{i}].environmentVariables must map names to strings"
                ));
            }
        }
    }
    let vnics = v
        .get("vnics")
        .and_then(|c| c.as_array())
        .filter(|c| !c.is_empty())
        .ok_or("vnics: one VNIC is required")?;
    for (i, n) in vnics.iter().enumerate() {
        let subnet = str_field(n, "subnetId").ok_or(format!("vnics[{i}].subnetId is required"))?;
        if !subnet.starts_with("ocid1.subnet.") {
            return Err(format!(
                "vnics[{i}].subnetId '{subnet}' is not a subnet OCID"
            ));
        }
    }
    match str_field(v, "containerRestartPolicy") {
        Some("NEVER") => {}
        other => {
            return Err(format!(
                "containerRestartPolicy must be NEVER for a job instance (got {other:?})"
            ))
        }
    }
    if str_field(
        v.get("freeformTags").unwrap_or(&serde_json::Value::Null),
        "mediaserver-job",
    )
    .is_none()
    {
        return Err("freeformTags: a job instance carries a mediaserver-job tag".into());
    }
    Ok(())
}

async fn create_instance(
    State(ci): State<Arc<Ci>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = ci.verify(&method, &uri, &headers, &body) {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return ci.invalid("the body is not JSON");
    };
    if let Err(m) = check_create(&v) {
        return ci.invalid(m);
    }
    let retry_token = headers
        .get("opc-retry-token")
        .and_then(|t| t.to_str().ok())
        .map(str::to_string);
    let serial = ci.serial.fetch_add(1, Ordering::SeqCst);
    let id = format!("ocid1.computecontainerinstance.oc1.iad.standin{serial}");
    let (instance, spec) = {
        let mut data = lock(&ci.data);
        if let Some(existing) = retry_token
            .as_ref()
            .and_then(|t| data.retry_tokens.get(t))
            .and_then(|id| data.instances.get(id))
        {
            return ci.json(StatusCode::OK, &existing.instance);
        }
        let container_id = format!("ocid1.computecontainer.oc1.iad.standin{serial}");
        let tags: BTreeMap<String, String> = v
            .get("freeformTags")
            .and_then(|t| serde_json::from_value(t.clone()).ok())
            .unwrap_or_default();
        let c = &v["containers"][0];
        let instance = ContainerInstance {
            id: id.clone(),
            display_name: str_field(&v, "displayName").unwrap_or(&id).to_string(),
            lifecycle_state: LifecycleState::Creating,
            lifecycle_details: None,
            containers: vec![InstanceContainer {
                container_id: container_id.clone(),
                display_name: str_field(c, "displayName")
                    .unwrap_or("container")
                    .to_string(),
            }],
            freeform_tags: tags.clone(),
            time_created: Some(chrono::Utc::now()),
        };
        let spec = RunRequest {
            instance_id: id.clone(),
            image_url: str_field(c, "imageUrl").unwrap_or_default().to_string(),
            command: c
                .get("command")
                .and_then(|x| serde_json::from_value(x.clone()).ok()),
            arguments: c
                .get("arguments")
                .and_then(|x| serde_json::from_value(x.clone()).ok())
                .unwrap_or_default(),
            environment: c
                .get("environmentVariables")
                .and_then(|x| serde_json::from_value(x.clone()).ok())
                .unwrap_or_default(),
            freeform_tags: tags,
        };
        data.instances.insert(
            id.clone(),
            Inst {
                compartment_id: str_field(&v, "compartmentId")
                    .unwrap_or_default()
                    .to_string(),
                instance: instance.clone(),
                container: Container {
                    id: container_id,
                    lifecycle_state: LifecycleState::Creating,
                    lifecycle_details: None,
                    exit_code: None,
                },
            },
        );
        if let Some(t) = retry_token {
            data.retry_tokens.insert(t, id.clone());
        }
        data.creates.push(v.clone());
        (instance, spec)
    };
    let runner = lock(&ci.runner).clone();
    let life = ci.clone();
    tokio::spawn(async move {
        tokio::time::sleep(START_AFTER).await;
        life.set_state(&spec.instance_id, LifecycleState::Active, None);
        let id = spec.instance_id.clone();
        let result = match runner {
            Some(run) => run(spec).await,
            None => {
                tokio::time::sleep(RUN_FOR).await;
                let code = life.exit_code.load(Ordering::SeqCst);
                RunResult {
                    exit_code: code,
                    details: (code != 0).then(|| format!("the container exited with code {code}")),
                }
            }
        };
        life.set_state(&id, LifecycleState::Inactive, Some(result));
    });
    ci.json(StatusCode::OK, &instance)
}

async fn get_instance(
    State(ci): State<Arc<Ci>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = ci.verify(&method, &uri, &headers, &[]) {
        return r;
    }
    let found = lock(&ci.data)
        .instances
        .get(&id)
        .map(|i| i.instance.clone());
    match found {
        Some(i) => ci.json(StatusCode::OK, &i),
        None => ci.not_found(),
    }
}

async fn get_container(
    State(ci): State<Arc<Ci>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = ci.verify(&method, &uri, &headers, &[]) {
        return r;
    }
    let found = lock(&ci.data)
        .instances
        .values()
        .find(|i| i.container.id == id)
        .map(|i| i.container.clone());
    match found {
        Some(c) => ci.json(StatusCode::OK, &c),
        None => ci.not_found(),
    }
}

async fn list_instances(
    State(ci): State<Arc<Ci>>,
    Query(q): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = ci.verify(&method, &uri, &headers, &[]) {
        return r;
    }
    let Some(compartment) = q.get("compartmentId").filter(|c| !c.is_empty()) else {
        return ci.invalid("compartmentId is required");
    };
    let page_size = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(usize::MAX)
        .min(ci.page_size.load(Ordering::SeqCst))
        .max(1);
    let start: usize = match q.get("page").map(|p| p.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return ci.invalid("page is not a page token from this service"),
    };
    let matching: Vec<serde_json::Value> = lock(&ci.data)
        .instances
        .values()
        .filter(|i| &i.compartment_id == compartment)
        .filter(|i| {
            q.get("displayName")
                .is_none_or(|n| &i.instance.display_name == n)
        })
        .map(|i| {
            serde_json::json!({
                "id": i.instance.id,
                "displayName": i.instance.display_name,
                "lifecycleState": i.instance.lifecycle_state,
                "freeformTags": i.instance.freeform_tags,
                "compartmentId": i.compartment_id,
            })
        })
        .collect();
    let items: Vec<serde_json::Value> = matching
        .iter()
        .skip(start)
        .take(page_size)
        .cloned()
        .collect();
    let mut resp = ci.json(StatusCode::OK, &serde_json::json!({ "items": items }));
    if start + page_size < matching.len() {
        if let Ok(v) = HeaderValue::from_str(&(start + page_size).to_string()) {
            resp.headers_mut().insert("opc-next-page", v);
        }
    }
    resp
}

async fn delete_instance(
    State(ci): State<Arc<Ci>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = ci.verify(&method, &uri, &headers, &[]) {
        return r;
    }
    {
        let data = lock(&ci.data);
        match data.instances.get(&id) {
            None => return ci.not_found(),
            Some(i) if i.instance.lifecycle_state.is_deleted() => {
                return ci.error(
                    409,
                    "Conflict",
                    "the container instance is already being deleted",
                )
            }
            Some(_) => {}
        }
    }
    ci.deletes.fetch_add(1, Ordering::SeqCst);
    ci.set_state(&id, LifecycleState::Deleting, None);
    let life = ci.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        life.set_state(&id, LifecycleState::Deleted, None);
    });
    let mut h = ci.headers();
    h.insert(
        "opc-work-request-id",
        HeaderValue::from_static("ocid1.workrequest.standin"),
    );
    (StatusCode::ACCEPTED, h).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> serde_json::Value {
        serde_json::json!({
            "compartmentId": "ocid1.compartment.oc1..c",
            "availabilityDomain": "Uocm:US-ASHBURN-AD-1",
            "displayName": "mediaserver-job-1",
            "shape": "CI.Standard.E4.Flex",
            "shapeConfig": {"ocpus": 1.0, "memoryInGBs": 4.0},
            "containers": [{"imageUrl": format!("iad.ocir.io/ns/app@sha256:{}", "a".repeat(64))}],
            "vnics": [{"subnetId": "ocid1.subnet.oc1.iad.s"}],
            "containerRestartPolicy": "NEVER",
            "freeformTags": {"mediaserver-job": "1"},
        })
    }

    #[test]
    fn create_bodies_are_checked_field_by_field() {
        check_create(&body()).unwrap();
        let cases: [(&str, serde_json::Value, &str); 7] = [
            (
                "/compartmentId",
                serde_json::json!(null),
                "compartmentId is required",
            ),
            (
                "/shapeConfig/ocpus",
                serde_json::json!(0),
                "ocpus must be positive",
            ),
            (
                "/containers/0/imageUrl",
                serde_json::json!("iad.ocir.io/ns/app:latest"),
                "not pinned by digest",
            ),
            (
                "/vnics/0/subnetId",
                serde_json::json!("subnet"),
                "not a subnet OCID",
            ),
            (
                "/containerRestartPolicy",
                serde_json::json!("ALWAYS"),
                "must be NEVER",
            ),
            (
                "/freeformTags/mediaserver-job",
                serde_json::json!(null),
                "mediaserver-job tag",
            ),
            (
                "/availabilityDomain",
                serde_json::json!(""),
                "availabilityDomain is required",
            ),
        ];
        for (ptr, value, want) in cases {
            let mut b = body();
            *b.pointer_mut(ptr).unwrap() = value;
            let err = check_create(&b).unwrap_err();
            assert!(err.contains(want), "{ptr}: {err}");
        }
    }
}
