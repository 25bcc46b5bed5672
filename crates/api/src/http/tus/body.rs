//! tus request bodies on their way to storage: the checksum extension's digests and the
//! guard that stops a body running past `Upload-Length`.

use crate::error::{ApiError, ApiResult};
use base64::Engine;
use bytes::Bytes;
use futures::Stream;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Algorithms accepted in `Upload-Checksum` (advertised in `Tus-Checksum-Algorithm`).
pub(super) const CHECKSUMS: &str = "sha1,sha256,md5";

pub(super) struct Checksum {
    pub(super) algorithm: &'static str,
    pub(super) digest: Vec<u8>,
}

impl Checksum {
    pub(super) fn parse(v: &str) -> ApiResult<Self> {
        let (alg, b64) = v.split_once(' ').ok_or_else(|| {
            ApiError::BadRequest("Upload-Checksum: expected '<algorithm> <base64 digest>'".into())
        })?;
        let algorithm = match alg.to_ascii_lowercase().as_str() {
            "sha1" => "sha1",
            "sha256" => "sha256",
            "md5" => "md5",
            other => {
                return Err(ApiError::BadRequest(format!(
                    "Upload-Checksum: unsupported algorithm '{other}'; use one of {CHECKSUMS}"
                )))
            }
        };
        let digest = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| {
                ApiError::BadRequest("Upload-Checksum: the digest is not valid base64".into())
            })?;
        Ok(Checksum { algorithm, digest })
    }

    pub(super) fn hasher(&self) -> Hasher {
        use sha1::Digest as _;
        match self.algorithm {
            "sha1" => Hasher::Sha1(sha1::Sha1::new()),
            "sha256" => Hasher::Sha256(sha2::Sha256::new()),
            _ => Hasher::Md5(md5::Md5::new()),
        }
    }
}

pub(super) enum Hasher {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Md5(md5::Md5),
}

impl Hasher {
    pub(super) fn update(&mut self, data: &[u8]) {
        use sha1::Digest as _;
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Md5(h) => h.update(data),
        }
    }

    pub(super) fn finish(self) -> Vec<u8> {
        use sha1::Digest as _;
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Md5(h) => h.finalize().to_vec(),
        }
    }
}

/// The request body on its way to storage: hashed for Upload-Checksum, and cut off (with an
/// error, so nothing is recorded) if it runs past Upload-Length.
pub(super) struct Metered {
    pub(super) inner: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
    pub(super) left: u64,
    pub(super) digest: Arc<Mutex<Option<Hasher>>>,
    /// The upload's running SHA-256 (see `hashes`), if this process has it.
    pub(super) running: Arc<Mutex<Option<sha2::Sha256>>>,
    pub(super) too_long: Arc<std::sync::atomic::AtomicBool>,
}

impl Stream for Metered {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if chunk.len() as u64 > self.left {
                    self.too_long
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    return Poll::Ready(Some(Err(std::io::Error::other(
                        "body longer than Upload-Length",
                    ))));
                }
                self.left -= chunk.len() as u64;
                if let Ok(mut d) = self.digest.lock() {
                    if let Some(h) = d.as_mut() {
                        h.update(&chunk);
                    }
                }
                if let Ok(mut r) = self.running.lock() {
                    if let Some(h) = r.as_mut() {
                        sha2::Digest::update(h, &chunk);
                    }
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            other => other,
        }
    }
}
