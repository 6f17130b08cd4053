//! `device-code`: the device authorization endpoint (RFC 8628 §3.1–3.2), `POST /device/code`,
//! and the authorization server metadata (RFC 8414), `GET /.well-known/oauth-authorization-server`.
//!
//! A device authorization request is a short list of guard clauses, each ending in a named
//! OAuth error: a strict form body; an allowed, authenticated client (§3.1 defers to RFC 6749
//! §2.3.1); then [`flow::authorize`] (a client Cognito lets run the code flow back to our
//! callback, a scope within the client's, the grant issued and stored in one write), and the
//! codes returned once by the RFC 8628 writer.

use lambda_http::{Body, Request, Response};
use portal_auth_device::request::{self, Form};
use portal_auth_device::wire::rfc8628;
use portal_auth_device::{Deps, client_auth, flow};
use portal_auth_domain::OAuthError;

/// What this function's code asks of AWS, for its IAM role (checked against the template).
pub const IAM_ACTIONS: &[&str] = &["dynamodb:PutItem", "cognito-idp:DescribeUserPoolClient"];

const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let result = if path.ends_with(METADATA_PATH) {
        metadata(deps, &req)
    } else if path.ends_with("/device/code") {
        device_authorization(deps, &req).await
    } else {
        Err(OAuthError::invalid_request("no such endpoint").with_status(404))
    };
    result.unwrap_or_else(|e| rfc8628::error(&e))
}

fn metadata(deps: &Deps, req: &Request) -> Result<Response<Body>, OAuthError> {
    if req.method() != http::Method::GET && req.method() != http::Method::HEAD {
        return Err(OAuthError::invalid_request("use GET").with_status(405));
    }
    Ok(rfc8628::metadata(&deps.config))
}

async fn device_authorization(deps: &Deps, req: &Request) -> Result<Response<Body>, OAuthError> {
    let form = Form::parse(req)?;
    let presented = client_auth::presented(req, &form)?;
    let client = client_auth::authenticate(&presented, &deps.config, &deps.clients).await?;
    let issued =
        flow::authorize(deps, &client, form.get("scope"), request::device_info(req)).await?;
    Ok(rfc8628::device_authorization(&deps.config, &issued))
}
