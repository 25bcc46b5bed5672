//! Storyboard: one sprite of small frames on a fixed interval plus a WebVTT index into it, the
//! format players (video.js, Plyr, Vidstack) use for seek-bar previews.

use std::fmt::Write as _;

/// Tile width in pixels (narrower sources keep their own width).
pub const TILE_WIDTH: u32 = 160;
/// At most this many tiles, so the sprite stays a few hundred KiB.
pub const MAX_TILES: u32 = 100;
const COLUMNS: u32 = 10;
/// Used to size the grid when the probe does not know the duration.
const UNKNOWN_DURATION_INTERVAL: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    /// Seconds between tiles (whole seconds keep the cue times exact).
    pub interval: u32,
    pub columns: u32,
    pub rows: u32,
    pub tile_width: u32,
    pub tile_height: u32,
}

impl Layout {
    /// Plans the grid for a `width`x`height` (display size) video of `duration` seconds.
    pub fn new(duration: Option<f64>, width: u32, height: u32) -> Layout {
        let (interval, tiles) = match duration.filter(|d| *d > 0.0 && d.is_finite()) {
            Some(d) => {
                let interval = ((d / MAX_TILES as f64).ceil() as u32).max(1);
                (interval, tile_count(d, interval).min(MAX_TILES))
            }
            None => (UNKNOWN_DURATION_INTERVAL, MAX_TILES),
        };
        let columns = tiles.clamp(1, COLUMNS);
        let rows = tiles.div_ceil(columns).max(1);
        let tile_width = even(TILE_WIDTH.min(width.max(2)) as f64);
        let tile_height = even(tile_width as f64 * height.max(1) as f64 / width.max(1) as f64);
        Layout {
            interval,
            columns,
            rows,
            tile_width,
            tile_height,
        }
    }

    /// The filter chain turning decoded frames into tiles, one frame per interval. The tiles
    /// are written as separate images and assembled afterwards (`assemble`): ffmpeg's `tile`
    /// filter would hold its one frame until the end, and ffmpeg 5.1 then stalls its progress
    /// reports (and so the item's progress) for the whole encode.
    pub fn filter(&self) -> String {
        format!(
            "fps=1/{},scale={}:{}",
            self.interval, self.tile_width, self.tile_height
        )
    }

    /// Most tiles the sprite holds.
    pub fn capacity(&self) -> u32 {
        self.columns * self.rows
    }

    /// Pastes the tiles in `tiles_dir` (named so that they sort in time order) into one JPEG
    /// sprite at `out`, row by row. Blocking: call it from a blocking task.
    pub fn assemble(
        &self,
        tiles_dir: &std::path::Path,
        out: &std::path::Path,
    ) -> std::io::Result<usize> {
        let mut names: Vec<_> = std::fs::read_dir(tiles_dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
            .collect();
        names.sort();
        names.truncate(self.capacity() as usize);
        let mut sprite =
            image::RgbImage::new(self.columns * self.tile_width, self.rows * self.tile_height);
        let mut placed = 0;
        for (i, path) in names.iter().enumerate() {
            let Ok(tile) = image::open(path) else {
                continue;
            };
            let tile = tile.to_rgb8();
            let (x, y) = (
                (i as u32 % self.columns) * self.tile_width,
                (i as u32 / self.columns) * self.tile_height,
            );
            image::imageops::replace(&mut sprite, &tile, x as i64, y as i64);
            placed += 1;
        }
        if placed == 0 {
            return Ok(0);
        }
        let file = std::io::BufWriter::new(std::fs::File::create(out)?);
        image::codecs::jpeg::JpegEncoder::new_with_quality(file, 75)
            .encode_image(&sprite)
            .map_err(std::io::Error::other)?;
        Ok(placed)
    }

    /// The WebVTT for a video of `duration` seconds (as packaged) whose sprite is `image`.
    pub fn vtt(&self, duration: f64, image: &str) -> String {
        let capacity = self.columns * self.rows;
        let tiles = tile_count(duration, self.interval).min(capacity);
        let mut out = String::from("WEBVTT\n\n");
        let interval = self.interval as f64;
        for i in 0..tiles {
            let start = i as f64 * interval;
            let end = ((i + 1) as f64 * interval).min(duration.max(start + 0.001));
            let (x, y) = (
                (i % self.columns) * self.tile_width,
                (i / self.columns) * self.tile_height,
            );
            let _ = writeln!(
                out,
                "{} --> {}\n{image}#xywh={x},{y},{},{}\n",
                timestamp(start),
                timestamp(end),
                self.tile_width,
                self.tile_height
            );
        }
        out
    }
}

fn tile_count(duration: f64, interval: u32) -> u32 {
    ((duration / interval as f64).ceil() as u32).max(1)
}

fn even(x: f64) -> u32 {
    (((x / 2.0).round() as u32) * 2).max(2)
}

/// `HH:MM:SS.mmm`
fn timestamp(seconds: f64) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_clip_one_tile_per_second() {
        let l = Layout::new(Some(2.0), 1920, 1080);
        assert_eq!(
            l,
            Layout {
                interval: 1,
                columns: 2,
                rows: 1,
                tile_width: 160,
                tile_height: 90
            }
        );
        assert_eq!(l.filter(), "fps=1/1,scale=160:90");
        assert_eq!(l.capacity(), 2);
        assert_eq!(
            l.vtt(2.0, "storyboard.jpg"),
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nstoryboard.jpg#xywh=0,0,160,90\n\n00:00:01.000 --> 00:00:02.000\nstoryboard.jpg#xywh=160,0,160,90\n\n"
        );
    }

    #[test]
    fn long_video_stays_under_the_tile_cap() {
        let l = Layout::new(Some(3725.5), 720, 1280);
        assert_eq!(l.interval, 38);
        assert_eq!((l.columns, l.rows), (10, 10));
        assert_eq!((l.tile_width, l.tile_height), (160, 284));
        let vtt = l.vtt(3725.5, "s.jpg");
        assert_eq!(vtt.matches("#xywh=").count(), 99);
        assert!(vtt.contains("01:02:04.000 --> 01:02:05.500\ns.jpg#xywh=1280,2556,160,284"));
    }

    #[test]
    fn tiny_and_unknown() {
        let l = Layout::new(Some(0.5), 100, 80);
        assert_eq!(
            (l.tile_width, l.tile_height, l.columns, l.rows),
            (100, 80, 1, 1)
        );
        assert_eq!(l.vtt(0.5, "s.jpg").matches("#xywh=").count(), 1);
        let l = Layout::new(None, 640, 360);
        assert_eq!((l.interval, l.columns, l.rows), (10, 10, 10));
        assert_eq!(l.vtt(25.0, "s.jpg").matches("#xywh=").count(), 3);
    }
}
