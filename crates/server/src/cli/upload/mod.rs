//! `mediaserver upload FILE... --server URL`: resumable uploads over the server's tus endpoint
//! with a progress bar per file; remembers unfinished uploads so running the same command again
//! continues from the server's offset; `--wait` follows processing to the playback URLs.

mod progress;
mod state;
mod tus;
mod wait;

use bytes::Bytes;
use mediaserver_core::Secret;
use progress::{FileProgress, Mode};
use state::{FileKey, Store};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tus::{Throttle, Tus, TusError, UploadInfo};
use url::Url;
use wait::Uploaded;

const EXAMPLES: &str = "\
Examples:
  # An API key does not expire mid-upload (access tokens do); create one once (scopes: upload,
  # and read for --wait; without expires_in_seconds it never expires; revoke it in Settings):
  #   curl -X POST http://localhost:3000/v1/api-keys -H \"authorization: Bearer $ACCESS_TOKEN\" \\
  #     -H 'content-type: application/json' -d '{\"name\":\"uploads\",\"scopes\":[\"upload\",\"read\"]}'
  export MEDIASERVER_TOKEN=msk_...

  mediaserver upload --server http://localhost:3000 holiday.mp4 song.flac photo.jpg
  mediaserver upload --server https://media.example.com --wait clip.mp4
  mediaserver upload --server http://localhost:3000 --json --chunk-size 32M big.mov | jq .media_id
  mediaserver upload --server http://localhost:3000 --limit-rate 2M big.mov   # Ctrl-C, then run again to resume

Output: one line per file on stdout, `FILE<TAB>MEDIA_ID`; with --wait `FILE<TAB>MEDIA_ID<TAB>STATUS`
followed by indented `LABEL<TAB>URL` lines (hls, dash, play = HLS with a one-hour playback token,
thumbnail, image variants). --json prints one JSON object per file instead.

Exit codes: 0 every file uploaded (and with --wait, ready), 1 some file failed, 2 usage or
configuration error (bad option, no token, token refused), 130 interrupted.";

/// Options of `mediaserver upload` (its description is on the subcommand in cli/mod.rs).
#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct UploadArgs {
    /// Files to upload: images, video or audio (the server decides the kind from the bytes).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The server's base URL (`mediaserver serve` listens on port 3000 by default).
    #[arg(
        long,
        env = "MEDIASERVER_URL",
        value_name = "URL",
        default_value = "http://localhost:3000",
        value_parser = parse_server
    )]
    server: Url,
    /// Bearer token: an API key (POST /v1/api-keys; lasts until revoked or its expiry) or an access token from
    /// /v1/auth/login. Prefer the environment variable: it stays out of shell history and `ps`.
    #[arg(
        long,
        env = "MEDIASERVER_TOKEN",
        hide_env_values = true,
        value_name = "T"
    )]
    token: Option<String>,
    /// Title of the item (one FILE only; default: the file name).
    #[arg(long)]
    title: Option<String>,
    /// Wait until each item is processed, then print its playback URLs; a failed item
    /// prints its reason and makes the exit code 1.
    #[arg(long)]
    wait: bool,
    /// Print one JSON object per file on stdout instead of text.
    #[arg(long)]
    json: bool,
    /// Bytes per request; a failure costs at most one chunk. Suffixes K, M, G (powers of 1024).
    #[arg(long, default_value = "8M", value_name = "SIZE", value_parser = parse_size)]
    chunk_size: u64,
    /// Cap the upload rate in bytes per second, e.g. 500K or 10M.
    #[arg(long, value_name = "RATE", value_parser = parse_size)]
    limit_rate: Option<u64>,
    /// Retries of a failed chunk, each after re-reading the server's offset (backoff 1 s, 2 s,
    /// 4 s … up to 30 s).
    #[arg(long, default_value_t = 6, value_name = "N")]
    retries: u32,
    /// File remembering unfinished uploads [default: $XDG_STATE_HOME/mediaserver/uploads.json
    /// or ~/.local/state/mediaserver/uploads.json].
    #[arg(long, env = "MEDIASERVER_UPLOAD_STATE", value_name = "PATH")]
    state_file: Option<PathBuf>,
    /// No progress on stderr (errors still show).
    #[arg(short, long)]
    quiet: bool,
}

fn parse_server(s: &str) -> Result<Url, String> {
    let mut url =
        Url::parse(s).map_err(|e| format!("not a URL ({e}); e.g. http://localhost:3000"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must be the server's base URL, without ?query or #fragment".into());
    }
    // A base under a path prefix (behind a proxy) keeps the prefix when joined with.
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// `8M`, `512K`, `1.5G`, `1048576`, also `KB`/`KiB` spellings (all powers of 1024).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a size such as 8M, 512K or 1048576"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("{s:?}: unknown unit {other:?}; use K, M or G")),
    };
    let v = (n * mult as f64) as u64;
    if v == 0 {
        return Err(format!("{s:?}: must be at least 1 byte"));
    }
    Ok(v)
}

/// Runs the command on its own runtime; Ctrl-C leaves the uploads resumable.
pub fn main(args: UploadArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        tokio::select! {
            code = run(args) => code,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("\ninterrupted: run the same command again to resume where the server left off");
                ExitCode::from(130)
            }
        }
    })
}

/// Why a file did not upload.
enum Failure {
    /// This file only; the others go on.
    File(String),
    /// Every file would fail the same way (the token): stop, exit code 2.
    Config(String),
}

struct Run {
    tus: Tus,
    store: Store,
    mode: Mode,
    chunk_size: u64,
    retries: u32,
    throttle: Option<Arc<Throttle>>,
    max_size: Option<u64>,
    title: Option<String>,
}

async fn run(args: UploadArgs) -> ExitCode {
    let token = match args.token.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => Secret::new(t),
        _ => {
            eprintln!(
                "error: no token: pass --token or set MEDIASERVER_TOKEN (an API key from \
                 POST /v1/api-keys works and lasts until revoked or its expiry)"
            );
            return ExitCode::from(2);
        }
    };
    if args.title.is_some() && args.files.len() > 1 {
        eprintln!(
            "error: --title applies to a single FILE; {} were given",
            args.files.len()
        );
        return ExitCode::from(2);
    }
    let mode = Mode::detect(args.quiet);
    let store = Store::new(args.state_file.clone().or_else(Store::default_path));
    if store.path().is_none() {
        eprintln!(
            "warning: no place for the resume file (set HOME or XDG_STATE_HOME, or pass \
             --state-file); an interrupted upload will start over"
        );
    }
    let tus = match Tus::new(&args.server, token) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let discovery = match tus.discover().await {
        Ok(d) => d,
        Err(e @ TusError::Protocol(_)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let run = Run {
        tus,
        store,
        mode,
        chunk_size: args.chunk_size,
        retries: args.retries,
        throttle: args.limit_rate.map(|r| Arc::new(Throttle::new(r))),
        max_size: discovery.max_size,
        title: args.title.clone(),
    };

    let mut uploaded = Vec::new();
    let mut failed = false;
    for file in &args.files {
        let name = file.display().to_string();
        match run.upload(file).await {
            Ok(media_id) => {
                let u = Uploaded {
                    file: name,
                    media_id,
                };
                if !args.wait {
                    wait::print_uploaded(&u, args.json);
                } else if !args.json {
                    // The id right away (the URLs follow once processed).
                    eprintln!("{}: uploaded as {}", u.file, u.media_id);
                }
                uploaded.push(u);
            }
            Err(Failure::File(why)) => {
                eprintln!("error: {name}: {why}");
                wait::print_failed(&name, &why, args.json);
                failed = true;
            }
            Err(Failure::Config(why)) => {
                eprintln!("error: {why}");
                wait::print_failed(&name, &why, args.json);
                return ExitCode::from(2);
            }
        }
    }
    if args.wait
        && !uploaded.is_empty()
        && !wait::wait_all(&run.tus, &args.server, &uploaded, mode, args.json).await
    {
        failed = true;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Errors that concern the token rather than the file.
fn auth_failure(e: &TusError) -> Option<Failure> {
    match e.status() {
        Some(401) => Some(Failure::Config(format!(
            "the server refused the token: {e}. Pass a valid one with --token or set \
             MEDIASERVER_TOKEN; access tokens from /v1/auth/login expire after minutes, \
             an API key (POST /v1/api-keys) lasts until revoked or its expiry"
        ))),
        Some(403) => Some(Failure::Config(format!(
            "this token may not upload (an API key needs the `upload` scope): {e}"
        ))),
        _ => None,
    }
}

impl Run {
    async fn upload(&self, file: &std::path::Path) -> Result<String, Failure> {
        let fail = |m: String| Failure::File(m);
        let canonical = std::fs::canonicalize(file).map_err(|e| fail(e.to_string()))?;
        let meta = std::fs::metadata(&canonical).map_err(|e| fail(e.to_string()))?;
        if !meta.is_file() {
            return Err(fail("not a regular file".into()));
        }
        let size = meta.len();
        if size == 0 {
            return Err(fail("the file is empty".into()));
        }
        if let Some(max) = self.max_size.filter(|m| size > *m) {
            return Err(fail(format!(
                "the file is {} ({size} bytes); this server accepts at most {} ({max} bytes, \
                 its MAX_UPLOAD_BYTES)",
                indicatif::BinaryBytes(size),
                indicatif::BinaryBytes(max)
            )));
        }
        let name = file.display().to_string();
        let key = FileKey::for_file(self.tus.endpoint().as_str(), &canonical, &meta);
        let progress = Arc::new(FileProgress::new(self.mode, &name, size));

        let (url, start) = match self.resume(&key, size, &progress).await? {
            Resume::Done(media_id) => {
                progress.start_at(size);
                progress.done();
                return Ok(media_id);
            }
            Resume::At(url, offset) => (url, offset),
            Resume::New => {
                let filename = canonical
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "upload".into());
                let mut metadata = vec![("filename", filename.as_str())];
                if let Some(t) = &self.title {
                    metadata.push(("title", t.as_str()));
                }
                let url = self
                    .tus
                    .create(size, &metadata)
                    .await
                    .map_err(|e| auth_failure(&e).unwrap_or_else(|| fail(e.to_string())))?;
                if let Err(e) = self.store.put(&key, url.as_str()) {
                    progress.notice(&format!("warning: cannot remember the upload: {e}"));
                }
                (url, 0)
            }
        };

        progress.start_at(start);
        match self.send(&canonical, &url, size, start, &progress).await {
            Ok(media_id) => {
                progress.done();
                let _ = self.store.remove(&key);
                Ok(media_id)
            }
            Err(e) => {
                progress.failed();
                if let Some(f) = auth_failure(&e) {
                    return Err(f);
                }
                // Uploads the server has dropped cannot be resumed; forget them.
                let gone = matches!(e.status(), Some(404 | 410 | 413 | 415));
                if gone {
                    let _ = self.store.remove(&key);
                }
                Err(fail(match e.status() {
                    Some(404 | 410) => format!(
                        "the upload is gone from the server (expired or removed): {e}; run \
                         again to start over"
                    ),
                    Some(415) => format!("not accepted as media: {e}"),
                    _ if gone || !e.retryable() => e.to_string(),
                    _ => format!(
                        "{e}; gave up after {} retries. Run the same command again to resume",
                        self.retries
                    ),
                }))
            }
        }
    }

    /// An earlier, unfinished upload of this file, if the server still has it.
    async fn resume(
        &self,
        key: &FileKey,
        size: u64,
        progress: &FileProgress,
    ) -> Result<Resume, Failure> {
        let recorded = match self.store.find(key) {
            Ok(r) => r,
            Err(e) => {
                progress.notice(&format!("warning: {e}"));
                None
            }
        };
        let Some(url) = recorded.and_then(|u| Url::parse(&u).ok()) else {
            return Ok(Resume::New);
        };
        match self.tus.head(&url).await {
            Ok(UploadInfo {
                media_id: Some(id), ..
            }) => {
                progress.notice("already uploaded (finished before the last run stopped)");
                let _ = self.store.remove(key);
                Ok(Resume::Done(id))
            }
            Ok(info) if info.length.is_none_or(|l| l == size) && info.offset < size => {
                progress.notice(&format!(
                    "resuming at {} bytes ({}%)",
                    info.offset,
                    info.offset * 100 / size
                ));
                Ok(Resume::At(url, info.offset))
            }
            Ok(_) => {
                progress.notice("the earlier upload does not match the file; starting over");
                let _ = self.tus.terminate(&url).await;
                let _ = self.store.remove(key);
                Ok(Resume::New)
            }
            Err(e) if matches!(e.status(), Some(404 | 410)) => {
                progress.notice(
                    "the earlier upload is gone from the server (expired or removed); starting over",
                );
                let _ = self.store.remove(key);
                Ok(Resume::New)
            }
            Err(e) => Err(auth_failure(&e).unwrap_or_else(|| {
                Failure::File(format!("cannot resume the earlier upload: {e}"))
            })),
        }
    }

    /// Sends the file from `offset` in chunks; returns the media id. A failed chunk is retried
    /// (with backoff) from the offset the server then reports.
    async fn send(
        &self,
        path: &std::path::Path,
        url: &Url,
        size: u64,
        mut offset: u64,
        progress: &Arc<FileProgress>,
    ) -> Result<String, TusError> {
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| TusError::Local(format!("opening the file: {e}")))?;
        let mut failures = 0u32;
        let mut reread = false;
        loop {
            let step: Result<Option<String>, TusError> = async {
                if reread || offset >= size {
                    let info = self.tus.head(url).await?;
                    if let Some(id) = info.media_id {
                        return Ok(Some(id));
                    }
                    if info.offset >= size {
                        return Err(TusError::Protocol(
                            "every byte was acknowledged but the upload did not complete".into(),
                        ));
                    }
                    offset = info.offset;
                    progress.set(offset);
                    reread = false;
                }
                let len = self.chunk_size.min(size - offset) as usize;
                let chunk = read_chunk(&mut file, offset, len).await?;
                let (base, p) = (offset, progress.clone());
                let sent: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |n| p.set(base + n));
                let info = self
                    .tus
                    .patch(url, offset, chunk, self.throttle.clone(), sent)
                    .await?;
                if info.offset <= offset {
                    return Err(TusError::Protocol(format!(
                        "the server did not advance the offset ({} after sending from {offset})",
                        info.offset
                    )));
                }
                offset = info.offset;
                progress.set(offset);
                Ok(info.media_id)
            }
            .await;
            match step {
                Ok(Some(id)) => return Ok(id),
                Ok(None) => failures = 0,
                Err(e) if e.retryable() && failures < self.retries => {
                    failures += 1;
                    let delay = Duration::from_secs((1u64 << (failures - 1).min(5)).min(30));
                    progress.notice(&format!(
                        "{e}; retrying in {} s ({failures}/{})",
                        delay.as_secs(),
                        self.retries
                    ));
                    tokio::time::sleep(delay).await;
                    reread = true;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

enum Resume {
    New,
    At(Url, u64),
    Done(String),
}

async fn read_chunk(
    file: &mut tokio::fs::File,
    offset: u64,
    len: usize,
) -> Result<Bytes, TusError> {
    let io = |e: std::io::Error| {
        TusError::Local(format!(
            "reading the file at byte {offset}: {e} (did it change during the upload?)"
        ))
    };
    file.seek(std::io::SeekFrom::Start(offset))
        .await
        .map_err(io)?;
    let mut buf = vec![0u8; len];
    file.read_exact(&mut buf).await.map_err(io)?;
    Ok(Bytes::from(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8M"), Ok(8 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        for bad in ["", "M", "0", "5X", "-1M"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_urls_keep_their_prefix() {
        let u = parse_server("http://localhost:3000").unwrap();
        assert_eq!(
            u.join("v1/uploads/").unwrap().as_str(),
            "http://localhost:3000/v1/uploads/"
        );
        let u = parse_server("https://example.com/media").unwrap();
        assert_eq!(
            u.join("v1/uploads/").unwrap().as_str(),
            "https://example.com/media/v1/uploads/"
        );
        assert_eq!(
            wait::absolute(&u, "/v1/media/x/hls/master.m3u8"),
            "https://example.com/media/v1/media/x/hls/master.m3u8"
        );
        for bad in ["localhost:3000", "ftp://h/", "http://h/?a=1", "not a url"] {
            assert!(parse_server(bad).is_err(), "{bad}");
        }
    }
}
