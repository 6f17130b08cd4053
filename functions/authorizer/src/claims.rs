//! The payload of a Cognito access token, parsed once and checked.
//!
//! Checks (RFC 7519 §4.1, Cognito's token rules): `iss` equal to the configured issuer, byte for
//! byte (no trailing-slash or case folding); `exp` present and a number; `nbf` and `iat`, when
//! present, numbers not in the future; `token_use` exactly `access` (an ID token carries the
//! same signature and issuer, but it is not a credential for an API); `sub` and `client_id`
//! present. Clock skew is tolerated up to [`LEEWAY_SECONDS`], far below jsonwebtoken's default
//! of 60 s.
//!
//! Cognito access tokens have no `aud`; the app client is `client_id`, checked against the
//! deployment's list in [`crate::access`]. A claim of the wrong JSON type (`"exp": "123"`,
//! `"scope": ["a"]`) fails the whole token.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::jws::is_json_object;
use crate::rejection::Rejection;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 5;

/// The claims the authorizer reads, borrowed from the decoded payload.
#[derive(Debug, Deserialize)]
pub struct Claims<'a> {
    #[serde(borrow, default)]
    iss: Option<Cow<'a, str>>,
    #[serde(default)]
    exp: Option<NumericDate>,
    #[serde(default)]
    nbf: Option<NumericDate>,
    #[serde(default)]
    iat: Option<NumericDate>,
    #[serde(borrow, default)]
    token_use: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    sub: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    client_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    username: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    scope: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "cognito:groups")]
    groups: Option<Vec<Cow<'a, str>>>,
}

/// What the rest of the authorizer needs from a verified token: owned, so it can be cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub sub: String,
    pub username: String,
    pub client_id: String,
    /// The `scope` claim as issued: space-separated.
    pub scope: String,
    pub groups: Vec<String>,
    /// `groups` joined with commas, as the route's context carries them.
    pub groups_joined: String,
    /// Seconds since the epoch.
    pub exp: i64,
}

impl VerifiedToken {
    /// Still within `exp` (plus leeway) at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        now < self.exp.saturating_add(LEEWAY_SECONDS)
    }

    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split(' ').filter(|s| !s.is_empty())
    }
}

impl<'a> Claims<'a> {
    pub fn parse(payload: &'a [u8]) -> Result<Self, Rejection> {
        if !is_json_object(payload) {
            return Err(Rejection::Claims);
        }
        serde_json::from_slice(payload).map_err(|_| Rejection::Claims)
    }

    /// Checks issuer, times and token use, and keeps what later steps need.
    pub fn verify(self, issuer: &str, now: i64) -> Result<VerifiedToken, Rejection> {
        if self.iss.as_deref() != Some(issuer) {
            return Err(Rejection::Issuer);
        }
        let exp = self.check_times(now)?;
        if self.token_use.as_deref() != Some("access") {
            return Err(Rejection::NotAccessToken);
        }
        let (Some(sub), Some(client_id)) = (self.sub, self.client_id) else {
            return Err(Rejection::MissingSubject);
        };
        if sub.is_empty() || client_id.is_empty() {
            return Err(Rejection::MissingSubject);
        }
        let groups: Vec<String> = self
            .groups
            .unwrap_or_default()
            .into_iter()
            .map(Cow::into_owned)
            .collect();
        Ok(VerifiedToken {
            groups_joined: groups.join(","),
            groups,
            sub: sub.into_owned(),
            username: self.username.map(Cow::into_owned).unwrap_or_default(),
            client_id: client_id.into_owned(),
            scope: self.scope.map(Cow::into_owned).unwrap_or_default(),
            exp,
        })
    }

    fn check_times(&self, now: i64) -> Result<i64, Rejection> {
        let exp = self.exp.ok_or(Rejection::MissingExpiry)?.0;
        if now >= exp.saturating_add(LEEWAY_SECONDS) {
            return Err(Rejection::Expired);
        }
        if self
            .nbf
            .is_some_and(|nbf| nbf.0 > now.saturating_add(LEEWAY_SECONDS))
        {
            return Err(Rejection::NotYetValid);
        }
        if self
            .iat
            .is_some_and(|iat| iat.0 > now.saturating_add(LEEWAY_SECONDS))
        {
            return Err(Rejection::IssuedInFuture);
        }
        Ok(exp)
    }
}

/// A JSON number of seconds since the epoch (RFC 7519 §2), fractions rounded down. A string,
/// `null` or anything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericDate(pub i64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumericDateVisitor)
    }
}

struct NumericDateVisitor;

impl Visitor<'_> for NumericDateVisitor {
    type Value = NumericDate;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number of seconds since the epoch")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
        Ok(NumericDate(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
        i64::try_from(v)
            .map(NumericDate)
            .map_err(|_| E::custom("date out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
        // `as` saturates, and NaN/infinity cannot come out of JSON.
        if v.is_finite() {
            Ok(NumericDate(v.floor() as i64))
        } else {
            Err(E::custom("date out of range"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123";
    const NOW: i64 = 1_800_000_000;

    fn claims() -> serde_json::Value {
        json!({
            "iss": ISS, "exp": NOW + 3600, "iat": NOW - 10, "token_use": "access",
            "sub": "s-1", "client_id": "c-1", "username": "demo",
            "scope": "openid portal/read", "cognito:groups": ["a", "b"]
        })
    }

    fn verify(value: &serde_json::Value, now: i64) -> Result<VerifiedToken, Rejection> {
        let bytes = serde_json::to_vec(value).unwrap();
        Claims::parse(&bytes)?.verify(ISS, now)
    }

    fn with(key: &str, value: serde_json::Value) -> serde_json::Value {
        let mut c = claims();
        c[key] = value;
        c
    }

    fn without(key: &str) -> serde_json::Value {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(key);
        c
    }

    #[test]
    fn a_cognito_access_token_passes_and_keeps_its_context() {
        let t = verify(&claims(), NOW).unwrap();
        assert_eq!(t.sub, "s-1");
        assert_eq!(t.username, "demo");
        assert_eq!(t.client_id, "c-1");
        assert_eq!(t.scopes().collect::<Vec<_>>(), ["openid", "portal/read"]);
        assert_eq!(t.groups, ["a", "b"]);
        assert_eq!(t.groups_joined, "a,b");
        assert_eq!(t.exp, NOW + 3600);
    }

    #[test]
    fn expiry_has_five_seconds_of_leeway_and_no_more() {
        let at = |exp: i64| verify(&with("exp", json!(exp)), NOW);
        assert!(at(NOW + 1).is_ok());
        assert!(at(NOW - LEEWAY_SECONDS + 1).is_ok());
        assert_eq!(at(NOW - LEEWAY_SECONDS), Err(Rejection::Expired));
        // jsonwebtoken's default 60 s leeway would accept this one.
        assert_eq!(at(NOW - 30), Err(Rejection::Expired));
        assert!(verify(&with("exp", json!((NOW + 10) as f64 + 0.5)), NOW).is_ok());
    }

    #[test]
    fn not_before_and_issued_at_are_checked_when_present() {
        assert!(verify(&with("nbf", json!(NOW + LEEWAY_SECONDS)), NOW).is_ok());
        assert_eq!(
            verify(&with("nbf", json!(NOW + LEEWAY_SECONDS + 1)), NOW),
            Err(Rejection::NotYetValid)
        );
        assert_eq!(
            verify(&with("iat", json!(NOW + 60)), NOW),
            Err(Rejection::IssuedInFuture)
        );
        assert!(verify(&without("iat"), NOW).is_ok());
    }

    #[test]
    fn each_broken_claim_is_refused_for_its_reason() {
        let cases = [
            (without("exp"), Rejection::MissingExpiry),
            (with("exp", json!(null)), Rejection::MissingExpiry),
            (
                with("exp", json!((NOW + 3600).to_string())),
                Rejection::Claims,
            ),
            (with("exp", json!(true)), Rejection::Claims),
            (with("nbf", json!("0")), Rejection::Claims),
            (with("exp", json!(u64::MAX)), Rejection::Claims),
            (without("iss"), Rejection::Issuer),
            (with("iss", json!(format!("{ISS}/"))), Rejection::Issuer),
            (with("iss", json!(ISS.to_uppercase())), Rejection::Issuer),
            (
                with("iss", json!(ISS.replace("eu-west-1.", "us-east-1."))),
                Rejection::Issuer,
            ),
            (with("iss", json!([ISS])), Rejection::Claims),
            (with("token_use", json!("id")), Rejection::NotAccessToken),
            (without("token_use"), Rejection::NotAccessToken),
            (
                with("token_use", json!("Access")),
                Rejection::NotAccessToken,
            ),
            (without("sub"), Rejection::MissingSubject),
            (with("sub", json!("")), Rejection::MissingSubject),
            (without("client_id"), Rejection::MissingSubject),
            (with("scope", json!(["openid"])), Rejection::Claims),
            (with("cognito:groups", json!("a")), Rejection::Claims),
            (with("cognito:groups", json!([1])), Rejection::Claims),
        ];
        for (value, expected) in cases {
            assert_eq!(verify(&value, NOW), Err(expected), "{value}");
        }
        assert_eq!(Claims::parse(b"[]").unwrap_err(), Rejection::Claims);
        let positional = format!(r#"["{ISS}", {}]"#, NOW + 60);
        assert_eq!(
            Claims::parse(positional.as_bytes()).unwrap_err(),
            Rejection::Claims
        );
        assert_eq!(
            Claims::parse(br#"{"exp":1,"exp":2}"#).unwrap_err(),
            Rejection::Claims
        );
    }

    #[test]
    fn liveness_uses_the_same_leeway() {
        let t = verify(&claims(), NOW).unwrap();
        assert!(t.is_live(t.exp + LEEWAY_SECONDS - 1));
        assert!(!t.is_live(t.exp + LEEWAY_SECONDS));
    }
}
