//! `portal-login token`: print a valid access token on stdout, refreshing it first when it
//! expires within [`REFRESH_MARGIN`]. stdout carries the token and nothing else; all
//! messages go to stderr.

use std::io::Write as _;

use crate::cache::{self, Session};
use crate::commands::{connect, key, not_logged_in, refreshed, server_failure};
use crate::config::Settings;
use crate::exit::{Exit, Failure};

/// A token this close to expiry is refreshed first, so the caller's request does not carry a
/// token that expires in flight.
pub const REFRESH_MARGIN: u64 = 60;

pub async fn run(settings: &Settings) -> Result<(), Failure> {
    let session = cache::load(&settings.dir, key(settings))?
        .ok_or_else(|| not_logged_in(settings, "not logged in"))?;
    let now = crate::time::now_unix();
    let session = if needs_refresh(session.expires_at, now) {
        refresh(settings, session, now).await?
    } else {
        session
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", session.access_token)
        .and_then(|()| out.flush())
        .map_err(|e| {
            Failure::new(
                Exit::Error,
                format!("cannot write the token to stdout: {e}"),
            )
        })
}

/// Whether a token expiring at `expires_at` must be refreshed at `now`.
pub fn needs_refresh(expires_at: u64, now: u64) -> bool {
    expires_at <= now.saturating_add(REFRESH_MARGIN)
}

/// Refreshes through the server's token endpoint and stores the result.
pub async fn refresh(settings: &Settings, session: Session, now: u64) -> Result<Session, Failure> {
    let Some(refresh_token) = session.refresh_token.clone() else {
        return Err(not_logged_in(
            settings,
            "the access token has expired and there is no refresh token",
        ));
    };
    let (client, endpoints) = connect(settings).await.map_err(cannot_refresh)?;
    let tokens = match client
        .refresh(&endpoints, &settings.client_id, &refresh_token)
        .await
    {
        Ok(tokens) => tokens,
        Err(e) if e.oauth_code() == Some("invalid_grant") => {
            // A dead refresh token is no session: forget it so `status` tells the truth.
            cache::forget(&settings.dir, key(settings))?;
            return Err(not_logged_in(
                settings,
                "the session has expired or was revoked (invalid_grant)",
            ));
        }
        Err(e) => return Err(cannot_refresh(server_failure(&e))),
    };
    let session = refreshed(session, tokens, now);
    cache::store(&settings.dir, session.clone())?;
    Ok(session)
}

fn cannot_refresh(mut failure: Failure) -> Failure {
    failure.message = format!("cannot refresh the access token: {}", failure.message);
    failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_when_expiring_within_sixty_seconds() {
        let now = 1_000_000;
        assert!(needs_refresh(now - 1, now), "expired");
        assert!(needs_refresh(now, now), "expiring now");
        assert!(needs_refresh(now + 59, now));
        assert!(needs_refresh(now + 60, now), "exactly 60 s left");
        assert!(!needs_refresh(now + 61, now));
        assert!(!needs_refresh(now + 3_600, now));
        assert!(needs_refresh(0, u64::MAX), "no overflow");
    }
}
