//! `device-token`: the token endpoint of the device grant, `POST /device/token`
//! (RFC 8628 §3.4–3.5).
//!
//! One conditional DynamoDB write decides each poll (see `GrantStore::poll`); this module
//! turns the verdict into the RFC's answer. Every error is HTTP 400 JSON with
//! `Cache-Control: no-store` (GitHub's 200-with-error breaks standard clients), except
//! `invalid_client`, 401.
//!
//! When DynamoDB fails mid-poll the grant is untouched and the device is told `slow_down`:
//! RFC 8628 clients keep polling on it (slower), where an unknown 5xx would end their loop.

use lambda_http::{Body, Request, Response};
use portal_auth_device::client_auth;
use portal_auth_device::http::{self as oauth_http, Form};
use portal_auth_device::store::Poll;
use portal_auth_device::{AppClient, Deps};
use portal_auth_domain::grant::SLOW_DOWN_STEP_MS;
use portal_auth_domain::{DeviceCode, ErrorCode, OAuthError, PollVerdict};

pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    token(deps, &req)
        .await
        .unwrap_or_else(|e| oauth_http::error(&e))
}

async fn token(deps: &Deps, req: &Request) -> Result<Response<Body>, OAuthError> {
    let form = Form::parse(req)?;
    match form.require("grant_type")? {
        DEVICE_CODE_GRANT_TYPE => poll(deps, req, &form).await,
        _ => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "grant_type must be urn:ietf:params:oauth:grant-type:device_code",
        )),
    }
}

async fn poll(deps: &Deps, req: &Request, form: &Form) -> Result<Response<Body>, OAuthError> {
    let presented = client_auth::presented(req, form)?;
    let client = client_auth::authenticate(&presented, &deps.config, &deps.clients).await?;
    let raw = form.require("device_code")?;
    let code = DeviceCode::parse(raw).ok_or_else(unknown_code)?;
    let now = deps.clock.now();
    let poll = match deps
        .store
        .poll(&code.hash(), client.client_id.as_str(), now)
        .await
    {
        Ok(poll) => poll,
        Err(e) => {
            tracing::error!(grant = code.hash().short(), error = %e, "poll could not reach the store");
            return Err(slow_down(None));
        }
    };
    answer(&client, poll)
}

fn answer(client: &AppClient, poll: Poll) -> Result<Response<Body>, OAuthError> {
    let grant_ref = poll
        .grant
        .as_ref()
        .map(|g| g.device_code_hash.short().to_owned());
    tracing::info!(grant = grant_ref, client_id = %client.client_id, verdict = ?poll.verdict, "poll");
    Err(match poll.verdict {
        PollVerdict::AuthorizationPending => OAuthError::new(
            ErrorCode::AuthorizationPending,
            "the user has not yet approved this device",
        ),
        PollVerdict::SlowDown => slow_down(poll.grant.map(|g| g.interval_ms + SLOW_DOWN_STEP_MS)),
        PollVerdict::AccessDenied => {
            OAuthError::new(ErrorCode::AccessDenied, "the user denied this device")
        }
        PollVerdict::ExpiredToken => OAuthError::new(
            ErrorCode::ExpiredToken,
            "the device code has expired: start over",
        ),
        PollVerdict::InvalidGrant => unknown_code(),
        // The approved → tokens exchange at Cognito is the callback issue's (#3).
        PollVerdict::Redeem => OAuthError::new(
            ErrorCode::ServerError,
            "token exchange is not available in this version",
        )
        .with_status(501),
    })
}

/// `slow_down`, with the interval now enforced when known (as GitHub does; RFC 8628 §3.5
/// tells the client to add 5 s either way).
fn slow_down(interval_ms: Option<u64>) -> OAuthError {
    let err = OAuthError::new(
        ErrorCode::SlowDown,
        "polling too fast: add 5 seconds to the interval",
    );
    match interval_ms {
        Some(ms) => err.with_number("interval", ms.div_ceil(1000)),
        None => err,
    }
}

/// Unknown, consumed and another client's codes all look the same (RFC 8628 §3.4).
fn unknown_code() -> OAuthError {
    OAuthError::invalid_grant("the device code is unknown, already used, or not this client's")
}
