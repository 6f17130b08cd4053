//! A bounded cache of tokens this instance has already verified.
//!
//! API Gateway's own authorizer cache (keyed by the token) is optional and per route set; this
//! one spares the RSA verification and the JSON parsing when the same token comes back to the
//! same Lambda instance, which is the usual case for a portal session.
//!
//! - Keyed by SHA-256 of the whole token, so only the byte-identical token hits (a token with
//!   an altered payload or signature is a different key), and no token is kept in memory.
//! - An entry holds what verification produced; `exp` is honoured on every hit with the same
//!   leeway as verification, and an expired entry is dropped. The per-deployment rules
//!   (`client_id`, scopes, groups) are not cached: [`crate::access`] applies them every time.
//! - Only tokens that passed signature, issuer, time and `token_use` checks are stored, so an
//!   attacker cannot fill it with garbage; it is bounded anyway ([`DEFAULT_CAPACITY`]): when full,
//!   expired entries are dropped, and if none were, the whole cache is cleared. A Lambda instance
//!   sees far fewer live tokens than the bound, so the clear is a safety net against memory
//!   growth, not a working-set policy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::digest::{SHA256, digest};

use crate::claims::VerifiedToken;

/// Entries kept at most (a few hundred bytes each).
pub const DEFAULT_CAPACITY: usize = 10_000;

pub type TokenDigest = [u8; 32];

#[derive(Debug)]
pub struct VerifiedCache {
    capacity: usize,
    entries: Mutex<HashMap<TokenDigest, Arc<VerifiedToken>>>,
}

impl VerifiedCache {
    /// A cache of at most `capacity` tokens; `0` disables it.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.capacity > 0
    }

    pub fn digest(token: &str) -> TokenDigest {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        out
    }

    /// The verified token for `key`, if cached and still live at `now`.
    pub fn get(&self, key: &TokenDigest, now: i64) -> Option<Arc<VerifiedToken>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let token = entries.get(key)?;
        if token.is_live(now) {
            return Some(Arc::clone(token));
        }
        entries.remove(key);
        None
    }

    pub fn insert(&self, key: TokenDigest, token: Arc<VerifiedToken>, now: i64) {
        if !self.is_enabled() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, t| t.is_live(now));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, token);
    }

    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Groups;

    fn token(exp: i64) -> Arc<VerifiedToken> {
        Arc::new(VerifiedToken {
            sub: "s".into(),
            username: "u".into(),
            client_id: "c".into(),
            scope: String::new(),
            groups: Groups::default(),
            exp,
            session: None,
            authenticated_at: 0,
        })
    }

    #[test]
    fn keys_are_the_sha256_of_the_whole_token() {
        assert_eq!(
            VerifiedCache::digest("a.b.c"),
            VerifiedCache::digest("a.b.c")
        );
        assert_ne!(
            VerifiedCache::digest("a.b.c"),
            VerifiedCache::digest("a.b.d")
        );
        assert_eq!(
            VerifiedCache::digest("")[..4],
            [0xe3, 0xb0, 0xc4, 0x42],
            "SHA-256 of the empty string"
        );
    }

    #[test]
    fn hits_honour_exp_and_expired_entries_are_dropped() {
        let cache = VerifiedCache::new(10);
        let key = VerifiedCache::digest("t");
        cache.insert(key, token(100), 50);
        assert!(cache.get(&key, 99).is_some());
        assert!(cache.get(&key, 104).is_some(), "within leeway");
        assert!(cache.get(&key, 105).is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn stays_bounded_dropping_expired_entries_first() {
        let cache = VerifiedCache::new(3);
        for (i, exp) in [10, 1_000, 1_000].into_iter().enumerate() {
            cache.insert(VerifiedCache::digest(&i.to_string()), token(exp), 0);
        }
        cache.insert(VerifiedCache::digest("new"), token(1_000), 500);
        assert_eq!(cache.len(), 3, "the expired entry made room");
        assert!(cache.get(&VerifiedCache::digest("1"), 500).is_some());
        cache.insert(VerifiedCache::digest("newer"), token(1_000), 500);
        assert_eq!(
            cache.len(),
            1,
            "full of live entries: cleared, then inserted"
        );
        for i in 0..100 {
            cache.insert(VerifiedCache::digest(&format!("x{i}")), token(1_000), 500);
            assert!(cache.len() <= 3);
        }
    }

    #[test]
    fn capacity_zero_disables_it() {
        let cache = VerifiedCache::new(0);
        let key = VerifiedCache::digest("t");
        cache.insert(key, token(100), 0);
        assert!(cache.get(&key, 0).is_none() && !cache.is_enabled());
    }
}
