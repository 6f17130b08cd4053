//! `spawn_app()`: the device-flow handlers wired to their own moto table and cognito-local
//! pool, with a hand-moved clock and a DynamoDB call counter, called in-process with requests
//! shaped as API Gateway delivers them.

use std::sync::Arc;

use aws_lambda_events::apigw::{
    ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription,
};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use portal_auth_device::{Deps, DeviceConfig};
use portal_auth_domain::{Clock, ManualClock};
use portal_auth_runtime::UserPool;
use serde_json::Value;

use crate::cognito::TestPool;
use crate::dynamodb::{CallCounter, as_function, counting_client, create_table};

pub const BASE_URL: &str = "https://portal.test/prod";
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const DEVICE_IP: &str = "198.51.100.7";
pub const DEVICE_UA: &str = "portal-cli/1.0 (test)";

pub struct TestApp {
    pub deps: Arc<Deps>,
    pub pool: TestPool,
    pub table: String,
    pub calls: CallCounter,
    pub clock: ManualClock,
}

/// What an endpoint answered: status, JSON body and `Cache-Control`.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub cache_control: Option<String>,
    pub www_authenticate: Option<String>,
    pub retry_after: Option<String>,
}

impl Answer {
    /// The `error` member, or "" for a success.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
}

pub async fn spawn_app() -> TestApp {
    let (dynamodb, calls) = counting_client();
    let table = create_table(&dynamodb).await;
    let redirect_uri = format!("{BASE_URL}/device/callback");
    let pool = TestPool::create(&redirect_uri).await;
    let config = DeviceConfig {
        table_name: table.clone(),
        public_base_url: BASE_URL.to_owned(),
        user_pool: UserPool {
            id: pool.pool_id.clone(),
            region: "us-east-1".to_owned(),
        },
        cognito_domain: pool.endpoint.clone(),
        access_token_issuers: vec![format!("{}/{}", pool.endpoint, pool.pool_id)],
        jwks_url: format!("{}/{}/.well-known/jwks.json", pool.endpoint, pool.pool_id),
        device_client_ids: [&pool.public_client_id, &pool.confidential_client_id]
            .iter()
            .filter_map(|id| portal_auth_domain::ClientId::parse(id))
            .collect(),
        device_code_ttl_secs: 600,
        poll_interval_secs: 5,
        verify_max_failures: 10,
        verify_failure_window_secs: 900,
        portal_compat_enabled: true,
        network_prefixes: portal_auth_domain::NetworkPrefixes::default(),
        remote_approval: Default::default(),
        // Every test's requests come from DEVICE_IP; the issuance-limit tests set their own.
        issue_max_per_ip: 10_000,
        issue_window_secs: 900,
        issue_max_per_client_per_minute: 100_000,
    };
    let clock = ManualClock::starting_now();
    let deps = Deps::new(
        config,
        dynamodb,
        pool.client.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
    );
    calls.reset();
    TestApp {
        deps: Arc::new(deps),
        pool,
        table,
        calls,
        clock,
    }
}

/// A request as API Gateway (HTTP API, payload 2.0) hands it to the function.
pub fn request(method: &str, path: &str, content_type: Option<&str>, body: Body) -> Request {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("https://portal.test{path}"))
        .header("user-agent", DEVICE_UA);
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    let mut description = ApiGatewayV2httpRequestContextHttpDescription::default();
    description.method = method.parse().unwrap_or(http::Method::GET);
    description.source_ip = Some(DEVICE_IP.to_owned());
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http = description;
    builder
        .body(body)
        .expect("request")
        .with_request_context(RequestContext::ApiGatewayV2(context))
}

/// `req` as if it came from `ip` (`None`: an event that names no source address). The
/// functions read the address from the event's request context, never from a header, so tests
/// of address-dependent behaviour build their events with the addresses they need.
pub fn from_address(req: Request, ip: Option<&str>) -> Request {
    let mut context = match req.request_context() {
        RequestContext::ApiGatewayV2(ctx) => ctx,
        _ => ApiGatewayV2httpRequestContext::default(),
    };
    context.http.source_ip = ip.map(str::to_owned);
    req.with_request_context(RequestContext::ApiGatewayV2(context))
}

/// An `Authorization: Basic` value for `id:secret` (RFC 7617).
pub fn basic_auth(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// A form POST.
pub fn form_post(path: &str, form: &str) -> Request {
    request(
        "POST",
        path,
        Some("application/x-www-form-urlencoded"),
        Body::Text(form.to_owned()),
    )
}

/// `http://127.0.0.1:<port>` where nothing listens (bound, then released).
pub fn closed_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    format!("http://127.0.0.1:{port}")
}

pub fn with_header(mut req: Request, name: &'static str, value: &str) -> Request {
    req.headers_mut()
        .insert(name, value.parse().expect("header value"));
    req
}

pub async fn answer_of(response: lambda_http::Response<Body>) -> Answer {
    let header = |name: http::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let cache_control = header(http::header::CACHE_CONTROL);
    let www_authenticate = header(http::header::WWW_AUTHENTICATE);
    let retry_after = header(http::header::RETRY_AFTER);
    let status = response.status().as_u16();
    let body = match response.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or(Value::String(t.clone())),
        Body::Binary(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    Answer {
        status,
        body,
        cache_control,
        www_authenticate,
        retry_after,
    }
}

impl TestApp {
    /// device-code's handler, held to device-code's `IAM_ACTIONS`.
    pub async fn call_device_code(&self, req: Request) -> Answer {
        answer_of(as_function("device-code", device_code::handle(&self.deps, req)).await).await
    }

    /// device-token's handler, held to device-token's `IAM_ACTIONS`.
    pub async fn call_token(&self, req: Request) -> Answer {
        answer_of(as_function("device-token", device_token::handle(&self.deps, req)).await).await
    }

    /// A device authorization for the public client; panics unless it succeeds.
    pub async fn authorize_device(&self) -> Answer {
        let form = format!("client_id={}&scope=openid", self.pool.public_client_id);
        let answer = self
            .call_device_code(form_post("/prod/device/code", &form))
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer
    }

    /// The device code of a fresh device authorization for the public client.
    pub async fn new_device_code(&self) -> String {
        let answer = self.authorize_device().await;
        answer.body["device_code"]
            .as_str()
            .expect("device_code")
            .to_owned()
    }

    /// A poll by `client_id` (public, no secret).
    pub async fn poll(&self, client_id: &str, device_code: &str) -> Answer {
        let form = format!(
            "grant_type={DEVICE_CODE_GRANT}&client_id={client_id}&device_code={device_code}"
        );
        self.call_token(form_post("/prod/device/token", &form))
            .await
    }

    /// The stored grant a (displayed) user code names; panics when there is none.
    pub async fn grant_of_user_code(&self, user_code: &str) -> portal_auth_domain::Grant {
        let code = portal_auth_domain::UserCode::parse(user_code).expect("user code");
        let now = self.clock.now();
        let entry = self
            .deps
            .store
            .user_code_entry(&code, now)
            .await
            .expect("look-up");
        let hash = entry.expect("a live user code").grant;
        self.deps
            .store
            .get(&hash)
            .await
            .expect("get")
            .expect("grant")
    }

    /// The same app (table, pool, clock) with Cognito's hosted UI and token endpoint at `url`
    /// instead: a recording stand-in, or a closed port.
    pub fn with_cognito_domain(&self, url: &str) -> Deps {
        self.with_config(|c| c.cognito_domain = url.to_owned())
    }

    /// This app (table, pool, clock) with its configuration changed by `change`, and a fresh
    /// call counter.
    pub fn reconfigured(self, change: impl FnOnce(&mut DeviceConfig)) -> TestApp {
        let mut config = self.deps.config.clone();
        change(&mut config);
        let (dynamodb, calls) = counting_client();
        let deps = Deps::new(
            config,
            dynamodb,
            self.pool.client.clone(),
            Arc::new(self.clock.clone()) as Arc<dyn Clock>,
        );
        TestApp {
            deps: Arc::new(deps),
            calls,
            ..self
        }
    }

    /// Every item of this app's table, read without the functions' IAM check (a `Scan` is
    /// no function's: tests count what was stored with it).
    pub async fn table_items(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let raw = aws_sdk_dynamodb::Client::new(&crate::sdk_config(&crate::dynamodb::endpoint()));
        raw.scan()
            .table_name(&self.table)
            .consistent_read(true)
            .send()
            .await
            .expect("Scan")
            .items
            .unwrap_or_default()
    }

    /// `req` with the confidential client's HTTP Basic credentials.
    pub fn as_confidential(&self, req: Request) -> Request {
        let auth = basic_auth(
            &self.pool.confidential_client_id,
            &self.pool.confidential_client_secret,
        );
        with_header(req, "authorization", &auth)
    }

    /// The same app (table, pool, clock) with its configuration changed by `change`.
    pub fn with_config(&self, change: impl FnOnce(&mut DeviceConfig)) -> Deps {
        let mut config = self.deps.config.clone();
        change(&mut config);
        let (dynamodb, _) = counting_client();
        Deps::new(
            config,
            dynamodb,
            self.pool.client.clone(),
            Arc::new(self.clock.clone()) as Arc<dyn Clock>,
        )
    }

    /// The same app with DynamoDB at `url` instead (a closed port, to play an outage).
    pub fn with_dynamodb_at(&self, url: &str) -> Deps {
        let dynamodb = aws_sdk_dynamodb::Client::new(&crate::sdk_config(url));
        Deps::new(
            self.deps.config.clone(),
            dynamodb,
            self.pool.client.clone(),
            Arc::new(self.clock.clone()) as Arc<dyn Clock>,
        )
    }

    pub fn advance_secs(&self, secs: u64) {
        self.clock.advance(secs * 1000);
    }

    /// Moves the app's clock up to the machine's, when behind: for tests that verify tokens
    /// cognito-local issues as they go (their `iat` is the machine's time).
    pub fn catch_up_with_wall_clock(&self) {
        let (wall, now) = (portal_auth_domain::SystemClock.now(), self.clock.now());
        self.clock.advance(wall.saturating_sub(now));
    }
}
