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

/// The token endpoint client, built once per instance.
#[derive(Debug, Clone)]
pub struct TokenClient {
    http: reqwest::Client,
    endpoint: String,
}

impl TokenClient {
    pub fn new(endpoint: String) -> Self {
        let http = reqwest::Client::builder()
            .timeout(TOKEN_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { http, endpoint }
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
