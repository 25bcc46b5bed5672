//! The HTTP side: where the server listens (`HOST`, `PORT`), how long and how many connections
//! it keeps (`HTTP_HEADER_TIMEOUT_SECONDS`, `HTTP_MAX_CONNECTIONS`), which reverse proxies it
//! believes (`TRUSTED_PROXIES`) and its own address for the URLs it hands out (`EXTERNAL_URL`),
//! which sites may frame the embed page (`EMBED_ALLOWED_ORIGINS`),
//! what it accepts (`MAX_UPLOAD_BYTES`, `UPLOAD_EXPIRY_SECONDS`, `MAX_PENDING_UPLOADS`,
//! `USER_QUOTA_BYTES`, `BEACONS_PER_MINUTE`), bucket events
//! (`EVENTS_SECRET`, `EVENTS_OWNER_EMAIL`), where segment requests redirect (`PUBLIC_BASE_URL`)
//! and the webhook it calls when an item is done (`WEBHOOK_URL`, `WEBHOOK_SECRET`, and how it
//! retries: `WEBHOOK_MAX_ATTEMPTS`, `WEBHOOK_RETRY_BACKOFF_SECONDS`,
//! `WEBHOOK_RETRY_BACKOFF_MAX_SECONDS`, `WEBHOOK_TIMEOUT_SECONDS`).

use super::vars::{err, is_http_url, ConfigError, Vars};
use ipnet::IpNet;
use mediaserver_api::EmbedOrigins;
use mediaserver_core::{RetryPolicy, Secret};
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
    /// Peers whose `X-Forwarded-*`/`Forwarded` headers are believed; empty: none.
    pub trusted_proxies: Vec<IpNet>,
    /// This server's address as clients reach it, without a trailing `/`: the absolute URLs it
    /// hands out start with it. `None`: from the request.
    pub external_url: Option<String>,
    /// Which sites may show `/embed/{id}` in a frame.
    pub embed_allowed_origins: EmbedOrigins,
    pub max_upload_bytes: u64,
    /// Unfinished uploads (tus, direct) are removed this long after their last activity.
    pub upload_expiry_secs: u64,
    /// Unfinished tus and direct uploads one user may have at once.
    pub max_pending_uploads: u64,
    /// `USER_QUOTA_BYTES`: bytes one user may store (originals plus unfinished uploads);
    /// `None`: unlimited.
    pub user_quota_bytes: Option<u64>,
    /// Viewer beacons one client address may send per minute (`BEACONS_PER_MINUTE`).
    pub beacons_per_minute: u32,
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
    /// Attempts per delivery and the backoff between them (by default ~a day of attempts).
    pub retry: RetryPolicy,
    /// How long one request may take.
    pub timeout: Duration,
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
    let trusted_proxies = match vars.get("TRUSTED_PROXIES") {
        Some(list) => trusted_proxies(&list).map_err(|m| err("TRUSTED_PROXIES", m))?,
        None => Vec::new(),
    };
    let external_url = match vars.get("EXTERNAL_URL") {
        Some(u) => Some(external_url(&u).map_err(|m| err("EXTERNAL_URL", m))?),
        None => None,
    };
    let embed_allowed_origins = match vars.get("EMBED_ALLOWED_ORIGINS") {
        Some(list) => embed_origins(&list).map_err(|m| err("EMBED_ALLOWED_ORIGINS", m))?,
        None => EmbedOrigins::Default,
    };
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
    let max_pending_uploads = vars.parse_or("MAX_PENDING_UPLOADS", 100u64)?;
    if max_pending_uploads == 0 {
        return Err(err("MAX_PENDING_UPLOADS", "must be greater than 0"));
    }
    let beacons_per_minute = vars.parse_or("BEACONS_PER_MINUTE", 120u32)?;
    if !(1..=1_000_000).contains(&beacons_per_minute) {
        return Err(err("BEACONS_PER_MINUTE", "must be between 1 and 1000000"));
    }
    let user_quota_bytes = match vars.get("USER_QUOTA_BYTES") {
        None => None,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(err(
                    "USER_QUOTA_BYTES",
                    "must be a number of bytes greater than 0 (unset: no quota)",
                ))
            }
        },
    };
    // With WEBHOOK_SECRET_OCID the secret is read from OCI Vault at startup (`secrets.rs`).
    let webhook_secret = vars
        .get("WEBHOOK_SECRET")
        .or_else(|| vars.get("WEBHOOK_SECRET_OCID").map(|_| String::new()));
    let webhook = match (vars.get("WEBHOOK_URL"), webhook_secret) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(err(
                "WEBHOOK_SECRET",
                "required when WEBHOOK_URL is set, or WEBHOOK_SECRET_OCID (receivers verify the signature with it)",
            ))
        }
        (Some(url), Some(secret)) => {
            if !is_http_url(&url) {
                return Err(err("WEBHOOK_URL", "must be an http:// or https:// URL"));
            }
            Some(WebhookConfig {
                url,
                secret: Secret::new(secret),
                retry: webhook_retry(vars)?,
                timeout: Duration::from_secs(webhook_timeout(vars)?),
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
        trusted_proxies,
        external_url,
        embed_allowed_origins,
        max_upload_bytes,
        upload_expiry_secs,
        max_pending_uploads,
        user_quota_bytes,
        beacons_per_minute,
        events_secret,
        events_owner_email,
        public_base_url,
        webhook,
    })
}

/// Webhook retries: 30 attempts, waiting 30 s doubling to an hour (about a day in all).
fn webhook_retry(vars: &Vars) -> Result<RetryPolicy, ConfigError> {
    let max_attempts = vars.parse_or("WEBHOOK_MAX_ATTEMPTS", 30i32)?;
    if !(1..=1000).contains(&max_attempts) {
        return Err(err("WEBHOOK_MAX_ATTEMPTS", "must be between 1 and 1000"));
    }
    let base = vars.parse_or("WEBHOOK_RETRY_BACKOFF_SECONDS", 30u64)?;
    if !(1..=86_400).contains(&base) {
        return Err(err(
            "WEBHOOK_RETRY_BACKOFF_SECONDS",
            "must be between 1 and 86400",
        ));
    }
    let cap = vars.parse_or("WEBHOOK_RETRY_BACKOFF_MAX_SECONDS", 3600u64)?;
    if cap < base || cap > 86_400 {
        return Err(err(
            "WEBHOOK_RETRY_BACKOFF_MAX_SECONDS",
            "must be at least WEBHOOK_RETRY_BACKOFF_SECONDS and at most 86400",
        ));
    }
    Ok(RetryPolicy {
        max_attempts,
        backoff_base: Duration::from_secs(base),
        backoff_cap: Duration::from_secs(cap),
        ..RetryPolicy::default()
    })
}

fn webhook_timeout(vars: &Vars) -> Result<u64, ConfigError> {
    let secs = vars.parse_or("WEBHOOK_TIMEOUT_SECONDS", 10u64)?;
    if !(1..=300).contains(&secs) {
        return Err(err("WEBHOOK_TIMEOUT_SECONDS", "must be between 1 and 300"));
    }
    Ok(secs)
}

/// `TRUSTED_PROXIES`: comma-separated addresses and CIDR blocks.
fn trusted_proxies(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!(
                        "'{item}' is not an IP address or CIDR block \
                         (e.g. TRUSTED_PROXIES=10.0.0.0/8,192.0.2.7,fd00::/8)"
                    )
                })
        })
        .collect()
}

/// `EXTERNAL_URL`: `http(s)://host[:port][/path]`, nothing that would not be a prefix of a URL.
fn external_url(u: &str) -> Result<String, String> {
    let bad = || {
        "must be this server's address as clients reach it, an http:// or https:// URL \
         without user, query or fragment (e.g. https://media.example.com)"
            .to_string()
    };
    let plain = u.is_ascii() && !u.chars().any(|c| c.is_whitespace() || c.is_control());
    let url = url::Url::parse(u).map_err(|_| bad())?;
    let ok = plain
        && is_http_url(u)
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    if !ok {
        return Err(bad());
    }
    Ok(u.trim_end_matches('/').to_string())
}

/// `EMBED_ALLOWED_ORIGINS`: `*`, or origins (`http(s)://host[:port]`, a host may start with
/// `*.`; `self` for this server's own pages) separated by commas or spaces, as CSP
/// `frame-ancestors` sources.
fn embed_origins(list: &str) -> Result<EmbedOrigins, String> {
    let items: Vec<&str> = list
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items == ["*"] {
        return Ok(EmbedOrigins::Any);
    }
    let origins = items
        .iter()
        .map(|item| {
            if item.eq_ignore_ascii_case("self") {
                return Ok("'self'".to_string());
            }
            embed_origin(item).ok_or_else(|| {
                format!(
                    "'{item}' is not an origin: give `*`, or origins such as \
                     https://blog.example.com,https://*.example.org,http://localhost:8080 \
                     (scheme, host and port only; `self` for this server)"
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if origins.is_empty() {
        return Err("no origin given".into());
    }
    Ok(EmbedOrigins::List(origins))
}

/// One origin, lowercased, or `None`.
fn embed_origin(item: &str) -> Option<String> {
    let item = item.to_ascii_lowercase();
    let (scheme, rest) = item.split_once("://")?;
    if !matches!(scheme, "http" | "https") {
        return None;
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, _)) if !h.ends_with(']') && h.contains(':') => (rest, None), // bare IPv6: refused below
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    if let Some(p) = port {
        p.parse::<u16>().ok().filter(|p| *p > 0)?;
    }
    let name = host.strip_prefix("*.").unwrap_or(host);
    let ok = if let Some(v6) = name.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        host == name && v6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !name.is_empty()
            && name
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    };
    ok.then(|| item.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::super::tests::cfg;

    #[test]
    fn webhook_retries_default_to_about_a_day_and_are_checked() {
        let hook = [
            ("WEBHOOK_URL", "https://hooks.example.com/in"),
            ("WEBHOOK_SECRET", "s"),
        ];
        let w = cfg(&hook).unwrap().http.webhook.unwrap();
        assert_eq!(w.retry.max_attempts, 30);
        assert_eq!(w.retry.backoff_base.as_secs(), 30);
        assert_eq!(w.retry.backoff_cap.as_secs(), 3600);
        assert_eq!(w.timeout.as_secs(), 10);
        let mut set = hook.to_vec();
        set.extend([
            ("WEBHOOK_MAX_ATTEMPTS", "5"),
            ("WEBHOOK_RETRY_BACKOFF_SECONDS", "1"),
            ("WEBHOOK_RETRY_BACKOFF_MAX_SECONDS", "2"),
            ("WEBHOOK_TIMEOUT_SECONDS", "3"),
        ]);
        let w = cfg(&set).unwrap().http.webhook.unwrap();
        assert_eq!(
            (
                w.retry.max_attempts,
                w.retry.backoff_base.as_secs(),
                w.retry.backoff_cap.as_secs(),
                w.timeout.as_secs()
            ),
            (5, 1, 2, 3)
        );
        for (var, bad) in [
            ("WEBHOOK_MAX_ATTEMPTS", "0"),
            ("WEBHOOK_RETRY_BACKOFF_SECONDS", "0"),
            ("WEBHOOK_RETRY_BACKOFF_MAX_SECONDS", "10"),
            ("WEBHOOK_TIMEOUT_SECONDS", "soon"),
        ] {
            let mut set = hook.to_vec();
            set.push((var, bad));
            assert_eq!(cfg(&set).unwrap_err().var, var, "{var}={bad}");
        }
    }

    #[test]
    fn trusted_proxies_are_addresses_and_blocks() {
        assert!(cfg(&[]).unwrap().http.trusted_proxies.is_empty());
        let c = cfg(&[("TRUSTED_PROXIES", " 10.0.0.0/8, 192.0.2.7 ,fd00::/8,::1,")]).unwrap();
        let nets: Vec<String> = c
            .http
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8", "::1/128"]);
        // Host bits of a block are dropped.
        let c = cfg(&[("TRUSTED_PROXIES", "10.1.2.3/16")]).unwrap();
        assert_eq!(c.http.trusted_proxies[0].to_string(), "10.1.0.0/16");
        for bad in ["proxy.internal", "10.0.0.0/33", "10.0.0.1-10.0.0.9", "*"] {
            let e = cfg(&[("TRUSTED_PROXIES", bad)]).unwrap_err();
            assert_eq!(e.var, "TRUSTED_PROXIES");
            assert!(e.message.contains(bad), "{e}");
        }
    }

    #[test]
    fn embed_origins_are_star_or_origins() {
        use mediaserver_api::EmbedOrigins;
        let origins =
            |v: &str| cfg(&[("EMBED_ALLOWED_ORIGINS", v)]).map(|c| c.http.embed_allowed_origins);
        assert_eq!(
            cfg(&[]).unwrap().http.embed_allowed_origins,
            EmbedOrigins::Default
        );
        assert_eq!(origins(" * ").unwrap(), EmbedOrigins::Any);
        assert_eq!(
            origins("https://Blog.example.com/, http://localhost:8080 https://*.example.org,self,http://[::1]:3000").unwrap(),
            EmbedOrigins::List(vec![
                "https://blog.example.com".into(),
                "http://localhost:8080".into(),
                "https://*.example.org".into(),
                "'self'".into(),
                "http://[::1]:3000".into(),
            ])
        );
        for bad in [
            "blog.example.com",
            "ftp://x.example",
            "https://x.example/path",
            "https://x.example?q",
            "https://user@x.example",
            "https://x.example:99999",
            "https://x.example:0",
            "https://x..example",
            "https://x.example;script-src",
            "https://'none'",
            "*, https://x.example",
            "https://[::1",
            "https://::1",
            ",",
        ] {
            let e = origins(bad).unwrap_err();
            assert_eq!(e.var, "EMBED_ALLOWED_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn external_url_is_a_plain_http_url() {
        assert_eq!(cfg(&[]).unwrap().http.external_url, None);
        let c = cfg(&[("EXTERNAL_URL", "https://media.example.com/")]).unwrap();
        assert_eq!(
            c.http.external_url.as_deref(),
            Some("https://media.example.com")
        );
        let c = cfg(&[("EXTERNAL_URL", "http://192.0.2.1:8080/media")]).unwrap();
        assert_eq!(
            c.http.external_url.as_deref(),
            Some("http://192.0.2.1:8080/media")
        );
        for bad in [
            "media.example.com",
            "javascript://x",
            "ftp://media.example.com",
            "https://user:pw@media.example.com",
            "https://media.example.com/?x=1",
            "https://media.example.com/#x",
            "https://média.example.com",
            "https://media example.com",
        ] {
            let e = cfg(&[("EXTERNAL_URL", bad)]).unwrap_err();
            assert_eq!(e.var, "EXTERNAL_URL", "{bad}");
        }
    }
}
