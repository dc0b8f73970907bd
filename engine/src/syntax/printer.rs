//! Syntax tree back to source: one canonical layout (4-space indents, one statement per line)
//! that parses to a tree with the same meaning. Used by program generators and reducers,
//! which build or edit trees and need source text to run and to show.

use std::fmt::Write;

use crate::syntax::ast::*;
use crate::text::{format_float, quote_into};

/// The source text of `program`.
pub fn print_script(program: &Script) -> String {
    let mut p = Printer::default();
    for s in &program.stmts {
        p.stmt(s);
    }
    p.out
}

/// The source text of one expression.
pub fn print_expr(expr: &Expr) -> String {
    let mut p = Printer::default();
    p.expr(expr);
    p.out
}

#[derive(Default)]
struct Printer {
    out: String,
    indent: usize,
    /// Where the current expression statement starts: a map literal printed there would read
    /// as a block.
    stmt_start: Option<usize>,
}

/// Binding strength of an expression form, for deciding where parentheses are needed.
/// Binary levels are `BinOp::precedence` + 2.
const ASSIGN: u8 = 0;
const UNARY: u8 = 8;
const POSTFIX: u8 = 9;
const ATOM: u8 = 10;

fn strength(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Assign(_) => ASSIGN,
        // A function literal extends as far as its body: keep it apart from operators.
        ExprKind::Fn(_) => ASSIGN,
        ExprKind::Chain(c) => c.rest.first().map_or(ATOM, |l| l.op.precedence() + 2),
        ExprKind::Unary { .. } => UNARY,
        // The smallest int is printed as a subtraction.
        ExprKind::Int(i64::MIN) => BinOp::Sub.precedence() + 2,
        // A negative literal is printed with its sign: as strong as a unary expression.
        ExprKind::Int(i) if *i < 0 => UNARY,
        // Infinities and nan are printed as products or quotients.
        ExprKind::Float(f) if !f.is_finite() => BinOp::Mul.precedence() + 2,
        ExprKind::Float(f) if f.is_sign_negative() => UNARY,
        ExprKind::Call(_) | ExprKind::Get(_) | ExprKind::Index(_) => POSTFIX,
        _ => ATOM,
    }
}

impl Printer {
    fn line_start(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
    }

    fn block(&mut self, b: &Block) {
        self.out.push_str("{\n");
        self.indent += 1;
        for s in &b.stmts {
            self.stmt(s);
        }
        self.indent -= 1;
        self.line_start();
        self.out.push('}');
    }

    fn params(&mut self, f: &FnDecl) {
        self.out.push('(');
        for (i, p) in f.params.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.out.push_str(&p.ident.name);
        }
        self.out.push_str(") ");
        self.block(&f.body);
    }

    fn stmt(&mut self, s: &Stmt) {
        self.line_start();
        self.stmt_body(s);
        self.out.push('\n');
    }

    fn stmt_body(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Let(node) => {
                let Let { binding, init } = &**node;
                let _ = write!(self.out, "let {}", binding.ident.name);
                if let Some(e) = init {
                    self.out.push_str(" = ");
                    self.expr(e);
                }
                self.out.push(';');
            }
            StmtKind::Expr(e) => {
                self.stmt_start = Some(self.out.len());
                self.expr(e);
                self.stmt_start = None;
                self.out.push(';');
            }
            StmtKind::Fn { decl, .. } => {
                let _ = write!(self.out, "fn {}", decl.name.name);
                self.params(decl);
            }
            StmtKind::Class(c) => {
                let _ = write!(self.out, "class {}", c.name.name);
                if let Some(sup) = &c.superclass {
                    let _ = write!(self.out, " : {}", sup.name);
                }
                self.out.push_str(" {\n");
                self.indent += 1;
                for m in &c.methods {
                    self.line_start();
                    let _ = write!(self.out, "fn {}", m.name.name);
                    self.params(m);
                    self.out.push('\n');
                }
                self.indent -= 1;
                self.line_start();
                self.out.push('}');
            }
            StmtKind::If(node) => {
                let If { branches, els } = &**node;
                for (i, (cond, body)) in branches.iter().enumerate() {
                    self.out.push_str(if i == 0 { "if " } else { " else if " });
                    self.expr(cond);
                    self.out.push(' ');
                    self.block(body);
                }
                if let Some(b) = els {
                    self.out.push_str(" else ");
                    self.block(b);
                }
            }
            StmtKind::While(node) => {
                let While { cond, body } = &**node;
                self.out.push_str("while ");
                self.expr(cond);
                self.out.push(' ');
                self.block(body);
            }
            StmtKind::ForRange(node) => {
                let ForRange {
                    var,
                    start,
                    end,
                    body,
                } = &**node;
                let _ = write!(self.out, "for {} in ", var.ident.name);
                // `..` binds looser than every operator except assignment.
                self.expr_at(start, ASSIGN + 1);
                self.out.push_str("..");
                self.expr_at(end, ASSIGN + 1);
                self.out.push(' ');
                self.block(body);
            }
            StmtKind::ForIn(node) => {
                let ForIn { var, iter, body } = &**node;
                let _ = write!(self.out, "for {} in ", var.ident.name);
                self.expr_at(iter, ASSIGN + 1);
                self.out.push(' ');
                self.block(body);
            }
            StmtKind::Break => self.out.push_str("break;"),
            StmtKind::Continue => self.out.push_str("continue;"),
            StmtKind::Return(e) => {
                self.out.push_str("return");
                if let Some(e) = e {
                    self.out.push(' ');
                    self.expr(e);
                }
                self.out.push(';');
            }
            StmtKind::Throw(e) => {
                self.out.push_str("throw ");
                self.expr(e);
                self.out.push(';');
            }
            StmtKind::Try(node) => {
                let Try { body, var, handler } = &**node;
                self.out.push_str("try ");
                self.block(body);
                let _ = write!(self.out, " catch {} ", var.ident.name);
                self.block(handler);
            }
            StmtKind::Block(b) => self.block(b),
        }
    }

    fn expr(&mut self, e: &Expr) {
        self.expr_at(e, ASSIGN);
    }

    /// Prints `e` where an expression of at least strength `min` is expected.
    fn expr_at(&mut self, e: &Expr, min: u8) {
        if strength(e) < min {
            self.out.push('(');
            self.expr_inner(e);
            self.out.push(')');
        } else {
            self.expr_inner(e);
        }
    }

    fn expr_inner(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Int(i) => {
                if *i == i64::MIN {
                    // Its magnitude is not a valid literal.
                    self.out.push_str("-9223372036854775807 - 1");
                } else {
                    let _ = write!(self.out, "{i}");
                }
            }
            ExprKind::Float(f) => self.float(*f),
            ExprKind::Str(s) => self.string(s),
            ExprKind::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            ExprKind::Nil => self.out.push_str("nil"),
            ExprKind::Name { name, .. } => self.out.push_str(name),
            ExprKind::SelfRef { .. } => self.out.push_str("self"),
            ExprKind::List(items) => {
                self.out.push('[');
                self.list(items);
                self.out.push(']');
            }
            ExprKind::Map(entries) if self.stmt_start == Some(self.out.len()) => {
                // At the start of a statement `{` would open a block.
                self.out.push('(');
                self.expr_inner(e);
                self.out.push(')');
            }
            ExprKind::Map(entries) => {
                self.out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.expr(k);
                    self.out.push_str(": ");
                    self.expr(v);
                }
                self.out.push('}');
            }
            ExprKind::Unary { op, expr } => {
                self.out.push_str(match op {
                    UnOp::Neg => "-",
                    UnOp::Not => "!",
                });
                // `- -x` rather than `--x`, and `-(-1)` keeps its literal apart.
                self.expr_at(expr, POSTFIX);
            }
            ExprKind::Chain(node) => {
                let Chain { first, rest } = &**node;
                let level = strength(e);
                // Left-associative: the first operand may be as weak as the chain itself,
                // the others must bind tighter.
                self.expr_at(first, level);
                for link in rest {
                    let _ = write!(self.out, " {} ", link.op.symbol());
                    self.expr_at(&link.rhs, level + 1);
                }
            }
            ExprKind::Call(node) => {
                let Call { callee, args } = &**node;
                self.expr_at(callee, POSTFIX);
                self.out.push('(');
                self.list(args);
                self.out.push(')');
            }
            ExprKind::Get(node) => {
                let Get { obj, name } = &**node;
                self.postfix_target(obj);
                self.out.push('.');
                self.out.push_str(&name.name);
            }
            ExprKind::Index(node) => {
                let Index { obj, index } = &**node;
                self.postfix_target(obj);
                self.out.push('[');
                self.expr(index);
                self.out.push(']');
            }
            ExprKind::Super(node) => {
                let Super { name, .. } = &**node;
                let _ = write!(self.out, "super.{}", name.name);
            }
            ExprKind::Fn(f) => {
                self.out.push_str("fn ");
                self.params(f);
            }
            ExprKind::Assign(node) => {
                let Assign { target, op, value } = &**node;
                self.expr_at(target, POSTFIX);
                match op {
                    Some(op) => {
                        let _ = write!(self.out, " {}= ", op.symbol());
                    }
                    None => self.out.push_str(" = "),
                }
                // Assignment is right-associative.
                self.expr_at(value, ASSIGN);
            }
        }
    }

    /// The object of `.name` or `[index]`: number literals are parenthesized so that
    /// `(1).x` does not read as a float.
    fn postfix_target(&mut self, obj: &Expr) {
        if matches!(obj.kind, ExprKind::Int(_) | ExprKind::Float(_)) {
            self.out.push('(');
            self.expr_inner(obj);
            self.out.push(')');
        } else {
            self.expr_at(obj, POSTFIX);
        }
    }

    fn list(&mut self, items: &[Expr]) {
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.expr(x);
        }
    }

    fn float(&mut self, f: f64) {
        if f.is_nan() {
            self.out.push_str("0.0 / 0.0");
        } else if f.is_infinite() {
            self.out.push_str(if f > 0.0 {
                "1e308 * 10.0"
            } else {
                "-1e308 * 10.0"
            });
        } else {
            self.out.push_str(&format_float(f));
        }
    }

    fn string(&mut self, s: &str) {
        quote_into(s, &mut self.out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parser::parse;

    fn round(src: &str) -> String {
        let p = parse(src, 200).expect("test source parses");
        print_script(&p)
    }

    #[test]
    fn prints_precedence_with_the_fewest_parentheses() {
        assert_eq!(
            round("let x = (1 + 2) * 3 - (4 - 5);"),
            "let x = (1 + 2) * 3 - (4 - 5);\n"
        );
        assert_eq!(
            round("x = y = -(-1) + !a.b[c](d);"),
            "x = y = -(-1) + !a.b[c](d);\n"
        );
        assert_eq!(
            round("({}).x = fn (a) { return a; };"),
            "({}).x = fn (a) {\n    return a;\n};\n"
        );
    }

    #[test]
    fn printing_is_a_fixpoint_of_parsing() {
        let src = "class A : B {\n    fn m(x) {\n        return super.m(x) + \"q\\\"\\n\";\n    }\n}\nfor i in 0..n + 1 {\n    if i < 2 {\n        continue;\n    } else if i > 3 {\n        break;\n    } else {\n        try {\n            throw [1, 2.5, 1e300, {\"k\": nil}];\n        } catch e {\n            print(e);\n        }\n    }\n}\n";
        assert_eq!(round(src), src);
    }

    #[test]
    fn literals_that_need_care() {
        let e = |kind| Expr {
            kind,
            span: Span::default(),
        };
        assert_eq!(
            print_expr(&e(ExprKind::Int(i64::MIN))),
            "-9223372036854775807 - 1"
        );
        assert_eq!(print_expr(&e(ExprKind::Float(f64::NAN))), "0.0 / 0.0");
        let get = e(ExprKind::Get(Box::new(Get {
            obj: e(ExprKind::Int(-3)),
            name: Ident {
                name: "x".into(),
                span: Span::default(),
            },
        })));
        assert_eq!(print_expr(&get), "(-3).x");
    }
}
