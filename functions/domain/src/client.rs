//! `client_id`: a Cognito app client id, parsed before it is used as a key or logged.

use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

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

/// A confidential app client's secret. Never printed by `Debug`; compared in constant time.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Compares digests, so neither the content nor the length of the secret shows in timing.
    pub fn matches(&self, presented: &str) -> bool {
        let expected = Sha256::digest(self.0.as_bytes());
        let presented = Sha256::digest(presented.as_bytes());
        expected.as_slice().ct_eq(presented.as_slice()).into()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_match_only_themselves_and_never_print() {
        let secret = ClientSecret::new("s3cret");
        assert!(secret.matches("s3cret"));
        assert!(!secret.matches("s3cre"));
        assert!(!secret.matches(""));
        assert_eq!(format!("{secret:?}"), "ClientSecret(<redacted>)");
    }

    #[test]
    fn accepts_cognito_ids_and_rejects_the_rest() {
        assert!(ClientId::parse("4tg1bunu5ioo4vgt4pn0r8jv7e").is_some());
        for bad in ["", "a b", "a/b", "é", &"a".repeat(129)] {
            assert!(ClientId::parse(bad).is_none(), "{bad:?}");
        }
    }
}
