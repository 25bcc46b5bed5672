//! What an item's encode was: the tools and their versions, the parameters of each rendition,
//! where it ran, what it cost, and the measured quality of each rendition. Recorded with the
//! item's outputs ([`crate::MediaOutputs::encode`]) and shown in its JSON.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Provenance and cost of an item's encode.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct EncodeReport {
    /// ffmpeg's version as `ffmpeg -version` prints it, e.g. `5.1.6-0+deb12u1`.
    pub ffmpeg_version: String,
    /// Where the encode ran.
    pub runner: EncodeRunner,
    /// Wall-clock seconds of the encode (ffmpeg's one run over every rung); for a chunked
    /// encode, the sum over its parts (every chunk and the rest: the work as one worker would
    /// have done it; see `elapsed_seconds`).
    pub wall_seconds: f64,
    /// CPU seconds (user + system) the encoding ffmpeg used, from the child's own accounting
    /// (summed over the parts of a chunked encode); null where the platform does not say.
    pub cpu_seconds: Option<f64>,
    /// A chunked encode (parts run as separate jobs, possibly side by side): seconds from the
    /// split to the assembly's report, what the item waited for its encode. Null for one job.
    #[serde(default)]
    pub elapsed_seconds: Option<f64>,
    /// How the quality scores were measured and what that cost; null when they were not.
    pub quality: Option<QualitySampling>,
    /// One entry per video rendition, by rendition name (the `name` in `renditions`).
    pub renditions: Vec<RenditionEncode>,
}

/// Where an encode ran.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct EncodeRunner {
    /// `in-process` (ffmpeg in the worker) or `container-instances` (one OCI Container
    /// Instance per job running `mediaserver transcode`).
    pub kind: String,
    /// Host name of the machine (or container) ffmpeg ran on.
    pub host: Option<String>,
    /// The container image, pinned by digest (`…@sha256:…`), for container runners.
    pub image: Option<String>,
    /// The container instance's id, for container runners.
    pub instance: Option<String>,
}

/// How one rendition was encoded, what it weighs, and how good it came out.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct RenditionEncode {
    /// The rendition's name, as in `renditions[].name`.
    pub name: String,
    /// `h264`, …
    pub codec: String,
    /// ffmpeg's encoder, e.g. `libx264`.
    pub encoder: String,
    /// The encoder's own version line, as it wrote it into the stream (e.g. `x264 core 164
    /// r3095 baee400`); null when the stream does not carry one.
    pub encoder_version: Option<String>,
    /// The encoder's full settings as it wrote them into the stream (x264's `options:`).
    pub encoder_settings: Option<String>,
    /// What was asked of the encoder: preset, profile, target, cap and buffer (bits/s), GOP
    /// length (frames) and frame rate.
    pub preset: String,
    pub profile: String,
    /// The quality target (x264's CRF) under the cap, with the adaptive ladder; null for an
    /// average-bitrate encode.
    #[serde(default)]
    pub crf: Option<i64>,
    /// The first segment's quality target when it was encoded ahead of the complexity probe
    /// (at x264's default CRF for the rung, so that the item plays sooner); `crf` is the rest's.
    /// Null when the first segment is like the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_crf: Option<i64>,
    /// That first segment's length in seconds; null as `head_crf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_seconds: Option<i64>,
    /// The average bitrate asked for; 0 under a quality target.
    pub bitrate: i64,
    pub maxrate: i64,
    pub bufsize: i64,
    pub gop: i64,
    pub fps: f64,
    /// The filter chain that made this rendition's pictures from the decoded source
    /// (deinterlace, constant rate, tone-map, scale): what the encoder was fed.
    pub filter: String,
    /// Bytes of the published init and media segments of this rendition.
    pub bytes: i64,
    /// Measured against the source; null when it was not measured.
    pub quality: Option<Quality>,
}

/// Full-reference quality of a rendition against the source as the encoder was fed it, scaled
/// to the rendition's size, on sampled windows (see [`QualitySampling`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct Quality {
    /// SSIM over all planes, 0–1 (1: identical).
    pub ssim: f64,
    /// PSNR over all planes, dB (higher is better; identical frames are reported as 100).
    pub psnr: f64,
    /// VMAF 0–100, only where ffmpeg was built with libvmaf.
    pub vmaf: Option<f64>,
}

/// How the quality scores were sampled, and their cost.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct QualitySampling {
    /// Number of windows compared.
    pub windows: u32,
    /// Seconds of video compared per rendition (all windows together).
    pub sampled_seconds: f64,
    /// Wall-clock seconds of the measurement.
    pub wall_seconds: f64,
    /// CPU seconds (user + system) of the measuring ffmpeg runs and the ffprobe keyframe scan.
    pub cpu_seconds: Option<f64>,
    /// Whether VMAF was measured (ffmpeg built with libvmaf).
    pub vmaf: bool,
}

impl EncodeReport {
    /// The entry of rendition `name` in `codec` (`720p` exists once per codec).
    pub fn rendition(&self, name: &str, codec: &str) -> Option<&RenditionEncode> {
        self.renditions
            .iter()
            .find(|r| r.name == name && r.codec == codec)
    }

    /// The encode's CPU seconds split between its codecs in proportion to the pixels each
    /// encoded (one ffmpeg run encodes every rung, so the split is an estimate; with one codec
    /// it is exact), and each codec's output bytes: `(codec, cpu_seconds, bytes)`, by codec.
    pub fn cost_by_codec(&self) -> Vec<(String, f64, i64)> {
        let weight = |r: &RenditionEncode| {
            let pixels = r.filter_size().map(|(w, h)| w * h).unwrap_or(1) as f64;
            pixels * if r.fps > 0.0 { r.fps } else { 1.0 }
        };
        let total: f64 = self.renditions.iter().map(weight).sum();
        let cpu = self.cpu_seconds.unwrap_or(0.0);
        let mut out: Vec<(String, f64, i64)> = Vec::new();
        for r in &self.renditions {
            let share = if total > 0.0 {
                cpu * weight(r) / total
            } else {
                0.0
            };
            match out.iter_mut().find(|(c, _, _)| *c == r.codec) {
                Some(e) => {
                    e.1 += share;
                    e.2 += r.bytes;
                }
                None => out.push((r.codec.clone(), share, r.bytes)),
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl RenditionEncode {
    /// The size the last `scale=W:H` of the filter chain gives.
    fn filter_size(&self) -> Option<(u64, u64)> {
        let scale = self.filter.rsplit("scale=").next()?;
        let mut it = scale.split([':', ',']);
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rung(name: &str, codec: &str, filter: &str, bytes: i64) -> RenditionEncode {
        RenditionEncode {
            name: name.into(),
            codec: codec.into(),
            filter: filter.into(),
            fps: 30.0,
            bytes,
            ..Default::default()
        }
    }

    #[test]
    fn cost_is_split_by_pixels_and_summed_by_codec() {
        let report = EncodeReport {
            cpu_seconds: Some(10.0),
            renditions: vec![
                rung("720p", "h264", "fps=30/1,scale=1280:720,setsar=1", 300),
                rung("360p", "h264", "fps=30/1,scale=640:360,setsar=1", 100),
                rung("720p-av1", "av1", "scale=1280:720,setsar=1", 200),
            ],
            ..Default::default()
        };
        let cost = report.cost_by_codec();
        assert_eq!(cost.len(), 2);
        assert_eq!(cost[0].0, "av1");
        assert_eq!(cost[1].0, "h264");
        // 720p is four 360p's worth of pixels: av1 4/9, h264 5/9 of the CPU.
        assert!((cost[0].1 - 40.0 / 9.0).abs() < 1e-9, "{cost:?}");
        assert!((cost[1].1 - 50.0 / 9.0).abs() < 1e-9, "{cost:?}");
        assert_eq!((cost[0].2, cost[1].2), (200, 400));
        assert_eq!(report.rendition("360p", "h264").map(|r| r.bytes), Some(100));
    }

    #[test]
    fn old_outputs_have_no_report() {
        let old: crate::MediaOutputs = serde_json::from_str(r#"{"renditions":[]}"#).unwrap();
        assert_eq!(old.encode, None);
        let report = EncodeReport {
            ffmpeg_version: "7.1".into(),
            renditions: vec![rung("720p", "h264", "scale=1280:720", 1)],
            ..Default::default()
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            serde_json::from_value::<EncodeReport>(json).unwrap(),
            report
        );
    }
}
