//! `device-token`: the token endpoint of the device grant, `POST /device/token`
//! (RFC 8628 §3.4–3.5), `grant_type=refresh_token` (RFC 6749 §6) proxied to Cognito, so a
//! CLI needs neither Cognito's domain nor a client secret, and, when `PORTAL_COMPAT_ENABLED`,
//! the portal dialect's `POST /api/v2/authn/device/jwt_token`
//! ([`portal_auth_device::wire::portal`]), and token revocation, `POST /device/revoke`
//! (RFC 7009, [`portal_auth_device::revocation`]), authenticated as at `/device/token`.
//!
//! Guard clauses (a strict form, a supported grant type, an authenticated client, a device code
//! of the dialect's shape), then [`flow::poll`] decides — one conditional DynamoDB write, and on
//! an approved grant the exchange at Cognito — and the dialect's writer answers. The portal
//! dialect reads its parameters from the query string and its client from HTTP Basic alone;
//! the refresh of its clients' SDK is RFC 6749's, at `/device/token`.

use lambda_http::{Body, Request, Response};
use portal_auth_device::config::REVOCATION_PATH;
use portal_auth_device::request::{self, Form};
use portal_auth_device::wire::{portal, rfc8628};
use portal_auth_device::{Deps, client_auth, flow, revocation};
use portal_auth_domain::{DEVICE_CODE_GRANT_TYPE, Dialect, ErrorCode, OAuthError};

/// What this function's code asks of AWS, for its IAM role (checked against the template).
pub const IAM_ACTIONS: &[&str] = &["dynamodb:UpdateItem", "cognito-idp:DescribeUserPoolClient"];

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    let path = req.uri().path().trim_end_matches('/');
    if path.ends_with(REVOCATION_PATH) {
        return revoke(deps, &req)
            .await
            .unwrap_or_else(|e| rfc8628::error(&e));
    }
    if path.ends_with(portal::JWT_TOKEN_PATH) {
        return portal_jwt_token(deps, &req)
            .await
            .unwrap_or_else(|e| portal::error(&e));
    }
    token(deps, &req)
        .await
        .unwrap_or_else(|e| rfc8628::error(&e))
}

async fn token(deps: &Deps, req: &Request) -> Result<Response<Body>, OAuthError> {
    let form = Form::parse(req)?;
    match form.require("grant_type")? {
        DEVICE_CODE_GRANT_TYPE => {
            let presented = client_auth::presented(req, &form)?;
            let outcome = poll(deps, &presented, Dialect::Rfc8628, &form).await?;
            Ok(rfc8628::poll(outcome))
        }
        "refresh_token" => refresh(deps, req, &form).await,
        _ => Err(unsupported_grant_type()),
    }
}

fn unsupported_grant_type() -> OAuthError {
    OAuthError::new(
        ErrorCode::UnsupportedGrantType,
        "grant_type must be urn:ietf:params:oauth:grant-type:device_code or refresh_token",
    )
}

/// A device access token request (§3.4) in `dialect`, once its parameters are read.
async fn poll(
    deps: &Deps,
    presented: &client_auth::Presented,
    dialect: Dialect,
    params: &Form,
) -> Result<flow::PollOutcome, OAuthError> {
    let client = client_auth::authenticate(presented, &deps.config, &deps.clients).await?;
    let raw = params.require("device_code")?;
    // A code of another shape cannot name a grant: refused before it reaches storage.
    let Some(code) = dialect.device_code_format().parse(raw) else {
        return Ok(flow::PollOutcome::InvalidGrant);
    };
    Ok(flow::poll(deps, &client, dialect, &code).await)
}

/// The portal's `get_jwt_token`: `?device_code=&grant_type=` (its `client_id` is deprecated and
/// ignored), no body, HTTP Basic.
async fn portal_jwt_token(deps: &Deps, req: &Request) -> Result<Response<Body>, OAuthError> {
    if !deps.config.portal_compat_enabled {
        return Err(OAuthError::invalid_request("no such endpoint").with_status(404));
    }
    let query = Form::from_query(req)?;
    let presented = client_auth::presented_by_basic(req)?;
    if query.require("grant_type")? != DEVICE_CODE_GRANT_TYPE {
        return Err(unsupported_grant_type());
    }
    let outcome = poll(deps, &presented, Dialect::Portal, &query).await?;
    Ok(portal::poll(outcome))
}

async fn refresh(deps: &Deps, req: &Request, form: &Form) -> Result<Response<Body>, OAuthError> {
    let presented = client_auth::presented(req, form)?;
    let client = client_auth::authenticate(&presented, &deps.config, &deps.clients).await?;
    let refresh_token = form.require("refresh_token")?;
    let device = request::device_info(req);
    let tokens = flow::refresh(deps, &client, refresh_token, &device).await?;
    Ok(rfc8628::tokens(tokens))
}

/// RFC 7009 §2.1: `token` and an optional `token_type_hint`, which is not needed to find the
/// token and so is accepted whatever it says (§2.1 lets the server ignore it); client
/// authentication as at `/device/token`, so that a failed one revokes nothing. §2.2: 200 with
/// an empty body, also for a token that is unknown, expired or already revoked.
async fn revoke(deps: &Deps, req: &Request) -> Result<Response<Body>, OAuthError> {
    let form = Form::parse(req)?;
    let presented = client_auth::presented(req, &form)?;
    let client = client_auth::authenticate(&presented, &deps.config, &deps.clients).await?;
    let token = form.require("token")?;
    revocation::revoke(deps, &client, token).await?;
    Ok(rfc8628::revoked())
}
