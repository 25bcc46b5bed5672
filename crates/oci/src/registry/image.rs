//! "Get image": what a reference points at — the manifest digest, the platforms of an index,
//! the config digest, the total size (config and layers, summed over an index's images) and
//! when the image was created (the config blob's `created`, what retention sorts by).

use chrono::{DateTime, Utc};
use oci_client::manifest::OciManifest;

use super::client::{RegistryClient, Target};
use super::reference::ImageReference;
use super::RegistryError;

/// A config blob larger than this is not read (real ones are a few KiB).
const MAX_CONFIG_BYTES: i64 = 4 << 20;
/// An index with more images than this is summarised from its first ones only.
const MAX_INDEX_IMAGES: usize = 64;

/// What a manifest describes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageInfo {
    /// `sha256:…` of the manifest (or index) the reference names.
    pub digest: String,
    /// The manifest's media type.
    pub media_type: String,
    /// `os/architecture[/variant]` of each image of an index; one entry for a single image
    /// when its config says.
    pub platforms: Vec<String>,
    /// The config blob's digest; `None` for an index.
    pub config_digest: Option<String>,
    /// Bytes of config and layers (for an index: of every image in it).
    pub total_size: u64,
    /// The image's creation time (an index: its newest image's).
    pub created: Option<DateTime<Utc>>,
}

#[derive(serde::Deserialize)]
struct ConfigBlob {
    created: Option<String>,
    os: Option<String>,
    architecture: Option<String>,
    variant: Option<String>,
}

impl RegistryClient {
    /// Reads the manifest `image` names (a tag, `latest` when none, or a digest) and what it
    /// describes.
    pub async fn image(&self, image: &ImageReference) -> Result<ImageInfo, RegistryError> {
        let auth = self.credentials.to_client_auth();
        let (manifest, digest) = self
            .client
            .pull_manifest(&image.to_client_reference(), &auth)
            .await
            .map_err(|e| self.error(image, Target::Manifest, e))?;
        let media_type = manifest.content_type().to_string();
        match manifest {
            OciManifest::Image(m) => {
                let pinned = image.with_digest(&digest)?;
                let (size, config) = self.image_parts(&pinned, &m).await?;
                Ok(ImageInfo {
                    digest,
                    media_type,
                    platforms: config.platform().into_iter().collect(),
                    config_digest: Some(m.config.digest.clone()),
                    total_size: size,
                    created: config.created(),
                })
            }
            OciManifest::ImageIndex(index) => {
                let mut platforms = Vec::new();
                let mut total_size = 0u64;
                let mut created: Option<DateTime<Utc>> = None;
                for entry in index.manifests.iter().take(MAX_INDEX_IMAGES) {
                    if let Some(p) = &entry.platform {
                        platforms.push(platform_name(&p.os, &p.architecture, p.variant.as_deref()));
                    }
                    let child = image.with_digest(&entry.digest)?;
                    let (m, _) = self
                        .client
                        .pull_image_manifest(&child.to_client_reference(), &auth)
                        .await
                        .map_err(|e| self.error(&child, Target::Manifest, e))?;
                    let (size, config) = self.image_parts(&child, &m).await?;
                    total_size += size;
                    created = created.max(config.created());
                }
                Ok(ImageInfo {
                    digest,
                    media_type,
                    platforms,
                    config_digest: None,
                    total_size,
                    created,
                })
            }
        }
    }

    /// The size of one image's config and layers, and its config blob.
    async fn image_parts(
        &self,
        image: &ImageReference,
        m: &oci_client::manifest::OciImageManifest,
    ) -> Result<(u64, Config), RegistryError> {
        let size = m
            .layers
            .iter()
            .chain(std::iter::once(&m.config))
            .map(|d| u64::try_from(d.size).unwrap_or(0))
            .sum();
        if m.config.size > MAX_CONFIG_BYTES {
            return Ok((size, Config(None)));
        }
        let mut bytes: Vec<u8> = Vec::new();
        self.client
            .pull_blob(&image.to_client_reference(), &m.config, &mut bytes)
            .await
            .map_err(|e| self.error(image, Target::Manifest, e))?;
        // Artifacts other than container images carry configs of other shapes: no time then.
        Ok((size, Config(serde_json::from_slice(&bytes).ok())))
    }
}

struct Config(Option<ConfigBlob>);

impl Config {
    fn created(&self) -> Option<DateTime<Utc>> {
        let c = self.0.as_ref()?.created.as_deref()?;
        DateTime::parse_from_rfc3339(c)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    fn platform(&self) -> Option<String> {
        let c = self.0.as_ref()?;
        Some(platform_name(
            c.os.as_deref()?,
            c.architecture.as_deref()?,
            c.variant.as_deref(),
        ))
    }
}

fn platform_name(os: &str, arch: &str, variant: Option<&str>) -> String {
    match variant {
        Some(v) if !v.is_empty() => format!("{os}/{arch}/{v}"),
        _ => format!("{os}/{arch}"),
    }
}
