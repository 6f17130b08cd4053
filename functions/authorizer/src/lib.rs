//! API Gateway Lambda authorizer for Amazon Cognito access tokens.
//!
//! Every portal request passes through here, so the crate is built to be strict against
//! hostile input and fast on the common path. What it checks, and where:
//!
//! - [`bearer`]: the `Authorization: Bearer` syntax (RFC 6750 §2.1) and the 8 KiB size bound,
//!   before anything is decoded.
//! - [`jws`]: the compact serialization (three base64url parts, RFC 7515 §7.1) and the protected
//!   header: `alg` exactly `RS256`, a string `kid`, no `crit`; `jku`/`x5u`/`jwk`/`x5c` are never
//!   read.
//! - [`jwks`]: the pool's signing keys, fetched at cold start, parsed once per `kid`, refetched
//!   on an unknown `kid` at most once per interval, concurrent fetches merged, failing closed.
//! - [`claims`]: the payload, parsed once: `iss` exact, `exp` required, `nbf`/`iat`, `token_use`,
//!   with at most [`claims::LEEWAY_SECONDS`] of clock skew; time claims whole seconds in range,
//!   `exp` at most [`claims::MAX_LIFETIME_SECONDS`] after `iat`.
//! - [`cache`]: a bounded cache of tokens this instance has already verified.
//! - [`verifier`]: signature then claims, the workspace's one JWT check (the broker's
//!   `/device/revoke` uses it too).
//! - [`revocations`]: the revoked sessions and signed-out users, read from the grants table
//!   (one signed `BatchGetItem`, [`sigv4`]) at most once per refresh interval and never in
//!   front of a request in steady state; a revoked token gets 401.
//! - [`access`]: the check of one requirement (required scopes and groups, any-of) and of the
//!   accepted clients (`client_id`).
//! - [`rules`]: the per-route rules (`AUTHORIZER_RULES`, then the global requirement as the
//!   catch-all): which requirement applies to the event's route, and the REST policy that lists
//!   exactly what a principal may call, so API Gateway's cached answer is right on every route.
//! - [`api_key`]: the Data Product Portal's `x-key` clients, forwarded to the portal (which
//!   checks the key) only when configured to, and only without an `Authorization` header.
//! - [`event`] and [`response`]: the three event shapes API Gateway sends (REST TOKEN, REST
//!   REQUEST, HTTP API payload 2.0) and the answers each expects.
//! - [`authorizer`]: the decision that ties them together, its logging and its metrics (one
//!   EMF line per decision, `Unauthorized` by the fixed [`rejection::Reason`] of its refusal).
//!
//! The crate links no AWS SDK: it needs HTTP for the JWKS and the one DynamoDB read, and
//! aws-lc-rs for RSA and SigV4's HMAC, nothing else.

pub mod access;
pub mod api_key;
pub mod authorizer;
pub mod bearer;
pub mod cache;
pub mod claims;
pub mod config;
pub mod event;
pub mod jwks;
pub mod jws;
pub mod rejection;
pub mod response;
pub mod revocations;
pub mod rules;
pub mod sigv4;
pub mod verifier;

#[cfg(test)]
pub(crate) mod testkit;

pub use api_key::ApiKeyClients;
pub use authorizer::{Authorizer, InitError, Options, Outcome, Unauthorized};
pub use portal_auth_domain::{Clock, ManualClock, SystemClock};

/// What this function's code asks of AWS, for its IAM role (checked against the template):
/// the revocation buckets' one read (restricted to `revoked#*` keys in the template); it links
/// no AWS SDK.
pub const IAM_ACTIONS: &[&str] = &["dynamodb:BatchGetItem"];
pub use config::Config;
pub use event::{ApiKey, Authorization, AuthorizerEvent};
pub use rejection::Rejection;
pub use response::AuthorizerResponse;
pub use revocations::{RevocationTable, Revocations};
pub use verifier::Verifier;
