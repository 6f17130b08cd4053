//! Revocation records, as the broker writes them and the authorizer reads them (issue 13).
//!
//! Cognito access tokens are self-contained: a revoked session's access tokens verify until
//! their `exp`. Two records make the authorizer refuse them earlier:
//!
//! - a revoked **session** (RFC 7009 at `/device/revoke`, `portal-login logout`): the access
//!   token's `origin_jti` (or `jti` when it has none), so every access token of that sign-in —
//!   refreshed ones included, which keep the `origin_jti` — is refused until the revoked token's
//!   `exp`;
//! - a signed-out **user** (sign-out everywhere): "tokens of this `sub` authenticated at or
//!   before T are revoked", compared with the token's `auth_time` (else `iat`), kept for
//!   [`MAX_ACCESS_TOKEN_LIFETIME_SECS`] after T, after which no such token can still be valid.
//!
//! Storage is the one grants table, in hour buckets keyed by when the records stop mattering:
//! `revoked#<hour>` holds the sessions whose tokens expire in that hour (one attribute each,
//! `session#<id>` = `exp`) and the users whose sign-out ends then (`user#<sub>` = T), with a
//! TTL at the hour's end plus a margin. One top-level attribute per record lets a single
//! `UpdateItem` add a record to a bucket that may not exist yet; an item holds up to 400 KB,
//! some 5,000 records an hour. The live set is then [`live_buckets`] — 25 keys, one
//! `BatchGetItem` — read by the authorizer off its decision path; nothing here needs a `Scan`,
//! an index or a sort key.

use std::collections::HashMap;

/// The longest an access token can be valid: Cognito's ceiling for access tokens is one day,
/// and the authorizer refuses any token whose `exp` is more than this after its `iat`.
pub const MAX_ACCESS_TOKEN_LIFETIME_SECS: u64 = 86_400;
/// One bucket per hour of expiry.
pub const BUCKET_SECS: u64 = 3_600;
/// A bucket item lives this long past its hour (clock skew between writer, reader and TTL).
pub const BUCKET_TTL_MARGIN_SECS: u64 = 3_600;

pub const BUCKET_PREFIX: &str = "revoked#";
/// The attribute of a revoked session, `session#<id>`: the revoked token's `exp` (epoch s).
pub const SESSION_PREFIX: &str = "session#";
/// The attribute of a signed-out user, `user#<sub>`: the instant (epoch s) at and before which
/// their authentications are revoked.
pub const USER_PREFIX: &str = "user#";

/// The attribute name of a revoked session.
pub fn session_attribute(id: &str) -> String {
    format!("{SESSION_PREFIX}{id}")
}

/// The attribute name of a signed-out user.
pub fn user_attribute(sub: &str) -> String {
    format!("{USER_PREFIX}{sub}")
}

/// The bucket of records that stop mattering at `until` (epoch seconds).
pub fn bucket_key(until: u64) -> String {
    format!("{BUCKET_PREFIX}{}", until / BUCKET_SECS)
}

/// When DynamoDB's TTL may delete the bucket of [`bucket_key`]`(until)`.
pub fn bucket_expiry(until: u64) -> u64 {
    (until / BUCKET_SECS + 1) * BUCKET_SECS + BUCKET_TTL_MARGIN_SECS
}

/// Every bucket that can hold a record still in force at `now`: this hour's to the one a day
/// ahead (a session's bucket is its token's `exp`, at most a day away; a user's, T + a day).
pub fn live_buckets(now: u64) -> Vec<String> {
    let first = now / BUCKET_SECS;
    let last = (now + MAX_ACCESS_TOKEN_LIFETIME_SECS) / BUCKET_SECS;
    (first..=last)
        .map(|h| format!("{BUCKET_PREFIX}{h}"))
        .collect()
}

/// What the authorizer knows of a token, to judge it against the set.
#[derive(Debug, Clone, Copy)]
pub struct TokenFacts<'a> {
    /// `origin_jti`, else `jti`.
    pub session: Option<&'a str>,
    pub sub: &'a str,
    /// `auth_time`, else `iat`.
    pub authenticated_at: u64,
}

/// The records in force, merged from the live buckets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationSet {
    sessions: HashMap<String, u64>,
    users: HashMap<String, u64>,
}

impl RevocationSet {
    /// Adds a revoked session whose tokens expire at `exp`.
    pub fn add_session(&mut self, id: impl Into<String>, exp: u64) {
        let slot = self.sessions.entry(id.into()).or_insert(exp);
        *slot = (*slot).max(exp);
    }

    /// Adds a user signed out at `at`.
    pub fn add_user(&mut self, sub: impl Into<String>, at: u64) {
        let slot = self.users.entry(sub.into()).or_insert(at);
        *slot = (*slot).max(at);
    }

    /// Adds the record a bucket attribute `name` with number `value` holds; other attributes
    /// (`pk`, `expires_at`) are not records and are skipped.
    pub fn add_attribute(&mut self, name: &str, value: u64) {
        if let Some(id) = name.strip_prefix(SESSION_PREFIX) {
            self.add_session(id, value);
        } else if let Some(sub) = name.strip_prefix(USER_PREFIX) {
            self.add_user(sub, value);
        }
    }

    /// Drops what no longer matters at `now`.
    pub fn prune(&mut self, now: u64) {
        self.sessions.retain(|_, exp| *exp > now);
        self.users
            .retain(|_, at| at.saturating_add(MAX_ACCESS_TOKEN_LIFETIME_SECS) > now);
    }

    pub fn len(&self) -> usize {
        self.sessions.len() + self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a token with these facts is revoked: its session is, or its user was signed out
    /// at or after it authenticated (at the same second too: fail closed).
    pub fn revokes(&self, token: &TokenFacts<'_>) -> bool {
        let session = token
            .session
            .is_some_and(|id| self.sessions.contains_key(id));
        let user = self
            .users
            .get(token.sub)
            .is_some_and(|at| token.authenticated_at <= *at);
        session || user
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_796_000_000;

    fn facts<'a>(session: Option<&'a str>, sub: &'a str, at: u64) -> TokenFacts<'a> {
        TokenFacts {
            session,
            sub,
            authenticated_at: at,
        }
    }

    #[test]
    fn sessions_and_users_are_revoked_and_nothing_else() {
        let mut set = RevocationSet::default();
        set.add_session("s-1", NOW + 600);
        set.add_user("u-2", NOW);
        assert!(set.revokes(&facts(Some("s-1"), "u-1", NOW - 10)));
        assert!(!set.revokes(&facts(Some("s-9"), "u-1", NOW - 10)));
        assert!(!set.revokes(&facts(None, "u-1", NOW - 10)));
        assert!(
            set.revokes(&facts(Some("s-9"), "u-2", NOW - 1)),
            "before the sign-out"
        );
        assert!(
            set.revokes(&facts(Some("s-9"), "u-2", NOW)),
            "the same second: closed"
        );
        assert!(
            !set.revokes(&facts(Some("s-9"), "u-2", NOW + 1)),
            "a new login passes"
        );
    }

    #[test]
    fn bucket_attributes_are_read_back_as_records() {
        let mut set = RevocationSet::default();
        set.add_attribute(&session_attribute("s-1"), NOW + 60);
        set.add_attribute(&user_attribute("u-1"), NOW);
        set.add_attribute("expires_at", NOW + 7200);
        set.add_attribute("pk", 0);
        assert_eq!(set.len(), 2);
        assert!(set.revokes(&facts(Some("s-1"), "x", NOW)));
        assert!(set.revokes(&facts(None, "u-1", NOW - 5)));
    }

    #[test]
    fn records_end_when_they_stop_mattering() {
        let mut set = RevocationSet::default();
        set.add_session("s-1", NOW + 600);
        set.add_user("u-2", NOW);
        set.prune(NOW + 600);
        assert!(!set.revokes(&facts(Some("s-1"), "x", 0)));
        assert_eq!(set.len(), 1);
        set.prune(NOW + MAX_ACCESS_TOKEN_LIFETIME_SECS);
        assert!(set.is_empty());
    }

    #[test]
    fn the_live_buckets_cover_a_day_of_expiries() {
        let buckets = live_buckets(NOW);
        assert_eq!(buckets.len(), 25);
        assert_eq!(buckets[0], bucket_key(NOW));
        assert!(buckets.contains(&bucket_key(NOW + MAX_ACCESS_TOKEN_LIFETIME_SECS)));
        assert!(bucket_expiry(NOW) > NOW + BUCKET_SECS - NOW % BUCKET_SECS);
        // A session revoked now lands in a live bucket until its token expires.
        let exp = NOW + 3_000;
        for t in [NOW, NOW + 2_999] {
            assert!(live_buckets(t).contains(&bucket_key(exp)));
        }
    }
}
