//! Lengths of time as people write them in configuration, playbooks and on the command line.

use jiff::SignedDuration;

/// A length of time that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(String);

/// A length of time: a whole number and a unit, `s`, `m`, `h`, `d` (24 hours) or `w`: `30d`.
/// Zero and more than a hundred years are refused.
pub fn parse_duration(text: &str) -> Result<SignedDuration, DurationError> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| {
        DurationError(format!("{text:?} has no unit: write e.g. 30d, 12h or 90m"))
    })?;
    let (number, unit) = text.split_at(split);
    let count: i64 = number
        .parse()
        .map_err(|_| DurationError(format!("{text:?} does not start with a whole number")))?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        other => {
            return Err(DurationError(format!(
                "unknown unit {other:?} in {text:?}: use s, m, h, d or w"
            )));
        }
    };
    if count == 0 {
        return Err(DurationError(format!("{text:?} is no time at all")));
    }
    count
        .checked_mul(seconds_per_unit)
        .filter(|&seconds| seconds <= 100 * 366 * 86_400)
        .map(SignedDuration::from_secs)
        .ok_or_else(|| DurationError(format!("{text:?} is more than a hundred years")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_a_number_and_a_unit() {
        let cases = [
            ("30d", SignedDuration::from_hours(720)),
            ("12h", SignedDuration::from_hours(12)),
            ("90m", SignedDuration::from_mins(90)),
            ("2w", SignedDuration::from_hours(336)),
            ("45s", SignedDuration::from_secs(45)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text).unwrap(), expected, "{text}");
        }
        for bad in [
            "",
            "30",
            "d",
            "-1d",
            "1.5d",
            "3y",
            "0d",
            "99999999999999999999d",
            "400000w",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
