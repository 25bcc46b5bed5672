//! The `mediaserver` binary as a library: configuration, the wiring from configuration to the
//! database, storage, secrets, the HTTP app and the processing pipeline, and the command line.
//! `main.rs` only calls [`cli::main`]; the integration tests use the wiring directly.

pub mod cli;
pub mod config;
mod events;
pub mod pictures;
mod secrets;
mod server;
mod state;
mod storage;
mod workers;

pub use events::{run_events, SqsQueue};
pub use secrets::{jwt_secret, resolve_oci_secrets};
pub use server::{shutdown_signal, Server};
pub use state::{api_settings, build_ingest, build_state, ingest, open_database};
pub use storage::open_storage;
pub use workers::{
    in_process_runner, job_runner, pipeline, run_workers, worker_name, worker_settings,
};
