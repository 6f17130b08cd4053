//! Token revocation (RFC 7009) for device clients: what `POST /device/revoke` does once the
//! client is authenticated.
//!
//! The token is identified by what it is, not by `token_type_hint` (§2.1: a server that does
//! not find the token by the hint extends its search to every type; the answer is therefore
//! the same with the hint, without it, or with a wrong one):
//!
//! 1. **An access token of this pool** — verified by the authorizer's own [`Verifier`]
//!    (signature, `iss`, `exp`, `token_use`: the workspace's one JWT check). Issued to this
//!    client: its session (`origin_jti`, else `jti`) is recorded as revoked until the token's
//!    `exp` ([`portal_auth_domain::revocation`]), which the authorizer honours. Issued to
//!    another client: refused, `invalid_request` (§2.1: the server verifies that the token was
//!    issued to the client asking, as node-oidc-provider does). Without any `jti` the session
//!    cannot be named: `unsupported_token_type` (Cognito always sets one).
//! 2. **An expired access token**: nothing to do, 200 (§2.2).
//! 3. **Anything else that has a Cognito refresh token's shape** goes to Cognito's
//!    `RevokeToken` for this app client, with its secret when it has one. Cognito's "no such
//!    token" answers (`NotAuthorized`, `InvalidParameter`, `UnsupportedTokenType`) are a 200:
//!    unknown, already revoked and expired tokens are not errors (§2.2). An app client with
//!    revocation turned off answers `unsupported_token_type`.
//! 4. **Garbage**: 200, nothing done, nothing forwarded (it would spend Cognito's quota).
//!
//! When the keys, DynamoDB or Cognito cannot be reached, the answer is 503
//! `temporarily_unavailable` and nothing is claimed: a client that is told 200 can rely on
//! the revocation having been recorded.
//!
//! A refresh token is opaque to us (Cognito's are encrypted), so revoking it does not stop the
//! access tokens already minted from it at the authorizer: `portal-login logout` revokes the
//! access token first, then the refresh token.

use std::sync::{Arc, OnceLock};

use authorizer::{Options, Rejection, Verifier};
use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cognitoidentityprovider::operation::revoke_token::RevokeTokenError;
use portal_auth_domain::{Clock, ErrorCode, OAuthError};

use crate::Deps;
use crate::audit::{self, Event, Record, User};
use crate::clients::AppClient;

/// What a revocation request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The access token's session is recorded as revoked.
    AccessToken,
    /// Cognito revoked the refresh token.
    RefreshToken,
    /// Unknown, expired or already revoked: nothing to do (still a 200).
    Nothing,
}

/// The verifier of access tokens presented for revocation, built on first use: the other
/// routes of the functions that share [`Deps`] never pay for it at cold start.
#[derive(Default)]
pub struct AccessTokens {
    verifier: OnceLock<Verifier>,
}

impl AccessTokens {
    fn get(&self, deps: &Deps) -> Result<&Verifier, OAuthError> {
        if let Some(verifier) = self.verifier.get() {
            return Ok(verifier);
        }
        let options = Options::default()
            .with_clock(Arc::clone(&deps.clock) as Arc<dyn Clock>)
            .with_trust(deps.trust.clone());
        let verifier = Verifier::new(
            deps.config.access_token_issuers.clone(),
            deps.config.jwks_url.clone(),
            &options,
        )
        .map_err(OAuthError::unavailable)?;
        Ok(self.verifier.get_or_init(|| verifier))
    }
}

/// Revokes `token` for `client` (authenticated by the caller).
pub async fn revoke(deps: &Deps, client: &AppClient, token: &str) -> Result<Revoked, OAuthError> {
    let verifier = deps.access_tokens.get(deps)?;
    let revoked = match verifier.verify_bare(token).await {
        Ok(access) => revoke_access_token(deps, client, &access).await?,
        Err(Rejection::Expired) => Revoked::Nothing,
        Err(Rejection::JwksUnavailable) => {
            return Err(OAuthError::unavailable("the pool's keys cannot be fetched"));
        }
        Err(_) => revoke_refresh_token(deps, client, token).await?,
    };
    tracing::info!(client_id = %client.client_id, revoked = ?revoked, "revocation request");
    Ok(revoked)
}

async fn revoke_access_token(
    deps: &Deps,
    client: &AppClient,
    access: &authorizer::claims::VerifiedToken,
) -> Result<Revoked, OAuthError> {
    if access.client_id != client.client_id.as_str() {
        return Err(OAuthError::invalid_request(
            "the token was not issued to this client",
        ));
    }
    let Some(session) = &access.session else {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedTokenType,
            "this access token carries no jti to revoke it by",
        ));
    };
    let exp = u64::try_from(access.exp).unwrap_or(0);
    deps.store
        .revoke_session(session, exp)
        .await
        .map_err(OAuthError::unavailable)?;
    let user = User {
        sub: Some(access.sub.clone()),
        username: Some(access.username.clone()),
    };
    audit::record(
        deps.emf,
        Event::AccessTokenRevoked,
        &Record {
            client_id: Some(&client.client_id),
            ..Record::default()
        }
        .with_user(&user),
    );
    Ok(Revoked::AccessToken)
}

async fn revoke_refresh_token(
    deps: &Deps,
    client: &AppClient,
    token: &str,
) -> Result<Revoked, OAuthError> {
    if !deps.tokens.accepts_refresh_token_shape(token) {
        return Ok(Revoked::Nothing);
    }
    let result = deps
        .clients
        .cognito()
        .revoke_token()
        .token(token)
        .client_id(client.client_id.as_str())
        .set_client_secret(client.secret.as_ref().map(|s| s.expose_secret().to_owned()))
        .send()
        .await;
    match result {
        Ok(_) => Ok(Revoked::RefreshToken),
        Err(error) => match error.as_service_error().map(classify) {
            Some(Refusal::NoSuchToken) => Ok(Revoked::Nothing),
            Some(Refusal::NotEnabled) => Err(OAuthError::new(
                ErrorCode::UnsupportedTokenType,
                "token revocation is not enabled for this app client",
            )),
            Some(Refusal::Unavailable) | None => Err(OAuthError::unavailable(
                DisplayErrorContext(&error).to_string(),
            )),
        },
    }
}

/// How a Cognito `RevokeToken` refusal is answered.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// The token is unknown, malformed, revoked or not a refresh token: §2.2's 200.
    NoSuchToken,
    /// The app client has token revocation turned off.
    NotEnabled,
    /// Throttling, an internal error, a WAF block, a misconfigured secret: try again later.
    Unavailable,
}

fn classify(error: &RevokeTokenError) -> Refusal {
    match error {
        RevokeTokenError::InvalidParameterException(_)
        | RevokeTokenError::UnsupportedTokenTypeException(_) => Refusal::NoSuchToken,
        RevokeTokenError::UnsupportedOperationException(_) => Refusal::NotEnabled,
        // Not in the operation's model, but what Cognito (and cognito-local) answer for a
        // token they do not know.
        other if other.code() == Some("NotAuthorizedException") => Refusal::NoSuchToken,
        _ => Refusal::Unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cognitoidentityprovider::types::error::{
        InternalErrorException, InvalidParameterException, TooManyRequestsException,
        UnauthorizedException, UnsupportedOperationException, UnsupportedTokenTypeException,
    };

    #[test]
    fn cognito_refusals_are_sorted_by_what_the_client_can_do() {
        use RevokeTokenError as E;
        let cases = [
            (
                E::InvalidParameterException(InvalidParameterException::builder().build()),
                Refusal::NoSuchToken,
            ),
            (
                E::UnsupportedTokenTypeException(UnsupportedTokenTypeException::builder().build()),
                Refusal::NoSuchToken,
            ),
            (
                E::UnsupportedOperationException(UnsupportedOperationException::builder().build()),
                Refusal::NotEnabled,
            ),
            (
                E::UnauthorizedException(UnauthorizedException::builder().build()),
                Refusal::Unavailable,
            ),
            (
                E::TooManyRequestsException(TooManyRequestsException::builder().build()),
                Refusal::Unavailable,
            ),
            (
                E::InternalErrorException(InternalErrorException::builder().build()),
                Refusal::Unavailable,
            ),
        ];
        for (error, expected) in cases {
            assert_eq!(classify(&error), expected, "{error:?}");
        }
    }
}
