//! Kind sweeps and coverage steering. A sweep runs one operation over every pair (or every
//! value) of a list holding values of every kind, each inside a `try`, in a function called
//! first with ints only (so it is compiled speculating on ints) and then with everything (so
//! the speculation fails and generic code takes over). With `Steering`, the campaign's table
//! of semantic cell hits, the generator picks the sweeps whose cells are least reached.

use std::sync::atomic::{AtomicU32, Ordering};

use echo_engine::bytecode::OpCode;
use echo_engine::runtime::cells::{self, Cell};
use echo_engine::syntax::ast::Stmt;

use super::Gen;

/// What one sweep runs on each value `x` (and `y`, for a pair sweep) and which opcodes its
/// cells belong to. `@` stands for the sweep's operator.
struct Unit {
    /// Cells of these opcodes are what the sweep reaches.
    ops: &'static [OpCode],
    /// Whether it loops over pairs.
    pairs: bool,
    /// The body, with `x` (and `y`) bound; each statement is wrapped in its own `try`.
    body: &'static [&'static str],
    /// What the first call runs on, so that compiled code speculates.
    warm: Warm,
    /// Top-level functions the body calls (the sweep defines them before itself).
    helpers: &'static str,
}

/// The values of a sweep's first call: what compiled code then speculates on, until the
/// second call, with values of every kind, makes it leave.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Warm {
    /// Ints (arithmetic and comparisons speculate on ints).
    Ints,
    /// Fewer ints, for a pair sweep whose body is long: its 256 pairs get the callees and
    /// the loops hot, and leave the case's fuel to the pairs of every kind.
    FewInts,
    /// Instances of one class (the inline caches hold one shape).
    Instances,
    /// Lists as `x` and int indexes in range as `y` (indexing speculates on its list path);
    /// the sweep takes the two as separate lists.
    ListsAndIndexes,
}

use OpCode as O;

/// Every sweep. The positions sweep (values of every kind moved into arguments, list
/// elements, map values, fields, return values, thrown values and captured variables) is
/// the last.
const UNITS: &[Unit] = &[
    binary(&[O::Add], "+"),
    binary(&[O::Sub], "-"),
    binary(&[O::Mul], "*"),
    binary(&[O::Div], "/"),
    binary(&[O::Mod], "%"),
    binary(&[O::Eq], "=="),
    binary(&[O::Ne], "!="),
    binary(&[O::Lt], "<"),
    binary(&[O::Le], "<="),
    binary(&[O::Gt], ">"),
    binary(&[O::Ge], ">="),
    branch(&[O::JmpNotEq], "=="),
    branch(&[O::JmpNotNe], "!="),
    branch(&[O::JmpNotLt], "<"),
    branch(&[O::JmpNotLe], "<="),
    branch(&[O::JmpNotGt], ">"),
    branch(&[O::JmpNotGe], ">="),
    // The test ending a `while` loop's body (its fused back-edge) on operands the body
    // changed after an entry test that held; the second iteration leaves by `break`.
    Unit {
        ops: &[
            O::LoopEq,
            O::LoopNe,
            O::LoopLt,
            O::LoopLe,
            O::LoopGt,
            O::LoopGe,
        ],
        pairs: true,
        warm: Warm::Ints,
        helpers: "",
        body: &[
            "let a = 0; let b = 0; let n = 0; while a == b { n += 1; if n > 1 { break; } a = x; b = y; } print(n);",
            "let a = 0; let b = 1; let n = 0; while a != b { n += 1; if n > 1 { break; } a = x; b = y; } print(n);",
            "let a = 0; let b = 1; let n = 0; while a < b { n += 1; if n > 1 { break; } a = x; b = y; } print(n);",
            "let a = 0; let b = 1; let n = 0; while a <= b { n += 1; if n > 1 { break; } a = x; b = y; } print(n);",
            "let a = 1; let b = 0; let n = 0; while a > b { n += 1; if n > 1 { break; } a = x; b = y; } print(n);",
            "let a = 1; let b = 0; let n = 0; while a >= b { n += 1; if n > 1 { break; } a = x; b = y; } print(n);",
        ],
    },
    Unit {
        ops: &[
            O::LoopEqI,
            O::LoopNeI,
            O::LoopLtI,
            O::LoopLeI,
            O::LoopGtI,
            O::LoopGeI,
            O::LoopIf,
        ],
        pairs: false,
        warm: Warm::Ints,
        helpers: "",
        body: &[
            "let a = 1; let n = 0; while a == 1 { n += 1; if n > 1 { break; } a = x; } print(n);",
            "let a = 0; let n = 0; while a != 1 { n += 1; if n > 1 { break; } a = x; } print(n);",
            "let a = 0; let n = 0; while a < 1 { n += 1; if n > 1 { break; } a = x; } print(n);",
            "let a = 0; let n = 0; while a <= 1 { n += 1; if n > 1 { break; } a = x; } print(n);",
            "let a = 2; let n = 0; while a > 1 { n += 1; if n > 1 { break; } a = x; } print(n);",
            "let a = 2; let n = 0; while a >= 1 { n += 1; if n > 1 { break; } a = x; } print(n);",
            "let a = true; let n = 0; while a { n += 1; if n > 1 { break; } a = x; } print(n);",
        ],
    },
    Unit {
        ops: &[O::GetIndex],
        pairs: true,
        warm: Warm::ListsAndIndexes,
        helpers: "",
        // `has` looks a key up as indexing does (compiled code shares the finding helper).
        body: &["print(x[y]);", "print(has(x, y));"],
    },
    Unit {
        ops: &[O::SetIndex, O::SetIndexK],
        pairs: true,
        warm: Warm::ListsAndIndexes,
        helpers: "",
        // A value in a register, then a literal (`SetIndexK`), read back; then a new key
        // of a fresh map on every pair (a new entry, where the same map would get one only
        // the first time), updated in place.
        body: &[
            "let v = 1; x[y] = v;",
            "x[y] = 1.5; print(x[y]);",
            "let m = {}; m[y] = 2.5; print(m); m[y] = 3.5; print(m);",
        ],
    },
    Unit {
        ops: &[O::AddI, O::SubI, O::MulI, O::DivI, O::ModI],
        pairs: false,
        warm: Warm::Ints,
        helpers: "",
        body: &[
            "print(x + 1);",
            "print(x - 1);",
            "print(x * 2);",
            "print(x / 2);",
            "print(x / 0);",
            "print(x % 3);",
            "print(x % 0);",
            "let t = x; t = t + 1; t = t - 1; t = t * 1; t = t / 1; t = t % 7; print(t);",
        ],
    },
    Unit {
        ops: &[O::AddK, O::SubK, O::MulK, O::DivK, O::ModK],
        pairs: false,
        warm: Warm::Ints,
        helpers: "",
        body: &[
            "print(x + 0.5);",
            "print(x - 1.5);",
            "print(x * 0.25);",
            "print(x / 2.0);",
            "print(x / 0.0);",
            "print(x % 2.5);",
            "let t = x; t = t + 1.0; t = t - 0.75; t = t * 3.0; t = t / 1.5; t = t % 7.0; print(t);",
        ],
    },
    Unit {
        ops: &[O::AddIL, O::MulIL, O::AddKL, O::MulKL],
        pairs: false,
        warm: Warm::Ints,
        helpers: "",
        body: &[
            "print(1 + x);",
            "print(3 * x);",
            "print(0.5 + x);",
            "print(0.25 * x);",
            "let t = x; t = 2 + t; t = 3 * t; t = 1.5 + t; t = 2.0 * t; print(t);",
        ],
    },
    Unit {
        ops: &[
            O::JmpNotEqI,
            O::JmpNotNeI,
            O::JmpNotLtI,
            O::JmpNotLeI,
            O::JmpNotGtI,
            O::JmpNotGeI,
        ],
        pairs: false,
        warm: Warm::Ints,
        helpers: "",
        body: &[
            "if x == 1 { print(1); } else { print(0); }",
            "if x != 1 { print(1); } else { print(0); }",
            "if x < 1 { print(1); } else { print(0); }",
            "if x <= 1 { print(1); } else { print(0); }",
            "if x > 1 { print(1); } else { print(0); }",
            "if x >= 1 { print(1); } else { print(0); }",
        ],
    },
    Unit {
        ops: &[O::Neg, O::Not, O::JmpIf, O::JmpIfNot],
        pairs: false,
        warm: Warm::Ints,
        helpers: "",
        body: &[
            "print(-x);",
            "print(!x);",
            "print(x || 0);",
            "if x { print(1); } else { print(0); }",
            "let t = x; t = !t; print(t); t = x; t = -t; print(t);",
            // Floats made from the warm-up's ints, so that compiled code speculates on them:
            // a zero whose negation is -0.0 (not 0 - x), fractions to round both ways.
            "print(-(x * 0.0));",
            "print(floor(0.5 - x), ceil(x + 0.5), int(-0.5 - x));",
        ],
    },
    Unit {
        ops: &[
            O::GetProp,
            O::SetProp,
            O::Call,
            O::CallGlobal,
            O::Invoke,
            O::IterPrep,
        ],
        pairs: false,
        warm: Warm::Instances,
        helpers: "",
        body: &[
            "print(x.f);",
            "print(x.zz);",
            "x.f = 1;",
            "print(x(1));",
            "print(x(1, 2));",
            "print(x.m(1));",
            "print(x.zz(1));",
            "for e in x { print(e); }",
            "for i in x..2 { print(i); break; }",
            // A field and a method only the first class has: the cache holds its shape,
            // then the other class misses.
            "print(x.g);",
            "print(x.n(1));",
            // `super` methods missing or called with the wrong count, a global read before
            // its initializer ran.
            "print($C().s(x));",
            "print($C().t());",
            "print($C().u(x));",
            "print($L);",
            // A register checked for one shape, then given another object: the second read
            // must check the new object (whose `f` is not 7).
            "let o = $A(); o.f = 7; o = x; print(o.f);",
            // A class and a function called by name with the wrong number of arguments.
            "print($A(x));",
            "print(swsmall(x));",
        ],
    },
    // Operations inside small callees, which compiled code inlines: an inlined body takes no
    // helper, so each operation has a path of its own there (the types it did not see leave
    // for the interpreter, which finishes the callee). The cells are those of the operations
    // themselves, reached by the other sweeps too: this one is chosen by its turn and by
    // weight 1, not steered.
    Unit {
        ops: &[],
        pairs: true,
        warm: Warm::FewInts,
        helpers: "fn swieq(a, b) { return a == b; }\n\
                  fn swine(a, b) { if a != b { return 1; } return 0; }\n\
                  fn swilt(a, b) { return a < b; }\n\
                  fn swige(a, b) { if a >= b { return 1; } return 0; }\n\
                  fn swiadd(a, b) { let t = a + b; return t - a; }\n\
                  fn swimul(a, b) { return a * 2 + b % 3; }\n\
                  fn swilen(a) { return len(a); }\n\
                  fn swinum(a, b) { return min(abs(a), b); }\n\
                  fn swinest(a, b) { return swieq(b, a) == swilt(a, b); }\n",
        body: &[
            "print(swieq(x, y), swieq(x, x));",
            "print(swine(x, y));",
            "print(swilt(x, y));",
            "print(swige(x, y));",
            "print(swiadd(x, y));",
            "if swsmall(x, 2) { print(swimul(x, y)); }",
            "print(swilen(x));",
            "print(swinum(x, y));",
            "print(swinest(x, y));",
            "print($A().e(x, y));",
        ],
    },
];

const fn binary(ops: &'static [OpCode], sym: &'static str) -> Unit {
    Unit {
        ops,
        pairs: true,
        warm: Warm::Ints,
        helpers: "",
        body: match sym.as_bytes() {
            b"+" => &[
                "print(x + y);",
                "let t = x; t = t + y; t = y + t; print(t, x + x);",
            ],
            b"-" => &[
                "print(x - y);",
                "let t = x; t = t - y; t = y - t; print(t, x - x);",
            ],
            // A long repeat would stop the program at the size limit (not catchable).
            b"*" => &[
                "if swsmall(x, y) { print(x * y); }",
                "if swsmall(x, y) { let t = x; t = t * y; t = y * t; print(t, x * x); }",
            ],
            b"/" => &[
                "print(x / y);",
                "let t = x; t = t / y; t = y / t; print(t, x / x);",
            ],
            b"%" => &[
                "print(x % y);",
                "let t = x; t = t % y; t = y % t; print(t, x % x);",
            ],
            // A list or map against its copy: equal by content, not the same object.
            b"==" => &[
                "print(x == y);",
                "let t = x; t = t == y; t = y == t; print(t, x == x);",
                "let c = copy(x); print(x == c, c == x);",
                "print(x == nil, false == x, x == true);",
            ],
            b"!=" => &[
                "print(x != y);",
                "let t = x; t = t != y; t = y != t; print(t, x != x);",
                "let c = copy(x); print(x != c, c != x);",
                "print(x != nil, false != x, x != true);",
            ],
            b"<" => &["print(x < y);", "let t = x; t = t < y; print(t, x < x);"],
            b"<=" => &["print(x <= y);", "let t = x; t = t <= y; print(t, x <= x);"],
            b">" => &["print(x > y);", "let t = x; t = t > y; print(t, x > x);"],
            _ => &["print(x >= y);", "let t = x; t = t >= y; print(t, x >= x);"],
        },
    }
}

const fn branch(ops: &'static [OpCode], sym: &'static str) -> Unit {
    Unit {
        ops,
        pairs: true,
        warm: Warm::Ints,
        helpers: "",
        body: match sym.as_bytes() {
            b"==" => &[
                "if x == y { print(1); } else { print(0); }",
                "if x == x { print(2); }",
                "if x == nil { print(3); } if false == x { print(4); } if x == true { print(5); }",
            ],
            b"!=" => &[
                "if x != y { print(1); } else { print(0); }",
                "if x != x { print(2); }",
                "if x != nil { print(3); } if false != x { print(4); } if x != true { print(5); }",
            ],
            b"<" => &[
                "if x < y { print(1); } else { print(0); }",
                "if x < x { print(2); }",
            ],
            b"<=" => &[
                "if x <= y { print(1); } else { print(0); }",
                "if x <= x { print(2); }",
            ],
            b">" => &[
                "if x > y { print(1); } else { print(0); }",
                "if x > x { print(2); }",
            ],
            _ => &[
                "if x >= y { print(1); } else { print(0); }",
                "if x >= x { print(2); }",
            ],
        },
    }
}

/// Index of the positions sweep (after the operation sweeps).
const POSITIONS: usize = UNITS.len();
/// Number of sweeps.
pub const SWEEPS: usize = UNITS.len() + 1;

/// The sweep whose cells include `cell`, if any.
fn unit_of(cell: Cell) -> Option<usize> {
    match cell {
        Cell::Op { op, .. } | Cell::Form { op, .. } => {
            UNITS.iter().position(|u| u.ops.contains(&op))
        }
        Cell::Position { .. } => Some(POSITIONS),
    }
}

/// A campaign's table of semantic cell hits, shared by its workers: how often cases reached
/// each reachable cell. The generator weighs its choice of sweeps by the cells still unreached
/// or rare, so the campaign's blind spots close by construction.
#[derive(Debug)]
pub struct Steering {
    /// The reachable cells (`cells::universe`), sorted.
    universe: Vec<u32>,
    /// Cases that reached each cell of `universe`.
    hits: Vec<AtomicU32>,
    /// The sweep of each cell of `universe` (`SWEEPS`: none).
    unit: Vec<u8>,
}

impl Default for Steering {
    fn default() -> Self {
        Steering::new()
    }
}

impl Steering {
    /// A table with no hits.
    pub fn new() -> Steering {
        let universe = cells::universe();
        let unit = universe
            .iter()
            .map(|&id| Cell::unpack(id).and_then(unit_of).unwrap_or(SWEEPS) as u8)
            .collect();
        let hits = universe.iter().map(|_| AtomicU32::new(0)).collect();
        Steering {
            universe,
            hits,
            unit,
        }
    }

    /// Counts the cells one case reached.
    pub fn record<'a>(&self, cells: impl IntoIterator<Item = &'a u32>) {
        for id in cells {
            if let Ok(i) = self.universe.binary_search(id) {
                self.hits[i].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Reachable cells reached so far.
    pub fn reached(&self) -> usize {
        self.hits
            .iter()
            .filter(|h| h.load(Ordering::Relaxed) > 0)
            .count()
    }

    /// Per sweep, how much it is wanted: its cells never reached count most, rare ones a
    /// little; every sweep keeps a small weight.
    fn weights(&self) -> Vec<u32> {
        let mut w = vec![1u32; SWEEPS];
        for (h, &u) in self.hits.iter().zip(&self.unit) {
            if let Some(x) = w.get_mut(u as usize) {
                *x += match h.load(Ordering::Relaxed) {
                    0 => 16,
                    1..=3 => 2,
                    _ => 0,
                };
            }
        }
        w
    }
}

/// Values of every kind, ints first, with two of each kind that has more than one value (so
/// comparisons can come out equal or not), the edges of ints (overflow, `MIN / -1`, zero
/// divisors) and floats (nan, -0.0, a float equal to an int).
const VALUES: &str = "[0, 1, -1, 2, 9223372036854775807, -9223372036854775807 - 1, 2.5, 1.0, -0.0, 0.0 / 0.0, nil, true, false, \"a\", \"b\", [1], [2], {\"a\": 1}, {0: 2}, A(), B(1), fn (v) { return v; }, fn (v) { return 1; }, len, str, A, B, A().m, B(2).m]";

/// Ints only: the warm-up argument (64 values, so single loops also get hot).
const INTS: &str = "[0, 1, 2, 3, 5, 8, 13, 21] * 8";

/// Ints only, fewer (`Warm::FewInts`).
const FEW_INTS: &str = "[0, 1, 2, 3, 5, 8, 13, 21] * 2";

impl Gen<'_, '_> {
    /// The sweeps of this case (none without the feature): one or two. The first is steered
    /// by the campaign's cell hits toward cells not reached yet (uniform without them). In a
    /// steered campaign, the second is the sweep whose turn it is (`seed % SWEEPS`:
    /// consecutive cases take the sweeps in a round), so every sweep runs about every 70
    /// cases (half the cases have sweeps), however its cells were reached; unsteered, half
    /// the cases get a second weighted one. Cells say which operand
    /// kinds a case reached, not which bugs it could see: a sweep whose cells random programs
    /// reach early keeps weight 1 among sweeps weighing hundreds, and a bug only it shows at
    /// once (an operator wrong on one kind in compiled code) would hide for minutes.
    pub(crate) fn sweeps(&mut self) -> Vec<Stmt> {
        // Not with an error drawn for the case (its small limits are for the fault), but
        // with a limit fault whose turn it is (see `LIMIT_TURN`), which comes after them.
        if !self.f.sweeps || (self.intent.is_some() && self.limit_fault.is_none()) {
            return Vec::new();
        }
        let weights = match &self.opts.steering {
            Some(s) => s.weights(),
            None => vec![1; SWEEPS],
        };
        let mut chosen = vec![self.weighted(&weights)];
        let turn = match self.seed {
            Some(seed) if self.opts.steering.is_some() => Some((seed % SWEEPS as u64) as usize),
            _ => None,
        };
        let second = match turn {
            Some(u) => Some(u),
            None if self.chance(1, 2) => Some(self.weighted(&weights)),
            None => None,
        };
        if let Some(u) = second
            && !chosen.contains(&u)
        {
            chosen.push(u);
        }
        let a = self.fresh("SwA");
        let b = self.fresh("SwB");
        let c = self.fresh("SwC");
        let late = self.fresh("swlate");
        let vals = self.fresh("swvals");
        let ints = self.fresh("swints");
        let values = VALUES
            .replace("A(", &format!("{a}("))
            .replace("B(", &format!("{b}("));
        let values = values.replace(", A, B,", &format!(", {a}, {b},"));
        let mut src = format!(
            "class {a} {{ fn init() {{ self.f = 1; self.g = 2; }} fn m(x) {{ return x; }} fn n(x) {{ return x; }} fn e(x, y) {{ return x == y; }} }}\n\
             class {c} : {a} {{ fn s(v) {{ return super.zz(v); }} fn t() {{ return super.zz; }} fn u(v) {{ return super.m(v, v); }} }}\n\
             class {b} {{ fn init(v) {{ self.f = v; }} fn m(x) {{ return 0; }} }}\n\
             fn {vals}() {{ return {values}; }}\n\
             fn {ints}() {{ return {INTS}; }}\n\
             fn swsmall(x, y) {{\n\
               let sx = type(x) == \"string\" || type(x) == \"list\";\n\
               let sy = type(y) == \"string\" || type(y) == \"list\";\n\
               return !(sx && type(y) == \"int\" && y > 9) && !(sy && type(x) == \"int\" && x > 9);\n\
             }}\n"
        );
        for u in chosen {
            let f = self.fresh("sweep");
            src.push_str(&if u == POSITIONS {
                positions_sweep(&f, &a)
            } else {
                op_sweep(&f, &UNITS[u])
                    .replace("$C", &c)
                    .replace("$A", &a)
                    .replace("$L", &late)
            });
            // Warm-up (see `Warm`): compiled code speculates. Then every kind: the
            // speculation fails. The last call (with nothing to do) gets the generic
            // recompilation compiled in the `jit` tier.
            let calls = match UNITS.get(u).map_or(Warm::Ints, |u| u.warm) {
                Warm::Ints => format!("{f}({ints}());\n{f}({vals}());\n{f}([]);\n"),
                Warm::FewInts => format!("{f}({FEW_INTS});\n{f}({vals}());\n{f}([]);\n"),
                Warm::Instances => format!("{f}([{a}()] * 64);\n{f}({vals}());\n{f}([]);\n"),
                Warm::ListsAndIndexes => format!(
                    "{f}([[0, 1]] * 8, [0, 1] * 4);\n{f}({vals}(), {vals}());\n{f}([], []);\n"
                ),
            };
            src.push_str(&calls);
        }
        src.push_str(&format!("let {late} = 1;\n"));
        match echo_engine::syntax::parser::parse(&src, 200) {
            Ok(script) => script.stmts,
            Err(e) => panic!("a sweep does not parse ({e:?}):\n{src}"),
        }
    }
}

/// `fn NAME(vs)` running a unit's body over each value (or pair of values) of `vs`.
fn op_sweep(name: &str, unit: &Unit) -> String {
    let helpers = unit.helpers;
    let body: String = unit
        .body
        .iter()
        // The message too: the general paths build it from the operands in source order.
        .map(|s| format!("try {{ {s} }} catch e {{ print(e.kind, e.message); }}\n"))
        .collect();
    let sweep = if unit.warm == Warm::ListsAndIndexes {
        format!("fn {name}(xs, ys) {{ for x in xs {{ for y in ys {{\n{body}}} }} }}\n")
    } else if unit.pairs {
        format!("fn {name}(vs) {{ for x in vs {{ for y in vs {{\n{body}}} }} }}\n")
    } else {
        format!("fn {name}(vs) {{ for x in vs {{\n{body}}} }}\n")
    };
    format!("{helpers}{sweep}")
}

/// `fn NAME(vs)` moving each value of `vs` into every position, in compiled code.
fn positions_sweep(name: &str, class: &str) -> String {
    format!(
        "fn {name}_id(v) {{ return v; }}\n\
         fn {name}(vs) {{\n\
           let cap = nil;\n\
           let set = fn (v) {{ cap = v; }};\n\
           let o = {class}();\n\
           for x in vs {{\n\
             let l = [x];\n\
             let m = {{\"k\": x}};\n\
             o.f = x;\n\
             print({name}_id(x));\n\
             set(x);\n\
             cap = x;\n\
             try {{ throw x; }} catch e {{ print(type(e)); }}\n\
             print(len(l) + len(m), type(cap), type(o.f));\n\
           }}\n\
         }}\n"
    )
}
