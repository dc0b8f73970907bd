//! The JIT tier: every function of every corpus program compiles, and its CLIF text parses
//! back with cranelift-reader.
#![cfg(feature = "jit")]

use std::path::Path;

use echo_engine::corpus::files;
use echo_engine::jit::clif_of_program;
use echo_engine::{Config, Limits, compile};

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
                Err(why) if why.starts_with("function too large") => {}
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
