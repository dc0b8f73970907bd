//! The bytecode verifier: checks once, when a program is loaded, that every operand of every
//! instruction is in range (registers below the frame size, jump targets inside the code,
//! constants, captures, globals, prototypes, classes, builtins and cache slots that exist)
//! and that no code can run off its end. The interpreter relies on it to access registers
//! without bounds checks.

use crate::bytecode::*;

/// Checks prototype `id` of `program`; the error names the first violation.
pub fn verify_proto(program: &Program, id: ProtoId) -> Result<(), String> {
    let p = program.proto(id);
    let nregs = p.nregs as usize;
    let len = p.code.len();
    let err = |pc: usize, what: String| Err(format!("{} (proto {}) at {pc}: {what}", p.name, id.0));
    if nregs < p.param_regs() {
        return err(
            0,
            format!(
                "{} registers cannot hold {} parameters",
                nregs,
                p.param_regs()
            ),
        );
    }
    if p.code
        .last()
        .is_none_or(|op| op.effects().flow.falls_through())
    {
        return err(len, "code can run off its end".into());
    }
    for (pc, op) in p.code.iter().enumerate() {
        for (name, operand) in op.operands() {
            let ok = match operand {
                Operand::Reg(r) => (r.0 as usize) < nregs,
                Operand::Const(k) => (k.0 as usize) < p.consts.len(),
                Operand::Imm(_) | Operand::Count(_) | Operand::Sym(_) => true,
                Operand::Jump(j) => {
                    let target = pc as i64 + 1 + j.0 as i64;
                    (0..len as i64).contains(&target)
                }
                Operand::Global(g) => (g.0 as usize) < program.globals.len(),
                Operand::Upval(u) => (u.0 as usize) < p.captures.len(),
                Operand::Proto(q) => (q.0 as usize) < program.protos.len(),
                Operand::Class(c) => (c.0 as usize) < program.classes.len(),
                Operand::Native(f) => (f.0 as usize) < program.builtins.len(),
                Operand::Ic(i) => i == IcIdx::NONE || i.0 < p.ic_count,
            };
            if !ok {
                return err(
                    pc,
                    format!("operand {name} = {operand:?} of {} out of range", op.name()),
                );
            }
        }
        // Instructions that address a run of registers.
        let last_reg = op
            .register_run()
            .map_or(0, |(first, len)| first + len.saturating_sub(1));
        if last_reg >= nregs.max(1) {
            return err(
                pc,
                format!("{} addresses register {last_reg} of {nregs}", op.name()),
            );
        }
        // The float-constant forms read their constant as a float without looking.
        if let Op::AddK { k, .. }
        | Op::SubK { k, .. }
        | Op::MulK { k, .. }
        | Op::DivK { k, .. }
        | Op::ModK { k, .. }
        | Op::AddKL { k, .. }
        | Op::MulKL { k, .. } = *op
            && !matches!(p.consts[k.0 as usize], Const::Float(_))
        {
            return err(pc, format!("{} needs a float constant", op.name()));
        }
        if let Op::Closure { p: q, .. } = *op {
            for c in &program.proto(q).captures {
                let ok = match c {
                    CaptureSrc::Reg(r) => (r.0 as usize) < nregs,
                    CaptureSrc::Upval(u) => (u.0 as usize) < p.captures.len(),
                };
                if !ok {
                    return err(pc, format!("capture {c:?} of proto {} out of range", q.0));
                }
            }
        }
    }
    for h in &p.handlers {
        if h.start > h.end
            || h.end as usize > len
            || h.target as usize >= len
            || h.reg.0 as usize >= nregs
        {
            return err(h.start as usize, format!("bad handler {h:?}"));
        }
    }
    if p.lines.len() != len {
        return err(0, "line table length differs from code length".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_programs_verify_and_broken_ones_do_not() {
        let src =
            "fn f(a, b) { let xs = [a, b]; for x in xs { print(x); } return a + b; } f(1, 2);";
        let mut program = crate::compile(src, &crate::Limits::default()).unwrap();
        for i in 0..program.protos.len() {
            verify_proto(&program, ProtoId(i as u32)).unwrap();
        }
        let f = std::rc::Rc::make_mut(&mut program.protos[0]);
        f.code.insert(
            0,
            Op::Move {
                a: Reg(0),
                b: Reg(f.nregs),
            },
        );
        f.lines.insert(0, 1);
        let e = verify_proto(&program, ProtoId(0)).unwrap_err();
        assert!(e.contains("operand b"), "{e}");
    }

    #[test]
    fn float_constant_forms_must_name_a_float_constant() {
        let src = "fn f(x) { let s = \"a\"; return x * 0.5; } f(2.0);";
        let mut program = crate::compile(src, &crate::Limits::default()).unwrap();
        verify_proto(&program, ProtoId(0)).unwrap();
        let f = std::rc::Rc::make_mut(&mut program.protos[0]);
        let at = f
            .code
            .iter()
            .position(|op| matches!(op, Op::MulK { .. }))
            .expect("x * 0.5 compiles to MulK");
        let text = f
            .consts
            .iter()
            .position(|c| matches!(c, Const::Str(_)))
            .expect("the string constant");
        let Op::MulK { a, b, .. } = f.code[at] else {
            unreachable!()
        };
        f.code[at] = Op::MulK {
            a,
            b,
            k: ConstIdx(text as u32),
        };
        let e = verify_proto(&program, ProtoId(0)).unwrap_err();
        assert!(e.contains("MulK needs a float constant"), "{e}");
    }
}
