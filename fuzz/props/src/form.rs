//! Target `form`: form-encoded POST bodies ([`Form::parse`]) and the portal dialect's
//! parameters in the query string ([`Form::from_query`]).
//!
//! Properties: a refusal is a 4xx; a parse that succeeds holds exactly the pairs of the input
//! that have a value (RFC 6749 §3.1: no value is omitted), each name once, and re-encoding
//! them reads back the same parameters (or, when percent-encoding grew them past the size
//! bound, is refused with 413 like any body that large); a name sent twice with a value is refused, never
//! resolved to one of the values.

use std::collections::HashMap;

use lambda_http::{Body, Request};
use portal_auth_device::request::{Form, MAX_BODY_BYTES};

/// The first byte picks the body (even) or the query string (odd); the rest is it.
pub fn check_form(data: &[u8]) {
    let Some((mode, input)) = data.split_first() else {
        return;
    };
    let result = if mode & 1 == 0 {
        Form::parse(&post_body(input))
    } else {
        let Some(req) = post_query(input) else {
            return;
        };
        Form::from_query(&req)
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(input)
        .into_owned()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
    for (k, v) in &pairs {
        by_name.entry(k).or_default().push(v);
    }
    let repeated = by_name.iter().find(|(_, values)| values.len() > 1);
    match result {
        Ok(form) => {
            assert!(input.len() <= MAX_BODY_BYTES);
            assert!(
                std::str::from_utf8(input).is_ok(),
                "accepted a body that is not UTF-8"
            );
            assert!(
                repeated.is_none(),
                "parameter {:?} was sent twice and one value was picked",
                repeated.map(|(k, _)| k)
            );
            let read: HashMap<&str, &str> = form.params().collect();
            let expected: HashMap<&str, &str> = by_name.iter().map(|(k, v)| (*k, v[0])).collect();
            assert_eq!(read, expected, "the form's parameters are not the input's");
            let reencoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.params())
                .finish();
            // Percent-encoding can grow a form past the size bound, which is then refused as
            // any body that large is (413); within it, the same parameters read back.
            match Form::from_bytes(reencoded.as_bytes()) {
                Ok(again) => assert_eq!(again.params().collect::<HashMap<_, _>>(), read),
                Err(e) => assert!(
                    reencoded.len() > MAX_BODY_BYTES && e.status() == 413,
                    "a re-encoded form of {} bytes is refused with {}",
                    reencoded.len(),
                    e.status()
                ),
            }
        }
        Err(e) => assert!(
            (400..500).contains(&e.status()),
            "a form was refused with {}",
            e.status()
        ),
    }
}

fn post_body(body: &[u8]) -> Request {
    http::Request::builder()
        .method("POST")
        .uri("https://portal.test/device/code")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::Binary(body.to_vec()))
        .expect("a fixed request")
}

/// A bodiless POST with `query` as its query string, when `query` can be one verbatim.
fn post_query(query: &[u8]) -> Option<Request> {
    let query = std::str::from_utf8(query).ok()?;
    let req = http::Request::builder()
        .method("POST")
        .uri(format!(
            "https://portal.test/api/v2/authn/device/jwt_token?{query}"
        ))
        .body(Body::Empty)
        .ok()?;
    (req.uri().query() == Some(query)).then_some(req)
}
