//! What every portal-auth Lambda does once, at cold start, before it serves a request.
//!
//! - [`env`]: reads configuration from the environment; a missing or malformed variable is an
//!   error that names the variable, so a bad deployment fails loudly at init instead of
//!   answering requests wrongly.
//! - [`aws`]: the region, role credentials and endpoint overrides Lambda gives a function.
//! - [`https`]: the roots every outbound TLS connection trusts, and the client builder.
//! - [`cognito`]: facts derived from the user pool id (region, issuer, JWKS URL).
//! - [`logging`]: structured logs (JSON inside Lambda, carrying the request id of the invocation).
//! - [`metrics`]: CloudWatch embedded metric format lines on stdout, namespace `PortalAuth`,
//!   from a closed set of metric names and low-cardinality dimensions.
//!
//! This crate links no AWS SDK, so the authorizer can use it and stay small.

pub mod aws;
pub mod cognito;
pub mod env;
pub mod https;
pub mod logging;
pub mod metrics;

pub use cognito::UserPool;
pub use env::{ConfigError, Env};
