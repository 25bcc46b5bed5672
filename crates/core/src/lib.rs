//! Domain types shared by every layer: media items, users, events, configuration, the storage
//! layout and content sniffing. Nothing here knows about HTTP, SQL or a storage provider.

pub mod config;
mod error_chain;
pub mod job_runner;
pub mod layout;
pub mod model;
pub mod retry;
pub mod sniff;

pub use config::{Config, ConfigError, JobConfig, StorageConfig, StorageProvider, WebhookConfig};
pub use error_chain::ErrorChain;
pub use model::*;
pub use retry::{Failure, RetryPolicy};
