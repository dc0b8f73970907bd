//! The printer over the whole corpus: printing a parsed program gives source that parses back
//! to the same text (a fixpoint) and runs with the same outcome, apart from line numbers.

use std::path::Path;

use echo_engine::config::{Limits, Tier};
use echo_engine::corpus::{files, parse_expectations};
use echo_engine::run;
use echo_engine::syntax::parser::parse;
use echo_engine::syntax::printer::print_script;

/// `text` with the number after every `line: ` (in printed `Error` objects) blanked out.
fn without_lines(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("line: ") {
        out.push_str(&rest[..i + 6]);
        rest = rest[i + 6..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('#');
    }
    out.push_str(rest);
    out
}

#[test]
fn printed_corpus_programs_reparse_and_behave_the_same() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus");
    let mut checked = 0;
    for path in files(&dir) {
        if path.components().any(|c| c.as_os_str() == "bench") {
            continue;
        }
        let src = std::fs::read_to_string(&path).expect("corpus file is readable");
        let Ok(tree) = parse(&src, 200) else {
            continue; // syntax-error tests
        };
        let name = path.display();
        let printed = print_script(&tree);
        let again = parse(&printed, 200)
            .unwrap_or_else(|e| panic!("{name}: printed source does not parse: {e:?}\n{printed}"));
        assert_eq!(print_script(&again), printed, "{name}: not a fixpoint");
        let exp = parse_expectations(&src).expect("expectations parse");
        if exp.limits.max_source_bytes != Limits::default().max_source_bytes {
            continue; // the text's own length is what these test, and printing changes it
        }
        let config = exp.config(Tier::Interp);
        let (a, b) = (run(&src, &config), run(&printed, &config));
        // Lines change with the layout; kinds, messages, values and fuel must not.
        let strip = |o: &echo_engine::Outcome| {
            (
                o.result
                    .as_ref()
                    .map_err(|e| (e.kind, without_lines(&e.message)))
                    .cloned(),
                o.fuel_used,
            )
        };
        assert_eq!(strip(&a), strip(&b), "{name}: outcome changed\n{printed}");
        if !src.contains(".line") {
            assert_eq!(
                without_lines(&a.output),
                without_lines(&b.output),
                "{name}: output changed\n{printed}"
            );
        }
        checked += 1;
    }
    assert!(checked > 300, "only {checked} corpus programs checked");
}
