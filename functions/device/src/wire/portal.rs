//! The Data Product Portal's wire format ([`Dialect::Portal`]), as its `docs/static/openapi.json`
//! and its shipped clients (the Go CLI `portal auth login`, the Python SDK `PortalAuth`) read it.
//!
//! - `POST /api/v2/authn/device/device_token?scope=…`, no body, HTTP Basic: 200 `DeviceFlow`,
//!   all eleven of its fields present (both clients require them): `device_code` (a UUID),
//!   `user_code`, `scope`, `interval`, `expiration` (seconds), `oidc_redirect_uri`, `status`,
//!   `authz_code`, `authz_state`, `authz_verif` (always `null`: never exposed), and
//!   `verification_uri_complete`; plus RFC 8628's `verification_uri` and `expires_in`, which
//!   the clients ignore.
//! - `POST /api/v2/authn/device/jwt_token?device_code=…&grant_type=…`, no body, Basic: 200 with
//!   Cognito's tokens; otherwise 400 with `detail` — `authorization_pending`, `denied` or
//!   `expired` (unknown, used and malformed codes included: the SDK stops on it) — beside the
//!   RFC's `error` and `error_description`. Client authentication failures are 401.
//! - `GET /api/v2/authn/device?code=…`, the page the portal's `verification_uri_complete` used
//!   to name: a redirect to this service's verification page.
//!
//! Every answer is decided by [`crate::flow`], as for RFC 8628; only the writing differs.

use lambda_http::{Body, Response};
use portal_auth_domain::{ErrorCode, OAuthError};
use serde_json::{Value, json};

use crate::config::DeviceConfig;
use crate::flow::{Issued, PollOutcome};

/// The portal's device authorization route (its `get_device_token`).
pub const DEVICE_TOKEN_PATH: &str = "/api/v2/authn/device/device_token";
/// The portal's token route (its `get_jwt_token`).
pub const JWT_TOKEN_PATH: &str = "/api/v2/authn/device/jwt_token";
/// The portal's verification page (its `request_user_code_processing`), `?code=`.
pub const VERIFICATION_PATH: &str = "/api/v2/authn/device";

/// The `DeviceFlow` of a grant just issued. `status` is the portal's name for pending.
pub fn device_flow(config: &DeviceConfig, issued: &Issued) -> Response<Body> {
    let grant = &issued.grant;
    super::json(
        200,
        &json!({
            "device_code": issued.device_code.expose_secret(),
            "user_code": grant.user_code.formatted(),
            "scope": grant.scope.to_string(),
            "interval": config.poll_interval_secs,
            "expiration": config.device_code_ttl_secs,
            "oidc_redirect_uri": config.redirect_uri(),
            "status": "authorization_pending",
            "authz_code": Value::Null,
            "authz_state": Value::Null,
            "authz_verif": Value::Null,
            "verification_uri_complete": config.verification_uri_complete(&grant.user_code),
            "verification_uri": config.verification_uri(),
            "expires_in": config.device_code_ttl_secs,
        }),
    )
}

/// The tokens, or the 400 the poll came to. A store or Cognito outage (`slow_down` in RFC 8628,
/// with the grant untouched) is `authorization_pending` here: these clients never slow down and
/// stop on anything they do not expect, and polling on at their interval is what they should do.
pub fn poll(outcome: PollOutcome) -> Response<Body> {
    let outcome = match outcome {
        PollOutcome::SlowDown { .. } => PollOutcome::AuthorizationPending,
        other => other,
    };
    match outcome.into_result() {
        Ok(tokens) => super::rfc8628::tokens(tokens),
        Err(e) => error(&e),
    }
}

/// An error with the portal's `detail` beside the RFC's members: the poll states by the names
/// the portal's clients compare (`DeviceFlowStatus`), anything else by its description.
pub fn error(err: &OAuthError) -> Response<Body> {
    let detail = match err.code {
        ErrorCode::AuthorizationPending | ErrorCode::SlowDown => "authorization_pending",
        ErrorCode::AccessDenied => "denied",
        ErrorCode::ExpiredToken | ErrorCode::InvalidGrant => "expired",
        _ => err.description.as_ref(),
    };
    super::error(err, |body| {
        body.insert("detail".into(), detail.into());
    })
}

/// Where the portal's verification page sends the browser: ours, with the code as given (the
/// page itself judges it, counting the attempt).
pub fn verification_redirect(config: &DeviceConfig, code: Option<&str>) -> String {
    match code {
        Some(code) => format!(
            "{}?{}",
            config.verification_uri(),
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("user_code", code)
                .finish()
        ),
        None => config.verification_uri(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &Response<Body>) -> Value {
        match response.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            _ => panic!("not text"),
        }
    }

    #[test]
    fn poll_states_carry_the_portal_detail_and_the_rfc_error() {
        for (outcome, error, detail) in [
            (
                PollOutcome::AuthorizationPending,
                "authorization_pending",
                "authorization_pending",
            ),
            (
                PollOutcome::SlowDown {
                    interval_secs: Some(10),
                },
                "authorization_pending",
                "authorization_pending",
            ),
            (PollOutcome::AccessDenied, "access_denied", "denied"),
            (PollOutcome::ExpiredToken, "expired_token", "expired"),
            (PollOutcome::InvalidGrant, "invalid_grant", "expired"),
        ] {
            let response = poll(outcome);
            assert_eq!(response.status(), 400, "{detail}");
            let b = body(&response);
            assert_eq!(b["detail"], detail);
            assert_eq!(b["error"], error);
            assert!(b["error_description"].is_string());
            assert!(
                b.get("interval").is_none(),
                "a portal client is never told to slow down"
            );
        }
    }

    #[test]
    fn client_authentication_failures_are_401_with_a_detail() {
        let response = error(&OAuthError::invalid_client("client authentication failed"));
        assert_eq!(response.status(), 401);
        assert_eq!(body(&response)["detail"], "client authentication failed");
    }
}
