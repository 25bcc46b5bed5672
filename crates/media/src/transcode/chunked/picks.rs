//! Which frames of the constant-rate picture a single encode makes its stills of, by arithmetic
//! on frame numbers: the storyboard's tiles ([`tile_frames`], a chunk's share [`tiles_in`]) and
//! the thumbnail ([`thumbnail_frame`]); and a chunk's branch that picks its tiles from the
//! frames it decodes anyway ([`chunk_tiles`]). `stills.rs` decodes the rest job's by seeks.

use crate::transcode::storyboard::Layout;
use crate::transcode::video::{Args, TILES_DIR};
use std::path::Path;

/// Storyboard tick of picture frame `m` at `num/den` fps: `fps=1/interval` rounds each frame's
/// time to the nearest tick, halves away from zero (exact integer arithmetic, as ffmpeg's
/// `av_rescale_q_rnd`).
fn tick(m: u64, num: u32, den: u32, interval: u32) -> u64 {
    let (a, b) = (
        m as u128 * den as u128,
        num as u128 * interval.max(1) as u128,
    );
    ((2 * a + b) / (2 * b)) as u64
}

/// The last frame whose tick is at most `n` (`2·m·den < (2n+1)·num·interval`): the frame
/// `fps=1/interval` gives tick `n` when a later one follows.
fn last_of_tick(n: u64, num: u32, den: u32, interval: u32) -> u64 {
    let a = (2 * n as u128 + 1) * num as u128 * interval.max(1) as u128;
    ((a - 1) / (2 * den.max(1) as u128)) as u64
}

/// The picture frames of the storyboard's tiles, in order, for a picture from frame `first`
/// to `last` at `num/den` fps: one per tick from the first frame's, up to the tick the end
/// rounds to (the filter's EOF is the frame after the last), at most `capacity`.
pub(super) fn tile_frames(
    first: u64,
    last: u64,
    (num, den): (u32, u32),
    interval: u32,
    capacity: u32,
) -> Vec<u64> {
    let from = tick(first, num, den, interval);
    let to = tick(last + 1, num, den, interval);
    (from..to)
        .take(capacity as usize)
        .map(|n| last_of_tick(n, num, den, interval).clamp(first, last))
        .collect()
}

/// The storyboard tiles whose picture frames lie in `from..to` (a chunk's range, not the last
/// one: every tile there is [`tile_frames`]'s own whatever the last frame), as (frame, 1-based
/// number over the whole picture).
pub(super) fn tiles_in(
    first: u64,
    (from, to): (u64, u64),
    (num, den): (u32, u32),
    interval: u32,
    capacity: u32,
) -> Vec<(u64, usize)> {
    let mut tiles = Vec::new();
    for (i, n) in (tick(first, num, den, interval)..)
        .take(capacity as usize)
        .enumerate()
    {
        let m = last_of_tick(n, num, den, interval).max(first);
        if m >= to {
            break;
        }
        if m >= from {
            tiles.push((m, i + 1));
        }
    }
    tiles
}

/// A chunk's storyboard branch: the filters after its split (`[in]`, frame 0 being picture
/// frame `from`) that pick `tiles` (from [`tiles_in`]) and scale them as the single encode's
/// storyboard branch does after its `fps` (the tone-map is in the chain before the split), as
/// `[out]`; and the output writing them under their numbers in `out_dir/.storyboard-tiles/`.
pub(super) fn chunk_tiles(
    tiles: &[(u64, usize)],
    from: u64,
    layout: &Layout,
    out_dir: &Path,
    (input, output): (&str, &str),
) -> (String, Args) {
    let pick = tiles
        .iter()
        .map(|(m, _)| format!("eq(n\\,{})", m - from))
        .collect::<Vec<_>>()
        .join("+");
    let filter = format!(
        "{input}select='{pick}',scale={}:{}{output}",
        layout.tile_width, layout.tile_height
    );
    let mut a = Args::default();
    a.push_all(["-map", output, "-frames:v", &tiles.len().to_string()]);
    tile_output(&mut a, tiles.first().map_or(1, |t| t.1), out_dir);
    (filter, a)
}

/// The tiles' JPEG output from `start`: the single encode's encoder settings, the picked
/// frames passed through as they are.
pub(super) fn tile_output(a: &mut Args, start: usize, out_dir: &Path) {
    a.push_all([
        "-q:v",
        "5",
        "-fps_mode",
        "passthrough",
        "-map_metadata",
        "-1",
    ]);
    a.push_all(["-f", "image2", "-start_number", &start.to_string()]);
    a.push(crate::probe::file_url(
        &out_dir.join(TILES_DIR).join("%05d.jpg"),
    ));
}

/// The thumbnail's picture frame: the first at or after `at` seconds as `trim=start=` reads
/// the single encode's `{at:.3}` (microseconds, rescaled to the frame rate rounding to
/// nearest); `None` past the last frame (a single encode then takes the first frame).
pub(super) fn thumbnail_frame(
    at: f64,
    first: u64,
    last: u64,
    (num, den): (u32, u32),
) -> Option<u64> {
    let text = format!("{at:.3}");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole: u128 = whole.parse().ok()?;
    let fraction: u128 = format!("{fraction:0<6}").get(..6)?.parse().ok()?;
    let us = whole * 1_000_000 + fraction;
    let (num, den) = (num as u128, den.max(1) as u128);
    let start = ((2 * us * num + 1_000_000 * den) / (2 * 1_000_000 * den)) as u64;
    let m = start.max(first);
    (m <= last).then_some(m)
}

/// Tile `n`'s file relative to the output directory: `.storyboard-tiles/%05d.jpg`, as the
/// single encode's image2 output numbers them.
pub(super) fn tile_name(n: usize) -> String {
    format!("{TILES_DIR}/{n:05}.jpg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_to_the_nearest_interval() {
        // 30 fps, one tile a second: frames 0..=14 are tick 0, 15 (0.5 s) is tick 1.
        assert_eq!(tick(14, 30, 1, 1), 0);
        assert_eq!(tick(15, 30, 1, 1), 1);
        assert_eq!(last_of_tick(0, 30, 1, 1), 14);
        assert_eq!(last_of_tick(1, 30, 1, 1), 44);
        // 29.97 fps, 3 s: tick n holds frames up to (n + 0.5)·3 s.
        for n in 0..200u64 {
            let m = last_of_tick(n, 30000, 1001, 3);
            assert!(tick(m, 30000, 1001, 3) <= n);
            assert!(tick(m + 1, 30000, 1001, 3) > n);
        }
    }

    #[test]
    fn tiles_from_the_first_frame_to_the_end() {
        // 12 s at 30 fps (frames 0..=359): the end (frame 360) rounds to tick 12: ticks 0..11.
        let tiles = tile_frames(0, 359, (30, 1), 1, 20);
        assert_eq!(tiles.len(), 12);
        assert_eq!(tiles[..3], [14, 44, 74]);
        assert_eq!(tiles[11], 344);
        // 12.5 s (frames 0..=374): the end rounds up to tick 13, whose frame is the last.
        let tiles = tile_frames(0, 374, (30, 1), 1, 20);
        assert_eq!(tiles.len(), 13);
        assert_eq!(tiles[12], 374);
        // At most the sprite's capacity.
        assert_eq!(tile_frames(0, 100_000, (30, 1), 1, 100).len(), 100);
        // A video starting a frame late starts on its own first frame's tick.
        let late = tile_frames(1, 360, (30, 1), 1, 20);
        assert_eq!(late[0], 14);
        // Too short for a tile whose tick the end reaches: none.
        assert!(tile_frames(0, 10, (30, 1), 1, 1).is_empty());
    }

    #[test]
    fn the_chunks_tiles_are_the_single_encodes_in_their_ranges() {
        // 29.97 fps, a tile every 3 s, frames 1..=2000; chunks from 1, 450 and 900 (the last).
        let (rate, interval, capacity) = ((30000, 1001), 3, 100);
        let all: Vec<(u64, usize)> = tile_frames(1, 2000, rate, interval, capacity)
            .into_iter()
            .zip(1..)
            .collect();
        let mut chunks = tiles_in(1, (1, 450), rate, interval, capacity);
        chunks.extend(tiles_in(1, (450, 900), rate, interval, capacity));
        let before_last: Vec<(u64, usize)> =
            all.iter().copied().filter(|(m, _)| *m < 900).collect();
        assert_eq!(chunks, before_last);
        assert!(chunks.len() > 5 && chunks.len() < all.len());
        // At most the sprite's capacity, numbered over the whole picture.
        let capped = tiles_in(1, (450, 900), rate, interval, 7);
        assert!(capped.iter().all(|(_, n)| *n <= 7), "{capped:?}");
    }

    #[test]
    fn the_thumbnail_is_the_first_frame_at_its_time() {
        // 3.000 s at 30 fps: frame 90.
        assert_eq!(thumbnail_frame(3.0, 0, 899, (30, 1)), Some(90));
        // 2.6 s at 29.97: 2.6 × 30000/1001 = 77.92 → 78 (the nearest frame number).
        assert_eq!(thumbnail_frame(2.6, 0, 899, (30000, 1001)), Some(78));
        // Written to milliseconds first, as the single encode's option is.
        assert_eq!(thumbnail_frame(1.23449, 0, 9999, (1000, 1)), Some(1234));
        assert_eq!(thumbnail_frame(0.0, 2, 899, (30, 1)), Some(2));
        assert_eq!(thumbnail_frame(40.0, 0, 899, (30, 1)), None);
    }
}
