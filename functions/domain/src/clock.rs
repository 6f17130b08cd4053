//! Time, injectable: the one clock of the workspace. Everything in the grant is measured in
//! epoch milliseconds ([`Millis`]), except DynamoDB's TTL attribute, which DynamoDB wants in
//! epoch seconds; the authorizer reads whole seconds for `exp`, `nbf` and `iat`, and a
//! monotonic reading for intervals that must not jump when NTP adjusts the wall clock (the
//! JWKS refetch). [`ManualClock`] moves every reading together, only when told to.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

pub trait Clock: Send + Sync + 'static {
    /// Wall-clock milliseconds since the Unix epoch.
    fn now(&self) -> Millis;

    /// Time since an arbitrary fixed origin; only differences are meaningful.
    fn monotonic(&self) -> Duration;

    /// Whole seconds since the Unix epoch.
    fn unix_seconds(&self) -> i64 {
        i64::try_from(self.now() / 1000).unwrap_or(i64::MAX)
    }
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as Millis)
            .unwrap_or_default()
    }

    fn monotonic(&self) -> Duration {
        static ORIGIN: OnceLock<Instant> = OnceLock::new();
        ORIGIN.get_or_init(Instant::now).elapsed()
    }
}

/// A clock tests move by hand; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
    start: Millis,
}

/// How far [`ManualClock::advance`] moves: milliseconds, or a [`Duration`].
pub trait Span {
    fn millis(self) -> Millis;
}

impl Span for Millis {
    fn millis(self) -> Millis {
        self
    }
}

impl Span for Duration {
    fn millis(self) -> Millis {
        u64::try_from(self.as_millis()).unwrap_or(u64::MAX)
    }
}

impl ManualClock {
    pub fn new(start: Millis) -> Self {
        Self {
            now: Arc::new(AtomicU64::new(start)),
            start,
        }
    }

    /// Starts at the machine's current time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now())
    }

    /// Moves every reading forward by `by` (milliseconds, or a `Duration`).
    pub fn advance(&self, by: impl Span) {
        self.now.fetch_add(by.millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }

    fn monotonic(&self) -> Duration {
        Duration::from_millis(self.now().saturating_sub(self.start))
    }
}

/// A UTC calendar date and time, from Unix seconds, with no date crate (civil-from-days,
/// H. Hinnant's algorithm). `Display` is RFC 3339: `2026-11-29T00:00:00Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcDateTime {
    pub year: i64,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl UtcDateTime {
    pub fn from_unix(secs: u64) -> Self {
        let days = (secs / 86_400) as i64;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let in_day = secs % 86_400;
        UtcDateTime {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day,
            hour: (in_day / 3600) as u8,
            minute: (in_day % 3600 / 60) as u8,
            second: (in_day % 60) as u8,
        }
    }
}

impl std::fmt::Display for UtcDateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_every_reading_only_when_told() {
        let clock = ManualClock::new(1_000_000);
        assert_eq!(
            (clock.unix_seconds(), clock.monotonic()),
            (1_000, Duration::ZERO)
        );
        clock.advance(Duration::from_secs(10));
        assert_eq!(clock.unix_seconds(), 1_010);
        assert_eq!(clock.monotonic(), Duration::from_secs(10));
        clock.advance(500);
        assert_eq!(clock.now(), 1_010_500);
        assert_eq!(clock.clone().now(), clock.now(), "clones share the time");
    }

    #[test]
    fn system_clock_is_after_2020_and_monotonic_moves_forward() {
        assert!(SystemClock.unix_seconds() > 1_577_836_800);
        let a = SystemClock.monotonic();
        assert!(SystemClock.monotonic() >= a);
    }

    #[test]
    fn utc_date_times_of_known_instants() {
        assert_eq!(
            UtcDateTime::from_unix(0).to_string(),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            UtcDateTime::from_unix(1_795_910_400).to_string(),
            "2026-11-29T00:00:00Z"
        );
        assert_eq!(
            UtcDateTime::from_unix(951_782_400 + 3_661).to_string(),
            "2000-02-29T01:01:01Z"
        );
        assert_eq!(
            UtcDateTime::from_unix(4_107_542_399).to_string(),
            "2100-02-28T23:59:59Z"
        );
    }
}
