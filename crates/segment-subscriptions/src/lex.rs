//! The lexer of `@segment/fql-ts` 1.10 (what `parseFql` runs first), rule for rule: it reads
//! UTF-16 code units, and its quirks are kept (an `accept` that meets the end of the input does
//! not give back what it read, a closing quote not followed by a terminator opens a new string).

use std::collections::VecDeque;

/// The kinds of token `fql-ts` produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Ident,
    Dot,
    Operator,
    Conditional,
    String,
    Number,
    Null,
    BrackLeft,
    BrackRight,
    ParenLeft,
    ParenRight,
    Comma,
    Eos,
}

/// A token: its kind and its text as `fql-ts` gives it (a string keeps its quotes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) value: String,
}

impl Token {
    fn new(kind: Kind, value: impl Into<String>) -> Self {
        Self {
            kind,
            value: value.into(),
        }
    }

    pub(crate) fn eos() -> Self {
        Self::new(Kind::Eos, "eos")
    }
}

/// Why `fql-ts` refused to lex a trigger (its own words). `parseFql` drops the reason and goes
/// on with no tokens, so Segment reports a `TypeError` instead (see
/// [`TriggerError::segment_message`](crate::TriggerError::segment_message)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexError {
    /// A character that starts no token (`*`, `~`, `\r`, any non-ASCII letter outside a string).
    #[error("invalid character \"{0}\"")]
    InvalidCharacter(String),
    /// A string with no closing quote.
    #[error("unterminated string")]
    UnterminatedString,
    /// A string of 100,000 code units or more.
    #[error("unreasonable string length")]
    StringTooLong,
    /// A number like `1.` followed by a space, `,`, `)` or `]`, or ending the trigger.
    #[error("unexpected terminator after decimal point")]
    TerminatorAfterDecimalPoint,
    /// A number like `1.2.3`.
    #[error("multiple decimal points in one number")]
    MultipleDecimalPoints,
    /// A number of 100,000 characters or more.
    #[error("unreasonable number length")]
    NumberTooLong,
    /// `!` not followed by a letter, `(`, or `=` and a terminator (`!="x"` without a space).
    #[error("expected '=' after '!', got '{0}'")]
    ExpectedEqualsAfterBang(String),
    /// A `\` at the very end.
    #[error("expected character after escape character, got EOS")]
    EscapeAtEnd,
    /// An identifier of 100,000 characters or more.
    #[error("unreasonable literal length")]
    IdentifierTooLong,
    /// An identifier followed by something other than a terminator, `.`, `(`, `=` or `!`
    /// (`properties.x>5`, `event"x"`).
    #[error("expected termination character after identifier, got {0}")]
    ExpectedTerminator(String),
}

const MAX_LENGTH: usize = 100_000;

/// A code unit, or `None` at the end of the input (`fql-ts`'s `EOS_FLAG`).
type Unit = Option<u16>;

fn is(c: Unit, ch: char) -> bool {
    c == Some(ch as u16)
}

fn is_alpha(c: Unit) -> bool {
    c.is_some_and(|c| u8::try_from(c).is_ok_and(|b| b.is_ascii_alphabetic()))
}

fn is_digit(c: Unit) -> bool {
    c.is_some_and(|c| u8::try_from(c).is_ok_and(|b| b.is_ascii_digit()))
}

fn is_whitespace(c: Unit) -> bool {
    is(c, ' ') || is(c, '\t') || is(c, '\n')
}

fn is_ident(c: Unit) -> bool {
    is_alpha(c) || is_digit(c) || is(c, '_') || is(c, '-') || is(c, '\\')
}

fn is_terminator(c: Unit) -> bool {
    c.is_none() || is_whitespace(c) || is(c, ',') || is(c, ']') || is(c, ')')
}

/// How `fql-ts` writes a unit in its messages (`-1` for the end).
fn show(c: Unit) -> String {
    match c {
        None => "-1".to_owned(),
        Some(u) => String::from_utf16_lossy(&[u]),
    }
}

struct Lexer<'a> {
    code: &'a [u16],
    position: usize,
}

/// The tokens of `code`, ending with an end-of-stream token, as `fql-ts`'s `lex` gives them.
pub(crate) fn lex(code: &str) -> Result<VecDeque<Token>, LexError> {
    let units: Vec<u16> = code.encode_utf16().collect();
    Lexer {
        code: &units,
        position: 0,
    }
    .lex()
}

impl Lexer<'_> {
    fn next(&mut self) -> Unit {
        let c = self.code.get(self.position).copied();
        if c.is_some() {
            self.position += 1;
        }
        c
    }

    fn peek(&self) -> Unit {
        self.code.get(self.position).copied()
    }

    fn backup(&mut self, count: usize) {
        self.position = self.position.saturating_sub(count);
    }

    /// `fql-ts`'s `accept`: reads `expected` and wants a terminator after it; on a mismatch it
    /// gives the read units back, but not when it met the end of the input.
    fn accept(&mut self, expected: &str) -> bool {
        let mut read: Vec<u16> = Vec::new();
        for _ in expected.chars() {
            let Some(c) = self.next() else {
                return false;
            };
            read.push(c);
            if is_terminator(Some(c)) {
                break;
            }
        }
        if read.iter().copied().eq(expected.encode_utf16()) && is_terminator(self.peek()) {
            return true;
        }
        self.backup(read.len());
        false
    }

    fn lex(mut self) -> Result<VecDeque<Token>, LexError> {
        let mut tokens = VecDeque::new();
        loop {
            let Some(u) = self.next() else {
                tokens.push_back(Token::eos());
                return Ok(tokens);
            };
            let c = Some(u);
            if is_whitespace(c) {
                continue;
            }
            if is(c, '!') {
                let next = self.peek();
                if is_alpha(next) || is(next, '(') {
                    tokens.push_back(Token::new(Kind::Operator, "!"));
                    continue;
                }
            }
            if is_alpha(c) || ['!', '=', '>', '<', '\\', '_'].iter().any(|&ch| is(c, ch)) {
                let token = self.operator_or_conditional(u)?;
                tokens.push_back(token);
                continue;
            }
            if is_digit(c) || is(c, '-') || is(c, '+') {
                let token = self.number(u)?;
                tokens.push_back(token);
                continue;
            }
            if is(c, '"') || is(c, '\'') {
                let token = self.string(u)?;
                tokens.push_back(token);
                continue;
            }
            let kind = match char::from_u32(u32::from(u)) {
                Some('.') => Kind::Dot,
                Some('[') => Kind::BrackLeft,
                Some(']') => Kind::BrackRight,
                Some(',') => Kind::Comma,
                Some('(') => Kind::ParenLeft,
                Some(')') => Kind::ParenRight,
                _ => return Err(LexError::InvalidCharacter(show(c))),
            };
            tokens.push_back(Token::new(kind, show(c)));
        }
    }

    fn string(&mut self, quote: u16) -> Result<Token, LexError> {
        let mut text = vec![quote];
        while self.peek() != Some(quote) {
            let Some(c) = self.next() else {
                return Err(LexError::UnterminatedString);
            };
            text.push(c);
            if text.len() > MAX_LENGTH {
                return Err(LexError::StringTooLong);
            }
        }
        // (`text` holds the opening quote: `text.len() > MAX` is `fql-ts`'s `str.length >= MAX`.)
        // Its result is ignored: a closing quote that no terminator follows is read again as
        // the opening quote of the next string.
        self.accept(&String::from_utf16_lossy(&[quote]));
        text.push(quote);
        Ok(Token::new(Kind::String, String::from_utf16_lossy(&text)))
    }

    fn number(&mut self, first: u16) -> Result<Token, LexError> {
        let mut text = vec![first];
        let mut coming_up = self.peek();
        let mut is_decimal = false;
        while is_digit(coming_up) || is(coming_up, '.') {
            if let Some(c) = self.next() {
                text.push(c);
            }
            if is(coming_up, '.') {
                if is_terminator(self.peek()) {
                    return Err(LexError::TerminatorAfterDecimalPoint);
                }
                if is_decimal {
                    return Err(LexError::MultipleDecimalPoints);
                }
                is_decimal = true;
            }
            if text.len() > MAX_LENGTH {
                return Err(LexError::NumberTooLong);
            }
            coming_up = self.peek();
        }
        Ok(Token::new(Kind::Number, String::from_utf16_lossy(&text)))
    }

    fn operator_or_conditional(&mut self, previous: u16) -> Result<Token, LexError> {
        let p = Some(previous);
        if is(p, '=') {
            return Ok(Token::new(Kind::Operator, "="));
        }
        if is(p, '!') {
            if self.accept("=") {
                return Ok(Token::new(Kind::Operator, "!="));
            }
            return Err(LexError::ExpectedEqualsAfterBang(show(self.peek())));
        }
        if is(p, 'a') {
            if self.accept("nd") {
                return Ok(Token::new(Kind::Conditional, "and"));
            }
            return self.ident(previous);
        }
        if is(p, 'o') {
            if self.accept("r") {
                return Ok(Token::new(Kind::Conditional, "or"));
            }
            return self.ident(previous);
        }
        if is(p, 'n') {
            if self.accept("ull") {
                return Ok(Token::new(Kind::Null, "null"));
            }
            return self.ident(previous);
        }
        if is(p, '<') || is(p, '>') {
            let op = if is(p, '<') { "<" } else { ">" };
            if self.accept("=") {
                return Ok(Token::new(Kind::Operator, format!("{op}=")));
            }
            return Ok(Token::new(Kind::Operator, op));
        }
        self.ident(previous)
    }

    fn ident(&mut self, previous: u16) -> Result<Token, LexError> {
        let mut text: Vec<u16> = Vec::new();
        let mut c = previous;
        loop {
            // A backslash escapes any one code unit.
            if is(Some(c), '\\') {
                match self.next() {
                    Some(escaped) => c = escaped,
                    None => return Err(LexError::EscapeAtEnd),
                }
            }
            text.push(c);
            if text.len() >= MAX_LENGTH {
                return Err(LexError::IdentifierTooLong);
            }
            if !is_ident(self.peek()) {
                break;
            }
            match self.next() {
                Some(next) => c = next,
                None => break,
            }
        }
        let coming_up = self.peek();
        if !(is_terminator(coming_up)
            || is(coming_up, '.')
            || is(coming_up, '(')
            || is(coming_up, '=')
            || is(coming_up, '!'))
        {
            return Err(LexError::ExpectedTerminator(show(coming_up)));
        }
        Ok(Token::new(Kind::Ident, String::from_utf16_lossy(&text)))
    }
}

/// `parseFql`'s `normalize`: `ident . ident` becomes one identifier `a.b`.
pub(crate) fn normalize(tokens: VecDeque<Token>) -> VecDeque<Token> {
    let tokens: Vec<Token> = tokens.into();
    let mut out: VecDeque<Token> = VecDeque::with_capacity(tokens.len());
    let mut i = 0;
    while let Some(current) = tokens.get(i) {
        let last_is_ident = out.back().is_some_and(|t| t.kind == Kind::Ident);
        let next_is_ident = tokens.get(i + 1).is_some_and(|t| t.kind == Kind::Ident);
        if last_is_ident && current.kind == Kind::Dot && next_is_ident {
            if let (Some(last), Some(next)) = (out.back_mut(), tokens.get(i + 1)) {
                last.value = format!("{}.{}", last.value, next.value);
            }
            i += 2;
        } else {
            out.push_back(current.clone());
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds_and_values(code: &str) -> Vec<(Kind, String)> {
        lex(code).map_or_else(
            |e| vec![(Kind::Eos, format!("error: {e}"))],
            |t| t.into_iter().map(|t| (t.kind, t.value)).collect(),
        )
    }

    #[test]
    fn an_accept_that_meets_the_end_loses_what_it_read() {
        // "an": `accept("nd")` reads "n", meets the end and does not back up.
        assert_eq!(
            kinds_and_values("an"),
            vec![(Kind::Ident, "a".to_owned()), (Kind::Eos, "eos".to_owned())]
        );
    }

    #[test]
    fn a_closing_quote_without_a_terminator_opens_the_next_string() {
        let values: Vec<String> = kinds_and_values(r#""a""b""#)
            .into_iter()
            .map(|t| t.1)
            .collect();
        assert_eq!(values, [r#""a""#, r#""""#, r#""b""#, "eos"]);
    }

    #[test]
    fn bang_equals_needs_a_terminator_after_it() {
        assert_eq!(
            lex(r#"userId !="x""#).err(),
            Some(LexError::ExpectedEqualsAfterBang("=".to_owned()))
        );
        assert!(lex(r#"userId != "x""#).is_ok());
    }

    #[test]
    fn normalize_joins_dotted_identifiers() {
        let tokens = normalize(lex("properties.a.b = 1").unwrap_or_default());
        assert_eq!(tokens[0].value, "properties.a.b");
    }
}
