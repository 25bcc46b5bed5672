//! Image uploads: decode (bounded), apply EXIF orientation, re-encode resized variants without
//! any metadata (which strips EXIF: GPS, camera serials…).
//!
//! [`process`] is synchronous and CPU-bound: async callers must run it on
//! `tokio::task::spawn_blocking`, or use [`process_async`] which does exactly that.

use crate::error::{MediaError, Result};
use ::image::codecs::jpeg::JpegEncoder;
use ::image::codecs::webp::WebPEncoder;
use ::image::imageops::FilterType;
use ::image::metadata::Orientation;
use ::image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageError, ImageReader};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageLimits {
    /// Refuse images with more pixels than this (checked from the header, before decoding).
    pub max_pixels: u64,
    /// Upper bound on what the decoder may allocate, in bytes (`image::Limits::max_alloc`).
    pub max_alloc: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_pixels: 100_000_000,
            // 100 MP of 8-bit RGBA plus headroom for the decoder's own buffers.
            max_alloc: 1024 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantInfo {
    /// `thumb` or `large`.
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// `image/jpeg` or `image/webp`.
    pub content_type: String,
    /// Relative to the output directory, e.g. `variants/thumb.webp`.
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageOutput {
    /// The original's size after orientation is applied (what a viewer sees).
    pub width: u32,
    pub height: u32,
    pub variants: Vec<VariantInfo>,
}

/// (name, maximum width). Never upscaled: a smaller original keeps its width.
pub const VARIANTS: &[(&str, u32)] = &[("thumb", 320), ("large", 1280)];
const JPEG_QUALITY: u8 = 85;

/// [`process`] on the blocking thread pool.
pub async fn process_async(
    input: PathBuf,
    out_dir: PathBuf,
    limits: ImageLimits,
) -> Result<ImageOutput> {
    tokio::task::spawn_blocking(move || process(&input, &out_dir, &limits))
        .await
        .map_err(|e| MediaError::io_context(std::io::ErrorKind::Other, "image task failed", e))?
}

/// Decodes `input` and writes `variants/{thumb,large}.{jpg,webp}` under `out_dir`.
///
/// Blocking; see the module docs.
pub fn process(input: &Path, out_dir: &Path, limits: &ImageLimits) -> Result<ImageOutput> {
    let image = decode(input, limits)?;
    let (width, height) = (image.width(), image.height());

    let dir = out_dir.join("variants");
    std::fs::create_dir_all(&dir)?;
    let mut variants = Vec::new();
    // Largest first, each smaller one resized from the previous: much cheaper than resizing a
    // 100 MP original twice, and no visible difference at these sizes.
    let mut sized: Vec<(&str, DynamicImage)> = Vec::new();
    for (name, max_width) in VARIANTS.iter().rev() {
        let source = sized.last().map(|(_, img)| img).unwrap_or(&image);
        let resized = fit_width(source, *max_width);
        sized.push((name, resized));
    }
    sized.reverse();
    for (name, img) in &sized {
        let (w, h) = (img.width(), img.height());
        let jpg = format!("variants/{name}.jpg");
        write_jpeg(img, &out_dir.join(&jpg))?;
        let webp = format!("variants/{name}.webp");
        write_webp(img, &out_dir.join(&webp))?;
        for (path, content_type) in [(jpg, "image/jpeg"), (webp, "image/webp")] {
            variants.push(VariantInfo {
                name: name.to_string(),
                width: w,
                height: h,
                content_type: content_type.into(),
                path,
            });
        }
    }
    Ok(ImageOutput {
        width,
        height,
        variants,
    })
}

/// Decodes with the pixel count checked from the header first, so a small file claiming
/// gigapixels is refused without allocating for it.
fn decode(input: &Path, limits: &ImageLimits) -> Result<DynamicImage> {
    let file = File::open(input)?;
    if file.metadata()?.len() == 0 {
        return Err(MediaError::unusable("the file is empty"));
    }
    let mut reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(MediaError::Io)?;
    if reader.format().is_none() {
        return Err(MediaError::unusable("not an image in a supported format"));
    }
    let mut decoder_limits = ::image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decoder_limits.clone());
    let mut decoder = reader.into_decoder().map_err(image_error)?;

    let (w, h) = decoder.dimensions();
    let pixels = w as u64 * h as u64;
    if pixels > limits.max_pixels {
        return Err(MediaError::unusable(format!(
            "{w}x{h} image: {pixels} pixels exceeds the limit of {}",
            limits.max_pixels
        )));
    }
    if pixels == 0 {
        return Err(MediaError::unusable("the image has no pixels"));
    }
    // `into_decoder` (unlike `ImageReader::decode`) does not count the output buffer against
    // `max_alloc`; do it here, leaving the rest to the decoder's own buffers.
    decoder_limits
        .reserve(decoder.total_bytes())
        .map_err(image_error)?;
    decoder.set_limits(decoder_limits).map_err(image_error)?;
    // Malformed EXIF is common (editors mangle it): treat it as "no rotation", not a failure.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn image_error(e: ImageError) -> MediaError {
    match e {
        ImageError::Limits(e) => {
            MediaError::unusable(format!("the image exceeds the decoding limits: {e}"))
        }
        ImageError::Unsupported(e) => MediaError::unusable(format!("unsupported image: {e}")),
        ImageError::Decoding(e) => MediaError::unusable(format!("the image is corrupt: {e}")),
        ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::unusable("the image is truncated")
        }
        ImageError::IoError(e) => MediaError::Io(e),
        other => MediaError::Io(std::io::Error::other(other)),
    }
}

/// Resizes to `max_width` wide (aspect kept), or returns a copy when already that narrow.
fn fit_width(image: &DynamicImage, max_width: u32) -> DynamicImage {
    let (w, h) = (image.width(), image.height());
    if w <= max_width {
        return image.clone();
    }
    let new_h = ((h as f64 * max_width as f64 / w as f64).round() as u32).max(1);
    image.resize_exact(max_width, new_h, FilterType::CatmullRom)
}

fn encode_error(e: ImageError) -> MediaError {
    match e {
        ImageError::IoError(e) => MediaError::Io(e),
        other => MediaError::io_context(std::io::ErrorKind::Other, "encoding", other),
    }
}

/// JPEG has no alpha: transparent areas become white rather than whatever colour the
/// transparent pixels happen to hold (often black).
fn write_jpeg(image: &DynamicImage, path: &Path) -> Result<()> {
    let rgb = if image.color().has_alpha() {
        let mut rgba = image.to_rgba8();
        for p in rgba.pixels_mut() {
            let a = p[3] as u32;
            for c in 0..3 {
                p[c] = ((p[c] as u32 * a + 255 * (255 - a) + 127) / 255) as u8;
            }
        }
        DynamicImage::ImageRgba8(rgba).to_rgb8()
    } else {
        image.to_rgb8()
    };
    let mut out = BufWriter::new(File::create(path)?);
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(encode_error)?;
    out.flush()?;
    Ok(())
}

/// The image crate only encodes lossless WebP. That is acceptable for these sizes (a 1280-wide
/// photo is larger than lossy would be, still far smaller than the original) and keeps the build
/// free of libwebp.
fn write_webp(image: &DynamicImage, path: &Path) -> Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    let encoder = WebPEncoder::new_lossless(&mut out);
    if image.color().has_alpha() {
        let rgba = image.to_rgba8();
        encoder.encode(
            rgba.as_raw(),
            rgba.width(),
            rgba.height(),
            ExtendedColorType::Rgba8,
        )
    } else {
        let rgb = image.to_rgb8();
        encoder.encode(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            ExtendedColorType::Rgb8,
        )
    }
    .map_err(encode_error)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::image::{Rgba, RgbaImage};

    #[test]
    fn fit_width_never_upscales() {
        let img = DynamicImage::new_rgb8(200, 100);
        assert_eq!(fit_width(&img, 320).width(), 200);
        let r = fit_width(&img, 50);
        assert_eq!((r.width(), r.height()), (50, 25));
    }

    #[test]
    fn transparent_becomes_white_in_jpeg() {
        let dir = tempfile::tempdir().unwrap();
        let img = DynamicImage::ImageRgba8(RgbaImage::from_pixel(8, 8, Rgba([0, 0, 0, 0])));
        let path = dir.path().join("t.jpg");
        write_jpeg(&img, &path).unwrap();
        let back = ::image::open(&path).unwrap().to_rgb8();
        assert!(back
            .pixels()
            .all(|p| p[0] > 245 && p[1] > 245 && p[2] > 245));
    }
}
