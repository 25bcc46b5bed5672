//! `mediaserver registry tag|image|delete|prune`: the provider-aware operations. Credentials
//! per provider when no user name is given: ECR through GetAuthorizationToken (AWS keys),
//! Artifact Registry through an OAuth token (a service-account key file or the metadata
//! server), OCIR through its signed token exchange (as `resolve`). Deletes on OCIR go through
//! the Artifacts API, elsewhere through the distribution API.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use mediaserver_oci::registry::{
    artifacts_endpoint, ecr_api_endpoint, ecr_login, login, metadata_login, ocir_delete,
    service_account_login, ImageReference, LoginOptions, OciTokenMode, RegistryClient,
    RegistryCredentials, RegistryError, RegistryProvider, ServiceAccountKey,
};
use mediaserver_oci::{AuthSettings, OciClient};

use crate::config::RegistryConfig;

/// The provider of `image`: the configured one for the configured repository's host, else
/// the one its host names.
pub(super) fn provider_of(image: &ImageReference, cfg: &RegistryConfig) -> RegistryProvider {
    let configured_host = cfg
        .location
        .as_ref()
        .and_then(|l| l.repository(cfg.host_override.as_deref()).ok())
        .map(|r| r.registry().to_string());
    match (cfg.provider, configured_host) {
        (Some(p), Some(h)) if h == image.registry() => p,
        _ => RegistryProvider::from_host(image.registry()),
    }
}

/// `IMAGE` as given, or (without a `/`) a tag or `@digest` of the configured repository.
pub(super) fn image_arg(arg: &str, cfg: &RegistryConfig) -> Result<ImageReference, RegistryError> {
    let arg = arg.trim();
    if arg.contains('/') {
        return Ok(ImageReference::parse(arg)?);
    }
    let loc = cfg.location.as_ref().ok_or_else(|| {
        RegistryError::config(format!(
            "'{arg}' is not a full reference (<host>/<repository>[:tag][@digest]) and \
             ARTIFACTS_REGISTRY_PROVIDER names no repository to find it in"
        ))
    })?;
    let repo = loc.repository(cfg.host_override.as_deref())?;
    let s = if arg.starts_with('@') {
        format!("{repo}{arg}")
    } else {
        format!("{repo}:{arg}")
    };
    Ok(ImageReference::parse(&s)?)
}

/// The credentials for `image`: what the flags say when they say something, else the
/// provider's own way, else `resolve`'s rules.
pub(super) async fn credentials(
    image: &ImageReference,
    opts: &LoginOptions,
    cfg: &RegistryConfig,
    http: &reqwest::Client,
) -> Result<RegistryCredentials, RegistryError> {
    let explicit = opts.username.is_some() || opts.oci_token != OciTokenMode::Auto;
    if !explicit {
        match provider_of(image, cfg) {
            RegistryProvider::AwsEcr => {
                let creds = cfg.aws_credentials.as_ref().ok_or_else(|| {
                    RegistryError::config(
                        "an ECR login needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or \
                         --username AWS with the password from `aws ecr get-login-password`)",
                    )
                })?;
                let region = cfg
                    .aws_region
                    .clone()
                    .or_else(|| ecr_region(image.registry()))
                    .ok_or_else(|| RegistryError::config("an ECR login needs AWS_REGION"))?;
                let endpoint = cfg
                    .ecr_endpoint
                    .clone()
                    .unwrap_or_else(|| ecr_api_endpoint(&region));
                return ecr_login(http, &endpoint, &region, creds).await;
            }
            RegistryProvider::GcpArtifactRegistry => {
                return match &cfg.gcp_key_file {
                    Some(path) => {
                        let what = format!("GOOGLE_APPLICATION_CREDENTIALS ({})", path.display());
                        let bytes = std::fs::read(path).map_err(|e| {
                            RegistryError::config_from(format!("cannot read {what}: {e}"), e)
                        })?;
                        service_account_login(http, &ServiceAccountKey::parse(&bytes, &what)?).await
                    }
                    None => metadata_login(http, &cfg.gcp_metadata_host).await,
                };
            }
            RegistryProvider::OciOcir | RegistryProvider::Generic => {}
        }
    }
    let oci = oci_settings(opts.oci_token)?;
    login(image, opts, &oci, http).await
}

fn oci_settings(mode: OciTokenMode) -> Result<AuthSettings, RegistryError> {
    if mode == OciTokenMode::Never {
        Ok(AuthSettings::default())
    } else {
        AuthSettings::from_env().map_err(|e| RegistryError::config_from(e.to_string(), e))
    }
}

/// `<account>.dkr.ecr.<region>.amazonaws.com` → the region.
fn ecr_region(host: &str) -> Option<String> {
    let parts: Vec<&str> = host.split('.').collect();
    (parts.len() == 6 && parts[1] == "dkr" && parts[2] == "ecr").then(|| parts[3].to_string())
}

/// Deletes `image` the way its provider allows; returns the digest deleted. `client` is the
/// logged-in registry client (not needed on OCIR, whose deletes are OCI API calls).
pub(super) async fn delete(
    image: &ImageReference,
    client: Option<&RegistryClient>,
    cfg: &RegistryConfig,
    http: &reqwest::Client,
) -> Result<String, RegistryError> {
    if provider_of(image, cfg) == RegistryProvider::OciOcir {
        let compartment = cfg.ocir_compartment_id.as_deref().ok_or_else(|| {
            RegistryError::config(
                "deleting from OCIR needs the repository's compartment: \
                 OCI_CONTAINER_REPOSITORY_COMPARTMENT_ID (or OCI_COMPARTMENT_ID; the tenancy \
                 OCID searches every compartment)",
            )
        })?;
        let mut settings = oci_settings(OciTokenMode::Auto)?;
        if settings.region.is_none() {
            settings.region = image.ocir_region();
        }
        let oci = OciClient::connect(&settings, http.clone())
            .await
            .map_err(|e| RegistryError::OciApi {
                what: "connecting to OCI for the Artifacts API".into(),
                source: Box::new(e),
            })?;
        let endpoint = artifacts_endpoint(&oci, cfg.artifacts_endpoint.as_deref());
        return ocir_delete(&oci, &endpoint, compartment, image).await;
    }
    match client {
        Some(c) => c.delete(image).await,
        None => Err(RegistryError::config("no registry login for the delete")),
    }
}

/// One image (a distinct manifest digest) of a repository, with the tags that point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Candidate {
    pub digest: String,
    pub tags: Vec<String>,
    pub created: Option<DateTime<Utc>>,
}

/// Why an image stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Among the `--keep` newest.
    Newest,
    /// The image the job runner runs (`WORKER_IMAGE`) or one given with `--protect`.
    Pinned,
    /// Created after the `--older-than` cut-off.
    TooYoung,
    /// Its config carries no creation time: its age is unknown, so it is never pruned.
    Undated,
    Delete,
}

impl Verdict {
    fn word(self) -> &'static str {
        match self {
            Verdict::Newest => "keep (newest)",
            Verdict::Pinned => "keep (pinned)",
            Verdict::TooYoung => "keep (not older than --older-than)",
            Verdict::Undated => "keep (no creation time)",
            Verdict::Delete => "delete",
        }
    }
}

/// Retention: newest first by creation time; the `keep` newest stay, and of the rest those
/// pinned, undated or (with a cut-off) created at or after `cutoff` stay too.
pub(super) fn plan(
    mut images: Vec<Candidate>,
    keep: usize,
    cutoff: Option<DateTime<Utc>>,
    protected: &HashSet<String>,
) -> Vec<(Candidate, Verdict)> {
    images.sort_by(|a, b| b.created.cmp(&a.created).then(a.digest.cmp(&b.digest)));
    images
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            // Undated images sort last, after every dated one.
            let v = if c.created.is_none() {
                Verdict::Undated
            } else if i < keep {
                Verdict::Newest
            } else if protected.contains(&c.digest) {
                Verdict::Pinned
            } else if cutoff.is_some_and(|t| c.created.is_some_and(|cr| cr >= t)) {
                Verdict::TooYoung
            } else {
                Verdict::Delete
            };
            (c, v)
        })
        .collect()
}

/// `30d`, `12h`, `90m`, `2w`, `45s`.
pub(super) fn parse_age(s: &str) -> Result<Duration, RegistryError> {
    let s = s.trim();
    let bad = || {
        RegistryError::config(format!(
            "--older-than '{s}': expected a number and a unit, e.g. 30d, 12h, 2w (s, m, h, d, w)"
        ))
    };
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad()),
    };
    n.checked_mul(secs)
        .and_then(Duration::try_seconds)
        .ok_or_else(bad)
}

pub(super) struct PruneOptions {
    pub keep: usize,
    pub older_than: Option<Duration>,
    pub dry_run: bool,
    pub protect: Vec<String>,
}

/// `registry prune`: one line per image, `<verdict>\t<digest>\t<created>\t<tags>`.
pub(super) async fn prune(
    repo: &ImageReference,
    client: &RegistryClient,
    cfg: &RegistryConfig,
    http: &reqwest::Client,
    opts: PruneOptions,
) -> Result<Vec<String>, RegistryError> {
    let mut protected = protected_digests(repo, client, &opts.protect).await?;
    if let Some(d) = pinned_worker_image(repo, client, cfg.worker_image.as_deref()).await? {
        protected.insert(d);
    }
    let mut by_digest: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for tag in client.tags(repo).await? {
        let tagged =
            ImageReference::parse(&format!("{}/{}:{tag}", repo.registry(), repo.repository()))?;
        match client.resolve(&tagged).await {
            Ok(d) => by_digest.entry(d).or_default().push(tag),
            // A tag deleted since the listing: nothing to decide.
            Err(RegistryError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let mut images = Vec::new();
    for (digest, tags) in by_digest {
        let info = client.image(&repo.with_digest(&digest)?).await?;
        images.push(Candidate {
            digest,
            tags,
            created: info.created,
        });
    }
    let cutoff = opts.older_than.map(|d| Utc::now() - d);
    let mut lines = Vec::new();
    for (c, v) in plan(images, opts.keep, cutoff, &protected) {
        let created = c
            .created
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| "-".into());
        let word = match (v, opts.dry_run) {
            (Verdict::Delete, true) => "would delete",
            (Verdict::Delete, false) => {
                delete(&repo.with_digest(&c.digest)?, Some(client), cfg, http).await?;
                "deleted"
            }
            (v, _) => v.word(),
        };
        lines.push(format!(
            "{word}\t{}\t{created}\t{}",
            c.digest,
            c.tags.join(",")
        ));
    }
    Ok(lines)
}

/// The digests `--protect` names: a digest (`sha256:…`), an image of `repo` by digest
/// (`host/repository@sha256:…`, what `registry resolve --pin` prints) or by tag (`host/repository:tag`
/// or the bare tag: what it points at now). A value that names no image of `repo` is an error
/// before anything is deleted — compared as given, it would protect nothing.
async fn protected_digests(
    repo: &ImageReference,
    client: &RegistryClient,
    protect: &[String],
) -> Result<HashSet<String>, RegistryError> {
    let mut digests = HashSet::new();
    for value in protect {
        let v = value.trim();
        let refused =
            |why: String| RegistryError::config(format!("--protect '{v}': {why}; nothing pruned"));
        let image = if v.contains('/') {
            ImageReference::parse(v)
        } else if v.contains(':') {
            // A bare digest (a tag has no ':').
            repo.with_digest(v)
        } else {
            ImageReference::parse(&format!("{}/{}:{v}", repo.registry(), repo.repository()))
        }
        .map_err(|e| refused(e.to_string()))?;
        if !same_repository(&image, repo) {
            return Err(refused(format!(
                "not an image of {}/{}",
                repo.registry(),
                repo.repository()
            )));
        }
        let digest = match image.digest() {
            Some(d) => d.to_string(),
            None => client
                .resolve(&image)
                .await
                .map_err(|e| refused(e.to_string()))?,
        };
        digests.insert(digest);
    }
    Ok(digests)
}

/// The digest `WORKER_IMAGE` runs when it is in `repo`: its digest, or what its tag points at
/// now (what a runner started now pins; pin `WORKER_IMAGE` by digest, or pass `--protect`,
/// to keep what a runner started earlier still runs).
async fn pinned_worker_image(
    repo: &ImageReference,
    client: &RegistryClient,
    worker_image: Option<&str>,
) -> Result<Option<String>, RegistryError> {
    let Some(v) = worker_image.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let worker = ImageReference::parse(v)?;
    if !same_repository(&worker, repo) {
        return Ok(None);
    }
    match worker.digest() {
        Some(d) => Ok(Some(d.to_string())),
        None => client.resolve(&worker).await.map(Some).map_err(|e| {
            RegistryError::config(format!(
                "cannot tell which image WORKER_IMAGE ({worker}) pins, so nothing is pruned: {e}"
            ))
        }),
    }
}

/// Whether `a` and `b` are the same repository: the same path on the same registry, which on
/// OCIR answers at a host per region key and one per region identifier (`iad.ocir.io`,
/// `us-ashburn-1.ocir.io`).
fn same_repository(a: &ImageReference, b: &ImageReference) -> bool {
    let region = |r: &ImageReference| r.ocir_region().map(|r| r.id().to_string());
    a.repository() == b.repository()
        && (a.registry() == b.registry() || region(a).is_some_and(|r| region(b) == Some(r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(d: &str, hours_ago: Option<i64>) -> Candidate {
        Candidate {
            digest: d.into(),
            tags: vec![],
            created: hours_ago.map(|h| Utc::now() - Duration::hours(h)),
        }
    }

    fn verdicts(p: Vec<(Candidate, Verdict)>) -> Vec<(String, Verdict)> {
        p.into_iter().map(|(c, v)| (c.digest, v)).collect()
    }

    #[test]
    fn keeps_the_newest_the_pinned_the_young_and_the_undated() {
        let images = vec![
            c("old", Some(100)),
            c("new", Some(1)),
            c("mid", Some(50)),
            c("undated", None),
            c("older", Some(200)),
        ];
        let none = HashSet::new();
        assert_eq!(
            verdicts(plan(images.clone(), 2, None, &none)),
            [
                ("new".into(), Verdict::Newest),
                ("mid".into(), Verdict::Newest),
                ("old".into(), Verdict::Delete),
                ("older".into(), Verdict::Delete),
                ("undated".into(), Verdict::Undated),
            ]
        );
        let pinned: HashSet<String> = ["older".to_string()].into();
        let cutoff = Some(Utc::now() - Duration::hours(150));
        assert_eq!(
            verdicts(plan(images, 1, cutoff, &pinned)),
            [
                ("new".into(), Verdict::Newest),
                ("mid".into(), Verdict::TooYoung),
                ("old".into(), Verdict::TooYoung),
                ("older".into(), Verdict::Pinned),
                ("undated".into(), Verdict::Undated),
            ]
        );
    }

    /// WORKER_IMAGE names its OCIR registry by region key, the pruned repository by region
    /// identifier (or the other way round): the same images, so its digest is kept.
    #[tokio::test]
    async fn the_worker_image_is_pinned_whichever_ocir_host_names_it() {
        const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let client = RegistryClient::new(
            mediaserver_oci::registry::RegistryCredentials::Anonymous,
            false,
        );
        let repo = ImageReference::parse("us-ashburn-1.ocir.io/ns/worker").unwrap();
        let worker = format!("iad.ocir.io/ns/worker@{D}");
        assert_eq!(
            pinned_worker_image(&repo, &client, Some(&worker))
                .await
                .unwrap(),
            Some(D.to_string())
        );
        let other = format!("fra.ocir.io/ns/worker@{D}");
        assert_eq!(
            pinned_worker_image(&repo, &client, Some(&other))
                .await
                .unwrap(),
            None
        );
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("30d").unwrap(), Duration::days(30));
        assert_eq!(parse_age("2w").unwrap(), Duration::weeks(2));
        assert_eq!(parse_age("90m").unwrap(), Duration::minutes(90));
        for bad in ["", "d", "30", "3x", "-1d", "1.5d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ecr_hosts_name_their_region() {
        assert_eq!(
            ecr_region("123456789012.dkr.ecr.eu-west-1.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(ecr_region("127.0.0.1:5000"), None);
    }
}
