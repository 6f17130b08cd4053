//! The decision: from an API Gateway event to Allow, Deny or 401.
//!
//! [`Authorizer::decide`] takes the `Authorization` value through every check in order —
//! bearer syntax and size, the verified-token cache, JWS structure and header, the key by `kid`,
//! the signature, the claims, then the deployment's rules — and returns an [`Outcome`].
//! [`Authorizer::handle`] maps that onto the event's shape. Signature before claims: nothing in
//! the payload is parsed until the signature over it has been checked. A REST REQUEST event
//! with an `x-key` and no `Authorization` header is, when so configured, the one exception that
//! is not a token decision: [`Outcome::ApiKey`], for the backend to judge ([`crate::api_key`]).
//!
//! Logging: one `info` line per decision with the event shape, the outcome and, for a refusal,
//! its [`Rejection`] reason. Neither the token nor any claim is ever logged above `debug`, and
//! an API key is never logged at all (it is never read).

use std::sync::Arc;
use std::time::Duration;

use lambda_runtime::Diagnostic;

use crate::access::{AccessRules, Verdict};
use crate::api_key::{ApiKeyClients, exact_resource};
use crate::bearer::{bearer_token, check_b64token};
use crate::cache::{DEFAULT_CAPACITY, VerifiedCache};
use crate::claims::{Claims, VerifiedToken};
use crate::config::Config;
use crate::event::{ApiKey, Authorization, AuthorizerEvent, Shape};
use crate::jwks::{JwksCache, JwksError, JwksOptions, KeyError};
use crate::jws::{Compact, Header, MAX_SIGNATURE_BYTES, decode_part, decode_signature};
use crate::rejection::Rejection;
use crate::response::{AuthorizerResponse, Effect, stage_wildcard};
use portal_auth_domain::{Clock, SystemClock};

/// Tuning and test seams; [`Options::default`] is what the Lambda runs with.
#[derive(Clone)]
pub struct Options {
    pub clock: Arc<dyn Clock>,
    pub jwks: JwksOptions,
    /// Verified tokens kept; `0` turns the cache off.
    pub verified_cache_capacity: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            jwks: JwksOptions::default(),
            verified_cache_capacity: DEFAULT_CAPACITY,
        }
    }
}

impl Options {
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_refetch_interval(mut self, interval: Duration) -> Self {
        self.jwks.min_refetch_interval = interval;
        self
    }

    pub fn with_http_timeout(mut self, timeout: Duration) -> Self {
        self.jwks.timeout = timeout;
        self.jwks.connect_timeout = timeout;
        self
    }

    pub fn with_verified_cache(mut self, capacity: usize) -> Self {
        self.verified_cache_capacity = capacity;
        self
    }
}

/// The authorizer could not be built (the HTTP client failed to initialise).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the JWKS HTTP client: {0}")]
pub struct InitError(#[from] reqwest::Error);

/// The REST authorizer's failure: API Gateway answers 401 when the Lambda fails with exactly
/// this message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Unauthorized")]
pub struct Unauthorized;

impl From<Unauthorized> for Diagnostic {
    fn from(_: Unauthorized) -> Self {
        Diagnostic {
            error_type: "Unauthorized".to_owned(),
            error_message: "Unauthorized".to_owned(),
        }
    }
}

/// The result of a decision, before it is shaped for API Gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Allow(Arc<VerifiedToken>),
    /// Authenticated but lacking a required scope or group (403).
    Deny(Arc<VerifiedToken>, Verdict),
    /// Not a valid credential for this API (401).
    Unauthorized(Rejection),
    /// No token, one `x-key`, and the portal's API-key clients are forwarded: allowed for this
    /// one request, the backend checks the key ([`crate::api_key`]).
    ApiKey,
}

pub struct Authorizer {
    issuer: String,
    rules: AccessRules,
    keys: JwksCache,
    verified: VerifiedCache,
    clock: Arc<dyn Clock>,
    api_key_clients: ApiKeyClients,
}

impl Authorizer {
    pub fn new(config: Config, options: Options) -> Result<Self, InitError> {
        let keys = JwksCache::new(
            config.jwks_url.clone(),
            &options.jwks,
            Arc::clone(&options.clock),
        )?;
        Ok(Self {
            rules: AccessRules::from_config(&config),
            issuer: config.issuer,
            keys,
            verified: VerifiedCache::new(options.verified_cache_capacity),
            clock: options.clock,
            api_key_clients: config.api_key_clients,
        })
    }

    /// Fetches the JWKS once at cold start. A failure is logged and left for the first request
    /// to retry; it is returned for callers that want to know.
    pub async fn warm_up(&self) -> Result<usize, JwksError> {
        let result = self.keys.warm_up().await;
        if let Err(error) = &result {
            tracing::warn!(%error, "JWKS fetch at cold start failed; the first request retries");
        }
        result
    }

    /// Installs keys without fetching them.
    pub fn preload_jwks(&self, body: &[u8]) -> Result<usize, JwksError> {
        self.keys.preload(body)
    }

    /// Number of tokens in the verified-token cache.
    pub fn verified_cache_len(&self) -> usize {
        self.verified.len()
    }

    /// Answers one API Gateway event.
    pub async fn handle(
        &self,
        event: &AuthorizerEvent,
    ) -> Result<AuthorizerResponse, Unauthorized> {
        let (outcome, answer) = match event {
            AuthorizerEvent::RestToken {
                authorization_token,
                method_arn,
            } => {
                let outcome = self.decide(authorization_token.as_deref()).await;
                rest_answer(outcome, method_arn.as_deref())
            }
            AuthorizerEvent::RestRequest {
                authorization,
                api_key,
                method_arn,
            } => rest_answer(
                self.decide_rest_request(authorization, *api_key).await,
                method_arn.as_deref(),
            ),
            AuthorizerEvent::HttpApiV2 { authorization } => {
                simple_answer(self.decide_header(authorization).await)
            }
            AuthorizerEvent::Unrecognized => (
                Outcome::Unauthorized(Rejection::UnsupportedEvent),
                Err(Unauthorized),
            ),
            // A malformed request is refused like an invalid credential, in the form its shape
            // expects; the log line carries the fixed reason, never what was wrong with it.
            AuthorizerEvent::Malformed {
                looks_like: Shape::HttpApiV2,
            } => (
                Outcome::Unauthorized(Rejection::MalformedEvent),
                Ok(AuthorizerResponse::simple(None)),
            ),
            AuthorizerEvent::Malformed { .. } => (
                Outcome::Unauthorized(Rejection::MalformedEvent),
                Err(Unauthorized),
            ),
        };
        log_decision(event.shape(), &outcome);
        answer
    }

    /// A REST REQUEST: an API-key client to forward, or the `Authorization` header's decision.
    async fn decide_rest_request(&self, authorization: &Authorization, api_key: ApiKey) -> Outcome {
        if self.api_key_clients.forwards(authorization, api_key) {
            return Outcome::ApiKey;
        }
        self.decide_header(authorization).await
    }

    async fn decide_header(&self, authorization: &Authorization) -> Outcome {
        match authorization {
            Authorization::One(value) => self.decide(Some(value)).await,
            Authorization::Missing => self.decide(None).await,
            Authorization::Ambiguous => Outcome::Unauthorized(Rejection::AmbiguousAuthorization),
        }
    }

    /// Decides on an `Authorization` header value.
    pub async fn decide(&self, authorization: Option<&str>) -> Outcome {
        let token = match authorization.map(bearer_token) {
            None => return Outcome::Unauthorized(Rejection::MissingAuthorization),
            Some(Err(rejection)) => return Outcome::Unauthorized(rejection),
            Some(Ok(token)) => token,
        };
        let verified = match self.verify(token).await {
            Ok(verified) => verified,
            Err(rejection) => return Outcome::Unauthorized(rejection),
        };
        match self.rules.check(&verified) {
            Ok(Verdict::Allow) => Outcome::Allow(verified),
            Ok(verdict) => Outcome::Deny(verified, verdict),
            Err(rejection) => Outcome::Unauthorized(rejection),
        }
    }

    /// Signature and claims, or the verified-token cache when this exact token passed before.
    async fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, Rejection> {
        let now = self.clock.unix_seconds();
        if !self.verified.is_enabled() {
            return self.verify_uncached(token, now).await.map(Arc::new);
        }
        let digest = VerifiedCache::digest(token);
        if let Some(hit) = self.verified.get(&digest, now) {
            return Ok(hit);
        }
        let verified = Arc::new(self.verify_uncached(token, now).await?);
        self.verified.insert(digest, Arc::clone(&verified), now);
        Ok(verified)
    }

    async fn verify_uncached(&self, token: &str, now: i64) -> Result<VerifiedToken, Rejection> {
        check_b64token(token)?;
        let parts = Compact::split(token)?;
        let header_bytes = decode_part(parts.header)?;
        let header = Header::parse(&header_bytes)?;
        let kid = header.checked_kid()?;
        let mut signature_buf = [0u8; MAX_SIGNATURE_BYTES];
        let signature = decode_signature(parts.signature, &mut signature_buf)?;
        let key = self.keys.key(kid).await.map_err(|e| match e {
            KeyError::Unknown => Rejection::UnknownKid,
            KeyError::Unavailable => Rejection::JwksUnavailable,
        })?;
        if !key.verify(parts.signing_input.as_bytes(), signature) {
            return Err(Rejection::Signature);
        }
        let payload = decode_part(parts.payload)?;
        Claims::parse(&payload)?.verify(&self.issuer, now)
    }
}

type Answer = (Outcome, Result<AuthorizerResponse, Unauthorized>);

/// REST: a policy for a valid token (or a forwarded API key), the `Unauthorized` failure
/// otherwise.
fn rest_answer(outcome: Outcome, method_arn: Option<&str>) -> Answer {
    let (effect, token) = match &outcome {
        Outcome::Allow(token) => (Effect::Allow, Arc::clone(token)),
        Outcome::Deny(token, _) => (Effect::Deny, Arc::clone(token)),
        Outcome::Unauthorized(_) => return (outcome, Err(Unauthorized)),
        Outcome::ApiKey => {
            return match method_arn.and_then(exact_resource) {
                Some(resource) => (outcome, Ok(AuthorizerResponse::api_key(resource))),
                None => (
                    Outcome::Unauthorized(Rejection::MethodArn),
                    Err(Unauthorized),
                ),
            };
        }
    };
    match method_arn.and_then(stage_wildcard) {
        Some(resource) => (
            outcome,
            Ok(AuthorizerResponse::policy(effect, resource, token)),
        ),
        None => (
            Outcome::Unauthorized(Rejection::MethodArn),
            Err(Unauthorized),
        ),
    }
}

/// HTTP API 2.0: `isAuthorized` true only for an allowed token.
fn simple_answer(outcome: Outcome) -> Answer {
    let token = match &outcome {
        Outcome::Allow(token) => Some(Arc::clone(token)),
        Outcome::Deny(..) | Outcome::Unauthorized(_) | Outcome::ApiKey => None,
    };
    (outcome, Ok(AuthorizerResponse::simple(token)))
}

fn log_decision(shape: &'static str, outcome: &Outcome) {
    match outcome {
        Outcome::Allow(t) => {
            tracing::info!(shape, outcome = "allow", "authorizer decision");
            tracing::debug!(sub = %t.sub, client_id = %t.client_id, "authorizer principal");
        }
        Outcome::Deny(t, verdict) => {
            tracing::info!(shape, outcome = "deny", reason = ?verdict, "authorizer decision");
            tracing::debug!(sub = %t.sub, client_id = %t.client_id, "authorizer principal");
        }
        Outcome::Unauthorized(rejection) => {
            tracing::info!(shape, outcome = "unauthorized", reason = %rejection, "authorizer decision");
        }
        Outcome::ApiKey => {
            tracing::info!(
                shape,
                outcome = "allow",
                credential = "api-key",
                "authorizer decision"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::TestKey;
    use portal_auth_domain::ManualClock;
    use serde_json::{Value, json};

    const ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123";
    const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/items";

    struct Fixture {
        authorizer: Authorizer,
        clock: Arc<ManualClock>,
        key: TestKey,
    }

    fn fixture(scopes: &[&str], groups: &[&str], cache: usize) -> Fixture {
        fixture_with(scopes, groups, cache, ApiKeyClients::Refuse)
    }

    fn fixture_with(
        scopes: &[&str],
        groups: &[&str],
        cache: usize,
        api_key_clients: ApiKeyClients,
    ) -> Fixture {
        let config = Config {
            issuer: ISS.into(),
            // Never contacted: keys are preloaded, and an unknown kid finds nothing listening.
            jwks_url: "http://127.0.0.1:9/jwks.json".into(),
            client_ids: vec!["client-1".into()],
            required_scopes: scopes.iter().map(|s| s.to_string()).collect(),
            required_groups: groups.iter().map(|s| s.to_string()).collect(),
            api_key_clients,
        };
        let clock = Arc::new(ManualClock::new(1_800_000_000_000));
        let options = Options::default()
            .with_clock(clock.clone())
            .with_verified_cache(cache)
            .with_http_timeout(Duration::from_millis(500));
        let authorizer = Authorizer::new(config, options).unwrap();
        let key = TestKey::generate("key-1");
        authorizer.preload_jwks(&key.jwks()).unwrap();
        Fixture {
            authorizer,
            clock,
            key,
        }
    }

    impl Fixture {
        fn claims(&self) -> Value {
            json!({
                "iss": ISS, "exp": self.clock.unix_seconds() + 3600,
                "iat": self.clock.unix_seconds(), "token_use": "access",
                "sub": "sub-1", "client_id": "client-1", "username": "demo",
                "scope": "openid portal/read", "cognito:groups": ["portal-users"]
            })
        }

        fn bearer(&self, claims: &Value) -> String {
            format!("Bearer {}", self.key.mint(claims))
        }

        async fn decide(&self, header: &str) -> Outcome {
            self.authorizer.decide(Some(header)).await
        }
    }

    fn rest_token(header: &str) -> AuthorizerEvent {
        AuthorizerEvent::RestToken {
            authorization_token: Some(header.into()),
            method_arn: Some(ARN.into()),
        }
    }

    #[tokio::test]
    async fn a_valid_token_is_allowed_on_the_whole_stage() {
        let f = fixture(&[], &[], 0);
        let answer = f
            .authorizer
            .handle(&rest_token(&f.bearer(&f.claims())))
            .await
            .unwrap();
        let value = serde_json::to_value(answer).unwrap();
        assert_eq!(value["principalId"], "sub-1");
        let statement = &value["policyDocument"]["Statement"][0];
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(
            statement["Resource"],
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*"
        );
        assert_eq!(value["context"]["groups"], r#"["portal-users"]"#);
    }

    #[tokio::test]
    async fn a_token_lacking_scope_or_group_gets_an_explicit_deny() {
        let f = fixture(&["portal/write"], &[], 0);
        let answer = f
            .authorizer
            .handle(&rest_token(&f.bearer(&f.claims())))
            .await
            .unwrap();
        let value = serde_json::to_value(answer).unwrap();
        assert_eq!(value["policyDocument"]["Statement"][0]["Effect"], "Deny");
        let http = AuthorizerEvent::HttpApiV2 {
            authorization: Authorization::One(f.bearer(&f.claims())),
        };
        let value = serde_json::to_value(f.authorizer.handle(&http).await.unwrap()).unwrap();
        assert_eq!(value, json!({"isAuthorized": false}));
    }

    #[tokio::test]
    async fn invalid_tokens_fail_with_exactly_unauthorized() {
        let f = fixture(&[], &[], 0);
        let err = f
            .authorizer
            .handle(&rest_token("Bearer a.b.c"))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "Unauthorized");
        let diagnostic = Diagnostic::from(err);
        assert_eq!(diagnostic.error_message, "Unauthorized");
        let unknown = f.authorizer.handle(&AuthorizerEvent::Unrecognized).await;
        assert_eq!(unknown.unwrap_err(), Unauthorized);
    }

    #[tokio::test]
    async fn malformed_events_are_refused_in_the_form_their_shape_expects() {
        let f = fixture(&[], &[], 0);
        for looks_like in [Shape::RestToken, Shape::RestRequest, Shape::Unknown] {
            let event = AuthorizerEvent::Malformed { looks_like };
            let err = f.authorizer.handle(&event).await.unwrap_err();
            assert_eq!(Diagnostic::from(err).error_message, "Unauthorized");
        }
        let event = AuthorizerEvent::Malformed {
            looks_like: Shape::HttpApiV2,
        };
        let value = serde_json::to_value(f.authorizer.handle(&event).await.unwrap()).unwrap();
        assert_eq!(value, json!({"isAuthorized": false}));
    }

    #[tokio::test]
    async fn a_rest_event_without_a_usable_method_arn_is_refused() {
        let f = fixture(&[], &[], 0);
        let event = AuthorizerEvent::RestToken {
            authorization_token: Some(f.bearer(&f.claims())),
            method_arn: Some("garbage".into()),
        };
        assert_eq!(f.authorizer.handle(&event).await.unwrap_err(), Unauthorized);
    }

    #[tokio::test]
    async fn the_signature_is_checked_before_the_claims_are_read() {
        let f = fixture(&[], &[], 0);
        let token = f.key.mint(&f.claims());
        let mut parts: Vec<&str> = token.split('.').collect();
        let garbage = base64_json(&json!("not claims"));
        parts[1] = &garbage;
        let outcome = f.decide(&format!("Bearer {}", parts.join("."))).await;
        assert_eq!(outcome, Outcome::Unauthorized(Rejection::Signature));
    }

    #[tokio::test]
    async fn verified_tokens_are_served_from_the_cache_until_they_expire() {
        let f = fixture(&[], &[], 16);
        let mut claims = f.claims();
        claims["exp"] = json!(f.clock.unix_seconds() + 60);
        let header = f.bearer(&claims);
        assert!(matches!(f.decide(&header).await, Outcome::Allow(_)));
        assert_eq!(f.authorizer.verified_cache_len(), 1);
        // Rotate the key away: only the cache can still vouch for the token.
        f.authorizer
            .preload_jwks(&TestKey::generate("key-2").jwks())
            .unwrap();
        assert!(matches!(f.decide(&header).await, Outcome::Allow(_)));
        f.clock.advance(Duration::from_secs(65));
        f.authorizer.preload_jwks(&f.key.jwks()).unwrap();
        assert_eq!(
            f.decide(&header).await,
            Outcome::Unauthorized(Rejection::Expired)
        );
        assert_eq!(f.authorizer.verified_cache_len(), 0);
    }

    #[tokio::test]
    async fn cached_tokens_still_meet_the_client_scope_and_group_rules() {
        let f = fixture(&[], &["admins"], 16);
        let header = f.bearer(&f.claims());
        for _ in 0..2 {
            assert!(matches!(
                f.decide(&header).await,
                Outcome::Deny(_, Verdict::DenyGroup)
            ));
        }
        let mut other_client = f.claims();
        other_client["client_id"] = json!("client-2");
        let header = f.bearer(&other_client);
        for _ in 0..2 {
            assert_eq!(
                f.decide(&header).await,
                Outcome::Unauthorized(Rejection::ClientNotAllowed)
            );
        }
        assert_eq!(
            f.authorizer.verified_cache_len(),
            2,
            "both were verified and cached"
        );
    }

    #[tokio::test]
    async fn a_cache_hit_needs_the_byte_identical_token() {
        let f = fixture(&[], &[], 16);
        let token = f.key.mint(&f.claims());
        assert!(matches!(
            f.decide(&format!("Bearer {token}")).await,
            Outcome::Allow(_)
        ));
        let mut claims = f.claims();
        claims["client_id"] = json!("client-1 ");
        let altered = format!(
            "{}.{}.{}",
            token.split('.').next().unwrap(),
            base64_json(&claims),
            token.rsplit('.').next().unwrap()
        );
        assert_eq!(
            f.decide(&format!("Bearer {altered}")).await,
            Outcome::Unauthorized(Rejection::Signature)
        );
    }

    const API_KEY: &str = "dpp-api-key-5b1e0c";
    const PROXY_ARN: &str =
        "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/POST/api/v2/data_products";

    /// A REST REQUEST event as API Gateway sends it for the front door's proxy route.
    fn rest_request(headers: Value) -> AuthorizerEvent {
        let multi: serde_json::Map<String, Value> = headers
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect();
        serde_json::from_value(json!({
            "type": "REQUEST", "methodArn": PROXY_ARN, "resource": "/api/{proxy+}",
            "path": "/api/v2/data_products", "httpMethod": "POST",
            "headers": headers, "multiValueHeaders": multi,
        }))
        .unwrap()
    }

    async fn rest_value(f: &Fixture, event: &AuthorizerEvent) -> Result<Value, Unauthorized> {
        f.authorizer
            .handle(event)
            .await
            .map(|a| serde_json::to_value(a).unwrap())
    }

    #[tokio::test]
    async fn an_api_key_without_a_token_is_allowed_for_exactly_its_method_when_forwarded() {
        let f = fixture_with(&[], &[], 16, ApiKeyClients::Forward);
        let event = rest_request(json!({"x-key": API_KEY, "Host": "portal.example.com"}));
        let value = rest_value(&f, &event).await.unwrap();
        assert_eq!(
            value,
            json!({
                "principalId": "api-key",
                "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": PROXY_ARN}
                ]},
                "context": {"auth": "api_key"}
            })
        );
        assert!(!value.to_string().contains(API_KEY));
        assert_eq!(
            f.authorizer.verified_cache_len(),
            0,
            "no token was verified"
        );
    }

    #[tokio::test]
    async fn an_api_key_is_refused_at_the_gateway_unless_forwarding_is_configured() {
        let f = fixture(&[], &[], 16);
        let event = rest_request(json!({"x-key": API_KEY}));
        assert_eq!(rest_value(&f, &event).await.unwrap_err(), Unauthorized);
    }

    #[tokio::test]
    async fn an_api_key_never_rescues_a_token_and_never_spoils_one() {
        let f = fixture_with(&["portal/write"], &[], 16, ApiKeyClients::Forward);
        let bad = [
            "Bearer a.b.c".to_owned(),
            "Basic dXNlcjpwYXNz".to_owned(),
            String::new(),
            f.bearer(&json!({"iss": ISS, "exp": 1})),
        ];
        for header in bad {
            let event = rest_request(json!({"x-key": API_KEY, "Authorization": header}));
            assert_eq!(
                rest_value(&f, &event).await.unwrap_err(),
                Unauthorized,
                "{header}"
            );
        }
        // A valid token lacking the scope keeps its explicit Deny (403), key or no key.
        let token = f.bearer(&f.claims());
        let event = rest_request(json!({"x-key": API_KEY, "Authorization": token}));
        let value = rest_value(&f, &event).await.unwrap();
        assert_eq!(value["principalId"], "sub-1");
        assert_eq!(value["policyDocument"]["Statement"][0]["Effect"], "Deny");
        // Two keys, or a key on a malformed method ARN: nothing to forward.
        let mut two = rest_request(json!({"x-key": API_KEY}));
        if let AuthorizerEvent::RestRequest { api_key, .. } = &mut two {
            *api_key = ApiKey::Unusable;
        }
        assert_eq!(rest_value(&f, &two).await.unwrap_err(), Unauthorized);
        let wildcard = AuthorizerEvent::RestRequest {
            authorization: Authorization::Missing,
            api_key: ApiKey::One,
            method_arn: Some("arn:aws:execute-api:eu-west-1:1:abc123/v1/GET/api/*".into()),
        };
        assert_eq!(rest_value(&f, &wildcard).await.unwrap_err(), Unauthorized);
    }

    #[tokio::test]
    async fn a_valid_token_beside_a_key_is_judged_as_a_token() {
        let f = fixture_with(&[], &[], 16, ApiKeyClients::Forward);
        let event = rest_request(json!({"x-key": API_KEY, "authorization": f.bearer(&f.claims())}));
        let value = rest_value(&f, &event).await.unwrap();
        assert_eq!(value["principalId"], "sub-1");
        assert_eq!(
            value["policyDocument"]["Statement"][0]["Resource"],
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/*"
        );
    }

    #[tokio::test]
    async fn only_rest_request_events_forward_a_key() {
        let f = fixture_with(&[], &[], 16, ApiKeyClients::Forward);
        let v2: AuthorizerEvent = serde_json::from_value(json!({
            "version": "2.0", "type": "REQUEST", "routeArn": PROXY_ARN,
            "headers": {"x-key": API_KEY}
        }))
        .unwrap();
        assert_eq!(
            rest_value(&f, &v2).await.unwrap(),
            json!({"isAuthorized": false})
        );
        let token = AuthorizerEvent::RestToken {
            authorization_token: None,
            method_arn: Some(PROXY_ARN.into()),
        };
        assert_eq!(rest_value(&f, &token).await.unwrap_err(), Unauthorized);
    }

    /// Everything the crate logs, at every level, while `run` runs on this thread.
    async fn logs_of<F: std::future::Future<Output = ()>>(run: F) -> String {
        #[derive(Clone, Default)]
        struct Buffer(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        run.await;
        drop(guard);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[tokio::test]
    async fn an_api_key_is_never_logged() {
        let f = fixture_with(&[], &[], 16, ApiKeyClients::Forward);
        let logs = logs_of(async {
            let events = [
                rest_request(json!({"x-key": API_KEY})),
                rest_request(json!({"x-key": API_KEY, "Authorization": "Bearer a.b.c"})),
                rest_request(json!({"x-key": API_KEY, "Authorization": f.bearer(&f.claims())})),
            ];
            for event in &events {
                let _ = f.authorizer.handle(event).await;
            }
        })
        .await;
        assert!(logs.contains("credential=\"api-key\""), "{logs}");
        assert_eq!(logs.matches("authorizer decision").count(), 3, "{logs}");
        assert!(!logs.contains(API_KEY), "{logs}");
    }

    fn base64_json(value: &Value) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }
}
