//! Structured logs for every function.
//!
//! Inside Lambda (`AWS_LAMBDA_FUNCTION_NAME` is set) lines are JSON with the current spans, so
//! the `requestId` the Lambda runtime puts on its invocation span is on every line; outside
//! Lambda they are compact text. The level comes from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`,
//! else `info`. `RUST_LOG` takes levels and `target=level` pairs, comma-separated (the
//! [`Targets`] syntax: no span or field filters, which would link a regex engine into every
//! function and compile it at each cold start); anything else means `info`.
//!
//! What is logged is the callers' business, and their rule is: never a device code, user code,
//! `state`, authorization code, client secret or token. Log a short hash of the stored key
//! when an operator needs to correlate.
//!
//! The libraries underneath are capped at [`LIBRARY_CEILING`] whatever `RUST_LOG` says: at
//! TRACE the AWS SDK logs whole HTTP requests and responses — DynamoDB items, user codes,
//! Cognito's authorization codes — so `RUST_LOG=trace` while debugging must not turn the logs
//! into a store of secrets. A directive for a library's own module
//! (`aws_smithy_runtime::client=trace`) is dropped too: it would be more specific than the cap.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

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
/// library of [`LIBRARIES`] capped at [`LIBRARY_CEILING`]: whatever `level` said of a library
/// or of one of its modules is dropped, and the caps are added.
pub fn filter(level: &str) -> Targets {
    let asked: Targets = level
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO));
    let is_library = |target: &str| {
        LIBRARIES.iter().any(|library| {
            target == *library
                || target
                    .strip_prefix(library)
                    .is_some_and(|r| r.starts_with("::"))
        })
    };
    let ceiling: tracing::Level = LIBRARY_CEILING.parse().unwrap_or(tracing::Level::INFO);
    let mut filter = Targets::new().with_targets(
        asked
            .iter()
            .filter(|(target, _)| !is_library(target))
            .map(|(target, level)| (target.to_owned(), level)),
    );
    if let Some(default) = asked.default_level() {
        filter = filter.with_default(default);
    }
    filter.with_targets(LIBRARIES.iter().map(|library| (*library, ceiling)))
}

/// Installs the global subscriber once. A second call (tests) is a no-op.
pub fn init() {
    let level = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .map(|l| l.to_lowercase())
        .unwrap_or_else(|_| "info".to_owned());
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
        && std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let registry = tracing_subscriber::registry().with(filter(&level));
    let format = tracing_subscriber::fmt::layer().with_target(false);
    let _ = if in_lambda {
        registry
            .with(
                format
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(true)
                    .without_time(),
            )
            .try_init()
    } else {
        registry.with(format.compact()).try_init()
    };
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    /// What a subscriber with `filter(level)` writes for one TRACE event of each target.
    fn written(level: &str) -> String {
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || WriterTo(sink.clone()))
            .finish()
            .with(super::filter(level));
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
        for level in [
            "trace",
            "trace,aws_smithy_runtime=trace,hyper_util=trace",
            "trace,aws_smithy_runtime::client=trace,hyper_util::client=debug",
        ] {
            let out = written(level);
            assert!(out.contains("our trace"), "{level}: {out}");
            assert!(!out.contains("sdk body"), "{level}: {out}");
            assert!(!out.contains("hyper detail"), "{level}: {out}");
        }
        assert!(!written("info").contains("our trace"));
        assert!(written("info,portal_auth_device=trace").contains("our trace"));
        // Malformed (a span filter): info.
        assert!(!written("[span]=trace").contains("our trace"));
    }
}
