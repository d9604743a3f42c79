//! STIX timestamps, read fast.
//!
//! Every indicator carries three or four `YYYY-MM-DDTHH:MM:SS[.fff]Z` timestamps, and a general
//! RFC 3339 parser spends more time on them than the rest of the object handling together.
//! This reads that one fixed form directly and leaves anything else (offsets, leap seconds,
//! lowercase separators) to jiff.

use rampart_model::Timestamp;

/// Parses a STIX timestamp; `None` if it is not a valid RFC 3339 timestamp at all.
pub(super) fn parse(text: &str) -> Option<Timestamp> {
    fast(text.as_bytes()).or_else(|| text.parse().ok())
}

fn fast(bytes: &[u8]) -> Option<Timestamp> {
    if bytes.len() < 20 || bytes.len() > 30 || bytes[bytes.len() - 1] != b'Z' {
        return None;
    }
    if bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b'T'
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        bytes[range].iter().try_fold(0i64, |acc, b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let fraction = &bytes[19..bytes.len() - 1];
    let nanos = match fraction {
        [] => 0,
        [b'.', digits @ ..]
            if !digits.is_empty() && digits.len() <= 9 && digits.iter().all(u8::is_ascii_digit) =>
        {
            let value = digits
                .iter()
                .fold(0i32, |acc, b| acc * 10 + i32::from(b - b'0'));
            value * 10i32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Timestamp::new(seconds, nanos).ok()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_jiff() {
        let cases = [
            "1970-01-01T00:00:00Z",
            "2016-04-06T20:03:48.000Z",
            "2000-02-29T23:59:59.999999999Z",
            "1900-03-01T00:00:00.5Z",
            "2024-12-31T12:34:56.123456Z",
            "0001-01-01T00:00:00Z",
            "9999-12-30T00:00:00Z",
            "2017-01-20T00:00:00.000Z",
        ];
        for case in cases {
            let expected: Timestamp = case.parse().unwrap();
            assert_eq!(fast(case.as_bytes()), Some(expected), "{case}");
        }
        for unusual in [
            "2016-04-06T20:03:48+02:00",
            "2016-04-06t20:03:48z",
            "2016-04-06T20:03:48.1234567891Z",
        ] {
            assert_eq!(fast(unusual.as_bytes()), None, "{unusual}");
            assert_eq!(parse(unusual), unusual.parse().ok(), "{unusual}");
        }
        for invalid in [
            "2019-02-29T00:00:00Z",
            "2019-13-01T00:00:00Z",
            "2019-01-01T24:00:00Z",
            "2019-01-01",
            "x",
        ] {
            assert_eq!(parse(invalid), None, "{invalid}");
        }
    }
}
