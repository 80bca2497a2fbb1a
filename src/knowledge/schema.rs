//! The tantivy schema of a knowledge index, and the text analyzer.
//!
//! Two kinds of document live in one index.  A *file* document per note
//! holds what belongs to the note as a whole (title, aliases, file name,
//! file tags, ID) and the per-file state used for incremental updates.  A
//! *section* document per heading (and the preamble) holds the heading, its
//! text, its tags and ID: what most hits name, with their line.  Every word
//! is indexed once, in its section; a query whose words are spread over
//! several sections of a note is answered at query time (see `search`).

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST,
    INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, RemoveLongFilter, TextAnalyzer,
};

use super::tokenizer::WordTokenizer;
use tantivy::Index;

/// Bumped whenever the schema or the analysis changes; a different version
/// makes a new index directory and a full rebuild.
pub const SCHEMA_VERSION: u32 = 5;

/// Name of the analyzer for text fields: words, lower-cased, accents folded.
pub const TEXT_ANALYZER: &str = "artisan_text";
/// Name of the analyzer for tags and TODO keywords: one token, folded.
pub const KEYWORD_ANALYZER: &str = "artisan_keyword";

/// `kind` value of file documents.
pub const KIND_FILE: u64 = 0;
/// `kind` value of section documents.
pub const KIND_SECTION: u64 = 1;

/// Handles on every field.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// [`KIND_FILE`] or [`KIND_SECTION`].
    pub kind: Field,
    /// Absolute path, raw: the term that deletes a file's documents.
    pub path: Field,
    /// Path relative to its root, analyzed, for `path:` queries (both kinds).
    pub path_text: Field,
    /// The file name without extension, analyzed (file documents): plain
    /// words match it.
    pub name: Field,
    /// Lower-cased extension, raw, for `ext:` queries.
    pub ext: Field,
    /// The note's title (file documents).
    pub title: Field,
    /// The note's title on section documents: for `title:` filters and for
    /// showing hits, not matched by plain words.
    pub note_title: Field,
    /// The note's aliases (file documents), the heading's (sections).
    pub alias: Field,
    /// The section's heading (section documents only).
    pub heading: Field,
    /// The outline path, stored only, one value per level.
    pub outline: Field,
    /// The section's text, from its heading line on (section documents).
    pub body: Field,
    /// Tags for `tag:` filters: file tags on file documents; the heading's
    /// own and its parent headings' tags on sections.
    pub tag: Field,
    /// Every tag of the note, on file documents: plain words match it.
    pub note_tag: Field,
    /// Every tag that applies (file, parent and own tags), stored only, to
    /// show with a hit.
    pub all_tags: Field,
    /// IDs: the file's on file documents, the heading's on sections.
    pub id: Field,
    /// The heading's TODO keyword, folded.
    pub todo: Field,
    /// The TODO keyword as written, stored.
    pub todo_raw: Field,
    /// 1-based line of the heading (sections) or the title (files).
    pub line: Field,
    /// 1-based line where the section's body starts.
    pub body_line: Field,
    /// Outline level, 0 for the preamble and files; indexed, so that a
    /// note's preamble can be found without reading its other sections.
    pub level: Field,
    /// Modification time, nanoseconds since the epoch.
    pub mtime: Field,
    /// File size in bytes (file documents).
    pub size: Field,
    /// xxh3 hash of the file's bytes (file documents).
    pub hash: Field,
    /// The note's metadata and links as JSON (file documents), stored only:
    /// what the link graph is built from.
    pub note: Field,
    /// xxh3 of the absolute path (both kinds): groups a note's documents
    /// across segments when a query's words are spread over its sections.
    pub file: Field,
    /// Every tag that applies, file tags included (file tags on file
    /// documents): what `-tag:` excludes.
    pub scope_tag: Field,
    /// The IDs a document belongs to: the file's, its ancestor headings'
    /// and its own: what `-id:` excludes.
    pub scope_id: Field,
    /// 0-based column (in characters) of the title in its line (file
    /// documents), for titles that are not in the preamble's text.
    pub title_column: Field,
}

/// Builds the schema and returns it with the field handles.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |positions: bool, stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(TEXT_ANALYZER)
            .set_index_option(if positions {
                IndexRecordOption::WithFreqsAndPositions
            } else {
                IndexRecordOption::WithFreqs
            });
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let keyword = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(KEYWORD_ANALYZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let number = NumericOptions::default();
    let fields = Fields {
        kind: b.add_u64_field("kind", number.clone().set_indexed().set_fast().set_stored()),
        path: b.add_text_field("path", STRING | STORED | FAST),
        path_text: b.add_text_field("path_text", text(false, false)),
        name: b.add_text_field("name", text(false, false)),
        ext: b.add_text_field("ext", STRING),
        title: b.add_text_field("title", text(true, true)),
        note_title: b.add_text_field("note_title", text(true, true)),
        alias: b.add_text_field("alias", text(true, true)),
        heading: b.add_text_field("heading", text(true, true)),
        outline: b.add_text_field("outline", STORED),
        body: b.add_text_field("body", text(true, true)),
        tag: b.add_text_field("tag", keyword.clone().set_stored()),
        note_tag: b.add_text_field("note_tag", keyword.clone()),
        all_tags: b.add_text_field("all_tags", STORED),
        id: b.add_text_field("id", STRING | STORED),
        todo: b.add_text_field("todo", keyword.clone()),
        todo_raw: b.add_text_field("todo_raw", STORED),
        line: b.add_u64_field("line", STORED),
        body_line: b.add_u64_field("body_line", STORED),
        level: b.add_u64_field("level", INDEXED | STORED),
        mtime: b.add_i64_field("mtime", INDEXED | FAST | STORED),
        size: b.add_u64_field("size", FAST),
        hash: b.add_u64_field("hash", FAST),
        note: b.add_text_field("note", STORED),
        file: b.add_u64_field("file", FAST),
        scope_tag: b.add_text_field("scope_tag", keyword),
        scope_id: b.add_text_field("scope_id", STRING),
        title_column: b.add_u64_field("title_column", STORED),
    };
    (b.build(), fields)
}

/// The analyzer for text: words (see [`super::tokenizer`]: alphanumeric
/// runs, `c++`/`c#`, emoji), lower-cased, accents folded (so `resume`
/// finds `résumé`), tokens over 64 bytes dropped.
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The analyzer for tags and TODO keywords: the whole value, folded.
pub fn keyword_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// Registers the analyzers on `index`.
pub fn register(index: &Index) {
    index.tokenizers().register(TEXT_ANALYZER, text_analyzer());
    index
        .tokenizers()
        .register(KEYWORD_ANALYZER, keyword_analyzer());
}

/// Analyzes `text` into folded tokens.
pub fn tokens(text: &str) -> Vec<String> {
    let mut analyzer = text_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The `file` key of a path.
pub fn file_key(path: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(path.as_bytes())
}

/// Folds a tag or TODO keyword the way the keyword analyzer does.
pub fn fold_keyword(value: &str) -> String {
    let mut analyzer = keyword_analyzer();
    let mut stream = analyzer.token_stream(value);
    let mut out = String::new();
    while stream.advance() {
        out.push_str(&stream.token().text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_split_lowercased_and_folded() {
        assert_eq!(
            tokens("Résumé: org-roam's CRÈME brûlée, naïve_café 2026"),
            vec!["resume", "org", "roam", "s", "creme", "brulee", "naive", "cafe", "2026"]
        );
    }

    #[test]
    fn keywords_stay_whole_and_folded() {
        assert_eq!(fold_keyword("Émacs_Tools"), "emacs_tools");
        assert_eq!(fold_keyword("TODO"), "todo");
    }
}
