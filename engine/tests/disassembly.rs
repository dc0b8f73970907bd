//! Disassembly snapshots: each `tests/snapshots/dis/NAME.echo` compiles to exactly the
//! bytecode in `NAME.dis`. Set `ECHO_BLESS=1` to rewrite the snapshots after an intended
//! change (and review the diff). Together the scripts use every opcode.

use std::collections::BTreeSet;
use std::path::Path;

use echo_engine::bytecode::OPCODES;
use echo_engine::bytecode::disasm;
use echo_engine::{Limits, compile};

#[test]
fn disassembly_matches_the_snapshots_and_covers_every_opcode() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/dis");
    let bless = std::env::var_os("ECHO_BLESS").is_some();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .expect("snapshot folder exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "echo"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 8, "too few snapshot scripts");
    for script in &scripts {
        let src = std::fs::read_to_string(script).expect("script is readable");
        let program = compile(&src, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
        for p in &program.protos {
            seen.extend(p.code.iter().map(|op| op.name()));
        }
        let text = disasm::disassemble(&program);
        let snap = script.with_extension("dis");
        if bless {
            std::fs::write(&snap, &text).expect("snapshot is writable");
            continue;
        }
        match std::fs::read_to_string(&snap) {
            Ok(expected) if expected == text => {}
            Ok(expected) => failures.push(format!(
                "{}: disassembly changed\n--- expected\n{expected}\n--- got\n{text}",
                script.display()
            )),
            Err(_) => failures.push(format!(
                "{}: no snapshot (run with ECHO_BLESS=1)",
                script.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    let missing: Vec<&str> = OPCODES
        .iter()
        .map(|o| o.name)
        .filter(|n| !seen.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "opcodes no snapshot script uses: {missing:?}"
    );
}
