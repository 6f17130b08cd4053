//! The JWKS cache against a stand-in endpoint on 127.0.0.1 that counts requests.
//!
//! The refetch interval is measured on the authorizer's injected [`ManualClock`], so these
//! tests move time instead of sleeping, and assert request counts and outcomes, never timings.

use std::sync::Arc;
use std::time::Duration;

use authorizer::{
    ApiKeyClients, Authorizer, Clock, Config, ManualClock, Options, Outcome, Rejection,
};
use portal_auth_tests::authorizer_support::*;

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_JwksTest";
const CLIENT: &str = "jwks-test-client";
const INTERVAL: Duration = Duration::from_secs(10);

struct Setup {
    server: JwksServer,
    clock: Arc<ManualClock>,
    authorizer: Authorizer,
}

/// An authorizer on the stand-in endpoint, with the verified-token cache off, so every
/// request needs its key.
fn setup(server: JwksServer) -> Setup {
    let config = Config {
        issuers: vec![ISSUER.into()],
        jwks_url: server.url.clone(),
        client_ids: vec![CLIENT.into()],
        required_scopes: Vec::new(),
        required_groups: Vec::new(),
        rules: Vec::new(),
        api_key_clients: ApiKeyClients::Refuse,
        revocations: None,
    };
    let clock = Arc::new(ManualClock::starting_now());
    let options = Options::default()
        .with_clock(clock.clone())
        .with_refetch_interval(INTERVAL)
        .with_http_timeout(Duration::from_secs(2))
        .with_verified_cache(0);
    let authorizer = Authorizer::new(config, options).expect("authorizer");
    Setup {
        server,
        clock,
        authorizer,
    }
}

impl Setup {
    fn bearer(&self, key: &SigningKey) -> String {
        format!(
            "Bearer {}",
            key.mint(&access_claims(ISSUER, CLIENT, self.clock.unix_seconds()))
        )
    }

    async fn decide(&self, key: &SigningKey) -> Outcome {
        self.authorizer.decide(Some(&self.bearer(key))).await
    }
}

#[tokio::test]
async fn the_jwks_is_fetched_once_for_many_requests() {
    let key = SigningKey::generate("key-1");
    let s = setup(JwksServer::serving(&[&key]));
    assert_eq!(s.authorizer.warm_up().await.expect("warm-up"), 1);
    for _ in 0..25 {
        assert!(is_allow(&s.decide(&key).await));
        s.clock.advance(Duration::from_secs(60));
    }
    assert_eq!(s.server.hits(), 1);
}

#[tokio::test]
async fn an_unknown_kid_refetches_once_and_a_second_one_within_the_interval_does_not() {
    let key = SigningKey::generate("key-1");
    let s = setup(JwksServer::serving(&[&key]));
    s.authorizer.warm_up().await.expect("warm-up");
    // Right after the cold-start fetch, an unknown kid waits for the interval.
    let stranger = SigningKey::generate("key-unknown");
    assert_eq!(
        s.decide(&stranger).await,
        Outcome::Unauthorized(Rejection::UnknownKid)
    );
    assert_eq!(s.server.hits(), 1);

    s.clock.advance(INTERVAL);
    assert_eq!(
        s.decide(&stranger).await,
        Outcome::Unauthorized(Rejection::UnknownKid)
    );
    assert_eq!(s.server.hits(), 2, "one refetch for the unknown kid");

    let another = SigningKey::generate("key-unknown-2");
    s.clock.advance(INTERVAL - Duration::from_millis(1));
    assert_eq!(
        s.decide(&another).await,
        Outcome::Unauthorized(Rejection::UnknownKid)
    );
    assert_eq!(
        s.decide(&stranger).await,
        Outcome::Unauthorized(Rejection::UnknownKid)
    );
    assert_eq!(s.server.hits(), 2, "no refetch within the interval");

    s.clock.advance(Duration::from_millis(1));
    assert_eq!(
        s.decide(&another).await,
        Outcome::Unauthorized(Rejection::UnknownKid)
    );
    assert_eq!(s.server.hits(), 3, "the interval is over");
    // Known keys never needed any of it.
    assert!(is_allow(&s.decide(&key).await));
    assert_eq!(s.server.hits(), 3);
}

#[tokio::test]
async fn a_rotated_in_key_is_found_by_the_refetch() {
    let old = SigningKey::generate("key-old");
    let new = SigningKey::generate("key-new");
    let s = setup(JwksServer::serving(&[&old]));
    s.authorizer.warm_up().await.expect("warm-up");
    s.server
        .reply_with(JwksReply::Serve(jwks_of(&[&old, &new])));
    s.clock.advance(INTERVAL);
    assert!(is_allow(&s.decide(&new).await));
    assert!(is_allow(&s.decide(&old).await));
    assert_eq!(s.server.hits(), 2);
}

#[tokio::test]
async fn concurrent_fetches_are_merged_into_one() {
    let key = SigningKey::generate("key-1");
    // No warm-up: every request starts with an empty cache.
    let s = Arc::new(setup(JwksServer::serving(&[&key])));
    s.server.hold();
    let header = s.bearer(&key);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (s, header) = (Arc::clone(&s), header.clone());
            tokio::spawn(async move { s.authorizer.decide(Some(&header)).await })
        })
        .collect();
    // The first fetch is in flight and held; give every other request time to queue behind it.
    s.server.wait_for_hits(1).await;
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.server.release();
    for task in tasks {
        assert!(is_allow(&task.await.expect("task")));
    }
    assert_eq!(s.server.hits(), 1);
}

/// The cold start spawns the warm-up beside the runtime's first poll (main.rs): the first
/// request may arrive while the warm-up's fetch is in flight, and must wait for that fetch
/// rather than start its own.
#[tokio::test]
async fn a_first_request_during_the_warm_up_waits_for_its_fetch() {
    let key = SigningKey::generate("key-1");
    let s = Arc::new(setup(JwksServer::serving(&[&key])));
    s.server.hold();
    let warm_up = {
        let s = Arc::clone(&s);
        tokio::spawn(async move { s.authorizer.warm_up().await })
    };
    s.server.wait_for_hits(1).await;
    let request = {
        let (s, header) = (Arc::clone(&s), s.bearer(&key));
        tokio::spawn(async move { s.authorizer.decide(Some(&header)).await })
    };
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    s.server.release();
    assert!(is_allow(&request.await.expect("request")));
    assert_eq!(warm_up.await.expect("warm-up").expect("keys"), 1);
    assert_eq!(s.server.hits(), 1);
}

/// ... and a warm-up that only runs after a request fetched the keys fetches nothing more.
#[tokio::test]
async fn a_warm_up_after_the_first_request_fetched_fetches_nothing() {
    let key = SigningKey::generate("key-1");
    let s = setup(JwksServer::serving(&[&key]));
    assert!(is_allow(&s.decide(&key).await));
    assert_eq!(s.authorizer.warm_up().await.expect("keys"), 1);
    assert_eq!(s.server.hits(), 1);
}

#[tokio::test]
async fn cached_keys_keep_working_while_the_endpoint_is_down() {
    let key = SigningKey::generate("key-1");
    let s = setup(JwksServer::serving(&[&key]));
    s.authorizer.warm_up().await.expect("warm-up");
    s.server.reply_with(JwksReply::Status(503));
    // An unknown kid now makes the refetch fail...
    s.clock.advance(INTERVAL);
    let stranger = SigningKey::generate("key-unknown");
    assert_eq!(
        s.decide(&stranger).await,
        Outcome::Unauthorized(Rejection::UnknownKid)
    );
    assert_eq!(s.server.hits(), 2);
    // ...and fresh tokens signed with the cached key still pass.
    for _ in 0..5 {
        s.clock.advance(Duration::from_secs(1));
        assert!(is_allow(&s.decide(&key).await));
    }
    assert_eq!(s.server.hits(), 2);
}

#[tokio::test]
async fn endpoint_down_at_cold_start_fails_closed_then_recovers() {
    let key = SigningKey::generate("key-1");
    let s = setup(JwksServer::start(JwksReply::Status(500)));
    assert!(
        s.authorizer.warm_up().await.is_err(),
        "cold-start fetch fails, not fatally"
    );
    assert_eq!(s.server.hits(), 1);
    // The first request retries at once, and fails closed.
    assert_eq!(
        s.decide(&key).await,
        Outcome::Unauthorized(Rejection::JwksUnavailable)
    );
    assert_eq!(s.server.hits(), 2);
    assert_unauthorized_everywhere(&s.authorizer, &s.bearer(&key)).await;
    assert_eq!(s.server.hits(), 2, "no retry within the interval");
    // The endpoint comes back; the next attempt after the interval finds the key.
    s.server.reply_with(JwksReply::Serve(jwks_of(&[&key])));
    s.clock.advance(INTERVAL);
    assert!(is_allow(&s.decide(&key).await));
    assert_eq!(s.server.hits(), 3);
}

#[tokio::test]
async fn endpoint_down_at_cold_start_and_back_for_the_first_request() {
    let key = SigningKey::generate("key-1");
    let s = setup(JwksServer::start(JwksReply::Status(503)));
    assert!(s.authorizer.warm_up().await.is_err());
    s.server.reply_with(JwksReply::Serve(jwks_of(&[&key])));
    assert!(
        is_allow(&s.decide(&key).await),
        "the first request retries the fetch"
    );
    assert_eq!(s.server.hits(), 2);
}

#[tokio::test]
async fn a_hanging_endpoint_times_out_and_fails_closed() {
    let key = SigningKey::generate("key-1");
    let server = JwksServer::serving(&[&key]);
    server.hold();
    let config = Config {
        issuers: vec![ISSUER.into()],
        jwks_url: server.url.clone(),
        client_ids: vec![CLIENT.into()],
        required_scopes: Vec::new(),
        required_groups: Vec::new(),
        rules: Vec::new(),
        api_key_clients: ApiKeyClients::Refuse,
        revocations: None,
    };
    let clock = Arc::new(ManualClock::starting_now());
    let options = Options::default()
        .with_clock(clock.clone())
        .with_http_timeout(Duration::from_millis(300));
    let authorizer = Authorizer::new(config, options).expect("authorizer");
    assert!(authorizer.warm_up().await.is_err());
    let header = format!(
        "Bearer {}",
        key.mint(&access_claims(ISSUER, CLIENT, clock.unix_seconds()))
    );
    assert_unauthorized_everywhere(&authorizer, &header).await;
    server.release();
}

#[tokio::test]
async fn keys_unfit_for_rs256_signatures_are_never_used() {
    let key = SigningKey::generate("key-1");
    let enc = SigningKey::generate("key-enc");
    let rs512 = SigningKey::generate("key-rs512");
    let mut enc_jwk = enc.public_jwk();
    enc_jwk["use"] = "enc".into();
    let mut rs512_jwk = rs512.public_jwk();
    rs512_jwk["alg"] = "RS512".into();
    let body = serde_json::to_vec(&serde_json::json!({"keys": [
        key.public_jwk(),
        enc_jwk,
        rs512_jwk,
        {"kty": "oct", "kid": "key-oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"},
    ]}))
    .expect("JSON");
    let s = setup(JwksServer::start(JwksReply::Serve(body)));
    s.authorizer.warm_up().await.expect("warm-up");
    assert!(is_allow(&s.decide(&key).await));
    for unfit in [&enc, &rs512] {
        assert_eq!(
            s.decide(unfit).await,
            Outcome::Unauthorized(Rejection::UnknownKid)
        );
    }
    let hs = mint_hs256(
        b"secret-secret-secret",
        &serde_json::json!({"alg": "HS256", "kid": "key-oct"}),
        &access_claims(ISSUER, CLIENT, s.clock.unix_seconds()),
    );
    assert_eq!(
        s.authorizer.decide(Some(&format!("Bearer {hs}"))).await,
        Outcome::Unauthorized(Rejection::Algorithm)
    );
    let rs_oct = SigningKey::generate("key-oct");
    assert_eq!(
        s.decide(&rs_oct).await,
        Outcome::Unauthorized(Rejection::UnknownKid)
    );
}
