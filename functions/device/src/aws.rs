//! The AWS SDK's configuration for the device functions, and its one transport.
//!
//! **Configuration from the environment only** ([`portal_auth_runtime::aws`]): the region, the
//! execution role's credentials and the `AWS_ENDPOINT_URL_*` overrides. `aws-config`'s default
//! chain is not linked: in Lambda it found nothing in the profile files it read at every cold
//! start, and it linked the STS client for providers a Lambda never uses (issue 16).
//!
//! **Transport**: the SDK's requests go through [`SdkTransport`], a reqwest client built from
//! the functions' one HTTPS policy ([`portal_auth_runtime::https`]), the same client stack the
//! token endpoint client and the authorizer use. The SDK's own default client is not linked:
//! it brought a second HTTP stack and, through the SDK's `rustls` feature, a legacy rustls with
//! a second crypto backend (ring), and it read the host's ~290 root certificate files on the
//! first request. Retries, timeouts and signing stay the SDK's: a transport only sends one
//! signed request and returns its response.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_credential_types::Credentials as SdkCredentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_types::SdkConfig;
use aws_types::region::Region;
use portal_auth_runtime::aws::{Credentials, endpoint_override};
use portal_auth_runtime::https::Trust;
use portal_auth_runtime::{ConfigError, Env};

/// The SDK's connect timeout when it asks for none (its own default for this behavior version).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// The DynamoDB client (in `AWS_REGION`) and the Cognito client (in the pool's region), each
/// with its `AWS_ENDPOINT_URL_*` override, from the environment alone.
pub fn clients_from_env(
    env: &Env,
    user_pool_region: &str,
    trust: &Trust,
) -> Result<
    (
        aws_sdk_dynamodb::Client,
        aws_sdk_cognitoidentityprovider::Client,
    ),
    ConfigError,
> {
    let credentials = Credentials::from_env(env)?;
    let sdk = sdk_config(env.required("AWS_REGION")?, &credentials, trust);
    let mut dynamodb = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if let Some(url) = endpoint_override(env, "DYNAMODB")? {
        dynamodb = dynamodb.endpoint_url(url);
    }
    let mut cognito = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
        .region(Region::new(user_pool_region.to_owned()));
    if let Some(url) = endpoint_override(env, "COGNITO_IDENTITY_PROVIDER")? {
        cognito = cognito.endpoint_url(url);
    }
    Ok((
        aws_sdk_dynamodb::Client::from_conf(dynamodb.build()),
        aws_sdk_cognitoidentityprovider::Client::from_conf(cognito.build()),
    ))
}

/// One SDK configuration for both clients: `region`, the role's `credentials`, the
/// [`SdkTransport`] over `trust`. Endpoint overrides are per service, on each client's builder.
pub fn sdk_config(region: &str, credentials: &Credentials, trust: &Trust) -> SdkConfig {
    let credentials = SdkCredentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "environment",
    );
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(SdkTransport::new(trust.clone()))
        .build()
}

/// The SDK's HTTP client: one reqwest client, built on the first request (not at cold start)
/// and shared by every SDK client made from the same [`SdkConfig`].
#[derive(Debug, Clone)]
pub struct SdkTransport {
    trust: Arc<Trust>,
    connector: Arc<OnceLock<SharedHttpConnector>>,
}

impl SdkTransport {
    pub fn new(trust: Trust) -> Self {
        Self {
            trust: Arc::new(trust),
            connector: Arc::new(OnceLock::new()),
        }
    }
}

impl HttpClient for SdkTransport {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.connector
            .get_or_init(|| {
                let mut builder = self
                    .trust
                    .client_builder()
                    .connect_timeout(
                        settings
                            .connect_timeout()
                            .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
                    )
                    .redirect(reqwest::redirect::Policy::none());
                if let Some(read) = settings.read_timeout() {
                    builder = builder.read_timeout(read);
                }
                SharedHttpConnector::new(Connector::from_build(builder.build()))
            })
            .clone()
    }
}

#[derive(Debug)]
struct Connector {
    /// Why the client could not be built, if it could not: then every request fails, and none
    /// goes out under another TLS policy (reqwest's default client trusts the host's store).
    http: Result<reqwest::Client, String>,
}

impl Connector {
    fn from_build(built: Result<reqwest::Client, reqwest::Error>) -> Self {
        Self {
            http: built.map_err(|e| format!("the SDK's HTTP client could not be built: {e}")),
        }
    }
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        match &self.http {
            Ok(http) => {
                let http = http.clone();
                HttpConnectorFuture::new(async move { send(&http, request).await })
            }
            Err(why) => {
                HttpConnectorFuture::ready(Err(ConnectorError::other(why.clone().into(), None)))
            }
        }
    }
}

/// Sends one request the SDK built and signed; the SDK's request bodies (JSON documents) are
/// always in memory.
async fn send(
    http: &reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, ConnectorError> {
    let method = reqwest::Method::from_bytes(request.method().as_bytes())
        .map_err(|e| ConnectorError::user(e.into()))?;
    let body = request
        .body()
        .bytes()
        .ok_or_else(|| ConnectorError::user("a streaming request body".into()))?
        .to_vec();
    let mut outbound = http.request(method, request.uri()).body(body);
    for (name, value) in request.headers() {
        outbound = outbound.header(name, value);
    }
    let answer = outbound.send().await.map_err(connector_error)?;
    let status = StatusCode::try_from(answer.status().as_u16())
        .map_err(|e| ConnectorError::other(e.into(), None))?;
    let headers: Vec<(String, String)> = answer
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let body = answer.bytes().await.map_err(connector_error)?;
    let mut response = HttpResponse::new(status, SdkBody::from(body));
    for (name, value) in headers {
        // Appended, so a header sent several times keeps every value; names and values
        // reqwest accepted are valid here too.
        let _ = response.headers_mut().try_append(name, value);
    }
    Ok(response)
}

/// How the SDK should see a transport failure: a timeout, an I/O error (both retried as
/// transient), or something else.
fn connector_error(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else if error.is_connect() || error.is_request() || error.is_body() {
        ConnectorError::io(error.into())
    } else {
        ConnectorError::other(error.into(), None)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;

    /// One canned HTTP answer on 127.0.0.1: the port, and the request it read, whole.
    fn serve_once(answer: &'static str) -> (u16, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            let mut chunk = [0; 4096];
            while !request_complete(&seen) {
                let n = stream.read(&mut chunk).unwrap();
                assert!(n > 0, "the request ended early");
                seen.extend_from_slice(&chunk[..n]);
            }
            stream.write_all(answer.as_bytes()).unwrap();
            String::from_utf8(seen).unwrap()
        });
        (port, server)
    }

    fn request_complete(seen: &[u8]) -> bool {
        let text = String::from_utf8_lossy(seen);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().to_owned())
            })
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        body.len() >= length
    }

    /// A request as the SDK hands it over: built, signed, its body in memory.
    fn request(port: u16) -> HttpRequest {
        let mut request = HttpRequest::new(SdkBody::from(r#"{"TableName":"t"}"#));
        request.set_method("POST").unwrap();
        request
            .set_uri(format!("http://127.0.0.1:{port}/"))
            .unwrap();
        request
            .headers_mut()
            .insert("x-amz-target", "DynamoDB_20120810.GetItem");
        request
    }

    #[tokio::test]
    async fn the_request_goes_out_as_built_and_the_answer_comes_back_whole() {
        let (port, server) = serve_once(
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\nx-amz-multi: a\r\n\
             x-amz-multi: b\r\nconnection: close\r\n\r\n{}",
        );
        let http = Trust::default().client_builder().build().unwrap();
        let answer = send(&http, request(port)).await.unwrap();
        assert_eq!(answer.status().as_u16(), 400);
        assert_eq!(answer.body().bytes(), Some(&b"{}"[..]));
        let multi: Vec<_> = answer.headers().get_all("x-amz-multi").collect();
        assert_eq!(multi, ["a", "b"]);
        let seen = server.join().unwrap();
        assert!(seen.starts_with("POST / HTTP/1.1\r\n"), "{seen}");
        assert!(
            seen.to_ascii_lowercase()
                .contains("x-amz-target: dynamodb_20120810.getitem"),
            "{seen}"
        );
        assert!(seen.ends_with(r#"{"TableName":"t"}"#), "{seen}");
    }

    #[tokio::test]
    async fn a_client_that_could_not_be_built_fails_every_request_and_sends_none() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        // A TLS configuration reqwest cannot use: its build fails.
        let built = reqwest::Client::builder()
            .tls_backend_preconfigured(0_u8)
            .build();
        let connector = Connector::from_build(built);
        let answer = tokio::time::timeout(Duration::from_secs(5), connector.call(request(port)))
            .await
            .expect("an answer at once, not a request in flight");
        let error = answer.unwrap_err();
        assert!(error.is_other(), "{error:?}");
        assert!(
            listener.accept().is_err(),
            "a request went out with another client"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_io_error_which_the_sdk_retries() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let http = Trust::default().client_builder().build().unwrap();
        let error = send(&http, request(port)).await.unwrap_err();
        assert!(error.is_io(), "{error:?}");
    }
}
