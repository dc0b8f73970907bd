//! Hostile and malformed input: each case must end in a precise Echo error (kind, message,
//! line), never a panic, a hang or a host stack overflow. Tests run on ordinary 2 MiB test
//! threads on purpose.

use echo_engine::{
    Config, ErrorKind, Limits, Outcome, Session, Tier, compile, compile_bytes, run, run_bytes,
};
use proptest::prelude::*;

fn config(f: impl FnOnce(&mut Limits)) -> Config {
    let mut c = Config::default();
    f(&mut c.limits);
    c
}

fn error_of(o: &Outcome) -> (ErrorKind, String, u32) {
    let e = o.result.as_ref().expect_err("the program should fail");
    (e.kind, e.message.clone(), e.line)
}

#[test]
fn invalid_utf8_is_a_syntax_error_at_the_bad_byte() {
    let o = run_bytes(b"print(1);\nlet s = \"\xff\";", &Config::default());
    let e = o.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::SyntaxError);
    assert_eq!(
        e.message,
        "source is not valid UTF-8 (byte 0xff at offset 19)"
    );
    assert_eq!((e.line, e.column), (2, Some(10)));
}

#[test]
fn unterminated_strings_and_comments() {
    let o = run("let a = 1;\nlet s = \"abc;\n", &Config::default());
    assert_eq!(
        error_of(&o),
        (
            ErrorKind::SyntaxError,
            "unterminated string literal".into(),
            2
        )
    );
    let o = run("let a = 1;\n/* never closed\n", &Config::default());
    assert_eq!(
        error_of(&o),
        (
            ErrorKind::SyntaxError,
            "unterminated block comment".into(),
            2
        )
    );
}

#[test]
fn a_hundred_thousand_nested_parentheses_and_blocks() {
    let n = 100_000;
    let parens = format!("let x = {}1{};", "(".repeat(n), ")".repeat(n));
    let o = run(&parens, &Config::default());
    assert_eq!(error_of(&o).0, ErrorKind::NestingLimit);
    assert_eq!(error_of(&o).1, "nesting too deep (limit 200)");
    let blocks = format!("{}{}", "{".repeat(n), "}".repeat(n));
    assert_eq!(
        error_of(&run(&blocks, &Config::default())).0,
        ErrorKind::NestingLimit
    );
    // With the limit raised past the input, the same program compiles and runs.
    let deep = config(|l| l.max_nesting = 200_000);
    let o = run(
        &format!("print({}1{});", "(".repeat(n), ")".repeat(n)),
        &deep,
    );
    assert_eq!(o.output, "1\n");
    let o = run(
        &format!("{}print(2);{}", "{".repeat(n), "}".repeat(n)),
        &deep,
    );
    assert_eq!(o.output, "2\n");
}

#[test]
fn a_million_term_sum_compiles_and_runs() {
    let src = format!("print({});", vec!["1"; 1_000_000].join("+"));
    let o = run(&src, &Config::default());
    assert_eq!(o.output, "1000000\n");
}

#[test]
fn runtime_errors_have_kind_message_and_line() {
    let cases: &[(&str, ErrorKind, &str, u32)] = &[
        (
            "print(nope);",
            ErrorKind::NameError,
            "undefined name 'nope'",
            1,
        ),
        (
            "fn f(a) {}\nf(1, 2);",
            ErrorKind::ArityError,
            "'f' expects 1 argument but got 2",
            2,
        ),
        (
            "let x = 3;\nx();",
            ErrorKind::TypeError,
            "'int' value is not callable",
            2,
        ),
        (
            "let m = -9223372036854775807 - 1;\nprint(m / -1);",
            ErrorKind::OverflowError,
            "integer overflow in -9223372036854775808 / -1",
            2,
        ),
        (
            "print(9223372036854775807 + 1);",
            ErrorKind::OverflowError,
            "integer overflow in 9223372036854775807 + 1",
            1,
        ),
        (
            "let z = 0;\nprint(1 % z);",
            ErrorKind::ZeroDivisionError,
            "integer modulo by zero",
            2,
        ),
        (
            "print(7 / 0);",
            ErrorKind::ZeroDivisionError,
            "integer division by zero",
            1,
        ),
        (
            "let xs = [1];\nprint(xs[1]);",
            ErrorKind::IndexError,
            "list index 1 out of range for length 1",
            2,
        ),
    ];
    for (src, kind, msg, line) in cases {
        let o = run(src, &Config::default());
        assert_eq!(error_of(&o), (*kind, msg.to_string(), *line), "{src}");
    }
}

#[test]
fn unbounded_recursion_hits_the_call_depth_limit() {
    let o = run(
        "fn f(n) { return f(n + 1) + 1; }\nf(0);",
        &Config::default(),
    );
    let e = o.result.unwrap_err();
    assert_eq!(e.kind, ErrorKind::StackOverflow);
    assert_eq!(e.message, "maximum call depth of 10000 exceeded");
    assert_eq!(e.line, 1);
    assert_eq!(e.trace.len(), 10_000);
}

#[test]
fn an_endless_loop_runs_out_of_fuel() {
    let o = run(
        "let i = 0;\nwhile true { i += 1; }",
        &config(|l| l.fuel = Some(100_000)),
    );
    assert_eq!(
        error_of(&o),
        (
            ErrorKind::FuelExhausted,
            "ran out of fuel (limit 100000 units)".into(),
            2
        )
    );
    assert_eq!(o.fuel_used, 100_000);
}

#[test]
fn a_string_doubled_until_too_long() {
    let src = "let s = \"x\";\nwhile true {\n  s = s + s;\n}";
    let o = run(src, &config(|l| l.max_string_bytes = 1 << 20));
    assert_eq!(
        error_of(&o),
        (
            ErrorKind::SizeLimit,
            "string of 2097152 bytes exceeds the limit of 1048576 bytes".into(),
            3
        )
    );
}

#[test]
fn limits_are_not_catchable() {
    let src =
        "try {\n  let s = \"x\";\n  while true { s = s + s; }\n} catch e { print(\"caught\"); }";
    let o = run(src, &config(|l| l.max_string_bytes = 1 << 16));
    assert_eq!(error_of(&o).0, ErrorKind::SizeLimit);
    assert_eq!(o.output, "");
}

#[test]
fn a_list_that_contains_itself_prints_and_compares() {
    let src = "let a = [1];\npush(a, a);\nprint(a);\nprint(a == a);\nlet b = [1];\npush(b, b);\nprint(a == b);";
    let o = run(src, &Config::default());
    assert_eq!(o.output, "[1, [...]]\ntrue\ntrue\n");
}

#[test]
fn deeply_nested_lists_built_at_run_time() {
    // 1,000,000 levels: printing hits the string limit cleanly, equality and collection of
    // the structure work without recursion, and dropping the heap is flat.
    let src = "fn build(n) { let x = []; for i in 0..n { x = [x]; } return x; }\n\
               let a = build(1000000);\nlet b = build(1000000);\nprint(a == b);\nb = nil;\nprint(len(str(a)));";
    let o = run(src, &config(|l| l.max_string_bytes = 1 << 20));
    assert_eq!(o.output, "true\n");
    assert_eq!(error_of(&o).0, ErrorKind::SizeLimit);
    assert_eq!(error_of(&o).2, 6);
}

#[test]
fn memory_exhaustion_is_a_memory_limit_error() {
    let src = "let keep = [];\nwhile true {\n  push(keep, [1, 2, 3, 4, 5, 6, 7, 8]);\n}";
    let o = run(src, &config(|l| l.max_heap_bytes = 8 << 20));
    let (kind, msg, _) = error_of(&o);
    assert_eq!(kind, ErrorKind::MemoryLimit);
    assert_eq!(msg, "heap limit of 8388608 bytes exceeded");
}

#[test]
fn garbage_does_not_count_against_the_heap_limit() {
    let src = "let n = 0;\nfor i in 0..200000 { let t = [i, i, i, i, i, i, i, i]; n += len(t); }\nprint(n);";
    let o = run(src, &config(|l| l.max_heap_bytes = 4 << 20));
    assert_eq!(o.output, "1600000\n");
    assert!(o.stats.heap.collections > 0);
}

#[test]
fn a_heap_limit_of_zero_fails_at_the_first_allocation_and_loses_nothing() {
    for heap in [0, 1, 100, 124] {
        let o = run("print(1);", &config(|l| l.max_heap_bytes = heap));
        let (kind, message, _) = error_of(&o);
        assert_eq!(kind, ErrorKind::MemoryLimit);
        assert_eq!(message, format!("heap limit of {heap} bytes exceeded"));
    }
}

#[test]
fn a_literal_bigger_than_the_heap_fails_while_loading() {
    let src = format!("let s = \"{}\";\nprint(len(s));", "x".repeat(2_000_000));
    let o = run(&src, &config(|l| l.max_heap_bytes = 1_000_000));
    assert_eq!(error_of(&o).0, ErrorKind::MemoryLimit);
    assert_eq!(
        o.stats.functions.len(),
        1,
        "the program's function is reported"
    );
}

#[test]
fn a_call_depth_limit_beyond_memory_is_a_clear_error() {
    for depth in [u32::MAX, 2_000_000_000] {
        let o = run(
            "fn f(n) { return n; }\nprint(f(1));",
            &config(|l| l.max_call_depth = depth),
        );
        let (kind, message, _) = error_of(&o);
        assert_eq!(kind, ErrorKind::MemoryLimit, "{message}");
        assert_eq!(
            message,
            format!("cannot reserve a frame stack of {depth} frames")
        );
    }
    // A large limit that can be reserved runs: frames cost memory only when pushed.
    let o = run(
        "fn f(n) { if n == 0 { return 0; } return f(n - 1) + 1; }\nprint(f(1000));",
        &config(|l| l.max_call_depth = 50_000_000),
    );
    assert_eq!(o.output, "1000\n");
}

#[test]
fn a_source_over_the_size_limit_is_refused_before_it_is_read() {
    // 12 bytes; the last byte is not UTF-8 and the text would not parse either: the size is
    // checked before anything else.
    let source = b"print(1);\n(\xff";
    let at = |n: usize| Limits {
        max_source_bytes: n,
        ..Limits::default()
    };
    let over = at(source.len() - 1);
    let message = "source of 12 bytes exceeds the limit of 11 bytes";
    for e in [
        compile_bytes(source, &over).unwrap_err(),
        run_bytes(source, &config(|l| *l = over.clone()))
            .result
            .unwrap_err(),
    ] {
        assert_eq!(
            (e.kind, e.message.as_str(), e.line),
            (ErrorKind::SizeLimit, message, 1)
        );
        assert_eq!(
            (e.column, e.span),
            (Some(1), Some((0, 0))),
            "a compile error at 1:1"
        );
        assert!(e.is_compile_error() && e.trace.is_empty());
    }
    // At the limit, the source is read: here, its first bad byte is the error.
    let e = compile_bytes(source, &at(source.len())).unwrap_err();
    assert_eq!(e.kind, ErrorKind::SyntaxError);

    // One byte over fails; exactly at the limit compiles and runs.
    let program = "print(\"exactly\");";
    let e = compile(program, &at(program.len() - 1)).unwrap_err();
    assert_eq!(
        (e.kind, e.message, e.line),
        (
            ErrorKind::SizeLimit,
            "source of 17 bytes exceeds the limit of 16 bytes".to_string(),
            1
        )
    );
    assert!(compile(program, &at(program.len())).is_ok());
    for &tier in Tier::ALL {
        let o = run(
            program,
            &Config {
                tier,
                limits: at(program.len()),
                ..Config::default()
            },
        );
        assert_eq!(
            (o.output.as_str(), o.result),
            ("exactly\n", Ok("nil".to_string()))
        );
        let o = run(
            program,
            &Config {
                tier,
                limits: at(program.len() - 1),
                ..Config::default()
            },
        );
        assert_eq!(error_of(&o).0, ErrorKind::SizeLimit);
        assert_eq!((o.output.as_str(), o.fuel_used), ("", 0), "nothing ran");
    }

    // A REPL entry too; the `;` a REPL adds to a final expression does not count.
    let mut session = Session::new(config(|l| l.max_source_bytes = 5));
    assert_eq!(
        error_of(&session.eval("1 + 23")),
        (
            ErrorKind::SizeLimit,
            "source of 6 bytes exceeds the limit of 5 bytes".into(),
            1
        )
    );
    assert_eq!(session.eval("1 + 2").result, Ok("3".to_string()));

    // The default is 16 MiB.
    assert_eq!(Limits::default().max_source_bytes, 16 << 20);
}

/// A value from the edges of its range, or any value.
fn extreme<T: Arbitrary + Copy + std::fmt::Debug + 'static>(edges: Vec<T>) -> BoxedStrategy<T> {
    prop_oneof![proptest::sample::select(edges), any::<T>()].boxed()
}

fn limits() -> impl Strategy<Value = Limits> {
    (
        prop_oneof![
            Just(None),
            extreme(vec![0u64, 1, 2, 10, 1000, u64::MAX]).prop_map(Some)
        ],
        extreme(vec![0u32, 1, 2, 3, 50, 10_000, u32::MAX]),
        extreme(vec![0usize, 1, 2, 16, 1 << 16, 1 << 22, usize::MAX]),
        extreme(vec![0usize, 1, 200, 1 << 16, 1 << 30, usize::MAX]),
        extreme(vec![0usize, 1, 8, 1 << 26, usize::MAX]),
        extreme(vec![0usize, 1, 4, 1 << 24, usize::MAX]),
        extreme(vec![0usize, 1, 16, 1 << 26, usize::MAX]),
        extreme(vec![0u32, 1, 2, 200, u32::MAX]),
        extreme(vec![
            0usize,
            1,
            EVERYTHING.len() - 1,
            EVERYTHING.len(),
            1 << 24,
            usize::MAX,
        ]),
    )
        .prop_map(
            |(fuel, depth, slots, heap, string, coll, output, nesting, source)| Limits {
                fuel,
                max_call_depth: depth,
                max_stack_slots: slots,
                max_heap_bytes: heap,
                max_string_bytes: string,
                max_collection_len: coll,
                max_output_bytes: output,
                max_nesting: nesting,
                max_source_bytes: source,
            },
        )
}

/// Recursion, strings, lists, maps, classes, closures and printing: something for every
/// limit to stop.
const EVERYTHING: &str = "class P { fn init(x) { self.x = x; } fn get() { return self.x; } }\n\
    fn deep(n) { if n <= 0 { return 0; } return deep(n - 1) + 1; }\n\
    let s = \"ab\"; let xs = []; let m = {};\n\
    for i in 0..40 { s = s + str(i); push(xs, P(i)); m[str(i)] = fn(y) { return y + i; }; }\n\
    print(deep(30), len(s), len(xs), m[\"3\"](4), xs[5].get());\n\
    return [s, xs[0].x];";

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Whatever the settings, a run ends normally or with an error of the engine's (a limit,
    /// or the compile-time nesting limit): never a panic, an abort or an internal error, and
    /// every tier ends the same way.
    #[test]
    fn every_setting_runs_or_fails_with_a_clear_error(
        limits in limits(),
        hot_calls in extreme(vec![0u32, 1, 2, u32::MAX]),
        hot_loops in extreme(vec![0u32, 1, 2, u32::MAX]),
        gc_stress in any::<bool>(),
    ) {
        let mut reference = None;
        for &tier in Tier::ALL {
            let config = Config { tier, limits: limits.clone(), hot_calls, hot_loops, gc_stress, ..Config::default() };
            let o = run(EVERYTHING, &config);
            if let Err(e) = &o.result {
                prop_assert!(
                    e.kind.is_limit() && e.kind != ErrorKind::InternalError
                        && e.kind != ErrorKind::NativeStackOverflow,
                    "{tier}: {e}"
                );
            }
            match &reference {
                None => reference = Some(o),
                Some(r) => prop_assert_eq!(&o, r, "{} differs from interp", tier),
            }
        }
    }
}

#[test]
fn nesting_errors_point_at_the_construct_that_went_too_deep() {
    // (source, byte offset of the construct at depth 201)
    let blocks = format!("{}{}", "{".repeat(201), "}".repeat(201));
    let unary = format!("let x = {}1;", "-".repeat(201));
    let assign = format!("let a = 0;\n{}1;", "a = ".repeat(201));
    let parens = format!("let x = {}1{};", "(".repeat(201), ")".repeat(201));
    let lists = format!("let x = {}1{};", "[".repeat(201), "]".repeat(201));
    let calls = format!("let x = f{};", "(1)".repeat(201));
    for (src, at) in [
        (lists.as_str(), 8 + 200),
        (calls.as_str(), 9 + 3 * 200),
        (blocks.as_str(), 200),
        (unary.as_str(), 8 + 200),
        (assign.as_str(), 11 + 4 * 200 + 2),
        (parens.as_str(), 8 + 200),
    ] {
        let e = run(src, &Config::default()).result.unwrap_err();
        assert_eq!(e.kind, ErrorKind::NestingLimit, "{src:.40}");
        assert_eq!(e.span.map(|s| s.0), Some(at), "{src:.40}");
    }
}

/// Runs `source` in every tier (the tiered one compiling at once) with `fuel`; all must
/// agree, and the interpreter's outcome is returned.
fn in_every_tier(source: &str, fuel: Option<u64>) -> Outcome {
    let outcomes: Vec<Outcome> = Tier::ALL
        .iter()
        .map(|&tier| {
            let mut c = config(|l| l.fuel = fuel);
            c.tier = tier;
            c.hot_calls = 1;
            c.hot_loops = 2;
            run(source, &c)
        })
        .collect();
    for o in &outcomes[1..] {
        assert_eq!(o, &outcomes[0], "tiers disagree on {source}");
    }
    outcomes.into_iter().next().expect("at least one tier")
}

#[test]
fn operations_pay_fuel_in_proportion_to_their_work() {
    // Fuel = calls + loop iterations + element work / 16 + bytes / 64 (per operation, rounded
    // down), with element work 1 per value moved and 4 per value compared or printed.
    let cases: &[(&str, u64)] = &[
        // 100 iterations; remove: 1 call + 99 entries moved down and re-indexed x 4 / 16.
        (
            "let m = {}; for i in 0..100 { m[i] = i; } remove(m, 0);",
            100 + 1 + 99 * 4 / 16,
        ),
        // range: 1 + 1000 / 16; insert at 0: 1 + 1000 moved / 16.
        (
            "let l = range(0, 1000); insert(l, 0, 9);",
            (1 + 62) + (1 + 62),
        ),
        // 2,000 bytes written / 64; no call.
        ("let s = \"ab\" * 1000;", 2000 / 64),
        // range 1 + 6; str: 1 + (101 values printed x 4) / 16 + 390 bytes / 64.
        (
            "let s = str(range(0, 100));",
            (1 + 6) + 1 + 404 / 16 + 390 / 64,
        ),
        // two ranges; ==: 101 pairs compared x 4 / 16.
        (
            "let a = range(0, 100); let b = range(0, 100); let e = a == b;",
            2 * 7 + 404 / 16,
        ),
        // range; contains: 1 + (1000 copied + 1000 x 4 compared) / 16.
        ("let c = contains(range(0, 1000), -1);", 63 + 1 + 5000 / 16),
        // range; sort: 1 + 1024 x 11 rounds / 16.
        ("sort(range(0, 1024));", 65 + 1 + 1024 * 11 / 16),
        // join: its call; split: its call + 16 per part allocated / 16.
        (
            "let s = join([1, 2, 3], \", \"); let t = split(s, \",\");",
            1 + (1 + 3),
        ),
    ];
    for &(source, fuel) in cases {
        let o = in_every_tier(source, None);
        assert!(o.result.is_ok(), "{source}: {:?}", o.result);
        assert_eq!(o.fuel_used, fuel, "{source}");
    }
}

#[test]
fn fuel_runs_out_inside_an_operation_before_its_work_is_done() {
    // Removing the oldest of n keys moves n - 1 entries: removing every key oldest first is
    // quadratic, and a budget that once allowed it now stops it.
    let src =
        "let m = {};\nfor i in 0..20000 { m[i] = i; }\nfor i in 0..20000 {\n    remove(m, i);\n}";
    let o = in_every_tier(src, Some(1_000_000));
    assert_eq!(
        error_of(&o),
        (
            ErrorKind::FuelExhausted,
            "ran out of fuel (limit 1000000 units)".to_string(),
            4
        )
    );
    assert_eq!(o.fuel_used, 1_000_000);
    // One operation bigger than the whole budget fails at once, in compiled code too:
    // equality deep in a hot loop, string repetition, printing.
    let cases = [
        (
            "let a = range(0, 5000);\nlet b = copy(a);\nwhile true {\n    let e = a == b;\n}",
            4,
        ),
        (
            "let n = 1;\nwhile true {\n    let s = \"ab\" * n;\n    n = n * 2;\n}",
            3,
        ),
        (
            "let l = [];\nwhile true {\n    push(l, 1);\n    let s = str(l);\n}",
            4,
        ),
    ];
    for (src, line) in cases {
        let o = in_every_tier(src, Some(100_000));
        assert_eq!(error_of(&o).0, ErrorKind::FuelExhausted, "{src}");
        assert_eq!(error_of(&o).2, line, "{src}");
        assert_eq!(o.fuel_used, 100_000, "{src}");
    }
}
