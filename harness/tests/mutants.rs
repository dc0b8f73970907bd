//! With the `mutants` feature: every deliberate JIT bug is killed by its reproducer in
//! `corpus/regress/mutants/NAME.echo` (which `echo-harness selftest` writes): the file meets
//! its expectations in every tier without the mutant, and fails them with it.
#![cfg(feature = "mutants")]

use std::path::{Path, PathBuf};

use echo_engine::jit::mutants::Mutant;
use echo_harness::selftest::kills;

fn mutants_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/regress/mutants")
}

#[test]
fn every_mutant_is_killed_by_its_reproducer() {
    let failures: Vec<String> = Mutant::ALL
        .iter()
        .filter_map(|&m| {
            let path = mutants_dir().join(format!("{}.echo", m.name()));
            kills(m, &path).err().map(|e| format!("{}: {e}", m.name()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_reproducer_names_a_mutant() {
    for path in echo_engine::corpus::files(&mutants_dir()) {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        assert!(
            Mutant::from_name(stem).is_some(),
            "{} names no mutant",
            path.display()
        );
    }
}
