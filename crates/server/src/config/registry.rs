//! The artifacts registry (`ARTIFACTS_REGISTRY_PROVIDER`): which kind of registry the images
//! live in, the repository (`OCI_CONTAINER_REPOSITORY_NAME`, `AWS_DOCKER_REPOSITORY_NAME`,
//! `GCP_DOCKER_REPOSITORY_NAME`, `ARTIFACTS_REPOSITORY`) with the provider's other parts, and how
//! `mediaserver registry` gets credentials and deletes for it. Read by the `registry`
//! subcommands; the server validates it at start like every section.

use std::path::PathBuf;

use super::vars::{err, ConfigError, Vars};
use mediaserver_oci::registry::{
    AwsCredentials, RegistryProvider, RegistrySecret, RepositoryLocation, DEFAULT_METADATA_HOST,
};

/// The default image name inside an Artifact Registry repository.
pub const DEFAULT_GCP_IMAGE: &str = "mediaserver";

#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// `ARTIFACTS_REGISTRY_PROVIDER`; unset: each image's provider is told by its host.
    pub provider: Option<RegistryProvider>,
    /// The configured repository (with a provider).
    pub location: Option<RepositoryLocation>,
    /// `ARTIFACTS_REGISTRY_HOST`: replaces the provider's registry host (a private endpoint,
    /// a pull-through mirror, a test registry).
    pub host_override: Option<String>,
    /// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, for ECR logins.
    pub aws_credentials: Option<AwsCredentials>,
    /// AWS_REGION.
    pub aws_region: Option<String>,
    /// `AWS_ECR_ENDPOINT`: the ECR API (GetAuthorizationToken); default from the region.
    pub ecr_endpoint: Option<String>,
    /// `GOOGLE_APPLICATION_CREDENTIALS`: a service-account key file for Artifact Registry.
    pub gcp_key_file: Option<PathBuf>,
    /// `GCE_METADATA_HOST`: the metadata server, used without a key file.
    pub gcp_metadata_host: String,
    /// `OCI_CONTAINER_REPOSITORY_COMPARTMENT_ID`, else `OCI_COMPARTMENT_ID`: where OCIR images
    /// are looked up to be deleted (sub-compartments included).
    pub ocir_compartment_id: Option<String>,
    /// `OCI_ARTIFACTS_ENDPOINT`: the Artifacts API; default from the region.
    pub artifacts_endpoint: Option<String>,
    /// `WORKER_IMAGE` (trimmed; blank is unset): the image jobs run in, which `registry prune`
    /// never deletes. Parsed there: a value of another repository only pins nothing.
    pub worker_image: Option<String>,
}

fn required(
    vars: &Vars,
    name: &'static str,
    provider: RegistryProvider,
) -> Result<String, ConfigError> {
    vars.get(name).ok_or_else(|| {
        err(
            name,
            format!("required with ARTIFACTS_REGISTRY_PROVIDER={provider}"),
        )
    })
}

pub(super) fn from_vars(vars: &Vars) -> Result<RegistryConfig, ConfigError> {
    let provider = match vars.get("ARTIFACTS_REGISTRY_PROVIDER") {
        None => None,
        Some(v) => Some(RegistryProvider::parse(&v).ok_or_else(|| {
            err(
                "ARTIFACTS_REGISTRY_PROVIDER",
                format!(
                    "unknown provider '{v}'; expected one of {}",
                    RegistryProvider::NAMES.join(", ")
                ),
            )
        })?),
    };
    let location = match provider {
        None => None,
        Some(p @ RegistryProvider::OciOcir) => Some(RepositoryLocation::Ocir {
            region: required(vars, "OCI_REGION", p)?,
            namespace: required(vars, "OCI_NAMESPACE", p)?,
            repository: required(vars, "OCI_CONTAINER_REPOSITORY_NAME", p)?,
        }),
        Some(p @ RegistryProvider::AwsEcr) => {
            let account = required(vars, "AWS_ACCOUNT_ID", p)?;
            if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
                return Err(err(
                    "AWS_ACCOUNT_ID",
                    format!("'{account}' is not an AWS account id (12 digits)"),
                ));
            }
            Some(RepositoryLocation::Ecr {
                account,
                region: required(vars, "AWS_REGION", p)?,
                repository: required(vars, "AWS_DOCKER_REPOSITORY_NAME", p)?,
            })
        }
        Some(p @ RegistryProvider::GcpArtifactRegistry) => {
            Some(RepositoryLocation::ArtifactRegistry {
                region: required(vars, "GCP_REGION", p)?,
                project: required(vars, "GCP_PROJECT_ID", p)?,
                repository: required(vars, "GCP_DOCKER_REPOSITORY_NAME", p)?,
                image: vars
                    .get("GCP_DOCKER_IMAGE_NAME")
                    .unwrap_or_else(|| DEFAULT_GCP_IMAGE.to_string()),
            })
        }
        Some(p @ RegistryProvider::Generic) => Some(RepositoryLocation::Generic {
            repository: required(vars, "ARTIFACTS_REPOSITORY", p)?,
        }),
    };
    let host_override = vars.get("ARTIFACTS_REGISTRY_HOST");
    if let Some(loc) = &location {
        // A typo in any part is reported now, naming the provider's variables.
        loc.repository(host_override.as_deref()).map_err(|e| {
            err(
                "ARTIFACTS_REGISTRY_PROVIDER",
                format!("the configured repository is not valid: {e}"),
            )
        })?;
    }
    let aws_credentials = match (
        vars.get("AWS_ACCESS_KEY_ID"),
        vars.get("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => Some(AwsCredentials {
            access_key_id: id,
            secret_access_key: RegistrySecret::new(secret),
            session_token: vars.get("AWS_SESSION_TOKEN").map(RegistrySecret::new),
        }),
        _ => None,
    };
    for name in ["AWS_ECR_ENDPOINT", "OCI_ARTIFACTS_ENDPOINT"] {
        if let Some(v) = vars.get(name) {
            if !super::vars::is_http_url(&v) {
                return Err(err(
                    name,
                    format!("'{v}' must be an http:// or https:// URL"),
                ));
            }
        }
    }
    Ok(RegistryConfig {
        provider,
        location,
        host_override,
        aws_credentials,
        aws_region: vars.get("AWS_REGION"),
        ecr_endpoint: vars.get("AWS_ECR_ENDPOINT"),
        gcp_key_file: vars
            .get("GOOGLE_APPLICATION_CREDENTIALS")
            .map(PathBuf::from),
        gcp_metadata_host: vars
            .get("GCE_METADATA_HOST")
            .unwrap_or_else(|| DEFAULT_METADATA_HOST.to_string()),
        ocir_compartment_id: vars
            .get("OCI_CONTAINER_REPOSITORY_COMPARTMENT_ID")
            .or_else(|| vars.get("OCI_COMPARTMENT_ID")),
        artifacts_endpoint: vars.get("OCI_ARTIFACTS_ENDPOINT"),
        worker_image: vars.get("WORKER_IMAGE"),
    })
}

/// The registry section alone, from the process environment (what `mediaserver registry`
/// reads: the rest of the server's configuration does not concern it).
pub fn registry_from_env() -> Result<RegistryConfig, ConfigError> {
    let get = |k: &str| std::env::var(k).ok();
    from_vars(&Vars::new(&get))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(pairs: &[(&str, &str)]) -> Result<RegistryConfig, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| m.get(k).cloned();
        from_vars(&Vars::new(&lookup))
    }

    /// `registry prune` reads WORKER_IMAGE here like every other variable (it read the raw
    /// environment: a value with a stray space or newline from a secret file failed to parse
    /// and stopped the prune, where the config treats it as every other variable).
    #[test]
    fn the_worker_image_is_read_like_every_other_variable() {
        assert_eq!(read(&[]).unwrap().worker_image, None);
        assert_eq!(read(&[("WORKER_IMAGE", " \n")]).unwrap().worker_image, None);
        assert_eq!(
            read(&[("WORKER_IMAGE", " r.example/team/worker:v2\n")])
                .unwrap()
                .worker_image
                .as_deref(),
            Some("r.example/team/worker:v2")
        );
    }

    #[test]
    fn each_provider_names_its_repository() {
        let c = read(&[]).unwrap();
        assert!(c.provider.is_none() && c.location.is_none());
        let c = read(&[
            ("ARTIFACTS_REGISTRY_PROVIDER", "AWS_ECR"),
            ("AWS_ACCOUNT_ID", "123456789012"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DOCKER_REPOSITORY_NAME", "mediaserver"),
        ])
        .unwrap();
        assert_eq!(
            c.location.unwrap().tag("v1", None).unwrap().to_string(),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mediaserver:v1"
        );
        let c = read(&[
            ("ARTIFACTS_REGISTRY_PROVIDER", "OCI_OCIR"),
            ("OCI_REGION", "us-ashburn-1"),
            ("OCI_NAMESPACE", "axaxnpcrorw5"),
            ("OCI_CONTAINER_REPOSITORY_NAME", "mediaserver"),
            ("OCI_COMPARTMENT_ID", "ocid1.compartment.oc1..x"),
        ])
        .unwrap();
        assert_eq!(
            c.ocir_compartment_id.as_deref(),
            Some("ocid1.compartment.oc1..x")
        );
        assert_eq!(
            c.location.unwrap().tag("v1", None).unwrap().to_string(),
            "iad.ocir.io/axaxnpcrorw5/mediaserver:v1"
        );
        let c = read(&[
            ("ARTIFACTS_REGISTRY_PROVIDER", "gcp_artifact_registry"),
            ("GCP_REGION", "us-central1"),
            ("GCP_PROJECT_ID", "proj-1"),
            ("GCP_DOCKER_REPOSITORY_NAME", "images"),
        ])
        .unwrap();
        assert_eq!(
            c.location.unwrap().tag("v1", None).unwrap().to_string(),
            "us-central1-docker.pkg.dev/proj-1/images/mediaserver:v1"
        );
    }

    #[test]
    fn bad_or_missing_values_name_the_variable() {
        let e = read(&[("ARTIFACTS_REGISTRY_PROVIDER", "DOCKERHUB")]).unwrap_err();
        assert_eq!(e.var, "ARTIFACTS_REGISTRY_PROVIDER");
        assert!(e
            .message
            .contains("OCI_OCIR, AWS_ECR, GCP_ARTIFACT_REGISTRY, GENERIC"));
        let e = read(&[
            ("ARTIFACTS_REGISTRY_PROVIDER", "AWS_ECR"),
            ("AWS_ACCOUNT_ID", "123456789012"),
            ("AWS_REGION", "eu-west-1"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "AWS_DOCKER_REPOSITORY_NAME");
        let e = read(&[
            ("ARTIFACTS_REGISTRY_PROVIDER", "AWS_ECR"),
            ("AWS_ACCOUNT_ID", "12345"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "AWS_ACCOUNT_ID");
        let e = read(&[
            ("ARTIFACTS_REGISTRY_PROVIDER", "GENERIC"),
            ("ARTIFACTS_REPOSITORY", "no-host"),
        ])
        .unwrap_err();
        assert!(e.message.contains("registry host"), "{e}");
    }
}
