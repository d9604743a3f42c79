//! Recursive-descent parser for STIX patterns, one function per grammar rule.
//!
//! Chains of `AND`/`OR`/`FOLLOWEDBY` are collected into vectors rather than nested, so a
//! pattern with thousands of `OR`s costs no stack; only parentheses and brackets recurse, and
//! they are limited to [`MAX_NESTING`] so hostile input cannot overflow the stack.

use super::lexer::{Lexer, Token, TokenKind};
use super::{
    CompareOp, Comparison, ComparisonExpr, Literal, ObjectPath, ObservationExpr, PathStep, Pattern,
    PatternError, Qualifier, Test,
};

/// Deepest nesting of parentheses and brackets accepted.
pub const MAX_NESTING: usize = 64;

pub(super) struct Parser<'a> {
    source: &'a str,
    lexer: Lexer<'a>,
    current: Token<'a>,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(source: &'a str) -> Result<Parser<'a>, PatternError> {
        let mut lexer = Lexer::new(source);
        let current = lexer.next_token()?;
        Ok(Parser {
            source,
            lexer,
            current,
            depth: 0,
        })
    }

    pub fn pattern(mut self) -> Result<Pattern, PatternError> {
        if self.current.kind == TokenKind::End {
            return Err(self.expected("an observation expression ('[' or '(')"));
        }
        let expression = self.followed_by()?;
        if self.current.kind != TokenKind::End {
            return Err(self.expected("AND, OR, FOLLOWEDBY, a qualifier or end of pattern"));
        }
        Ok(Pattern { expression })
    }

    fn advance(&mut self) -> Result<Token<'a>, PatternError> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.current, next))
    }

    fn expected(&self, what: &str) -> PatternError {
        PatternError::at(
            self.source,
            self.current.start,
            format!("expected {what}, found {}", self.current.kind.describe()),
        )
    }

    fn at_word(&self, keyword: &str) -> bool {
        matches!(self.current.kind, TokenKind::Word(word) if word == keyword)
    }

    fn eat_word(&mut self, keyword: &str) -> Result<bool, PatternError> {
        if self.at_word(keyword) {
            self.advance()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn expect(&mut self, kind: &TokenKind<'_>, what: &str) -> Result<(), PatternError> {
        if &self.current.kind == kind {
            self.advance()?;
            return Ok(());
        }
        Err(self.expected(what))
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(PatternError::at(
                self.source,
                self.current.start,
                format!("nesting deeper than {MAX_NESTING} levels"),
            ));
        }
        Ok(())
    }

    /// `observationExpressions`: `FOLLOWEDBY` binds loosest.
    fn followed_by(&mut self) -> Result<ObservationExpr, PatternError> {
        let first = self.observation_or()?;
        if !self.at_word("FOLLOWEDBY") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_word("FOLLOWEDBY")? {
            items.push(self.observation_or()?);
        }
        Ok(ObservationExpr::FollowedBy(items))
    }

    fn observation_or(&mut self) -> Result<ObservationExpr, PatternError> {
        let first = self.observation_and()?;
        if !self.at_word("OR") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_word("OR")? {
            items.push(self.observation_and()?);
        }
        Ok(ObservationExpr::Or(items))
    }

    fn observation_and(&mut self) -> Result<ObservationExpr, PatternError> {
        let first = self.qualified_observation()?;
        if !self.at_word("AND") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_word("AND")? {
            items.push(self.qualified_observation()?);
        }
        Ok(ObservationExpr::And(items))
    }

    /// An observation expression followed by any number of qualifiers.
    fn qualified_observation(&mut self) -> Result<ObservationExpr, PatternError> {
        let mut expression = self.observation_primary()?;
        while let Some(qualifier) = self.qualifier()? {
            expression = ObservationExpr::Qualified(Box::new(expression), qualifier);
        }
        Ok(expression)
    }

    fn observation_primary(&mut self) -> Result<ObservationExpr, PatternError> {
        match self.current.kind {
            TokenKind::LeftBracket => {
                self.enter()?;
                self.advance()?;
                let comparison = self.comparison_or()?;
                self.expect(&TokenKind::RightBracket, "']', AND or OR")?;
                self.depth -= 1;
                Ok(ObservationExpr::Observation(comparison))
            }
            TokenKind::LeftParen => {
                self.enter()?;
                self.advance()?;
                let inner = self.followed_by()?;
                self.expect(
                    &TokenKind::RightParen,
                    "')', AND, OR, FOLLOWEDBY or a qualifier",
                )?;
                self.depth -= 1;
                Ok(inner)
            }
            _ => Err(self.expected("an observation expression ('[' or '(')")),
        }
    }

    fn qualifier(&mut self) -> Result<Option<Qualifier>, PatternError> {
        if self.eat_word("WITHIN")? {
            let seconds = match self.current.kind {
                TokenKind::Int(value) if value > 0 => value as f64,
                TokenKind::Float(value) if value > 0.0 => value,
                _ => return Err(self.expected("a positive number of seconds")),
            };
            self.advance()?;
            if !self.eat_word("SECONDS")? {
                return Err(self.expected("SECONDS"));
            }
            return Ok(Some(Qualifier::Within(seconds)));
        }
        if self.eat_word("REPEATS")? {
            let TokenKind::Int(times) = self.current.kind else {
                return Err(self.expected("a positive integer"));
            };
            if times <= 0 {
                return Err(self.expected("a positive integer"));
            }
            self.advance()?;
            if !self.eat_word("TIMES")? {
                return Err(self.expected("TIMES"));
            }
            return Ok(Some(Qualifier::Repeats(times)));
        }
        if self.eat_word("START")? {
            let start = self.timestamp()?;
            if !self.eat_word("STOP")? {
                return Err(self.expected("STOP"));
            }
            let stop = self.timestamp()?;
            return Ok(Some(Qualifier::StartStop { start, stop }));
        }
        Ok(None)
    }

    fn timestamp(&mut self) -> Result<String, PatternError> {
        let TokenKind::Timestamp(text) = self.current.kind else {
            return Err(self.expected("a timestamp t'YYYY-MM-DDTHH:MM:SSZ'"));
        };
        self.advance()?;
        Ok(text.to_owned())
    }

    fn comparison_or(&mut self) -> Result<ComparisonExpr, PatternError> {
        let first = self.comparison_and()?;
        if !self.at_word("OR") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_word("OR")? {
            items.push(self.comparison_and()?);
        }
        Ok(ComparisonExpr::Or(items))
    }

    fn comparison_and(&mut self) -> Result<ComparisonExpr, PatternError> {
        let first = self.property_test()?;
        if !self.at_word("AND") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_word("AND")? {
            items.push(self.property_test()?);
        }
        Ok(ComparisonExpr::And(items))
    }

    fn property_test(&mut self) -> Result<ComparisonExpr, PatternError> {
        if self.current.kind == TokenKind::LeftParen {
            self.enter()?;
            self.advance()?;
            let inner = self.comparison_or()?;
            self.expect(&TokenKind::RightParen, "')', AND or OR")?;
            self.depth -= 1;
            return Ok(inner);
        }
        if self.eat_word("EXISTS")? {
            let path = self.object_path()?;
            return Ok(ComparisonExpr::Comparison(Comparison {
                path,
                negated: false,
                test: Test::Exists,
            }));
        }
        let path = self.object_path()?;
        let negated = self.eat_word("NOT")?;
        let test = self.test()?;
        Ok(ComparisonExpr::Comparison(Comparison {
            path,
            negated,
            test,
        }))
    }

    fn test(&mut self) -> Result<Test, PatternError> {
        let op = match self.current.kind {
            TokenKind::Equal => Some(CompareOp::Equal),
            TokenKind::NotEqual => Some(CompareOp::NotEqual),
            TokenKind::Less => Some(CompareOp::Less),
            TokenKind::LessEqual => Some(CompareOp::LessEqual),
            TokenKind::Greater => Some(CompareOp::Greater),
            TokenKind::GreaterEqual => Some(CompareOp::GreaterEqual),
            _ => None,
        };
        if let Some(op) = op {
            self.advance()?;
            let orderable = !matches!(op, CompareOp::Equal | CompareOp::NotEqual);
            let literal = self.literal(orderable)?;
            return Ok(Test::Compare(op, literal));
        }
        let keyword = match self.current.kind {
            TokenKind::Word(word) => word,
            _ => return Err(self.expected(OPERATORS)),
        };
        match keyword {
            "IN" => {
                self.advance()?;
                self.set_literal().map(Test::In)
            }
            "LIKE" => {
                self.advance()?;
                self.string().map(Test::Like)
            }
            "MATCHES" => {
                self.advance()?;
                self.string().map(Test::Matches)
            }
            "ISSUBSET" => {
                self.advance()?;
                self.string().map(Test::IsSubset)
            }
            "ISSUPERSET" => {
                self.advance()?;
                self.string().map(Test::IsSuperset)
            }
            _ => Err(self.expected(OPERATORS)),
        }
    }

    fn string(&mut self) -> Result<String, PatternError> {
        if let TokenKind::Str(_) = self.current.kind {
            let TokenKind::Str(text) = self.advance()?.kind else {
                return Err(self.expected("a string"));
            };
            return Ok(text.into_owned());
        }
        Err(self.expected("a string"))
    }

    /// `setLiteral`: `( )` or `( literal, literal, … )`.
    fn set_literal(&mut self) -> Result<Vec<Literal>, PatternError> {
        self.expect(&TokenKind::LeftParen, "'(' to open the set")?;
        let mut items = Vec::new();
        if self.current.kind == TokenKind::RightParen {
            self.advance()?;
            return Ok(items);
        }
        loop {
            items.push(self.literal(false)?);
            match self.current.kind {
                TokenKind::Comma => {
                    self.advance()?;
                }
                TokenKind::RightParen => {
                    self.advance()?;
                    return Ok(items);
                }
                _ => return Err(self.expected("',' or ')'")),
            }
        }
    }

    /// `primitiveLiteral`, or `orderableLiteral` (no booleans) for `<`, `<=`, `>`, `>=`.
    fn literal(&mut self, orderable: bool) -> Result<Literal, PatternError> {
        let what = if orderable {
            "a string, number, binary, hex or timestamp literal"
        } else {
            "a literal"
        };
        let literal = match &self.current.kind {
            TokenKind::Int(value) => Literal::Int(*value),
            TokenKind::Float(value) => Literal::Float(*value),
            TokenKind::Binary(text) => Literal::Binary((*text).to_owned()),
            TokenKind::Hex(text) => Literal::Hex((*text).to_owned()),
            TokenKind::Timestamp(text) => Literal::Timestamp((*text).to_owned()),
            TokenKind::Word("true") if !orderable => Literal::Bool(true),
            TokenKind::Word("false") if !orderable => Literal::Bool(false),
            TokenKind::Str(_) => {
                let TokenKind::Str(text) = self.advance()?.kind else {
                    return Err(self.expected(what));
                };
                return Ok(Literal::Str(text.into_owned()));
            }
            _ => return Err(self.expected(what)),
        };
        self.advance()?;
        Ok(literal)
    }

    /// `objectType ':' firstPathComponent objectPathComponent*`
    fn object_path(&mut self) -> Result<ObjectPath, PatternError> {
        let object_type = match self.current.kind {
            TokenKind::Word(word) if !is_reserved(word) => word.to_owned(),
            _ => return Err(self.expected("an object path such as ipv4-addr:value, '(' or EXISTS")),
        };
        self.advance()?;
        self.expect(&TokenKind::Colon, "':' after the object type")?;
        let mut steps = vec![PathStep::Key(self.key("a property name after ':'")?)];
        loop {
            match self.current.kind {
                TokenKind::Dot => {
                    self.advance()?;
                    steps.push(PathStep::Key(self.key("a property name after '.'")?));
                }
                TokenKind::LeftBracket => {
                    self.advance()?;
                    let step = match self.current.kind {
                        TokenKind::Star => PathStep::AnyIndex,
                        TokenKind::Int(index) => PathStep::Index(index),
                        _ => return Err(self.expected("a list index or '*'")),
                    };
                    self.advance()?;
                    self.expect(&TokenKind::RightBracket, "']' after the list index")?;
                    steps.push(step);
                }
                _ => return Ok(ObjectPath { object_type, steps }),
            }
        }
    }

    /// A path key: an identifier or a quoted string. Hyphens are accepted in bare keys
    /// (`hashes.SHA-256`), which the grammar does not allow but feeds write.
    fn key(&mut self, what: &str) -> Result<String, PatternError> {
        match self.current.kind {
            TokenKind::Word(word) => {
                self.advance()?;
                Ok(word.to_owned())
            }
            TokenKind::Str(_) => self.string(),
            _ => Err(self.expected(what)),
        }
    }
}

const OPERATORS: &str =
    "an operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)";

/// Words that cannot start an object path, so that `[AND …` reports what is wrong.
fn is_reserved(word: &str) -> bool {
    matches!(
        word,
        "AND"
            | "OR"
            | "NOT"
            | "FOLLOWEDBY"
            | "LIKE"
            | "MATCHES"
            | "ISSUPERSET"
            | "ISSUBSET"
            | "EXISTS"
            | "IN"
            | "START"
            | "STOP"
            | "SECONDS"
            | "WITHIN"
            | "REPEATS"
            | "TIMES"
            | "LAST"
            | "true"
            | "false"
    )
}
