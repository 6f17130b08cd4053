//! What Lambda gives a function to call AWS with, read from the environment only: the region
//! (`AWS_REGION`), the execution role's credentials (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, set for the life of the instance), and the
//! endpoint overrides the AWS SDKs honour (`AWS_ENDPOINT_URL_<SERVICE>`, then
//! `AWS_ENDPOINT_URL`: the local stack's moto and cognito-local).
//!
//! No profile file, no instance metadata, no SSO, no STS: a Lambda has none of them, and the
//! SDK's default chain looking for them cost every cold start a read of `~/.aws/` and linked the
//! STS client (issue 16). Both the authorizer's own SigV4 reader and the device functions' SDK
//! clients take their credentials from here, so a missing variable fails the cold start naming
//! it, the same way in every function.

use std::fmt;

use crate::{ConfigError, Env};

/// An access key, from the environment. Its `Debug` shows the key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"(redacted)")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "(redacted)"),
            )
            .finish()
    }
}

impl Credentials {
    /// The function's credentials as Lambda sets them.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            access_key_id: env.required("AWS_ACCESS_KEY_ID")?.to_owned(),
            secret_access_key: env.required("AWS_SECRET_ACCESS_KEY")?.to_owned(),
            session_token: env.optional("AWS_SESSION_TOKEN").map(str::to_owned),
        })
    }
}

/// The endpoint override for `service` (the SDK's environment name: `DYNAMODB`,
/// `COGNITO_IDENTITY_PROVIDER`): `AWS_ENDPOINT_URL_<service>`, else `AWS_ENDPOINT_URL`, else
/// `None` (the service's regional endpoint). A malformed URL fails naming its variable.
pub fn endpoint_override(env: &Env, service: &str) -> Result<Option<String>, ConfigError> {
    let specific = format!("AWS_ENDPOINT_URL_{service}");
    [specific.as_str(), "AWS_ENDPOINT_URL"]
        .into_iter()
        .find(|name| env.optional(name).is_some())
        .map(|name| env.base_url(name))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_variable_wins_over_the_general_one() {
        let env = Env::from_pairs([
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2"),
        ]);
        assert_eq!(
            endpoint_override(&env, "DYNAMODB").unwrap().as_deref(),
            Some("http://127.0.0.1:2")
        );
        assert_eq!(
            endpoint_override(&env, "COGNITO_IDENTITY_PROVIDER")
                .unwrap()
                .as_deref(),
            Some("http://127.0.0.1:1")
        );
        assert_eq!(
            endpoint_override(&Env::default(), "DYNAMODB").unwrap(),
            None
        );
        let bad = Env::from_pairs([("AWS_ENDPOINT_URL_DYNAMODB", "not a url")]);
        let err = endpoint_override(&bad, "DYNAMODB").unwrap_err().to_string();
        assert!(err.contains("AWS_ENDPOINT_URL_DYNAMODB"), "{err}");
    }

    #[test]
    fn credentials_come_from_the_three_variables_and_are_never_shown() {
        let env = Env::from_pairs([
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "s3cr3t"),
            ("AWS_SESSION_TOKEN", "t0k3n"),
        ]);
        let credentials = Credentials::from_env(&env).unwrap();
        let shown = format!("{credentials:?}");
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("t0k3n"),
            "{shown}"
        );
        let err = Credentials::from_env(&Env::from_pairs([("AWS_ACCESS_KEY_ID", "A")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("AWS_SECRET_ACCESS_KEY"), "{err}");
    }
}
