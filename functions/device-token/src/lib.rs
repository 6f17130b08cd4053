//! `device-token`: the token endpoint of the device grant, `POST /device/token`
//! (RFC 8628 §3.4–3.5), and `grant_type=refresh_token` (RFC 6749 §6) proxied to Cognito, so a
//! CLI needs neither Cognito's domain nor a client secret.
//!
//! Guard clauses (a strict form, a supported grant type, an authenticated client, a device code
//! of the right shape), then [`flow::poll`] decides — one conditional DynamoDB write, and on an
//! approved grant the exchange at Cognito — and the RFC 8628 writer answers.

use lambda_http::{Body, Request, Response};
use portal_auth_device::request::Form;
use portal_auth_device::wire::rfc8628;
use portal_auth_device::{Deps, client_auth, flow};
use portal_auth_domain::{DEVICE_CODE_GRANT_TYPE, DeviceCode, ErrorCode, OAuthError};

/// What this function's code asks of AWS, for its IAM role (checked against the template).
pub const IAM_ACTIONS: &[&str] = &["dynamodb:UpdateItem", "cognito-idp:DescribeUserPoolClient"];

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    token(deps, &req)
        .await
        .unwrap_or_else(|e| rfc8628::error(&e))
}

async fn token(deps: &Deps, req: &Request) -> Result<Response<Body>, OAuthError> {
    let form = Form::parse(req)?;
    match form.require("grant_type")? {
        DEVICE_CODE_GRANT_TYPE => poll(deps, req, &form).await,
        "refresh_token" => refresh(deps, req, &form).await,
        _ => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "grant_type must be urn:ietf:params:oauth:grant-type:device_code or refresh_token",
        )),
    }
}

async fn poll(deps: &Deps, req: &Request, form: &Form) -> Result<Response<Body>, OAuthError> {
    let presented = client_auth::presented(req, form)?;
    let client = client_auth::authenticate(&presented, &deps.config, &deps.clients).await?;
    let raw = form.require("device_code")?;
    // A code of another shape cannot name a grant: refused before it reaches storage.
    let Some(code) = DeviceCode::parse(raw) else {
        return Ok(rfc8628::poll(flow::PollOutcome::InvalidGrant));
    };
    Ok(rfc8628::poll(flow::poll(deps, &client, &code).await))
}

async fn refresh(deps: &Deps, req: &Request, form: &Form) -> Result<Response<Body>, OAuthError> {
    let presented = client_auth::presented(req, form)?;
    let client = client_auth::authenticate(&presented, &deps.config, &deps.clients).await?;
    let refresh_token = form.require("refresh_token")?;
    let tokens = flow::refresh(deps, &client, refresh_token).await?;
    Ok(rfc8628::tokens(tokens))
}
