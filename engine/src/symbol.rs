//! Interned names for properties and methods: compared and hashed as small integers.

use std::rc::Rc;

use rustc_hash::FxHashMap;

/// An interned property or method name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol(pub u32);

/// `kind`: field of error values.
pub const KIND: Symbol = Symbol(0);
/// `message`: field of error values.
pub const MESSAGE: Symbol = Symbol(1);
/// `line`: field of error values.
pub const LINE: Symbol = Symbol(2);
/// `init`: the constructor method.
pub const INIT: Symbol = Symbol(3);
const PREDEFINED: [&str; 4] = ["kind", "message", "line", "init"];

/// The symbol table of a program. The names the engine itself uses have fixed symbols.
#[derive(Clone, Debug)]
pub struct Interner {
    map: FxHashMap<Rc<str>, Symbol>,
    names: Vec<Rc<str>>,
}

impl Default for Interner {
    fn default() -> Self {
        let mut i = Interner {
            map: FxHashMap::default(),
            names: Vec::new(),
        };
        for name in PREDEFINED {
            i.intern(name);
        }
        i
    }
}

impl Interner {
    /// Returns the symbol for `name`, creating it if needed.
    pub fn intern(&mut self, name: &str) -> Symbol {
        if let Some(&s) = self.map.get(name) {
            return s;
        }
        let sym = Symbol(self.names.len() as u32);
        let rc: Rc<str> = name.into();
        self.names.push(rc.clone());
        self.map.insert(rc, sym);
        sym
    }

    /// The symbol for `name`, if it was interned.
    pub fn get(&self, name: &str) -> Option<Symbol> {
        self.map.get(name).copied()
    }

    /// The name of a symbol.
    pub fn name(&self, sym: Symbol) -> &str {
        &self.names[sym.0 as usize]
    }

    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no symbol exists yet.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_symbols_are_fixed() {
        let mut i = Interner::default();
        assert_eq!(i.intern("kind"), KIND);
        assert_eq!(i.intern("message"), MESSAGE);
        assert_eq!(i.intern("line"), LINE);
        assert_eq!(i.intern("init"), INIT);
        assert_eq!(i.intern("x"), Symbol(4));
        assert_eq!(i.name(Symbol(4)), "x");
    }
}
