//! OCI request signatures (signature version 1, based on draft-cavage-http-signatures-08).
//!
//! * GET, HEAD, DELETE (and OPTIONS) sign `date (request-target) host`.
//! * POST, PUT, PATCH also sign `content-length content-type x-content-sha256`, where
//!   `x-content-sha256` is the base64 SHA-256 of the body; `content-type` defaults to
//!   `application/json`.
//! * Object Storage PutObject (`PUT /n/{ns}/b/{bucket}/o/{object}`) and UploadPart
//!   (`PUT /n/{ns}/b/{bucket}/u/{object}?uploadId=…&uploadPartNum=…`) sign only the generic
//!   headers, so bodies can stream without being hashed first; OCI's SDKs do the same
//!   (`enforce_content_headers=False` for exactly those two operations in the Python SDK).
//!
//! Missing `date` and `host` headers are added, as the SDKs do; headers already present are
//! signed as they are.

use base64::Engine as _;
use http::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};
use http::Method;
use url::Url;

use crate::error::OciError;
use crate::key::SigningKey;

/// Signed on every request.
pub const GENERIC_HEADERS: [&str; 3] = ["date", "(request-target)", "host"];
/// Signed in addition on POST/PUT/PATCH (unless the body is excluded).
pub const BODY_HEADERS: [&str; 3] = ["content-length", "content-type", "x-content-sha256"];

/// Whether the body headers are part of the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodySigning {
    /// What OCI's SDKs do: body headers for POST/PUT/PATCH except Object Storage PutObject and
    /// UploadPart, recognised by method and path.
    #[default]
    Auto,
    /// Body headers for POST/PUT/PATCH.
    Include,
    /// Generic headers only (streamed uploads).
    Exclude,
}

/// The body as far as the signer can see it.
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    None,
    Bytes(&'a [u8]),
    /// A stream whose bytes the signer cannot read. Signing its headers needs
    /// `x-content-sha256` and `content-length` set by the caller.
    Stream,
}

/// `PUT /n/{ns}/b/{bucket}/o/{object}` (PutObject) or `PUT /n/{ns}/b/{bucket}/u/{object}`
/// (UploadPart): the requests OCI's SDKs sign without the body headers.
pub fn is_object_storage_upload(method: &Method, path: &str) -> bool {
    if method != Method::PUT {
        return false;
    }
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    segs.len() >= 6
        && segs[0] == "n"
        && segs[2] == "b"
        && (segs[4] == "o" || segs[4] == "u")
        && segs[5..].iter().any(|s| !s.is_empty())
}

/// The header names OCI expects signed for this request, in signing order.
pub fn headers_to_sign(
    method: &Method,
    path: &str,
    body: BodySigning,
) -> Result<Vec<&'static str>, OciError> {
    let with_body = match *method {
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS => false,
        Method::POST | Method::PUT | Method::PATCH => match body {
            BodySigning::Include => true,
            BodySigning::Exclude => false,
            BodySigning::Auto => !is_object_storage_upload(method, path),
        },
        ref other => {
            return Err(OciError::Signing(format!(
                "don't know how to sign {other} requests"
            )))
        }
    };
    let mut names = GENERIC_HEADERS.to_vec();
    if with_body {
        names.extend(BODY_HEADERS);
    }
    Ok(names)
}

/// Signs a request given as parts: adds the missing `date`/`host`/body headers and the
/// `authorization` header to `headers`.
pub fn sign_parts(
    method: &Method,
    url: &Url,
    headers: &mut HeaderMap,
    body: Body<'_>,
    key_id: &str,
    key: &dyn SigningKey,
    body_signing: BodySigning,
) -> Result<(), OciError> {
    let names = headers_to_sign(method, url.path(), body_signing)?;
    sign_with_headers(method, url, headers, body, key_id, key, &names)
}

/// Signs with an explicit list of header names (the x509 federation request signs
/// `date (request-target) content-length content-type x-content-sha256`, without `host`).
pub fn sign_with_headers(
    method: &Method,
    url: &Url,
    headers: &mut HeaderMap,
    body: Body<'_>,
    key_id: &str,
    key: &dyn SigningKey,
    names: &[&str],
) -> Result<(), OciError> {
    if !headers.contains_key(http::header::DATE) {
        headers.insert(http::header::DATE, header_value(&http_date_now())?);
    }
    if !headers.contains_key(http::header::HOST) {
        headers.insert(http::header::HOST, header_value(&host_of(url)?)?);
    }
    if names.iter().any(|n| BODY_HEADERS.contains(n)) {
        if !headers.contains_key(http::header::CONTENT_TYPE) {
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let bytes: &[u8] = match body {
            Body::None => &[],
            Body::Bytes(b) => b,
            Body::Stream => {
                for needed in ["x-content-sha256", "content-length"] {
                    if !headers.contains_key(needed) {
                        return Err(OciError::Signing(format!(
                            "a streaming body needs the {needed} header set before signing"
                        )));
                    }
                }
                &[]
            }
        };
        if !headers.contains_key("x-content-sha256") {
            headers.insert(
                HeaderName::from_static("x-content-sha256"),
                header_value(&content_sha256(bytes))?,
            );
        }
        if !headers.contains_key(http::header::CONTENT_LENGTH) {
            headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        }
    }
    let signing_string = signing_string(method, &request_target(url), headers, names)?;
    let signature = key.sign_rsa_sha256(signing_string.as_bytes())?;
    let auth = authorization_header(
        key_id,
        names,
        &base64::engine::general_purpose::STANDARD.encode(signature),
    );
    headers.insert(AUTHORIZATION, header_value(&auth)?);
    Ok(())
}

/// Signs a `reqwest::Request` in place. The body is hashed when its bytes are in memory; a
/// streaming body needs `x-content-sha256`/`content-length` preset or [`BodySigning::Exclude`].
pub fn sign_reqwest(
    req: &mut reqwest::Request,
    key_id: &str,
    key: &dyn SigningKey,
    body_signing: BodySigning,
) -> Result<(), OciError> {
    let method = req.method().clone();
    let url = req.url().clone();
    // Copy the body bytes out first: `headers_mut` and `body` borrow the same request.
    let owned: Option<Option<Vec<u8>>> = req.body().map(|b| b.as_bytes().map(<[u8]>::to_vec));
    let body = match &owned {
        None => Body::None,
        Some(Some(bytes)) => Body::Bytes(bytes),
        Some(None) => Body::Stream,
    };
    sign_parts(
        &method,
        &url,
        req.headers_mut(),
        body,
        key_id,
        key,
        body_signing,
    )
}

/// Signs an `http::Request` whose URI is absolute (`https://host/path`).
pub fn sign_http<B: AsRef<[u8]>>(
    req: &mut http::Request<B>,
    key_id: &str,
    key: &dyn SigningKey,
    body_signing: BodySigning,
) -> Result<(), OciError> {
    let url = Url::parse(&req.uri().to_string()).map_err(|e| {
        OciError::Signing(format!("request URI '{}' is not absolute ({e})", req.uri()))
    })?;
    let method = req.method().clone();
    let bytes = req.body().as_ref().to_vec();
    let body = if bytes.is_empty() {
        Body::None
    } else {
        Body::Bytes(&bytes)
    };
    sign_parts(
        &method,
        &url,
        req.headers_mut(),
        body,
        key_id,
        key,
        body_signing,
    )
}

/// `(request-target)`: the path and query exactly as they go on the wire.
pub fn request_target(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The string that is signed: one `name: value` line per signed header.
pub fn signing_string(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    names: &[&str],
) -> Result<String, OciError> {
    let mut lines = Vec::with_capacity(names.len());
    for name in names {
        if *name == "(request-target)" {
            lines.push(format!(
                "(request-target): {} {target}",
                method.as_str().to_ascii_lowercase()
            ));
            continue;
        }
        let values: Vec<&str> = headers
            .get_all(*name)
            .iter()
            .map(|v| v.to_str())
            .collect::<Result<_, _>>()
            .map_err(|_| OciError::Signing(format!("header {name} is not visible ASCII")))?;
        if values.is_empty() {
            return Err(OciError::Signing(format!("header {name} is missing")));
        }
        lines.push(format!("{name}: {}", values.join(", ")));
    }
    Ok(lines.join("\n"))
}

/// `Signature version="1",headers="…",keyId="…",algorithm="rsa-sha256",signature="…"`, the
/// parameter order of Oracle's documentation.
pub fn authorization_header(key_id: &str, names: &[&str], signature_b64: &str) -> String {
    format!(
        "Signature version=\"1\",headers=\"{}\",keyId=\"{key_id}\",algorithm=\"rsa-sha256\",signature=\"{signature_b64}\"",
        names.join(" ")
    )
}

/// base64(SHA-256(body)): the `x-content-sha256` header.
pub fn content_sha256(body: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

/// Now as an HTTP date (`Thu, 05 Jan 2014 21:31:40 GMT`).
pub fn http_date_now() -> String {
    chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// Parses an HTTP date (`Thu, 05 Jan 2014 21:31:40 GMT`), ignoring the weekday as HTTP
/// servers do (Oracle's own signing example carries a wrong one).
pub fn parse_http_date(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = s.trim();
    let rest = s.split_once(", ").map(|(_, r)| r).unwrap_or(s);
    chrono::NaiveDateTime::parse_from_str(rest, "%d %b %Y %H:%M:%S GMT")
        .ok()
        .map(|n| n.and_utc())
}

fn host_of(url: &Url) -> Result<String, OciError> {
    let host = url
        .host_str()
        .ok_or_else(|| OciError::Signing(format!("URL {url} has no host")))?;
    Ok(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

fn header_value(v: &str) -> Result<HeaderValue, OciError> {
    HeaderValue::from_str(v)
        .map_err(|_| OciError::Signing(format!("'{v}' is not a valid header value")))
}
