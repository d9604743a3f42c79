//! Timestamps as feeds write them: RFC 3339, `YYYY-MM-DD HH:MM[:SS]` or a bare date in UTC,
//! or Unix epoch seconds (milliseconds when the number is too large to be seconds).

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use rampart_model::Timestamp;

/// Epoch values above this are taken as milliseconds: in seconds it would be the year 5138.
const LARGEST_EPOCH_SECONDS: i64 = 100_000_000_000;

pub(crate) fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Ok(timestamp);
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return epoch(text);
    }
    let civil = text.parse::<DateTime>().ok().or_else(|| {
        text.parse::<Date>()
            .ok()
            .map(|date| date.to_datetime(jiff::civil::Time::midnight()))
    });
    match civil.map(|datetime| TimeZone::UTC.to_timestamp(datetime)) {
        Some(Ok(timestamp)) => Ok(timestamp),
        _ => Err(format!(
            "{text:?} is not a timestamp (expected RFC 3339, YYYY-MM-DD HH:MM:SS or epoch seconds)"
        )),
    }
}

fn epoch(text: &str) -> Result<Timestamp, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let bad = || format!("{text:?} is not an epoch timestamp");
    let seconds: i64 = whole.parse().map_err(|_| bad())?;
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let result = if seconds > LARGEST_EPOCH_SECONDS {
        Timestamp::from_millisecond(seconds)
    } else {
        Timestamp::from_second(seconds)
    };
    result.map_err(|err| format!("{text:?}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(text: &str) -> i64 {
        parse_timestamp(text).unwrap().as_second()
    }

    #[test]
    fn reads_the_forms_feeds_use() {
        let noon = 1_717_329_600; // 2024-06-02T12:00:00Z
        assert_eq!(seconds("2024-06-02T12:00:00Z"), noon);
        assert_eq!(seconds("2024-06-02T14:00:00+02:00"), noon);
        assert_eq!(seconds("2024-06-02 12:00:00Z"), noon);
        assert_eq!(seconds("2024-06-02 12:00:00"), noon);
        assert_eq!(seconds("2024-06-02 12:00"), noon);
        assert_eq!(seconds("2024-06-02"), noon - 12 * 3600);
        assert_eq!(seconds("1717329600"), noon);
        assert_eq!(seconds("1717329600000"), noon);
        assert_eq!(seconds("1717329600.25"), noon);
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for text in [
            "",
            "yesterday",
            "2024-13-01",
            "12.34.56",
            "99999999999999999999",
        ] {
            assert!(parse_timestamp(text).is_err(), "{text}");
        }
    }
}
