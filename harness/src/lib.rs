//! Differential testing of Echo's tiers. *Generators* turn bytes or a seed into valid Echo
//! programs, the *oracle* runs a program in every tier and compares the outcomes, the
//! *reducer* shrinks a program that makes the tiers disagree, and *campaigns* run all of it
//! in parallel with statistics, on threads a watchdog gives up on when a run does not end. Fuzz targets (`fuzz/`) and the `echo-harness` CLI are thin
//! layers over this library.

#[cfg(feature = "jit")]
pub mod bench;
pub mod campaign;
pub mod generator;
pub mod oracle;
pub mod reduce;
#[cfg(feature = "mutants")]
pub mod selftest;
pub mod stats;
pub mod watchdog;
