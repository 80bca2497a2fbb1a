//! The knowledge base: walking note roots, parsing notes, and a tantivy
//! index of files and heading sections that is searched as the user types.

pub mod directory;
pub mod index;
pub mod parse;
pub mod query;
pub mod schema;
pub mod search;
pub mod tokenizer;
pub mod walk;
