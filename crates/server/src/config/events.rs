//! Bucket events without a public endpoint: `EVENTS_SOURCE` (`sqs:<queue URL>` — S3 event
//! notifications in an SQS queue — or `oci-streaming:<stream OCID>` — OCI Events rules writing
//! to an OCI Stream), `EVENTS_CONSUMER` (`serve`, the default: every `mediaserver serve`
//! consumes; `watch`: only `mediaserver watch` does), `EVENTS_STREAM_GROUP` (the Streaming
//! consumer group) and `OCI_STREAMING_ENDPOINT` (the Streaming API, for private endpoints and
//! tests). `EVENTS_OWNER_EMAIL` (in `http`) says who owns the items either way.

use super::vars::{err, ConfigError, Vars};

/// Where bucket events are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventsSource {
    /// An SQS queue fed by S3 event notifications. The queue URL's scheme, host and port are the
    /// endpoint (AWS, moto, LocalStack alike); `region` signs the requests.
    Sqs { queue_url: url::Url, region: String },
    /// An OCI Stream fed by an OCI Events rule, read as a member of `group`.
    OciStreaming {
        stream_id: String,
        group: String,
        /// The Streaming API (where GetStream is asked); `None`: the region's.
        endpoint: Option<String>,
    },
}

impl std::fmt::Display for EventsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventsSource::Sqs { queue_url, .. } => write!(f, "sqs:{queue_url}"),
            EventsSource::OciStreaming { stream_id, .. } => write!(f, "oci-streaming:{stream_id}"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsConfig {
    pub source: Option<EventsSource>,
    /// `mediaserver serve` consumes the source (`EVENTS_CONSUMER=serve`, the default).
    pub in_server: bool,
}

pub(super) fn from_vars(vars: &Vars, storage_region: &str) -> Result<EventsConfig, ConfigError> {
    let in_server = match vars.get("EVENTS_CONSUMER").map(|v| v.to_ascii_lowercase()) {
        None => true,
        Some(v) if v == "serve" => true,
        Some(v) if v == "watch" => false,
        Some(v) => {
            return Err(err(
                "EVENTS_CONSUMER",
                format!("'{v}' is neither serve nor watch"),
            ))
        }
    };
    let group = vars
        .get("EVENTS_STREAM_GROUP")
        .unwrap_or_else(|| "mediaserver".into());
    if group.len() > 256
        || !group
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(err(
            "EVENTS_STREAM_GROUP",
            "must be up to 256 letters, digits, '-', '_' or '.'",
        ));
    }
    let endpoint = vars.get("OCI_STREAMING_ENDPOINT");
    if let Some(e) = &endpoint {
        match url::Url::parse(e) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {}
            _ => {
                return Err(err(
                    "OCI_STREAMING_ENDPOINT",
                    "must be an http:// or https:// URL",
                ))
            }
        }
    }
    let source = match vars.get("EVENTS_SOURCE") {
        None => None,
        Some(v) => Some(parse_source(&v, storage_region, group, endpoint)?),
    };
    Ok(EventsConfig { source, in_server })
}

fn parse_source(
    v: &str,
    storage_region: &str,
    group: String,
    endpoint: Option<String>,
) -> Result<EventsSource, ConfigError> {
    let bad = |m: String| err("EVENTS_SOURCE", m);
    if let Some(rest) = v.strip_prefix("sqs:") {
        let queue_url =
            url::Url::parse(rest).map_err(|e| bad(format!("'{rest}' is not a queue URL: {e}")))?;
        if !matches!(queue_url.scheme(), "http" | "https") || queue_url.host_str().is_none() {
            return Err(bad("the SQS queue URL must be http:// or https://".into()));
        }
        if queue_url.path().trim_matches('/').split('/').count() != 2
            || !queue_url.username().is_empty()
            || queue_url.password().is_some()
        {
            return Err(bad(format!(
                "'{rest}' is not a queue URL (expected https://sqs.<region>.amazonaws.com/<account>/<queue>)"
            )));
        }
        let region = queue_region(&queue_url).unwrap_or_else(|| storage_region.to_string());
        return Ok(EventsSource::Sqs { queue_url, region });
    }
    if let Some(rest) = v.strip_prefix("oci-streaming:") {
        mediaserver_oci::streaming::validate_stream_ocid(rest).map_err(bad)?;
        return Ok(EventsSource::OciStreaming {
            stream_id: rest.to_string(),
            group,
            endpoint,
        });
    }
    Err(bad(format!(
        "'{v}' is neither sqs:<queue URL> nor oci-streaming:<stream OCID>"
    )))
}

/// The region in an AWS queue URL's host (`sqs.<region>.amazonaws.com`, or the legacy
/// `<region>.queue.amazonaws.com`); other hosts (moto, LocalStack) sign with the bucket's.
fn queue_region(url: &url::Url) -> Option<String> {
    let host = url.host_str()?;
    let parts: Vec<&str> = host.split('.').collect();
    match parts.as_slice() {
        ["sqs", region, "amazonaws", ..] => Some(region.to_string()),
        [region, "queue", "amazonaws", ..] => Some(region.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::cfg;
    use super::*;

    #[test]
    fn events_sources() {
        assert_eq!(
            cfg(&[]).unwrap().events,
            EventsConfig {
                source: None,
                in_server: true
            }
        );
        let c = cfg(&[(
            "EVENTS_SOURCE",
            "sqs:https://sqs.eu-west-1.amazonaws.com/123456789012/media-events",
        )])
        .unwrap();
        let Some(EventsSource::Sqs { region, queue_url }) = c.events.source else {
            panic!("sqs")
        };
        assert_eq!(region, "eu-west-1");
        assert_eq!(queue_url.host_str(), Some("sqs.eu-west-1.amazonaws.com"));
        // moto / LocalStack: the bucket's region.
        let c = cfg(&[
            ("EVENTS_SOURCE", "sqs:http://127.0.0.1:5000/123456789012/q"),
            ("STORAGE_REGION", "ap-south-1"),
            ("EVENTS_CONSUMER", "watch"),
        ])
        .unwrap();
        assert!(
            matches!(c.events.source, Some(EventsSource::Sqs { ref region, .. }) if region == "ap-south-1")
        );
        assert!(!c.events.in_server);
        let c = cfg(&[
            (
                "EVENTS_SOURCE",
                "oci-streaming:ocid1.stream.oc1.iad.amaaaaaa",
            ),
            ("EVENTS_STREAM_GROUP", "media-1"),
        ])
        .unwrap();
        assert_eq!(
            c.events.source,
            Some(EventsSource::OciStreaming {
                stream_id: "ocid1.stream.oc1.iad.amaaaaaa".into(),
                group: "media-1".into(),
                endpoint: None
            })
        );
        for (var, bad) in [
            ("EVENTS_SOURCE", "kafka:topic"),
            ("EVENTS_SOURCE", "sqs:not a url"),
            ("EVENTS_SOURCE", "sqs:https://sqs.us-east-1.amazonaws.com/"),
            ("EVENTS_SOURCE", "sqs:ftp://host/1/q"),
            ("EVENTS_SOURCE", "oci-streaming:ocid1.bucket.oc1..x"),
            ("EVENTS_CONSUMER", "both"),
            ("EVENTS_STREAM_GROUP", "a group"),
            ("OCI_STREAMING_ENDPOINT", "streaming.example"),
        ] {
            assert_eq!(cfg(&[(var, bad)]).unwrap_err().var, var, "{bad}");
        }
    }
}
