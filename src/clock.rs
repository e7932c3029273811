//! The current time as RFC 3339 UTC text, and date parsing for filters.
//!
//! `GIT_TOMBSTONE_NOW` (an RFC 3339 timestamp) replaces the clock, for reproducible tests and
//! for backfills that must record a given time.

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};

/// Now, in UTC, to the second, as RFC 3339 (`2026-11-23T08:33:43Z`).
pub fn now() -> String {
    let t = std::env::var("GIT_TOMBSTONE_NOW")
        .ok()
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
        assert!(now().ends_with('Z'));
    }
}
