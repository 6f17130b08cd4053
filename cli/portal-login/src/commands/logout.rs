//! `portal-login logout`: forget the cached tokens; revoke them first when the server's
//! metadata names a revocation endpoint (RFC 7009).
//!
//! The access token is revoked first, then the refresh token: at portal-auth, revoking the
//! access token is what makes the authorizer refuse it (and every access token of the same
//! sign-in) before it expires, while revoking the refresh token stops new ones being minted.
//! Either alone leaves something usable; the order means that a failure half-way leaves the
//! longer-lived token, not a usable access token, for the person to know about.
//!
//! Forgetting locally always happens and is what the exit code reports (0). What is still
//! valid at the server is said plainly on stderr, token by token: revoked; not revocable here
//! (no endpoint offered: valid until it expires); or unknown (server unreachable: valid until
//! it expires unless revoked later at the portal).

use crate::cache::{self, Session};
use crate::commands::{connect, key};
use crate::config::Settings;
use crate::exit::Failure;

pub async fn run(settings: &Settings) -> Result<(), Failure> {
    let Some(session) = cache::load(&settings.dir, key(settings))? else {
        eprintln!(
            "Not logged in to {} (client {}): nothing to forget.",
            settings.base_url, settings.client_id
        );
        return Ok(());
    };
    for line in revoke(settings, &session).await {
        eprintln!("{line}");
    }
    cache::forget(&settings.dir, key(settings))?;
    eprintln!(
        "Logged out of {} (client {}): the cached tokens are deleted.",
        settings.base_url, settings.client_id
    );
    Ok(())
}

/// The tokens to revoke, in order: `(what to call it, token, token_type_hint)`.
fn tokens(session: &Session) -> Vec<(&'static str, &str, &'static str)> {
    let mut tokens = vec![(
        "access token",
        session.access_token.as_str(),
        "access_token",
    )];
    if let Some(refresh_token) = &session.refresh_token {
        tokens.push(("refresh token", refresh_token, "refresh_token"));
    }
    tokens
}

/// Revokes each token when revocation is offered; returns what to tell the person.
async fn revoke(settings: &Settings, session: &Session) -> Vec<String> {
    let tokens = tokens(session);
    let (client, endpoints) = match connect(settings).await {
        Ok(found) => found,
        Err(failure) => {
            return vec![format!(
                "Could not ask the server about revocation ({}): the tokens stay valid until \
                 they expire.",
                failure.message
            )];
        }
    };
    let Some(endpoint) = &endpoints.revocation else {
        return vec![
            "The server offers no token revocation: the tokens are only forgotten here and \
             stay valid at the server until they expire."
                .to_owned(),
        ];
    };
    let mut said = Vec::new();
    for (name, token, hint) in tokens {
        let line = match client
            .revoke(endpoint, &settings.client_id, token, hint)
            .await
        {
            Ok(()) => format!("Revoked the {name} at the server."),
            Err(e) => {
                format!("Could not revoke the {name} ({e}): it stays valid until it expires.")
            }
        };
        said.push(line);
    }
    said
}
