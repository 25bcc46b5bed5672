//! The one way this crate runs a subprocess: kill-on-drop, no stdin, a deadline, a cancellation
//! hook, and only a bounded tail of stderr kept (ffmpeg can log megabytes on a corrupt input).

use crate::error::{MediaError, Result};
use std::collections::VecDeque;
use std::ffi::OsStr;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How much of stderr is kept for error messages.
pub const STDERR_TAIL_BYTES: usize = 2048;

/// The time and cancellation budget shared by every subprocess of one operation: a transcode
/// runs several, and its timeout bounds them together.
#[derive(Debug, Clone)]
pub struct Budget {
    deadline: Instant,
    total: Duration,
    cancel: CancellationToken,
    /// Added to the child's niceness (0: the worker's own priority).
    nice: i32,
}

impl Budget {
    pub fn new(timeout: Duration, cancel: CancellationToken) -> Self {
        let now = Instant::now();
        // A timeout too large to add (Duration::MAX as "no limit") means "far away".
        let deadline = now
            .checked_add(timeout)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        Budget {
            deadline,
            total: timeout,
            cancel,
            nice: 0,
        }
    }

    /// The same budget for subprocesses that yield the CPU to others (`nice`): work that runs
    /// beside what a player waits for.
    pub fn niced(&self, nice: i32) -> Self {
        Budget {
            nice,
            ..self.clone()
        }
    }

    /// Fails fast when the budget is already spent, so a later step does not start at all.
    pub fn check(&self, what: &str) -> Result<()> {
        if self.cancel.is_cancelled() {
            return Err(MediaError::Cancelled);
        }
        if Instant::now() >= self.deadline {
            return Err(self.timeout(what));
        }
        Ok(())
    }

    fn timeout(&self, what: &str) -> MediaError {
        MediaError::Timeout {
            what: what.to_string(),
            after: self.total,
        }
    }
}

/// A subprocess that ran to its end (whatever its exit status).
#[derive(Debug)]
pub struct Finished {
    pub program: String,
    pub status: ExitStatus,
    pub stderr_tail: String,
    /// CPU seconds (user + system, every thread) the child used, read from the kernel's
    /// accounting once its output ended and before it was reaped; `None` where that is not
    /// available.
    pub cpu_seconds: Option<f64>,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    pub fn into_error(self) -> MediaError {
        MediaError::Subprocess {
            program: self.program,
            status: self.status.code(),
            stderr_tail: self.stderr_tail.into(),
        }
    }
}

/// Runs `program args…`, feeding stdout chunks to `on_stdout` as they arrive.
///
/// Returns `Ok(Finished)` for any exit status (callers classify failures: some are the input's
/// fault), `Timeout` when the budget's deadline passes and `Cancelled` when its token fires; in
/// both of those cases the child is killed and reaped before returning. Dropping the returned
/// future kills the child too (`kill_on_drop`).
pub async fn run<I, S>(
    program: &str,
    args: I,
    what: &str,
    budget: &Budget,
    on_stdout: impl FnMut(&[u8]) + Send,
) -> Result<Finished>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_keeping(program, args, what, budget, STDERR_TAIL_BYTES, on_stdout).await
}

/// [`run`], keeping the last `tail_bytes` of stderr: for a run whose result is what it logs
/// (several encoders' summaries).
pub async fn run_keeping<I, S>(
    program: &str,
    args: I,
    what: &str,
    budget: &Budget,
    tail_bytes: usize,
    mut on_stdout: impl FnMut(&[u8]) + Send,
) -> Result<Finished>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    budget.check(what)?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Plain text in error messages even when a terminal-ish environment is inherited.
        .env("AV_LOG_FORCE_NOCOLOR", "1")
        .kill_on_drop(true);
    die_with_parent(&mut cmd, budget.nice);
    tracing::debug!(program, what, "spawning subprocess");
    let mut child = cmd
        .spawn()
        .map_err(|e| MediaError::io_context(e.kind(), format!("cannot start {program}"), e))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let mut tail = Tail::new(tail_bytes);

    enum Outcome {
        Exited(std::io::Result<(ExitStatus, Option<f64>)>),
        TimedOut,
        Cancelled,
    }
    let outcome = {
        let tail = &mut tail;
        let child = &mut child;
        let work = async move {
            // Read both pipes to EOF before waiting, or a chatty child blocks on a full pipe.
            tokio::join!(
                pump(stdout, |chunk| on_stdout(chunk)),
                pump(stderr, |chunk| tail.push(chunk)),
            );
            // Both pipes closed: the child has exited (or is exiting), and is not reaped until
            // `wait`, so its pid still names it.
            let cpu = child.id().and_then(cpu_seconds);
            child.wait().await.map(|status| (status, cpu))
        };
        tokio::select! {
            biased;
            _ = budget.cancel.cancelled() => Outcome::Cancelled,
            _ = tokio::time::sleep_until(budget.deadline) => Outcome::TimedOut,
            status = work => Outcome::Exited(status),
        }
    };
    match outcome {
        Outcome::Exited(exited) => {
            let (status, cpu_seconds) = exited?;
            Ok(Finished {
                program: program.to_string(),
                status,
                stderr_tail: tail.into_string(),
                cpu_seconds,
            })
        }
        Outcome::TimedOut => {
            kill(&mut child, program).await;
            Err(budget.timeout(what))
        }
        Outcome::Cancelled => {
            kill(&mut child, program).await;
            Err(MediaError::Cancelled)
        }
    }
}

/// Kills and reaps, so that no process outlives the error we return.
async fn kill(child: &mut tokio::process::Child, program: &str) {
    if let Err(e) = child.kill().await {
        // Already gone is the only expected case; nothing else we could do anyway.
        tracing::debug!(program, error = %e, "killing subprocess");
    }
}

async fn pump<R: AsyncRead + Unpin>(reader: Option<R>, mut sink: impl FnMut(&[u8])) {
    let Some(mut reader) = reader else { return };
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => sink(&buf[..n]),
            // A broken pipe leaves us with less diagnostics, not a different outcome: the exit
            // status still decides.
            Err(_) => break,
        }
    }
}

/// A byte ring buffer keeping the last `cap` bytes.
struct Tail {
    buf: VecDeque<u8>,
    cap: usize,
    truncated: bool,
}

impl Tail {
    fn new(cap: usize) -> Self {
        Tail {
            buf: VecDeque::with_capacity(cap),
            cap,
            truncated: false,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        let chunk = if chunk.len() > self.cap {
            self.truncated = true;
            &chunk[chunk.len() - self.cap..]
        } else {
            chunk
        };
        let overflow = (self.buf.len() + chunk.len()).saturating_sub(self.cap);
        if overflow > 0 {
            self.truncated = true;
            self.buf.drain(..overflow);
        }
        self.buf.extend(chunk);
    }

    fn into_string(self) -> String {
        let bytes: Vec<u8> = self.buf.into();
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if self.truncated {
            // Start at a line boundary so the message does not open mid-word.
            if let Some(i) = text.find('\n') {
                text.drain(..=i);
            }
        }
        redact_url_queries(text.trim())
    }
}

/// A presigned URL's query string is a credential (a chunk reads its range of the original
/// through one), and ffmpeg quotes its input URL in errors: the tail keeps a URL's scheme,
/// host and path only, so no signature reaches a log line or an error.
fn redact_url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, url) = rest.split_at(at);
        out.push_str(head);
        let end = url
            .find(|c: char| c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(url.len());
        let (url, after) = url.split_at(end);
        match url.find('?') {
            Some(q) => {
                out.push_str(&url[..q]);
                out.push_str("?<redacted>");
                // ffmpeg ends the quoted name with `:` before its message.
                if url.ends_with(':') {
                    out.push(':');
                }
            }
            None => out.push_str(url),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Collects stdout up to `limit` bytes; `overflowed` tells whether more was dropped.
#[derive(Debug, Default)]
pub struct Collect {
    pub bytes: Vec<u8>,
    pub overflowed: bool,
    limit: usize,
}

impl Collect {
    pub fn new(limit: usize) -> Self {
        Collect {
            bytes: Vec::new(),
            overflowed: false,
            limit,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        let room = self.limit.saturating_sub(self.bytes.len());
        if chunk.len() > room {
            self.overflowed = true;
        }
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
}

/// User + system CPU seconds of process `pid` (all its threads) from `/proc/{pid}/stat`.
#[cfg(target_os = "linux")]
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    #[allow(unsafe_code)]
    // SAFETY: sysconf only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    parse_stat_cpu(&stat, ticks)
}

#[cfg(not(target_os = "linux"))]
fn cpu_seconds(_pid: u32) -> Option<f64> {
    None
}

/// utime + stime (fields 14 and 15, in clock ticks) of a `/proc/{pid}/stat` line, in seconds.
/// The command name (field 2) is in parentheses and may hold spaces: fields are counted after
/// its closing one.
fn parse_stat_cpu(stat: &str, ticks_per_second: i64) -> Option<f64> {
    if ticks_per_second <= 0 {
        return None;
    }
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / ticks_per_second as f64)
}

/// kill_on_drop covers every way our process lets go of a child except its own sudden death
/// (SIGKILL, OOM killer). Ask the kernel to kill the child then too, so an encoder never runs on
/// for a worker that is gone and whose job another worker has taken over.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // `pre_exec` is unsafe by signature; see SAFETY below.
fn die_with_parent(cmd: &mut tokio::process::Command, nice: i32) {
    // SAFETY: the closure runs in the forked child before exec and only calls prctl and
    // setpriority, which are async-signal-safe; it allocates nothing and touches no shared
    // state.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // Best effort: a child at the worker's priority still works.
            if nice > 0 {
                let _ = libc::setpriority(libc::PRIO_PROCESS, 0, nice);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_cmd: &mut tokio::process::Command, _nice: i32) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_from_proc_stat() {
        let stat = "4242 (ffmpeg (x) 1) S 1 4242 4242 0 -1 4194304 900 0 0 0 250 50 0 0 20 0 3 0";
        assert_eq!(parse_stat_cpu(stat, 100), Some(3.0));
        assert_eq!(parse_stat_cpu("garbage", 100), None);
        assert_eq!(parse_stat_cpu(stat, 0), None);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_busy_child_reports_its_cpu_time() {
        let budget = Budget::new(Duration::from_secs(60), CancellationToken::new());
        let busy = run(
            "sh",
            ["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"],
            "busy loop",
            &budget,
            |_| {},
        )
        .await
        .unwrap();
        assert!(busy.success());
        let cpu = busy.cpu_seconds.unwrap();
        assert!(cpu > 0.0, "{cpu}");
    }

    #[test]
    fn tail_keeps_the_last_bytes_from_a_line_start() {
        let mut t = Tail::new(16);
        t.push(b"first line\nsecond line\nthird\n");
        assert_eq!(t.into_string(), "third");
        let mut t = Tail::new(64);
        t.push(b"a\n");
        t.push(b"b\n");
        assert_eq!(t.into_string(), "a\nb");
    }

    #[test]
    fn a_presigned_urls_query_never_leaves_the_tail() {
        let mut t = Tail::new(512);
        t.push(b"https://bucket.example/originals/x/a.mp4?X-Amz-Signature=abc&X-Amz-Credential=k: Server returned 403 Forbidden\n");
        t.push(b"[tls] http://h/p?sig=s 'https://h/q?token=t' done\n");
        let text = t.into_string();
        assert!(
            !text.contains("abc") && !text.contains("sig=s") && !text.contains("token=t"),
            "{text}"
        );
        assert_eq!(
            text,
            "https://bucket.example/originals/x/a.mp4?<redacted>: Server returned 403 Forbidden\n\
             [tls] http://h/p?<redacted> 'https://h/q?<redacted>' done"
        );
    }

    #[test]
    fn collect_is_bounded() {
        let mut c = Collect::new(4);
        c.push(b"ab");
        c.push(b"cdef");
        assert_eq!(c.bytes, b"abcd");
        assert!(c.overflowed);
    }

    #[tokio::test]
    async fn runs_and_reports_status_and_stderr() {
        let budget = Budget::new(Duration::from_secs(10), CancellationToken::new());
        let mut out = Vec::new();
        let f = run(
            "sh",
            ["-c", "echo hello; echo oops >&2; exit 3"],
            "sh",
            &budget,
            |c| out.extend_from_slice(c),
        )
        .await
        .unwrap();
        assert_eq!(out, b"hello\n");
        assert_eq!(f.status.code(), Some(3));
        assert_eq!(f.stderr_tail, "oops");
        assert!(matches!(
            f.into_error(),
            MediaError::Subprocess {
                status: Some(3),
                ..
            }
        ));
    }

    #[tokio::test]
    async fn timeout_kills() {
        let budget = Budget::new(Duration::from_millis(200), CancellationToken::new());
        let started = std::time::Instant::now();
        let err = run("sleep", ["30"], "sleep", &budget, |_| {})
            .await
            .unwrap_err();
        assert!(matches!(err, MediaError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn cancellation_kills() {
        let token = CancellationToken::new();
        let budget = Budget::new(Duration::from_secs(30), token.clone());
        let t = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            t.cancel();
        });
        let err = run("sleep", ["30"], "sleep", &budget, |_| {})
            .await
            .unwrap_err();
        assert!(matches!(err, MediaError::Cancelled), "{err}");
    }

    #[tokio::test]
    async fn missing_program_is_io() {
        let budget = Budget::new(Duration::from_secs(1), CancellationToken::new());
        let err = run("definitely-not-a-program-xyz", ["a"], "x", &budget, |_| {})
            .await
            .unwrap_err();
        assert!(matches!(err, MediaError::Io(_)), "{err}");
    }
}
