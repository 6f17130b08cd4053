//! `client_id`: a Cognito app client id, parsed before it is used as a key or logged.

use std::fmt;

/// A syntactically valid Cognito app client id (`[\w+]+`, at most 128 characters).
/// Whether the client may use the device grant is the allow-list's business, not this type's.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= 128
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'+');
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({})", self.0)
    }
}

/// A confidential app client's secret: never printed, compared in constant time.
pub type ClientSecret = crate::codes::Secret;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_match_only_themselves_and_never_print() {
        let secret = ClientSecret::new("s3cret");
        assert!(secret.matches("s3cret"));
        assert!(!secret.matches("s3cre"));
        assert!(!secret.matches(""));
        assert_eq!(format!("{secret:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn accepts_cognito_ids_and_rejects_the_rest() {
        assert!(ClientId::parse("4tg1bunu5ioo4vgt4pn0r8jv7e").is_some());
        for bad in ["", "a b", "a/b", "é", &"a".repeat(129)] {
            assert!(ClientId::parse(bad).is_none(), "{bad:?}");
        }
    }
}
