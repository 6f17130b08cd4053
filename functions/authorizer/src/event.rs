//! The three events API Gateway sends a Lambda authorizer, told apart by their content.
//!
//! | Shape | Recognised by | Token from |
//! |---|---|---|
//! | REST API TOKEN authorizer | `"type": "TOKEN"` | `authorizationToken` (the configured header's value) |
//! | REST API REQUEST authorizer (and HTTP API payload 1.0) | `"type": "REQUEST"`, no `"version": "2.0"` | the `Authorization` header |
//! | HTTP API payload 2.0 | `"version": "2.0"` | the `Authorization` header |
//!
//! Only what the decision needs is deserialized: every other member, and every header but
//! `Authorization` (matched case-insensitively), is skipped without being copied. When the
//! request carried `Authorization` more than once (two entries in `multiValueHeaders`, or two
//! spellings of the name) the credential is ambiguous and refused. Every member is optional,
//! so any JSON object deserializes; an unrecognised one is refused by the authorizer rather
//! than failing inside the runtime.

use std::fmt;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// The `Authorization` header of a REQUEST event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Authorization {
    #[default]
    Missing,
    One(String),
    /// Sent more than once.
    Ambiguous,
}

impl Authorization {
    fn from_values(mut values: Vec<String>) -> Self {
        match values.len() {
            0 => Self::Missing,
            1 => values.pop().map_or(Self::Missing, Self::One),
            _ => Self::Ambiguous,
        }
    }

    /// REST REQUEST events carry the header twice: last value in `headers`, all of them in
    /// `multiValueHeaders`. They must agree on exactly one value.
    fn from_rest(single: Vec<String>, multi: Vec<String>) -> Self {
        match (Self::from_values(single), Self::from_values(multi)) {
            (Self::Ambiguous, _) | (_, Self::Ambiguous) => Self::Ambiguous,
            (Self::One(a), Self::One(b)) if a != b => Self::Ambiguous,
            (Self::One(a), _) | (Self::Missing, Self::One(a)) => Self::One(a),
            (Self::Missing, Self::Missing) => Self::Missing,
        }
    }
}

/// An authorizer event, reduced to what the decision needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "RawEvent")]
pub enum AuthorizerEvent {
    /// REST API TOKEN authorizer.
    RestToken {
        authorization_token: Option<String>,
        method_arn: Option<String>,
    },
    /// REST API REQUEST authorizer, or HTTP API payload format 1.0 (which expects the same
    /// IAM policy answer).
    RestRequest {
        authorization: Authorization,
        method_arn: Option<String>,
    },
    /// HTTP API payload format 2.0 with simple responses.
    HttpApiV2 { authorization: Authorization },
    /// Not an authorizer event this function understands.
    Unrecognized,
}

impl AuthorizerEvent {
    /// A short name for logs.
    pub fn shape(&self) -> &'static str {
        match self {
            Self::RestToken { .. } => "rest-token",
            Self::RestRequest { .. } => "rest-request",
            Self::HttpApiV2 { .. } => "http-api-v2",
            Self::Unrecognized => "unrecognized",
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawEvent {
    version: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    authorization_token: Option<String>,
    method_arn: Option<String>,
    #[serde(deserialize_with = "authorization_values")]
    headers: Vec<String>,
    #[serde(deserialize_with = "authorization_values")]
    multi_value_headers: Vec<String>,
}

impl From<RawEvent> for AuthorizerEvent {
    fn from(raw: RawEvent) -> Self {
        match (raw.version.as_deref(), raw.kind.as_deref()) {
            (Some("2.0"), _) => Self::HttpApiV2 {
                authorization: Authorization::from_values(raw.headers),
            },
            (_, Some("TOKEN")) => Self::RestToken {
                authorization_token: raw.authorization_token,
                method_arn: raw.method_arn,
            },
            (_, Some("REQUEST")) => Self::RestRequest {
                authorization: Authorization::from_rest(raw.headers, raw.multi_value_headers),
                method_arn: raw.method_arn,
            },
            _ => Self::Unrecognized,
        }
    }
}

/// Reads a header map (`{name: value}` or `{name: [values]}`, possibly `null`) and keeps only
/// the values of `Authorization`, in any case.
fn authorization_values<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_option(OptionalHeaders)
}

struct OptionalHeaders;

impl<'de> Visitor<'de> for OptionalHeaders {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a header map or null")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(HeaderMap)
    }
}

struct HeaderMap;

impl<'de> Visitor<'de> for HeaderMap {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a header map")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut values = Vec::new();
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if name.eq_ignore_ascii_case("authorization") {
                match map.next_value::<Option<OneOrMany>>()? {
                    Some(OneOrMany::One(v)) => values.push(v),
                    Some(OneOrMany::Many(vs)) => values.extend(vs),
                    None => {}
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(values)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: serde_json::Value) -> AuthorizerEvent {
        serde_json::from_value(value).unwrap()
    }

    fn fixture(name: &str) -> AuthorizerEvent {
        let path = format!(
            "{}/../../tests/fixtures/authorizer/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn the_shipped_fixtures_are_told_apart() {
        assert!(matches!(
            fixture("rest-token.json"),
            AuthorizerEvent::RestToken { authorization_token: Some(t), method_arn: Some(_) }
                if t.starts_with("Bearer ")
        ));
        assert!(matches!(
            fixture("rest-request.json"),
            AuthorizerEvent::RestRequest { authorization: Authorization::One(t), method_arn: Some(_) }
                if t.starts_with("Bearer ")
        ));
        assert!(matches!(
            fixture("http-api-v2.json"),
            AuthorizerEvent::HttpApiV2 { authorization: Authorization::One(t) }
                if t.starts_with("Bearer ")
        ));
    }

    #[test]
    fn http_api_v1_payload_is_answered_like_rest_request() {
        let event = parse(json!({
            "version": "1.0", "type": "REQUEST", "methodArn": "arn:x/y/GET/z",
            "headers": {"authorization": "Bearer t"}
        }));
        assert_eq!(
            event,
            AuthorizerEvent::RestRequest {
                authorization: Authorization::One("Bearer t".into()),
                method_arn: Some("arn:x/y/GET/z".into()),
            }
        );
    }

    #[test]
    fn header_name_is_case_insensitive_and_others_are_skipped() {
        for name in ["Authorization", "authorization", "AUTHORIZATION"] {
            let event = parse(json!({
                "version": "2.0", "type": "REQUEST",
                "headers": {"x-other": "1", name: "Bearer t", "n": {"nested": [1]}}
            }));
            assert_eq!(
                event,
                AuthorizerEvent::HttpApiV2 {
                    authorization: Authorization::One("Bearer t".into())
                }
            );
        }
    }

    #[test]
    fn repeated_authorization_is_ambiguous() {
        let rest = |headers: serde_json::Value, multi: serde_json::Value| match parse(
            json!({"type": "REQUEST", "headers": headers, "multiValueHeaders": multi}),
        ) {
            AuthorizerEvent::RestRequest { authorization, .. } => authorization,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            rest(
                json!({"Authorization": "b"}),
                json!({"Authorization": ["a", "b"]})
            ),
            Authorization::Ambiguous
        );
        assert_eq!(
            rest(
                json!({"Authorization": "a", "authorization": "b"}),
                json!(null)
            ),
            Authorization::Ambiguous
        );
        assert_eq!(
            rest(
                json!({"Authorization": "a"}),
                json!({"Authorization": ["b"]})
            ),
            Authorization::Ambiguous
        );
        assert_eq!(
            rest(
                json!({"Authorization": "a"}),
                json!({"Authorization": ["a"]})
            ),
            Authorization::One("a".into())
        );
        assert_eq!(rest(json!(null), json!(null)), Authorization::Missing);
        assert_eq!(
            rest(json!({}), json!({"authorization": ["a"]})),
            Authorization::One("a".into())
        );
    }

    #[test]
    fn anything_else_is_unrecognized_not_an_error() {
        for value in [json!({}), json!({"type": "WEIRD"}), json!({"Records": []})] {
            assert_eq!(parse(value), AuthorizerEvent::Unrecognized);
        }
    }

    #[test]
    fn aws_lambda_events_fixtures_parse() {
        let dir = aws_fixtures_dir();
        let cases = [
            ("example-apigw-custom-auth-request.json", "rest-token"),
            (
                "example-apigw-custom-auth-request-type-request.json",
                "rest-request",
            ),
            (
                "example-apigw-v2-custom-authorizer-v1-request.json",
                "rest-request",
            ),
            (
                "example-apigw-v2-custom-authorizer-v2-request.json",
                "http-api-v2",
            ),
            (
                "example-apigw-v2-custom-authorizer-v2-request-null-maps.json",
                "http-api-v2",
            ),
        ];
        for (file, shape) in cases {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let event: AuthorizerEvent = serde_json::from_str(&text).unwrap();
            assert_eq!(event.shape(), shape, "{file}");
        }
    }

    /// The fixtures that ship inside the `aws_lambda_events` crate's source.
    fn aws_fixtures_dir() -> std::path::PathBuf {
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let lock = std::fs::read_to_string(manifest.join("../../Cargo.lock")).unwrap();
        let version = lock
            .split("name = \"aws_lambda_events\"\nversion = \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("aws_lambda_events in Cargo.lock");
        let home = std::env::var("CARGO_HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| {
                std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo")
            });
        let registry = home.join("registry/src");
        std::fs::read_dir(&registry)
            .unwrap()
            .filter_map(Result::ok)
            .map(|d| {
                d.path()
                    .join(format!("aws_lambda_events-{version}/src/fixtures"))
            })
            .find(|p| p.is_dir())
            .expect("aws_lambda_events sources in the cargo registry")
    }
}
