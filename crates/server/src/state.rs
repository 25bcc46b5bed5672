//! The state every command that touches media shares: the database (migrated) and the two
//! buckets, opened and checked, plus the HTTP layer's settings.

use crate::config::Config;
use crate::secrets::jwt_secret;
use crate::storage::open_storage;
use anyhow::Context;
use mediaserver_api::{ApiSettings, AppState};
use mediaserver_db::DynRepo;
use mediaserver_ingest::Ingest;
use mediaserver_storage::Storage;
use std::sync::Arc;
use std::time::Duration;

/// Opens the database and applies migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<DynRepo> {
    let repo = mediaserver_db::connect(&config.database.url)
        .await
        .with_context(|| {
            format!(
                "opening the {} database (DATABASE_URL)",
                backend_name(&config.database.url)
            )
        })?;
    repo.migrate()
        .await
        .context("applying database migrations")?;
    Ok(repo)
}

fn backend_name(url: &str) -> &'static str {
    if url.starts_with("sqlite:") {
        "SQLite"
    } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
        "MySQL"
    } else {
        "PostgreSQL"
    }
}

/// What the HTTP layer needs from the configuration.
pub fn api_settings(config: &Config) -> ApiSettings {
    ApiSettings {
        events_secret: config.http.events_secret.clone(),
        events_owner_email: config.http.events_owner_email.clone(),
        public_base_url: config.http.public_base_url.clone(),
        trusted_proxies: config.http.trusted_proxies.clone(),
        external_url: config.http.external_url.clone(),
        embed_allowed_origins: config.http.embed_allowed_origins.clone(),
        registration: config.auth.registration,
        max_upload_bytes: config.http.max_upload_bytes,
        max_pending_uploads: config.http.max_pending_uploads,
        beacons_per_minute: config.http.beacons_per_minute,
        upload_expiry: Duration::from_secs(config.http.upload_expiry_secs),
        access_token_ttl: Duration::from_secs(config.auth.access_token_ttl_secs),
        refresh_token_ttl: Duration::from_secs(config.auth.refresh_token_ttl_secs),
        ..ApiSettings::default()
    }
}

/// The ingest service over `repo` and the media bucket.
pub fn ingest(config: &Config, repo: DynRepo, media_store: Arc<dyn Storage>) -> Ingest {
    Ingest::new(repo, media_store, &config.jobs.retry).with_user_quota(config.http.user_quota_bytes)
}

/// The database and the media bucket, opened and checked, as the ingest service
/// (`mediaserver watch` needs nothing else).
pub async fn build_ingest(config: &Config) -> anyhow::Result<Ingest> {
    let repo = open_database(config).await?;
    let media_store = open_storage(config, &config.storage.media_bucket).await?;
    Ok(ingest(config, repo, media_store))
}

/// Everything `serve` needs, opened and checked.
pub async fn build_state(config: &Config) -> anyhow::Result<AppState> {
    let secret = jwt_secret(config)?;
    let ingest = build_ingest(config).await?;
    let output_store = if config.storage.output_bucket == config.storage.media_bucket {
        ingest.media_store().clone()
    } else {
        open_storage(config, &config.storage.output_bucket).await?
    };
    let state = AppState::new(ingest, output_store, &secret, api_settings(config));
    crate::pictures::install(config, &state).await;
    Ok(state)
}
