//! The rules as tables, through the real [`Authorizer`] and its three event shapes:
//!
//! - principal (scopes × groups, and another app client) × route (method, path) × rule set →
//!   allow / 403 / 401, in REST TOKEN, REST REQUEST and HTTP API 2.0 events;
//! - cache safety: for every pair of routes (A, B), the REST policy returned for A, evaluated
//!   for B by [`iam_allows`] (written here, after API Gateway's reading of method-ARN
//!   patterns; an explicit Deny wins), gives B the verdict a fresh decision for B gives;
//! - HTTP API route keys judged as every request they route;
//! - the rule sets refused at cold start, and what a policy costs in size.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::pattern::Methods;
use super::*;
use crate::access::Verdict;
use crate::testkit::TestKey;
use crate::{Authorizer, AuthorizerEvent, Config, ManualClock, Options, Outcome, Unauthorized};
use portal_auth_domain::Clock as _;
use portal_auth_runtime::Env;

const ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123";
const CLIENT: &str = "client1";
const PREFIX: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/";

/// What API Gateway answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allow,
    /// 403.
    Forbidden,
    /// 401.
    Unauthorized,
}
use Expect::{Allow as A, Forbidden as F, Unauthorized as U};

struct Principal {
    name: &'static str,
    scope: &'static str,
    groups: &'static [&'static str],
    client_id: &'static str,
}

const PRINCIPALS: [Principal; 5] = [
    Principal {
        name: "admin",
        scope: "openid portal/read portal/write",
        groups: &["portal-users", "portal-admins"],
        client_id: CLIENT,
    },
    Principal {
        name: "reader",
        scope: "openid portal/read",
        groups: &["portal-users"],
        client_id: CLIENT,
    },
    Principal {
        name: "writer",
        scope: "portal/write",
        groups: &[],
        client_id: CLIENT,
    },
    Principal {
        name: "nobody",
        scope: "openid",
        groups: &["x,portal-admins"],
        client_id: CLIENT,
    },
    Principal {
        name: "stranger",
        scope: "openid portal/read portal/write",
        groups: &["portal-admins"],
        client_id: "client2",
    },
];

/// A rule set: `AUTHORIZER_RULES` and the global scopes (the catch-all).
struct RuleCase {
    name: &'static str,
    rules: &'static str,
    global_scopes: &'static [&'static str],
}

/// Without rules: the global requirement everywhere, as before rules existed.
const GLOBAL_ONLY: RuleCase = RuleCase {
    name: "global only",
    rules: "",
    global_scopes: &["portal/read"],
};

/// The example in the template and the operator's guide: the portal's admin routes by group.
const PORTAL_ADMIN: RuleCase = RuleCase {
    name: "portal admin",
    rules: "* /api/v2/authz/role_assignments/global/* groups=portal-admins; \
            POST,PUT,PATCH,DELETE /api/v2/authz/roles/* groups=portal-admins",
    global_scopes: &[],
};

/// Every kind of need: public, deny, scopes and groups together, a method list, a catch-all
/// with a scope.
const MIXED: RuleCase = RuleCase {
    name: "mixed",
    rules: "GET /api/v2/version public
            * /api/internal/* deny
            * /api/v2/authz/* scopes=portal/write groups=portal-admins
            POST,PUT,PATCH,DELETE /* scopes=portal/write
            GET /api/v2/data_products/*/output_ports/* scopes=portal/read,portal/write",
    global_scopes: &["portal/read"],
};

/// Closed by default: a `* /* deny` after the open routes leaves the catch-all unreachable.
const CLOSED: RuleCase = RuleCase {
    name: "closed",
    rules: "GET /api/v2/data_products/* scopes=portal/read; * /api/v2/version public; * /* deny",
    global_scopes: &[],
};

/// A rule that an earlier one contains (rule 2 inside rule 1) never decides anything, so no
/// policy may carry it: a Deny of its routes would refuse what rule 1 allows.
const SHADOWED: RuleCase = RuleCase {
    name: "shadowed",
    rules: "GET /api/v2/authz/* public; GET /api/v2/authz/roles/* groups=portal-admins; \
            * /api/internal/* deny",
    global_scopes: &["portal/read"],
};

/// Method and path, the route key an HTTP API would have for it, and per principal (in
/// [`PRINCIPALS`] order) the answer under each rule set.
struct Row {
    method: &'static str,
    path: &'static str,
    route_key: &'static str,
    global_only: [Expect; 5],
    portal_admin: [Expect; 5],
    mixed: [Expect; 5],
    closed: [Expect; 5],
}

#[rustfmt::skip]
const TABLE: &[Row] = &[
    //                                                                  admin reader writer nobody stranger
    Row { method: "GET", path: "/api/v2/data_products", route_key: "GET /api/v2/data_products",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, A, F, F, U],
          closed: [A, A, F, F, U] },
    Row { method: "POST", path: "/api/v2/data_products", route_key: "POST /api/v2/data_products",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, F, A, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "GET", path: "/api/v2/authz/role_assignments/global",
          route_key: "GET /api/v2/authz/role_assignments/global",
          global_only: [A, A, F, F, U], portal_admin: [A, F, F, F, U], mixed: [A, F, F, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "POST", path: "/api/v2/authz/role_assignments/global/become_admin",
          route_key: "POST /api/v2/authz/role_assignments/global/become_admin",
          global_only: [A, A, F, F, U], portal_admin: [A, F, F, F, U], mixed: [A, F, F, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "GET", path: "/api/v2/authz/role_assignments/globalx",
          route_key: "GET /api/v2/authz/role_assignments/globalx",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, F, F, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "GET", path: "/api/v2/authz/roles", route_key: "GET /api/v2/authz/roles",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, F, F, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "DELETE", path: "/api/v2/authz/roles/7", route_key: "DELETE /api/v2/authz/roles/{id}",
          global_only: [A, A, F, F, U], portal_admin: [A, F, F, F, U], mixed: [A, F, F, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "HEAD", path: "/api/v2/authz/roles/7", route_key: "HEAD /api/v2/authz/roles/{id}",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, F, F, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "GET", path: "/api/v2/version", route_key: "GET /api/v2/version",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, A, A, A, U],
          closed: [A, A, A, A, U] },
    Row { method: "POST", path: "/api/v2/version", route_key: "POST /api/v2/version",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, F, A, F, U],
          closed: [A, A, A, A, U] },
    Row { method: "GET", path: "/api/internal", route_key: "GET /api/internal",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [F, F, F, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "GET", path: "/api/internal/metrics/x", route_key: "GET /api/internal/{proxy+}",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [F, F, F, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "GET", path: "/api/internals", route_key: "GET /api/internals",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, A, F, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "GET", path: "/api/v2/data_products/7/output_ports/3",
          route_key: "GET /api/v2/data_products/{id}/output_ports/{port}",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, A, A, F, U],
          closed: [A, A, F, F, U] },
    Row { method: "GET", path: "/api/v2/a/b/output_ports/3", route_key: "GET /api/v2/a/b/output_ports/3",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, A, F, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "OPTIONS", path: "/", route_key: "OPTIONS /",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, A, F, F, U],
          closed: [F, F, F, F, U] },
    Row { method: "PUT", path: "/", route_key: "PUT /",
          global_only: [A, A, F, F, U], portal_admin: [A, A, A, A, U], mixed: [A, F, A, F, U],
          closed: [F, F, F, F, U] },
];

/// A rule set and the column of [`TABLE`] that holds its answers.
type Case = (&'static RuleCase, fn(&Row) -> [Expect; 5]);

const CASES: [Case; 4] = [
    (&GLOBAL_ONLY, |r| r.global_only),
    (&PORTAL_ADMIN, |r| r.portal_admin),
    (&MIXED, |r| r.mixed),
    (&CLOSED, |r| r.closed),
];

struct Fixture {
    authorizer: Authorizer,
    key: TestKey,
    now: i64,
}

fn config(case: &RuleCase) -> Result<Config, String> {
    let scopes = case.global_scopes.join(",");
    let mut pairs = vec![
        ("COGNITO_USER_POOL_ID", "eu-west-1_AbC123"),
        ("AUTHORIZER_CLIENT_IDS", CLIENT),
        ("COGNITO_JWKS_URL", "http://127.0.0.1:9/jwks.json"),
        ("AUTHORIZER_RULES", case.rules),
    ];
    if !scopes.is_empty() {
        pairs.push(("AUTHORIZER_REQUIRED_SCOPES", &scopes));
    }
    Config::from_env(&Env::from_pairs(pairs)).map_err(|e| e.to_string())
}

fn fixture(case: &RuleCase) -> Fixture {
    let config = config(case).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let options = Options::default()
        .with_clock(clock.clone())
        .with_verified_cache(64)
        .with_http_timeout(Duration::from_millis(200));
    let authorizer = Authorizer::new(config, options).unwrap();
    let key = TestKey::generate("key-1");
    authorizer.preload_jwks(&key.jwks()).unwrap();
    Fixture {
        authorizer,
        key,
        now: clock.unix_seconds(),
    }
}

impl Fixture {
    fn bearer(&self, p: &Principal) -> String {
        let claims = json!({
            "iss": ISS, "exp": self.now + 3600, "iat": self.now, "token_use": "access",
            "sub": format!("sub-{}", p.name), "client_id": p.client_id, "username": p.name,
            "scope": p.scope, "cognito:groups": p.groups,
        });
        format!("Bearer {}", self.key.mint(&claims))
    }

    async fn rest_token(&self, bearer: &str, arn: &str) -> Result<Value, Unauthorized> {
        let event = AuthorizerEvent::RestToken {
            authorization_token: Some(bearer.into()),
            method_arn: Some(arn.into()),
        };
        self.handle(&event).await
    }

    async fn rest_request(&self, bearer: &str, arn: &str) -> Result<Value, Unauthorized> {
        let event: AuthorizerEvent = serde_json::from_value(json!({
            "type": "REQUEST", "methodArn": arn,
            "headers": {"Authorization": bearer}, "multiValueHeaders": {"Authorization": [bearer]},
        }))
        .unwrap();
        self.handle(&event).await
    }

    async fn http_api(&self, bearer: &str, route_key: &str) -> bool {
        let event: AuthorizerEvent = serde_json::from_value(json!({
            "version": "2.0", "type": "REQUEST", "routeKey": route_key,
            "headers": {"authorization": bearer},
        }))
        .unwrap();
        let value = self
            .handle(&event)
            .await
            .expect("HTTP API answers, never fails");
        value["isAuthorized"].as_bool().unwrap()
    }

    async fn handle(&self, event: &AuthorizerEvent) -> Result<Value, Unauthorized> {
        let answer = self.authorizer.handle(event).await?;
        Ok(serde_json::to_value(answer).unwrap())
    }
}

fn arn(method: &str, path: &str) -> String {
    format!("{PREFIX}{method}{path}")
}

/// A REST answer as the caller sees it, the policy judged for `arn`.
fn seen(answer: &Result<Value, Unauthorized>, arn: &str) -> Expect {
    match answer {
        Err(Unauthorized) => U,
        Ok(value) if iam_allows(&value["policyDocument"], arn) => A,
        Ok(_) => F,
    }
}

/// What a fresh decision for `route` answers.
async fn decided(f: &Fixture, bearer: &str, route: &Route<'_>) -> Expect {
    match f.authorizer.decide_on(Some(bearer), route).await {
        Outcome::Allow(_) => A,
        Outcome::Deny(..) => F,
        Outcome::Unauthorized(_) => U,
        Outcome::ApiKey => unreachable!("no API key in these events"),
    }
}

/// API Gateway's evaluation of an authorizer's policy for a method ARN: an explicit Deny that
/// matches wins, else an Allow that matches, else refused.
fn iam_allows(policy: &Value, arn: &str) -> bool {
    let statements = policy["Statement"].as_array().expect("statements");
    let matching = |effect: &str| {
        statements.iter().any(|s| {
            assert_eq!(s["Action"], "execute-api:Invoke");
            let resources = match &s["Resource"] {
                Value::String(one) => vec![one.as_str()],
                Value::Array(many) => many.iter().map(|r| r.as_str().unwrap()).collect(),
                other => panic!("Resource {other}"),
            };
            s["Effect"] == effect && resources.iter().any(|r| arn_pattern_matches(r, arn))
        })
    };
    !matching("Deny") && matching("Allow")
}

/// A method-ARN resource pattern as API Gateway reads it: `?` is one character; a `*` that is
/// the pattern's last character matches everything to its right; any other `*` matches a run
/// of characters within one `/`-separated segment (AWS's example
/// `<api>/*/*/petstorewalkthrough/pets`: any stage, any method, that path).
fn arn_pattern_matches(pattern: &str, arn: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some((b'*', [])) => true,
            Some((b'*', rest)) => {
                let segment = t.iter().position(|&c| c == b'/').unwrap_or(t.len());
                (0..=segment).any(|i| go(rest, &t[i..]))
            }
            Some((b'?', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    go(pattern.as_bytes(), arn.as_bytes())
}

#[test]
fn the_test_matcher_reads_patterns_as_api_gateway_does() {
    let cases = [
        ("a/prod/*", "a/prod/GET/x/y", true),
        ("a/prod/*/x", "a/prod/GET/x", true),
        ("a/prod/*/x", "a/prod/GET/y/x", false),
        ("a/prod/GET/x/*", "a/prod/GET/x/", true),
        ("a/prod/GET/x/*", "a/prod/GET/x", false),
        ("a/prod/GET/x/*/z", "a/prod/GET/x/y/z", true),
        ("a/prod/GET/x/*/z", "a/prod/GET/x/y/w/z", false),
        ("a/prod/GET/", "a/prod/GET/", true),
        ("a/prod/GE?/", "a/prod/GET/", true),
    ];
    for (pattern, arn, expected) in cases {
        assert_eq!(
            arn_pattern_matches(pattern, arn),
            expected,
            "{pattern} {arn}"
        );
    }
}

#[tokio::test]
async fn every_principal_on_every_route_under_every_rule_set_in_all_three_shapes() {
    for (case, expected_of) in CASES {
        let f = fixture(case);
        for row in TABLE {
            let arn = arn(row.method, row.path);
            for (p, expected) in PRINCIPALS.iter().zip(expected_of(row)) {
                let bearer = f.bearer(p);
                let at = format!("{} / {} {} / {}", case.name, row.method, row.path, p.name);
                assert_eq!(
                    seen(&f.rest_token(&bearer, &arn).await, &arn),
                    expected,
                    "TOKEN {at}"
                );
                assert_eq!(
                    seen(&f.rest_request(&bearer, &arn).await, &arn),
                    expected,
                    "REQUEST {at}"
                );
                assert_eq!(
                    f.http_api(&bearer, row.route_key).await,
                    expected == A,
                    "HTTP {at}"
                );
                let route = Route::from_method_arn(&arn);
                assert_eq!(
                    decided(&f, &bearer, &route).await,
                    expected,
                    "decision {at}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_cached_policy_gives_every_route_the_verdict_of_a_fresh_decision() {
    let methods = ["GET", "POST", "DELETE", "HEAD", "OPTIONS"];
    let mut routes: Vec<String> = TABLE.iter().map(|r| arn(r.method, r.path)).collect();
    for row in TABLE {
        routes.extend(methods.iter().map(|m| arn(m, row.path)));
    }
    routes.sort();
    routes.dedup();
    let mut pairs = 0;
    let cases = CASES.iter().map(|(case, _)| *case).chain([&SHADOWED]);
    for case in cases {
        let f = fixture(case);
        for p in PRINCIPALS.iter().filter(|p| p.client_id == CLIENT) {
            let bearer = f.bearer(p);
            // The fresh verdict is the decision for B itself, not B's own policy: every policy
            // of a principal is the same whatever the route, so judging B's policy at B could
            // only ever agree with the cached one.
            let mut fresh = Vec::new();
            for b in &routes {
                fresh.push(decided(&f, &bearer, &Route::from_method_arn(b)).await);
            }
            for a in &routes {
                let cached = f.rest_token(&bearer, a).await;
                for (b, fresh) in routes.iter().zip(&fresh) {
                    assert_eq!(
                        seen(&cached, b),
                        *fresh,
                        "{} / {}: the policy returned for {a} judges {b}",
                        case.name,
                        p.name
                    );
                    pairs += 1;
                }
            }
        }
    }
    eprintln!("cache-safety pairs: {pairs}, routes: {}", routes.len());
    assert!(pairs > 10_000, "{pairs} pairs");
}

#[tokio::test]
async fn policies_stay_small_and_name_the_routes() {
    let f = fixture(&PORTAL_ADMIN);
    let arn = arn("GET", "/api/v2/data_products");
    let reader = f.rest_token(&f.bearer(&PRINCIPALS[1]), &arn).await.unwrap();
    assert_eq!(
        reader["policyDocument"]["Statement"],
        json!([
            {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": format!("{PREFIX}*")},
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [
                format!("{PREFIX}*/api/v2/authz/role_assignments/global"),
                format!("{PREFIX}*/api/v2/authz/role_assignments/global/*"),
                format!("{PREFIX}DELETE/api/v2/authz/roles"),
                format!("{PREFIX}DELETE/api/v2/authz/roles/*"),
                format!("{PREFIX}PATCH/api/v2/authz/roles"),
                format!("{PREFIX}PATCH/api/v2/authz/roles/*"),
                format!("{PREFIX}POST/api/v2/authz/roles"),
                format!("{PREFIX}POST/api/v2/authz/roles/*"),
                format!("{PREFIX}PUT/api/v2/authz/roles"),
                format!("{PREFIX}PUT/api/v2/authz/roles/*"),
            ]},
        ])
    );
    // An admin is allowed everywhere: one statement, as without rules.
    let admin = f.rest_token(&f.bearer(&PRINCIPALS[0]), &arn).await.unwrap();
    assert_eq!(
        admin["policyDocument"]["Statement"],
        json!([{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": format!("{PREFIX}*")}])
    );
    // Someone allowed nowhere: one explicit Deny of the stage (403 everywhere).
    let f = fixture(&GLOBAL_ONLY);
    let nobody = f.rest_token(&f.bearer(&PRINCIPALS[3]), &arn).await.unwrap();
    assert_eq!(
        nobody["policyDocument"]["Statement"],
        json!([{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": format!("{PREFIX}*")}])
    );
}

#[test]
fn http_api_route_keys_are_judged_as_every_request_they_route() {
    let f = fixture(&PORTAL_ADMIN);
    let rules = f.authorizer.rules();
    let token = |groups: &[&str]| crate::claims::VerifiedToken {
        sub: "s".into(),
        username: "u".into(),
        client_id: CLIENT.into(),
        scope: "openid".into(),
        groups: crate::claims::Groups::new(groups.iter().map(|g| g.to_string()).collect()),
        exp: 0,
        session: None,
        authenticated_at: 0,
    };
    let (admin, user) = (token(&["portal-admins"]), token(&[]));
    let cases = [
        // A proxy route reaches the admin routes too: only an admin may use it.
        ("ANY /api/{proxy+}", Verdict::Allow, Verdict::DenyGroup),
        ("$default", Verdict::Allow, Verdict::DenyGroup),
        (
            "GET /api/v2/authz/roles/{id}",
            Verdict::Allow,
            Verdict::Allow,
        ),
        (
            "ANY /api/v2/authz/roles/{id}",
            Verdict::Allow,
            Verdict::DenyGroup,
        ),
        (
            "GET /api/v2/data_products/{id}",
            Verdict::Allow,
            Verdict::Allow,
        ),
        (
            "GET /api/v2/authz/{x}/global",
            Verdict::Allow,
            Verdict::DenyGroup,
        ),
        ("garbage", Verdict::Allow, Verdict::DenyGroup),
    ];
    for (key, for_admin, for_user) in cases {
        let route = Route::from_route_key(key);
        assert_eq!(rules.verdict(&admin, &route), for_admin, "{key} admin");
        assert_eq!(rules.verdict(&user, &route), for_user, "{key} user");
    }
}

#[test]
fn method_arns_and_route_keys_are_read_into_routes() {
    let get = Methods::named("GET").unwrap();
    assert_eq!(
        Route::from_method_arn("arn:aws:execute-api:r:1:api/prod/GET/a/b"),
        Route::Request {
            method: get,
            segments: vec!["a", "b"]
        }
    );
    assert_eq!(
        Route::from_method_arn("arn:aws:execute-api:r:1:api/prod/GET/"),
        Route::Request {
            method: get,
            segments: vec![""]
        }
    );
    // What the ARN does not say clearly widens the route.
    assert_eq!(
        Route::from_method_arn("arn:aws:execute-api:r:1:api/prod/GET"),
        Route::Routes {
            methods: get,
            path: pattern::PathPattern::everything()
        }
    );
    assert_eq!(
        Route::from_method_arn("arn:aws:execute-api:r:1:api/$default"),
        Route::everything()
    );
    assert!(matches!(
        Route::from_method_arn("arn:aws:execute-api:r:1:api/prod/FETCH/a"),
        Route::Routes {
            methods: Methods::ALL,
            ..
        }
    ));
    assert_eq!(Route::from_route_key("$default"), Route::everything());
    let Route::Routes { methods, path } = Route::from_route_key("GET /a/{id}/b/{proxy+}") else {
        panic!("a set of routes");
    };
    assert_eq!((methods, path.to_string().as_str()), (get, "/a/*/b/*"));
}

#[test]
fn rule_sets_a_cached_policy_cannot_express_fail_the_cold_start_naming_the_rules() {
    let refused = [
        (
            // Public exception, then a group for the rest of /api, then public again.
            RuleCase {
                name: "exception before a restriction",
                rules: "GET /api/public/* public; * /api/* groups=portal-users",
                global_scopes: &[],
            },
            ["rule 2", "rule 1", "catch-all"],
        ),
        (
            RuleCase {
                name: "admins, then writers, then readers",
                rules: "* /api/v2/authz/* groups=portal-admins; POST /* scopes=portal/write",
                global_scopes: &["portal/read"],
            },
            ["rule 2", "rule 1", "catch-all"],
        ),
        (
            RuleCase {
                name: "three rules",
                rules: "GET /a/* scopes=x; * /a/* deny; * /* scopes=y",
                global_scopes: &[],
            },
            ["rule 2", "rule 1", "rule 3"],
        ),
    ];
    for (case, names) in refused {
        let message = config(&case).unwrap_err();
        assert!(
            message.contains("AUTHORIZER_RULES"),
            "{}: {message}",
            case.name
        );
        for name in names {
            assert!(message.contains(name), "{}: {name} in {message}", case.name);
        }
    }
    // The same shapes become expressible once nobody can meet the earlier rule and fail the
    // later one, or once the restriction comes first.
    let accepted = [
        "* /api/* groups=portal-users; GET /api/public/* public",
        "GET /a/* scopes=x; * /a/* scopes=x; * /* scopes=y",
        "* /api/v2/authz/* scopes=portal/write groups=portal-admins; POST /* scopes=portal/write",
        "GET /api/public/* public; * /api/* groups=portal-users; * /* deny",
    ];
    for rules in accepted {
        let case = RuleCase {
            name: rules,
            rules,
            global_scopes: &["portal/read"],
        };
        config(&case).unwrap_or_else(|e| panic!("{rules}: {e}"));
    }
}

#[test]
fn a_rule_set_whose_policy_could_outgrow_the_bound_fails_the_cold_start() {
    let one = "POST,PUT,PATCH,DELETE /api/v2/some/long/resource/path/name/* scopes=portal/write";
    let rules = (0..12)
        .map(|i| one.replace("name", &format!("n{i}")))
        .collect::<Vec<_>>()
        .join(";");
    let case = RuleCase {
        name: "large",
        rules: Box::leak(rules.into_boxed_str()),
        global_scopes: &[],
    };
    let message = config(&case).unwrap_err();
    assert!(message.contains("largest policy"), "{message}");
}

#[tokio::test]
async fn a_config_built_by_hand_is_checked_too() {
    let mut config = config(&GLOBAL_ONLY).unwrap();
    config.rules = parse::parse("GET /a/* scopes=x; * /a/* deny; * /* scopes=y").unwrap();
    let error = Authorizer::new(config.clone(), Options::default())
        .err()
        .expect("refused");
    assert!(error.to_string().contains("AUTHORIZER_RULES"), "{error}");
    // More rules than the parser lets through: refused, not a shift past the mask's 64 bits.
    let one = parse::parse("GET /a public").unwrap().remove(0);
    config.rules = vec![one; parse::MAX_RULES + 1];
    let error = Authorizer::new(config, Options::default())
        .err()
        .expect("refused");
    assert!(error.to_string().contains("65 rules"), "{error}");
}

#[test]
fn the_examples_in_the_template_and_the_operators_guide_are_accepted_as_written() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let read = |name: &str| {
        std::fs::read_to_string(format!("{root}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let template = read("template.yaml");
    let in_template = template
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("\"* /api/v2/authz/")?.split_once("\"."))
        .map(|(rest, _)| format!("* /api/v2/authz/{rest}"))
        .expect("the example in AuthorizerRules' description");
    let guide = read("docs/operations.md");
    let in_guide = guide
        .lines()
        .find(|l| l.starts_with("* /api/v2/authz/"))
        .expect("the example in docs/operations.md")
        .to_owned();
    assert_eq!(in_template, in_guide);
    assert_eq!(
        in_guide,
        PORTAL_ADMIN
            .rules
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );
    let case = RuleCase {
        name: "example",
        rules: Box::leak(in_guide.into_boxed_str()),
        global_scopes: &["portal/access"],
    };
    config(&case).unwrap_or_else(|e| panic!("{e}"));
}
