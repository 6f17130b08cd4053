//! The deployment's rules, applied to every verified token (cached or not).
//!
//! - `client_id` must be one of `AUTHORIZER_CLIENT_IDS`: another app client's token is not a
//!   credential for this API at all, so it is a 401 like any invalid token.
//! - When `AUTHORIZER_REQUIRED_SCOPES` is set, at least one of them must be in the
//!   space-separated `scope` claim; when `AUTHORIZER_REQUIRED_GROUPS` is set, at least one of
//!   them must be in `cognito:groups`. When both are set, both rules apply. A valid token that
//!   fails them is authenticated but not allowed: an explicit Deny (403), not a 401, so the
//!   client does not throw away a good token and sign in again for nothing.

use crate::claims::VerifiedToken;
use crate::config::Config;
use crate::rejection::Rejection;

/// The verdict on a valid token from an accepted client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// None of the required scopes.
    DenyScope,
    /// None of the required groups.
    DenyGroup,
}

impl Verdict {
    /// The `outcome` dimension of the `Forbidden` metric (`allow` is never counted as one).
    pub const fn outcome(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::DenyScope => "missing_scope",
            Verdict::DenyGroup => "missing_group",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AccessRules {
    client_ids: Vec<String>,
    required_scopes: Vec<String>,
    required_groups: Vec<String>,
}

impl AccessRules {
    pub fn from_config(config: &Config) -> Self {
        Self {
            client_ids: config.client_ids.clone(),
            required_scopes: config.required_scopes.clone(),
            required_groups: config.required_groups.clone(),
        }
    }

    pub fn check(&self, token: &VerifiedToken) -> Result<Verdict, Rejection> {
        if !self.client_ids.contains(&token.client_id) {
            return Err(Rejection::ClientNotAllowed);
        }
        if !any_of(&self.required_scopes, token.scopes()) {
            return Ok(Verdict::DenyScope);
        }
        if !any_of(&self.required_groups, token.groups.iter()) {
            return Ok(Verdict::DenyGroup);
        }
        Ok(Verdict::Allow)
    }
}

/// No requirement, or at least one required entry held.
fn any_of<'a>(required: &[String], mut held: impl Iterator<Item = &'a str>) -> bool {
    required.is_empty() || held.any(|h| required.iter().any(|r| r == h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Groups;

    fn rules(scopes: &[&str], groups: &[&str]) -> AccessRules {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        AccessRules {
            client_ids: owned(&["app-1", "app-2"]),
            required_scopes: owned(scopes),
            required_groups: owned(groups),
        }
    }

    fn token(client_id: &str, scope: &str, groups: &[&str]) -> VerifiedToken {
        VerifiedToken {
            sub: "s".into(),
            username: "u".into(),
            client_id: client_id.into(),
            scope: scope.into(),
            groups: Groups::new(groups.iter().map(|g| g.to_string()).collect()),
            exp: 0,
            session: None,
            authenticated_at: 0,
        }
    }

    #[test]
    fn other_clients_are_refused_outright() {
        let r = rules(&[], &[]);
        assert_eq!(r.check(&token("app-2", "", &[])), Ok(Verdict::Allow));
        assert_eq!(
            r.check(&token("app-3", "", &[])),
            Err(Rejection::ClientNotAllowed)
        );
        assert_eq!(
            r.check(&token("APP-1", "", &[])),
            Err(Rejection::ClientNotAllowed)
        );
    }

    #[test]
    fn scopes_and_groups_are_any_of_and_both_apply() {
        let r = rules(&["portal/read", "portal/admin"], &["portal-users"]);
        let cases = [
            ("openid portal/read", &["portal-users"][..], Verdict::Allow),
            ("portal/admin", &["x", "portal-users"][..], Verdict::Allow),
            ("openid", &["portal-users"][..], Verdict::DenyScope),
            ("portal/reader", &["portal-users"][..], Verdict::DenyScope),
            ("", &["portal-users"][..], Verdict::DenyScope),
            ("portal/read", &[][..], Verdict::DenyGroup),
            ("portal/read", &["portal-user"][..], Verdict::DenyGroup),
            // A comma is part of the name, never a separator.
            ("portal/read", &["x,portal-users"][..], Verdict::DenyGroup),
        ];
        for (scope, groups, expected) in cases {
            assert_eq!(
                r.check(&token("app-1", scope, groups)),
                Ok(expected),
                "{scope:?} {groups:?}"
            );
        }
    }
}
