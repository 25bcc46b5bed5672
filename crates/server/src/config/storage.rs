//! Where originals and outputs are kept: `STORAGE_PROVIDER`, `MEDIA_BUCKET`, `OUTPUT_BUCKET`,
//! `STORAGE_ENDPOINT`, `STORAGE_REGION` (or `OCI_REGION`, `AWS_REGION`), `STORAGE_PATH_STYLE`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `STORAGE_PART_SIZE_MIB` and `OCI_NAMESPACE`;
//! a `GCPBucket`'s credentials are `gcs.rs`'s.

use super::vars::{err, is_http_url, ConfigError, Vars};
use mediaserver_core::Secret;
use std::path::Path;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageProvider {
    Local,
    AwsBucket,
    /// Google Cloud Storage (or an emulator at `STORAGE_ENDPOINT`).
    GcpBucket,
    /// OCI's native Object Storage API, signed as the `OCI_AUTH` principal.
    OciBucket,
}

impl StorageProvider {
    /// A bucket every server and worker shares (as opposed to this machine's disk).
    pub fn is_cloud(self) -> bool {
        matches!(
            self,
            StorageProvider::AwsBucket | StorageProvider::GcpBucket | StorageProvider::OciBucket
        )
    }
}

impl FromStr for StorageProvider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "local" => Ok(StorageProvider::Local),
            "awsbucket" | "s3" => Ok(StorageProvider::AwsBucket),
            "gcpbucket" | "gcs" => Ok(StorageProvider::GcpBucket),
            "ocibucket" | "oci" => Ok(StorageProvider::OciBucket),
            other => Err(format!(
                "unknown provider '{other}'; expected one of Local, AWSBucket, GCPBucket, OCIBucket"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub provider: StorageProvider,
    /// Root directory for `Local` (buckets are subdirectories).
    pub local_root: PathBuf,
    pub media_bucket: String,
    pub output_bucket: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub path_style: bool,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    /// `OCI_NAMESPACE` (OCIBucket): the tenancy's Object Storage namespace; `None` asks Object
    /// Storage for it at startup.
    pub namespace: Option<String>,
    /// Objects larger than this go up as multipart uploads of this part size.
    pub part_size: usize,
    /// `GCPBucket` credentials.
    pub gcs: super::gcs::GcsConfig,
}

pub(super) fn from_vars(vars: &Vars, data_dir: &Path) -> Result<StorageConfig, ConfigError> {
    let provider = match vars.get("STORAGE_PROVIDER") {
        Some(p) => p.parse().map_err(|m| err("STORAGE_PROVIDER", m))?,
        None => StorageProvider::Local,
    };
    let media_bucket = vars.get("MEDIA_BUCKET").unwrap_or_else(|| "media".into());
    validate_bucket("MEDIA_BUCKET", &media_bucket)?;
    let output_bucket = vars
        .get("OUTPUT_BUCKET")
        .unwrap_or_else(|| media_bucket.clone());
    validate_bucket("OUTPUT_BUCKET", &output_bucket)?;
    let endpoint = vars.get("STORAGE_ENDPOINT");
    if endpoint.as_deref().is_some_and(|e| !is_http_url(e)) {
        return Err(err(
            "STORAGE_ENDPOINT",
            "must be an http:// or https:// URL",
        ));
    }
    let region = vars
        .get("STORAGE_REGION")
        .or_else(|| vars.get("OCI_REGION"))
        .or_else(|| vars.get("AWS_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    let path_style = vars.bool_or("STORAGE_PATH_STYLE", endpoint.is_some())?;
    let access_key_id = vars.get("AWS_ACCESS_KEY_ID");
    let secret_access_key = vars.get("AWS_SECRET_ACCESS_KEY").map(Secret::new);
    if provider == StorageProvider::AwsBucket
        && access_key_id.is_some() != secret_access_key.is_some()
    {
        return Err(err(
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together",
        ));
    }
    // OCI's native API refuses parts under 10 MiB (but the last); S3's limit is 5 MiB.
    const OCI_MIN_PART_MIB: usize =
        mediaserver_oci::objectstorage::multipart::MIN_PART_SIZE / (1024 * 1024);
    let (min_part_mib, default_part_mib) = match provider {
        StorageProvider::OciBucket => (OCI_MIN_PART_MIB, OCI_MIN_PART_MIB),
        _ => (5, 8),
    };
    let part_size_mib = vars.parse_or("STORAGE_PART_SIZE_MIB", default_part_mib)?;
    if !(min_part_mib..=512).contains(&part_size_mib) {
        return Err(err(
            "STORAGE_PART_SIZE_MIB",
            if provider == StorageProvider::OciBucket {
                "must be between 10 and 512 for OCIBucket (OCI parts are at least 10 MiB)"
            } else {
                "must be between 5 and 512 (S3 parts are at least 5 MiB)"
            },
        ));
    }
    let namespace = vars.get("OCI_NAMESPACE");
    if let Some(ns) = &namespace {
        if !ns.chars().all(|c| c.is_ascii_alphanumeric()) || ns.len() > 64 {
            return Err(err(
                "OCI_NAMESPACE",
                format!("'{ns}' is not an Object Storage namespace (letters and digits, as shown by `oci os ns get`)"),
            ));
        }
    }
    Ok(StorageConfig {
        provider,
        local_root: data_dir.join("storage"),
        media_bucket,
        output_bucket,
        endpoint,
        region,
        path_style,
        access_key_id,
        secret_access_key,
        namespace,
        part_size: part_size_mib * 1024 * 1024,
        gcs: super::gcs::from_vars(vars)?,
    })
}

fn validate_bucket(name: &'static str, bucket: &str) -> Result<(), ConfigError> {
    let ok = (1..=63).contains(&bucket.len())
        && bucket
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !bucket.contains("..");
    if ok {
        Ok(())
    } else {
        Err(err(
            name,
            "must be 1-63 characters of letters, digits, '-', '_' or '.'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::cfg;
    use super::*;

    #[test]
    fn oci_bucket_settings() {
        let secret = "0123456789abcdef0123456789abcdef";
        // A cloud bucket: every server must share the JWT secret.
        let e = cfg(&[("STORAGE_PROVIDER", "OCIBucket")]).unwrap_err();
        assert_eq!(e.var, "JWT_SECRET");
        let c = cfg(&[
            ("STORAGE_PROVIDER", "OCIBucket"),
            ("JWT_SECRET", secret),
            ("OCI_NAMESPACE", "axaxnpcrorw5"),
            ("OCI_REGION", "iad"),
            ("OCI_AUTH", "instance_principal"),
        ])
        .unwrap();
        assert_eq!(c.storage.provider, StorageProvider::OciBucket);
        assert!(!c.is_embedded());
        assert_eq!(c.storage.namespace.as_deref(), Some("axaxnpcrorw5"));
        assert_eq!(c.storage.part_size, 10 * 1024 * 1024, "OCI's minimum part");
        assert_eq!(c.oci.region.map(|r| r.id()), Some("us-ashburn-1"));
        let c = cfg(&[("STORAGE_PROVIDER", "oci"), ("JWT_SECRET", secret)]).unwrap();
        assert!(c.storage.namespace.is_none(), "looked up at startup");
        let e = cfg(&[
            ("STORAGE_PROVIDER", "OCIBucket"),
            ("JWT_SECRET", secret),
            ("STORAGE_PART_SIZE_MIB", "8"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "STORAGE_PART_SIZE_MIB");
        assert!(e.message.contains("10 MiB"), "{e}");
        let e = cfg(&[
            ("STORAGE_PROVIDER", "OCIBucket"),
            ("JWT_SECRET", secret),
            ("OCI_NAMESPACE", "my namespace/.."),
        ])
        .unwrap_err();
        assert_eq!(e.var, "OCI_NAMESPACE");
        assert_eq!(
            cfg(&[("STORAGE_PART_SIZE_MIB", "8")])
                .unwrap()
                .storage
                .part_size,
            8 * 1024 * 1024
        );
    }
}
