//! Secrets the configuration only points at: `JWT_SECRET_OCID` / `DATABASE_URL_SECRET_OCID` /
//! `EVENTS_SECRET_OCID` / `WEBHOOK_SECRET_OCID` read from OCI Vault, and the JWT signing secret generated into the data directory in the
//! embedded setup.

use crate::config::Config;
use anyhow::{bail, Context};
use std::path::Path;

/// Reads `JWT_SECRET_OCID`, `DATABASE_URL_SECRET_OCID`, `EVENTS_SECRET_OCID` and
/// `WEBHOOK_SECRET_OCID` from OCI Vault (signed as the `OCI_AUTH` principal) into the
/// configuration. Every failure names the variable and the secret; nothing is read when none
/// is set.
pub async fn resolve_oci_secrets(mut config: Config) -> anyhow::Result<Config> {
    if config.auth.jwt_secret_ocid.is_none()
        && config.database.url_secret_ocid.is_none()
        && !config.vault.any()
    {
        return Ok(config);
    }
    let http = mediaserver_oci::default_http_client()?;
    let client = mediaserver_oci::OciClient::connect(&config.oci, http)
        .await
        .with_context(|| {
            format!(
                "connecting to OCI to read secrets from Vault (OCI_AUTH={})",
                config.oci.kind
            )
        })?;
    if let Some(id) = &config.auth.jwt_secret_ocid {
        let value = mediaserver_oci::vault::read_secret_string(&client, id)
            .await
            .context("JWT_SECRET_OCID")?;
        if value.len() < 32 {
            bail!("JWT_SECRET_OCID: secret {id} is shorter than 32 characters; a JWT signing secret must be at least 32");
        }
        config.auth.jwt_secret = Some(mediaserver_core::Secret::new(value));
        tracing::info!(secret = %id, "JWT signing secret read from OCI Vault");
    }
    if let Some(id) = &config.database.url_secret_ocid {
        let value = mediaserver_oci::vault::read_secret_string(&client, id)
            .await
            .context("DATABASE_URL_SECRET_OCID")?;
        crate::config::validate_database_url(value.trim()).map_err(|m| {
            anyhow::anyhow!("DATABASE_URL_SECRET_OCID: the database URL in secret {id} {m}")
        })?;
        config.database.url = value.trim().to_string();
        tracing::info!(secret = %id, "database URL read from OCI Vault");
    }
    if let Some(id) = config.vault.events_secret.clone() {
        let value = read_shared_secret(&client, &id, "EVENTS_SECRET_OCID").await?;
        config.http.events_secret = Some(mediaserver_core::Secret::new(value));
        tracing::info!(secret = %id, "events secret read from OCI Vault");
    }
    if let Some(id) = config.vault.webhook_secret.clone() {
        let value = read_shared_secret(&client, &id, "WEBHOOK_SECRET_OCID").await?;
        if let Some(webhook) = config.http.webhook.as_mut() {
            webhook.secret = mediaserver_core::Secret::new(value);
        }
        tracing::info!(secret = %id, "webhook signing secret read from OCI Vault");
    }
    Ok(config)
}

/// A shared secret (events, webhook): the secret's text without the newline an editor or
/// `echo` leaves; an empty one is refused (it would let anyone in, or sign with nothing).
async fn read_shared_secret(
    client: &mediaserver_oci::OciClient,
    id: &str,
    var: &'static str,
) -> anyhow::Result<String> {
    let value = mediaserver_oci::vault::read_secret_string(client, id)
        .await
        .context(var)?;
    let value = value.trim_end_matches(['\r', '\n']).to_string();
    if value.is_empty() {
        bail!("{var}: secret {id} is empty");
    }
    Ok(value)
}

/// The JWT signing secret: `JWT_SECRET` if set; in the embedded setup, otherwise one generated on
/// first start and kept in the data directory so restarts keep tokens valid.
pub fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(s) = &config.auth.jwt_secret {
        return Ok(s.expose().as_bytes().to_vec());
    }
    if !config.is_embedded() {
        bail!("JWT_SECRET is required when using PostgreSQL, MySQL or a cloud bucket");
    }
    load_or_create_secret(&config.data_dir.join("jwt-secret"))
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(s) if s.trim().len() >= 32 => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => bail!(
            "{} is too short to be a signing secret; delete it to generate a new one",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let secret = hex::encode(bytes);
    write_private(path, &secret).with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a JWT signing secret");
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(contents.as_bytes())
}
