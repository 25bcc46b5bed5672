//! The HTTP side: where the server listens (`HOST`, `PORT`), how long and how many connections
//! it keeps (`HTTP_HEADER_TIMEOUT_SECONDS`, `HTTP_MAX_CONNECTIONS`), what it accepts
//! (`MAX_UPLOAD_BYTES`, `UPLOAD_EXPIRY_SECONDS`), bucket events (`EVENTS_SECRET`,
//! `EVENTS_OWNER_EMAIL`), where segment requests redirect (`PUBLIC_BASE_URL`) and the webhook it
//! calls when an item is done (`WEBHOOK_URL`, `WEBHOOK_SECRET`).

use super::vars::{err, is_http_url, ConfigError, Vars};
use mediaserver_core::Secret;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub host: IpAddr,
    pub port: u16,
    /// A client must send a request's headers whole within this long of connecting or of its
    /// previous request; slower connections are closed (slowloris).
    pub header_timeout: Duration,
    /// Connections open at once; further ones wait to be accepted until one closes.
    pub max_connections: usize,
    pub max_upload_bytes: u64,
    /// Unfinished uploads (tus, direct) are removed this long after their last activity.
    pub upload_expiry_secs: u64,
    pub events_secret: Option<Secret>,
    pub events_owner_email: Option<String>,
    /// Segment requests redirect here (a CDN in front of the output bucket) instead of being proxied.
    pub public_base_url: Option<String>,
    pub webhook: Option<WebhookConfig>,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: Secret,
}

pub(super) fn from_vars(vars: &Vars) -> Result<HttpConfig, ConfigError> {
    let host = vars.parse_or("HOST", IpAddr::V4(Ipv4Addr::UNSPECIFIED))?;
    let port = vars.parse_or("PORT", 3000u16)?;
    let header_timeout_secs = vars.parse_or("HTTP_HEADER_TIMEOUT_SECONDS", 30u64)?;
    if !(1..=3600).contains(&header_timeout_secs) {
        return Err(err("HTTP_HEADER_TIMEOUT_SECONDS", "must be from 1 to 3600"));
    }
    let max_connections = vars.parse_or("HTTP_MAX_CONNECTIONS", 4096usize)?;
    if !(1..=1_000_000).contains(&max_connections) {
        return Err(err("HTTP_MAX_CONNECTIONS", "must be from 1 to 1000000"));
    }
    let events_secret = vars.get("EVENTS_SECRET").map(Secret::new);
    let events_owner_email = vars.get("EVENTS_OWNER_EMAIL");
    let max_upload_bytes = vars.parse_or("MAX_UPLOAD_BYTES", 10u64 * 1024 * 1024 * 1024)?;
    if max_upload_bytes == 0 {
        return Err(err("MAX_UPLOAD_BYTES", "must be greater than 0"));
    }
    let upload_expiry_secs = vars.parse_or("UPLOAD_EXPIRY_SECONDS", 24 * 3600u64)?;
    if upload_expiry_secs == 0 {
        return Err(err("UPLOAD_EXPIRY_SECONDS", "must be greater than 0"));
    }
    let webhook = match (vars.get("WEBHOOK_URL"), vars.get("WEBHOOK_SECRET")) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(err(
                "WEBHOOK_SECRET",
                "required when WEBHOOK_URL is set (receivers verify the signature with it)",
            ))
        }
        (Some(url), Some(secret)) => {
            if !is_http_url(&url) {
                return Err(err("WEBHOOK_URL", "must be an http:// or https:// URL"));
            }
            Some(WebhookConfig {
                url,
                secret: Secret::new(secret),
            })
        }
    };
    let public_base_url = vars.get("PUBLIC_BASE_URL");
    if let Some(u) = &public_base_url {
        let plain = u.is_ascii() && !u.chars().any(|c| c.is_whitespace() || c.is_control());
        if !is_http_url(u) || !plain {
            return Err(err(
                "PUBLIC_BASE_URL",
                "must be an http:// or https:// URL (ASCII, percent-encoded)",
            ));
        }
    }
    Ok(HttpConfig {
        host,
        port,
        header_timeout: Duration::from_secs(header_timeout_secs),
        max_connections,
        max_upload_bytes,
        upload_expiry_secs,
        events_secret,
        events_owner_email,
        public_base_url,
        webhook,
    })
}
