//! The JWS compact serialization (RFC 7515 §7.1) and its protected header.
//!
//! A token is exactly three base64url parts (no padding, URL alphabet, canonical trailing
//! bits). The header must name `alg` exactly `RS256` (RFC 8725 §3.1: an allow-list of one, so
//! `none` in any case, `HS256` keyed with the public key, `RS384`, `PS256`, `ES256` all fail here)
//! and a string `kid`. `crit` is refused outright: it lists extensions the recipient must
//! understand (RFC 7515 §4.1.11), and this one understands none. `jku`, `x5u`, `jwk` and `x5c`
//! are never read: keys come only from the configured JWKS.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer};

use crate::rejection::Rejection;

/// The one algorithm Cognito signs with, and the only one accepted.
pub const ALGORITHM: &str = "RS256";

/// Longer than any key id a JWKS of ours carries (Cognito's are 44 characters).
pub const MAX_KID_BYTES: usize = 128;

/// Largest RSA signature accepted (8192-bit keys), so it can be decoded onto the stack.
pub const MAX_SIGNATURE_BYTES: usize = 1024;

/// A token split into its three parts, still encoded.
#[derive(Debug, Clone, Copy)]
pub struct Compact<'a> {
    /// `header.payload`: the bytes the signature covers.
    pub signing_input: &'a str,
    pub header: &'a str,
    pub payload: &'a str,
    pub signature: &'a str,
}

impl<'a> Compact<'a> {
    pub fn split(token: &'a str) -> Result<Self, Rejection> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Rejection::Segments);
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(Rejection::Segments);
        }
        Ok(Self {
            signing_input: &token[..header.len() + 1 + payload.len()],
            header,
            payload,
            signature,
        })
    }
}

/// Decodes one base64url part.
pub fn decode_part(part: &str) -> Result<Vec<u8>, Rejection> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| Rejection::Base64)
}

/// Decodes the signature into `buf`, returning the filled prefix.
pub fn decode_signature<'b>(
    part: &str,
    buf: &'b mut [u8; MAX_SIGNATURE_BYTES],
) -> Result<&'b [u8], Rejection> {
    if part.len() > MAX_SIGNATURE_BYTES * 4 / 3 + 4 {
        return Err(Rejection::Signature);
    }
    let len = URL_SAFE_NO_PAD
        .decode_slice(part, buf)
        .map_err(|_| Rejection::Base64)?;
    Ok(&buf[..len])
}

/// The protected header, borrowed from its decoded bytes.
#[derive(Debug, Deserialize)]
pub struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

impl<'a> Header<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Rejection> {
        if !is_json_object(bytes) {
            return Err(Rejection::Header);
        }
        serde_json::from_slice(bytes).map_err(|_| Rejection::Header)
    }

    /// The `kid` to look up, once the header has passed every check.
    pub fn checked_kid(&self) -> Result<&str, Rejection> {
        if self.alg != ALGORITHM {
            return Err(Rejection::Algorithm);
        }
        if self.crit {
            return Err(Rejection::Crit);
        }
        let kid = self.kid.as_deref().ok_or(Rejection::MissingKid)?;
        if kid.is_empty() {
            return Err(Rejection::MissingKid);
        }
        if kid.len() > MAX_KID_BYTES {
            return Err(Rejection::KidTooLong);
        }
        Ok(kid)
    }
}

/// serde's derived structs also accept a JSON array (fields by position); a JOSE header and a
/// claims set are objects (RFC 7515 §4, RFC 7519 §7.2), so anything else is refused up front.
pub fn is_json_object(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// True whenever the member is there at all, whatever its value (even `null`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(json: &str) -> Result<String, Rejection> {
        Header::parse(json.as_bytes())?
            .checked_kid()
            .map(str::to_owned)
    }

    #[test]
    fn splits_exactly_three_nonempty_parts() {
        let c = Compact::split("aa.bb.cc").unwrap();
        assert_eq!(
            (c.signing_input, c.header, c.payload, c.signature),
            ("aa.bb", "aa", "bb", "cc")
        );
        for bad in [
            "aa.bb",
            "aa.bb.cc.dd",
            "aa..cc",
            ".bb.cc",
            "aa.bb.",
            "aabbcc",
            "a.b.c.d.e",
        ] {
            assert_eq!(
                Compact::split(bad).unwrap_err(),
                Rejection::Segments,
                "{bad}"
            );
        }
    }

    #[test]
    fn base64url_is_strict() {
        assert_eq!(decode_part("eyJ9").unwrap(), b"{\"}");
        for bad in ["eyJ9=", "ey+9", "ey/9", "ey J9", "e", "eyJ*"] {
            assert_eq!(decode_part(bad), Err(Rejection::Base64), "{bad}");
        }
        // Non-canonical trailing bits ("QR" and "QQ" would both decode to "A").
        assert_eq!(decode_part("QR"), Err(Rejection::Base64));
    }

    #[test]
    fn header_needs_rs256_and_a_string_kid() {
        assert_eq!(
            header(r#"{"alg":"RS256","kid":"k1","typ":"JWT"}"#).unwrap(),
            "k1"
        );
        let cases = [
            (r#"{"alg":"none","kid":"k1"}"#, Rejection::Algorithm),
            (r#"{"alg":"None","kid":"k1"}"#, Rejection::Algorithm),
            (r#"{"alg":"NONE","kid":"k1"}"#, Rejection::Algorithm),
            (r#"{"alg":"rs256","kid":"k1"}"#, Rejection::Algorithm),
            (r#"{"alg":"HS256","kid":"k1"}"#, Rejection::Algorithm),
            (r#"{"alg":"RS384","kid":"k1"}"#, Rejection::Algorithm),
            (r#"{"alg":"PS256","kid":"k1"}"#, Rejection::Algorithm),
            (r#"{"alg":"ES256","kid":"k1"}"#, Rejection::Algorithm),
            (r#"{"alg":"RS256"}"#, Rejection::MissingKid),
            (r#"{"alg":"RS256","kid":""}"#, Rejection::MissingKid),
            (r#"{"alg":"RS256","kid":null}"#, Rejection::MissingKid),
            (r#"{"alg":"RS256","kid":7}"#, Rejection::Header),
            (r#"{"kid":"k1"}"#, Rejection::Header),
            (r#"{"alg":["RS256"],"kid":"k1"}"#, Rejection::Header),
            (
                r#"{"alg":"RS256","alg":"none","kid":"k1"}"#,
                Rejection::Header,
            ),
            (r#"["RS256"]"#, Rejection::Header),
            (r#"["RS256","k1"]"#, Rejection::Header),
            (r#" "RS256" "#, Rejection::Header),
            (
                r#"{"alg":"RS256","kid":"k1","crit":["exp"]}"#,
                Rejection::Crit,
            ),
            (r#"{"alg":"RS256","kid":"k1","crit":null}"#, Rejection::Crit),
        ];
        for (json, expected) in cases {
            assert_eq!(header(json), Err(expected), "{json}");
        }
        let long = format!(
            r#"{{"alg":"RS256","kid":"{}"}}"#,
            "k".repeat(MAX_KID_BYTES + 1)
        );
        assert_eq!(header(&long), Err(Rejection::KidTooLong));
    }

    #[test]
    fn key_url_headers_are_ignored_not_followed() {
        let json = r#"{"alg":"RS256","kid":"k1","jku":"https://evil/jwks","x5u":"https://evil/c",
            "jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"},"x5c":["MIIB"]}"#;
        assert_eq!(header(json).unwrap(), "k1");
    }

    #[test]
    fn escaped_kid_is_unescaped() {
        assert_eq!(header(r#"{"alg":"RS256","kid":"a\/b"}"#).unwrap(), "a/b");
    }

    #[test]
    fn oversized_signatures_are_refused_without_decoding() {
        let mut buf = [0u8; MAX_SIGNATURE_BYTES];
        let huge = "A".repeat(4 * MAX_SIGNATURE_BYTES);
        assert_eq!(decode_signature(&huge, &mut buf), Err(Rejection::Signature));
        assert_eq!(decode_signature("AQID", &mut buf).unwrap(), [1, 2, 3]);
    }
}
