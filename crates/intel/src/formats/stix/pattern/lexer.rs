//! Tokens of the STIX 2.1 patterning language (STIX 2.1 part 9, the `STIXPattern` grammar).
//!
//! The lexer works on bytes and hands out positions as byte offsets; the parser turns them
//! into 1-based columns only when it reports an error.

use std::borrow::Cow;

use super::PatternError;

/// One token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token<'a> {
    pub kind: TokenKind<'a>,
    pub start: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind<'a> {
    LeftBracket,
    RightBracket,
    LeftParen,
    RightParen,
    Colon,
    Dot,
    Comma,
    Star,
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    /// An identifier or keyword: `[A-Za-z_][A-Za-z0-9_-]*`. Keywords are told apart by the
    /// parser, because `IN`, `AND` and friends are only keywords in some positions.
    Word(&'a str),
    /// A quoted string with `\'` and `\\` already unescaped.
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    /// `b'…'`: the base64 text, checked but not decoded.
    Binary(&'a str),
    /// `h'…'`: the hex digits, checked but not decoded.
    Hex(&'a str),
    /// `t'…'`: the RFC 3339 text, checked for the STIX timestamp form.
    Timestamp(&'a str),
    End,
}

impl TokenKind<'_> {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::LeftBracket => "'['".into(),
            TokenKind::RightBracket => "']'".into(),
            TokenKind::LeftParen => "'('".into(),
            TokenKind::RightParen => "')'".into(),
            TokenKind::Colon => "':'".into(),
            TokenKind::Dot => "'.'".into(),
            TokenKind::Comma => "','".into(),
            TokenKind::Star => "'*'".into(),
            TokenKind::Equal => "'='".into(),
            TokenKind::NotEqual => "'!='".into(),
            TokenKind::Less => "'<'".into(),
            TokenKind::LessEqual => "'<='".into(),
            TokenKind::Greater => "'>'".into(),
            TokenKind::GreaterEqual => "'>='".into(),
            TokenKind::Word(word) => format!("{:?}", shorten(word)),
            TokenKind::Str(_) => "a string".into(),
            TokenKind::Int(_) => "an integer".into(),
            TokenKind::Float(_) => "a float".into(),
            TokenKind::Binary(_) => "a binary literal".into(),
            TokenKind::Hex(_) => "a hex literal".into(),
            TokenKind::Timestamp(_) => "a timestamp".into(),
            TokenKind::End => "end of pattern".into(),
        }
    }
}

fn shorten(word: &str) -> &str {
    match word.char_indices().nth(40) {
        Some((at, _)) => &word[..at],
        None => word,
    }
}

pub(super) struct Lexer<'a> {
    source: &'a str,
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(source: &'a str) -> Lexer<'a> {
        Lexer {
            source,
            bytes: source.as_bytes(),
            position: 0,
        }
    }

    fn error(&self, at: usize, message: impl Into<String>) -> PatternError {
        PatternError::at(self.source, at, message)
    }

    fn peek_byte(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.position + offset).copied()
    }

    /// Skips whitespace and the `/* */` and `//` comments the grammar allows.
    fn skip_trivia(&mut self) -> Result<(), PatternError> {
        loop {
            match self.peek_byte(0) {
                Some(b' ' | b'\t' | b'\r' | b'\n' | b'\x0c') => self.position += 1,
                Some(b'/') if self.peek_byte(1) == Some(b'*') => {
                    let start = self.position;
                    match self.source[self.position + 2..].find("*/") {
                        Some(end) => self.position += 2 + end + 2,
                        None => return Err(self.error(start, "unterminated comment")),
                    }
                }
                Some(b'/') if self.peek_byte(1) == Some(b'/') => {
                    match self.source[self.position..].find('\n') {
                        Some(end) => self.position += end + 1,
                        None => self.position = self.bytes.len(),
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    pub fn next_token(&mut self) -> Result<Token<'a>, PatternError> {
        self.skip_trivia()?;
        let start = self.position;
        let Some(byte) = self.peek_byte(0) else {
            return Ok(Token {
                kind: TokenKind::End,
                start,
            });
        };
        let single = |lexer: &mut Lexer<'a>, kind: TokenKind<'a>, length: usize| {
            lexer.position += length;
            Ok(Token { kind, start })
        };
        match byte {
            b'[' => single(self, TokenKind::LeftBracket, 1),
            b']' => single(self, TokenKind::RightBracket, 1),
            b'(' => single(self, TokenKind::LeftParen, 1),
            b')' => single(self, TokenKind::RightParen, 1),
            b':' => single(self, TokenKind::Colon, 1),
            b',' => single(self, TokenKind::Comma, 1),
            b'*' => single(self, TokenKind::Star, 1),
            b'=' if self.peek_byte(1) == Some(b'=') => single(self, TokenKind::Equal, 2),
            b'=' => single(self, TokenKind::Equal, 1),
            b'!' if self.peek_byte(1) == Some(b'=') => single(self, TokenKind::NotEqual, 2),
            b'<' if self.peek_byte(1) == Some(b'>') => single(self, TokenKind::NotEqual, 2),
            b'<' if self.peek_byte(1) == Some(b'=') => single(self, TokenKind::LessEqual, 2),
            b'<' => single(self, TokenKind::Less, 1),
            b'>' if self.peek_byte(1) == Some(b'=') => single(self, TokenKind::GreaterEqual, 2),
            b'>' => single(self, TokenKind::Greater, 1),
            b'\'' => {
                let text = self.string_body()?;
                Ok(Token {
                    kind: TokenKind::Str(text),
                    start,
                })
            }
            b'.' if self.peek_byte(1).is_some_and(|b| b.is_ascii_digit()) => self.number(),
            b'.' => single(self, TokenKind::Dot, 1),
            b'+' | b'-' | b'0'..=b'9' => self.number(),
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => self.word_or_prefixed_literal(),
            _ => {
                let found = self.source[start..].chars().next().unwrap_or('?');
                Err(self.error(start, format!("unexpected character {found:?}")))
            }
        }
    }

    /// Reads `'…'` starting at the opening quote; only `\'` and `\\` are escapes.
    fn string_body(&mut self) -> Result<Cow<'a, str>, PatternError> {
        let open = self.position;
        let body_start = open + 1;
        let mut index = body_start;
        let mut owned: Option<String> = None;
        let mut copied_up_to = body_start;
        loop {
            match self.bytes.get(index) {
                None => return Err(self.error(open, "unterminated string (expected a closing ')")),
                Some(b'\'') => {
                    self.position = index + 1;
                    return Ok(match owned {
                        Some(mut text) => {
                            text.push_str(&self.source[copied_up_to..index]);
                            Cow::Owned(text)
                        }
                        None => Cow::Borrowed(&self.source[body_start..index]),
                    });
                }
                Some(b'\\') => {
                    let escaped = match self.bytes.get(index + 1) {
                        Some(b'\'') => '\'',
                        Some(b'\\') => '\\',
                        _ => {
                            return Err(self.error(
                                index,
                                "invalid escape in string (only \\' and \\\\ are allowed)",
                            ));
                        }
                    };
                    let text = owned.get_or_insert_with(String::new);
                    text.push_str(&self.source[copied_up_to..index]);
                    text.push(escaped);
                    index += 2;
                    copied_up_to = index;
                }
                Some(_) => index += 1,
            }
        }
    }

    fn word_or_prefixed_literal(&mut self) -> Result<Token<'a>, PatternError> {
        let start = self.position;
        if self.peek_byte(1) == Some(b'\'') {
            match self.bytes[start] {
                b'b' => return self.prefixed(TokenKind::Binary, check_base64),
                b'h' => return self.prefixed(TokenKind::Hex, check_hex),
                b't' => return self.prefixed(TokenKind::Timestamp, check_timestamp),
                _ => {}
            }
        }
        let length = self.bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
            .count();
        self.position += length;
        Ok(Token {
            kind: TokenKind::Word(&self.source[start..start + length]),
            start,
        })
    }

    /// Reads `x'…'` literals whose bodies cannot contain quotes or escapes.
    fn prefixed(
        &mut self,
        make: fn(&'a str) -> TokenKind<'a>,
        check: fn(&str) -> Result<(), &'static str>,
    ) -> Result<Token<'a>, PatternError> {
        let start = self.position;
        let body_start = start + 2;
        let Some(length) = self.source[body_start..].find('\'') else {
            return Err(self.error(start, "unterminated literal (expected a closing ')"));
        };
        let body = &self.source[body_start..body_start + length];
        if let Err(reason) = check(body) {
            return Err(self.error(start, reason));
        }
        self.position = body_start + length + 1;
        Ok(Token {
            kind: make(body),
            start,
        })
    }

    /// Integers (`0`, `-12`, `+7`) and floats (`1.5`, `-.5`), without exponents, as the grammar
    /// has them.
    fn number(&mut self) -> Result<Token<'a>, PatternError> {
        let start = self.position;
        let mut index = start;
        if matches!(self.bytes.get(index), Some(b'+' | b'-')) {
            index += 1;
        }
        let digits_start = index;
        while self.bytes.get(index).is_some_and(u8::is_ascii_digit) {
            index += 1;
        }
        let integer_digits = index - digits_start;
        let is_float = self.bytes.get(index) == Some(&b'.');
        if is_float {
            index += 1;
            let fraction_start = index;
            while self.bytes.get(index).is_some_and(u8::is_ascii_digit) {
                index += 1;
            }
            if index == fraction_start {
                return Err(self.error(index, "expected digits after the decimal point"));
            }
        } else if integer_digits == 0 {
            return Err(self.error(start, "expected digits after the sign"));
        } else if integer_digits > 1 && self.bytes[digits_start] == b'0' {
            return Err(self.error(start, "integers must not have leading zeros"));
        }
        let text = &self.source[start..index];
        let unsigned = text.strip_prefix('+').unwrap_or(text);
        self.position = index;
        let kind = if is_float {
            match unsigned.parse::<f64>() {
                Ok(value) if value.is_finite() => TokenKind::Float(value),
                _ => return Err(self.error(start, "number out of range")),
            }
        } else {
            match unsigned.parse::<i64>() {
                Ok(value) => TokenKind::Int(value),
                Err(_) => return Err(self.error(start, "integer out of range")),
            }
        };
        Ok(Token { kind, start })
    }
}

fn check_base64(body: &str) -> Result<(), &'static str> {
    let bytes = body.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return Err("binary literal is not base64 (length is not a multiple of 4)");
    }
    let padding = bytes.iter().rev().take_while(|b| **b == b'=').count();
    if padding > 2 {
        return Err("binary literal is not base64 (too much padding)");
    }
    let ok = bytes[..bytes.len() - padding]
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/');
    if ok {
        Ok(())
    } else {
        Err("binary literal is not base64")
    }
}

fn check_hex(body: &str) -> Result<(), &'static str> {
    if !body.len().is_multiple_of(2) {
        return Err("hex literal has an odd number of digits");
    }
    if body.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err("hex literal has a non-hex digit")
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, the only timestamp form STIX patterns allow.
fn check_timestamp(body: &str) -> Result<(), &'static str> {
    const BAD: &str = "timestamp is not of the form YYYY-MM-DDTHH:MM:SS[.s]Z";
    let bytes = body.as_bytes();
    if bytes.len() < 20 || bytes.last() != Some(&b'Z') {
        return Err(BAD);
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = bytes.get(range)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(part.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0')))
    };
    let separators = bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes[10] == b'T'
        && bytes[13] == b':'
        && bytes[16] == b':';
    let (Some(_year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return Err(BAD);
    };
    if !separators {
        return Err(BAD);
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Err("timestamp has a field out of range");
    }
    let rest = &bytes[19..bytes.len() - 1];
    match rest {
        [] => Ok(()),
        [b'.', fraction @ ..]
            if !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit) =>
        {
            Ok(())
        }
        _ => Err(BAD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<TokenKind<'_>> {
        let mut lexer = Lexer::new(source);
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token().unwrap();
            if token.kind == TokenKind::End {
                return out;
            }
            out.push(token.kind);
        }
    }

    #[test]
    fn lexes_operators_literals_and_comments() {
        assert_eq!(
            kinds("[a:b <> -12 /* c */ +3 .5 -0.25 // tail\n == <= >= < > != ]"),
            vec![
                TokenKind::LeftBracket,
                TokenKind::Word("a"),
                TokenKind::Colon,
                TokenKind::Word("b"),
                TokenKind::NotEqual,
                TokenKind::Int(-12),
                TokenKind::Int(3),
                TokenKind::Float(0.5),
                TokenKind::Float(-0.25),
                TokenKind::Equal,
                TokenKind::LessEqual,
                TokenKind::GreaterEqual,
                TokenKind::Less,
                TokenKind::Greater,
                TokenKind::NotEqual,
                TokenKind::RightBracket,
            ]
        );
        assert_eq!(
            kinds(r"'it\'s' 'a\\b' b'AAE=' h'00ff' t'2024-01-02T03:04:05.678Z' ipv4-addr"),
            vec![
                TokenKind::Str(Cow::Borrowed("it's")),
                TokenKind::Str(Cow::Borrowed("a\\b")),
                TokenKind::Binary("AAE="),
                TokenKind::Hex("00ff"),
                TokenKind::Timestamp("2024-01-02T03:04:05.678Z"),
                TokenKind::Word("ipv4-addr"),
            ]
        );
    }

    #[test]
    fn rejects_bad_literals_with_their_position() {
        let cases = [
            ("'abc", 1, "unterminated string"),
            (r"'a\nb'", 3, "invalid escape"),
            ("  b'AAE'", 3, "base64"),
            ("h'0'", 1, "odd number"),
            ("t'2024-13-01T00:00:00Z'", 1, "out of range"),
            ("t'2024-01-01 00:00:00Z'", 1, "of the form"),
            ("007", 1, "leading zeros"),
            ("99999999999999999999", 1, "out of range"),
            ("1.", 3, "after the decimal point"),
            ("é", 1, "unexpected character"),
            ("/* x", 1, "unterminated comment"),
        ];
        for (source, column, message) in cases {
            let mut lexer = Lexer::new(source);
            let err = loop {
                match lexer.next_token() {
                    Ok(token) if token.kind == TokenKind::End => panic!("{source}: no error"),
                    Ok(_) => continue,
                    Err(err) => break err,
                }
            };
            assert_eq!(err.column, column, "{source}: {err}");
            assert!(err.message.contains(message), "{source}: {err}");
        }
    }
}
