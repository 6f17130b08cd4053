//! Cognito's OAuth token endpoint (`${COGNITO_DOMAIN}/oauth2/token`): redeeming the
//! authorization code of the sign-in leg (RFC 6749 §4.1.3 with PKCE, RFC 7636 §4.5) and
//! refreshing tokens (RFC 6749 §6) on behalf of device clients, so a CLI needs neither
//! Cognito's domain nor the app client's secret.
//!
//! `client_id` always goes in the body; a confidential app client also authenticates with
//! HTTP Basic. Failures are sorted in two: Cognito's own refusal ([`TokenError::Rejected`],
//! e.g. `invalid_grant`), which ends a grant, and anything else ([`TokenError::Unavailable`]:
//! timeouts, connection errors, 5xx, 429), which leaves it redeemable.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portal_auth_runtime::https::Trust;
use serde_json::{Map, Value};

use crate::clients::AppClient;

/// Cognito answers in well under a second; a Lambda should not wait on it for long.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Cognito refused (4xx other than 429): its `error` code, e.g. `invalid_grant`.
    #[error("Cognito refused: {0}")]
    Rejected(String),
    #[error("Cognito token endpoint unavailable: {0}")]
    Unavailable(String),
}

/// The largest refresh token forwarded: Cognito's are about 1.8 KB.
const MAX_REFRESH_TOKEN_BYTES: usize = 4096;

/// Whether `raw` can be a refresh token Cognito issued, judged by shape alone, so that garbage
/// is refused here instead of spending the account-wide `UserAuthentication` quota at Cognito
/// (issue 9, item 8). Cognito's refresh tokens are JWE compact serializations (five base64url
/// segments, a JSON header naming `alg` and `enc`); `accept_jws` also admits a three-segment
/// JWS, which is what cognito-local issues, and is on only when Cognito is an emulator on a
/// loopback address (see [`TokenClient::new`]). A shape check stops the accidental and the
/// lazy; a determined attacker can forge the shape, which the WAF rate rule is for.
pub fn is_refresh_token_shape(raw: &str, accept_jws: bool) -> bool {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    if raw.len() > MAX_REFRESH_TOKEN_BYTES {
        return false;
    }
    let segments: Vec<&str> = raw.split('.').collect();
    let base64url = |seg: &str| {
        seg.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let jwe = segments.len() == 5
        && segments[..2]
            .iter()
            .chain(&segments[3..])
            .all(|s| !s.is_empty());
    let jws = accept_jws && segments.len() == 3 && segments.iter().all(|s| !s.is_empty());
    if !(jwe || jws) || !segments.iter().all(|s| base64url(s)) {
        return false;
    }
    let header: Option<Value> = URL_SAFE_NO_PAD
        .decode(segments[0])
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let names = |key: &str| header.as_ref().is_some_and(|h| h[key].is_string());
    names("alg") && (!jwe || names("enc"))
}

/// The token endpoint client, built once per instance.
#[derive(Debug, Clone)]
pub struct TokenClient {
    http: reqwest::Client,
    endpoint: String,
    /// Refresh tokens of the JWS shape are forwarded: Cognito is cognito-local on loopback.
    emulated: bool,
}

impl TokenClient {
    /// Fails only when reqwest cannot build a client with `trust`'s TLS configuration; there is
    /// no fallback to reqwest's default client, which would trust the host's store instead.
    pub fn new(endpoint: String, trust: &Trust) -> Result<Self, reqwest::Error> {
        let http = trust
            .client_builder()
            .timeout(TOKEN_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let emulated = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"]
            .iter()
            .any(|p| endpoint.starts_with(p));
        Ok(Self {
            http,
            endpoint,
            emulated,
        })
    }

    /// [`is_refresh_token_shape`] for this Cognito.
    pub fn accepts_refresh_token_shape(&self, raw: &str) -> bool {
        is_refresh_token_shape(raw, self.emulated)
    }

    /// Redeems an authorization code; returns Cognito's token response members.
    pub async fn redeem_code(
        &self,
        client: &AppClient,
        code: &str,
        code_verifier: &str,
        redirect_uri: &str,
    ) -> Result<Map<String, Value>, TokenError> {
        self.post(
            client,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("code_verifier", code_verifier),
                ("redirect_uri", redirect_uri),
            ],
        )
        .await
    }

    pub async fn refresh(
        &self,
        client: &AppClient,
        refresh_token: &str,
    ) -> Result<Map<String, Value>, TokenError> {
        self.post(
            client,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    async fn post(
        &self,
        client: &AppClient,
        params: &[(&str, &str)],
    ) -> Result<Map<String, Value>, TokenError> {
        let mut form: Vec<(&str, &str)> = vec![("client_id", client.client_id.as_str())];
        form.extend_from_slice(params);
        let mut request = self.http.post(&self.endpoint).form(&form);
        if let Some(secret) = &client.secret {
            request = request.header(
                reqwest::header::AUTHORIZATION,
                basic_credentials(client.client_id.as_str(), secret.expose_secret()),
            );
        }
        let response = request
            .send()
            .await
            .map_err(|e| TokenError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| TokenError::Unavailable(format!("unreadable answer ({status}): {e}")))?;
        if status.is_success() {
            return match body {
                Value::Object(map) if map.get("access_token").is_some_and(Value::is_string) => {
                    Ok(map)
                }
                _ => Err(TokenError::Unavailable(format!(
                    "no access_token in a {status} answer"
                ))),
            };
        }
        if status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS {
            let code = body["error"].as_str().unwrap_or("invalid_request");
            return Err(TokenError::Rejected(code.to_owned()));
        }
        Err(TokenError::Unavailable(format!("HTTP {status}")))
    }
}

/// RFC 6749 §2.3.1: each part form-urlencoded, then `id:secret` in base64.
fn basic_credentials(id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(id), encode(secret)))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const JWE_HEADER: &str = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ";

    #[test]
    fn only_cognito_shaped_refresh_tokens_pass() {
        let jwe = format!("{JWE_HEADER}.a2V5.aXY.Y2lwaGVy.dGFn");
        assert!(is_refresh_token_shape(&jwe, false));
        // A JWS (cognito-local's shape) only for the emulator.
        let jws = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln";
        assert!(!is_refresh_token_shape(jws, false));
        assert!(is_refresh_token_shape(jws, true));
        for bad in [
            "",
            "garbage",
            "a.b.c.d.e",
            &format!("{JWE_HEADER}..aXY.Y2lwaGVy.dGFn"),
            &format!("{JWE_HEADER}.a2V5.aXY.Y2lw aGVy.dGFn"),
            "eyJhbGciOiJSUzI1NiJ9.a2V5.aXY.Y2lwaGVy.dGFn", // no `enc`: not a JWE
            &format!("{JWE_HEADER}.{}.aXY.Y2lwaGVy.dGFn", "A".repeat(5000)),
        ] {
            assert!(!is_refresh_token_shape(bad, true), "{bad:?}");
        }
    }
}
