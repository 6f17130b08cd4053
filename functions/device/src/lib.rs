//! What the four device-flow functions share: their configuration, the audit trail
//! ([`audit`]), the DynamoDB grant store,
//! the Cognito app-client cache, client authentication, the flow's decisions ([`flow`]),
//! token revocation ([`revocation`], RFC 7009),
//! reading requests ([`request`]) and writing answers per wire format ([`wire`]), and the AWS
//! SDK's configuration and transport ([`aws`]).
//!
//! Each function's `main` builds one [`Deps`] at cold start ([`Deps::from_env`]) and hands it
//! to a plain `handle(&deps, request)`; tests build theirs with [`Deps::new`] around their own
//! SDK clients (pointing at emulators, with call counters) and clock.

pub mod audit;
pub mod aws;
pub mod client_auth;
pub mod clients;
pub mod config;
pub mod flow;
pub mod pages;
pub mod request;
pub mod revocation;
pub mod store;
pub mod token_client;
pub mod wire;

use std::sync::Arc;

use portal_auth_domain::{Clock, SystemClock};
use portal_auth_runtime::https::Trust;
use portal_auth_runtime::metrics::{Emf, Function};
use portal_auth_runtime::{ConfigError, Env};

pub use clients::{AppClient, AppClients};
pub use config::DeviceConfig;
#[doc(hidden)]
pub use portal_auth_runtime;
pub use store::GrantStore;
pub use token_client::TokenClient;

/// Everything a device-flow handler needs, built once per Lambda instance.
pub struct Deps {
    pub config: DeviceConfig,
    pub store: GrantStore,
    pub clients: AppClients,
    pub tokens: TokenClient,
    /// Access tokens presented at `/device/revoke`, verified as the authorizer does.
    pub access_tokens: revocation::AccessTokens,
    pub clock: Arc<dyn Clock>,
    /// The roots outbound TLS trusts (token endpoint, JWKS, the SDK's transport).
    pub trust: Trust,
    /// This function's CloudWatch metrics (EMF lines on stdout, dimension `function`).
    pub emf: Emf,
}

impl Deps {
    pub fn new(
        config: DeviceConfig,
        dynamodb: aws_sdk_dynamodb::Client,
        cognito: aws_sdk_cognitoidentityprovider::Client,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Deps {
            // Tests share one Deps across handlers; each function's main names its own.
            emf: Emf::new(Function::DeviceCode),
            store: GrantStore::new(dynamodb, config.table_name.clone()),
            tokens: TokenClient::new(config.cognito_token_endpoint(), &Trust::default()),
            clients: AppClients::new(cognito, config.user_pool.id.clone()),
            access_tokens: revocation::AccessTokens::default(),
            config,
            clock,
            trust: Trust::default(),
        }
    }

    /// Reads the configuration and builds the AWS clients from the environment alone
    /// ([`aws`]: `AWS_REGION`, the role's credentials, `AWS_ENDPOINT_URL_*`), failing with the
    /// name of the first missing or malformed variable. Nothing is read from disk and nothing
    /// is sent: the first request opens the first connection.
    pub fn from_env(env: &Env, function: Function) -> Result<Self, ConfigError> {
        let config = DeviceConfig::from_env(env)?;
        let trust = Trust::from_env(env)?;
        let credentials = portal_auth_runtime::aws::Credentials::from_env(env)?;
        let sdk = aws::sdk_config(env.required("AWS_REGION")?, &credentials, &trust);
        let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk);
        if let Some(url) = portal_auth_runtime::aws::endpoint_override(env, "DYNAMODB")? {
            dynamodb = dynamodb.endpoint_url(url);
        }
        let mut cognito = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk).region(
            aws_types::region::Region::new(config.user_pool.region.clone()),
        );
        if let Some(url) =
            portal_auth_runtime::aws::endpoint_override(env, "COGNITO_IDENTITY_PROVIDER")?
        {
            cognito = cognito.endpoint_url(url);
        }
        let mut deps = Deps::new(
            config,
            aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
            aws_sdk_cognitoidentityprovider::Client::from_conf(cognito.build()),
            Arc::new(SystemClock),
        );
        deps.tokens = TokenClient::new(deps.config.cognito_token_endpoint(), &trust);
        deps.trust = trust;
        deps.emf = Emf::new(function);
        Ok(deps)
    }
}

/// The `main` of a device-flow function `$function` (a [`Function`]): JSON logs, configuration
/// and clients once (a bad variable fails the cold start, naming it), then every request to
/// `$handle(&deps, request)`.
#[macro_export]
macro_rules! lambda_main {
    ($handle:path, $function:expr) => {
        #[tokio::main]
        async fn main() -> Result<(), lambda_http::Error> {
            $crate::portal_auth_runtime::logging::init();
            let env = $crate::portal_auth_runtime::Env::from_process();
            let deps = std::sync::Arc::new($crate::Deps::from_env(&env, $function)?);
            lambda_http::run(lambda_http::service_fn(move |req| {
                let deps = deps.clone();
                async move { Ok::<_, lambda_http::Error>($handle(&deps, req).await) }
            }))
            .await
        }
    };
}
