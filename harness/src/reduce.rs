//! The reducer: shrinks a program at the syntax-tree level while a property (typically "the
//! tiers still disagree in the same way") keeps holding, and writes the result as a corpus file.
//! Every candidate is printed canonically and judged by the caller's predicate alone.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use echo_engine::corpus::{
    Expectation, config_comment, expectation_comments, parse_expectations, tiering_comment,
};
use echo_engine::source::with_stack;
use echo_engine::syntax::ast::{
    Binding, BindingId, Block, Expr, ExprKind, FnDecl, Ident, Program, Span, Stmt, StmtKind,
};
use echo_engine::syntax::parser::parse;
use echo_engine::syntax::printer::print_program;
use echo_engine::{Limits, Outcome};

/// Nesting limit for parsing the programs being reduced (the engine's default).
const MAX_DEPTH: u32 = 200;

/// How much one reduction may spend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Most calls of the predicate.
    pub max_tests: usize,
    /// Most wall-clock time; checked before each call of the predicate.
    pub max_time: Duration,
}

impl Default for Budget {
    /// Enough for programs of a few hundred lines with a predicate costing milliseconds.
    fn default() -> Self {
        Budget {
            max_tests: 20_000,
            max_time: Duration::from_secs(120),
        }
    }
}

/// The result of a reduction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reduced {
    /// The smallest program found that satisfies the predicate (the input itself when its
    /// canonical form does not, or when nothing smaller was found).
    pub source: String,
    /// Calls of the predicate made.
    pub tests: usize,
    /// Candidates the predicate accepted.
    pub accepted: usize,
}

/// Shrinks `source` while `keep` holds for it, within `budget`.
///
/// The program is parsed, edited as a tree and printed canonically; `keep` sees only printed
/// candidates, the first being the unedited canonical form. Candidates may fail to compile;
/// `keep` is expected to reject those. Source that does not parse, or whose canonical form
/// `keep` rejects, is returned unchanged. The result is never longer than `source`.
pub fn reduce(source: &str, keep: &mut dyn FnMut(&str) -> bool, budget: Budget) -> Reduced {
    let unchanged = |tests| Reduced {
        source: source.to_string(),
        tests,
        accepted: 0,
    };
    let Ok(program) = parse(source, MAX_DEPTH) else {
        return unchanged(0);
    };
    let mut r = Reducer::new(program, keep, budget);
    if r.exhausted() {
        return unchanged(0);
    }
    r.tests += 1;
    if !(r.keep)(&r.text) {
        return unchanged(r.tests);
    }
    r.run();
    Reduced {
        source: if r.text.len() <= source.len() {
            r.text
        } else {
            source.to_string()
        },
        tests: r.tests,
        accepted: r.accepted,
    }
}

/// Writes `source` as the next numbered corpus file in `dir`, `NNNN-slug.echo`, expecting
/// `expected` when run with `limits`, and returns its path.
///
/// The file starts with `note` in a block comment on the first line (so every line of the
/// program keeps its number: error lines and the `line` of caught errors stay valid), then
/// the source, its expectation comments and, when `limits` are not the defaults, a
/// `// config:` line, and the tiering thresholds when given. Numbers continue from the highest already in `dir`, which is created
/// if needed; an existing file is never overwritten. A `source` that already carries
/// expectation comments is refused (`InvalidInput`): the file would expect things twice.
pub fn write_regression(
    dir: &Path,
    slug: &str,
    source: &str,
    expected: &Outcome,
    limits: &Limits,
    tiering: Option<(u32, u32)>,
    note: &str,
) -> io::Result<PathBuf> {
    let carried =
        parse_expectations(source).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    if carried != Expectation::default() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the source already carries expectation comments",
        ));
    }
    let mut text = format!("/* {} */", comment_safe(note));
    if !source.is_empty() && !source.starts_with('\n') {
        text.push(' ');
    }
    text.push_str(source);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&expectation_comments(expected));
    if let Some(config) = config_comment(limits) {
        text.push_str(&config);
        text.push('\n');
    }
    if let Some((calls, loops)) = tiering {
        text.push_str(&tiering_comment(calls, loops));
        text.push('\n');
    }
    fs::create_dir_all(dir)?;
    let slug = safe_slug(slug);
    let mut number = highest_number(dir)? + 1;
    loop {
        let path = dir.join(format!("{number:04}-{slug}.echo"));
        // `create_new`, so that writers running in parallel never overwrite each other.
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                io::Write::write_all(&mut file, text.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => number += 1,
            Err(e) => return Err(e),
        }
    }
}

/// `note` on one line, unable to end its block comment or to read as a corpus directive
/// (`parse_expectations` looks for `// ` anywhere on a line).
fn comment_safe(note: &str) -> String {
    let one_line: String = note
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = one_line.replace("*/", "* /");
    while out.contains("//") {
        out = out.replace("//", "/ /");
    }
    out.trim().to_string()
}

/// Lowercase ASCII letters, digits and single dashes, at most 40 characters.
fn safe_slug(slug: &str) -> String {
    let mut out = String::new();
    for c in slug.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(40);
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "regression".to_string()
    } else {
        out.to_string()
    }
}

/// The highest `NNNN` of the `NNNN-*.echo` files in `dir` (0 if none).
fn highest_number(dir: &Path) -> io::Result<u32> {
    let mut highest = 0;
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if !name.ends_with(".echo") {
            continue;
        }
        let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse::<u32>() {
            highest = highest.max(n);
        }
    }
    Ok(highest)
}

/// The budget ran out: passes unwind and the best program so far is the result.
struct OutOfBudget;

/// Whether a pass made progress, unless the budget ran out.
type Step = Result<bool, OutOfBudget>;

/// One reduction in progress.
struct Reducer<'k> {
    keep: &'k mut dyn FnMut(&str) -> bool,
    budget: Budget,
    start: Instant,
    tests: usize,
    accepted: usize,
    /// The current program, as the parser produced it from `text`.
    program: Program,
    text: String,
    weight: u64,
    /// Hashes of every candidate text given to `keep`: a candidate equal to one already
    /// judged is not judged again.
    judged: HashSet<u64>,
}

impl<'k> Reducer<'k> {
    fn new(program: Program, keep: &'k mut dyn FnMut(&str) -> bool, budget: Budget) -> Self {
        let text = print_program(&program);
        let mut judged = HashSet::new();
        judged.insert(text_hash(&text));
        Reducer {
            keep,
            budget,
            start: Instant::now(),
            tests: 0,
            accepted: 0,
            weight: program_weight(&program),
            program,
            text,
            judged,
        }
    }

    fn exhausted(&self) -> bool {
        self.tests >= self.budget.max_tests || self.start.elapsed() >= self.budget.max_time
    }

    /// Runs the passes, cheapest big wins first, until a round changes nothing.
    fn run(&mut self) {
        let passes: [fn(&mut Self) -> Step; 5] = [
            Self::delete_statements,
            Self::unwrap_statements,
            Self::drop_parameters,
            Self::inline_functions,
            Self::simplify_expressions,
        ];
        loop {
            let mut progress = false;
            for pass in passes {
                match pass(self) {
                    Ok(p) => progress |= p,
                    Err(OutOfBudget) => return,
                }
            }
            if !progress {
                return;
            }
        }
    }

    /// Judges a candidate and adopts it if `keep` holds. Only candidates smaller than the
    /// current program (by weight, then printed length) are judged: every step shrinks the
    /// program by that measure, so reduction terminates without cycling between forms.
    fn test(&mut self, candidate: Program) -> Step {
        let weight = program_weight(&candidate);
        if weight > self.weight {
            return Ok(false);
        }
        let text = print_program(&candidate);
        if weight == self.weight && text.len() >= self.text.len() {
            return Ok(false);
        }
        let hash = text_hash(&text);
        if self.judged.contains(&hash) {
            return Ok(false);
        }
        if self.exhausted() {
            return Err(OutOfBudget);
        }
        self.tests += 1;
        self.judged.insert(hash);
        if !(self.keep)(&text) {
            return Ok(false);
        }
        self.accepted += 1;
        // Continue from the tree `keep` actually judged.
        self.program = parse(&text, MAX_DEPTH).unwrap_or(candidate);
        self.weight = program_weight(&self.program);
        self.text = text;
        Ok(true)
    }

    /// Visits positions `0..count` of the current program in order; at each one tries the
    /// edits offered, in order, until one is kept, then offers edits at the same position
    /// again (it now holds something else). Edits at a position only change positions at or
    /// after it.
    fn sweep<E>(
        &mut self,
        count: impl Fn(&mut Program) -> usize,
        edits: impl Fn(&mut Program, usize) -> Vec<E>,
        apply: impl Fn(&mut Program, usize, E),
    ) -> Step {
        let mut progress = false;
        let mut at = 0;
        while at < count(&mut self.program) {
            let mut kept = false;
            for edit in edits(&mut self.program, at) {
                let mut candidate = self.program.clone();
                apply(&mut candidate, at, edit);
                if self.test(candidate)? {
                    kept = true;
                    break;
                }
            }
            if kept {
                progress = true;
            } else {
                at += 1;
            }
        }
        Ok(progress)
    }

    /// Deletes statements (and methods) from every list, ddmin style: for each list, chunks
    /// of half its length, then quarters, down to single elements.
    fn delete_statements(&mut self) -> Step {
        let mut progress = false;
        let mut seq = 0;
        while seq < count(&mut self.program, Kind::Seq) {
            let len = seq_len(&mut self.program, seq);
            // The whole top level never needs testing: an empty program shows nothing.
            let mut chunk = if seq == 0 { len / 2 } else { len };
            while chunk > 0 {
                let mut at = 0;
                while at < seq_len(&mut self.program, seq) {
                    if seq == 0 && at == 0 && chunk >= seq_len(&mut self.program, seq) {
                        break;
                    }
                    let mut candidate = self.program.clone();
                    let removed = with_site(&mut candidate, Kind::Seq, seq, |site| match site {
                        Site::Stmts(v) => drain_count(v, at, chunk),
                        Site::Methods(v) => drain_count(v, at, chunk),
                        Site::Decl(..) | Site::Expr(..) => 0,
                    })
                    .unwrap_or(0);
                    if self.test(candidate)? {
                        progress = true;
                    } else {
                        at += removed.max(1);
                    }
                }
                chunk /= 2;
            }
            seq += 1;
        }
        Ok(progress)
    }

    /// Replaces compound statements by (part of) their contents.
    fn unwrap_statements(&mut self) -> Step {
        self.sweep(
            count_stmts,
            |p, at| with_stmt(p, at, |v, i| unwrapped(&v[i])).unwrap_or_default(),
            |p, at, replacement| {
                with_stmt(p, at, |v, i| {
                    v.splice(i..=i, replacement);
                });
            },
        )
    }

    /// Drops a parameter of a function or method together with the matching argument of
    /// every call that names it.
    fn drop_parameters(&mut self) -> Step {
        self.sweep(
            |p| count(p, Kind::Decl),
            |p, at| {
                let params = with_site(p, Kind::Decl, at, |site| match site {
                    Site::Decl(f, _) => f.params.len(),
                    _ => 0,
                });
                (0..params.unwrap_or(0)).collect()
            },
            |p, at, param| {
                let callers = with_site(p, Kind::Decl, at, |site| match site {
                    Site::Decl(f, callers) => {
                        f.params.remove(param);
                        Some(callers)
                    }
                    _ => None,
                });
                let Some(Some(callers)) = callers else {
                    return;
                };
                walk(p, &mut |site| {
                    if let Site::Expr(e, _) = site
                        && let ExprKind::Call { callee, args } = &mut e.kind
                        && callers.calls(callee)
                        && args.len() > param
                    {
                        args.remove(param);
                    }
                    Flow::Continue
                });
            },
        )
    }

    /// Inlines functions whose body is one `return EXPR;`: at every call at once (deleting
    /// the function), or at one call.
    fn inline_functions(&mut self) -> Step {
        self.sweep(
            count_stmts,
            |p, at| {
                let Some(Some(f)) = with_stmt(p, at, |v, i| Inlinable::of(&v[i])) else {
                    return Vec::new();
                };
                let calls = f.count_calls(p);
                let mut edits = Vec::new();
                if calls > 0 {
                    edits.push(Inline::Everywhere);
                }
                if calls > 1 {
                    edits.extend((0..calls).map(Inline::At));
                }
                edits
            },
            |p, at, edit| {
                let Some(Some(f)) = with_stmt(p, at, |v, i| Inlinable::of(&v[i])) else {
                    return;
                };
                match edit {
                    Inline::Everywhere => {
                        with_stmt(p, at, |v, i| v.remove(i));
                        walk(p, &mut |site| match site {
                            Site::Expr(e, _) if f.is_call(e) => {
                                f.inline_nested(e);
                                Flow::Skip
                            }
                            _ => Flow::Continue,
                        });
                    }
                    Inline::At(call) => {
                        let mut seen = 0;
                        walk(p, &mut |site| match site {
                            Site::Expr(e, _) if f.is_call(e) => {
                                seen += 1;
                                if seen <= call {
                                    return Flow::Continue;
                                }
                                if let ExprKind::Call { args, .. } = &e.kind {
                                    *e = f.expand(args);
                                }
                                Flow::Stop
                            }
                            _ => Flow::Continue,
                        });
                    }
                }
            },
        )
    }

    /// Replaces expressions by sub-expressions, smaller forms or simple literals.
    fn simplify_expressions(&mut self) -> Step {
        let declared = declared_names(&mut self.program);
        self.sweep(
            |p| count(p, Kind::Expr),
            |p, at| {
                with_site(p, Kind::Expr, at, |site| match site {
                    Site::Expr(e, role) => simpler(e, role, &declared),
                    _ => Vec::new(),
                })
                .unwrap_or_default()
            },
            |p, at, replacement| {
                with_site(p, Kind::Expr, at, |site| {
                    if let Site::Expr(e, _) = site {
                        *e = replacement;
                    }
                });
            },
        )
    }
}

fn text_hash(text: &str) -> u64 {
    // Unlike a `HashMap`'s hasher, `DefaultHasher::new` is not randomly seeded: the same
    // candidates are skipped in every run.
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// Removes up to `n` elements at `at`; returns how many.
fn drain_count<T>(v: &mut Vec<T>, at: usize, n: usize) -> usize {
    let end = at.saturating_add(n).min(v.len());
    let start = at.min(end);
    v.drain(start..end);
    end - start
}

// ---------------------------------------------------------------------------------------
// Walking the tree

/// How an expression is used, which limits what may replace it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// An ordinary operand.
    Value,
    /// The whole expression of an expression statement: deleting the statement is the
    /// simpler edit, so it is not replaced by a literal.
    Statement,
    /// The callee of a call: a literal there can only raise "not callable".
    Callee,
    /// An assignment target: must stay a name, property or index.
    Target,
}

/// Which calls reach a function.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Callers {
    /// Calls of a name (`fn f`, or `let f = fn ...`).
    Name(String),
    /// Calls of a method: `o.name(...)`, `super.name(...)`, and `Class(...)` for `init`.
    Method {
        /// The method.
        name: String,
        /// Its class.
        class: String,
    },
}

impl Callers {
    fn calls(&self, callee: &Expr) -> bool {
        match (self, &callee.kind) {
            (Callers::Name(f), ExprKind::Name { name, .. }) => name == f,
            (
                Callers::Method { name, .. },
                ExprKind::Get { name: m, .. } | ExprKind::Super { name: m, .. },
            ) => m.name == *name,
            (Callers::Method { name, class }, ExprKind::Name { name: n, .. }) => {
                name == "init" && n == class
            }
            _ => false,
        }
    }
}

/// A place a pass can edit.
enum Site<'a> {
    /// A block's statements (the top level first).
    Stmts(&'a mut Vec<Stmt>),
    /// A class's methods.
    Methods(&'a mut Vec<FnDecl>),
    /// A function that can be called by name or as a method.
    Decl(&'a mut FnDecl, Callers),
    /// An expression.
    Expr(&'a mut Expr, Role),
}

/// Kinds of sites, each numbered separately in walk order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Seq,
    Decl,
    Expr,
}

impl Site<'_> {
    fn kind(&self) -> Kind {
        match self {
            Site::Stmts(_) | Site::Methods(_) => Kind::Seq,
            Site::Decl(..) => Kind::Decl,
            Site::Expr(..) => Kind::Expr,
        }
    }
}

/// What the walk does after a site.
enum Flow {
    /// Walk its children.
    Continue,
    /// Do not walk its children (for an expression just replaced by one containing itself).
    Skip,
    /// End the walk.
    Stop,
}

type Visit<'v> = dyn FnMut(Site<'_>) -> Flow + 'v;

/// Offers every site of `program` to `visit`, in preorder.
fn walk(program: &mut Program, visit: &mut Visit<'_>) {
    walk_stmts(&mut program.stmts, visit);
}

/// Offers a site; `Err(stopped)` when its children are not to be walked.
fn offer(visit: &mut Visit<'_>, site: Site<'_>) -> Result<(), bool> {
    match visit(site) {
        Flow::Continue => Ok(()),
        Flow::Skip => Err(false),
        Flow::Stop => Err(true),
    }
}

// The walkers return whether the visitor stopped the walk.

fn walk_stmts(stmts: &mut Vec<Stmt>, visit: &mut Visit<'_>) -> bool {
    if let Err(stopped) = offer(visit, Site::Stmts(stmts)) {
        return stopped;
    }
    stmts.iter_mut().any(|s| walk_stmt(s, visit))
}

fn walk_fn(decl: &mut FnDecl, callers: Callers, visit: &mut Visit<'_>) -> bool {
    if let Err(stopped) = offer(visit, Site::Decl(decl, callers)) {
        return stopped;
    }
    walk_stmts(&mut decl.body.stmts, visit)
}

fn walk_stmt(stmt: &mut Stmt, visit: &mut Visit<'_>) -> bool {
    with_stack(|| match &mut stmt.kind {
        StmtKind::Let { binding, init } => match init {
            Some(e) => {
                if let ExprKind::Fn(decl) = &mut e.kind {
                    let callers = Callers::Name(binding.ident.name.clone());
                    // The body is walked with the expression below.
                    if let Err(true) = offer(visit, Site::Decl(decl, callers)) {
                        return true;
                    }
                }
                walk_expr(e, Role::Value, visit)
            }
            None => false,
        },
        StmtKind::Expr(e) => walk_expr(e, Role::Statement, visit),
        StmtKind::Fn { binding, decl } => {
            walk_fn(decl, Callers::Name(binding.ident.name.clone()), visit)
        }
        StmtKind::Class(c) => {
            if let Err(stopped) = offer(visit, Site::Methods(&mut c.methods)) {
                return stopped;
            }
            let class = c.name.name.clone();
            c.methods.iter_mut().any(|m| {
                let callers = Callers::Method {
                    name: m.name.name.clone(),
                    class: class.clone(),
                };
                walk_fn(m, callers, visit)
            })
        }
        StmtKind::If { branches, els } => {
            branches.iter_mut().any(|(cond, block)| {
                walk_expr(cond, Role::Value, visit) || walk_stmts(&mut block.stmts, visit)
            }) || els
                .as_mut()
                .is_some_and(|b| walk_stmts(&mut b.stmts, visit))
        }
        StmtKind::While { cond, body } => {
            walk_expr(cond, Role::Value, visit) || walk_stmts(&mut body.stmts, visit)
        }
        StmtKind::ForRange {
            start, end, body, ..
        } => {
            walk_expr(start, Role::Value, visit)
                || walk_expr(end, Role::Value, visit)
                || walk_stmts(&mut body.stmts, visit)
        }
        StmtKind::ForIn { iter, body, .. } => {
            walk_expr(iter, Role::Value, visit) || walk_stmts(&mut body.stmts, visit)
        }
        StmtKind::Return(Some(e)) | StmtKind::Throw(e) => walk_expr(e, Role::Value, visit),
        StmtKind::Try { body, handler, .. } => {
            walk_stmts(&mut body.stmts, visit) || walk_stmts(&mut handler.stmts, visit)
        }
        StmtKind::Block(b) => walk_stmts(&mut b.stmts, visit),
        StmtKind::Return(None) | StmtKind::Break | StmtKind::Continue => false,
    })
}

fn walk_expr(e: &mut Expr, role: Role, visit: &mut Visit<'_>) -> bool {
    if let Err(stopped) = offer(visit, Site::Expr(e, role)) {
        return stopped;
    }
    with_stack(|| match &mut e.kind {
        ExprKind::List(items) => items.iter_mut().any(|x| walk_expr(x, Role::Value, visit)),
        ExprKind::Map(entries) => entries
            .iter_mut()
            .any(|(k, v)| walk_expr(k, Role::Value, visit) || walk_expr(v, Role::Value, visit)),
        ExprKind::Unary { expr, .. } => walk_expr(expr, Role::Value, visit),
        ExprKind::Chain { first, rest } => {
            walk_expr(first, Role::Value, visit)
                || rest
                    .iter_mut()
                    .any(|(_, _, x)| walk_expr(x, Role::Value, visit))
        }
        ExprKind::Call { callee, args } => {
            walk_expr(callee, Role::Callee, visit)
                || args.iter_mut().any(|x| walk_expr(x, Role::Value, visit))
        }
        ExprKind::Get { obj, .. } => walk_expr(obj, Role::Value, visit),
        ExprKind::Index { obj, index } => {
            walk_expr(obj, Role::Value, visit) || walk_expr(index, Role::Value, visit)
        }
        ExprKind::Fn(decl) => walk_stmts(&mut decl.body.stmts, visit),
        ExprKind::Assign { target, value, .. } => {
            walk_expr(target, Role::Target, visit) || walk_expr(value, Role::Value, visit)
        }
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Bool(_)
        | ExprKind::Nil
        | ExprKind::Name { .. }
        | ExprKind::SelfRef { .. }
        | ExprKind::Super { .. } => false,
    })
}

/// Sites of one kind in `program`.
fn count(program: &mut Program, kind: Kind) -> usize {
    let mut n = 0;
    walk(program, &mut |site| {
        if site.kind() == kind {
            n += 1;
        }
        Flow::Continue
    });
    n
}

/// Runs `f` on the `index`-th site of `kind`; `None` if there is none.
fn with_site<R>(
    program: &mut Program,
    kind: Kind,
    index: usize,
    f: impl FnOnce(Site<'_>) -> R,
) -> Option<R> {
    let mut f = Some(f);
    let mut out = None;
    let mut seen = 0;
    walk(program, &mut |site| {
        if site.kind() != kind {
            return Flow::Continue;
        }
        if seen < index {
            seen += 1;
            return Flow::Continue;
        }
        out = f.take().map(|f| f(site));
        Flow::Stop
    });
    out
}

/// Length of the `index`-th statement or method list.
fn seq_len(program: &mut Program, index: usize) -> usize {
    with_site(program, Kind::Seq, index, |site| match site {
        Site::Stmts(v) => v.len(),
        Site::Methods(v) => v.len(),
        Site::Decl(..) | Site::Expr(..) => 0,
    })
    .unwrap_or(0)
}

/// Statements in all blocks: positions for statement-level passes, numbered block by block
/// in walk order.
fn count_stmts(program: &mut Program) -> usize {
    let mut n = 0;
    walk(program, &mut |site| {
        if let Site::Stmts(v) = site {
            n += v.len();
        }
        Flow::Continue
    });
    n
}

/// Runs `f` on the block holding statement `index` (see `count_stmts`) and its index there.
fn with_stmt<R>(
    program: &mut Program,
    index: usize,
    f: impl FnOnce(&mut Vec<Stmt>, usize) -> R,
) -> Option<R> {
    let mut f = Some(f);
    let mut out = None;
    let mut rest = index;
    walk(program, &mut |site| {
        if let Site::Stmts(v) = site {
            if rest < v.len() {
                out = f.take().map(|f| f(v, rest));
                return Flow::Stop;
            }
            rest -= v.len();
        }
        Flow::Continue
    });
    out
}

/// Names that calls may drop arguments of only together with a parameter: functions and
/// classes declared in the program.
fn declared_names(program: &mut Program) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    walk(program, &mut |site| {
        match site {
            Site::Decl(_, Callers::Name(n)) => {
                names.insert(n);
            }
            Site::Decl(_, Callers::Method { class, .. }) => {
                names.insert(class);
            }
            Site::Stmts(_) | Site::Methods(_) | Site::Expr(..) => {}
        }
        Flow::Continue
    });
    names
}

/// Whether a name is read or assigned anywhere in `stmts`.
fn mentions(stmts: &[Stmt], name: &str) -> bool {
    let mut copy = stmts.to_vec();
    let mut found = false;
    walk_stmts(&mut copy, &mut |site| match site {
        Site::Expr(e, _) if matches!(&e.kind, ExprKind::Name { name: n, .. } if n == name) => {
            found = true;
            Flow::Stop
        }
        _ => Flow::Continue,
    });
    found
}

// ---------------------------------------------------------------------------------------
// Size

/// The size reduction minimizes. Every edit the passes make lowers it: statements and
/// blocks cost more than expressions, names and operators more than literals, and long
/// literals more than short ones.
fn program_weight(p: &Program) -> u64 {
    p.stmts.iter().map(stmt_weight).sum()
}

fn block_weight(b: &Block) -> u64 {
    2 + b.stmts.iter().map(stmt_weight).sum::<u64>()
}

fn fn_weight(f: &FnDecl) -> u64 {
    f.params.len() as u64 + block_weight(&f.body)
}

fn opt_weight(e: &Option<Expr>) -> u64 {
    e.as_ref().map_or(0, expr_weight)
}

fn stmt_weight(s: &Stmt) -> u64 {
    let inner = with_stack(|| match &s.kind {
        StmtKind::Let { init, .. } => opt_weight(init),
        StmtKind::Expr(e) | StmtKind::Throw(e) => expr_weight(e),
        StmtKind::Return(e) => opt_weight(e),
        StmtKind::Fn { decl, .. } => fn_weight(decl),
        StmtKind::Class(c) => {
            u64::from(c.superclass.is_some())
                + c.methods.iter().map(|m| 4 + fn_weight(m)).sum::<u64>()
        }
        StmtKind::If { branches, els } => {
            branches
                .iter()
                .map(|(c, b)| expr_weight(c) + block_weight(b))
                .sum::<u64>()
                + els.as_ref().map_or(0, block_weight)
        }
        StmtKind::While { cond, body } => expr_weight(cond) + block_weight(body),
        StmtKind::ForRange {
            start, end, body, ..
        } => expr_weight(start) + expr_weight(end) + block_weight(body),
        StmtKind::ForIn { iter, body, .. } => expr_weight(iter) + block_weight(body),
        StmtKind::Try { body, handler, .. } => block_weight(body) + block_weight(handler),
        StmtKind::Block(b) => block_weight(b),
        StmtKind::Break | StmtKind::Continue => 0,
    });
    4 + inner
}

fn expr_weight(e: &Expr) -> u64 {
    with_stack(|| match &e.kind {
        ExprKind::Nil | ExprKind::Bool(_) => 1,
        ExprKind::Int(n) => 1 + u64::from(64 - n.unsigned_abs().leading_zeros()),
        ExprKind::Float(f) if *f == 0.0 => 1,
        ExprKind::Float(f) if f.fract() == 0.0 => 2,
        ExprKind::Float(_) => 3,
        ExprKind::Str(s) => 1 + s.chars().count() as u64,
        ExprKind::Name { .. } | ExprKind::SelfRef { .. } | ExprKind::Super { .. } => 3,
        ExprKind::List(items) => 3 + items.iter().map(expr_weight).sum::<u64>(),
        ExprKind::Map(entries) => {
            3 + entries
                .iter()
                .map(|(k, v)| expr_weight(k) + expr_weight(v))
                .sum::<u64>()
        }
        ExprKind::Unary { expr, .. } => 3 + expr_weight(expr),
        ExprKind::Chain { first, rest } => {
            3 + expr_weight(first) + rest.iter().map(|(_, _, x)| expr_weight(x)).sum::<u64>()
        }
        ExprKind::Call { callee, args } => {
            3 + expr_weight(callee) + args.iter().map(expr_weight).sum::<u64>()
        }
        ExprKind::Get { obj, .. } => 3 + expr_weight(obj),
        ExprKind::Index { obj, index } => 3 + expr_weight(obj) + expr_weight(index),
        ExprKind::Fn(decl) => 3 + fn_weight(decl),
        ExprKind::Assign { target, op, value } => {
            3 + u64::from(op.is_some()) + expr_weight(target) + expr_weight(value)
        }
    })
}

// ---------------------------------------------------------------------------------------
// Edits

fn expr(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn stmt(kind: StmtKind) -> Stmt {
    Stmt {
        kind,
        span: Span::default(),
    }
}

fn is_literal(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Bool(_)
            | ExprKind::Nil
    )
}

/// `stmts`, preceded by `let var = init;` when they use `var` (which the statement they
/// come from bound).
fn bind_then(var: &Binding, init: Expr, stmts: &[Stmt]) -> Vec<Stmt> {
    let mut out = Vec::with_capacity(stmts.len() + 1);
    if mentions(stmts, &var.ident.name) {
        out.push(stmt(StmtKind::Let {
            binding: Binding {
                ident: Ident {
                    name: var.ident.name.clone(),
                    span: Span::default(),
                },
                id: BindingId(0),
            },
            init: Some(init),
        }));
    }
    out.extend_from_slice(stmts);
    out
}

/// Statement sequences that may replace `s`: its contents, or a shorter form of it.
fn unwrapped(s: &Stmt) -> Vec<Vec<Stmt>> {
    let mut out = Vec::new();
    match &s.kind {
        StmtKind::If { branches, els } => {
            out.extend(branches.iter().map(|(_, b)| b.stmts.clone()));
            if let Some(b) = els {
                out.push(b.stmts.clone());
                out.push(vec![stmt(StmtKind::If {
                    branches: branches.clone(),
                    els: None,
                })]);
            }
            if branches.len() > 1 {
                for i in 0..branches.len() {
                    let mut fewer = branches.clone();
                    fewer.remove(i);
                    out.push(vec![stmt(StmtKind::If {
                        branches: fewer,
                        els: els.clone(),
                    })]);
                }
            }
        }
        StmtKind::While { body, .. } => out.push(body.stmts.clone()),
        StmtKind::ForRange {
            var, start, body, ..
        } => out.push(bind_then(var, start.clone(), &body.stmts)),
        StmtKind::ForIn { var, body, .. } => {
            out.push(bind_then(var, expr(ExprKind::Nil), &body.stmts));
        }
        StmtKind::Try { body, var, handler } => {
            out.push(body.stmts.clone());
            out.push(bind_then(var, expr(ExprKind::Nil), &handler.stmts));
        }
        StmtKind::Block(b) => out.push(b.stmts.clone()),
        StmtKind::Return(Some(_)) => out.push(vec![stmt(StmtKind::Return(None))]),
        // Keeps what computing the value does when the variable is not needed.
        StmtKind::Let {
            init: Some(init), ..
        } if matches!(init.kind, ExprKind::Call { .. } | ExprKind::Assign { .. }) => {
            out.push(vec![stmt(StmtKind::Expr(init.clone()))]);
        }
        StmtKind::Let { .. }
        | StmtKind::Expr(_)
        | StmtKind::Fn { .. }
        | StmtKind::Class(_)
        | StmtKind::Break
        | StmtKind::Continue
        | StmtKind::Return(None)
        | StmtKind::Throw(_) => {}
    }
    out
}

/// Expressions that may replace `e` (used as `role`), most promising first: its operands,
/// shorter forms of it, then simple literals. `declared` are the program's functions and
/// classes, whose calls lose arguments only with the parameter.
fn simpler(e: &Expr, role: Role, declared: &BTreeSet<String>) -> Vec<Expr> {
    if matches!(role, Role::Callee | Role::Target) {
        return Vec::new();
    }
    let mut out = Vec::new();
    match &e.kind {
        ExprKind::Int(n) => out.extend(
            [0, 1, n / 2]
                .into_iter()
                .filter(|m| m.unsigned_abs() < n.unsigned_abs())
                .map(|m| expr(ExprKind::Int(m))),
        ),
        ExprKind::Float(f) => {
            let weight = expr_weight(e);
            out.extend(
                [0.0, 1.0, f.trunc()]
                    .into_iter()
                    .map(|g| expr(ExprKind::Float(g)))
                    .filter(|g| expr_weight(g) < weight),
            );
        }
        ExprKind::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            let half = chars.len() / 2;
            out.push(expr(ExprKind::Str(String::new())));
            if chars.len() > 1 {
                out.push(expr(ExprKind::Str(chars[..half].iter().collect())));
                out.push(expr(ExprKind::Str(chars[half..].iter().collect())));
            }
        }
        ExprKind::List(items) => {
            out.push(expr(ExprKind::List(Vec::new())));
            if items.len() > 1 {
                out.extend((0..items.len()).map(|i| {
                    let mut fewer = items.clone();
                    fewer.remove(i);
                    expr(ExprKind::List(fewer))
                }));
            }
            out.extend(items.iter().cloned());
        }
        ExprKind::Map(entries) => {
            out.push(expr(ExprKind::Map(Vec::new())));
            if entries.len() > 1 {
                out.extend((0..entries.len()).map(|i| {
                    let mut fewer = entries.clone();
                    fewer.remove(i);
                    expr(ExprKind::Map(fewer))
                }));
            }
            for (k, v) in entries {
                out.push(k.clone());
                out.push(v.clone());
            }
        }
        ExprKind::Unary { expr: operand, .. } => out.push((**operand).clone()),
        ExprKind::Chain { first, rest } => {
            out.push((**first).clone());
            out.extend(rest.iter().map(|(_, _, x)| x.clone()));
            if rest.len() > 1 {
                out.push(expr(ExprKind::Chain {
                    first: Box::new(rest[0].2.clone()),
                    rest: rest[1..].to_vec(),
                }));
                out.extend((0..rest.len()).map(|i| {
                    let mut fewer = rest.clone();
                    fewer.remove(i);
                    expr(ExprKind::Chain {
                        first: first.clone(),
                        rest: fewer,
                    })
                }));
            }
        }
        ExprKind::Call { callee, args } => {
            out.extend(args.iter().cloned());
            if let ExprKind::Get { obj, .. } = &callee.kind {
                out.push((**obj).clone());
            }
            let own =
                matches!(&callee.kind, ExprKind::Name { name, .. } if declared.contains(name));
            if !own {
                out.extend((0..args.len()).map(|i| {
                    let mut fewer = args.clone();
                    fewer.remove(i);
                    expr(ExprKind::Call {
                        callee: callee.clone(),
                        args: fewer,
                    })
                }));
            }
        }
        ExprKind::Get { obj, .. } => out.push((**obj).clone()),
        ExprKind::Index { obj, index } => {
            out.push((**obj).clone());
            out.push((**index).clone());
        }
        ExprKind::Assign { target, op, value } => {
            if op.is_some() {
                out.push(expr(ExprKind::Assign {
                    target: target.clone(),
                    op: None,
                    value: value.clone(),
                }));
            }
            out.push((**value).clone());
        }
        ExprKind::Bool(_)
        | ExprKind::Nil
        | ExprKind::Name { .. }
        | ExprKind::SelfRef { .. }
        | ExprKind::Super { .. }
        | ExprKind::Fn(_) => {}
    }
    if role == Role::Value && !is_literal(e) {
        out.extend(
            [
                ExprKind::Int(0),
                ExprKind::Int(1),
                ExprKind::Nil,
                ExprKind::Bool(true),
                ExprKind::Str(String::new()),
            ]
            .map(expr),
        );
    }
    out.retain(|c| c != e);
    out
}

/// An edit of the inlining pass.
enum Inline {
    /// Inline every call and delete the function.
    Everywhere,
    /// Inline the n-th call (in walk order).
    At(usize),
}

/// A function whose body is `return EXPR;`.
struct Inlinable {
    name: String,
    params: Vec<String>,
    body: Expr,
}

impl Inlinable {
    fn of(s: &Stmt) -> Option<Inlinable> {
        let (name, decl) = match &s.kind {
            StmtKind::Fn { binding, decl } => (&binding.ident.name, &**decl),
            StmtKind::Let {
                binding,
                init: Some(init),
            } => match &init.kind {
                ExprKind::Fn(decl) => (&binding.ident.name, &**decl),
                _ => return None,
            },
            _ => return None,
        };
        let [only] = decl.body.stmts.as_slice() else {
            return None;
        };
        let StmtKind::Return(Some(body)) = &only.kind else {
            return None;
        };
        Some(Inlinable {
            name: name.clone(),
            params: decl.params.iter().map(|p| p.ident.name.clone()).collect(),
            body: body.clone(),
        })
    }

    /// Whether `e` calls this function by name with the right number of arguments.
    fn is_call(&self, e: &Expr) -> bool {
        matches!(&e.kind, ExprKind::Call { callee, args }
            if args.len() == self.params.len()
                && matches!(&callee.kind, ExprKind::Name { name, .. } if *name == self.name))
    }

    fn count_calls(&self, program: &mut Program) -> usize {
        let mut n = 0;
        walk(program, &mut |site| {
            if let Site::Expr(e, _) = site
                && self.is_call(e)
            {
                n += 1;
            }
            Flow::Continue
        });
        n
    }

    /// The body with the parameters replaced by `args`.
    fn expand(&self, args: &[Expr]) -> Expr {
        let mut out = self.body.clone();
        walk_expr(&mut out, Role::Value, &mut |site| {
            if let Site::Expr(e, _) = site
                && let ExprKind::Name { name, .. } = &e.kind
                && let Some(i) = self.params.iter().position(|p| p == name)
            {
                *e = args[i].clone();
                // The argument is the caller's expression: its names are not parameters.
                return Flow::Skip;
            }
            Flow::Continue
        });
        out
    }

    /// Replaces a call (see `is_call`) by the expansion, inlining calls in its arguments
    /// first.
    fn inline_nested(&self, e: &mut Expr) {
        let ExprKind::Call { args, .. } = &e.kind else {
            return;
        };
        let mut args = args.clone();
        for a in &mut args {
            walk_expr(a, Role::Value, &mut |site| match site {
                Site::Expr(inner, _) if self.is_call(inner) => {
                    self.inline_nested(inner);
                    Flow::Skip
                }
                _ => Flow::Continue,
            });
        }
        *e = self.expand(&args);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_expr(src: &str) -> Expr {
        let mut p = parse(src, MAX_DEPTH).unwrap();
        with_site(&mut p, Kind::Expr, 0, |site| match site {
            Site::Expr(e, _) => e.clone(),
            _ => unreachable!("only expression sites are counted"),
        })
        .unwrap()
    }

    #[test]
    fn every_simpler_expression_weighs_less() {
        let declared = BTreeSet::new();
        for src in [
            "let x = a + b * 2 - c;",
            "let x = f(1, [2, 3], {4: 5, 6: 7});",
            "let x = \"some text\";",
            "let x = 1234;",
            "let x = 2.5;",
            "let x = o.m(y)[z];",
            "let x = !-y;",
        ] {
            let e = first_expr(src);
            for s in simpler(&e, Role::Value, &declared) {
                assert!(
                    expr_weight(&s) < expr_weight(&e),
                    "{src}: {s:?} is not lighter"
                );
            }
        }
    }

    #[test]
    fn slugs_are_safe() {
        assert_eq!(
            safe_slug("JIT: wrong Sum (seed 12)!"),
            "jit-wrong-sum-seed-12"
        );
        assert_eq!(safe_slug("///"), "regression");
        assert_eq!(safe_slug(&"a".repeat(60)).len(), 40);
    }

    #[test]
    fn notes_cannot_escape_their_comment() {
        assert_eq!(
            comment_safe("a */ b // expect: 1\nc"),
            "a * / b / / expect: 1 c"
        );
    }
}
