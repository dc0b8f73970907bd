//! Recursive-descent parser: tokens to the syntax tree. Nesting (parentheses, blocks, unary
//! operators, postfix chains) is counted and limited, so no input can exhaust the host stack.

use crate::error::ErrorKind;
use crate::source::{CompileError, Span, compile_error, with_stack};
use crate::syntax::ast::*;
use crate::syntax::lexer::{Lexer, Tok, Token};

/// Name of anonymous function literals in traces and disassembly.
pub const ANON_FN_NAME: &str = "<anonymous>";

/// Parses a whole program. `max_depth` bounds syntactic nesting.
///
/// A malformed token anywhere in `src` is the error reported, even when a syntax error comes
/// before it: the scanner's errors come first, as they did when the whole source was scanned
/// before parsing, so every input keeps the error (message, line, column) it always had.
pub fn parse(src: &str, max_depth: u32) -> Result<Script, CompileError> {
    let mut lexer = Lexer::new(src);
    let first = next_or_eof(&mut lexer, src.len());
    let (cur, next, lex_error) = match first {
        Ok(cur) => match next_or_eof(&mut lexer, src.len()) {
            Ok(next) => (cur, next, None),
            Err((e, eof)) => (cur, eof, Some(e)),
        },
        Err((e, eof)) => (eof.clone(), eof, Some(e)),
    };
    let mut p = Parser {
        lexer,
        end: src.len(),
        cur,
        next,
        prev: None,
        lex_error,
        depth: 0,
        max_depth,
        next_binding: 0,
    };
    let result = p.script();
    if let Some(e) = p.lex_error.take() {
        return Err(e);
    }
    match result {
        Ok(script) => Ok(script),
        Err(e) => Err(p.lexer.first_error_in_rest().unwrap_or(e)),
    }
}

/// The next token; on a malformed one, its error and an end-of-input token to stand in.
fn next_or_eof(lexer: &mut Lexer, end: usize) -> Result<Token, (CompileError, Token)> {
    lexer.next_token().map_err(|e| {
        let eof = Token {
            tok: Tok::Eof,
            span: Span::new(end, end),
        };
        (e, eof)
    })
}

/// The parser's state: the current token and one token of lookahead (all the grammar needs),
/// pulled from the scanner as the parse advances.
struct Parser<'a> {
    lexer: Lexer<'a>,
    /// Length of the source (where the end-of-input token is).
    end: usize,
    /// The current token.
    cur: Token,
    /// The token after it.
    next: Token,
    /// The span of the token before `cur` (`None` at the first token).
    prev: Option<Span>,
    /// The scanner's error, once it met a malformed token (from then on it yields only
    /// end of input); it is reported whatever the parse does.
    lex_error: Option<CompileError>,
    depth: u32,
    max_depth: u32,
    next_binding: u32,
}

type PResult<T> = Result<T, CompileError>;

/// Appends `item`, growing `v` by half its length when it is full rather than doubling it:
/// the parser's vectors live until the program is compiled, and the largest (a program's
/// statements, a long chain of operators) would otherwise take up to twice the room they
/// need at their peak. Vectors the tree keeps are trimmed to their length when complete.
fn push_compact<T>(v: &mut Vec<T>, item: T) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 2).max(1));
    }
    v.push(item);
}

impl Parser<'_> {
    fn script(&mut self) -> PResult<Script> {
        let mut stmts = Vec::new();
        while !self.at(&Tok::Eof) {
            push_compact(&mut stmts, self.statement(true)?);
        }
        stmts.shrink_to_fit();
        Ok(Script {
            stmts,
            binding_count: self.next_binding,
        })
    }

    fn peek(&self) -> &Tok {
        &self.cur.tok
    }

    /// The token `n` places ahead (0 or 1); past the end, end of input.
    fn peek_at(&self, n: usize) -> &Tok {
        match n {
            0 => &self.cur.tok,
            _ => &self.next.tok,
        }
    }

    fn span(&self) -> Span {
        self.cur.span
    }

    fn prev_span(&self) -> Span {
        self.prev.unwrap_or(self.cur.span)
    }

    /// Consumes the current token and returns it; at end of input, stays there.
    fn advance(&mut self) -> Token {
        if self.cur.tok == Tok::Eof {
            return self.cur.clone();
        }
        let following = if self.next.tok == Tok::Eof {
            self.next.clone()
        } else if self.lex_error.is_some() {
            Token {
                tok: Tok::Eof,
                span: Span::new(self.end, self.end),
            }
        } else {
            match next_or_eof(&mut self.lexer, self.end) {
                Ok(t) => t,
                Err((e, eof)) => {
                    self.lex_error = Some(e);
                    eof
                }
            }
        };
        let next = std::mem::replace(&mut self.next, following);
        let t = std::mem::replace(&mut self.cur, next);
        self.prev = Some(t.span);
        t
    }

    fn at(&self, t: &Tok) -> bool {
        self.peek() == t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.at(t) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn error<T>(&self, msg: String) -> PResult<T> {
        Err(compile_error(ErrorKind::SyntaxError, msg, self.span()))
    }

    fn expect(&mut self, t: &Tok, context: &str) -> PResult<Span> {
        if self.at(t) {
            Ok(self.advance().span)
        } else {
            self.error(format!(
                "expected '{}' {context}, found {}",
                t.text(),
                self.peek().describe()
            ))
        }
    }

    fn ident(&mut self, what: &str) -> PResult<Ident> {
        match self.peek().clone() {
            Tok::Ident(name) => {
                let span = self.advance().span;
                Ok(Ident { name, span })
            }
            other => self.error(format!("expected {what}, found {}", other.describe())),
        }
    }

    fn binding(&mut self, what: &str) -> PResult<Binding> {
        let ident = self.ident(what)?;
        Ok(self.new_binding(ident))
    }

    fn new_binding(&mut self, ident: Ident) -> Binding {
        let id = BindingId(self.next_binding);
        self.next_binding += 1;
        Binding { ident, id }
    }

    /// Enters one nesting level for the construct at the current token; fails past the
    /// limit.
    fn enter(&mut self) -> PResult<()> {
        self.enter_at(self.span())
    }

    /// Enters one nesting level for the construct at `at` (the error points there); fails
    /// past the limit.
    fn enter_at(&mut self, at: Span) -> PResult<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(compile_error(
                ErrorKind::NestingLimit,
                format!("nesting too deep (limit {})", self.max_depth),
                at,
            ));
        }
        Ok(())
    }

    fn leave(&mut self, levels: u32) {
        self.depth -= levels;
    }

    // ----- statements -----

    fn statement(&mut self, top_level: bool) -> PResult<Stmt> {
        let start = self.span();
        let kind = match self.peek() {
            Tok::Let => {
                self.advance();
                let binding = self.binding("a variable name after 'let'")?;
                let init = if self.eat(&Tok::Assign) {
                    Some(self.expr()?)
                } else {
                    None
                };
                self.expect(&Tok::Semi, "after variable declaration")?;
                StmtKind::Let(Box::new(Let { binding, init }))
            }
            Tok::Fn if matches!(self.peek_at(1), Tok::Ident(_)) => {
                self.advance();
                let name = self.ident("a function name")?;
                let binding = self.new_binding(name.clone());
                let decl = self.function(name, start, false)?;
                StmtKind::Fn {
                    binding,
                    decl: Box::new(decl),
                }
            }
            Tok::Class => {
                if !top_level {
                    return self
                        .error("class declarations are only allowed at the top level".into());
                }
                StmtKind::Class(Box::new(self.class_decl()?))
            }
            Tok::If => return self.if_stmt(),
            Tok::While => {
                self.advance();
                let cond = self.expr()?;
                let body = self.block("after 'while' condition")?;
                StmtKind::While(Box::new(While { cond, body }))
            }
            Tok::For => {
                self.advance();
                let var = self.binding("a loop variable after 'for'")?;
                self.expect(&Tok::In, "after loop variable")?;
                let first = self.expr()?;
                if self.eat(&Tok::DotDot) {
                    let end = self.expr()?;
                    let body = self.block("after 'for' range")?;
                    StmtKind::ForRange(Box::new(ForRange {
                        var,
                        start: first,
                        end,
                        body,
                    }))
                } else {
                    let body = self.block("after 'for' iterable")?;
                    StmtKind::ForIn(Box::new(ForIn {
                        var,
                        iter: first,
                        body,
                    }))
                }
            }
            Tok::Break => {
                self.advance();
                self.expect(&Tok::Semi, "after 'break'")?;
                StmtKind::Break
            }
            Tok::Continue => {
                self.advance();
                self.expect(&Tok::Semi, "after 'continue'")?;
                StmtKind::Continue
            }
            Tok::Return => {
                self.advance();
                let value = if self.at(&Tok::Semi) {
                    None
                } else {
                    Some(self.expr()?)
                };
                self.expect(&Tok::Semi, "after return value")?;
                StmtKind::Return(value)
            }
            Tok::Throw => {
                self.advance();
                let value = self.expr()?;
                self.expect(&Tok::Semi, "after thrown value")?;
                StmtKind::Throw(value)
            }
            Tok::Try => {
                self.advance();
                let body = self.block("after 'try'")?;
                self.expect(&Tok::Catch, "after 'try' block")?;
                let var = self.binding("a variable name after 'catch'")?;
                let handler = self.block("after 'catch' variable")?;
                StmtKind::Try(Box::new(Try { body, var, handler }))
            }
            Tok::LBrace => StmtKind::Block(self.block("")?),
            _ => {
                let e = self.expr()?;
                self.expect(&Tok::Semi, "after expression")?;
                StmtKind::Expr(e)
            }
        };
        Ok(Stmt {
            kind,
            span: start.to(self.prev_span()),
        })
    }

    /// `if` with its whole `else if` chain, parsed in a loop (so a chain of any length is
    /// not nesting).
    fn if_stmt(&mut self) -> PResult<Stmt> {
        let start = self.expect(&Tok::If, "")?;
        let mut branches = Vec::new();
        let mut els = None;
        loop {
            let cond = self.expr()?;
            let then = self.block("after 'if' condition")?;
            push_compact(&mut branches, (cond, then));
            if !self.eat(&Tok::Else) {
                break;
            }
            if !self.eat(&Tok::If) {
                els = Some(self.block("after 'else'")?);
                break;
            }
        }
        branches.shrink_to_fit();
        Ok(Stmt {
            kind: StmtKind::If(Box::new(If { branches, els })),
            span: start.to(self.prev_span()),
        })
    }

    fn block(&mut self, context: &str) -> PResult<Block> {
        let start = self.span();
        if !self.at(&Tok::LBrace) {
            let ctx = if context.is_empty() {
                String::new()
            } else {
                format!(" {context}")
            };
            return self.error(format!(
                "expected '{{'{ctx}, found {}",
                self.peek().describe()
            ));
        }
        self.advance();
        self.enter_at(start)?;
        let mut stmts = Vec::new();
        while !self.at(&Tok::RBrace) {
            if self.at(&Tok::Eof) {
                return Err(compile_error(
                    ErrorKind::SyntaxError,
                    "unclosed '{': expected '}'",
                    start,
                ));
            }
            push_compact(&mut stmts, with_stack(|| self.statement(false))?);
        }
        stmts.shrink_to_fit();
        self.advance();
        self.leave(1);
        Ok(Block {
            stmts,
            span: start.to(self.prev_span()),
        })
    }

    fn params(&mut self) -> PResult<Vec<Binding>> {
        self.expect(&Tok::LParen, "before parameters")?;
        let mut params = Vec::new();
        if !self.at(&Tok::RParen) {
            loop {
                push_compact(&mut params, self.binding("a parameter name")?);
                if !self.eat(&Tok::Comma) || self.at(&Tok::RParen) {
                    break;
                }
            }
        }
        self.expect(&Tok::RParen, "after parameters")?;
        params.shrink_to_fit();
        Ok(params)
    }

    fn function(&mut self, name: Ident, start: Span, method: bool) -> PResult<FnDecl> {
        let params = self.params()?;
        let self_binding = method.then(|| {
            let ident = Ident {
                name: self.lexer.name("self"),
                span: name.span,
            };
            self.new_binding(ident)
        });
        let body = self.block("before function body")?;
        Ok(FnDecl {
            name,
            params,
            body,
            self_binding,
            captures: Vec::new(),
            span: start.to(self.prev_span()),
        })
    }

    fn class_decl(&mut self) -> PResult<ClassDecl> {
        let start = self.expect(&Tok::Class, "")?;
        let name = self.ident("a class name")?;
        let superclass = if self.eat(&Tok::Colon) {
            Some(self.ident("a superclass name after ':'")?)
        } else {
            None
        };
        self.expect(&Tok::LBrace, "before class body")?;
        let mut methods: Vec<FnDecl> = Vec::new();
        while !self.at(&Tok::RBrace) {
            if self.at(&Tok::Eof) {
                return Err(compile_error(
                    ErrorKind::SyntaxError,
                    "unclosed class body: expected '}'",
                    start,
                ));
            }
            let mstart = self.expect(&Tok::Fn, "(class bodies hold only methods)")?;
            let mname = self.ident("a method name")?;
            push_compact(&mut methods, self.function(mname, mstart, true)?);
        }
        self.advance();
        methods.shrink_to_fit();
        Ok(ClassDecl {
            name,
            superclass,
            methods,
            span: start.to(self.prev_span()),
        })
    }

    // ----- expressions -----

    fn expr(&mut self) -> PResult<Expr> {
        with_stack(|| self.assignment())
    }

    fn assignment(&mut self) -> PResult<Expr> {
        let target = self.binary(0)?;
        let op = match self.peek() {
            Tok::Assign => None,
            Tok::PlusAssign => Some(BinOp::Add),
            Tok::MinusAssign => Some(BinOp::Sub),
            Tok::StarAssign => Some(BinOp::Mul),
            Tok::SlashAssign => Some(BinOp::Div),
            Tok::PercentAssign => Some(BinOp::Mod),
            _ => return Ok(target),
        };
        let op_span = self.advance().span;
        if !matches!(
            target.kind,
            ExprKind::Name { .. } | ExprKind::Get { .. } | ExprKind::Index { .. }
        ) {
            return Err(compile_error(
                ErrorKind::SyntaxError,
                "invalid assignment target",
                target.span.to(op_span),
            ));
        }
        self.enter_at(op_span)?;
        let value = self.expr();
        self.leave(1);
        let value = value?;
        let span = target.span.to(value.span);
        Ok(Expr {
            kind: ExprKind::Assign(Box::new(Assign { target, op, value })),
            span,
        })
    }

    fn binop(&self, level: u8) -> Option<BinOp> {
        let op = match self.peek() {
            Tok::OrOr => BinOp::Or,
            Tok::AndAnd => BinOp::And,
            Tok::EqEq => BinOp::Eq,
            Tok::BangEq => BinOp::Ne,
            Tok::Lt => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Gt => BinOp::Gt,
            Tok::Ge => BinOp::Ge,
            Tok::Plus => BinOp::Add,
            Tok::Minus => BinOp::Sub,
            Tok::Star => BinOp::Mul,
            Tok::Slash => BinOp::Div,
            Tok::Percent => BinOp::Mod,
            _ => return None,
        };
        (op.precedence() == level).then_some(op)
    }

    /// One precedence level: operands of the next level joined by this level's operators,
    /// collected into one flat chain (no recursion per operator).
    fn binary(&mut self, level: u8) -> PResult<Expr> {
        let operand = |p: &mut Parser| {
            if level == 5 {
                p.unary()
            } else {
                p.binary(level + 1)
            }
        };
        let first = operand(self)?;
        let mut rest = Vec::new();
        while let Some(op) = self.binop(level) {
            let op_span = self.advance().span;
            push_compact(&mut rest, Link::new(op, op_span, operand(self)?));
        }
        if rest.is_empty() {
            return Ok(first);
        }
        rest.shrink_to_fit();
        let span = first
            .span
            .to(rest.last().map(|l| l.rhs.span).unwrap_or(first.span));
        Ok(Expr {
            kind: ExprKind::Chain(Box::new(Chain { first, rest })),
            span,
        })
    }

    fn unary(&mut self) -> PResult<Expr> {
        let op = match self.peek() {
            Tok::Minus => UnOp::Neg,
            Tok::Bang => UnOp::Not,
            _ => return self.postfix(),
        };
        let start = self.advance().span;
        // `-9223372036854775808` is the one literal whose magnitude alone is out of range.
        if op == UnOp::Neg
            && *self.peek() == Tok::Int(i64::MAX as u64 + 1)
            && !matches!(self.peek_at(1), Tok::LParen | Tok::Dot | Tok::LBracket)
        {
            let span = start.to(self.advance().span);
            return Ok(Expr {
                kind: ExprKind::Int(i64::MIN),
                span,
            });
        }
        self.enter_at(start)?;
        let operand = with_stack(|| self.unary());
        self.leave(1);
        let operand = operand?;
        let span = start.to(operand.span);
        Ok(Expr {
            kind: ExprKind::Unary {
                op,
                expr: Box::new(operand),
            },
            span,
        })
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        let mut levels = 0;
        let result = loop {
            let start = e.span;
            let kind = match self.peek() {
                Tok::LParen => {
                    if let Err(err) = self.enter() {
                        break Err(err);
                    }
                    levels += 1;
                    self.advance();
                    let mut args = Vec::new();
                    if !self.at(&Tok::RParen) {
                        loop {
                            match self.expr() {
                                Ok(a) => push_compact(&mut args, a),
                                Err(err) => {
                                    self.leave(levels);
                                    return Err(err);
                                }
                            }
                            if !self.eat(&Tok::Comma) || self.at(&Tok::RParen) {
                                break;
                            }
                        }
                    }
                    if let Err(err) = self.expect(&Tok::RParen, "after arguments") {
                        break Err(err);
                    }
                    args.shrink_to_fit();
                    ExprKind::Call(Box::new(Call { callee: e, args }))
                }
                Tok::Dot => {
                    if let Err(err) = self.enter() {
                        break Err(err);
                    }
                    levels += 1;
                    self.advance();
                    match self.ident("a property name after '.'") {
                        Ok(name) => ExprKind::Get(Box::new(Get { obj: e, name })),
                        Err(err) => break Err(err),
                    }
                }
                Tok::LBracket => {
                    if let Err(err) = self.enter() {
                        break Err(err);
                    }
                    levels += 1;
                    self.advance();
                    let index = match self.expr() {
                        Ok(i) => i,
                        Err(err) => break Err(err),
                    };
                    if let Err(err) = self.expect(&Tok::RBracket, "after index") {
                        break Err(err);
                    }
                    ExprKind::Index(Box::new(Index { obj: e, index }))
                }
                _ => break Ok(e),
            };
            e = Expr {
                kind,
                span: start.to(self.prev_span()),
            };
        };
        self.leave(levels);
        result
    }

    fn primary(&mut self) -> PResult<Expr> {
        let tok = self.advance();
        let span = tok.span;
        let kind = match tok.tok {
            Tok::Int(n) => match i64::try_from(n) {
                Ok(v) => ExprKind::Int(v),
                Err(_) => {
                    return Err(compile_error(
                        ErrorKind::SyntaxError,
                        "integer literal is too large",
                        span,
                    ));
                }
            },
            Tok::Float(f) => ExprKind::Float(f),
            Tok::Str(s) => ExprKind::Str(s),
            Tok::True => ExprKind::Bool(true),
            Tok::False => ExprKind::Bool(false),
            Tok::Nil => ExprKind::Nil,
            Tok::Ident(name) => ExprKind::Name {
                name,
                res: Res::Unresolved,
            },
            Tok::SelfKw => ExprKind::SelfRef {
                res: Res::Unresolved,
            },
            Tok::Super => {
                self.expect(&Tok::Dot, "after 'super'")?;
                let name = self.ident("a method name after 'super.'")?;
                ExprKind::Super(Box::new(Super {
                    name,
                    self_res: Res::Unresolved,
                }))
            }
            Tok::LParen => {
                self.enter_at(span)?;
                let e = self.expr();
                self.leave(1);
                let mut e = e?;
                self.expect(&Tok::RParen, "to close '('")?;
                e.span = span.to(self.prev_span());
                return Ok(e);
            }
            Tok::LBracket => {
                self.enter_at(span)?;
                let mut items = Vec::new();
                while !self.at(&Tok::RBracket) {
                    push_compact(&mut items, self.expr()?);
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RBracket, "to close list literal")?;
                self.leave(1);
                ExprKind::List(items.into_boxed_slice())
            }
            Tok::LBrace => {
                self.enter_at(span)?;
                let mut entries = Vec::new();
                while !self.at(&Tok::RBrace) {
                    let k = self.expr()?;
                    self.expect(&Tok::Colon, "after map key")?;
                    let v = self.expr()?;
                    push_compact(&mut entries, (k, v));
                    if !self.eat(&Tok::Comma) {
                        break;
                    }
                }
                self.expect(&Tok::RBrace, "to close map literal")?;
                self.leave(1);
                ExprKind::Map(entries.into_boxed_slice())
            }
            Tok::Fn => {
                let name = Ident {
                    name: self.lexer.name(ANON_FN_NAME),
                    span,
                };
                let decl = self.function(name, span, false)?;
                ExprKind::Fn(Box::new(decl))
            }
            other => {
                return Err(compile_error(
                    ErrorKind::SyntaxError,
                    format!("expected an expression, found {}", other.describe()),
                    span,
                ));
            }
        };
        Ok(Expr {
            kind,
            span: span.to(self.prev_span()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(src: &str) -> (ErrorKind, String) {
        let e = parse(src, 200).unwrap_err();
        (e.kind, e.message)
    }

    #[test]
    fn chains_are_flat() {
        let src = format!("let x = {};", vec!["1"; 100_000].join("+"));
        let prog = parse(&src, 200).unwrap();
        let StmtKind::Let(l) = &prog.stmts[0].kind else {
            panic!()
        };
        let Some(Expr {
            kind: ExprKind::Chain(c),
            ..
        }) = &l.init
        else {
            panic!()
        };
        assert_eq!(c.rest.len(), 99_999);
    }

    #[test]
    fn precedence_groups_levels() {
        let prog = parse("1 + 2 * 3 - 4;", 200).unwrap();
        let StmtKind::Expr(e) = &prog.stmts[0].kind else {
            panic!()
        };
        let ExprKind::Chain(c) = &e.kind else {
            panic!()
        };
        assert_eq!(c.first.kind, ExprKind::Int(1));
        assert_eq!(
            c.rest.iter().map(|l| l.op).collect::<Vec<_>>(),
            vec![BinOp::Add, BinOp::Sub]
        );
        assert!(matches!(c.rest[0].rhs.kind, ExprKind::Chain(_)));
        assert_eq!(c.rest[1].op_span(), Span::new(10, 11));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("let x = {}1{};", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(parse_err(&src).0, ErrorKind::NestingLimit);
        let src = format!("{}{}", "{".repeat(100_000), "}".repeat(100_000));
        assert_eq!(parse_err(&src).0, ErrorKind::NestingLimit);
        let src = format!("let x = {}1;", "-".repeat(100_000));
        assert_eq!(parse_err(&src).0, ErrorKind::NestingLimit);
        let src = format!("let x = a{};", ".b".repeat(100_000));
        assert_eq!(parse_err(&src).0, ErrorKind::NestingLimit);
        let src = format!("let x = {}1{};", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse_err(&src).0, ErrorKind::NestingLimit);
    }

    #[test]
    fn syntax_errors_name_what_was_expected() {
        assert_eq!(
            parse_err("let x = 1"),
            (
                ErrorKind::SyntaxError,
                "expected ';' after variable declaration, found end of input".into()
            )
        );
        assert_eq!(
            parse_err("1 = 2;"),
            (ErrorKind::SyntaxError, "invalid assignment target".into())
        );
        assert_eq!(
            parse_err("if x { class A {} }"),
            (
                ErrorKind::SyntaxError,
                "class declarations are only allowed at the top level".into()
            )
        );
        assert_eq!(
            parse_err("let = 3;").1,
            "expected a variable name after 'let', found '='"
        );
        assert_eq!(parse_err("{ let x = 1;").1, "unclosed '{': expected '}'");
    }

    #[test]
    fn a_malformed_token_anywhere_wins_over_an_earlier_syntax_error() {
        // The scanner streams, but its errors keep precedence: the source is scanned to its
        // end before a syntax error is reported.
        let e = parse("let = 3;\nlet s = \"abc", 200).unwrap_err();
        assert_eq!(e.message, "unterminated string literal");
        assert_eq!(e.span, Span::new(17, 18));
        assert_eq!(parse_err("let x = 1; #").1, "unexpected character '#'");
        assert_eq!(parse_err("let x = 1 #").1, "unexpected character '#'");
        assert_eq!(parse_err("#").1, "unexpected character '#'");
        assert_eq!(parse_err("x #").1, "unexpected character '#'");
    }

    #[test]
    fn int_min_literal() {
        let prog = parse("-9223372036854775808;", 200).unwrap();
        let StmtKind::Expr(e) = &prog.stmts[0].kind else {
            panic!()
        };
        assert_eq!(e.kind, ExprKind::Int(i64::MIN));
        assert_eq!(
            parse_err("9223372036854775808;").1,
            "integer literal is too large"
        );
    }
}
