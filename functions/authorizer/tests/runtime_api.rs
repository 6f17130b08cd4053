//! The function as Lambda runs it: the real `authorizer` binary, started by this test against a
//! stand-in Lambda Runtime API on 127.0.0.1, so every event goes through `lambda_runtime`'s own
//! deserialization into `LambdaEvent<AuthorizerEvent>` and back out as what the Runtime API
//! receives (`/invocation/<id>/response` or `/invocation/<id>/error`).
//!
//! Regression (issue 9, item 3): events whose members have the wrong JSON type used to fail
//! inside the runtime, before the handler ran, with an error naming internal types
//! (`RawEvent`, `OneOrMany`) and serde's message (`invalid type: integer `5`, expected a
//! string`), both in the error sent back to API Gateway and in an `ERROR` log line. They are
//! malformed requests: the REST answer to those is `Unauthorized` (401), the HTTP API 2.0 answer
//! `{"isAuthorized": false}`, and the only log line is the decision with a fixed reason.
//!
//! The JWKS is served by the same stand-in, so the positive controls (a genuine token is
//! allowed) prove the harness itself works; nothing leaves 127.0.0.1.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portal_auth_runtime::metrics::validate_emf;
use serde_json::{Value, json};

const POOL: &str = "eu-west-1_PortalPool";
const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_PortalPool";
/// Shaped like a Cognito app client id (the only shape the `client_id` dimension keeps).
const CLIENT: &str = "runtimeclient1";
const KID: &str = "runtime-test-key";
const ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/items";

/// What must never reach API Gateway or a log line.
const INTERNAL: [&str; 5] = ["RawEvent", "OneOrMany", "invalid type", "serde", "expected"];

/// What the Runtime API received for one invocation.
#[derive(Debug, Clone, PartialEq)]
enum Reply {
    Response(Value),
    Error(Value),
}

#[derive(Default)]
struct State {
    /// (request id, event body) not yet handed out by `/next`.
    pending: Mutex<VecDeque<(String, Vec<u8>)>>,
    replies: Mutex<Vec<(String, Reply)>>,
    changed: Condvar,
    stopped: AtomicBool,
    jwks: Vec<u8>,
}

/// A stand-in for the Lambda Runtime API (and the pool's JWKS endpoint).
struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<State>,
}

impl RuntimeApi {
    fn start(jwks: Vec<u8>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            jwks,
            ..State::default()
        });
        let accept_state = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_state.stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let state = Arc::clone(&accept_state);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Self { addr, state }
    }

    fn invoke(&self, request_id: &str, body: &[u8]) {
        self.state
            .pending
            .lock()
            .expect("pending")
            .push_back((request_id.to_owned(), body.to_vec()));
        self.state.changed.notify_all();
    }

    /// Waits for `n` replies; `None` after 60 s.
    fn wait_for_replies(&self, n: usize) -> Option<Vec<(String, Reply)>> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut replies = self.state.replies.lock().expect("replies");
        while replies.len() < n {
            let left = deadline.checked_duration_since(Instant::now())?;
            replies = self
                .state
                .changed
                .wait_timeout(replies, left)
                .expect("replies")
                .0;
        }
        Some(replies.clone())
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.state.stopped.store(true, Ordering::SeqCst);
        self.state.changed.notify_all();
        let _ = TcpStream::connect(self.addr);
    }
}

/// One keep-alive connection: requests in order, each answered before the next is read.
fn serve(stream: TcpStream, state: &State) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    while let Some((method, path, body)) = read_request(&mut reader) {
        let answer = route(state, &method, &path, body);
        let Some((status, headers, body)) = answer else {
            return;
        };
        let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(&body).is_err() {
            return;
        }
    }
}

type Answer = (&'static str, Vec<(&'static str, String)>, Vec<u8>);

fn route(state: &State, method: &str, path: &str, body: Vec<u8>) -> Option<Answer> {
    let json = vec![("Content-Type", "application/json".to_owned())];
    if method == "GET" && path == "/.well-known/jwks.json" {
        return Some(("200 OK", json, state.jwks.clone()));
    }
    if method == "GET" && path == "/2018-06-01/runtime/invocation/next" {
        // Hold the poll until there is an event (or the test is over).
        let mut pending = state.pending.lock().expect("pending");
        let (id, event) = loop {
            if state.stopped.load(Ordering::SeqCst) {
                return None;
            }
            if let Some(next) = pending.pop_front() {
                break next;
            }
            pending = state
                .changed
                .wait_timeout(pending, Duration::from_millis(200))
                .expect("pending")
                .0;
        };
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_millis()
            + 30_000;
        let mut headers = json;
        headers.push(("Lambda-Runtime-Aws-Request-Id", id));
        headers.push(("Lambda-Runtime-Deadline-Ms", deadline.to_string()));
        headers.push((
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:eu-west-1:123456789012:function:authorizer".to_owned(),
        ));
        headers.push((
            "Lambda-Runtime-Trace-Id",
            "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
        ));
        return Some(("200 OK", headers, event));
    }
    let rest = path.strip_prefix("/2018-06-01/runtime/invocation/");
    if let (Some(rest), "POST") = (rest, method) {
        let value: Value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        let reply = match rest.rsplit_once('/') {
            Some((id, "response")) => Some((id.to_owned(), Reply::Response(value))),
            Some((id, "error")) => Some((id.to_owned(), Reply::Error(value))),
            _ => None,
        };
        if let Some(reply) = reply {
            state.replies.lock().expect("replies").push(reply);
            state.changed.notify_all();
            return Some(("202 Accepted", json, br#"{"status":"OK"}"#.to_vec()));
        }
    }
    Some(("404 Not Found", json, b"{}".to_vec()))
}

/// Reads one HTTP/1.1 request: method, path, body (Content-Length or chunked).
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().ok()?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body).ok()?;
    }
    Some((method, path, body))
}

/// The `authorizer` binary, stopped (by its PID, through `Child`) when dropped.
struct Function {
    child: Option<Child>,
}

impl Function {
    fn start(api: &RuntimeApi) -> Self {
        Self::start_with(api, &[])
    }

    fn start_with(api: &RuntimeApi, extra: &[(&str, &str)]) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_authorizer"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "authorizer")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/authorizer")
            .env("AWS_REGION", "eu-west-1")
            .env("RUST_LOG", "info")
            .env("COGNITO_USER_POOL_ID", POOL)
            .env(
                "COGNITO_JWKS_URL",
                format!("http://{}/.well-known/jwks.json", api.addr),
            )
            .env("AUTHORIZER_CLIENT_IDS", CLIENT)
            .envs(extra.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the authorizer binary");
        Self { child: Some(child) }
    }

    /// Stops the function and returns everything it wrote (stdout, then stderr).
    fn stop(mut self) -> String {
        let Some(mut child) = self.child.take() else {
            return String::new();
        };
        let _ = child.kill();
        let output = child.wait_with_output().expect("authorizer output");
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

struct Key(KeyPair);

impl Key {
    fn jwks(&self) -> Vec<u8> {
        let public: PublicKeyComponents<Vec<u8>> = self.0.public_key().into();
        serde_json::to_vec(&json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
            "n": URL_SAFE_NO_PAD.encode(&public.n), "e": URL_SAFE_NO_PAD.encode(&public.e),
        }]}))
        .expect("JSON")
    }

    fn bearer(&self) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let header = json!({"alg": "RS256", "kid": KID, "typ": "JWT"});
        let claims = json!({
            "iss": ISSUER, "exp": now + 3600, "iat": now - 10, "token_use": "access",
            "sub": "sub-1", "client_id": CLIENT, "username": "demo",
            "scope": "openid", "cognito:groups": ["portal-users"]
        });
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("JSON"));
        let input = format!("{}.{}", b64(&header), b64(&claims));
        let mut signature = vec![0; self.0.public_modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .expect("sign");
        format!("Bearer {input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// How the Runtime API must be answered.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// REST: the function fails with exactly `Unauthorized` (API Gateway's 401).
    Unauthorized,
    /// HTTP API 2.0: `{"isAuthorized": false}`.
    NotAuthorized,
    /// A genuine token: REST `Allow` policy.
    AllowPolicy,
    /// A genuine token: HTTP API `isAuthorized: true`.
    AllowSimple,
}

#[test]
fn wrong_json_types_in_events_are_malformed_requests_naming_nothing_internal() {
    let key = Key(KeyPair::generate(KeySize::Rsa2048).expect("RSA key"));
    let bearer = key.bearer();
    let cases: Vec<(&str, String, Expect)> = vec![
        // Positive controls first: the harness, the binary and its JWKS all work.
        (
            "genuine REST TOKEN",
            json!({"type": "TOKEN", "authorizationToken": bearer, "methodArn": ARN}).to_string(),
            Expect::AllowPolicy,
        ),
        (
            "genuine HTTP API 2.0",
            json!({"version": "2.0", "type": "REQUEST", "routeArn": ARN,
                   "headers": {"authorization": bearer}})
            .to_string(),
            Expect::AllowSimple,
        ),
        (
            "type is a number",
            json!({"type": 5, "authorizationToken": bearer, "methodArn": ARN}).to_string(),
            Expect::Unauthorized,
        ),
        (
            "version is a number",
            json!({"version": 2, "type": "REQUEST", "headers": {"authorization": bearer}})
                .to_string(),
            Expect::Unauthorized,
        ),
        (
            "REST REQUEST headers are an array",
            json!({"type": "REQUEST", "methodArn": ARN, "headers": []}).to_string(),
            Expect::Unauthorized,
        ),
        (
            "REST REQUEST Authorization header is a number",
            json!({"type": "REQUEST", "methodArn": ARN, "headers": {"Authorization": 7}})
                .to_string(),
            Expect::Unauthorized,
        ),
        (
            "REST REQUEST multiValueHeaders holds a number",
            json!({"type": "REQUEST", "methodArn": ARN,
                   "headers": {"Authorization": bearer},
                   "multiValueHeaders": {"Authorization": [1]}})
            .to_string(),
            Expect::Unauthorized,
        ),
        (
            "authorizationToken is an object",
            json!({"type": "TOKEN", "authorizationToken": {}, "methodArn": ARN}).to_string(),
            Expect::Unauthorized,
        ),
        (
            "methodArn is null, with a genuine token",
            json!({"type": "TOKEN", "authorizationToken": bearer, "methodArn": null}).to_string(),
            Expect::Unauthorized,
        ),
        (
            "methodArn is a number, with a genuine token",
            json!({"type": "TOKEN", "authorizationToken": bearer, "methodArn": 12}).to_string(),
            Expect::Unauthorized,
        ),
        (
            "type given twice",
            format!(
                r#"{{"type":"TOKEN","type":"REQUEST","authorizationToken":{},"methodArn":"{ARN}"}}"#,
                json!(bearer)
            ),
            Expect::Unauthorized,
        ),
        (
            "HTTP API 2.0 headers are an array",
            json!({"version": "2.0", "type": "REQUEST", "headers": []}).to_string(),
            Expect::NotAuthorized,
        ),
        (
            "a JSON array",
            json!(["TOKEN", bearer, ARN]).to_string(),
            Expect::Unauthorized,
        ),
        (
            "a bare string",
            json!("TOKEN").to_string(),
            Expect::Unauthorized,
        ),
        ("a number", "42".to_owned(), Expect::Unauthorized),
        ("null", "null".to_owned(), Expect::Unauthorized),
    ];

    let api = RuntimeApi::start(key.jwks());
    let function = Function::start(&api);
    for (i, (_, event, _)) in cases.iter().enumerate() {
        api.invoke(&format!("req-{i}"), event.as_bytes());
    }
    let replies = api.wait_for_replies(cases.len());
    let logs = function.stop();
    let Some(replies) = replies else {
        panic!("the function did not answer every event; its output:\n{logs}");
    };

    for (i, (name, _, expect)) in cases.iter().enumerate() {
        let id = format!("req-{i}");
        let reply = replies
            .iter()
            .find(|(r, _)| *r == id)
            .map(|(_, reply)| reply.clone())
            .unwrap_or_else(|| panic!("{name}: no reply"));
        let text = match &reply {
            Reply::Response(v) | Reply::Error(v) => v.to_string(),
        };
        for word in INTERNAL {
            assert!(
                !text.contains(word),
                "{name}: the answer names {word:?}: {text}"
            );
        }
        match (expect, &reply) {
            (Expect::Unauthorized, Reply::Error(v)) => {
                assert_eq!(v["errorMessage"], "Unauthorized", "{name}: {v}");
                assert_eq!(v["errorType"], "Unauthorized", "{name}: {v}");
            }
            (Expect::NotAuthorized, Reply::Response(v)) => {
                assert_eq!(v, &json!({"isAuthorized": false}), "{name}")
            }
            (Expect::AllowPolicy, Reply::Response(v)) => {
                assert_eq!(
                    v["policyDocument"]["Statement"][0]["Effect"], "Allow",
                    "{name}: {v}"
                )
            }
            (Expect::AllowSimple, Reply::Response(v)) => {
                assert_eq!(v["isAuthorized"], true, "{name}: {v}")
            }
            (expect, reply) => panic!("{name}: expected {expect:?}, the function sent {reply:?}"),
        }
    }

    // Every line the function wrote is at `info` or above (RUST_LOG=info): none may carry an
    // internal type name or a serde message, and each malformed event is one decision line
    // with the fixed reason.
    for line in logs.lines() {
        for word in INTERNAL {
            assert!(!line.contains(word), "a log line names {word:?}: {line}");
        }
    }
    let malformed = logs
        .lines()
        .filter(|l| l.contains("authorizer decision") && l.contains("malformed event"))
        .count();
    // Not malformed: the two genuine tokens, and a null methodArn (absent, refused as such).
    let expected_malformed = cases.len() - 3;
    assert_eq!(malformed, expected_malformed, "decision lines:\n{logs}");
}

/// The Data Product Portal's API-key clients through the front door's REQUEST authorizer
/// (`AUTHORIZER_FORWARD_API_KEYS=true`, as the template sets it with `PortalApiKeyClients=forward`):
/// a request with an `x-key` and no `Authorization` is allowed for exactly its own method ARN,
/// one with a token is judged by the token, and the key appears in no answer and no log line,
/// even at `debug`.
#[test]
fn api_keys_are_forwarded_for_their_own_method_and_never_written_anywhere() {
    const KEY: &str = "dpp-runtime-api-key-81c2f7";
    const PROXY_ARN: &str =
        "arn:aws:execute-api:eu-west-1:123456789012:abc123/v1/GET/api/v2/data_products";
    let key = Key(KeyPair::generate(KeySize::Rsa2048).expect("RSA key"));
    let bearer = key.bearer();
    let request = |headers: Value| {
        let multi: serde_json::Map<String, Value> = headers
            .as_object()
            .expect("headers")
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect();
        json!({"type": "REQUEST", "methodArn": PROXY_ARN, "resource": "/api/{proxy+}",
               "path": "/api/v2/data_products", "httpMethod": "GET",
               "headers": headers, "multiValueHeaders": multi})
        .to_string()
    };
    let events = [
        request(json!({"x-key": KEY})),
        request(json!({"X-Key": KEY, "Authorization": "Bearer a.b.c"})),
        request(json!({"x-key": KEY, "Authorization": bearer})),
        request(json!({})),
    ];
    let api = RuntimeApi::start(key.jwks());
    let function = Function::start_with(
        &api,
        &[
            ("AUTHORIZER_FORWARD_API_KEYS", "true"),
            ("RUST_LOG", "debug"),
        ],
    );
    for (i, event) in events.iter().enumerate() {
        api.invoke(&format!("key-{i}"), event.as_bytes());
    }
    let replies = api.wait_for_replies(events.len());
    let logs = function.stop();
    let Some(replies) = replies else {
        panic!("the function did not answer every event; its output:\n{logs}");
    };
    let reply = |i: usize| {
        replies
            .iter()
            .find(|(id, _)| *id == format!("key-{i}"))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("no reply to event {i}"))
    };
    assert_eq!(
        reply(0),
        Reply::Response(json!({
            "principalId": "api-key",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": PROXY_ARN}
            ]},
            "context": {"auth": "api_key"}
        }))
    );
    assert!(
        matches!(reply(1), Reply::Error(v) if v["errorMessage"] == "Unauthorized"),
        "an invalid token beside a key is refused: {:?}",
        reply(1)
    );
    assert!(
        matches!(reply(2), Reply::Response(v) if v["principalId"] == "sub-1"),
        "a valid token beside a key is judged as a token: {:?}",
        reply(2)
    );
    assert!(
        matches!(reply(3), Reply::Error(v) if v["errorMessage"] == "Unauthorized"),
        "no credential at all: {:?}",
        reply(3)
    );
    for (_, r) in &replies {
        assert!(
            !format!("{r:?}").contains(KEY),
            "an answer carries the key: {r:?}"
        );
    }
    assert!(!logs.contains(KEY), "a log line carries the key:\n{logs}");
    assert_eq!(
        logs.lines()
            .filter(|l| l.contains("authorizer decision"))
            .count(),
        events.len(),
        "{logs}"
    );
}

/// The metrics as Lambda ships them: the real binary writes one valid EMF line per decision
/// to stdout, beside its JSON log lines and never inside one, plus one for the cold start's
/// JWKS fetch. (CloudWatch Logs extracts the metrics from exactly these lines.)
#[test]
fn every_decision_is_one_emf_line_on_stdout_beside_the_logs() {
    let key = Key(KeyPair::generate(KeySize::Rsa2048).expect("RSA key"));
    let bearer = key.bearer();
    let events = [
        json!({"type": "TOKEN", "authorizationToken": bearer, "methodArn": ARN}),
        // The same token again: the verified-token cache answers.
        json!({"type": "TOKEN", "authorizationToken": bearer, "methodArn": ARN}),
        json!({"type": "TOKEN", "authorizationToken": "Bearer a.b.c", "methodArn": ARN}),
        json!({"type": 5, "authorizationToken": bearer, "methodArn": ARN}),
    ];
    let api = RuntimeApi::start(key.jwks());
    let function = Function::start(&api);
    for (i, event) in events.iter().enumerate() {
        api.invoke(&format!("emf-{i}"), event.to_string().as_bytes());
    }
    let replies = api.wait_for_replies(events.len());
    let output = function.stop();
    assert!(replies.is_some(), "not every event answered:\n{output}");

    let mut emf = Vec::new();
    for line in output.lines().filter(|l| l.starts_with('{')) {
        let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if value.get("_aws").is_some() {
            emf.push(validate_emf(line).unwrap_or_else(|e| panic!("{e}: {line}")));
        } else {
            assert!(value.get("level").is_some(), "a log line: {line}");
        }
    }
    let summary: Vec<Value> = emf
        .iter()
        .map(|line| {
            let names: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .expect("Metrics")
                .iter()
                .map(|m| m["Name"].as_str().expect("Name"))
                .collect();
            assert_eq!(
                line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
                "PortalAuth"
            );
            assert_eq!(line["function"], "authorizer");
            json!([names, line.get("client_id"), line.get("outcome")])
        })
        .collect();
    assert_eq!(
        summary,
        [
            json!([["JwksFetches"], null, null]),
            json!([["Allowed"], CLIENT, null]),
            json!([["Allowed", "TokenCacheHits"], CLIENT, null]),
            json!([["Unauthorized"], null, "malformed_token"]),
            json!([["Unauthorized"], null, "malformed_event"]),
        ],
        "{output}"
    );
}
