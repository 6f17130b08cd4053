//! The grant's life (design.md, "The grant's life"), and the verdict a poll gets.
//!
//! ```text
//!  (none) ──device-code──► pending ──approve──► redirected ──callback──► approved ──poll wins──► consumed
//!                            │ deny       approve ↻ │ deny, Cognito error=        ▲                    │
//!                            └────► denied ◄───────┘                             └─Cognito unreachable┤
//!                                                                                 Cognito invalid_grant└──► failed
//!  any state past expires_at ──► expired (checked on every read, whatever storage says)
//! ```
//!
//! Storage performs each transition as one conditional write whose condition is
//! [`GrantStatus::may_become`]; when such a write loses, the stored grant is judged here, so the
//! answer never depends on a stale read.

use crate::client::ClientId;
use crate::clock::Millis;
use crate::codes::{DeviceCode, DeviceCodeHash, Secret, UserCode};
use crate::dialect::{Dialect, EarlyPoll};
use crate::scope::Scopes;

/// The grant type of RFC 8628 §3.4, as advertised and accepted.
pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How much earlier than `interval` a poll may arrive and still count as on time: absorbs
/// network jitter of a client that sleeps exactly `interval` between polls (RFC 8628 §3.5
/// says the client waits *at least* the interval; a 4.9 s gap is a clock, not abuse).
pub const POLL_JITTER_MS: Millis = 500;
/// What `slow_down` adds to the interval, for this and every later poll (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP_MS: Millis = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantStatus {
    /// Issued; the person has not acted yet.
    Pending,
    /// The person approved; their browser went to Cognito to sign in.
    Redirected,
    /// Cognito sent an authorization code back for this grant.
    Approved,
    /// The person denied it, or Cognito answered with an error.
    Denied,
    /// A poll won the grant and received (or is receiving) tokens.
    Consumed,
    /// Cognito refused the authorization code: the grant can never yield tokens.
    Failed,
}

impl GrantStatus {
    pub const ALL: [GrantStatus; 6] = [
        GrantStatus::Pending,
        GrantStatus::Redirected,
        GrantStatus::Approved,
        GrantStatus::Denied,
        GrantStatus::Consumed,
        GrantStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Pending => "pending",
            GrantStatus::Redirected => "redirected",
            GrantStatus::Approved => "approved",
            GrantStatus::Denied => "denied",
            GrantStatus::Consumed => "consumed",
            GrantStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The statuses a grant may move to from `self` (the arrows of the diagram).
    pub fn successors(self) -> &'static [GrantStatus] {
        use GrantStatus::*;
        match self {
            Pending => &[Redirected, Denied],
            // A fresh Approve restarts a sign-in that never came back (another tab, a closed
            // window): new state, new binding, the old ones dead.
            Redirected => &[Redirected, Approved, Denied],
            Approved => &[Consumed],
            // The winning poll holds the grant while it redeems the code at Cognito: it
            // releases it when Cognito cannot be reached, and fails it when Cognito refuses.
            Consumed => &[Approved, Failed],
            Denied | Failed => &[],
        }
    }

    pub fn may_become(self, next: GrantStatus) -> bool {
        self.successors().contains(&next)
    }

    /// The device is still waiting for the person.
    pub fn is_waiting(self) -> bool {
        matches!(self, GrantStatus::Pending | GrantStatus::Redirected)
    }
}

/// A device authorization grant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub device_code_hash: DeviceCodeHash,
    pub user_code: UserCode,
    pub client_id: ClientId,
    /// The wire dialect it was issued in, and the only one it is polled through.
    pub dialect: Dialect,
    pub scope: Scopes,
    pub status: GrantStatus,
    pub created_at: Millis,
    /// Epoch seconds, the TTL attribute's unit.
    pub expires_at: u64,
    /// The poll interval the server enforces; grows by [`SLOW_DOWN_STEP_MS`] on `slow_down`.
    pub interval_ms: Millis,
    /// The earliest instant (less [`POLL_JITTER_MS`]) the next poll is on time.
    pub next_poll_at: Millis,
    /// Where the device asked from, shown on the confirmation page (RFC 8628 §5.4).
    pub device: DeviceInfo,
    /// The S256 PKCE challenge of the sign-in leg, set at issue from the device code
    /// ([`DeviceCode::pkce_challenge`]); the verifier is never stored.
    pub code_challenge: String,
    /// Set by the callback: Cognito's authorization code, redeemed once by the winning poll.
    pub authorization_code: Option<Secret>,
    /// Set by approve: who approved, from where, and whether from another network.
    pub approver: Option<Approver>,
}

/// The browser that approved a grant: what its request said, and whether it was on another
/// network than the device ([`crate::proximity`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approver {
    pub browser: DeviceInfo,
    pub remote: bool,
}

/// What the device's request said about it (RFC 8628 §5.4: shown to the person), as received:
/// the source address API Gateway saw and the `User-Agent` the device claims. Either may be
/// unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// What a device authorization request asks for (RFC 8628 §3.1), once the client is known.
#[derive(Debug, Clone)]
pub struct GrantRequest {
    pub client_id: ClientId,
    pub dialect: Dialect,
    pub scope: Scopes,
    pub device: DeviceInfo,
}

/// What the device is told when it polls (RFC 8628 §3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollVerdict {
    AuthorizationPending,
    SlowDown,
    AccessDenied,
    ExpiredToken,
    InvalidGrant,
    /// The grant is approved: the poller may try to win it and exchange the code.
    Redeem,
}

impl Grant {
    /// A fresh grant for `request`, pending, that expires `ttl_secs` from `now` and expects its
    /// first poll `interval_secs` from `now`.
    pub fn issue(
        device_code: &DeviceCode,
        user_code: UserCode,
        request: GrantRequest,
        now: Millis,
        ttl_secs: u64,
        interval_secs: u64,
    ) -> Self {
        let interval_ms = interval_secs * 1000;
        Grant {
            device_code_hash: device_code.hash(),
            code_challenge: device_code.pkce_challenge(),
            user_code,
            client_id: request.client_id,
            dialect: request.dialect,
            scope: request.scope,
            status: GrantStatus::Pending,
            created_at: now,
            expires_at: now / 1000 + ttl_secs,
            interval_ms,
            next_poll_at: now + interval_ms,
            device: request.device,
            authorization_code: None,
            approver: None,
        }
    }

    pub fn is_expired(&self, now: Millis) -> bool {
        now >= self.expires_at.saturating_mul(1000)
    }

    /// Whole seconds of the current interval, as sent in `interval`.
    pub fn interval_secs(&self) -> u64 {
        self.interval_ms.div_ceil(1000)
    }

    /// What a poll by `client_id` through `dialect` at `now` gets, judged on this stored grant
    /// alone.
    pub fn judge_poll(&self, client_id: &ClientId, dialect: Dialect, now: Millis) -> PollVerdict {
        use GrantStatus::*;
        // Another client's code, or a code polled through another dialect than the one it was
        // issued in, is indistinguishable from an unknown one (RFC 8628 §3.4).
        if self.client_id != *client_id || self.dialect != dialect {
            return PollVerdict::InvalidGrant;
        }
        match self.status {
            Consumed => return PollVerdict::InvalidGrant,
            Failed => return PollVerdict::ExpiredToken,
            _ => {}
        }
        if self.is_expired(now) {
            return PollVerdict::ExpiredToken;
        }
        let early = self.is_early(now);
        match (self.status, self.dialect.early_poll()) {
            (Denied, _) => PollVerdict::AccessDenied,
            // A dialect whose clients never slow down: an early poll is told to wait and
            // redeems nothing, approved or not.
            (_, EarlyPoll::Pending) if early => PollVerdict::AuthorizationPending,
            (Approved, _) => PollVerdict::Redeem,
            (_, EarlyPoll::SlowDown) if early => PollVerdict::SlowDown,
            _ => PollVerdict::AuthorizationPending,
        }
    }

    pub fn is_early(&self, now: Millis) -> bool {
        now + POLL_JITTER_MS < self.next_poll_at
    }
}

/// The verdict on a poll of a device code that may name no stored grant.
pub fn judge_poll(
    grant: Option<&Grant>,
    client_id: &ClientId,
    dialect: Dialect,
    now: Millis,
) -> PollVerdict {
    grant.map_or(PollVerdict::InvalidGrant, |g| {
        g.judge_poll(client_id, dialect, now)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::DeviceCode;

    const T0: Millis = 1_700_000_000_000;

    fn client(id: &str) -> ClientId {
        ClientId::parse(id).unwrap()
    }

    const RFC: Dialect = Dialect::Rfc8628;

    fn grant(status: GrantStatus) -> Grant {
        grant_in(Dialect::Rfc8628, status)
    }

    fn grant_in(dialect: Dialect, status: GrantStatus) -> Grant {
        let request = GrantRequest {
            client_id: client("client"),
            dialect,
            scope: Scopes::default(),
            device: DeviceInfo::default(),
        };
        let mut g = Grant::issue(
            &DeviceCode::generate().unwrap(),
            UserCode::generate().unwrap(),
            request,
            T0,
            600,
            5,
        );
        g.status = status;
        g
    }

    #[test]
    fn issue_sets_expiry_and_first_poll() {
        let g = grant(GrantStatus::Pending);
        assert_eq!(g.expires_at, T0 / 1000 + 600);
        assert_eq!(g.next_poll_at, T0 + 5000);
        assert_eq!(g.interval_secs(), 5);
    }

    #[test]
    fn the_first_poll_after_the_interval_is_never_slowed() {
        let g = grant(GrantStatus::Pending);
        assert_eq!(
            g.judge_poll(&client("client"), RFC, T0 + 5000),
            PollVerdict::AuthorizationPending
        );
        assert_eq!(
            g.judge_poll(&client("client"), RFC, T0 + 5000 - POLL_JITTER_MS),
            PollVerdict::AuthorizationPending
        );
        assert_eq!(
            g.judge_poll(&client("client"), RFC, T0 + 1000),
            PollVerdict::SlowDown
        );
    }

    #[test]
    fn verdicts_per_status() {
        use GrantStatus::*;
        let at = T0 + 6000;
        let cases = [
            (Pending, PollVerdict::AuthorizationPending),
            (Redirected, PollVerdict::AuthorizationPending),
            (Approved, PollVerdict::Redeem),
            (Denied, PollVerdict::AccessDenied),
            (Consumed, PollVerdict::InvalidGrant),
            (Failed, PollVerdict::ExpiredToken),
        ];
        for (status, verdict) in cases {
            assert_eq!(
                grant(status).judge_poll(&client("client"), RFC, at),
                verdict,
                "{status:?}"
            );
            assert_eq!(
                grant(status).judge_poll(&client("other"), RFC, at),
                PollVerdict::InvalidGrant,
                "another client's {status:?} grant"
            );
        }
        assert_eq!(
            judge_poll(None, &client("client"), RFC, at),
            PollVerdict::InvalidGrant
        );
    }

    #[test]
    fn the_portal_dialect_never_slows_and_never_redeems_early() {
        use GrantStatus::*;
        let portal = Dialect::Portal;
        let early = T0 + 1000;
        let on_time = T0 + 5000;
        for (status, early_verdict, on_time_verdict) in [
            (
                Pending,
                PollVerdict::AuthorizationPending,
                PollVerdict::AuthorizationPending,
            ),
            (
                Redirected,
                PollVerdict::AuthorizationPending,
                PollVerdict::AuthorizationPending,
            ),
            (
                Approved,
                PollVerdict::AuthorizationPending,
                PollVerdict::Redeem,
            ),
            (Denied, PollVerdict::AccessDenied, PollVerdict::AccessDenied),
            (
                Consumed,
                PollVerdict::InvalidGrant,
                PollVerdict::InvalidGrant,
            ),
            (Failed, PollVerdict::ExpiredToken, PollVerdict::ExpiredToken),
        ] {
            let g = grant_in(portal, status);
            assert_eq!(
                g.judge_poll(&client("client"), portal, early),
                early_verdict,
                "{status:?}"
            );
            assert_eq!(
                g.judge_poll(&client("client"), portal, on_time),
                on_time_verdict,
                "{status:?}"
            );
        }
        // RFC 8628 redeems an approved grant whenever it is polled.
        assert_eq!(
            grant(Approved).judge_poll(&client("client"), RFC, early),
            PollVerdict::Redeem
        );
    }

    #[test]
    fn a_grant_is_polled_only_through_its_dialect() {
        for status in GrantStatus::ALL {
            for (issued, polled) in [(Dialect::Portal, RFC), (RFC, Dialect::Portal)] {
                assert_eq!(
                    grant_in(issued, status).judge_poll(&client("client"), polled, T0 + 6000),
                    PollVerdict::InvalidGrant,
                    "{status:?} issued {issued:?}, polled {polled:?}"
                );
            }
        }
    }

    #[test]
    fn expiry_wins_over_waiting_and_denied() {
        let after = (T0 / 1000 + 600) * 1000;
        for status in [
            GrantStatus::Pending,
            GrantStatus::Denied,
            GrantStatus::Approved,
        ] {
            assert_eq!(
                grant(status).judge_poll(&client("client"), RFC, after),
                PollVerdict::ExpiredToken
            );
        }
        assert_eq!(
            grant(GrantStatus::Consumed).judge_poll(&client("client"), RFC, after),
            PollVerdict::InvalidGrant
        );
    }

    #[test]
    fn transitions_follow_the_diagram() {
        use GrantStatus::*;
        assert!(Pending.may_become(Redirected));
        assert!(Pending.may_become(Denied));
        assert!(!Pending.may_become(Approved));
        assert!(Redirected.may_become(Approved));
        assert!(
            Redirected.may_become(Redirected),
            "a fresh Approve restarts it"
        );
        assert!(Approved.may_become(Consumed));
        assert!(!Approved.may_become(Failed));
        assert!(Consumed.may_become(Approved));
        assert!(!Denied.may_become(Pending));
        for s in GrantStatus::ALL {
            assert_eq!(GrantStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(GrantStatus::parse("bogus"), None);
    }
}
