//! Amazon ECR logins: `GetAuthorizationToken` (the ECR JSON API, signed with AWS Signature
//! Version 4) answers a base64 `AWS:<password>` that the registry takes as HTTP Basic
//! credentials for 12 hours. SigV4 is written here (about 60 lines over aws-lc-rs' HMAC and
//! SHA-256, which this crate already links) rather than pulling in `aws-sigv4` and its
//! smithy runtime for one call; it is checked against AWS's published test vector.

use base64::Engine as _;
use chrono::{DateTime, Utc};

use super::auth::{RegistryCredentials, RegistrySecret};
use super::RegistryError;

/// AWS credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`).
#[derive(Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: RegistrySecret,
    pub session_token: Option<RegistrySecret>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// `https://api.ecr.<region>.amazonaws.com`, the ECR API endpoint of a region.
pub fn ecr_api_endpoint(region: &str) -> String {
    format!("https://api.ecr.{region}.amazonaws.com")
}

/// Calls ECR's GetAuthorizationToken at `endpoint` (see [`ecr_api_endpoint`]; moto or
/// LocalStack in tests) and returns the registry credentials it grants.
pub async fn ecr_login(
    http: &reqwest::Client,
    endpoint: &str,
    region: &str,
    creds: &AwsCredentials,
) -> Result<RegistryCredentials, RegistryError> {
    let endpoint = endpoint.trim_end_matches('/');
    let url = url::Url::parse(&format!("{endpoint}/"))
        .map_err(|e| RegistryError::config_from(format!("ECR endpoint '{endpoint}': {e}"), e))?;
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => {
            return Err(RegistryError::config(format!(
                "ECR endpoint '{endpoint}' has no host"
            )))
        }
    };
    let body = b"{}";
    let mut headers = vec![
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        ("host".to_string(), host),
        (
            "x-amz-target".to_string(),
            "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken".to_string(),
        ),
    ];
    if let Some(t) = &creds.session_token {
        headers.push(("x-amz-security-token".into(), t.expose().to_string()));
    }
    let signed = sigv4(
        "POST",
        url.path(),
        "",
        &headers,
        body,
        creds,
        region,
        "ecr",
        Utc::now(),
    );
    let mut req = http.post(url.as_str()).body(body.to_vec());
    for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
        req = req.header(k.as_str(), v.as_str());
    }
    req = req
        .header("x-amz-date", &signed.amz_date)
        .header(http::header::AUTHORIZATION, signed.authorization);
    let failed = |message: String| RegistryError::Registry {
        registry: format!("ECR API {endpoint}"),
        message,
        source: None,
    };
    let resp = req
        .send()
        .await
        .map_err(|e| failed(format!("GetAuthorizationToken: {}", e.without_url())))?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status.as_u16() == 401 || status.as_u16() == 403 {
        return Err(RegistryError::Unauthorized {
            registry: format!("ECR API {endpoint}"),
            login: format!("as AWS access key {}", creds.access_key_id),
            hint: format!(
                "GetAuthorizationToken was refused: {}",
                text.chars().take(300).collect::<String>()
            ),
        });
    }
    if !status.is_success() {
        return Err(failed(format!(
            "GetAuthorizationToken: HTTP {}: {}",
            status.as_u16(),
            text.chars().take(300).collect::<String>()
        )));
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        authorization_token: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        authorization_data: Vec<Data>,
    }
    let answer: Answer = serde_json::from_str(&text).map_err(|e| {
        failed(format!(
            "GetAuthorizationToken: not the expected answer ({e})"
        ))
    })?;
    let token = answer
        .authorization_data
        .into_iter()
        .next()
        .ok_or_else(|| failed("GetAuthorizationToken: no authorization data".into()))?
        .authorization_token;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| failed("GetAuthorizationToken: the token is not base64 text".into()))?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| failed("GetAuthorizationToken: the token is not user:password".into()))?;
    Ok(RegistryCredentials::Basic {
        username: user.to_string(),
        password: RegistrySecret::new(password),
    })
}

pub(crate) struct Signed {
    pub amz_date: String,
    pub authorization: String,
}

/// AWS Signature Version 4 of one request. `headers` are lower-case names with their values
/// (`host` among them); `x-amz-date` is added.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sigv4(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    creds: &AwsCredentials,
    region: &str,
    service: &str,
    now: DateTime<Utc>,
) -> Signed {
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    all.push(("x-amz-date".into(), amz_date.clone()));
    all.sort();
    let canonical_headers: String = all.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = all
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{method}\n{path}\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        sha256_hex(body)
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let k_date = hmac(
        format!("AWS4{}", creds.secret_access_key.expose()).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, to_sign.as_bytes()));
    Signed {
        amz_date,
        authorization: format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            creds.access_key_id
        ),
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    aws_lc_rs::hmac::sign(&k, data).as_ref().to_vec()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `get-vanilla` from AWS's Signature Version 4 test suite.
    #[test]
    fn sigv4_matches_the_aws_test_suite() {
        let creds = AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: RegistrySecret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        };
        let now = DateTime::parse_from_rfc3339("2015-08-30T12:36:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let s = sigv4(
            "GET",
            "/",
            "",
            &[("host".into(), "example.amazonaws.com".into())],
            b"",
            &creds,
            "us-east-1",
            "service",
            now,
        );
        assert_eq!(s.amz_date, "20150830T123600Z");
        assert_eq!(
            s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }
}
