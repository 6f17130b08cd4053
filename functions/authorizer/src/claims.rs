//! The payload of a Cognito access token, parsed once and checked.
//!
//! Checks (RFC 7519 §4.1, Cognito's token rules): `iss` equal to the configured issuer, byte for
//! byte (no trailing-slash or case folding); `exp` present; `nbf` and `iat`, when present, not
//! in the future; `exp` no further than [`MAX_LIFETIME_SECONDS`] after `iat` (after now when
//! there is no `iat`); `token_use` exactly `access` (an ID token carries the same signature and
//! issuer, but it is not a credential for an API); `sub` and `client_id` present. Clock skew is
//! tolerated up to [`LEEWAY_SECONDS`], far below jsonwebtoken's default of 60 s.
//!
//! `exp`, `nbf`, `iat` and `auth_time` must be [`NumericDate`]s: whole seconds from 0 to the
//! end of year 9999. RFC 7519 §2 allows fractions; Cognito never writes them, and accepting
//! floats is how `"exp": 1e19` used to saturate into a token that never expires.
//!
//! Cognito access tokens have no `aud`; the app client is `client_id`, checked against the
//! deployment's list in [`crate::access`]. A claim of the wrong JSON type (`"exp": "123"`,
//! `"scope": ["a"]`) fails the whole token.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::jws::is_json_object;
use crate::rejection::Rejection;
use portal_auth_domain::revocation::TokenFacts;

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: i64 = 5;

/// The longest an access token may live, `exp` after `iat` (or after now, for a token without
/// `iat`), on top of [`LEEWAY_SECONDS`]: a Cognito app client's access-token validity is
/// 5 minutes to 1 day (default 1 hour), so a longer-lived token was not issued by Cognito as an
/// access token, whatever its signature says. Raise it only if Cognito's limit ever grows.
pub const MAX_LIFETIME_SECONDS: i64 = 24 * 60 * 60;

/// The last NumericDate accepted: 9999-12-31T23:59:59Z. Far beyond any real token, well inside
/// what an `i64` and an `f64` hold exactly, so no arithmetic on a date can overflow or round.
pub const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

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
    /// `auth_time`: not checked against the clock (a refreshed token keeps the sign-in's
    /// time), but it must still be a NumericDate: a time claim of the wrong type fails the
    /// token, like any other. A user's sign-out everywhere is compared with it.
    #[serde(default)]
    auth_time: Option<NumericDate>,
    /// `jti`, and `origin_jti`: the sign-in's, kept by every token refreshed from it. A
    /// revoked session is one of these ([`portal_auth_domain::revocation`]).
    #[serde(borrow, default)]
    jti: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    origin_jti: Option<Cow<'a, str>>,
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
    /// The `scope` claim as issued: space-separated. Scope tokens cannot contain a space
    /// (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`), so the string splits back unambiguously.
    pub scope: String,
    pub groups: Groups,
    /// Seconds since the epoch.
    pub exp: i64,
    /// The sign-in this token belongs to: `origin_jti`, else `jti` (Cognito's tokens before
    /// `origin_jti` existed, and cognito-local's), else `None`.
    pub session: Option<String>,
    /// When the user authenticated: `auth_time`, else `iat`, else 0 — so that a token that
    /// says nothing is older than any sign-out (fail closed).
    pub authenticated_at: i64,
}

/// The `cognito:groups` claim, with the encoding the route's context carries computed once.
///
/// A group name may contain any character, commas and quotes included, so the context cannot
/// carry a joined list: `["x,portal-admins"]` joined with commas reads as two groups, one of
/// them `portal-admins`. It carries the list as a JSON array in a string
/// (`["x,portal-admins"]`), which a route decodes with any JSON parser and no name can forge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groups {
    names: Vec<String>,
    context: String,
}

impl Default for Groups {
    /// No groups: the context says `[]`, not an empty string.
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl Groups {
    pub fn new(names: Vec<String>) -> Self {
        // Serializing a list of strings cannot fail; should it ever, no group beats a wrong one.
        let context = serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned());
        Self { names, context }
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    /// The list as the route's context carries it: a JSON array of strings.
    pub fn as_context(&self) -> &str {
        &self.context
    }
}

impl VerifiedToken {
    /// What the revocation set judges this token by.
    pub fn revocation_facts(&self) -> TokenFacts<'_> {
        TokenFacts {
            session: self.session.as_deref(),
            sub: &self.sub,
            authenticated_at: u64::try_from(self.authenticated_at).unwrap_or(0),
        }
    }

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
    pub fn verify(self, issuers: &[String], now: i64) -> Result<VerifiedToken, Rejection> {
        if !self
            .iss
            .as_deref()
            .is_some_and(|iss| issuers.iter().any(|i| i == iss))
        {
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
        let groups = self
            .groups
            .unwrap_or_default()
            .into_iter()
            .map(Cow::into_owned)
            .collect();
        Ok(VerifiedToken {
            groups: Groups::new(groups),
            sub: sub.into_owned(),
            username: self.username.map(Cow::into_owned).unwrap_or_default(),
            client_id: client_id.into_owned(),
            scope: self.scope.map(Cow::into_owned).unwrap_or_default(),
            exp,
            session: self.origin_jti.or(self.jti).map(Cow::into_owned),
            authenticated_at: self.auth_time.or(self.iat).map_or(0, |t| t.0),
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
        let issued = self.iat.map_or(now, |iat| iat.0);
        let latest = issued
            .saturating_add(MAX_LIFETIME_SECONDS)
            .saturating_add(LEEWAY_SECONDS);
        if exp > latest {
            return Err(Rejection::LifetimeTooLong);
        }
        Ok(exp)
    }
}

/// A JSON number of whole seconds since the epoch (RFC 7519 §2), from 0 to
/// [`MAX_NUMERIC_DATE`]. A float is accepted only when it is exactly such an integer
/// (`1800000000.0`, `1.8e9`: the same second, written differently); a fraction (`1.5`), a
/// negative or out-of-range number (`-1`, `1e19`, `1e300`), a string, `null` or anything else
/// is refused, so no value can round or saturate into a different instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumericDate(pub i64);

impl NumericDate {
    fn in_range<E: de::Error>(seconds: i64) -> Result<Self, E> {
        if (0..=MAX_NUMERIC_DATE).contains(&seconds) {
            Ok(Self(seconds))
        } else {
            Err(E::custom("date out of range"))
        }
    }
}

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NumericDateVisitor)
    }
}

struct NumericDateVisitor;

impl Visitor<'_> for NumericDateVisitor {
    type Value = NumericDate;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a whole number of seconds since the epoch")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
        NumericDate::in_range(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
        i64::try_from(v)
            .map_err(|_| E::custom("date out of range"))
            .and_then(NumericDate::in_range)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
        // The range check comes first: within it every integer is exact in an f64, so the
        // cast below neither saturates nor rounds.
        if !(0.0..=MAX_NUMERIC_DATE as f64).contains(&v) || v.fract() != 0.0 {
            return Err(E::custom("date not a whole second in range"));
        }
        NumericDate::in_range(v as i64)
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
        Claims::parse(&bytes)?.verify(&[ISS.to_owned()], now)
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
        assert_eq!(t.groups.iter().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(t.groups.as_context(), r#"["a","b"]"#);
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
    }

    /// Regression (issue 9, item 1): a comma (or quote) inside a group name cannot make the
    /// route's context list another group.
    #[test]
    fn the_groups_context_is_a_json_array_no_name_can_forge() {
        let cases = [
            (json!(["x,portal-admins"]), r#"["x,portal-admins"]"#),
            (
                json!([r#"x","portal-admins"#]),
                r#"["x\",\"portal-admins"]"#,
            ),
            (json!(["a", "b c"]), r#"["a","b c"]"#),
            (json!([]), "[]"),
        ];
        for (groups, encoded) in cases {
            let t = verify(&with("cognito:groups", groups.clone()), NOW).unwrap();
            assert_eq!(t.groups.as_context(), encoded);
            let decoded: serde_json::Value = serde_json::from_str(encoded).unwrap();
            assert_eq!(decoded, groups);
        }
        let none = verify(&without("cognito:groups"), NOW).unwrap();
        assert_eq!(none.groups.as_context(), "[]");
        assert_eq!(Groups::default().as_context(), "[]");
    }

    /// Regression (issue 9, item 2): floats were floored and saturated, so `1e19` and `1e300`
    /// became i64::MAX (never expiring) and `-1e300` an `nbf` of i64::MIN.
    #[test]
    fn time_claims_are_whole_seconds_in_range() {
        let refused = [
            json!(1e19),
            json!(1e300),
            json!(-1e300),
            json!(1.5),
            json!((NOW + 60) as f64 + 0.5),
            json!(-1),
            json!(i64::MAX),
            json!(i64::MIN),
            json!(MAX_NUMERIC_DATE + 1),
            json!((MAX_NUMERIC_DATE + 1) as f64),
            json!("1800000000"),
            json!([NOW]),
            json!({"seconds": NOW}),
            json!(true),
        ];
        for claim in ["exp", "nbf", "iat", "auth_time"] {
            for value in &refused {
                assert_eq!(
                    verify(&with(claim, value.clone()), NOW),
                    Err(Rejection::Claims),
                    "{claim}: {value}"
                );
            }
        }
        // The same second written as a float, with or without an exponent, is accepted.
        let payload = format!(
            r#"{{"iss":"{ISS}","exp":{}.0,"iat":1.8e9,"nbf":18e8,"auth_time":1.79999994e9,
                "token_use":"access","sub":"s","client_id":"c"}}"#,
            NOW + 60
        );
        let t = Claims::parse(payload.as_bytes())
            .unwrap()
            .verify(&[ISS.to_owned()], NOW)
            .unwrap();
        assert_eq!(t.exp, NOW + 60);
        // Zero is a date (long expired).
        assert_eq!(verify(&with("exp", json!(0)), NOW), Err(Rejection::Expired));
        assert_eq!(
            verify(&with("exp", json!(-0.0)), NOW),
            Err(Rejection::Expired)
        );
    }

    #[test]
    fn exp_is_bounded_to_a_cognito_lifetime_after_iat_or_now() {
        let iat = NOW - 10;
        let bound = iat + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS;
        let at = |exp: i64| verify(&with("exp", json!(exp)), NOW);
        assert!(at(bound).is_ok());
        assert_eq!(at(bound + 1), Err(Rejection::LifetimeTooLong));
        assert_eq!(at(MAX_NUMERIC_DATE), Err(Rejection::LifetimeTooLong));
        // An old iat does not buy a longer life: exp counts from it.
        let mut old = with("iat", json!(NOW - MAX_LIFETIME_SECONDS));
        old["exp"] = json!(NOW + 60);
        assert_eq!(verify(&old, NOW), Err(Rejection::LifetimeTooLong));
        // Without iat, from now.
        let mut no_iat = without("iat");
        no_iat["exp"] = json!(NOW + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS);
        assert!(verify(&no_iat, NOW).is_ok());
        no_iat["exp"] = json!(NOW + MAX_LIFETIME_SECONDS + LEEWAY_SECONDS + 1);
        assert_eq!(verify(&no_iat, NOW), Err(Rejection::LifetimeTooLong));
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
