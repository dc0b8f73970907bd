//! Hidden classes ("shapes"): instances of one class that gained the same fields in the same
//! order share a shape, so a field's slot is found once per shape and can be cached by an
//! inline cache. Every class has its own root shape, so a shape also determines the class
//! (and with it every method lookup).

use rustc_hash::FxHashMap;

use crate::symbol::Symbol;

/// Index of a shape in the [`Shapes`] table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ShapeId(pub u32);

impl ShapeId {
    /// A shape id no instance ever has (an empty inline cache).
    pub const NONE: ShapeId = ShapeId(u32::MAX);
}

/// One shape: the fields it has, in slot order, and its transitions.
#[derive(Debug, Default)]
struct Shape {
    slots: FxHashMap<Symbol, u32>,
    names: Vec<Symbol>,
    transitions: FxHashMap<Symbol, ShapeId>,
}

/// The shape tree of one VM.
#[derive(Debug, Default)]
pub struct Shapes {
    shapes: Vec<Shape>,
}

impl Shapes {
    /// A new root shape (no fields), for a new class.
    pub fn new_root(&mut self) -> ShapeId {
        self.shapes.push(Shape::default());
        ShapeId(self.shapes.len() as u32 - 1)
    }

    /// The slot of `field` in `shape`, if the shape has that field.
    #[inline]
    pub fn slot(&self, shape: ShapeId, field: Symbol) -> Option<u32> {
        self.shapes[shape.0 as usize].slots.get(&field).copied()
    }

    /// The shape reached by adding `field` (as the next slot) to `shape`.
    pub fn with_field(&mut self, shape: ShapeId, field: Symbol) -> ShapeId {
        if let Some(&next) = self.shapes[shape.0 as usize].transitions.get(&field) {
            return next;
        }
        let parent = &self.shapes[shape.0 as usize];
        let mut slots = parent.slots.clone();
        let mut names = parent.names.clone();
        slots.insert(field, names.len() as u32);
        names.push(field);
        let id = ShapeId(self.shapes.len() as u32);
        self.shapes.push(Shape {
            slots,
            names,
            transitions: FxHashMap::default(),
        });
        self.shapes[shape.0 as usize].transitions.insert(field, id);
        id
    }

    /// Field names of a shape, in slot order (the order fields were added).
    pub fn fields(&self, shape: ShapeId) -> &[Symbol] {
        &self.shapes[shape.0 as usize].names
    }

    /// Number of shapes created.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// Whether no shape exists yet.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_field_order_shares_a_shape() {
        let mut s = Shapes::default();
        let root = s.new_root();
        let other_root = s.new_root();
        assert_ne!(root, other_root);
        let o1 = s.with_field(other_root, Symbol(0));
        let o2 = s.with_field(other_root, Symbol(0));
        assert_eq!(o1, o2);
        let (x, y) = (Symbol(0), Symbol(1));
        let sx = s.with_field(root, x);
        let a = s.with_field(sx, y);
        let sx2 = s.with_field(root, x);
        let b = s.with_field(sx2, y);
        let sy = s.with_field(root, y);
        let c = s.with_field(sy, x);
        assert_eq!(sx, sx2);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(s.slot(a, y), Some(1));
        assert_eq!(s.slot(c, y), Some(0));
        assert_eq!(s.slot(root, x), None);
        assert_eq!(s.fields(c), &[y, x]);
    }
}
