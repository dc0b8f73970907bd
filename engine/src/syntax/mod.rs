//! The front end: source text to a resolved syntax tree (lexer, parser, resolver), and back
//! to text (printer). It knows nothing of bytecode or of the runtime.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod printer;
pub mod resolver;
pub mod visit;
