//! `portal-login logout`: forget the cached tokens; revoke the refresh token first when the
//! server's metadata names a revocation endpoint (RFC 7009).
//!
//! Forgetting locally always happens and is what the exit code reports (0). Whether the
//! refresh token is still valid at the server is said plainly on stderr: revoked; not
//! revocable here (no endpoint offered: valid until it expires); or unknown (server
//! unreachable: valid until it expires unless revoked later at the portal).

use crate::cache;
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
    if let Some(refresh_token) = &session.refresh_token {
        eprintln!("{}", revoke(settings, refresh_token).await);
    }
    cache::forget(&settings.dir, key(settings))?;
    eprintln!(
        "Logged out of {} (client {}): the cached tokens are deleted.",
        settings.base_url, settings.client_id
    );
    Ok(())
}

/// Revokes when offered; returns what to tell the person.
async fn revoke(settings: &Settings, refresh_token: &str) -> String {
    let (client, endpoints) = match connect(settings).await {
        Ok(found) => found,
        Err(failure) => {
            return format!(
                "Could not ask the server about revocation ({}): the refresh token stays \
                 valid until it expires.",
                failure.message
            );
        }
    };
    let Some(endpoint) = &endpoints.revocation else {
        return "The server offers no token revocation: the refresh token is only forgotten \
                here and stays valid at the server until it expires."
            .to_owned();
    };
    match client
        .revoke(endpoint, &settings.client_id, refresh_token)
        .await
    {
        Ok(()) => "Revoked the refresh token at the server.".to_owned(),
        Err(e) => {
            format!("Could not revoke the refresh token ({e}): it stays valid until it expires.")
        }
    }
}
