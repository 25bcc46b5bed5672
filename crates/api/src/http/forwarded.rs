//! Who the client is and how it reached this server, when reverse proxies stand in between.
//! Forwarding headers are believed only from a peer in `TRUSTED_PROXIES`: anyone else could
//! write anything in them. Two extractors:
//! - [`ClientIp`]: the client's address (what the login throttle counts by): the peer, or behind
//!   trusted proxies the right-most address in `X-Forwarded-For` (else RFC 7239 `Forwarded:
//!   for=`) that no trusted proxy added.
//! - [`BaseUrl`]: this server's own `scheme://host[:port]` for the absolute URLs the API hands
//!   out: `EXTERNAL_URL` when set, else a trusted proxy's `X-Forwarded-Proto`/`-Host` (or
//!   `Forwarded: proto=;host=`), else the request's `Host`; a host that is not a plain
//!   `host[:port]` is never used.

use crate::error::ApiError;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

const X_FORWARDED_FOR: &str = "x-forwarded-for";
const X_FORWARDED_HOST: &str = "x-forwarded-host";
const X_FORWARDED_PROTO: &str = "x-forwarded-proto";

/// The client's address: the peer's, or the one trusted proxies forwarded (unspecified if the
/// server was not started with connect info, e.g. in unit tests).
pub(crate) struct ClientIp(pub(crate) IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        Ok(ClientIp(client_ip(
            peer(parts),
            &parts.headers,
            &state.settings.trusted_proxies,
        )))
    }
}

/// This server's base URL as the client reached it, if one can be told (see the module
/// documentation); [`BaseUrl::get`] turns its absence into the 400 that explains it.
pub(crate) struct BaseUrl(Option<String>);

impl BaseUrl {
    pub(crate) fn get(self) -> Result<String, ApiError> {
        self.0.ok_or_else(|| {
            // The header's value is not repeated: it is the client's own and could be anything.
            ApiError::BadRequest(
                "the request's Host is not a valid host[:port], so no URL of this server can be \
                 built from it; send a valid Host, or set EXTERNAL_URL on the server"
                    .into(),
            )
        })
    }
}

impl<S> FromRequestParts<S> for BaseUrl
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        if let Some(url) = &state.settings.external_url {
            return Ok(BaseUrl(Some(url.trim_end_matches('/').to_string())));
        }
        let trusted = is_trusted(peer(parts), &state.settings.trusted_proxies);
        Ok(BaseUrl(base_url(parts, trusted)))
    }
}

fn peer(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let ip = ip.to_canonical();
    trusted.iter().any(|net| net.contains(&ip))
}

/// The client's address seen from `peer`, believing the forwarded chain only as far as it
/// passes through trusted proxies.
fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d.
    let mut client = peer.to_canonical();
    if !is_trusted(client, trusted) {
        return client;
    }
    // Each proxy appends the address it received the request from, so reading from the right,
    // every address up to the first one a trusted proxy did not add was written by a trusted
    // proxy; anything further left the client may have made up.
    for hop in forwarded_for(headers).into_iter().rev() {
        match hop {
            Some(ip) => {
                client = ip.to_canonical();
                if !is_trusted(client, trusted) {
                    return client;
                }
            }
            // `unknown`, an obfuscated name or garbage: the last address we can vouch for.
            None => return client,
        }
    }
    // All trusted (or no header): the left-most hop known.
    client
}

/// The forwarded chain, left (client side) to right (nearest proxy). `X-Forwarded-For` when
/// present, which is what proxies commonly write; else `Forwarded`'s `for=` parameters. A proxy
/// that writes only `Forwarded` must drop a client's `X-Forwarded-For`.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    if headers.contains_key(X_FORWARDED_FOR) {
        headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .flat_map(|v| match v.to_str() {
                Ok(v) => v.split(',').map(parse_node).collect::<Vec<_>>(),
                Err(_) => vec![None],
            })
            .collect()
    } else {
        forwarded_elements(headers)
            .iter()
            .map(|element| param(element, "for").and_then(parse_node))
            .collect()
    }
}

/// An address as forwarding headers write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`,
/// `[2001:db8::1]` or `[2001:db8::1]:4711`. `None` for `unknown`, obfuscated names and garbage.
fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    s.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse::<Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

/// RFC 7239 `Forwarded`, every header line in order: one list of (lower-case name, unquoted
/// value) per element (hop).
fn forwarded_elements(headers: &HeaderMap) -> Vec<Vec<(String, String)>> {
    let mut elements = Vec::new();
    for value in headers.get_all(header::FORWARDED) {
        let Ok(value) = value.to_str() else {
            elements.push(Vec::new());
            continue;
        };
        let mut element = Vec::new();
        let mut pair = String::new();
        let (mut quoted, mut escaped) = (false, false);
        for c in value.chars() {
            if escaped {
                pair.push(c);
                escaped = false;
            } else if quoted && c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = !quoted;
            } else if !quoted && c == ';' {
                end_pair(&mut pair, &mut element);
            } else if !quoted && c == ',' {
                end_pair(&mut pair, &mut element);
                elements.push(std::mem::take(&mut element));
            } else {
                pair.push(c);
            }
        }
        end_pair(&mut pair, &mut element);
        elements.push(element);
    }
    elements
}

/// Ends one `name=value` pair of a `Forwarded` element.
fn end_pair(pair: &mut String, element: &mut Vec<(String, String)>) {
    if let Some((name, value)) = pair.split_once('=') {
        element.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    pair.clear();
}

fn param<'a>(element: &'a [(String, String)], name: &str) -> Option<&'a str> {
    element
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `scheme://host[:port]` from the request: the nearest trusted proxy's word on scheme and host
/// (the right-most value: the one it wrote), else plain `http` and the `Host` header (or an
/// HTTP/2 request's authority). `None` when the host is not a plain `host[:port]`.
fn base_url(parts: &Parts, trusted: bool) -> Option<String> {
    let headers = &parts.headers;
    let last = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(|v| v.trim().to_string())
    };
    let (mut proto, mut host) = (None, None);
    if trusted {
        let forwarded = forwarded_elements(headers);
        let nearest = forwarded.last();
        let from_forwarded = |name: &str| nearest.and_then(|e| param(e, name)).map(str::to_string);
        proto = last(X_FORWARDED_PROTO).or_else(|| from_forwarded("proto"));
        host = last(X_FORWARDED_HOST).or_else(|| from_forwarded("host"));
    }
    let scheme = match proto.map(|p| p.to_ascii_lowercase()).as_deref() {
        Some("https") => "https",
        _ => "http",
    };
    let host = match host {
        Some(h) => h,
        None => match headers.get(header::HOST) {
            Some(h) => h.to_str().ok()?.to_string(),
            None => parts.uri.authority()?.as_str().to_string(),
        },
    };
    is_host_port(&host).then(|| format!("{scheme}://{host}"))
}

/// A DNS name, IPv4 address or bracketed IPv6 address, with an optional port: nothing that
/// could change what a URL built around it means (no scheme, userinfo, path, spaces…).
fn is_host_port(s: &str) -> bool {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.parse::<Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("", port),
                None => return false,
            },
        }
    } else {
        match s.split_once(':') {
            Some((host, port)) => (host, port),
            None => (s, ""),
        }
    };
    let port_ok = if port.is_empty() {
        !s.ends_with(':')
    } else {
        port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok()
    };
    let host_ok = s.starts_with('[')
        || (!host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            }));
    port_ok && host_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, Request};

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|s| s.parse().or_else(|_| s.parse::<IpAddr>().map(IpNet::from)))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_peer_is_the_client_unless_it_is_a_trusted_proxy() {
        let spoof = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
        ]);
        assert_eq!(client_ip(ip("192.0.2.1"), &spoof, &[]), ip("192.0.2.1"));
        let trusted = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("192.0.2.1"), &spoof, &trusted),
            ip("192.0.2.1")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &spoof, &trusted),
            ip("203.0.113.9")
        );
        // No header: the proxy itself.
        assert_eq!(
            client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
        // A dual-stack listener's mapped address is the IPv4 one.
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.2"), &spoof, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_right_most_address_no_trusted_proxy_added_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        let peer = ip("10.0.0.1");
        let cases = [
            // What the client wrote itself (left) does not count.
            ("198.51.100.1, 203.0.113.5", "203.0.113.5"),
            ("203.0.113.5, 10.9.9.9, 10.1.1.1", "203.0.113.5"),
            ("203.0.113.5:4711", "203.0.113.5"),
            ("[2001:db8::5]:80, 2001:db8:ffff::1", "2001:db8::5"),
            ("2001:db8::5", "2001:db8::5"),
            // All trusted: the left-most.
            ("10.2.2.2, 10.1.1.1", "10.2.2.2"),
            // Garbage behind a trusted hop: the last address we can vouch for.
            ("203.0.113.5, nonsense, 10.1.1.1", "10.1.1.1"),
            ("unknown", "10.0.0.1"),
        ];
        for (xff, want) in cases {
            let h = headers(&[("x-forwarded-for", xff)]);
            assert_eq!(client_ip(peer, &h, &trusted), ip(want), "{xff}");
        }
        // Several header lines are one list, in order.
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-for", "203.0.113.5, 10.1.1.1"),
        ]);
        assert_eq!(client_ip(peer, &h, &trusted), ip("203.0.113.5"));
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = nets(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.1");
        let cases = [
            ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
            (
                r#"for=198.51.100.1, For="[2001:db8:cafe::17]:4711", for=10.3.3.3"#,
                "2001:db8:cafe::17",
            ),
            (r#"for="_hidden", for=10.3.3.3"#, "10.3.3.3"),
            (r#"proto=https;host="a,b", for=192.0.2.7"#, "192.0.2.7"),
        ];
        for (fwd, want) in cases {
            let h = headers(&[("forwarded", fwd)]);
            assert_eq!(client_ip(peer, &h, &trusted), ip(want), "{fwd}");
        }
        // X-Forwarded-For wins when both are there.
        let h = headers(&[
            ("forwarded", "for=192.0.2.60"),
            ("x-forwarded-for", "203.0.113.5"),
        ]);
        assert_eq!(client_ip(peer, &h, &trusted), ip("203.0.113.5"));
    }

    #[test]
    fn hosts_are_plain_host_and_port() {
        for good in [
            "localhost",
            "localhost:3000",
            "media.example.com",
            "media-server_1:8080",
            "192.0.2.1:65535",
            "[2001:db8::1]",
            "[2001:db8::1]:443",
        ] {
            assert!(is_host_port(good), "{good}");
        }
        for bad in [
            "",
            "javascript://x",
            "javascript:alert(1)",
            "user@host",
            "a b",
            "host/path",
            "host?q",
            "host#f",
            "host:",
            "host:99999",
            "host:80:80",
            "2001:db8::1",
            "[nonsense]",
            "[2001:db8::1]x",
            "-host",
            "a..b",
            "host\\x",
            "hóst",
        ] {
            assert!(!is_host_port(bad), "{bad}");
        }
    }

    fn parts(pairs: &[(&str, &str)]) -> Parts {
        let mut req = Request::builder().uri("/v1/media/direct-upload");
        for (k, v) in pairs {
            req = req.header(*k, *v);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn base_urls_believe_only_trusted_proxies_and_valid_hosts() {
        let p = parts(&[
            ("host", "internal:3000"),
            ("x-forwarded-host", "media.example.com"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(base_url(&p, false).as_deref(), Some("http://internal:3000"));
        assert_eq!(
            base_url(&p, true).as_deref(),
            Some("https://media.example.com")
        );
        // The value the nearest proxy wrote: the right-most.
        let p = parts(&[
            ("host", "internal"),
            ("x-forwarded-host", "evil.example, media.example.com"),
            ("x-forwarded-proto", "javascript"),
        ]);
        assert_eq!(
            base_url(&p, true).as_deref(),
            Some("http://media.example.com")
        );
        let p = parts(&[
            ("host", "internal"),
            (
                "forwarded",
                "host=evil.example, host=media.example.com;proto=https",
            ),
        ]);
        assert_eq!(
            base_url(&p, true).as_deref(),
            Some("https://media.example.com")
        );
        assert_eq!(base_url(&p, false).as_deref(), Some("http://internal"));
        // Never a host that is not one.
        assert_eq!(base_url(&parts(&[("host", "javascript://x")]), false), None);
        let p = parts(&[("host", "fine"), ("x-forwarded-host", "a@b")]);
        assert_eq!(base_url(&p, true), None);
        assert_eq!(base_url(&p, false).as_deref(), Some("http://fine"));
        // HTTP/2: the request's authority.
        let p = Request::builder()
            .uri("http://media.example.com:8443/x")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        assert_eq!(
            base_url(&p, false).as_deref(),
            Some("http://media.example.com:8443")
        );
    }
}
