//! `mediaserver user create`: accounts made from the command line (e.g. the first admin when
//! registration is closed).

use crate::config::Config;
use anyhow::Context;
use mediaserver_core::{NewUser, Role};

#[derive(clap::Subcommand)]
pub enum UserCommand {
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

pub(super) async fn run(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            email,
            password,
            admin,
        } => create(config, email, password, admin).await,
    }
}

async fn create(
    config: &Config,
    email: String,
    password: String,
    admin: bool,
) -> anyhow::Result<()> {
    let repo = crate::open_database(config).await?;
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
