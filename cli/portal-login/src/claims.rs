//! What `status` shows about a token: its claims, decoded but deliberately **not verified**.
//!
//! The CLI is not the party that trusts these tokens (the authorizer verifies them on every
//! request); it only reads who it is logged in as, from tokens it received over TLS from its
//! own server. Nothing here is used for an access decision.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// The Cognito claims `status` reports. Every field is optional: a missing claim shows as
/// unknown rather than failing the command.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
pub struct Claims {
    pub username: Option<String>,
    #[serde(rename = "cognito:username")]
    pub cognito_username: Option<String>,
    pub sub: Option<String>,
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub exp: Option<u64>,
    pub email: Option<String>,
    #[serde(rename = "cognito:groups", default)]
    pub groups: Vec<String>,
}

impl Claims {
    /// Access tokens carry `username`, ID tokens `cognito:username`.
    pub fn user(&self) -> Option<&str> {
        self.username
            .as_deref()
            .or(self.cognito_username.as_deref())
    }
}

/// The payload of a compact JWS, or `None` when it is not one.
pub fn decode_unverified(jwt: &str) -> Option<Claims> {
    let mut parts = jwt.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn reads_cognito_access_and_id_token_claims() {
        let access = jwt(
            r#"{"username":"demo","sub":"s-1","client_id":"c","scope":"openid email","exp":1700000000,"cognito:groups":["portal-users"]}"#,
        );
        let claims = decode_unverified(&access).unwrap();
        assert_eq!(claims.user(), Some("demo"));
        assert_eq!(claims.groups, ["portal-users"]);
        assert_eq!(claims.exp, Some(1_700_000_000));
        let id = jwt(r#"{"cognito:username":"demo","email":"d@example.com"}"#);
        let claims = decode_unverified(&id).unwrap();
        assert_eq!(claims.user(), Some("demo"));
        assert_eq!(claims.email.as_deref(), Some("d@example.com"));
    }

    #[test]
    fn anything_else_is_none() {
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "a.!!!.c",
            &jwt("[1,2]"),
            &jwt("not json"),
        ] {
            assert_eq!(decode_unverified(bad), None, "{bad}");
        }
    }
}
