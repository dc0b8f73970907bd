//! The garbage-collected heap: object layouts, `Gc` handles, byte accounting and a precise,
//! non-moving mark-sweep collector. All raw-pointer handling of heap objects lives here.

use std::cell::{Cell, RefCell};
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;

use rustc_hash::{FxHashMap, FxHasher};

use crate::bytecode::ProtoId;
use crate::error::ErrorKind;
use crate::runtime::error::{RtError, RtResult};
use crate::runtime::pool::{BlockPool, GRANULE, ItemAlloc};
use crate::runtime::shape::ShapeId;
use crate::runtime::table::Table;
use crate::runtime::value::Value;
use crate::symbol::Symbol;

/// Which kind of object a header belongs to; decides how the sweeper frees it.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjKind {
    /// [`Str`].
    Str,
    /// [`List`].
    List,
    /// [`Map`].
    Map,
    /// [`Closure`].
    Closure,
    /// [`UpBox`].
    UpBox,
    /// [`Class`].
    Class,
    /// [`Instance`].
    Instance,
    /// [`BoundMethod`].
    BoundMethod,
}

/// The header every heap object starts with.
#[repr(C)]
pub struct Header {
    kind: ObjKind,
    marked: Cell<bool>,
    /// Found unreachable by a stress-mode collection and kept, not freed (see `Heap::retired`).
    retired: Cell<bool>,
}

impl Header {
    /// The header of a new object of `kind`, marked or not, never retired.
    fn new(kind: ObjKind, marked: bool) -> Header {
        Header {
            kind,
            marked: Cell::new(marked),
            retired: Cell::new(false),
        }
    }
}

/// A heap object: header followed by the payload.
#[repr(C)]
pub struct GcBox<T> {
    header: Header,
    value: T,
}

/// Bytes the system allocator takes for a block of `n` requested bytes: an 8-byte header,
/// 16-byte granules, 32 bytes at least (glibc's malloc, and close to other allocators').
/// Accounting counts these, not the requested bytes, so that the heap limit bounds the
/// memory a program really takes.
pub const fn block_bytes(n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let b = (n + 8 + 15) & !15;
    if b < 32 { 32 } else { b }
}

/// What an object costs besides its blocks: its entry in the heap's object list (a pointer,
/// in a list that grows by doubling).
pub const OBJECT_LIST_BYTES: usize = 16;

/// The accounted size of a heap object of type `T` whose out-of-line storage takes `extra`
/// requested bytes (a vector's buffer, a string's text, a table).
pub const fn object_bytes<T>(extra: usize) -> usize {
    block_bytes(std::mem::size_of::<GcBox<T>>()) + OBJECT_LIST_BYTES + block_bytes(extra)
}

/// The capacity a vector of `len` elements grows to when it needs `needed`: twice its
/// length, at least 4, at least what is needed. Growth is planned here (and allocated
/// exactly), so the heap is charged for a buffer before it is allocated.
pub fn grown_capacity(capacity: usize, needed: usize) -> usize {
    needed.max(capacity.saturating_mul(2)).max(4)
}

/// Buckets of a hash table asked to hold `capacity` entries: a power of two with room to
/// spare (hashbrown's sizing, which std's tables and the maps' index use).
const fn table_buckets(capacity: usize) -> usize {
    if capacity == 0 {
        0
    } else if capacity < 4 {
        4
    } else if capacity < 8 {
        8
    } else {
        (capacity * 8 / 7).next_power_of_two()
    }
}

/// Entries a table of `buckets` buckets holds before it grows.
const fn bucket_capacity(buckets: usize) -> usize {
    if buckets < 8 {
        buckets.saturating_sub(1)
    } else {
        buckets / 8 * 7
    }
}

/// Bytes of a hash table asked to hold `capacity` entries of `entry` bytes each: its
/// buckets of entries plus one control byte each, and a group of control bytes at the end.
const fn table_bytes(capacity: usize, entry: usize) -> usize {
    let buckets = table_buckets(capacity);
    if buckets == 0 {
        return 0;
    }
    buckets * (entry + 1) + 16
}

/// Implemented by every type that lives on the GC heap.
pub trait HeapObj: Sized {
    /// The object's kind tag.
    const KIND: ObjKind;
    /// Marks every value this object references.
    fn trace(&self, tracer: &mut Tracer);
    /// Bytes this object is accounted for, in the engine's deterministic units.
    fn size(&self) -> usize;
}

/// A handle to a heap object. Copyable; valid for as long as the object is reachable from
/// the roots at every collection, which the VM guarantees by collecting only at safepoints.
pub struct Gc<T: HeapObj> {
    ptr: NonNull<GcBox<T>>,
}

impl<T: HeapObj> Clone for Gc<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: HeapObj> Copy for Gc<T> {}

impl<T: HeapObj> Gc<T> {
    /// Identity comparison.
    #[inline]
    pub fn ptr_eq(a: Gc<T>, b: Gc<T>) -> bool {
        a.ptr == b.ptr
    }

    /// The object's address, for identity-keyed bookkeeping (never shown to programs).
    #[inline]
    pub fn addr(self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// The handle whose `addr` is `addr`: an object compiled code passes a helper as a
    /// payload word.
    ///
    /// # Safety
    /// `addr` must be what `addr` gave for a handle of the same type whose object is alive
    /// (compiled code took it from a value of that type in a register).
    #[cfg(feature = "jit")]
    #[inline]
    pub(crate) unsafe fn from_addr(addr: usize) -> Gc<T> {
        // SAFETY: the caller guarantees `addr` is a live object's box, so it is not null.
        let ptr = unsafe { NonNull::new_unchecked(addr as *mut GcBox<T>) };
        Gc { ptr }
    }

    fn header(self) -> &'static Header {
        // SAFETY: the object is alive (see `Gc`), and `header` is the first field of the
        // `#[repr(C)]` box. The 'static lifetime never escapes this module's short uses.
        unsafe { &(*self.ptr.as_ptr()).header }
    }
}

impl<T: HeapObj> Deref for Gc<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: a `Gc` is only ever obtained from `Heap::alloc` or `alloc_text` (or is one
        // of the heap's shared strings, alive as long as the heap) and is only used while the object is
        // reachable from the VM's roots; the collector frees objects only at
        // safepoints, after tracing every root, so the pointee is alive here. Mutation goes
        // through `Cell`/`RefCell` inside the objects, never through `&mut T`.
        unsafe { &(*self.ptr.as_ptr()).value }
    }
}

impl<T: HeapObj> std::fmt::Debug for Gc<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gc<{:?}>", T::KIND)
    }
}

/// An immutable string with its precomputed hash and character count. Its text follows it
/// in the same allocation (see `Heap::alloc_text`), so a string is one block, not two; the
/// heap's shared strings point at static text instead.
pub struct Str {
    hash: u64,
    chars: usize,
    /// The text: the bytes right after the object, or static bytes. Valid UTF-8, never
    /// written after the object is made, and alive as long as the object.
    text: NonNull<str>,
}

/// The accounted size of a string of `len` bytes: one block for the object and its text.
pub const fn str_bytes(len: usize) -> usize {
    block_bytes(std::mem::size_of::<GcBox<Str>>() + len) + OBJECT_LIST_BYTES
}

impl Str {
    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: `text` points to valid UTF-8 that lives as long as the object (its own
        // allocation, or static) and is never written after the object is made.
        unsafe { self.text.as_ref() }
    }
    /// Length in Unicode scalar values, what `len()` returns.
    #[inline]
    pub fn char_len(&self) -> usize {
        self.chars
    }
    /// Whether every character is ASCII, so char index == byte index.
    #[inline]
    pub fn is_ascii(&self) -> bool {
        self.chars == self.as_str().len()
    }
    /// Length in bytes.
    #[inline]
    pub fn byte_len(&self) -> usize {
        self.as_str().len()
    }
    /// The content hash (FxHash of the bytes), used for map keys.
    #[inline]
    pub fn hash(&self) -> u64 {
        self.hash
    }
}

impl HeapObj for Str {
    const KIND: ObjKind = ObjKind::Str;
    fn trace(&self, _: &mut Tracer) {}
    fn size(&self) -> usize {
        str_bytes(self.as_str().len())
    }
}

/// A list's elements: a vector whose small buffers come from the thread's block pool
/// (`ItemAlloc`).
pub type Items = allocator_api2::vec::Vec<Value, ItemAlloc>;

/// Elements with room for `capacity`, none yet.
pub fn items_with_capacity(capacity: usize) -> Items {
    Items::with_capacity_in(capacity, ItemAlloc)
}

/// The elements `values` yields, which must tell their number exactly (`size_hint`): a
/// list built whole has exactly its length as its capacity (LANGUAGE.md §16).
pub fn items_collect(values: impl IntoIterator<Item = Value>) -> Items {
    let values = values.into_iter();
    let mut items = items_with_capacity(values.size_hint().0);
    items.extend(values);
    items
}

/// Elements copied from `values`.
pub fn items_from(values: &[Value]) -> Items {
    let mut items = items_with_capacity(values.len());
    items.extend_from_slice(values);
    items
}

/// A growable list of values.
pub struct List {
    /// The elements. Borrowed only for the duration of one operation.
    pub items: RefCell<Items>,
}

impl List {
    /// The address of element `i`, if it is in range, found without borrowing the elements:
    /// for the interpreter's indexing fast paths, which read or write that one element at
    /// once, in place, as compiled code does (`layout::list_items`). No borrow of `items`
    /// lasts beyond one operation, so none is held while such a path runs, and the address
    /// is used before anything can change the list.
    #[inline(always)]
    pub fn element_ptr(&self, i: i64) -> Option<*mut Value> {
        let v = self.items.as_ptr();
        // SAFETY: no borrow of `items` is alive between operations (see above), so this
        // momentary access to the vector's length and buffer aliases no other reference.
        unsafe {
            let i = usize::try_from(i).ok().filter(|&i| i < (*v).len())?;
            Some((*v).as_mut_ptr().add(i))
        }
    }
}

impl HeapObj for List {
    const KIND: ObjKind = ObjKind::List;
    fn trace(&self, tracer: &mut Tracer) {
        for v in self.items.borrow().iter() {
            tracer.mark_value(*v);
        }
    }
    fn size(&self) -> usize {
        object_bytes::<List>(self.items.borrow().capacity() * VALUE_BYTES)
    }
}

/// Bytes one value slot takes.
pub const VALUE_BYTES: usize = crate::runtime::value::VALUE_SIZE;
/// Bytes one map entry takes in the ordered entry list (hash, key and value).
const MAP_ENTRY_BYTES: usize = 40;
/// Bytes one map entry is accounted in the hash index. The index really holds 4-byte
/// places; the other 4 cover the rank tree a map keeps while it has removed entries
/// (4 bytes per place in the entry list, which has fewer places than the index buckets).
const MAP_INDEX_BYTES: usize = 8;

/// A map key: an int or a string, compared by value.
#[derive(Clone, Copy, Debug)]
pub enum Key {
    /// Integer key.
    Int(i64),
    /// String key.
    Str(Gc<Str>),
}

impl Key {
    /// The key as a value.
    pub fn to_value(self) -> Value {
        match self {
            Key::Int(i) => Value::Int(i),
            Key::Str(s) => Value::Str(s),
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        match (self, other) {
            (Key::Int(a), Key::Int(b)) => a == b,
            (Key::Str(a), Key::Str(b)) => {
                Gc::ptr_eq(*a, *b) || (a.hash == b.hash && a.as_str() == b.as_str())
            }
            _ => false,
        }
    }
}
impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Key::Int(i) => {
                state.write_u8(0);
                state.write_i64(*i);
            }
            Key::Str(s) => {
                state.write_u8(1);
                state.write_u64(s.hash);
            }
        }
    }
}

/// The ordered table behind a map.
pub type MapTable = Table<Key, Value>;

/// An insertion-ordered map.
pub struct Map {
    /// The entries, in insertion order.
    pub entries: RefCell<MapTable>,
    /// The capacity the map was grown to (see `Heap::reserve_entries`): what its size is
    /// accounted from, whatever the table rounds it to.
    capacity: Cell<usize>,
}

impl Map {
    /// Places in the entry list of a map grown to `capacity` entries: as many as its index
    /// holds. Removed entries keep their places until the list is compacted, which these
    /// extra places leave room for.
    fn entry_places(capacity: usize) -> usize {
        bucket_capacity(table_buckets(capacity))
    }

    /// Bytes of a map grown to `capacity` entries, beyond the object itself: the hash index,
    /// and the entry list, which is made as long as the index holds.
    fn storage_bytes(capacity: usize) -> usize {
        let entries = Map::entry_places(capacity);
        block_bytes(entries * MAP_ENTRY_BYTES) + block_bytes(table_bytes(capacity, MAP_INDEX_BYTES))
    }

    /// The address of the value `index` (an int or string key) has in this map, if it has
    /// one: for the indexing and `has` fast paths of the interpreter and of compiled code
    /// (through the `MapValue` helper), which read or update that one value in place, as
    /// `List::element_ptr` does for lists. A new key, or a key of another kind, takes the
    /// full path (which accounts the entry or raises). No borrow of `entries` lasts beyond
    /// one operation, so none is held while such a path runs.
    #[inline(always)]
    pub fn value_ptr(&self, index: Value) -> Option<*mut Value> {
        let key = match index {
            Value::Int(i) => Key::Int(i),
            Value::Str(s) => Key::Str(s),
            _ => return None,
        };
        // SAFETY: no borrow of `entries` is alive between operations (see above), so this
        // momentary access to the table aliases no other reference; finding a key changes
        // nothing but the table's look-up cache.
        unsafe {
            (*self.entries.as_ptr())
                .get_mut(&key)
                .map(|v| v as *mut Value)
        }
    }
}

impl HeapObj for Map {
    const KIND: ObjKind = ObjKind::Map;
    fn trace(&self, tracer: &mut Tracer) {
        for (k, v) in self.entries.borrow().iter() {
            if let Key::Str(s) = k {
                tracer.mark(*s);
            }
            tracer.mark_value(*v);
        }
    }
    fn size(&self) -> usize {
        object_bytes::<Map>(0) + Map::storage_bytes(self.capacity.get())
    }
}

/// A captured variable, shared by every closure that captures it and by its home frame.
pub struct UpBox {
    /// The variable's current value.
    pub value: Cell<Value>,
}

impl HeapObj for UpBox {
    const KIND: ObjKind = ObjKind::UpBox;
    fn trace(&self, tracer: &mut Tracer) {
        tracer.mark_value(self.value.get());
    }
    fn size(&self) -> usize {
        object_bytes::<UpBox>(0)
    }
}

/// A function value: a prototype plus its captured variables. The captured variables follow
/// the object in the same block (see `Heap::alloc_closure`), so a closure is one block.
#[repr(C)]
pub struct Closure {
    /// The function's bytecode prototype.
    pub proto: ProtoId,
    /// Captured variables, in the order of the prototype's upvalue descriptors: the block's
    /// bytes right after the object. Kept as a pointer so compiled code indexes it without
    /// knowing where the object ends.
    upvals_ptr: *const Gc<UpBox>,
    upvals_len: usize,
}

impl Closure {
    /// The captured variables.
    #[inline]
    pub fn upvals(&self) -> &[Gc<UpBox>] {
        // SAFETY: `upvals_ptr` points to `upvals_len` handles written by `alloc_closure`
        // in the object's own block, never written again and alive as long as the object.
        unsafe { std::slice::from_raw_parts(self.upvals_ptr, self.upvals_len) }
    }
}

impl HeapObj for Closure {
    const KIND: ObjKind = ObjKind::Closure;
    fn trace(&self, tracer: &mut Tracer) {
        for u in self.upvals() {
            tracer.mark(*u);
        }
    }
    fn size(&self) -> usize {
        object_bytes::<Closure>(self.upvals_len * std::mem::size_of::<Gc<UpBox>>())
    }
}

/// A class: its name, superclass and method table (inherited methods copied down).
pub struct Class {
    /// The class name.
    pub name: Gc<Str>,
    /// Index of the class declaration in the program; `None` for the builtin `Error`.
    pub decl: Option<u32>,
    /// The superclass.
    pub superclass: Option<Gc<Class>>,
    /// All methods, own and inherited (own ones override).
    pub methods: FxHashMap<Symbol, Gc<Closure>>,
    /// The `init` method, if any (own or inherited).
    pub init: Option<Gc<Closure>>,
    /// The shape of a fresh instance of this class.
    pub root_shape: ShapeId,
    /// Field slots a fresh instance starts with: the largest capacity an instance of this
    /// class had to grow to, up to `MAX_FIELD_ROOM`. Instances of a class mostly get the same
    /// fields, so after the first one they are made with room for all of them at once.
    pub field_room: Cell<u32>,
}

/// The most field slots a fresh instance is given before it needs them (`Class::field_room`):
/// one instance given many fields does not make every later one big.
pub const MAX_FIELD_ROOM: usize = 16;

impl HeapObj for Class {
    const KIND: ObjKind = ObjKind::Class;
    fn trace(&self, tracer: &mut Tracer) {
        tracer.mark(self.name);
        if let Some(s) = self.superclass {
            tracer.mark(s);
        }
        for m in self.methods.values() {
            tracer.mark(*m);
        }
        if let Some(i) = self.init {
            tracer.mark(i);
        }
    }
    fn size(&self) -> usize {
        let entry = std::mem::size_of::<(Symbol, Gc<Closure>)>();
        object_bytes::<Class>(table_bytes(self.methods.capacity(), entry))
    }
}

/// An instance: its class, its shape (which field lives in which slot) and the slots.
#[repr(C)]
pub struct Instance {
    /// The instance's class.
    pub class: Gc<Class>,
    /// The shape describing the fields.
    pub shape: Cell<ShapeId>,
    /// Start of the field slots: a block of `capacity` values taken from the heap's pool
    /// (dangling while the capacity is 0). Compiled code reads and writes fields through it.
    slots: Cell<*mut Value>,
    /// Fields stored, indexed by the shape's slot numbers. Only reached through the methods
    /// below, which never hold a reference across a call.
    len: Cell<u32>,
    /// Field slots in the block.
    capacity: Cell<u32>,
}

impl Instance {
    /// A fresh instance with no fields.
    pub fn new(class: Gc<Class>, shape: ShapeId) -> Instance {
        Instance {
            class,
            shape: Cell::new(shape),
            slots: Cell::new(NonNull::dangling().as_ptr()),
            len: Cell::new(0),
            capacity: Cell::new(0),
        }
    }

    /// Number of fields.
    #[inline]
    pub fn field_count(&self) -> usize {
        self.len.get() as usize
    }

    /// The field in slot `i` (`i < field_count()`).
    #[inline]
    pub fn field(&self, i: usize) -> Value {
        assert!(i < self.field_count(), "field slot {i} out of range");
        // SAFETY: in bounds (checked): slots below `len` are initialized.
        unsafe { self.slots.get().add(i).read() }
    }

    /// The address of slot `i` (`i < field_count()`), valid until a field is added.
    #[inline]
    pub fn field_ptr(&self, i: usize) -> *mut Value {
        assert!(i < self.field_count(), "field slot {i} out of range");
        // SAFETY: in bounds (checked): the offset stays inside the slots' block.
        unsafe { self.slots.get().add(i) }
    }

    /// Stores `v` in slot `i` (`i < field_count()`).
    #[inline]
    pub fn set_field(&self, i: usize, v: Value) {
        assert!(i < self.field_count(), "field slot {i} out of range");
        // SAFETY: in bounds (checked); writes through the same pointer compiled code uses.
        unsafe { self.slots.get().add(i).write(v) }
    }

    /// Field slots allocated.
    fn field_capacity(&self) -> usize {
        self.capacity.get() as usize
    }

    /// Moves the fields to a block of exactly `capacity` slots (more than there are) from
    /// `pool`, giving the old block back.
    fn reserve_fields(&self, pool: &mut BlockPool, capacity: usize) {
        assert!(capacity > self.field_count() && capacity <= u32::MAX as usize);
        let block = pool.alloc(capacity * VALUE_BYTES).cast::<Value>();
        // SAFETY: the new block holds `capacity` values, more than the `len` initialized ones
        // copied from the old block (a different block, so they do not overlap); the old
        // block came from `pool` with its capacity's size and is not used after this.
        unsafe {
            std::ptr::copy_nonoverlapping(self.slots.get(), block.as_ptr(), self.field_count());
            self.free_fields(pool);
        }
        self.slots.set(block.as_ptr());
        self.capacity.set(capacity as u32);
    }

    /// Gives the slots' block back to `pool`.
    ///
    /// # Safety
    /// The block must not be used again: the instance is being freed, or `slots` is about
    /// to point to a new block.
    unsafe fn free_fields(&self, pool: &mut BlockPool) {
        if self.capacity.get() > 0 {
            // SAFETY: a nonzero capacity means `reserve_fields` took the block from this
            // pool with exactly this size (so `slots` is not null); the caller guarantees it
            // is not used again.
            unsafe {
                let block = NonNull::new_unchecked(self.slots.get()).cast();
                pool.free(block, self.field_capacity() * VALUE_BYTES)
            };
        }
    }

    /// Appends a field value (the caller updates the shape; `Heap::reserve_field` made room).
    pub fn push_field(&self, v: Value) {
        let len = self.field_count();
        assert!(len < self.field_capacity(), "no room reserved for a field");
        // SAFETY: in bounds of the block (checked); the slot was uninitialized, and `len`
        // grows to cover it.
        unsafe { self.slots.get().add(len).write(v) };
        self.len.set(len as u32 + 1);
    }
}

impl HeapObj for Instance {
    const KIND: ObjKind = ObjKind::Instance;
    fn trace(&self, tracer: &mut Tracer) {
        tracer.mark(self.class);
        for i in 0..self.field_count() {
            tracer.mark_value(self.field(i));
        }
    }
    fn size(&self) -> usize {
        object_bytes::<Instance>(self.field_capacity() * VALUE_BYTES)
    }
}

/// A method bound to a receiver (`obj.m` without a call).
pub struct BoundMethod {
    /// The receiver, passed as `self`.
    pub receiver: Value,
    /// The method.
    pub method: Gc<Closure>,
}

impl HeapObj for BoundMethod {
    const KIND: ObjKind = ObjKind::BoundMethod;
    fn trace(&self, tracer: &mut Tracer) {
        tracer.mark_value(self.receiver);
        tracer.mark(self.method);
    }
    fn size(&self) -> usize {
        object_bytes::<BoundMethod>(0)
    }
}

/// The marking worklist.
pub struct Tracer {
    gray: Vec<NonNull<Header>>,
}

impl Tracer {
    /// Marks the object a value refers to, if any.
    #[inline]
    pub fn mark_value(&mut self, v: Value) {
        match v {
            Value::Str(o) => self.mark(o),
            Value::List(o) => self.mark(o),
            Value::Map(o) => self.mark(o),
            Value::Func(o) => self.mark(o),
            Value::Class(o) => self.mark(o),
            Value::Instance(o) => self.mark(o),
            Value::Method(o) => self.mark(o),
            Value::Boxed(o) => self.mark(o),
            Value::Nil
            | Value::False
            | Value::True
            | Value::Int(_)
            | Value::Float(_)
            | Value::Native(_)
            | Value::Undef => {}
        }
    }

    /// Marks one object and queues it for tracing.
    #[inline]
    pub fn mark<T: HeapObj>(&mut self, o: Gc<T>) {
        let h = o.header();
        // A root that leads to an object an earlier collection found unreachable means some
        // live value was not rooted at that safepoint: in a normal run it would have been
        // freed and this a use after free. Only stress mode retires objects.
        assert!(
            !h.retired.get(),
            "the collector reached a {:?} that an earlier collection found unreachable: a live value was not rooted at that safepoint",
            h.kind
        );
        if !h.marked.get() {
            h.marked.set(true);
            // A string refers to nothing: it needs no tracing, and queueing it would make
            // the worklist as long as a list of strings (memory the heap does not account).
            if T::KIND != ObjKind::Str {
                self.gray.push(o.ptr.cast());
            }
        }
    }
}

/// Collector statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HeapStats {
    /// Collections run.
    pub collections: u64,
    /// Objects allocated.
    pub allocations: u64,
    /// Highest accounted byte count seen.
    pub peak_bytes: usize,
    /// Accounted bytes right now.
    pub bytes: usize,
}

/// Retired objects kept by stress-mode collections before they are freed for real.
const MAX_RETIRED: usize = 1 << 18;

/// Smallest collection threshold, so small programs never collect.
const MIN_GC_THRESHOLD: usize = 1 << 20;

/// Strings shared by a heap instead of allocated: the empty string, then the 128
/// one-character ASCII strings (the string of byte `b` at index `b + 1`).
const SHARED_STRS: usize = 129;

/// The shared strings' text: every ASCII byte, each a one-character string of its own.
static ASCII: [u8; 128] = {
    let mut bytes = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        bytes[b] = b as u8;
        b += 1;
    }
    bytes
};

/// Where a string's text is written as it is made (see `Heap::alloc_text`): the space is
/// exactly as long as the text was said to be, and only whole strings can be written to it,
/// so what is written is UTF-8.
pub struct TextWriter<'a> {
    ptr: NonNull<u8>,
    cap: usize,
    len: usize,
    _space: PhantomData<&'a mut [u8]>,
}

impl TextWriter<'_> {
    /// Appends `s`. Panics if the text would get longer than announced.
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        assert!(
            s.len() <= self.cap - self.len,
            "string text longer than announced"
        );
        // SAFETY: the space holds `cap` bytes from `ptr` (checked above that `s` fits after
        // the `len` written), and `s` is another object's memory, so they do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(s.as_ptr(), self.ptr.as_ptr().add(self.len), s.len());
        }
        self.len += s.len();
    }

    /// Appends `s` `n` times, doubling what is copied at each step.
    pub fn push_repeated(&mut self, s: &str, n: usize) {
        let total = s
            .len()
            .checked_mul(n)
            .expect("string text longer than announced");
        assert!(
            total <= self.cap - self.len,
            "string text longer than announced"
        );
        if total == 0 {
            return;
        }
        let start = self.len;
        self.push_str(s);
        while self.len - start < total {
            let chunk = (self.len - start).min(total - (self.len - start));
            // SAFETY: `start..start + chunk` was written above (it is a prefix of the copies
            // made so far), and `self.len..self.len + chunk` is unwritten space within `cap`
            // (`start + total <= cap`); the two ranges are disjoint as `chunk <= len - start`.
            unsafe {
                let base = self.ptr.as_ptr();
                std::ptr::copy_nonoverlapping(base.add(start), base.add(self.len), chunk);
            }
            self.len += chunk;
        }
    }
}

/// The heap: every live object, the byte account and the collection threshold.
pub struct Heap {
    objects: Vec<NonNull<Header>>,
    /// Where every object's block comes from and goes back to.
    pool: BlockPool,
    /// The pool of instances' field blocks, apart from the objects' so that the objects the
    /// collector visits in every sweep stay packed together.
    field_pool: BlockPool,
    /// The strings of at most one byte (see `Heap::shared_str`): one block made with the
    /// heap and freed with it, their text static. They are not in `objects`, so the
    /// collector never sweeps them, and they are created marked, so marking them is a no-op.
    shared: NonNull<[GcBox<Str>; SHARED_STRS]>,
    /// In stress mode, unreachable objects are flagged and kept here instead of being freed,
    /// so that a value wrongly left unrooted is caught when it is marked again (a panic
    /// naming the bug) rather than read after being freed. Freed in batches to bound memory.
    retired: Vec<NonNull<Header>>,
    bytes: usize,
    next_gc: usize,
    limit: usize,
    stress: bool,
    stats: HeapStats,
    /// Debug builds: whether bytes were charged since the last safepoint. Every instruction
    /// that allocates ends in one, in both tiers, since the heap limit is checked there: one
    /// that did not would reach the limit at a later instruction than the other tier.
    #[cfg(debug_assertions)]
    pub(crate) charged_since_safepoint: bool,
}

impl Heap {
    /// An empty heap that refuses to grow past `limit` accounted bytes. With `stress`, every
    /// safepoint collects.
    pub fn new(limit: usize, stress: bool) -> Heap {
        let shared = Box::new(std::array::from_fn(|i| {
            let text = match i.checked_sub(1) {
                None => "",
                Some(b) => std::str::from_utf8(&ASCII[b..=b]).expect("ASCII"),
            };
            GcBox {
                header: Header::new(ObjKind::Str, true),
                value: Str {
                    hash: hash_str(text),
                    chars: text.len(),
                    text: NonNull::from(text),
                },
            }
        }));
        let shared = NonNull::from(Box::leak(shared));
        Heap {
            objects: Vec::new(),
            pool: BlockPool::new(),
            field_pool: BlockPool::new(),
            shared,
            retired: Vec::new(),
            bytes: 0,
            next_gc: MIN_GC_THRESHOLD.min(limit / 2),
            limit,
            stress,
            stats: HeapStats::default(),
            #[cfg(debug_assertions)]
            charged_since_safepoint: false,
        }
    }

    /// Sets the limit on accounted bytes; returns the previous one.
    pub fn set_limit(&mut self, limit: usize) -> usize {
        std::mem::replace(&mut self.limit, limit)
    }

    /// Allocates an object, failing with `MemoryLimit` when the account would pass the limit.
    pub fn alloc<T: HeapObj>(&mut self, value: T) -> RtResult<Gc<T>> {
        // A string's text and a closure's captured variables live in the object's block:
        // `alloc_text` makes strings and `alloc_closure` closures.
        const {
            assert!(T::KIND as u8 != ObjKind::Str as u8);
            assert!(T::KIND as u8 != ObjKind::Closure as u8);
        };
        let size = value.size();
        self.charge(size)?;
        let ptr = self.block::<T>(0);
        // SAFETY: the block is big and aligned enough for a `GcBox<T>` (see `block`), and
        // nothing else refers to it yet.
        unsafe {
            ptr.write(GcBox {
                header: Header::new(T::KIND, false),
                value,
            });
        }
        Ok(self.adopt(ptr))
    }

    /// A fresh block for a `GcBox<T>` followed by `extra` bytes, uninitialized.
    #[inline]
    fn block<T: HeapObj>(&mut self, extra: usize) -> NonNull<GcBox<T>> {
        const { assert!(std::mem::align_of::<GcBox<T>>() <= GRANULE) };
        self.pool
            .alloc(std::mem::size_of::<GcBox<T>>() + extra)
            .cast()
    }

    /// Enters a just-written object into the object list.
    #[inline]
    fn adopt<T: HeapObj>(&mut self, ptr: NonNull<GcBox<T>>) -> Gc<T> {
        self.objects.push(ptr.cast());
        self.stats.allocations += 1;
        Gc { ptr }
    }

    /// Allocates a closure of `proto` over `upvals`, which are stored in the closure's own
    /// block. Panics if the iterator yields another number of items than its length.
    pub fn alloc_closure(
        &mut self,
        proto: ProtoId,
        upvals: impl ExactSizeIterator<Item = Gc<UpBox>>,
    ) -> RtResult<Gc<Closure>> {
        const UPVAL: usize = std::mem::size_of::<Gc<UpBox>>();
        let len = upvals.len();
        self.charge(object_bytes::<Closure>(len * UPVAL))?;
        let ptr = self.block::<Closure>(len * UPVAL);
        // SAFETY: the block has `len` handles' room after the `GcBox<Closure>`, whose size
        // is a multiple of a handle's alignment (both are pointers).
        let slots = unsafe { ptr.add(1).cast::<Gc<UpBox>>() };
        let mut written = 0;
        for u in upvals {
            // A panic leaves the block unused; it is not freed, but it is not unsafe either.
            assert!(written < len, "more captured variables than announced");
            // SAFETY: `written < len`: inside the room for the handles.
            unsafe { slots.add(written).write(u) };
            written += 1;
        }
        assert_eq!(written, len, "fewer captured variables than announced");
        // SAFETY: the block is big and aligned enough for a `GcBox<Closure>` at its start,
        // and nothing else refers to it yet; all `len` handles after it were written.
        unsafe {
            ptr.write(GcBox {
                header: Header::new(ObjKind::Closure, false),
                value: Closure {
                    proto,
                    upvals_ptr: slots.as_ptr(),
                    upvals_len: len,
                },
            });
        }
        Ok(self.adopt(ptr))
    }

    /// Accounts `bytes` more for a new object or one that grew in place (list push, new
    /// field...). Only a request larger than the whole limit fails here: any other is granted
    /// even past the limit, and the next safepoint, which then collects, raises `MemoryLimit`
    /// if what the program can still reach passes it (`Heap::over_limit`). So the limit bounds
    /// live data, whatever garbage the schedule of collections has left uncollected (gc stress
    /// collects at every safepoint, and must change nothing); between two safepoints the
    /// account passes the limit by what one instruction allocates at most.
    #[inline]
    pub fn charge(&mut self, bytes: usize) -> RtResult<()> {
        if bytes > self.limit {
            return Err(self.limit_error());
        }
        #[cfg(debug_assertions)]
        {
            self.charged_since_safepoint = true;
        }
        let new = self.bytes.saturating_add(bytes);
        self.bytes = new;
        if new > self.stats.peak_bytes {
            self.stats.peak_bytes = new;
        }
        Ok(())
    }

    /// The shared string equal to `text` if it has at most one byte (it is then empty or
    /// one ASCII character). Shared strings cost nothing: they are made once per heap, are
    /// never collected and do not count toward the limit. Strings are compared by content
    /// everywhere, so which strings are shared is not observable (except through the fuel
    /// of comparing strings, which skips the bytes of a string compared with itself).
    #[inline]
    pub fn shared_str(&self, text: &str) -> Option<Gc<Str>> {
        match *text.as_bytes() {
            [] => Some(self.shared_at(0)),
            [b] => Some(self.ascii_char(b)),
            _ => None,
        }
    }

    /// Shared string number `i`.
    #[inline]
    fn shared_at(&self, i: usize) -> Gc<Str> {
        // SAFETY: `shared` is the block leaked in `new` and freed only when the heap drops;
        // `i` is in bounds, checked by the array indexing the pointer is projected to.
        let ptr = unsafe { &raw mut (*self.shared.as_ptr())[i] };
        Gc {
            ptr: NonNull::new(ptr).expect("a pointer into a live block"),
        }
    }

    /// The shared one-character string of ASCII byte `b` (`b < 128`).
    #[inline]
    pub fn ascii_char(&self, b: u8) -> Gc<Str> {
        debug_assert!(b.is_ascii());
        self.shared_at(1 + (b & 0x7f) as usize)
    }

    /// Allocates a string (or returns the shared one, for at most one byte).
    pub fn alloc_str(&mut self, text: &str) -> RtResult<Gc<Str>> {
        self.alloc_text(text.len(), None, |w| w.push_str(text))
    }

    /// Allocates a string from an owned buffer (or returns the shared one, for at most one
    /// byte).
    pub fn alloc_string(&mut self, text: String) -> RtResult<Gc<Str>> {
        self.alloc_str(&text)
    }

    /// Allocates a string of `len` bytes that `fill` writes, in one block with the object
    /// (or returns the shared string, for at most one byte). `chars` is the number of
    /// characters when the caller knows it (else they are counted). Panics if `fill`
    /// writes another length than `len`.
    pub fn alloc_text(
        &mut self,
        len: usize,
        chars: Option<usize>,
        fill: impl FnOnce(&mut TextWriter),
    ) -> RtResult<Gc<Str>> {
        if len <= 1 {
            let mut small = [0u8; 1];
            let mut w = TextWriter {
                ptr: NonNull::from(&mut small).cast(),
                cap: len,
                len: 0,
                _space: PhantomData,
            };
            fill(&mut w);
            assert_eq!(w.len, len, "string text shorter than announced");
            let text = std::str::from_utf8(&small[..len]).expect("whole strings were written");
            return Ok(self.shared_str(text).expect("at most one byte"));
        }
        self.charge(str_bytes(len))?;
        let head = std::mem::size_of::<GcBox<Str>>();
        let block = self.block::<Str>(len).cast::<u8>();
        // Gives the block back if `fill` panics or writes too little (a bug in the caller).
        struct Unfinished<'p>(&'p mut BlockPool, NonNull<u8>, usize);
        impl Drop for Unfinished<'_> {
            fn drop(&mut self) {
                // SAFETY: the block was taken with this size just before, and this runs only
                // when it is abandoned (the guard is forgotten once the string is made).
                unsafe { self.0.free(self.1, self.2) };
            }
        }
        let unfinished = Unfinished(&mut self.pool, block, head + len);
        // SAFETY: the block has `head + len` bytes; the text goes after the object.
        let text_ptr = unsafe { block.add(head) };
        let mut w = TextWriter {
            ptr: text_ptr,
            cap: len,
            len: 0,
            _space: PhantomData,
        };
        fill(&mut w);
        assert_eq!(w.len, len, "string text shorter than announced");
        std::mem::forget(unfinished);
        // SAFETY: `fill` wrote all `len` bytes (checked above), each through
        // `TextWriter::push_str`, which only copies whole UTF-8 strings, so they are UTF-8;
        // they are not written again and live as long as the block.
        let text: &str = unsafe {
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(text_ptr.as_ptr(), len))
        };
        let ptr = block.cast::<GcBox<Str>>();
        // SAFETY: the block is big and aligned enough for a `GcBox<Str>` at its start (see
        // `Heap::block`), and nothing else refers to it yet.
        unsafe {
            ptr.write(GcBox {
                header: Header::new(ObjKind::Str, false),
                value: Str {
                    hash: hash_str(text),
                    chars: chars.unwrap_or_else(|| text.chars().count()),
                    text: NonNull::from(text),
                },
            });
        }
        Ok(self.adopt(ptr))
    }

    /// Allocates a list.
    pub fn alloc_list(&mut self, items: Items) -> RtResult<Gc<List>> {
        self.alloc(List {
            items: RefCell::new(items),
        })
    }

    /// Allocates an empty map.
    pub fn alloc_map(&mut self) -> RtResult<Gc<Map>> {
        self.alloc(Map {
            entries: RefCell::new(MapTable::default()),
            capacity: Cell::new(0),
        })
    }

    /// Makes room in `list` for `extra` more elements, charging the bigger buffer before it
    /// is allocated (growth as `grown_capacity` plans it).
    pub fn reserve_items(&mut self, list: Gc<List>, extra: usize) -> RtResult<()> {
        let mut items = list.items.borrow_mut();
        let needed = items.len().saturating_add(extra);
        if needed <= items.capacity() {
            return Ok(());
        }
        let capacity = grown_capacity(items.capacity(), needed);
        let bytes = |c: usize| block_bytes(c.saturating_mul(VALUE_BYTES));
        self.charge(bytes(capacity) - bytes(items.capacity()))?;
        let len = items.len();
        items.reserve_exact(capacity - len);
        Ok(())
    }

    /// Makes room in `map` for one more entry, charging the bigger tables before they are
    /// allocated.
    pub fn reserve_entry(&mut self, map: Gc<Map>) -> RtResult<()> {
        let mut entries = map.entries.borrow_mut();
        let capacity = map.capacity.get();
        if entries.len() < capacity {
            return Ok(());
        }
        let grown = grown_capacity(capacity, entries.len() + 1);
        self.charge(Map::storage_bytes(grown) - Map::storage_bytes(capacity))?;
        entries.grow_to(Map::entry_places(grown));
        map.capacity.set(grown);
        Ok(())
    }

    /// Makes room in `inst` for one more field, charging the bigger slot buffer before it is
    /// allocated.
    pub fn reserve_field(&mut self, inst: Gc<Instance>) -> RtResult<()> {
        let capacity = inst.field_capacity();
        if inst.field_count() < capacity {
            return Ok(());
        }
        let grown = grown_capacity(capacity, inst.field_count() + 1);
        self.charge(block_bytes(grown * VALUE_BYTES) - block_bytes(capacity * VALUE_BYTES))?;
        inst.reserve_fields(&mut self.field_pool, grown);
        let room = &inst.class.field_room;
        room.set(room.get().max(grown.min(MAX_FIELD_ROOM) as u32));
        Ok(())
    }

    /// A fresh instance of `class` with shape `shape` and no fields, with room for the
    /// fields its class's instances grew to (`Class::field_room`).
    pub fn alloc_instance(&mut self, class: Gc<Class>, shape: ShapeId) -> RtResult<Gc<Instance>> {
        let room = class.field_room.get() as usize;
        self.charge(block_bytes(room * VALUE_BYTES))?;
        let inst = self.alloc(Instance::new(class, shape))?;
        if room > 0 {
            inst.reserve_fields(&mut self.field_pool, room);
        }
        Ok(inst)
    }

    /// Whether the next safepoint should collect. The threshold is never above the limit, so
    /// an account past the limit always collects.
    #[inline]
    pub fn wants_collection(&self) -> bool {
        self.stress || self.bytes >= self.next_gc
    }

    /// Whether the account passes the limit: after a collection, live data does, and the
    /// safepoint raises `limit_error`.
    #[inline]
    pub fn over_limit(&self) -> bool {
        self.bytes > self.limit
    }

    /// The error of a heap past its limit.
    #[cold]
    pub fn limit_error(&self) -> Box<RtError> {
        RtError::new(
            ErrorKind::MemoryLimit,
            format!("heap limit of {} bytes exceeded", self.limit),
        )
    }

    /// Runs a full collection. `roots` must mark every value the mutator can still reach.
    pub fn collect(&mut self, roots: impl FnOnce(&mut Tracer)) {
        let mut tracer = Tracer { gray: Vec::new() };
        roots(&mut tracer);
        while let Some(h) = tracer.gray.pop() {
            trace_erased(h, &mut tracer);
        }
        let mut live = 0usize;
        let stress = self.stress;
        let retired = &mut self.retired;
        let pool = &mut self.pool;
        let field_pool = &mut self.field_pool;
        if retired.len() > MAX_RETIRED {
            for h in retired.drain(..) {
                // SAFETY: retired objects left `objects` when they were found unreachable
                // and are in no other list; each is freed once, as it leaves `retired`.
                unsafe { free_erased(pool, field_pool, h) };
            }
        }
        self.objects.retain(|&h| {
            // SAFETY: every pointer in `objects` came from `alloc` and has not been freed:
            // freed pointers are removed from the list by this very `retain`.
            let header = unsafe { h.as_ref() };
            if header.marked.get() {
                header.marked.set(false);
                live += size_erased(h);
                true
            } else if stress {
                header.retired.set(true);
                retired.push(h);
                false
            } else {
                // SAFETY: the object is unreachable from every root, so no `Gc` to it is
                // used again; it is freed exactly once because it leaves `objects` now.
                unsafe { free_erased(pool, field_pool, h) };
                false
            }
        });
        self.bytes = live;
        self.stats.collections += 1;
        // Collect again once half the remaining headroom is used: a program whose live data
        // fits under the limit then only fails when one operation allocates past it.
        let headroom = self.limit.saturating_sub(live);
        self.next_gc = live.saturating_add((headroom / 2).min(live.max(MIN_GC_THRESHOLD)));
    }

    /// Statistics so far.
    pub fn stats(&self) -> HeapStats {
        HeapStats {
            bytes: self.bytes,
            ..self.stats
        }
    }

    /// Number of live (not yet collected) objects.
    pub fn object_count(&self) -> usize {
        self.objects.len()
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        for &h in self.objects.iter().chain(&self.retired) {
            // SAFETY: the heap owns every object in `objects` and `retired` (disjoint lists);
            // each is freed exactly once, here, and no `Gc` outlives the VM that owns the heap.
            // The pool, dropped after this, then frees the chunks the blocks were carved from.
            unsafe { free_erased(&mut self.pool, &mut self.field_pool, h) };
        }
        // SAFETY: `shared` is the box leaked in `new`, freed only here; no `Gc` to a shared
        // string outlives the VM that owns the heap.
        drop(unsafe { Box::from_raw(self.shared.as_ptr()) });
    }
}

/// FxHash of a string's bytes: stable across runs and machines.
pub fn hash_str(s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

/// Calls `f` with the typed object behind an erased header pointer.
macro_rules! with_typed {
    ($h:expr, |$o:ident| $body:expr) => {{
        let h: NonNull<Header> = $h;
        // SAFETY: `h` points to a live object whose header kind was written by `alloc` for
        // exactly the `GcBox<T>` type matched here; the box is `#[repr(C)]` with the header
        // first, so the cast back is to the type it was allocated as.
        unsafe {
            match h.as_ref().kind {
                ObjKind::Str => {
                    let $o = &h.cast::<GcBox<Str>>().as_ref().value;
                    $body
                }
                ObjKind::List => {
                    let $o = &h.cast::<GcBox<List>>().as_ref().value;
                    $body
                }
                ObjKind::Map => {
                    let $o = &h.cast::<GcBox<Map>>().as_ref().value;
                    $body
                }
                ObjKind::Closure => {
                    let $o = &h.cast::<GcBox<Closure>>().as_ref().value;
                    $body
                }
                ObjKind::UpBox => {
                    let $o = &h.cast::<GcBox<UpBox>>().as_ref().value;
                    $body
                }
                ObjKind::Class => {
                    let $o = &h.cast::<GcBox<Class>>().as_ref().value;
                    $body
                }
                ObjKind::Instance => {
                    let $o = &h.cast::<GcBox<Instance>>().as_ref().value;
                    $body
                }
                ObjKind::BoundMethod => {
                    let $o = &h.cast::<GcBox<BoundMethod>>().as_ref().value;
                    $body
                }
            }
        }
    }};
}

fn trace_erased(h: NonNull<Header>, tracer: &mut Tracer) {
    with_typed!(h, |o| o.trace(tracer))
}

fn size_erased(h: NonNull<Header>) -> usize {
    with_typed!(h, |o| o.size())
}

/// Drops the object in the block `h` points to and returns the block's size, as `Heap::block`
/// took it.
///
/// # Safety
/// `h` must point to a live object made by `Heap::alloc`, `alloc_text` or `alloc_closure`,
/// that is never used again.
unsafe fn drop_erased(h: NonNull<Header>) -> usize {
    /// Drops a `GcBox<T>` in place; returns its size.
    ///
    /// # Safety
    /// As `drop_erased`'s, with `T` the type the object was made as.
    unsafe fn drop_box<T: HeapObj>(h: NonNull<Header>) -> usize {
        // SAFETY: per the contract, `h` points to a live `GcBox<T>` that no one uses again.
        unsafe { std::ptr::drop_in_place(h.cast::<GcBox<T>>().as_ptr()) };
        std::mem::size_of::<GcBox<T>>()
    }
    // SAFETY: per the contract, `h` is live and its header kind was written for exactly the
    // `GcBox<T>` type matched here. A string's text and a closure's captured variables, read
    // before the drop, are plain bytes in the block after the object (nothing to drop).
    unsafe {
        match h.as_ref().kind {
            ObjKind::Str => {
                let len = h.cast::<GcBox<Str>>().as_ref().value.as_str().len();
                drop_box::<Str>(h) + len
            }
            ObjKind::Closure => {
                let len = h.cast::<GcBox<Closure>>().as_ref().value.upvals_len;
                drop_box::<Closure>(h) + len * std::mem::size_of::<Gc<UpBox>>()
            }
            ObjKind::List => drop_box::<List>(h),
            ObjKind::Map => drop_box::<Map>(h),
            ObjKind::UpBox => drop_box::<UpBox>(h),
            ObjKind::Class => drop_box::<Class>(h),
            ObjKind::Instance => drop_box::<Instance>(h),
            ObjKind::BoundMethod => drop_box::<BoundMethod>(h),
        }
    }
}

/// Frees one object: drops it (what it owns, such as a list's buffer, is freed) and gives its
/// block back to the pool.
///
/// # Safety
/// `h` must come from `pool` through `Heap::alloc`, `alloc_text` or `alloc_closure`, not be
/// freed yet, and never be used again.
unsafe fn free_erased(pool: &mut BlockPool, field_pool: &mut BlockPool, h: NonNull<Header>) {
    // SAFETY: per the contract; the block (and an instance's field block) is returned with
    // the size it was taken with, once.
    unsafe {
        if h.as_ref().kind == ObjKind::Instance {
            h.cast::<GcBox<Instance>>()
                .as_ref()
                .value
                .free_fields(field_pool);
        }
        let size = drop_erased(h);
        pool.free(h.cast(), size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_objects_are_freed_and_reachable_ones_kept() {
        let mut heap = Heap::new(1 << 30, false);
        let keep = heap.alloc_str("keep").unwrap();
        let list = heap.alloc_list(items_from(&[Value::Str(keep)])).unwrap();
        for i in 0..100 {
            heap.alloc_string(format!("garbage {i}")).unwrap();
        }
        assert_eq!(heap.object_count(), 102);
        heap.collect(|t| t.mark(list));
        assert_eq!(heap.object_count(), 2);
        assert_eq!(list.items.borrow()[0].type_name(), "string");
        assert_eq!(heap.stats().bytes, list.size() + keep.size());
    }

    #[test]
    fn strings_of_at_most_one_byte_are_shared_free_and_never_collected() {
        let mut heap = Heap::new(0, true);
        for b in 0..128u8 {
            let text = char::from(b).to_string();
            let s = heap.alloc_str(&text).unwrap();
            assert!(Gc::ptr_eq(s, heap.ascii_char(b)));
            assert!(Gc::ptr_eq(s, heap.alloc_string(text.clone()).unwrap()));
            assert_eq!(
                (s.as_str(), s.char_len(), s.hash()),
                (&*text, 1, hash_str(&text))
            );
        }
        let empty = heap.alloc_str("").unwrap();
        assert_eq!((empty.as_str(), empty.char_len()), ("", 0));
        assert!(Gc::ptr_eq(empty, heap.alloc_string(String::new()).unwrap()));
        // A limit of 0 bytes refuses every allocation, but these are none.
        assert_eq!(heap.stats(), HeapStats::default());
        assert_eq!(heap.object_count(), 0);
        // Marked or not, they survive collections (stress mode would catch a retired one).
        let a = heap.ascii_char(b'a');
        heap.collect(|t| t.mark(a));
        heap.collect(|_| {});
        heap.collect(|t| t.mark(a));
        assert_eq!(heap.ascii_char(b'a').as_str(), "a");
        // Anything longer is allocated, even a single character of two bytes.
        assert_eq!(
            heap.alloc_str("é").unwrap_err().kind,
            ErrorKind::MemoryLimit
        );
        assert_eq!(
            heap.alloc_str("ab").unwrap_err().kind,
            ErrorKind::MemoryLimit
        );
    }

    #[test]
    fn strings_are_one_block_with_their_text() {
        let mut heap = Heap::new(1 << 30, false);
        let s = heap.alloc_str("héllo, world").unwrap();
        assert_eq!(
            (s.as_str(), s.char_len(), s.byte_len()),
            ("héllo, world", 12, 13)
        );
        assert_eq!(s.hash(), hash_str("héllo, world"));
        assert!(!s.is_ascii());
        assert_eq!(heap.stats().bytes, str_bytes(13));
        assert_eq!(s.size(), str_bytes(13));
        let t = heap
            .alloc_text(7, Some(5), |w| {
                w.push_str("ab");
                w.push_str("");
                w.push_str("😀c");
            })
            .unwrap();
        assert_eq!(
            (t.as_str(), t.char_len(), t.hash()),
            ("ab😀c", 4 + 1, hash_str("ab😀c"))
        );
        // Repeating doubles what was written, up to any count.
        for n in 0..40 {
            let r = heap
                .alloc_text(3 * n + 2, None, |w| {
                    w.push_str("<");
                    w.push_repeated("é-", n);
                    w.push_repeated("", 1000);
                    w.push_repeated("é", 0);
                    w.push_str(">");
                })
                .unwrap();
            assert_eq!(r.as_str(), format!("<{}>", "é-".repeat(n)));
            assert_eq!(r.char_len(), 2 * n + 2);
        }
        let u = heap
            .alloc_text(1, Some(1), |w| w.push_repeated("u", 1))
            .unwrap();
        assert!(Gc::ptr_eq(u, heap.ascii_char(b'u')));
        heap.collect(|t| t.mark(s));
        assert_eq!(heap.object_count(), 1);
        assert_eq!(heap.stats().bytes, str_bytes(13));
    }

    #[test]
    #[should_panic(expected = "longer than announced")]
    fn a_string_text_cannot_overrun_its_block() {
        let mut heap = Heap::new(1 << 30, false);
        let _ = heap.alloc_text(3, None, |w| w.push_str("abcd"));
    }

    #[test]
    #[should_panic(expected = "shorter than announced")]
    fn a_string_text_cannot_leave_bytes_unwritten() {
        let mut heap = Heap::new(1 << 30, false);
        let _ = heap.alloc_text(3, None, |w| w.push_str("ab"));
    }

    #[test]
    fn cycles_are_collected() {
        let mut heap = Heap::new(1 << 30, false);
        let a = heap.alloc_list(items_with_capacity(0)).unwrap();
        a.items.borrow_mut().push(Value::List(a));
        heap.collect(|_| {});
        assert_eq!(heap.object_count(), 0);
    }

    #[test]
    fn the_limit_is_enforced() {
        let mut heap = Heap::new(1000, false);
        let err = heap.alloc_string("x".repeat(2000)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::MemoryLimit);
    }

    #[test]
    fn closures_keep_their_captured_variables_in_their_block() {
        let mut heap = Heap::new(1 << 30, false);
        let boxes: Vec<Gc<UpBox>> = (0..5)
            .map(|i| {
                heap.alloc(UpBox {
                    value: Cell::new(Value::Int(i)),
                })
                .unwrap()
            })
            .collect();
        let c = heap
            .alloc_closure(ProtoId(3), boxes.iter().copied())
            .unwrap();
        assert_eq!(c.proto, ProtoId(3));
        assert_eq!(c.upvals().len(), 5);
        for (u, b) in c.upvals().iter().zip(&boxes) {
            assert!(Gc::ptr_eq(*u, *b));
        }
        // Right after the object, where compiled code finds them through `upvals_ptr`.
        assert_eq!(
            c.upvals().as_ptr() as usize,
            c.addr() + std::mem::size_of::<GcBox<Closure>>()
        );
        // Accounted as before: the object's block, and a block for the captured variables.
        assert_eq!(c.size(), object_bytes::<Closure>(5 * 8));
        assert_eq!(
            heap.stats().bytes,
            5 * object_bytes::<UpBox>(0) + object_bytes::<Closure>(40)
        );
        let bare = heap.alloc_closure(ProtoId(0), std::iter::empty()).unwrap();
        assert!(bare.upvals().is_empty());
        assert_eq!(bare.size(), object_bytes::<Closure>(0));
        // The closure keeps its boxes alive; the bare one goes.
        heap.collect(|t| t.mark(c));
        assert_eq!(heap.object_count(), 6);
        assert!(matches!(c.upvals()[4].value.get(), Value::Int(4)));
    }

    #[test]
    #[should_panic(expected = "fewer captured variables than announced")]
    fn a_closure_gets_as_many_captured_variables_as_announced() {
        struct Liar;
        impl Iterator for Liar {
            type Item = Gc<UpBox>;
            fn next(&mut self) -> Option<Gc<UpBox>> {
                None
            }
        }
        impl ExactSizeIterator for Liar {
            fn len(&self) -> usize {
                2
            }
        }
        let mut heap = Heap::new(1 << 30, false);
        let _ = heap.alloc_closure(ProtoId(0), Liar);
    }

    #[test]
    fn freed_blocks_are_reused_so_a_steady_program_stays_flat() {
        let mut heap = Heap::new(1 << 30, false);
        let mut first = 0;
        for round in 0..20 {
            for i in 0..5_000 {
                heap.alloc_list(items_with_capacity(i % 3)).unwrap();
                heap.alloc_string(format!("string number {i}")).unwrap();
                heap.alloc_string("long ".repeat(i % 80)).unwrap();
                let u = heap
                    .alloc(UpBox {
                        value: Cell::new(Value::Nil),
                    })
                    .unwrap();
                heap.alloc_closure(ProtoId(0), std::iter::repeat_n(u, i % 4))
                    .unwrap();
            }
            heap.collect(|_| {});
            assert_eq!((heap.object_count(), heap.stats().bytes), (0, 0));
            if round == 0 {
                first = heap.pool.chunk_bytes();
                assert!(first > 0);
            } else {
                assert_eq!(heap.pool.chunk_bytes(), first);
            }
        }
    }

    /// A class without methods named `name`, as the builtin `Error` is made.
    fn bare_class(heap: &mut Heap, name: Gc<Str>) -> Gc<Class> {
        heap.alloc(Class {
            name,
            decl: None,
            superclass: None,
            methods: FxHashMap::default(),
            init: None,
            root_shape: ShapeId(0),
            field_room: Cell::new(0),
        })
        .unwrap()
    }

    #[test]
    fn fresh_instances_get_the_room_their_class_grew_to_within_a_cap() {
        let mut heap = Heap::new(1 << 30, false);
        let name = heap.alloc_str("P").unwrap();
        let class = bare_class(&mut heap, name);
        let fill = |heap: &mut Heap, inst: Gc<Instance>, n: usize| {
            for i in 0..n {
                heap.reserve_field(inst).unwrap();
                inst.push_field(Value::Int(i as i64));
            }
        };
        let first = heap.alloc_instance(class, ShapeId(0)).unwrap();
        assert_eq!(first.field_capacity(), 0);
        fill(&mut heap, first, 5);
        assert_eq!(first.field_capacity(), 8);
        let before = heap.bytes;
        let second = heap.alloc_instance(class, ShapeId(0)).unwrap();
        assert_eq!(second.field_capacity(), 8);
        assert_eq!(heap.bytes - before, second.size(), "the room is accounted");
        fill(&mut heap, second, 5);
        assert_eq!(second.field_capacity(), 8, "no growth for the same fields");
        fill(&mut heap, first, 100);
        let third = heap.alloc_instance(class, ShapeId(0)).unwrap();
        assert_eq!(third.field_capacity(), MAX_FIELD_ROOM);
    }

    #[test]
    fn dropping_the_heap_frees_every_object_and_what_it_owns() {
        // Run under Miri, this also checks that nothing leaks.
        let mut heap = Heap::new(1 << 30, true);
        let name = heap.alloc_str("Point").unwrap();
        let class = bare_class(&mut heap, name);
        let inst = heap.alloc(Instance::new(class, ShapeId(0))).unwrap();
        heap.reserve_field(inst).unwrap();
        inst.push_field(Value::Str(name));
        let map = heap.alloc_map().unwrap();
        let key = heap.alloc_str("a key").unwrap();
        heap.reserve_entry(map).unwrap();
        map.entries
            .borrow_mut()
            .insert(Key::Str(key), Value::Instance(inst));
        let big = heap.alloc_string("x".repeat(1000)).unwrap();
        let list = heap
            .alloc_list(items_from(&[Value::Map(map), Value::Str(big)]))
            .unwrap();
        heap.reserve_items(list, 10).unwrap();
        let u = heap
            .alloc(UpBox {
                value: Cell::new(Value::List(list)),
            })
            .unwrap();
        let f = heap.alloc_closure(ProtoId(1), [u, u].into_iter()).unwrap();
        heap.alloc(BoundMethod {
            receiver: Value::Instance(inst),
            method: f,
        })
        .unwrap();
        // Stress mode keeps what a collection finds unreachable as retired: those are the
        // heap's to free as well.
        heap.collect(|t| t.mark(list));
        assert!(!heap.retired.is_empty());
        drop(heap);
    }

    #[test]
    fn deep_chains_are_marked_without_recursion() {
        let mut heap = Heap::new(1 << 30, false);
        let mut cur = heap.alloc_list(items_with_capacity(0)).unwrap();
        for _ in 0..200_000 {
            cur = heap.alloc_list(items_from(&[Value::List(cur)])).unwrap();
        }
        heap.collect(|t| t.mark(cur));
        assert_eq!(heap.object_count(), 200_001);
    }
}

/// Byte offsets inside heap objects (from the start of the object, header included), for
/// compiled code.
pub mod layout {
    use std::mem::offset_of;

    use super::*;

    /// `Closure::proto` (u32).
    pub const CLOSURE_PROTO: i32 =
        (offset_of!(GcBox<Closure>, value) + offset_of!(Closure, proto)) as i32;
    /// `Closure::upvals_ptr` (pointer to the captured boxes).
    pub const CLOSURE_UPVALS: i32 =
        (offset_of!(GcBox<Closure>, value) + offset_of!(Closure, upvals_ptr)) as i32;
    /// `UpBox::value` (a whole value).
    pub const UPBOX_VALUE: i32 =
        (offset_of!(GcBox<UpBox>, value) + offset_of!(UpBox, value)) as i32;
    /// `Instance::shape` (u32).
    pub const INSTANCE_SHAPE: i32 =
        (offset_of!(GcBox<Instance>, value) + offset_of!(Instance, shape)) as i32;
    /// `Instance::slots` (pointer to the field values).
    pub const INSTANCE_SLOTS: i32 =
        (offset_of!(GcBox<Instance>, value) + offset_of!(Instance, slots)) as i32;
    /// `Instance::len` (u32, the number of fields).
    pub const INSTANCE_LEN: i32 =
        (offset_of!(GcBox<Instance>, value) + offset_of!(Instance, len)) as i32;
    /// `Instance::capacity` (u32, the field slots allocated).
    pub const INSTANCE_CAPACITY: i32 =
        (offset_of!(GcBox<Instance>, value) + offset_of!(Instance, capacity)) as i32;

    /// `Str::hash` (the text's hash, computed when the string is made; a word).
    pub const STR_HASH: i32 = (offset_of!(GcBox<Str>, value) + offset_of!(Str, hash)) as i32;
    /// `Str::chars` (the character count, a word).
    pub const STR_CHARS: i32 = (offset_of!(GcBox<Str>, value) + offset_of!(Str, chars)) as i32;
    /// Where a string's text is: the data pointer and the length in bytes of `Str::text`
    /// (a `*const str`, two words in an order Rust does not fix: the length is the word
    /// holding 3 for "abc").
    pub fn str_text() -> StrText {
        let s: *const str = "abc";
        // SAFETY: a `*const str` is two initialised words; they are only compared as integers.
        let words: [usize; 2] = unsafe { std::mem::transmute::<*const str, [usize; 2]>(s) };
        let len_word = if words[0] == 3 { 0 } else { 8 };
        let text = (offset_of!(GcBox<Str>, value) + offset_of!(Str, text)) as i32;
        StrText {
            ptr: text + 8 - len_word,
            len: text + len_word,
        }
    }

    /// The offsets `str_text` gives, from the start of a string object.
    #[derive(Clone, Copy, Debug)]
    pub struct StrText {
        /// The pointer to the first byte (a word).
        pub ptr: i32,
        /// The length in bytes (a word).
        pub len: i32,
    }

    /// `Heap::shared` in the heap (the pointer to the shared strings: the empty string, then
    /// the one-character string of every ASCII byte, `SHARED_STR_SIZE` bytes apart).
    pub const HEAP_SHARED: i32 = offset_of!(Heap, shared) as i32;
    /// `Heap::bytes`, `Heap::next_gc` (words) and `Heap::stress` (a byte): the next
    /// safepoint collects when `stress` is set or `bytes >= next_gc` (`wants_collection`).
    pub const HEAP_BYTES: i32 = offset_of!(Heap, bytes) as i32;
    /// See `HEAP_BYTES`.
    pub const HEAP_NEXT_GC: i32 = offset_of!(Heap, next_gc) as i32;
    /// See `HEAP_BYTES`.
    pub const HEAP_STRESS: i32 = offset_of!(Heap, stress) as i32;
    /// Bytes between two shared strings.
    pub const SHARED_STR_SIZE: i64 = std::mem::size_of::<GcBox<Str>>() as i64;

    /// Where a list's element pointer and element count are, from the start of the object.
    #[derive(Clone, Copy, Debug)]
    pub struct ListItems {
        /// The pointer to the first element (a word).
        pub ptr: i32,
        /// The number of elements (a word).
        pub len: i32,
        /// The number of elements the buffer has room for (a word).
        pub cap: i32,
    }

    /// The offsets of `ListItems`. A list keeps its elements in a `RefCell<Vec<Value>>`, whose
    /// layout Rust leaves to the compiler (it is fixed for a build), so they are found once by
    /// looking at a real list. Compiled code reads and writes elements in place, never while
    /// the runtime holds a borrow of the list (borrows last one operation, and no operation
    /// runs while compiled code does).
    pub fn list_items() -> ListItems {
        *LIST_ITEMS
    }

    static LIST_ITEMS: std::sync::LazyLock<ListItems> = std::sync::LazyLock::new(|| {
        const WORDS: usize = 3;
        const _: () = assert!(std::mem::size_of::<Items>() == WORDS * 8);
        const LEN: usize = 3;
        const CAP: usize = LEN + 4;
        let mut items = items_with_capacity(CAP);
        items.extend([Value::Nil; LEN]);
        let data = items.as_ptr() as usize;
        // At least `CAP`, so never the length: the three words stay told apart.
        let items_cap = items.capacity();
        let list = List {
            items: RefCell::new(items),
        };
        let vec = list.items.as_ptr();
        // SAFETY: `vec` points to a live `Vec`, which is three initialised words (pointer,
        // capacity, length, in the compiler's order); they are only compared as integers.
        let words: [usize; WORDS] = unsafe { std::ptr::read(vec.cast::<[usize; WORDS]>()) };
        let word = |want: usize| {
            let i = words.iter().position(|&w| w == want);
            i.expect("a Vec holds its pointer, capacity and length as words") * 8
        };
        let base = offset_of!(GcBox<List>, value) + (vec as usize - &raw const list as usize);
        ListItems {
            ptr: (base + word(data)) as i32,
            len: (base + word(LEN)) as i32,
            cap: (base + word(items_cap)) as i32,
        }
    });
}

#[cfg(test)]
mod size_tests {
    use super::*;

    /// The accounted sizes are part of the language's observable behaviour (they decide
    /// when the heap limit is hit) and are documented in docs/LANGUAGE.md; keep both in step.
    #[test]
    fn documented_object_sizes() {
        assert_eq!(std::mem::size_of::<GcBox<Str>>(), 40);
        assert_eq!(std::mem::size_of::<GcBox<List>>(), 40);
        // The table's pointer to its tombstone state still fits the same 96-byte block.
        assert_eq!(std::mem::size_of::<GcBox<Map>>(), 88);
        assert_eq!(std::mem::size_of::<GcBox<Instance>>(), 40);
        assert_eq!(std::mem::size_of::<GcBox<Closure>>(), 32);
        assert_eq!(std::mem::size_of::<GcBox<UpBox>>(), 24);
        assert_eq!(std::mem::size_of::<GcBox<Class>>(), 80);
        assert_eq!(std::mem::size_of::<GcBox<BoundMethod>>(), 32);
        // The table in docs/LANGUAGE.md §16: the object, then its storage.
        assert_eq!(str_bytes(0), 64);
        assert_eq!(str_bytes(2), 80);
        assert_eq!(str_bytes(10), 80);
        assert_eq!(str_bytes(16), 80);
        assert_eq!(str_bytes(17), 96);
        assert_eq!(str_bytes(100), 16 + block_bytes(140));
        assert_eq!(object_bytes::<List>(0), 64);
        assert_eq!(object_bytes::<Map>(0), 112);
        assert_eq!(object_bytes::<Instance>(0), 64);
        assert_eq!(object_bytes::<Closure>(0), 64);
        assert_eq!(object_bytes::<UpBox>(0), 48);
        assert_eq!(object_bytes::<Class>(0), 112);
        assert_eq!(object_bytes::<BoundMethod>(0), 64);
        assert_eq!(block_bytes(1), 32);
        assert_eq!(block_bytes(24), 32);
        assert_eq!(block_bytes(25), 48);
        assert_eq!(block_bytes(64), 80);
        // A map grown to 4 entries: 3 buckets' worth is not enough, so 8 buckets, 7 entries.
        assert_eq!(
            Map::storage_bytes(4),
            block_bytes(7 * 40) + block_bytes(8 * 9 + 16)
        );
        assert_eq!(grown_capacity(0, 1), 4);
        assert_eq!(grown_capacity(4, 5), 8);
        assert_eq!(grown_capacity(4, 100), 100);
    }
}
