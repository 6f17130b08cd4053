//! Why a token was refused, for logs, metrics and tests.
//!
//! A client only ever sees API Gateway's `401 Unauthorized` (or `isAuthorized: false`): the
//! reason stays server-side, and no variant carries any part of the token or its claims, so a
//! reason can be logged at `info` without leaking either.
//!
//! The log line names the precise [`Rejection`]; the `Unauthorized` metric's `outcome`
//! dimension names its [`Reason`], a coarser fixed set (16 values, each a CloudWatch metric of
//! its own, so few on purpose), grouped by what an operator does about it: `expired` is
//! clients not refreshing, `jwks_unavailable` is an outage, `wrong_algorithm` or
//! `bad_signature` in numbers is someone forging tokens.

/// A reason to answer 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Rejection {
    #[error("no Authorization header")]
    MissingAuthorization,
    #[error("more than one Authorization header")]
    AmbiguousAuthorization,
    #[error("token larger than the size bound")]
    TooLarge,
    #[error("Authorization scheme is not Bearer")]
    NotBearer,
    #[error("Authorization header is not exactly one bearer token")]
    MalformedBearer,
    #[error("token is not three dot-separated parts")]
    Segments,
    #[error("token part is not base64url")]
    Base64,
    #[error("protected header is not the expected JSON")]
    Header,
    #[error("alg is not RS256")]
    Algorithm,
    #[error("kid missing or not a string")]
    MissingKid,
    #[error("kid longer than any key id")]
    KidTooLong,
    #[error("crit header present: no extension is understood")]
    Crit,
    #[error("kid not in the pool's JWKS")]
    UnknownKid,
    #[error("JWKS unavailable and no key cached")]
    JwksUnavailable,
    #[error("signature does not verify")]
    Signature,
    #[error("claims are not the expected JSON")]
    Claims,
    #[error("iss is not this pool")]
    Issuer,
    #[error("exp missing")]
    MissingExpiry,
    #[error("token expired")]
    Expired,
    #[error("exp further after iat than any Cognito access token lives")]
    LifetimeTooLong,
    #[error("nbf in the future")]
    NotYetValid,
    #[error("iat in the future")]
    IssuedInFuture,
    #[error("token_use is not access")]
    NotAccessToken,
    #[error("sub or client_id missing")]
    MissingSubject,
    #[error("client_id not accepted here")]
    ClientNotAllowed,
    #[error("event is not an API Gateway authorizer event")]
    UnsupportedEvent,
    #[error("malformed event: not a JSON object, or a member of the wrong JSON type")]
    MalformedEvent,
    #[error("methodArn missing or malformed")]
    MethodArn,
    #[error("session revoked, or user signed out since the token's authentication")]
    Revoked,
    #[error("no revocation set could be read yet")]
    RevocationsUnavailable,
}

impl Rejection {
    /// Every variant, in declaration order.
    pub const ALL: [Rejection; 30] = [
        Rejection::MissingAuthorization,
        Rejection::AmbiguousAuthorization,
        Rejection::TooLarge,
        Rejection::NotBearer,
        Rejection::MalformedBearer,
        Rejection::Segments,
        Rejection::Base64,
        Rejection::Header,
        Rejection::Algorithm,
        Rejection::MissingKid,
        Rejection::KidTooLong,
        Rejection::Crit,
        Rejection::UnknownKid,
        Rejection::JwksUnavailable,
        Rejection::Signature,
        Rejection::Claims,
        Rejection::Issuer,
        Rejection::MissingExpiry,
        Rejection::Expired,
        Rejection::LifetimeTooLong,
        Rejection::NotYetValid,
        Rejection::IssuedInFuture,
        Rejection::NotAccessToken,
        Rejection::MissingSubject,
        Rejection::ClientNotAllowed,
        Rejection::UnsupportedEvent,
        Rejection::MalformedEvent,
        Rejection::MethodArn,
        Rejection::Revoked,
        Rejection::RevocationsUnavailable,
    ];

    /// The fixed reason this rejection counts under (the `Unauthorized` metric's `outcome`).
    pub const fn reason(self) -> Reason {
        use Rejection::*;
        match self {
            MissingAuthorization => Reason::MissingToken,
            AmbiguousAuthorization | NotBearer | MalformedBearer => Reason::MalformedHeader,
            TooLarge | Segments | Base64 | Header | MissingKid | KidTooLong | Crit => {
                Reason::MalformedToken
            }
            Algorithm => Reason::WrongAlgorithm,
            UnknownKid => Reason::UnknownKey,
            JwksUnavailable => Reason::JwksUnavailable,
            Signature => Reason::BadSignature,
            Claims | MissingExpiry | LifetimeTooLong | MissingSubject => Reason::BadClaims,
            Issuer => Reason::WrongIssuer,
            Expired => Reason::Expired,
            NotYetValid | IssuedInFuture => Reason::NotYetValid,
            NotAccessToken => Reason::WrongTokenUse,
            ClientNotAllowed => Reason::WrongClient,
            UnsupportedEvent | MalformedEvent | MethodArn => Reason::MalformedEvent,
            Revoked => Reason::Revoked,
            RevocationsUnavailable => Reason::RevocationsUnavailable,
        }
    }
}

/// The fixed, low-cardinality reasons of a 401: the `outcome` dimension of the authorizer's
/// `Unauthorized` metric (listed in the README and docs/operations.md, "Metrics").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// No `Authorization` header (or an empty `authorizationToken`).
    MissingToken,
    /// `Authorization` given twice, not `Bearer`, or not exactly one `b64token`.
    MalformedHeader,
    /// Over the size bound, not three base64url parts, or a header that is not the expected
    /// JSON (no `kid`, a `crit`, ...).
    MalformedToken,
    /// `alg` is not `RS256` (`none`, `HS256`, ...).
    WrongAlgorithm,
    /// The `kid` is not in the pool's JWKS, even after a refetch.
    UnknownKey,
    /// No JWKS could be fetched and no key is cached.
    JwksUnavailable,
    /// The signature does not verify.
    BadSignature,
    /// Signed by the pool, but the claims are not those of a Cognito access token (types,
    /// ranges, `exp` or `sub`/`client_id` missing, a lifetime over 24 h).
    BadClaims,
    /// `iss` is not this pool.
    WrongIssuer,
    /// `exp` has passed.
    Expired,
    /// `nbf` or `iat` in the future (beyond the leeway).
    NotYetValid,
    /// `token_use` is not `access` (an ID token, typically).
    WrongTokenUse,
    /// A valid token of an app client this API does not accept.
    WrongClient,
    /// Not an API Gateway authorizer event, a malformed one, or an unusable `methodArn`.
    MalformedEvent,
    /// A revoked session's token, or a signed-out user's ([`crate::revocations`]).
    Revoked,
    /// The instance has never read the revocation set (fail closed).
    RevocationsUnavailable,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: [Reason; 16] = [
        Reason::MissingToken,
        Reason::MalformedHeader,
        Reason::MalformedToken,
        Reason::WrongAlgorithm,
        Reason::UnknownKey,
        Reason::JwksUnavailable,
        Reason::BadSignature,
        Reason::BadClaims,
        Reason::WrongIssuer,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::WrongTokenUse,
        Reason::WrongClient,
        Reason::MalformedEvent,
        Reason::Revoked,
        Reason::RevocationsUnavailable,
    ];

    /// The `outcome` dimension's value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::MissingToken => "missing_token",
            Reason::MalformedHeader => "malformed_header",
            Reason::MalformedToken => "malformed_token",
            Reason::WrongAlgorithm => "wrong_algorithm",
            Reason::UnknownKey => "unknown_key",
            Reason::JwksUnavailable => "jwks_unavailable",
            Reason::BadSignature => "bad_signature",
            Reason::BadClaims => "bad_claims",
            Reason::WrongIssuer => "wrong_issuer",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::WrongTokenUse => "wrong_token_use",
            Reason::WrongClient => "wrong_client",
            Reason::MalformedEvent => "malformed_event",
            Reason::Revoked => "revoked",
            Reason::RevocationsUnavailable => "revocations_unavailable",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_reason_is_some_rejections_and_a_valid_outcome_dimension() {
        let used: HashSet<Reason> = Rejection::ALL.iter().map(|r| r.reason()).collect();
        assert_eq!(
            used,
            Reason::ALL.into_iter().collect(),
            "a reason nothing maps to"
        );
        let names: HashSet<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), Reason::ALL.len(), "two reasons share a name");
        for name in names {
            assert!(
                !name.is_empty()
                    && name.len() <= portal_auth_runtime::metrics::MAX_OUTCOME_LEN
                    && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
        }
        assert_eq!(
            Rejection::ALL.iter().collect::<HashSet<_>>().len(),
            Rejection::ALL.len()
        );
    }

    #[test]
    fn the_readme_lists_every_reason() {
        let readme = include_str!("../README.md");
        for reason in Reason::ALL {
            assert!(
                readme.contains(&format!("| `{reason}` |")),
                "README.md, \"Metrics\", does not list `{reason}`"
            );
        }
    }
}
