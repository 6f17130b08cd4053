//! The audit trail: one structured log line per grant event, marked `"audit": true` and named
//! `"event": "device.<what>"`, so that CloudWatch Logs Insights can filter them from the rest
//! (queries in docs/operations.md, "Audit trail").
//!
//! Each line carries what an investigation needs — the grant's short reference (the first 8 hex
//! digits of the stored key's hash), the client id, the device's address and user agent, the
//! approving browser's address and user agent, whether the approval was remote, and at token
//! issue the signed-in user's `sub` and `username` — and never a device code, user code,
//! `state`, authorization code, PKCE verifier, client secret or token: the fields are typed, so
//! none of those can be passed.
//!
//! Each event also counts its CloudWatch metric ([`Event::metrics`]; dimensions `function` and
//! `client_id`), so the dashboard and the trail never disagree.
//!
//! The user is read from the ID token Cognito has just returned on our own TLS connection to
//! its token endpoint: its payload is decoded, not verified — it is not presented by anyone,
//! and nothing is decided on it (the one JWT verifier of the workspace is the authorizer's).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portal_auth_domain::{Approver, ClientId, DeviceCodeHash, DeviceInfo, Grant};
use portal_auth_runtime::metrics::{Dims, Emf, Metric};
use serde_json::Value;

/// The events of a grant's life that the trail records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    AuthorizationRequested,
    ConfirmationViewed,
    Approved,
    Denied,
    CallbackBound,
    TokensIssued,
    Refreshed,
    /// A device authorization refused by an issuance ceiling.
    RateLimited,
    /// A user-code look-up refused because the address's attempts are spent.
    CodeEntryBlocked,
    ExpiredOnPoll,
    /// `/device/revoke` recorded an access token's session as revoked (RFC 7009).
    AccessTokenRevoked,
    /// `/device/revoke` revoked a refresh token at Cognito.
    RefreshTokenRevoked,
}

impl Event {
    pub const ALL: [Event; 12] = [
        Event::AuthorizationRequested,
        Event::ConfirmationViewed,
        Event::Approved,
        Event::Denied,
        Event::CallbackBound,
        Event::TokensIssued,
        Event::Refreshed,
        Event::RateLimited,
        Event::CodeEntryBlocked,
        Event::ExpiredOnPoll,
        Event::AccessTokenRevoked,
        Event::RefreshTokenRevoked,
    ];

    /// The metrics this event counts (`remote`: the approval was from another network).
    pub fn metrics(self, remote: bool) -> &'static [(Metric, u64)] {
        match self {
            Event::AuthorizationRequested => &[(Metric::DeviceAuthorizations, 1)],
            Event::Approved if remote => &[(Metric::Approvals, 1), (Metric::RemoteApprovals, 1)],
            Event::Approved => &[(Metric::Approvals, 1)],
            Event::Denied => &[(Metric::Denials, 1)],
            Event::TokensIssued => &[(Metric::TokensIssued, 1)],
            Event::Refreshed => &[(Metric::Refreshes, 1)],
            Event::RateLimited => &[(Metric::RateLimited, 1)],
            Event::CodeEntryBlocked => &[(Metric::CodeEntryBlocked, 1)],
            Event::ExpiredOnPoll => &[(Metric::ExpiredPolls, 1)],
            Event::AccessTokenRevoked | Event::RefreshTokenRevoked => &[(Metric::Revocations, 1)],
            Event::ConfirmationViewed | Event::CallbackBound => &[],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Event::AuthorizationRequested => "device.authorization_requested",
            Event::ConfirmationViewed => "device.confirmation_viewed",
            Event::Approved => "device.approved",
            Event::Denied => "device.denied",
            Event::CallbackBound => "device.callback_bound",
            Event::TokensIssued => "device.tokens_issued",
            Event::Refreshed => "device.refreshed",
            Event::RateLimited => "device.rate_limited",
            Event::CodeEntryBlocked => "device.code_entry_blocked",
            Event::ExpiredOnPoll => "device.expired_on_poll",
            Event::AccessTokenRevoked => "device.access_token_revoked",
            Event::RefreshTokenRevoked => "device.refresh_token_revoked",
        }
    }
}

/// The signed-in user, as the ID token names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub sub: Option<String>,
    pub username: Option<String>,
}

impl User {
    /// `sub` and `cognito:username` from the payload of the `id_token` in Cognito's token
    /// response (see the module docs: decoded, not verified). Empty when there is none.
    pub fn from_token_response(tokens: &serde_json::Map<String, Value>) -> Self {
        let claims = tokens
            .get("id_token")
            .and_then(Value::as_str)
            .and_then(|jwt| jwt.split('.').nth(1))
            .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        let claim = |name: &str| {
            claims
                .as_ref()
                .and_then(|c| c.get(name))
                .and_then(Value::as_str)
                .map(|v| v.chars().take(128).collect())
        };
        User {
            sub: claim("sub"),
            username: claim("cognito:username").or_else(|| claim("username")),
        }
    }
}

/// One audit line's facts; absent ones are left out of the line.
#[derive(Debug, Default)]
pub struct Record<'a> {
    pub grant: Option<&'a DeviceCodeHash>,
    pub client_id: Option<&'a ClientId>,
    pub device: Option<&'a DeviceInfo>,
    pub approver: Option<&'a DeviceInfo>,
    pub remote: Option<bool>,
    pub user: Option<&'a User>,
}

impl<'a> Record<'a> {
    /// What a stored grant tells: its reference, client, device and approval.
    pub fn of_grant(grant: &'a Grant) -> Self {
        Record {
            grant: Some(&grant.device_code_hash),
            client_id: Some(&grant.client_id),
            device: Some(&grant.device),
            approver: grant.approver.as_ref().map(|a| &a.browser),
            remote: grant.approver.as_ref().map(|a| a.remote),
            user: None,
        }
    }

    pub fn with_approver(mut self, approver: &'a Approver) -> Self {
        self.approver = Some(&approver.browser);
        self.remote = Some(approver.remote);
        self
    }

    pub fn with_user(mut self, user: &'a User) -> Self {
        self.user = Some(user);
        self
    }
}

/// Writes `event`'s line, and counts its metrics on `emf`.
pub fn record(emf: Emf, event: Event, r: &Record<'_>) {
    let dims = Dims {
        client_id: r.client_id.map(|c| c.as_str()),
        outcome: None,
    };
    emf.count_many(event.metrics(r.remote == Some(true)), dims);
    let ip = |d: Option<&DeviceInfo>| d.and_then(|d| d.ip.clone());
    let agent = |d: Option<&DeviceInfo>| d.and_then(|d| d.user_agent.clone());
    tracing::info!(
        audit = true,
        event = event.as_str(),
        grant = r.grant.map(|g| g.short()),
        client_id = r.client_id.map(|c| c.as_str()),
        device_ip = ip(r.device),
        device_user_agent = agent(r.device),
        approver_ip = ip(r.approver),
        approver_user_agent = agent(r.approver),
        remote = r.remote,
        sub = r.user.and_then(|u| u.sub.as_deref()),
        username = r.user.and_then(|u| u.username.as_deref()),
        "audit"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_are_distinct_and_namespaced() {
        let names: std::collections::HashSet<_> = Event::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(names.len(), Event::ALL.len());
        assert!(names.iter().all(|n| n.starts_with("device.")));
    }

    #[test]
    fn the_user_comes_from_the_id_token_payload_and_nothing_else() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"s-1","cognito:username":"demo"}"#);
        let mut tokens = serde_json::Map::new();
        tokens.insert("id_token".into(), format!("h.{payload}.sig").into());
        let user = User::from_token_response(&tokens);
        assert_eq!(user.sub.as_deref(), Some("s-1"));
        assert_eq!(user.username.as_deref(), Some("demo"));
        tokens.insert("id_token".into(), "not a jwt".into());
        assert_eq!(User::from_token_response(&tokens), User::default());
    }
}
