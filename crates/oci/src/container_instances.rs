//! The Container Instances API (`20210415`) calls the job runner makes: CreateContainerInstance
//! (with an `opc-retry-token`, so a repeated create returns the first instance),
//! GetContainerInstance, ListContainerInstances (by compartment and display name, following
//! `opc-next-page`), GetContainer (state and exit code) and DeleteContainerInstance. Request
//! and response shapes follow the API reference (the `oci` SDKs' `container_instances` models).

use std::collections::BTreeMap;

use http::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};

use crate::client::{malformed_from, transport, OciClient};
use crate::error::OciError;
use crate::signer::BodySigning;

const API: &str = "20210415";
/// Per-call bound; the service answers in well under a second.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// `CreateContainerInstanceDetails`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CreateContainerInstance {
    pub compartment_id: String,
    pub availability_domain: String,
    pub display_name: String,
    pub shape: String,
    pub shape_config: ShapeConfig,
    pub containers: Vec<CreateContainer>,
    pub vnics: Vec<CreateVnic>,
    /// `ALWAYS`, `NEVER` or `ON_FAILURE`.
    pub container_restart_policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graceful_shutdown_timeout_in_seconds: Option<i64>,
    #[serde(default)]
    pub freeform_tags: BTreeMap<String, String>,
    /// Volumes the containers may mount (`volumeMounts`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<CreateVolume>,
}

/// `CreateContainerEmptyDirVolumeDetails`: an empty directory for the instance's lifetime,
/// backed by its ephemeral disk (`EPHEMERAL_STORAGE`, 15 GB per instance whatever the shape) or
/// by its memory (`MEMORY`: as large as the memory given to it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CreateVolume {
    pub name: String,
    /// `EMPTYDIR`.
    pub volume_type: String,
    /// `EPHEMERAL_STORAGE` or `MEMORY`.
    pub backing_store: String,
}

/// `CreateVolumeMountDetails`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub mount_path: String,
    pub volume_name: String,
}

/// `CreateContainerInstanceShapeConfigDetails`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct ShapeConfig {
    pub ocpus: f32,
    #[serde(rename = "memoryInGBs", skip_serializing_if = "Option::is_none")]
    pub memory_in_gbs: Option<f32>,
}

/// `CreateContainerDetails`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CreateContainer {
    pub display_name: String,
    pub image_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment_variables: BTreeMap<String, String>,
    /// `false` gives the container the instance's resource principal (`OCI_AUTH=resource_principal`).
    #[serde(default)]
    pub is_resource_principal_disabled: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<VolumeMount>,
}

/// `CreateContainerVnicDetails`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CreateVnic {
    pub subnet_id: String,
    #[serde(default)]
    pub is_public_ip_assigned: bool,
}

/// Lifecycle states of container instances and containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LifecycleState {
    Creating,
    Updating,
    Active,
    Inactive,
    Deleting,
    Deleted,
    Failed,
    #[serde(other)]
    Unknown,
}

impl LifecycleState {
    /// Gone or going: such an instance no longer stands for a job.
    pub fn is_deleted(self) -> bool {
        matches!(self, LifecycleState::Deleting | LifecycleState::Deleted)
    }
}

/// `ContainerInstance` (the fields mediaserver reads).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInstance {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    pub lifecycle_state: LifecycleState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_details: Option<String>,
    #[serde(default)]
    pub containers: Vec<InstanceContainer>,
    #[serde(default)]
    pub freeform_tags: BTreeMap<String, String>,
    /// When the instance was created (RFC 3339): how long a job has run, whoever started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_created: Option<chrono::DateTime<chrono::Utc>>,
}

/// `ContainerInstanceContainer`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InstanceContainer {
    pub container_id: String,
    #[serde(default)]
    pub display_name: String,
}

/// `ContainerInstanceSummary` (the fields mediaserver reads).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInstanceSummary {
    pub id: String,
    #[serde(default)]
    pub display_name: String,
    pub lifecycle_state: LifecycleState,
    #[serde(default)]
    pub freeform_tags: BTreeMap<String, String>,
}

/// `Container` (the fields mediaserver reads).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub id: String,
    pub lifecycle_state: LifecycleState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

#[derive(Deserialize)]
struct Collection<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

/// Container Instances calls through an [`OciClient`] (its `container_instances` endpoint).
#[derive(Debug, Clone)]
pub struct ContainerInstancesClient {
    oci: OciClient,
}

impl ContainerInstancesClient {
    pub fn new(oci: OciClient) -> Self {
        ContainerInstancesClient { oci }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{API}/{path}", self.oci.endpoints().container_instances)
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, OciError> {
        let req = req.timeout(REQUEST_TIMEOUT).build().map_err(|e| {
            OciError::config_from(
                format!("cannot build a Container Instances request: {e}"),
                e,
            )
        })?;
        self.oci.execute_checked(req, BodySigning::Auto).await
    }

    async fn json<T: serde::de::DeserializeOwned>(
        resp: reqwest::Response,
        what: &str,
    ) -> Result<T, OciError> {
        let url = resp.url().clone();
        let text = resp.text().await.map_err(|e| transport(&url, e))?;
        serde_json::from_str(&text)
            .map_err(|e| malformed_from(&url, format!("{what}: unexpected answer ({e})"), e))
    }

    /// CreateContainerInstance. With the same `retry_token` within a day, OCI answers with the
    /// instance the first request created instead of making another.
    pub async fn create(
        &self,
        details: &CreateContainerInstance,
        retry_token: Option<&str>,
    ) -> Result<ContainerInstance, OciError> {
        let body = serde_json::to_vec(details).map_err(|e| {
            OciError::config_from(format!("cannot encode the container instance: {e}"), e)
        })?;
        let mut req = self
            .oci
            .http()
            .post(self.url("containerInstances"))
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(t) = retry_token {
            req = req.header("opc-retry-token", t);
        }
        Self::json(self.call(req).await?, "CreateContainerInstance").await
    }

    pub async fn get(&self, id: &str) -> Result<ContainerInstance, OciError> {
        let req = self
            .oci
            .http()
            .get(self.url(&format!("containerInstances/{id}")));
        Self::json(self.call(req).await?, "GetContainerInstance").await
    }

    /// Every container instance in `compartment_id` (optionally with this display name),
    /// deleted ones included (the service lists them for a while).
    pub async fn list(
        &self,
        compartment_id: &str,
        display_name: Option<&str>,
    ) -> Result<Vec<ContainerInstanceSummary>, OciError> {
        let mut out = Vec::new();
        let mut page: Option<String> = None;
        // A bound against a service that keeps handing out pages.
        for _ in 0..1000 {
            let mut query: Vec<(&str, &str)> =
                vec![("compartmentId", compartment_id), ("limit", "100")];
            if let Some(n) = display_name {
                query.push(("displayName", n));
            }
            if let Some(p) = page.as_deref() {
                query.push(("page", p));
            }
            let req = self
                .oci
                .http()
                .get(self.url("containerInstances"))
                .query(&query);
            let resp = self.call(req).await?;
            let next = resp
                .headers()
                .get("opc-next-page")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let c: Collection<ContainerInstanceSummary> =
                Self::json(resp, "ListContainerInstances").await?;
            out.extend(c.items);
            match next {
                Some(n) if !n.is_empty() => page = Some(n),
                _ => break,
            }
        }
        Ok(out)
    }

    pub async fn get_container(&self, id: &str) -> Result<Container, OciError> {
        let req = self.oci.http().get(self.url(&format!("containers/{id}")));
        Self::json(self.call(req).await?, "GetContainer").await
    }

    /// DeleteContainerInstance; an instance that is already gone (404) counts as deleted.
    pub async fn delete(&self, id: &str) -> Result<(), OciError> {
        let req = self
            .oci
            .http()
            .delete(self.url(&format!("containerInstances/{id}")));
        match self.call(req).await {
            Ok(_) => Ok(()),
            Err(OciError::Service { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_details_serialise_with_the_api_names() {
        let d = CreateContainerInstance {
            compartment_id: "c".into(),
            availability_domain: "AD-1".into(),
            display_name: "n".into(),
            shape: "CI.Standard.E4.Flex".into(),
            shape_config: ShapeConfig {
                ocpus: 2.0,
                memory_in_gbs: Some(8.0),
            },
            containers: vec![CreateContainer {
                display_name: "t".into(),
                image_url: "i".into(),
                command: None,
                arguments: vec!["transcode".into()],
                environment_variables: [("OCI_AUTH".to_string(), "resource_principal".to_string())]
                    .into(),
                is_resource_principal_disabled: false,
                volume_mounts: vec![VolumeMount {
                    mount_path: "/scratch".into(),
                    volume_name: "scratch".into(),
                }],
            }],
            vnics: vec![CreateVnic {
                subnet_id: "s".into(),
                is_public_ip_assigned: false,
            }],
            container_restart_policy: "NEVER".into(),
            graceful_shutdown_timeout_in_seconds: None,
            freeform_tags: [("mediaserver-job".to_string(), "j".to_string())].into(),
            volumes: vec![CreateVolume {
                name: "scratch".into(),
                volume_type: "EMPTYDIR".into(),
                backing_store: "MEMORY".into(),
            }],
        };
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["compartmentId"], "c");
        assert_eq!(v["shapeConfig"]["memoryInGBs"], 8.0);
        assert_eq!(v["containers"][0]["imageUrl"], "i");
        assert_eq!(
            v["containers"][0]["environmentVariables"]["OCI_AUTH"],
            "resource_principal"
        );
        assert_eq!(v["containers"][0]["isResourcePrincipalDisabled"], false);
        assert_eq!(v["vnics"][0]["subnetId"], "s");
        assert_eq!(v["containerRestartPolicy"], "NEVER");
        assert_eq!(v["freeformTags"]["mediaserver-job"], "j");
        assert!(v.get("gracefulShutdownTimeoutInSeconds").is_none());
        assert_eq!(v["volumes"][0]["volumeType"], "EMPTYDIR");
        assert_eq!(v["volumes"][0]["backingStore"], "MEMORY");
        assert_eq!(
            v["containers"][0]["volumeMounts"][0]["mountPath"],
            "/scratch"
        );
        assert_eq!(
            v["containers"][0]["volumeMounts"][0]["volumeName"],
            "scratch"
        );
    }

    #[test]
    fn unknown_states_do_not_break_parsing() {
        let c: Container =
            serde_json::from_str(r#"{"id":"x","lifecycleState":"SOMETHING_NEW","exitCode":3}"#)
                .unwrap();
        assert_eq!(c.lifecycle_state, LifecycleState::Unknown);
        assert_eq!(c.exit_code, Some(3));
    }

    #[test]
    fn creation_time_parses_in_the_api_format() {
        let i: ContainerInstance = serde_json::from_str(
            r#"{"id":"ocid1.computecontainerinstance.oc1..x","lifecycleState":"ACTIVE",
                "timeCreated":"2016-08-25T21:10:29.600Z"}"#,
        )
        .unwrap();
        let t = i.time_created.unwrap();
        assert_eq!(t.to_rfc3339(), "2016-08-25T21:10:29.600+00:00");
    }
}
