//! The workspace's one check of a Cognito access token: signature, then claims.
//!
//! [`Verifier::verify`] takes a bare token through the JWS structure and header ([`crate::jws`]),
//! the key by `kid` ([`crate::jwks`]), the RS256 signature and the claims ([`crate::claims`]),
//! with the verified-token cache ([`crate::cache`]) in front: a byte-identical token that passed
//! before is not verified again while it lives. Signature before claims: nothing in the payload
//! is parsed until the signature over it has been checked.
//!
//! The [`Authorizer`](crate::Authorizer) decides with it; the broker's revocation endpoint
//! (`/device/revoke`, RFC 7009) identifies the access tokens it is asked to revoke with it, so
//! that no second JWT check exists in the workspace. Neither the rules of a deployment
//! (`client_id`, scopes, groups) nor revocation are checked here: they are the callers'.

use std::sync::Arc;

use crate::authorizer::Options;
use crate::bearer::{MAX_TOKEN_BYTES, check_b64token};
use crate::cache::VerifiedCache;
use crate::claims::{Claims, VerifiedToken};
use crate::jwks::{JwksCache, JwksError, KeyError};
use crate::jws::{Compact, Header, MAX_SIGNATURE_BYTES, decode_part, decode_signature};
use crate::rejection::Rejection;
use portal_auth_domain::Clock;

/// The verifier could not be built (the HTTP client failed to initialise).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the JWKS HTTP client: {0}")]
pub struct InitError(#[from] reqwest::Error);

/// Access tokens of the accepted issuers (one pool's, in its formats), checked against the keys
/// published at one JWKS URL: the keys never come from a URL the token names.
pub struct Verifier {
    issuers: Vec<String>,
    keys: JwksCache,
    verified: VerifiedCache,
    clock: Arc<dyn Clock>,
}

impl Verifier {
    /// Fetches nothing yet: keys come at [`Self::warm_up`] or with the first token that needs
    /// them.
    pub fn new(
        issuers: Vec<String>,
        jwks_url: impl Into<String>,
        options: &Options,
    ) -> Result<Self, InitError> {
        Ok(Self {
            keys: JwksCache::new(
                jwks_url.into(),
                &options.jwks,
                &options.trust,
                Arc::clone(&options.clock),
                options.metrics,
            )?,
            issuers,
            verified: VerifiedCache::new(options.verified_cache_capacity),
            clock: Arc::clone(&options.clock),
        })
    }

    /// Fetches the JWKS.
    pub async fn warm_up(&self) -> Result<usize, JwksError> {
        self.keys.warm_up().await
    }

    /// Installs keys without fetching them.
    pub fn preload_jwks(&self, body: &[u8]) -> Result<usize, JwksError> {
        self.keys.preload(body)
    }

    /// Number of tokens in the verified-token cache.
    pub fn cache_len(&self) -> usize {
        self.verified.len()
    }

    /// The instance's clock, in seconds.
    pub fn now(&self) -> i64 {
        self.clock.unix_seconds()
    }

    /// A token that is not behind `Bearer ` (a form parameter): the same size bound first.
    pub async fn verify_bare(&self, token: &str) -> Result<Arc<VerifiedToken>, Rejection> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Rejection::TooLarge);
        }
        self.verify(token).await.map(|(verified, _)| verified)
    }

    /// Signature and claims, or the verified-token cache when this exact token passed before
    /// (then `true`).
    pub async fn verify(&self, token: &str) -> Result<(Arc<VerifiedToken>, bool), Rejection> {
        let now = self.now();
        if !self.verified.is_enabled() {
            let verified = self.verify_uncached(token, now).await?;
            return Ok((Arc::new(verified), false));
        }
        let digest = VerifiedCache::digest(token);
        if let Some(hit) = self.verified.get(&digest, now) {
            return Ok((hit, true));
        }
        let verified = Arc::new(self.verify_uncached(token, now).await?);
        self.verified.insert(digest, Arc::clone(&verified), now);
        Ok((verified, false))
    }

    async fn verify_uncached(&self, token: &str, now: i64) -> Result<VerifiedToken, Rejection> {
        check_b64token(token)?;
        let parts = Compact::split(token)?;
        let header_bytes = decode_part(parts.header)?;
        let header = Header::parse(&header_bytes)?;
        let kid = header.checked_kid()?;
        let mut signature_buf = [0u8; MAX_SIGNATURE_BYTES];
        let signature = decode_signature(parts.signature, &mut signature_buf)?;
        let key = self.keys.key(kid).await.map_err(|e| match e {
            KeyError::Unknown => Rejection::UnknownKid,
            KeyError::Unavailable => Rejection::JwksUnavailable,
        })?;
        if !key.verify(parts.signing_input.as_bytes(), signature) {
            return Err(Rejection::Signature);
        }
        let payload = decode_part(parts.payload)?;
        Claims::parse(&payload)?.verify(&self.issuers, now)
    }
}
