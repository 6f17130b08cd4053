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
    /// Around the caller's own SDK clients and clock (tests), trusting the compiled-in roots.
    /// Tests share one `Deps` across handlers; [`Self::from_env`] names each function's metrics.
    ///
    /// # Panics
    /// If reqwest cannot build a client with the compiled-in roots, which
    /// `portal_auth_runtime::https`'s tests rule out.
    pub fn new(
        config: DeviceConfig,
        dynamodb: aws_sdk_dynamodb::Client,
        cognito: aws_sdk_cognitoidentityprovider::Client,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::assemble(config, dynamodb, cognito, clock, Trust::default())
            .expect("a token endpoint client with the compiled-in roots")
    }

    fn assemble(
        config: DeviceConfig,
        dynamodb: aws_sdk_dynamodb::Client,
        cognito: aws_sdk_cognitoidentityprovider::Client,
        clock: Arc<dyn Clock>,
        trust: Trust,
    ) -> Result<Self, reqwest::Error> {
        Ok(Deps {
            emf: Emf::new(Function::DeviceCode),
            store: GrantStore::new(dynamodb, config.table_name.clone()),
            tokens: TokenClient::new(config.cognito_token_endpoint(), &trust)?,
            clients: AppClients::new(cognito, config.user_pool.id.clone()),
            access_tokens: revocation::AccessTokens::default(),
            config,
            clock,
            trust,
        })
    }

    /// Reads the configuration and builds the AWS clients from the environment alone
    /// ([`aws`]: `AWS_REGION`, the role's credentials, `AWS_ENDPOINT_URL_*`), failing with the
    /// name of the first missing or malformed variable. Nothing is read from disk (but the
    /// file `PORTAL_AUTH_EXTRA_CA_CERTS` names, when set) and nothing is sent: the first request
    /// opens the first connection.
    pub fn from_env(env: &Env, function: Function) -> Result<Self, ConfigError> {
        let config = DeviceConfig::from_env(env)?;
        let trust = Trust::from_env(env)?;
        let (dynamodb, cognito) = aws::clients_from_env(env, &config.user_pool.region, &trust)?;
        // The only input of the token client's TLS configuration is the set of roots.
        let mut deps = Self::assemble(config, dynamodb, cognito, Arc::new(SystemClock), trust)
            .map_err(|e| {
                ConfigError::invalid(
                    portal_auth_runtime::https::EXTRA_CA_CERTS,
                    format!("no TLS client can be built with these roots: {e}"),
                )
            })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What the template gives a device function, with Lambda's own variables.
    fn lambda_env(without: &str, extra: &[(&str, &str)]) -> Env {
        let pairs = [
            ("TABLE_NAME", "portal-auth-grants"),
            ("PUBLIC_BASE_URL", "https://auth.example.com/v1"),
            ("COGNITO_USER_POOL_ID", "eu-west-1_AbCdEfGhI"),
            (
                "COGNITO_DOMAIN",
                "https://portal.auth.eu-west-1.amazoncognito.com",
            ),
            ("DEVICE_CLIENT_IDS", "4vjq0m7pl2rk3ufc2pb5d1ldh8"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ];
        Env::from_pairs(
            pairs
                .iter()
                .chain(extra)
                .filter(|(name, _)| *name != without)
                .map(|&(k, v)| (k, v)),
        )
    }

    #[test]
    fn the_clients_come_from_the_environment_alone() {
        let env = lambda_env("", &[]);
        let deps = Deps::from_env(&env, Function::DeviceToken).unwrap();
        assert_eq!(deps.trust, Trust::default());
        // DynamoDB in the function's region, Cognito in the pool's.
        let (dynamodb, cognito) = aws::clients_from_env(&env, "eu-west-1", &deps.trust).unwrap();
        let region = |r: Option<&aws_types::region::Region>| r.map(|r| r.to_string());
        assert_eq!(
            region(dynamodb.config().region()).as_deref(),
            Some("us-east-1")
        );
        assert_eq!(
            region(cognito.config().region()).as_deref(),
            Some("eu-west-1")
        );
    }

    #[test]
    fn a_missing_aws_variable_fails_the_cold_start_naming_it() {
        for name in ["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            let err = Deps::from_env(&lambda_env(name, &[]), Function::DeviceCode)
                .err()
                .unwrap_or_else(|| panic!("{name} missing was accepted"));
            assert_eq!(err, ConfigError::Missing(name.to_owned()));
        }
        // The session token is optional (long-lived keys have none).
        assert!(
            Deps::from_env(&lambda_env("AWS_SESSION_TOKEN", &[]), Function::DeviceCode).is_ok()
        );
        let bad_endpoint = [("AWS_ENDPOINT_URL_DYNAMODB", "not a url")];
        let err = Deps::from_env(&lambda_env("", &bad_endpoint), Function::DeviceCode).err();
        assert!(
            err.is_some_and(|e| e.to_string().contains("AWS_ENDPOINT_URL_DYNAMODB")),
            "a malformed endpoint was accepted"
        );
        let bad_ca = [(
            portal_auth_runtime::https::EXTRA_CA_CERTS,
            "/nonexistent/ca.pem",
        )];
        let err = Deps::from_env(&lambda_env("", &bad_ca), Function::DeviceCode).err();
        assert!(
            err.is_some_and(|e| e.to_string().contains("PORTAL_AUTH_EXTRA_CA_CERTS")),
            "an unreadable CA file was accepted"
        );
    }
}
