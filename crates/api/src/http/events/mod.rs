//! `POST /v1/events/object-storage`: bucket notifications that turn new objects into media
//! items. Accepts OCI Events (CloudEvents 0.1 and 1.0 envelopes around Object Storage
//! `createobject` data) and S3 event notifications (AWS, MinIO). Authenticated with the shared
//! `EVENTS_SECRET`: as a Bearer token, as `?token=`, or as the password of HTTP Basic auth — OCI
//! Notifications' HTTPS subscriptions only support credentials in the URL
//! (`https://events:<secret>@host/…`), and first send a `SubscriptionConfirmation` whose URL this
//! endpoint fetches to activate the subscription — only from OCI Notifications' own hosts
//! (`confirm`).

mod confirm;

pub(crate) use confirm::ConfirmError;
pub use confirm::OCI_REALM_DOMAINS;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::text::check_text;
use crate::http::ApiBytes;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mediaserver_core::ObjectSource;
use mediaserver_ingest::IngestOutcome;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(object_storage_event))
}

pub(crate) const OCI_CREATE_OBJECT: &str = "com.oraclecloud.objectstorage.createobject";

/// One object an event announces.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnouncedObject {
    pub bucket: String,
    pub key: String,
    pub etag: Option<String>,
    pub source: ObjectSource,
}

/// What an event body says: objects to record, or why there is nothing to do.
#[derive(Debug, PartialEq)]
pub enum ParsedEvent {
    Objects(Vec<AnnouncedObject>),
    /// A well-formed event we have nothing to do for (S3 test events, deletions…).
    Ignored(String),
}

fn s(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string).filter(|s| !s.is_empty())
}

/// Recognises the supported shapes; `Err` names what is wrong.
pub(crate) fn parse_event(body: &Value) -> Result<ParsedEvent, String> {
    // OCI: CloudEvents 0.1 (`eventType`) or 1.0 (`specversion` + `type`).
    let oci_type = body
        .get("eventType")
        .or_else(|| body.get("specversion").and(body.get("type")));
    if let Some(t) = oci_type {
        let t = t.as_str().unwrap_or_default();
        if t != OCI_CREATE_OBJECT {
            return Ok(ParsedEvent::Ignored(format!(
                "event type {t} is not {OCI_CREATE_OBJECT}"
            )));
        }
        let data = body.get("data").ok_or("OCI event without `data`")?;
        let key = s(&data["resourceName"]).ok_or("OCI event without `data.resourceName`")?;
        let details = &data["additionalDetails"];
        let bucket = s(&details["bucketName"])
            .ok_or("OCI event without `data.additionalDetails.bucketName`")?;
        let etag = s(&details["eTag"]).or_else(|| s(&details["versionId"]));
        return Ok(ParsedEvent::Objects(vec![AnnouncedObject {
            bucket,
            key,
            etag,
            source: ObjectSource::OciEvents,
        }]));
    }
    // S3 / MinIO notifications.
    if let Some(records) = body.get("Records") {
        let records = records.as_array().ok_or("`Records` must be an array")?;
        let mut objects = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let name = r["eventName"].as_str().unwrap_or_default();
            if !(name.starts_with("ObjectCreated:") || name.starts_with("s3:ObjectCreated:")) {
                continue;
            }
            let bucket = s(&r["s3"]["bucket"]["name"])
                .ok_or(format!("Records[{i}] without s3.bucket.name"))?;
            let raw_key = s(&r["s3"]["object"]["key"])
                .ok_or(format!("Records[{i}] without s3.object.key"))?;
            // Keys arrive form-encoded: '+' is a space, the rest percent-escapes.
            let key = percent_encoding::percent_decode_str(&raw_key.replace('+', " "))
                .decode_utf8()
                .map_err(|_| format!("Records[{i}] s3.object.key is not UTF-8 once decoded"))?
                .into_owned();
            let etag = s(&r["s3"]["object"]["eTag"]).or_else(|| s(&r["s3"]["object"]["versionId"]));
            objects.push(AnnouncedObject {
                bucket,
                key,
                etag,
                source: ObjectSource::S3Events,
            });
        }
        return Ok(if objects.is_empty() {
            ParsedEvent::Ignored("no ObjectCreated records".into())
        } else {
            ParsedEvent::Objects(objects)
        });
    }
    if body.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(ParsedEvent::Ignored("S3 test event".into()));
    }
    Err("unrecognised event: expected an OCI Events CloudEvent (com.oraclecloud.objectstorage.createobject) or an S3 event notification with Records".into())
}

/// An event body as a queue or stream delivers it (the same shapes this endpoint accepts):
/// `Err` says why it is not one, in words for a log line.
pub fn parse_bucket_event(body: &[u8]) -> Result<ParsedEvent, String> {
    let json: Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))?;
    let parsed = parse_event(&json)?;
    if let ParsedEvent::Objects(objects) = &parsed {
        for etag in objects.iter().filter_map(|o| o.etag.as_deref()) {
            if etag.chars().any(char::is_control) {
                return Err("eTag: must not contain control characters".into());
            }
        }
    }
    Ok(parsed)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventParams {
    /// The shared secret, for senders that cannot set an Authorization header.
    token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct EventResponse {
    results: Vec<IngestOutcome>,
    /// Why nothing was done, when the event was well-formed but not an object creation.
    ignored: Option<String>,
}

/// The secret from `Authorization: Bearer <s>` or the password of `Authorization: Basic`.
fn presented_secret(headers: &HeaderMap) -> Option<String> {
    use base64::Engine;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        return decoded.split_once(':').map(|(_, pass)| pass.to_string());
    }
    None
}

/// OCI Notifications' `SubscriptionConfirmation`: fetching the URL it carries (header
/// `X-OCI-NS-ConfirmationURL`, or `ConfirmationURL` in the body) activates the subscription.
/// Only OCI Notifications' own HTTPS hosts are fetched (see [`confirm`]); any failure is the
/// same answer, whatever the target was.
async fn confirm_subscription(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiResult<(StatusCode, Json<EventResponse>)> {
    let from_body = || {
        serde_json::from_slice::<Value>(body).ok().and_then(|v| {
            v.get("ConfirmationURL")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    };
    let raw = headers
        .get("x-oci-ns-confirmationurl")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(from_body)
        .ok_or_else(|| {
            ApiError::BadRequest("a SubscriptionConfirmation without a ConfirmationURL".into())
        })?;
    let url = url::Url::parse(&raw)
        .map_err(|e| ApiError::BadRequest(format!("ConfirmationURL is not a URL: {e}")))?;
    confirm::confirm(&url, state.settings.allow_loopback_confirmation).await?;
    tracing::info!(topic = ?headers.get("x-oci-ns-topicname"), "confirmed an OCI Notifications subscription");
    Ok((
        StatusCode::OK,
        Json(EventResponse {
            results: vec![],
            ignored: Some("subscription confirmed".into()),
        }),
    ))
}

/// Receive an object-storage notification: each new object in the media bucket becomes a queued
/// media item (once per object version).
#[utoipa::path(post, path = "/v1/events/object-storage", tag = "media",
    params(EventParams),
    request_body(content = Object, description = "OCI Events CloudEvent or S3 event notification"),
    responses((status = 202, body = EventResponse), (status = 200, description = "an OCI Notifications subscription confirmed", body = EventResponse), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 502, description = "a subscription confirmation failed (nothing more is said)", body = ErrorBody)))]
async fn object_storage_event(
    state: State<AppState>,
    params: Query<EventParams>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Response {
    match handle_event(state, params, headers, body).await {
        Ok(ok) => ok.into_response(),
        Err(e) => {
            let challenge = matches!(e, ApiError::Unauthorized(_));
            let mut resp = e.into_response();
            if challenge {
                // OCI Notifications sends the credentials in its subscription URL only after a
                // Basic challenge. Only this endpoint offers Basic: elsewhere it would make
                // browsers pop up a login dialog.
                resp.headers_mut().append(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"mediaserver events\""),
                );
            }
            resp
        }
    }
}

async fn handle_event(
    State(state): State<AppState>,
    Query(params): Query<EventParams>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<EventResponse>)> {
    let Some(secret) = state.settings.events_secret.as_ref().map(|s| s.expose()) else {
        return Err(ApiError::NotFound(
            "the events endpoint is disabled; set EVENTS_SECRET to enable it".into(),
        ));
    };
    let presented = presented_secret(&headers).or(params.token.clone());
    if !presented
        .is_some_and(|p| crate::credentials::constant_time_eq(p.as_bytes(), secret.as_bytes()))
    {
        return Err(ApiError::Unauthorized(
            "missing or wrong events secret (Authorization: Bearer <EVENTS_SECRET>, Basic auth \
             with it as the password, or ?token=)"
                .into(),
        ));
    }
    if headers
        .get("x-oci-ns-messagetype")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.eq_ignore_ascii_case("SubscriptionConfirmation"))
    {
        return confirm_subscription(&state, &headers, &body).await;
    }
    let json: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))?;
    let objects = match parse_event(&json).map_err(ApiError::BadRequest)? {
        ParsedEvent::Ignored(why) => {
            return Ok((
                StatusCode::ACCEPTED,
                Json(EventResponse {
                    results: vec![],
                    ignored: Some(why),
                }),
            ))
        }
        ParsedEvent::Objects(o) => o,
    };
    for etag in objects.iter().filter_map(|o| o.etag.as_deref()) {
        check_text("eTag", etag)?;
    }
    let bucket = state.media_store.bucket();
    if let Some(o) = objects.iter().find(|o| o.bucket != bucket) {
        return Err(ApiError::Unprocessable(format!(
            "object {} is in bucket {}, but this server's media bucket is {bucket} (MEDIA_BUCKET)",
            o.key, o.bucket
        )));
    }
    let owner = state
        .ingest
        .event_owner(state.settings.events_owner_email.as_deref())
        .await?;
    let mut results = Vec::with_capacity(objects.len());
    for o in &objects {
        results.push(
            state
                .ingest
                .ingest_object(&owner, &o.key, o.etag.as_deref(), o.source)
                .await?,
        );
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(EventResponse {
            results,
            ignored: None,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    #[test]
    fn parses_oci_cloudevents_0_1_and_1_0() {
        let data = json!({"resourceName": "in/clip one.mp4", "additionalDetails": {"bucketName": "media", "namespace": "ns", "eTag": "e1"}});
        let v01 = json!({"cloudEventsVersion": "0.1", "eventTypeVersion": "2.0", "eventType": OCI_CREATE_OBJECT, "data": data});
        let v10 = json!({"specversion": "1.0", "type": OCI_CREATE_OBJECT, "source": "objectstorage", "id": "x", "data": data});
        let expected = ParsedEvent::Objects(vec![AnnouncedObject {
            bucket: "media".into(),
            key: "in/clip one.mp4".into(),
            etag: Some("e1".into()),
            source: ObjectSource::OciEvents,
        }]);
        assert_eq!(parse_event(&v01).unwrap(), expected);
        assert_eq!(parse_event(&v10).unwrap(), expected);
        let delete =
            json!({"eventType": "com.oraclecloud.objectstorage.deleteobject", "data": data});
        assert!(matches!(
            parse_event(&delete).unwrap(),
            ParsedEvent::Ignored(_)
        ));
        assert!(parse_event(&json!({"eventType": OCI_CREATE_OBJECT, "data": {}})).is_err());
    }

    #[test]
    fn parses_s3_notifications_with_encoded_keys() {
        let body = json!({"Records": [
            {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "media"}, "object": {"key": "in/my+clip%C3%A9%2B1.mp4", "eTag": "abc"}}},
            {"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "media"}, "object": {"key": "gone.mp4"}}}
        ]});
        let ParsedEvent::Objects(o) = parse_event(&body).unwrap() else {
            panic!()
        };
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].key, "in/my clipé+1.mp4");
        assert_eq!(o[0].etag.as_deref(), Some("abc"));
        assert!(matches!(
            parse_event(&json!({"Service": "Amazon S3", "Event": "s3:TestEvent"})).unwrap(),
            ParsedEvent::Ignored(_)
        ));
        assert!(parse_event(&json!({"hello": "world"})).is_err());
        assert!(parse_event(&json!({"Records": "nope"})).is_err());
    }
}
