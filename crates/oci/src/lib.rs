//! `mediaserver-oci`: a small Oracle Cloud Infrastructure client layer — regions and
//! endpoints, request signing, auth principals and the Vault secrets API. There is no official
//! OCI SDK for Rust; this crate carries only what mediaserver needs, checked against Oracle's
//! published signing test values and against the `oci` Python SDK.
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

pub mod auth;
pub mod client;
pub mod endpoints;
pub mod error;
pub mod key;
pub mod region;
pub mod signer;
#[cfg(feature = "standin")]
pub mod standin;
pub mod vault;

pub use auth::{AuthKind, AuthProvider, AuthSettings, Credentials};
pub use client::{default_http_client, OciClient};
pub use endpoints::{EndpointOverrides, Endpoints};
pub use error::OciError;
pub use key::{PrivateKey, SigningKey};
pub use region::Region;
pub use signer::{Body, BodySigning};
