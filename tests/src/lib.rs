//! Test support shared by the integration and end-to-end tests.
//!
//! `make test` starts its own emulators on free ports (`infra/local/test-stack.sh`) and
//! exports where they listen:
//!
//! - `PORTAL_TEST_DYNAMODB_ENDPOINT`: moto server, single-threaded (atomic conditional writes);
//! - `PORTAL_TEST_COGNITO_ENDPOINT`: cognito-local.
//!
//! A test that needs one and finds it missing fails loudly: nothing is skipped silently.
//! Every test makes its own table and user pool, so tests run in parallel and share no state.

pub mod app;
pub mod authorizer_support;
pub mod browser;
pub mod chrome;
pub mod cognito;
pub mod cognito_proxy;
pub mod dynamodb;
pub mod recorder;
pub mod stack;

/// Where an emulator listens, from the variable `make test` exports.
pub fn emulator_endpoint(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{var} is not set: this test needs the local emulators. Run it through `make test` \
             (or start them with `infra/local/test-stack.sh -- cargo test ...`)."
        ),
    }
}

/// An AWS SDK configuration aimed at an emulator, with dummy credentials: the functions' own
/// ([`portal_auth_device::aws::sdk_config`], the same transport).
pub fn sdk_config(endpoint: &str) -> aws_types::SdkConfig {
    let credentials = portal_auth_runtime::aws::Credentials {
        access_key_id: "ANOTREAL".to_owned(),
        secret_access_key: "notrealrnrELgWzOk3IfjzDKtFBhDby".to_owned(),
        session_token: None,
    };
    portal_auth_device::aws::sdk_config(
        "us-east-1",
        &credentials,
        &portal_auth_runtime::https::Trust::default(),
    )
    .to_builder()
    .endpoint_url(endpoint)
    .build()
}

/// A unique name for per-test resources.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{prefix}-{}-{n}-{nanos:x}", std::process::id())
}
