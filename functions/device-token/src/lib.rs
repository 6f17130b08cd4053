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
//! On an approved grant exactly one poll wins the right to redeem Cognito's code (one more
//! conditional write); tokens are returned once and never stored. `grant_type=refresh_token`
//! is proxied to Cognito, so a CLI needs neither Cognito's domain nor a client secret.

use lambda_http::{Body, Request, Response};
use portal_auth_device::client_auth;
use portal_auth_device::http::{self as oauth_http, Form};
use portal_auth_device::store::{AUTHORIZATION_CODE, Poll, Transition, s};
use portal_auth_device::token_client::TokenError;
use portal_auth_device::{AppClient, Deps};
use portal_auth_domain::grant::SLOW_DOWN_STEP_MS;
use portal_auth_domain::{
    DeviceCode, DeviceCodeHash, ErrorCode, Grant, GrantStatus, OAuthError, PollVerdict,
};
use serde_json::Value;

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
    if poll.verdict == PollVerdict::Redeem
        && let Some(grant) = &poll.grant
    {
        return redeem(deps, &client, grant, &code).await;
    }
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
        PollVerdict::InvalidGrant | PollVerdict::Redeem => unknown_code(),
    })
}

/// The grant is approved: win it (exactly one poll does; the winning write removes Cognito's
/// code from the table), redeem the code with the PKCE verifier derived from the presented
/// device code, and return the tokens once; they are never stored. Cognito unreachable → the
/// grant is released with its code put back and the device told `slow_down`; Cognito's
/// refusal → the grant fails (`expired_token`).
async fn redeem(
    deps: &Deps,
    client: &AppClient,
    grant: &Grant,
    device_code: &DeviceCode,
) -> Result<Response<Body>, OAuthError> {
    let hash = &grant.device_code_hash;
    let now = deps.clock.now();
    let won = deps
        .store
        .transition(
            &Transition::new(hash, GrantStatus::Approved, GrantStatus::Consumed, now)
                .remove(AUTHORIZATION_CODE),
        )
        .await
        .map_err(|e| {
            tracing::error!(grant = hash.short(), error = %e, "could not win the grant");
            slow_down(None)
        })?;
    if !won {
        return Err(unknown_code());
    }
    let Some(code) = &grant.authorization_code else {
        tracing::error!(grant = hash.short(), "approved grant lacks its code");
        let failed = Transition::new(hash, GrantStatus::Consumed, GrantStatus::Failed, now);
        return Err(release(deps, hash, failed, expired()).await);
    };
    let verifier = device_code.pkce_verifier();
    let redirect_uri = deps.config.redirect_uri();
    match deps
        .tokens
        .redeem_code(
            client,
            code.expose_secret(),
            verifier.expose_secret(),
            &redirect_uri,
        )
        .await
    {
        Ok(mut tokens) => {
            tracing::info!(grant = hash.short(), client_id = %client.client_id, "tokens issued");
            tokens.insert("scope".into(), grant.scope.to_string().into());
            Ok(oauth_http::json(200, &Value::Object(tokens)))
        }
        Err(TokenError::Rejected(code)) => {
            tracing::warn!(
                grant = hash.short(),
                cognito_error = code,
                "Cognito refused the code"
            );
            let failed = Transition::new(hash, GrantStatus::Consumed, GrantStatus::Failed, now);
            Err(release(deps, hash, failed, expired()).await)
        }
        Err(TokenError::Unavailable(why)) => {
            tracing::warn!(
                grant = hash.short(),
                error = why,
                "Cognito unreachable: grant released"
            );
            let again = Transition::new(hash, GrantStatus::Consumed, GrantStatus::Approved, now)
                .set(AUTHORIZATION_CODE, s(code.expose_secret()));
            Err(release(deps, hash, again, slow_down(None)).await)
        }
    }
}

/// Moves a won grant on from consumed (`change`), and answers `answer` whatever the write
/// does: a failed release leaves the grant consumed (never redeemable twice), which the log
/// records.
async fn release(
    deps: &Deps,
    hash: &DeviceCodeHash,
    change: Transition<'_>,
    answer: OAuthError,
) -> OAuthError {
    if let Err(e) = deps.store.transition(&change).await {
        tracing::error!(grant = hash.short(), error = %e, to = change.to.as_str(), "could not release the grant");
    }
    answer
}

fn expired() -> OAuthError {
    OAuthError::new(
        ErrorCode::ExpiredToken,
        "the sign-in could not be completed: start over",
    )
}

/// `grant_type=refresh_token` (RFC 6749 §6) for device clients, proxied to Cognito with the
/// app client's secret when it has one.
async fn refresh(deps: &Deps, req: &Request, form: &Form) -> Result<Response<Body>, OAuthError> {
    let presented = client_auth::presented(req, form)?;
    let client = client_auth::authenticate(&presented, &deps.config, &deps.clients).await?;
    let refresh_token = form.require("refresh_token")?;
    if !deps.tokens.accepts_refresh_token_shape(refresh_token) {
        tracing::info!(client_id = %client.client_id, "refresh refused: not a Cognito refresh token");
        return Err(OAuthError::invalid_grant(
            "the refresh token is invalid, expired or revoked",
        ));
    }
    match deps.tokens.refresh(&client, refresh_token).await {
        Ok(tokens) => Ok(oauth_http::json(200, &Value::Object(tokens))),
        Err(TokenError::Rejected(code)) => {
            tracing::info!(client_id = %client.client_id, cognito_error = code, "refresh refused");
            Err(OAuthError::invalid_grant(
                "the refresh token is invalid, expired or revoked",
            ))
        }
        Err(TokenError::Unavailable(why)) => Err(OAuthError::unavailable(why)),
    }
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
