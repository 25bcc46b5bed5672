//! `ARTIFACTS_REGISTRY_PROVIDER`: which kind of registry an image lives in. It decides the form
//! of a full reference ("get tag"), how credentials are obtained when no user name is given
//! (OCIR's signed token exchange, ECR's GetAuthorizationToken, a Google OAuth access token) and
//! how an image is deleted (OCIR: the Artifacts API; everyone else: the distribution API).

use std::fmt;

use super::reference::{is_ocir_host, ImageReference, ReferenceError};

/// The registry kinds mediaserver knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryProvider {
    /// Oracle Cloud Infrastructure Registry: `<region-key>.ocir.io/<namespace>/<repo>`.
    OciOcir,
    /// Amazon ECR: `<account>.dkr.ecr.<region>.amazonaws.com/<repo>`.
    AwsEcr,
    /// Google Artifact Registry: `<region>-docker.pkg.dev/<project>/<repo>/<image>`.
    GcpArtifactRegistry,
    /// Any OCI distribution registry, user name and password or anonymous.
    Generic,
}

impl RegistryProvider {
    /// The `ARTIFACTS_REGISTRY_PROVIDER` spellings.
    pub const NAMES: [&'static str; 4] =
        ["OCI_OCIR", "AWS_ECR", "GCP_ARTIFACT_REGISTRY", "GENERIC"];

    /// Parses an `ARTIFACTS_REGISTRY_PROVIDER` value (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "OCI_OCIR" | "OCIR" => Some(RegistryProvider::OciOcir),
            "AWS_ECR" | "ECR" => Some(RegistryProvider::AwsEcr),
            "GCP_ARTIFACT_REGISTRY" | "ARTIFACT_REGISTRY" => {
                Some(RegistryProvider::GcpArtifactRegistry)
            }
            "GENERIC" => Some(RegistryProvider::Generic),
            _ => None,
        }
    }

    /// The provider a registry host belongs to, by its name.
    pub fn from_host(host: &str) -> Self {
        let name = host.split(':').next().unwrap_or(host);
        if is_ocir_host(host) {
            RegistryProvider::OciOcir
        } else if name.contains(".dkr.ecr.") && name.ends_with(".amazonaws.com") {
            RegistryProvider::AwsEcr
        } else if name.ends_with("-docker.pkg.dev") {
            RegistryProvider::GcpArtifactRegistry
        } else {
            RegistryProvider::Generic
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            RegistryProvider::OciOcir => "OCI_OCIR",
            RegistryProvider::AwsEcr => "AWS_ECR",
            RegistryProvider::GcpArtifactRegistry => "GCP_ARTIFACT_REGISTRY",
            RegistryProvider::Generic => "GENERIC",
        }
    }
}

impl fmt::Display for RegistryProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a provider's repository is: the parts of its host and path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepositoryLocation {
    /// `region` is an OCI region identifier or key; `namespace` the tenancy namespace.
    Ocir {
        region: String,
        namespace: String,
        repository: String,
    },
    Ecr {
        account: String,
        region: String,
        repository: String,
    },
    /// `image` is the image (package) inside the Artifact Registry repository.
    ArtifactRegistry {
        region: String,
        project: String,
        repository: String,
        image: String,
    },
    /// `repository` is the whole `host[:port]/path`.
    Generic { repository: String },
}

impl RepositoryLocation {
    pub fn provider(&self) -> RegistryProvider {
        match self {
            RepositoryLocation::Ocir { .. } => RegistryProvider::OciOcir,
            RepositoryLocation::Ecr { .. } => RegistryProvider::AwsEcr,
            RepositoryLocation::ArtifactRegistry { .. } => RegistryProvider::GcpArtifactRegistry,
            RepositoryLocation::Generic { .. } => RegistryProvider::Generic,
        }
    }

    /// "Get tag": the full reference of `tag` in this repository, in the provider's form.
    /// `host_override` replaces the host (a private endpoint, a test registry).
    pub fn tag(
        &self,
        tag: &str,
        host_override: Option<&str>,
    ) -> Result<ImageReference, ReferenceError> {
        let repo = self.repository(host_override)?;
        ImageReference::parse(&format!(
            "{}/{}:{}",
            repo.registry(),
            repo.repository(),
            tag.trim()
        ))
    }

    /// The repository without a tag.
    pub fn repository(
        &self,
        host_override: Option<&str>,
    ) -> Result<ImageReference, ReferenceError> {
        let (host, path) = match self {
            RepositoryLocation::Ocir {
                region,
                namespace,
                repository,
            } => {
                let r = ImageReference::ocir(region, namespace, repository, None)?;
                (r.registry().to_string(), r.repository().to_string())
            }
            RepositoryLocation::Ecr {
                account,
                region,
                repository,
            } => (
                format!("{account}.dkr.ecr.{region}.amazonaws.com"),
                repository.clone(),
            ),
            RepositoryLocation::ArtifactRegistry {
                region,
                project,
                repository,
                image,
            } => (
                format!("{region}-docker.pkg.dev"),
                format!("{project}/{repository}/{image}"),
            ),
            RepositoryLocation::Generic { repository } => {
                let r = ImageReference::parse(repository)?;
                (r.registry().to_string(), r.repository().to_string())
            }
        };
        let host = host_override
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .unwrap_or(host);
        ImageReference::parse(&format!("{host}/{path}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_have_each_providers_form() {
        let ocir = RepositoryLocation::Ocir {
            region: "us-ashburn-1".into(),
            namespace: "axaxnpcrorw5".into(),
            repository: "mediaserver".into(),
        };
        assert_eq!(
            ocir.tag("v1", None).unwrap().to_string(),
            "iad.ocir.io/axaxnpcrorw5/mediaserver:v1"
        );
        let ecr = RepositoryLocation::Ecr {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            repository: "media/server".into(),
        };
        assert_eq!(
            ecr.tag("v2", None).unwrap().to_string(),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/media/server:v2"
        );
        let ar = RepositoryLocation::ArtifactRegistry {
            region: "europe-west4".into(),
            project: "my-project".into(),
            repository: "images".into(),
            image: "mediaserver".into(),
        };
        assert_eq!(
            ar.tag("latest", None).unwrap().to_string(),
            "europe-west4-docker.pkg.dev/my-project/images/mediaserver:latest"
        );
        assert_eq!(
            ar.tag("latest", Some("127.0.0.1:5000"))
                .unwrap()
                .to_string(),
            "127.0.0.1:5000/my-project/images/mediaserver:latest"
        );
        let generic = RepositoryLocation::Generic {
            repository: "registry.example.com:5000/team/app".into(),
        };
        assert_eq!(
            generic.tag("1.0", None).unwrap().to_string(),
            "registry.example.com:5000/team/app:1.0"
        );
        assert!(ecr.tag("Bad Tag", None).is_err());
    }

    #[test]
    fn providers_are_recognised_by_name_and_host() {
        for n in RegistryProvider::NAMES {
            assert_eq!(RegistryProvider::parse(n).unwrap().name(), n);
        }
        assert_eq!(
            RegistryProvider::parse("oci_ocir"),
            Some(RegistryProvider::OciOcir)
        );
        assert_eq!(RegistryProvider::parse("docker"), None);
        assert_eq!(
            RegistryProvider::from_host("fra.ocir.io"),
            RegistryProvider::OciOcir
        );
        assert_eq!(
            RegistryProvider::from_host("1.dkr.ecr.us-east-1.amazonaws.com"),
            RegistryProvider::AwsEcr
        );
        assert_eq!(
            RegistryProvider::from_host("us-docker.pkg.dev"),
            RegistryProvider::GcpArtifactRegistry
        );
        assert_eq!(
            RegistryProvider::from_host("127.0.0.1:5000"),
            RegistryProvider::Generic
        );
    }
}
