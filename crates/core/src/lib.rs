//! Domain types shared by every layer: media items, users, events, their typed ids, the retry
//! policy of jobs, the storage layout, secrets and content sniffing. Nothing here knows about
//! HTTP, SQL, a storage provider or where configuration comes from (the `mediaserver` binary
//! reads it).

pub mod analytics;
pub mod encode;
mod error_chain;
pub mod ids;
pub mod layout;
pub mod model;
pub mod retry;
pub mod secret;
pub mod sniff;
pub mod webhook;

pub use encode::{EncodeReport, EncodeRunner, Quality, QualitySampling, RenditionEncode};
pub use error_chain::ErrorChain;
pub use ids::{new_id, DeliveryId, InvalidId, JobId, MediaId, SessionId, UploadId, UserId};
pub use model::*;
pub use retry::{Failure, Retry, RetryPolicy};
pub use secret::Secret;
