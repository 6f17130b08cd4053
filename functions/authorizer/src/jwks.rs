//! The user pool's signing keys (RFC 7517), cached for the life of the Lambda instance.
//!
//! - Fetched once at cold start ([`JwksCache::warm_up`]); a failure there is logged, not fatal:
//!   the first request that needs a key tries again.
//! - Each usable key is parsed into an aws-lc-rs [`ParsedPublicKey`] once per `kid` and reused
//!   across refetches while its modulus and exponent are unchanged, so a verification does no
//!   key parsing.
//! - An unknown `kid` triggers a refetch, at most once per `min_refetch_interval` (10 s by
//!   default), whatever the `kid`s asked for: an attacker inventing `kid`s cannot make the
//!   authorizer hammer Cognito. Concurrent refetches are merged: callers queue on one lock,
//!   and whoever gets it after a fetch finds the new keys (or the interval not yet over).
//! - A failed fetch (transport error, timeout, non-2xx, oversized or unusable body) keeps the
//!   keys already cached, so tokens signed with them keep passing while the endpoint is down;
//!   a `kid` that is not cached fails closed.
//! - Only keys fit for RS256 signatures are kept: `kty` `RSA`, `use` `sig` when present, `alg`
//!   `RS256` when present, `key_ops` including `verify` when present, a 2048–8192-bit modulus.
//!   `oct` keys, encryption keys and keys for other algorithms are skipped.
//! - Every fetch (the cold start's and each refetch) is one EMF line when metrics are on:
//!   `JwksFetches` = 1, plus `JwksFetchErrors` = 1 and `outcome` = [`JwksError::outcome`] when
//!   it failed. The interval above bounds them: at most one line per 10 s per instance beyond
//!   the cold start's.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use serde::Deserialize;

use crate::jws::{ALGORITHM, MAX_KID_BYTES, decode_part};
use portal_auth_domain::Clock;
use portal_auth_runtime::https::Trust;
use portal_auth_runtime::metrics::{Dims, Emf, Metric};

/// A JWKS body larger than this is refused (Cognito's is about 1 KiB).
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// At most this many keys are kept from one JWKS.
pub const MAX_KEYS: usize = 64;

/// Why a JWKS could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("JWKS request failed: {0}")]
    Transport(String),
    #[error("JWKS endpoint answered HTTP {0}")]
    Status(u16),
    #[error("JWKS body larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("JWKS body is not a JSON key set")]
    NotJson,
    #[error("JWKS holds no key usable for RS256")]
    NoUsableKeys,
}

impl JwksError {
    /// The `outcome` dimension of the `JwksFetchErrors` metric: one fixed word per variant.
    pub const fn outcome(&self) -> &'static str {
        match self {
            JwksError::Transport(_) => "transport",
            JwksError::Status(_) => "http_status",
            JwksError::TooLarge => "too_large",
            JwksError::NotJson => "not_json",
            JwksError::NoUsableKeys => "no_usable_keys",
        }
    }
}

/// Why no key was found for a `kid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The key set is known and does not have it.
    Unknown,
    /// No key set could be fetched yet.
    Unavailable,
}

/// One RS256 verification key, parsed once.
pub struct VerifyingKey {
    key: ParsedPublicKey,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl VerifyingKey {
    /// Parses the big-endian modulus and exponent; `None` if they make no RS256 key.
    pub fn from_components(n: &[u8], e: &[u8]) -> Option<Self> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let bits = n.len() * 8;
        if !(2048..=8192).contains(&bits) {
            return None;
        }
        let key = RsaPublicKeyComponents { n, e }
            .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
            .ok()?;
        Some(Self {
            key,
            n: n.to_vec(),
            e: e.to_vec(),
        })
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }

    fn same_as(&self, n: &[u8], e: &[u8]) -> bool {
        self.n == strip_leading_zeros(n) && self.e == strip_leading_zeros(e)
    }
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifyingKey(RSA-{})", self.n.len() * 8)
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// Keys by `kid`.
pub type KeySet = HashMap<String, Arc<VerifyingKey>>;

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    key_ops: Option<Vec<String>>,
    n: Option<String>,
    e: Option<String>,
}

/// Parses a JWKS body, reusing keys from `previous` whose material is unchanged.
pub fn parse_jwks(body: &[u8], previous: &KeySet) -> Result<KeySet, JwksError> {
    let raw: RawJwks = serde_json::from_slice(body).map_err(|_| JwksError::NotJson)?;
    let mut keys = KeySet::new();
    let mut duplicated = Vec::new();
    for value in raw.keys.into_iter().take(MAX_KEYS) {
        let Some((kid, key)) = usable_key(value, previous) else {
            continue;
        };
        if keys.insert(kid.clone(), key).is_some() {
            duplicated.push(kid);
        }
    }
    // Two keys under one kid: which one signed is ambiguous, so trust neither.
    for kid in duplicated {
        keys.remove(&kid);
    }
    if keys.is_empty() {
        return Err(JwksError::NoUsableKeys);
    }
    Ok(keys)
}

fn usable_key(value: serde_json::Value, previous: &KeySet) -> Option<(String, Arc<VerifyingKey>)> {
    let jwk: RawJwk = serde_json::from_value(value).ok()?;
    let fit = jwk.kty == "RSA"
        && jwk.use_.as_deref().is_none_or(|u| u == "sig")
        && jwk.alg.as_deref().is_none_or(|a| a == ALGORITHM)
        && jwk
            .key_ops
            .as_ref()
            .is_none_or(|ops| ops.iter().any(|op| op == "verify"));
    let kid = jwk
        .kid
        .filter(|k| !k.is_empty() && k.len() <= MAX_KID_BYTES)?;
    if !fit {
        tracing::debug!(%kid, "JWKS key skipped: not an RS256 signing key");
        return None;
    }
    let n = decode_part(jwk.n.as_deref()?).ok()?;
    let e = decode_part(jwk.e.as_deref()?).ok()?;
    if let Some(old) = previous.get(&kid).filter(|old| old.same_as(&n, &e)) {
        return Some((kid, Arc::clone(old)));
    }
    match VerifyingKey::from_components(&n, &e) {
        Some(key) => Some((kid, Arc::new(key))),
        None => {
            tracing::warn!(%kid, "JWKS key skipped: not a usable RSA public key");
            None
        }
    }
}

/// Tuning of the JWKS cache.
#[derive(Debug, Clone)]
pub struct JwksOptions {
    /// Least time between two fetches triggered by requests.
    pub min_refetch_interval: Duration,
    /// Whole-request timeout of a fetch.
    pub timeout: Duration,
    /// Connect timeout of a fetch.
    pub connect_timeout: Duration,
}

impl Default for JwksOptions {
    fn default() -> Self {
        Self {
            min_refetch_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(3),
            connect_timeout: Duration::from_secs(2),
        }
    }
}

/// The instance's key cache.
pub struct JwksCache {
    url: String,
    http: reqwest::Client,
    keys: RwLock<Arc<KeySet>>,
    /// Held for the whole of a fetch: this is what merges concurrent fetches.
    refresh: tokio::sync::Mutex<RefreshState>,
    min_refetch_interval: Duration,
    clock: Arc<dyn Clock>,
    metrics: Option<Emf>,
}

#[derive(Debug, Default)]
struct RefreshState {
    /// Monotonic time of the last fetch that counts against the interval.
    last_attempt: Option<Duration>,
}

impl JwksCache {
    pub fn new(
        url: String,
        options: &JwksOptions,
        trust: &Trust,
        clock: Arc<dyn Clock>,
        metrics: Option<Emf>,
    ) -> Result<Self, reqwest::Error> {
        let http = trust
            .client_builder()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "portal-auth-authorizer/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Self {
            url,
            http,
            keys: RwLock::new(Arc::new(KeySet::new())),
            refresh: tokio::sync::Mutex::new(RefreshState::default()),
            min_refetch_interval: options.min_refetch_interval,
            clock,
            metrics,
        })
    }

    /// The cold-start fetch. On failure the next request retries, whatever the interval. It
    /// runs beside the first requests ([`crate::Authorizer::warm_up`]): if one of them fetched
    /// first, the keys it got are kept and nothing is fetched again.
    pub async fn warm_up(&self) -> Result<usize, JwksError> {
        let mut state = self.refresh.lock().await;
        let held = self.snapshot().len();
        if state.last_attempt.is_some() && held > 0 {
            return Ok(held);
        }
        let count = self.fetch_and_store().await?;
        state.last_attempt = Some(self.clock.monotonic());
        Ok(count)
    }

    /// Installs a key set without fetching (benchmarks, and callers that ship keys).
    pub fn preload(&self, body: &[u8]) -> Result<usize, JwksError> {
        let keys = parse_jwks(body, &self.snapshot())?;
        Ok(self.store(keys))
    }

    /// The key for `kid`, refetching the JWKS if the interval allows.
    pub async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, KeyError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        self.refresh_for(kid).await
    }

    async fn refresh_for(&self, kid: &str) -> Result<Arc<VerifyingKey>, KeyError> {
        let mut state = self.refresh.lock().await;
        // Someone else may have fetched while this caller waited for the lock.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let now = self.clock.monotonic();
        let due = state
            .last_attempt
            .is_none_or(|last| now.saturating_sub(last) >= self.min_refetch_interval);
        if due {
            state.last_attempt = Some(now);
            if let Err(error) = self.fetch_and_store().await {
                tracing::warn!(%error, "JWKS refetch failed; keeping the cached keys");
            }
        }
        match self.cached(kid) {
            Some(key) => Ok(key),
            None if self.snapshot().is_empty() => Err(KeyError::Unavailable),
            None => Err(KeyError::Unknown),
        }
    }

    fn cached(&self, kid: &str) -> Option<Arc<VerifyingKey>> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(kid)
            .cloned()
    }

    fn snapshot(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn store(&self, keys: KeySet) -> usize {
        let count = keys.len();
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        count
    }

    async fn fetch_and_store(&self) -> Result<usize, JwksError> {
        let result = self.fetch_and_parse().await;
        if let Some(emf) = self.metrics {
            match &result {
                Ok(_) => emf.count(Metric::JwksFetches, 1, Dims::NONE),
                Err(error) => emf.count_many(
                    &[(Metric::JwksFetches, 1), (Metric::JwksFetchErrors, 1)],
                    Dims::outcome(error.outcome()),
                ),
            }
        }
        let keys = result?;
        let count = self.store(keys);
        tracing::info!(keys = count, "JWKS fetched");
        Ok(count)
    }

    async fn fetch_and_parse(&self) -> Result<KeySet, JwksError> {
        let body = self.fetch().await?;
        parse_jwks(&body, &self.snapshot())
    }

    async fn fetch(&self) -> Result<Vec<u8>, JwksError> {
        let transport = |e: reqwest::Error| JwksError::Transport(e.without_url().to_string());
        let mut response = self.http.get(&self.url).send().await.map_err(transport)?;
        if !response.status().is_success() {
            return Err(JwksError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_JWKS_BYTES as u64)
        {
            return Err(JwksError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(JwksError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestKey;
    use serde_json::json;

    fn body(keys: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&json!({ "keys": keys })).unwrap()
    }

    #[test]
    fn keeps_rs256_signing_keys_and_skips_the_rest() {
        let key = TestKey::generate("k");
        let jwk = |extra: serde_json::Value| {
            let mut j = key.public_jwk();
            j.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            j
        };
        let set = body(json!([
            jwk(json!({"kid": "plain"})),
            jwk(json!({"kid": "no-alg-no-use", "alg": null, "use": null})),
            jwk(json!({"kid": "enc", "use": "enc"})),
            jwk(json!({"kid": "rs512", "alg": "RS512"})),
            jwk(json!({"kid": "ops-sign-only", "key_ops": ["sign"]})),
            jwk(json!({"kid": "ops-verify", "key_ops": ["verify"]})),
            {"kty": "oct", "kid": "oct", "k": "c2VjcmV0"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            jwk(json!({"kid": "tiny", "n": "AQAB"})),
            jwk(json!({"kid": "bad-b64", "n": "not base64!"})),
            jwk(json!({"kid": null})),
            "not an object",
        ]));
        let keys = parse_jwks(&set, &KeySet::new()).unwrap();
        let mut kids: Vec<_> = keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        assert_eq!(kids, ["no-alg-no-use", "ops-verify", "plain"]);
    }

    #[test]
    fn a_kid_listed_twice_is_trusted_under_neither() {
        let (a, b) = (TestKey::generate("dup"), TestKey::generate("dup"));
        let other = TestKey::generate("other");
        let set = body(json!([a.public_jwk(), b.public_jwk(), other.public_jwk()]));
        let keys = parse_jwks(&set, &KeySet::new()).unwrap();
        assert!(keys.contains_key("other") && !keys.contains_key("dup"));
    }

    #[test]
    fn unusable_bodies_are_errors() {
        assert!(matches!(
            parse_jwks(b"<html>", &KeySet::new()),
            Err(JwksError::NotJson)
        ));
        assert!(matches!(
            parse_jwks(b"{}", &KeySet::new()),
            Err(JwksError::NotJson)
        ));
        assert!(matches!(
            parse_jwks(&body(json!([])), &KeySet::new()),
            Err(JwksError::NoUsableKeys)
        ));
    }

    #[test]
    fn unchanged_keys_are_reused_not_reparsed() {
        let key = TestKey::generate("k");
        let set = body(json!([key.public_jwk()]));
        let first = parse_jwks(&set, &KeySet::new()).unwrap();
        let second = parse_jwks(&set, &first).unwrap();
        assert!(Arc::ptr_eq(&first["k"], &second["k"]));
        let rotated = TestKey::generate("k");
        let third = parse_jwks(&body(json!([rotated.public_jwk()])), &second).unwrap();
        assert!(!Arc::ptr_eq(&second["k"], &third["k"]));
    }

    #[test]
    fn a_parsed_key_verifies_its_signatures_only() {
        let key = TestKey::generate("k");
        let keys = parse_jwks(&body(json!([key.public_jwk()])), &KeySet::new()).unwrap();
        let signature = key.sign_rs256(b"message");
        assert!(keys["k"].verify(b"message", &signature));
        assert!(!keys["k"].verify(b"messagE", &signature));
        assert!(!keys["k"].verify(b"message", &signature[..signature.len() - 1]));
        assert!(!keys["k"].verify(b"message", &[]));
    }
}
