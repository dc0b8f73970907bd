//! The syntax tree. Every node carries its source span. Chains of binary operators of one
//! precedence level are stored flat, so `1+1+...+1` of any length is one shallow node.
//! Name-resolution slots (`Res`, `BindingId`, upvalue lists) are filled in by `resolver.rs`.

// Spans are part of every node; the type lives with the rest of source positions.
pub use crate::source::Span;
use crate::source::with_stack;

/// A builtin function: its index in the builtin table the program is compiled against (the
/// runtime's, see `Program::builtins` in the bytecode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BuiltinId(pub u16);

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
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

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// Integer literal.
    Int(i64),
    /// Float literal.
    Float(f64),
    /// String literal.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `nil`.
    Nil,
    /// A name, and what it resolved to.
    Name {
        /// The name.
        name: String,
        /// Resolution.
        res: Res,
    },
    /// `self`, resolved like a name.
    SelfRef {
        /// Resolution.
        res: Res,
    },
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `{k: v, ...}`
    Map(Vec<(Expr, Expr)>),
    /// `-e`, `!e`
    Unary {
        /// Operator.
        op: UnOp,
        /// Operand.
        expr: Box<Expr>,
    },
    /// `first op1 e1 op2 e2 ...`, all operators of one precedence level, left-associative.
    Chain {
        /// Leftmost operand.
        first: Box<Expr>,
        /// The operators (with their spans) and right operands, left to right.
        rest: Vec<(BinOp, Span, Expr)>,
    },
    /// `callee(args)`
    Call {
        /// What is called.
        callee: Box<Expr>,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `obj.name`
    Get {
        /// Object.
        obj: Box<Expr>,
        /// Property name.
        name: Ident,
    },
    /// `obj[index]`
    Index {
        /// Container.
        obj: Box<Expr>,
        /// Index or key.
        index: Box<Expr>,
    },
    /// `super.name`
    Super {
        /// Method name.
        name: Ident,
        /// Resolution of the implicit `self`.
        self_res: Res,
    },
    /// `fn (params) { body }`
    Fn(Box<FnDecl>),
    /// `target = value` or `target op= value`. The target is a name, `obj.name` or
    /// `obj[index]`.
    Assign {
        /// Assigned place.
        target: Box<Expr>,
        /// For compound assignment, the operator.
        op: Option<BinOp>,
        /// Assigned value.
        value: Box<Expr>,
    },
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

/// Statement forms.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `let name = init;` (or `let name;`).
    Let {
        /// The binding.
        binding: Binding,
        /// Initializer (`nil` if absent).
        init: Option<Expr>,
    },
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
    If {
        /// Conditions and their blocks, in order.
        branches: Vec<(Expr, Block)>,
        /// The final `else` block.
        els: Option<Block>,
    },
    /// `while cond { }`
    While {
        /// Condition.
        cond: Expr,
        /// Body.
        body: Block,
    },
    /// `for var in start..end { }`
    ForRange {
        /// Loop variable.
        var: Binding,
        /// Start (inclusive).
        start: Expr,
        /// End (exclusive).
        end: Expr,
        /// Body.
        body: Block,
    },
    /// `for var in iterable { }`
    ForIn {
        /// Loop variable.
        var: Binding,
        /// List, map or string.
        iter: Expr,
        /// Body.
        body: Block,
    },
    /// `break;`
    Break,
    /// `continue;`
    Continue,
    /// `return;` / `return expr;`
    Return(Option<Expr>),
    /// `throw expr;`
    Throw(Expr),
    /// `try { } catch name { }`
    Try {
        /// Protected block.
        body: Block,
        /// Variable receiving the caught value.
        var: Binding,
        /// Handler.
        handler: Block,
    },
    /// A nested block.
    Block(Block),
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
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Nil | ExprKind::Bool(_)
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
