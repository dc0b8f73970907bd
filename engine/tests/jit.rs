//! The JIT tier: every function of every corpus program compiles, its CLIF text parses back
//! with cranelift-reader, and compiled code grows linearly with the function.
#![cfg(feature = "jit")]

use std::path::Path;

use echo_engine::corpus::files;
use echo_engine::jit::{clif_of_program, compile_program};
use echo_engine::{Config, Limits, Tier, compile, run};

#[test]
fn every_corpus_function_compiles_and_its_clif_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut failures = Vec::new();
    let mut functions = 0;
    for path in files(&dir) {
        let src = std::fs::read_to_string(&path).expect("corpus files are UTF-8");
        let Ok(program) = compile(
            &src,
            &Limits {
                max_nesting: 1_000_000,
                ..Limits::default()
            },
        ) else {
            continue;
        };
        for dump in clif_of_program(program, &Config::default(), false) {
            let name = dump.name;
            match dump.clif {
                Ok(text) => {
                    functions += 1;
                    if let Err(e) = cranelift_reader::parse_functions(&text) {
                        failures.push(format!(
                            "{} {name}: CLIF does not parse: {e}",
                            path.display()
                        ));
                    }
                }
                Err(why) if why.starts_with("function too") => {}
                Err(why) => failures.push(format!("{} {name}: {why}", path.display())),
            }
        }
    }
    assert!(functions > 500, "only {functions} functions compiled");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `n` locals, then a sum of all but ten of them: every addition can leave (overflow), and
/// every local written before it is changed, so keeping registers in variables would make
/// each exit store up to `n` registers.
fn many_locals(n: usize) -> String {
    let mut src = String::from("fn f(x) {\n");
    for i in 0..n {
        src += &format!("  let v{i} = x + {i};\n");
    }
    src += "  let s = 0;\n";
    for i in 0..n - 10 {
        src += &format!("  s = s + v{i};\n");
    }
    src += "  return s;\n}\nprint(f(1));\n";
    src
}

#[test]
fn code_grows_linearly_with_locals_times_exits() {
    let bytes = |n: usize| {
        let program = compile(&many_locals(n), &Limits::default()).expect("compiles");
        let f = compile_program(program, &Config::default())
            .into_iter()
            .find(|f| f.name == "f")
            .expect("f is compiled");
        f.result.expect("f compiles").1
    };
    let (small, large) = (bytes(250), bytes(1000));
    // Four times the locals and exits: about four times the code (it was sixteen).
    assert!(
        large < 5 * small,
        "250 locals: {small} bytes, 1000 locals: {large} bytes"
    );
    let src = many_locals(1000);
    let reference = run(
        &src,
        &Config {
            tier: Tier::Interp,
            ..Config::default()
        },
    );
    assert_eq!(reference.output, "490545\n");
    for tier in [Tier::Jit, Tier::Tiered] {
        assert_eq!(
            run(
                &src,
                &Config {
                    tier,
                    hot_calls: 1,
                    ..Config::default()
                }
            ),
            reference,
            "{tier}"
        );
    }
}
