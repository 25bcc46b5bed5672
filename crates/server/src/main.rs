use anyhow::Context;
use clap::{Parser, Subcommand};
use mediaserver_core::{Config, NewUser, Role};
use std::process::ExitCode;

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
    /// Apply database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
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
    match command {
        Command::Serve => {
            let state = mediaserver::build_state(&config).await?;
            let server = mediaserver::Server::bind(&config, state).await?;
            let addr = server.local_addr()?;
            tracing::info!(%addr, database = %redact_url(&config.database_url), storage = ?config.storage.provider, "mediaserver listening on http://{addr}");
            server.run(mediaserver::shutdown_signal()).await?;
            tracing::info!("stopped");
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
            let password_hash = mediaserver_api::auth::hash_password(password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
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
