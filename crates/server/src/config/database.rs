//! The database: `DATABASE_URL` (SQLite under `DATA_DIR` by default), or
//! `DATABASE_URL_SECRET_OCID`, an OCI Vault secret holding it.

use super::vars::{err, ConfigError, Vars};
use std::path::Path;

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `sqlite:…`, `postgres://…` or `mysql://…` (`mariadb://…`); empty until read from the vault when `url_secret_ocid` is
    /// set.
    pub url: String,
    /// `DATABASE_URL_SECRET_OCID`: read from OCI Vault at startup into `url`.
    pub url_secret_ocid: Option<String>,
}

pub(super) fn from_vars(vars: &Vars, data_dir: &Path) -> Result<DatabaseConfig, ConfigError> {
    let url_secret_ocid = vars.get("DATABASE_URL_SECRET_OCID");
    if let Some(id) = &url_secret_ocid {
        if vars.get("DATABASE_URL").is_some() {
            return Err(err(
                "DATABASE_URL_SECRET_OCID",
                "set either DATABASE_URL or DATABASE_URL_SECRET_OCID, not both",
            ));
        }
        super::oci::validate_secret_ocid("DATABASE_URL_SECRET_OCID", id)?;
    }
    let url = match vars.get("DATABASE_URL") {
        Some(u) => {
            validate_database_url(&u).map_err(|m| err("DATABASE_URL", m))?;
            u
        }
        // Filled in from OCI Vault at startup (see `url_secret_ocid`).
        None if url_secret_ocid.is_some() => String::new(),
        None => format!("sqlite://{}/mediaserver.db", data_dir.display()),
    };
    Ok(DatabaseConfig {
        url,
        url_secret_ocid,
    })
}

/// `sqlite:…`, `postgres://…` or `mysql://…` (MySQL 8 / HeatWave, MariaDB ≥ 10.6; also
/// `mariadb://…`).
pub fn validate_database_url(u: &str) -> Result<(), String> {
    const SCHEMES: [&str; 5] = [
        "sqlite:",
        "postgres://",
        "postgresql://",
        "mysql://",
        "mariadb://",
    ];
    if SCHEMES.iter().any(|s| u.starts_with(s)) {
        Ok(())
    } else {
        Err(
            "must start with sqlite:, postgres:// or mysql:// (e.g. postgres://user:pass@host/db)"
                .into(),
        )
    }
}
