//! The OAuth wire format: the device authorization response (RFC 8628 §3.2), the token
//! endpoint's answers (§3.5, RFC 6749 §5.1–5.2), the revocation endpoint's (RFC 7009 §2.2),
//! and the authorization server metadata (RFC 8414). Every error is HTTP 400 JSON with
//! `Cache-Control: no-store` (GitHub's 200-with-error breaks standard clients), except
//! `invalid_client`, 401.

use lambda_http::{Body, Response};
use portal_auth_domain::{DEVICE_CODE_GRANT_TYPE, OAuthError};
use serde_json::{Value, json};

use crate::config::DeviceConfig;
use crate::flow::{Issued, PollOutcome, Tokens};

/// §3.2: the codes, once, and where the person goes.
pub fn device_authorization(config: &DeviceConfig, issued: &Issued) -> Response<Body> {
    let user_code = &issued.grant.user_code;
    super::json(
        200,
        &json!({
            "device_code": issued.device_code.expose_secret(),
            "user_code": user_code.formatted(),
            "verification_uri": config.verification_uri(),
            "verification_uri_complete": config.verification_uri_complete(user_code),
            "expires_in": config.device_code_ttl_secs,
            "interval": config.poll_interval_secs,
        }),
    )
}

/// §3.5: the tokens, or the error the poll came to.
pub fn poll(outcome: PollOutcome) -> Response<Body> {
    match outcome.into_result() {
        Ok(tokens) => self::tokens(tokens),
        Err(e) => error(&e),
    }
}

/// RFC 6749 §5.1: a successful token response.
pub fn tokens(tokens: Tokens) -> Response<Body> {
    super::json(200, &Value::Object(tokens))
}

/// RFC 7009 §2.2: the token is revoked (or was never valid); the body is empty.
pub fn revoked() -> Response<Body> {
    let mut response = super::json(200, &Value::Null);
    *response.body_mut() = Body::Empty;
    response.headers_mut().remove(http::header::CONTENT_TYPE);
    response
}

/// RFC 6749 §5.2.
pub fn error(err: &OAuthError) -> Response<Body> {
    super::error(err, |_| {})
}

/// How clients authenticate, at the token and the revocation endpoint alike.
const CLIENT_AUTH_METHODS: [&str; 3] = ["none", "client_secret_basic", "client_secret_post"];

/// RFC 8414 metadata. Its `issuer` is this service's base URL: the tokens' issuer and keys
/// are Cognito's, published by Cognito (see the README). Cacheable for five minutes.
pub fn metadata(config: &DeviceConfig) -> Response<Body> {
    let body = json!({
        "issuer": config.public_base_url,
        "device_authorization_endpoint": config.device_authorization_endpoint(),
        "token_endpoint": config.token_endpoint(),
        "grant_types_supported": [DEVICE_CODE_GRANT_TYPE, "refresh_token"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint": config.revocation_endpoint(),
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "response_types_supported": [],
        "code_challenge_methods_supported": ["S256"],
    });
    let mut response = super::json(200, &body);
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("public, max-age=300"),
    );
    response.headers_mut().remove(http::header::PRAGMA);
    response
}
