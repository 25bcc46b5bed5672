//! What ffmpeg is and whether it has libvmaf (`ffmpeg -version`).

use crate::error::{MediaError, Result};
use crate::process::{self, Budget};

/// What ffmpeg is and can do.
#[derive(Debug, Clone, PartialEq)]
pub struct FfmpegBuild {
    /// As `ffmpeg -version` prints it: `5.1.6-0+deb12u1`.
    pub version: String,
    /// Built with libvmaf (`--enable-libvmaf`).
    pub libvmaf: bool,
}

/// Runs `ffmpeg -version`.
pub async fn ffmpeg_build(budget: &Budget) -> Result<FfmpegBuild> {
    let mut out = process::Collect::new(64 * 1024);
    let finished = process::run("ffmpeg", ["-version"], "ffmpeg -version", budget, |c| {
        out.push(c)
    })
    .await?;
    if !finished.success() {
        return Err(finished.into_error());
    }
    parse_version(&String::from_utf8_lossy(&out.bytes))
        .ok_or_else(|| MediaError::bad_output("ffmpeg -version printed no version"))
}

fn parse_version(text: &str) -> Option<FfmpegBuild> {
    let version = text
        .lines()
        .next()?
        .strip_prefix("ffmpeg version ")?
        .split_whitespace()
        .next()?
        .to_string();
    Some(FfmpegBuild {
        version,
        libvmaf: text.contains("--enable-libvmaf"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ffmpeg_version_and_libvmaf() {
        let b = parse_version("ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg developers\nbuilt with gcc 12\nconfiguration: --enable-gpl --enable-libx264\n").unwrap();
        assert_eq!(b.version, "5.1.6-0+deb12u1");
        assert!(!b.libvmaf);
        let b = parse_version(
            "ffmpeg version n7.1 Copyright\nconfiguration: --enable-libvmaf --enable-libx264",
        )
        .unwrap();
        assert_eq!(b.version, "n7.1");
        assert!(b.libvmaf);
        assert_eq!(parse_version("ffprobe version 7"), None);
    }
}
