//! The processing pipeline: workers that claim jobs from the durable queue and hand each to a
//! runner — in this process (fetch the original, ffprobe, one ffmpeg encode packaged as HLS +
//! DASH, thumbnails, storyboards, image variants, publish the outputs) or elsewhere (an OCI
//! Container Instance running `mediaserver transcode`) — then record the result; plus signed
//! webhooks. Knows nothing of HTTP.

pub mod backfill;
pub mod chunked;
pub mod encode_report;
mod error;
mod objects;
pub mod pictures;
pub mod process;
mod progress;
mod progressive;
pub mod runner;
pub mod webhook;
pub mod worker;

pub use error::PipelineError;
pub use mediaserver_core::ErrorChain;
pub use mediaserver_media::transcode::chunked::ChunkSettings;
pub use mediaserver_media::transcode::{DownloadRenditions, LadderMode};
/// The video codecs items are published in, and their settings (`VIDEO_CODECS`).
pub mod codecs {
    pub use mediaserver_media::transcode::{
        parse_codec_list, CodecOptions, VideoCodec, AV1_PRESETS, DEFAULT_AV1_PRESET,
        DEFAULT_HEVC_PRESET, X265_PRESETS,
    };
}
pub use process::{cut_clip, process_file, process_file_with, ProcessSettings, Processed};
pub use progress::ProgressReporter;
pub use runner::container_instances::{ContainerInstancesRunner, InstanceTemplate};
pub use runner::in_process::InProcessRunner;
pub use runner::remote::{TranscodeProgress, PROGRESS_OBJECT, SUMMARY_OBJECT};
pub use runner::scratch::ScratchSettings;
pub use runner::{JobDone, JobRunner, RunContext};
pub use webhook::{DeliveryPolicy, WebhookSender};
pub use worker::{Pipeline, WorkerSettings};
