//! The check of one requirement against a verified token (cached or not), and of the client.
//!
//! - [`ClientIds`]: `client_id` must be one of `AUTHORIZER_CLIENT_IDS`. Another app client's
//!   token is not a credential for this API at all, so it is a 401 like any invalid token.
//! - [`Requirement`]: what one rule ([`crate::rules`]) asks of a token. When it names scopes, at
//!   least one of them must be in the space-separated `scope` claim; when it names groups, at
//!   least one of them must be in `cognito:groups`; when it names both, both apply. A valid
//!   token that fails it is authenticated but not allowed: an explicit Deny (403), not a 401,
//!   so the client does not throw away a good token and sign in again for nothing.
//!
//! Which requirement applies to which route is [`crate::rules`]'s business; the global
//! `AUTHORIZER_REQUIRED_SCOPES` / `AUTHORIZER_REQUIRED_GROUPS` are the requirement of its
//! final catch-all rule.

use crate::claims::VerifiedToken;
use crate::rejection::Rejection;

/// The verdict on a valid token from an accepted client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// None of the required scopes.
    DenyScope,
    /// None of the required groups.
    DenyGroup,
    /// A `deny` rule: nobody may call the route through this API.
    DenyRoute,
}

impl Verdict {
    /// The `outcome` dimension of the `Forbidden` metric (`allow` is never counted as one).
    pub const fn outcome(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::DenyScope => "missing_scope",
            Verdict::DenyGroup => "missing_group",
            Verdict::DenyRoute => "route_denied",
        }
    }

    pub const fn is_allow(self) -> bool {
        matches!(self, Verdict::Allow)
    }
}

/// The app clients whose access tokens are accepted (`AUTHORIZER_CLIENT_IDS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIds(Vec<String>);

impl ClientIds {
    pub fn new(ids: Vec<String>) -> Self {
        Self(ids)
    }

    pub fn check(&self, token: &VerifiedToken) -> Result<(), Rejection> {
        if self.0.contains(&token.client_id) {
            Ok(())
        } else {
            Err(Rejection::ClientNotAllowed)
        }
    }
}

/// Any one of `scopes` (when not empty) and any one of `groups` (when not empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirement {
    pub scopes: Vec<String>,
    pub groups: Vec<String>,
}

impl Requirement {
    pub fn new(scopes: Vec<String>, groups: Vec<String>) -> Self {
        Self { scopes, groups }
    }

    /// No requirement at all: any valid token (a `public` rule).
    pub fn is_none(&self) -> bool {
        self.scopes.is_empty() && self.groups.is_empty()
    }

    pub fn check(&self, token: &VerifiedToken) -> Verdict {
        if !any_of(&self.scopes, token.scopes()) {
            Verdict::DenyScope
        } else if !any_of(&self.groups, token.groups.iter()) {
            Verdict::DenyGroup
        } else {
            Verdict::Allow
        }
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

    fn owned(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn rules(scopes: &[&str], groups: &[&str]) -> Requirement {
        Requirement::new(owned(scopes), owned(groups))
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
        let clients = ClientIds::new(owned(&["app-1", "app-2"]));
        assert_eq!(clients.check(&token("app-2", "", &[])), Ok(()));
        assert_eq!(
            clients.check(&token("app-3", "", &[])),
            Err(Rejection::ClientNotAllowed)
        );
        assert_eq!(
            clients.check(&token("APP-1", "", &[])),
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
                expected,
                "{scope:?} {groups:?}"
            );
        }
    }
}
