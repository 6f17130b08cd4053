//! `portal-login status [--json]`: who, which client, which scopes and groups, and when the
//! access token expires, from the cache alone (no network). Claims are read, not verified
//! (see `claims`).

use serde::Serialize;

use crate::cache::{self, Session};
use crate::claims::{Claims, decode_unverified};
use crate::commands::key;
use crate::config::Settings;
use crate::exit::{Exit, Failure};
use crate::time::{human, now_unix, rfc3339};
use crate::ui::printable;

/// The JSON `status --json` prints. Never a token.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Report {
    pub logged_in: bool,
    pub url: String,
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionReport>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct SessionReport {
    pub username: Option<String>,
    pub sub: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub scope: Option<String>,
    /// The access token's expiry, RFC 3339 UTC, and as Unix seconds.
    pub expires_at: String,
    pub expires_at_unix: u64,
    /// Seconds left; 0 when expired.
    pub expires_in: u64,
    pub expired: bool,
    pub refresh_token: bool,
    pub obtained_at: String,
}

pub fn run(settings: &Settings, json: bool) -> Result<(), Failure> {
    let session = cache::load(&settings.dir, key(settings))?;
    let report = report(settings, session.as_ref(), now_unix());
    if json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::new(Exit::Error, format!("cannot encode the status: {e}")))?;
        println!("{text}");
    } else {
        print_text(settings, &report);
    }
    if report.logged_in {
        Ok(())
    } else {
        Err(crate::commands::not_logged_in(settings, "not logged in"))
    }
}

pub fn report(settings: &Settings, session: Option<&Session>, now: u64) -> Report {
    Report {
        logged_in: session.is_some(),
        url: settings.base_url.to_string(),
        client_id: settings.client_id.to_string(),
        session: session.map(|s| session_report(s, now)),
    }
}

fn session_report(s: &Session, now: u64) -> SessionReport {
    let access = decode_unverified(&s.access_token).unwrap_or_default();
    let id = s
        .id_token
        .as_deref()
        .and_then(decode_unverified)
        .unwrap_or_default();
    let clean = |v: Option<&str>| v.map(printable);
    SessionReport {
        username: clean(access.user().or(id.user())),
        sub: clean(access.sub.as_deref().or(id.sub.as_deref())),
        email: clean(id.email.as_deref()),
        groups: groups(&access, &id),
        scope: clean(access.scope.as_deref().or(s.scope.as_deref())),
        expires_at: rfc3339(s.expires_at),
        expires_at_unix: s.expires_at,
        expires_in: s.expires_at.saturating_sub(now),
        expired: s.expires_at <= now,
        refresh_token: s.refresh_token.is_some(),
        obtained_at: rfc3339(s.obtained_at),
    }
}

fn groups(access: &Claims, id: &Claims) -> Vec<String> {
    let source = if access.groups.is_empty() {
        &id.groups
    } else {
        &access.groups
    };
    source.iter().map(|g| printable(g)).collect()
}

fn print_text(settings: &Settings, report: &Report) {
    let Some(s) = &report.session else {
        println!(
            "Not logged in to {} (client {}).",
            report.url, report.client_id
        );
        print_sources(settings);
        return;
    };
    let unknown = || "(unknown)".to_owned();
    println!("Logged in to {}", report.url);
    println!(
        "  user           {}",
        s.username.clone().unwrap_or_else(unknown)
    );
    if let Some(email) = &s.email {
        println!("  email          {email}");
    }
    println!("  client         {}", report.client_id);
    println!(
        "  scopes         {}",
        s.scope.clone().unwrap_or_else(unknown)
    );
    if !s.groups.is_empty() {
        println!("  groups         {}", s.groups.join(", "));
    }
    println!("  access token   {}", expiry_line(s));
    println!(
        "  refresh token  {}",
        if s.refresh_token { "cached" } else { "none" }
    );
    print_sources(settings);
}

fn expiry_line(s: &SessionReport) -> String {
    match (s.expired, s.refresh_token) {
        (false, _) => format!("expires {} (in {})", s.expires_at, human(s.expires_in)),
        (true, true) => format!(
            "expired {}; `portal-login token` will refresh it",
            s.expires_at
        ),
        (true, false) => format!("expired {}; log in again", s.expires_at),
    }
}

fn print_sources(settings: &Settings) {
    println!("  url from       {}", settings.base_url_source);
    println!("  client from    {}", settings.client_id_source);
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;
    use crate::config::{BaseUrl, ClientId, Source};

    fn settings() -> Settings {
        Settings {
            base_url: BaseUrl::parse("https://api.example/prod").unwrap(),
            base_url_source: Source::Flag("--url"),
            client_id: ClientId::parse("client-1").unwrap(),
            client_id_source: Source::Env("PORTAL_CLIENT_ID"),
            scope: None,
            dir: PathBuf::from("/nowhere"),
        }
    }

    fn jwt(claims: &str) -> String {
        format!("e30.{}.c2ln", URL_SAFE_NO_PAD.encode(claims))
    }

    #[test]
    fn reports_the_user_groups_scope_and_expiry_never_a_token() {
        let session = Session {
            base_url: "https://api.example/prod".into(),
            client_id: "client-1".into(),
            access_token: jwt(
                r#"{"username":"demo","sub":"s-1","scope":"openid","cognito:groups":["portal-users"]}"#,
            ),
            id_token: Some(jwt(
                r#"{"cognito:username":"demo","email":"demo@example.com"}"#,
            )),
            refresh_token: Some("refresh-secret".into()),
            token_type: "Bearer".into(),
            scope: Some("openid".into()),
            expires_at: 1_700_003_600,
            obtained_at: 1_700_000_000,
        };
        let report = report(&settings(), Some(&session), 1_700_000_000);
        let s = report.session.as_ref().unwrap();
        assert_eq!(s.username.as_deref(), Some("demo"));
        assert_eq!(s.email.as_deref(), Some("demo@example.com"));
        assert_eq!(s.groups, ["portal-users"]);
        assert_eq!(s.expires_in, 3_600);
        assert_eq!(s.expires_at, "2023-11-14T23:13:20Z");
        assert!(!s.expired && s.refresh_token);
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains("secret") && !json.contains(&session.access_token));
        assert_eq!(
            expiry_line(s),
            "expires 2023-11-14T23:13:20Z (in 1 h 0 min)"
        );
    }

    #[test]
    fn an_expired_token_with_a_refresh_token_is_still_a_session() {
        let session = Session {
            base_url: "https://api.example/prod".into(),
            client_id: "client-1".into(),
            access_token: "opaque".into(),
            id_token: None,
            refresh_token: Some("r".into()),
            token_type: "Bearer".into(),
            scope: None,
            expires_at: 100,
            obtained_at: 50,
        };
        let report = report(&settings(), Some(&session), 200);
        assert!(report.logged_in);
        let s = report.session.unwrap();
        assert!(s.expired);
        assert_eq!(s.expires_in, 0);
        assert_eq!(s.username, None);
    }

    #[test]
    fn not_logged_in_is_a_report_without_a_session() {
        let report = report(&settings(), None, 0);
        assert!(!report.logged_in);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"logged_in": false, "url": "https://api.example/prod", "client_id": "client-1"})
        );
    }
}
