//! The three events API Gateway sends a Lambda authorizer, told apart by their content.
//!
//! | Shape | Recognised by | Token from |
//! |---|---|---|
//! | REST API TOKEN authorizer | `"type": "TOKEN"` | `authorizationToken` (the configured header's value) |
//! | REST API REQUEST authorizer (and HTTP API payload 1.0) | `"type": "REQUEST"`, no `"version": "2.0"` | the `Authorization` header |
//! | HTTP API payload 2.0 | `"version": "2.0"` | the `Authorization` header |
//!
//! The route a decision is about comes from the REST events' `methodArn` and the HTTP API
//! event's `routeKey` ([`crate::rules::Route`]).
//!
//! Only what the decision needs is deserialized: every other member, and every header but
//! `Authorization` (matched case-insensitively), is skipped without being copied. When the
//! request carried `Authorization` more than once (two entries in `multiValueHeaders`, or two
//! spellings of the name) the credential is ambiguous and refused. Of a REST REQUEST event's
//! `x-key` header (the Data Product Portal's API-key clients, [`crate::api_key`]) only its
//! presence is read: the values are counted, never copied, so no key can reach a log line.
//!
//! Deserialization never fails on a JSON value: the Lambda runtime deserializes the event
//! before the handler runs, and a failure there would go back to API Gateway (and into an
//! `ERROR` log line) as the runtime's own error, naming our types and quoting serde. So every
//! member is optional (`null` is absent), and a value that is not a JSON object, or a member the
//! decision reads (`version`, `type`, `authorizationToken`, `methodArn`, `routeKey`, `headers`,
//! `multiValueHeaders`, an `Authorization` value) of the wrong JSON type or given twice, is
//! [`AuthorizerEvent::Malformed`]: a malformed request the authorizer refuses like any invalid
//! credential. Only bytes that are not JSON at all still fail inside the runtime; API Gateway
//! never sends those.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de};

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

/// The Data Product Portal's API-key header (`x-key`, any case) of a REST REQUEST event,
/// counted and never copied: whether the request presented exactly one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiKey {
    #[default]
    Absent,
    /// Exactly one non-blank value.
    One,
    /// More than one value, a blank one, or one of the wrong JSON type.
    Unusable,
}

impl ApiKey {
    /// Like [`Authorization::from_rest`]: `headers` holds the last value, `multiValueHeaders`
    /// all of them, and there must be at most one in each.
    fn from_rest(single: KeyCount, multi: KeyCount) -> Self {
        if single.unusable || multi.unusable || single.present > 1 || multi.present > 1 {
            Self::Unusable
        } else if single.present == 1 || multi.present == 1 {
            Self::One
        } else {
            Self::Absent
        }
    }
}

/// Which of the three shapes an event names by its `version` and `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    RestToken,
    RestRequest,
    HttpApiV2,
    /// None of them (or `version` / `type` of the wrong JSON type).
    Unknown,
}

impl Shape {
    /// A short name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Self::RestToken => "rest-token",
            Self::RestRequest => "rest-request",
            Self::HttpApiV2 => "http-api-v2",
            Self::Unknown => "unrecognized",
        }
    }
}

/// An authorizer event, reduced to what the decision needs.
#[derive(Debug, Clone, PartialEq, Eq)]
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
        api_key: ApiKey,
        method_arn: Option<String>,
    },
    /// HTTP API payload format 2.0 with simple responses; `route_key` as `$context.routeKey`
    /// (`GET /api/{proxy+}`, `$default`).
    HttpApiV2 {
        authorization: Authorization,
        route_key: Option<String>,
    },
    /// A JSON object that is not an authorizer event this function understands.
    Unrecognized,
    /// Not a JSON object, or a member the decision reads of the wrong JSON type or given
    /// twice. `looks_like` is the shape its `version` and `type` name, which only decides the
    /// form of the refusal (HTTP API 2.0 answers `isAuthorized: false`; everything else fails
    /// with `Unauthorized`).
    Malformed { looks_like: Shape },
}

impl AuthorizerEvent {
    /// A short name for logs.
    pub fn shape(&self) -> &'static str {
        match self {
            Self::RestToken { .. } => Shape::RestToken.name(),
            Self::RestRequest { .. } => Shape::RestRequest.name(),
            Self::HttpApiV2 { .. } => Shape::HttpApiV2.name(),
            Self::Unrecognized => Shape::Unknown.name(),
            Self::Malformed { looks_like } => looks_like.name(),
        }
    }
}

impl<'de> Deserialize<'de> for AuthorizerEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EventVisitor)
    }
}

/// One member of the event, read without failing on its type.
#[derive(Debug, Default)]
enum Member<T> {
    /// Not there, or `null`.
    #[default]
    Absent,
    Present(T),
    /// Of the wrong JSON type, or given twice.
    Wrong,
}

impl<T> Member<T> {
    fn is_wrong(&self) -> bool {
        matches!(self, Self::Wrong)
    }

    /// A second occurrence of the member makes it ambiguous, whatever the values.
    fn set(&mut self, value: Member<T>) {
        *self = match self {
            Self::Absent => value,
            _ => Self::Wrong,
        };
    }

    fn into_option(self) -> Option<T> {
        match self {
            Self::Present(value) => Some(value),
            Self::Absent | Self::Wrong => None,
        }
    }

    fn is(&self, expected: &str) -> bool
    where
        T: AsRef<str>,
    {
        matches!(self, Self::Present(v) if v.as_ref() == expected)
    }
}

#[derive(Default)]
struct RawEvent {
    version: Member<String>,
    kind: Member<String>,
    authorization_token: Member<String>,
    method_arn: Member<String>,
    route_key: Member<String>,
    headers: Member<Headers>,
    multi_value_headers: Member<Headers>,
}

impl RawEvent {
    fn shape(&self) -> Shape {
        if self.version.is_wrong() {
            Shape::Unknown
        } else if self.version.is("2.0") {
            Shape::HttpApiV2
        } else if self.kind.is("TOKEN") {
            Shape::RestToken
        } else if self.kind.is("REQUEST") {
            Shape::RestRequest
        } else {
            Shape::Unknown
        }
    }

    fn into_event(self) -> AuthorizerEvent {
        let looks_like = self.shape();
        let wrong = self.version.is_wrong()
            || self.kind.is_wrong()
            || self.authorization_token.is_wrong()
            || self.method_arn.is_wrong()
            || self.route_key.is_wrong()
            || self.headers.is_wrong()
            || self.multi_value_headers.is_wrong();
        if wrong {
            return AuthorizerEvent::Malformed { looks_like };
        }
        let headers = self.headers.into_option().unwrap_or_default();
        match looks_like {
            Shape::HttpApiV2 => AuthorizerEvent::HttpApiV2 {
                authorization: Authorization::from_values(headers.authorization),
                route_key: self.route_key.into_option(),
            },
            Shape::RestToken => AuthorizerEvent::RestToken {
                authorization_token: self.authorization_token.into_option(),
                method_arn: self.method_arn.into_option(),
            },
            Shape::RestRequest => {
                let multi = self.multi_value_headers.into_option().unwrap_or_default();
                AuthorizerEvent::RestRequest {
                    authorization: Authorization::from_rest(
                        headers.authorization,
                        multi.authorization,
                    ),
                    api_key: ApiKey::from_rest(headers.api_key, multi.api_key),
                    method_arn: self.method_arn.into_option(),
                }
            }
            Shape::Unknown => AuthorizerEvent::Unrecognized,
        }
    }
}

/// The event's members the decision reads, told apart without allocating.
enum Key {
    Version,
    Type,
    AuthorizationToken,
    MethodArn,
    Route,
    Headers,
    MultiValueHeaders,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
        Ok(match name {
            "version" => Key::Version,
            "type" => Key::Type,
            "authorizationToken" => Key::AuthorizationToken,
            "methodArn" => Key::MethodArn,
            "routeKey" => Key::Route,
            "headers" => Key::Headers,
            "multiValueHeaders" => Key::MultiValueHeaders,
            _ => Key::Other,
        })
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = AuthorizerEvent;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut raw = RawEvent::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Version => raw.version.set(map.next_value::<Lenient<String>>()?.0),
                Key::Type => raw.kind.set(map.next_value::<Lenient<String>>()?.0),
                Key::AuthorizationToken => raw
                    .authorization_token
                    .set(map.next_value::<Lenient<String>>()?.0),
                Key::MethodArn => raw.method_arn.set(map.next_value::<Lenient<String>>()?.0),
                Key::Route => raw.route_key.set(map.next_value::<Lenient<String>>()?.0),
                Key::Headers => raw.headers.set(map.next_value::<HeaderMap>()?.0),
                Key::MultiValueHeaders => raw
                    .multi_value_headers
                    .set(map.next_value::<HeaderMap>()?.0),
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(raw.into_event())
    }

    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<Self::Value, S::Error> {
        drain_seq(seq)?;
        Ok(Self::not_an_object())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Self::not_an_object())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Self::not_an_object())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Self::not_an_object())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Self::not_an_object())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Self::not_an_object())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Self::not_an_object())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Self::not_an_object())
    }
}

impl EventVisitor {
    fn not_an_object() -> AuthorizerEvent {
        AuthorizerEvent::Malformed {
            looks_like: Shape::Unknown,
        }
    }
}

/// Reads what is left of a sequence or map, so the deserializer stays in step after a value of
/// the wrong type.
fn drain_seq<'de, S: SeqAccess<'de>>(mut seq: S) -> Result<(), S::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, M: MapAccess<'de>>(mut map: M) -> Result<(), M::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Visitor methods for the JSON types a member does not accept: each reads the value and
/// answers `$wrong`.
macro_rules! wrong_types {
    ($wrong:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($wrong)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($wrong)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($wrong)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($wrong)
        }
    };
}

/// A string member: a string, absent (`null`), or of the wrong type.
struct Lenient<T>(Member<T>);

impl<'de> Deserialize<'de> for Lenient<String> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StringMember)
    }
}

struct StringMember;

impl<'de> Visitor<'de> for StringMember {
    type Value = Lenient<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Lenient(Member::Present(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Lenient(Member::Present(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Lenient(Member::Absent))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Lenient(Member::Absent))
    }

    wrong_types!(Lenient(Member::Wrong));

    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<Self::Value, S::Error> {
        drain_seq(seq)?;
        Ok(Lenient(Member::Wrong))
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
        drain_map(map)?;
        Ok(Lenient(Member::Wrong))
    }
}

/// What a header map holds for the decision: the values of `Authorization`, and how many
/// `x-key` values there were.
#[derive(Debug, Default)]
struct Headers {
    authorization: Vec<String>,
    api_key: KeyCount,
}

/// The `x-key` values of one header map, counted, never copied.
#[derive(Debug, Default, Clone, Copy)]
struct KeyCount {
    present: usize,
    /// A blank value, or one of the wrong JSON type.
    unusable: bool,
}

/// A header map (`{name: value}` or `{name: [values]}`, possibly `null`), reduced to the values
/// of `Authorization` and the count of `x-key` values, names in any case. Other headers are
/// skipped whatever their type; an `Authorization` value that is neither a string nor an array
/// of strings makes the whole map [`Member::Wrong`] (an `x-key` value of the wrong type only
/// makes the key unusable: it is never a credential this function checks).
struct HeaderMap(Member<Headers>);

impl<'de> Deserialize<'de> for HeaderMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HeaderMapVisitor)
    }
}

struct HeaderMapVisitor;

impl<'de> Visitor<'de> for HeaderMapVisitor {
    type Value = HeaderMap;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(HeaderMap(Member::Absent))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(HeaderMap(Member::Absent))
    }

    wrong_types!(HeaderMap(Member::Wrong));

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(HeaderMap(Member::Wrong))
    }

    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<Self::Value, S::Error> {
        drain_seq(seq)?;
        Ok(HeaderMap(Member::Wrong))
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut headers = Headers::default();
        let mut wrong = false;
        while let Some(name) = map.next_key::<HeaderName>()? {
            match name {
                HeaderName::Authorization => match map.next_value::<HeaderValues>()? {
                    HeaderValues::Values(vs) => headers.authorization.extend(vs),
                    HeaderValues::Wrong => wrong = true,
                },
                HeaderName::ApiKey => {
                    let count = map.next_value::<KeyValues>()?.0;
                    headers.api_key.present += count.present;
                    headers.api_key.unusable |= count.unusable;
                }
                HeaderName::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(HeaderMap(if wrong {
            Member::Wrong
        } else {
            Member::Present(headers)
        }))
    }
}

/// A header's name, compared with `Authorization` and `x-key` without being copied.
enum HeaderName {
    Authorization,
    ApiKey,
    Other,
}

impl<'de> Deserialize<'de> for HeaderName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(HeaderNameVisitor)
    }
}

struct HeaderNameVisitor;

impl Visitor<'_> for HeaderNameVisitor {
    type Value = HeaderName;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a header name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<HeaderName, E> {
        Ok(if name.eq_ignore_ascii_case("authorization") {
            HeaderName::Authorization
        } else if name.eq_ignore_ascii_case(crate::api_key::HEADER) {
            HeaderName::ApiKey
        } else {
            HeaderName::Other
        })
    }
}

/// The values of `x-key` in a header map (one string, an array of strings, or `null`),
/// counted. The strings are looked at, never copied.
struct KeyValues(KeyCount);

impl<'de> Deserialize<'de> for KeyValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KeyValuesVisitor { in_array: false })
    }
}

struct KeyValuesVisitor {
    in_array: bool,
}

const UNUSABLE_KEY: KeyValues = KeyValues(KeyCount {
    present: 0,
    unusable: true,
});

impl<'de> Visitor<'de> for KeyValuesVisitor {
    type Value = KeyValues;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let blank = v.trim().is_empty();
        Ok(KeyValues(KeyCount {
            present: usize::from(!blank),
            unusable: blank,
        }))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(if self.in_array {
            UNUSABLE_KEY
        } else {
            KeyValues(KeyCount::default())
        })
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    wrong_types!(UNUSABLE_KEY);

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        if self.in_array {
            drain_seq(seq)?;
            return Ok(UNUSABLE_KEY);
        }
        let mut count = KeyCount::default();
        while let Some(KeyValues(one)) =
            seq.next_element_seed(KeyValuesVisitor { in_array: true })?
        {
            count.present += one.present;
            count.unusable |= one.unusable;
        }
        Ok(KeyValues(count))
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
        drain_map(map)?;
        Ok(UNUSABLE_KEY)
    }
}

impl<'de> de::DeserializeSeed<'de> for KeyValuesVisitor {
    type Value = KeyValues;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<KeyValues, D::Error> {
        d.deserialize_any(self)
    }
}

/// The value of `Authorization` in a header map: one string, an array of strings, or `null`
/// (no value).
enum HeaderValues {
    Values(Vec<String>),
    Wrong,
}

impl<'de> Deserialize<'de> for HeaderValues {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HeaderValuesVisitor)
    }
}

struct HeaderValuesVisitor;

impl<'de> Visitor<'de> for HeaderValuesVisitor {
    type Value = HeaderValues;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(HeaderValues::Values(vec![v.to_owned()]))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(HeaderValues::Values(vec![v]))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(HeaderValues::Values(Vec::new()))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(HeaderValues::Values(Vec::new()))
    }

    wrong_types!(HeaderValues::Wrong);

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let mut values = Vec::new();
        let mut wrong = false;
        while let Some(Lenient(value)) = seq.next_element::<Lenient<String>>()? {
            match value {
                Member::Present(v) => values.push(v),
                // `null` is no header value, and neither is a number or an object.
                Member::Absent | Member::Wrong => wrong = true,
            }
        }
        Ok(if wrong {
            HeaderValues::Wrong
        } else {
            HeaderValues::Values(values)
        })
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
        drain_map(map)?;
        Ok(HeaderValues::Wrong)
    }
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
            AuthorizerEvent::RestRequest { authorization: Authorization::One(t), api_key: ApiKey::Absent, method_arn: Some(_) }
                if t.starts_with("Bearer ")
        ));
        assert!(matches!(
            fixture("http-api-v2.json"),
            AuthorizerEvent::HttpApiV2 { authorization: Authorization::One(t), route_key: Some(k) }
                if t.starts_with("Bearer ") && k == "$default"
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
                api_key: ApiKey::Absent,
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
                    authorization: Authorization::One("Bearer t".into()),
                    route_key: None,
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
    fn the_api_key_header_is_counted_never_copied() {
        const KEY: &str = "portal-api-key-3f9c";
        let rest = |headers: serde_json::Value, multi: serde_json::Value| {
            let text = json!({"type": "REQUEST", "methodArn": "arn:x/y/GET/z",
                              "headers": headers, "multiValueHeaders": multi})
            .to_string();
            let event: AuthorizerEvent = serde_json::from_str(&text).unwrap();
            assert!(!format!("{event:?}").contains(KEY), "{event:?}");
            match event {
                AuthorizerEvent::RestRequest {
                    authorization,
                    api_key,
                    ..
                } => (authorization, api_key),
                other => panic!("{other:?}"),
            }
        };
        let cases = [
            // As API Gateway sends it: the last value in headers, all of them in multiValueHeaders.
            (json!({"x-key": KEY}), json!({"x-key": [KEY]}), ApiKey::One),
            (json!({"X-Key": KEY}), json!(null), ApiKey::One),
            (json!(null), json!({"X-KEY": [KEY]}), ApiKey::One),
            (json!({"x-other": KEY}), json!({}), ApiKey::Absent),
            (json!({"x-key": null}), json!(null), ApiKey::Absent),
            // Twice, blank, or not a string: not a key to forward.
            (
                json!({"x-key": KEY}),
                json!({"x-key": [KEY, KEY]}),
                ApiKey::Unusable,
            ),
            (
                json!({"x-key": KEY, "X-Key": KEY}),
                json!(null),
                ApiKey::Unusable,
            ),
            (json!({"x-key": " "}), json!(null), ApiKey::Unusable),
            (json!({"x-key": 7}), json!(null), ApiKey::Unusable),
            (json!({"x-key": {"k": KEY}}), json!(null), ApiKey::Unusable),
            (json!(null), json!({"x-key": [null]}), ApiKey::Unusable),
            (json!(null), json!({"x-key": [[KEY]]}), ApiKey::Unusable),
        ];
        for (headers, multi, expected) in cases {
            let (authorization, api_key) = rest(headers.clone(), multi.clone());
            assert_eq!(api_key, expected, "{headers} {multi}");
            assert_eq!(authorization, Authorization::Missing, "{headers} {multi}");
        }
        // The key beside a bearer token: both are read, neither decides for the other here.
        let (authorization, api_key) = rest(
            json!({"x-key": KEY, "Authorization": "Bearer t"}),
            json!(null),
        );
        assert_eq!(
            (authorization, api_key),
            (Authorization::One("Bearer t".into()), ApiKey::One)
        );
        // Only REST REQUEST events carry it; an HTTP API 2.0 event is judged by its token alone.
        let v2 = parse(json!({"version": "2.0", "headers": {"x-key": KEY}}));
        assert_eq!(
            v2,
            AuthorizerEvent::HttpApiV2 {
                authorization: Authorization::Missing,
                route_key: None,
            }
        );
    }

    #[test]
    fn anything_else_is_unrecognized_not_an_error() {
        for value in [json!({}), json!({"type": "WEIRD"}), json!({"Records": []})] {
            assert_eq!(parse(value), AuthorizerEvent::Unrecognized);
        }
    }

    /// Regression (issue 9, item 3): these failed inside the Lambda runtime, before the
    /// handler ran, with serde's message naming `RawEvent` or `OneOrMany`.
    #[test]
    fn wrong_json_types_are_malformed_events_not_errors() {
        use Shape::*;
        let cases = [
            (r#"{"type": 5, "authorizationToken": "Bearer t"}"#, Unknown),
            (r#"{"type": "TOKEN", "authorizationToken": {}}"#, RestToken),
            (
                r#"{"type": "TOKEN", "authorizationToken": ["Bearer t"]}"#,
                RestToken,
            ),
            (
                r#"{"type": "TOKEN", "authorizationToken": "t", "methodArn": 1}"#,
                RestToken,
            ),
            (r#"{"type": "REQUEST", "headers": []}"#, RestRequest),
            (
                r#"{"type": "REQUEST", "headers": "Authorization: x"}"#,
                RestRequest,
            ),
            (
                r#"{"type": "REQUEST", "headers": {"Authorization": 7}}"#,
                RestRequest,
            ),
            (
                r#"{"type": "REQUEST", "headers": {"authorization": {"v": "x"}}}"#,
                RestRequest,
            ),
            (
                r#"{"type": "REQUEST", "multiValueHeaders": {"Authorization": [1]}}"#,
                RestRequest,
            ),
            (
                r#"{"type": "REQUEST", "multiValueHeaders": {"Authorization": ["a", null]}}"#,
                RestRequest,
            ),
            (
                r#"{"type": "REQUEST", "multiValueHeaders": 3}"#,
                RestRequest,
            ),
            (r#"{"version": "2.0", "headers": []}"#, HttpApiV2),
            (
                r#"{"version": "2.0", "type": ["REQUEST"], "headers": {}}"#,
                HttpApiV2,
            ),
            (r#"{"version": 2, "type": "REQUEST"}"#, Unknown),
            (r#"{"version": {"v": "2.0"}, "type": "TOKEN"}"#, Unknown),
            // Not an object at all.
            (r#"["TOKEN", "Bearer t"]"#, Unknown),
            (r#""TOKEN""#, Unknown),
            ("42", Unknown),
            ("-1.5", Unknown),
            ("true", Unknown),
            ("null", Unknown),
            ("[]", Unknown),
        ];
        for (text, looks_like) in cases {
            let expected = AuthorizerEvent::Malformed { looks_like };
            // As the Lambda runtime reads it (from bytes), and from a `Value`.
            let from_bytes: AuthorizerEvent = serde_json::from_str(text).expect(text);
            assert_eq!(from_bytes, expected, "{text}");
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(parse(value), expected, "{text} as a Value");
        }
        // A member given twice is ambiguous, like a header given twice (only bytes can say
        // so: a `Value` keeps the last).
        let duplicates = [
            (r#"{"type": "TOKEN", "type": "REQUEST"}"#, Unknown),
            (
                r#"{"type": "TOKEN", "authorizationToken": "a", "authorizationToken": "b"}"#,
                RestToken,
            ),
            (
                r#"{"version": "2.0", "headers": {}, "headers": {}}"#,
                HttpApiV2,
            ),
        ];
        for (text, looks_like) in duplicates {
            let event: AuthorizerEvent = serde_json::from_str(text).expect(text);
            assert_eq!(event, AuthorizerEvent::Malformed { looks_like }, "{text}");
        }
    }

    #[test]
    fn null_members_are_absent_and_other_headers_may_be_anything() {
        assert_eq!(
            parse(json!({"type": "TOKEN", "authorizationToken": null, "methodArn": null})),
            AuthorizerEvent::RestToken {
                authorization_token: None,
                method_arn: None
            }
        );
        assert_eq!(
            parse(json!({"version": "2.0", "headers": null, "x": [1, {"y": null}]})),
            AuthorizerEvent::HttpApiV2 {
                authorization: Authorization::Missing,
                route_key: None,
            }
        );
        assert_eq!(
            parse(
                json!({"type": "REQUEST", "headers": {"x-n": 1, "x-o": {}, "x-a": [[]]},
                         "multiValueHeaders": {"Authorization": null}})
            ),
            AuthorizerEvent::RestRequest {
                authorization: Authorization::Missing,
                api_key: ApiKey::Absent,
                method_arn: None
            }
        );
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
