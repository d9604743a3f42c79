//! A literal every match of a regex must contain, so the regex runs only for values where the
//! field's literal scan saw it. Sigma wildcard values (`*\\rundll32.exe*,#*`) compile to
//! regexes of literal runs joined by `.*` and `.`; their longest run is such a literal.
//! Regexes of any other shape (`re` values) have no gate and always run.

/// The longest literal run of a wildcard-shaped regex, and whether the regex ignores case
/// (the run is then lowercased, to be found in the lowercased value). Only ASCII runs are
/// used: under Unicode case folding a non-ASCII pattern character can match an ASCII one.
pub(crate) fn required_literal(pattern: &str) -> Option<(Vec<u8>, bool)> {
    let (body, folded) = if let Some(rest) = pattern.strip_prefix("(?si)") {
        (rest, true)
    } else if let Some(rest) = pattern.strip_prefix("(?s)") {
        (rest, false)
    } else {
        return None;
    };
    let body = body.strip_prefix('^').unwrap_or(body);
    let body = match body.strip_suffix('$') {
        // `\$` is a literal dollar sign, not an anchor.
        Some(rest) if !rest.ends_with('\\') || rest.ends_with("\\\\") => rest,
        _ => body,
    };
    let mut runs: Vec<String> = vec![String::new()];
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let escaped = chars.next()?;
                if escaped.is_ascii_alphanumeric() {
                    // A class such as `\d` or `\w`, not a literal.
                    return None;
                }
                runs.last_mut()?.push(escaped);
            }
            '.' => {
                if chars.peek() == Some(&'*') {
                    chars.next();
                }
                runs.push(String::new());
            }
            '(' | ')' | '[' | ']' | '{' | '}' | '|' | '?' | '+' | '*' | '^' | '$' => return None,
            other => runs.last_mut()?.push(other),
        }
    }
    let longest = runs
        .into_iter()
        .filter(|run| run.is_ascii())
        .max_by_key(String::len)?;
    if longest.is_empty() {
        return None;
    }
    let bytes = if folded {
        longest.to_ascii_lowercase().into_bytes()
    } else {
        longest.into_bytes()
    };
    Some((bytes, folded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_regexes_are_gated_by_their_longest_run_and_others_are_not() {
        let gate = |p: &str| {
            required_literal(p).map(|(b, f)| (String::from_utf8(b).unwrap_or_default(), f))
        };
        assert_eq!(
            gate(r"(?si)^.*\\Rundll32\.exe.*,\#.*$"),
            Some((r"\rundll32.exe".to_string(), true))
        );
        assert_eq!(gate(r"(?s)ab.cdef"), Some(("cdef".to_string(), false)));
        assert_eq!(gate(r"(?si)price\$"), Some(("price$".to_string(), true)));
        assert_eq!(gate(r"(?si)^a|b$"), None);
        assert_eq!(gate(r"(?si)\d+"), None);
        assert_eq!(gate(r"(?i)abc"), None);
        assert_eq!(gate(r"(?si).*.?"), None);
        assert_eq!(gate("(?si)caf\u{e9}.*x"), Some(("x".to_string(), true)));
        // Every value the regex matches contains the gate literal.
        for (pattern, value) in [
            (
                r"(?si)^.*\\Rundll32\.exe.*,\#.*$",
                r"C:\WINDOWS\RUNDLL32.EXE foo,#1",
            ),
            (r"(?s)ab.cdef", "xxabZcdefyy"),
        ] {
            let regex = regex::Regex::new(pattern).expect("valid");
            assert!(regex.is_match(value));
            let (literal, folded) = required_literal(pattern).expect("gated");
            let haystack = if folded {
                value.to_ascii_lowercase()
            } else {
                value.to_string()
            };
            assert!(
                haystack
                    .as_bytes()
                    .windows(literal.len())
                    .any(|w| w == literal.as_slice())
            );
        }
    }
}
