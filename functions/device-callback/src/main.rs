//! Lambda entry point of `device-callback`: configuration and clients once, then requests.

use std::sync::Arc;

use lambda_http::{Error, service_fn};
use portal_auth_device::Deps;
use portal_auth_runtime::Env;

#[tokio::main]
async fn main() -> Result<(), Error> {
    portal_auth_runtime::logging::init();
    let deps = Arc::new(Deps::from_env(&Env::from_process()).await?);
    lambda_http::run(service_fn(move |req| {
        let deps = deps.clone();
        async move { Ok::<_, Error>(device_callback::handle(&deps, req).await) }
    }))
    .await
}
