//! The runtime: values and the heap they live in, the semantics of operators and builtins,
//! and the interpreter that runs bytecode. The JIT tier builds on it.

pub mod builtins;
pub mod cells;
pub mod coverage;
pub mod error;
pub mod heap;
pub mod ops;
pub mod pool;
pub mod shape;
pub mod stack;
pub mod table;
pub mod tiering;
pub mod value;
pub mod vm;
pub mod work;
