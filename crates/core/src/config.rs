//! Configuration from environment variables, validated up front so a bad value stops the
//! process with an error naming the variable instead of failing later.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// A value that must never be printed: `Debug` shows `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

pub(crate) fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageProvider {
    Local,
    AwsBucket,
    /// OCI's native Object Storage API, signed as the `OCI_AUTH` principal.
    OciBucket,
    Memory,
}

impl StorageProvider {
    /// A bucket every server and worker shares (as opposed to this machine's disk or memory).
    pub fn is_cloud(self) -> bool {
        matches!(
            self,
            StorageProvider::AwsBucket | StorageProvider::OciBucket
        )
    }
}

impl FromStr for StorageProvider {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "local" => Ok(StorageProvider::Local),
            "awsbucket" | "s3" => Ok(StorageProvider::AwsBucket),
            "memory" => Ok(StorageProvider::Memory),
            "ocibucket" | "oci" => Ok(StorageProvider::OciBucket),
            "gcpbucket" => Err("GCPBucket is not available in this build yet; use Local, AWSBucket, OCIBucket or Memory".into()),
            other => Err(format!(
                "unknown provider '{other}'; expected one of Local, AWSBucket, OCIBucket, Memory"
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
}

#[derive(Debug, Clone)]
pub struct Config {
    pub host: IpAddr,
    pub port: u16,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub storage: StorageConfig,
    pub jwt_secret: Option<Secret>,
    /// `JWT_SECRET_OCID`: read from OCI Vault at startup into `jwt_secret`.
    pub jwt_secret_ocid: Option<String>,
    /// `DATABASE_URL_SECRET_OCID`: read from OCI Vault at startup into `database_url` (empty
    /// until then).
    pub database_url_secret_ocid: Option<String>,
    /// How to reach OCI: `OCI_AUTH`, `OCI_CONFIG_FILE`, `OCI_PROFILE`, `OCI_REGION`, the
    /// `OCI_*_ENDPOINT`/`OCIR_ENDPOINT` overrides and the resource principal variables.
    pub oci: mediaserver_oci::AuthSettings,
    pub workers: usize,
    pub events_secret: Option<Secret>,
    pub events_owner_email: Option<String>,
    pub allow_registration: bool,
    pub max_upload_bytes: u64,
    /// Unfinished uploads (tus, direct) are removed this long after their last activity.
    pub upload_expiry_secs: u64,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_secs: u64,
    pub log_json: bool,
    pub jobs: JobConfig,
    /// `JOB_RUNNER`: in-process workers, or one OCI Container Instance per job.
    pub job_runner: crate::job_runner::JobRunner,
    pub webhook: Option<WebhookConfig>,
    /// Segment requests redirect here (a CDN in front of the output bucket) instead of being proxied.
    pub public_base_url: Option<String>,
}

/// How processing jobs run.
#[derive(Debug, Clone)]
pub struct JobConfig {
    /// Attempts, backoff between them (see `crate::retry`).
    pub retry: crate::RetryPolicy,
    /// A worker that stops renewing its lease for this long loses the job to another worker.
    pub lease_secs: u64,
    /// x264 preset for every rung.
    pub preset: String,
    /// Upper bound for one ffmpeg run.
    pub timeout_secs: u64,
    /// How often `transcode` to a bucket rewrites its progress object (what a remote job runner
    /// reads); 0 on every whole percent.
    pub progress_interval_secs: u64,
    /// Where workers keep their scratch files (`$DATA_DIR/tmp` by default).
    pub temp_dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: Secret,
}

const X264_PRESETS: &[&str] = &[
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
];

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get` (testable without touching the environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let host = parse_or(&var, "HOST", "0.0.0.0".parse().expect("literal address"))?;
        let port = parse_or(&var, "PORT", 3000u16)?;
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url_secret_ocid = var("DATABASE_URL_SECRET_OCID");
        if let Some(id) = &database_url_secret_ocid {
            if var("DATABASE_URL").is_some() {
                return Err(err(
                    "DATABASE_URL_SECRET_OCID",
                    "set either DATABASE_URL or DATABASE_URL_SECRET_OCID, not both",
                ));
            }
            mediaserver_oci::vault::validate_secret_ocid(id)
                .map_err(|m| err("DATABASE_URL_SECRET_OCID", m))?;
        }
        let database_url = match var("DATABASE_URL") {
            Some(u) => {
                validate_database_url(&u).map_err(|m| err("DATABASE_URL", m))?;
                u
            }
            // Filled in from OCI Vault at startup (see `database_url_secret_ocid`).
            None if database_url_secret_ocid.is_some() => String::new(),
            None => format!("sqlite://{}/mediaserver.db", data_dir.display()),
        };

        let provider = match var("STORAGE_PROVIDER") {
            Some(p) => p.parse().map_err(|m| err("STORAGE_PROVIDER", m))?,
            None => StorageProvider::Local,
        };
        let media_bucket = var("MEDIA_BUCKET").unwrap_or_else(|| "media".into());
        validate_bucket("MEDIA_BUCKET", &media_bucket)?;
        let output_bucket = var("OUTPUT_BUCKET").unwrap_or_else(|| media_bucket.clone());
        validate_bucket("OUTPUT_BUCKET", &output_bucket)?;
        let endpoint = var("STORAGE_ENDPOINT");
        if let Some(e) = &endpoint {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(err(
                    "STORAGE_ENDPOINT",
                    "must be an http:// or https:// URL",
                ));
            }
        }
        let region = var("STORAGE_REGION")
            .or_else(|| var("OCI_REGION"))
            .or_else(|| var("AWS_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let path_style = parse_bool(&var, "STORAGE_PATH_STYLE", endpoint.is_some())?;
        let access_key_id = var("AWS_ACCESS_KEY_ID");
        let secret_access_key = var("AWS_SECRET_ACCESS_KEY").map(Secret);
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
        let part_size_mib = parse_or(&var, "STORAGE_PART_SIZE_MIB", default_part_mib)?;
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
        let namespace = var("OCI_NAMESPACE");
        if let Some(ns) = &namespace {
            if !ns.chars().all(|c| c.is_ascii_alphanumeric()) || ns.len() > 64 {
                return Err(err(
                    "OCI_NAMESPACE",
                    format!("'{ns}' is not an Object Storage namespace (letters and digits, as shown by `oci os ns get`)"),
                ));
            }
        }

        let jwt_secret = var("JWT_SECRET").map(Secret);
        if let Some(s) = &jwt_secret {
            if s.expose().len() < 32 {
                return Err(err("JWT_SECRET", "must be at least 32 characters"));
            }
        }
        let jwt_secret_ocid = var("JWT_SECRET_OCID");
        if let Some(id) = &jwt_secret_ocid {
            if jwt_secret.is_some() {
                return Err(err(
                    "JWT_SECRET_OCID",
                    "set either JWT_SECRET or JWT_SECRET_OCID, not both",
                ));
            }
            mediaserver_oci::vault::validate_secret_ocid(id)
                .map_err(|m| err("JWT_SECRET_OCID", m))?;
        }
        let embedded = database_url.starts_with("sqlite:") && !provider.is_cloud();
        if !embedded && jwt_secret.is_none() && jwt_secret_ocid.is_none() {
            return Err(err(
                "JWT_SECRET",
                "required when using PostgreSQL or a cloud bucket (every server must share it); \
                 generate one with: openssl rand -hex 32 (or keep it in OCI Vault: JWT_SECRET_OCID)",
            ));
        }

        let workers = parse_or(&var, "WORKERS", 1usize)?;
        let events_secret = var("EVENTS_SECRET").map(Secret);
        let events_owner_email = var("EVENTS_OWNER_EMAIL");
        let allow_registration = parse_bool(&var, "ALLOW_REGISTRATION", true)?;
        let max_upload_bytes = parse_or(&var, "MAX_UPLOAD_BYTES", 10u64 * 1024 * 1024 * 1024)?;
        if max_upload_bytes == 0 {
            return Err(err("MAX_UPLOAD_BYTES", "must be greater than 0"));
        }
        let upload_expiry_secs = parse_or(&var, "UPLOAD_EXPIRY_SECONDS", 24 * 3600u64)?;
        if upload_expiry_secs == 0 {
            return Err(err("UPLOAD_EXPIRY_SECONDS", "must be greater than 0"));
        }
        let access_token_ttl_secs = parse_or(&var, "ACCESS_TOKEN_TTL_SECONDS", 900u64)?;
        let refresh_token_ttl_secs =
            parse_or(&var, "REFRESH_TOKEN_TTL_SECONDS", 30 * 24 * 3600u64)?;
        if access_token_ttl_secs == 0 || refresh_token_ttl_secs == 0 {
            return Err(err(
                "ACCESS_TOKEN_TTL_SECONDS",
                "token lifetimes must be greater than 0",
            ));
        }
        let log_json = match var("LOG_FORMAT").as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(_) => return Err(err("LOG_FORMAT", "must be 'text' or 'json'")),
        };

        let max_attempts = parse_or(&var, "JOB_MAX_ATTEMPTS", 3i32)?;
        if !(1..=100).contains(&max_attempts) {
            return Err(err("JOB_MAX_ATTEMPTS", "must be between 1 and 100"));
        }
        let backoff_base = parse_or(&var, "JOB_RETRY_BACKOFF_SECONDS", 10u64)?;
        if !(1..=86_400).contains(&backoff_base) {
            return Err(err(
                "JOB_RETRY_BACKOFF_SECONDS",
                "must be between 1 and 86400",
            ));
        }
        let backoff_cap = parse_or(&var, "JOB_RETRY_BACKOFF_MAX_SECONDS", 600u64)?;
        if !(backoff_base..=86_400).contains(&backoff_cap) {
            return Err(err(
                "JOB_RETRY_BACKOFF_MAX_SECONDS",
                "must be at least JOB_RETRY_BACKOFF_SECONDS and at most 86400",
            ));
        }
        let lease_secs = parse_or(&var, "JOB_LEASE_SECONDS", 60u64)?;
        if !(3..=3600).contains(&lease_secs) {
            return Err(err("JOB_LEASE_SECONDS", "must be between 3 and 3600"));
        }
        let preset = var("TRANSCODE_PRESET").unwrap_or_else(|| "veryfast".into());
        if !X264_PRESETS.contains(&preset.as_str()) {
            return Err(err(
                "TRANSCODE_PRESET",
                format!(
                    "'{preset}' is not an x264 preset; use one of {}",
                    X264_PRESETS.join(", ")
                ),
            ));
        }
        let timeout_secs = parse_or(&var, "TRANSCODE_TIMEOUT_SECONDS", 6 * 3600u64)?;
        if timeout_secs == 0 {
            return Err(err("TRANSCODE_TIMEOUT_SECONDS", "must be greater than 0"));
        }
        let progress_interval_secs = parse_or(&var, "TRANSCODE_PROGRESS_SECONDS", 5u64)?;
        let temp_dir = var("TEMP_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join("tmp"));
        let webhook = match (var("WEBHOOK_URL"), var("WEBHOOK_SECRET")) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(err(
                    "WEBHOOK_SECRET",
                    "required when WEBHOOK_URL is set (receivers verify the signature with it)",
                ))
            }
            (Some(url), Some(secret)) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(err("WEBHOOK_URL", "must be an http:// or https:// URL"));
                }
                Some(WebhookConfig {
                    url,
                    secret: Secret(secret),
                })
            }
        };

        let public_base_url = var("PUBLIC_BASE_URL");
        if let Some(u) = &public_base_url {
            let plain = u.is_ascii() && !u.chars().any(|c| c.is_whitespace() || c.is_control());
            if !(u.starts_with("http://") || u.starts_with("https://")) || !plain {
                return Err(err(
                    "PUBLIC_BASE_URL",
                    "must be an http:// or https:// URL (ASCII, percent-encoded)",
                ));
            }
        }

        let job_runner = crate::job_runner::from_lookup(&var, provider)?;
        let uses_oci = jwt_secret_ocid.is_some()
            || database_url_secret_ocid.is_some()
            || provider == StorageProvider::OciBucket
            || !matches!(job_runner, crate::job_runner::JobRunner::InProcess);
        let oci = oci_settings(&var, uses_oci)?;

        Ok(Config {
            jwt_secret_ocid,
            database_url_secret_ocid,
            oci,
            public_base_url,
            jobs: JobConfig {
                retry: crate::RetryPolicy {
                    max_attempts,
                    backoff_base: std::time::Duration::from_secs(backoff_base),
                    backoff_cap: std::time::Duration::from_secs(backoff_cap),
                },
                lease_secs,
                preset,
                timeout_secs,
                progress_interval_secs,
                temp_dir,
            },
            job_runner,
            webhook,
            host,
            port,
            storage: StorageConfig {
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
            },
            data_dir,
            database_url,
            jwt_secret,
            workers,
            events_secret,
            events_owner_email,
            allow_registration,
            max_upload_bytes,
            upload_expiry_secs,
            access_token_ttl_secs,
            refresh_token_ttl_secs,
            log_json,
        })
    }

    /// True for the laptop setup (SQLite, no cloud bucket), where a generated JWT secret kept in
    /// the data directory is acceptable.
    pub fn is_embedded(&self) -> bool {
        self.database_url.starts_with("sqlite:") && !self.storage.provider.is_cloud()
    }
}

/// `sqlite:…` or `postgres://…`.
pub fn validate_database_url(u: &str) -> Result<(), String> {
    if u.starts_with("sqlite:") || u.starts_with("postgres://") || u.starts_with("postgresql://") {
        Ok(())
    } else {
        Err("must start with sqlite: or postgres:// (e.g. postgres://user:pass@host/db)".into())
    }
}

/// The OCI settings. An unknown `OCI_REGION` only matters when OCI is used (the variable also
/// names the region of an S3-compatible bucket); a bad `OCI_AUTH` or endpoint always does.
fn oci_settings(
    var: &impl Fn(&str) -> Option<String>,
    uses_oci: bool,
) -> Result<mediaserver_oci::AuthSettings, ConfigError> {
    use mediaserver_oci::{AuthKind, EndpointOverrides, Region};
    let kind = match var("OCI_AUTH") {
        Some(v) => v
            .parse::<AuthKind>()
            .map_err(|e| err("OCI_AUTH", e.to_string().trim_start_matches("OCI_AUTH: ")))?,
        None => AuthKind::default(),
    };
    let region = match var("OCI_REGION").map(|r| Region::lookup(&r)) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) if uses_oci => return Err(err("OCI_REGION", e.to_string())),
        _ => None,
    };
    let overrides = EndpointOverrides::from_lookup(var);
    overrides.validate().map_err(|(v, m)| err(v, m))?;
    Ok(mediaserver_oci::AuthSettings {
        kind,
        config_file: var("OCI_CONFIG_FILE")
            .map(|p| mediaserver_oci::auth::config_file::expand_home(&p)),
        profile: var("OCI_PROFILE"),
        region,
        overrides,
        resource_principal: mediaserver_oci::auth::ResourcePrincipalEnv::from_lookup(var),
    })
}

fn parse_or<T: FromStr>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|e| err(name, format!("'{v}' is not valid: {e}"))),
    }
}

fn parse_bool(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match var(name).map(|v| v.to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
        Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
        Some(v) => Err(err(
            name,
            format!("'{v}' is not a boolean (use true or false)"),
        )),
    }
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
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn embedded_defaults() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.port, 3000);
        assert_eq!(c.host.to_string(), "0.0.0.0");
        assert_eq!(c.database_url, "sqlite://./data/mediaserver.db");
        assert_eq!(c.storage.provider, StorageProvider::Local);
        assert_eq!(c.storage.output_bucket, "media");
        assert_eq!(c.max_upload_bytes, 10 * 1024 * 1024 * 1024);
        assert!(c.is_embedded());
        assert!(c.jwt_secret.is_none());
    }

    #[test]
    fn retry_policy_from_the_job_variables() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.jobs.retry, crate::RetryPolicy::default());
        let c = cfg(&[
            ("JOB_MAX_ATTEMPTS", "5"),
            ("JOB_RETRY_BACKOFF_SECONDS", "2"),
            ("JOB_RETRY_BACKOFF_MAX_SECONDS", "30"),
        ])
        .unwrap();
        assert_eq!(c.jobs.retry.max_attempts, 5);
        assert_eq!(c.jobs.retry.backoff(1).as_secs(), 2);
        assert_eq!(c.jobs.retry.backoff(9).as_secs(), 30);
        let e = cfg(&[
            ("JOB_RETRY_BACKOFF_SECONDS", "60"),
            ("JOB_RETRY_BACKOFF_MAX_SECONDS", "30"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "JOB_RETRY_BACKOFF_MAX_SECONDS");
        assert_eq!(
            cfg(&[("JOB_RETRY_BACKOFF_SECONDS", "0")]).unwrap_err().var,
            "JOB_RETRY_BACKOFF_SECONDS"
        );
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(cfg(&[("PORT", "eighty")]).unwrap_err().var, "PORT");
        assert_eq!(
            cfg(&[("STORAGE_PROVIDER", "ftp")]).unwrap_err().var,
            "STORAGE_PROVIDER"
        );
        assert_eq!(
            cfg(&[("DATABASE_URL", "mysql://x")]).unwrap_err().var,
            "DATABASE_URL"
        );
        assert_eq!(
            cfg(&[("ALLOW_REGISTRATION", "maybe")]).unwrap_err().var,
            "ALLOW_REGISTRATION"
        );
        assert_eq!(
            cfg(&[("MEDIA_BUCKET", "../etc")]).unwrap_err().var,
            "MEDIA_BUCKET"
        );
        assert_eq!(
            cfg(&[("JWT_SECRET", "short")]).unwrap_err().var,
            "JWT_SECRET"
        );
    }

    #[test]
    fn postgres_or_cloud_bucket_requires_jwt_secret() {
        let e = cfg(&[("DATABASE_URL", "postgres://u@localhost/db")]).unwrap_err();
        assert_eq!(e.var, "JWT_SECRET");
        let e = cfg(&[("STORAGE_PROVIDER", "AWSBucket")]).unwrap_err();
        assert_eq!(e.var, "JWT_SECRET");
        let secret = "0123456789abcdef0123456789abcdef";
        let c = cfg(&[
            ("DATABASE_URL", "postgres://u@localhost/db"),
            ("JWT_SECRET", secret),
        ])
        .unwrap();
        assert!(!c.is_embedded());
        assert_eq!(format!("{:?}", c.jwt_secret), "Some(***)");
        assert!(!format!("{c:?}").contains(secret));
    }

    #[test]
    fn secrets_from_oci_vault_and_oci_settings() {
        let jwt = "ocid1.vaultsecret.oc1.iad.amaaaaaajwt";
        let db = "ocid1.vaultsecret.oc1.iad.amaaaaaadb";
        let c = cfg(&[
            ("JWT_SECRET_OCID", jwt),
            ("DATABASE_URL_SECRET_OCID", db),
            ("OCI_AUTH", "instance_principal"),
            ("OCI_REGION", "FRA"),
            ("OCI_SECRETS_ENDPOINT", "http://127.0.0.1:9000"),
        ])
        .unwrap();
        assert_eq!(c.jwt_secret_ocid.as_deref(), Some(jwt));
        assert_eq!(c.database_url_secret_ocid.as_deref(), Some(db));
        assert_eq!(c.database_url, "", "filled from the vault at startup");
        assert!(!c.is_embedded());
        assert_eq!(c.oci.kind, mediaserver_oci::AuthKind::InstancePrincipal);
        assert_eq!(c.oci.region.map(|r| r.id()), Some("eu-frankfurt-1"));
        assert_eq!(
            c.oci.overrides.secrets.as_deref(),
            Some("http://127.0.0.1:9000")
        );

        let e = cfg(&[("JWT_SECRET_OCID", "ocid1.vault.oc1..x")]).unwrap_err();
        assert_eq!(e.var, "JWT_SECRET_OCID");
        assert!(e.message.contains("not a secret OCID"), "{e}");
        let e = cfg(&[
            ("JWT_SECRET_OCID", jwt),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "JWT_SECRET_OCID");
        let e = cfg(&[
            ("DATABASE_URL_SECRET_OCID", db),
            ("DATABASE_URL", "postgres://x@y/z"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "DATABASE_URL_SECRET_OCID");
        // Without a JWT secret of either kind, a vault-held database URL still needs one.
        let e = cfg(&[("DATABASE_URL_SECRET_OCID", db)]).unwrap_err();
        assert_eq!(e.var, "JWT_SECRET");
        let e = cfg(&[("OCI_AUTH", "magic")]).unwrap_err();
        assert_eq!(e.var, "OCI_AUTH");
        let e = cfg(&[("OCI_OBJECTSTORAGE_ENDPOINT", "objectstorage")]).unwrap_err();
        assert_eq!(e.var, "OCI_OBJECTSTORAGE_ENDPOINT");
        let e = cfg(&[("JWT_SECRET_OCID", jwt), ("OCI_REGION", "atlantis-1")]).unwrap_err();
        assert_eq!(e.var, "OCI_REGION");
        // OCI_REGION also names an S3-compatible bucket's region: unknown is fine when unused.
        let e = cfg(&[
            ("STORAGE_PROVIDER", "OCIBucket"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("OCI_REGION", "atlantis-1"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "OCI_REGION");
        assert!(cfg(&[("OCI_REGION", "atlantis-1")])
            .unwrap()
            .oci
            .region
            .is_none());
    }

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
