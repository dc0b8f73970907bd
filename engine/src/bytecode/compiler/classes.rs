//! Class declarations: the class's methods, its `ClassInfo`, and the order in which the
//! script's preamble creates classes (superclasses first).

use super::{CompileResult, Compiler};
use crate::bytecode::{ClassIdx, ClassInfo, GlobalIdx, Op, ProtoKind};
use crate::syntax::ast::ClassDecl;

impl Compiler<'_> {
    /// Compiles the methods of `c`, records the class and stores it in its global.
    pub(super) fn class_decl(&mut self, c: &ClassDecl) -> CompileResult<()> {
        let idx = ClassIdx(self.program.classes.len() as u32);
        let global = GlobalIdx(self.global_slots[c.name.name.as_str()]);
        let superclass = c
            .superclass
            .as_ref()
            .map(|s| GlobalIdx(self.global_slots[s.name.as_str()]));
        self.program.classes.push(ClassInfo {
            name: c.name.name.to_string(),
            superclass,
            methods: Vec::new(),
            global,
        });
        let mut methods = Vec::new();
        for m in &c.methods {
            let kind = if m.name.name == "init" {
                ProtoKind::Init
            } else {
                ProtoKind::Method
            };
            let p = self.function(
                m,
                kind,
                Some(idx),
                format!("{}.{}", c.name.name, m.name.name),
            )?;
            let sym = self.symbol(&m.name.name);
            // A later method of the same name replaces an earlier one.
            methods.retain(|(s, _)| *s != sym);
            methods.push((sym, p));
        }
        self.program.classes[idx.0 as usize].methods = methods;
        let t = self.alloc(c.span)?;
        self.emit(Op::Class { a: t, c: idx }, c.span);
        self.emit(Op::SetGlobal { a: t, g: global }, c.span);
        self.free_to(0);
        Ok(())
    }
}

/// Classes in an order where every superclass comes before its subclasses (the resolver
/// has ruled out cycles); otherwise source order.
pub(super) fn order_classes<'c>(classes: &[&'c ClassDecl]) -> Vec<&'c ClassDecl> {
    let mut done: Vec<&'c ClassDecl> = Vec::with_capacity(classes.len());
    let mut pending: Vec<&'c ClassDecl> = classes.to_vec();
    while !pending.is_empty() {
        let before = pending.len();
        pending.retain(|c| {
            let ready = match &c.superclass {
                None => true,
                Some(s) => {
                    done.iter().any(|d| d.name.name == s.name)
                        || !classes.iter().any(|d| d.name.name == s.name)
                }
            };
            if ready {
                done.push(c);
            }
            !ready
        });
        if pending.len() == before {
            done.append(&mut pending);
        }
    }
    done
}
