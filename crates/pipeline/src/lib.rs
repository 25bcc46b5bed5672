//! The processing pipeline: workers that claim jobs from the durable queue, fetch originals from
//! storage, run the media steps (ffprobe, one ffmpeg encode packaged as HLS + DASH, thumbnails,
//! storyboards, image variants), publish the outputs and record the result — plus signed webhooks.
//! Knows nothing of HTTP.

pub mod container_instances;
mod error;
pub mod process;
mod progressive;
pub mod webhook;
pub mod worker;

pub use container_instances::{ContainerInstancesRunner, InstanceTemplate};
pub use error::PipelineError;
pub use process::{process_file, process_file_with, ProcessSettings, Processed};
pub use webhook::{WebhookEvent, WebhookSender};
pub use worker::{Pipeline, WorkerSettings};
