//! Time, injectable. Everything in the grant is measured in epoch milliseconds ([`Millis`]),
//! except DynamoDB's TTL attribute, which DynamoDB wants in epoch seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Millis;
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
}

/// A clock tests move by hand; clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    pub fn new(start: Millis) -> Self {
        Self(Arc::new(AtomicU64::new(start)))
    }

    /// Starts at the machine's current time.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now())
    }

    pub fn advance(&self, by: Millis) {
        self.0.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
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
