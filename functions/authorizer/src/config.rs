//! The authorizer's configuration, read once at cold start.
//!
//! | Variable | Meaning |
//! |---|---|
//! | `COGNITO_USER_POOL_ID` | the pool whose access tokens are accepted (required) |
//! | `COGNITO_REGION` | optional; default from the pool id's prefix, else `AWS_REGION` |
//! | `COGNITO_ISSUER` | optional, comma-separated; default both of the pool's issuer formats, `https://cognito-idp.<region>.amazonaws.com/<pool>` (ORIGINAL) and `https://issuer-cognito-idp.<region>.amazonaws.com/<pool>` (UPDATED); each compared exactly with `iss` |
//! | `COGNITO_JWKS_URL` | optional; default `<first issuer>/.well-known/jwks.json`, the pool's own keys whatever issuer a token names |
//! | `AUTHORIZER_CLIENT_IDS` | comma-separated app client ids whose access tokens are accepted (required) |
//! | `AUTHORIZER_REQUIRED_SCOPES` | optional comma-separated list; a token needs at least one of them (on the routes no rule of `AUTHORIZER_RULES` matches first) |
//! | `AUTHORIZER_REQUIRED_GROUPS` | optional comma-separated list; a token needs at least one of them (likewise) |
//! | `AUTHORIZER_RULES` | optional per-route rules ([`crate::rules::parse`] has the grammar); the two above are their final catch-all `* /*`. A malformed rule, or a set whose cached policies could not be exact ([`crate::rules::policy`]), fails the cold start naming the rule |
//! | `AUTHORIZER_REVOCATION_TABLE` | optional: the grants table, whose revocation records ([`crate::revocations`]) the authorizer honours; unset, nothing is checked for revocation (an authorizer without the broker). With it: `AWS_REGION`, the role's `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` (Lambda sets them), `AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL` optionally |
//! | `AUTHORIZER_REVOCATION_REFRESH_SECONDS` | optional, 1 to 300, default 30: how often an instance rereads the revocation set |
//! | `AUTHORIZER_FORWARD_API_KEYS` | optional `true`/`false`, default `false`: allow a REST REQUEST with an `x-key` and no `Authorization` through to the portal, which checks the key ([`crate::api_key`]) |
//!
//! A missing or malformed variable is a [`ConfigError`] naming it, and fails the cold start.

use portal_auth_runtime::{ConfigError, Env, UserPool};

use crate::access::Requirement;
use crate::api_key::ApiKeyClients;
use crate::revocations::RevocationTable;
use crate::rules::{Rule, RuleSet, parse};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The `iss` values accepted, each compared exactly.
    pub issuers: Vec<String>,
    /// Where the pool's signing keys are published.
    pub jwks_url: String,
    /// App clients whose access tokens are accepted (`client_id` claim).
    pub client_ids: Vec<String>,
    /// Any one of these in the `scope` claim; empty means no scope is required. With
    /// `required_groups`, the requirement of the catch-all rule.
    pub required_scopes: Vec<String>,
    /// Any one of these in `cognito:groups`; empty means no group is required.
    pub required_groups: Vec<String>,
    /// `AUTHORIZER_RULES`, in order, before the catch-all.
    pub rules: Vec<Rule>,
    /// The portal's API-key clients (`x-key`, no token): refused unless
    /// `AUTHORIZER_FORWARD_API_KEYS=true`. Off by default because it lets requests without a
    /// token reach the backend, which is only right where the backend checks the key itself.
    pub api_key_clients: ApiKeyClients,
    /// Where the revocation records are; `None`: none are checked.
    pub revocations: Option<RevocationTable>,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let pool = UserPool::from_env(env)?;
        let client_ids = env.required_list("AUTHORIZER_CLIENT_IDS")?;
        check_words("AUTHORIZER_CLIENT_IDS", &client_ids)?;
        let config = Self {
            issuers: pool.issuers(env)?,
            jwks_url: pool.jwks_url(env)?,
            client_ids,
            required_scopes: optional_words(env, "AUTHORIZER_REQUIRED_SCOPES")?,
            required_groups: optional_words(env, "AUTHORIZER_REQUIRED_GROUPS")?,
            rules: match env.optional(parse::VARIABLE) {
                Some(raw) => parse::parse(raw)?,
                None => Vec::new(),
            },
            api_key_clients: if env.parse_or("AUTHORIZER_FORWARD_API_KEYS", false)? {
                ApiKeyClients::Forward
            } else {
                ApiKeyClients::Refuse
            },
            revocations: RevocationTable::from_env(env)?,
        };
        // Cold start refuses a rule set whose cached policies could not be exact.
        RuleSet::new(config.rules.clone(), config.global_requirement())
            .map_err(|e| ConfigError::invalid(parse::VARIABLE, e.to_string()))?;
        Ok(config)
    }
}

impl Config {
    /// The catch-all rule's requirement.
    pub fn global_requirement(&self) -> Requirement {
        Requirement::new(self.required_scopes.clone(), self.required_groups.clone())
    }
}

/// An optional list: unset is empty, but set-and-empty (`","`) is a mistake worth failing on.
fn optional_words(env: &Env, name: &str) -> Result<Vec<String>, ConfigError> {
    match env.list(name) {
        None => Ok(Vec::new()),
        Some(list) if list.is_empty() => Err(ConfigError::invalid(name, "names no entry")),
        Some(list) => check_words(name, &list).map(|()| list),
    }
}

/// Scopes, group names and client ids never contain whitespace; one that does is a typo
/// (a space instead of a comma) that would otherwise silently never match.
fn check_words(name: &str, list: &[String]) -> Result<(), ConfigError> {
    match list.iter().find(|w| w.chars().any(char::is_whitespace)) {
        Some(_) => Err(ConfigError::invalid(
            name,
            "entries are separated by commas and contain no whitespace",
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    const POOL: (&str, &str) = ("COGNITO_USER_POOL_ID", "eu-west-1_AbC123");
    const CLIENTS: (&str, &str) = ("AUTHORIZER_CLIENT_IDS", "abc, def");

    #[test]
    fn defaults_derive_issuer_and_jwks_from_the_pool() {
        let config = Config::from_env(&env(&[POOL, CLIENTS])).unwrap();
        assert_eq!(
            config.issuers,
            [
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
                "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
            ]
        );
        assert_eq!(
            config.jwks_url,
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
        );
        assert_eq!(config.client_ids, ["abc", "def"]);
        assert!(config.required_scopes.is_empty() && config.required_groups.is_empty());
        assert_eq!(config.api_key_clients, ApiKeyClients::Refuse);
    }

    #[test]
    fn api_keys_are_forwarded_only_when_asked_for() {
        for (value, expected) in [
            ("true", ApiKeyClients::Forward),
            ("false", ApiKeyClients::Refuse),
            ("", ApiKeyClients::Refuse),
        ] {
            let config = Config::from_env(&env(&[
                POOL,
                CLIENTS,
                ("AUTHORIZER_FORWARD_API_KEYS", value),
            ]))
            .unwrap();
            assert_eq!(config.api_key_clients, expected, "{value:?}");
        }
    }

    #[test]
    fn overrides_and_requirements_are_read() {
        let config = Config::from_env(&env(&[
            ("COGNITO_USER_POOL_ID", "local_x"),
            ("COGNITO_REGION", "us-east-1"),
            ("COGNITO_ISSUER", "http://127.0.0.1:9229/local_x"),
            ("COGNITO_JWKS_URL", "http://127.0.0.1:9229/local_x/keys"),
            CLIENTS,
            ("AUTHORIZER_REQUIRED_SCOPES", "portal/read,portal/write"),
            ("AUTHORIZER_REQUIRED_GROUPS", "portal-users"),
        ]))
        .unwrap();
        assert_eq!(config.issuers, ["http://127.0.0.1:9229/local_x"]);
        assert_eq!(config.jwks_url, "http://127.0.0.1:9229/local_x/keys");
        assert_eq!(config.required_scopes, ["portal/read", "portal/write"]);
        assert_eq!(config.required_groups, ["portal-users"]);
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[CLIENTS], "COGNITO_USER_POOL_ID"),
            (&[POOL], "AUTHORIZER_CLIENT_IDS"),
            (
                &[POOL, ("AUTHORIZER_CLIENT_IDS", ",")],
                "AUTHORIZER_CLIENT_IDS",
            ),
            (
                &[POOL, ("AUTHORIZER_CLIENT_IDS", "a b")],
                "AUTHORIZER_CLIENT_IDS",
            ),
            (
                &[POOL, CLIENTS, ("AUTHORIZER_REQUIRED_SCOPES", " , ")],
                "AUTHORIZER_REQUIRED_SCOPES",
            ),
            (
                &[POOL, CLIENTS, ("AUTHORIZER_REQUIRED_GROUPS", "admins ops")],
                "AUTHORIZER_REQUIRED_GROUPS",
            ),
            (
                &[POOL, CLIENTS, ("COGNITO_ISSUER", "cognito.example")],
                "COGNITO_ISSUER",
            ),
            (
                &[POOL, CLIENTS, ("COGNITO_JWKS_URL", "ftp://x/keys")],
                "COGNITO_JWKS_URL",
            ),
            (
                &[POOL, CLIENTS, ("AUTHORIZER_FORWARD_API_KEYS", "yes")],
                "AUTHORIZER_FORWARD_API_KEYS",
            ),
        ];
        for (pairs, name) in cases {
            let err = Config::from_env(&env(pairs)).unwrap_err();
            assert!(err.to_string().contains(name), "{pairs:?}: {err}");
        }
    }
}
