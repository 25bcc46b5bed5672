//! OCI Streaming (`20180418`): what a consumer group member needs — GetStream (to learn the
//! stream's messages endpoint), CreateGroupCursor, GetMessages, ConsumerCommit — and
//! PutMessages (what OCI Events does when its rule's action is a stream; tests publish with it).
//! Shapes follow the API reference (the `oci` SDKs' `streaming` models). Cursors are opaque: a
//! group cursor starts after the group's last committed offsets, and committing the cursor
//! GetMessages handed back (`opc-next-cursor`) commits everything read before it.

use base64::Engine as _;
use http::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};

use crate::client::{malformed, malformed_from, transport, OciClient};
use crate::error::OciError;
use crate::signer::BodySigning;

const API: &str = "20180418";
/// Per-call bound; GetMessages answers at once (it does not long-poll).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Checks the shape of a stream OCID (`ocid1.stream.<realm>.<region>.<id>`), so a typo is
/// reported as such instead of as a 404.
pub fn validate_stream_ocid(id: &str) -> Result<(), String> {
    if !id.starts_with("ocid1.stream.") {
        return Err(format!(
            "'{id}' is not a stream OCID (expected ocid1.stream.…)"
        ));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(format!("'{id}' contains characters an OCID never has"));
    }
    Ok(())
}

/// The control-plane endpoint of Streaming in the client's region
/// (`https://streaming.{region}.oci.{domain}`), where GetStream is asked.
pub fn default_endpoint(oci: &OciClient) -> String {
    oci.region().oci_endpoint("streaming")
}

/// One message as GetMessages returns it, key and value decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub partition: String,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
}

/// A batch of messages and the cursor to read (and commit) after them.
#[derive(Debug, Clone)]
pub struct Batch {
    pub messages: Vec<Message>,
    pub next_cursor: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamInfo {
    messages_endpoint: String,
}

#[derive(Deserialize)]
struct Cursor {
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    partition: String,
    offset: i64,
    key: Option<String>,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateGroupCursor<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    group_name: &'a str,
    instance_name: &'a str,
    commit_on_get: bool,
}

/// One stream's messages endpoint, read as a member of a consumer group.
#[derive(Debug, Clone)]
pub struct StreamClient {
    oci: OciClient,
    stream_id: String,
    /// `{messagesEndpoint}/20180418/streams/{id}`
    base: String,
}

impl StreamClient {
    /// Asks the Streaming API at `endpoint` (see [`default_endpoint`]) for the stream's
    /// messages endpoint.
    pub async fn connect(
        oci: OciClient,
        endpoint: &str,
        stream_id: &str,
    ) -> Result<StreamClient, OciError> {
        validate_stream_ocid(stream_id).map_err(OciError::config)?;
        let url = format!(
            "{}/{API}/streams/{stream_id}",
            endpoint.trim_end_matches('/')
        );
        let req = oci.http().get(&url);
        let info: StreamInfo = json(call(&oci, req).await?, "GetStream").await?;
        let base = format!(
            "{}/{API}/streams/{stream_id}",
            info.messages_endpoint.trim_end_matches('/')
        );
        Ok(StreamClient {
            oci,
            stream_id: stream_id.to_string(),
            base,
        })
    }

    pub fn stream_id(&self) -> &str {
        &self.stream_id
    }

    /// CreateGroupCursor without commit-on-get: for a new group it starts at the oldest
    /// retained message (`TRIM_HORIZON`); for a known one, after its last commit.
    pub async fn group_cursor(&self, group: &str, instance: &str) -> Result<String, OciError> {
        let body = serde_json::to_vec(&CreateGroupCursor {
            kind: "TRIM_HORIZON",
            group_name: group,
            instance_name: instance,
            commit_on_get: false,
        })
        .map_err(|e| OciError::config_from(format!("cannot encode the cursor request: {e}"), e))?;
        let req = self
            .oci
            .http()
            .post(format!("{}/groupCursors", self.base))
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let c: Cursor = json(call(&self.oci, req).await?, "CreateGroupCursor").await?;
        Ok(c.value)
    }

    /// GetMessages from `cursor` (at most `limit`); empty when there is nothing new.
    pub async fn get_messages(&self, cursor: &str, limit: u32) -> Result<Batch, OciError> {
        let req = self
            .oci
            .http()
            .get(format!("{}/messages", self.base))
            .query(&[("cursor", cursor), ("limit", &limit.to_string())]);
        let resp = call(&self.oci, req).await?;
        let url = resp.url().clone();
        let next_cursor = resp
            .headers()
            .get("opc-next-cursor")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| malformed(&url, "GetMessages without opc-next-cursor".into()))?;
        let raw: Vec<RawMessage> = json(resp, "GetMessages").await?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut messages = Vec::with_capacity(raw.len());
        for m in raw {
            let value = b64
                .decode(m.value.as_bytes())
                .map_err(|e| malformed_from(&url, "a message value is not base64".into(), e))?;
            let key =
                match m.key {
                    Some(k) => Some(b64.decode(k.as_bytes()).map_err(|e| {
                        malformed_from(&url, "a message key is not base64".into(), e)
                    })?),
                    None => None,
                };
            messages.push(Message {
                partition: m.partition,
                offset: m.offset,
                key,
                value,
            });
        }
        Ok(Batch {
            messages,
            next_cursor,
        })
    }

    /// ConsumerCommit: the group's offsets become those `cursor` points at (everything read
    /// before it is done). Returns the cursor to go on with.
    pub async fn commit(&self, cursor: &str) -> Result<String, OciError> {
        let req = self
            .oci
            .http()
            .post(format!("{}/commit", self.base))
            .query(&[("cursor", cursor)]);
        let c: Cursor = json(call(&self.oci, req).await?, "ConsumerCommit").await?;
        Ok(c.value)
    }

    /// PutMessages: each value (with no key) becomes one message.
    pub async fn put_messages(&self, values: &[&[u8]]) -> Result<(), OciError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let body = serde_json::json!({
            "messages": values.iter().map(|v| serde_json::json!({"value": b64.encode(v)})).collect::<Vec<_>>()
        });
        let req = self
            .oci
            .http()
            .post(format!("{}/messages", self.base))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        #[derive(Deserialize)]
        struct Put {
            failures: u32,
        }
        let resp = call(&self.oci, req).await?;
        let url = resp.url().clone();
        let put: Put = json(resp, "PutMessages").await?;
        if put.failures > 0 {
            return Err(malformed(
                &url,
                format!("PutMessages: {} messages were not stored", put.failures),
            ));
        }
        Ok(())
    }
}

async fn call(
    oci: &OciClient,
    req: reqwest::RequestBuilder,
) -> Result<reqwest::Response, OciError> {
    let req = req
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| OciError::config_from(format!("cannot build a Streaming request: {e}"), e))?;
    oci.execute_checked(req, BodySigning::Auto).await
}

async fn json<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
    what: &str,
) -> Result<T, OciError> {
    let url = resp.url().clone();
    let text = resp.text().await.map_err(|e| transport(&url, e))?;
    serde_json::from_str(&text)
        .map_err(|e| malformed_from(&url, format!("{what}: unexpected answer ({e})"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ocids_are_checked() {
        assert!(validate_stream_ocid("ocid1.stream.oc1.iad.amaaaaaa").is_ok());
        assert!(validate_stream_ocid("ocid1.vaultsecret.oc1.iad.x").is_err());
        assert!(validate_stream_ocid("ocid1.stream.oc1.iad.a/../b").is_err());
    }
}
