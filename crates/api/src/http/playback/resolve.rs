//! Which stored file a playback path means: the public paths of `layout::public` resolved to the
//! files recorded for the item (or the stream folder), with their content type and kind.

use mediaserver_core::layout::{self, public};
use mediaserver_core::{Media, MediaKind};

/// Which stored file a request path means, or `None` (404) for anything else — including every
/// traversal attempt, since only plain names are accepted.
/// The stored path comes back in two borrowed parts (the stream folder + name, or `""` + a
/// recorded path), so that answering from the cache allocates nothing for it.
pub(super) fn resolve<'a>(
    media: &'a Media,
    file: &'a str,
) -> Option<((&'static str, &'a str), &'static str, Kind)> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.len() <= 200
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    };
    let (dir, name) = file.split_once('/').unwrap_or(("", file));
    if !plain(name) || name.contains("..") {
        return None;
    }
    let out = &media.outputs;
    match file {
        // While encoding, outputs are not recorded yet but the provisional master is published.
        public::HLS_MASTER => out
            .hls
            .as_deref()
            .or_else(|| media.playable.then_some(layout::HLS_MASTER))
            .map(|p| (("", p), "application/vnd.apple.mpegurl", Kind::Manifest)),
        public::DASH_MANIFEST => out
            .dash
            .as_deref()
            .map(|p| (("", p), "application/dash+xml", Kind::Manifest)),
        public::THUMBNAIL => out
            .thumbnail
            .as_deref()
            .map(|p| (("", p), "image/jpeg", Kind::Image)),
        public::STORYBOARD_VTT => out
            .storyboard
            .as_deref()
            .map(|p| (("", p), "text/vtt; charset=utf-8", Kind::Image)),
        public::STORYBOARD_IMAGE => out
            .storyboard
            .as_ref()
            .map(|_| (("", layout::STORYBOARD_IMAGE), "image/jpeg", Kind::Image)),
        _ => match dir {
            public::HLS_DIR | public::DASH_DIR => {
                let (ctype, kind) = match name.rsplit_once('.')?.1 {
                    "m3u8" if dir == public::HLS_DIR => {
                        ("application/vnd.apple.mpegurl", Kind::Playlist)
                    }
                    "m4s" | "mp4" => (segment_type(media), Kind::Segment),
                    // Text tracks (`text-{id}.vtt`), referenced from both manifests.
                    "vtt" => ("text/vtt; charset=utf-8", Kind::Playlist),
                    _ => return None,
                };
                Some(((layout::STREAM_DIR, name), ctype, kind))
            }
            public::VARIANTS_DIR => out
                .variants
                .iter()
                .find(|v| v.path.strip_prefix(layout::VARIANTS_DIR) == Some(name))
                .map(|v| {
                    (
                        ("", v.path.as_str()),
                        content_type_static(&v.content_type),
                        Kind::Image,
                    )
                }),
            _ => None,
        },
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// The HLS master and the DASH manifest: uploaded text tracks are added as they are served.
    Manifest,
    Playlist,
    Segment,
    Image,
}

fn segment_type(media: &Media) -> &'static str {
    if media.kind == MediaKind::Audio {
        "audio/mp4"
    } else {
        "video/iso.segment"
    }
}

fn content_type_static(ct: &str) -> &'static str {
    match ct {
        "image/webp" => "image/webp",
        "image/png" => "image/png",
        _ => "image/jpeg",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mediaserver_core::{MediaOutputs, Variant};

    fn media() -> Media {
        let (mut m, _) = mediaserver_core::NewOriginal {
            id: mediaserver_core::MediaId::new(),
            owner_id: mediaserver_core::UserId::new(),
            kind: MediaKind::Video,
            content_type: "video/mp4".into(),
            filename: "a.mp4".into(),
            title: None,
            size: 1,
            sha256: String::new(),
            bucket: "media".into(),
            key: "originals/x/a.mp4".into(),
            etag: "e".into(),
            source: mediaserver_core::ObjectSource::Upload,
        }
        .into_records();
        m.outputs = MediaOutputs {
            hls: Some("stream/master.m3u8".into()),
            dash: Some("stream/manifest.mpd".into()),
            thumbnail: Some("thumbnail.jpg".into()),
            storyboard: Some("storyboard.vtt".into()),
            variants: vec![Variant {
                name: "thumb".into(),
                width: 320,
                height: 180,
                content_type: "image/webp".into(),
                path: "variants/thumb.webp".into(),
            }],
            ..Default::default()
        };
        m
    }

    #[test]
    fn resolves_only_known_plain_names() {
        let m = media();
        let path = |f: &str| resolve(&m, f).map(|((dir, name), _, _)| format!("{dir}{name}"));
        assert_eq!(
            path("hls/master.m3u8").as_deref(),
            Some("stream/master.m3u8")
        );
        assert_eq!(
            path("dash/manifest.mpd").as_deref(),
            Some("stream/manifest.mpd")
        );
        assert_eq!(
            path("hls/media_0.m3u8").as_deref(),
            Some("stream/media_0.m3u8")
        );
        assert_eq!(
            path("dash/chunk-0-00001.m4s").as_deref(),
            Some("stream/chunk-0-00001.m4s")
        );
        assert_eq!(
            path("variants/thumb.webp").as_deref(),
            Some("variants/thumb.webp")
        );
        assert_eq!(path("storyboard.jpg").as_deref(), Some("storyboard.jpg"));
        for text in ["hls/text-s0.vtt", "dash/text-s0.vtt"] {
            assert_eq!(path(text).as_deref(), Some("stream/text-s0.vtt"), "{text}");
        }
        for bad in [
            "hls/../../originals/x/a.mp4",
            "hls/..",
            "../x",
            "hls/%2e%2e",
            "hls/a/b.m4s",
            "hls/.hidden.m4s",
            "hls/x.mp3",
            "dash/media_0.m3u8",
            "variants/large.webp",
            "original",
            "hls/",
            "hls/a\\b.m4s",
            "stream/master.m3u8",
        ] {
            assert_eq!(path(bad), None, "{bad}");
        }
    }
}
