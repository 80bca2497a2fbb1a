//! Running a query: building the tantivy query from the parsed one, ranking
//! (BM25 with field boosts and a gentle recency boost), collapsing hits per
//! file, and finding the exact line, column and snippet of each hit.

use std::collections::{HashMap, HashSet};

use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur, PhrasePrefixQuery,
    PhraseQuery, Query as TantivyQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Term, Value};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentReader, TantivyDocument};

use super::query::{self, Atom, FieldName};
use super::schema::{self, Fields, KIND_SECTION};
use crate::error::{Error, Result, ResultExt};

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

/// Field boosts for free-text words.
fn text_fields(f: &Fields) -> [(Field, f32, bool); 6] {
    // (field, boost, has positions)
    [
        (f.title, 3.0, true),
        (f.alias, 2.5, true),
        (f.heading, 2.5, true),
        (f.body, 1.0, true),
        (f.content, 0.6, true),
        (f.path_text, 0.5, false),
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

    /// One token in one field: exact, exact-or-prefix, or exact-or-fuzzy.
    fn token_in_field(&self, field: Field, token: &str, mode: &Mode) -> Box<dyn TantivyQuery> {
        match mode {
            Mode::Exact => self.term(field, token),
            Mode::Prefix => {
                let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> =
                    vec![(Occur::Should, self.term(field, token))];
                for t in expand_prefix(self.searcher, field, token, 24) {
                    if t != token {
                        let q = Box::new(BoostQuery::new(self.term(field, &t), 0.8));
                        clauses.push((Occur::Should, q));
                    }
                }
                Box::new(BooleanQuery::new(clauses))
            }
            Mode::Fuzzy(d) => Box::new(BooleanQuery::new(vec![
                (Occur::Should, self.term(field, token)),
                (
                    Occur::Should,
                    Box::new(FuzzyTermQuery::new(
                        Term::from_field_text(field, token),
                        *d,
                        true,
                    )),
                ),
            ])),
            Mode::FuzzyPrefix(d) => Box::new(FuzzyTermQuery::new_prefix(
                Term::from_field_text(field, token),
                *d,
                true,
            )),
        }
    }

    /// Tokens that must appear in order (a phrase, or a word the analyzer
    /// split) in one field; without positions, they must all appear.
    fn tokens_in_field(
        &self,
        field: Field,
        positions: bool,
        tokens: &[String],
        last_mode: &Mode,
    ) -> Box<dyn TantivyQuery> {
        if tokens.len() == 1 {
            return self.token_in_field(field, &tokens[0], last_mode);
        }
        if positions {
            let terms: Vec<Term> = tokens
                .iter()
                .map(|t| Term::from_field_text(field, t))
                .collect();
            if *last_mode == Mode::Prefix {
                let mut q = PhrasePrefixQuery::new(terms);
                q.set_max_expansions(24);
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
                    (Occur::Must, self.token_in_field(field, t, mode))
                })
                .collect();
            Box::new(BooleanQuery::new(clauses))
        }
    }

    /// Text in a set of (field, boost, positions): the best field wins.
    fn text_query(
        &mut self,
        fields: &[(Field, f32, bool)],
        text: &str,
        prefix: bool,
        phrase: bool,
    ) -> Option<Box<dyn TantivyQuery>> {
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
        if units.len() == 1 {
            self.matcher.terms.extend(units);
        } else {
            self.matcher.phrases.push(units);
        }
        let disjuncts: Vec<Box<dyn TantivyQuery>> = fields
            .iter()
            .map(|&(field, boost, positions)| {
                let q = self.tokens_in_field(field, positions, &tokens, &last_mode);
                Box::new(BoostQuery::new(q, boost)) as Box<dyn TantivyQuery>
            })
            .collect();
        Some(Box::new(DisjunctionMaxQuery::with_tie_breaker(
            disjuncts, 0.1,
        )))
    }

    /// One atom of the parsed query, or None when it analyzes to nothing.
    fn atom(&mut self, atom: &Atom, positive: bool) -> Option<Box<dyn TantivyQuery>> {
        let f = self.f;
        let saved = (self.matcher.terms.len(), self.matcher.phrases.len());
        let q = match atom {
            Atom::Word { text, prefix } => {
                let mut q = self.text_query(&text_fields(&f), text, *prefix, false)?;
                // A word also matches a tag of that name.
                let tag = schema::fold_keyword(text);
                if !tag.is_empty() {
                    q = Box::new(DisjunctionMaxQuery::with_tie_breaker(
                        vec![q, Box::new(BoostQuery::new(self.term(f.tag, &tag), 1.5))],
                        0.1,
                    ));
                }
                Some(q)
            }
            Atom::Phrase(text) => self.text_query(&text_fields(&f), text, false, true),
            Atom::Field {
                field,
                value,
                prefix,
            } => match field {
                FieldName::Title => self.text_query(
                    &[(f.title, 1.0, true), (f.alias, 1.0, true)],
                    value,
                    *prefix,
                    false,
                ),
                FieldName::Path => {
                    self.text_query(&[(f.path_text, 1.0, false)], value, *prefix, false)
                }
                FieldName::Tag => Some(self.term(f.tag, &schema::fold_keyword(value))),
                FieldName::Todo => Some(self.term(f.todo, &schema::fold_keyword(value))),
                FieldName::Ext => {
                    Some(self.term(f.ext, &value.trim_start_matches('.').to_ascii_lowercase()))
                }
                FieldName::Id => Some(self.term(f.id, value.trim())),
            },
        };
        if !positive {
            self.matcher.terms.truncate(saved.0);
            self.matcher.phrases.truncate(saved.1);
        }
        q
    }

    fn build(&mut self, parsed: &query::Query) -> Option<Box<dyn TantivyQuery>> {
        let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = Vec::new();
        for group in &parsed.required {
            let mut alternatives: Vec<Box<dyn TantivyQuery>> = Vec::new();
            for atom in group {
                if let Some(q) = self.atom(atom, true) {
                    alternatives.push(q);
                }
            }
            match alternatives.len() {
                0 => {}
                1 => clauses.extend(alternatives.into_iter().map(|q| (Occur::Must, q))),
                _ => clauses.push((
                    Occur::Must,
                    Box::new(BooleanQuery::new(
                        alternatives
                            .into_iter()
                            .map(|q| (Occur::Should, q))
                            .collect(),
                    )),
                )),
            }
        }
        if clauses.is_empty() {
            return None;
        }
        for atom in &parsed.excluded {
            if let Some(q) = self.atom(atom, false) {
                clauses.push((Occur::MustNot, q));
            }
        }
        Some(Box::new(BooleanQuery::new(clauses)))
    }
}

/// A gentle boost for recently modified notes: up to +15% today, halving
/// every 30 days.
fn recency(now: i64, mtime: i64) -> f32 {
    let days = ((now - mtime).max(0) as f64) / 86_400e9;
    (1.0 + 0.15 * 0.5f64.powf(days / 30.0)) as f32
}

/// A stored document's fields, as needed to report a hit.
struct Stored {
    kind: u64,
    path: String,
    title: String,
    outline: Vec<String>,
    body: String,
    body_line: u32,
    line: u32,
    todo: Option<String>,
    tags: Vec<String>,
}

fn stored(searcher: &Searcher, f: &Fields, address: DocAddress) -> Result<Stored> {
    let doc: TantivyDocument = searcher
        .doc(address)
        .or_kind(crate::error::Kind::Index, "Reading a search result")?;
    let text = |field: Field| {
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let number = |field: Field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
    let todo = text(f.todo_raw);
    Ok(Stored {
        kind: number(f.kind),
        path: text(f.path),
        title: text(f.title),
        outline: doc
            .get_all(f.outline)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        body: text(f.body),
        body_line: u32::try_from(number(f.body_line)).unwrap_or(1).max(1),
        line: u32::try_from(number(f.line)).unwrap_or(1).max(1),
        todo: (!todo.is_empty()).then_some(todo),
        tags: doc
            .get_all(f.tag)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    })
}

/// Where a match is: (line, column, snippet, highlights).
type Located = (u32, u32, String, Vec<(u32, u32)>);

/// Where the first match is in a body.
fn locate(body: &str, body_line: u32, matcher: &Matcher) -> Option<Located> {
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
    let (snippet, highlights) = snippet(&scan[line_start..line_end], at - line_start, matcher);
    Some((line_no, column, snippet, highlights))
}

/// A window of `line` around byte `at`, with the matched words' character ranges.
fn snippet(line: &str, at: usize, matcher: &Matcher) -> (String, Vec<(u32, u32)>) {
    const BEFORE: usize = 40;
    const WIDTH: usize = 160;
    // Window start: up to BEFORE characters before the match, at a char boundary.
    let chars_before = line[..at].chars().count();
    let skip = chars_before.saturating_sub(BEFORE);
    let start = line.char_indices().nth(skip).map_or(0, |(i, _)| i);
    let start = if skip == 0 {
        line.len() - line.trim_start().len()
    } else {
        start
    };
    let end = line[start..]
        .char_indices()
        .nth(WIDTH)
        .map_or(line.len(), |(i, _)| start + i);
    let window = &line[start..end];
    let mut text = String::new();
    let lead = if start > 0 && skip > 0 { "…" } else { "" };
    text.push_str(lead);
    let lead_chars = lead.chars().count() as u32;
    text.push_str(window.trim_end());
    if end < line.len() {
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
    let exact = run(searcher, f, &parsed, options, false)?;
    if !exact.is_empty() {
        return Ok(exact);
    }
    run(searcher, f, &parsed, options, true)
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
    let Some(query) = builder.build(parsed) else {
        return Ok(Vec::new());
    };
    let matcher = builder.matcher;
    let fetch = options
        .limit
        .saturating_mul(3)
        .saturating_add(20)
        .min(100_000);
    let now = options.now;
    let collector = TopDocs::with_limit(fetch).tweak_score(move |segment: &SegmentReader| {
        let mtime = segment
            .fast_fields()
            .i64("mtime")
            .ok()
            .map(|c| c.first_or_default_col(0));
        move |doc: DocId, score: Score| {
            let m = mtime.as_ref().map_or(0, |c| c.get_val(doc));
            score * recency(now, m)
        }
    });
    let top = searcher
        .search(query.as_ref(), &collector)
        .map_err(|e| Error::query(format!("The search failed: {e}")))?;

    // Load and locate.  A section whose text holds a match is a hit of its
    // own; one that matched only through the note's title, aliases or tags
    // (present on every section), like a file document, becomes a single
    // file-level hit for its file, placed at the first match in the file,
    // and only when none of the file's sections is a hit of its own.
    // Queries on heading attributes (tag:, todo:, id:) with no words land
    // on each matching heading.
    let on_headings = matcher.is_empty()
        && parsed.required.iter().flatten().any(|a| {
            matches!(
                a,
                Atom::Field {
                    field: FieldName::Tag | FieldName::Todo | FieldName::Id,
                    ..
                }
            )
        });
    let mut docs = Vec::with_capacity(top.len());
    for (score, address) in top {
        let d = stored(searcher, f, address)?;
        let located = match d.kind {
            KIND_SECTION if on_headings && !d.outline.is_empty() => {
                let line = d.body.lines().next().unwrap_or("");
                Some((
                    d.line,
                    0,
                    super::parse::truncate_chars(line.trim(), 160),
                    Vec::new(),
                ))
            }
            KIND_SECTION => locate(&d.body, d.body_line, &matcher),
            _ => None,
        };
        docs.push((score, d, located));
    }
    let files_with_sections: HashSet<String> = docs
        .iter()
        .filter(|(_, _, located)| located.is_some())
        .map(|(_, d, _)| d.path.clone())
        .collect();
    let mut per_file: HashMap<String, usize> = HashMap::new();
    let mut file_level: HashSet<String> = HashSet::new();
    let mut hits = Vec::new();
    for (score, d, located) in docs {
        if hits.len() >= options.limit {
            break;
        }
        let count = per_file.entry(d.path.clone()).or_default();
        if options.max_per_file > 0 && *count >= options.max_per_file {
            continue;
        }
        match located {
            Some(located) => {
                *count += 1;
                hits.push(section_hit(d, score, located, fuzzy));
            }
            None => {
                if files_with_sections.contains(&d.path) || !file_level.insert(d.path.clone()) {
                    continue;
                }
                *count += 1;
                hits.push(file_hit(searcher, f, d, score, &matcher, fuzzy)?);
            }
        }
    }
    Ok(hits)
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

/// A file document hit: its words are spread over sections, so the place is
/// the first section (in file order) holding one of them.
fn file_hit(
    searcher: &Searcher,
    f: &Fields,
    d: Stored,
    score: f32,
    matcher: &Matcher,
    fuzzy: bool,
) -> Result<Hit> {
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
        .or_kind(crate::error::Kind::Index, "Reading a note's sections")?;
    let mut sections = Vec::with_capacity(addresses.len());
    for a in addresses {
        sections.push(stored(searcher, f, a)?);
    }
    sections.sort_by_key(|s| s.body_line);
    for s in sections {
        if let Some((line, column, snippet, highlights)) = locate(&s.body, s.body_line, matcher) {
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
                tags: d.tags,
                fuzzy,
            });
        }
    }
    Ok(Hit {
        file: d.path,
        line: d.line,
        column: 0,
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
        let (line, col, snip, hl) =
            locate("title\n\n  Résumé tips from a manager", 10, &m).unwrap();
        assert_eq!((line, col), (12, 2));
        assert_eq!(snip, "Résumé tips from a manager");
        assert_eq!(hl, vec![(0, 6), (7, 11)]);
        let long = format!("{} needle {}", "x ".repeat(100), "y ".repeat(200));
        let m = Matcher {
            terms: vec![("needle".into(), Mode::Exact)],
            phrases: vec![],
        };
        let (_, col, snip, hl) = locate(&long, 1, &m).unwrap();
        assert_eq!(col, 201);
        assert!(snip.starts_with('…') && snip.ends_with('…'));
        let (a, b) = hl[0];
        let marked: String = snip
            .chars()
            .skip(a as usize)
            .take((b - a) as usize)
            .collect();
        assert_eq!(marked, "needle");
        assert!(locate("nothing here", 1, &m).is_none());
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
        let (line, col, snip, hl) = locate(body, 1, &m).unwrap();
        assert_eq!((line, col), (3, 4));
        assert_eq!(snip, "see code blocks below");
        assert_eq!(hl, vec![(4, 8), (9, 15)]);
    }

    #[test]
    fn recency_is_gentle() {
        let day = 86_400_000_000_000i64;
        assert!((recency(100 * day, 100 * day) - 1.15).abs() < 1e-4);
        assert!((recency(100 * day, 70 * day) - 1.075).abs() < 1e-3);
        assert!(recency(1000 * day, 0) < 1.001);
    }
}
