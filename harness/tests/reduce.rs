//! The reducer against real predicates: how far it shrinks, that it never breaks the
//! predicate or its budget, and that regression files it writes pass as corpus tests.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use echo_engine::corpus::parse_expectations;
use echo_engine::{Config, Limits, Outcome, Tier, compile, run};
use echo_harness::reduce::{Budget, Reduced, RunSettings, reduce, write_regression};

/// Functions, classes with inheritance and `super`, loops, `try`/`catch` and closures, with
/// "BUG" printed only deep inside a loop, a `try` handler and two `if`s.
const PROGRAM: &str = r#"
class Shape {
    fn init(name, size) {
        self.name = name;
        self.size = size;
    }
    fn area() {
        return self.size * self.size;
    }
    fn describe() {
        return self.name + " of area " + str(self.area());
    }
}
class Square : Shape {
    fn area() {
        return super.area() + 0;
    }
}
fn helper(a, b) {
    return a + b;
}
fn classify(n) {
    if n % 15 == 0 {
        return "fizzbuzz";
    } else if n % 5 == 0 {
        return "buzz";
    } else if n % 3 == 0 {
        return "fizz";
    }
    return str(n);
}
fn risky(x) {
    if x > 40 {
        throw Error("too big: " + str(x));
    }
    return x * 2;
}
fn counter() {
    let n = 0;
    return fn() { n += 1; return n; };
}
let next = counter();
let shapes = [Shape("a", 2), Square("b", 3)];
for s in shapes {
    print(s.describe(), next());
}
let total = 0;
for i in 0..20 {
    total = helper(total, i);
    let c = classify(i);
    if c == "fizzbuzz" {
        try {
            let r = risky(total * 3);
            print(r);
        } catch e {
            if e.message == "too big: 360" {
                print("BUG", e.line);
            }
            print(e.message);
        }
    } else {
        print(c);
    }
}
let m = {"x": 1, "y": [1, 2, 3]};
while len(m["y"]) < 6 {
    push(m["y"], total);
}
print(m, total, next());
"#;

fn interp(src: &str) -> Outcome {
    run(
        src,
        &Config {
            tier: Tier::Interp,
            ..Config::default()
        },
    )
}

/// A predicate as the campaign builds them: the candidate compiles, and its run shows the
/// property. Fuel is limited: deleting a statement easily makes a loop endless.
fn predicate(prop: impl Fn(&Outcome) -> bool) -> impl FnMut(&str) -> bool {
    let config = Config {
        tier: Tier::Interp,
        limits: Limits {
            fuel: Some(100_000),
            ..Limits::default()
        },
        ..Config::default()
    };
    move |src: &str| compile(src, &config.limits).is_ok() && prop(&run(src, &config))
}

fn shows_bug(o: &Outcome) -> bool {
    o.output.contains("BUG")
}

fn reduce_with(src: &str, keep: &mut dyn FnMut(&str) -> bool, budget: Budget) -> (Reduced, usize) {
    let mut calls = 0;
    let mut counted = |s: &str| {
        calls += 1;
        keep(s)
    };
    let reduced = reduce(src, &mut counted, budget);
    (reduced, calls)
}

#[test]
fn a_deep_marker_reduces_to_a_line() {
    let mut keep = predicate(shows_bug);
    assert!(keep(PROGRAM), "the test program must print BUG");
    let (r, calls) = reduce_with(PROGRAM, &mut keep, Budget::default());
    eprintln!(
        "{} keep calls, {} accepted:\n{}",
        r.tests, r.accepted, r.source
    );
    assert_eq!(r.tests, calls);
    assert!(keep(&r.source));
    assert!(
        r.source.lines().count() <= 2 && r.source.len() <= 40,
        "not reduced enough:\n{}",
        r.source
    );
    assert!(r.tests < 3000, "{} keep calls", r.tests);
}

#[test]
fn results_always_satisfy_the_predicate_and_never_grow() {
    type Prop = fn(&Outcome) -> bool;
    let props: [(&str, Prop); 4] = [
        ("the value printed for 15", |o| {
            o.output.lines().any(|l| l == "too big: 360")
        }),
        ("a Square is described", |o| {
            o.output.contains("b of area 9")
        }),
        ("the map ends up with 6 elements", |o| {
            o.output.contains("[1, 2, 3, 190, 190, 190]")
        }),
        ("the closure counted to 3", |o| o.output.ends_with(" 3\n")),
    ];
    for (what, prop) in props {
        let mut keep = predicate(prop);
        assert!(keep(PROGRAM), "{what}: holds for the input");
        let (r, _) = reduce_with(PROGRAM, &mut keep, Budget::default());
        eprintln!("{what}: {} keep calls\n{}", r.tests, r.source);
        assert!(keep(&r.source), "{what}: result breaks the predicate");
        assert!(r.source.len() < PROGRAM.len() / 2, "{what}: {}", r.source);
    }
    // Compact source whose canonical form is longer, and which cannot shrink.
    let compact = "if 1<2{print(\"BUG\");}";
    let mut keep = predicate(|o| o.output == "BUG\n");
    let r = reduce(compact, &mut keep, Budget::default());
    assert!(r.source.len() <= compact.len(), "{}", r.source);
    assert!(keep(&r.source));
}

#[test]
fn targeted_edits() {
    let mut keep = predicate(|o| o.output.contains("BUG"));
    // A parameter is dropped with its argument; the function is not needed at all.
    let src = "fn f(a, b) {\n    let t = a * 2;\n    print(b, t);\n}\nf(21, \"BUG\");\n";
    let r = reduce(src, &mut keep, Budget::default());
    assert!(!r.source.contains("21"), "{}", r.source);
    // An inlined one-line function, and a call replaced by its argument.
    let mut keep = predicate(|o| o.output.contains("42"));
    let src = "fn add(a, b) {\n    return a + b;\n}\nlet x = add(40, 2);\nprint(str(x) + \"!\");\n";
    let r = reduce(src, &mut keep, Budget::default());
    assert!(!r.source.contains("fn"), "{}", r.source);
    assert!(keep(&r.source));
    // Source that does not parse, or whose canonical form fails, comes back unchanged.
    let r = reduce("print(", &mut keep, Budget::default());
    assert_eq!((r.source.as_str(), r.tests), ("print(", 0));
    let r = reduce("print(1);", &mut keep, Budget::default());
    assert_eq!(
        (r.source.as_str(), r.tests, r.accepted),
        ("print(1);", 1, 0)
    );
}

#[test]
fn the_budget_is_respected() {
    let mut keep = predicate(shows_bug);
    for max_tests in [1, 7, 50] {
        let budget = Budget {
            max_tests,
            ..Budget::default()
        };
        let (r, calls) = reduce_with(PROGRAM, &mut keep, budget);
        assert_eq!(r.tests, calls);
        assert!(calls <= max_tests, "{calls} > {max_tests}");
        assert!(keep(&r.source));
        assert!(r.source.len() <= PROGRAM.len());
    }
    let budget = Budget {
        max_tests: 1_000_000,
        max_time: Duration::ZERO,
    };
    let (r, calls) = reduce_with(PROGRAM, &mut keep, budget);
    assert_eq!((calls, r.source.as_str()), (0, PROGRAM));
    // A slow predicate: the time limit ends the reduction after a few calls.
    let mut slow = |s: &str| {
        std::thread::sleep(Duration::from_millis(20));
        keep(s)
    };
    let budget = Budget {
        max_tests: 1_000_000,
        max_time: Duration::from_millis(200),
    };
    let r = reduce(PROGRAM, &mut slow, budget);
    assert!(r.tests <= 12, "{} calls in 200 ms", r.tests);
}

fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "echo-reduce-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Reads a regression file back as the corpus test runner does and checks it.
fn passes_as_corpus_test(path: &std::path::Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let exp = parse_expectations(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let outcome = run(&text, &exp.config(Tier::Interp));
    if let Err(e) = exp.check(&outcome) {
        panic!("{}:\n{e}\n{text}", path.display());
    }
}

#[test]
fn regressions_are_numbered_and_pass_as_corpus_tests() {
    let dir = temp_dir().join("nested");
    // Ends in an uncaught error, after printing a caught one (whose line is output).
    let src = "fn f(x) {\n    return 10 / x;\n}\ntry {\n    f(0);\n} catch e {\n    print(e);\n}\nprint(f(5));\nprint(f(0));\n";
    let expected = interp(src);
    assert!(expected.result.is_err());
    let note = "interp vs jit: */ output differs // expect: 1 (seed 7)";
    let first = write_regression(
        &dir,
        "Div by Zero!",
        src,
        &expected,
        &RunSettings {
            tiering: Some((3, 7)),
            ..RunSettings::default()
        },
        note,
    )
    .unwrap();
    let text = std::fs::read_to_string(&first).unwrap();
    assert_eq!(
        echo_engine::corpus::parse_expectations(&text)
            .unwrap()
            .tiering,
        Some((3, 7))
    );
    assert_eq!(
        first.file_name().unwrap().to_str(),
        Some("0001-div-by-zero.echo")
    );
    passes_as_corpus_test(&first);
    let text = std::fs::read_to_string(&first).unwrap();
    assert!(text.starts_with("/* interp vs jit"), "{text}");
    assert!(!text.contains("// config"), "{text}");

    // Changed limits travel with the file; the value of a top-level return too.
    let limits = Limits {
        fuel: Some(5000),
        max_call_depth: 64,
        ..Limits::default()
    };
    let settings = RunSettings {
        limits: limits.clone(),
        ..RunSettings::default()
    };
    let src = "let n = 0;\nwhile n < 10 {\n    n += 1;\n}\nreturn [n, \"done\"];\n";
    let expected = run(
        src,
        &Config {
            tier: Tier::Interp,
            limits: limits.clone(),
            ..Config::default()
        },
    );
    let second = write_regression(&dir, "loop", src, &expected, &settings, "a note").unwrap();
    assert_eq!(second.file_name().unwrap().to_str(), Some("0002-loop.echo"));
    passes_as_corpus_test(&second);
    let exp = parse_expectations(&std::fs::read_to_string(&second).unwrap()).unwrap();
    assert_eq!(exp.limits, limits);

    // Numbers continue after the highest present, whatever else is in the directory.
    std::fs::write(dir.join("0041-old.echo"), "print(1);\n// expect: 1\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "").unwrap();
    let third =
        write_regression(&dir, "", "print(2);\n", &interp("print(2);"), &settings, "").unwrap();
    assert_eq!(
        third.file_name().unwrap().to_str(),
        Some("0042-regression.echo")
    );
    passes_as_corpus_test(&third);

    // A source with expectations of its own is refused.
    let err = write_regression(
        &dir,
        "x",
        "print(1); // expect: 1\n",
        &interp("print(1);"),
        &settings,
        "",
    )
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

#[test]
fn reduced_divergences_become_passing_regressions() {
    let mut keep = predicate(shows_bug);
    let r = reduce(PROGRAM, &mut keep, Budget::default());
    let dir = temp_dir();
    let path = write_regression(
        &dir,
        "bug marker",
        &r.source,
        &interp(&r.source),
        &RunSettings::default(),
        &format!("reduced in {} keep calls", r.tests),
    )
    .unwrap();
    passes_as_corpus_test(&path);
    std::fs::remove_dir_all(&dir).unwrap();
}
