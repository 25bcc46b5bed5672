//! The server's integration tests, one binary: each of the ~20 files used to link its own copy of
//! the whole server (80–320 MB apiece), which filled CI's disk. Tests of all modules run side by
//! side, as many at a time as cargo's test threads allow, exactly as before within one file.

// A panic is how a test reports failure; the workspace's unwrap/expect lints are for code that ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod registry_support;

mod adaptive_ladder;
mod admin;
mod analytics;
mod api_auth;
mod api_hardening;
mod api_keys;
mod api_media;
mod api_ops;
mod api_proxy;
mod architecture;
mod audio_tracks;
mod backends;
mod chunked;
mod chunked_leftovers;
mod chunked_report;
mod cli;
mod cli_polish;
mod cli_upload;
mod clips;
mod codecs;
mod container_instances;
mod deploy_docs;
mod downloads;
mod embeds;
mod events;
mod events_sqs;
mod events_streaming;
mod faults;
mod firstplay;
mod gcs;
mod job_faults;
mod mysql;
mod oci_storage;
mod oci_vault;
mod openapi;
mod path_ids;
mod pictures;
mod pipeline;
mod playback;
mod playback_cache;
mod playback_tokens;
mod polish;
mod progressive;
mod quality;
mod reconcile;
mod registry;
mod registry_google;
mod registry_providers;
mod registry_prune;
mod registry_token;
mod source_formats;
mod source_info;
mod subtitles;
mod text_tracks;
mod uploads_direct;
mod uploads_tus;
mod vault_shared_secrets;
mod webhooks;
mod workers;
