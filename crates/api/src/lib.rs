//! The HTTP layer: axum routers per resource (`http`), credentials, the error → HTTP mapping,
//! OpenAPI and metrics. Recording uploads is `mediaserver-ingest`'s; this crate does the
//! protocols around it. Knows nothing of ffmpeg; talks to the database and storage only through
//! their traits.

mod credentials;
mod error;
mod http;
mod login_throttle;
mod metrics;
mod openapi;
mod pictures;

pub use credentials::hash_password;
pub use error::ApiError;
/// Which sites may frame the embed page (`EMBED_ALLOWED_ORIGINS`).
pub use http::embeds::EmbedOrigins;
/// The realm domains under which subscription confirmations are fetched (from
/// `notification.{region}[.oci].{domain}` only).
pub use http::events::OCI_REALM_DOMAINS;
/// Bucket event bodies (OCI Events, S3 notifications) for consumers of queues and streams.
pub use http::events::{parse_bucket_event, AnnouncedObject, ParsedEvent};
/// How long playback may trust a `ready` item's row: a change made by another process sharing
/// the database (another replica) reaches playback on this one within this time.
pub use http::playback::ITEM_TTL as PLAYBACK_CACHE_TTL;
/// Pictures on demand: what the binary implements over ffmpeg, and its limits.
pub use pictures::{
    Fit, PictureFormat, PictureLimits, PictureRenderer, PictureRequest, PictureSource, RenderError,
};

use axum::Router;
use credentials::TokenKeys;
use login_throttle::LoginThrottle;
use mediaserver_db::DynRepo;
use mediaserver_ingest::Ingest;
use mediaserver_storage::Storage;
use std::sync::Arc;
use std::time::Duration;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Who may create an account with `POST /v1/auth/register`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Anyone (`ALLOW_REGISTRATION=true`).
    Open,
    /// Only the first account, which becomes admin; afterwards the admin creates users
    /// (`ALLOW_REGISTRATION` unset: the default, so a public server is not open to sign-up).
    FirstAccountOnly,
    /// Nobody (`ALLOW_REGISTRATION=false`): every account comes from `mediaserver user create`.
    Closed,
}

/// Settings the HTTP layer needs (a subset of the server configuration).
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Who may use `POST /v1/auth/register` (`ALLOW_REGISTRATION`).
    pub registration: Registration,
    pub max_upload_bytes: u64,
    /// Unfinished tus and direct uploads one user may have at once (`MAX_PENDING_UPLOADS`).
    pub max_pending_uploads: u64,
    /// Unfinished uploads are removed this long after their last activity.
    pub upload_expiry: Duration,
    /// Viewer beacons one client address may send per minute (429 beyond; see `http::analytics`).
    pub beacons_per_minute: u32,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Failed logins for one account from one client allowed per window before 429 (a client
    /// gets ten times as many over all accounts; see `login_throttle`).
    pub login_max_failures: u32,
    pub login_window: Duration,
    /// Shared secret of `POST /v1/events/object-storage`; `None` disables the endpoint.
    /// A `Secret`, so printing the settings never shows it.
    pub events_secret: Option<mediaserver_core::Secret>,
    /// Owner of items created from bucket events; `None`: the first admin.
    pub events_owner_email: Option<String>,
    /// When set, segment requests are redirected to `{public_base_url}/media/{id}/…` (a CDN or
    /// the bucket's public endpoint) instead of being proxied.
    pub public_base_url: Option<String>,
    /// Peers whose forwarding headers are believed (`TRUSTED_PROXIES`): the client address
    /// (`X-Forwarded-For`, `Forwarded`) and scheme and host (`X-Forwarded-Proto`/`-Host`).
    /// Empty: none; the peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// This server's address as clients reach it (`EXTERNAL_URL`), for the absolute URLs it
    /// hands out; `None`: told from the request (see `http::forwarded`).
    pub external_url: Option<String>,
    /// Which sites may show `/embed/{id}` in a frame (`EMBED_ALLOWED_ORIGINS`).
    pub embed_allowed_origins: EmbedOrigins,
    /// Tests only (no environment variable sets it): lets an OCI Notifications subscription
    /// confirmation reach a loopback address (`http(s)://127.0.0.1:port`, `[::1]`), a local
    /// stand-in. Off, only OCI Notifications' HTTPS hosts are fetched.
    pub allow_loopback_confirmation: bool,
}

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            registration: Registration::FirstAccountOnly,
            max_upload_bytes: 10 * 1024 * 1024 * 1024,
            max_pending_uploads: 100,
            upload_expiry: Duration::from_secs(24 * 3600),
            beacons_per_minute: 120,
            access_token_ttl: Duration::from_secs(900),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            login_max_failures: 10,
            login_window: Duration::from_secs(15 * 60),
            events_secret: None,
            events_owner_email: None,
            public_base_url: None,
            trusted_proxies: Vec::new(),
            external_url: None,
            embed_allowed_origins: EmbedOrigins::Default,
            allow_loopback_confirmation: false,
        }
    }
}

/// What every handler gets: one `Arc`, since axum clones the state several times per request
/// (fields are reached through `Deref`).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

pub struct AppStateInner {
    pub repo: DynRepo,
    /// Where originals go (`MEDIA_BUCKET`).
    pub media_store: Arc<dyn Storage>,
    /// Records originals as media items (over the same database and media bucket).
    pub ingest: Ingest,
    /// Where processing outputs go (`OUTPUT_BUCKET`; may be the same bucket).
    pub output_store: Arc<dyn Storage>,
    pub(crate) tokens: TokenKeys,
    pub settings: Arc<ApiSettings>,
    pub(crate) throttle: LoginThrottle,
    /// Item rows and small bodies on the playback path (see `http::playback::cache`).
    pub(crate) playback_cache: http::playback::PlaybackCache,
    /// Running hashes of the tus uploads this server is receiving (see `http::tus::hashes`).
    pub(crate) running_hashes: http::tus::RunningHashes,
    /// The day's viewer salt and the per-address beacon budget (see `http::analytics`).
    pub(crate) view_tracker: http::analytics::ViewTracker,
    /// Pictures on demand: the renderer (none until [`AppState::set_picture_renderer`]).
    pub(crate) pictures: pictures::Pictures,
}

impl AppState {
    /// The HTTP layer over `ingest`'s database and media bucket.
    pub fn new(
        ingest: Ingest,
        output_store: Arc<dyn Storage>,
        jwt_secret: &[u8],
        settings: ApiSettings,
    ) -> Self {
        AppState(Arc::new(AppStateInner {
            repo: ingest.repo().clone(),
            media_store: ingest.media_store().clone(),
            ingest,
            output_store,
            tokens: TokenKeys::new(jwt_secret, settings.access_token_ttl),
            throttle: LoginThrottle::new(settings.login_max_failures, settings.login_window),
            view_tracker: http::analytics::ViewTracker::new(settings.beacons_per_minute),
            settings: Arc::new(settings),
            playback_cache: Default::default(),
            running_hashes: Default::default(),
            pictures: Default::default(),
        }))
    }

    /// Offers pictures on demand through `renderer` within `limits` (`None`, or no renders
    /// allowed: every uncached picture is a 503). May be called again to replace it.
    pub fn set_picture_renderer(
        &self,
        renderer: Option<Arc<dyn PictureRenderer>>,
        limits: PictureLimits,
    ) {
        self.pictures.set(renderer, limits);
    }

    /// Requests now making a picture or waiting for an identical one (single-flight), for
    /// diagnostics and tests.
    pub fn pictures_in_flight(&self) -> usize {
        self.pictures.in_flight()
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api_router().split_for_parts().1;
    openapi::complete(&mut doc);
    doc
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(http::accounts::router())
        .merge(http::analytics::router())
        .merge(http::admin::router())
        .merge(http::api_keys::router())
        .merge(http::media::router())
        .merge(http::clips::router())
        .merge(http::direct::router())
        .merge(http::downloads::router())
        .merge(http::tus::router())
        .merge(http::events::router())
        .merge(http::embeds::router())
        .merge(http::playback::router())
        .merge(http::pictures::router())
        .merge(http::shared::router())
        .merge(http::ops::router())
        .merge(http::webhooks::router())
        .merge(http::text_tracks::router())
}

/// The whole application as one service: API routes, docs, web page, and the middleware stack.
/// Serve it with the peer's `ConnectInfo<SocketAddr>` in every request's extensions, as
/// `axum::ServiceExt::into_make_service_with_connect_info` puts it (the client address, which
/// login throttling counts by, starts from the peer's).
pub type App = http::edge::Edge<Router>;

/// The whole application: API routes, docs, web page, and the middleware stack.
pub fn app(state: AppState) -> App {
    // Install the recorder before the first request records anything.
    if metrics::handle().is_none() {
        tracing::warn!("another metrics recorder is installed; /metrics will be empty");
    }
    let (router, mut doc) = api_router().split_for_parts();
    openapi::complete(&mut doc);
    let router = router
        .merge(
            Router::from(utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", doc))
                .layer(axum::middleware::map_response(http::web::deny_framing)),
        )
        .merge(http::web::router())
        .with_state(state);
    // tus discovery (a plain OPTIONS request) reaches its route: the CORS layer only answers
    // real preflights (see `middleware`).
    http::middleware::wrap(router)
}
