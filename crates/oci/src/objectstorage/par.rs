//! Pre-authenticated requests (`POST /n/{ns}/b/{bucket}/p/`): a URL anyone can use to read or
//! write one object until it expires. The answer's `accessUri` (`/p/{token}/n/{ns}/b/{bucket}/
//! o/{object}`) is relative to the Object Storage endpoint; the token in it is a credential, so
//! [`PreauthenticatedRequest`]'s `Debug` leaves it out.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use http::header::CONTENT_TYPE;
use url::Url;

use super::{encode_segment, parse_url, transport, BucketClient};
use crate::client::malformed_from;
use crate::error::OciError;
use crate::signer::BodySigning;

/// What the URL allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParAccess {
    /// GET (and HEAD) of the object.
    ObjectRead,
    /// PUT of the object (single upload or multipart through the PAR).
    ObjectWrite,
    ObjectReadWrite,
}

impl ParAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            ParAccess::ObjectRead => "ObjectRead",
            ParAccess::ObjectWrite => "ObjectWrite",
            ParAccess::ObjectReadWrite => "ObjectReadWrite",
        }
    }
}

/// A created pre-authenticated request.
#[derive(Clone, PartialEq, Eq)]
pub struct PreauthenticatedRequest {
    /// Needed to delete it early.
    pub id: String,
    pub name: String,
    pub object_name: Option<String>,
    pub access_type: String,
    pub time_expires: DateTime<Utc>,
    /// The full URL (endpoint + access URI). Contains the token.
    pub url: Url,
}

impl fmt::Debug for PreauthenticatedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreauthenticatedRequest")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("object_name", &self.object_name)
            .field("access_type", &self.access_type)
            .field("time_expires", &self.time_expires)
            .field("url", &"<contains the access token>")
            .finish()
    }
}

impl BucketClient {
    /// Creates a pre-authenticated request for `object` named `name`, valid until `expires`.
    pub async fn create_par(
        &self,
        name: &str,
        object: &str,
        access: ParAccess,
        expires: DateTime<Utc>,
    ) -> Result<PreauthenticatedRequest, OciError> {
        super::check_object_name(object)?;
        let url = self.url("p/", None)?;
        let body = serde_json::json!({
            "name": name,
            "objectName": object,
            "accessType": access.as_str(),
            "timeExpires": expires.to_rfc3339_opts(SecondsFormat::Millis, true),
        })
        .to_string();
        let req = self
            .oci
            .http()
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let resp = self.call(req, BodySigning::Auto, false).await?;
        let resp_url = resp.url().clone();
        let text = resp.text().await.map_err(|e| transport(&resp_url, e))?;
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            id: String,
            name: String,
            access_uri: String,
            object_name: Option<String>,
            access_type: String,
            time_expires: DateTime<Utc>,
        }
        let c: Created = serde_json::from_str(&text).map_err(|e| {
            malformed_from(
                &resp_url,
                format!("CreatePreauthenticatedRequest answer is not a PAR ({e})"),
                e,
            )
        })?;
        let url = self.par_url(&c.access_uri, object)?;
        Ok(PreauthenticatedRequest {
            id: c.id,
            name: c.name,
            object_name: c.object_name,
            access_type: c.access_type,
            time_expires: c.time_expires,
            url,
        })
    }

    /// The endpoint joined with `access_uri`. For an object PAR
    /// (`/p/{token}/n/{ns}/b/{bucket}/o/{name}`) the object part is rebuilt with this client's
    /// encoding, so a name with `%`, `?` or `#` in it cannot change the URL's meaning whatever
    /// escaping the service applied.
    fn par_url(&self, access_uri: &str, object: &str) -> Result<Url, OciError> {
        let endpoint = &self.oci.endpoints().object_storage;
        let bad = || OciError::config(format!("unexpected PAR accessUri shape (object {object})"));
        let rest = access_uri.strip_prefix("/p/").ok_or_else(bad)?;
        let (token, tail) = rest.split_once('/').ok_or_else(bad)?;
        let url = if tail.starts_with("n/") && tail.contains("/o/") {
            format!(
                "{endpoint}/p/{token}/n/{}/b/{}/o/{}",
                encode_segment(self.namespace()),
                encode_segment(self.bucket()),
                encode_segment(object)
            )
        } else {
            format!("{endpoint}{access_uri}")
        };
        parse_url(&url)
    }
}
