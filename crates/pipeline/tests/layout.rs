//! The media crate names the files it writes itself; the pipeline publishes them one to one under
//! an item's outputs prefix, so its names must be the storage layout's.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mediaserver_core::layout;
use mediaserver_media::{image, transcode};

/// A 1×1 PNG.
const PIXEL: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[test]
fn media_output_names_are_the_layouts() {
    assert_eq!(transcode::HLS_MASTER, layout::HLS_MASTER);
    assert_eq!(transcode::DASH_MANIFEST, layout::DASH_MANIFEST);
    assert_eq!(transcode::THUMBNAIL, layout::THUMBNAIL);
    assert_eq!(transcode::STORYBOARD_VTT, layout::STORYBOARD_VTT);
    assert_eq!(transcode::STORYBOARD_IMAGE, layout::STORYBOARD_IMAGE);
    assert_eq!(format!("{}/", transcode::STREAM_DIR), layout::STREAM_DIR);
    for id in ["s0", "s12", "up-3"] {
        assert_eq!(transcode::text_track_vtt(id), layout::text_track_vtt(id));
        assert_eq!(
            transcode::text_track_playlist(id),
            layout::text_track_playlist(id)
        );
    }
    assert_eq!(
        format!("{}/", transcode::DOWNLOADS_DIR),
        layout::DOWNLOADS_DIR
    );
    assert_eq!(transcode::AUDIO_DOWNLOAD, layout::AUDIO_DOWNLOAD);
    assert_eq!(
        format!("{}/720p.mp4", transcode::DOWNLOADS_DIR),
        layout::download_file("720p", "mp4")
    );

    // Image variants have no constant of their own: look at what the step writes.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pixel.png");
    std::fs::write(&input, PIXEL).unwrap();
    let out = image::process(&input, &dir.path().join("out"), &Default::default()).unwrap();
    assert!(!out.variants.is_empty());
    for v in &out.variants {
        assert!(v.path.starts_with(layout::VARIANTS_DIR), "{}", v.path);
    }
}
