//! One OAuth error type for every endpoint.
//!
//! The wire codes are RFC 6749 §5.2, RFC 8628 §3.5 and RFC 7009 §2.2.1's. Each carries its HTTP status
//! (`invalid_client` is 401, server trouble 5xx, everything else a client may cause is 400),
//! a description safe to send, and, optionally, an internal cause that is logged and never
//! sent (as node-oidc-provider's `expose = status < 500`).

use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AuthorizationPending,
    SlowDown,
    AccessDenied,
    ExpiredToken,
    ServerError,
    TemporarilyUnavailable,
    /// RFC 7009 §2.2.1: the server cannot revoke this kind of token.
    UnsupportedTokenType,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidClient => 401,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

type Cause = Box<dyn std::error::Error + Send + Sync>;

/// An OAuth error answer. `Display` shows the wire code and description only.
pub struct OAuthError {
    pub code: ErrorCode,
    /// Sent to the client: must never contain a secret, a code or internal detail.
    pub description: Cow<'static, str>,
    /// Overrides the code's status (e.g. 413 for an oversized body).
    status: Option<u16>,
    /// Extra numeric members of the JSON answer (e.g. the raised `interval` on `slow_down`).
    numbers: Vec<(&'static str, u64)>,
    /// Seconds after which a refused request may be repeated (`Retry-After`, RFC 9110 §10.2.3).
    retry_after: Option<u64>,
    cause: Option<Cause>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            status: None,
            numbers: Vec::new(),
            retry_after: None,
            cause: None,
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// A dependency (DynamoDB, Cognito, the CSPRNG) failed: 503, detail kept for the log.
    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "the service is temporarily unavailable, try again shortly",
        )
        .with_cause(cause)
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_number(mut self, name: &'static str, value: u64) -> Self {
        self.numbers.push((name, value));
        self
    }

    pub fn numbers(&self) -> &[(&'static str, u64)] {
        &self.numbers
    }

    /// A rate limit's refusal: 429 (RFC 6585 §4), repeatable after `secs` seconds.
    pub fn rate_limited(description: impl Into<Cow<'static, str>>, secs: u64) -> Self {
        let mut err = Self::new(ErrorCode::SlowDown, description).with_status(429);
        err.retry_after = Some(secs);
        err
    }

    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    pub fn with_cause(mut self, cause: impl Into<Cause>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    pub fn status(&self) -> u16 {
        self.status.unwrap_or_else(|| self.code.status())
    }

    /// The internal cause, for the log line only.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.cause.as_deref()
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl fmt::Debug for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthError")
            .field("code", &self.code.as_str())
            .field("status", &self.status())
            .field("description", &self.description)
            .field("cause", &self.cause.as_ref().map(|c| c.to_string()))
            .finish()
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_rfcs() {
        assert_eq!(OAuthError::invalid_client("x").status(), 401);
        assert_eq!(OAuthError::new(ErrorCode::SlowDown, "x").status(), 400);
        assert_eq!(
            OAuthError::invalid_request("x").with_status(413).status(),
            413
        );
        assert_eq!(OAuthError::unavailable("boom").status(), 503);
    }

    #[test]
    fn the_cause_is_not_in_display() {
        let e = OAuthError::unavailable("secret detail");
        assert!(!e.to_string().contains("secret detail"));
        assert_eq!(
            e.cause().map(|c| c.to_string()).as_deref(),
            Some("secret detail")
        );
    }
}
