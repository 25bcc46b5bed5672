//! `mediaserver migrate`: applies the database migrations and exits.

use crate::config::Config;

pub(super) async fn run(config: &Config) -> anyhow::Result<()> {
    crate::open_database(config).await?;
    println!("migrations applied");
    Ok(())
}
