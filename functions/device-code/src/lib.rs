//! `device-code`: the device authorization endpoint (RFC 8628 §3.1–3.2), `POST /device/code`,
//! the authorization server metadata (RFC 8414), `GET /.well-known/oauth-authorization-server`,
//! and, when `PORTAL_COMPAT_ENABLED`, the portal dialect's
//! `POST /api/v2/authn/device/device_token` ([`portal_auth_device::wire::portal`]).
//!
//! A device authorization request is a short list of guard clauses, each ending in a named
//! OAuth error: a strict form body; an allowed, authenticated client (§3.1 defers to RFC 6749
//! §2.3.1); then [`flow::authorize`] (a client Cognito lets run the code flow back to our
//! callback, a scope within the client's, the grant issued and stored in one write), and the
//! codes returned once by the dialect's writer. The portal dialect differs only at the edge:
//! its parameters come in the query string, its client authenticates by HTTP Basic alone (so
//! only a confidential client can use it), and its grant is issued with a UUID device code.

use lambda_http::{Body, Request, Response};
use portal_auth_device::request::{self, Form};
use portal_auth_device::wire::{portal, rfc8628};
use portal_auth_device::{Deps, client_auth, flow};
use portal_auth_domain::{Dialect, OAuthError};

/// What this function's code asks of AWS, for its IAM role (checked against the template).
/// `UpdateItem`: the issuance counters, taken inside the grant's `TransactWriteItems`.
pub const IAM_ACTIONS: &[&str] = &[
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "cognito-idp:DescribeUserPoolClient",
];

const METADATA_PATH: &str = "/.well-known/oauth-authorization-server";

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    if path.ends_with(portal::DEVICE_TOKEN_PATH) {
        return portal_device_token(deps, &req)
            .await
            .unwrap_or_else(|e| portal::error(&e));
    }
    let result = if path.ends_with(METADATA_PATH) {
        metadata(deps, &req)
    } else if path.ends_with("/device/code") {
        device_authorization(deps, &req).await
    } else {
        Err(not_found())
    };
    result.unwrap_or_else(|e| rfc8628::error(&e))
}

fn not_found() -> OAuthError {
    OAuthError::invalid_request("no such endpoint").with_status(404)
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
    let issued = flow::authorize(
        deps,
        &client,
        Dialect::Rfc8628,
        form.get("scope"),
        request::device_info(req),
    )
    .await?;
    Ok(rfc8628::device_authorization(&deps.config, &issued))
}

/// The portal's `get_device_token`: `?scope=` (its `client_id` is deprecated and ignored), no
/// body, HTTP Basic.
async fn portal_device_token(deps: &Deps, req: &Request) -> Result<Response<Body>, OAuthError> {
    if !deps.config.portal_compat_enabled {
        return Err(not_found());
    }
    let query = Form::from_query(req)?;
    let presented = client_auth::presented_by_basic(req)?;
    let client = client_auth::authenticate(&presented, &deps.config, &deps.clients).await?;
    let issued = flow::authorize(
        deps,
        &client,
        Dialect::Portal,
        query.get("scope"),
        request::device_info(req),
    )
    .await?;
    Ok(portal::device_flow(&deps.config, &issued))
}
