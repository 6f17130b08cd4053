//! Wall-clock helpers: Unix seconds now, RFC 3339 (UTC) and short human durations.
//!
//! Token expiry is stored as Unix seconds (the same unit as a JWT's `exp`); the device code's
//! countdown uses the monotonic clock instead (see `poll`), so a clock change cannot cut it short.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `2026-05-01T12:00:00Z`.
pub fn rfc3339(unix: u64) -> String {
    portal_auth_domain::UtcDateTime::from_unix(unix).to_string()
}

/// `45 s`, `12 min`, `2 h 5 min`, `3 d 4 h`.
pub fn human(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3_600 => format!("{} min", seconds / 60),
        3_600..86_400 => format!("{} h {} min", seconds / 3_600, seconds % 3_600 / 60),
        _ => format!("{} d {} h", seconds / 86_400, seconds % 86_400 / 3_600),
    }
}

/// A countdown, rounded up (it shows `10:00` at the start, `0:01` in the last second):
/// `9:41`, or `1:02:03` past an hour.
pub fn countdown(left: Duration) -> String {
    let s = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    if s >= 3_600 {
        format!("{}:{:02}:{:02}", s / 3_600, s % 3_600 / 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(45), "45 s");
        assert_eq!(human(3_599), "59 min");
        assert_eq!(human(7_500), "2 h 5 min");
        assert_eq!(human(2 * 86_400 + 3_600), "2 d 1 h");
        assert_eq!(countdown(Duration::from_secs(581)), "9:41");
        assert_eq!(countdown(Duration::from_secs(5)), "0:05");
        assert_eq!(countdown(Duration::from_millis(599_900)), "10:00");
        assert_eq!(countdown(Duration::from_millis(100)), "0:01");
        assert_eq!(countdown(Duration::ZERO), "0:00");
        assert_eq!(countdown(Duration::from_secs(3_723)), "1:02:03");
    }
}
