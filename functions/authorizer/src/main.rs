//! The `authorizer` Lambda: wiring only. Configuration is read once, at cold start; a missing
//! or malformed variable fails the start with its name. The JWKS and revocation reads start at
//! cold start too, beside the first request rather than before it
//! ([`Authorizer::init_awaits_warm_up`]). Metrics are on: one EMF line per decision on stdout,
//! beside the JSON log lines.

use std::sync::Arc;

use authorizer::{Authorizer, AuthorizerEvent, Config, Options};
use lambda_runtime::{LambdaEvent, service_fn};
use portal_auth_runtime::Env;
use portal_auth_runtime::https::Trust;
use portal_auth_runtime::metrics::{Emf, Function};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    portal_auth_runtime::logging::init();
    let env = Env::from_process();
    let config = Config::from_env(&env)?;
    let options = Options::default()
        .with_metrics(Emf::new(Function::Authorizer))
        .with_trust(Trust::from_env(&env)?);
    let authorizer = Arc::new(Authorizer::new(config, options)?);
    // Not fatal: the first request retries the fetch.
    let warm_up = {
        let authorizer = Arc::clone(&authorizer);
        async move {
            let _ = authorizer.warm_up().await;
        }
    };
    if Authorizer::init_awaits_warm_up(&env) {
        warm_up.await;
    } else {
        tokio::spawn(warm_up);
    }
    lambda_runtime::run(service_fn(|event: LambdaEvent<AuthorizerEvent>| {
        let authorizer = Arc::clone(&authorizer);
        async move { authorizer.handle(&event.payload).await }
    }))
    .await
}
