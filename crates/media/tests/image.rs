//! Image variants: sizes, EXIF orientation and stripping, decompression bombs.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use mediaserver_media::image::{process, process_async, ImageLimits, ImageOutput};
use mediaserver_media::MediaError;
use std::path::Path;
use std::time::{Duration, Instant};

fn variant(out: &ImageOutput, name: &str, content_type: &str) -> (u32, u32, String) {
    let v = out
        .variants
        .iter()
        .find(|v| v.name == name && v.content_type == content_type)
        .unwrap_or_else(|| panic!("no {name} {content_type} in {out:?}"));
    (v.width, v.height, v.path.clone())
}

/// Decodes a written variant and checks its real size and format.
fn check_file(dir: &Path, path: &str, format: ImageFormat, w: u32, h: u32) -> DynamicImage {
    let bytes = std::fs::read(dir.join(path)).unwrap();
    assert_eq!(image::guess_format(&bytes).unwrap(), format, "{path}");
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (w, h), "{path}");
    img
}

#[test]
fn png_gets_thumb_and_large_in_jpeg_and_webp() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    RgbImage::from_fn(1600, 900, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    })
    .save(&input)
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = process(&input, &out_dir, &ImageLimits::default()).unwrap();
    assert_eq!((out.width, out.height), (1600, 900));
    assert_eq!(out.variants.len(), 4);
    for (name, w, h) in [("thumb", 320, 180), ("large", 1280, 720)] {
        let (vw, vh, jpg) = variant(&out, name, "image/jpeg");
        assert_eq!((vw, vh), (w, h));
        assert_eq!(jpg, format!("variants/{name}.jpg"));
        check_file(&out_dir, &jpg, ImageFormat::Jpeg, w, h);
        let (_, _, webp) = variant(&out, name, "image/webp");
        assert_eq!(webp, format!("variants/{name}.webp"));
        check_file(&out_dir, &webp, ImageFormat::WebP, w, h);
    }
}

#[test]
fn small_images_are_never_upscaled() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("small.png");
    RgbImage::from_pixel(200, 100, Rgb([10, 20, 30]))
        .save(&input)
        .unwrap();
    let out = process(&input, &dir.path().join("out"), &ImageLimits::default()).unwrap();
    for v in &out.variants {
        assert_eq!((v.width, v.height), (200, 100), "{v:?}");
    }
}

/// An APP1 segment holding a big-endian TIFF with one IFD entry: Orientation (0x0112) = `value`.
fn exif_app1(value: u16) -> Vec<u8> {
    let mut tiff = b"MM\x00\x2a\x00\x00\x00\x08".to_vec();
    tiff.extend([0x00, 0x01]); // one entry
    tiff.extend([0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01]); // tag, SHORT, count 1
    tiff.extend(value.to_be_bytes());
    tiff.extend([0x00, 0x00]); // value padding
    tiff.extend([0x00, 0x00, 0x00, 0x00]); // no next IFD
    let mut payload = b"Exif\x00\x00".to_vec();
    payload.extend(tiff);
    let mut seg = vec![0xFF, 0xE1];
    seg.extend(((payload.len() + 2) as u16).to_be_bytes());
    seg.extend(payload);
    seg
}

#[test]
fn exif_orientation_is_applied_and_exif_stripped() {
    let dir = tempfile::tempdir().unwrap();
    // Left half red, right half blue; orientation 6 means "rotate 90° clockwise to display",
    // so upright the red half is on top.
    let img = RgbImage::from_fn(400, 200, |x, _| {
        if x < 200 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut jpeg), ImageFormat::Jpeg)
        .unwrap();
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut with_exif = jpeg[..2].to_vec();
    with_exif.extend(exif_app1(6));
    with_exif.extend(&jpeg[2..]);
    let input = dir.path().join("phone.jpg");
    std::fs::write(&input, &with_exif).unwrap();

    let out_dir = dir.path().join("out");
    let out = process(&input, &out_dir, &ImageLimits::default()).unwrap();
    assert_eq!((out.width, out.height), (200, 400), "oriented size");
    let (w, h, path) = variant(&out, "large", "image/jpeg");
    assert_eq!((w, h), (200, 400));
    let large = check_file(&out_dir, &path, ImageFormat::Jpeg, 200, 400).to_rgb8();
    let top = large.get_pixel(100, 50);
    let bottom = large.get_pixel(100, 350);
    assert!(top[0] > 200 && top[2] < 60, "top should be red: {top:?}");
    assert!(
        bottom[2] > 200 && bottom[0] < 60,
        "bottom should be blue: {bottom:?}"
    );
    for v in &out.variants {
        let bytes = std::fs::read(out_dir.join(&v.path)).unwrap();
        assert!(
            !bytes.windows(6).any(|w| w == b"Exif\0\0") && !bytes.windows(4).any(|w| w == b"EXIF"),
            "{} still carries EXIF",
            v.path
        );
    }
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend(kind);
    out.extend(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend(data);
    out.extend(crc32(&crc_input).to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn decompression_bomb_is_refused_without_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB: 30 GB decoded
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    ));
    png.extend(png_chunk(b"IEND", &[]));
    let input = dir.path().join("bomb.png");
    std::fs::write(&input, &png).unwrap();
    assert!(png.len() < 100);

    let started = Instant::now();
    let err = process_async(input, dir.path().join("out"), ImageLimits::default())
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.is_permanent(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("10000000000 pixels exceeds the limit"),
        "{msg}"
    );
}

#[test]
fn alloc_limit_is_enforced_too() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    RgbImage::from_pixel(1000, 1000, Rgb([1, 2, 3]))
        .save(&input)
        .unwrap();
    let limits = ImageLimits {
        max_pixels: 100_000_000,
        max_alloc: 100_000,
    };
    let err = process(&input, &dir.path().join("out"), &limits).unwrap_err();
    assert!(err.is_permanent(), "{err}");
}

#[test]
fn garbage_truncated_and_empty_are_unusable() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.png");
    RgbImage::from_pixel(300, 300, Rgb([1, 2, 3]))
        .save(&good)
        .unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let cases: [(&str, Vec<u8>); 3] = [
        ("text.png", b"hello, this is not an image".repeat(10)),
        ("cut.png", bytes[..bytes.len() / 3].to_vec()),
        ("empty.jpg", Vec::new()),
    ];
    for (name, content) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let err = process(&path, &dir.path().join("out"), &ImageLimits::default()).unwrap_err();
        assert!(matches!(err, MediaError::Unusable(_)), "{name}: {err}");
    }
}
