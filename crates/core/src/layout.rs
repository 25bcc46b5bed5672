//! The storage layout, written once: where an item's original and its processing outputs live in
//! the buckets, what the output files are called, and the public paths that serve them. Every
//! object key this server makes comes from here.
//!
//! ```text
//! media bucket    originals/{media id}/{file name}       an original uploaded through the API
//! output bucket   media/{media id}/stream/master.m3u8    HLS master
//!                 media/{media id}/stream/manifest.mpd   DASH manifest
//!                 media/{media id}/stream/…              playlists and CMAF segments
//!                 media/{media id}/thumbnail.jpg         poster
//!                 media/{media id}/storyboard.vtt|.jpg   scrubbing previews
//!                 media/{media id}/variants/…            image variants
//!                 media/{media id}/downloads/{name}.mp4  downloads (and `audio.m4a`)
//!                 media/{media id}/pictures/{name}       stills and animations made on demand
//!                 media/{media id}/transcode.json        a job container's summary
//!                 media/{media id}/progress.json         a job container's progress
//! ```
//!
//! Originals announced by bucket events keep the key they were put at. The media crate names its
//! files itself (it writes a local directory, not a bucket); a test in the pipeline crate keeps
//! its names equal to these.

use crate::MediaId;

/// Where originals uploaded through the API live (media bucket).
pub const ORIGINALS_DIR: &str = "originals/";
/// Where processing outputs live (output bucket).
pub const OUTPUTS_DIR: &str = "media/";

/// The key of an original uploaded through the API. `filename` must already be safe as a key
/// segment (see [`crate::safe_filename`]).
pub fn original_key(media_id: &MediaId, filename: &str) -> String {
    format!("{}{filename}", originals_prefix(media_id))
}

/// The prefix under which an item's original (and a resumable upload's staging objects) live.
pub fn originals_prefix(media_id: &MediaId) -> String {
    format!("{ORIGINALS_DIR}{media_id}/")
}

/// The prefix under which an item's processing outputs live.
pub fn outputs_prefix(media_id: &MediaId) -> String {
    format!("{OUTPUTS_DIR}{media_id}/")
}

/// The key of output file `name` (relative, e.g. [`HLS_MASTER`]) of an item.
pub fn output_key(media_id: &MediaId, name: &str) -> String {
    format!("{}{name}", outputs_prefix(media_id))
}

/// The id segment of a key under [`ORIGINALS_DIR`] (not checked to be an id: parse it as the id
/// it should be), or `None`.
pub fn original_key_id(key: &str) -> Option<&str> {
    key.strip_prefix(ORIGINALS_DIR)
        .and_then(|rest| rest.split('/').next())
}

/// Whether `key` is under [`ORIGINALS_DIR`]: written by this server's own uploads.
pub fn is_original_key(key: &str) -> bool {
    key.starts_with(ORIGINALS_DIR)
}

/// Whether `key` is under [`OUTPUTS_DIR`]: written by this server's processing.
pub fn is_output_key(key: &str) -> bool {
    key.starts_with(OUTPUTS_DIR)
}

// Output files, relative to an item's outputs prefix.

/// Packaged streams: playlists, manifests and segments.
pub const STREAM_DIR: &str = "stream/";
pub const HLS_MASTER: &str = "stream/master.m3u8";
pub const DASH_MANIFEST: &str = "stream/manifest.mpd";
pub const THUMBNAIL: &str = "thumbnail.jpg";
pub const STORYBOARD_VTT: &str = "storyboard.vtt";
/// The sprite the storyboard's cues point into (next to it).
pub const STORYBOARD_IMAGE: &str = "storyboard.jpg";
/// Image variants (`variants/{name}.{jpg,webp}`).
pub const VARIANTS_DIR: &str = "variants/";
/// Downloadable files remuxed from the rungs (`downloads/{name}.{mp4,m4a}`).
pub const DOWNLOADS_DIR: &str = "downloads/";
/// The name of the audio-only download.
pub const AUDIO_DOWNLOAD: &str = "audio";
/// A download's file: `name` is a rung name (`720p`) or [`AUDIO_DOWNLOAD`], `ext` `mp4` or `m4a`.
pub fn download_file(name: &str, ext: &str) -> String {
    format!("{DOWNLOADS_DIR}{name}.{ext}")
}
/// Pictures rendered on request (`pictures/{name}.{ext}`), kept as a cache: under the item's
/// prefix, so deleting the item deletes them.
pub const PICTURES_DIR: &str = "pictures/";
/// A cached picture: `stem` names what was asked for (time, size, fit…: see the API's
/// `pictures`), `ext` the format (`jpg`, `webp`, `png`, `gif`).
pub fn picture_file(stem: &str, ext: &str) -> String {
    format!("{PICTURES_DIR}{stem}.{ext}")
}
/// A text track's WebVTT file, flat in the stream folder so that the same relative name works
/// from the HLS master and from the DASH manifest.
pub fn text_track_vtt(track_id: &str) -> String {
    format!("{STREAM_DIR}text-{track_id}.vtt")
}
/// A text track's HLS media playlist (one segment: the whole WebVTT file).
pub fn text_track_playlist(track_id: &str) -> String {
    format!("{STREAM_DIR}text-{track_id}.m3u8")
}
/// A chunked item's working files (plan and per-part records), under its outputs prefix;
/// deleted by the assemble step. Never served: playback resolves only published names.
pub const CHUNKS_DIR: &str = "chunks/";
/// The whole-source decisions every chunk job and the assemble step share (JSON).
pub const CHUNK_PLAN: &str = "chunks/plan.json";
/// The source's video stream as probed by the split (JSON): what the item records as its
/// `source` once the chunks are assembled.
pub const CHUNK_SOURCE: &str = "chunks/source.json";
/// When the split happened and the source video's keyframe times as it read them from its
/// local copy (JSON): the assemble step's elapsed time and where its quality windows start
/// (it reads the original through a URL, where scanning the whole file would cost a download).
pub const CHUNK_SPLIT: &str = "chunks/split.json";
/// The prefix of an item's chunk files (`media/{id}/chunks/`).
pub fn chunks_prefix(media_id: &MediaId) -> String {
    output_key(media_id, CHUNKS_DIR)
}
/// The object key of an item's chunk plan (`media/{id}/chunks/plan.json`).
pub fn chunk_plan(media_id: &MediaId) -> String {
    output_key(media_id, CHUNK_PLAN)
}
/// Chunk `index`'s record, relative to the item's outputs: written last by its job, so a chunk
/// whose record exists is done.
pub fn chunk_record_name(index: u32) -> String {
    format!("{CHUNKS_DIR}{index}.json")
}
/// The rest job's record, relative to the item's outputs.
pub const CHUNK_REST_RECORD: &str = "chunks/rest.json";
/// The object key of chunk `index`'s record (`media/{id}/chunks/{index}.json`).
pub fn chunk_record(media_id: &MediaId, index: u32) -> String {
    output_key(media_id, &chunk_record_name(index))
}
/// Where a part keeps a working file of its output directory (`rel`, e.g. a storyboard tile
/// `.storyboard-tiles/00012.jpg`) for the assemble step, relative to the item's outputs.
pub fn chunk_work_name(rel: &str) -> String {
    format!("{CHUNKS_DIR}{rel}")
}
/// The object key of the rest job's record (`media/{id}/chunks/rest.json`).
pub fn chunk_rest_record(media_id: &MediaId) -> String {
    output_key(media_id, CHUNK_REST_RECORD)
}
/// The summary a job container writes last.
pub const SUMMARY_OBJECT: &str = "transcode.json";
/// The object a job container rewrites while it encodes.
pub const PROGRESS_OBJECT: &str = "progress.json";

/// Public paths of an item's files, relative to its playback base (`/v1/media/{id}/` or
/// `/v1/play/{token}/`). They are fixed entry points: playback resolves them to the stored
/// files recorded for the item.
pub mod public {
    /// Playlists and segments of HLS (stored under [`super::STREAM_DIR`]).
    pub const HLS_DIR: &str = "hls";
    /// The DASH manifest's segments (stored under [`super::STREAM_DIR`]).
    pub const DASH_DIR: &str = "dash";
    /// Image variants (stored under [`super::VARIANTS_DIR`]).
    pub const VARIANTS_DIR: &str = "variants";
    pub const HLS_MASTER: &str = "hls/master.m3u8";
    pub const DASH_MANIFEST: &str = "dash/manifest.mpd";
    pub const THUMBNAIL: &str = "thumbnail.jpg";
    pub const STORYBOARD_VTT: &str = "storyboard.vtt";
    pub const STORYBOARD_IMAGE: &str = "storyboard.jpg";
    /// The poster in other formats, or any frame at any size (`?time=&width=&height=&fit=`).
    pub const THUMBNAIL_WEBP: &str = "thumbnail.webp";
    pub const THUMBNAIL_PNG: &str = "thumbnail.png";
    /// A short looping preview (`?start=&end=&width=&fps=`).
    pub const ANIMATED_WEBP: &str = "animated.webp";
    pub const ANIMATED_GIF: &str = "animated.gif";
    /// Downloads, by name (stored under [`super::DOWNLOADS_DIR`]).
    pub const DOWNLOADS_DIR: &str = "downloads";
    /// The original's bytes (on `/v1/media/{id}/` only).
    pub const ORIGINAL: &str = "original";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_files_are_under_the_items_outputs() {
        let id: MediaId = "0190a5b2-0000-7000-8000-000000000000".parse().unwrap();
        let base = "media/0190a5b2-0000-7000-8000-000000000000/";
        assert_eq!(chunks_prefix(&id), format!("{base}chunks/"));
        assert_eq!(chunk_plan(&id), format!("{base}chunks/plan.json"));
        assert_eq!(chunk_record(&id, 7), format!("{base}chunks/7.json"));
        assert_eq!(chunk_rest_record(&id), format!("{base}chunks/rest.json"));
        // Under the outputs prefix: deleting an item's outputs deletes them too.
        assert!(chunk_record(&id, 0).starts_with(&outputs_prefix(&id)));
        assert!(is_output_key(&chunk_plan(&id)));
    }

    #[test]
    fn keys_and_prefixes() {
        let id: MediaId = "0190a5b2-0000-7000-8000-000000000000".parse().unwrap();
        let id = &id;
        assert_eq!(
            original_key(id, "clip.mp4"),
            format!("originals/{id}/clip.mp4")
        );
        assert_eq!(originals_prefix(id), format!("originals/{id}/"));
        assert_eq!(outputs_prefix(id), format!("media/{id}/"));
        assert_eq!(
            output_key(id, HLS_MASTER),
            format!("media/{id}/stream/master.m3u8")
        );
        assert_eq!(
            original_key_id(&original_key(id, "a b.mov")),
            Some(id.as_str())
        );
        assert_eq!(original_key_id("in/clip.mp4"), None);
        assert!(is_original_key(&original_key(id, "x")));
        assert!(is_output_key(&output_key(id, THUMBNAIL)));
        assert!(!is_output_key("in/media/x.mp4"));
        assert_eq!(text_track_vtt("s0"), "stream/text-s0.vtt");
        assert_eq!(download_file("720p", "mp4"), "downloads/720p.mp4");
        assert_eq!(text_track_playlist("s0"), "stream/text-s0.m3u8");
        assert_eq!(picture_file("t1500", "webp"), "pictures/t1500.webp");
        for name in [HLS_MASTER, DASH_MANIFEST] {
            assert!(name.starts_with(STREAM_DIR), "{name}");
        }
    }
}
