//! Time, behind a trait so tests can move it instead of sleeping.
//!
//! Two readings are needed: wall-clock seconds for the token's `exp`, `nbf` and `iat`, and a
//! monotonic reading for the JWKS refetch interval (which must not jump when NTP adjusts the
//! wall clock). [`ManualClock`] advances both together.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub trait Clock: Send + Sync + 'static {
    /// Whole seconds since the Unix epoch.
    fn unix_seconds(&self) -> i64;
    /// Time since an arbitrary fixed origin; only differences are meaningful.
    fn monotonic(&self) -> Duration;
}

/// The real clock.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn unix_seconds(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }

    fn monotonic(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock {
    unix: AtomicI64,
    monotonic_nanos: AtomicU64,
}

impl ManualClock {
    pub fn new(unix_seconds: i64) -> Self {
        Self {
            unix: AtomicI64::new(unix_seconds),
            monotonic_nanos: AtomicU64::new(0),
        }
    }

    /// A manual clock that starts at the real time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock::default().unix_seconds())
    }

    /// Moves both readings forward.
    pub fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.unix.fetch_add(secs, Ordering::SeqCst);
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.monotonic_nanos.fetch_add(nanos, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn unix_seconds(&self) -> i64 {
        self.unix.load(Ordering::SeqCst)
    }

    fn monotonic(&self) -> Duration {
        Duration::from_nanos(self.monotonic_nanos.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_both_readings_only_when_told() {
        let clock = ManualClock::new(1_000);
        assert_eq!(
            (clock.unix_seconds(), clock.monotonic()),
            (1_000, Duration::ZERO)
        );
        clock.advance(Duration::from_secs(10));
        assert_eq!(clock.unix_seconds(), 1_010);
        assert_eq!(clock.monotonic(), Duration::from_secs(10));
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock::default().unix_seconds() > 1_577_836_800);
    }
}
