//! The reducer: shrinks a program at the syntax-tree level while a property (typically "the
//! tiers still disagree in the same way") keeps holding, and writes the result as a corpus file.
//! Every candidate is printed canonically and judged by the caller's predicate alone.

mod passes;
mod regression;
mod simplify;
mod sites;
mod weight;

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use echo_engine::syntax::ast::{Expr, ExprKind, Script, Span, Stmt, StmtKind};
use echo_engine::syntax::parser::parse;
use echo_engine::syntax::printer::print_script;

pub use regression::{RunSettings, write_regression};
use weight::program_weight;

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
    program: Script,
    text: String,
    weight: u64,
    /// Hashes of every candidate text given to `keep`: a candidate equal to one already
    /// judged is not judged again.
    judged: HashSet<u64>,
}

impl<'k> Reducer<'k> {
    fn new(program: Script, keep: &'k mut dyn FnMut(&str) -> bool, budget: Budget) -> Self {
        let text = print_script(&program);
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
    fn test(&mut self, candidate: Script) -> Step {
        let weight = program_weight(&candidate);
        if weight > self.weight {
            return Ok(false);
        }
        let text = print_script(&candidate);
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
        count: impl Fn(&mut Script) -> usize,
        edits: impl Fn(&mut Script, usize) -> Vec<E>,
        apply: impl Fn(&mut Script, usize, E),
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
}

fn text_hash(text: &str) -> u64 {
    // Unlike a `HashMap`'s hasher, `DefaultHasher::new` is not randomly seeded: the same
    // candidates are skipped in every run.
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

// Nodes that edits build have no place in the source: they are printed, then parsed again.

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

/// Every copy of `v` with one element left out, leaving out the first element first.
fn each_without_one<T: Clone>(v: &[T]) -> impl Iterator<Item = Vec<T>> + '_ {
    (0..v.len()).map(|i| {
        let mut fewer = v.to_vec();
        fewer.remove(i);
        fewer
    })
}
