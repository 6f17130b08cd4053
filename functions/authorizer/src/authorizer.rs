//! The decision: from an API Gateway event to Allow, Deny or 401.
//!
//! [`Authorizer::decide`] takes the `Authorization` value through every check in order —
//! bearer syntax and size, then the [`Verifier`] (the verified-token cache, JWS structure and
//! header, the key by `kid`, the signature, the claims), then the revocation set when one is
//! configured ([`crate::revocations`]: judged on every decision, cache hits included, from
//! memory), then the client and the deployment's per-route rules ([`crate::rules`]) for the
//! event's route (REST: the `methodArn`; HTTP API: the `routeKey`) — and returns an
//! [`Outcome`]. [`Authorizer::handle`] maps that onto the event's shape; a REST answer carries
//! the principal's whole policy, so that API Gateway's cache stays right for every route.
//! Signature before claims: nothing in the payload is parsed until the signature over it has
//! been checked. A REST REQUEST event
//! with an `x-key` and no `Authorization` header is, when so configured, the one exception that
//! is not a token decision: [`Outcome::ApiKey`], for the backend to judge ([`crate::api_key`]).
//!
//! Logging: one `info` line per decision with the event shape, the outcome and, for a refusal,
//! its [`Rejection`] reason. Neither the token nor any claim is ever logged above `debug`, and
//! an API key is never logged at all (it is never read).
//!
//! Metrics ([`Options::with_metrics`]): one EMF line per decision, namespace `PortalAuth`,
//! dimension `function` = `authorizer` and:
//!
//! | Decision | Metrics | Dimensions besides `function` |
//! |---|---|---|
//! | Allow (a token) | `Allowed` | `client_id` (an accepted client, from the verified token) |
//! | Allow (a forwarded API key) | `Allowed` | `outcome` = `api_key` |
//! | Deny (403) | `Forbidden` | `client_id`, `outcome` = `missing_scope`, `missing_group` or `route_denied` |
//! | 401 | `Unauthorized` | `outcome` = the rejection's fixed [`Reason`](crate::rejection::Reason) |
//!
//! plus `TokenCacheHits` = 1 on the same line when the verified-token cache answered. JWKS
//! fetches count on lines of their own ([`crate::jwks`]). [`Authorizer::decide`] alone emits
//! nothing: like the log line, the metric belongs to [`Authorizer::handle`].

use std::sync::Arc;
use std::time::Duration;

use lambda_runtime::Diagnostic;
use portal_auth_runtime::https::Trust;
use portal_auth_runtime::metrics::{Dims, Emf, Metric};

use crate::access::{ClientIds, Verdict};
use crate::api_key::{ApiKeyClients, exact_resource};
use crate::bearer::bearer_token;
use crate::cache::DEFAULT_CAPACITY;
use crate::claims::VerifiedToken;
use crate::config::Config;
use crate::event::{ApiKey, Authorization, AuthorizerEvent, Shape};
use crate::jwks::{JwksError, JwksOptions};
use crate::rejection::Rejection;
use crate::response::{AuthorizerResponse, PolicyDocument, stage_prefix};
use crate::revocations::Revocations;
use crate::rules::{PolicyError, Route, RuleSet};
use crate::verifier::Verifier;
use portal_auth_domain::{Clock, SystemClock};

/// Tuning and test seams; [`Options::default`] with [`Options::with_metrics`] is what the
/// Lambda runs with.
#[derive(Clone)]
pub struct Options {
    pub clock: Arc<dyn Clock>,
    pub jwks: JwksOptions,
    /// Verified tokens kept; `0` turns the cache off.
    pub verified_cache_capacity: usize,
    /// Where the decision and JWKS metrics go; `None` (the default) emits none, so that tests
    /// and tools that build an authorizer write no EMF lines to their stdout.
    pub metrics: Option<Emf>,
    /// The roots the JWKS and revocation reads trust (the compiled-in Mozilla set by default;
    /// `PORTAL_AUTH_EXTRA_CA_CERTS` adds to it: [`portal_auth_runtime::https`]).
    pub trust: Trust,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            jwks: JwksOptions::default(),
            verified_cache_capacity: DEFAULT_CAPACITY,
            metrics: None,
            trust: Trust::default(),
        }
    }
}

impl Options {
    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

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

    /// Emits the metrics on `emf` (the Lambda: `Emf::new(Function::Authorizer)`).
    pub fn with_metrics(mut self, emf: Emf) -> Self {
        self.metrics = Some(emf);
        self
    }
}

/// The authorizer could not be built.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Jwks(#[from] crate::verifier::InitError),
    #[error("cannot build the revocation table's HTTP client: {0}")]
    RevocationsHttp(#[from] reqwest::Error),
    /// Only for a [`Config`] built by hand: [`Config::from_env`] refuses these first.
    #[error("AUTHORIZER_RULES: {0}")]
    Rules(#[from] PolicyError),
}

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

/// An [`Outcome`] and whether the verified-token cache answered it (for `TokenCacheHits`).
#[derive(Debug)]
struct Decision {
    outcome: Outcome,
    cache_hit: bool,
}

impl From<Outcome> for Decision {
    fn from(outcome: Outcome) -> Self {
        Decision {
            outcome,
            cache_hit: false,
        }
    }
}

pub struct Authorizer {
    verifier: Verifier,
    clients: ClientIds,
    rules: Arc<RuleSet>,
    /// `None` when no revocation table is configured.
    revocations: Option<Arc<Revocations>>,
    api_key_clients: ApiKeyClients,
    metrics: Option<Emf>,
}

impl Authorizer {
    pub fn new(config: Config, options: Options) -> Result<Self, InitError> {
        let revocations = match config.revocations.clone() {
            Some(table) => Some(Arc::new(Revocations::new(
                table,
                options.jwks.timeout,
                &options.trust,
                Arc::clone(&options.clock),
                options.metrics,
            )?)),
            None => None,
        };
        Ok(Self {
            verifier: Verifier::new(config.issuers.clone(), config.jwks_url.clone(), &options)?,
            clients: ClientIds::new(config.client_ids.clone()),
            rules: Arc::new(RuleSet::new(
                config.rules.clone(),
                config.global_requirement(),
            )?),
            revocations,
            api_key_clients: config.api_key_clients,
            metrics: options.metrics,
        })
    }

    /// At cold start: fetches the JWKS and reads the revocation set, side by side. A failure
    /// is logged and left for the first request to retry; the JWKS's is returned for callers
    /// that want to know.
    pub async fn warm_up(&self) -> Result<usize, JwksError> {
        let revocations = async {
            if let Some(revocations) = &self.revocations {
                let _ = revocations.refresh().await;
            }
        };
        let (result, ()) = tokio::join!(self.verifier.warm_up(), revocations);
        if let Err(error) = &result {
            tracing::warn!(%error, "JWKS fetch at cold start failed; the first request retries");
        }
        result
    }

    /// Whether the cold start waits for [`Self::warm_up`] before taking its first request:
    /// only under provisioned concurrency, whose init nobody waits on and whose instance is
    /// frozen as soon as it asks for work (a read in flight would be frozen with it). On demand
    /// the reads run beside the runtime's first poll, off the critical path: the first request
    /// waits for the fetch in flight only if it needs a key (the JWKS lock merges them), and a
    /// request that fails before the signature check does not wait at all.
    pub fn init_awaits_warm_up(env: &portal_auth_runtime::Env) -> bool {
        env.optional("AWS_LAMBDA_INITIALIZATION_TYPE") == Some("provisioned-concurrency")
    }

    /// Installs keys without fetching them.
    pub fn preload_jwks(&self, body: &[u8]) -> Result<usize, JwksError> {
        self.verifier.preload_jwks(body)
    }

    /// The revocation set and its refreshes, when a table is configured.
    pub fn revocations(&self) -> Option<&Arc<Revocations>> {
        self.revocations.as_ref()
    }

    /// Number of tokens in the verified-token cache.
    pub fn verified_cache_len(&self) -> usize {
        self.verifier.cache_len()
    }

    /// Answers one API Gateway event.
    pub async fn handle(
        &self,
        event: &AuthorizerEvent,
    ) -> Result<AuthorizerResponse, Unauthorized> {
        let (decision, answer) = match event {
            AuthorizerEvent::RestToken {
                authorization_token,
                method_arn,
            } => {
                let route = rest_route(method_arn.as_deref());
                let decision = self
                    .decide_token(authorization_token.as_deref(), &route)
                    .await;
                self.rest_answer(decision, method_arn.as_deref())
            }
            AuthorizerEvent::RestRequest {
                authorization,
                api_key,
                method_arn,
            } => {
                let route = rest_route(method_arn.as_deref());
                let decision = self
                    .decide_rest_request(authorization, *api_key, &route)
                    .await;
                self.rest_answer(decision, method_arn.as_deref())
            }
            AuthorizerEvent::HttpApiV2 {
                authorization,
                route_key,
            } => {
                let route = route_key
                    .as_deref()
                    .map_or_else(Route::everything, Route::from_route_key);
                simple_answer(self.decide_header(authorization, &route).await)
            }
            AuthorizerEvent::Unrecognized => (
                Outcome::Unauthorized(Rejection::UnsupportedEvent).into(),
                Err(Unauthorized),
            ),
            // A malformed request is refused like an invalid credential, in the form its shape
            // expects; the log line carries the fixed reason, never what was wrong with it.
            AuthorizerEvent::Malformed {
                looks_like: Shape::HttpApiV2,
            } => (
                Outcome::Unauthorized(Rejection::MalformedEvent).into(),
                Ok(AuthorizerResponse::simple(None)),
            ),
            AuthorizerEvent::Malformed { .. } => (
                Outcome::Unauthorized(Rejection::MalformedEvent).into(),
                Err(Unauthorized),
            ),
        };
        log_decision(event.shape(), &decision.outcome);
        if let Some(emf) = self.metrics {
            count_decision(emf, &decision);
        }
        answer
    }

    /// A REST REQUEST: an API-key client to forward, or the `Authorization` header's decision.
    async fn decide_rest_request(
        &self,
        authorization: &Authorization,
        api_key: ApiKey,
        route: &Route<'_>,
    ) -> Decision {
        if self.api_key_clients.forwards(authorization, api_key) {
            return Outcome::ApiKey.into();
        }
        self.decide_header(authorization, route).await
    }

    async fn decide_header(&self, authorization: &Authorization, route: &Route<'_>) -> Decision {
        match authorization {
            Authorization::One(value) => self.decide_token(Some(value), route).await,
            Authorization::Missing => self.decide_token(None, route).await,
            Authorization::Ambiguous => {
                Outcome::Unauthorized(Rejection::AmbiguousAuthorization).into()
            }
        }
    }

    /// Decides on an `Authorization` header value for every route of the API: allowed only
    /// where every route is.
    pub async fn decide(&self, authorization: Option<&str>) -> Outcome {
        self.decide_on(authorization, &Route::everything()).await
    }

    /// Decides on an `Authorization` header value for `route`.
    pub async fn decide_on(&self, authorization: Option<&str>, route: &Route<'_>) -> Outcome {
        self.decide_token(authorization, route).await.outcome
    }

    /// The rules this authorizer applies (the configured ones, then the catch-all).
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.rules
    }

    async fn decide_token(&self, authorization: Option<&str>, route: &Route<'_>) -> Decision {
        let token = match authorization.map(bearer_token) {
            None => return Outcome::Unauthorized(Rejection::MissingAuthorization).into(),
            Some(Err(rejection)) => return Outcome::Unauthorized(rejection).into(),
            Some(Ok(token)) => token,
        };
        let (verified, cache_hit) = match self.verifier.verify(token).await {
            Ok(verified) => verified,
            Err(rejection) => return Outcome::Unauthorized(rejection).into(),
        };
        // After the cache, on every decision: a cached token is judged by the live set too.
        if let Some(revocations) = &self.revocations
            && let Err(rejection) = revocations.check(&verified).await
        {
            return Decision {
                outcome: Outcome::Unauthorized(rejection),
                cache_hit,
            };
        }
        let outcome = match self.clients.check(&verified) {
            Err(rejection) => Outcome::Unauthorized(rejection),
            Ok(()) => match self.rules.verdict(&verified, route) {
                Verdict::Allow => Outcome::Allow(verified),
                verdict => Outcome::Deny(verified, verdict),
            },
        };
        Decision { outcome, cache_hit }
    }

    /// REST: the principal's policy for a valid token (whose verdict for this route the
    /// decision gave; the policy gives the same one), an Allow of this one method for a
    /// forwarded API key, the `Unauthorized` failure otherwise.
    fn rest_answer(&self, decision: Decision, method_arn: Option<&str>) -> Answer {
        let unusable_arn = |decision: Decision| {
            let outcome = Outcome::Unauthorized(Rejection::MethodArn);
            (
                Decision {
                    outcome,
                    ..decision
                },
                Err(Unauthorized),
            )
        };
        let token = match &decision.outcome {
            Outcome::Allow(token) | Outcome::Deny(token, _) => Arc::clone(token),
            Outcome::Unauthorized(_) => return (decision, Err(Unauthorized)),
            Outcome::ApiKey => {
                return match method_arn.and_then(exact_resource) {
                    Some(resource) => (decision, Ok(AuthorizerResponse::api_key(resource))),
                    None => unusable_arn(decision),
                };
            }
        };
        match method_arn.and_then(stage_prefix) {
            Some(prefix) => {
                let policy = PolicyDocument::of(self.rules.policy(&token), &self.rules, &prefix);
                (decision, Ok(AuthorizerResponse::policy(policy, token)))
            }
            None => unusable_arn(decision),
        }
    }
}

type Answer = (Decision, Result<AuthorizerResponse, Unauthorized>);

/// The route of a REST event: from its method ARN, every route when it has none (the event is
/// refused for that anyway, [`Rejection::MethodArn`]).
fn rest_route(method_arn: Option<&str>) -> Route<'_> {
    method_arn.map_or_else(Route::everything, Route::from_method_arn)
}

/// HTTP API 2.0: `isAuthorized` true only for an allowed token.
fn simple_answer(decision: Decision) -> Answer {
    let token = match &decision.outcome {
        Outcome::Allow(token) => Some(Arc::clone(token)),
        Outcome::Deny(..) | Outcome::Unauthorized(_) | Outcome::ApiKey => None,
    };
    (decision, Ok(AuthorizerResponse::simple(token)))
}

/// The decision's one EMF line (the table in the module docs). Borrows the client id from the
/// verified token: the line is the only allocation.
fn count_decision(emf: Emf, decision: &Decision) {
    let (metric, dims) = match &decision.outcome {
        Outcome::Allow(token) => (Metric::Allowed, Dims::client(&token.client_id)),
        Outcome::Deny(token, verdict) => (
            Metric::Forbidden,
            Dims::client(&token.client_id).with_outcome(verdict.outcome()),
        ),
        Outcome::Unauthorized(rejection) => (
            Metric::Unauthorized,
            Dims::outcome(rejection.reason().as_str()),
        ),
        Outcome::ApiKey => (Metric::Allowed, Dims::outcome(API_KEY_OUTCOME)),
    };
    let metrics = [(metric, 1), (Metric::TokenCacheHits, 1)];
    let len = if decision.cache_hit { 2 } else { 1 };
    emf.count_many(&metrics[..len], dims);
}

/// The `outcome` of an `Allowed` that was a forwarded API key, not a token.
pub const API_KEY_OUTCOME: &str = "api_key";

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
    use std::cell::Cell;

    #[test]
    fn only_provisioned_concurrency_waits_for_the_warm_up_at_init() {
        use portal_auth_runtime::Env;
        let at = |kind: &str| {
            Authorizer::init_awaits_warm_up(&Env::from_pairs([(
                "AWS_LAMBDA_INITIALIZATION_TYPE",
                kind,
            )]))
        };
        assert!(at("provisioned-concurrency"));
        assert!(!at("on-demand"));
        assert!(!at("snap-start"));
        assert!(!Authorizer::init_awaits_warm_up(&Env::default()));
    }

    const ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123";
    const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/items";

    struct Fixture {
        authorizer: Authorizer,
        clock: Arc<ManualClock>,
        key: TestKey,
        config: Config,
        cache: usize,
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
            issuers: vec![ISS.into()],
            // Never contacted: keys are preloaded, and an unknown kid finds nothing listening.
            jwks_url: "http://127.0.0.1:9/jwks.json".into(),
            client_ids: vec!["client1".into()],
            required_scopes: scopes.iter().map(|s| s.to_string()).collect(),
            required_groups: groups.iter().map(|s| s.to_string()).collect(),
            rules: Vec::new(),
            api_key_clients,
            revocations: None,
        };
        let clock = Arc::new(ManualClock::new(1_800_000_000_000));
        let options = Options::default()
            .with_clock(clock.clone())
            .with_verified_cache(cache)
            .with_http_timeout(Duration::from_millis(500));
        let authorizer = Authorizer::new(config.clone(), options).unwrap();
        let key = TestKey::generate("key-1");
        authorizer.preload_jwks(&key.jwks()).unwrap();
        Fixture {
            authorizer,
            clock,
            key,
            config,
            cache,
        }
    }

    impl Fixture {
        fn claims(&self) -> Value {
            json!({
                "iss": ISS, "exp": self.clock.unix_seconds() + 3600,
                "iat": self.clock.unix_seconds(), "token_use": "access",
                "sub": "sub-1", "client_id": "client1", "username": "demo",
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
            route_key: None,
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
        other_client["client_id"] = json!("client2");
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
        claims["client_id"] = json!("client1 ");
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

    // ------------------------------------------------------------------ metrics

    use portal_auth_runtime::metrics::{self, Capture, Function, validate_emf};

    const EMF: Emf = Emf::new(Function::Authorizer);

    /// A fixture whose authorizer emits its metrics (into the test thread's capture).
    fn metered(scopes: &[&str], groups: &[&str], cache: usize) -> Fixture {
        metered_with(scopes, groups, cache, ApiKeyClients::Refuse)
    }

    fn metered_with(
        scopes: &[&str],
        groups: &[&str],
        cache: usize,
        api_key_clients: ApiKeyClients,
    ) -> Fixture {
        let plain = fixture_with(scopes, groups, cache, api_key_clients);
        let authorizer = twin(&plain, Some(EMF));
        Fixture {
            authorizer,
            ..plain
        }
    }

    /// An authorizer configured as `f`'s, with the same key and clock, and `metrics`.
    fn twin(f: &Fixture, metrics: Option<Emf>) -> Authorizer {
        let mut options = Options::default()
            .with_clock(f.clock.clone())
            .with_verified_cache(f.cache)
            .with_http_timeout(Duration::from_millis(500));
        options.metrics = metrics;
        let authorizer = Authorizer::new(f.config.clone(), options).unwrap();
        authorizer.preload_jwks(&f.key.jwks()).unwrap();
        authorizer
    }

    /// The captured lines, each checked against the EMF specification and emitted by the
    /// authorizer, with the dimension names its one DimensionSet declares.
    fn emf_lines(capture: &Capture) -> Vec<(Value, Vec<String>)> {
        capture
            .lines()
            .iter()
            .map(|line| {
                let value = validate_emf(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                let directive = &value["_aws"]["CloudWatchMetrics"][0];
                assert_eq!(directive["Namespace"], "PortalAuth", "{line}");
                assert_eq!(value["function"], "authorizer", "{line}");
                let set = directive["Dimensions"][0].as_array().unwrap();
                let dims = set.iter().map(|d| d.as_str().unwrap().to_owned()).collect();
                (value, dims)
            })
            .collect()
    }

    /// Metric names with their values, in the line's order.
    type Named = Vec<(String, u64)>;

    /// The metric names of one line, with their values.
    fn metrics_of(line: &Value) -> Named {
        line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let name = m["Name"].as_str().unwrap().to_owned();
                let value = line[&name].as_u64().unwrap();
                (name, value)
            })
            .collect()
    }

    /// Handles `event` and returns its one line: metrics, dimension names, client id, outcome.
    async fn one_line(
        f: &Fixture,
        event: &AuthorizerEvent,
    ) -> (Named, Vec<String>, Option<String>, Option<String>) {
        let capture = metrics::capture();
        let _ = f.authorizer.handle(event).await;
        let lines = emf_lines(&capture);
        assert_eq!(lines.len(), 1, "one EMF line per decision: {lines:?}");
        let (line, dims) = &lines[0];
        let text = |k: &str| line.get(k).and_then(Value::as_str).map(str::to_owned);
        (
            metrics_of(line),
            dims.clone(),
            text("client_id"),
            text("outcome"),
        )
    }

    fn names(metrics: &[(&str, u64)]) -> Named {
        metrics.iter().map(|(n, v)| (n.to_string(), *v)).collect()
    }

    fn dims(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[tokio::test]
    async fn an_allowed_token_counts_allowed_for_its_client_and_a_cache_hit_on_the_same_line() {
        let f = metered(&[], &[], 16);
        let event = rest_token(&f.bearer(&f.claims()));
        let first = one_line(&f, &event).await;
        assert_eq!(
            first,
            (
                names(&[("Allowed", 1)]),
                dims(&["function", "client_id"]),
                Some("client1".into()),
                None
            )
        );
        let again = one_line(&f, &event).await;
        assert_eq!(
            again,
            (
                names(&[("Allowed", 1), ("TokenCacheHits", 1)]),
                dims(&["function", "client_id"]),
                Some("client1".into()),
                None
            )
        );
        let http = AuthorizerEvent::HttpApiV2 {
            authorization: Authorization::One(f.bearer(&f.claims())),
            route_key: None,
        };
        // The same token in another event shape: the same cache entry.
        assert_eq!(
            one_line(&f, &http).await.0,
            names(&[("Allowed", 1), ("TokenCacheHits", 1)])
        );
    }

    #[tokio::test]
    async fn a_missing_scope_or_group_or_a_closed_route_counts_forbidden_with_its_client_and_why() {
        for (scopes, groups, rules, why) in [
            (&["portal/write"][..], &[][..], "", "missing_scope"),
            (&[][..], &["admins"][..], "", "missing_group"),
            (&[][..], &[][..], "* /* deny", "route_denied"),
        ] {
            let mut plain = fixture(scopes, groups, 0);
            plain.config.rules = crate::rules::parse::parse(rules).unwrap();
            let f = Fixture {
                authorizer: twin(&plain, Some(EMF)),
                ..plain
            };
            let line = one_line(&f, &rest_token(&f.bearer(&f.claims()))).await;
            assert_eq!(
                line,
                (
                    names(&[("Forbidden", 1)]),
                    dims(&["function", "client_id", "outcome"]),
                    Some("client1".into()),
                    Some(why.into())
                )
            );
        }
    }

    #[tokio::test]
    async fn every_refusal_counts_unauthorized_with_its_fixed_reason_and_no_client() {
        let f = metered(&[], &[], 16);
        let mut expired = f.claims();
        expired["exp"] = json!(f.clock.unix_seconds() - 3600);
        expired["iat"] = json!(f.clock.unix_seconds() - 7200);
        let mut other_client = f.claims();
        other_client["client_id"] = json!("client2");
        let mut wrong_issuer = f.claims();
        wrong_issuer["iss"] = json!(format!("{ISS}/"));
        let mut id_token = f.claims();
        id_token["token_use"] = json!("id");
        // Another key under the same kid: the signature does not verify.
        let forged = format!("Bearer {}", TestKey::generate("key-1").mint(&f.claims()));
        let none_alg = format!(
            "Bearer {}.{}.{}",
            base64_json(&json!({"alg": "none", "kid": "key-1"})),
            base64_json(&f.claims()),
            base64_json(&json!("sig"))
        );
        let stranger = TestKey::generate("key-9");
        let unknown_kid = format!("Bearer {}", stranger.mint(&f.claims()));
        let cases: Vec<(AuthorizerEvent, &str)> = vec![
            (
                AuthorizerEvent::RestToken {
                    authorization_token: None,
                    method_arn: Some(ARN.into()),
                },
                "missing_token",
            ),
            (rest_token("Basic dXNlcjpwYXNz"), "malformed_header"),
            (rest_token("Bearer a.b.c"), "malformed_token"),
            (rest_token(&none_alg), "wrong_algorithm"),
            (rest_token(&forged), "bad_signature"),
            (rest_token(&f.bearer(&expired)), "expired"),
            (rest_token(&f.bearer(&wrong_issuer)), "wrong_issuer"),
            (rest_token(&f.bearer(&id_token)), "wrong_token_use"),
            (rest_token(&f.bearer(&other_client)), "wrong_client"),
            (AuthorizerEvent::Unrecognized, "malformed_event"),
            (
                AuthorizerEvent::Malformed {
                    looks_like: Shape::HttpApiV2,
                },
                "malformed_event",
            ),
            (
                AuthorizerEvent::RestToken {
                    authorization_token: Some(f.bearer(&f.claims())),
                    method_arn: Some("garbage".into()),
                },
                "malformed_event",
            ),
        ];
        for (event, reason) in &cases {
            let line = one_line(&f, event).await;
            assert_eq!(
                line,
                (
                    names(&[("Unauthorized", 1)]),
                    dims(&["function", "outcome"]),
                    None,
                    Some(reason.to_string())
                ),
                "{event:?}"
            );
        }
        // An unknown kid refetches the JWKS (nothing listens on port 9): the fetch's own line,
        // then the decision's.
        let capture = metrics::capture();
        let _ = f.authorizer.handle(&rest_token(&unknown_kid)).await;
        let lines = emf_lines(&capture);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(
            metrics_of(&lines[0].0),
            names(&[("JwksFetches", 1), ("JwksFetchErrors", 1)])
        );
        assert_eq!(lines[0].0["outcome"], "transport");
        assert_eq!(metrics_of(&lines[1].0), names(&[("Unauthorized", 1)]));
        assert_eq!(lines[1].0["outcome"], "unknown_key");
    }

    #[tokio::test]
    async fn a_cached_token_refused_by_the_rules_still_counts_its_cache_hit() {
        let f = metered(&[], &[], 16);
        let mut other_client = f.claims();
        other_client["client_id"] = json!("client2");
        let event = rest_token(&f.bearer(&other_client));
        assert_eq!(one_line(&f, &event).await.0, names(&[("Unauthorized", 1)]));
        let (metrics, _, client, outcome) = one_line(&f, &event).await;
        assert_eq!(
            metrics,
            names(&[("Unauthorized", 1), ("TokenCacheHits", 1)])
        );
        assert_eq!((client, outcome), (None, Some("wrong_client".into())));
    }

    #[tokio::test]
    async fn a_forwarded_api_key_counts_allowed_as_an_api_key() {
        let f = metered_with(&[], &[], 16, ApiKeyClients::Forward);
        let line = one_line(&f, &rest_request(json!({"x-key": API_KEY}))).await;
        assert_eq!(
            line,
            (
                names(&[("Allowed", 1)]),
                dims(&["function", "outcome"]),
                None,
                Some(API_KEY_OUTCOME.into())
            )
        );
        let capture = metrics::capture();
        let _ = f
            .authorizer
            .handle(&rest_request(json!({"x-key": API_KEY})))
            .await;
        assert!(!capture.lines().concat().contains(API_KEY));
    }

    #[tokio::test]
    async fn the_totals_add_up_one_line_per_decision() {
        let f = metered(&["portal/read"], &[], 16);
        let good = rest_token(&f.bearer(&f.claims()));
        let capture = metrics::capture();
        for _ in 0..3 {
            f.authorizer.handle(&good).await.unwrap();
        }
        let _ = f.authorizer.handle(&rest_token("Bearer a.b.c")).await;
        assert_eq!(capture.lines().len(), 4);
        assert_eq!(capture.total(Metric::Allowed), 3);
        assert_eq!(
            capture.total_for(Metric::Allowed, Dims::client("client1")),
            3
        );
        assert_eq!(capture.total(Metric::TokenCacheHits), 2);
        assert_eq!(
            capture.total_for(Metric::Unauthorized, Dims::outcome("malformed_token")),
            1
        );
        assert_eq!(capture.total(Metric::Forbidden), 0);
    }

    #[tokio::test]
    async fn nothing_is_emitted_without_metrics_nor_by_decide_alone() {
        let metered = metered(&[], &[], 16);
        let plain = twin(&metered, None);
        let capture = metrics::capture();
        let header = metered.bearer(&metered.claims());
        plain.handle(&rest_token(&header)).await.unwrap();
        let _ = plain.handle(&rest_token("Bearer a.b.c")).await;
        assert!(matches!(
            metered.authorizer.decide(Some(&header)).await,
            Outcome::Allow(_)
        ));
        assert!(capture.lines().is_empty(), "{:?}", capture.lines());
    }

    /// Serves `answers` (status line, body) to one connection each, on 127.0.0.1.
    fn jwks_server(answers: Vec<(&'static str, Vec<u8>)>) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for (status, body) in answers {
                let (mut stream, _) = listener.accept().unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = stream.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buf[..n]);
                }
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        format!("http://{addr}/.well-known/jwks.json")
    }

    #[tokio::test]
    async fn every_jwks_fetch_counts_and_a_failed_one_says_how_it_failed() {
        let key = TestKey::generate("key-1");
        let url = jwks_server(vec![
            ("200 OK", key.jwks()),
            ("503 Service Unavailable", b"{}".to_vec()),
            ("200 OK", b"<html>".to_vec()),
            ("200 OK", br#"{"keys": []}"#.to_vec()),
        ]);
        let clock = Arc::new(ManualClock::new(1_800_000_000_000));
        let config = Config {
            issuers: vec![ISS.into()],
            jwks_url: url,
            client_ids: vec!["client1".into()],
            required_scopes: vec![],
            required_groups: vec![],
            rules: Vec::new(),
            api_key_clients: ApiKeyClients::Refuse,
            revocations: None,
        };
        let options = Options::default()
            .with_clock(clock.clone())
            .with_http_timeout(Duration::from_secs(5))
            .with_metrics(EMF);
        let authorizer = Authorizer::new(config, options).unwrap();
        let capture = metrics::capture();
        assert_eq!(authorizer.warm_up().await.unwrap(), 1);
        // Three unknown kids, one interval apart: three refetches, each failing its own way.
        let stranger = TestKey::generate("key-2");
        let header = format!("Bearer {}", stranger.mint(&json!({"iss": ISS})));
        for _ in 0..3 {
            clock.advance(Duration::from_secs(11));
            assert_eq!(
                authorizer.decide(Some(&header)).await,
                Outcome::Unauthorized(Rejection::UnknownKid)
            );
        }
        let lines = emf_lines(&capture);
        let fetches: Vec<(Named, Option<&str>)> = lines
            .iter()
            .map(|(line, _)| {
                (
                    metrics_of(line),
                    line.get("outcome").and_then(Value::as_str),
                )
            })
            .collect();
        let failed = names(&[("JwksFetches", 1), ("JwksFetchErrors", 1)]);
        assert_eq!(
            fetches,
            [
                (names(&[("JwksFetches", 1)]), None),
                (failed.clone(), Some("http_status")),
                (failed.clone(), Some("not_json")),
                (failed, Some("no_usable_keys")),
            ]
        );
        assert_eq!(lines[0].1, dims(&["function"]));
        assert_eq!(capture.total(Metric::JwksFetches), 4);
        assert_eq!(capture.total(Metric::JwksFetchErrors), 3);
    }

    // One allocation per decision for its metrics: the line. Counted per thread.
    mod allocations {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        thread_local! {
            pub static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
        }

        pub struct Counting;

        // SAFETY: every call is forwarded unchanged to `System`; counting touches no memory it
        // hands out.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
                // SAFETY: the caller's contract, passed on.
                unsafe { System.alloc(layout) }
            }

            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                // SAFETY: the caller's contract, passed on.
                unsafe { System.dealloc(ptr, layout) }
            }

            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
                // SAFETY: the caller's contract, passed on.
                unsafe { System.realloc(ptr, layout, new_size) }
            }
        }

        #[global_allocator]
        static ALLOCATOR: Counting = Counting;
    }

    #[tokio::test]
    async fn metrics_cost_a_decision_one_allocation_its_line() {
        let metered = metered(&[], &[], 16);
        let plain = twin(&metered, None);
        let allowed = metered.bearer(&metered.claims());
        let events = [
            rest_token(&allowed),
            rest_token("Bearer a.b.c"),
            rest_token("Basic x"),
        ];
        async fn count(authorizer: &Authorizer, events: &[AuthorizerEvent]) -> usize {
            let before = allocations::ALLOCATIONS.with(Cell::get);
            for event in events {
                let _ = authorizer.handle(event).await;
            }
            allocations::ALLOCATIONS.with(Cell::get) - before
        }
        let capture = metrics::capture();
        // Warm both: the token is cached, the capture's buffer holds four lines.
        let _ = count(&plain, &events).await;
        let _ = metered.authorizer.handle(&events[0]).await;
        let without = count(&plain, &events).await;
        let with = count(&metered.authorizer, &events).await;
        assert_eq!(capture.lines().len(), 4);
        assert_eq!(with - without, events.len(), "{with} vs {without}");
    }

    fn base64_json(value: &Value) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }
}
