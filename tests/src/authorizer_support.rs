//! Support for the authorizer's integration tests (`tests/tests/authorizer_*.rs`).
//!
//! - [`SigningKey`]: RSA keys that mint tokens with any header and claims: cognito-local's own
//!   key (it ships in the npm package, so tests can sign what cognito-local would never issue,
//!   such as custom scopes and groups) and throw-away keys for attackers and key rotation.
//! - [`LocalPool`]: a fresh cognito-local pool (via [`crate::cognito::TestPool`]) with real
//!   tokens for the demo user, and an authorizer configured the way `make dev` configures it.
//! - [`JwksServer`]: a stand-in JWKS endpoint on 127.0.0.1 that counts requests, can fail, and
//!   can hold its answers so tests can pile up concurrent requests deterministically.
//! - The three event shapes, built from the fixtures in `tests/fixtures/authorizer/`, and
//!   assertions that check an answer in all three at once.
//! - [`moto_revocation_table`], [`revocation_records`]: the revocation records of a test's
//!   table in moto, as the authorizer reads them.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use authorizer::sigv4::Credentials;
use authorizer::{
    ApiKeyClients, Authorizer, AuthorizerEvent, Clock, Config, Options, Outcome, RevocationTable,
    Revocations, SystemClock, Unauthorized,
};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeyPairComponents, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair as _, RsaEncoding};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::cognito::TestPool;

/// The `kid` cognito-local signs with.
pub const COGNITO_LOCAL_KID: &str = "CognitoLocal";
/// The placeholder the shipped fixtures carry where a live token goes.
pub const FIXTURE_PLACEHOLDER: &str = "Bearer REPLACE_WITH_ACCESS_TOKEN";

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64_json(value: &Value) -> String {
    b64(serde_json::to_vec(value).expect("JSON"))
}

/// An RSA signing key with a `kid`.
pub struct SigningKey {
    pub kid: String,
    pair: KeyPair,
}

impl SigningKey {
    /// The key cognito-local signs every token with, read from its npm package.
    pub fn cognito_local() -> Self {
        let modules = crate::emulator_endpoint("PORTAL_TEST_NODE_MODULES");
        let path = format!("{modules}/cognito-local/lib/keys/cognitoLocal.private.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let file: Value = serde_json::from_str(&text).expect("cognito-local key JSON");
        let jwk = &file["jwk"];
        let part = |name: &str| {
            let text = jwk[name].as_str().unwrap_or_else(|| panic!("jwk.{name}"));
            URL_SAFE_NO_PAD.decode(text).expect("base64url")
        };
        let components = KeyPairComponents {
            public_key: PublicKeyComponents {
                n: part("n"),
                e: part("e"),
            },
            d: part("d"),
            p: part("p"),
            q: part("q"),
            dP: part("dp"),
            dQ: part("dq"),
            qInv: part("qi"),
        };
        Self {
            kid: COGNITO_LOCAL_KID.to_owned(),
            pair: KeyPair::from_components(&components).expect("cognito-local RSA key"),
        }
    }

    /// A fresh 2048-bit key.
    pub fn generate(kid: &str) -> Self {
        Self {
            kid: kid.to_owned(),
            pair: KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation"),
        }
    }

    pub fn public_components(&self) -> PublicKeyComponents<Vec<u8>> {
        self.pair.public_key().into()
    }

    pub fn public_jwk(&self) -> Value {
        let public = self.public_components();
        json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": b64(&public.n), "e": b64(&public.e),
        })
    }

    /// The key's SubjectPublicKeyInfo, DER.
    pub fn spki_der(&self) -> Vec<u8> {
        use aws_lc_rs::encoding::AsDer;
        self.public_components()
            .as_der()
            .expect("SPKI DER")
            .as_ref()
            .to_vec()
    }

    /// The key's SubjectPublicKeyInfo, PEM: what an HS256 confusion attack keys its HMAC with.
    pub fn spki_pem(&self) -> String {
        let body = STANDARD.encode(self.spki_der());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    pub fn sign(&self, encoding: &'static dyn RsaEncoding, message: &[u8]) -> Vec<u8> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(encoding, &SystemRandom::new(), message, &mut signature)
            .expect("RSA signing");
        signature
    }

    /// The standard header: RS256 and this key's `kid`.
    pub fn header(&self) -> Value {
        json!({ "alg": "RS256", "kid": self.kid, "typ": "JWT" })
    }

    /// An RS256 token over `claims`.
    pub fn mint(&self, claims: &Value) -> String {
        self.mint_with_header(&self.header(), claims)
    }

    /// RS256 over any header.
    pub fn mint_with_header(&self, header: &Value, claims: &Value) -> String {
        self.mint_with(&signature::RSA_PKCS1_SHA256, header, claims)
    }

    /// Any RSA signature scheme over any header.
    pub fn mint_with(
        &self,
        encoding: &'static dyn RsaEncoding,
        header: &Value,
        claims: &Value,
    ) -> String {
        let input = format!("{}.{}", b64_json(header), b64_json(claims));
        let signature = self.sign(encoding, input.as_bytes());
        format!("{input}.{}", b64(signature))
    }
}

/// A JWKS document holding the public halves of `keys`.
pub fn jwks_of(keys: &[&SigningKey]) -> Vec<u8> {
    let keys: Vec<Value> = keys.iter().map(|k| k.public_jwk()).collect();
    serde_json::to_vec(&json!({ "keys": keys })).expect("JSON")
}

/// HS256 over `header.claims`, keyed with `secret`.
pub fn mint_hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    use aws_lc_rs::hmac;
    let input = format!("{}.{}", b64_json(header), b64_json(claims));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// ES256 over `header.claims`, with a fresh P-256 key.
pub fn mint_es256(header: &Value, claims: &Value) -> String {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key");
    let input = format!("{}.{}", b64_json(header), b64_json(claims));
    let signature = key
        .sign(&SystemRandom::new(), input.as_bytes())
        .expect("ECDSA signing");
    format!("{input}.{}", b64(signature.as_ref()))
}

/// `header.claims.` followed by `signature` as given (possibly empty).
pub fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64_json(header), b64_json(claims))
}

/// Claims shaped like a Cognito access token.
pub fn access_claims(issuer: &str, client_id: &str, now: i64) -> Value {
    json!({
        "sub": "5b1c0a5e-6a2e-4a3c-9d53-8f1f3c1b2a77",
        "cognito:groups": ["portal-users"],
        "iss": issuer,
        "version": 2,
        "client_id": client_id,
        "origin_jti": "4a0b2c3d-1e2f-4a5b-8c7d-9e0f1a2b3c4d",
        "event_id": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        "token_use": "access",
        "scope": "openid email profile",
        "auth_time": now - 60,
        "exp": now + 3600,
        "iat": now - 60,
        "jti": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910",
        "username": "demo"
    })
}

/// A fresh cognito-local pool, its real tokens, and an authorizer for it.
pub struct LocalPool {
    pub pool: TestPool,
    /// The issuer cognito-local writes into its tokens for this pool.
    pub issuer: String,
    pub jwks_url: String,
    /// The demo user's real tokens from the public client: (access, id).
    pub access_token: String,
    pub id_token: String,
    /// The demo user's real access token from the confidential client.
    pub other_client_access_token: String,
    pub key: SigningKey,
}

impl LocalPool {
    pub async fn create() -> Self {
        let pool = TestPool::create("http://127.0.0.1:9/device/callback").await;
        let issuer = format!("{}/{}", pool.endpoint, pool.pool_id);
        let (access_token, id_token, _) = pool.demo_tokens(&pool.public_client_id).await;
        let (other_client_access_token, _, _) =
            pool.demo_tokens(&pool.confidential_client_id).await;
        Self {
            jwks_url: format!("{issuer}/.well-known/jwks.json"),
            issuer,
            access_token,
            id_token,
            other_client_access_token,
            key: SigningKey::cognito_local(),
            pool,
        }
    }

    /// Configured as `make dev` does: the pool's issuer and JWKS, only the public client.
    pub fn config(&self, scopes: &[&str], groups: &[&str]) -> Config {
        Config {
            issuers: vec![self.issuer.clone()],
            jwks_url: self.jwks_url.clone(),
            client_ids: vec![self.pool.public_client_id.clone()],
            required_scopes: scopes.iter().map(|s| s.to_string()).collect(),
            required_groups: groups.iter().map(|s| s.to_string()).collect(),
            rules: Vec::new(),
            api_key_clients: ApiKeyClients::Refuse,
            revocations: None,
        }
    }

    /// Access-token claims for the public client, to be minted with [`Self::key`].
    pub fn claims(&self, now: i64) -> Value {
        access_claims(&self.issuer, &self.pool.public_client_id, now)
    }
}

/// An authorizer with a short HTTP timeout, warmed up, on the given clock.
pub async fn build_authorizer(config: Config, clock: Arc<dyn Clock>) -> Authorizer {
    let options = Options::default()
        .with_clock(clock)
        .with_http_timeout(Duration::from_secs(2));
    let authorizer = Authorizer::new(config, options).expect("authorizer");
    let _ = authorizer.warm_up().await;
    authorizer
}

/// One of the shipped fixtures with `authorization` where its placeholder is.
pub fn fixture_event(name: &str, authorization: &str) -> AuthorizerEvent {
    let path = format!(
        "{}/fixtures/authorizer/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let placeholder = serde_json::to_string(FIXTURE_PLACEHOLDER).expect("JSON");
    assert!(text.contains(&placeholder), "{path} has no placeholder");
    let value = serde_json::to_string(authorization).expect("JSON");
    serde_json::from_str(&text.replace(&placeholder, &value)).expect("fixture event")
}

pub const SHAPES: [&str; 3] = ["rest-token", "rest-request", "http-api-v2"];

/// What the fixtures' REST events' methodArn turns into.
pub const REST_TOKEN_RESOURCE: &str =
    "arn:aws:execute-api:eu-west-1:123456789012:ymy8tbxw7b/prod/*";
pub const REST_REQUEST_RESOURCE: &str =
    "arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/*";

/// Asserts 401 in every shape: REST fails with exactly `Unauthorized`, HTTP API answers
/// `{"isAuthorized": false}` with no context.
pub async fn assert_unauthorized_everywhere(authorizer: &Authorizer, authorization: &str) {
    for shape in SHAPES {
        let answer = authorizer
            .handle(&fixture_event(shape, authorization))
            .await;
        if shape == "http-api-v2" {
            let value = serde_json::to_value(answer.expect("HTTP API answers")).expect("JSON");
            assert_eq!(value, json!({"isAuthorized": false}), "{shape}");
        } else {
            let err = answer.expect_err(shape);
            assert_eq!(err, Unauthorized, "{shape}");
            assert_eq!(err.to_string(), "Unauthorized", "{shape}");
        }
    }
}

/// Asserts an explicit Deny (403) in the REST shapes and `isAuthorized: false` in HTTP API.
pub async fn assert_denied_everywhere(authorizer: &Authorizer, authorization: &str) {
    for shape in SHAPES {
        let answer = authorizer
            .handle(&fixture_event(shape, authorization))
            .await
            .unwrap_or_else(|e| panic!("{shape}: {e} (expected a Deny, not 401)"));
        let value = serde_json::to_value(answer).expect("JSON");
        if shape == "http-api-v2" {
            assert_eq!(value, json!({"isAuthorized": false}), "{shape}");
        } else {
            let statement = &value["policyDocument"]["Statement"][0];
            assert_eq!(statement["Effect"], "Deny", "{shape}: {value}");
        }
    }
}

/// Asserts Allow in every shape and returns the context each handed to the route.
pub async fn assert_allowed_everywhere(authorizer: &Authorizer, authorization: &str) -> Vec<Value> {
    let mut contexts = Vec::new();
    for shape in SHAPES {
        let answer = authorizer
            .handle(&fixture_event(shape, authorization))
            .await
            .unwrap_or_else(|e| panic!("{shape}: {e}"));
        let value = serde_json::to_value(answer).expect("JSON");
        match shape {
            "http-api-v2" => assert_eq!(value["isAuthorized"], true, "{value}"),
            _ => {
                let statement = &value["policyDocument"]["Statement"][0];
                assert_eq!(statement["Effect"], "Allow", "{shape}: {value}");
                assert_eq!(statement["Action"], "execute-api:Invoke");
                let resource = match shape {
                    "rest-token" => REST_TOKEN_RESOURCE,
                    _ => REST_REQUEST_RESOURCE,
                };
                assert_eq!(statement["Resource"], resource, "{shape}");
                assert_eq!(value["principalId"], value["context"]["sub"], "{shape}");
            }
        }
        contexts.push(value["context"].clone());
    }
    contexts
}

/// `Outcome::Allow`, for terse asserts.
pub fn is_allow(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Allow(_))
}

/// What the stand-in JWKS endpoint answers.
#[derive(Debug, Clone)]
pub enum JwksReply {
    Serve(Vec<u8>),
    Status(u16),
}

struct ServerState {
    reply: Mutex<JwksReply>,
    held: Mutex<bool>,
    released: Condvar,
    hits: AtomicUsize,
    stopped: AtomicBool,
}

/// A stand-in JWKS endpoint on 127.0.0.1 that counts the requests it receives.
pub struct JwksServer {
    pub url: String,
    addr: std::net::SocketAddr,
    state: Arc<ServerState>,
}

impl JwksServer {
    pub fn start(reply: JwksReply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(ServerState {
            reply: Mutex::new(reply),
            held: Mutex::new(false),
            released: Condvar::new(),
            hits: AtomicUsize::new(0),
            stopped: AtomicBool::new(false),
        });
        let accept_state = Arc::clone(&state);
        std::thread::spawn(move || accept_loop(listener, accept_state));
        Self {
            url: format!("http://{addr}/.well-known/jwks.json"),
            addr,
            state,
        }
    }

    pub fn serving(keys: &[&SigningKey]) -> Self {
        Self::start(JwksReply::Serve(jwks_of(keys)))
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    pub fn reply_with(&self, reply: JwksReply) {
        *self.state.reply.lock().expect("reply lock") = reply;
    }

    /// From now on, requests are counted but not answered until [`Self::release`].
    pub fn hold(&self) {
        *self.state.held.lock().expect("hold lock") = true;
    }

    pub fn release(&self) {
        *self.state.held.lock().expect("hold lock") = false;
        self.state.released.notify_all();
    }

    /// Waits (without blocking the async runtime) until `n` requests have arrived; panics
    /// after 20 s so a broken test cannot hang.
    pub async fn wait_for_hits(&self, n: usize) {
        for _ in 0..20_000 {
            if self.hits() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!(
            "the stand-in JWKS endpoint saw {} requests, expected {n}",
            self.hits()
        );
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.state.stopped.store(true, Ordering::SeqCst);
        self.release();
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn accept_loop(listener: TcpListener, state: Arc<ServerState>) {
    for stream in listener.incoming() {
        if state.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let state = Arc::clone(&state);
        std::thread::spawn(move || serve_one(stream, &state));
    }
}

fn serve_one(mut stream: TcpStream, state: &ServerState) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    state.hits.fetch_add(1, Ordering::SeqCst);
    {
        let mut held = state.held.lock().expect("hold lock");
        while *held && !state.stopped.load(Ordering::SeqCst) {
            held = state.released.wait(held).expect("hold lock");
        }
    }
    let reply = state.reply.lock().expect("reply lock").clone();
    let (status, body) = match reply {
        JwksReply::Serve(body) => ("200 OK".to_owned(), body),
        JwksReply::Status(code) => (format!("{code} Error"), b"{}".to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// The revocation records of `table` in moto, for an authorizer's `Config::revocations`.
pub fn moto_revocation_table(table: &str, refresh_secs: u64) -> RevocationTable {
    RevocationTable {
        table: table.to_owned(),
        region: "us-east-1".to_owned(),
        endpoint: crate::dynamodb::endpoint(),
        credentials: Credentials {
            access_key_id: "local".to_owned(),
            secret_access_key: "local".to_owned(),
            session_token: None,
        },
        refresh_secs,
    }
}

/// How many revocation records of `table` are in force now, read as the authorizer reads them.
pub async fn revocation_records(table: &str) -> usize {
    let revocations = Revocations::new(
        moto_revocation_table(table, 30),
        Duration::from_secs(5),
        &portal_auth_runtime::https::Trust::default(),
        Arc::new(SystemClock),
        None,
    )
    .expect("revocation reader");
    revocations.refresh().await.expect("the revocation set")
}
