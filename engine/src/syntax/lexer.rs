//! The scanner: source text to tokens with byte spans. Every malformed input (bad character,
//! unterminated string or comment, bad escape, out-of-range literal) is a `SyntaxError`.
//!
//! The scanner streams: the parser pulls one token at a time (`Lexer::next_token`) and keeps
//! only its two tokens of lookahead, so no token sequence of the whole source ever exists (it
//! took 27 bytes of memory per byte of source).

use rustc_hash::FxHashMap;

use crate::error::ErrorKind;
use crate::source::Span;
use crate::source::{CompileError, compile_error};
use crate::syntax::ast::Name;

/// A token kind (with its literal value, for literals and identifiers).
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// Integer literal. Stored unsigned so that `-9223372036854775808` can be parsed.
    Int(u64),
    /// Float literal.
    Float(f64),
    /// String literal, escapes already processed.
    Str(Box<str>),
    /// Identifier (interned: every occurrence of a name shares its text).
    Ident(Name),
    /// `let`
    Let,
    /// `fn`
    Fn,
    /// `class`
    Class,
    /// `if`
    If,
    /// `else`
    Else,
    /// `while`
    While,
    /// `for`
    For,
    /// `in`
    In,
    /// `break`
    Break,
    /// `continue`
    Continue,
    /// `return`
    Return,
    /// `true`
    True,
    /// `false`
    False,
    /// `nil`
    Nil,
    /// `self`
    SelfKw,
    /// `super`
    Super,
    /// `try`
    Try,
    /// `catch`
    Catch,
    /// `throw`
    Throw,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// `;`
    Semi,
    /// `:`
    Colon,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `!`
    Bang,
    /// `=`
    Assign,
    /// `==`
    EqEq,
    /// `!=`
    BangEq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
    /// `+=`
    PlusAssign,
    /// `-=`
    MinusAssign,
    /// `*=`
    StarAssign,
    /// `/=`
    SlashAssign,
    /// `%=`
    PercentAssign,
    /// End of input.
    Eof,
}

impl Tok {
    /// How the token is named in error messages.
    pub fn describe(&self) -> String {
        match self {
            Tok::Int(n) => format!("integer {n}"),
            Tok::Float(_) => "float literal".to_string(),
            Tok::Str(_) => "string literal".to_string(),
            Tok::Ident(name) => format!("identifier '{name}'"),
            Tok::Eof => "end of input".to_string(),
            other => format!("'{}'", other.text()),
        }
    }

    /// The source text of a keyword or punctuation token.
    pub fn text(&self) -> &'static str {
        match self {
            Tok::Let => "let",
            Tok::Fn => "fn",
            Tok::Class => "class",
            Tok::If => "if",
            Tok::Else => "else",
            Tok::While => "while",
            Tok::For => "for",
            Tok::In => "in",
            Tok::Break => "break",
            Tok::Continue => "continue",
            Tok::Return => "return",
            Tok::True => "true",
            Tok::False => "false",
            Tok::Nil => "nil",
            Tok::SelfKw => "self",
            Tok::Super => "super",
            Tok::Try => "try",
            Tok::Catch => "catch",
            Tok::Throw => "throw",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Dot => ".",
            Tok::DotDot => "..",
            Tok::Semi => ";",
            Tok::Colon => ":",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Bang => "!",
            Tok::Assign => "=",
            Tok::EqEq => "==",
            Tok::BangEq => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            Tok::PlusAssign => "+=",
            Tok::MinusAssign => "-=",
            Tok::StarAssign => "*=",
            Tok::SlashAssign => "/=",
            Tok::PercentAssign => "%=",
            Tok::Int(_) | Tok::Float(_) | Tok::Str(_) | Tok::Ident(_) | Tok::Eof => "",
        }
    }
}

/// Every reserved word, in source spelling.
pub const KEYWORDS: &[&str] = &[
    "let", "fn", "class", "if", "else", "while", "for", "in", "break", "continue", "return",
    "true", "false", "nil", "self", "super", "try", "catch", "throw",
];

fn keyword(word: &str) -> Option<Tok> {
    Some(match word {
        "let" => Tok::Let,
        "fn" => Tok::Fn,
        "class" => Tok::Class,
        "if" => Tok::If,
        "else" => Tok::Else,
        "while" => Tok::While,
        "for" => Tok::For,
        "in" => Tok::In,
        "break" => Tok::Break,
        "continue" => Tok::Continue,
        "return" => Tok::Return,
        "true" => Tok::True,
        "false" => Tok::False,
        "nil" => Tok::Nil,
        "self" => Tok::SelfKw,
        "super" => Tok::Super,
        "try" => Tok::Try,
        "catch" => Tok::Catch,
        "throw" => Tok::Throw,
        _ => return None,
    })
}

/// A token and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub tok: Tok,
    /// Where it is.
    pub span: Span,
}

/// The scanner over one source text: yields its tokens in order, ending with [`Tok::Eof`]
/// (repeated if asked again).
pub struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    /// The names met so far, so that each is allocated once.
    names: FxHashMap<&'a str, Name>,
}

impl<'a> Lexer<'a> {
    /// A scanner at the start of `src`.
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            names: FxHashMap::default(),
        }
    }

    /// The next token, or the error of the malformed one.
    pub fn next_token(&mut self) -> Result<Token, CompileError> {
        self.skip_trivia()?;
        let start = self.pos;
        let Some(&b) = self.bytes.get(self.pos) else {
            return Ok(Token {
                tok: Tok::Eof,
                span: Span::new(start, start),
            });
        };
        let tok = self.token(b)?;
        Ok(Token {
            tok,
            span: Span::new(start, self.pos),
        })
    }

    /// The shared name with the text `text`.
    pub fn name(&mut self, text: &'a str) -> Name {
        self.names
            .entry(text)
            .or_insert_with(|| Name::new(text))
            .clone()
    }

    /// Scans the rest of the source for a malformed token, and returns the first one's error.
    pub fn first_error_in_rest(&mut self) -> Option<CompileError> {
        loop {
            match self.next_token() {
                Ok(Token { tok: Tok::Eof, .. }) => return None,
                Ok(_) => {}
                Err(e) => return Some(e),
            }
        }
    }
}

/// Splits `src` into tokens, ending with [`Tok::Eof`] (for tests: the parser streams).
#[cfg(test)]
fn lex(src: &str) -> Result<Vec<Token>, CompileError> {
    let mut lx = Lexer::new(src);
    let mut out = Vec::new();
    loop {
        let t = lx.next_token()?;
        let end = t.tok == Tok::Eof;
        out.push(t);
        if end {
            return Ok(out);
        }
    }
}

impl<'a> Lexer<'a> {
    fn peek_at(&self, off: usize) -> u8 {
        self.bytes.get(self.pos + off).copied().unwrap_or(0)
    }

    fn err(&self, start: usize, end: usize, msg: impl Into<String>) -> CompileError {
        compile_error(ErrorKind::SyntaxError, msg, Span::new(start, end))
    }

    fn skip_trivia(&mut self) -> Result<(), CompileError> {
        loop {
            match self.peek_at(0) {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'/' if self.peek_at(1) == b'/' => {
                    while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                b'/' if self.peek_at(1) == b'*' => {
                    let start = self.pos;
                    self.pos += 2;
                    loop {
                        if self.pos >= self.bytes.len() {
                            return Err(self.err(start, start + 2, "unterminated block comment"));
                        }
                        if self.bytes[self.pos] == b'*' && self.peek_at(1) == b'/' {
                            self.pos += 2;
                            break;
                        }
                        self.pos += 1;
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn token(&mut self, b: u8) -> Result<Tok, CompileError> {
        let start = self.pos;
        if b.is_ascii_digit() {
            return self.number();
        }
        if b.is_ascii_alphabetic() || b == b'_' {
            while self.peek_at(0).is_ascii_alphanumeric() || self.peek_at(0) == b'_' {
                self.pos += 1;
            }
            let word: &'a str = &self.src[start..self.pos];
            if let Some(k) = keyword(word) {
                return Ok(k);
            }
            return Ok(Tok::Ident(self.name(word)));
        }
        if b == b'"' {
            return self.string();
        }
        let (tok, len) = match (b, self.peek_at(1)) {
            (b'.', b'.') => (Tok::DotDot, 2),
            (b'=', b'=') => (Tok::EqEq, 2),
            (b'!', b'=') => (Tok::BangEq, 2),
            (b'<', b'=') => (Tok::Le, 2),
            (b'>', b'=') => (Tok::Ge, 2),
            (b'&', b'&') => (Tok::AndAnd, 2),
            (b'|', b'|') => (Tok::OrOr, 2),
            (b'+', b'=') => (Tok::PlusAssign, 2),
            (b'-', b'=') => (Tok::MinusAssign, 2),
            (b'*', b'=') => (Tok::StarAssign, 2),
            (b'/', b'=') => (Tok::SlashAssign, 2),
            (b'%', b'=') => (Tok::PercentAssign, 2),
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b'{', _) => (Tok::LBrace, 1),
            (b'}', _) => (Tok::RBrace, 1),
            (b'[', _) => (Tok::LBracket, 1),
            (b']', _) => (Tok::RBracket, 1),
            (b',', _) => (Tok::Comma, 1),
            (b'.', _) => (Tok::Dot, 1),
            (b';', _) => (Tok::Semi, 1),
            (b':', _) => (Tok::Colon, 1),
            (b'+', _) => (Tok::Plus, 1),
            (b'-', _) => (Tok::Minus, 1),
            (b'*', _) => (Tok::Star, 1),
            (b'/', _) => (Tok::Slash, 1),
            (b'%', _) => (Tok::Percent, 1),
            (b'!', _) => (Tok::Bang, 1),
            (b'=', _) => (Tok::Assign, 1),
            (b'<', _) => (Tok::Lt, 1),
            (b'>', _) => (Tok::Gt, 1),
            _ => {
                let ch = self.src[start..].chars().next().unwrap_or('\0');
                return Err(self.err(
                    start,
                    start + ch.len_utf8(),
                    format!("unexpected character {}", describe_char(ch)),
                ));
            }
        };
        self.pos += len;
        Ok(tok)
    }

    fn number(&mut self) -> Result<Tok, CompileError> {
        let start = self.pos;
        if self.peek_at(0) == b'0' && matches!(self.peek_at(1), b'x' | b'X') {
            self.pos += 2;
            let digits_start = self.pos;
            while self.peek_at(0).is_ascii_hexdigit() {
                self.pos += 1;
            }
            if self.pos == digits_start {
                return Err(self.err(start, self.pos, "hexadecimal literal has no digits"));
            }
            self.reject_ident_tail(start)?;
            return u64::from_str_radix(&self.src[digits_start..self.pos], 16)
                .ok()
                .filter(|n| *n <= i64::MAX as u64 + 1)
                .map(Tok::Int)
                .ok_or_else(|| self.err(start, self.pos, "integer literal is too large"));
        }
        while self.peek_at(0).is_ascii_digit() {
            self.pos += 1;
        }
        let mut is_float = false;
        if self.peek_at(0) == b'.' && self.peek_at(1).is_ascii_digit() {
            is_float = true;
            self.pos += 1;
            while self.peek_at(0).is_ascii_digit() {
                self.pos += 1;
            }
        }
        if matches!(self.peek_at(0), b'e' | b'E') {
            let sign = usize::from(matches!(self.peek_at(1), b'+' | b'-'));
            if self.peek_at(1 + sign).is_ascii_digit() {
                is_float = true;
                self.pos += 1 + sign;
                while self.peek_at(0).is_ascii_digit() {
                    self.pos += 1;
                }
            }
        }
        self.reject_ident_tail(start)?;
        let text = &self.src[start..self.pos];
        if is_float {
            let f: f64 = text
                .parse()
                .map_err(|_| self.err(start, self.pos, "malformed float literal"))?;
            if f.is_infinite() {
                return Err(self.err(start, self.pos, "float literal is too large"));
            }
            Ok(Tok::Float(f))
        } else {
            text.parse::<u64>()
                .ok()
                .filter(|n| *n <= i64::MAX as u64 + 1)
                .map(Tok::Int)
                .ok_or_else(|| self.err(start, self.pos, "integer literal is too large"))
        }
    }

    /// `123abc` is one malformed token, not a number followed by a name.
    fn reject_ident_tail(&mut self, start: usize) -> Result<(), CompileError> {
        if self.peek_at(0).is_ascii_alphanumeric() || self.peek_at(0) == b'_' {
            while self.peek_at(0).is_ascii_alphanumeric() || self.peek_at(0) == b'_' {
                self.pos += 1;
            }
            return Err(self.err(start, self.pos, "malformed number literal"));
        }
        Ok(())
    }

    fn string(&mut self) -> Result<Tok, CompileError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(ch) = self.src[self.pos..].chars().next() else {
                return Err(self.err(start, start + 1, "unterminated string literal"));
            };
            match ch {
                '"' => {
                    self.pos += 1;
                    return Ok(Tok::Str(out.into_boxed_str()));
                }
                '\\' => {
                    let esc_start = self.pos;
                    self.pos += 1;
                    let Some(e) = self.src[self.pos..].chars().next() else {
                        return Err(self.err(start, start + 1, "unterminated string literal"));
                    };
                    self.pos += e.len_utf8();
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        '\\' => out.push('\\'),
                        '"' => out.push('"'),
                        'u' => out.push(self.unicode_escape(esc_start)?),
                        other => {
                            let shown = if other.is_control() || other.is_whitespace() {
                                format!("\\ followed by {}", describe_char(other))
                            } else {
                                format!("'\\{other}'")
                            };
                            return Err(self.err(
                                esc_start,
                                self.pos,
                                format!("unknown escape sequence {shown}"),
                            ));
                        }
                    }
                }
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// `\u{XXXX}`: 1 to 6 hex digits naming a Unicode scalar value.
    fn unicode_escape(&mut self, esc_start: usize) -> Result<char, CompileError> {
        let bad = |lx: &Lexer| {
            lx.err(
                esc_start,
                lx.pos,
                "malformed unicode escape (expected \\u{XXXX})",
            )
        };
        if self.peek_at(0) != b'{' {
            return Err(bad(self));
        }
        self.pos += 1;
        let digits_start = self.pos;
        while self.peek_at(0).is_ascii_hexdigit() {
            self.pos += 1;
        }
        let digits = &self.src[digits_start..self.pos];
        if digits.is_empty() || digits.len() > 6 || self.peek_at(0) != b'}' {
            return Err(bad(self));
        }
        self.pos += 1;
        let code = u32::from_str_radix(digits, 16).map_err(|_| bad(self))?;
        char::from_u32(code).ok_or_else(|| {
            self.err(
                esc_start,
                self.pos,
                format!("invalid unicode scalar value {code:#x} in escape"),
            )
        })
    }
}

fn describe_char(ch: char) -> String {
    // Characters that print as nothing are named by code point.
    let invisible = ch.is_control()
        || ch.is_whitespace()
        || matches!(ch, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}');
    match ch {
        '\u{feff}' => "U+FEFF (a byte order mark)".to_string(),
        _ if invisible => format!("U+{:04X}", ch as u32),
        _ => format!("'{ch}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    fn err(src: &str) -> String {
        lex(src).unwrap_err().message
    }

    #[test]
    fn scans_numbers_ranges_and_operators() {
        assert_eq!(
            toks("1..5"),
            vec![Tok::Int(1), Tok::DotDot, Tok::Int(5), Tok::Eof]
        );
        assert_eq!(
            toks("1.5e3 0x1f 2e-2"),
            vec![Tok::Float(1500.0), Tok::Int(31), Tok::Float(0.02), Tok::Eof]
        );
        assert_eq!(
            toks("a+=b<=c"),
            vec![
                Tok::Ident("a".into()),
                Tok::PlusAssign,
                Tok::Ident("b".into()),
                Tok::Le,
                Tok::Ident("c".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("9223372036854775808"),
            vec![Tok::Int(9223372036854775808), Tok::Eof]
        );
    }

    #[test]
    fn scans_strings_with_escapes() {
        assert_eq!(
            toks(r#""a\n\"\u{48}é""#),
            vec![Tok::Str("a\n\"Hé".into()), Tok::Eof]
        );
    }

    #[test]
    fn reports_malformed_input() {
        assert_eq!(err("\"abc"), "unterminated string literal");
        assert_eq!(err("/* abc"), "unterminated block comment");
        assert_eq!(err("\"\\q\""), "unknown escape sequence '\\q'");
        assert_eq!(err("9223372036854775809"), "integer literal is too large");
        assert_eq!(err("12ab"), "malformed number literal");
        assert_eq!(err("a # b"), "unexpected character '#'");
        assert_eq!(
            err("\u{feff}print(1);"),
            "unexpected character U+FEFF (a byte order mark)"
        );
        assert_eq!(err("a\u{200b}b"), "unexpected character U+200B");
        assert_eq!(
            err("\"\\u{110000}\""),
            "invalid unicode scalar value 0x110000 in escape"
        );
    }
}
