//! A small tus 1.0.0 client (core protocol + creation + checksum) over reqwest.
//!
//! Hand-written rather than a dependency: the Rust tus clients on crates.io (`tus_client`,
//! its fork `tus_async_client`, and the work-in-progress `tusc`) are unmaintained or
//! unfinished, none sends `Upload-Checksum`, and none reports progress inside a chunk or can
//! throttle it, which the progress bar and `--limit-rate` need. The protocol part is a few
//! headers on four requests; the policy (retries, resume) lives in the caller.

use base64::Engine;
use bytes::Bytes;
use mediaserver_core::Secret;
use reqwest::{header, Method, Response, StatusCode};
use sha1::Digest;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

const TUS_RESUMABLE: &str = "Tus-Resumable";
const TUS_VERSION: &str = "1.0.0";
const UPLOAD_OFFSET: &str = "Upload-Offset";
const UPLOAD_LENGTH: &str = "Upload-Length";
const MEDIA_ID: &str = "Mediaserver-Media-Id";
/// Pieces a chunk is handed to the connection in (progress and throttling granularity).
const SLICE: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TusError {
    #[error("cannot reach the server at {url}: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("the connection to {url} failed: {cause}")]
    Transport { url: String, cause: String },
    #[error("no bytes could be sent for {0} s; the connection looks stalled")]
    Stalled(u64),
    /// An HTTP error status with the server's `{"error":{"code","message"}}` message.
    #[error("{message} (HTTP {status})")]
    Status { status: u16, message: String },
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// Reading the local file.
    #[error("{0}")]
    Local(String),
}

impl TusError {
    /// Worth another try after re-reading the offset: the network, a restarting server, a
    /// chunk that arrived damaged, or a request racing one the server has not yet seen end.
    pub fn retryable(&self) -> bool {
        match self {
            TusError::Unreachable { .. } | TusError::Transport { .. } | TusError::Stalled(_) => {
                true
            }
            TusError::Status { status, .. } => {
                matches!(status, 408 | 409 | 423 | 429 | 460) || *status >= 500
            }
            TusError::Protocol(_) | TusError::Local(_) => false,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            TusError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// What `OPTIONS` says about the server.
#[derive(Debug, Default)]
pub struct Discovery {
    pub max_size: Option<u64>,
}

/// An upload's state on the server (HEAD, or the answer to a PATCH).
#[derive(Debug, Clone)]
pub struct UploadInfo {
    pub offset: u64,
    pub length: Option<u64>,
    /// Set once the upload is complete: the media item it became.
    pub media_id: Option<String>,
}

/// Bytes/s cap shared by every request of one run.
pub struct Throttle {
    rate: u64,
    state: Mutex<(Instant, u64)>,
}

impl Throttle {
    pub fn new(bytes_per_sec: u64) -> Self {
        Throttle {
            rate: bytes_per_sec.max(1),
            state: Mutex::new((Instant::now(), 0)),
        }
    }

    /// Waits until `n` more bytes fit under the rate.
    async fn take(&self, n: usize) {
        let due = match self.state.lock() {
            Ok(mut s) => {
                // An idle period does not turn into a burst allowance.
                let now = Instant::now();
                let budget_start = now - Duration::from_millis(250);
                let earliest = s.0 + Duration::from_secs_f64(s.1 as f64 / self.rate as f64);
                if earliest < budget_start {
                    *s = (budget_start, 0);
                }
                s.1 += n as u64;
                s.0 + Duration::from_secs_f64(s.1 as f64 / self.rate as f64)
            }
            Err(_) => return,
        };
        tokio::time::sleep_until(due.into()).await;
    }

    fn slice(&self) -> usize {
        // Small enough that a slow rate still moves the bar (and the stall clock) often.
        ((self.rate / 8) as usize).clamp(1024, SLICE)
    }
}

pub struct Tus {
    http: reqwest::Client,
    base: Url,
    endpoint: Url,
    token: Secret,
    /// No bytes accepted by the connection for this long aborts a PATCH.
    pub stall: Duration,
}

impl Tus {
    /// `server` is the mediaserver's base URL; uploads go to `{server}/v1/uploads/`.
    pub fn new(server: &Url, token: Secret) -> Result<Tus, String> {
        let endpoint = server
            .join("v1/uploads/")
            .map_err(|e| format!("--server: {e}"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(15))
            .tcp_keepalive(Duration::from_secs(30))
            .user_agent(concat!("mediaserver-upload/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up HTTP: {e}"))?;
        Ok(Tus {
            http,
            base: server.clone(),
            endpoint,
            token,
            stall: Duration::from_secs(60),
        })
    }

    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    fn request(&self, method: Method, url: &Url) -> reqwest::RequestBuilder {
        self.http
            .request(method, url.clone())
            .bearer_auth(self.token.expose())
            .header(TUS_RESUMABLE, TUS_VERSION)
    }

    /// `OPTIONS`: checks the server speaks tus 1.0.0 and learns its size limit.
    pub async fn discover(&self) -> Result<Discovery, TusError> {
        let r = self
            .http
            .request(Method::OPTIONS, self.endpoint.clone())
            .send()
            .await
            .map_err(|e| transport(&self.endpoint, e))?;
        let versions = header_str(&r, "Tus-Version").unwrap_or_default();
        if !r.status().is_success() || !versions.split(',').any(|v| v.trim() == TUS_VERSION) {
            return Err(TusError::Protocol(format!(
                "{} does not offer tus {TUS_VERSION} uploads (HTTP {}); is --server the \
                 mediaserver's base URL?",
                self.endpoint,
                r.status().as_u16()
            )));
        }
        Ok(Discovery {
            max_size: header_str(&r, "Tus-Max-Size").and_then(|v| v.parse().ok()),
        })
    }

    /// `POST`: creates an upload of `length` bytes and returns its absolute URL.
    pub async fn create(&self, length: u64, metadata: &[(&str, &str)]) -> Result<Url, TusError> {
        let meta = metadata
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} {}",
                    base64::engine::general_purpose::STANDARD.encode(v)
                )
            })
            .collect::<Vec<_>>()
            .join(",");
        let r = self
            .request(Method::POST, &self.endpoint)
            .header(UPLOAD_LENGTH, length)
            .header("Upload-Metadata", meta)
            .send()
            .await
            .map_err(|e| transport(&self.endpoint, e))?;
        let r = check(r, StatusCode::CREATED).await?;
        let location = header_str(&r, header::LOCATION.as_str())
            .ok_or_else(|| TusError::Protocol("201 without a Location header".into()))?;
        self.endpoint
            .join(&location)
            .map_err(|e| TusError::Protocol(format!("Location {location:?}: {e}")))
    }

    /// `HEAD`: the upload's offset (and, once complete, its media item).
    pub async fn head(&self, url: &Url) -> Result<UploadInfo, TusError> {
        let r = self
            .request(Method::HEAD, url)
            .send()
            .await
            .map_err(|e| transport(url, e))?;
        let r = check(r, StatusCode::OK).await?;
        info(&r)
    }

    /// `DELETE` (termination).
    pub async fn terminate(&self, url: &Url) -> Result<(), TusError> {
        let r = self
            .request(Method::DELETE, url)
            .send()
            .await
            .map_err(|e| transport(url, e))?;
        check(r, StatusCode::NO_CONTENT).await.map(drop)
    }

    /// `PATCH`: sends `chunk` at `offset` with its SHA-1, reporting bytes handed to the
    /// connection through `sent` (counted from the chunk's start).
    pub async fn patch(
        &self,
        url: &Url,
        offset: u64,
        chunk: Bytes,
        throttle: Option<Arc<Throttle>>,
        sent: Arc<dyn Fn(u64) + Send + Sync>,
    ) -> Result<UploadInfo, TusError> {
        let checksum = base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(&chunk));
        let len = chunk.len();
        let clock = Instant::now();
        let last_ms = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let slice = throttle.as_ref().map_or(SLICE, |t| t.slice());
        let body = {
            let (last_ms, done) = (last_ms.clone(), done.clone());
            futures::stream::unfold(0usize, move |pos| {
                let (chunk, throttle, sent) = (chunk.clone(), throttle.clone(), sent.clone());
                let (last_ms, done) = (last_ms.clone(), done.clone());
                async move {
                    if pos >= chunk.len() {
                        done.store(true, Ordering::Relaxed);
                        return None;
                    }
                    let end = (pos + slice).min(chunk.len());
                    if let Some(t) = &throttle {
                        t.take(end - pos).await;
                    }
                    last_ms.store(clock.elapsed().as_millis() as u64, Ordering::Relaxed);
                    sent(end as u64);
                    if end == chunk.len() {
                        done.store(true, Ordering::Relaxed);
                    }
                    Some((Ok::<_, std::io::Error>(chunk.slice(pos..end)), end))
                }
            })
        };
        let request = self
            .request(Method::PATCH, url)
            .header(header::CONTENT_TYPE, "application/offset+octet-stream")
            .header(header::CONTENT_LENGTH, len)
            .header(UPLOAD_OFFSET, offset)
            .header("Upload-Checksum", format!("sha1 {checksum}"))
            .body(reqwest::Body::wrap_stream(body))
            .send();
        // A connection that stops taking bytes fails the attempt (the caller re-reads the
        // offset and retries). Once the body is out, the server may take a while to answer
        // the last chunk (it hashes the whole file), so only the sending phase is timed.
        let stall = self.stall;
        let watchdog = async {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let idle = (clock.elapsed().as_millis() as u64)
                    .saturating_sub(last_ms.load(Ordering::Relaxed));
                if !done.load(Ordering::Relaxed) && idle > stall.as_millis() as u64 {
                    return stall.as_secs();
                }
            }
        };
        let r = tokio::select! {
            r = request => r.map_err(|e| transport(url, e))?,
            secs = watchdog => return Err(TusError::Stalled(secs)),
        };
        let r = check(r, StatusCode::NO_CONTENT).await?;
        info(&r)
    }

    /// GET of an API path (relative to the server's base URL) with the token, as JSON.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, TusError> {
        let url = self
            .base
            .join(path.trim_start_matches('/'))
            .map_err(|e| TusError::Protocol(format!("{path}: {e}")))?;
        let r = self
            .http
            .get(url.clone())
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(|e| transport(&url, e))?;
        let r = check(r, StatusCode::OK).await?;
        r.json()
            .await
            .map_err(|e| TusError::Protocol(format!("{url}: the body is not JSON: {e}")))
    }
}

fn header_str(r: &Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn info(r: &Response) -> Result<UploadInfo, TusError> {
    let offset = header_str(r, UPLOAD_OFFSET)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| TusError::Protocol("no valid Upload-Offset in the answer".into()))?;
    Ok(UploadInfo {
        offset,
        length: header_str(r, UPLOAD_LENGTH).and_then(|v| v.parse().ok()),
        media_id: header_str(r, MEDIA_ID).filter(|v| !v.is_empty()),
    })
}

/// `expected` passes; anything else becomes a `Status` error with the server's message.
async fn check(r: Response, expected: StatusCode) -> Result<Response, TusError> {
    if r.status() == expected {
        return Ok(r);
    }
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| {
            let t = text.trim();
            if t.is_empty() || t.len() > 300 {
                status
                    .canonical_reason()
                    .unwrap_or("unexpected status")
                    .to_string()
            } else {
                t.to_string()
            }
        });
    Err(TusError::Status {
        status: status.as_u16(),
        message,
    })
}

/// A reqwest error as ours, with its innermost cause (e.g. "Connection refused") spelled out.
/// Only the URL appears, never request headers, so the token cannot leak through here.
fn transport(url: &Url, e: reqwest::Error) -> TusError {
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if e.is_connect() {
        TusError::Unreachable {
            url: url.origin().ascii_serialization(),
            cause,
        }
    } else {
        TusError::Transport {
            url: url.to_string(),
            cause,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_policy() {
        let st = |status| TusError::Status {
            status,
            message: String::new(),
        };
        for s in [409, 423, 460, 500, 502, 503] {
            assert!(st(s).retryable(), "{s}");
        }
        for s in [400, 401, 403, 404, 410, 413, 415] {
            assert!(!st(s).retryable(), "{s}");
        }
        assert!(TusError::Stalled(60).retryable());
        assert!(!TusError::Protocol("x".into()).retryable());
    }

    #[tokio::test]
    async fn throttle_holds_the_rate() {
        let t = Throttle::new(400_000);
        let start = Instant::now();
        for _ in 0..10 {
            t.take(40_000).await;
        }
        // 400 kB at 400 kB/s.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(700), "{took:?}");
        assert!(took < Duration::from_millis(3000), "{took:?}");
    }
}
