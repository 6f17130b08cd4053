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
//!
//! The libraries underneath are capped at [`LIBRARY_CEILING`] whatever `RUST_LOG` says: at
//! TRACE the AWS SDK logs whole HTTP requests and responses — DynamoDB items, user codes,
//! Cognito's authorization codes — so `RUST_LOG=trace` while debugging must not turn the logs
//! into a store of secrets.

use tracing_subscriber::EnvFilter;

/// The libraries whose TRACE (and for some DEBUG) output carries request and response
/// bodies or headers, and the most they may log.
const LIBRARIES: &[&str] = &[
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_smithy_types",
    "aws_sdk_dynamodb",
    "aws_sdk_cognitoidentityprovider",
    "aws_config",
    "aws_runtime",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
];
pub const LIBRARY_CEILING: &str = "info";

/// The filter for `level` (`RUST_LOG` syntax; a malformed one means `info`), with every
/// library of [`LIBRARIES`] capped at [`LIBRARY_CEILING`] (the caps are added last, so they
/// replace any directive `level` gave the same target).
pub fn filter(level: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    for library in LIBRARIES {
        if let Ok(cap) = format!("{library}={LIBRARY_CEILING}").parse() {
            filter = filter.add_directive(cap);
        }
    }
    filter
}

/// Installs the global subscriber once. A second call (tests) is a no-op.
pub fn init() {
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .map(|l| l.to_lowercase())
        .unwrap_or_else(|_| "info".to_owned());
    let filter = filter(&level);
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    /// What a subscriber with `filter(level)` writes for one TRACE event of each target.
    fn written(level: &str) -> String {
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(super::filter(level))
            .with_writer(move || WriterTo(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "aws_smithy_runtime::client", "sdk body");
            tracing::debug!(target: "hyper_util::client", "hyper detail");
            tracing::trace!(target: "portal_auth_device", "our trace");
        });
        String::from_utf8(out.lock().unwrap().clone()).unwrap()
    }

    struct WriterTo(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for WriterTo {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn libraries_stay_at_info_whatever_rust_log_says() {
        for level in ["trace", "trace,aws_smithy_runtime=trace,hyper_util=trace"] {
            let out = written(level);
            assert!(out.contains("our trace"), "{level}: {out}");
            assert!(!out.contains("sdk body"), "{level}: {out}");
            assert!(!out.contains("hyper detail"), "{level}: {out}");
        }
        assert!(!written("info").contains("our trace"));
    }
}
