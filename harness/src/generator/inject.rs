//! Errors on purpose: a share of cases carries one faulty operation of a chosen error kind,
//! in a function called from a hot loop and triggered after warm-up (so it usually fails in
//! compiled code), caught by a `try` or not. Engine limits come with small limits for the case.

use echo_engine::error::ErrorKind;
use echo_engine::syntax::ast::{BinOp, Expr, Stmt, UnOp};

use super::Gen;
use super::build::*;

/// A fault that only a limit met inside compiled code shows, each checked there by code of
/// its own: a missed check is a hang or a late error, which no other part of a case shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LimitFault {
    /// A runaway `while` loop whose test is fused with its back-edge.
    WhileTest,
    /// A runaway `while true` loop: a plain jump back.
    WhileTrue,
    /// A runaway `for` over a range too long to finish.
    ForRange,
    /// A list grown by `push` (inline in compiled code) past the collection limit.
    Push,
}

/// The faults in turn. The first three are the runaway loops a drawn fuel fault picks from,
/// by index (`pick(3)`), so their order keeps the programs of drawn cases as they were.
const LIMIT_FAULTS: [LimitFault; 4] = [
    LimitFault::WhileTest,
    LimitFault::WhileTrue,
    LimitFault::ForRange,
    LimitFault::Push,
];

/// In a steered campaign, every `LIMIT_TURN`-th case carries a limit fault, the next of
/// `LIMIT_FAULTS` each time. Drawn with the other injected errors, each comes in one case in
/// one to four hundred, so a missed check could hide for minutes; in turn, each comes every
/// 64 cases.
const LIMIT_TURN: u64 = 16;

/// Every error kind a program can meet at run time (compile errors are never generated), in
/// the engine's order: the kinds the engine classifies as runtime errors or limits.
pub fn runtime_kinds() -> impl Iterator<Item = ErrorKind> {
    ErrorKind::ALL.iter().copied().filter(|k| k.is_runtime())
}

impl Gen<'_, '_> {
    /// The limit fault whose turn this case is (see `LIMIT_TURN`), in a steered campaign.
    pub(crate) fn limit_turn(&self) -> Option<LimitFault> {
        let seed = self.seed.filter(|_| self.opts.steering.is_some())?;
        (seed % LIMIT_TURN == 0)
            .then(|| LIMIT_FAULTS[(seed / LIMIT_TURN) as usize % LIMIT_FAULTS.len()])
    }

    /// Makes `fault` this case's error, with the limit it needs: the collection limit
    /// lowered for `push` (not below what the sweeps' lists need), the case's fuel left as it
    /// is for a runaway loop (a budget that lasts until the loop, which then runs out in
    /// compiled code). The rest of the case is what it would have been (its sweeps
    /// included): the fault comes last.
    pub(crate) fn force_limit_fault(&mut self, fault: LimitFault) {
        self.limit_fault = Some(fault);
        if fault == LimitFault::Push {
            self.intent = Some(ErrorKind::SizeLimit);
            self.limits.max_collection_len = self.range(1024, 4096) as usize;
        } else {
            self.intent = Some(ErrorKind::FuelExhausted);
        }
    }

    /// Picks the error kind of this case and the limits it needs.
    pub(crate) fn choose_intent(&mut self) {
        // The engine limits weigh three times as much as the catchable kinds: no `try` catches
        // them, so probes never reach them and only intents do. Fuel and memory twice that
        // again. Every kind of compiled back-edge must check fuel, and a missed check is a
        // hang that only a runaway loop in compiled code shows. The memory limit is the only
        // place where what the collector keeps alive shows in a result: a safepoint that roots
        // a stale register, or misses a live one, moves the moment the limit is hit. (Faults
        // of limits met in compiled code also come in turn: see `LIMIT_TURN`.)
        let kinds: Vec<ErrorKind> = runtime_kinds().collect();
        let weights: Vec<u32> = kinds
            .iter()
            .map(|k| match k {
                ErrorKind::FuelExhausted | ErrorKind::MemoryLimit => 6,
                k if k.is_catchable() => 1,
                _ => 3,
            })
            .collect();
        let k = kinds[self.weighted(&weights)];
        self.intent = Some(k);
        match k {
            // Small budgets run out anywhere in the program (fuel must be charged alike
            // everywhere); larger ones mostly last until the injected runaway loop, which
            // then runs out in compiled code.
            ErrorKind::FuelExhausted => {
                let fuel = if self.chance(1, 2) {
                    self.range(20, 3000)
                } else {
                    self.range(3000, 40000)
                };
                self.limits.fuel = Some(fuel as u64);
            }
            ErrorKind::StackOverflow => {
                if self.chance(1, 4) {
                    self.limits.max_stack_slots = self.range(200, 3000) as usize;
                } else {
                    self.limits.max_call_depth = self.range(10, 400) as u32;
                }
            }
            ErrorKind::MemoryLimit => {
                self.limits.max_heap_bytes = self.range(1 << 16, 1 << 20) as usize;
            }
            ErrorKind::SizeLimit => {
                if self.chance(1, 2) {
                    self.limits.max_string_bytes = self.range(64, 8192) as usize;
                } else {
                    self.limits.max_collection_len = self.range(16, 4096) as usize;
                }
            }
            _ => {}
        }
    }

    /// The faulty function and the loop that calls it (and, for a global read before its
    /// initialization, the late declaration, which goes last).
    pub(crate) fn injection(&mut self) -> Option<(Vec<Stmt>, Vec<Stmt>)> {
        let kind = self.intent?;
        let f = self.fresh("fault");
        let i = self.fresh("i");
        let trips = self.range(2, 40);
        let at = self.range(0, trips - 1);
        let mut late = Vec::new();
        let mut helpers = Vec::new();
        let fault = self.fault(kind, &i, &mut helpers, &mut late);
        let body = vec![
            if_(vec![(bin(BinOp::Eq, name(&i), int(at)), fault)], None),
            return_(Some(name(&i))),
        ];
        let mut out = helpers;
        out.push(fn_stmt(fn_decl(&f, std::slice::from_ref(&i), body)));
        let j = self.fresh("j");
        let call = print(vec![call_named(&f, vec![name(&j)])]);
        let lp = for_range(&j, int(0), int(trips), vec![call]);
        if self.chance(3, 5) {
            let e = self.fresh("e");
            out.push(try_(
                vec![lp],
                &e,
                vec![print(vec![string("caught"), name(&e)])],
            ));
        } else {
            out.push(lp);
        }
        Some((out, late))
    }

    /// Statements that raise `kind` (`i` is an int parameter holding the trigger value).
    fn fault(
        &mut self,
        kind: ErrorKind,
        i: &str,
        helpers: &mut Vec<Stmt>,
        late: &mut Vec<Stmt>,
    ) -> Vec<Stmt> {
        let iv = || name(i);
        let sink = |x: Expr| vec![print(vec![x])];
        match kind {
            ErrorKind::TypeError => match self.pick(7) {
                0 => sink(bin(BinOp::Add, iv(), string("s"))),
                1 => sink(call(iv(), vec![])),
                2 => sink(unary(
                    UnOp::Neg,
                    bin(BinOp::Add, string("-"), call_named("str", vec![iv()])),
                )),
                3 => sink(call_named("len", vec![iv()])),
                4 => sink(bin(BinOp::Lt, iv(), list(vec![iv()]))),
                5 => vec![for_range(
                    "q",
                    int(0),
                    call_named("str", vec![iv()]),
                    vec![],
                )],
                _ => vec![for_in("q", iv(), vec![])],
            },
            ErrorKind::ArityError => {
                let two = self.fresh("two");
                helpers.push(fn_stmt(fn_decl(
                    &two,
                    &["a".to_string(), "b".to_string()],
                    vec![return_(Some(name("a")))],
                )));
                match self.pick(3) {
                    0 => sink(call_named(&two, vec![iv()])),
                    1 => sink(call_named("len", vec![iv(), iv()])),
                    _ => sink(call_named(&two, vec![iv(), iv(), iv()])),
                }
            }
            ErrorKind::IndexError => match self.pick(4) {
                0 => sink(index(list(vec![iv(), iv()]), bin(BinOp::Add, iv(), int(2)))),
                1 => sink(call_named("pop", vec![list(vec![])])),
                2 => sink(index(string("ab"), bin(BinOp::Add, iv(), int(5)))),
                _ => sink(call_named(
                    "slice",
                    vec![list(vec![iv()]), int(0), bin(BinOp::Add, iv(), int(3))],
                )),
            },
            ErrorKind::KeyError => sink(index(
                map(vec![(string("a"), iv())]),
                bin(BinOp::Add, string("b"), call_named("str", vec![iv()])),
            )),
            ErrorKind::AttributeError => {
                if let Some(c) = (!self.classes.is_empty()).then(|| self.pick(self.classes.len())) {
                    let o = self.construct(c);
                    if self.chance(1, 2) {
                        sink(get(o, "nofield"))
                    } else {
                        sink(method_call(o, "nomethod", vec![iv()]))
                    }
                } else {
                    sink(get(iv(), "nofield"))
                }
            }
            ErrorKind::OverflowError => match self.pick(4) {
                0 => sink(bin(
                    BinOp::Add,
                    int(i64::MAX - 3),
                    bin(BinOp::Add, iv(), int(10)),
                )),
                1 => sink(bin(
                    BinOp::Mul,
                    bin(BinOp::Add, iv(), int(2)),
                    int(i64::MAX / 2 + 7),
                )),
                2 => sink(call_named(
                    "pow",
                    vec![bin(BinOp::Add, iv(), int(3)), int(70)],
                )),
                // The one int whose negation overflows, computed without overflowing.
                _ => sink(unary(
                    UnOp::Neg,
                    bin(
                        BinOp::Sub,
                        bin(BinOp::Sub, bin(BinOp::Sub, iv(), iv()), int(i64::MAX)),
                        int(1),
                    ),
                )),
            },
            ErrorKind::ZeroDivisionError => {
                let op = if self.chance(1, 2) {
                    BinOp::Div
                } else {
                    BinOp::Mod
                };
                sink(bin(op, int(7), bin(BinOp::Sub, iv(), iv())))
            }
            ErrorKind::ValueError => match self.pick(5) {
                0 => sink(call_named(
                    "int",
                    vec![bin(BinOp::Add, string("x"), call_named("str", vec![iv()]))],
                )),
                1 => sink(call_named("chr", vec![bin(BinOp::Sub, int(-1), iv())])),
                2 => sink(bin(BinOp::Mul, string("a"), bin(BinOp::Sub, int(-1), iv()))),
                3 => sink(call_named(
                    "split",
                    vec![call_named("str", vec![iv()]), string("")],
                )),
                _ => sink(call_named("min", vec![list(vec![])])),
            },
            ErrorKind::AssertionError => vec![expr_stmt(call_named(
                "assert",
                vec![
                    bin(BinOp::Lt, iv(), int(0)),
                    bin(BinOp::Add, string("bad "), call_named("str", vec![iv()])),
                ],
            ))],
            ErrorKind::Thrown => {
                let v = match self.pick(3) {
                    0 => bin(BinOp::Add, string("boom "), call_named("str", vec![iv()])),
                    1 => list(vec![iv(), string("x")]),
                    _ => call_named("Error", vec![iv()]),
                };
                vec![throw(v)]
            }
            ErrorKind::NameError => {
                // A global read before its `let` has run.
                let g = self.fresh("late");
                late.push(let_(&g, int(1)));
                sink(bin(BinOp::Add, name(&g), iv()))
            }
            ErrorKind::FuelExhausted => {
                // A runaway loop of each kind of back-edge: a `while` test fused with it, a
                // plain jump back (`while true`), a `for` over a range too long to finish.
                let w = self.fresh("w");
                let step = vec![expr_stmt(compound(name(&w), BinOp::Add, int(1)))];
                let kind = match self.limit_fault {
                    Some(f) => f,
                    None => LIMIT_FAULTS[self.pick(3)],
                };
                let runaway = match kind {
                    LimitFault::WhileTest => while_(bin(BinOp::Ge, name(&w), int(0)), step),
                    LimitFault::WhileTrue => while_(boolean(true), step),
                    _ => {
                        let k = self.fresh("k");
                        for_range(&k, int(0), int(1 << 40), step)
                    }
                };
                vec![let_(&w, iv()), runaway]
            }
            ErrorKind::StackOverflow => {
                let deep = self.fresh("deep");
                helpers.push(fn_stmt(fn_decl(
                    &deep,
                    &["n".to_string()],
                    vec![return_(Some(bin(
                        BinOp::Add,
                        call_named(&deep, vec![bin(BinOp::Add, name("n"), int(1))]),
                        int(1),
                    )))],
                )));
                sink(call_named(&deep, vec![iv()]))
            }
            ErrorKind::MemoryLimit => {
                // First garbage that only a dead local refers to (up to a quarter of the
                // limit; built by a builtin, which compiled code never speculates about): what
                // the collector keeps at each safepoint decides when the limit is hit.
                let junk = self.fresh("junk");
                let n = (self.limits.max_heap_bytes / 64).clamp(1, 1 << 13) as i64;
                let hog = self.fresh("hog");
                let mut body = vec![expr_stmt(call_named(
                    "push",
                    vec![name(&hog), list(vec![iv(), iv(), iv(), iv()])],
                ))];
                // Half the time, garbage made beside the growth on every trip (a list, a
                // string, a builtin's list): the limit bounds live data, so it must be hit at
                // the same instruction however much garbage each tier's collections left,
                // and an allocation that ends in no safepoint in one tier shows.
                if self.chance(1, 2) {
                    let g = self.fresh("g");
                    let made = match self.pick(3) {
                        0 => list(vec![iv(), iv(), iv()]),
                        1 => bin(BinOp::Add, call_named("str", vec![iv()]), string("garbage")),
                        _ => call_named("range", vec![int(0), int(12)]),
                    };
                    body.push(let_(&g, made));
                }
                vec![
                    let_(&junk, call_named("range", vec![int(0), int(n)])),
                    expr_stmt(assign(name(&junk), int(0))),
                    let_(&hog, list(vec![])),
                    while_(boolean(true), body),
                ]
            }
            _ => {
                // SizeLimit: doubling a string or a list, or pushing onto a list one
                // element at a time (the loop gets hot: compiled `push` meets the limit).
                let s = self.fresh("big");
                // The limit lowered for this case says which.
                let strings = self.limits.max_collection_len >= super::program::CASE_COLLECTION_LEN;
                let init = if strings {
                    string("ab")
                } else {
                    list(vec![iv()])
                };
                let push = self.limit_fault == Some(LimitFault::Push) || self.chance(1, 2);
                let grow = if !strings && push {
                    call_named("push", vec![name(&s), iv()])
                } else {
                    assign(name(&s), bin(BinOp::Add, name(&s), name(&s)))
                };
                vec![let_(&s, init), while_(boolean(true), vec![expr_stmt(grow)])]
            }
        }
    }
}
