//! Frame-exact chunk boundaries: on which frame of each output stream a single encode forces
//! each keyframe, so that a chunk starts on exactly that frame and forces the same ones.
//!
//! A single encode forces keyframes with `expr:gte(t,n_forced*K)`: the first frame whose time
//! `t = pts × av_q2d(time_base)` (a double) reaches each multiple of K. The time base of a
//! stream is the inverse of its constant rate. [`frame_at`] repeats that arithmetic
//! exactly (the same IEEE operations), so the two agree even where the double rounds. With
//! AV1 among the codecs every stream is keyed by frame number instead (every `g`th frame, see
//! `codecs::gops`), which [`StreamKeys::Every`] follows.

/// How one output stream's keyframes are placed in a single encode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum StreamKeys {
    /// `gte(t, n_forced*k)` at the constant rate `num/den` frames per second.
    ByTime { num: u32, den: u32, k: u32 },
    /// A shorter first segment (`head.rs`): the first frame, then
    /// `gte(t, first+(n_forced-1)*seg)` — at `first` seconds and every `seg` after.
    Head {
        num: u32,
        den: u32,
        first: u32,
        seg: u32,
    },
    /// Every `g`th frame.
    Every(u64),
}

impl StreamKeys {
    /// The frame (0-based, in the stream's own frames) that starts keyframe interval `j`.
    pub fn frame(self, j: u64) -> u64 {
        match self {
            StreamKeys::ByTime { num, den, k } => frame_at(num, den, j * k as u64),
            StreamKeys::Head { .. } if j == 0 => 0,
            StreamKeys::Head {
                num,
                den,
                first,
                seg,
            } => frame_at(num, den, first as u64 + (j - 1) * seg as u64),
            StreamKeys::Every(g) => j * g,
        }
    }
}

/// The smallest frame `m` with `m × (den/num) ≥ seconds` in ffmpeg's double arithmetic (the
/// forced-keyframe expressions' `t` against a whole number of seconds, exact in a double).
fn frame_at(num: u32, den: u32, seconds: u64) -> u64 {
    let step = den as f64 / num as f64;
    let target = seconds as f64;
    let time = |m: u64| m as f64 * step;
    // Start a little below the exact answer and walk up: the double may round either way.
    let exact = (seconds as u128 * num as u128) / den.max(1) as u128;
    let mut m = (exact as u64).saturating_sub(2);
    while time(m) < target {
        m += 1;
    }
    while m > 0 && time(m - 1) >= target {
        m -= 1;
    }
    m
}

/// The time, in seconds, a frame list entry of `-force_key_frames` needs so that ffmpeg
/// (which rescales it to the stream's time base, rounding to nearest) lands on local frame
/// `frame` of a stream at `num/den` fps: a quarter frame early, so neither rounding nor the
/// microsecond parse can move it to a neighbour.
pub(super) fn list_time(num: u32, den: u32, frame: u64) -> String {
    let seconds = (frame as f64 - 0.25) * den as f64 / num as f64;
    format!("{:.6}", seconds.max(0.0))
}

/// Seconds of frame `frame` at `num/den` fps, rounded to ffmpeg's microseconds.
pub(super) fn frame_time(num: u32, den: u32, frame: u64) -> f64 {
    let us = (frame as u128 * den as u128 * 1_000_000 + num as u128 / 2) / num.max(1) as u128;
    us as f64 / 1e6
}

/// The single encode's segments, as the frames they start on: ffmpeg's dash muxer starts a new
/// segment at the first keyframe whose time since the stream's first frame (`first`) reaches
/// the next multiple of `seg` seconds (`av_compare_ts(pts - first_pts, …, segment_index ×
/// seg_duration)`, exact). `keyframes` ascending, after `first`; the first entry is `first`.
pub(super) fn segment_starts(
    first: u64,
    keyframes: impl IntoIterator<Item = u64>,
    num: u32,
    den: u32,
    seg: u32,
) -> Vec<u64> {
    let mut starts = vec![first];
    let mut index: u128 = 1;
    for m in keyframes {
        if m <= first {
            continue;
        }
        if (m - first) as u128 * den as u128 >= index * seg as u128 * num as u128 {
            starts.push(m);
            index += 1;
        }
    }
    starts
}

/// The presentation time stamp, in frames of the picture's constant rate, of the first frame
/// the picture chain gives (not 0 when the video starts after another stream: ffmpeg's forced
/// keyframes and the dash muxer's segments count from there). One decoded frame, through the
/// same chain, its timestamp as `framecrc` prints it.
pub(super) async fn first_frame_pts(
    input: &std::path::Path,
    v: &crate::probe::VideoInfo,
    picture: &crate::transcode::picture::Picture,
    budget: &crate::process::Budget,
) -> crate::error::Result<Option<u64>> {
    let mut a = crate::transcode::video::Args::default();
    a.push_all(["-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"]);
    if let Some((option, decoder)) = v.decoder() {
        a.push_all([option.as_str(), decoder]);
    }
    a.push("-i");
    a.push(crate::probe::file_url(input));
    let chain = picture.chain(v);
    let chain = if chain.is_empty() {
        "null".into()
    } else {
        chain
    };
    a.push_all(["-filter_complex", &format!("[0:{}]{chain}[v]", v.index)]);
    a.push_all(["-map", "[v]", "-frames:v", "1", "-fps_mode", "passthrough"]);
    a.push_all(["-c:v", "rawvideo", "-f", "framecrc", "-"]);
    let mut out = Vec::new();
    let finished = crate::process::run("ffmpeg", &a.0, "ffmpeg first frame", budget, |b| {
        out.extend_from_slice(b)
    })
    .await?;
    if !finished.success() {
        return Err(crate::transcode::classify_failure(finished, "a video"));
    }
    // `stream, dts, pts, duration, size, hash`.
    Ok(String::from_utf8_lossy(&out)
        .lines()
        .find(|l| !l.starts_with('#'))
        .and_then(|l| l.split(',').nth(2))
        .and_then(|pts| pts.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyframes_where_a_single_encode_puts_them() {
        // 30 fps, 2 s: every 60th frame.
        for j in 0..100 {
            assert_eq!(frame_at(30, 1, j * 2), 60 * j);
        }
        // 29.97: the first frame at or past each 2 s.
        assert_eq!(frame_at(30000, 1001, 2), 60);
        assert_eq!(frame_at(30000, 1001, 4), 120);
        // 100 s: frame 2997 is at 99.9999 s.
        assert_eq!(frame_at(30000, 1001, 100), 2998);
        for j in 0..2000u64 {
            let m = frame_at(30000, 1001, j * 2);
            assert!(m as f64 * 1001.0 / 30000.0 >= (2 * j) as f64 - 1e-9);
            assert!(m == 0 || ((m - 1) as f64 * 1001.0 / 30000.0) < (2 * j) as f64 + 1e-9);
        }
        assert_eq!(StreamKeys::Every(60).frame(3), 180);
        assert_eq!(
            StreamKeys::ByTime {
                num: 25,
                den: 1,
                k: 2
            }
            .frame(5),
            250
        );
        // A 2 s first segment, then 4 s ones: 0, 2, 6, 10 s.
        let head = StreamKeys::Head {
            num: 30000,
            den: 1001,
            first: 2,
            seg: 4,
        };
        let frames: Vec<u64> = (0..4).map(|j| head.frame(j)).collect();
        assert_eq!(frames, [0, 60, 180, 300]);
        // The dash muxer told to cut every 2 s cuts on each of them.
        assert_eq!(
            segment_starts(0, (1..4).map(|j| head.frame(j)), 30000, 1001, 2),
            [0, 60, 180, 300]
        );
    }

    #[test]
    fn segments_as_the_dash_muxer_cuts_them() {
        let keys = |g: u64| (1..20).map(move |j| j * g);
        // From frame 0: every keyframe (2 s at 30 fps) starts a 2 s segment, every other one a
        // 4 s segment.
        assert_eq!(
            segment_starts(0, keys(60), 30, 1, 2)[..4],
            [0, 60, 120, 180]
        );
        assert_eq!(
            segment_starts(0, keys(60), 30, 1, 4)[..4],
            [0, 120, 240, 360]
        );
        // A video starting a frame late: the first keyframe comes too soon, and from then on
        // every segment starts one keyframe later.
        assert_eq!(
            segment_starts(1, keys(60), 30, 1, 2)[..4],
            [1, 120, 180, 240]
        );
        assert_eq!(
            segment_starts(1, keys(60), 30, 1, 4)[..4],
            [1, 180, 300, 420]
        );
    }

    #[test]
    fn list_times_and_frame_times() {
        assert_eq!(list_time(30, 1, 0), "0.000000");
        assert_eq!(list_time(30, 1, 60), "1.991667");
        assert_eq!(frame_time(30000, 1001, 120), 4.004);
        assert_eq!(frame_time(24000, 1001, 1), 0.041708);
    }
}
