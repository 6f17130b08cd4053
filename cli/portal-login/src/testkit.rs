//! A scripted stand-in for the portal's OAuth endpoints, on 127.0.0.1, for tests only
//! (compiled under `cfg(test)` or the `testkit` feature, never in a release build).
//!
//! It serves RFC 8414 metadata for its own base URL, `POST /device/code`, `POST /device/token`
//! (device-code polls and refreshes, each answered from its own queue of scripted replies, then
//! a default) and, when enabled, `POST /revoke`. Every request is recorded with its form fields
//! and arrival time, so tests can check what the CLI sent and how it paced its polls without
//! asserting on durations they do not control.

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

pub const DEVICE_CODE: &str = "stand-in-device-code";
pub const USER_CODE: &str = "BCDF-GHJK";
pub const REFRESH_TOKEN: &str = "stand-in-refresh-token";
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// One scripted HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Self { status: 200, body }
    }

    /// An RFC 6749 §5.2 error.
    pub fn error(status: u16, code: &str) -> Self {
        Self {
            status,
            body: json!({"error": code, "error_description": format!("stand-in says {code}")}),
        }
    }

    pub fn pending() -> Self {
        Self::error(400, "authorization_pending")
    }

    /// `slow_down`, carrying the raised interval as this project's server does.
    pub fn slow_down(interval: Option<u64>) -> Self {
        let mut reply = Self::error(400, "slow_down");
        if let Some(i) = interval {
            reply.body["interval"] = json!(i);
        }
        reply
    }

    /// A 200 token response for `username`, with Cognito-shaped (unsigned) JWTs.
    pub fn tokens(username: &str, expires_in: u64, refresh_token: Option<&str>) -> Self {
        let now = crate::time::now_unix();
        let access = jwt(&json!({
            "sub": format!("sub-{username}"), "username": username, "client_id": "stand-in",
            "scope": "openid email", "token_use": "access", "exp": now + expires_in,
            "cognito:groups": ["portal-users"],
        }));
        let id =
            jwt(&json!({"cognito:username": username, "email": format!("{username}@example.com")}));
        let mut body = json!({
            "access_token": access, "id_token": id, "token_type": "Bearer",
            "expires_in": expires_in, "scope": "openid email",
        });
        if let Some(refresh) = refresh_token {
            body["refresh_token"] = json!(refresh);
        }
        Self::ok(body)
    }
}

/// An unsigned compact JWS with `claims` (the CLI reads claims, it never verifies them).
pub fn jwt(claims: &Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.c3RhbmQtaW4")
}

/// A request as the stand-in received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub form: Vec<(String, String)>,
    pub at: Instant,
}

impl Recorded {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Script {
    base_url: String,
    revocation: bool,
    issuer: Option<String>,
    device_code: Reply,
    polls: VecDeque<Reply>,
    refreshes: VecDeque<Reply>,
    requests: Vec<Recorded>,
}

/// The stand-in server; its port is closed once it is dropped.
pub struct StandIn {
    pub base_url: String,
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    stopped: Arc<AtomicBool>,
    accepting: Option<std::thread::JoinHandle<()>>,
}

impl StandIn {
    /// Starts on a free port: device codes with `interval` 1 s and `expires_in` 600 s, polls
    /// `authorization_pending` and refreshes `invalid_grant` once their queues are empty.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let base_url = format!("http://{addr}");
        let script = Arc::new(Mutex::new(Script {
            device_code: device_code_reply(&base_url, Some(1), 600),
            base_url: base_url.clone(),
            revocation: false,
            issuer: None,
            polls: VecDeque::new(),
            refreshes: VecDeque::new(),
            requests: Vec::new(),
        }));
        let stopped = Arc::new(AtomicBool::new(false));
        let (s, stop) = (Arc::clone(&script), Arc::clone(&stopped));
        let accepting = std::thread::spawn(move || accept_loop(&listener, &s, &stop));
        Self {
            base_url,
            addr,
            script,
            stopped,
            accepting: Some(accepting),
        }
    }

    fn script(&self) -> MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Offer `revocation_endpoint` (`<base>/revoke`, answering 200) in the metadata.
    pub fn offer_revocation(&self) {
        self.script().revocation = true;
    }

    /// Claim another issuer in the metadata.
    pub fn claim_issuer(&self, issuer: &str) {
        self.script().issuer = Some(issuer.to_owned());
    }

    pub fn set_device_code(&self, reply: Reply) {
        self.script().device_code = reply;
    }

    /// Queue the answer to the next device-code poll.
    pub fn push_poll(&self, reply: Reply) {
        self.script().polls.push_back(reply);
    }

    /// Queue the answer to the next refresh.
    pub fn push_refresh(&self, reply: Reply) {
        self.script().refreshes.push_back(reply);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.script().requests.clone()
    }

    /// Requests to the token endpoint with this `grant_type`.
    pub fn token_requests(&self, grant_type: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == "/device/token" && r.param("grant_type") == Some(grant_type))
            .collect()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag, and wait until the port is closed, so a
        // test that drops the stand-in can rely on "connection refused".
        let _ = TcpStream::connect(self.addr);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
    }
}

/// The device authorization response this stand-in gives by default.
pub fn device_code_reply(base_url: &str, interval: Option<u64>, expires_in: u64) -> Reply {
    let mut body = json!({
        "device_code": DEVICE_CODE, "user_code": USER_CODE,
        "verification_uri": format!("{base_url}/device"),
        "verification_uri_complete": format!("{base_url}/device?user_code={USER_CODE}"),
        "expires_in": expires_in,
    });
    if let Some(i) = interval {
        body["interval"] = json!(i);
    }
    Reply::ok(body)
}

fn accept_loop(listener: &TcpListener, script: &Arc<Mutex<Script>>, stopped: &AtomicBool) {
    for stream in listener.incoming() {
        if stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let script = Arc::clone(script);
        std::thread::spawn(move || serve(stream, &script));
    }
}

fn serve(stream: TcpStream, script: &Mutex<Script>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    let reply = {
        let mut s = script.lock().unwrap_or_else(|p| p.into_inner());
        let reply = answer(&mut s, &request);
        s.requests.push(request);
        reply
    };
    let body = reply.body.to_string();
    let head = format!(
        "HTTP/1.1 {} Stand-in\r\ncontent-type: application/json\r\ncache-control: no-store\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        reply.status,
        body.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

fn read_request(stream: &TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length.min(1 << 16)];
    reader.read_exact(&mut body).ok()?;
    let form = url::form_urlencoded::parse(&body).into_owned().collect();
    let path = target.split('?').next().unwrap_or_default().to_owned();
    Some(Recorded {
        method,
        path,
        form,
        at: Instant::now(),
    })
}

fn answer(s: &mut Script, r: &Recorded) -> Reply {
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/.well-known/oauth-authorization-server") => metadata(s),
        ("POST", "/device/code") => s.device_code.clone(),
        ("POST", "/device/token") => match r.param("grant_type") {
            Some(DEVICE_GRANT) => s.polls.pop_front().unwrap_or_else(Reply::pending),
            Some("refresh_token") => s
                .refreshes
                .pop_front()
                .unwrap_or_else(|| Reply::error(400, "invalid_grant")),
            _ => Reply::error(400, "unsupported_grant_type"),
        },
        ("POST", "/revoke") if s.revocation => Reply::ok(json!({})),
        _ => Reply {
            status: 404,
            body: json!({"message": "Not Found"}),
        },
    }
}

fn metadata(s: &Script) -> Reply {
    let base = &s.base_url;
    let mut body = json!({
        "issuer": s.issuer.clone().unwrap_or_else(|| base.clone()),
        "device_authorization_endpoint": format!("{base}/device/code"),
        "token_endpoint": format!("{base}/device/token"),
        "grant_types_supported": [DEVICE_GRANT, "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
    });
    if s.revocation {
        body["revocation_endpoint"] = json!(format!("{base}/revoke"));
    }
    Reply::ok(body)
}
