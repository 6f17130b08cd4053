//! Target `cookies`: the CSRF and binding cookies as the verification page and the callback
//! read them ([`pages::cookie`]), and the expiry of old binding cookies
//! ([`pages::expire_old_bindings`]), over one or more `Cookie` headers, on http (plain names)
//! and https (`__Host-` names).
//!
//! Properties: never a panic; a value read is exactly the value of the one cookie of that name
//! the request carries; a name sent twice is not resolved to either value (it reads as absent,
//! the rule of `pages::cookie`); the expiry lines name binding cookies the request holds, as
//! many as exceed [`pages::MAX_BINDING_COOKIES`].

use std::sync::LazyLock;

use lambda_http::{Body, Request};
use portal_auth_device::DeviceConfig;
use portal_auth_device::pages::{self, CSRF_COOKIE, MAX_BINDING_COOKIES};
use portal_auth_domain::DeviceCodeHash;

/// Longest value the device functions read back (`pages::MAX_COOKIE_VALUE`).
const MAX_VALUE: usize = 128;
const BINDING_PREFIX: &str = "device_binding_";

static HTTP: LazyLock<DeviceConfig> = LazyLock::new(|| config("http://127.0.0.1:9000"));
static HTTPS: LazyLock<DeviceConfig> = LazyLock::new(|| config("https://portal.test/prod"));

/// A device-flow configuration served at `base` (https: secure `__Host-` cookies).
pub(crate) fn config(base: &str) -> DeviceConfig {
    let env = portal_auth_runtime::Env::from_pairs([
        ("TABLE_NAME", "grants"),
        ("PUBLIC_BASE_URL", base),
        ("COGNITO_USER_POOL_ID", "eu-west-1_Fuzz0001"),
        (
            "COGNITO_DOMAIN",
            "https://fuzz.auth.eu-west-1.amazoncognito.com",
        ),
        ("DEVICE_CLIENT_IDS", "fuzzclient1"),
    ]);
    DeviceConfig::from_env(&env).expect("the fixed device configuration")
}

/// The grant whose binding cookie is looked for: `device_binding_0123abcd`.
fn grant() -> DeviceCodeHash {
    DeviceCodeHash::from_stored(&format!("0123abcd{}", "0".repeat(56))).expect("64 hex digits")
}

/// The first byte picks http or https; the rest, split at `\n`, are `Cookie` headers.
pub fn check_cookies(data: &[u8]) {
    let Some((flags, rest)) = data.split_first() else {
        return;
    };
    let secure = flags & 1 == 1;
    let config: &DeviceConfig = if secure { &HTTPS } else { &HTTP };
    let mut builder = http::Request::builder()
        .method("POST")
        .uri("https://portal.test/device");
    for line in rest.split(|b| *b == b'\n') {
        let Ok(value) = http::HeaderValue::from_bytes(line) else {
            return;
        };
        builder = builder.header(http::header::COOKIE, value);
    }
    let Ok(req) = builder.body(Body::Empty) else {
        return;
    };
    let prefix = if secure { "__Host-" } else { "" };
    let sent = sent_cookies(&req);
    let binding = pages::binding_cookie(&grant());
    for name in [CSRF_COOKIE, binding.as_str()] {
        let wire_name = format!("{prefix}{name}");
        let values: Vec<&str> = sent
            .iter()
            .filter(|(k, _)| *k == wire_name)
            .map(|(_, v)| *v)
            .collect();
        match pages::cookie(config, &req, name) {
            Some(read) => {
                assert_eq!(
                    values.len(),
                    1,
                    "cookie {wire_name} sent {} times was resolved to {read:?}",
                    values.len()
                );
                assert_eq!(read, values[0]);
                assert!(!read.is_empty() && read.len() <= MAX_VALUE);
            }
            None => assert!(
                values.len() != 1 || values[0].is_empty() || values[0].len() > MAX_VALUE,
                "cookie {wire_name}={:?} sent once was not read",
                values[0]
            ),
        }
    }
    let held = sent
        .iter()
        .filter(|(k, v)| {
            k.strip_prefix(prefix)
                .is_some_and(|k| k.starts_with(BINDING_PREFIX))
                && !v.is_empty()
                && v.len() <= MAX_VALUE
        })
        .count();
    let expired = pages::expire_old_bindings(config, &req);
    assert_eq!(
        expired.len(),
        (held + 1).saturating_sub(MAX_BINDING_COOKIES)
    );
    for line in &expired {
        let name = line.split('=').next().unwrap_or_default();
        assert!(
            sent.iter().any(|(k, _)| *k == name)
                && name.starts_with(&format!("{prefix}{BINDING_PREFIX}")),
            "expired a cookie the request does not hold: {line:?}"
        );
        assert!(line.contains("Max-Age=0"));
    }
}

/// Every `name=value` pair of the request's `Cookie` headers (RFC 6265 §4.2.1: pairs joined
/// by `"; "`), in order; headers that are not visible ASCII are not read at all.
fn sent_cookies(req: &Request) -> Vec<(&str, &str)> {
    req.headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .collect()
}
