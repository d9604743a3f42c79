//! STIX 2.1 patterns (STIX 2.1 part 9): a parser for the whole grammar, and the extraction of
//! the values Rampart can enforce.
//!
//! Parsing gives a [`Pattern`] tree; [`extract`] walks it for comparisons that name a
//! matchable value (`[ipv4-addr:value = '…']`, `[file:hashes.'SHA-256' = '…']`, …) and says
//! whether the pattern means no more than "any of these values" — the only meaning a block
//! list or an IOC matcher can enforce.
//!
//! ```
//! use rampart_intel::formats::stix::pattern::{self, extract};
//! let parsed = pattern::parse("[ipv4-addr:value = '203.0.113.7'] OR [domain-name:value = 'evil.example']").unwrap();
//! let extraction = extract(&parsed);
//! assert_eq!(extraction.values.len(), 2);
//! assert!(extraction.unenforced.is_none());
//! let err = pattern::parse("[ipv4-addr:value = ]").unwrap_err();
//! assert_eq!(err.column, 20);
//! ```

mod display;
mod extract;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub use extract::{Extracted, Extraction, Target, extract, hash_kind};
pub use parser::MAX_NESTING;

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub expression: ObservationExpr,
}

/// Observation expressions, combined as the grammar does: `FOLLOWEDBY` binds loosest, then
/// `OR`, then `AND`; qualifiers bind to the observation expression right before them.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison ]`
    Observation(ComparisonExpr),
    And(Vec<ObservationExpr>),
    Or(Vec<ObservationExpr>),
    FollowedBy(Vec<ObservationExpr>),
    Qualified(Box<ObservationExpr>, Qualifier),
}

/// A qualifier after an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`
    Within(f64),
    /// `REPEATS n TIMES`
    Repeats(i64),
    /// `START t'…' STOP t'…'`
    StartStop { start: String, stop: String },
}

/// Comparison expressions inside brackets: `AND` binds tighter than `OR`.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    And(Vec<ComparisonExpr>),
    Or(Vec<ComparisonExpr>),
    Comparison(Comparison),
}

/// One property test, such as `file:hashes.MD5 = '…'` or `NOT url:value LIKE '%x%'`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub path: ObjectPath,
    /// `NOT` before the operator (never set for `EXISTS`, which the grammar does not negate).
    pub negated: bool,
    pub test: Test,
}

/// The operator of a comparison and what it compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Compare(CompareOp, Literal),
    In(Vec<Literal>),
    Like(String),
    Matches(String),
    IsSubset(String),
    IsSuperset(String),
    Exists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Equal => "=",
            CompareOp::NotEqual => "!=",
            CompareOp::Less => "<",
            CompareOp::LessEqual => "<=",
            CompareOp::Greater => ">",
            CompareOp::GreaterEqual => ">=",
        }
    }
}

impl Test {
    /// The operator as written in a pattern.
    pub fn operator(&self) -> &'static str {
        match self {
            Test::Compare(op, _) => op.as_str(),
            Test::In(_) => "IN",
            Test::Like(_) => "LIKE",
            Test::Matches(_) => "MATCHES",
            Test::IsSubset(_) => "ISSUBSET",
            Test::IsSuperset(_) => "ISSUPERSET",
            Test::Exists => "EXISTS",
        }
    }
}

/// `object-type:first.second[0][*].'quoted key'`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPath {
    pub object_type: String,
    /// The first component is always a key.
    pub steps: Vec<PathStep>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    Index(i64),
    AnyIndex,
}

/// A literal value. Binary, hex and timestamp literals keep their text (already checked).
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Binary(String),
    Hex(String),
    Timestamp(String),
}

/// Why a pattern does not parse: the 1-based column (in characters) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct PatternError {
    pub column: usize,
    pub message: String,
}

impl PatternError {
    pub(crate) fn at(source: &str, byte_offset: usize, message: impl Into<String>) -> PatternError {
        let prefix = source.get(..byte_offset).unwrap_or(source);
        PatternError {
            column: prefix.chars().count() + 1,
            message: message.into(),
        }
    }
}

/// Parses a STIX 2.1 pattern.
pub fn parse(source: &str) -> Result<Pattern, PatternError> {
    parser::Parser::new(source)?.pattern()
}

/// `text` as a pattern string literal, quoted, with `'` and `\` escaped.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    // Writing into a String cannot fail.
    let _ = display::write_string(&mut out, text);
    out
}
