//! Which opcodes, JIT helpers and builtins a run reached. Collected only when asked for
//! (`Config::coverage`), for harnesses that measure how much of the engine their programs
//! exercise; the interpreter then runs a copy of its dispatch loop that records each opcode.

use crate::bytecode::OPCODES;
use crate::error::ErrorKind;
use crate::runtime::builtins::BUILTINS;

/// Reached opcodes (interpreted), helpers (called from compiled code) and builtins, as bit
/// sets indexed like `OPCODES`, the JIT's helper table and `BUILTINS`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Bit `i`: opcode `OPCODES[i]` was interpreted.
    pub opcodes: u128,
    /// Bit `i`: helper `i` of the JIT's helper table (`crate::helper_names()`) was called.
    pub helpers: u64,
    /// Bit `i`: builtin `BUILTINS[i]` was called.
    pub builtins: u64,
    /// Bit `k as u32`: an error of kind `k` was raised (caught or not).
    pub errors: u32,
}

// Every set must fit its bit set.
const _: () = assert!(OPCODES.len() <= 128);
const _: () = assert!(BUILTINS.len() <= 64);

impl Coverage {
    /// Adds everything `other` reached.
    pub fn merge(&mut self, other: &Coverage) {
        self.opcodes |= other.opcodes;
        self.helpers |= other.helpers;
        self.builtins |= other.builtins;
        self.errors |= other.errors;
    }

    /// Error kinds, each with whether one was raised.
    pub fn errors(&self) -> Vec<(ErrorKind, bool)> {
        ErrorKind::ALL
            .iter()
            .map(|&k| (k, self.errors & (1 << k as u32) != 0))
            .collect()
    }

    /// Opcode names, each with whether it was reached.
    pub fn opcodes(&self) -> Vec<(&'static str, bool)> {
        OPCODES
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name, self.opcodes & (1 << i) != 0))
            .collect()
    }

    /// Helper names (the JIT's helper table, `crate::helper_names()`), each with whether it
    /// was reached.
    pub fn helpers(&self, names: &[&'static str]) -> Vec<(&'static str, bool)> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, self.helpers & (1 << i) != 0))
            .collect()
    }

    /// Builtin names, each with whether it was reached.
    pub fn builtins(&self) -> Vec<(&'static str, bool)> {
        BUILTINS
            .iter()
            .enumerate()
            .map(|(i, b)| (b.name, self.builtins & (1 << i) != 0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, Tier};

    #[test]
    fn every_helper_fits_the_bit_set() {
        assert!(crate::helper_names().len() <= 64);
    }

    #[test]
    fn runs_record_what_they_reach_only_when_asked() {
        let src = "let x = [1, 2]; print(len(x) + x[0]);";
        let reached = |tier, coverage| {
            let config = Config {
                tier,
                coverage,
                ..Config::default()
            };
            crate::run(src, &config).stats.coverage
        };
        assert_eq!(reached(Tier::Interp, false), None);
        let c = reached(Tier::Interp, true).expect("coverage was asked for");
        let ops: Vec<_> = c
            .opcodes()
            .into_iter()
            .filter(|o| o.1)
            .map(|o| o.0)
            .collect();
        assert!(
            ops.contains(&"NewList") && ops.contains(&"GetIndex"),
            "{ops:?}"
        );
        assert!(!ops.contains(&"Throw"), "{ops:?}");
        let builtins: Vec<_> = c
            .builtins()
            .into_iter()
            .filter(|b| b.1)
            .map(|b| b.0)
            .collect();
        assert_eq!(builtins, ["print", "len"]);
        #[cfg(feature = "jit")]
        {
            let c = reached(Tier::Jit, true).expect("coverage was asked for");
            let helpers: Vec<_> = c
                .helpers(&crate::helper_names())
                .into_iter()
                .filter(|h| h.1)
                .map(|h| h.0)
                .collect();
            assert!(helpers.contains(&"echo_new_list"), "{helpers:?}");
            assert_eq!(c.opcodes, 0, "nothing is interpreted in the jit tier");
        }
    }
}
