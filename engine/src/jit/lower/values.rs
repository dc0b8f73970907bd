//! Reading constants, globals and captured variables.

use super::*;

impl Translator<'_> {
    /// Constant `k` of this function as a (tag, payload) pair.
    pub(super) fn const_value(&mut self, k: ConstIdx) -> (Value, Value) {
        let c = self.input.consts[k.0 as usize];
        let (t, p) = c.to_bits();
        let t = self.tag_val(t as u8);
        let embedded = matches!(
            c,
            EchoValue::Int(_)
                | EchoValue::Float(_)
                | EchoValue::Nil
                | EchoValue::True
                | EchoValue::False
        );
        if embedded {
            return (t, self.iconst(p as i64));
        }
        // A heap constant is read from the VM's pool rather than embedded: with no addresses
        // in it, the same function compiles to the same IR in every VM, so compiled code can
        // be shared (`Config::share_code`).
        let pool = self.load(self.vm, abi::M_CONSTS);
        let at = abi::value_at((self.input.kbase + k.0 as usize) as u32) + abi::PAYLOAD;
        (t, self.load(pool, at))
    }

    pub(super) fn upval_box(&mut self, u: UpIdx) -> Value {
        let upvals = self.load(self.closure, layout::CLOSURE_UPVALS);
        self.load(upvals, u.0 as i32 * 8)
    }

    pub(super) fn get_global(&mut self, pc: usize, a: Reg, g: GlobalIdx) {
        let globals = self.load(self.vm, abi::M_GLOBALS);
        if let Some(c) = self.input.fn_global(g) {
            // A top-level function: a constant for the whole run, read from its slot rather
            // than embedded (see `Op::LoadK`).
            let p = self.load(globals, abi::value_at(g.0) + abi::PAYLOAD);
            let t = self.tag_val(tag::FUNC);
            self.set(a, t, p);
            self.facts.known_fn.insert(a.0, c.proto);
            return;
        }
        let (t, p) = self.load_value(globals, abi::value_at(g.0));
        // No global is ever unset again (slots start undefined and only assignments write
        // them), so a global that holds a value now needs no check in code that runs later.
        let always_set = self
            .input
            .globals
            .get(g.0 as usize)
            .is_some_and(|g| g.kind.is_constant())
            || self
                .input
                .global_values
                .get(g.0 as usize)
                .is_some_and(|v| !matches!(v, EchoValue::Undef))
            || mutant!(UnsetGlobalUnchecked);
        if !always_set {
            let undef = self.tag_is(t, tag::UNDEF);
            let bad = self.b.create_block();
            let ok = self.b.create_block();
            self.branch_on(undef, bad, &[], ok, &[]);
            self.b.switch_to_block(bad);
            let gi = self.iconst(g.0 as i64);
            self.helper(Helper::UndefGlobal, &[gi]);
            let err = self.error_block(pc);
            self.jump(err);
            self.b.switch_to_block(ok);
        }
        self.set(a, t, p);
    }
}
