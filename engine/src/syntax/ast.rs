//! The syntax tree. Every node carries its source span. Chains of binary operators of one
//! precedence level are stored flat, so `1+1+...+1` of any length is one shallow node.
//! Name-resolution slots (`Res`, `BindingId`, upvalue lists) are filled in by `resolver.rs`.
//!
//! The tree is compact, because a whole program's tree is in memory while it is resolved and
//! compiled: names are shared (`Name`), and the node forms that are large or rare hold their
//! fields in one box, so that an `Expr` is 32 bytes and a `Stmt` 48 (pinned by a test below).
//! A larger form boxes what it adds rather than growing every node of every tree.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

// Spans are part of every node; the type lives with the rest of source positions.
pub use crate::source::Span;
use crate::source::with_stack;

/// A name as the source writes it: of a variable, function, class, property or method. The
/// parser interns names, so every use of one name shares one copy of its text, and a use
/// costs the tree one pointer (a name held by value cost an allocation per use).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<String>);

impl Name {
    /// A name with the text `text` (not shared with other names; the parser shares them).
    pub fn new(text: &str) -> Name {
        Name(Arc::new(text.to_string()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// Shown as the text is: trees print as they did when names were strings.
impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name::new(text)
    }
}

impl From<String> for Name {
    fn from(text: String) -> Name {
        Name(Arc::new(text))
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Name {
        Name::new(text)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

/// A builtin function: its index in the builtin table the program is compiled against (the
/// runtime's, see `Program::builtins` in the bytecode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BuiltinId(pub u16);

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: Name,
    /// Where it is written.
    pub span: Span,
}

/// Identity of one binding site (a `let`, parameter, loop or catch variable, local `fn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BindingId(pub u32);

/// A binding site.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    /// The name bound.
    pub ident: Ident,
    /// Its identity (assigned by the parser).
    pub id: BindingId,
}

/// What a name refers to, decided by the resolver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Res {
    /// Not resolved yet.
    #[default]
    Unresolved,
    /// A local of the current function.
    Local(BindingId),
    /// The n-th captured variable of the current function.
    Upval(u16),
    /// A top-level name, by global slot.
    Global(u32),
    /// A builtin function.
    Builtin(BuiltinId),
}

/// Where a function's captured variable comes from, in the enclosing function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// A local (boxed) binding of the enclosing function.
    Local(BindingId),
    /// A captured variable of the enclosing function.
    Upval(u16),
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&` (short-circuit)
    And,
    /// `||` (short-circuit)
    Or,
}

impl BinOp {
    /// Source spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    /// Precedence level (higher binds tighter); operators of one level chain left to right.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 0,
            BinOp::And => 1,
            BinOp::Eq | BinOp::Ne => 2,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 5,
        }
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    /// `-`
    Neg,
    /// `!`
    Not,
}

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Expression forms. Forms with more than 16 bytes of fields keep them in one box (`Call`,
/// `Get`, `Index`, `Chain`, `Super`, `Assign`), so every expression is small.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// Integer literal.
    Int(i64),
    /// Float literal.
    Float(f64),
    /// String literal.
    Str(Box<str>),
    /// `true` / `false`.
    Bool(bool),
    /// `nil`.
    Nil,
    /// A name, and what it resolved to.
    Name {
        /// The name.
        name: Name,
        /// Resolution.
        res: Res,
    },
    /// `self`, resolved like a name.
    SelfRef {
        /// Resolution.
        res: Res,
    },
    /// `[a, b, c]`
    List(Box<[Expr]>),
    /// `{k: v, ...}`
    Map(Box<[(Expr, Expr)]>),
    /// `-e`, `!e`
    Unary {
        /// Operator.
        op: UnOp,
        /// Operand.
        expr: Box<Expr>,
    },
    /// `first op1 e1 op2 e2 ...`, all operators of one precedence level, left-associative.
    Chain(Box<Chain>),
    /// `callee(args)`
    Call(Box<Call>),
    /// `obj.name`
    Get(Box<Get>),
    /// `obj[index]`
    Index(Box<Index>),
    /// `super.name`
    Super(Box<Super>),
    /// `fn (params) { body }`
    Fn(Box<FnDecl>),
    /// `target = value` or `target op= value`.
    Assign(Box<Assign>),
}

/// `first op1 e1 op2 e2 ...`: operators of one precedence level, left-associative.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    /// Leftmost operand.
    pub first: Expr,
    /// The operators and right operands, left to right.
    pub rest: Vec<Link>,
}

/// One operator of a chain and its right operand.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    /// The operator.
    pub op: BinOp,
    /// Where the operator starts (its span is its spelling's length from there: an operator
    /// is always one token, and storing its start alone keeps a link at 40 bytes).
    pub op_start: u32,
    /// The right operand.
    pub rhs: Expr,
}

impl Link {
    /// A link whose operator is at `op_span`.
    pub fn new(op: BinOp, op_span: Span, rhs: Expr) -> Link {
        Link {
            op,
            op_start: op_span.start,
            rhs,
        }
    }

    /// Where the operator is.
    pub fn op_span(&self) -> Span {
        Span {
            start: self.op_start,
            end: self.op_start.saturating_add(self.op.symbol().len() as u32),
        }
    }
}

/// `callee(args)`
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// What is called.
    pub callee: Expr,
    /// Arguments.
    pub args: Vec<Expr>,
}

/// `obj.name`
#[derive(Clone, Debug, PartialEq)]
pub struct Get {
    /// Object.
    pub obj: Expr,
    /// Property name.
    pub name: Ident,
}

/// `obj[index]`
#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    /// Container.
    pub obj: Expr,
    /// Index or key.
    pub index: Expr,
}

/// `super.name`
#[derive(Clone, Debug, PartialEq)]
pub struct Super {
    /// Method name.
    pub name: Ident,
    /// Resolution of the implicit `self`.
    pub self_res: Res,
}

/// `target = value` or `target op= value`. The target is a name, `obj.name` or `obj[index]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assign {
    /// Assigned place.
    pub target: Expr,
    /// For compound assignment, the operator.
    pub op: Option<BinOp>,
    /// Assigned value.
    pub value: Expr,
}

/// A function (declaration, method or literal).
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    /// Name (`<anon>` for literals).
    pub name: Ident,
    /// Parameters. In methods, a hidden `self` binding comes first (`self_binding`).
    pub params: Vec<Binding>,
    /// Body.
    pub body: Block,
    /// For methods: the binding of `self`.
    pub self_binding: Option<Binding>,
    /// Variables captured from enclosing functions, filled in by the resolver.
    pub captures: Vec<Capture>,
    /// Where the whole function is.
    pub span: Span,
}

/// A class declaration (top level only).
#[derive(Clone, Debug, PartialEq)]
pub struct ClassDecl {
    /// Name.
    pub name: Ident,
    /// Superclass name.
    pub superclass: Option<Ident>,
    /// Methods.
    pub methods: Vec<FnDecl>,
    /// Where.
    pub span: Span,
}

/// A `{ ... }` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Statements.
    pub stmts: Vec<Stmt>,
    /// Where.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What it is.
    pub kind: StmtKind,
    /// Where.
    pub span: Span,
}

/// Statement forms. Forms with more than 32 bytes of fields keep them in one box, so every
/// statement is small.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `let name = init;` (or `let name;`).
    Let(Box<Let>),
    /// `expr;`
    Expr(Expr),
    /// `fn name(params) { body }`
    Fn {
        /// The function's name binding (local functions) or global name.
        binding: Binding,
        /// The function.
        decl: Box<FnDecl>,
    },
    /// `class Name : Super { methods }`
    Class(Box<ClassDecl>),
    /// `if c1 { } else if c2 { } ... else { }`, the `else if` chain stored flat.
    If(Box<If>),
    /// `while cond { }`
    While(Box<While>),
    /// `for var in start..end { }`
    ForRange(Box<ForRange>),
    /// `for var in iterable { }`
    ForIn(Box<ForIn>),
    /// `break;`
    Break,
    /// `continue;`
    Continue,
    /// `return;` / `return expr;`
    Return(Option<Expr>),
    /// `throw expr;`
    Throw(Expr),
    /// `try { } catch name { }`
    Try(Box<Try>),
    /// A nested block.
    Block(Block),
}

/// `let name = init;` (or `let name;`).
#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    /// The binding.
    pub binding: Binding,
    /// Initializer (`nil` if absent).
    pub init: Option<Expr>,
}

/// `if c1 { } else if c2 { } ... else { }`, the `else if` chain stored flat.
#[derive(Clone, Debug, PartialEq)]
pub struct If {
    /// Conditions and their blocks, in order.
    pub branches: Vec<(Expr, Block)>,
    /// The final `else` block.
    pub els: Option<Block>,
}

/// `while cond { }`
#[derive(Clone, Debug, PartialEq)]
pub struct While {
    /// Condition.
    pub cond: Expr,
    /// Body.
    pub body: Block,
}

/// `for var in start..end { }`
#[derive(Clone, Debug, PartialEq)]
pub struct ForRange {
    /// Loop variable.
    pub var: Binding,
    /// Start (inclusive).
    pub start: Expr,
    /// End (exclusive).
    pub end: Expr,
    /// Body.
    pub body: Block,
}

/// `for var in iterable { }`
#[derive(Clone, Debug, PartialEq)]
pub struct ForIn {
    /// Loop variable.
    pub var: Binding,
    /// List, map or string.
    pub iter: Expr,
    /// Body.
    pub body: Block,
}

/// `try { } catch name { }`
#[derive(Clone, Debug, PartialEq)]
pub struct Try {
    /// Protected block.
    pub body: Block,
    /// Variable receiving the caught value.
    pub var: Binding,
    /// Handler.
    pub handler: Block,
}

/// A parsed source text: its top-level statements.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// The statements, in order.
    pub stmts: Vec<Stmt>,
    /// How many binding ids the parser handed out.
    pub binding_count: u32,
}

// Dropping a tree recurses once per nesting level; with a raised nesting limit that could
// exhaust the host stack, so nested nodes are dropped on a stack that grows on demand.
impl Drop for Expr {
    fn drop(&mut self) {
        if !matches!(
            self.kind,
            ExprKind::Int(_)
                | ExprKind::Float(_)
                | ExprKind::Nil
                | ExprKind::Bool(_)
                | ExprKind::Str(_)
                | ExprKind::Name { .. }
                | ExprKind::SelfRef { .. }
        ) {
            let kind = std::mem::replace(&mut self.kind, ExprKind::Nil);
            with_stack(move || drop(kind));
        }
    }
}

impl Drop for Stmt {
    fn drop(&mut self) {
        if !matches!(self.kind, StmtKind::Break | StmtKind::Continue) {
            let kind = std::mem::replace(&mut self.kind, StmtKind::Break);
            with_stack(move || drop(kind));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_stay_small() {
        // A whole program's tree is in memory at once: these sizes are most of what compiling
        // a source takes per byte (`tests/front_end_memory.rs` checks the total). A form that
        // would make a node larger boxes its fields instead.
        assert_eq!(size_of::<Name>(), 8);
        assert_eq!(size_of::<Ident>(), 16);
        assert_eq!(size_of::<Expr>(), 32);
        assert_eq!(size_of::<Link>(), 40);
        assert_eq!(size_of::<Stmt>(), 48);
    }

    #[test]
    fn operator_spans_come_back_from_their_start() {
        let l = Link::new(
            BinOp::Le,
            Span::new(7, 9),
            Expr {
                kind: ExprKind::Nil,
                span: Span::new(10, 11),
            },
        );
        assert_eq!(l.op_span(), Span::new(7, 9));
        let l = Link::new(
            BinOp::Add,
            Span::new(3, 4),
            Expr {
                kind: ExprKind::Nil,
                span: Span::new(5, 6),
            },
        );
        assert_eq!(l.op_span(), Span::new(3, 4));
    }
}
