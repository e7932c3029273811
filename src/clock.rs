//! The current time as RFC 3339 UTC text, and date parsing for filters.
//!
//! In builds with the `testing` feature (the test suite's), `GIT_TOMBSTONE_NOW` (an RFC 3339
//! timestamp) replaces the clock, for reproducible tests. Release builds always read the real
//! clock: evidence lines cannot be backdated from the environment.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// Now, in UTC, to the second, as RFC 3339 (`2026-11-23T08:33:43Z`).
pub fn now() -> String {
    let t = std::env::var("GIT_TOMBSTONE_NOW")
        .ok()
        .filter(|_| cfg!(feature = "testing"))
        .and_then(|s| OffsetDateTime::parse(&s, &Rfc3339).ok())
        .unwrap_or_else(OffsetDateTime::now_utc);
    format_utc(t)
}

fn format_utc(t: OffsetDateTime) -> String {
    let t = t
        .to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Seconds since the epoch (a git timestamp) as RFC 3339 UTC.
pub fn from_unix(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .map(format_utc)
        .unwrap_or_else(|_| format_utc(OffsetDateTime::UNIX_EPOCH))
}

/// The RFC 3339 UTC time `days` days before now (the clock of [`now`]).
pub fn days_before_now(days: u32) -> String {
    let now = OffsetDateTime::parse(&now(), &Rfc3339).unwrap_or_else(|_| OffsetDateTime::now_utc());
    format_utc(now - time::Duration::days(i64::from(days)))
}

/// Whole days from `earlier` to `later` (both RFC 3339), rounded down; `None` if unparsable.
pub fn days_between(earlier: &str, later: &str) -> Option<i64> {
    let a = OffsetDateTime::parse(earlier, &Rfc3339).ok()?;
    let b = OffsetDateTime::parse(later, &Rfc3339).ok()?;
    Some((b - a).whole_days())
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
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(format_utc(t));
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = Date::parse(s, &fmt).ok()?;
    Some(format_utc(d.midnight().assume_utc()))
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
        assert!(now().ends_with('Z'));
    }
}
