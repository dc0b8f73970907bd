//! Crossing tiers: compiled and interpreted code mixed in one run must behave exactly like
//! the interpreter alone. Each test checks both the outcome and that the tier transition it
//! is about really happened (compilation, OSR entry, side exit).
#![cfg(feature = "jit")]

use echo_engine::runtime::tiering::FnState;
use echo_engine::{Config, ErrorKind, Outcome, Session, Tier, run};

fn interp(src: &str) -> Outcome {
    run(
        src,
        &Config {
            tier: Tier::Interp,
            ..Config::default()
        },
    )
}

fn tiered(src: &str, hot: u32) -> Outcome {
    run(
        src,
        &Config {
            tier: Tier::Tiered,
            hot_calls: hot,
            hot_loops: hot,
            ..Config::default()
        },
    )
}

fn jit(src: &str) -> Outcome {
    run(
        src,
        &Config {
            tier: Tier::Jit,
            ..Config::default()
        },
    )
}

/// The JIT record of function `name`.
fn fn_jit(o: &Outcome, name: &str) -> echo_engine::runtime::tiering::FnJit {
    let f = o
        .stats
        .functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name}"));
    f.jit.clone().expect("a compiling tier records JIT state")
}

/// How many frames of function `name` were pushed (0 for a function never called).
fn calls(o: &Outcome, name: &str) -> u64 {
    o.stats
        .functions
        .iter()
        .find(|f| f.name == name)
        .map_or(0, |f| f.calls)
}

/// Runs `src` in every tier configuration and asserts identical outcomes; returns the JIT run
/// and the tiered run with threshold 2.
fn same_everywhere(src: &str) -> (Outcome, Outcome) {
    let reference = interp(src);
    let j = jit(src);
    assert_eq!(j, reference, "jit differs from interp");
    for hot in [1, 2, 3] {
        assert_eq!(
            tiered(src, hot),
            reference,
            "tiered {hot} differs from interp"
        );
    }
    (j, tiered(src, 2))
}

#[test]
fn calls_and_loops_compile_in_the_jit_tier() {
    let src = "fn sq(x) { return x * x; }\nlet s = 0;\nfor i in 0..100 { s += sq(i); }\nreturn s;";
    let (j, _) = same_everywhere(src);
    assert_eq!(j.result, Ok("328350".into()));
    assert_eq!(fn_jit(&j, "sq").state, FnState::Compiled);
    assert_eq!(fn_jit(&j, "<script>").state, FnState::Compiled);
}

#[test]
fn tiered_compiles_after_hot_calls() {
    let src = "fn f(x) { return x + 1; }\nlet s = 0;\nfor i in 0..20 { s = f(s); }\nreturn s;";
    let o = run(
        src,
        &Config {
            tier: Tier::Tiered,
            hot_calls: 10,
            hot_loops: 1_000_000,
            ..Config::default()
        },
    );
    assert_eq!(o.result, Ok("20".into()));
    assert_eq!(fn_jit(&o, "f").state, FnState::Compiled);
    assert_eq!(
        fn_jit(&o, "<script>").state,
        FnState::Interpreted,
        "the script is called once"
    );
}

#[test]
fn osr_enters_nested_loops() {
    let src = "fn work(n) {\n  let t = 0;\n  for i in 0..n {\n    let j = 0;\n    while j < n {\n      t += i * j;\n      j += 1;\n    }\n  }\n  return t;\n}\nreturn work(30);";
    let (_, t) = same_everywhere(src);
    let w = fn_jit(&t, "work");
    assert!(
        w.osr_entries >= 1,
        "work was not entered at a loop header: {w:?}"
    );
    assert_eq!(t.result, Ok("189225".into()));
}

/// Warms a function up with ints, then calls it with other types: the speculation fails.
/// The other values are read from a list, so that code which inlines `f` does not know
/// their types (a known float is compiled for without speculating on ints).
fn flip(body: &str, warm: &str, flip: &str) -> String {
    format!(
        "fn f(a, b) {{ {body} }}\nlet r = [];\nfor i in 0..20 {{ push(r, f({warm})); }}\nlet v = [{flip}];\npush(r, f(v[0], v[1]));\nreturn r;"
    )
}

#[test]
fn side_exits_in_every_speculated_operation() {
    let cases = [
        ("return a + b;", "i, 2", "1.5, 2"),
        ("return a - b;", "i, 2", "\"x\", 2"),
        ("return a * b;", "i, 3", "[1], 2"),
        ("return a / b;", "i, 3", "7.5, 2"),
        ("return a % b;", "i, 3", "7.5, 2"),
        ("return a + 1;", "i, 0", "0.5, 0"),
        ("return a - 1;", "i, 0", "0.5, 0"),
        ("return a * 2;", "i, 0", "0.5, 0"),
        ("return a / 2;", "i, 0", "0.5, 0"),
        ("return a % 2;", "i, 0", "0.5, 0"),
        ("return a < b;", "i, 5", "\"a\", \"b\""),
        ("return a <= b;", "i, 5", "1.5, 2"),
        ("return a > b;", "i, 5", "1.5, 2"),
        ("return a >= b;", "i, 5", "1.5, 2"),
        ("if a < b { return 1; } return 0;", "i, 5", "2.5, 3"),
        ("if a >= 3 { return 1; } return 0;", "i, 5", "2.5, 3"),
        ("if a > b { return 1; } return 0;", "i, 5", "\"b\", \"a\""),
        // Equality compiled for two ints: an int with an equal float, two equal strings.
        ("return a == b;", "i, 5", "1, 1.0"),
        ("if a != b { return 1; } return 0;", "i, 5", "\"x\", \"x\""),
    ];
    for (body, warm, flipped) in cases {
        let src = flip(body, warm, flipped);
        let (j, t) = same_everywhere(&src);
        let fj = fn_jit(&j, "f");
        assert!(
            fj.side_exits >= 1,
            "{body}: no side exit in the jit tier: {fj:?}"
        );
        let ft = fn_jit(&t, "f");
        assert!(
            ft.side_exits >= 1,
            "{body}: no side exit when tiered: {ft:?}"
        );
    }
}

#[test]
fn equality_with_nil_or_a_bool_holds_for_every_kind_without_leaving() {
    // Compiled by the tags alone: no speculation, so no value makes the code leave.
    let src = "class C {}\nfn f(x) { let n = 0; if x == nil { n += 1; } if x != false { n += 10; } if true == x { n += 100; } return n; }\nlet r = [];\nfor x in [nil, false, true, 0, 1, 0.0, \"\", \"a\", [], {}, C(), f, nil, true] { push(r, f(x)); }\nreturn r;";
    let (j, t) = same_everywhere(src);
    assert_eq!(
        j.result,
        Ok("[11, 0, 110, 10, 10, 10, 10, 10, 10, 10, 10, 10, 11, 110]".into())
    );
    for o in [&j, &t] {
        let f = fn_jit(o, "f");
        assert_eq!(f.state, FnState::Compiled);
        assert_eq!(f.side_exits, 0, "{f:?}");
    }
}

#[test]
fn side_exits_on_shape_changes() {
    let class = "class P { fn init(x) { self.x = x; } fn get() { return self.x; } }\nclass Q { fn init(x) { self.y = 0; self.x = x; } fn get() { return self.x * 10; } }\n";
    let cases = [
        "fn f(o) { return o.x; }",
        "fn f(o) { o.x = o.x + 1; return o.x; }",
        "fn f(o) { return o.get(); }",
    ];
    // `f` is called from `via`, whose call has also called another function: the call is
    // then not inlined (nor `via`, a call of which could not be inlined whole), and `f`'s own
    // compiled code meets the shapes.
    let class = format!(
        "{class}fn other(o) {{ return 0; }}\nfn via(h, o) {{ return h(o); }}\nvia(other, nil);\nlet g = f;\n"
    );
    let class = class.as_str();
    for f in cases {
        let src = format!(
            "{class}{f}\nlet r = [];\nfor i in 0..20 {{ push(r, via(g, P(i))); }}\npush(r, via(g, Q(5)));\nreturn r;"
        );
        // The jit tier compiles before any cache is filled, so it does not guess shapes;
        // tiered compilation does, after the first calls.
        let (_, t) = same_everywhere(&src);
        assert!(
            fn_jit(&t, "f").side_exits >= 1,
            "{f}: no side exit when tiered"
        );
        // After the side exit the function is recompiled speculating on what it saw since
        // (the other shape); after a second one, without speculation.
        let src2 = format!(
            "{class}{f}\nlet r = [];\nfor i in 0..20 {{ push(r, via(g, P(i))); }}\nfor i in 0..20 {{ push(r, via(g, Q(i))); }}\nreturn len(r);"
        );
        let (_, t2) = same_everywhere(&src2);
        let ft = fn_jit(&t2, "f");
        assert_eq!(ft.state, FnState::Compiled, "{f}: not recompiled");
        assert!(ft.speculative && ft.compilations == 2, "{f}: {ft:?}");
        let src3 = format!(
            "{class}{f}\nlet r = [];\nfor i in 0..20 {{ push(r, via(g, P(i))); }}\nfor i in 0..20 {{ push(r, via(g, Q(i))); }}\nfor i in 0..20 {{ push(r, via(g, P(i))); }}\nreturn len(r);"
        );
        let (_, t3) = same_everywhere(&src3);
        let ft = fn_jit(&t3, "f");
        assert_eq!(ft.state, FnState::Compiled, "{f}: not recompiled");
        // Field reads and writes check every shape their cache has held, and a method call
        // whose shape check failed checks its cache at run time: the second version takes
        // both shapes, and the first one again leaves nothing.
        assert!(
            ft.speculative && ft.compilations == 2 && ft.side_exits == 1,
            "{f}: {ft:?}"
        );
    }
}

#[test]
fn small_leaf_callees_run_in_place_in_hot_callers() {
    // A method and a function of a few field and arithmetic instructions, called 1000 times
    // from a hot loop: after the loop is compiled, the calls are no calls at all (the
    // callees' frames are never pushed), and a float at the end leaves both inlined bodies.
    let src = "class C { fn init() { self.n = 0; } fn add(k) { self.n = self.n + k; return self.n; } }\n\
               fn add2(c, k) { c.n = c.n + k * 2; return c.n; }\n\
               fn main() { let c = C(); let s = 0; for i in 0..1000 { let k = 1; if i == 999 { k = 0.5; } s = s + c.add(k) + add2(c, k); } return [s, c.n]; }\n\
               return main();";
    let (_, t) = same_everywhere(src);
    assert_eq!(t.result, Ok("[3000998.0, 2998.5]".into()));
    assert!(
        calls(&t, "C.add") < 10,
        "C.add called {} times",
        calls(&t, "C.add")
    );
    assert!(
        calls(&t, "add2") < 10,
        "add2 called {} times",
        calls(&t, "add2")
    );
    assert!(fn_jit(&t, "main").side_exits >= 1);
}

#[test]
fn exceptions_cross_compiled_and_interpreted_frames() {
    // Compiled thrower, interpreted catcher (the script runs once and has no hot loop).
    let src = "fn thrower(n) { if n > 15 { throw \"deep \" + str(n); } return n; }\n\
               let out = [];\nfor i in 0..20 { try { push(out, thrower(i)); } catch e { push(out, e); } }\nreturn out;";
    let o = run(
        src,
        &Config {
            tier: Tier::Tiered,
            hot_calls: 3,
            hot_loops: 1_000_000,
            ..Config::default()
        },
    );
    assert_eq!(o, interp(src));
    assert_eq!(fn_jit(&o, "thrower").state, FnState::Compiled);
    assert_eq!(fn_jit(&o, "<script>").state, FnState::Interpreted);
    // Compiled catcher, interpreted thrower (called once, so never compiled when tiered).
    let src = "fn once(x) { return x / 0; }\nfn catcher(k) {\n  if k < 25 { return k; }\n  try { return once(k); } catch e { return e.kind + \" at line \" + str(e.line); }\n}\n\
               let out = [];\nfor i in 0..26 { push(out, catcher(i)); }\nreturn out[25];";
    let o = run(
        src,
        &Config {
            tier: Tier::Tiered,
            hot_calls: 3,
            hot_loops: 1_000_000,
            ..Config::default()
        },
    );
    assert_eq!(o, interp(src));
    assert_eq!(o.result, Ok("\"ZeroDivisionError at line 1\"".into()));
    // The catch path never ran before `catcher` was compiled, so its speculation there fails
    // once (a side exit) and the frame finishes in the interpreter.
    assert!(fn_jit(&o, "catcher").compilations >= 1);
    assert_eq!(fn_jit(&o, "once").state, FnState::Interpreted);
    // Uncaught through a mix of frames: same error, line and trace everywhere.
    let src = "fn a(n) { if n == 0 { return [][1]; } return b(n - 1); }\nfn b(n) { return a(n); }\nfor i in 0..5 { a(2); }\na(7);";
    let (j, _) = same_everywhere(src);
    let e = j.result.unwrap_err();
    assert_eq!((e.kind, e.line), (ErrorKind::IndexError, 1));
    assert!(e.trace.len() > 1, "the trace lists every frame");
}

#[test]
fn deep_recursion_in_compiled_code_hits_the_call_depth_limit() {
    let src = "fn down(n) { return down(n + 1) + 1; }\ndown(0);";
    let (j, t) = same_everywhere(src);
    let e = j.result.as_ref().unwrap_err();
    assert_eq!(e.kind, ErrorKind::StackOverflow);
    assert_eq!(e.message, "maximum call depth of 10000 exceeded");
    assert_eq!(e.trace.len(), 10_000);
    assert_eq!(fn_jit(&j, "down").state, FnState::Compiled);
    assert_eq!(fn_jit(&t, "down").state, FnState::Compiled);
    // A deep but legal recursion completes in compiled code.
    let src = "fn sum(n) { if n == 0 { return 0; } return n + sum(n - 1); }\nreturn sum(9000);";
    let (j, _) = same_everywhere(src);
    assert_eq!(j.result, Ok("40504500".into()));
}

#[test]
fn collection_during_helper_calls_from_compiled_code() {
    // Every allocation collects; compiled code keeps values in registers between helper
    // calls, so the slots must hold them at every safepoint or objects would be lost.
    let src = "fn build(n) {\n  let xs = [];\n  let s = \"\";\n  for i in 0..n {\n    let pair = [i, str(i)];\n    push(xs, pair);\n    s = s + pair[1];\n  }\n  return [len(xs), xs[n - 1], s];\n}\nlet r = nil;\nfor k in 0..5 { r = build(40); }\nreturn r;";
    let reference = interp(src);
    for tier in [Tier::Jit, Tier::Tiered] {
        let o = run(
            src,
            &Config {
                tier,
                gc_stress: true,
                hot_calls: 2,
                hot_loops: 2,
                ..Config::default()
            },
        );
        assert_eq!(o, reference, "{tier}");
        assert!(
            o.stats.heap.collections > 200,
            "{tier}: the collector did not run at safepoints"
        );
        assert_eq!(fn_jit(&o, "build").state, FnState::Compiled, "{tier}");
    }
}

/// `src` run in every tier with `config`'s settings (compiling at the first call and after
/// two back-edges); all must agree, and the interpreter's outcome is returned.
fn agreed(src: &str, config: &Config) -> Outcome {
    let outcomes: Vec<Outcome> = Tier::ALL
        .iter()
        .map(|&tier| {
            run(
                src,
                &Config {
                    tier,
                    hot_calls: 1,
                    hot_loops: 2,
                    ..config.clone()
                },
            )
        })
        .collect();
    for o in &outcomes[1..] {
        assert_eq!(o, &outcomes[0], "tiers disagree on {src}");
    }
    outcomes.into_iter().next().expect("at least one tier")
}

#[test]
fn a_register_no_instruction_reads_again_keeps_nothing_alive() {
    // `big` is dead once its length is taken: the collector roots only what a frame can
    // still read, in every tier, so the second list fits where both would not.
    let src = "fn work(n) {\n  let big = [];\n  for i in 0..n { push(big, [i, i]); }\n  let k = len(big);\n  let more = [];\n  for i in 0..n { push(more, [i, i]); }\n  return k + len(more);\n}\nreturn work(20000);";
    let mut config = Config::default();
    config.limits.max_heap_bytes = 3_500_000;
    let o = agreed(src, &config);
    assert_eq!(o.result, Ok("40000".into()));
    // The limit is tight: both lists alive at once do not fit.
    let both = src.replace("return k + len(more);", "return k + len(more) + len(big);");
    let o = agreed(&both, &config);
    assert_eq!(o.result.map_err(|e| e.kind), Err(ErrorKind::MemoryLimit));
}

#[test]
fn registers_a_handler_reads_survive_collections_in_its_try() {
    // `saved` is read only by the `catch` block: it stays a root throughout the `try`, in
    // the interpreter's frames and in compiled ones, while every allocation collects.
    let src = "fn f(n) {\n  let saved = [n, n + 1];\n  try {\n    let t = [];\n    for i in 0..n { t = [i, str(i)]; }\n    throw t;\n  } catch e {\n    return saved[1] + len(e);\n  }\n  return nil;\n}\nlet s = 0;\nfor k in 0..6 { s += f(30 + k); }\nreturn s;";
    let o = agreed(
        src,
        &Config {
            gc_stress: true,
            ..Config::default()
        },
    );
    assert_eq!(o.result, Ok("213".into()));
    assert!(o.stats.heap.collections > 100);
}

#[test]
fn the_heap_limit_is_reached_at_the_same_instruction_however_often_the_collector_runs() {
    // The limit bounds live data: neither garbage made beside a growing list, nor a list
    // left in a register that a callee cleared as its dead argument, may move the point
    // where it is reached between runs collecting at every safepoint and when due.
    let programs = [
        "fn grow() {\n let hog = [];\n while true {\n  push(hog, [1]);\n  let t = [1, 2, 3, 4, 5, 6, 7, 8];\n  let u = str(len(hog)) + \"abcdefghijklmnopqrstuvwxyz\";\n }\n}\ngrow();",
        "class C {}\nfn f(a, b) { C(); }\nf(0, []);\nfn fill() { let hog = []; while true { push(hog, []); } }\nfor j in 0..1 { print(fill()); }",
        "fn fill() {\n let hog = [];\n while true {\n  push(hog, []);\n  let g = [];\n }\n}\nfill();",
    ];
    for src in programs {
        for heap in [100_000, 150_000] {
            let mut config = Config::default();
            config.limits.max_heap_bytes = heap;
            let calm = agreed(src, &config);
            let kind = calm.result.as_ref().map_err(|e| e.kind);
            assert_eq!(kind, Err(ErrorKind::MemoryLimit), "{src}");
            let stressed = agreed(
                src,
                &Config {
                    gc_stress: true,
                    ..config
                },
            );
            assert_eq!(
                (stressed.result, stressed.fuel_used),
                (calm.result, calm.fuel_used),
                "{src} with a heap of {heap} bytes"
            );
        }
    }
}

#[test]
fn fuel_is_charged_identically() {
    let src = "fn f(n) { let t = 0; while n > 0 { t += n; n -= 1; } return t; }\nlet s = 0;\nfor i in 0..50 { s += f(i); }\nreturn s;";
    let (j, t) = same_everywhere(src);
    assert_eq!(j.fuel_used, interp(src).fuel_used);
    assert_eq!(t.fuel_used, interp(src).fuel_used);
    for limit in [1, 17, 500, 1000] {
        let c = |tier| {
            run(
                src,
                &Config {
                    tier,
                    hot_calls: 2,
                    hot_loops: 2,
                    limits: echo_engine::Limits {
                        fuel: Some(limit),
                        ..Default::default()
                    },
                    ..Config::default()
                },
            )
        };
        let reference = c(Tier::Interp);
        assert_eq!(
            reference.result.as_ref().unwrap_err().kind,
            ErrorKind::FuelExhausted
        );
        assert_eq!(c(Tier::Jit), reference, "fuel {limit}, jit");
        assert_eq!(c(Tier::Tiered), reference, "fuel {limit}, tiered");
    }
}

#[test]
fn compiled_code_is_never_writable_and_executable() {
    let mut s = Session::new(Config {
        tier: Tier::Jit,
        ..Config::default()
    });
    let o = s.eval("fn f(x) { return x * 2; } let t = 0; for i in 0..10 { t += f(i); } t");
    assert_eq!(o.result, Ok("90".into()));
    let maps = std::fs::read_to_string("/proc/self/maps").expect("Linux exposes the memory map");
    let wx: Vec<&str> = maps
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|p| p.contains('w') && p.contains('x'))
        })
        .collect();
    assert!(wx.is_empty(), "writable and executable mappings: {wx:?}");
    assert!(
        maps.lines()
            .any(|l| l.split_whitespace().nth(1).is_some_and(|p| p.contains('x')))
    );
}

/// One program per opcode family: its bytecode must contain every listed opcode, every function
/// it calls must compile in the JIT tier, and it must give the interpreter's outcome in every
/// tier, with `f` warmed up on ints and then called with other types.
#[test]
fn every_opcode_family_compiles_and_agrees() {
    // A list literal longer than one `NewList` batch continues with `AppendList`.
    let long_list = format!(
        "fn f(a) {{ let l = [{}]; return len(l) + l[69]; }}",
        vec!["a"; 70].join(", ")
    );
    let families: &[(&str, &[&str], &str)] = &[
        (
            "moves and constants",
            &[
                "Move",
                "LoadNil",
                "LoadTrue",
                "LoadFalse",
                "LoadInt",
                "LoadK",
            ],
            "fn f(a) { let b = a; let c = nil; let d = true; let e = false; let g = 7; let h = \"s\"; let k = 2.5; return [b, c, d, e, g, h, k, 100000000000]; }",
        ),
        (
            "globals, natives and upvalues",
            &[
                "GetGlobal",
                "SetGlobal",
                "LoadNative",
                "Closure",
                "NewBox",
                "GetBox",
                "SetBox",
            ],
            "let G = 0;\nfn f(a) { G = G + a; let n = 0; let inc = fn() { n += 1; return n; }; inc(); let ln = len; n = n + ln(\"ab\"); return [G, inc(), n]; }",
        ),
        (
            "upvalue access from a closure",
            &["GetUpval", "SetUpval", "Return"],
            "fn mk() { let n = 0; fn f(a) { n = n + a; return n; } return f; }\nlet f = mk();",
        ),
        (
            "arithmetic",
            &[
                "Add", "Sub", "Mul", "Div", "Mod", "AddI", "SubI", "MulI", "DivI", "ModI", "AddK",
                "SubK", "MulK", "DivK", "ModK", "AddIL", "MulIL", "AddKL", "MulKL", "Neg",
            ],
            "fn f(a) { let b = a + 3; let c = b * b + 1; return [a + b, a - b, a * b, a / c, a % c, a + 1, a - 1, a * 3, a / 2, a % 2, -a, a + 0.5, b / 2.0, a - 1.5, a * 0.25, b % 2.5, \"x\" + str(a), 1 + a, 3 * b, 0.5 + a, 0.25 * b]; }",
        ),
        (
            "comparisons and logic",
            &["Eq", "Ne", "Lt", "Le", "Gt", "Ge", "Not"],
            "fn f(a) { let b = 3; return [a == b, a != b, a < b, a <= b, a > b, a >= b, !a, a == nil, \"a\" < \"b\", 1.5 >= a]; }",
        ),
        (
            "branches",
            &[
                "Jmp",
                "JmpIf",
                "JmpIfNot",
                "JmpNotEq",
                "JmpNotNe",
                "JmpNotLt",
                "JmpNotLe",
                "JmpNotGt",
                "JmpNotGe",
                "JmpNotEqI",
                "JmpNotNeI",
                "JmpNotLtI",
                "JmpNotLeI",
                "JmpNotGtI",
                "JmpNotGeI",
            ],
            "fn f(a) { let b = 4; let r = 0;\n if a == b { r += 1; } if a != b { r += 2; } if a < b { r += 4; } if a <= b { r += 8; } if a > b { r += 16; } if a >= b { r += 32; }\n if a == 1 { r += 64; } if a != 1 { r += 128; } if a < 1 { r += 256; } if a <= 1 { r += 512; } if a > 1 { r += 1024; } if a >= 1 { r += 2048; }\n if a && b { r += 1; } else { r -= 1; } if a || r { r += 1; } if !a { r += 4096; } return r; }",
        ),
        (
            "loops",
            &["Loop", "ForPrep", "ForLoop", "IterPrep", "IterNext"],
            "fn f(a) { let s = 0; for i in 0..a { s += i; } for x in [1, 2, a] { s += x; } for k in {\"p\": 1} { s += len(k); } let j = 0; while true { j += 1; if j >= a { break; } } return s + j; }",
        ),
        (
            "while tests",
            &[
                "LoopIf", "LoopEq", "LoopNe", "LoopLt", "LoopLe", "LoopGt", "LoopGe", "LoopEqI",
                "LoopNeI", "LoopLtI", "LoopLeI", "LoopGtI", "LoopGeI",
            ],
            "fn f(a) { let j = 0; let b = a + 3; let n = 0; while j < b { j += 1; } while j <= b { j += 1; } while j > a { j -= 1; } while j >= a { j -= 1; } while j < 100 && j != b { j += 1; } while j == b { j += 1; n += 1; } while j < 20 { j += 1; } while j <= 30 { j += 2; } while j > 10 { j -= 3; } while j >= 5 { j -= 1; } while j != 9 { j += 1; } while j == 9 { j += 1; } let go = a; while go { go = nil; n += 1; } return [j, n]; }",
        ),
        (
            "calls",
            &["Call", "CallGlobal", "CallNative", "ReturnNil"],
            "fn g(x) { return x * 2; }\nfn h() {}\nfn f(a) { let k = g; h(); return [g(a), k(a), len([a]), abs(-a), h()]; }",
        ),
        (
            "collections",
            &["NewList", "NewMap", "GetIndex", "SetIndex", "SetIndexK"],
            "fn f(a) { let l = [a, a + 1]; push(l, 3); l[0] = 9; l[1] = a; let m = {\"k\": a}; m[\"j\"] = l[1]; m[\"s\"] = \"t\"; return [l, m, m[\"k\"], \"abc\"[1]]; }",
        ),
        ("long list literals", &["NewList", "AppendList"], &long_list),
        (
            "objects",
            &[
                "Class",
                "GetProp",
                "SetProp",
                "Invoke",
                "SuperInvoke",
                "GetSuper",
            ],
            "class A { fn init(x) { self.x = x; } fn get() { return self.x; } }\nclass B : A { fn get() { let m = super.get; return super.get() + m(); } }\nfn f(a) { let o = B(a); o.x = o.x + 1; return [o.get(), o.x]; }",
        ),
        (
            "exceptions",
            &["Throw"],
            "fn f(a) { try { if a > 2 { throw Error(\"big\"); } return 1 / (a - 1); } catch e { return e.message; } }",
        ),
    ];
    let covered: Vec<&str> = families.iter().flat_map(|f| f.1.iter().copied()).collect();
    let missing: Vec<&str> = echo_engine::bytecode::OPCODES
        .iter()
        .map(|o| o.name)
        .filter(|n| !covered.contains(n))
        .collect();
    assert!(missing.is_empty(), "opcodes no family covers: {missing:?}");
    for (family, ops, setup) in families {
        let program = echo_engine::compile(setup, &echo_engine::Limits::default())
            .unwrap_or_else(|e| panic!("{family}: {e:?}"));
        let names: Vec<&str> = program
            .protos
            .iter()
            .flat_map(|p| p.code.iter().map(|op| op.name()))
            .collect();
        for op in *ops {
            assert!(names.contains(op), "{family}: no {op} in {names:?}");
        }
        let src = format!(
            "{setup}\nlet r = [];\nfor i in 0..12 {{ push(r, f(i)); }}\nfor x in [1.5, -3, \"s\"] {{ try {{ push(r, f(x)); }} catch e {{ push(r, e); }} }}\nreturn r;"
        );
        let (j, _) = same_everywhere(&src);
        assert!(j.result.is_ok(), "{family}: {:?}", j.result);
        // Every function ran compiled code (its last side exit may have left it waiting for
        // a recompilation).
        for func in j.stats.functions.iter().filter(|f| f.calls > 0) {
            let fj = fn_jit(&j, &func.name);
            assert!(
                fj.compilations >= 1,
                "{family}: {} did not compile: {fj:?}",
                func.name
            );
        }
    }
}

#[test]
fn osr_entry_checks_the_types_of_live_registers() {
    // The loop is compiled (OSR) while `s` and `x` hold ints; a later activation enters the
    // same loop with floats and must not run code that assumes ints.
    let src = "fn f(x) { let s = x; let i = 0; while i < 40 { s = s + x; i += 1; } return s; }\nreturn [f(1), f(2), f(0.5), f(\"a\"), f(3)];";
    let reference = interp(src);
    assert_eq!(
        reference.result,
        Ok("[41, 82, 20.5, \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", 123]".into())
    );
    let o = run(
        src,
        &Config {
            tier: Tier::Tiered,
            hot_calls: 1_000,
            hot_loops: 5,
            ..Config::default()
        },
    );
    assert_eq!(o, reference);
    let f = fn_jit(&o, "f");
    assert!(f.osr_entries >= 3, "{f:?}");
    assert!(f.side_exits >= 1, "{f:?}");
}

#[test]
fn shape_checks_are_redone_after_calls() {
    // `grow` changes the shape of `o` between two reads of `o.x` in one block.
    let src = "class P { fn init() { self.x = 1; } }\nfn grow(o) { o.y = 2; o.x = o.x + 10; }\nfn f(o) { let a = o.x; grow(o); let b = o.x; o.x = b + 1; return [a, b, o.x]; }\nlet r = [];\nfor i in 0..30 { push(r, f(P())); }\nreturn r;";
    let (j, t) = same_everywhere(src);
    assert!(
        j.result
            .as_ref()
            .is_ok_and(|r| r.starts_with("[[1, 11, 12]"))
    );
    assert_eq!(fn_jit(&t, "f").state, FnState::Compiled);
}

#[test]
fn profiling_charges_compiled_time_to_the_function_that_ran_it() {
    // `spin` is compiled after its second call and then runs almost all of the program;
    // `cold` runs once, interpreted, and is never charged.
    let src = "fn spin(n) { let s = 0; for i in 0..n { s = (s + i) % 7; } return s; }\n\
               fn cold() { return 1; }\n\
               let t = cold();\n\
               for k in 0..6 { t = t + spin(200000); }\n\
               print(t);";
    let config = Config {
        tier: Tier::Tiered,
        hot_calls: 2,
        profile: true,
        ..Config::default()
    };
    let profiled = run(src, &config);
    assert_eq!(profiled, interp(src));
    let spin = fn_jit(&profiled, "spin");
    assert!(spin.compiled_time > std::time::Duration::ZERO);
    assert!(spin.compiled_time <= profiled.stats.run_time);
    assert_eq!(
        fn_jit(&profiled, "cold").compiled_time,
        std::time::Duration::ZERO
    );
    // Without `profile` nothing is measured.
    let plain = run(
        src,
        &Config {
            profile: false,
            ..config
        },
    );
    assert_eq!(
        fn_jit(&plain, "spin").compiled_time,
        std::time::Duration::ZERO
    );
}

#[test]
fn shared_code_is_reused_across_vms_and_gives_the_same_outcome() {
    // A fresh thread starts with an empty store.
    std::thread::spawn(|| {
        // Heap constants (strings), a top-level function and a speculated method call: none
        // of their addresses may be in the IR, or another VM could not reuse it.
        let program = |greeting: &str| {
            format!(
                "class P {{ fn init(n) {{ self.n = n; }} fn tag() {{ return \"{greeting}\" + str(self.n); }} }}\n\
                 fn mk(i) {{ return P(i); }}\n\
                 fn tagged(i) {{ return mk(i).tag(); }}\n\
                 let out = [];\nfor i in 0..30 {{ push(out, tagged(i)); }}\nprint(out[29]);\nreturn len(out);"
            )
        };
        let config = |share_code| Config {
            tier: Tier::Jit,
            share_code,
            ..Config::default()
        };
        // Compiled once `tagged` has seen a receiver: its method call speculates on it.
        let warm = Config {
            tier: Tier::Tiered,
            hot_calls: 3,
            hot_loops: 1_000_000,
            ..config(true)
        };
        let shared = |o: &Outcome| -> (u32, u32) {
            o.stats
                .functions
                .iter()
                .filter_map(|f| f.jit.as_ref())
                .fold((0, 0), |(s, c), j| (s + j.shared, c + j.compilations))
        };
        let a = program("a");
        let first = run(&a, &config(true));
        assert_eq!(first, interp(&a));
        let (s, c) = shared(&first);
        assert!(c >= 3, "functions were compiled: {c}");
        assert_eq!(s, 0, "nothing to reuse in a fresh thread");
        // The same program in a new VM: every compilation reuses code.
        let second = run(&a, &config(true));
        assert_eq!(second, first);
        assert_eq!(shared(&second), (c, c));
        // Another string constant: the same IR, reused, and still the right string.
        let b = program("b");
        let other = run(&b, &config(true));
        assert_eq!(other, interp(&b));
        assert_eq!(other.output, "b29\n");
        assert_eq!(shared(&other), (c, c));
        // Without sharing nothing is reused.
        let alone = run(&a, &config(false));
        assert_eq!(alone, first);
        assert_eq!(shared(&alone), (0, c));
        // A speculated method call: its method is not embedded either.
        let once = run(&a, &warm);
        assert_eq!(once, first);
        assert!(fn_jit(&once, "tagged").speculative);
        let (_, c) = shared(&once);
        assert!(c >= 3, "functions were compiled: {c}");
        let again = run(&a, &warm);
        assert_eq!(again, first);
        assert_eq!(shared(&again), (c, c));
    })
    .join()
    .expect("the test thread panicked");
}

/// A register the translator knows to hold a top-level function must lose that knowledge
/// whenever it is given a new value, whatever writes it. One program per way a register is
/// written; in each, `f` is read into a register that is then overwritten and called.
#[test]
fn a_register_overwritten_by_any_write_forgets_the_function_it_held() {
    let prelude = "fn f(x) { return x + 1000; }\n\
                   fn k(x) { return fn(y) { return x * 100 + y; }; }\n\
                   class C { fn m(x) { return fn(y) { return x * 10 + y; }; } }\n";
    let ways = [
        // A call's result, called at once (the call register held the callee).
        ("call result", "return k(i)(1);"),
        ("nested call results", "return k(k(i)(0))(2);"),
        // A method call's result, called at once.
        ("method call result", "return C().m(i)(3);"),
        // A helper's result reloaded into the local that held `f`.
        ("index result", "let h = f; h = [k(i)][0]; return h(4);"),
        (
            "map index result",
            "let h = f; h = {\"a\": k(i)}[\"a\"]; return h(4);",
        ),
        // A closure created into the local.
        (
            "closure",
            "let h = f; h = fn(y) { return y - i; }; return h(5);",
        ),
        // A builtin's result moved into the local.
        ("builtin result", "let h = f; h = min(i, 3); return h;"),
        // A plain move of another callable.
        ("move", "let h = f; let q = k(i); h = q; return h(6);"),
        // The loop variable written by each iteration.
        (
            "loop variable",
            "let s = 0; for h in [f, k(i)] { s += h(7); } return s;",
        ),
        // A captured variable read back.
        (
            "captured",
            "let h = f; let q = k(i); let get = fn() { return q; }; h = get(); return h(8);",
        ),
        // The catch variable.
        (
            "catch",
            "let h = f; try { throw k(i); } catch e { h = e; } return h(9);",
        ),
        // A conditional overwrite: merged paths.
        ("branch", "let h = f; if i > 3 { h = k(i); } return h(10);"),
    ];
    for (way, body) in ways {
        let src = format!(
            "{prelude}fn g(i) {{ {body} }}\nlet out = [];\nfor i in 0..15 {{ push(out, g(i)); }}\nreturn out;"
        );
        let reference = interp(&src);
        assert!(reference.result.is_ok(), "{way}: {:?}", reference.result);
        let j = jit(&src);
        assert_eq!(j, reference, "{way}: jit differs from interp");
        assert_eq!(fn_jit(&j, "g").state, FnState::Compiled, "{way}");
        for hot in [1, 2, 3] {
            let t = tiered(&src, hot);
            assert_eq!(t, reference, "{way}: tiered {hot} differs from interp");
            assert_ne!(fn_jit(&t, "g").state, FnState::Interpreted, "{way}");
        }
    }
}

/// The same, when the register is overwritten in a loop entered by OSR: the entry reloads
/// every register from its slot.
#[test]
fn osr_entry_reloads_registers_that_held_a_function() {
    let src = "fn f(x) { return x + 1000; }\n\
               fn k(x) { return fn(y) { return x * 100 + y; }; }\n\
               let h = f;\nlet s = 0;\n\
               for i in 0..50 { s += h(i); h = k(i); }\nreturn s;";
    let (_, t) = same_everywhere(src);
    assert!(fn_jit(&t, "<script>").osr_entries >= 1);
}

/// Compiling in the background: the interpreter goes on running a function until its code is
/// ready, then its calls and loops enter the code; the outcome is the interpreter's. The JIT
/// tier still compiles every function before its first call.
#[test]
fn background_compilation_installs_code_while_the_program_runs() {
    let src = "fn f(x) { return x % 7 + 1; }\n\
               fn g(n) { let s = 0; let i = 0; while i < n { s += f(i); i += 1; } return s; }\n\
               let t = 0;\nfor k in 0..40 { t += g(50000); }\nreturn t;";
    let reference = interp(src);
    let background = |tier| Config {
        tier,
        background_compile: true,
        background_after: 0,
        ..Config::default()
    };
    let o = run(src, &background(Tier::Tiered));
    assert_eq!(o, reference);
    // Two million calls of `f`: its code (a small function, compiled on a second thread) is
    // ready long before the end.
    let f = fn_jit(&o, "f");
    assert_eq!(f.state, FnState::Compiled);
    assert!(!f.pending && f.compilations >= 1, "{f:?}");
    let j = run(src, &background(Tier::Jit));
    assert_eq!(j, reference);
    assert_eq!(fn_jit(&j, "<script>").state, FnState::Compiled);
}

/// A speculating OSR version that leaves is dropped even when the function's normal version,
/// installed after it, does not speculate: kept, it was entered again at every back-edge and
/// left at the same guard, each time nesting another interpreter loop, until memory ran out.
/// Compiled code arriving from the second thread makes that order of installation likely;
/// the program (see its header) runs on three threads at once, beside two that keep the
/// cores busy, so that compilations finish late (without the fix this fails in 20-30 s).
#[test]
fn a_speculating_osr_version_that_leaves_is_dropped_whatever_the_normal_version() {
    let src = include_str!("data/speculative_osr_kept.echo");
    let exp = echo_engine::corpus::parse_expectations(src).expect("the settings parse");
    let reference = run(src, &exp.config(Tier::Interp));
    assert_eq!(
        reference.result.as_ref().map_err(|e| e.kind),
        Err(ErrorKind::FuelExhausted)
    );
    let background = Config {
        background_compile: true,
        background_after: 0,
        share_code: true,
        ..exp.config(Tier::Tiered)
    };
    // Two more threads keep both cores busy, so that code from the compiler threads arrives
    // late and in any order.
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut x = 0u64;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                }
            });
        }
        let runs: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..30 {
                        assert_eq!(run(src, &background), reference);
                    }
                })
            })
            .collect();
        let ok = runs.into_iter().all(|r| r.join().is_ok());
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(ok, "a run in the background differed from the interpreter");
    });
}

/// A recursive method compiled at its tenth call, at depth ten, before any of its calls of
/// `step` ran: the version leaves at the first `step` (the interpreter makes the call and
/// fills the cache) and the next version inlines it. The callers still running the first
/// version then leave at their own `step`, one by one, each after the next version was
/// installed: they keep it, so the method is compiled twice, not once per such caller.
#[test]
fn a_call_that_never_ran_leaves_once_and_is_inlined_in_the_next_version() {
    let src = "class T {\n\
                 fn init() { self.moves = 0; }\n\
                 fn step(k) { self.moves = self.moves + k; }\n\
                 fn walk(n) {\n\
                   if n == 0 { self.step(1); return 0; }\n\
                   self.walk(n - 1); self.step(2); self.walk(n - 1);\n\
                   return 0;\n\
                 }\n\
               }\n\
               fn main() { let t = T(); for i in 0..20 { t.walk(12); } return t.moves; }\n\
               return main();";
    // The jit run, equal to the interpreter's.
    let (reference, _) = same_everywhere(src);
    // 20 walks of 2^12 leaves (1 each) and 2^12 - 1 inner calls (2 each).
    assert_eq!(reference.result, Ok("245720".into()));
    let o = tiered(src, 10);
    assert_eq!(o, reference);
    let walk = fn_jit(&o, "T.walk");
    assert!(walk.side_exits >= 2, "{walk:?}");
    assert_eq!(walk.compilations, 2, "{walk:?}");
    let steps = calls(&o, "T.step");
    assert!(steps < 100, "T.step called {steps} times");
}
