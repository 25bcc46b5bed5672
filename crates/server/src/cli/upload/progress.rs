//! Progress on stderr: an indicatif bar per file on a terminal (as `mediaserver transcode`
//! does), plain lines every few seconds otherwise (logs, CI), nothing with `--quiet`.

use indicatif::{BinaryBytes, HumanDuration, MultiProgress, ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Plain lines are at most this frequent.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Bar,
    Plain,
    Quiet,
}

impl Mode {
    pub fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Plain
        }
    }
}

/// Shortens a file name for the bar's label.
fn label(name: &str) -> String {
    const MAX: usize = 32;
    if name.chars().count() <= MAX {
        return name.to_string();
    }
    let tail: String = name
        .chars()
        .rev()
        .take(MAX - 1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

struct Plain {
    started: Instant,
    start_pos: u64,
    pos: u64,
    last_line: Instant,
}

/// One file's upload progress.
pub struct FileProgress {
    mode: Mode,
    name: String,
    total: u64,
    bar: Option<ProgressBar>,
    plain: Mutex<Plain>,
}

impl FileProgress {
    pub fn new(mode: Mode, name: &str, total: u64) -> FileProgress {
        let bar = (mode == Mode::Bar).then(|| {
            let b = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
            ) {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_message(label(name));
            b
        });
        FileProgress {
            mode,
            name: name.to_string(),
            total,
            bar,
            plain: Mutex::new(Plain {
                started: Instant::now(),
                start_pos: 0,
                pos: 0,
                last_line: Instant::now(),
            }),
        }
    }

    /// Where this run starts (a resumed upload starts past 0); rate and ETA count from here.
    pub fn start_at(&self, pos: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
            b.reset_eta();
        }
        if let Ok(mut p) = self.plain.lock() {
            p.started = Instant::now();
            p.start_pos = pos;
            p.pos = pos;
            p.last_line = Instant::now();
        }
    }

    /// Bytes of the file handed to the server so far (may go back after a failed chunk).
    pub fn set(&self, pos: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
            return;
        }
        if self.mode != Mode::Plain {
            return;
        }
        let Ok(mut p) = self.plain.lock() else { return };
        p.pos = pos;
        if p.last_line.elapsed() >= PLAIN_EVERY && pos < self.total {
            p.last_line = Instant::now();
            let secs = p.started.elapsed().as_secs_f64().max(0.001);
            let rate = (pos.saturating_sub(p.start_pos)) as f64 / secs;
            let eta = if rate > 0.0 {
                format!(
                    ", ETA {}",
                    HumanDuration(Duration::from_secs_f64((self.total - pos) as f64 / rate))
                )
            } else {
                String::new()
            };
            eprintln!(
                "{}: {} of {} ({}%), {}/s{eta}",
                self.name,
                BinaryBytes(pos),
                BinaryBytes(self.total),
                pos * 100 / self.total.max(1),
                BinaryBytes(rate as u64),
            );
        }
    }

    /// A message about this file (above the bar on a terminal).
    pub fn notice(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.println(format!("{}: {msg}", self.name)),
            None if self.mode == Mode::Plain => eprintln!("{}: {msg}", self.name),
            None => {}
        }
    }

    pub fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish();
            return;
        }
        if self.mode == Mode::Plain {
            if let Ok(p) = self.plain.lock() {
                let took = p.started.elapsed();
                let rate =
                    (self.total.saturating_sub(p.start_pos)) as f64 / took.as_secs_f64().max(0.001);
                eprintln!(
                    "{}: uploaded {} in {} ({}/s)",
                    self.name,
                    BinaryBytes(self.total),
                    HumanDuration(took),
                    BinaryBytes(rate as u64)
                );
            }
        }
    }

    pub fn failed(&self) {
        if let Some(b) = &self.bar {
            b.abandon();
        }
    }
}

/// Processing progress of the items `--wait` is waiting for.
pub struct WaitProgress {
    mode: Mode,
    multi: MultiProgress,
    bars: Vec<Option<ProgressBar>>,
    last: Vec<Option<(String, i64)>>,
}

impl WaitProgress {
    pub fn new(mode: Mode, names: &[String]) -> WaitProgress {
        let multi = MultiProgress::new();
        let bars = names
            .iter()
            .map(|n| {
                (mode == Mode::Bar).then(|| {
                    let b = multi.add(ProgressBar::new(100));
                    if let Ok(style) =
                        ProgressStyle::with_template("{prefix} [{bar:30}] {pos:>3}% {msg}")
                    {
                        b.set_style(style.progress_chars("=> "));
                    }
                    b.set_prefix(label(n));
                    b.set_message("waiting");
                    b
                })
            })
            .collect();
        WaitProgress {
            mode,
            multi,
            bars,
            last: vec![None; names.len()],
        }
    }

    /// Item `i` is at `status` / `progress` %.
    pub fn update(&mut self, i: usize, name: &str, status: &str, progress: i64) {
        if let Some(Some(b)) = self.bars.get(i) {
            b.set_position(progress.clamp(0, 100) as u64);
            b.set_message(status.to_string());
            return;
        }
        if self.mode != Mode::Plain {
            return;
        }
        // A line when the status changes or progress moves by a quarter.
        let show = match &self.last[i] {
            None => true,
            Some((s, p)) => s != status || progress / 25 != p / 25,
        };
        if show {
            self.last[i] = Some((status.to_string(), progress));
            eprintln!("{name}: {status} {progress}%");
        }
    }

    pub fn finish(&self, i: usize) {
        if let Some(Some(b)) = self.bars.get(i) {
            b.finish();
        }
    }

    /// Runs `f` (which prints to stdout) with the bars out of the way.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.multi.suspend(f)
    }

    /// Prints a line without tearing the bars.
    pub fn println(&self, line: &str) {
        if self.mode == Mode::Bar {
            let _ = self.multi.println(line);
        } else {
            eprintln!("{line}");
        }
    }
}
