//! The wire dialects one grant can be spoken in, and what differs between them as data.
//!
//! - [`Dialect::Rfc8628`]: `/device/code` and `/device/token`, RFC 8628 as written.
//! - [`Dialect::Portal`]: the Data Product Portal's own shape
//!   (`/api/v2/authn/device/device_token`, `…/jwt_token`), spoken by the portal's shipped Go CLI
//!   and Python SDK. Its clients check that the device code is a UUID, and never slow down: the
//!   SDK sleeps exactly `interval` between polls, the Go CLI `interval + 1`, and either stops on
//!   any answer it does not expect. So an early poll is answered `authorization_pending` and
//!   changes nothing — no `slow_down`, no interval growth (which would lock these clients out
//!   for good) — and it still never redeems or advances a grant early.
//!
//! Everything else — the grant's life, its storage, client authentication, the person's pages,
//! the exchange at Cognito — is one and the same. A grant records the dialect it was issued in
//! and is polled only through it ([`crate::Grant::judge_poll`]).

use crate::codes::DeviceCodeFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    #[default]
    Rfc8628,
    Portal,
}

/// What a poll that comes before the interval has passed gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlyPoll {
    /// RFC 8628 §3.5: `slow_down`, and the interval grows by 5 s for this and every later poll.
    SlowDown,
    /// `authorization_pending`, with nothing stored changed: the grant is neither advanced nor
    /// redeemed until a poll comes on time.
    Pending,
}

impl Dialect {
    pub const ALL: [Dialect; 2] = [Dialect::Rfc8628, Dialect::Portal];

    /// The name stored on the grant.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Rfc8628 => "rfc8628",
            Dialect::Portal => "portal",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == raw)
    }

    /// The device code this dialect hands out and the only shape it accepts back.
    pub fn device_code_format(self) -> DeviceCodeFormat {
        match self {
            Dialect::Rfc8628 => DeviceCodeFormat::Opaque,
            Dialect::Portal => DeviceCodeFormat::Uuid,
        }
    }

    pub fn early_poll(self) -> EarlyPoll {
        match self {
            Dialect::Rfc8628 => EarlyPoll::SlowDown,
            Dialect::Portal => EarlyPoll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_differences_are_data() {
        for d in Dialect::ALL {
            assert_eq!(Dialect::parse(d.as_str()), Some(d));
        }
        assert_eq!(Dialect::parse("Portal"), None);
        assert_eq!(Dialect::default(), Dialect::Rfc8628);
        assert_eq!(Dialect::Portal.device_code_format(), DeviceCodeFormat::Uuid);
        assert_eq!(Dialect::Portal.early_poll(), EarlyPoll::Pending);
        assert_eq!(Dialect::Rfc8628.early_poll(), EarlyPoll::SlowDown);
    }
}
