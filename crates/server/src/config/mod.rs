//! Configuration from environment variables, validated up front so a bad value stops the
//! process with an error naming the variable instead of failing later.
//!
//! One module per section, each owning its variables: `http` (listen address, upload limits,
//! events, webhook, public base URL), `database`, `storage`, `auth` (JWT secret, tokens,
//! registration), `jobs` (workers, retry policy, encoder) with `job_runner` (`JOB_RUNNER` and the
//! Container Instances settings), `events` (`EVENTS_SOURCE`: a queue or stream of bucket events),
//! `codecs` (`VIDEO_CODECS` and the AV1/HEVC presets) and `oci` (how OCI calls are signed). `vars` holds what they
//! share: trimming, defaults, booleans, and the error naming the variable.

mod auth;
mod chunks;
mod codecs;
mod database;
mod events;
mod gcs;
mod http;
mod job_runner;
mod jobs;
mod ladder;
mod oci;
mod pictures;
mod registry;
mod storage;
mod vars;
mod vault_secrets;

pub use auth::AuthConfig;
pub use database::{validate_database_url, DatabaseConfig};
pub use events::{EventsConfig, EventsSource};
pub use gcs::GcsConfig;
pub use http::{HttpConfig, WebhookConfig};
pub use job_runner::{ContainerInstancesConfig, RunnerChoice};
pub use jobs::JobConfig;
pub use pictures::PicturesConfig;
pub use registry::{registry_from_env, RegistryConfig};
pub use storage::{StorageConfig, StorageProvider};
pub use vars::ConfigError;
pub use vault_secrets::VaultSecretOcids;

use std::path::PathBuf;
use vars::{err, Vars};

#[derive(Debug, Clone)]
pub struct Config {
    /// `DATA_DIR`: the SQLite database, local storage, the generated JWT secret and scratch
    /// space live under it unless configured elsewhere.
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub storage: StorageConfig,
    pub auth: AuthConfig,
    pub jobs: JobConfig,
    /// `EVENTS_SOURCE`: a queue or stream of bucket events to consume (see `events.rs`).
    pub events: EventsConfig,
    /// `VIDEO_CODECS`, `AV1_PRESET`, `HEVC_PRESET` (see `codecs.rs`).
    pub codecs: mediaserver_pipeline::codecs::CodecOptions,
    /// How to reach OCI (see `oci.rs`): the principal, region and endpoint overrides.
    pub oci: mediaserver_oci::AuthSettings,
    /// `ARTIFACTS_REGISTRY_PROVIDER` and its repository (see `registry.rs`).
    pub registry: RegistryConfig,
    /// `LOG_FORMAT=json`.
    pub log_json: bool,
    /// Pictures on demand: renders at once, their queue, their timeout.
    pub pictures: PicturesConfig,
    /// `EVENTS_SECRET_OCID`, `WEBHOOK_SECRET_OCID` (read from OCI Vault at startup).
    pub vault: VaultSecretOcids,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get` (testable without touching the environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let vars = Vars::new(&get);
        let http = http::from_vars(&vars)?;
        let data_dir = PathBuf::from(vars.get("DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database = database::from_vars(&vars, &data_dir)?;
        let storage = storage::from_vars(&vars, &data_dir)?;
        let auth = auth::from_vars(&vars, is_embedded(&database, &storage))?;
        let log_json = match vars.get("LOG_FORMAT").as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(_) => return Err(err("LOG_FORMAT", "must be 'text' or 'json'")),
        };
        let jobs = jobs::from_vars(&vars, &data_dir, storage.provider)?;
        let events = events::from_vars(&vars, &storage.region)?;
        let codecs = codecs::from_vars(&vars)?;
        let vault = vault_secrets::from_vars(&vars)?;
        let uses_oci = auth.jwt_secret_ocid.is_some()
            || vault.any()
            || matches!(events.source, Some(EventsSource::OciStreaming { .. }))
            || database.url_secret_ocid.is_some()
            || storage.provider == StorageProvider::OciBucket
            || !matches!(jobs.runner, RunnerChoice::InProcess);
        let oci = oci::from_vars(&vars, uses_oci)?;
        let pictures = pictures::from_vars(&vars)?;
        let registry = registry::from_vars(&vars)?;
        Ok(Config {
            data_dir,
            http,
            database,
            storage,
            auth,
            jobs,
            events,
            codecs,
            oci,
            registry,
            log_json,
            pictures,
            vault,
        })
    }

    /// True for the laptop setup (SQLite, no cloud bucket), where a generated JWT secret kept in
    /// the data directory is acceptable.
    pub fn is_embedded(&self) -> bool {
        is_embedded(&self.database, &self.storage)
    }
}

fn is_embedded(database: &DatabaseConfig, storage: &StorageConfig) -> bool {
    database.url.starts_with("sqlite:") && !storage.provider.is_cloud()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// The configuration from these variables only.
    pub(crate) fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn embedded_defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.http.port, 3000);
        assert_eq!(c.http.host.to_string(), "0.0.0.0");
        assert_eq!(c.database.url, "sqlite://./data/mediaserver.db");
        assert_eq!(c.storage.provider, StorageProvider::Local);
        assert_eq!(c.storage.output_bucket, "media");
        assert_eq!(c.http.max_upload_bytes, 10 * 1024 * 1024 * 1024);
        assert_eq!(c.http.header_timeout, std::time::Duration::from_secs(30));
        assert_eq!(c.http.max_connections, 4096);
        assert!(c.is_embedded());
        assert!(c.auth.jwt_secret.is_none());
    }

    #[test]
    fn user_quota_is_unset_or_a_positive_number_of_bytes() {
        assert_eq!(cfg(&[]).unwrap().http.user_quota_bytes, None);
        let c = cfg(&[("USER_QUOTA_BYTES", "1073741824")]).unwrap();
        assert_eq!(c.http.user_quota_bytes, Some(1 << 30));
        for bad in ["0", "-1", "1GB", "lots"] {
            assert_eq!(
                cfg(&[("USER_QUOTA_BYTES", bad)]).unwrap_err().var,
                "USER_QUOTA_BYTES",
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(cfg(&[("PORT", "eighty")]).unwrap_err().var, "PORT");
        assert_eq!(
            cfg(&[("STORAGE_PROVIDER", "ftp")]).unwrap_err().var,
            "STORAGE_PROVIDER"
        );
        assert_eq!(
            cfg(&[("DATABASE_URL", "mongodb://x")]).unwrap_err().var,
            "DATABASE_URL"
        );
        assert_eq!(
            cfg(&[("ALLOW_REGISTRATION", "maybe")]).unwrap_err().var,
            "ALLOW_REGISTRATION"
        );
        assert_eq!(
            cfg(&[("MAX_PENDING_UPLOADS", "0")]).unwrap_err().var,
            "MAX_PENDING_UPLOADS"
        );
        for bad in ["0", "-1", "many", "1000001"] {
            assert_eq!(
                cfg(&[("BEACONS_PER_MINUTE", bad)]).unwrap_err().var,
                "BEACONS_PER_MINUTE"
            );
        }
        assert_eq!(cfg(&[]).unwrap().http.beacons_per_minute, 120);
        assert_eq!(
            cfg(&[("MEDIA_BUCKET", "../etc")]).unwrap_err().var,
            "MEDIA_BUCKET"
        );
        assert_eq!(
            cfg(&[("JWT_SECRET", "short")]).unwrap_err().var,
            "JWT_SECRET"
        );
        for var in ["HTTP_HEADER_TIMEOUT_SECONDS", "HTTP_MAX_CONNECTIONS"] {
            assert_eq!(cfg(&[(var, "0")]).unwrap_err().var, var);
        }
        // Values that would overflow a deadline or a semaphore are refused, not a panic later.
        for var in ["HTTP_HEADER_TIMEOUT_SECONDS", "HTTP_MAX_CONNECTIONS"] {
            assert_eq!(cfg(&[(var, &u64::MAX.to_string())]).unwrap_err().var, var);
        }
    }
}
