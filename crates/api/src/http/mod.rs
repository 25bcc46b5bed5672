pub mod auth;
pub mod direct;
pub mod edge;
pub mod events;
pub mod media;
pub mod middleware;
pub mod objects;
pub mod ops;
pub mod playback;
pub mod playback_cache;
pub mod tus;
mod tus_body;
pub(crate) mod tus_state;
pub mod web;

use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// `axum::Json` whose rejections are our JSON 400s.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// The peer address of the connection (unspecified if the server was not started with connect
/// info, e.g. in unit tests).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(a)| a.ip())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}
