//! The device-flow functions' configuration (design.md, "Configuration"), read once at cold
//! start. Every default is documented where it is set.

use std::collections::HashMap;

use portal_auth_domain::{ClientId, NetworkPrefixes, RemoteApproval, UserCode};
use portal_auth_runtime::{ConfigError, Env, UserPool};

/// RFC 8628 leaves the lifetime to the server; 10 minutes is Keycloak's and Okta's choice:
/// enough to find a browser and sign in, short enough to bound user-code guessing (§5.1).
pub const DEFAULT_DEVICE_CODE_TTL_SECONDS: u64 = 600;
/// RFC 8628 §3.2: clients assume 5 s when no interval is sent; we always send it.
pub const DEFAULT_POLL_INTERVAL_SECONDS: u64 = 5;
/// RFC 8628 §5.1: failed user-code look-ups allowed per client IP and window. With 20⁸ codes,
/// 10 guesses per 15 minutes leave an attacker odds of about 2⁻³¹ per live code and window.
pub const DEFAULT_VERIFY_MAX_FAILURES: u64 = 10;
pub const DEFAULT_VERIFY_FAILURE_WINDOW_SECONDS: u64 = 900;
/// Device authorizations one source IP may start per window: a person signing in a handful of
/// machines stays far below it; a phishing kit minting a fresh code per victim, or a script
/// filling the table, does not.
pub const DEFAULT_ISSUE_MAX_PER_IP: u64 = 20;
pub const DEFAULT_ISSUE_WINDOW_SECONDS: u64 = 900;
/// Device authorizations one app client may start per minute, from all addresses together:
/// ten a second, a ceiling for a whole company's CLI logins, against a distributed flood.
pub const DEFAULT_ISSUE_MAX_PER_CLIENT_PER_MINUTE: u64 = 600;

/// `DEVICE_REMOTE_APPROVAL`: what an approval from another network than the device's gets
/// ([`RemoteApproval`]), by default and per app client.
#[derive(Debug, Clone, Default)]
pub struct RemoteApprovalPolicy {
    pub default: RemoteApproval,
    pub per_client: HashMap<ClientId, RemoteApproval>,
}

impl RemoteApprovalPolicy {
    /// `confirm` (the default when unset), `allow` or `deny`, optionally followed by
    /// `<client_id>=<policy>` entries, comma-separated: `confirm,3ab9…=deny,7cd2…=allow`.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut policy = Self::default();
        for (i, entry) in raw.split(',').map(str::trim).enumerate() {
            match entry.split_once('=') {
                None if i == 0 => policy.default = RemoteApproval::parse(entry)?,
                None => return None,
                Some((id, value)) => {
                    let id = ClientId::parse(id.trim())?;
                    let value = RemoteApproval::parse(value.trim())?;
                    if policy.per_client.insert(id, value).is_some() {
                        return None;
                    }
                }
            }
        }
        Some(policy)
    }

    pub fn for_client(&self, client_id: &ClientId) -> RemoteApproval {
        self.per_client
            .get(client_id)
            .copied()
            .unwrap_or(self.default)
    }
}

/// The path of the revocation endpoint, served by `device-token`.
pub const REVOCATION_PATH: &str = "/device/revoke";

#[derive(Debug, Clone)]
pub struct DeviceConfig {
    /// `TABLE_NAME`: the DynamoDB table of grants.
    pub table_name: String,
    /// `PUBLIC_BASE_URL`: the API's external base URL, stage included, no trailing slash.
    pub public_base_url: String,
    /// `COGNITO_USER_POOL_ID` (and `COGNITO_REGION`).
    pub user_pool: UserPool,
    /// `COGNITO_DOMAIN`: the hosted UI's base URL, no trailing slash.
    pub cognito_domain: String,
    /// The `iss` values of the pool's access tokens (`COGNITO_ISSUER`, else both of Cognito's
    /// formats), which `/device/revoke` verifies with the authorizer's verifier.
    pub access_token_issuers: Vec<String>,
    /// Where the pool's keys are (`COGNITO_JWKS_URL`, else `<issuer>/.well-known/jwks.json`).
    pub jwks_url: String,
    /// `DEVICE_CLIENT_IDS`: the app clients allowed to use the device grant.
    pub device_client_ids: Vec<ClientId>,
    /// `DEVICE_CODE_TTL_SECONDS`, 60–3600, default 600.
    pub device_code_ttl_secs: u64,
    /// `DEVICE_POLL_INTERVAL_SECONDS`, 1–60, default 5.
    pub poll_interval_secs: u64,
    /// `VERIFY_MAX_FAILURES`, 1–1000, default 10: failed code look-ups per IP and window.
    pub verify_max_failures: u64,
    /// `VERIFY_FAILURE_WINDOW_SECONDS`, 60–86400, default 900.
    pub verify_failure_window_secs: u64,
    /// `PORTAL_COMPAT_ENABLED`, `true` or `false`, default `false`: whether the portal dialect's
    /// routes ([`crate::wire::portal`]) are served; off, they answer 404. Off by default because
    /// the portal's model puts one app client secret on every user's machine.
    pub portal_compat_enabled: bool,
    /// `DEVICE_PROXIMITY_IPV4_PREFIX` (8–32, default 24) and `DEVICE_PROXIMITY_IPV6_PREFIX`
    /// (16–128, default 48): addresses that share this prefix count as one network.
    pub network_prefixes: NetworkPrefixes,
    /// `DEVICE_REMOTE_APPROVAL`, default `confirm` ([`RemoteApprovalPolicy::parse`]).
    pub remote_approval: RemoteApprovalPolicy,
    /// `DEVICE_ISSUE_MAX_PER_IP`, 1–100000, default 20: device authorizations per source IP
    /// and window.
    pub issue_max_per_ip: u64,
    /// `DEVICE_ISSUE_WINDOW_SECONDS`, 60–86400, default 900.
    pub issue_window_secs: u64,
    /// `DEVICE_ISSUE_MAX_PER_CLIENT_PER_MINUTE`, 1–1000000, default 600.
    pub issue_max_per_client_per_minute: u64,
}

impl DeviceConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let device_client_ids = env
            .required_list("DEVICE_CLIENT_IDS")?
            .iter()
            .map(|id| {
                ClientId::parse(id).ok_or_else(|| {
                    ConfigError::invalid("DEVICE_CLIENT_IDS", "not a Cognito app client id")
                })
            })
            .collect::<Result<_, _>>()?;
        let user_pool = UserPool::from_env(env)?;
        Ok(Self {
            access_token_issuers: user_pool.issuers(env)?,
            jwks_url: user_pool.jwks_url(env)?,
            table_name: env.required("TABLE_NAME")?.to_owned(),
            public_base_url: env.base_url("PUBLIC_BASE_URL")?,
            user_pool,
            cognito_domain: env.base_url("COGNITO_DOMAIN")?,
            device_client_ids,
            device_code_ttl_secs: bounded(
                env,
                "DEVICE_CODE_TTL_SECONDS",
                DEFAULT_DEVICE_CODE_TTL_SECONDS,
                60..=3600,
            )?,
            poll_interval_secs: bounded(
                env,
                "DEVICE_POLL_INTERVAL_SECONDS",
                DEFAULT_POLL_INTERVAL_SECONDS,
                1..=60,
            )?,
            verify_max_failures: bounded(
                env,
                "VERIFY_MAX_FAILURES",
                DEFAULT_VERIFY_MAX_FAILURES,
                1..=1000,
            )?,
            verify_failure_window_secs: bounded(
                env,
                "VERIFY_FAILURE_WINDOW_SECONDS",
                DEFAULT_VERIFY_FAILURE_WINDOW_SECONDS,
                60..=86_400,
            )?,
            portal_compat_enabled: env.parse_or("PORTAL_COMPAT_ENABLED", false)?,
            network_prefixes: NetworkPrefixes {
                v4: bounded(env, "DEVICE_PROXIMITY_IPV4_PREFIX", 24, 8..=32)? as u8,
                v6: bounded(env, "DEVICE_PROXIMITY_IPV6_PREFIX", 48, 16..=128)? as u8,
            },
            remote_approval: match env.optional("DEVICE_REMOTE_APPROVAL") {
                None => RemoteApprovalPolicy::default(),
                Some(raw) => RemoteApprovalPolicy::parse(raw).ok_or_else(|| {
                    ConfigError::invalid(
                        "DEVICE_REMOTE_APPROVAL",
                        "expected allow|confirm|deny, then optional <client_id>=<policy> entries",
                    )
                })?,
            },
            issue_max_per_ip: bounded(
                env,
                "DEVICE_ISSUE_MAX_PER_IP",
                DEFAULT_ISSUE_MAX_PER_IP,
                1..=100_000,
            )?,
            issue_window_secs: bounded(
                env,
                "DEVICE_ISSUE_WINDOW_SECONDS",
                DEFAULT_ISSUE_WINDOW_SECONDS,
                60..=86_400,
            )?,
            issue_max_per_client_per_minute: bounded(
                env,
                "DEVICE_ISSUE_MAX_PER_CLIENT_PER_MINUTE",
                DEFAULT_ISSUE_MAX_PER_CLIENT_PER_MINUTE,
                1..=1_000_000,
            )?,
        })
    }

    /// Whether `client_id` may use the device grant at all.
    pub fn allows(&self, client_id: &ClientId) -> bool {
        self.device_client_ids.contains(client_id)
    }

    /// `verification_uri` (RFC 8628 §3.2): short, with no code in it.
    pub fn verification_uri(&self) -> String {
        format!("{}/device", self.public_base_url)
    }

    /// `verification_uri_complete` (RFC 8628 §3.3.1): the page with the code filled in.
    pub fn verification_uri_complete(&self, user_code: &UserCode) -> String {
        format!(
            "{}?user_code={}",
            self.verification_uri(),
            user_code.formatted()
        )
    }

    /// Where Cognito sends the browser back; must be one of the app client's callback URLs.
    pub fn redirect_uri(&self) -> String {
        format!("{}/device/callback", self.public_base_url)
    }

    pub fn device_authorization_endpoint(&self) -> String {
        format!("{}/device/code", self.public_base_url)
    }

    /// Cognito's token endpoint, where authorization codes and refresh tokens are redeemed.
    pub fn cognito_token_endpoint(&self) -> String {
        format!("{}/oauth2/token", self.cognito_domain)
    }

    pub fn cognito_authorize_endpoint(&self) -> String {
        format!("{}/oauth2/authorize", self.cognito_domain)
    }

    /// Cookies get `Secure` (and the `__Host-` prefix) whenever the service is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_base_url.starts_with("https://")
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}/device/token", self.public_base_url)
    }

    /// `revocation_endpoint` (RFC 7009, RFC 8414 §2).
    pub fn revocation_endpoint(&self) -> String {
        format!("{}{}", self.public_base_url, REVOCATION_PATH)
    }
}

fn bounded(
    env: &Env,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let value = env.parse_or(name, default)?;
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::invalid(
            name,
            format!("{value} is outside {}..={}", range.start(), range.end()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("TABLE_NAME", "grants"),
            ("PUBLIC_BASE_URL", "https://api.example.com/prod/"),
            ("COGNITO_USER_POOL_ID", "eu-west-1_AbC123"),
            (
                "COGNITO_DOMAIN",
                "https://x.auth.eu-west-1.amazoncognito.com",
            ),
            ("DEVICE_CLIENT_IDS", "abc123, def456"),
        ]
    }

    #[test]
    fn reads_the_table_of_design_md_with_defaults() {
        let c = DeviceConfig::from_env(&Env::from_pairs(base())).unwrap();
        assert_eq!(c.verification_uri(), "https://api.example.com/prod/device");
        assert_eq!(
            c.redirect_uri(),
            "https://api.example.com/prod/device/callback"
        );
        assert_eq!(c.device_code_ttl_secs, 600);
        assert_eq!(c.poll_interval_secs, 5);
        assert!(
            !c.portal_compat_enabled,
            "the portal dialect is off by default"
        );
        assert!(c.allows(&ClientId::parse("def456").unwrap()));
        assert!(!c.allows(&ClientId::parse("zzz").unwrap()));
    }

    #[test]
    fn every_missing_or_malformed_variable_is_named() {
        for (name, _) in base() {
            let env = Env::from_pairs(base().into_iter().filter(|(k, _)| *k != name));
            let err = DeviceConfig::from_env(&env).unwrap_err().to_string();
            assert!(err.contains(name), "{name}: {err}");
        }
        for (name, bad) in [
            ("DEVICE_CODE_TTL_SECONDS", "10"),
            ("DEVICE_POLL_INTERVAL_SECONDS", "fast"),
            ("PORTAL_COMPAT_ENABLED", "yes"),
            ("DEVICE_REMOTE_APPROVAL", "sometimes"),
            ("DEVICE_REMOTE_APPROVAL", "confirm,abc123=maybe"),
            ("DEVICE_PROXIMITY_IPV4_PREFIX", "33"),
            ("DEVICE_ISSUE_MAX_PER_IP", "0"),
            ("DEVICE_ISSUE_WINDOW_SECONDS", "10"),
            ("DEVICE_ISSUE_MAX_PER_CLIENT_PER_MINUTE", "many"),
            ("DEVICE_CLIENT_IDS", "a b"),
            ("PUBLIC_BASE_URL", "example.com"),
        ] {
            let mut pairs = base();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, bad));
            let err = DeviceConfig::from_env(&Env::from_pairs(pairs))
                .unwrap_err()
                .to_string();
            assert!(err.contains(name), "{name}: {err}");
        }
    }
}
