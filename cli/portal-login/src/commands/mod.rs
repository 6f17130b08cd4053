//! One module per subcommand, each a short list of steps ending in `Ok(())` or a [`Failure`].
//! Shared here: turning server errors into failures, and building a cache entry from a token
//! response.

pub mod login;
pub mod logout;
pub mod status;
pub mod token;

use crate::cache::{Key, Session};
use crate::claims::decode_unverified;
use crate::config::Settings;
use crate::exit::{Exit, Failure};
use crate::oauth::{Endpoints, OAuthClient, ServerError, TokenResponse};

/// Unreachable and server-side errors exit 6; anything else 1.
pub fn server_failure(e: &ServerError) -> Failure {
    let exit = if e.is_transient() {
        Exit::Unreachable
    } else {
        Exit::Error
    };
    let failure = Failure::new(exit, e.to_string());
    if exit == Exit::Unreachable {
        failure.with_hint("check the URL (--url / PORTAL_AUTH_URL) and your network, then retry")
    } else {
        failure
    }
}

/// A client and the server's endpoints, or the failure to get them.
pub async fn connect(settings: &Settings) -> Result<(OAuthClient, Endpoints), Failure> {
    let client = OAuthClient::new().map_err(|e| server_failure(&e))?;
    let endpoints = client
        .discover(&settings.base_url)
        .await
        .map_err(|e| server_failure(&e))?;
    Ok((client, endpoints))
}

pub fn key(settings: &Settings) -> Key<'_> {
    Key {
        base_url: settings.base_url.as_str(),
        client_id: settings.client_id.as_str(),
    }
}

/// The access token's lifetime: `expires_in` when the server sent it, else the JWT's `exp`,
/// else "now" (so the next `token` refreshes rather than trusting a token of unknown age).
pub fn expires_at(tokens: &TokenResponse, now: u64) -> u64 {
    match tokens.expires_in {
        Some(seconds) => now.saturating_add(seconds),
        None => decode_unverified(&tokens.access_token)
            .and_then(|c| c.exp)
            .unwrap_or(now),
    }
}

/// A new cache entry from a login's token response.
pub fn new_session(settings: &Settings, tokens: TokenResponse, now: u64) -> Session {
    Session {
        base_url: settings.base_url.as_str().to_owned(),
        client_id: settings.client_id.as_str().to_owned(),
        expires_at: expires_at(&tokens, now),
        obtained_at: now,
        token_type: tokens.token_type.unwrap_or_else(|| "Bearer".to_owned()),
        access_token: tokens.access_token,
        id_token: tokens.id_token,
        refresh_token: tokens.refresh_token,
        scope: tokens.scope,
    }
}

/// The entry after a refresh: Cognito sends no new refresh token, so the old one is kept
/// unless a new one came (rotation); likewise the ID token and scope.
pub fn refreshed(old: Session, tokens: TokenResponse, now: u64) -> Session {
    Session {
        expires_at: expires_at(&tokens, now),
        obtained_at: now,
        token_type: tokens.token_type.unwrap_or(old.token_type),
        access_token: tokens.access_token,
        id_token: tokens.id_token.or(old.id_token),
        refresh_token: tokens.refresh_token.or(old.refresh_token),
        scope: tokens.scope.or(old.scope),
        ..old
    }
}

/// "Not logged in" with the way out.
pub fn not_logged_in(settings: &Settings, why: &str) -> Failure {
    Failure::new(
        Exit::NotLoggedIn,
        format!(
            "{why} (portal {}, client {})",
            settings.base_url, settings.client_id
        ),
    )
    .with_hint("run `portal-login login`")
}
