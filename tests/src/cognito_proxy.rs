//! A recording proxy in front of cognito-local, on 127.0.0.1, for `portal-signout`'s tests.
//!
//! cognito-local 5.3.0 does not implement `AdminUserGlobalSignOut` (it answers
//! `CognitoLocal#Unsupported`), so the emulator cannot see whether the command signs the user
//! out at Cognito, nor in which order relative to its revocation record. This proxy answers
//! that one operation itself (`X-Amz-Target: AWSCognitoIdentityProviderService.AdminUserGlobalSignOut`):
//! it records the call and answers 200 `{}` — or, when told to, a Cognito error, to test a
//! failure midway. Every other request (`AdminGetUser`, …) is forwarded to cognito-local as
//! received (method, path, headers but the hop-by-hop ones, body) and its answer returned.
//! Every connection is answered once and closed (`connection: close`).

use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const GLOBAL_SIGN_OUT: &str = "AWSCognitoIdentityProviderService.AdminUserGlobalSignOut";

/// What the proxy answers to `AdminUserGlobalSignOut`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignOutReply {
    /// 200 `{}`, as Cognito does.
    Succeed,
    /// A Cognito error: HTTP `status` with `{"__type": error_type, "message": …}`.
    Fail { status: u16, error_type: String },
}

#[derive(Default)]
struct Log {
    /// Every request's `X-Amz-Target`, in order of arrival.
    targets: Vec<String>,
    /// The JSON bodies of the `AdminUserGlobalSignOut` calls.
    sign_outs: Vec<serde_json::Value>,
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    reply: Mutex<SignOutReply>,
    log: Mutex<Log>,
}

pub struct CognitoProxy {
    /// What to point `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER` at.
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl CognitoProxy {
    /// Listens on a free port of 127.0.0.1, forwarding to `upstream` (cognito-local's URL).
    pub async fn start(upstream: &str) -> CognitoProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            reply: Mutex::new(SignOutReply::Succeed),
            log: Mutex::new(Log::default()),
        });
        let accepting = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, Arc::clone(&accepting)));
            }
        });
        CognitoProxy { url, shared, task }
    }

    /// From now on, `AdminUserGlobalSignOut` fails with this Cognito error.
    pub fn fail_sign_outs(&self, status: u16, error_type: &str) {
        *lock(&self.shared.reply) = SignOutReply::Fail {
            status,
            error_type: error_type.to_owned(),
        };
    }

    /// Every `X-Amz-Target` received so far, in order.
    pub fn targets(&self) -> Vec<String> {
        lock(&self.shared.log).targets.clone()
    }

    /// The bodies of the `AdminUserGlobalSignOut` calls received so far.
    pub fn sign_outs(&self) -> Vec<serde_json::Value> {
        lock(&self.shared.log).sign_outs.clone()
    }
}

impl Drop for CognitoProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One request as received.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An answer to write back.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn serve(mut socket: TcpStream, shared: Arc<Shared>) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    let target = request
        .header("x-amz-target")
        .unwrap_or_default()
        .to_owned();
    lock(&shared.log).targets.push(target.clone());
    let response = if target == GLOBAL_SIGN_OUT {
        let body = serde_json::from_slice(&request.body).unwrap_or(serde_json::Value::Null);
        lock(&shared.log).sign_outs.push(body);
        sign_out_reply(&lock(&shared.reply))
    } else {
        forward(&shared, request).await
    };
    let _ = socket.write_all(&encode(&response)).await;
    let _ = socket.shutdown().await;
}

fn sign_out_reply(reply: &SignOutReply) -> Response {
    let (status, body) = match reply {
        SignOutReply::Succeed => (200, "{}".to_owned()),
        SignOutReply::Fail { status, error_type } => (
            *status,
            serde_json::json!({"__type": error_type, "message": "refused by the test proxy"})
                .to_string(),
        ),
    };
    Response {
        status,
        headers: vec![("content-type".into(), "application/x-amz-json-1.1".into())],
        body: body.into_bytes(),
    }
}

/// Headers that belong to one hop, not to the request.
fn hop_by_hop(name: &str) -> bool {
    [
        "host",
        "connection",
        "content-length",
        "transfer-encoding",
        "keep-alive",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

async fn forward(shared: &Shared, request: Request) -> Response {
    let method =
        reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::POST);
    let mut builder = shared
        .http
        .request(method, format!("{}{}", shared.upstream, request.path));
    for (name, value) in request.headers.iter().filter(|(n, _)| !hop_by_hop(n)) {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let answer = match builder.body(request.body).send().await {
        Ok(answer) => answer,
        Err(error) => {
            return Response {
                status: 502,
                headers: Vec::new(),
                body: format!("cognito-local unreachable: {error}").into_bytes(),
            };
        }
    };
    let status = answer.status().as_u16();
    let headers = answer
        .headers()
        .iter()
        .filter(|(n, _)| !hop_by_hop(n.as_str()))
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = answer.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    Response {
        status,
        headers,
        body,
    }
}

fn encode(response: &Response) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {} Proxied\r\n", response.status);
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        response.body.len()
    ));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&response.body);
    bytes
}

/// Reads one request with a `content-length` body (what the AWS SDK sends).
async fn read_request(socket: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let (method, path, headers) = parse_head(&head)?;
            let length = headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
            let body_start = end + 4;
            while buf.len() < body_start + length {
                let n = socket.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(Request {
                method,
                path,
                headers,
                body: buf[body_start..body_start + length].to_vec(),
            });
        }
        let n = socket.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
}

type Head = (String, String, Vec<(String, String)>);

fn parse_head(head: &str) -> Option<Head> {
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let headers = lines
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect();
    Some((method, path, headers))
}
