//! The `authorizer` Lambda: wiring only. Configuration is read and the JWKS fetched once, at
//! cold start; a missing or malformed variable fails the start with its name. Metrics are on:
//! one EMF line per decision on stdout, beside the JSON log lines.

use std::sync::Arc;

use authorizer::{Authorizer, AuthorizerEvent, Config, Options};
use lambda_runtime::{LambdaEvent, service_fn};
use portal_auth_runtime::Env;
use portal_auth_runtime::metrics::{Emf, Function};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    portal_auth_runtime::logging::init();
    let config = Config::from_env(&Env::from_process())?;
    let options = Options::default().with_metrics(Emf::new(Function::Authorizer));
    let authorizer = Arc::new(Authorizer::new(config, options)?);
    // Not fatal: the first request retries the fetch.
    let _ = authorizer.warm_up().await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<AuthorizerEvent>| {
        let authorizer = Arc::clone(&authorizer);
        async move { authorizer.handle(&event.payload).await }
    }))
    .await
}
