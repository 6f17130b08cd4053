//! Every integration and end-to-end test of the workspace, as modules of one test binary
//! (ripgrep's layout): the AWS SDK and the handlers are linked once, not once per file.
//! `cargo test -p portal-auth-tests --test integration <module>::` runs one file's tests.

mod audit;
mod authorizer_accept;
mod authorizer_hostile;
mod authorizer_jwks;
mod bad_input;
mod browser_a11y;
mod browser_e2e;
mod deploy_config;
mod device_authorization;
mod hardening;
mod outages;
mod phishing;
mod portal_dialect;
mod portal_login_e2e;
mod portal_login_flows;
mod portal_login_support;
mod rest_api_events;
mod revocation;
mod sign_in_flow;
mod signout;
mod token_endpoint;
