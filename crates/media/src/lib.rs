//! Media processing for mediaserver: local input files in, local output directories out.
//!
//! Nothing here knows about HTTP, databases or object storage. The pieces:
//! * [`probe`]: ffprobe → [`probe::ProbeInfo`];
//! * [`ladder`]: which renditions to encode (pure);
//! * [`transcode`]: one ffmpeg run per upload → CMAF segments + HLS + DASH, thumbnail,
//!   storyboard; audio-only ladders;
//! * [`frames`]: stills and short animations at any time and size, from a published stream;
//! * [`quality`]: SSIM/PSNR (VMAF with libvmaf) of each rung against the source, sampled;
//! * [`image`]: bounded decode, EXIF orientation, JPEG/WebP variants;
//! * [`process`]: the subprocess wrapper everything above uses (timeout, kill-on-drop,
//!   cancellation, bounded stderr tail).
//!
//! Errors are [`MediaError`]; [`MediaError::is_permanent`] tells the caller not to retry.

mod diagnose;
pub mod error;
pub mod frames;
pub mod image;
pub mod ladder;
pub mod probe;
pub mod process;
pub mod progress;
pub mod quality;
pub mod transcode;

pub use error::{MediaError, Result};
pub use tokio_util::sync::CancellationToken;
