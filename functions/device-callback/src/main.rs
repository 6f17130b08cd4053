//! Lambda entry point of `device-callback`.

use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    portal_auth_runtime::logging::init();
    lambda_http::run(service_fn(|req| async move {
        Ok::<_, Error>(device_callback::handle(req).await)
    }))
    .await
}
