//! The command line: one file per subcommand, each with its options and what it runs. This file
//! holds the subcommands' descriptions (their `--help`), reads the configuration and dispatches.

mod backfill_downloads;
mod migrate;
mod reconcile;
mod registry;
mod registry_ops;
mod serve;
mod transcode;
mod transcode_chunked;
mod upload;
mod user;
mod watch;
mod worker;

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mediaserver — a self-hosted media platform: upload images, video and audio; stream them back
/// over HLS and DASH.
///
/// Configuration comes from environment variables (PORT, DATA_DIR, DATABASE_URL,
/// STORAGE_PROVIDER: Local, AWSBucket, GCPBucket or OCIBucket; MEDIA_BUCKET, JWT_SECRET, ...;
/// see the README). With none set it runs self-contained: SQLite and local files under ./data.
///
/// Logs go to stderr: LOG_LEVEL filters them (e.g. debug,sqlx=warn); LOG_FORMAT=json writes one
/// JSON object per line for log shippers (default text, coloured only on a terminal).
///
/// Videos are published in H.264; VIDEO_CODECS=h264,av1 (or h264,hevc, or h264,av1,hevc) adds
/// AV1 (SVT-AV1, AV1_PRESET 0-13, default 10) and HEVC (x265, HEVC_PRESET, default superfast)
/// renditions of every rung from the same decode, for players that can decode them (AV1 is left
/// out of a video where its trial encodes show it would save under 30 % of H.264's bytes).
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
    /// USER_QUOTA_BYTES caps what each user may store (originals plus unfinished uploads; an
    /// upload past it is refused with 413 and nothing is kept); unset: no quota.
    /// BEACONS_PER_MINUTE (default 120) is how many viewer beacons one client address may send
    /// per minute (429 beyond).
    /// Pictures on demand (thumbnail.{jpg,webp,png} at a time and size, animated.{webp,gif})
    /// are rendered with ffmpeg, PICTURE_RENDERS (default 2, 0: off) at once, PICTURE_QUEUE
    /// (default 8) waiting, each within PICTURE_TIMEOUT_SECONDS (default 30); beyond: 503 with
    /// Retry-After. Without ffmpeg they are 503 and the poster is still served.
    ///
    /// With WEBHOOK_URL and WEBHOOK_SECRET it also sends the webhook outbox (media.ready,
    /// media.failed), retrying a refused delivery with backoff for about a day
    /// (WEBHOOK_MAX_ATTEMPTS, WEBHOOK_RETRY_BACKOFF_SECONDS, WEBHOOK_RETRY_BACKOFF_MAX_SECONDS,
    /// WEBHOOK_TIMEOUT_SECONDS), as does `worker`.
    ///
    /// Other sites may show an item's player in an iframe (/embed/{id}, found through
    /// /oembed): EMBED_ALLOWED_ORIGINS lists the sites allowed to frame it (`*`, or origins such
    /// as https://blog.example.com,https://*.example.org); unset, any site may frame public and
    /// unlisted items, and a private item's player (with ?token=) only this server's pages.
    ///
    /// EVENTS_SOURCE (sqs:<queue URL> or oci-streaming:<stream OCID>) makes it consume bucket
    /// events from a queue or stream, for deployments without a public events endpoint (see
    /// `watch`); EVENTS_CONSUMER=watch leaves that to `mediaserver watch`.
    Serve,
    /// Run processing workers only (no HTTP), against the same database and storage as the
    /// servers. Run as many as you like, on any machine. SIGTERM lets the current job finish
    /// (up to 30 s) or hands it back to the queue. A job's lease is JOB_LEASE_SECONDS (15),
    /// renewed every third of it: the job of a worker that was killed moves to another worker
    /// about that long later. An attempt failed by an unreachable database or storage does not
    /// count against JOB_MAX_ATTEMPTS (for JOB_OUTAGE_RETRY_HOURS, 24, after it was queued).
    ///
    /// A video longer than CHUNK_MIN_SECONDS (120) is encoded as chunks of CHUNK_SECONDS (60;
    /// 0 turns chunking off): one queue job per chunk, one for its audio, text tracks,
    /// thumbnail and storyboard, and one that writes the manifests once they are all done. Any
    /// worker of any process takes them; a failed chunk is retried alone. `serve` reads them too.
    Worker(worker::WorkerArgs),
    /// Poll the media bucket for new objects and queue them, for storage that cannot send event
    /// notifications. Safe to run repeatedly: each object version is queued once.
    ///
    /// With EVENTS_SOURCE set it consumes that instead (unless --list): sqs:<queue URL> (S3
    /// event notifications in SQS, long polling; AWS_* credentials and the bucket's region, or
    /// the region in the queue's host) or oci-streaming:<stream OCID> (OCI Events in an OCI
    /// Stream, consumer group EVENTS_STREAM_GROUP, default mediaserver; OCI_AUTH principal;
    /// OCI_STREAMING_ENDPOINT overrides the Streaming API). A message is deleted or committed
    /// only once its objects are recorded. `serve` consumes it too unless
    /// EVENTS_CONSUMER=watch.
    Watch(watch::WatchArgs),
    /// Process one file without a database: fetch SRC, transcode, upload the outputs to DEST,
    /// print a JSON summary. For one container per job.
    ///
    /// SRC and DEST are paths, file://…, s3://bucket/key (STORAGE_ENDPOINT and AWS_* keys
    /// apply), gs://bucket/key (Google Cloud Storage: STORAGE_ENDPOINT and GOOGLE_* credentials
    /// apply) or oci://namespace/bucket/key (OCI Object Storage's native API, signed as the
    /// OCI_AUTH principal). Besides the outputs (with downloads/: MP4s of the rungs
    /// DOWNLOAD_RENDITIONS names and an M4A), DEST gets transcode.json: the summary, written
    /// last.
    /// LADDER_MODE=adaptive (the default) encodes each rung at a quality target capped by its
    /// ladder bitrate and drops rungs within 15 % of the next one up; LADDER_MODE=fixed spends
    /// every rung's ladder bitrate. VIDEO_CODECS=h264,av1 (or h264,hevc, or h264,av1,hevc) adds
    /// AV1 and HEVC renditions of every rung (AV1_PRESET, HEVC_PRESET). `serve` and `worker`
    /// read them too.
    /// Exit codes: 0 done, 2 the input is not usable media, 1 anything else.
    Transcode(transcode::TranscodeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Find what crashes and outages left out of step between storage and the database,
    /// report it, and clean it up.
    ///
    /// Finds: objects under originals/ and media/ whose item does not exist (removed); items
    /// whose original object is gone (reported; those not yet ready are marked failed with a
    /// reason the owner can read — rows are never deleted); multipart uploads a dead writer
    /// left open in either bucket (aborted); stale job scratch directories under TEMP_DIR
    /// (removed). Never touches an upload still in progress (its upload row or tus session) or
    /// anything younger than --grace-seconds. Prints counts and every key. Safe to run while
    /// servers and workers run, and as often as you like.
    /// Exit codes: 0 done, 1 something could not be done (listed; run it again later).
    Reconcile(reconcile::ReconcileArgs),
    /// Make the MP4/M4A downloads of ready video and audio items that have none: items
    /// processed before downloads existed, or whose downloads failed or were removed.
    ///
    /// Runs here, not as queued jobs: each item's published stream files are fetched from the
    /// output bucket, remuxed without re-encoding (DOWNLOAD_RENDITIONS: which rungs get an MP4,
    /// `highest,lowest` by default, `all` or `none`; the default audio track also becomes an
    /// M4A), uploaded under the item's outputs and recorded on it. Scratch space under
    /// TEMP_DIR. Safe to run while servers and workers run, and again after a failure.
    /// Exit codes: 0 done, 1 some item could not be done (listed; run it again later).
    BackfillDownloads(backfill_downloads::BackfillDownloadsArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Upload files to a running server, resumably, with a progress bar per file.
    ///
    /// Each file goes to the server's tus endpoint in chunks, each with a SHA-1 the server
    /// checks; a failed chunk is retried with backoff from the offset the server reports, so a
    /// dropped connection or a restarting server costs at most one chunk. Unfinished uploads
    /// (Ctrl-C, a crash) are remembered in a state file: running the same command again resumes
    /// each file where the server left off.
    Upload(upload::UploadArgs),
    /// Ask a container registry (OCIR, ECR, Artifact Registry or any other) about images: a
    /// tag's digest, a repository's tags, a tag's full reference, an image's description; delete
    /// an image or prune a repository to its newest images.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
}

/// Parses the command line and runs the command; the exit code says how it went (2: bad
/// configuration or unusable input).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A client of a server elsewhere: the server's own configuration does not apply.
    let command = match cli.command {
        Command::Upload(args) => return upload::main(args),
        Command::Registry(cmd) => return registry::main(cmd),
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
        Err(e) if e.downcast_ref::<transcode::UnusableInput>().is_some() => {
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
    // Colour only for a person at a terminal: log files and journald get plain text, and
    // NO_COLOR (no-color.org) turns it off there too.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    // JWT_SECRET_OCID / DATABASE_URL_SECRET_OCID: every command needs them resolved first.
    let config = crate::resolve_oci_secrets(config).await?;
    match command {
        Command::Serve => serve::run(&config).await,
        Command::Worker(args) => worker::run(&config, args).await,
        Command::Watch(args) => watch::run(&config, args).await,
        Command::Transcode(args) => transcode::run(&config, args).await,
        Command::Migrate => migrate::run(&config).await,
        Command::Reconcile(args) => reconcile::run(&config, args).await,
        Command::BackfillDownloads(args) => backfill_downloads::run(&config, args).await,
        Command::User(cmd) => user::run(&config, cmd).await,
        // Dispatched in main() before the server configuration is read.
        Command::Upload(_) => anyhow::bail!("upload is not a server command"),
        Command::Registry(_) => anyhow::bail!("registry is not a server command"),
    }
}
