//! Why a token was refused, for logs and tests.
//!
//! A client only ever sees API Gateway's `401 Unauthorized` (or `isAuthorized: false`): the
//! reason stays server-side, and no variant carries any part of the token or its claims, so a
//! reason can be logged at `info` without leaking either.

/// A reason to answer 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
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
}
