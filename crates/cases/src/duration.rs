//! Durations as people write them in configuration: `30m`, `4h`, `7d`, `2w`.

use std::fmt;
use std::str::FromStr;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

/// A positive length of time written as a whole number and a unit: `m` (minutes), `h` (hours),
/// `d` (days of 24 hours) or `w` (weeks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Span {
    minutes: i64,
}

/// Text that is not a [`Span`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?}: {reason} (write e.g. 30m, 4h, 7d or 2w)")]
pub struct SpanError {
    pub text: String,
    pub reason: &'static str,
}

/// Longest accepted span: ten years, far beyond any SLA or grouping window.
const MAX_MINUTES: i64 = 10 * 366 * 24 * 60;

impl Span {
    pub fn minutes(count: i64) -> Span {
        Span {
            minutes: count.clamp(1, MAX_MINUTES),
        }
    }

    pub fn hours(count: i64) -> Span {
        Span::minutes(count.saturating_mul(60))
    }

    pub fn days(count: i64) -> Span {
        Span::hours(count.saturating_mul(24))
    }

    pub fn as_duration(self) -> SignedDuration {
        SignedDuration::from_mins(self.minutes)
    }
}

impl FromStr for Span {
    type Err = SpanError;

    fn from_str(text: &str) -> Result<Span, SpanError> {
        let error = |reason| SpanError {
            text: text.chars().take(40).collect(),
            reason,
        };
        let trimmed = text.trim();
        let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(error("no number"));
        }
        let (number, unit) = trimmed.split_at(digits);
        let count: i64 = number.parse().map_err(|_| error("number too large"))?;
        let per_unit = match unit.trim() {
            "m" | "min" => 1,
            "h" => 60,
            "d" => 24 * 60,
            "w" => 7 * 24 * 60,
            "" => return Err(error("no unit")),
            _ => return Err(error("unknown unit")),
        };
        let minutes = count
            .checked_mul(per_unit)
            .filter(|minutes| *minutes <= MAX_MINUTES)
            .ok_or_else(|| error("longer than ten years"))?;
        if minutes == 0 {
            return Err(error("zero length"));
        }
        Ok(Span { minutes })
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minutes = self.minutes;
        if minutes % (7 * 24 * 60) == 0 {
            write!(f, "{}w", minutes / (7 * 24 * 60))
        } else if minutes % (24 * 60) == 0 {
            write!(f, "{}d", minutes / (24 * 60))
        } else if minutes % 60 == 0 {
            write!(f, "{}h", minutes / 60)
        } else {
            write!(f, "{minutes}m")
        }
    }
}

impl From<Span> for String {
    fn from(span: Span) -> String {
        span.to_string()
    }
}

impl TryFrom<String> for Span {
    type Error = SpanError;
    fn try_from(text: String) -> Result<Span, SpanError> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_prints_the_largest_whole_unit() {
        assert_eq!("4h".parse::<Span>().unwrap(), Span::hours(4));
        assert_eq!(" 7d ".parse::<Span>().unwrap(), Span::days(7));
        assert_eq!("90m".parse::<Span>().unwrap().to_string(), "90m");
        assert_eq!("72h".parse::<Span>().unwrap().to_string(), "3d");
        assert_eq!("14d".parse::<Span>().unwrap().to_string(), "2w");
        assert_eq!(
            "24h".parse::<Span>().unwrap().as_duration(),
            SignedDuration::from_hours(24)
        );
    }

    #[test]
    fn refuses_what_is_not_a_positive_span() {
        for bad in [
            "",
            "h",
            "4",
            "4x",
            "-4h",
            "0h",
            "4.5h",
            "99999999999999999999h",
            "5000w",
        ] {
            let refused = bad.parse::<Span>();
            assert!(refused.is_err(), "{bad:?} should be refused");
        }
        let error = "4 hours".parse::<Span>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid duration \"4 hours\": unknown unit (write e.g. 30m, 4h, 7d or 2w)"
        );
    }
}
