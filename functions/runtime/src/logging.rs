//! Structured logs for every function.
//!
//! Inside Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set) lines are JSON with the current spans, so
//! the `requestId` the Lambda runtime puts on its invocation span is on every line; outside
//! Lambda they are compact text. The level comes from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`,
//! else `info`.
//!
//! What is logged is the callers' business, and their rule is: never a device code, user code,
//! `state`, authorization code, client secret or token. Log a short hash of the stored key
//! when an operator needs to correlate.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once. A second call (tests) is a no-op.
pub fn init() {
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .map(|l| l.to_lowercase())
        .unwrap_or_else(|_| "info".to_owned());
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
        && std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = if in_lambda {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .without_time()
            .try_init()
    } else {
        builder.compact().try_init()
    };
}
