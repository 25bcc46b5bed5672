//! Parsing ffmpeg's `-progress pipe:1` key=value stream into throttled [`Progress`] reports.

use std::time::{Duration, Instant};

/// How far an encode is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Output time written so far, in seconds.
    pub out_time_seconds: f64,
    /// 0.0..=1.0 of the probed duration (0.0 throughout when the duration is unknown); never
    /// decreases, and the last report of a finished encode is 1.0.
    pub fraction: f64,
}

/// Reports at most this often (the final report always goes out).
pub const REPORT_INTERVAL: Duration = Duration::from_millis(500);

/// ffmpeg's progress lines are short; anything longer is not one and is dropped.
const MAX_LINE: usize = 4096;

/// Feeds on raw stdout chunks; calls `report` for each throttled progress block.
pub struct ProgressParser<F: FnMut(Progress)> {
    duration: Option<f64>,
    report: F,
    line: Vec<u8>,
    out_time_us: Option<i64>,
    fraction: f64,
    last_report: Option<Instant>,
    interval: Duration,
    ended: bool,
}

impl<F: FnMut(Progress)> ProgressParser<F> {
    pub fn new(duration: Option<f64>, report: F) -> Self {
        Self::with_interval(duration, REPORT_INTERVAL, report)
    }

    pub fn with_interval(duration: Option<f64>, interval: Duration, report: F) -> Self {
        ProgressParser {
            duration: duration.filter(|d| *d > 0.0 && d.is_finite()),
            report,
            line: Vec::new(),
            out_time_us: None,
            fraction: 0.0,
            last_report: None,
            interval,
            ended: false,
        }
    }

    /// Whether ffmpeg said `progress=end`.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// The last output time ffmpeg reported, in seconds.
    pub fn out_time_seconds(&self) -> Option<f64> {
        self.out_time_us.map(|us| us.max(0) as f64 / 1e6)
    }

    pub fn push(&mut self, chunk: &[u8]) {
        for &b in chunk {
            if b == b'\n' {
                let line = std::mem::take(&mut self.line);
                self.handle_line(&String::from_utf8_lossy(&line));
            } else if self.line.len() < MAX_LINE {
                self.line.push(b);
            }
        }
    }

    fn handle_line(&mut self, line: &str) {
        let Some((key, value)) = line.trim().split_once('=') else {
            return;
        };
        match key {
            // ffmpeg 5.1 prints microseconds under both out_time_us and (mislabelled) out_time_ms.
            "out_time_us" => {
                if let Ok(us) = value.trim().parse::<i64>() {
                    self.out_time_us = Some(us);
                }
            }
            "progress" => {
                let end = value.trim() == "end";
                self.ended |= end;
                self.emit(end);
            }
            _ => {}
        }
    }

    fn emit(&mut self, end: bool) {
        let now = Instant::now();
        if !end {
            if let Some(last) = self.last_report {
                if now.duration_since(last) < self.interval {
                    return;
                }
            }
        }
        let out_time = self.out_time_seconds().unwrap_or(0.0);
        let fraction = match (end, self.duration) {
            (true, _) => 1.0,
            (false, Some(d)) => (out_time / d).clamp(0.0, 1.0),
            (false, None) => 0.0,
        };
        // Audio may run past the probed duration, timestamps may jitter: never go backwards.
        self.fraction = self.fraction.max(fraction);
        self.last_report = Some(now);
        (self.report)(Progress {
            out_time_seconds: out_time,
            fraction: self.fraction,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "frame=10\nfps=0.0\nout_time_us=1000000\nout_time_ms=1000000\nout_time=00:00:01.000000\nprogress=continue\n";

    #[test]
    fn parses_blocks_across_chunk_boundaries() {
        let mut got = Vec::new();
        let mut p = ProgressParser::with_interval(Some(4.0), Duration::ZERO, |r| got.push(r));
        let text = format!("{BLOCK}out_time_us=3000000\nprogress=continue\nout_time_us=N/A\nout_time_us=4100000\nprogress=end\n");
        for chunk in text.as_bytes().chunks(7) {
            p.push(chunk);
        }
        assert!(p.ended());
        drop(p);
        let fractions: Vec<f64> = got.iter().map(|r| r.fraction).collect();
        assert_eq!(fractions, vec![0.25, 0.75, 1.0]);
        assert_eq!(got[1].out_time_seconds, 3.0);
    }

    #[test]
    fn throttles_but_always_reports_the_end() {
        let mut got = Vec::new();
        let mut p = ProgressParser::with_interval(Some(10.0), Duration::from_secs(3600), |r| {
            got.push(r.fraction)
        });
        for _ in 0..50 {
            p.push(BLOCK.as_bytes());
        }
        p.push(b"progress=end\n");
        drop(p);
        assert_eq!(got, vec![0.1, 1.0]);
    }

    #[test]
    fn never_decreases_and_handles_unknown_duration() {
        let mut got = Vec::new();
        let mut p =
            ProgressParser::with_interval(Some(1.0), Duration::ZERO, |r| got.push(r.fraction));
        p.push(b"out_time_us=800000\nprogress=continue\nout_time_us=-5000\nprogress=continue\n");
        drop(p);
        assert_eq!(got, vec![0.8, 0.8]);
        let mut got = Vec::new();
        let mut p = ProgressParser::with_interval(None, Duration::ZERO, |r| got.push(r.fraction));
        p.push(BLOCK.as_bytes());
        drop(p);
        assert_eq!(got, vec![0.0]);
    }
}
