//! The wire: every HTTP exchange with the portal's OAuth endpoints.
//!
//! - discovery, RFC 8414: `GET <base>/.well-known/oauth-authorization-server`, with the issuer
//!   checked against the base URL (§3.3) and every endpoint held to the transport rule;
//! - the device authorization request, RFC 8628 §3.1–3.2;
//! - the token request (one poll), RFC 8628 §3.4–3.5, and the refresh, RFC 6749 §6;
//! - revocation of the access and refresh tokens, RFC 7009, when the metadata names an
//!   endpoint.
//!
//! Errors keep the distinction callers need: [`ServerError::OAuth`] is the server's RFC 6749
//! §5.2 answer; [`ServerError::Unreachable`] and [`ServerError::Status`] (5xx, 429) are worth
//! retrying; [`ServerError::Unexpected`] is not. No token or device code is ever put in an error.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::config::{BaseUrl, ClientId, check_transport};

pub const WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
pub const REFRESH_GRANT: &str = "refresh_token";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What went wrong talking to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerError {
    /// No HTTP answer: connection refused, DNS, TLS, timeout.
    Unreachable { url: String, detail: String },
    /// A server-side failure (5xx) or rate limit (429).
    Status { url: String, status: u16 },
    /// An RFC 6749 §5.2 error answer.
    OAuth {
        status: u16,
        error: String,
        description: Option<String>,
        /// RFC 8628 `slow_down` answers from this server carry the raised interval.
        interval: Option<u64>,
    },
    /// An answer that is neither success nor an OAuth error, or metadata that fails its checks.
    Unexpected { url: String, detail: String },
}

impl ServerError {
    /// The OAuth `error` code, if this is an OAuth error answer.
    pub fn oauth_code(&self) -> Option<&str> {
        match self {
            ServerError::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Worth trying again later: the server was not reached or failed on its side.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ServerError::Unreachable { .. } | ServerError::Status { .. }
        )
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Unreachable { url, detail } => write!(f, "cannot reach {url}: {detail}"),
            ServerError::Status { url, status } => {
                write!(f, "{url} answered HTTP {status} (a server-side error)")
            }
            ServerError::OAuth {
                error, description, ..
            } => match description {
                Some(d) => write!(
                    f,
                    "the server answered {error}: {}",
                    crate::ui::printable(d)
                ),
                None => write!(f, "the server answered {error}"),
            },
            ServerError::Unexpected { url, detail } => {
                write!(f, "unexpected answer from {url}: {detail}")
            }
        }
    }
}

/// The endpoints discovery found, each checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub device_authorization: String,
    pub token: String,
    pub revocation: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Metadata {
    issuer: String,
    device_authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    #[serde(default)]
    revocation_endpoint: Option<String>,
    #[serde(default)]
    grant_types_supported: Option<Vec<String>>,
}

/// RFC 8628 §3.2. The device code is a credential until approved: it never `Debug`-prints.
#[derive(Clone, Deserialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    pub expires_in: u64,
    #[serde(default)]
    pub interval: Option<u64>,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &"<redacted>")
            .field("verification_uri", &self.verification_uri)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// A successful token response (RFC 6749 §5.1); tokens never `Debug`-print.
#[derive(Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub scope: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default)]
    interval: Option<u64>,
}

/// An HTTP client for one portal. Redirects are not followed: an OAuth endpoint that
/// redirects a POST carrying a refresh token is not one to follow.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
}

impl OAuthClient {
    pub fn new() -> Result<Self, ServerError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("portal-login/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ServerError::Unexpected {
                url: String::new(),
                detail: format!("cannot build an HTTP client: {e}"),
            })?;
        Ok(Self { http })
    }

    /// RFC 8414 discovery.
    pub async fn discover(&self, base: &BaseUrl) -> Result<Endpoints, ServerError> {
        let url = base.join(WELL_KNOWN);
        let response = self.http.get(&url).send().await;
        let (status, body) = receive(&url, response).await?;
        read_metadata(base, &url, status, &body)
    }

    /// RFC 8628 §3.1.
    pub async fn device_authorization(
        &self,
        endpoints: &Endpoints,
        client_id: &ClientId,
        scope: Option<&str>,
    ) -> Result<DeviceAuthorization, ServerError> {
        let mut form = vec![("client_id", client_id.as_str())];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let url = &endpoints.device_authorization;
        let response = self.http.post(url).form(&form).send().await;
        let (status, body) = receive(url, response).await?;
        read_device_authorization(url, status, &body)
    }

    /// RFC 8628 §3.4: one poll.
    pub async fn poll(
        &self,
        endpoints: &Endpoints,
        client_id: &ClientId,
        device_code: &str,
    ) -> Result<TokenResponse, ServerError> {
        let form = [
            ("grant_type", DEVICE_CODE_GRANT),
            ("client_id", client_id.as_str()),
            ("device_code", device_code),
        ];
        self.post(&endpoints.token, &form).await
    }

    /// RFC 6749 §6.
    pub async fn refresh(
        &self,
        endpoints: &Endpoints,
        client_id: &ClientId,
        refresh_token: &str,
    ) -> Result<TokenResponse, ServerError> {
        let form = [
            ("grant_type", REFRESH_GRANT),
            ("client_id", client_id.as_str()),
            ("refresh_token", refresh_token),
        ];
        self.post(&endpoints.token, &form).await
    }

    /// RFC 7009 §2.1, `token_type_hint` = `hint` (`access_token`, `refresh_token`); a 200
    /// with any body is success.
    pub async fn revoke(
        &self,
        revocation_endpoint: &str,
        client_id: &ClientId,
        token: &str,
        hint: &str,
    ) -> Result<(), ServerError> {
        let form = [
            ("token", token),
            ("token_type_hint", hint),
            ("client_id", client_id.as_str()),
        ];
        let response = self.http.post(revocation_endpoint).form(&form).send().await;
        let response = response.map_err(|e| unreachable(revocation_endpoint, &e))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(classify_failure(revocation_endpoint, status, &body))
    }

    async fn post<T: DeserializeOwned>(
        &self,
        url: &str,
        form: &[(&str, &str)],
    ) -> Result<T, ServerError> {
        let response = self.http.post(url).form(form).send().await;
        read_answer(url, response).await
    }
}

async fn read_answer<T: DeserializeOwned>(
    url: &str,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, ServerError> {
    let (status, body) = receive(url, response).await?;
    read_body(url, status, &body)
}

/// The status and body of an answer, or why there is none.
async fn receive(
    url: &str,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<(u16, Vec<u8>), ServerError> {
    let response = response.map_err(|e| unreachable(url, &e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| unreachable(url, &e))?;
    Ok((status, body.to_vec()))
}

/// RFC 8414 metadata from `url`'s answer, checked ([`check_metadata`]). This and the two
/// below read what a server sent without any I/O, so the fuzz targets (`fuzz/`) feed them
/// hostile bytes exactly as the client does.
pub fn read_metadata(
    base: &BaseUrl,
    url: &str,
    status: u16,
    body: &[u8],
) -> Result<Endpoints, ServerError> {
    check_metadata(base, url, read_body(url, status, body)?)
}

/// An RFC 8628 §3.2 answer, its verification URIs held to [`check_verification_uri`].
pub fn read_device_authorization(
    url: &str,
    status: u16,
    body: &[u8],
) -> Result<DeviceAuthorization, ServerError> {
    let answer: DeviceAuthorization = read_body(url, status, body)?;
    check_verification_uri(url, &answer.verification_uri)?;
    if let Some(complete) = &answer.verification_uri_complete {
        check_verification_uri(url, complete)?;
    }
    Ok(answer)
}

/// The expected JSON of a 2xx answer (a token response, ...), else the failure classified:
/// an RFC 6749 §5.2 error body, a server-side failure, or something unexpected.
pub fn read_body<T: DeserializeOwned>(
    url: &str,
    status: u16,
    body: &[u8],
) -> Result<T, ServerError> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(body).map_err(|e| ServerError::Unexpected {
            url: url.to_owned(),
            detail: format!("HTTP {status} with a body that is not the expected JSON ({e})"),
        });
    }
    Err(classify_failure(url, status, body))
}

fn classify_failure(url: &str, status: u16, body: &[u8]) -> ServerError {
    if status >= 500 || status == 429 {
        return ServerError::Status {
            url: url.to_owned(),
            status,
        };
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) if (400..500).contains(&status) => ServerError::OAuth {
            status,
            error: crate::ui::printable(&e.error),
            description: e.error_description,
            interval: e.interval,
        },
        _ => ServerError::Unexpected {
            url: url.to_owned(),
            detail: format!("HTTP {status}"),
        },
    }
}

/// The innermost cause is the readable one ("Connection refused (os error 111)").
fn unreachable(url: &str, e: &reqwest::Error) -> ServerError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut innermost = None;
    while let Some(c) = cause {
        innermost = Some(c.to_string());
        cause = c.source();
    }
    let detail = match innermost {
        Some(inner) => format!("{what} ({inner})"),
        None => what.to_owned(),
    };
    ServerError::Unreachable {
        url: url.to_owned(),
        detail,
    }
}

fn check_metadata(base: &BaseUrl, url: &str, m: Metadata) -> Result<Endpoints, ServerError> {
    let bad = |detail: String| ServerError::Unexpected {
        url: url.to_owned(),
        detail,
    };
    // RFC 8414 §3.3: the issuer must be the identifier the metadata was fetched for, or a
    // server could pass off another's endpoints (mix-up).
    if m.issuer.trim_end_matches('/') != base.as_str() {
        return Err(bad(format!(
            "its issuer is {:?}, not {base}; if that is the portal's address, use it as --url",
            crate::ui::printable(&m.issuer)
        )));
    }
    if let Some(grants) = &m.grant_types_supported
        && !grants.iter().any(|g| g == DEVICE_CODE_GRANT)
    {
        return Err(bad("the server does not offer the device code grant".into()));
    }
    let endpoint = |name: &str, value: Option<String>| -> Result<String, ServerError> {
        let value = value.ok_or_else(|| bad(format!("no {name} in the metadata")))?;
        let parsed = url::Url::parse(&value).map_err(|e| bad(format!("{name}: {e}")))?;
        check_transport(&parsed).map_err(|e| bad(format!("{name}: {e}")))?;
        Ok(value)
    };
    Ok(Endpoints {
        device_authorization: endpoint(
            "device_authorization_endpoint",
            m.device_authorization_endpoint,
        )?,
        token: endpoint("token_endpoint", m.token_endpoint)?,
        revocation: match m.revocation_endpoint {
            Some(r) => Some(endpoint("revocation_endpoint", Some(r))?),
            None => None,
        },
    })
}

/// The page we print and may open in a browser must be a web page, nothing a desktop
/// handler would run (`file:`, custom schemes).
fn check_verification_uri(url: &str, uri: &str) -> Result<(), ServerError> {
    match url::Url::parse(uri) {
        Ok(u) if matches!(u.scheme(), "https" | "http") => Ok(()),
        _ => Err(ServerError::Unexpected {
            url: url.to_owned(),
            detail: format!(
                "the verification URI {:?} is not an http(s) URL",
                crate::ui::printable(uri)
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(issuer: &str) -> Metadata {
        Metadata {
            issuer: issuer.into(),
            device_authorization_endpoint: Some("https://api.example/prod/device/code".into()),
            token_endpoint: Some("https://api.example/prod/device/token".into()),
            revocation_endpoint: None,
            grant_types_supported: Some(vec![DEVICE_CODE_GRANT.into(), REFRESH_GRANT.into()]),
        }
    }

    fn base() -> BaseUrl {
        BaseUrl::parse("https://api.example/prod").unwrap()
    }

    #[test]
    fn metadata_for_this_issuer_gives_its_endpoints() {
        let endpoints = check_metadata(&base(), "u", metadata("https://api.example/prod")).unwrap();
        assert_eq!(endpoints.token, "https://api.example/prod/device/token");
        assert_eq!(endpoints.revocation, None);
    }

    #[test]
    fn metadata_of_another_issuer_is_refused() {
        let err = check_metadata(&base(), "u", metadata("https://evil.example")).unwrap_err();
        assert!(err.to_string().contains("issuer"), "{err}");
    }

    #[test]
    fn metadata_endpoints_must_be_https_or_loopback() {
        let mut m = metadata("https://api.example/prod");
        m.token_endpoint = Some("http://api.example/prod/device/token".into());
        assert!(check_metadata(&base(), "u", m).is_err());
        let mut m = metadata("https://api.example/prod");
        m.revocation_endpoint = Some("http://api.example/revoke".into());
        assert!(check_metadata(&base(), "u", m).is_err());
    }

    #[test]
    fn metadata_without_the_device_grant_is_refused() {
        let mut m = metadata("https://api.example/prod");
        m.grant_types_supported = Some(vec!["authorization_code".into()]);
        let err = check_metadata(&base(), "u", m).unwrap_err();
        assert!(err.to_string().contains("device code grant"), "{err}");
    }

    #[test]
    fn failures_are_classified_by_status_and_body() {
        let pending = br#"{"error":"authorization_pending","error_description":"wait"}"#;
        let e = classify_failure("u", 400, pending);
        assert_eq!(e.oauth_code(), Some("authorization_pending"));
        assert!(!e.is_transient());
        let slow = br#"{"error":"slow_down","interval":10}"#;
        assert!(matches!(
            classify_failure("u", 400, slow),
            ServerError::OAuth {
                interval: Some(10),
                ..
            }
        ));
        assert!(classify_failure("u", 503, b"").is_transient());
        assert!(classify_failure("u", 429, b"").is_transient());
        assert!(matches!(
            classify_failure("u", 404, b"<html>"),
            ServerError::Unexpected { .. }
        ));
    }

    #[test]
    fn verification_uris_must_be_web_pages() {
        assert!(check_verification_uri("u", "https://a.example/device").is_ok());
        for bad in ["file:///etc/passwd", "javascript:alert(1)", "not a url"] {
            assert!(check_verification_uri("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_never_prints_codes_or_tokens() {
        let device: DeviceAuthorization = serde_json::from_str(
            r#"{"device_code":"dc-secret","user_code":"BCDF-GHJK","verification_uri":"https://x/device","expires_in":600}"#,
        )
        .unwrap();
        assert!(!format!("{device:?}").contains("dc-secret"));
        let tokens: TokenResponse = serde_json::from_str(
            r#"{"access_token":"at-secret","refresh_token":"rt-secret","expires_in":3600}"#,
        )
        .unwrap();
        let printed = format!("{tokens:?}");
        assert!(!printed.contains("secret"), "{printed}");
    }
}
