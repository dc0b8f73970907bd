//! The disassembler: bytecode back to readable text (`echo-lang dis`), driven entirely by the
//! opcode table, so every opcode prints with its operand names and resolved meanings.

use std::fmt::Write;

use crate::bytecode::*;
use crate::text::{format_float, quote_into};

/// Disassembles every prototype of `program`, entry point first, then in creation order.
pub fn disassemble(program: &Program) -> String {
    let mut out = String::new();
    let mut order: Vec<usize> = (0..program.protos.len()).collect();
    order.sort_by_key(|&i| i != program.main.0 as usize);
    for (n, i) in order.into_iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        disassemble_proto(program, ProtoId(i as u32), &mut out);
    }
    out
}

/// Disassembles one prototype into `out`.
pub fn disassemble_proto(program: &Program, id: ProtoId, out: &mut String) {
    let p = program.proto(id);
    let _ = writeln!(
        out,
        "function {} (proto {}, line {}, {} params, {} registers, {} constants, {} captures)",
        p.name,
        id.0,
        p.line,
        p.arity,
        p.nregs,
        p.consts.len(),
        p.captures.len()
    );
    for (i, c) in p.captures.iter().enumerate() {
        let src = match c {
            CaptureSrc::Reg(r) => format!("r{}", r.0),
            CaptureSrc::Upval(u) => format!("u{}", u.0),
        };
        let _ = writeln!(out, "  capture u{i} <- {src}");
    }
    for (pc, op) in p.code.iter().enumerate() {
        let _ = write!(out, "  {pc:04} {:>4}  {:<12}", p.lines[pc], op.name());
        let ops: Vec<String> = op
            .operands()
            .into_iter()
            .map(|(_, o)| operand(program, p, pc, o))
            .collect();
        let text = ops.join(", ");
        let _ = writeln!(out, "{}", text.trim_end());
    }
    for h in &p.handlers {
        let _ = writeln!(
            out,
            "  try [{:04}, {:04}) -> {:04} catch r{}",
            h.start, h.end, h.target, h.reg.0
        );
    }
}

fn operand(program: &Program, p: &Proto, pc: usize, o: Operand) -> String {
    match o {
        Operand::Reg(r) => format!("r{}", r.0),
        Operand::Const(k) => {
            let mut s = format!("k{} ", k.0);
            match &p.consts[k.0 as usize] {
                Const::Int(i) => {
                    let _ = write!(s, "({i})");
                }
                Const::Float(f) => {
                    let _ = write!(s, "({})", format_float(*f));
                }
                Const::Str(t) => {
                    s.push('(');
                    quote_into(t, &mut s);
                    s.push(')');
                }
                Const::Bool(b) => {
                    let _ = write!(s, "({b})");
                }
                Const::Nil => s.push_str("(nil)"),
            }
            s
        }
        Operand::Imm(i) => i.0.to_string(),
        Operand::Jump(j) => format!("-> {:04}", (pc as i64 + 1 + j.0 as i64)),
        Operand::Global(g) => {
            let name = program
                .globals
                .get(g.0 as usize)
                .map_or("?", |g| g.name.as_str());
            format!("g{} ({name})", g.0)
        }
        Operand::Upval(u) => format!("u{}", u.0),
        Operand::Sym(s) => format!(".{}", program.symbols.name(s)),
        Operand::Proto(id) => format!("proto {} ({})", id.0, program.proto(id).name),
        Operand::Class(c) => format!("class {} ({})", c.0, program.classes[c.0 as usize].name),
        Operand::Native(f) => {
            let name = program.builtins.get(f.0 as usize).copied().unwrap_or("?");
            format!("builtin {name}")
        }
        Operand::Count(n) => n.0.to_string(),
        Operand::Ic(i) if i == IcIdx::NONE => "ic -".to_string(),
        Operand::Ic(i) => format!("ic {}", i.0),
    }
}
