//! Running a query: building the tantivy query from the parsed one, ranking
//! (BM25 with field boosts and a gentle recency boost), collapsing hits per
//! file, and finding the exact line, column and snippet of each hit.

use std::collections::{HashMap, HashSet};

use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::Scorer;
use tantivy::query::{
    BooleanQuery, BoostQuery, EnableScoring, FuzzyTermQuery, Occur, PhrasePrefixQuery, PhraseQuery,
    Query as TantivyQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Term, Value};
use tantivy::{DocAddress, DocSet, Searcher, TantivyDocument, TERMINATED};

use super::parse::WikiSide;
use super::query::{self, Atom, FieldName};
use super::schema::{self, Fields, KIND_FILE, KIND_SECTION};
use crate::error::{Error, Result};

/// How a search runs.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// Number of results wanted.
    pub limit: usize,
    /// At most this many results per file (0: no limit).
    pub max_per_file: usize,
    /// Now, in nanoseconds since the epoch, for the recency boost.
    pub now: i64,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Absolute file name.
    pub file: String,
    /// 1-based line of the first match (or of the heading).
    pub line: u32,
    /// 0-based column, in characters, of the first match.
    pub column: u32,
    /// The note's title.
    pub title: String,
    /// The outline path of the heading holding the match (empty for
    /// file-level text).
    pub outline: Vec<String>,
    /// The line around the match, trimmed to a window.
    pub snippet: String,
    /// Character ranges in `snippet` of the matched words.
    pub highlights: Vec<(u32, u32)>,
    /// The ranking score (higher is better).
    pub score: f32,
    /// The heading's TODO keyword.
    pub todo: Option<String>,
    /// Tags that apply at the hit.
    pub tags: Vec<String>,
    /// True when exact matching found nothing and this came from fuzzy matching.
    pub fuzzy: bool,
}

/// The fields plain words are matched in, with their boosts and whether
/// they have positions (for phrases).  File documents carry the note-level
/// fields, sections the heading and text: each word is indexed once.  The
/// scores of the fields a document matches in add up (which keeps block-max
/// WAND pruning possible), so a title outweighs a heading plus its text.
fn text_fields(f: &Fields) -> [(Field, f32, bool); 5] {
    [
        (f.title, 6.0, true),
        (f.alias, 4.0, true),
        (f.heading, 2.0, true),
        (f.body, 1.0, true),
        (f.name, 1.5, false),
    ]
}

/// How a query token matches text tokens.
#[derive(Debug, Clone, PartialEq)]
enum Mode {
    Exact,
    Prefix,
    Fuzzy(u8),
    /// The start of a word, within an edit distance (a misspelled word
    /// still being typed).
    FuzzyPrefix(u8),
}

/// The allowed edit distance for a misspelled word of `len` characters.
fn fuzzy_distance(len: usize) -> u8 {
    match len {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// What a hit is expected to contain, used to find its line and snippet:
/// single words, and phrases (tokens that must follow each other).
#[derive(Debug, Default)]
struct Matcher {
    terms: Vec<(String, Mode)>,
    phrases: Vec<Vec<(String, Mode)>>,
}

fn token_matches(token: &str, t: &str, mode: &Mode) -> bool {
    match mode {
        Mode::Exact => token == t,
        Mode::Prefix => token.starts_with(t),
        Mode::Fuzzy(d) => token == t || levenshtein_within(token, t, *d),
        Mode::FuzzyPrefix(d) => {
            let n = t.chars().count();
            let d = *d as usize;
            token.starts_with(t)
                || (n.saturating_sub(d)..=n + d).any(|k| {
                    let head: String = token.chars().take(k).collect();
                    head.chars().count() == k && levenshtein_within(&head, t, d as u8)
                })
        }
    }
}

impl Matcher {
    /// True when there are no words to look for (field-only queries).
    fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.phrases.is_empty()
    }

    /// Does `token` match one of the single words?
    fn matches(&self, token: &str) -> bool {
        self.terms
            .iter()
            .any(|(t, mode)| token_matches(token, t, mode))
    }

    /// The longest phrase.
    fn longest_phrase(&self) -> usize {
        self.phrases.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// If a phrase ends with the last token of `recent`, its length.
    fn phrase_ending(&self, recent: &[(String, usize, usize)]) -> Option<usize> {
        self.phrases
            .iter()
            .filter(|p| p.len() <= recent.len())
            .find(|p| {
                let tail = &recent[recent.len() - p.len()..];
                p.iter()
                    .zip(tail)
                    .all(|((t, mode), (token, _, _))| token_matches(token, t, mode))
            })
            .map(Vec::len)
    }

    /// How many of the words and phrases occur in `text`.
    fn distinct_units(&self, text: &str) -> usize {
        let scan = super::parse::head(text, 4 << 20);
        let keep = self.longest_phrase().max(1);
        let mut recent: Vec<(String, usize, usize)> = Vec::new();
        let mut seen_terms = vec![false; self.terms.len()];
        let mut seen_phrases = vec![false; self.phrases.len()];
        let mut analyzer = schema::text_analyzer();
        let mut stream = analyzer.token_stream(scan);
        while stream.advance() {
            let t = stream.token();
            for (i, (term, mode)) in self.terms.iter().enumerate() {
                if !seen_terms[i] && token_matches(&t.text, term, mode) {
                    seen_terms[i] = true;
                }
            }
            recent.push((t.text.clone(), t.offset_from, t.offset_to));
            if recent.len() > keep {
                recent.remove(0);
            }
            for (i, p) in self.phrases.iter().enumerate() {
                if !seen_phrases[i] && p.len() <= recent.len() {
                    let tail = &recent[recent.len() - p.len()..];
                    if p.iter()
                        .zip(tail)
                        .all(|((w, m), (tok, _, _))| token_matches(tok, w, m))
                    {
                        seen_phrases[i] = true;
                    }
                }
            }
        }
        seen_terms
            .iter()
            .chain(&seen_phrases)
            .filter(|x| **x)
            .count()
    }

    /// Byte ranges of the matches in `text`: single words, and each token of
    /// every phrase occurrence.
    fn ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let keep = self.longest_phrase().max(1);
        let mut recent: Vec<(String, usize, usize)> = Vec::new();
        let mut out: Vec<(usize, usize)> = Vec::new();
        let mut analyzer = schema::text_analyzer();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            let t = stream.token();
            recent.push((t.text.clone(), t.offset_from, t.offset_to));
            if recent.len() > keep {
                recent.remove(0);
            }
            if self.matches(&t.text) {
                out.push((t.offset_from, t.offset_to));
            } else if let Some(n) = self.phrase_ending(&recent) {
                for (_, from, to) in &recent[recent.len() - n..] {
                    if !out.contains(&(*from, *to)) {
                        out.push((*from, *to));
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }
}

/// Is the edit distance between `a` and `b` (with transpositions) at most `max`?
fn levenshtein_within(a: &str, b: &str, max: u8) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let max = max as usize;
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] <= max
}

/// The terms of the index's `field` that start with `prefix`, most frequent
/// first, at most `max`: a bounded expansion that keeps prefix queries fast.
fn expand_prefix(searcher: &Searcher, field: Field, prefix: &str, max: usize) -> Vec<String> {
    const SCAN: usize = 5000;
    let mut freq: HashMap<String, u64> = HashMap::new();
    let upper = prefix_upper_bound(prefix.as_bytes());
    for segment in searcher.segment_readers() {
        let Ok(inverted) = segment.inverted_index(field) else {
            continue;
        };
        let dict = inverted.terms();
        let mut builder = dict.range().ge(prefix.as_bytes());
        if let Some(upper) = &upper {
            builder = builder.lt(upper);
        }
        let Ok(mut stream) = builder.into_stream() else {
            continue;
        };
        let mut scanned = 0;
        while stream.advance() && scanned < SCAN {
            scanned += 1;
            if let Ok(term) = std::str::from_utf8(stream.key()) {
                *freq.entry(term.to_string()).or_default() += u64::from(stream.value().doc_freq);
            }
        }
    }
    let mut terms: Vec<(String, u64)> = freq.into_iter().collect();
    terms.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    terms.truncate(max);
    terms.into_iter().map(|(t, _)| t).collect()
}

/// The smallest byte string greater than every string starting with `prefix`.
fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut upper = prefix.to_vec();
    while let Some(last) = upper.pop() {
        if last < 0xFF {
            upper.push(last + 1);
            return Some(upper);
        }
    }
    None
}

/// One query clause under construction: the alternatives that make it match.
type Clauses = Vec<(Occur, Box<dyn TantivyQuery>)>;

/// A list of queries.
type Queries = Vec<Box<dyn TantivyQuery>>;

struct Builder<'a> {
    searcher: &'a Searcher,
    f: Fields,
    fuzzy: bool,
    matcher: Matcher,
}

impl Builder<'_> {
    fn term(&self, field: Field, text: &str) -> Box<dyn TantivyQuery> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, text),
            IndexRecordOption::WithFreqs,
        ))
    }

    fn boosted(&self, field: Field, text: &str, boost: f32) -> Box<dyn TantivyQuery> {
        if (boost - 1.0).abs() < f32::EPSILON {
            self.term(field, text)
        } else {
            Box::new(BoostQuery::new(self.term(field, text), boost))
        }
    }

    /// Adds the alternatives for one token in one field to `out`: plain
    /// boosted term queries where possible, so that tantivy can prune with
    /// block-max WAND.
    fn token_in_field(
        &self,
        out: &mut Clauses,
        field: Field,
        boost: f32,
        token: &str,
        mode: &Mode,
    ) {
        out.push((Occur::Should, self.boosted(field, token, boost)));
        match mode {
            Mode::Exact => {}
            Mode::Prefix => {
                for t in expand_prefix(self.searcher, field, token, 16) {
                    if t != token {
                        out.push((Occur::Should, self.boosted(field, &t, boost * 0.8)));
                    }
                }
            }
            Mode::Fuzzy(d) => out.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(FuzzyTermQuery::new(
                        Term::from_field_text(field, token),
                        *d,
                        true,
                    )),
                    boost * 0.7,
                )),
            )),
            Mode::FuzzyPrefix(d) => out.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(FuzzyTermQuery::new_prefix(
                        Term::from_field_text(field, token),
                        *d,
                        true,
                    )),
                    boost * 0.7,
                )),
            )),
        }
    }

    /// Adds the alternatives for tokens that must follow each other (a
    /// phrase, or a word the analyzer split) in one field.  Without
    /// positions, they must all appear.
    fn tokens_in_field(
        &self,
        out: &mut Clauses,
        field: Field,
        boost: f32,
        positions: bool,
        tokens: &[String],
        last_mode: &Mode,
    ) {
        if let [token] = tokens {
            return self.token_in_field(out, field, boost, token, last_mode);
        }
        let q: Box<dyn TantivyQuery> = if positions {
            let terms: Vec<Term> = tokens
                .iter()
                .map(|t| Term::from_field_text(field, t))
                .collect();
            if *last_mode == Mode::Prefix {
                let mut q = PhrasePrefixQuery::new(terms);
                q.set_max_expansions(16);
                Box::new(q)
            } else {
                Box::new(PhraseQuery::new(terms))
            }
        } else {
            let last = tokens.len() - 1;
            let clauses = tokens
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let mode = if i == last { last_mode } else { &Mode::Exact };
                    let mut alternatives = Vec::new();
                    self.token_in_field(&mut alternatives, field, 1.0, t, mode);
                    (
                        Occur::Must,
                        Box::new(BooleanQuery::new(alternatives)) as Box<dyn TantivyQuery>,
                    )
                })
                .collect();
            Box::new(BooleanQuery::new(clauses))
        };
        out.push((Occur::Should, Box::new(BoostQuery::new(q, boost))));
    }

    /// Text in a set of (field, boost, positions), any field matching.
    /// `located`: the words are looked for in a hit's text to find its
    /// line and snippet (words, phrases and titles; not paths).
    fn text_query(
        &mut self,
        fields: &[(Field, f32, bool)],
        text: &str,
        prefix: bool,
        phrase: bool,
        located: bool,
    ) -> Option<Clauses> {
        let tokens = schema::tokens(text);
        if tokens.is_empty() {
            return None;
        }
        let last_len = tokens.last().map_or(0, |t| t.chars().count());
        let last_mode = match (self.fuzzy && !phrase && tokens.len() == 1, prefix) {
            (true, _) if fuzzy_distance(last_len) == 0 => {
                if prefix && last_len >= 2 {
                    Mode::Prefix
                } else {
                    Mode::Exact
                }
            }
            (true, true) => Mode::FuzzyPrefix(fuzzy_distance(last_len)),
            (true, false) => Mode::Fuzzy(fuzzy_distance(last_len)),
            (false, true) if last_len >= 2 => Mode::Prefix,
            _ => Mode::Exact,
        };
        let last = tokens.len() - 1;
        let units: Vec<(String, Mode)> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mode = if i == last {
                    last_mode.clone()
                } else {
                    Mode::Exact
                };
                (t.clone(), mode)
            })
            .collect();
        if located {
            if units.len() == 1 {
                self.matcher.terms.extend(units);
            } else {
                self.matcher.phrases.push(units);
            }
        }
        let mut out = Vec::new();
        for &(field, boost, positions) in fields {
            self.tokens_in_field(&mut out, field, boost, positions, &tokens, &last_mode);
        }
        Some(out)
    }

    /// One atom of the parsed query, or None when it analyzes to nothing.
    fn atom(&mut self, atom: &Atom, positive: bool) -> Option<Box<dyn TantivyQuery>> {
        let f = self.f;
        let saved = (self.matcher.terms.len(), self.matcher.phrases.len());
        let q: Option<Box<dyn TantivyQuery>> = match atom {
            Atom::Word { text, prefix } => {
                let mut clauses = self.text_query(&text_fields(&f), text, *prefix, false, true)?;
                // A word also matches a tag of the note.
                let tag = schema::fold_keyword(text);
                if !tag.is_empty() {
                    clauses.push((Occur::Should, self.boosted(f.note_tag, &tag, 1.5)));
                }
                Some(Box::new(BooleanQuery::new(clauses)))
            }
            Atom::Phrase(text) => self
                .text_query(&text_fields(&f), text, false, true, true)
                .map(|c| Box::new(BooleanQuery::new(c)) as Box<dyn TantivyQuery>),
            Atom::Field {
                field,
                value,
                prefix,
            } => match field {
                FieldName::Title => self
                    .text_query(
                        &[
                            (f.title, 1.0, true),
                            (f.note_title, 1.0, true),
                            (f.alias, 1.0, true),
                        ],
                        value,
                        *prefix,
                        false,
                        true,
                    )
                    .map(|c| Box::new(BooleanQuery::new(c)) as Box<dyn TantivyQuery>),
                FieldName::Path => self
                    .text_query(&[(f.path_text, 1.0, false)], value, *prefix, false, false)
                    .map(|c| Box::new(BooleanQuery::new(c)) as Box<dyn TantivyQuery>),
                // An excluded tag or ID leaves out everything it applies
                // to: a file tag or ID the whole note, a heading's its subtree.
                FieldName::Tag if !positive => {
                    Some(self.term(f.scope_tag, &schema::fold_keyword(value)))
                }
                FieldName::Id if !positive => Some(self.term(f.scope_id, value.trim())),
                FieldName::Tag => {
                    let tag = schema::fold_keyword(value);
                    if *prefix && !tag.is_empty() {
                        let mut clauses = Vec::new();
                        self.token_in_field(&mut clauses, f.tag, 1.0, &tag, &Mode::Prefix);
                        Some(Box::new(BooleanQuery::new(clauses)) as Box<dyn TantivyQuery>)
                    } else {
                        Some(self.term(f.tag, &tag))
                    }
                }
                FieldName::Todo => Some(self.term(f.todo, &schema::fold_keyword(value))),
                FieldName::Ext => {
                    Some(self.term(f.ext, &value.trim_start_matches('.').to_ascii_lowercase()))
                }
                FieldName::Id => {
                    let id = value.trim();
                    if *prefix && !id.is_empty() {
                        // An ID being typed: the IDs it starts.
                        let mut clauses = Vec::new();
                        self.token_in_field(&mut clauses, f.id, 1.0, id, &Mode::Prefix);
                        Some(Box::new(BooleanQuery::new(clauses)) as Box<dyn TantivyQuery>)
                    } else {
                        Some(self.term(f.id, id))
                    }
                }
            },
        };
        if !positive {
            self.matcher.terms.truncate(saved.0);
            self.matcher.phrases.truncate(saved.1);
        }
        q
    }

    /// The query of each required group (an OR of its atoms) and of each
    /// excluded atom.
    fn groups(&mut self, parsed: &query::Query) -> (Queries, Queries) {
        let mut required = Vec::new();
        for group in &parsed.required {
            let mut alternatives: Vec<Box<dyn TantivyQuery>> = Vec::new();
            for atom in group {
                if let Some(q) = self.atom(atom, true) {
                    alternatives.push(q);
                }
            }
            match alternatives.len() {
                0 => {}
                1 => required.extend(alternatives),
                _ => required.push(Box::new(BooleanQuery::new(
                    alternatives
                        .into_iter()
                        .map(|q| (Occur::Should, q))
                        .collect(),
                ))),
            }
        }
        let excluded = parsed
            .excluded
            .iter()
            .filter_map(|atom| self.atom(atom, false))
            .collect();
        (required, excluded)
    }
}

/// All `required` must match and no `excluded` may, in one document.
fn conjunction(
    required: &[Box<dyn TantivyQuery>],
    excluded: &[Box<dyn TantivyQuery>],
    extra: Option<Box<dyn TantivyQuery>>,
) -> Box<dyn TantivyQuery> {
    if required.len() == 1 && excluded.is_empty() && extra.is_none() {
        return required[0].box_clone();
    }
    let mut clauses: Clauses = required
        .iter()
        .map(|q| (Occur::Must, q.box_clone()))
        .collect();
    clauses.extend(extra.map(|q| (Occur::Must, q)));
    clauses.extend(excluded.iter().map(|q| (Occur::MustNot, q.box_clone())));
    Box::new(BooleanQuery::new(clauses))
}

/// A gentle boost for recently modified notes: up to +15% today, halving
/// every 30 days.
fn recency(now: i64, mtime: i64) -> f32 {
    let days = ((now - mtime).max(0) as f64) / 86_400e9;
    (1.0 + 0.15 * 0.5f64.powf(days / 30.0)) as f32
}

/// A stored document's fields, as needed to report a hit.
struct Stored {
    path: String,
    title: String,
    outline: Vec<String>,
    body: String,
    body_line: u32,
    line: u32,
    /// Column of the title in its line, when the title is written there.
    title_column: Option<u32>,
    todo: Option<String>,
    tags: Vec<String>,
}

fn stored(searcher: &Searcher, f: &Fields, address: DocAddress) -> Result<Stored> {
    let doc: TantivyDocument = searcher.doc(address).map_err(read_error)?;
    let text = |field: Field| {
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let number = |field: Field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
    let all = |field: Field| -> Vec<String> {
        doc.get_all(field)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let todo = text(f.todo_raw);
    let title = text(f.title);
    Ok(Stored {
        path: text(f.path),
        title: if title.is_empty() {
            text(f.note_title)
        } else {
            title
        },
        outline: all(f.outline),
        body: text(f.body),
        body_line: u32::try_from(number(f.body_line)).unwrap_or(1).max(1),
        line: u32::try_from(number(f.line)).unwrap_or(1).max(1),
        title_column: doc
            .get_first(f.title_column)
            .and_then(|v| v.as_u64())
            .and_then(|c| u32::try_from(c).ok()),
        todo: (!todo.is_empty()).then_some(todo),
        tags: all(f.all_tags),
    })
}

/// Where a match is: (line, column, snippet, highlights).
type Located = (u32, u32, String, Vec<(u32, u32)>);

/// Where the first match is in a body.  `markup` is how the note is
/// written, for showing its line as text (see [`shown`]).
fn locate(body: &str, body_line: u32, matcher: &Matcher, markup: Markup) -> Option<Located> {
    // Bound the work on huge sections: matches beyond 4 MB are not located.
    let scan = super::parse::head(body, 4 << 20);
    let keep = matcher.longest_phrase().max(1);
    let mut recent: Vec<(String, usize, usize)> = Vec::new();
    let mut analyzer = schema::text_analyzer();
    let mut stream = analyzer.token_stream(scan);
    let mut first = None;
    while stream.advance() {
        let t = stream.token();
        if matcher.matches(&t.text) {
            first = Some(t.offset_from);
            break;
        }
        recent.push((t.text.clone(), t.offset_from, t.offset_to));
        if recent.len() > keep {
            recent.remove(0);
        }
        if let Some(n) = matcher.phrase_ending(&recent) {
            first = Some(recent[recent.len() - n].1);
            break;
        }
    }
    let at = first?;
    let line_start = scan[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = scan[at..].find('\n').map_or(scan.len(), |i| at + i);
    let line_no = body_line + u32::try_from(scan[..line_start].matches('\n').count()).unwrap_or(0);
    let column = super::parse::char_count(&scan[line_start..at]);
    let (snippet, highlights) = snippet(
        &scan[line_start..line_end],
        at - line_start,
        matcher,
        markup,
    );
    Some((line_no, column, snippet, highlights))
}

/// A window of `line` around byte `at`, shown as text (links as their
/// labels, see [`shown`]), with the matched words' character ranges in it.
fn snippet(line: &str, at: usize, matcher: &Matcher, markup: Markup) -> (String, Vec<(u32, u32)>) {
    // Only a stretch of a long line around the match is cleaned: enough for
    // the window, and for link targets it hides.
    const AROUND_BEFORE: usize = 1024;
    const AROUND_AFTER: usize = 2048;
    let from = floor_boundary(line, at.saturating_sub(AROUND_BEFORE));
    let to = floor_boundary(line, at.saturating_add(AROUND_AFTER).min(line.len()));
    let region = &line[from..to];
    let at = at - from;
    match shown(region, markup, matcher) {
        Some(s) => {
            let at = s.position(at);
            window(&s.text, at, matcher, from > 0, to < line.len())
        }
        None => window(region, at, matcher, from > 0, to < line.len()),
    }
}

/// The largest character boundary of `s` at or before byte `i`.
fn floor_boundary(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A window of the text `line` around byte `at`, with the matched words'
/// character ranges; `cut_before` and `cut_after` say that `line` is
/// itself a part of a longer line.
fn window(
    line: &str,
    at: usize,
    matcher: &Matcher,
    cut_before: bool,
    cut_after: bool,
) -> (String, Vec<(u32, u32)>) {
    const BEFORE: usize = 40;
    const WIDTH: usize = 160;
    let at = floor_boundary(line, at);
    // Window start: up to BEFORE characters before the match, at a char boundary.
    let chars_before = line[..at].chars().count();
    let skip = chars_before.saturating_sub(BEFORE);
    let start = if skip == 0 {
        if cut_before {
            0
        } else {
            (line.len() - line.trim_start().len()).min(at)
        }
    } else {
        line.char_indices().nth(skip).map_or(0, |(i, _)| i)
    };
    let end = line[start..]
        .char_indices()
        .nth(WIDTH)
        .map_or(line.len(), |(i, _)| start + i);
    let window = &line[start..end];
    let mut text = String::new();
    let lead = if skip > 0 || cut_before { "…" } else { "" };
    text.push_str(lead);
    let lead_chars = lead.chars().count() as u32;
    text.push_str(window.trim_end());
    if end < line.len() || cut_after {
        text.push('…');
    }
    let highlights = matcher
        .ranges(window)
        .into_iter()
        .map(|(a, b)| {
            let from = lead_chars + super::parse::char_count(&window[..a]);
            (from, from + super::parse::char_count(&window[a..b]))
        })
        .collect();
    (text, highlights)
}

/// How a note is written, for showing its lines as text in snippets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Markup {
    Org,
    Markdown,
    /// Text and code: shown as written.
    Plain,
}

impl Markup {
    /// The markup of the file `path`, from its extension.
    fn of(path: &str) -> Markup {
        match std::path::Path::new(path)
            .extension()
            .and_then(|e| e.to_str())
        {
            Some(e) if e.eq_ignore_ascii_case("org") => Markup::Org,
            Some(e) if e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown") => {
                Markup::Markdown
            }
            _ => Markup::Plain,
        }
    }
}

/// A line as a snippet shows it, with the way back from a byte of the line
/// to its place in the text.
#[derive(Debug, Default)]
struct Shown {
    text: String,
    /// (byte of the line, byte of `text`, copied), in the line's order:
    /// from that byte on, up to the next mark, the line is either copied
    /// byte for byte, or replaced (all of it shows at the mark's place).
    marks: Vec<(usize, usize, bool)>,
}

impl Shown {
    /// Shows the bytes `from..to` of `line` as they are.
    fn copy(&mut self, line: &str, from: usize, to: usize) {
        if from < to {
            self.marks.push((from, self.text.len(), true));
            self.text.push_str(&line[from..to]);
        }
    }

    /// Shows `with` in place of the line's bytes from `from` up to the next mark.
    fn replace(&mut self, from: usize, with: &str) {
        self.marks.push((from, self.text.len(), false));
        self.text.push_str(with);
    }

    /// Where byte `at` of the line is in the text.
    fn position(&self, at: usize) -> usize {
        let i = self.marks.partition_point(|m| m.0 <= at);
        match i.checked_sub(1).and_then(|i| self.marks.get(i)) {
            Some(&(from, out, true)) => (out + (at - from)).min(self.text.len()),
            Some(&(_, out, false)) => out,
            None => 0,
        }
    }
}

/// `line` as a snippet shows it, or None when it shows as written: links
/// as their labels (Org `[[target][description]]` as the description,
/// `[[target]]` as the target; Markdown `[text](url)` as the text and
/// `[[a|b]]` as the side that reads as prose), and Org keyword lines
/// without their `#+` (`#+filetags: :a:b:` as `tags: a b`).  A link whose
/// hidden target holds a match that its label does not stays as written,
/// so that the snippet still shows why it matched.  Cheap: a line without
/// `[` (and not an Org keyword line) is not copied at all.
fn shown(line: &str, markup: Markup, matcher: &Matcher) -> Option<Shown> {
    let keyword = match markup {
        Markup::Plain => return None,
        Markup::Org => org_keyword(line),
        Markup::Markdown => None,
    };
    if keyword.is_none() && memchr::memchr(b'[', line.as_bytes()).is_none() {
        return None;
    }
    let mut s = Shown::default();
    let mut from = 0;
    if let Some((value, name)) = keyword {
        match name {
            Some(name) => s.replace(0, &format!("{name}: ")),
            None => s.replace(0, ""),
        }
        if name == Some("tags") {
            // :a:b: reads as "a b".
            let mut end = value;
            let mut first = true;
            let mut offset = value;
            for part in line[value..].split(':') {
                let start = offset + (part.len() - part.trim_start().len());
                offset += part.len() + 1;
                let tag = part.trim();
                if tag.is_empty() {
                    continue;
                }
                s.replace(end, if first { "" } else { " " });
                s.copy(line, start, start + tag.len());
                end = start + tag.len();
                first = false;
            }
            s.replace(end, "");
            return Some(s);
        }
        from = value;
    }
    let bytes = line.as_bytes();
    // Byte ranges of the matches in the line, found when a link could hide one.
    let mut matches: Option<Vec<(usize, usize)>> = None;
    let mut copied = from;
    let mut i = from;
    while let Some(rel) = memchr::memchr(b'[', bytes.get(i..).unwrap_or_default()) {
        let open = i + rel;
        let Some(link) = link_at(line, open, markup) else {
            i = open + 1;
            continue;
        };
        i = link.end;
        if let Some((a, b)) = link.hidden {
            let ranges = matches.get_or_insert_with(|| matcher.ranges(line));
            let overlaps = |(x, y): (usize, usize)| ranges.iter().any(|&(p, q)| p < y && q > x);
            if overlaps((a, b)) && !overlaps(link.label) {
                continue;
            }
        }
        if link.start < copied {
            continue;
        }
        s.copy(line, copied, link.start);
        s.replace(link.start, "");
        s.copy(line, link.label.0, link.label.1);
        s.replace(link.label.1, "");
        copied = link.end;
    }
    s.copy(line, copied, line.len());
    Some(s)
}

/// A link in a line, as [`shown`] reads it.
#[derive(Debug, PartialEq)]
struct LinkSpan {
    /// Its first byte (a Markdown image's `!`).
    start: usize,
    /// The byte after it.
    end: usize,
    /// The bytes shown in its place.
    label: (usize, usize),
    /// The bytes of its target, when they are not the label.
    hidden: Option<(usize, usize)>,
}

/// The index of the `close` byte matching the `open` byte at `from`
/// (nested pairs counted), looking no further than `limit`.
fn matching(bytes: &[u8], from: usize, limit: usize, open: u8, close: u8) -> Option<usize> {
    let mut depth = 0usize;
    for (j, &b) in bytes.iter().enumerate().take(limit).skip(from) {
        if b == open {
            depth += 1;
        } else if b == close {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(j);
            }
        }
    }
    None
}

/// The link opening at `line[open] == '['`, if there is one.
fn link_at(line: &str, open: usize, markup: Markup) -> Option<LinkSpan> {
    use super::parse::{head, LOOKAHEAD};
    let trimmed = |(a, b): (usize, usize)| {
        let s = &line[a..b];
        let a2 = a + (s.len() - s.trim_start().len());
        (a2, a2 + s.trim().len())
    };
    let rest = line.get(open..)?;
    if let Some(after) = rest.strip_prefix("[[") {
        let inner_start = open + 2;
        let close = head(after, LOOKAHEAD).find("]]")?;
        let inner_end = inner_start + close;
        let inner = &line[inner_start..inner_end];
        if inner.trim().is_empty() || inner.contains("[[") {
            return None;
        }
        let end = inner_end + 2;
        return Some(match markup {
            Markup::Org => match inner.find("][") {
                Some(sep) if !inner[sep + 2..].trim().is_empty() => LinkSpan {
                    start: open,
                    end,
                    label: trimmed((inner_start + sep + 2, inner_end)),
                    hidden: Some((inner_start, inner_start + sep)),
                },
                Some(sep) => LinkSpan {
                    start: open,
                    end,
                    label: trimmed((inner_start, inner_start + sep)),
                    hidden: None,
                },
                None => LinkSpan {
                    start: open,
                    end,
                    label: trimmed((inner_start, inner_end)),
                    hidden: None,
                },
            },
            _ => {
                let start = if open > 0 && line.as_bytes()[open - 1] == b'!' {
                    open - 1
                } else {
                    open
                };
                match inner.split_once('|') {
                    Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
                        let sep = inner_start + a.len();
                        let left = trimmed((inner_start, sep));
                        let right = trimmed((sep + 1, inner_end));
                        // Dendron writes [[label|note]], Obsidian [[note|label]]:
                        // show the side that reads as prose.
                        let name_like =
                            |(x, y): (usize, usize)| WikiSide::parse(&line[x..y]).is_name_like();
                        let (label, hidden) = if name_like(right) && !name_like(left) {
                            (left, right)
                        } else {
                            (right, left)
                        };
                        LinkSpan {
                            start,
                            end,
                            label,
                            hidden: Some(hidden),
                        }
                    }
                    _ => {
                        let bare = inner.trim().trim_matches('|');
                        let at = inner_start + inner.find(bare).unwrap_or(0);
                        LinkSpan {
                            start,
                            end,
                            label: (at, at + bare.len()),
                            hidden: None,
                        }
                    }
                }
            }
        });
    }
    if markup != Markup::Markdown {
        return None;
    }
    // [text](url), ![alt](url): the matching ] and ).
    let bytes = line.as_bytes();
    let limit = (open + LOOKAHEAD).min(bytes.len());
    let close = matching(bytes, open, limit, b'[', b']')?;
    if bytes.get(close + 1) != Some(&b'(') {
        return None;
    }
    let url_end = matching(bytes, close + 1, limit, b'(', b')')?;
    let start = if open > 0 && bytes[open - 1] == b'!' {
        open - 1
    } else {
        open
    };
    let label = trimmed((open + 1, close));
    let url = trimmed((close + 2, url_end));
    Some(if label.0 == label.1 {
        LinkSpan {
            start,
            end: url_end + 1,
            label: url,
            hidden: None,
        }
    } else {
        LinkSpan {
            start,
            end: url_end + 1,
            label,
            hidden: Some(url),
        }
    })
}

/// An Org keyword line (`#+key: value`): the byte where its value starts,
/// and the name it is shown with (None for the title, shown alone; tags
/// as `tags`).
fn org_keyword(line: &str) -> Option<(usize, Option<&str>)> {
    let lead = line.len() - line.trim_start().len();
    let rest = line[lead..].strip_prefix("#+")?;
    let colon = rest.find(':')?;
    let key = &rest[..colon];
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return None;
    }
    let after = &rest[colon + 1..];
    let value = lead + 2 + colon + 1 + (after.len() - after.trim_start().len());
    let name = match key.to_ascii_lowercase().as_str() {
        "title" => None,
        "filetags" | "roam_tags" => Some("tags"),
        "roam_aliases" => Some("aliases"),
        _ => Some(key),
    };
    Some((value, name))
}

/// Runs `text` against the index read by `searcher`.
pub fn search(
    searcher: &Searcher,
    f: &Fields,
    text: &str,
    options: &SearchOptions,
) -> Result<Vec<Hit>> {
    let parsed = query::parse(text)?;
    if parsed.is_empty() || options.limit == 0 {
        return Ok(Vec::new());
    }
    let wordless = |a: &Atom| match a {
        Atom::Word { text, .. } | Atom::Phrase(text) => schema::tokens(text).is_empty(),
        Atom::Field { .. } => false,
    };
    if parsed.required.iter().flatten().all(wordless) {
        return Err(Error::query(
            "The query has no words to search for: punctuation is not indexed (letters, digits, c++ and c#, and emoji are)",
        ));
    }
    let exact = run(searcher, f, &parsed, options, false)?;
    if !exact.is_empty() {
        return Ok(exact);
    }
    run(searcher, f, &parsed, options, true)
}

/// Per-segment fast-field readers for kind, path and mtime.
struct Columns {
    kind: Vec<Option<tantivy::columnar::Column<u64>>>,
    path: Vec<Option<tantivy::columnar::StrColumn>>,
    mtime: Vec<Option<tantivy::columnar::Column<i64>>>,
}

impl Columns {
    fn new(searcher: &Searcher) -> Columns {
        let readers = searcher.segment_readers();
        Columns {
            kind: readers
                .iter()
                .map(|r| r.fast_fields().u64("kind").ok())
                .collect(),
            path: readers
                .iter()
                .map(|r| r.fast_fields().str("path").ok().flatten())
                .collect(),
            mtime: readers
                .iter()
                .map(|r| r.fast_fields().i64("mtime").ok())
                .collect(),
        }
    }

    fn kind(&self, a: DocAddress) -> u64 {
        self.kind
            .get(a.segment_ord as usize)
            .and_then(|c| c.as_ref())
            .and_then(|c| c.first(a.doc_id))
            .unwrap_or(KIND_SECTION)
    }

    fn mtime(&self, a: DocAddress) -> i64 {
        self.mtime
            .get(a.segment_ord as usize)
            .and_then(|c| c.as_ref())
            .and_then(|c| c.first(a.doc_id))
            .unwrap_or(0)
    }

    fn path(&self, a: DocAddress) -> String {
        let mut out = String::new();
        if let Some(column) = self
            .path
            .get(a.segment_ord as usize)
            .and_then(|c| c.as_ref())
        {
            if let Some(ord) = column.ords().first(a.doc_id) {
                let _ = column.ord_to_str(ord, &mut out);
            }
        }
        out
    }
}

/// A failure to read the index while searching: its files are damaged.
pub fn read_error(e: impl std::fmt::Display) -> Error {
    Error::index(format!(
        "The index cannot be read ({e}); rebuild it with M-x artisan-index-rebuild"
    ))
}

/// The hits of a search as they are collected, best first.
struct Collected {
    hits: Vec<Hit>,
    per_file: HashMap<String, usize>,
    files_shown: HashSet<String>,
    places: HashSet<(String, u32)>,
}

impl Collected {
    /// Adds `hit` unless its place is already shown: a note hit placed on
    /// a line a section hit already shows (or the reverse) is the same result.
    fn push(&mut self, hit: Hit) {
        if self.places.insert((hit.file.clone(), hit.line)) {
            self.hits.push(hit);
        }
    }
}

fn run(
    searcher: &Searcher,
    f: &Fields,
    parsed: &query::Query,
    options: &SearchOptions,
    fuzzy: bool,
) -> Result<Vec<Hit>> {
    let mut builder = Builder {
        searcher,
        f: *f,
        fuzzy,
        matcher: Matcher::default(),
    };
    let (required, excluded) = builder.groups(parsed);
    if required.is_empty() {
        return Ok(Vec::new());
    }
    let matcher = builder.matcher;
    // Only filters on what belongs to a note as a whole (title:, path:,
    // ext:): each note once, not each of its sections.
    let notes_only = parsed.required.iter().flatten().all(|a| {
        matches!(
            a,
            Atom::Field {
                field: FieldName::Title | FieldName::Path | FieldName::Ext,
                ..
            }
        )
    });
    let files = notes_only.then(|| {
        Box::new(TermQuery::new(
            Term::from_field_u64(f.kind, KIND_FILE),
            IndexRecordOption::Basic,
        )) as Box<dyn TantivyQuery>
    });
    let query = conjunction(&required, &excluded, files);
    let columns = Columns::new(searcher);
    // Queries on heading attributes (tag:, todo:, id:) with no words land
    // on each matching heading.
    let on_headings = matcher.is_empty();

    // Documents holding every word, best first by BM25 (pruned with
    // block-max WAND) with a gentle recency boost, fetched in growing
    // batches until the per-file cap leaves `limit` results or none are left.
    let mut collected = Collected {
        hits: Vec::new(),
        per_file: HashMap::new(),
        files_shown: HashSet::new(),
        places: HashSet::new(),
    };
    let mut offset = 0;
    let mut batch = options.limit.saturating_mul(2).saturating_add(10);
    loop {
        let top = searcher
            .search(
                query.as_ref(),
                &TopDocs::with_limit(batch)
                    .and_offset(offset)
                    .order_by_score(),
            )
            .map_err(read_error)?;
        let fetched = top.len();
        let mut ranked: Vec<(f32, DocAddress, u64, String)> = top
            .into_iter()
            .map(|(score, a)| {
                (
                    score * recency(options.now, columns.mtime(a)),
                    a,
                    columns.kind(a),
                    columns.path(a),
                )
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (score, address, kind, path) in ranked {
            if collected.hits.len() >= options.limit {
                break;
            }
            let count = collected.per_file.entry(path.clone()).or_default();
            if options.max_per_file > 0 && *count >= options.max_per_file {
                continue;
            }
            // A file document is the note as a whole (a title, alias, name or
            // tag match): shown once, and not after its sections.
            if kind == KIND_FILE && collected.files_shown.contains(&path) {
                continue;
            }
            collected.files_shown.insert(path);
            *count += 1;
            let d = stored(searcher, f, address)?;
            let hit = if kind == KIND_FILE {
                file_hit(searcher, f, d, score, &matcher, fuzzy)?
            } else {
                section_at_match(d, score, &matcher, on_headings, fuzzy)
            };
            collected.push(hit);
        }
        if collected.hits.len() >= options.limit || fetched < batch {
            break;
        }
        offset += fetched;
        batch = batch.saturating_mul(4);
    }
    let mut hits = collected.hits;

    // Notes whose words are spread over several of their documents (a
    // word in the title, another in a section; words in two sections):
    // after the notes with a section holding them all, best first.
    if hits.len() < options.limit && required.len() > 1 {
        let found: HashSet<u64> = hits.iter().map(|h| schema::file_key(&h.file)).collect();
        let mut notes = spread(searcher, &required, &excluded, &found)?;
        for n in &mut notes {
            n.score *= recency(options.now, columns.mtime(n.any));
        }
        notes.sort_by(|a, b| b.score.total_cmp(&a.score));
        notes.truncate(options.limit - hits.len());
        // Scores stay in order: the best spread note scores at most what
        // the last direct hit does.
        let scale = match (hits.last(), notes.first()) {
            (Some(last), Some(best)) if best.score > last.score && best.score > 0.0 => {
                last.score / best.score
            }
            _ => 1.0,
        };
        for n in notes {
            let score = n.score * scale;
            let hit = match n.section {
                Some((_, address)) => {
                    section_at_match(stored(searcher, f, address)?, score, &matcher, false, fuzzy)
                }
                None => file_hit(
                    searcher,
                    f,
                    stored(searcher, f, n.any)?,
                    score,
                    &matcher,
                    fuzzy,
                )?,
            };
            hits.push(hit);
        }
    }
    Ok(hits)
}

/// A hit on a section: at the first match in its text, or on its heading
/// line when there is none to find (or `on_heading`).
fn section_at_match(
    d: Stored,
    score: f32,
    matcher: &Matcher,
    on_heading: bool,
    fuzzy: bool,
) -> Hit {
    let located = if on_heading {
        None
    } else {
        locate(&d.body, d.body_line, matcher, Markup::of(&d.path))
    };
    match located {
        Some(located) => section_hit(d, score, located, fuzzy),
        None => {
            let first = d.body.lines().next().unwrap_or("");
            let first = super::parse::head(first, 4096);
            let shown = shown(first, Markup::of(&d.path), matcher);
            let first = shown.as_ref().map_or(first, |s| s.text.as_str());
            let snippet = super::parse::truncate_chars(first.trim(), 160);
            let line = d.line;
            section_hit(d, score, (line, 0, snippet, Vec::new()), fuzzy)
        }
    }
}

/// A note matched by the query as a whole, though by none of its
/// documents alone.
struct SpreadNote {
    /// The sum over the query's groups of the note's best score for each.
    score: f32,
    /// One of its matching documents.
    any: DocAddress,
    /// Its best-scoring matching section, where the hit lands.
    section: Option<(f32, DocAddress)>,
}

/// The notes (not in `found`) where each `required` query matches some
/// document of the note that no `excluded` query matches, every one of
/// them, with their scores.  Each query's matching documents are read once,
/// rarest query first: its notes are the candidates, the others narrow
/// them down.
fn spread(
    searcher: &Searcher,
    required: &[Box<dyn TantivyQuery>],
    excluded: &[Box<dyn TantivyQuery>],
    found: &HashSet<u64>,
) -> Result<Vec<SpreadNote>> {
    let scoring = EnableScoring::enabled_from_searcher(searcher);
    let readers = searcher.segment_readers();
    // Each query's scorer on each segment, with an estimate of its matches.
    let mut groups: Vec<(u64, Vec<Box<dyn Scorer>>)> = Vec::with_capacity(required.len());
    for q in required {
        let q = conjunction(std::slice::from_ref(q), excluded, None);
        let weight = q.weight(scoring).map_err(read_error)?;
        let mut scorers = Vec::with_capacity(readers.len());
        let mut estimate = 0u64;
        let mut empty = true;
        for reader in readers {
            let scorer = weight.scorer(reader, 1.0).map_err(read_error)?;
            // A scorer starts on its first match (size hints are estimates).
            empty &= scorer.doc() == TERMINATED;
            estimate += u64::from(scorer.size_hint());
            scorers.push(scorer);
        }
        if empty {
            // Nothing matches this query: no note matches them all.
            return Ok(Vec::new());
        }
        groups.push((estimate, scorers));
    }
    groups.sort_by_key(|(estimate, _)| *estimate);
    let mut notes: HashMap<u64, SpreadNote> = HashMap::new();
    for (round, (_, scorers)) in groups.iter_mut().enumerate() {
        // File key -> the note's best score for this query, and where.
        let mut best: HashMap<u64, SpreadNote> = HashMap::new();
        for ((segment_ord, reader), scorer) in (0u32..).zip(readers).zip(scorers.iter_mut()) {
            let fast = reader.fast_fields();
            let keys = fast.u64("file").map_err(read_error)?;
            let kinds = fast.u64("kind").map_err(read_error)?;
            let alive = reader.alive_bitset();
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                let wanted = if alive.is_some_and(|a| a.is_deleted(doc)) {
                    None
                } else {
                    keys.first(doc).filter(|key| {
                        if round == 0 {
                            !found.contains(key)
                        } else {
                            notes.contains_key(key)
                        }
                    })
                };
                if let Some(key) = wanted {
                    let score = scorer.score();
                    let address = DocAddress::new(segment_ord, doc);
                    let e = best.entry(key).or_insert(SpreadNote {
                        score: f32::MIN,
                        any: address,
                        section: None,
                    });
                    if score > e.score {
                        e.score = score;
                        e.any = address;
                    }
                    if kinds.first(doc) == Some(KIND_SECTION)
                        && e.section.is_none_or(|(s, _)| score > s)
                    {
                        e.section = Some((score, address));
                    }
                }
                doc = scorer.advance();
            }
        }
        if round == 0 {
            notes = best;
        } else {
            notes.retain(|key, n| match best.get(key) {
                Some(b) => {
                    n.score += b.score;
                    if let Some((s, a)) = b.section {
                        if n.section.is_none_or(|(t, _)| s > t) {
                            n.section = Some((s, a));
                        }
                    }
                    true
                }
                None => false,
            });
        }
        if notes.is_empty() {
            break;
        }
    }
    Ok(notes.into_values().collect())
}

/// The preamble section (the text before the first heading) of `path`.
fn preamble(searcher: &Searcher, f: &Fields, path: &str) -> Result<Option<Stored>> {
    let query = BooleanQuery::new(vec![
        (
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(f.path, path),
                IndexRecordOption::Basic,
            )) as Box<dyn TantivyQuery>,
        ),
        (
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_u64(f.kind, KIND_SECTION),
                IndexRecordOption::Basic,
            )),
        ),
        (
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_u64(f.level, 0),
                IndexRecordOption::Basic,
            )),
        ),
    ]);
    let found = searcher
        .search(&query, &DocSetCollector)
        .map_err(read_error)?;
    match found.into_iter().next() {
        Some(a) => Ok(Some(stored(searcher, f, a)?)),
        None => Ok(None),
    }
}

fn section_hit(d: Stored, score: f32, located: Located, fuzzy: bool) -> Hit {
    let (line, column, snippet, highlights) = located;
    Hit {
        file: d.path,
        line,
        column,
        title: d.title,
        outline: d.outline,
        snippet,
        highlights,
        score,
        todo: d.todo,
        tags: d.tags,
        fuzzy,
    }
}

/// A hit on a note as a whole.  When the title holds a query word, it is
/// the title line; otherwise the section holding the most of the query's
/// words (the first such), or the title line when none does.
fn file_hit(
    searcher: &Searcher,
    f: &Fields,
    d: Stored,
    score: f32,
    matcher: &Matcher,
    fuzzy: bool,
) -> Result<Hit> {
    let title_ranges = matcher.ranges(&d.title);
    if !title_ranges.is_empty() {
        // The title line is in the preamble (#+title, a text note's first
        // line): land on the match there when it is.
        if let Some(p) = preamble(searcher, f, &d.path)? {
            if let Some((line, column, snippet, highlights)) =
                locate(&p.body, p.body_line, matcher, Markup::of(&p.path))
            {
                if line == d.line {
                    return Ok(Hit {
                        file: d.path,
                        line,
                        column,
                        title: d.title,
                        outline: Vec::new(),
                        snippet,
                        highlights,
                        score,
                        todo: None,
                        tags: d.tags,
                        fuzzy,
                    });
                }
            }
        }
        let highlights: Vec<(u32, u32)> = title_ranges
            .into_iter()
            .map(|(a, b)| {
                let from = super::parse::char_count(&d.title[..a]);
                (from, from + super::parse::char_count(&d.title[a..b]))
            })
            .collect();
        // The title outside the text (Markdown front matter): on the
        // matched word of its line.
        let column = d
            .title_column
            .map_or(0, |c| c + highlights.first().map_or(0, |h| h.0));
        return Ok(Hit {
            file: d.path,
            line: d.line,
            column,
            title: d.title.clone(),
            outline: Vec::new(),
            snippet: d.title,
            highlights,
            score,
            todo: None,
            tags: d.tags,
            fuzzy,
        });
    }
    let query = BooleanQuery::new(vec![
        (
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(f.path, &d.path),
                IndexRecordOption::Basic,
            )) as Box<dyn TantivyQuery>,
        ),
        (
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_u64(f.kind, KIND_SECTION),
                IndexRecordOption::Basic,
            )),
        ),
    ]);
    let addresses = searcher
        .search(&query, &DocSetCollector)
        .map_err(read_error)?;
    let mut sections = Vec::with_capacity(addresses.len());
    for a in addresses {
        sections.push(stored(searcher, f, a)?);
    }
    sections.sort_by_key(|s| s.body_line);
    let mut best: Option<(usize, Stored)> = None;
    for s in sections {
        let n = matcher.distinct_units(&s.body);
        if n > 0 && best.as_ref().is_none_or(|(m, _)| n > *m) {
            best = Some((n, s));
        }
    }
    if let Some((_, s)) = best {
        if let Some((line, column, snippet, highlights)) =
            locate(&s.body, s.body_line, matcher, Markup::of(&s.path))
        {
            return Ok(Hit {
                file: d.path,
                line,
                column,
                title: d.title,
                outline: s.outline,
                snippet,
                highlights,
                score,
                todo: s.todo,
                tags: s.tags,
                fuzzy,
            });
        }
    }
    Ok(Hit {
        file: d.path,
        line: d.line,
        column: d.title_column.unwrap_or(0),
        title: d.title.clone(),
        outline: Vec::new(),
        snippet: d.title,
        highlights: Vec::new(),
        score,
        todo: None,
        tags: d.tags,
        fuzzy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_with_transpositions() {
        assert!(levenshtein_within("emacs", "emcas", 1));
        assert!(levenshtein_within("vertico", "vertigo", 1));
        assert!(!levenshtein_within("vertico", "vortigo", 1));
        assert!(levenshtein_within("vertico", "vortigo", 2));
        assert!(!levenshtein_within("a", "abcd", 2));
    }

    #[test]
    fn fuzzy_prefixes_match_the_start_of_a_misspelled_word() {
        let m = Matcher {
            terms: vec![("sourdouh".into(), Mode::FuzzyPrefix(2))],
            phrases: vec![],
        };
        assert!(m.matches("sourdough"));
        assert!(m.matches("sourdoughs"));
        assert!(!m.matches("source"));
    }

    #[test]
    fn prefix_bounds() {
        assert_eq!(prefix_upper_bound(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_upper_bound(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_upper_bound(b"\xff"), None);
    }

    #[test]
    fn snippets_window_the_line_and_mark_the_matches() {
        let m = Matcher {
            terms: vec![("resume".into(), Mode::Exact), ("tip".into(), Mode::Prefix)],
            phrases: vec![],
        };
        let (line, col, snip, hl) = locate(
            "title\n\n  Résumé tips from a manager",
            10,
            &m,
            Markup::Plain,
        )
        .unwrap();
        assert_eq!((line, col), (12, 2));
        assert_eq!(snip, "Résumé tips from a manager");
        assert_eq!(hl, vec![(0, 6), (7, 11)]);
        let long = format!("{} needle {}", "x ".repeat(100), "y ".repeat(200));
        let m = Matcher {
            terms: vec![("needle".into(), Mode::Exact)],
            phrases: vec![],
        };
        let (_, col, snip, hl) = locate(&long, 1, &m, Markup::Plain).unwrap();
        assert_eq!(col, 201);
        assert!(snip.starts_with('…') && snip.ends_with('…'));
        let (a, b) = hl[0];
        let marked: String = snip
            .chars()
            .skip(a as usize)
            .take((b - a) as usize)
            .collect();
        assert_eq!(marked, "needle");
        assert!(locate("nothing here", 1, &m, Markup::Plain).is_none());
    }

    #[test]
    fn a_phrase_is_located_where_its_words_follow_each_other() {
        let m = Matcher {
            terms: vec![],
            phrases: vec![vec![
                ("code".into(), Mode::Exact),
                ("blocks".into(), Mode::Exact),
            ]],
        };
        let body = "code here\nblocks there\nsee code blocks below";
        let (line, col, snip, hl) = locate(body, 1, &m, Markup::Plain).unwrap();
        assert_eq!((line, col), (3, 4));
        assert_eq!(snip, "see code blocks below");
        assert_eq!(hl, vec![(4, 8), (9, 15)]);
    }

    fn words(words: &[&str]) -> Matcher {
        Matcher {
            terms: words.iter().map(|w| (w.to_string(), Mode::Exact)).collect(),
            phrases: vec![],
        }
    }

    /// The highlighted parts of a snippet.
    fn marked(snippet: &str, highlights: &[(u32, u32)]) -> Vec<String> {
        highlights
            .iter()
            .map(|&(a, b)| {
                snippet
                    .chars()
                    .skip(a as usize)
                    .take((b - a) as usize)
                    .collect()
            })
            .collect()
    }

    #[test]
    fn org_links_show_as_their_descriptions_and_the_column_stays_exact() {
        let m = words(&["editor"]);
        let body = "* Intro\nSee [[id:8f2c1a3e-5b1d-4c53-9a2e-0e1f6d7c9a01][Emacs]], the editor, and [[https://orgmode.org][Org]] or [[file:notes.org]].";
        let (line, col, snip, hl) = locate(body, 1, &m, Markup::Org).unwrap();
        assert_eq!(line, 2);
        // The column is the match's in the file, markup included.
        let raw = body.lines().nth(1).unwrap();
        assert_eq!(
            col as usize,
            raw[..raw.find("editor").unwrap()].chars().count()
        );
        assert_eq!(snip, "See Emacs, the editor, and Org or file:notes.org.");
        assert_eq!(marked(&snip, &hl), vec!["editor"]);
    }

    #[test]
    fn a_link_cut_by_the_window_does_not_leave_its_markup_behind() {
        let m = words(&["emacs"]);
        let line = format!(
            "{} Org mode: [[id:8f2c1a3e-5b1d-4c53-9a2e-0e1f6d7c9a01][The editor]]. Emacs.",
            "word ".repeat(30)
        );
        let (_, _, snip, hl) = locate(&line, 1, &m, Markup::Org).unwrap();
        assert!(snip.contains("Org mode: The editor. Emacs."), "{snip}");
        assert!(!snip.contains("id:") && !snip.contains("]]"), "{snip}");
        assert_eq!(marked(&snip, &hl), vec!["Emacs"]);
    }

    #[test]
    fn a_match_only_in_a_link_target_keeps_the_link_as_written() {
        let m = words(&["gnuplot"]);
        let (_, _, snip, hl) = locate(
            "See [[https://gnuplot.info][the site]].",
            1,
            &m,
            Markup::Org,
        )
        .unwrap();
        assert_eq!(snip, "See [[https://gnuplot.info][the site]].");
        assert_eq!(marked(&snip, &hl), vec!["gnuplot"]);
        // Matched in the description too: the description, highlighted.
        let m = words(&["emacs"]);
        let (_, _, snip, hl) = locate(
            "[[https://www.gnu.org/software/emacs/][Emacs]] rocks",
            1,
            &m,
            Markup::Org,
        )
        .unwrap();
        assert_eq!(snip, "Emacs rocks");
        assert_eq!(hl, vec![(0, 5)]);
    }

    #[test]
    fn markdown_links_and_wikilinks_show_as_their_labels() {
        let m = words(&["circles"]);
        let line = "Draw [packed circles](https://d3js.org) with ![a chart](img/c.png), \
                    [[the topic|dendron.topic.links]] and [[ext.img.packed|Circles again]] or [[plain.note]].";
        let (_, col, snip, hl) = locate(line, 1, &m, Markup::Markdown).unwrap();
        assert_eq!(col, 13);
        assert_eq!(
            snip,
            "Draw packed circles with a chart, the topic and Circles again or plain.note."
        );
        assert_eq!(marked(&snip, &hl), vec!["circles", "Circles"]);
        // Org files keep Markdown-looking text, text files every bracket.
        let (_, _, snip, _) = locate("[x](y) circles", 1, &m, Markup::Org).unwrap();
        assert_eq!(snip, "[x](y) circles");
        let (_, _, snip, _) = locate("if [[ -f circles ]]", 1, &m, Markup::Plain).unwrap();
        assert_eq!(snip, "if [[ -f circles ]]");
    }

    #[test]
    fn keyword_lines_read_as_text() {
        let m = words(&["performance"]);
        let (line, col, snip, hl) = locate(
            "#+title: Start-up time\n#+filetags: :emacs:performance:\n",
            1,
            &m,
            Markup::Org,
        )
        .unwrap();
        assert_eq!((line, col), (2, 19));
        assert_eq!(snip, "tags: emacs performance");
        assert_eq!(marked(&snip, &hl), vec!["performance"]);
        let m = words(&["startup"]);
        let (_, _, snip, _) = locate("#+title: Startup", 1, &m, Markup::Org).unwrap();
        assert_eq!(snip, "Startup");
        let (_, _, snip, _) = locate("#+STARTUP: fold startup", 1, &m, Markup::Org).unwrap();
        assert_eq!(snip, "STARTUP: fold startup");
        let (_, _, snip, _) = locate("#+begin_src sh :dir startup", 1, &m, Markup::Org).unwrap();
        assert_eq!(snip, "#+begin_src sh :dir startup");
    }

    #[test]
    fn snippets_of_huge_lines_stay_small_and_whole() {
        let m = words(&["needle"]);
        let line = format!(
            "{}[[a][b]] needle [[c][d]]{}",
            "é".repeat(5000),
            " x".repeat(5000)
        );
        let (_, col, snip, hl) = locate(&line, 1, &m, Markup::Org).unwrap();
        assert_eq!(col, 5009);
        assert!(snip.starts_with('…') && snip.ends_with('…'));
        assert!(snip.chars().count() <= 162, "{}", snip.chars().count());
        assert!(snip.contains("b needle d"), "{snip}");
        assert_eq!(marked(&snip, &hl), vec!["needle"]);
    }

    #[test]
    fn recency_is_gentle() {
        let day = 86_400_000_000_000i64;
        assert!((recency(100 * day, 100 * day) - 1.15).abs() < 1e-4);
        assert!((recency(100 * day, 70 * day) - 1.075).abs() < 1e-3);
        assert!(recency(1000 * day, 0) < 1.001);
    }
}
