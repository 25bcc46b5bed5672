//! `mediaserver-oci`: a small Oracle Cloud Infrastructure client layer — regions and
//! endpoints, request signing, auth principals and the Vault secrets API. There is no official
//! OCI SDK for Rust; this crate carries only what mediaserver needs, checked against Oracle's
//! published signing test values and against the `oci` Python SDK.
//!
//! # Object Storage ([`objectstorage`])
//!
//! [`objectstorage::ObjectStorageClient`] / [`objectstorage::BucketClient`]: PutObject,
//! multipart uploads, GetObject with Range, HeadObject, ListObjects with pagination,
//! DeleteObject and pre-authenticated requests, signed through an [`OciClient`].
//!
//! # Regions and endpoints ([`region`], [`endpoints`])
//!
//! ```
//! use mediaserver_oci::{EndpointOverrides, Endpoints, Region};
//! let region: Region = "IAD".parse()?;            // identifier or key, any case
//! assert_eq!(region.id(), "us-ashburn-1");
//! let ep = Endpoints::resolve(&region, &EndpointOverrides::default())?;
//! assert_eq!(ep.object_storage, "https://objectstorage.us-ashburn-1.oraclecloud.com");
//! assert_eq!(region.ocir_host(), "iad.ocir.io");
//! # Ok::<(), mediaserver_oci::OciError>(())
//! ```
//!
//! [`EndpointOverrides::from_lookup`] / [`EndpointOverrides::from_env`] read
//! `OCI_OBJECTSTORAGE_ENDPOINT`, `OCI_SECRETS_ENDPOINT`, `OCI_CONTAINER_INSTANCES_ENDPOINT`,
//! `OCI_AUTH_ENDPOINT`, `OCI_METADATA_ENDPOINT`, `OCIR_ENDPOINT`.
//!
//! # Keys and signing ([`key`], [`signer`])
//!
//! [`PrivateKey`] loads PKCS#1, PKCS#8, encrypted PKCS#8 and OpenSSL-traditional encrypted
//! PEM keys and computes OCI's fingerprint. [`signer::sign_reqwest`] / [`signer::sign_http`] /
//! [`signer::sign_parts`] add `date`, `host`, body headers and `authorization` to a request;
//! [`BodySigning::Auto`] leaves the body out for Object Storage PutObject/UploadPart like the
//! SDKs do.
//!
//! ```no_run
//! # async fn f(key: mediaserver_oci::PrivateKey) -> Result<(), mediaserver_oci::OciError> {
//! use mediaserver_oci::signer::{sign_reqwest, BodySigning};
//! let client = reqwest::Client::new();
//! let mut req = client.get("https://objectstorage.us-ashburn-1.oraclecloud.com/n/").build().unwrap();
//! sign_reqwest(&mut req, "ocid1.tenancy.oc1..x/ocid1.user.oc1..y/aa:bb", &key, BodySigning::Auto)?;
//! # Ok(()) }
//! ```
//!
//! # Principals ([`auth`]) and the client ([`client`])
//!
//! [`AuthSettings::from_env`] / [`AuthSettings::from_lookup`] read `OCI_AUTH`
//! (`api_key` | `instance_principal` | `resource_principal`), `OCI_CONFIG_FILE`, `OCI_PROFILE`,
//! `OCI_REGION`, the endpoint overrides and the `OCI_RESOURCE_PRINCIPAL_*` variables (the
//! server's `Config::oci` holds one, already validated). [`auth::provider_from_settings`]
//! builds the `Arc<dyn AuthProvider>`; [`OciClient::connect`] does that and resolves the
//! region and [`Endpoints`] too. Then:
//!
//! * [`OciClient::execute`] signs (fresh [`Credentials`] per request), sends, and after a 401
//!   refreshes the principal and retries once when it can; a final 401 becomes
//!   [`OciError::NotAuthenticated`] naming the principal ("API key {keyId}", "session token of
//!   instance principal") and whether the clock looks skewed. [`OciClient::execute_checked`]
//!   also turns any other non-2xx into [`OciError::Service`] (`status`, OCI `code`, `message`,
//!   `opc-request-id`); [`client::service_error`] does that for a response you inspected first.
//! * Lower level: `provider.credentials().await?.sign_reqwest(&mut req, BodySigning::Auto)`.
//!   Streaming bodies: preset `x-content-sha256` + `content-length`, or
//!   [`BodySigning::Exclude`] (PutObject/UploadPart paths are excluded automatically).
//!
//! ```no_run
//! # async fn f() -> Result<(), mediaserver_oci::OciError> {
//! use mediaserver_oci::{default_http_client, vault, AuthSettings, OciClient};
//! let client = OciClient::connect(&AuthSettings::from_env()?, default_http_client()?).await?;
//! let jwt_secret = vault::read_secret_string(&client, "ocid1.vaultsecret.oc1.iad.xxx").await?;
//! # Ok(()) }
//! ```
//!
//! # Vault ([`vault`])
//!
//! [`vault::read_secret`] / [`vault::read_secret_string`]: the current version of a secret
//! (`GET {secrets}/20190301/secretbundles/{id}`, base64 content); errors name the secret OCID.
//!
//! # Streaming ([`streaming`])
//!
//! [`streaming::StreamClient`]: GetStream (the stream's messages endpoint), CreateGroupCursor,
//! GetMessages, ConsumerCommit and PutMessages — a consumer group member's calls, for bucket
//! events that OCI Events writes to a stream.
//!
//! # Tests
//!
//! The crate `mediaserver-oci-standin` (test support, not published) serves the metadata
//! service, x509 federation, Secrets, Object Storage, Container Instances, Streaming and OCIR's
//! token exchange on 127.0.0.1 and verifies every request as OCI does.

pub mod auth;
pub mod client;
pub mod container_instances;
pub mod endpoints;
pub mod error;
pub mod key;
pub mod objectstorage;
pub mod region;
pub mod registry;
pub mod signer;
pub mod streaming;
pub mod vault;

pub use auth::{AuthKind, AuthProvider, AuthSettings, Credentials};
pub use client::{default_http_client, OciClient};
pub use endpoints::{EndpointOverrides, Endpoints};
pub use error::OciError;
pub use key::{PrivateKey, SigningKey};
pub use region::Region;
pub use signer::{Body, BodySigning};
