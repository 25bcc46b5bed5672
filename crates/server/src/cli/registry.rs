//! `mediaserver registry resolve|tags|tag|image|delete|prune`: what a registry (OCIR, ECR,
//! Artifact Registry or any other) holds, with the same login rules the Container Instances job
//! runner uses to pin `WORKER_IMAGE`; the provider-aware operations are in `registry_ops.rs`. A
//! client command: of the server's configuration only the registry section
//! (`ARTIFACTS_REGISTRY_PROVIDER` and its variables) applies.

use std::io::BufRead;
use std::process::ExitCode;

use mediaserver_oci::registry::{
    ImageReference, LoginOptions, OciTokenMode, RegistryClient, RegistryError, RegistryProvider,
    RegistrySecret,
};

use super::registry_ops::{self as ops, PruneOptions};

#[derive(clap::Subcommand)]
pub enum RegistryCommand {
    /// Print the manifest digest an image reference points at (sha256:…), e.g. the digest the
    /// job runner pins WORKER_IMAGE to. No tag means :latest.
    ///
    /// IMAGE is <host>/<namespace>/<repository>[:tag][@digest], e.g.
    /// iad.ocir.io/axaxnpcrorw5/mediaserver:latest.
    Resolve {
        image: String,
        /// Print the pinned reference (host/repository@sha256:…) instead of the digest alone.
        #[arg(long)]
        pinned: bool,
        #[command(flatten)]
        login: LoginArgs,
    },
    /// List the tags of a repository, one per line (a tag or digest in REPO is ignored).
    Tags {
        repo: String,
        #[command(flatten)]
        login: LoginArgs,
    },
    /// Print the full reference of TAG in the configured repository ("get tag"), in the
    /// provider's form: ARTIFACTS_REGISTRY_PROVIDER=OCI_OCIR
    /// (<region-key>.ocir.io/<namespace>/<repo>:<tag>: OCI_REGION, OCI_NAMESPACE,
    /// OCI_CONTAINER_REPOSITORY_NAME), AWS_ECR
    /// (<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>: AWS_ACCOUNT_ID, AWS_REGION,
    /// AWS_DOCKER_REPOSITORY_NAME), GCP_ARTIFACT_REGISTRY
    /// (<region>-docker.pkg.dev/<project>/<repo>/<image>:<tag>: GCP_REGION, GCP_PROJECT_ID,
    /// GCP_DOCKER_REPOSITORY_NAME, GCP_DOCKER_IMAGE_NAME) or GENERIC (ARTIFACTS_REPOSITORY:
    /// <host>/<path>). ARTIFACTS_REGISTRY_HOST replaces the host. Nothing is sent.
    Tag { tag: String },
    /// Describe an image ("get image") as JSON: manifest digest, media type, platforms (of an
    /// index), config digest, total size (config and layers), creation time.
    ///
    /// IMAGE is a full reference, or a tag or @digest of the configured repository.
    Image {
        image: String,
        #[command(flatten)]
        login: LoginArgs,
    },
    /// Delete an image by tag or digest and print the digest deleted. A tag deletes the
    /// manifest it points at (with every other tag on it). OCIR: through the Artifacts API,
    /// signed as the OCI_AUTH principal, in OCI_CONTAINER_REPOSITORY_COMPARTMENT_ID (or
    /// OCI_COMPARTMENT_ID; OCI_ARTIFACTS_ENDPOINT overrides where); elsewhere the distribution
    /// API's manifest DELETE (the CNCF registry needs REGISTRY_STORAGE_DELETE_ENABLED=true).
    ///
    /// Logins without --username: ECR by GetAuthorizationToken with AWS_ACCESS_KEY_ID /
    /// AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN, AWS_REGION; AWS_ECR_ENDPOINT overrides the
    /// API); Artifact Registry by an OAuth token from the service-account key file in
    /// GOOGLE_APPLICATION_CREDENTIALS, else the metadata server (GCE_METADATA_HOST); OCIR and
    /// others as for resolve.
    Delete {
        image: String,
        #[command(flatten)]
        login: LoginArgs,
    },
    /// Delete all but the newest images of a repository (by the creation time in each image's
    /// config); prints one line per image: what was done, digest, created, tags. Never deletes
    /// the image WORKER_IMAGE runs (its digest, or what its tag points at now) nor a --protect
    /// digest; images without a creation time are kept. REPO defaults to the configured
    /// repository. Only tagged images are considered.
    Prune {
        repo: Option<String>,
        /// How many of the newest images to keep.
        #[arg(long)]
        keep: usize,
        /// Delete only images older than this (e.g. 30d, 12h, 2w).
        #[arg(long)]
        older_than: Option<String>,
        /// Print what would be deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// An image never to delete (repeatable), e.g. what a running job runner pinned: a
        /// digest, a pinned reference (host/repository@digest) or a tag of the repository.
        #[arg(long)]
        protect: Vec<String>,
        #[command(flatten)]
        login: LoginArgs,
    },
}

/// How to log in. A user name (OCIR: <namespace>/<user>, or
/// <namespace>/oracleidentitycloudservice/<user> for federated users) with its password or auth
/// token; else, for OCIR hosts, a token exchanged with an OCI-signed request as the principal
/// OCI_AUTH names (api_key reads ~/.oci/config); else anonymous.
#[derive(clap::Args)]
pub struct LoginArgs {
    /// Registry user name.
    #[arg(long, env = "OCIR_USERNAME")]
    username: Option<String>,
    /// Read the password (auth token) from standard input; otherwise it comes from
    /// OCIR_AUTH_TOKEN.
    #[arg(long)]
    password_stdin: bool,
    /// Exchange an OCI-signed request for a registry token (OCI_AUTH, OCI_CONFIG_FILE,
    /// OCI_PROFILE, OCI_REGION; OCIR_ENDPOINT overrides where), even for a host that does not
    /// look like OCIR; ignores OCIR_USERNAME.
    #[arg(long, conflicts_with = "anonymous")]
    oci_auth: bool,
    /// No credentials at all (public repositories).
    #[arg(long)]
    anonymous: bool,
    /// Plain HTTP instead of HTTPS (a local registry).
    #[arg(long)]
    insecure: bool,
}

pub fn main(cmd: RegistryCommand) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cmd)) {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                RegistryError::Reference(_) | RegistryError::Config { .. } => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

async fn run(cmd: RegistryCommand) -> Result<Vec<String>, RegistryError> {
    let cfg = crate::config::registry_from_env()
        .map_err(|e| RegistryError::config(format!("invalid configuration: {e}")))?;
    let (image, args) = match &cmd {
        RegistryCommand::Resolve { image, login, .. } => (image.as_str(), login),
        RegistryCommand::Tags { repo, login } => (repo.as_str(), login),
        RegistryCommand::Image { image, login } | RegistryCommand::Delete { image, login } => {
            (image.as_str(), login)
        }
        RegistryCommand::Prune { repo, login, .. } => (repo.as_deref().unwrap_or(""), login),
        RegistryCommand::Tag { tag } => {
            let loc = cfg.location.as_ref().ok_or_else(|| {
                RegistryError::config(
                    "no repository configured: set ARTIFACTS_REGISTRY_PROVIDER and its variables",
                )
            })?;
            return Ok(vec![loc
                .tag(tag, cfg.host_override.as_deref())?
                .to_string()]);
        }
    };
    let image = match &cmd {
        RegistryCommand::Resolve { .. } | RegistryCommand::Tags { .. } => {
            ImageReference::parse(image)?
        }
        RegistryCommand::Prune { repo: None, .. } => match &cfg.location {
            Some(l) => l.repository(cfg.host_override.as_deref())?,
            None => {
                return Err(RegistryError::config(
                    "no REPO given and ARTIFACTS_REGISTRY_PROVIDER names no repository",
                ))
            }
        },
        _ => ops::image_arg(image, &cfg)?,
    };
    let opts = login_options(args)?;
    let http = mediaserver_oci::registry::http_client()?;
    // OCIR deletes are OCI API calls: no registry login.
    if let RegistryCommand::Delete { .. } = cmd {
        if ops::provider_of(&image, &cfg) == RegistryProvider::OciOcir {
            return Ok(vec![ops::delete(&image, None, &cfg, &http).await?]);
        }
    }
    let credentials = ops::credentials(&image, &opts, &cfg, &http).await?;
    let client = RegistryClient::new(credentials, opts.insecure);
    match cmd {
        RegistryCommand::Resolve { pinned, .. } => {
            let digest = client.resolve(&image).await?;
            if pinned {
                let p = image.with_digest(&digest)?;
                Ok(vec![p.pinned().unwrap_or_else(|| p.to_string())])
            } else {
                Ok(vec![digest])
            }
        }
        RegistryCommand::Tags { .. } => client.tags(&image).await,
        RegistryCommand::Image { .. } => {
            let info = client.image(&image).await?;
            let json = serde_json::to_string_pretty(&info).map_err(|e| {
                RegistryError::config_from(format!("cannot print the image: {e}"), e)
            })?;
            Ok(vec![json])
        }
        RegistryCommand::Delete { .. } => {
            Ok(vec![ops::delete(&image, Some(&client), &cfg, &http).await?])
        }
        RegistryCommand::Prune {
            keep,
            older_than,
            dry_run,
            protect,
            ..
        } => {
            let older_than = older_than.as_deref().map(ops::parse_age).transpose()?;
            let opts = PruneOptions {
                keep,
                older_than,
                dry_run,
                protect,
            };
            ops::prune(&image, &client, &cfg, &http, opts).await
        }
        RegistryCommand::Tag { .. } => Ok(vec![]),
    }
}

fn login_options(args: &LoginArgs) -> Result<LoginOptions, RegistryError> {
    let mut opts = LoginOptions {
        insecure: args.insecure,
        ..Default::default()
    };
    if args.anonymous {
        opts.oci_token = OciTokenMode::Never;
        return Ok(opts);
    }
    if args.oci_auth {
        opts.oci_token = OciTokenMode::Always;
        return Ok(opts);
    }
    opts.username = args.username.clone().filter(|u| !u.trim().is_empty());
    if opts.username.is_some() {
        opts.password = if args.password_stdin {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|e| {
                RegistryError::config_from(
                    format!("reading the password from standard input: {e}"),
                    e,
                )
            })?;
            Some(RegistrySecret::new(line.trim_end_matches(['\r', '\n'])))
        } else {
            std::env::var("OCIR_AUTH_TOKEN")
                .ok()
                .filter(|t| !t.is_empty())
                .map(RegistrySecret::new)
        };
    } else if args.password_stdin {
        return Err(RegistryError::config(
            "--password-stdin needs a user name (--username or OCIR_USERNAME)",
        ));
    }
    Ok(opts)
}
