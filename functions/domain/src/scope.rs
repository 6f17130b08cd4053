//! `scope` (RFC 6749 §3.3): a space-delimited set of scope tokens.

use std::fmt;

/// A set of scope tokens in the order first given, without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a `scope` parameter. Tokens are `1*( %x21 / %x23-5B / %x5D-7E )`; runs of
    /// spaces are tolerated, anything else is `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut tokens: Vec<String> = Vec::new();
        for token in raw.split(' ').filter(|t| !t.is_empty()) {
            if !token.bytes().all(is_scope_char) || token.len() > 256 {
                return None;
            }
            if !tokens.iter().any(|t| t == token) {
                tokens.push(token.to_owned());
            }
        }
        Some(Self(tokens))
    }

    pub fn from_tokens<S: Into<String>>(tokens: impl IntoIterator<Item = S>) -> Self {
        let mut scopes = Self::default();
        for t in tokens {
            let t = t.into();
            if !scopes.0.contains(&t) {
                scopes.0.push(t);
            }
        }
        scopes
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset_of(&self, allowed: &Scopes) -> bool {
        self.0.iter().all(|s| allowed.0.contains(s))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

fn is_scope_char(b: u8) -> bool {
    b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dedupes_and_checks_subsets() {
        let s = Scopes::parse("openid  email openid").unwrap();
        assert_eq!(s.to_string(), "openid email");
        let allowed = Scopes::from_tokens(["openid", "email", "profile"]);
        assert!(s.is_subset_of(&allowed));
        assert!(
            !Scopes::parse("openid admin")
                .unwrap()
                .is_subset_of(&allowed)
        );
        assert!(Scopes::parse("").unwrap().is_empty());
    }

    #[test]
    fn rejects_characters_outside_the_scope_token_grammar() {
        for bad in ["a\"b", "a\\b", "a\tb", "é"] {
            assert!(Scopes::parse(bad).is_none(), "{bad:?}");
        }
    }
}
