//! What the four Postfix formats share: the action and its text, and regex escaping.
//!
//! Postfix tables are line based: `#` starts a comment only at the beginning of a line, a line
//! starting with whitespace continues the previous one, and the rest of a line after the key
//! (or pattern) is the action. So a key must not start with `#` or whitespace and must not
//! contain whitespace, and the action text must be one line of printable ASCII.

use serde::Deserialize;

use super::values;
use super::{Format, ListItem, RenderError};

/// Options of the Postfix formats (`[respond.render.postfix]`): `postfix-access`,
/// `postfix-cidr`, `postfix-header-checks` and `postfix-body-checks`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostfixOptions {
    /// The action of every entry.
    pub action: PostfixAction,
    /// Text after the action, which Postfix puts in the SMTP reply (`REJECT` and `DEFER`-like
    /// actions) or its log: printable ASCII, at most 200 characters.
    pub text: String,
    /// Append each item's comment (neutralised, at most 100 characters) to the text in
    /// parentheses. Off by default: comments are attacker-influenced and the SMTP reply is
    /// visible to the sender.
    pub append_comment: bool,
    /// In `postfix-access`, also write a `.evil.example` entry for each domain, which matches its
    /// subdomains when `smtpd_access_maps` is *not* in `parent_domain_matches_subdomains`
    /// (when it is, the plain entry already matches them). In the regexp formats, match
    /// subdomains in the pattern.
    pub subdomains: bool,
}

impl Default for PostfixOptions {
    fn default() -> PostfixOptions {
        PostfixOptions {
            action: PostfixAction::Reject,
            text: "Blocked by local policy".into(),
            append_comment: false,
            subdomains: true,
        }
    }
}

/// The Postfix actions both access(5) and header_checks(5) understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PostfixAction {
    /// Refuse with a permanent error (the default).
    Reject,
    /// Accept and silently drop.
    Discard,
    /// Accept and put in the hold queue for review.
    Hold,
    /// Only log a warning.
    Warn,
}

impl PostfixAction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PostfixAction::Reject => "REJECT",
            PostfixAction::Discard => "DISCARD",
            PostfixAction::Hold => "HOLD",
            PostfixAction::Warn => "WARN",
        }
    }
}

const MAX_TEXT: usize = 200;

impl PostfixOptions {
    /// Checks the configured text for `format`.
    pub(crate) fn check(&self, format: Format) -> Result<(), RenderError> {
        if self.text.len() > MAX_TEXT
            || !self.text.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
        {
            return Err(RenderError::InvalidOption {
                format,
                option: "text",
                reason: "must be printable ASCII on one line, at most 200 characters".into(),
            });
        }
        Ok(())
    }

    /// Writes ` ACTION text[ (comment)]` and the newline.
    pub(crate) fn push_action(&self, out: &mut String, item: &ListItem) {
        out.push(' ');
        out.push_str(self.action.as_str());
        let text = self.text.trim();
        if !text.is_empty() {
            out.push(' ');
            out.push_str(text);
        }
        if self.append_comment {
            let mark = out.len();
            out.push_str(" (");
            // `$` is left out in case a table's text is ever expanded; parentheses would
            // confuse the reader of the reply.
            let wrote = values::push_comment(out, &item.comment, 100, |c| match c {
                '$' | '(' | ')' => '_',
                other => other,
            });
            if wrote {
                out.push(')');
            } else {
                out.truncate(mark);
            }
        }
        out.push('\n');
    }
}

/// Appends `text` escaped for a Postfix `regexp:` (POSIX extended) or `pcre:` pattern between
/// `/` delimiters: every character special to either syntax, and the delimiter, gets a
/// backslash. Only these are escaped: in glibc's regex a backslash before an ordinary character
/// can have a meaning of its own (`\<`, `\w`, `\'`).
pub(crate) fn push_regex_escaped(out: &mut String, text: &str) {
    for character in text.chars() {
        if matches!(
            character,
            '.' | '['
                | ']'
                | '('
                | ')'
                | '*'
                | '+'
                | '?'
                | '{'
                | '}'
                | '|'
                | '^'
                | '$'
                | '\\'
                | '/'
        ) {
            out.push('\\');
        }
        out.push(character);
    }
}

/// The subdomain part of a domain pattern: any number of labels, each followed by a dot.
pub(crate) const SUBDOMAINS: &str = "([a-z0-9_-]+\\.)*";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_regex_metacharacters_and_the_delimiter() {
        let mut out = String::new();
        push_regex_escaped(&mut out, "a.b/c+d?(e)[f]{g}|h^i$j\\k<l>");
        assert_eq!(
            out,
            "a\\.b\\/c\\+d\\?\\(e\\)\\[f\\]\\{g\\}\\|h\\^i\\$j\\\\k<l>"
        );
    }

    #[test]
    fn the_text_must_be_one_printable_line() {
        let mut options = PostfixOptions::default();
        assert!(options.check(Format::PostfixAccess).is_ok());
        options.text = "blocked\nREJECT".into();
        assert!(options.check(Format::PostfixAccess).is_err());
    }
}
