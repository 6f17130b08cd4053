//! Reading requests strictly: form-encoded bodies, the query string, and what the request
//! says about its sender (source address, `User-Agent`). The answers are written by
//! [`crate::wire`].
//!
//! Everything a client can get wrong ends here as an [`OAuthError`] with a 4xx and a JSON body
//! `{"error", "error_description"}` (RFC 6749 §5.2), never a 5xx or a panic: wrong method or
//! content type, bodies too large, not UTF-8 or not form syntax, and parameters sent twice
//! (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once").
//! Parameters sent without a value are treated as omitted (§3.1); unknown ones are ignored.

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use portal_auth_domain::{DeviceInfo, OAuthError};

/// The largest form body accepted: every legitimate request here is well under 1 KiB.
pub const MAX_BODY_BYTES: usize = 8 * 1024;
/// Request headers stored on a grant are cut to this many characters.
const MAX_STORED_HEADER_CHARS: usize = 256;

/// The parameters of a `application/x-www-form-urlencoded` POST body.
#[derive(Debug, Default)]
pub struct Form {
    params: HashMap<String, String>,
}

impl Form {
    /// Reads the body of a POST strictly; see the module docs for what is refused.
    pub fn parse(req: &Request) -> Result<Form, OAuthError> {
        if req.method() != http::Method::POST {
            return Err(
                OAuthError::invalid_request("this endpoint accepts POST only").with_status(405),
            );
        }
        let bytes: &[u8] = match req.body() {
            Body::Empty => &[],
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            _ => &[],
        };
        // An empty body without a Content-Type is an empty form (`curl -u id:secret -X POST`,
        // a confidential client that sends nothing but its Basic credentials).
        let empty_untyped =
            bytes.is_empty() && !req.headers().contains_key(http::header::CONTENT_TYPE);
        if !empty_untyped && !is_form_content_type(req) {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            )
            .with_status(415));
        }
        Self::from_bytes(bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Form, OAuthError> {
        if bytes.len() > MAX_BODY_BYTES {
            return Err(OAuthError::invalid_request(format!(
                "the body is larger than {MAX_BODY_BYTES} bytes"
            ))
            .with_status(413));
        }
        if std::str::from_utf8(bytes).is_err() {
            return Err(OAuthError::invalid_request("the body is not UTF-8"));
        }
        let mut params = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(bytes) {
            if name.contains('\u{FFFD}') || value.contains('\u{FFFD}') {
                return Err(OAuthError::invalid_request(
                    "a parameter is not valid percent-encoded UTF-8",
                ));
            }
            if value.is_empty() {
                continue;
            }
            if params
                .insert(name.to_string(), value.into_owned())
                .is_some()
            {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {} was sent more than once",
                    printable(&name)
                )));
            }
        }
        Ok(Form { params })
    }

    /// Every parameter with its value, in no particular order (the fuzz properties compare
    /// them with the body they were read from, `fuzz/props`).
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    pub fn require(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("parameter {name} is required")))
    }
}

impl Form {
    /// The parameters of a POST that carries them in its query string and has no body (the
    /// portal dialect's shape), read as strictly as a body: the same size limit, UTF-8 and
    /// no parameter twice. A body is refused rather than ignored: a client that sends one
    /// means something this endpoint would not do.
    pub fn from_query(req: &Request) -> Result<Form, OAuthError> {
        if req.method() != http::Method::POST {
            return Err(
                OAuthError::invalid_request("this endpoint accepts POST only").with_status(405),
            );
        }
        let has_body = match req.body() {
            Body::Text(t) => !t.is_empty(),
            Body::Binary(b) => !b.is_empty(),
            _ => false,
        };
        if has_body {
            return Err(OAuthError::invalid_request(
                "this endpoint takes its parameters in the query string and no body",
            ));
        }
        Self::from_bytes(req.uri().query().unwrap_or_default().as_bytes())
    }
}

fn is_form_content_type(req: &Request) -> bool {
    req.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// A parameter name safe to echo in an error description: short and plain.
fn printable(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    if clean.is_empty() {
        "(unnamed)".into()
    } else {
        clean
    }
}

/// The most query parameters read; every query here has at most four.
pub const MAX_QUERY_PARAMS: usize = 32;

/// The query parameters of the request URI. A parameter given twice counts as absent: a
/// request that names two codes or two states is not one to act on. A query of more than
/// [`MAX_QUERY_PARAMS`] pairs has none: reading only the first ones would let a name given
/// again after them pass as given once.
pub fn query(req: &Request) -> HashMap<String, String> {
    let mut params: HashMap<String, Option<String>> = HashMap::new();
    let raw = req.uri().query().unwrap_or_default();
    let pairs = url::form_urlencoded::parse(raw.as_bytes());
    if pairs.clone().nth(MAX_QUERY_PARAMS).is_some() {
        return HashMap::new();
    }
    for (name, value) in pairs {
        params
            .entry(name.into_owned())
            .and_modify(|v| *v = None)
            .or_insert(Some(value.into_owned()));
    }
    params
        .into_iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect()
}

/// What the request says about the device (RFC 8628 §5.4): its address and `User-Agent`.
pub fn device_info(req: &Request) -> DeviceInfo {
    DeviceInfo {
        ip: source_ip(req),
        user_agent: user_agent(req),
    }
}

/// The address the request came from, as API Gateway saw it. Behind an Application Load
/// Balancer, which puts no address in its event, it is the last hop of `X-Forwarded-For`: the
/// one the ALB itself appended (earlier hops are whatever the client sent, and are ignored).
/// Any other event source has no address (`None`), which every caller treats as unknown.
pub fn source_ip(req: &Request) -> Option<String> {
    let ip = match req.request_context_ref()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.clone(),
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.clone(),
        RequestContext::Alb(_) => last_forwarded_hop(req),
        _ => None,
    };
    ip.map(|ip| truncate(&ip))
}

/// The last address of the last `X-Forwarded-For` header, if it parses as an IP address.
fn last_forwarded_hop(req: &Request) -> Option<String> {
    let last = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .next_back()?
        .to_str()
        .ok()?
        .rsplit(',')
        .next()?
        .trim();
    last.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

/// The `User-Agent`, cut to a bounded length.
pub fn user_agent(req: &Request) -> Option<String> {
    req.headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map(truncate)
}

fn truncate(s: &str) -> String {
    s.chars().take(MAX_STORED_HEADER_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_auth_domain::ErrorCode;

    #[test]
    fn duplicates_are_refused_and_empty_values_omitted() {
        let err = Form::from_bytes(b"a=1&a=2").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.description.contains("more than once"));
        let form = Form::from_bytes(b"a=&b=x+y&c=%41").unwrap();
        assert_eq!(form.get("a"), None);
        assert_eq!(form.get("b"), Some("x y"));
        assert_eq!(form.get("c"), Some("A"));
    }

    #[test]
    fn oversized_and_non_utf8_bodies_are_400s_or_413s() {
        let big = vec![b'a'; MAX_BODY_BYTES + 1];
        assert_eq!(Form::from_bytes(&big).unwrap_err().status(), 413);
        assert_eq!(Form::from_bytes(&[0xff, 0xfe]).unwrap_err().status(), 400);
        assert_eq!(Form::from_bytes(b"a=%ff").unwrap_err().status(), 400);
    }

    fn post(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = http::Request::builder()
            .method("POST")
            .uri("https://x/device/code");
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    #[test]
    fn an_empty_untyped_body_is_an_empty_form_and_nothing_else_is() {
        // Regression (issue 9, item 9): the README's `curl -u id:secret -X POST` got 415.
        assert!(Form::parse(&post(None, "")).is_ok());
        assert_eq!(
            Form::parse(&post(None, "client_id=x"))
                .unwrap_err()
                .status(),
            415
        );
        assert_eq!(
            Form::parse(&post(Some("application/json"), ""))
                .unwrap_err()
                .status(),
            415
        );
        assert_eq!(
            Form::parse(&post(Some("application/x-www-form-urlencoded"), "a=1"))
                .unwrap()
                .get("a"),
            Some("1")
        );
    }

    #[test]
    fn query_parameters_are_read_as_strictly_as_a_body() {
        let post = |uri: &str, body: &str| {
            http::Request::builder()
                .method("POST")
                .uri(uri)
                .body(Body::Text(body.to_owned()))
                .unwrap()
        };
        let form = Form::from_query(&post("https://x/t?device_code=a&grant_type=b", "")).unwrap();
        assert_eq!(form.get("device_code"), Some("a"));
        assert_eq!(
            Form::from_query(&post("https://x/t?a=1&a=2", ""))
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(
            Form::from_query(&post("https://x/t?a=1", "a=1"))
                .unwrap_err()
                .status(),
            400,
            "a body where none belongs"
        );
        let huge = format!("https://x/t?a={}", "b".repeat(MAX_BODY_BYTES));
        assert_eq!(
            Form::from_query(&post(&huge, "")).unwrap_err().status(),
            413
        );
        let get = http::Request::builder()
            .uri("https://x/t")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(Form::from_query(&get).unwrap_err().status(), 405);
    }

    #[test]
    fn behind_an_alb_the_source_is_the_last_forwarded_hop() {
        use lambda_http::aws_lambda_events::alb::AlbTargetGroupRequestContext;
        let alb = |xff: Option<&str>| {
            let mut builder = http::Request::builder().uri("https://x/device/code");
            if let Some(v) = xff {
                builder = builder.header("x-forwarded-for", v);
            }
            builder
                .body(Body::Empty)
                .unwrap()
                .with_request_context(RequestContext::Alb(AlbTargetGroupRequestContext::default()))
        };
        assert_eq!(
            source_ip(&alb(Some("203.0.113.9, 198.51.100.7"))).as_deref(),
            Some("198.51.100.7"),
            "the client-written first hop is not trusted"
        );
        assert_eq!(source_ip(&alb(Some("not-an-ip"))), None);
        assert_eq!(source_ip(&alb(None)), None);
    }

    #[test]
    fn a_parameter_repeated_after_the_32nd_is_not_picked() {
        // Found by the `callback_query` fuzz property (fuzz/regressions/callback_query): only the first 32 pairs were
        // read, so `state` given once among them and again after them was silently taken.
        let filler: String = (0..40).map(|i| format!("p{i}=x&")).collect();
        let uri = format!("https://x/device/callback?state=first&{filler}state=second");
        let req = http::Request::builder().uri(uri).body(Body::Empty).unwrap();
        assert_eq!(query(&req).get("state"), None);
    }

    #[test]
    fn echoed_names_are_sanitized() {
        let err = Form::from_bytes(b"%3Cscript%3E=1&%3Cscript%3E=2").unwrap_err();
        assert!(!err.description.contains('<'));
    }
}
