use anyhow::Context;
use clap::{Parser, Subcommand};
use mediaserver_core::{Config, NewUser, Role};
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

mod registry_cli;
mod upload_cli;

/// mediaserver — a self-hosted media platform: upload images, video and audio; stream them back
/// over HLS and DASH.
///
/// Configuration comes from environment variables (PORT, DATA_DIR, DATABASE_URL,
/// STORAGE_PROVIDER, MEDIA_BUCKET, JWT_SECRET, MAX_UPLOAD_BYTES, ...; see the README). With none
/// set it runs self-contained: SQLite and local files under ./data.
#[derive(Parser)]
#[command(name = "mediaserver", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (applies database migrations first).
    ///
    /// Listens on HOST:PORT (default 0.0.0.0:3000). Stops gracefully on SIGINT/SIGTERM.
    Serve,
    /// Run processing workers only (no HTTP), against the same database and storage as the
    /// servers. Run as many as you like, on any machine. SIGTERM lets the current job finish
    /// (up to 30 s) or hands it back to the queue.
    Worker {
        /// Jobs processed at once by this process (default: WORKERS, at least 1).
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// Poll the media bucket for new objects and queue them, for storage that cannot send event
    /// notifications. Safe to run repeatedly: each object version is queued once.
    Watch {
        /// Only objects under this prefix.
        #[arg(long, default_value = "")]
        prefix: String,
        /// Seconds between polls.
        #[arg(long, default_value_t = 30)]
        interval: u64,
        /// Poll once and exit.
        #[arg(long)]
        once: bool,
    },
    /// Process one file without a database: fetch SRC, transcode, upload the outputs to DEST,
    /// print a JSON summary. For one container per job.
    ///
    /// SRC and DEST are paths, file://…, s3://bucket/key (STORAGE_ENDPOINT and AWS_* keys
    /// apply) or oci://namespace/bucket/key (OCI Object Storage's native API, signed as the
    /// OCI_AUTH principal). Besides the outputs, DEST gets transcode.json: the summary, written
    /// last.
    /// Exit codes: 0 done, 2 the input is not usable media, 1 anything else.
    Transcode {
        /// Input file or object.
        src: String,
        /// Output directory or prefix.
        dest: String,
        /// x264 preset (overrides TRANSCODE_PRESET), e.g. ultrafast, veryfast, medium.
        #[arg(long)]
        preset: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Upload files to a running server, resumably, with a progress bar per file.
    ///
    /// Each file goes to the server's tus endpoint in chunks, each with a SHA-1 the server
    /// checks; a failed chunk is retried with backoff from the offset the server reports, so a
    /// dropped connection or a restarting server costs at most one chunk. Unfinished uploads
    /// (Ctrl-C, a crash) are remembered in a state file: running the same command again resumes
    /// each file where the server left off.
    Upload(upload_cli::UploadArgs),
    /// Ask a container registry (OCIR or any other) about images: a tag's digest, a
    /// repository's tags.
    #[command(subcommand)]
    Registry(registry_cli::RegistryCommand),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account (e.g. the first admin when registration is closed).
    Create {
        /// Email address to log in with.
        #[arg(long)]
        email: String,
        /// Password (at least 8 characters). Can also come from MEDIASERVER_PASSWORD, which
        /// keeps it out of shell history.
        #[arg(long, env = "MEDIASERVER_PASSWORD", hide_env_values = true)]
        password: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
    },
}

/// glibc gives each thread that allocates its own arena (up to 8 per core), and each keeps the
/// 8 MiB upload parts it freed: a 1 GiB upload peaked at ~70 MiB RSS that way against ~50 MiB
/// with two arenas (BENCHMARKS.md). An explicit MALLOC_ARENA_MAX still wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only adjusts allocator tuning; it is called before any other thread
        // exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    // A client of a server elsewhere: the server's own configuration does not apply.
    let command = match cli.command {
        Command::Upload(args) => return upload_cli::main(args),
        Command::Registry(cmd) => return registry_cli::main(cmd),
        other => other,
    };
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.log_json);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e)
            if e.downcast_ref::<mediaserver::oneshot::UnusableInput>()
                .is_some() =>
        {
            eprintln!("error: unusable input: {e:#}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("LOG_LEVEL")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    // JWT_SECRET_OCID / DATABASE_URL_SECRET_OCID: every command needs them resolved first.
    let config = mediaserver::resolve_oci_secrets(config).await?;
    match command {
        Command::Serve => {
            let state = mediaserver::build_state(&config).await?;
            let pipeline = mediaserver::pipeline(&config, &state).await?;
            let server = mediaserver::Server::bind(&config, state).await?;
            let addr = server.local_addr()?;
            tracing::info!(%addr, database = %redact_url(&config.database_url), storage = ?config.storage.provider, workers = config.workers, "mediaserver listening on http://{addr}");
            let stop = CancellationToken::new();
            let signal = stop.clone();
            tokio::spawn(async move {
                mediaserver::shutdown_signal().await;
                signal.cancel();
            });
            let workers = tokio::spawn(mediaserver::run_workers(
                pipeline,
                config.workers,
                mediaserver::worker_name(),
                stop.clone().cancelled_owned(),
            ));
            server.run(stop.cancelled_owned()).await?;
            let _ = workers.await;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Worker { concurrency } => {
            let state = mediaserver::build_state(&config).await?;
            let n = concurrency.unwrap_or(config.workers).max(1);
            let pipeline = mediaserver::pipeline(&config, &state).await?;
            tracing::info!(workers = n, "processing jobs; stop with SIGTERM");
            mediaserver::run_workers(
                pipeline,
                n,
                mediaserver::worker_name(),
                mediaserver::shutdown_signal(),
            )
            .await;
            Ok(())
        }
        Command::Watch {
            prefix,
            interval,
            once,
        } => {
            let ingest = mediaserver::build_ingest(&config).await?;
            mediaserver::watch::run(
                &ingest,
                config.events_owner_email.as_deref(),
                &prefix,
                std::time::Duration::from_secs(interval.max(1)),
                once,
            )
            .await
        }
        Command::Transcode { src, dest, preset } => {
            let summary = mediaserver::oneshot::run(&config, &src, &dest, preset).await?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
        Command::Migrate => {
            mediaserver::open_database(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User(UserCommand::Create {
            email,
            password,
            admin,
        }) => {
            let repo = mediaserver::open_database(&config).await?;
            let email = email.trim().to_lowercase();
            if !email.contains('@') {
                anyhow::bail!("--email: not a valid email address");
            }
            if password.chars().count() < 8 {
                anyhow::bail!("--password: must be at least 8 characters");
            }
            let password_hash = mediaserver_api::hash_password(password).await?;
            let user = repo
                .create_user(NewUser {
                    email,
                    password_hash,
                    role: Some(if admin { Role::Admin } else { Role::User }),
                })
                .await
                .context("creating the user")?;
            println!("created {} user {} ({})", user.role, user.email, user.id);
            Ok(())
        }
        // Dispatched in main() before the server configuration is read.
        Command::Upload(_) => anyhow::bail!("upload is not a server command"),
        Command::Registry(_) => anyhow::bail!("registry is not a server command"),
    }
}

/// The database URL without its password, for logs.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
