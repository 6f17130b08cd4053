//! The Cognito app clients allowed to use the device grant, as Cognito describes them.
//!
//! Name, scopes, callback URLs and secret come from `DescribeUserPoolClient`, so no secret
//! lives in the template or the environment. Answers are cached per Lambda instance for
//! [`CACHE_TTL`]: a warm instance makes no Cognito call per request, and a rotated secret or
//! changed scope list is picked up within that time. Only ids already in `DEVICE_CLIENT_IDS`
//! are ever looked up, so a stranger cannot make us call Cognito with arbitrary ids.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::error::DisplayErrorContext;
use aws_sdk_cognitoidentityprovider::types::{OAuthFlowType, UserPoolClientType};
use portal_auth_domain::{ClientId, ClientSecret, Scopes};
use tokio::sync::RwLock;

/// How long a description is trusted before Cognito is asked again.
pub const CACHE_TTL: Duration = Duration::from_secs(600);

/// What we need to know of one app client.
#[derive(Debug, Clone)]
pub struct AppClient {
    pub client_id: ClientId,
    /// Shown on the confirmation page (RFC 8628 §5.6: say which client asks).
    pub name: String,
    pub scopes: Scopes,
    pub callback_urls: Vec<String>,
    /// Whether Cognito lets this client run the authorization-code flow at the hosted UI.
    pub code_flow_enabled: bool,
    /// `Some` for a confidential client, which must authenticate.
    pub secret: Option<ClientSecret>,
}

impl AppClient {
    fn from_cognito(client_id: &ClientId, c: &UserPoolClientType) -> Self {
        AppClient {
            client_id: client_id.clone(),
            name: c.client_name().unwrap_or(client_id.as_str()).to_owned(),
            scopes: Scopes::from_tokens(c.allowed_o_auth_scopes().iter().cloned()),
            callback_urls: c.callback_urls().to_vec(),
            code_flow_enabled: c.allowed_o_auth_flows_user_pool_client() == Some(true)
                && c.allowed_o_auth_flows().contains(&OAuthFlowType::Code),
            secret: c.client_secret().map(ClientSecret::new),
        }
    }

    pub fn is_confidential(&self) -> bool {
        self.secret.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("Cognito DescribeUserPoolClient failed: {0}")]
pub struct LookupError(String);

/// The per-instance cache of app-client descriptions.
#[derive(Debug)]
pub struct AppClients {
    cognito: Client,
    user_pool_id: String,
    cache: RwLock<HashMap<ClientId, (Arc<AppClient>, Instant)>>,
}

impl AppClients {
    pub fn new(cognito: Client, user_pool_id: impl Into<String>) -> Self {
        Self {
            cognito,
            user_pool_id: user_pool_id.into(),
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The Cognito client these descriptions come from (for `RevokeToken`).
    pub fn cognito(&self) -> &Client {
        &self.cognito
    }

    /// The app client, or `None` when the pool has no such client.
    pub async fn get(&self, client_id: &ClientId) -> Result<Option<Arc<AppClient>>, LookupError> {
        if let Some((client, at)) = self.cache.read().await.get(client_id)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(Some(client.clone()));
        }
        let result = self
            .cognito
            .describe_user_pool_client()
            .user_pool_id(&self.user_pool_id)
            .client_id(client_id.as_str())
            .send()
            .await;
        let described = match result {
            Ok(out) => out.user_pool_client,
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(err) => return Err(LookupError(DisplayErrorContext(&err).to_string())),
        };
        let Some(described) = described else {
            self.cache.write().await.remove(client_id);
            return Ok(None);
        };
        let client = Arc::new(AppClient::from_cognito(client_id, &described));
        self.cache
            .write()
            .await
            .insert(client_id.clone(), (client.clone(), Instant::now()));
        Ok(Some(client))
    }
}
