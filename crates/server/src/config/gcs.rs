//! How a `GCPBucket` authenticates: `GOOGLE_SERVICE_ACCOUNT_KEY` (a service-account key's JSON
//! text, e.g. from a secret) or `GOOGLE_APPLICATION_CREDENTIALS` (the path of a service-account
//! key file or of gcloud's application-default-credentials file). With neither, GCS is reached
//! with gcloud's well-known ADC file or the metadata server (GCE, GKE, Cloud Run); with neither
//! and a `STORAGE_ENDPOINT` (an emulator), requests go unauthenticated.

use super::vars::{err, ConfigError, Vars};
use mediaserver_core::Secret;
use std::path::PathBuf;

#[derive(Debug, Clone, Default)]
pub struct GcsConfig {
    pub service_account_key: Option<Secret>,
    pub application_credentials: Option<PathBuf>,
}

pub(super) fn from_vars(vars: &Vars) -> Result<GcsConfig, ConfigError> {
    let service_account_key = vars.get("GOOGLE_SERVICE_ACCOUNT_KEY");
    if let Some(key) = &service_account_key {
        // Checked here so a truncated paste stops startup naming the variable (never its text).
        if serde_json::from_str::<serde_json::Value>(key).map_or(true, |v| !v.is_object()) {
            return Err(err(
                "GOOGLE_SERVICE_ACCOUNT_KEY",
                "must be a service-account key's JSON (the file's contents)",
            ));
        }
    }
    let application_credentials = vars
        .get("GOOGLE_APPLICATION_CREDENTIALS")
        .map(PathBuf::from);
    if service_account_key.is_some() && application_credentials.is_some() {
        return Err(err(
            "GOOGLE_APPLICATION_CREDENTIALS",
            "set GOOGLE_SERVICE_ACCOUNT_KEY or GOOGLE_APPLICATION_CREDENTIALS, not both",
        ));
    }
    Ok(GcsConfig {
        service_account_key: service_account_key.map(Secret::new),
        application_credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::cfg;
    use super::super::StorageProvider;

    #[test]
    fn gcp_bucket_settings() {
        let secret = "0123456789abcdef0123456789abcdef";
        let c = cfg(&[
            ("STORAGE_PROVIDER", "GCPBucket"),
            ("JWT_SECRET", secret),
            ("STORAGE_ENDPOINT", "http://127.0.0.1:4443"),
        ])
        .unwrap();
        assert_eq!(c.storage.provider, StorageProvider::GcpBucket);
        assert!(c.storage.provider.is_cloud());
        assert!(c.storage.gcs.service_account_key.is_none());
        let c = cfg(&[
            ("STORAGE_PROVIDER", "gcs"),
            ("JWT_SECRET", secret),
            (
                "GOOGLE_SERVICE_ACCOUNT_KEY",
                r#"{"type":"service_account"}"#,
            ),
        ])
        .unwrap();
        assert!(c.storage.gcs.service_account_key.is_some());
        assert!(!format!("{:?}", c.storage).contains("service_account\""));
        let e = cfg(&[
            ("STORAGE_PROVIDER", "GCPBucket"),
            ("JWT_SECRET", secret),
            ("GOOGLE_SERVICE_ACCOUNT_KEY", "s3cr3t {"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "GOOGLE_SERVICE_ACCOUNT_KEY");
        assert!(!e.to_string().contains("s3cr3t"), "{e}");
        let e = cfg(&[
            ("STORAGE_PROVIDER", "GCPBucket"),
            ("JWT_SECRET", secret),
            ("GOOGLE_SERVICE_ACCOUNT_KEY", "{}"),
            ("GOOGLE_APPLICATION_CREDENTIALS", "/etc/key.json"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "GOOGLE_APPLICATION_CREDENTIALS");
    }
}
