//! Parsing notes without Emacs: Org, Markdown and plain text.
//!
//! A parser turns a file's bytes into a [`Note`]: its title, IDs, aliases,
//! tags, the sections under each heading (with their outline path, line and
//! text) and every link with its line, column and surrounding context.  The
//! index stores sections as searchable documents; the link graph is built
//! from the links.  Invalid UTF-8 is decoded lossily, never rejected; CRLF
//! line ends and a leading byte-order mark are normalised away first, which
//! is also what Emacs shows, so lines and columns agree with the buffer.

mod front_matter;
mod markdown;
mod org;
mod text;

use serde::{Deserialize, Serialize};

/// What kind of markup a file is parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Org mode (`.org`).
    Org,
    /// Markdown (`.md`, `.markdown`).
    Markdown,
    /// Plain text, and code files indexed as text.
    Text,
}

impl Format {
    /// Chooses the format from a file extension (without the dot).
    pub fn from_extension(ext: &str) -> Format {
        match ext.to_ascii_lowercase().as_str() {
            "org" | "org_archive" => Format::Org,
            "md" | "markdown" | "mdown" | "mkd" | "mdx" => Format::Markdown,
            _ => Format::Text,
        }
    }
}

/// A parsed note: one file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// The note's title: `#+title`, front-matter `title`, first heading or line,
    /// or the file name.
    pub title: String,
    /// Line of the title keyword (1 when there is none).
    pub title_line: u32,
    /// File-level ID (`:ID:` in the top property drawer, front-matter `id`).
    pub id: Option<String>,
    /// File-level aliases (`#+roam_aliases`, `:ROAM_ALIASES:`, front-matter `aliases`).
    pub aliases: Vec<String>,
    /// File-level references (`:ROAM_REFS:`).
    pub refs: Vec<String>,
    /// File tags (`#+filetags`, front-matter `tags`).
    pub tags: Vec<String>,
    /// Whether the top property drawer says `:ROAM_EXCLUDE:` (any value but
    /// `nil`): org-roam then makes no node of the file's ID.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exclude: bool,
    /// Sections in file order.  The first is the preamble (level 0): the text
    /// before the first heading.  It is always present, possibly empty.
    pub sections: Vec<Section>,
    /// Every link, in file order.
    pub links: Vec<Link>,
}

/// The text under one heading, up to the next heading of any level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Outline level: 0 for the preamble, 1 for `*`/`#`, and so on.
    pub level: u32,
    /// The heading's text, without stars, TODO keyword, priority or tags;
    /// links are shown by their labels.  Empty for the preamble.
    pub heading: String,
    /// The TODO keyword, if any.
    pub todo: Option<String>,
    /// The heading's own tags.
    pub tags: Vec<String>,
    /// All tags that apply: file tags, ancestors' tags and its own.
    pub all_tags: Vec<String>,
    /// The heading's `:ID:` property.
    pub id: Option<String>,
    /// The heading's `:ROAM_ALIASES:`.
    pub aliases: Vec<String>,
    /// The heading's `:ROAM_REFS:`.
    pub refs: Vec<String>,
    /// Whether the heading's drawer says `:ROAM_EXCLUDE:` (any value but
    /// `nil`): org-roam then makes no node of it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exclude: bool,
    /// Headings from the top level down to this one.
    pub outline: Vec<String>,
    /// 1-based line of the heading (1 for the preamble).
    pub line: u32,
    /// 1-based line where `body` starts: the heading's own line (line 1, or
    /// the first line after front matter, for the preamble).
    pub body_line: u32,
    /// The section's text from its heading line to the next heading, with
    /// property drawers blanked out (their lines kept empty, so line numbers
    /// computed from the body stay right).  Not serialized: the metadata
    /// stored for the link graph leaves the text to the section documents.
    #[serde(skip)]
    pub body: String,
}

/// What a link points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkKind {
    /// `id:UUID`.
    Id,
    /// `file:path` or a bare relative path in an Org bracket link.
    File,
    /// `roam:Title`.
    Roam,
    /// `[[wikilink]]` in Markdown.  Its target and label are the two sides
    /// as written (trimmed); [`WikiSide`] reads them.
    Wiki,
    /// `[text](relative/path.md)` in Markdown.
    Relative,
    /// A web or other URL (`https:`, `mailto:`, ...).
    Url,
    /// A link to a heading in the same file (`[[*Heading]]`, `[[#custom-id]]`).
    Internal,
}

/// One link in a note.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// What the link points at.
    pub kind: LinkKind,
    /// The target: an ID, a path, a title or a URL, without the link type
    /// prefix and without any `::search` or `#anchor` part.  For wikilinks,
    /// the first side as written (see [`WikiSide`]).
    pub target: String,
    /// The description shown instead of the target, if any.
    pub label: Option<String>,
    /// 1-based line of the link.
    pub line: u32,
    /// 0-based column (in characters) of the link's first character.
    pub column: u32,
    /// Index into [`Note::sections`] of the section holding the link.
    pub section: usize,
    /// The paragraph or list item around the link, on one line.
    pub context: String,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One side of a wikilink, read: `[[dendron://vault/a.b#Heading^block]]`
/// names the note `a.b` (in the vault `vault`) and its heading `Heading`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WikiSide<'a> {
    /// The note's name, path or title, without vault prefix or anchor.
    pub name: &'a str,
    /// The `#heading` anchor, if any (without Dendron's `,1:#*` reference
    /// suffixes).
    pub anchor: Option<&'a str>,
    /// Whether the side was written with Dendron's `dendron://` prefix.
    pub dendron: bool,
}

impl<'a> WikiSide<'a> {
    /// Reads a wikilink side as written.
    pub fn parse(side: &'a str) -> WikiSide<'a> {
        let s = side.trim();
        let (s, dendron) = match s.strip_prefix("dendron://") {
            Some(t) => (t.split_once('/').map_or(t, |(_, note)| note), true),
            None => (s, false),
        };
        let (s, anchor) = match s.split_once('#') {
            Some((name, anchor)) => {
                let anchor = anchor.split(['^', ',']).next().unwrap_or("");
                let anchor = anchor.split(":#").next().unwrap_or(anchor).trim();
                (name, (!anchor.is_empty()).then_some(anchor))
            }
            None => (s, None),
        };
        let name = s.split('^').next().unwrap_or(s).trim();
        WikiSide {
            name,
            anchor,
            dendron,
        }
    }

    /// Does the side look like a note's file name or path rather than
    /// prose: written with `dendron://`, holding a `/`, or a dotted name
    /// without spaces (`dendron.topic.links`, `note.md`)?
    pub fn is_name_like(&self) -> bool {
        self.dendron
            || self.name.contains('/')
            || (self.name.contains('.') && !self.name.contains(char::is_whitespace))
    }
}

/// At most this many links are kept per note.  Real notes have far fewer;
/// the cap keeps a pathological file (a megabyte of links on one line) from
/// costing gigabytes of contexts.
pub const MAX_LINKS_PER_NOTE: usize = 20_000;

/// Options that change how notes are parsed.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// Org TODO keywords recognised in headings (besides those a file
    /// declares with `#+TODO:`).
    pub todo_keywords: Vec<String>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            todo_keywords: vec!["TODO".into(), "DONE".into()],
        }
    }
}

/// Decodes file bytes: lossy UTF-8, without a byte-order mark, with `\n`
/// line ends (CRLF and lone CR become LF).
pub fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes);
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.into_owned()
    }
}

/// What a line of a note is to the link parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Text where links are links (paragraphs, lists, quotes, blank lines).
    Prose,
    /// A heading (its text names the heading: links there are links, but
    /// editing it changes the heading's anchor).
    Heading,
    /// Code, comments, front matter, property drawers, keywords: no links.
    Hidden,
}

/// What each line of `text` is, as the parser of `format` sees it when it
/// looks for links (one entry per line, as [`Link::line`] counts them).
/// Tools that turn text into links use it, so they never write one where
/// the parser would not read it.
pub fn line_kinds(text: &str, format: Format, options: &ParseOptions) -> Vec<LineKind> {
    match format {
        Format::Org => org::parse_with_kinds(text, options).1,
        Format::Markdown => markdown::parse_with_kinds(text).1,
        Format::Text => vec![LineKind::Prose; line_ranges(text).len()],
    }
}

/// Parses a note from its decoded `text`.  `stem` is the file name without
/// directory or extension, the title of last resort.
pub fn parse(text: &str, format: Format, stem: &str, options: &ParseOptions) -> Note {
    let mut note = match format {
        Format::Org => org::parse_with_kinds(text, options).0,
        Format::Markdown => markdown::parse_with_kinds(text).0,
        Format::Text => text::parse(text),
    };
    if note.title.trim().is_empty() {
        note.title = stem.to_string();
    }
    if note.sections.is_empty() {
        note.sections.push(Section {
            line: 1,
            body_line: 1,
            ..Section::default()
        });
    }
    note
}

/// At most this many levels of a heading's outline path are kept: the two
/// outermost and the innermost ones, with "…" for the levels between.
/// Thousands of nested headings would otherwise cost quadratic memory.
pub const MAX_OUTLINE: usize = 12;

/// The outline path of `heading` under `ancestors` (outermost first),
/// shortened to [`MAX_OUTLINE`] levels.
pub(crate) fn outline_path<'a>(
    ancestors: impl ExactSizeIterator<Item = &'a str>,
    heading: &str,
) -> Vec<String> {
    let n = ancestors.len();
    let mut out = Vec::with_capacity((n + 1).min(MAX_OUTLINE));
    if n < MAX_OUTLINE {
        out.extend(ancestors.map(str::to_string));
    } else {
        // The first two, "…", and the last ones, with the heading.
        let tail_from = n - (MAX_OUTLINE - 4);
        for (i, a) in ancestors.enumerate() {
            if i < 2 || i >= tail_from {
                out.push(a.to_string());
            } else if i == 2 {
                out.push("…".to_string());
            }
        }
    }
    out.push(heading.to_string());
    out
}

/// Byte ranges of the lines of `text` (without their `\n`).
pub(crate) fn line_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            lines.push((start, i));
            start = i + 1;
        }
    }
    if start < text.len() || text.is_empty() || text.ends_with('\n') {
        lines.push((start, text.len()));
    }
    lines
}

/// The number of characters in `s`: Emacs' notion of a column offset.
pub(crate) fn char_count(s: &str) -> u32 {
    u32::try_from(s.chars().count()).unwrap_or(u32::MAX)
}

/// Converts a 0-based line index to the 1-based line number used everywhere.
pub(crate) fn line_no(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// Splits a value like `"GNU Emacs" emacs 'x y'` into words, honouring double quotes.
pub(crate) fn split_quoted(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut word = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => {
                        if let Some(n) = chars.next() {
                            word.push(n);
                        }
                    }
                    c => word.push(c),
                }
            }
            if !word.is_empty() {
                out.push(word);
            }
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push(word);
        }
    }
    out
}

/// Pushes `item` onto `list` unless an equal element is already there.
pub(crate) fn push_unique(list: &mut Vec<String>, item: &str) {
    if !item.is_empty() && !list.iter().any(|x| x == item) {
        list.push(item.to_string());
    }
}

/// The paragraph or list item around line `index` of `lines`, joined on one
/// line.  `is_break` says which lines end a paragraph (headings, block
/// delimiters); blank lines always do, and a list item starts a new one.
pub(crate) fn context_around(
    text: &str,
    lines: &[(usize, usize)],
    index: usize,
    is_break: &dyn Fn(&str) -> bool,
) -> String {
    const MAX: usize = 400;
    let line = |i: usize| -> &str {
        lines
            .get(i)
            .and_then(|&(s, e)| text.get(s..e))
            .unwrap_or("")
    };
    let blank = |s: &str| s.trim().is_empty();
    // In a long paragraph, the context is a window around the line: at
    // most half the room before it, and never more lines than the room
    // can show (so a paragraph of 20,000 linked lines costs linear time).
    let mut start = index;
    let mut before = 0usize;
    if !is_list_item(line(index)) {
        while start > 0 && before < MAX / 2 {
            let prev = line(start - 1);
            if blank(prev) || is_break(prev) {
                break;
            }
            start -= 1;
            before += prev.len() + 1;
            if is_list_item(prev) {
                break;
            }
        }
    }
    let mut end = index;
    let mut after = line(index).len();
    while end + 1 < lines.len() && before + after < MAX * 4 {
        let next = line(end + 1);
        if blank(next) || is_break(next) || is_list_item(next) {
            break;
        }
        end += 1;
        after += next.len() + 1;
    }
    let mut out = String::new();
    for i in start..=end {
        let l = line(i).trim();
        if l.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        // Never copy more of a huge line than the context can show.
        let room = MAX * 4 + 1;
        let cut = l.char_indices().nth(room).map_or(l.len(), |(i, _)| i);
        out.push_str(&l[..cut]);
        if out.chars().count() > MAX {
            break;
        }
    }
    truncate_chars(&out, MAX)
}

/// A link found in a line: (byte offset, kind, target, label).
pub(crate) type Found = (usize, LinkKind, String, Option<String>);

/// Adds the links `found` on line `index` of section `section` to `note`,
/// each with the paragraph around it as context, up to the per-note cap.
pub(crate) fn push_links(
    note: &mut Note,
    text: &str,
    lines: &[(usize, usize)],
    index: usize,
    section: usize,
    found: Vec<Found>,
    is_break: &dyn Fn(&str) -> bool,
) {
    if found.is_empty() {
        return;
    }
    let line = lines
        .get(index)
        .and_then(|&(s, e)| text.get(s..e))
        .unwrap_or("");
    let context = context_around(text, lines, index, is_break);
    // Columns counted on from the previous link (the links come in line
    // order), so a line of 20,000 links is read once, not once a link.
    let (mut counted_to, mut counted) = (0usize, 0u32);
    for (offset, kind, target, label) in found {
        if note.links.len() >= MAX_LINKS_PER_NOTE {
            break;
        }
        if offset < counted_to {
            (counted_to, counted) = (0, 0);
        }
        counted += char_count(line.get(counted_to..offset).unwrap_or(""));
        counted_to = offset;
        note.links.push(Link {
            kind,
            target,
            label,
            line: line_no(index),
            column: counted,
            section,
            context: context.clone(),
        });
    }
}

/// Is `line` the start of a list item (`- `, `+ `, ` * `, `1. `, `1) `)?
pub(crate) fn is_list_item(line: &str) -> bool {
    let indent = line.len() - line.trim_start().len();
    let rest = line.trim_start();
    let bullet = |c: char| {
        rest.strip_prefix(c)
            .is_some_and(|r| r.is_empty() || r.starts_with(' '))
    };
    if bullet('-') || bullet('+') || (indent > 0 && bullet('*')) {
        return true;
    }
    let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    digits > 0
        && rest[digits..]
            .strip_prefix(['.', ')'])
            .is_some_and(|r| r.is_empty() || r.starts_with(' '))
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

/// A URL scheme that makes `scheme:rest` a web or other external link.
pub(crate) fn is_url_scheme(scheme: &str) -> bool {
    matches!(
        scheme.to_ascii_lowercase().as_str(),
        "http" | "https" | "ftp" | "mailto" | "news" | "doi" | "shell" | "elisp" | "info" | "help"
    )
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character
/// boundary.  Scanners look this far ahead at most, which keeps them linear
/// on pathological lines (megabytes without a closing bracket).
pub(crate) fn head(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// How far ahead link scanners look for a closing delimiter.
pub(crate) const LOOKAHEAD: usize = 4096;

/// Non-overlapping byte ranges of a line, for fast "is this offset inside
/// one of them" questions (a 20 MB line may hold a million of them).
#[derive(Debug, Default)]
pub(crate) struct Spans(Vec<(usize, usize)>);

impl Spans {
    /// Builds the set from ranges in any order.
    pub(crate) fn new(mut spans: Vec<(usize, usize)>) -> Spans {
        spans.sort_unstable();
        Spans(spans)
    }

    /// Is `pos` inside one of the ranges?
    pub(crate) fn contains(&self, pos: usize) -> bool {
        let i = self.0.partition_point(|&(s, _)| s <= pos);
        i > 0 && pos < self.0[i - 1].1
    }
}

/// Finds plain URLs (`https://...`, `http://...`, `mailto:...`) in `line`,
/// returning (byte offset, url).  Used by every format; linear in the line.
pub(crate) fn plain_urls(line: &str) -> Vec<(usize, String)> {
    let bytes = line.as_bytes();
    if memchr::memmem::find(bytes, b"://").is_none()
        && memchr::memmem::find(bytes, b"mailto:").is_none()
    {
        return Vec::new();
    }
    let mut starts: Vec<usize> = ["https://", "http://", "mailto:"]
        .iter()
        .flat_map(|scheme| line.match_indices(scheme).map(|(i, _)| i))
        .filter(|&at| {
            at == 0
                || line[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| !c.is_alphanumeric())
        })
        .collect();
    starts.sort_unstable();
    let mut out = Vec::new();
    let mut consumed = 0;
    for start in starts {
        if start < consumed {
            continue;
        }
        let rest = head(&line[start..], LOOKAHEAD);
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | ']' | '[' | '`'))
            .unwrap_or(rest.len());
        let mut url = &rest[..end];
        // Trailing punctuation is prose, not URL.
        while let Some(stripped) = url.strip_suffix(['.', ',', ';', ':', '!', '?', ')', '\'']) {
            if url.ends_with(')') && url.matches('(').count() >= url.matches(')').count() {
                break;
            }
            url = stripped;
        }
        consumed = start + end;
        if url.len() > "http://".len() {
            out.push((start, url.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_paragraph_of_links_gives_each_link_the_text_around_its_own_line() {
        // 20,000 linked lines in one paragraph: each context is a window
        // around its line (this took 29 s when every context started at
        // the paragraph's first line).
        let mut org = String::from("#+title: Dense\n\n");
        for i in 0..20_000 {
            org.push_str(&format!("[[id:n{i:05}][n{i}]] x\n"));
        }
        let md = org.replace("[[id:", "[[").replace("][", "|");
        for (text, format) in [(org, Format::Org), (md, Format::Markdown)] {
            let n = parse(&text, format, "d", &ParseOptions::default());
            assert_eq!(n.links.len(), 20_000);
            let l = &n.links[12_345];
            assert_eq!((l.line, l.column), (12_348, 0));
            assert!(l.context.contains("n12345"), "{:?}: {}", format, l.context);
            assert!(l.context.chars().count() <= 401); // 400 and an ellipsis
        }
        // On one line, columns are counted on from link to link.
        let line: String = (0..5_000).map(|i| format!("é[[n{i}]] ")).collect();
        let n = parse(&line, Format::Markdown, "d", &ParseOptions::default());
        let before: usize = (0..4_000)
            .map(|j| format!("é[[n{j}]] ").chars().count())
            .sum();
        assert_eq!(n.links[4_000].column as usize, before + 1);
    }

    #[test]
    fn decode_strips_bom_and_crlf_and_keeps_invalid_bytes_as_replacements() {
        assert_eq!(decode(b"\xEF\xBB\xBFa\r\nb\rc"), "a\nb\nc");
        let t = decode(b"caf\xE9 ok");
        assert!(t.starts_with("caf"));
        assert!(t.ends_with(" ok"));
        assert!(t.contains('\u{FFFD}'));
    }

    #[test]
    fn line_ranges_cover_every_line() {
        let t = "a\nbc\n\nd";
        let r = line_ranges(t);
        let lines: Vec<&str> = r.iter().map(|&(s, e)| &t[s..e]).collect();
        assert_eq!(lines, vec!["a", "bc", "", "d"]);
        assert_eq!(line_ranges("x\n").len(), 2);
    }

    #[test]
    fn split_quoted_keeps_quoted_phrases_together() {
        assert_eq!(
            split_quoted(r#""GNU Emacs" emacs  "a \"q\"" z"#),
            vec!["GNU Emacs", "emacs", "a \"q\"", "z"]
        );
        assert!(split_quoted("   ").is_empty());
    }

    #[test]
    fn plain_urls_stop_at_prose_punctuation() {
        let found = plain_urls(
            "See https://orgmode.org/manual/Hyperlinks.html. And (http://x.org/a_(b)) too",
        );
        let urls: Vec<&str> = found.iter().map(|(_, u)| u.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "https://orgmode.org/manual/Hyperlinks.html",
                "http://x.org/a_(b)"
            ]
        );
        assert_eq!(found[0].0, 4);
        assert!(plain_urls("nohttps://x").is_empty());
    }

    #[test]
    fn spans_answer_membership() {
        let spans = Spans::new(vec![(10, 20), (0, 5), (30, 31)]);
        assert!(spans.contains(0) && spans.contains(4) && spans.contains(10) && spans.contains(30));
        assert!(
            !spans.contains(5) && !spans.contains(20) && !spans.contains(25) && !spans.contains(31)
        );
        assert!(!Spans::default().contains(0));
    }

    #[test]
    fn list_items_are_recognised() {
        assert!(is_list_item("- a"));
        assert!(is_list_item("  + b"));
        assert!(is_list_item("  * c"));
        assert!(!is_list_item("* heading"));
        assert!(is_list_item("12. twelve"));
        assert!(is_list_item("3) three"));
        assert!(!is_list_item("3.14 is pi"));
        assert!(!is_list_item("-dash"));
    }

    #[test]
    fn context_is_the_paragraph_or_list_item() {
        let t = "intro\n\nfirst line\nsecond line\n\n- item one\n  continued\n- item two\n";
        let lines = line_ranges(t);
        let never = |_: &str| false;
        assert_eq!(
            context_around(t, &lines, 3, &never),
            "first line second line"
        );
        assert_eq!(context_around(t, &lines, 6, &never), "- item one continued");
        assert_eq!(context_around(t, &lines, 7, &never), "- item two");
    }

    #[test]
    fn deep_outlines_keep_their_ends() {
        let names: Vec<String> = (1..=3000).map(|i| format!("h{i}")).collect();
        let short = outline_path(names[..3].iter().map(String::as_str), "x");
        assert_eq!(short, vec!["h1", "h2", "h3", "x"]);
        let full = outline_path(names[..11].iter().map(String::as_str), "x");
        assert_eq!(full.len(), 12);
        let deep = outline_path(names.iter().map(String::as_str), "x");
        assert_eq!(deep.len(), MAX_OUTLINE);
        assert_eq!(&deep[..3], &["h1", "h2", "…"]);
        assert_eq!(deep[MAX_OUTLINE - 2..], ["h3000", "x"]);
        assert_eq!(deep[3], "h2993");
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate_chars("héllo wörld", 5), "héllo…");
        assert_eq!(truncate_chars("short", 10), "short");
    }

    #[test]
    fn the_file_name_is_the_title_of_last_resort() {
        let n = parse("", Format::Org, "empty-note", &ParseOptions::default());
        assert_eq!(n.title, "empty-note");
        assert_eq!(n.sections.len(), 1);
        assert_eq!(n.sections[0].level, 0);
    }
}

#[cfg(test)]
mod profile {
    #[test]
    #[ignore]
    fn profile_parse() {
        let Ok(dir) = std::env::var("ARTISAN_PROFILE_DIR") else {
            return;
        };
        let mut texts = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                if p.extension().is_some_and(|e| e == "org" || e == "md") {
                    let ext = p.extension().unwrap().to_str().unwrap().to_string();
                    texts.push((super::decode(&std::fs::read(&p).unwrap()), ext));
                }
            }
        }
        let bytes: usize = texts.iter().map(|t| t.0.len()).sum();
        let t = std::time::Instant::now();
        let mut links = 0;
        for (text, ext) in &texts {
            let n = super::parse(
                text,
                super::Format::from_extension(ext),
                "x",
                &super::ParseOptions::default(),
            );
            links += n.links.len();
        }
        let el = t.elapsed();
        println!(
            "parse: {:?} for {:.1} MB = {:.1} MB/s single thread, {links} links",
            el,
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / el.as_secs_f64()
        );
    }
}
