//! Criterion benchmarks of the authorizer's hot path (`make bench` runs them beside
//! aws-jwt-verify on the same token; see `infra/bench/run.sh`).
//!
//! - `rs256_signature_check`: the bare RSASSA-PKCS1-v1_5/SHA-256 verification of the token's
//!   signature with aws-lc-rs on an already-parsed 2048-bit key: the floor.
//! - `full_decision_rest_token` and `full_decision_http_api_v2`: one whole authorizer decision
//!   on an event already deserialized by the runtime: bearer parsing, base64url, header, key
//!   lookup (cached key), signature, claims, client/scope/group rules, policy or simple
//!   response. The verified-token cache is off, so every iteration verifies the signature.
//! - `verified_token_cache_hit`: the same decision for a token this instance has already
//!   verified (SHA-256 of the token, cache lookup, `exp`, the rules, the response).
//!
//! - `full_decision_rest_token_0_revoked` / `_1000_revoked`: the full decision of an
//!   authorizer that honours revocations, with an empty set and with 1,000 records (500
//!   revoked sessions, 500 signed-out users) preloaded as a refresh installs them; the table is
//!   never read (issue 13: a decision makes no DynamoDB call).
//!
//! - `full_decision_rest_token_20_rules`: `full_decision_rest_token` for an authorizer with 20
//!   per-route rules ([`rules_20`]) on a route none of them matches (every rule is tried, then
//!   the catch-all), and the principal's policy worked out (an Allow of the stage and a Deny of
//!   the 10 admin subtrees it is refused, 20 resources): measured like today's full decision,
//!   the answer not serialized. Its resources are rendered only when the answer is serialized,
//!   so `full_decision_rest_token_serialized` and `full_decision_rest_token_20_rules_serialized`
//!   add `serde_json::to_vec` of the answer, as the runtime does: their difference is all the
//!   rules cost.
//!
//! Metrics are on, as in the Lambda: every decision renders its EMF line. The line goes to
//! this thread's `metrics::capture()` (drained every [`DRAIN_EVERY`] decisions), not to stdout,
//! so the figures include building the line but not a terminal's or pipe's write, as they
//! leave out the log line's. `full_decision_rest_token_without_metrics` and
//! `verified_token_cache_hit_without_metrics` are the same decisions with metrics off, run in
//! the same process under the same load: the difference is what the metrics cost.
//!
//! When `AUTHORIZER_BENCH_INPUT` names a file, the token, its JWKS and the pool facts are
//! written there so aws-jwt-verify can verify the very same token.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use std::cell::Cell;

use authorizer::jwks::VerifyingKey;
use authorizer::sigv4::Credentials;
use authorizer::{
    ApiKeyClients, Authorization, Authorizer, AuthorizerEvent, Config, ManualClock, Options,
    RevocationTable,
};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use portal_auth_domain::revocation::RevocationSet;
use portal_auth_runtime::metrics::{self, Capture, Emf, Function};
use serde_json::{Value, json};

const POOL_ID: &str = "eu-west-1_BenchPool1";
const CLIENT_ID: &str = "4vjq0m7pl2rk3ufc2pb5d1ldh8";
const KID: &str = "8Tiv2Vn+qFBUGr/cMuR1Y5tPjzjfHSo1S/x6EDCu0bg=";
const METHOD_ARN: &str =
    "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/GET/data-products/42";

struct Fixture {
    token: String,
    jwks: Value,
    key: VerifyingKey,
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn issuer() -> String {
    format!("https://cognito-idp.eu-west-1.amazonaws.com/{POOL_ID}")
}

/// A token shaped and sized like a real Cognito access token (about 1 KiB).
fn fixture() -> Fixture {
    let pair = KeyPair::generate(KeySize::Rsa2048).expect("RSA-2048 key");
    let public: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let header = json!({"kid": KID, "alg": "RS256"});
    let claims = json!({
        "sub": "d2a5c4e4-3001-70f1-6b1e-2f4e0a9c1b77",
        "cognito:groups": ["portal-users", "data-product-owners"],
        "iss": issuer(),
        "version": 2,
        "client_id": CLIENT_ID,
        "origin_jti": "9f2e7c1a-5b3d-4e8f-a6c2-1d0b9e8f7a65",
        "event_id": "3c6b9d2e-8f1a-4b7c-9e5d-2a1f0c8b7d64",
        "token_use": "access",
        "scope": "openid profile email portal/access",
        "auth_time": now - 30,
        "exp": now + 3600,
        "iat": now - 30,
        "jti": "6e8d1f2a-4c7b-4a9e-b3d5-7f0c2e1a9b86",
        "username": "d2a5c4e4-3001-70f1-6b1e-2f4e0a9c1b77"
    });
    let input = format!(
        "{}.{}",
        b64(serde_json::to_vec(&header).expect("JSON")),
        b64(serde_json::to_vec(&claims).expect("JSON"))
    );
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .expect("signing");
    let jwks = json!({"keys": [{
        "alg": "RS256", "e": b64(&public.e), "kid": KID, "kty": "RSA",
        "n": b64(&public.n), "use": "sig"
    }]});
    Fixture {
        token: format!("{input}.{}", b64(&signature)),
        jwks,
        key: VerifyingKey::from_components(&public.n, &public.e).expect("verifying key"),
    }
}

/// Captured lines are dropped this often (a line is about 250 bytes).
const DRAIN_EVERY: u32 = 1024;

/// The benchmark thread's EMF sink: keeps lines as the Lambda would write them, and drops them
/// every [`DRAIN_EVERY`] decisions so memory stays flat over millions of iterations.
struct Sink {
    capture: Capture,
    count: Cell<u32>,
}

impl Sink {
    fn new() -> Self {
        Self {
            capture: metrics::capture(),
            count: Cell::new(0),
        }
    }

    fn tick(&self) {
        let n = self.count.get().wrapping_add(1);
        self.count.set(n);
        if n.is_multiple_of(DRAIN_EVERY) {
            drop(self.capture.take());
        }
    }
}

fn authorizer(fixture: &Fixture, verified_cache: usize, metered: bool) -> Authorizer {
    build(fixture, verified_cache, metered, None, "")
}

/// Ten read rules the bench token meets, ten admin subtrees it does not (it is not in
/// `portal-admins`), none of them on the benchmarked route.
fn rules_20() -> String {
    (0..10)
        .map(|i| format!("GET,HEAD /api/v2/resource{i}/* scopes=portal/access"))
        .chain((0..10).map(|i| format!("* /api/v2/admin/area{i}/* groups=portal-admins")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// An authorizer that honours `revoked` records (preloaded, as a refresh would install them;
/// the table is never read: the clock is frozen, so no refresh falls due).
fn revocation_aware(fixture: &Fixture, revoked: usize) -> Authorizer {
    let table = RevocationTable {
        table: "grants".into(),
        region: "eu-west-1".into(),
        endpoint: "http://127.0.0.1:9".into(),
        credentials: Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "bench".into(),
            session_token: None,
        },
        refresh_secs: 30,
    };
    let authorizer = build(fixture, 0, true, Some(table), "");
    let mut set = RevocationSet::default();
    let far = u64::MAX / 2;
    // Half revoked sessions, half signed-out users: both maps are looked up per decision.
    for i in 0..revoked {
        if i % 2 == 0 {
            set.add_session(format!("00000000-0000-4000-8000-{i:012}"), far);
        } else {
            set.add_user(format!("sub-{i}"), far);
        }
    }
    authorizer.revocations().expect("configured").preload(set);
    authorizer
}

fn build(
    fixture: &Fixture,
    verified_cache: usize,
    metered: bool,
    revocations: Option<RevocationTable>,
    rules: &str,
) -> Authorizer {
    let config = Config {
        issuers: vec![issuer()],
        // Never contacted: the key set is preloaded.
        jwks_url: "http://127.0.0.1:9/jwks.json".into(),
        client_ids: vec![CLIENT_ID.into()],
        required_scopes: vec!["portal/access".into()],
        required_groups: vec!["portal-users".into()],
        rules: authorizer::rules::parse::parse(rules).expect("rules"),
        api_key_clients: ApiKeyClients::Refuse,
        revocations,
    };
    let clock = Arc::new(ManualClock::starting_now());
    let mut options = Options::default()
        .with_verified_cache(verified_cache)
        .with_clock(clock);
    if metered {
        options = options.with_metrics(Emf::new(Function::Authorizer));
    }
    let authorizer = Authorizer::new(config, options).expect("authorizer");
    let jwks = serde_json::to_vec(&fixture.jwks).expect("JSON");
    authorizer.preload_jwks(&jwks).expect("JWKS");
    authorizer
}

fn write_input(fixture: &Fixture) {
    let Ok(path) = std::env::var("AUTHORIZER_BENCH_INPUT") else {
        return;
    };
    let input = json!({
        "token": fixture.token, "jwks": fixture.jwks,
        "userPoolId": POOL_ID, "clientId": CLIENT_ID, "issuer": issuer(),
        "scope": "portal/access", "group": "portal-users",
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&input).expect("JSON"))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
}

fn benches(c: &mut Criterion) {
    let fixture = fixture();
    write_input(&fixture);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let header = format!("Bearer {}", fixture.token);
    let rest = AuthorizerEvent::RestToken {
        authorization_token: Some(header.clone()),
        method_arn: Some(METHOD_ARN.into()),
    };
    let http = AuthorizerEvent::HttpApiV2 {
        authorization: Authorization::One(header),
        route_key: None,
    };
    let uncached = authorizer(&fixture, 0, true);
    let cached = authorizer(&fixture, 10_000, true);
    let uncached_quiet = authorizer(&fixture, 0, false);
    let cached_quiet = authorizer(&fixture, 10_000, false);
    let revocations_0 = revocation_aware(&fixture, 0);
    let revocations_1000 = revocation_aware(&fixture, 1000);
    assert_eq!(revocations_1000.revocations().map(|r| r.len()), Some(1000));
    let with_rules = build(&fixture, 0, true, None, &rules_20());
    assert_eq!(
        with_rules.rules().rules().len(),
        21,
        "20 rules and the catch-all"
    );
    let sink = Sink::new();
    for (name, a) in [
        ("uncached", &uncached),
        ("cached", &cached),
        ("uncached without metrics", &uncached_quiet),
        ("cached without metrics", &cached_quiet),
        ("0 revoked", &revocations_0),
        ("1000 revoked", &revocations_1000),
        ("20 rules", &with_rules),
    ] {
        let answer = runtime.block_on(a.handle(&rest)).expect(name);
        let value = serde_json::to_value(answer).expect("JSON");
        assert_eq!(
            value["policyDocument"]["Statement"][0]["Effect"], "Allow",
            "{name}"
        );
    }
    // The metered decisions wrote their lines to the sink, not to stdout; the others none.
    assert_eq!(
        sink.capture.take().len(),
        5,
        "one EMF line per metered decision"
    );
    let policy = serde_json::to_value(runtime.block_on(with_rules.handle(&rest)).expect("answer"))
        .expect("JSON")["policyDocument"]["Statement"]
        .clone();
    assert_eq!(policy[1]["Effect"], "Deny");
    assert_eq!(policy[1]["Resource"].as_array().map(Vec::len), Some(20));
    drop(sink.capture.take());

    let (signing_input, signature) = fixture.token.rsplit_once('.').expect("three parts");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    let mut group = c.benchmark_group("authorizer");
    group.bench_function("rs256_signature_check", |b| {
        b.iter(|| {
            assert!(
                fixture
                    .key
                    .verify(black_box(signing_input.as_bytes()), black_box(&signature))
            )
        })
    });
    // Every variant ticks the sink, so the metered and quiet ones do the same bookkeeping.
    group.bench_function("full_decision_rest_token", |b| {
        b.to_async(&runtime).iter(|| async {
            let ok = uncached.handle(black_box(&rest)).await.is_ok();
            sink.tick();
            black_box(ok)
        })
    });
    group.bench_function("full_decision_http_api_v2", |b| {
        b.to_async(&runtime).iter(|| async {
            let ok = uncached.handle(black_box(&http)).await.is_ok();
            sink.tick();
            black_box(ok)
        })
    });
    group.bench_function("verified_token_cache_hit", |b| {
        b.to_async(&runtime).iter(|| async {
            let ok = cached.handle(black_box(&rest)).await.is_ok();
            sink.tick();
            black_box(ok)
        })
    });
    group.bench_function("full_decision_rest_token_without_metrics", |b| {
        b.to_async(&runtime).iter(|| async {
            let ok = uncached_quiet.handle(black_box(&rest)).await.is_ok();
            sink.tick();
            black_box(ok)
        })
    });
    group.bench_function("verified_token_cache_hit_without_metrics", |b| {
        b.to_async(&runtime).iter(|| async {
            let ok = cached_quiet.handle(black_box(&rest)).await.is_ok();
            sink.tick();
            black_box(ok)
        })
    });
    for (name, a) in [
        ("full_decision_rest_token_0_revoked", &revocations_0),
        ("full_decision_rest_token_1000_revoked", &revocations_1000),
        ("full_decision_rest_token_20_rules", &with_rules),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let ok = a.handle(black_box(&rest)).await.is_ok();
                sink.tick();
                black_box(ok)
            })
        });
    }
    for (name, a) in [
        ("full_decision_rest_token_serialized", &uncached),
        ("full_decision_rest_token_20_rules_serialized", &with_rules),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let answer = a.handle(black_box(&rest)).await.expect("allowed");
                let bytes = serde_json::to_vec(&answer).expect("JSON");
                sink.tick();
                black_box(bytes.len())
            })
        });
    }
    group.finish();
    drop(sink);
}

criterion_group!(authorizer_benches, benches);
criterion_main!(authorizer_benches);
