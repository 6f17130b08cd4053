//! Writing answers, one module per wire format. [`rfc8628`] is the OAuth one (RFC 8628,
//! RFC 6749 §5, RFC 8414); a second dialect of the same grant is a second writer beside it,
//! reading the same verdicts from [`crate::flow`].
//!
//! What every JSON answer shares lives here: `Cache-Control: no-store` (RFC 6749 §5.1), and
//! errors whose internal cause is logged, never sent.

pub mod portal;
pub mod rfc8628;

use lambda_http::{Body, Response};
use portal_auth_domain::{ErrorCode, OAuthError};
use serde_json::{Map, Value};

/// A JSON answer that no cache may keep (RFC 6749 §5.1, RFC 8628 §3.2).
pub fn json(status: u16, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CACHE_CONTROL, "no-store")
        .header(http::header::PRAGMA, "no-cache")
        .body(Body::Text(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::Empty))
}

/// The error's JSON answer, `{"error", "error_description"}` and any numbers the error carries,
/// then what the dialect adds (`extend`). The internal cause, if any, is logged here and never
/// sent. `invalid_client` is a 401 and so carries `WWW-Authenticate` (RFC 6749 §5.2, RFC 9110
/// §15.5.2).
fn error(err: &OAuthError, extend: impl FnOnce(&mut Map<String, Value>)) -> Response<Body> {
    if err.status() >= 500 {
        tracing::error!(error = err.code.as_str(), cause = ?err.cause().map(|c| c.to_string()), "request failed");
    } else {
        tracing::info!(
            error = err.code.as_str(),
            status = err.status(),
            "request refused"
        );
    }
    let mut body = Map::new();
    body.insert("error".into(), err.code.as_str().into());
    body.insert("error_description".into(), err.description.as_ref().into());
    for (name, value) in err.numbers() {
        body.insert((*name).into(), (*value).into());
    }
    extend(&mut body);
    let mut response = json(err.status(), &Value::Object(body));
    if let Some(secs) = err.retry_after() {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    if err.code == ErrorCode::InvalidClient {
        response.headers_mut().insert(
            http::header::WWW_AUTHENTICATE,
            http::HeaderValue::from_static("Basic realm=\"portal-auth\", charset=\"UTF-8\""),
        );
    }
    response
}
