//! `mediaserver registry resolve|tags`: what a registry (OCIR or any other) holds, with the same
//! login rules the Container Instances job runner uses to pin `WORKER_IMAGE`. A client
//! command: the server's configuration does not apply.

use std::io::BufRead;
use std::process::ExitCode;

use mediaserver_oci::registry::{
    login, ImageReference, LoginOptions, OciTokenMode, RegistryClient, RegistryError,
    RegistrySecret,
};
use mediaserver_oci::AuthSettings;

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
    let (image, args) = match &cmd {
        RegistryCommand::Resolve { image, login, .. } => (image, login),
        RegistryCommand::Tags { repo, login } => (repo, login),
    };
    let image = ImageReference::parse(image)?;
    let opts = login_options(args)?;
    let oci = if opts.oci_token == OciTokenMode::Never {
        AuthSettings::default()
    } else {
        AuthSettings::from_env().map_err(|e| RegistryError::config_from(e.to_string(), e))?
    };
    let http = mediaserver_oci::registry::http_client()?;
    let credentials = login(&image, &opts, &oci, &http).await?;
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
