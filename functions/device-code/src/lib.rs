//! `device-code`: the device authorization endpoint (RFC 8628 §3.1–3.2), `POST /device/code`,
//! and the authorization server metadata (RFC 8414), `GET /.well-known/oauth-authorization-server`.
//!
//! A device authorization request is a short list of guard clauses, each ending in a named
//! OAuth error: a strict form body; an allowed, authenticated client (§3.1 defers to RFC 6749
//! §2.3.1); a client Cognito lets run the code flow back to our callback; a scope within the
//! client's. Then a grant is issued and stored in one write, and the codes are returned once.

use lambda_http::{Body, Request, Response};
use portal_auth_device::client_auth;
use portal_auth_device::http::{self as oauth_http, Form};
use portal_auth_device::store::CreateError;
use portal_auth_device::{AppClient, Deps};
use portal_auth_domain::{DeviceCode, ErrorCode, Grant, OAuthError, Scopes, UserCode};
use serde_json::json;

/// The grant type of RFC 8628 §3.4, as advertised and accepted.
pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Draws of a fresh user code before giving up: with 20⁸ ≈ 2.6·10¹⁰ codes, a second
/// collision in a row means something other than chance is wrong.
const USER_CODE_ATTEMPTS: usize = 4;
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
    result.unwrap_or_else(|e| oauth_http::error(&e))
}

/// RFC 8414 metadata. Its `issuer` is this service's base URL: the tokens' issuer and keys
/// are Cognito's, published by Cognito (see the README).
fn metadata(deps: &Deps, req: &Request) -> Result<Response<Body>, OAuthError> {
    if req.method() != http::Method::GET && req.method() != http::Method::HEAD {
        return Err(OAuthError::invalid_request("use GET").with_status(405));
    }
    let c = &deps.config;
    let body = json!({
        "issuer": c.public_base_url,
        "device_authorization_endpoint": c.device_authorization_endpoint(),
        "token_endpoint": c.token_endpoint(),
        "grant_types_supported": [DEVICE_CODE_GRANT_TYPE, "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "response_types_supported": [],
        "code_challenge_methods_supported": ["S256"],
    });
    let mut response = oauth_http::json(200, &body);
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("public, max-age=300"),
    );
    response.headers_mut().remove(http::header::PRAGMA);
    Ok(response)
}

async fn device_authorization(deps: &Deps, req: &Request) -> Result<Response<Body>, OAuthError> {
    let form = Form::parse(req)?;
    let presented = client_auth::presented(req, &form)?;
    let client = client_auth::authenticate(&presented, &deps.config, &deps.clients).await?;
    ensure_code_flow(deps, &client)?;
    let scope = requested_scope(form.get("scope"), &client)?;
    let (device_code, grant) = issue(deps, &client, scope, req).await?;
    tracing::info!(
        grant = grant.device_code_hash.short(),
        client_id = %client.client_id,
        "device authorization issued"
    );
    let c = &deps.config;
    let user_code = grant.user_code.formatted();
    Ok(oauth_http::json(
        200,
        &json!({
            "device_code": device_code.expose_secret(),
            "user_code": user_code,
            "verification_uri": c.verification_uri(),
            "verification_uri_complete": format!("{}?user_code={user_code}", c.verification_uri()),
            "expires_in": c.device_code_ttl_secs,
            "interval": c.poll_interval_secs,
        }),
    ))
}

/// The person will sign in at Cognito's hosted UI with the code flow, and Cognito will only
/// send them back to a registered callback: refuse now a client for which that would fail later.
fn ensure_code_flow(deps: &Deps, client: &AppClient) -> Result<(), OAuthError> {
    let redirect_uri = deps.config.redirect_uri();
    if !client.code_flow_enabled || !client.callback_urls.contains(&redirect_uri) {
        tracing::warn!(
            client_id = %client.client_id,
            redirect_uri,
            "app client lacks the code flow or our callback URL at Cognito"
        );
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not set up for the device flow (code flow and callback URL at Cognito)",
        ));
    }
    Ok(())
}

/// `scope` must be within the app client's scopes; when omitted, the client's scopes are
/// granted (RFC 6749 §3.3 lets the server pick a documented default).
fn requested_scope(raw: Option<&str>, client: &AppClient) -> Result<Scopes, OAuthError> {
    let Some(raw) = raw else {
        return Ok(client.scopes.clone());
    };
    let scope = Scopes::parse(raw)
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidScope, "scope is malformed"))?;
    if !scope.is_subset_of(&client.scopes) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "scope asks for more than this client is allowed",
        ));
    }
    Ok(if scope.is_empty() {
        client.scopes.clone()
    } else {
        scope
    })
}

/// Draws the codes and stores the grant, drawing a new user code on the rare collision with
/// a live one.
async fn issue(
    deps: &Deps,
    client: &AppClient,
    scope: Scopes,
    req: &Request,
) -> Result<(DeviceCode, Grant), OAuthError> {
    let now = deps.clock.now();
    let device_code = DeviceCode::generate().map_err(OAuthError::unavailable)?;
    for _ in 0..USER_CODE_ATTEMPTS {
        let grant = Grant::issue(
            &device_code,
            UserCode::generate().map_err(OAuthError::unavailable)?,
            client.client_id.as_str(),
            scope.clone(),
            now,
            deps.config.device_code_ttl_secs,
            deps.config.poll_interval_secs,
            oauth_http::source_ip(req),
            oauth_http::user_agent(req),
        );
        match deps.store.create(&grant, now).await {
            Ok(()) => return Ok((device_code, grant)),
            Err(CreateError::UserCodeTaken) => {
                tracing::warn!("user code collision, drawing another")
            }
            Err(CreateError::Store(e)) => return Err(OAuthError::unavailable(e)),
        }
    }
    Err(OAuthError::unavailable(
        "no free user code after several draws",
    ))
}
