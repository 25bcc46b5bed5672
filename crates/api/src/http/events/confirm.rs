//! Fetching an OCI Notifications subscription's confirmation URL without letting whoever sent it
//! steer the server. The URL comes from the request body or a header, so it is checked before
//! anything is fetched:
//! - HTTPS on its own port, no credentials, and a host of OCI Notifications: the confirmation
//!   link is the Notifications data plane's `GetConfirmSubscription`, served at
//!   `notification.{region}.{realm domain}` or `notification.{region}.oci.{realm domain}` (the
//!   SDKs' endpoint templates), possibly below a cell label (`cell1.notification.…`);
//! - the name is resolved here and every address must be public (not loopback, private,
//!   link-local, unique-local, CGNAT, multicast, documentation or otherwise reserved); the
//!   connection is then pinned to exactly those addresses, so a second DNS answer (rebinding)
//!   cannot send it elsewhere;
//! - no redirects and no proxy (a proxy would resolve the name itself).
//!
//! The caller learns only that confirmation failed ([`ConfirmError`] is logged, never answered),
//! so the endpoint cannot be used to probe hosts or ports. Loopback (`http(s)://127.0.0.1:port`,
//! `[::1]`) is reachable only with `ApiSettings::allow_loopback_confirmation`, a switch for tests
//! that no environment variable sets.

use reqwest::redirect::Policy;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use url::{Host, Url};

/// The second-level domains of OCI's realms (oc1 commercial, oc2/oc3 US Government, oc4 UK
/// Government, oc8… dedicated and sovereign realms, oc19 the EU Sovereign Cloud). The same
/// table as `mediaserver_oci::region`, which this crate must not depend on; a test of the
/// binary checks that the two agree.
pub const OCI_REALM_DOMAINS: &[&str] = &[
    "oraclecloud.com",
    "oraclegovcloud.com",
    "oraclegovcloud.uk",
    "oraclecloud8.com",
    "oraclecloud9.com",
    "oraclecloud10.com",
    "oraclecloud14.com",
    "oraclecloud15.com",
    "oraclecloud.eu",
    "oraclecloud20.com",
    "oraclecloud21.com",
    "oraclecloud23.com",
    "oraclecloud24.com",
    "oraclecloud26.com",
    "oraclecloud29.com",
    "oraclecloud35.com",
    "oraclecloud42.com",
    "oraclecloud51.com",
    "oraclecloud52.com",
];

/// Whole fetch, and connecting alone.
const TIMEOUT: Duration = Duration::from_secs(15);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a confirmation was not made. For the log only: the client gets one opaque answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfirmError {
    #[error("not an OCI Notifications HTTPS URL (host {host:?})")]
    NotAllowed { host: String },
    #[error("resolving {host}")]
    Resolve {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{host} resolves to no address")]
    NoAddress { host: String },
    #[error("{host} resolves to {addr}, which is not a public address")]
    NotPublic { host: String, addr: IpAddr },
    #[error("building the HTTP client")]
    Client(#[source] reqwest::Error),
    /// Without the URL (it carries the subscription's token).
    #[error("fetching the confirmation URL")]
    Fetch(#[source] reqwest::Error),
    /// Redirects included: they are not followed.
    #[error("the confirmation URL answered {0}")]
    Status(reqwest::StatusCode),
}

/// Where a confirmation URL may lead.
#[derive(Debug, PartialEq)]
enum Target {
    /// An OCI Notifications host, to be resolved and checked.
    Oci(String),
    /// A loopback address, with the test switch on.
    Loopback,
}

/// Fetches `url` if it is an OCI Notifications confirmation link (or, with `allow_loopback`, a
/// loopback one) that answers 2xx.
pub(crate) async fn confirm(url: &Url, allow_loopback: bool) -> Result<(), ConfirmError> {
    let mut client = reqwest::Client::builder()
        .redirect(Policy::none())
        .no_proxy()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT);
    match target(url, allow_loopback)? {
        Target::Oci(host) => {
            let addrs = resolve_public(&host).await?;
            client = client.https_only(true).resolve_to_addrs(&host, &addrs);
        }
        Target::Loopback => {}
    }
    let client = client.build().map_err(ConfirmError::Client)?;
    let resp = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| ConfirmError::Fetch(e.without_url()))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(ConfirmError::Status(resp.status()))
    }
}

fn target(url: &Url, allow_loopback: bool) -> Result<Target, ConfirmError> {
    let credentials = !url.username().is_empty() || url.password().is_some();
    let web = matches!(url.scheme(), "http" | "https");
    match url.host() {
        // `port()` is `None` for the scheme's default: 443.
        Some(Host::Domain(host))
            if url.scheme() == "https"
                && url.port().is_none()
                && !credentials
                && is_notification_host(host) =>
        {
            Ok(Target::Oci(host.to_string()))
        }
        Some(Host::Ipv4(ip)) if allow_loopback && web && !credentials && ip.is_loopback() => {
            Ok(Target::Loopback)
        }
        Some(Host::Ipv6(ip)) if allow_loopback && web && !credentials && ip.is_loopback() => {
            Ok(Target::Loopback)
        }
        _ => Err(ConfirmError::NotAllowed {
            host: url.host_str().unwrap_or_default().to_string(),
        }),
    }
}

/// `[labels.]notification.{region}[.oci].{realm domain}`, exactly (lower case, as `Url` gives
/// it).
fn is_notification_host(host: &str) -> bool {
    OCI_REALM_DOMAINS.iter().any(|domain| {
        let Some(rest) = host.strip_suffix(domain).and_then(|r| r.strip_suffix('.')) else {
            return false;
        };
        let rest = rest.strip_suffix(".oci").unwrap_or(rest);
        let mut labels = rest.rsplit('.');
        let region = labels.next().unwrap_or_default();
        labels.next() == Some("notification") && is_label(region) && labels.all(is_label)
    })
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Every address `host` resolves to (port 443), if all of them are public.
async fn resolve_public(host: &str) -> Result<Vec<SocketAddr>, ConfirmError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 443))
        .await
        .map_err(|source| ConfirmError::Resolve {
            host: host.to_string(),
            source,
        })?
        .collect();
    if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(ConfirmError::NotPublic {
            host: host.to_string(),
            addr: bad.ip(),
        });
    }
    if addrs.is_empty() {
        return Err(ConfirmError::NoAddress {
            host: host.to_string(),
        });
    }
    Ok(addrs)
}

/// Whether `ip` is a globally routed unicast address (IANA's special-purpose registries).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = a == 0 // "this network"
        || a == 10 // private
        || (a == 100 && (b & 0xc0) == 64) // 100.64/10, shared (CGNAT)
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local (instance metadata)
        || (a == 172 && (b & 0xf0) == 16) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168) // private
        || (a == 198 && (b & 0xfe) == 18) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved, broadcast
    !reserved
}

/// Only global unicast (2000::/3) outside its special blocks. Everything else — loopback,
/// unspecified, IPv4-mapped and -compatible, NAT64, unique-local, link-local, multicast — lies
/// outside 2000::/3.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    let special = match s[0] {
        // 2001::/23 (IETF assignments, Teredo) and 2001:db8::/32 (documentation).
        0x2001 => s[1] < 0x0200 || s[1] == 0x0db8,
        // 6to4: an IPv4 address inside.
        0x2002 => true,
        // 3fff::/20, documentation.
        0x3fff => s[1] < 0x1000,
        _ => false,
    };
    global_unicast && !special
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `None`: refused (an unparsable URL is refused before this, with a 400).
    fn target_of(u: &str, loopback: bool) -> Option<Target> {
        target(&Url::parse(u).ok()?, loopback).ok()
    }

    #[test]
    fn only_oci_notification_hosts_over_https() {
        let oci = |u: &str| target_of(u, false);
        for ok in [
            "https://cell1.notification.us-ashburn-1.oci.oraclecloud.com/20181201/subscriptions/x/confirmation?token=t",
            "https://notification.us-phoenix-1.oraclecloud.com/c",
            "https://notification.us-langley-1.oci.oraclegovcloud.com/c",
            "https://notification.uk-gov-london-1.oraclegovcloud.uk/c",
            "https://notification.eu-frankfurt-2.oraclecloud.eu/c",
            "https://notification.ap-chiyoda-1.oraclecloud8.com/c",
            "https://NOTIFICATION.US-ASHBURN-1.ORACLECLOUD.COM:443/c",
        ] {
            assert!(matches!(oci(ok), Some(Target::Oci(_))), "{ok}");
        }
        for refused in [
            // Not HTTPS, another port, credentials.
            "http://notification.us-ashburn-1.oraclecloud.com/c",
            "https://notification.us-ashburn-1.oraclecloud.com:8443/c",
            "https://u:p@notification.us-ashburn-1.oraclecloud.com/c",
            // Other TLDs and look-alikes.
            "https://cell1.notification.us-ashburn-1.oci.oraclecloud.evil/c",
            "https://notification.us-ashburn-1.oraclecloud.com.attacker.net/c",
            "https://notification.us-ashburn-1.oraclecloudx.com/c",
            "https://notification.us-ashburn-1.xoraclecloud.com/c",
            "https://notification.us-ashburn-1.oraclecloud7.com/c",
            "https://x.oraclecloudevil.com/c",
            // OCI, but not Notifications; the realm domain itself.
            "https://objectstorage.us-ashburn-1.oraclecloud.com/n/ns/b/b/o/o",
            "https://notification.oraclecloud.com/c",
            "https://oraclecloud.com/c",
            "https://notification..oraclecloud.com/c",
            "https://notification.us-ashburn-1.oraclecloud.com./c",
            // Addresses: never without the switch.
            "http://127.0.0.1:8080/confirm",
            "https://127.0.0.1/c",
            "https://[::1]/c",
            "https://10.0.0.1/c",
        ] {
            assert_eq!(oci(refused), None, "{refused}");
        }
    }

    #[test]
    fn loopback_only_with_the_switch_and_only_loopback() {
        assert_eq!(
            target_of("http://127.0.0.1:8080/confirm", true),
            Some(Target::Loopback)
        );
        assert_eq!(
            target_of("https://[::1]:8443/confirm", true),
            Some(Target::Loopback)
        );
        for refused in [
            "http://10.0.0.1/c",
            "http://localhost:8080/c",
            "http://[::ffff:127.0.0.1]:8080/c",
            "http://169.254.169.254/c",
            "ftp://127.0.0.1/c",
        ] {
            assert_eq!(target_of(refused, true), None, "{refused}");
        }
    }

    #[test]
    fn public_addresses_only() {
        let public = |s: &str| is_public(s.parse().unwrap());
        for ok in [
            "1.1.1.1",
            "138.1.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.0.1",
            "172.32.0.1",
            "2001:4860:4860::8888",
            "2603:c020::1",
        ] {
            assert!(public(ok), "{ok}");
        }
        for refused in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.0.1",
            "198.18.0.1",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::a00:1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "2002:a00:1::1",
            "3fff::1",
        ] {
            assert!(!public(refused), "{refused}");
        }
    }

    /// A name that resolves to loopback is refused before anything connects (as a rebinding
    /// attacker's name would be): the check is on the resolved addresses.
    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused() {
        let err = resolve_public("localhost").await.unwrap_err();
        assert!(matches!(err, ConfirmError::NotPublic { .. }), "{err}");
    }

    #[tokio::test]
    async fn loopback_is_never_fetched_without_the_switch() {
        let err = confirm(&Url::parse("http://127.0.0.1:9/c").unwrap(), false)
            .await
            .unwrap_err();
        assert!(matches!(err, ConfirmError::NotAllowed { .. }), "{err}");
    }
}
