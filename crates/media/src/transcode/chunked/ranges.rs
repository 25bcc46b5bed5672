//! Where a long source is cut into chunks: a pure function of its duration and the settings.

use serde::{Deserialize, Serialize};

/// A range of the source one chunk job encodes. Pure data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkRange {
    pub index: u32,
    /// Seconds of the source, on a multiple of the segment duration. The chunk really starts
    /// on the frame a single encode makes a keyframe there (see `frames.rs`).
    pub start: f64,
    /// The next chunk's `start`; the source's duration for the last chunk.
    pub end: f64,
    /// Global 1-based number of its first segment.
    pub first_segment: u32,
    /// How many segments it writes. Exact for every chunk but the last, whose count is what
    /// the probed duration predicts (its [`super::ChunkOutput`] says what it wrote).
    pub segments: u32,
}

/// The ranges of a source of `duration` seconds, or `None` when it runs as one job: chunking
/// off (`chunk_seconds == 0`), a source no longer than `min_seconds`, or one that would make a
/// single chunk anyway.
///
/// * `chunk_seconds` is rounded up to a multiple of `segment_seconds`, so every boundary is a
///   segment boundary (and so a keyframe of every rung) of a single encode.
/// * The last chunk runs to the end of the source; when what is left after the last whole
///   chunk is shorter than one segment it is merged into the chunk before (a chunk job for a
///   fraction of a segment costs more in start-up than it encodes).
pub fn plan_ranges(
    duration: f64,
    chunk_seconds: u32,
    min_seconds: u32,
    segment_seconds: u32,
) -> Option<Vec<ChunkRange>> {
    if chunk_seconds == 0
        || segment_seconds == 0
        || !duration.is_finite()
        || duration <= min_seconds as f64
    {
        return None;
    }
    let seg = segment_seconds as f64;
    let per_chunk = chunk_seconds.div_ceil(segment_seconds) * segment_seconds;
    // Segments a single encode writes: one per keyframe interval begun before the end (a
    // millisecond of slack for a container that rounds its duration up).
    let total_segments = (((duration - 1e-3) / seg).ceil() as u32).max(1);
    let per_chunk_segments = per_chunk / segment_seconds;
    let mut ranges = Vec::new();
    let mut first = 1u32;
    while first <= total_segments {
        let left = total_segments - first + 1;
        // The rest is one chunk when it fits, or when what would follow is under a segment.
        let last = left <= per_chunk_segments || {
            let after = duration - ((first - 1 + per_chunk_segments) as f64) * seg;
            after < seg
        };
        let segments = if last { left } else { per_chunk_segments };
        let start = (first - 1) as f64 * seg;
        let end = if last {
            duration
        } else {
            (first - 1 + segments) as f64 * seg
        };
        ranges.push(ChunkRange {
            index: ranges.len() as u32,
            start,
            end,
            first_segment: first,
            segments,
        });
        if last {
            break;
        }
        first += segments;
    }
    (ranges.len() > 1).then_some(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(r: &[ChunkRange]) -> Vec<(f64, f64, u32, u32)> {
        r.iter()
            .map(|c| (c.start, c.end, c.first_segment, c.segments))
            .collect()
    }

    #[test]
    fn boundaries_on_segment_multiples_with_a_short_last_chunk() {
        let r = plan_ranges(300.5, 60, 120, 4).unwrap();
        assert_eq!(
            bounds(&r),
            vec![
                (0.0, 60.0, 1, 15),
                (60.0, 120.0, 16, 15),
                (120.0, 180.0, 31, 15),
                (180.0, 240.0, 46, 15),
                (240.0, 300.5, 61, 16),
            ]
        );
        assert_eq!(
            r.iter().map(|c| c.index).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        // A last chunk of a few segments stays its own.
        let r = plan_ranges(130.0, 60, 120, 4).unwrap();
        assert_eq!(
            bounds(&r),
            vec![
                (0.0, 60.0, 1, 15),
                (60.0, 120.0, 16, 15),
                (120.0, 130.0, 31, 3)
            ]
        );
        // Segment counts add up to what a single encode writes.
        let total: u32 = r.iter().map(|c| c.segments).sum();
        assert_eq!(total, 33);
    }

    #[test]
    fn a_tail_under_one_segment_joins_the_chunk_before() {
        let r = plan_ranges(121.5, 60, 120, 4).unwrap();
        assert_eq!(bounds(&r), vec![(0.0, 60.0, 1, 15), (60.0, 121.5, 16, 16)]);
        // Exactly on a boundary: no empty chunk.
        let r = plan_ranges(180.0, 60, 120, 4).unwrap();
        assert_eq!(
            bounds(&r),
            vec![
                (0.0, 60.0, 1, 15),
                (60.0, 120.0, 16, 15),
                (120.0, 180.0, 31, 15)
            ]
        );
    }

    #[test]
    fn chunk_seconds_round_up_to_segments() {
        // 50 s with 4 s segments → 52 s chunks.
        let r = plan_ranges(130.0, 50, 120, 4).unwrap();
        assert_eq!(
            bounds(&r),
            vec![
                (0.0, 52.0, 1, 13),
                (52.0, 104.0, 14, 13),
                (104.0, 130.0, 27, 7)
            ]
        );
        // The tests' scale: 30 s, 2 s segments, 7 s → 8 s chunks.
        let r = plan_ranges(30.0, 7, 10, 2).unwrap();
        assert_eq!(
            bounds(&r),
            vec![
                (0.0, 8.0, 1, 4),
                (8.0, 16.0, 5, 4),
                (16.0, 24.0, 9, 4),
                (24.0, 30.0, 13, 3)
            ]
        );
    }

    #[test]
    fn threshold_and_off() {
        assert_eq!(
            plan_ranges(120.0, 60, 120, 4),
            None,
            "not above the threshold"
        );
        assert!(plan_ranges(120.1, 60, 120, 4).is_some());
        assert_eq!(plan_ranges(3600.0, 0, 120, 4), None, "chunking off");
        assert_eq!(plan_ranges(3600.0, 60, 120, 0), None);
        assert_eq!(plan_ranges(f64::NAN, 60, 120, 4), None);
        assert_eq!(plan_ranges(f64::INFINITY, 60, 120, 4), None);
        // One chunk would hold it all: a single job.
        assert_eq!(plan_ranges(150.0, 600, 120, 4), None);
        // Under a segment more than one chunk: still one chunk.
        assert_eq!(plan_ranges(61.0, 60, 0, 4), None);
    }
}
