//! The `echo-lang` command line: subcommands, diagnostics and exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn echo_lang(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_echo-lang"))
        .args(args)
        .env("HOME", std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("echo-lang starts");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(stdin.as_bytes())
        .expect("stdin accepts input");
    child.wait_with_output().expect("echo-lang finishes")
}

fn script(name: &str, src: &str) -> String {
    // Inside the target directory, so test runs leave nothing behind in the system's /tmp.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("echo-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, src).expect("write script");
    path.to_string_lossy().into_owned()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_prints_output_and_exits_zero() {
    let f = script("ok.echo", "print(\"hi\", 1 + 1);");
    let o = echo_lang(&["run", &f], "");
    assert_eq!(text(&o.stdout), "hi 2\n");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn runtime_errors_print_a_trace_and_exit_one() {
    let f = script(
        "rt.echo",
        "fn inner(x) {\n  return x / 0;\n}\nfn outer() { return inner(1); }\nouter();\n",
    );
    let o = echo_lang(&["run", &f], "");
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("ZeroDivisionError: integer division by zero\n"),
        "{err}"
    );
    assert!(
        err.contains("at inner (") && err.contains("rt.echo:2)"),
        "{err}"
    );
    assert!(
        err.contains("at outer (") && err.contains("rt.echo:4)"),
        "{err}"
    );
    assert!(
        err.contains("at <script> (") && err.contains("rt.echo:5)"),
        "{err}"
    );
}

#[test]
fn compile_errors_show_the_source_line_and_exit_two() {
    let f = script("ce.echo", "let x = 1;\nlet y = x +;\n");
    let o = echo_lang(&["run", &f], "");
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("SyntaxError: expected an expression, found ';'"),
        "{err}"
    );
    assert!(err.contains("ce.echo:2:12"), "{err}");
    assert!(err.contains("let y = x +;"), "{err}");
}

#[test]
fn limits_exit_three() {
    let f = script("loop.echo", "while true {}\n");
    let o = echo_lang(&["run", "--fuel", "1000", &f], "");
    assert_eq!(o.status.code(), Some(3));
    assert!(text(&o.stderr).starts_with("FuelExhausted: ran out of fuel (limit 1000 units)"));
}

#[test]
fn stats_report_calls_per_function() {
    let f = script("stats.echo", "fn f() {}\nfor i in 0..5 { f(); }\n");
    let o = echo_lang(&["run", "--stats", &f], "");
    assert_eq!(o.status.code(), Some(0));
    let err = text(&o.stderr);
    assert!(err.contains("fuel used                10"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.split_whitespace().take(3).collect::<Vec<_>>() == ["f", "1", "5"]),
        "{err}"
    );
}

#[test]
fn dis_prints_every_function() {
    let f = script(
        "dis.echo",
        "fn add(a, b) { return a + b; }\nprint(add(1, 2));\n",
    );
    let o = echo_lang(&["dis", &f], "");
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert!(out.starts_with("function <script>"), "{out}");
    assert!(
        out.contains("function add (proto 0, line 1, 2 params"),
        "{out}"
    );
    assert!(out.contains("Add         r2, r0, r1"), "{out}");
}

#[test]
fn repl_keeps_definitions_and_prints_values() {
    let input = "let x = 20;\nfn twice(n) {\n  return 2 * n;\n}\ntwice(x) + 2\n:dis\nprint(\"done\");\n:quit\n";
    let o = echo_lang(&["repl"], input);
    let out = text(&o.stdout);
    assert!(out.contains("42\n"), "{out}");
    assert!(out.contains("function twice"), "{out}");
    assert!(out.contains("done\n"), "{out}");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn a_source_over_max_source_is_refused_as_a_compile_error() {
    let src = "print(1);\n";
    let f = script("size.echo", src);
    for cmd in ["run", "dis"] {
        let o = echo_lang(&[cmd, "--max-source", "9", &f], "");
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        let err = text(&o.stderr);
        assert!(
            err.contains("SizeLimit: source of 10 bytes exceeds the limit of 9 bytes"),
            "{cmd}: {err}"
        );
        assert!(err.contains("size.echo:1:1"), "{cmd}: {err}");
        assert_eq!(text(&o.stdout), "", "{cmd}");
        let o = echo_lang(&[cmd, "--max-source", "10", &f], "");
        assert_eq!(o.status.code(), Some(0), "{cmd}");
    }
    // Standard input is counted to its end, though only the limit's worth is kept.
    let o = echo_lang(&["run", "--max-source", "3", "-"], &"1;".repeat(50_000));
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("source of 100000 bytes exceeds the limit of 3 bytes"),
        "{err}"
    );
}

#[test]
fn usage_and_input_errors_have_their_own_codes() {
    assert_eq!(echo_lang(&["run"], "").status.code(), Some(64));
    assert_eq!(
        echo_lang(&["run", "--fuel", "lots", "x.echo"], "")
            .status
            .code(),
        Some(64)
    );
    assert_eq!(
        echo_lang(&["run", "/nonexistent/file.echo"], "")
            .status
            .code(),
        Some(66)
    );
}
