//! Lambda entry point of `device-verify`.

use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    portal_auth_runtime::logging::init();
    lambda_http::run(service_fn(|req| async move {
        Ok::<_, Error>(device_verify::handle(req).await)
    }))
    .await
}
