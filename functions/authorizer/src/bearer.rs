//! `Authorization: Bearer <token>` (RFC 6750 §2.1), checked before anything is decoded.
//!
//! The scheme is case-insensitive (RFC 9110 §11.1); exactly one token follows, made of the
//! `b64token` characters. A comma or a space inside means two credentials (two headers joined by
//! API Gateway, or `Bearer a b`), which is refused rather than guessed at. Anything longer than
//! [`MAX_TOKEN_BYTES`] is refused before it is split or decoded: Cognito access tokens are around
//! 1 KiB, and an 8 KiB bound leaves room for many groups while keeping an attacker's parsing
//! cost small.
//!
//! [`bearer_token`] does the cheap structural part (size, scheme); [`check_b64token`] scans every
//! character, and runs only when the token is not in the verified-token cache: a cached token
//! is byte-identical to one that already passed the scan.

use crate::rejection::Rejection;

/// The largest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Extracts the token from an `Authorization` header value.
pub fn bearer_token(header: &str) -> Result<&str, Rejection> {
    if header.len() > MAX_TOKEN_BYTES + "Bearer ".len() + 2 {
        return Err(Rejection::TooLarge);
    }
    let header = header.trim_matches(|c| c == ' ' || c == '\t');
    if header.is_empty() {
        return Err(Rejection::MissingAuthorization);
    }
    let (scheme, token) = header.split_once(' ').ok_or(Rejection::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Rejection::NotBearer);
    }
    let token = token.trim_start_matches(' ');
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Rejection::TooLarge);
    }
    if token.is_empty() {
        return Err(Rejection::MalformedBearer);
    }
    Ok(token)
}

/// Exactly one `b64token`: a space or a comma inside means two credentials.
pub fn check_b64token(token: &str) -> Result<(), Rejection> {
    if is_b64token(token) {
        Ok(())
    } else {
        Err(Rejection::MalformedBearer)
    }
}

/// `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    // Every request scans its whole token: a branch-free fold lets the compiler vectorize it.
    !body.is_empty() && body.bytes().fold(true, |ok, b| ok & is_b64token_byte(b))
}

fn is_b64token_byte(b: u8) -> bool {
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    let digit = b.wrapping_sub(b'0') < 10;
    letter
        | digit
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
        | (b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_one_bearer_token_in_any_scheme_case() {
        for header in [
            "Bearer a.b.c",
            "bearer a.b.c",
            "BEARER  a.b.c",
            " Bearer a.b.c ",
        ] {
            assert_eq!(bearer_token(header), Ok("a.b.c"), "{header:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_exactly_one_bearer_token() {
        let cases = [
            ("", Rejection::MissingAuthorization),
            ("   ", Rejection::MissingAuthorization),
            ("a.b.c", Rejection::NotBearer),
            ("Bearer", Rejection::NotBearer),
            ("Basic dXNlcjpwYXNz", Rejection::NotBearer),
            ("Bearerx a.b.c", Rejection::NotBearer),
            ("Bearer ", Rejection::NotBearer),
            ("Bearer a.b.c d.e.f", Rejection::MalformedBearer),
            ("Bearer a.b.c,Bearer d.e.f", Rejection::MalformedBearer),
            ("Bearer a.b.c, d.e.f", Rejection::MalformedBearer),
            ("Bearer a\"b", Rejection::MalformedBearer),
            ("Bearer ===", Rejection::MalformedBearer),
            ("Bearer a.b\u{e9}.c", Rejection::MalformedBearer),
        ];
        for (header, expected) in cases {
            let checked = bearer_token(header).and_then(|t| check_b64token(t).map(|()| t));
            assert_eq!(checked, Err(expected), "{header:?}");
        }
    }

    #[test]
    fn b64token_bytes_are_exactly_the_rfc_6750_set() {
        for b in 0..=255u8 {
            let expected = b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            assert_eq!(is_b64token_byte(b), expected, "byte {b:#04x}");
        }
    }

    #[test]
    fn size_bound_is_checked_on_the_token() {
        let at_bound = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES));
        assert!(bearer_token(&at_bound).is_ok());
        let over = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert_eq!(bearer_token(&over), Err(Rejection::TooLarge));
        let huge = "a".repeat(1 << 20);
        assert_eq!(bearer_token(&huge), Err(Rejection::TooLarge));
    }
}
