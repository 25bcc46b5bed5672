//! Domain types shared by every layer: media items, users, events, the retry policy of jobs,
//! secrets and content sniffing. Nothing here knows about HTTP, SQL, a storage provider or where
//! configuration comes from (the `mediaserver` binary reads it).

pub mod model;
pub mod retry;
pub mod secret;
pub mod sniff;

pub use model::*;
pub use retry::{Failure, RetryPolicy};
pub use secret::Secret;
