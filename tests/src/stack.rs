//! The deployed shape, locally: `cargo lambda watch` (its Lambda runtime API and API Gateway
//! routing, from the workspace's router table) in front of the real function binaries, each
//! its own process, against a fresh moto table and cognito-local pool.
//!
//! `cargo lambda watch` runs with `--only-lambda-apis` and the binaries are started here, from
//! the target directory, rather than by cargo-lambda: a `cargo run` from inside `cargo test`
//! would wait forever on the build directory lock the test run holds. `make test` builds the
//! binaries first (`cargo build --workspace --all-targets`). Every process is stopped, by PID, on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cognito::TestPool;
use crate::dynamodb::{counting_client, create_table};

pub const FUNCTIONS: [&str; 5] = [
    "device-code",
    "device-token",
    "device-verify",
    "device-callback",
    "authorizer",
];

pub struct LocalStack {
    pub base_url: String,
    pub pool: TestPool,
    pub table: String,
    /// The configuration the functions run with (design.md's variables).
    pub env: Vec<(String, String)>,
    children: Vec<Child>,
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Where cargo put this test's binaries' siblings: `<target>/debug`.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/debug")
        .to_path_buf()
}

/// A folder for screenshots and process logs: `PORTAL_TEST_OUTPUT`, else `<workspace>/test-output`.
pub fn output_dir(name: &str) -> PathBuf {
    let base = std::env::var_os("PORTAL_TEST_OUTPUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("test-output"));
    let dir = base.join(name);
    std::fs::create_dir_all(&dir).expect("output dir");
    dir
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Waits until something accepts TCP connections on `port`.
pub fn wait_for_port(port: u16, what: &str) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl LocalStack {
    /// Starts the stack; `name` names its log folder under the test output.
    pub async fn start(name: &str) -> LocalStack {
        let port = free_port();
        let base_url = format!("http://127.0.0.1:{port}");
        let (dynamodb, _) = counting_client();
        let table = create_table(&dynamodb).await;
        let pool = TestPool::create(&format!("{base_url}/device/callback")).await;
        let clients = format!("{},{}", pool.public_client_id, pool.confidential_client_id);
        let issuer = format!("{}/{}", pool.endpoint, pool.pool_id);
        let env: Vec<(String, String)> = [
            ("TABLE_NAME", table.as_str()),
            ("PUBLIC_BASE_URL", base_url.as_str()),
            ("COGNITO_USER_POOL_ID", pool.pool_id.as_str()),
            ("COGNITO_REGION", "us-east-1"),
            ("COGNITO_DOMAIN", pool.endpoint.as_str()),
            ("COGNITO_ISSUER", issuer.as_str()),
            (
                "COGNITO_JWKS_URL",
                &format!("{issuer}/.well-known/jwks.json"),
            ),
            ("DEVICE_CLIENT_IDS", clients.as_str()),
            ("AUTHORIZER_CLIENT_IDS", clients.as_str()),
            ("AUTHORIZER_REVOCATION_TABLE", table.as_str()),
            ("PORTAL_COMPAT_ENABLED", "true"),
            ("DEVICE_ISSUE_MAX_PER_IP", "10000"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "local"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
            ("AWS_ENDPOINT_URL_DYNAMODB", &crate::dynamodb::endpoint()),
            (
                "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
                pool.endpoint.as_str(),
            ),
            ("RUST_LOG", "info"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let logs = output_dir(name);
        let mut stack = LocalStack {
            base_url,
            pool,
            table,
            env,
            children: Vec::new(),
        };
        stack.spawn_watch(port, &logs);
        wait_for_port(port, "cargo lambda watch");
        for function in FUNCTIONS {
            stack.spawn_function(function, port, &logs);
        }
        stack
    }

    fn spawn_watch(&mut self, port: u16, logs: &Path) {
        let root = workspace_root();
        let cargo_lambda = root.join(".venv/bin/cargo-lambda");
        assert!(
            cargo_lambda.exists(),
            "{} is missing: run `make test` (it installs the pinned tools)",
            cargo_lambda.display()
        );
        let child = Command::new(cargo_lambda)
            .args(["lambda", "watch", "--only-lambda-apis", "--ignore-changes"])
            .args([
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port.to_string(),
            ])
            .arg("--manifest-path")
            .arg(root.join("Cargo.toml"))
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(log_file(logs, "cargo-lambda-watch.log"))
            .stderr(log_file(logs, "cargo-lambda-watch.log"))
            .spawn()
            .expect("cargo lambda watch");
        self.children.push(child);
    }

    fn spawn_function(&mut self, function: &str, port: u16, logs: &Path) {
        let binary = bin_dir().join(function);
        assert!(
            binary.exists(),
            "{} is missing: build the binaries first (`cargo build --workspace --all-targets`; make test does)",
            binary.display()
        );
        let child = Command::new(binary)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt/{function}"),
            )
            .stdin(Stdio::null())
            .stdout(log_file(logs, &format!("{function}.log")))
            .stderr(log_file(logs, &format!("{function}.log")))
            .spawn()
            .expect("function binary");
        self.children.push(child);
    }
}

/// An API Gateway HTTP API event (payload format 2.0) for `method path` with a form `body`, as
/// API Gateway would send it for a request from `source_ip`: the caller's address is in
/// `requestContext.http.sourceIp`, the one place the functions read it from (never a header).
pub fn http_api_event(
    method: &str,
    path: &str,
    source_ip: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> serde_json::Value {
    let user_agent = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
        .map(|(_, value)| *value)
        .unwrap_or("");
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), (*value).into()))
        .collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": user_agent,
            },
            "requestId": crate::unique_name("request"),
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": now,
        },
        "body": body,
        "isBase64Encoded": false,
    })
}

/// What a function answered through the Lambda Invoke API: an API Gateway response.
#[derive(Debug)]
pub struct InvokeResponse {
    pub status: u16,
    pub headers: serde_json::Value,
    pub body: String,
}

impl LocalStack {
    /// Sends `event` straight to `function` through `cargo lambda watch`'s Lambda Invoke API
    /// (`POST /2015-03-31/functions/<function>/invocations`, as `aws lambda invoke` would), not
    /// through its HTTP routing: so the test, like API Gateway, decides what the event's
    /// request context says (its `sourceIp` above all). Returns the function's API Gateway
    /// response, its body decoded.
    pub async fn invoke(&self, function: &str, event: &serde_json::Value) -> InvokeResponse {
        use base64::Engine;
        let response = reqwest::Client::new()
            .post(format!(
                "{}/2015-03-31/functions/{function}/invocations",
                self.base_url
            ))
            .json(event)
            .send()
            .await
            .expect("Lambda Invoke API");
        assert_eq!(response.status(), 200, "the Invoke API ran {function}");
        let answer: serde_json::Value = response.json().await.expect("the function's answer");
        let raw = answer["body"].as_str().unwrap_or_default();
        let body = if answer["isBase64Encoded"].as_bool().unwrap_or(false) {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw)
                .expect("base64 body");
            String::from_utf8(bytes).expect("UTF-8 body")
        } else {
            raw.to_owned()
        };
        InvokeResponse {
            status: answer["statusCode"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or_else(|| panic!("no statusCode in {answer}")),
            headers: answer["headers"].clone(),
            body,
        }
    }

    /// `POST /device/code` for the public client, as a device at `source_ip` would send it
    /// through API Gateway (see [`LocalStack::invoke`]); returns the device authorization
    /// response (RFC 8628 §3.2).
    pub async fn request_code_from(&self, source_ip: &str, user_agent: &str) -> serde_json::Value {
        let body =
            serde_urlencoded::to_string([("client_id", self.pool.public_client_id.as_str())])
                .expect("form");
        let host = self.base_url.trim_start_matches("http://").to_owned();
        let event = http_api_event(
            "POST",
            "/device/code",
            source_ip,
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("host", host.as_str()),
                ("user-agent", user_agent),
            ],
            &body,
        );
        let response = self.invoke("device-code", &event).await;
        assert_eq!(response.status, 200, "{}", response.body);
        serde_json::from_str(&response.body).expect("JSON")
    }
}

fn log_file(dir: &Path, name: &str) -> Stdio {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(name))
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::null())
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
