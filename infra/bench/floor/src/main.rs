//! The cold-start floor: lambda_runtime's own hello world (echo the event), nothing else. Built
//! by `make bench` with the workspace's release profile, so the functions' init is compared with
//! the least any Rust Lambda on this runtime can do (`infra/bench/coldstart.py`).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(event.payload)
    }))
    .await
}
