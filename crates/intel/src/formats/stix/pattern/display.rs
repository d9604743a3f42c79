//! Writes a parsed pattern back in STIX syntax, so that `parse(p.to_string()) == p`.
//!
//! Nested expressions are parenthesised whenever they sit inside a tighter operator, and
//! strings are re-escaped, which is also how exports write values safely.

use std::fmt::{self, Display, Formatter, Write};

use super::{
    Comparison, ComparisonExpr, Literal, ObjectPath, ObservationExpr, PathStep, Pattern, Qualifier,
    Test,
};

impl Display for Pattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.expression.fmt(f)
    }
}

impl Display for ObservationExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ObservationExpr::Observation(inner) => write!(f, "[{inner}]"),
            ObservationExpr::And(items) => join_observations(f, items, " AND ", precedence(self)),
            ObservationExpr::Or(items) => join_observations(f, items, " OR ", precedence(self)),
            ObservationExpr::FollowedBy(items) => {
                join_observations(f, items, " FOLLOWEDBY ", precedence(self))
            }
            ObservationExpr::Qualified(inner, qualifier) => {
                // A qualifier binds to the observation expression right before it, so
                // anything wider than one needs parentheses.
                if precedence(inner) > 0 {
                    write!(f, "({inner}) {qualifier}")
                } else {
                    write!(f, "{inner} {qualifier}")
                }
            }
        }
    }
}

/// How loosely an operator binds (0 for single observations, which never need parentheses).
fn precedence(expression: &ObservationExpr) -> u8 {
    match expression {
        ObservationExpr::FollowedBy(_) => 3,
        ObservationExpr::Or(_) => 2,
        ObservationExpr::And(_) => 1,
        ObservationExpr::Observation(_) | ObservationExpr::Qualified(..) => 0,
    }
}

/// Children binding as loosely as the parent or looser are wrapped: the parser flattens
/// chains, so a same-operator child only exists when the source had parentheses.
fn join_observations(
    f: &mut Formatter<'_>,
    items: &[ObservationExpr],
    separator: &str,
    parent: u8,
) -> fmt::Result {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            f.write_str(separator)?;
        }
        let child = precedence(item);
        if child > 0 && child >= parent {
            write!(f, "({item})")?;
        } else {
            write!(f, "{item}")?;
        }
    }
    Ok(())
}

impl Display for Qualifier {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within(seconds) => {
                f.write_str("WITHIN ")?;
                write_float(f, *seconds)?;
                f.write_str(" SECONDS")
            }
            Qualifier::Repeats(times) => write!(f, "REPEATS {times} TIMES"),
            Qualifier::StartStop { start, stop } => write!(f, "START t'{start}' STOP t'{stop}'"),
        }
    }
}

impl Display for ComparisonExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ComparisonExpr::Comparison(comparison) => comparison.fmt(f),
            ComparisonExpr::And(items) => {
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(" AND ")?;
                    }
                    match item {
                        ComparisonExpr::Comparison(_) => write!(f, "{item}")?,
                        _ => write!(f, "({item})")?,
                    }
                }
                Ok(())
            }
            ComparisonExpr::Or(items) => {
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(" OR ")?;
                    }
                    match item {
                        ComparisonExpr::Or(_) => write!(f, "({item})")?,
                        _ => write!(f, "{item}")?,
                    }
                }
                Ok(())
            }
        }
    }
}

impl Display for Comparison {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Test::Exists = self.test {
            return write!(f, "EXISTS {}", self.path);
        }
        write!(f, "{} ", self.path)?;
        if self.negated {
            f.write_str("NOT ")?;
        }
        f.write_str(self.test.operator())?;
        f.write_char(' ')?;
        match &self.test {
            Test::Compare(_, literal) => literal.fmt(f),
            Test::In(items) => {
                f.write_char('(')?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_char(')')
            }
            Test::Like(text)
            | Test::Matches(text)
            | Test::IsSubset(text)
            | Test::IsSuperset(text) => write_string(f, text),
            Test::Exists => Ok(()),
        }
    }
}

impl Display for ObjectPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.object_type)?;
        f.write_char(':')?;
        for (index, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(key) => {
                    if index > 0 {
                        f.write_char('.')?;
                    }
                    if is_plain_key(key) {
                        f.write_str(key)?;
                    } else {
                        write_string(f, key)?;
                    }
                }
                PathStep::Index(at) => write!(f, "[{at}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// Keys that the grammar accepts unquoted (`IdentifierWithoutHyphen`).
fn is_plain_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(value) => write!(f, "{value}"),
            Literal::Float(value) => write_float(f, *value),
            Literal::Str(text) => write_string(f, text),
            Literal::Bool(value) => write!(f, "{value}"),
            Literal::Binary(text) => write!(f, "b'{text}'"),
            Literal::Hex(text) => write!(f, "h'{text}'"),
            Literal::Timestamp(text) => write!(f, "t'{text}'"),
        }
    }
}

/// Floats always carry a decimal point, so they read back as floats.
fn write_float(f: &mut Formatter<'_>, value: f64) -> fmt::Result {
    let text = value.to_string();
    if text.contains('.') {
        f.write_str(&text)
    } else {
        write!(f, "{text}.0")
    }
}

/// A quoted string literal with `'` and `\` escaped.
pub fn write_string(out: &mut impl Write, text: &str) -> fmt::Result {
    out.write_char('\'')?;
    for piece in text.split_inclusive(['\'', '\\']) {
        match piece.as_bytes().last() {
            Some(b'\'') => {
                out.write_str(&piece[..piece.len() - 1])?;
                out.write_str("\\'")?;
            }
            Some(b'\\') => {
                out.write_str(&piece[..piece.len() - 1])?;
                out.write_str("\\\\")?;
            }
            _ => out.write_str(piece)?,
        }
    }
    out.write_char('\'')
}
