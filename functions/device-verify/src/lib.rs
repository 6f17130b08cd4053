//! `device-verify`: not built yet — the person's side of the device flow arrives with issue #3.
//! Until then every request gets a 501 with a JSON error, so nothing pretends to work.

use lambda_http::{Body, Request, Response};
use portal_auth_device::http as oauth_http;
use portal_auth_domain::{ErrorCode, OAuthError};

pub async fn handle(_req: Request) -> Response<Body> {
    oauth_http::error(
        &OAuthError::new(
            ErrorCode::ServerError,
            "this endpoint is not implemented yet",
        )
        .with_status(501),
    )
}
