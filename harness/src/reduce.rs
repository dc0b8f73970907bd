//! The reducer: shrinks a program at the syntax-tree level while a property (typically "the
//! tiers still disagree in the same way") keeps holding, and writes the result as a corpus file.
