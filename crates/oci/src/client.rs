//! [`OciClient`]: a reqwest client, an [`AuthProvider`] and the resolved endpoints. It signs
//! every request, retries once with refreshed credentials after a 401 when the principal's
//! credentials can change, and turns OCI error answers into [`OciError`]s — a 401 names the
//! principal (never its token) and says when the clock is the likely cause.

use std::sync::Arc;

use crate::auth::{provider_from_settings, AuthProvider, AuthSettings};
use crate::endpoints::Endpoints;
use crate::error::{Cause, OciError};
use crate::region::Region;
use crate::signer::BodySigning;

/// A reqwest client for OCI calls: rustls, a 10 s connect timeout; no overall timeout (object
/// uploads take as long as they take), so callers set per-request timeouts where they fit.
pub fn default_http_client() -> Result<reqwest::Client, OciError> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| OciError::config_from(format!("cannot build the HTTP client: {e}"), e))
}

/// OCI refuses requests whose `date` is more than five minutes off its clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

#[derive(Debug, Clone)]
pub struct OciClient {
    http: reqwest::Client,
    auth: Arc<dyn AuthProvider>,
    region: Region,
    endpoints: Endpoints,
}

impl OciClient {
    /// Builds the provider from `settings`, picks the region (`OCI_REGION`, else the one the
    /// principal knows) and resolves the endpoints.
    pub async fn connect(settings: &AuthSettings, http: reqwest::Client) -> Result<Self, OciError> {
        let auth = provider_from_settings(settings, &http).await?;
        let region = settings.region.or_else(|| auth.region()).ok_or_else(|| {
            OciError::config(format!(
                "no OCI region: set OCI_REGION (the {} principal does not name one)",
                settings.kind
            ))
        })?;
        let endpoints = Endpoints::resolve(&region, &settings.overrides)?;
        Ok(OciClient::new(http, auth, region, endpoints))
    }

    pub fn new(
        http: reqwest::Client,
        auth: Arc<dyn AuthProvider>,
        region: Region,
        endpoints: Endpoints,
    ) -> Self {
        OciClient {
            http,
            auth,
            region,
            endpoints,
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn auth(&self) -> &Arc<dyn AuthProvider> {
        &self.auth
    }

    pub fn region(&self) -> Region {
        self.region
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Signs and sends `req`. Returns the response whatever its status, except a 401: that is
    /// retried once with refreshed credentials (when the request can be cloned and the
    /// principal can refresh) and otherwise becomes [`OciError::NotAuthenticated`].
    pub async fn execute(
        &self,
        req: reqwest::Request,
        body: BodySigning,
    ) -> Result<reqwest::Response, OciError> {
        let retry = if self.auth.refreshable() {
            req.try_clone()
        } else {
            None
        };
        let resp = self.sign_and_send(req, body).await?;
        if resp.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let Some(again) = retry else {
            return Err(self.not_authenticated(resp).await);
        };
        tracing::info!(principal = %self.auth.principal(), "OCI answered 401; refreshing credentials and retrying once");
        self.auth.refresh().await?;
        let resp = self.sign_and_send(again, body).await?;
        if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
            return Err(self.not_authenticated(resp).await);
        }
        Ok(resp)
    }

    /// [`OciClient::execute`], and any non-2xx answer becomes [`OciError::Service`].
    pub async fn execute_checked(
        &self,
        req: reqwest::Request,
        body: BodySigning,
    ) -> Result<reqwest::Response, OciError> {
        let resp = self.execute(req, body).await?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(service_error(resp).await)
        }
    }

    async fn sign_and_send(
        &self,
        mut req: reqwest::Request,
        body: BodySigning,
    ) -> Result<reqwest::Response, OciError> {
        let creds = self.auth.credentials().await?;
        creds.sign_reqwest(&mut req, body)?;
        let url = redacted_url(req.url());
        self.http
            .execute(req)
            .await
            .map_err(|e| OciError::Transport {
                url,
                // reqwest's message repeats the full URL, query included.
                source: e.without_url(),
            })
    }

    async fn not_authenticated(&self, resp: reqwest::Response) -> OciError {
        let url = redacted_url(resp.url());
        let server_date = resp
            .headers()
            .get(http::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::signer::parse_http_date);
        let text = resp.text().await.unwrap_or_default();
        let (code, message) = error_fields(&text);
        let skew_by_date = server_date
            .map(|d| (d.timestamp() - chrono::Utc::now().timestamp()).abs() > MAX_CLOCK_SKEW_SECS)
            .unwrap_or(false);
        let lower = message.to_ascii_lowercase();
        let skew_by_message =
            lower.contains("clock") || lower.contains("skew") || lower.contains("date");
        OciError::NotAuthenticated {
            url,
            principal: self.auth.principal(),
            code,
            message,
            clock_skew: skew_by_date || skew_by_message,
        }
    }
}

/// Turns a non-success answer into [`OciError::Service`] (OCI's `{"code","message"}` body and
/// `opc-request-id` header).
pub async fn service_error(resp: reqwest::Response) -> OciError {
    let url = redacted_url(resp.url());
    let status = resp.status().as_u16();
    let opc_request_id = resp
        .headers()
        .get("opc-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = resp.text().await.unwrap_or_default();
    let (code, message) = error_fields(&text);
    OciError::Service {
        url,
        status,
        code,
        message,
        opc_request_id,
        source: None,
    }
}

/// `code` and `message` of an OCI error body; the raw text (shortened) when it is not JSON.
pub(crate) fn error_fields(text: &str) -> (String, String) {
    #[derive(serde::Deserialize)]
    struct Body {
        code: Option<String>,
        message: Option<String>,
    }
    match serde_json::from_str::<Body>(text) {
        Ok(b) => (
            b.code.unwrap_or_else(|| "Unknown".into()),
            b.message.unwrap_or_default(),
        ),
        Err(_) => ("Unknown".into(), text.chars().take(200).collect()),
    }
}

/// The URL without its query (pre-authenticated and paging tokens live there).
fn redacted_url(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

/// Reading an answer's body failed.
pub(crate) fn transport(url: &url::Url, source: reqwest::Error) -> OciError {
    OciError::Transport {
        url: redacted_url(url),
        // reqwest's message repeats the full URL, query included.
        source: source.without_url(),
    }
}

/// An answer that is not what the API documents.
pub(crate) fn malformed(url: &url::Url, message: String) -> OciError {
    malformed_answer(url, message, None)
}

/// [`malformed`], as the parser said in `cause`.
pub(crate) fn malformed_from(url: &url::Url, message: String, cause: impl Into<Cause>) -> OciError {
    malformed_answer(url, message, Some(cause.into()))
}

fn malformed_answer(url: &url::Url, message: String, source: Option<Cause>) -> OciError {
    OciError::Service {
        url: redacted_url(url),
        status: 502,
        code: "MalformedAnswer".into(),
        message,
        opc_request_id: None,
        source,
    }
}
