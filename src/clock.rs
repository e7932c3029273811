//! The current time as RFC 3339 UTC text, and date parsing for filters.
//!
//! In builds with the `testing` feature (the test suite's), `GIT_TOMBSTONE_NOW` (an RFC 3339
//! timestamp) replaces the clock, for reproducible tests. Release builds always read the real
//! clock: evidence lines cannot be backdated from the environment.

use jiff::{civil::Date, tz::TimeZone, SignedDuration, Timestamp};

/// Now, in UTC, to the second, as RFC 3339 (`2026-11-23T08:33:43Z`).
pub fn now() -> String {
    format_utc(now_timestamp())
}

fn now_timestamp() -> Timestamp {
    std::env::var("GIT_TOMBSTONE_NOW")
        .ok()
        .filter(|_| cfg!(feature = "testing"))
        .and_then(|s| parse_rfc3339(&s))
        .unwrap_or_else(Timestamp::now)
}

/// Seconds since the epoch of [`now`] (a git timestamp).
pub fn now_unix() -> i64 {
    now_timestamp().as_second()
}

fn parse_rfc3339(s: &str) -> Option<Timestamp> {
    s.parse::<Timestamp>().ok()
}

fn format_utc(t: Timestamp) -> String {
    // To the second: RFC 3339 with a `Z`, which sorts as text.
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Seconds since the epoch (a git timestamp) as RFC 3339 UTC.
pub fn from_unix(seconds: i64) -> String {
    format_utc(Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// Seconds since the epoch of an RFC 3339 time; `None` if unparsable.
pub fn unix_seconds(rfc3339: &str) -> Option<i64> {
    parse_rfc3339(rfc3339).map(|t| t.as_second())
}

/// Milliseconds since the epoch of an RFC 3339 time; `None` if unparsable.
pub fn unix_millis(rfc3339: &str) -> Option<i64> {
    parse_rfc3339(rfc3339).map(|t| t.as_millisecond())
}

/// The RFC 3339 UTC time `days` days before now (the clock of [`now`]).
pub fn days_before_now(days: u32) -> String {
    let now = now_timestamp();
    let back = SignedDuration::from_hours(24 * i64::from(days));
    format_utc(now.checked_sub(back).unwrap_or(Timestamp::MIN))
}

/// Whole days from `earlier` to `later` (both RFC 3339), rounded toward zero; `None` if
/// unparsable.
pub fn days_between(earlier: &str, later: &str) -> Option<i64> {
    let a = parse_rfc3339(earlier)?;
    let b = parse_rfc3339(later)?;
    Some((b.as_second() - a.as_second()) / 86_400)
}

/// Parse an age like `90d`, `12w` or `30` (days) into days.
pub fn parse_age_days(s: &str) -> Option<u32> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last()? {
        (i, 'd') => (&s[..i], 1),
        (i, 'w') => (&s[..i], 7),
        (i, 'y') => (&s[..i], 365),
        _ => (s, 1),
    };
    num.parse::<u32>().ok()?.checked_mul(mult)
}

/// Parse a date filter: `YYYY-MM-DD` (midnight UTC) or a full RFC 3339 timestamp; returns the
/// normalised RFC 3339 UTC text, which sorts correctly as a string.
pub fn parse_bound(s: &str) -> Option<String> {
    if let Some(t) = parse_rfc3339(s) {
        return Some(format_utc(t));
    }
    // Exactly `YYYY-MM-DD`: jiff would also take a date with a time and no offset.
    if s.len() != 10 {
        return None;
    }
    let d: Date = s.parse().ok()?;
    let t = TimeZone::UTC
        .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
        .ok()?;
    Some(format_utc(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_normalise_to_utc() {
        assert_eq!(
            parse_bound("2025-06-01").as_deref(),
            Some("2025-06-01T00:00:00Z")
        );
        assert_eq!(
            parse_bound("2025-06-01T02:00:00+02:00").as_deref(),
            Some("2025-06-01T00:00:00Z")
        );
        assert_eq!(parse_bound("June"), None);
        assert_eq!(from_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_age_days("90d"), Some(90));
        assert_eq!(parse_age_days("2w"), Some(14));
        assert_eq!(parse_age_days("30"), Some(30));
        assert_eq!(parse_age_days("d"), None);
        assert_eq!(
            days_between("2025-01-01T00:00:00Z", "2025-01-08T12:00:00Z"),
            Some(7)
        );
        assert_eq!(
            days_between("2025-01-08T00:00:00Z", "2025-01-01T12:00:00Z"),
            Some(-6)
        );
        assert_eq!(parse_bound("2025-06-01T02:00:00"), None);
        assert_eq!(parse_bound("2025-6-1"), None);
        assert_eq!(unix_seconds("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(unix_millis("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(from_unix(1_767_225_600), "2026-01-01T00:00:00Z");
        assert!(now().ends_with('Z'));
    }
}
