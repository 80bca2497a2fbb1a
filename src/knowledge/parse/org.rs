//! The Org parser: keywords, headings, property drawers, blocks and links,
//! line by line, without Org mode.

use std::collections::HashMap;

use super::{
    head, is_url_scheme, line_no, line_ranges, plain_urls, push_links, push_unique, split_quoted,
    Found, LineKind, LinkKind, Note, ParseOptions, Section, Spans, LOOKAHEAD, MAX_LINKS_PER_NOTE,
};

/// Where each line sits: ordinary text, inside a block, or inside a drawer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineRole {
    Text,
    /// Inside a block whose contents are verbatim (src, example, export,
    /// comment): no headings, no links.
    VerbatimBlock,
    /// Inside another block (quote, verse, center, ...): no headings.
    ProseBlock,
    /// A line of a property drawer (including `:PROPERTIES:` and `:END:`).
    Drawer,
}

/// Parses Org text, and tells what each line is (see
/// [`super::line_kinds`]): the links are read from the lines that are not
/// [`LineKind::Hidden`].
pub(super) fn parse_with_kinds(text: &str, options: &ParseOptions) -> (Note, Vec<LineKind>) {
    let lines = line_ranges(text);
    let line = |i: usize| -> &str {
        lines
            .get(i)
            .and_then(|&(s, e)| text.get(s..e))
            .unwrap_or("")
    };
    let mut roles = block_roles(text, &lines);
    let todo = todo_keywords(text, &lines, &roles, options);

    let mut note = Note {
        title_line: 1,
        ..Note::default()
    };

    // File keywords, anywhere outside blocks.
    let mut titles = Vec::new();
    for (i, &role) in roles.iter().enumerate() {
        if role != LineRole::Text {
            continue;
        }
        if let Some((key, value)) = keyword(line(i)) {
            match key.as_str() {
                "title" => {
                    if titles.is_empty() {
                        note.title_line = line_no(i);
                    }
                    titles.push(value.trim().to_string());
                }
                "filetags" | "roam_tags" => {
                    for t in parse_tags(value) {
                        push_unique(&mut note.tags, &t);
                    }
                }
                "roam_aliases" => {
                    for a in split_quoted(value) {
                        push_unique(&mut note.aliases, &a);
                    }
                }
                _ => {}
            }
        }
    }
    note.title = clean_heading_text(&titles.join(" "));

    // Headings (outside blocks).
    let headings: Vec<usize> = (0..lines.len())
        .filter(|&i| roles[i] == LineRole::Text && heading_level(line(i)).is_some())
        .collect();
    let first_heading = headings.first().copied().unwrap_or(lines.len());

    // The file-level property drawer: where Org looks for it, on the first
    // line after nothing but comment lines (`# ...`): not after a blank
    // line or a keyword such as `#+title:` (org-roam then sees no file ID).
    let mut top = 0;
    while top < first_heading && is_comment_line(line(top)) {
        top += 1;
    }
    let mut file_props = HashMap::new();
    if top < first_heading {
        if let Some(end) = drawer_end(text, &lines, top, first_heading) {
            file_props = drawer_properties(text, &lines, top, end);
            for r in roles.iter_mut().take(end + 1).skip(top) {
                *r = LineRole::Drawer;
            }
        }
    }
    apply_properties(&file_props, &mut note.id, &mut note.aliases, &mut note.refs);
    note.exclude = excludes(&file_props);

    // The preamble.
    note.sections.push(Section {
        level: 0,
        line: 1,
        body_line: 1,
        all_tags: note.tags.clone(),
        id: note.id.clone(),
        body: section_body(text, &lines, &roles, 0, first_heading),
        ..Section::default()
    });

    // Heading sections.
    let mut stack: Vec<(u32, String, Vec<String>)> = Vec::new(); // (level, heading, tags)
    for (n, &h) in headings.iter().enumerate() {
        let end = headings.get(n + 1).copied().unwrap_or(lines.len());
        let level = heading_level(line(h)).unwrap_or(1);
        let parsed = parse_heading(line(h), level, &todo);

        // Planning line, then the property drawer.
        let mut p = h + 1;
        if p < end && is_planning(line(p)) {
            p += 1;
        }
        let mut props = HashMap::new();
        if p < end && line(p).trim().eq_ignore_ascii_case(":properties:") {
            if let Some(drawer_last) = drawer_end(text, &lines, p, end) {
                props = drawer_properties(text, &lines, p, drawer_last);
                for r in roles.iter_mut().take(drawer_last + 1).skip(p) {
                    *r = LineRole::Drawer;
                }
            }
        }

        while stack.last().is_some_and(|(l, _, _)| *l >= level) {
            stack.pop();
        }
        let mut all_tags = note.tags.clone();
        for (_, _, tags) in &stack {
            for t in tags {
                push_unique(&mut all_tags, t);
            }
        }
        for t in &parsed.tags {
            push_unique(&mut all_tags, t);
        }
        let outline = super::outline_path(stack.iter().map(|(_, h, _)| h.as_str()), &parsed.title);
        stack.push((level, parsed.title.clone(), parsed.tags.clone()));

        let mut section = Section {
            level,
            heading: parsed.title,
            todo: parsed.todo,
            tags: parsed.tags,
            all_tags,
            outline,
            line: line_no(h),
            body_line: line_no(h),
            body: section_body(text, &lines, &roles, h, end),
            ..Section::default()
        };
        apply_properties(
            &props,
            &mut section.id,
            &mut section.aliases,
            &mut section.refs,
        );
        section.exclude = excludes(&props);
        note.sections.push(section);
    }

    // Links, outside verbatim blocks, drawers and comments.
    // Paragraphs end at headings, block delimiters, drawer lines
    // (`:PROPERTIES:`, `:ID: x`, `:END:`) and planning lines, so a link's
    // context never drags in a property drawer.
    let is_break = |l: &str| {
        heading_level(l).is_some() || is_planning(l) || is_drawer_line(l) || {
            let t = l.trim_start().to_ascii_lowercase();
            t.starts_with("#+begin_") || t.starts_with("#+end_")
        }
    };
    let kinds: Vec<LineKind> = roles
        .iter()
        .enumerate()
        .map(|(i, &role)| {
            let l = line(i);
            let trimmed = l.trim_start();
            if matches!(role, LineRole::VerbatimBlock | LineRole::Drawer)
                || is_planning(l)
                || trimmed.starts_with("# ")
                || trimmed == "#"
                || trimmed.starts_with(": ")
                || (trimmed.starts_with("#+") && keyword(l).is_some())
            {
                LineKind::Hidden
            } else if headings.binary_search(&i).is_ok() {
                LineKind::Heading
            } else {
                LineKind::Prose
            }
        })
        .collect();
    let mut section = 0;
    let mut next_heading = headings.iter().peekable();
    for (i, &kind) in kinds.iter().enumerate() {
        if next_heading.peek().is_some_and(|&&h| h == i) {
            next_heading.next();
            section += 1;
        }
        if note.links.len() >= MAX_LINKS_PER_NOTE {
            break;
        }
        let l = line(i);
        if kind == LineKind::Hidden {
            // As org-roam 2 does, links in property values (but ROAM_REFS)
            // and in keyword lines (but #+transclude) count, each with its
            // own line as context; artisan never writes a link there.
            let counted = match roles.get(i) {
                Some(LineRole::Drawer) => property(l).is_some_and(|(key, _)| key != "roam_refs"),
                Some(LineRole::Text) => keyword(l).is_some_and(|(key, _)| key != "transclude"),
                _ => false,
            };
            if counted {
                push_links(&mut note, text, &lines, i, section, line_links(l), &|_| {
                    true
                });
            }
            continue;
        }
        push_links(
            &mut note,
            text,
            &lines,
            i,
            section,
            line_links(l),
            &is_break,
        );
    }
    (note, kinds)
}

/// Marks the lines inside blocks.  A `#+begin_X` without a matching
/// `#+end_X` is not a block (Org treats it as a paragraph), so it can never
/// swallow the rest of the file.
fn block_roles(text: &str, lines: &[(usize, usize)]) -> Vec<LineRole> {
    let mut roles = vec![LineRole::Text; lines.len()];
    let delimiter = |i: usize, what: &str| -> Option<String> {
        let (s, e) = lines[i];
        let l = text.get(s..e)?.trim_start();
        let lower = l.get(..what.len())?.to_ascii_lowercase();
        if lower != what {
            return None;
        }
        let name: String = l[what.len()..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        (!name.is_empty()).then_some(name)
    };
    // End lines by block name, in order, for a linear search.
    let mut ends: HashMap<String, Vec<usize>> = HashMap::new();
    for i in 0..lines.len() {
        if let Some(name) = delimiter(i, "#+end_") {
            ends.entry(name).or_default().push(i);
        }
    }
    let mut i = 0;
    while i < lines.len() {
        if let Some(name) = delimiter(i, "#+begin_") {
            let end = ends
                .get(&name)
                .and_then(|v| v.iter().find(|&&e| e > i).copied());
            if let Some(end) = end {
                let role = if matches!(name.as_str(), "src" | "example" | "export" | "comment") {
                    LineRole::VerbatimBlock
                } else {
                    LineRole::ProseBlock
                };
                for r in roles.iter_mut().take(end + 1).skip(i) {
                    *r = role;
                }
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
    roles
}

/// The TODO keywords: the configured ones and those the file declares.
fn todo_keywords(
    text: &str,
    lines: &[(usize, usize)],
    roles: &[LineRole],
    options: &ParseOptions,
) -> Vec<String> {
    let mut keys = options.todo_keywords.clone();
    for (i, &(s, e)) in lines.iter().enumerate() {
        if roles[i] != LineRole::Text {
            continue;
        }
        if let Some((key, value)) = text.get(s..e).and_then(keyword) {
            if matches!(key.as_str(), "todo" | "seq_todo" | "typ_todo") {
                for word in value.split_whitespace() {
                    if word == "|" {
                        continue;
                    }
                    let word = word.split('(').next().unwrap_or(word);
                    push_unique(&mut keys, word);
                }
            }
        }
    }
    keys
}

/// `#+KEY: value` as (lowercased key, value).
fn keyword(line: &str) -> Option<(String, &str)> {
    let rest = line.trim_start().strip_prefix("#+")?;
    let colon = rest.find(':')?;
    let key = &rest[..colon];
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    Some((key.to_ascii_lowercase(), rest[colon + 1..].trim()))
}

/// A property drawer line `:KEY: value` as (lower-cased key, value).
fn property(line: &str) -> Option<(String, &str)> {
    let rest = line.trim_start().strip_prefix(':')?;
    let (key, value) = rest.split_once(':')?;
    (!key.is_empty() && !key.contains(char::is_whitespace))
        .then(|| (key.to_ascii_lowercase(), value.trim()))
}

/// The level of a heading line, or None: stars at column 0 followed by a
/// space or the end of the line.
fn heading_level(line: &str) -> Option<u32> {
    let stars = line.bytes().take_while(|&b| b == b'*').count();
    if stars == 0 {
        return None;
    }
    match line.as_bytes().get(stars) {
        None | Some(b' ') | Some(b'\t') => u32::try_from(stars).ok(),
        _ => None,
    }
}

struct Heading {
    todo: Option<String>,
    title: String,
    tags: Vec<String>,
}

fn parse_heading(line: &str, level: u32, todo: &[String]) -> Heading {
    let mut rest = line.get(level as usize..).unwrap_or("").trim();
    // Tags at the end: whitespace, then :a:b:.
    let mut tags = Vec::new();
    if rest.ends_with(':') {
        // Org separates tags with spaces or tabs only; both are one byte.
        let start = rest.rfind([' ', '\t']).map_or(0, |i| i + 1);
        let candidate = &rest[start..];
        if candidate.len() > 1
            && candidate.starts_with(':')
            && candidate[1..candidate.len() - 1]
                .split(':')
                .all(|t| !t.is_empty() && t.chars().all(is_tag_char))
        {
            tags = parse_tags(candidate);
            rest = rest[..start].trim_end();
        }
    }
    let mut todo_kw = None;
    if let Some(first) = rest.split_whitespace().next() {
        if todo.iter().any(|k| k == first) {
            todo_kw = Some(first.to_string());
            rest = rest[first.len()..].trim_start();
        }
    }
    if let Some(after) = rest.strip_prefix("[#") {
        if after.len() >= 2 && after.as_bytes().get(1) == Some(&b']') {
            rest = after[2..].trim_start();
        }
    }
    if let Some(after) = rest.strip_prefix("COMMENT ") {
        rest = after.trim_start();
    }
    Heading {
        todo: todo_kw,
        title: clean_heading_text(rest),
        tags,
    }
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '@' | '#' | '%')
}

/// Tags from `:a:b:` or `a b` forms.
fn parse_tags(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    for t in value.split([':', ' ', '\t', ',']) {
        push_unique(&mut out, t.trim());
    }
    out
}

/// Heading or title text for display: bracket links become their labels and
/// statistics cookies (`[2/3]`, `[50%]`) are dropped.
fn clean_heading_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("[[") {
        out.push_str(&rest[..i]);
        match parse_bracket_link(&rest[i..]) {
            Some((len, target, label)) => {
                out.push_str(label.as_deref().unwrap_or(&target));
                rest = &rest[i + len..];
            }
            None => {
                out.push_str("[[");
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    let words: Vec<&str> = out.split_whitespace().filter(|w| !is_cookie(w)).collect();
    words.join(" ")
}

fn is_cookie(w: &str) -> bool {
    let Some(inner) = w.strip_prefix('[').and_then(|w| w.strip_suffix(']')) else {
        return false;
    };
    !inner.is_empty()
        && (inner.chars().all(|c| c.is_ascii_digit() || c == '/')
            || inner
                .strip_suffix('%')
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
}

/// Is `line` a drawer line: `:NAME:` alone or `:NAME: value`, the name
/// without spaces (`:PROPERTIES:`, `:ID: x`, `:END:`, `:LOGBOOK:`)?
fn is_drawer_line(line: &str) -> bool {
    line.trim_start()
        .strip_prefix(':')
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(name, _)| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '+'))
        })
}

/// Is `line` an Org comment line: `#` alone or followed by a space?
fn is_comment_line(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']);
    t == "#" || t.starts_with("# ")
}

/// Is `line` a line Org accepts inside a property drawer: `:NAME:` alone
/// or followed by a space and a value, the name without whitespace?
fn is_property_line(line: &str) -> bool {
    let Some(rest) = line.trim().strip_prefix(':') else {
        return false;
    };
    rest.match_indices(':').any(|(k, _)| {
        let name = &rest[..k];
        let after = &rest[k + 1..];
        !name.is_empty()
            && !name.contains(char::is_whitespace)
            && (after.is_empty() || after.starts_with([' ', '\t']))
    })
}

/// Whether properties say `:ROAM_EXCLUDE:` with any value but `nil`, as
/// org-roam reads it (`org-entry-get` makes `nil` nil).
fn excludes(props: &HashMap<String, String>) -> bool {
    props.get("ROAM_EXCLUDE").is_some_and(|v| v.trim() != "nil")
}

fn is_planning(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("SCHEDULED:") || t.starts_with("DEADLINE:") || t.starts_with("CLOSED:")
}

/// The line index of the `:END:` closing the property drawer opened at
/// `start`, if it comes before `limit` (the next heading) and every line
/// between is a property (Org's `org-property-drawer-re`).
fn drawer_end(text: &str, lines: &[(usize, usize)], start: usize, limit: usize) -> Option<usize> {
    let open = text.get(lines.get(start)?.0..lines.get(start)?.1)?;
    if !open.trim().eq_ignore_ascii_case(":properties:") {
        return None;
    }
    for (i, &(s, e)) in lines.iter().enumerate().take(limit).skip(start + 1) {
        let l = text.get(s..e).unwrap_or("");
        if l.trim().eq_ignore_ascii_case(":end:") {
            return Some(i);
        }
        if !is_property_line(l) {
            return None;
        }
    }
    None
}

/// The properties between `start` (`:PROPERTIES:`) and `end` (`:END:`),
/// with upper-cased keys.  `:KEY+:` values are appended.
fn drawer_properties(
    text: &str,
    lines: &[(usize, usize)],
    start: usize,
    end: usize,
) -> HashMap<String, String> {
    let mut props: HashMap<String, String> = HashMap::new();
    for &(s, e) in lines.iter().take(end).skip(start + 1) {
        let l = text.get(s..e).unwrap_or("").trim();
        let Some(rest) = l.strip_prefix(':') else {
            continue;
        };
        let Some(colon) = rest.find(':') else {
            continue;
        };
        let key = rest[..colon].to_ascii_uppercase();
        let value = rest[colon + 1..].trim().to_string();
        if let Some(base) = key.strip_suffix('+') {
            let entry = props.entry(base.to_string()).or_default();
            if !entry.is_empty() {
                entry.push(' ');
            }
            entry.push_str(&value);
        } else {
            props.insert(key, value);
        }
    }
    props
}

fn apply_properties(
    props: &HashMap<String, String>,
    id: &mut Option<String>,
    aliases: &mut Vec<String>,
    refs: &mut Vec<String>,
) {
    if let Some(v) = props.get("ID").filter(|v| !v.is_empty()) {
        *id = Some(v.clone());
    }
    if let Some(v) = props.get("ROAM_ALIASES") {
        for a in split_quoted(v) {
            push_unique(aliases, &a);
        }
    }
    if let Some(v) = props.get("ROAM_REFS") {
        for r in split_quoted(v) {
            push_unique(refs, &r);
        }
    }
}

/// The text of lines `from..to`, with drawer lines blanked (kept as empty
/// lines so that line numbers computed from the body stay right).
fn section_body(
    text: &str,
    lines: &[(usize, usize)],
    roles: &[LineRole],
    from: usize,
    to: usize,
) -> String {
    let to = to.min(lines.len());
    if from >= to {
        return String::new();
    }
    let mut out = String::new();
    for i in from..to {
        if i > from {
            out.push('\n');
        }
        if roles[i] != LineRole::Drawer {
            out.push_str(text.get(lines[i].0..lines[i].1).unwrap_or(""));
        }
    }
    out
}

/// Parses `[[target][label]]` or `[[target]]` at the start of `s`.
/// Returns (length in bytes, target, label).
fn parse_bracket_link(s: &str) -> Option<(usize, String, Option<String>)> {
    let body = head(s, LOOKAHEAD).strip_prefix("[[")?;
    let mut target = String::new();
    let mut chars = body.char_indices();
    let mut after_target = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    if n != '[' && n != ']' && n != '\\' {
                        target.push('\\');
                    }
                    target.push(n);
                }
            }
            ']' => {
                after_target = Some(i + 1);
                break;
            }
            '[' | '\n' => return None,
            c => target.push(c),
        }
    }
    let after = after_target?;
    let rest = &body[after..];
    if rest.starts_with(']') {
        return (!target.trim().is_empty())
            .then(|| (2 + after + 1, target.trim().to_string(), None));
    }
    let desc = rest.strip_prefix('[')?;
    let close = desc.find("]]")?;
    let label = desc[..close].trim().to_string();
    let len = 2 + after + 1 + close + 2;
    (!target.trim().is_empty()).then(|| {
        (
            len,
            target.trim().to_string(),
            (!label.is_empty()).then_some(label),
        )
    })
}

/// Classifies a bracket link's target.  Returns (kind, target) or None for
/// links that are not worth keeping (empty, coderefs).
fn classify(raw: &str) -> Option<(LinkKind, String)> {
    let strip_search = |s: &str| s.split("::").next().unwrap_or(s).trim().to_string();
    if let Some(id) = raw.strip_prefix("id:") {
        return Some((LinkKind::Id, strip_search(id)));
    }
    if let Some(title) = raw.strip_prefix("roam:") {
        return Some((LinkKind::Roam, title.trim().to_string()));
    }
    for prefix in ["file:", "file+sys:", "file+emacs:"] {
        if let Some(path) = raw.strip_prefix(prefix) {
            return Some((LinkKind::File, strip_search(path)));
        }
    }
    if raw.starts_with('*') || raw.starts_with('#') {
        return Some((LinkKind::Internal, raw.to_string()));
    }
    if raw.starts_with('(') {
        return None;
    }
    if raw.starts_with('/')
        || raw.starts_with("./")
        || raw.starts_with("../")
        || raw.starts_with("~/")
    {
        return Some((LinkKind::File, strip_search(raw)));
    }
    if let Some(colon) = raw.find(':') {
        let scheme = &raw[..colon];
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Some((LinkKind::Url, raw.to_string()));
        }
    }
    // A link without a type that is not a path: Org searches the file for it.
    Some((LinkKind::Internal, raw.to_string()))
}

/// The end of an inline source block (`src_LANG{BODY}` or
/// `src_LANG[HEADERS]{BODY}`) starting at byte `i`, if one starts there.
fn inline_src_end(bytes: &[u8], i: usize) -> Option<usize> {
    if !bytes[i..].starts_with(b"src_") {
        return None;
    }
    if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
        return None;
    }
    let lang_end = (i + 4..bytes.len())
        .find(|&j| !(bytes[j].is_ascii_alphanumeric() || b"-_+".contains(&bytes[j])))
        .unwrap_or(bytes.len());
    if lang_end == i + 4 {
        return None;
    }
    let mut j = lang_end;
    for (open, close) in [(b'[', b']'), (b'{', b'}')] {
        if bytes.get(j) != Some(&open) {
            if open == b'[' {
                continue;
            }
            return None;
        }
        let mut depth = 0usize;
        let end = (j..bytes.len().min(j + LOOKAHEAD)).find(|&k| {
            if bytes[k] == open {
                depth += 1;
            } else if bytes[k] == close {
                depth -= 1;
            }
            depth == 0
        })?;
        j = end + 1;
    }
    Some(j)
}

/// Byte ranges of inline verbatim and code (`=x=`, `~x~`) and inline
/// source blocks (`src_elisp{...}`) in a line.
fn verbatim_spans(line: &str) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(end) = inline_src_end(bytes, i) {
            spans.push((i, end));
            i = end;
            continue;
        }
        let m = bytes[i];
        if m == b'=' || m == b'~' {
            let pre_ok = i == 0 || {
                let p = bytes[i - 1];
                p.is_ascii_whitespace() || b"-({'\"".contains(&p)
            };
            let next_ok = bytes.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace());
            if pre_ok && next_ok {
                let close = (i + 2..bytes.len().min(i + 2 + LOOKAHEAD)).find(|&j| {
                    bytes[j] == m
                        && !bytes[j - 1].is_ascii_whitespace()
                        && bytes.get(j + 1).is_none_or(|&b| {
                            b.is_ascii_whitespace() || b"-.,;:!?')}\"[".contains(&b)
                        })
                });
                if let Some(j) = close {
                    spans.push((i, j + 1));
                    i = j + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    spans
}

/// All links in one line: bracket links, then plain `id:`, `file:` and URL
/// links outside them, skipping inline verbatim.  Returns
/// (byte offset, kind, target, label).
fn line_links(line: &str) -> Vec<Found> {
    // Every link form holds '[' (bracket links) or ':' (id:, file:, URLs).
    if memchr::memchr2(b'[', b':', line.as_bytes()).is_none() {
        return Vec::new();
    }
    let verbatim = Spans::new(verbatim_spans(line));
    let mut out = Vec::new();
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let mut from = 0;
    while let Some(rel) = line[from..].find("[[") {
        let at = from + rel;
        match parse_bracket_link(&line[at..]) {
            Some((len, raw, label)) => {
                if !verbatim.contains(at) {
                    if let Some((kind, target)) = classify(&raw) {
                        if !target.is_empty() {
                            out.push((at, kind, target, label));
                        }
                    }
                }
                taken.push((at, at + len));
                from = at + len;
            }
            None => from = at + 2,
        }
        if from >= line.len() {
            break;
        }
    }
    // Plain id: and file: links, outside bracket links.
    let brackets = Spans::new(taken);
    let mut plain = Vec::new();
    for prefix in ["id:", "file:"] {
        let mut from = 0;
        while let Some(rel) = line[from..].find(prefix) {
            let at = from + rel;
            from = at + prefix.len();
            let boundary = at == 0
                || line[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_whitespace() || matches!(c, '(' | '<' | '"' | '\''));
            if !boundary || brackets.contains(at) || verbatim.contains(at) {
                continue;
            }
            let rest = head(&line[from..], LOOKAHEAD);
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, '>' | ')' | '"' | ']' | '['))
                .unwrap_or(rest.len());
            let target = rest[..end].trim_end_matches(['.', ',', ';', '!', '?']);
            let target = target.split("::").next().unwrap_or(target);
            if target.is_empty() {
                continue;
            }
            let kind = if prefix == "id:" {
                LinkKind::Id
            } else {
                LinkKind::File
            };
            out.push((at, kind, target.to_string(), None));
            plain.push((at, from + end));
        }
    }
    let plain = Spans::new(plain);
    for (at, url) in plain_urls(line) {
        if brackets.contains(at) || plain.contains(at) || verbatim.contains(at) {
            continue;
        }
        let scheme = url.split(':').next().unwrap_or("");
        if is_url_scheme(scheme) {
            out.push((at, LinkKind::Url, url, None));
        }
    }
    out.sort_by_key(|l| l.0);
    out
}

#[cfg(test)]
mod tests {
    use super::super::{parse as parse_any, Format};
    use super::*;

    fn org(text: &str) -> Note {
        parse_any(text, Format::Org, "stem", &ParseOptions::default())
    }

    const NOTE: &str = r#":PROPERTIES:
:ID:       8f2c1a3e
:ROAM_ALIASES: "GNU Emacs" emacs
:ROAM_REFS: https://www.gnu.org/software/emacs/
:END:
#+title: Emacs
#+filetags: :editor:tools:
#+roam_aliases: "The Editor"

Intro mentions [[id:3b9d][Org mode]] and https://orgmode.org.

* TODO [#A] Packages I rely on [1/2]                              :pkg:
SCHEDULED: <2026-11-21 Sat>
:PROPERTIES:
:ID:       aa11
:ROAM_ALIASES: Packages
:END:
Body of packages with a plain id:bb22 link.
** DONE Completion                                               :ui:
Vertico and =[[id:not-a-link]]= consult.
#+begin_src emacs-lisp
* not a heading
[[id:also-not-a-link]]
#+end_src
* Keyboard macros
- first item with [[file:projects/dotfiles.org::*Setup][my dotfiles]]
  continued here
- second item [[roam:Start-up time]]
"#;

    #[test]
    fn line_kinds_tell_prose_from_headings_and_hidden_lines() {
        use super::super::{line_kinds, LineKind::*};
        let text = ":PROPERTIES:\n:ID: x\n:END:\n#+title: M4\n\n#+begin_src text\nAlpha in src\n#+end_src\n* Alpha\n:PROPERTIES:\n:ID: y\n:END:\n# Alpha comment\n: Alpha fixed\n#+begin_quote\nAlpha quoted\n#+end_quote\nAlpha\n";
        assert_eq!(
            line_kinds(text, Format::Org, &ParseOptions::default()),
            vec![
                Hidden, Hidden, Hidden, Hidden, Prose, Hidden, Hidden, Hidden, Heading, Hidden,
                Hidden, Hidden, Hidden, Hidden, Prose, Prose, Prose, Prose, Prose
            ]
        );
    }

    #[test]
    fn links_in_property_values_and_keywords_count_as_org_roam_counts_them() {
        let text = ":PROPERTIES:\n:ID: f\n:ROAM_REFS: [[id:refd]]\n:END:\n#+title: T\n#+related: [[id:kw]]\n#+transclude: [[id:tr]]\n* H\n:PROPERTIES:\n:LINKS: [[id:a][A]] and [[id:b]]\n:END:\n#+begin_src text\n#+x: [[id:src]]\n#+end_src\nSee [[id:c]].\n";
        let n = org(text);
        let links: Vec<(&str, u32, &str)> = n
            .links
            .iter()
            .map(|l| (l.target.as_str(), l.line, l.context.as_str()))
            .collect();
        assert_eq!(
            links,
            vec![
                ("kw", 6, "#+related: [[id:kw]]"),
                ("a", 10, ":LINKS: [[id:a][A]] and [[id:b]]"),
                ("b", 10, ":LINKS: [[id:a][A]] and [[id:b]]"),
                ("c", 15, "See [[id:c]]."),
            ]
        );
        assert_eq!(n.links[1].section, 1);
        // The lines stay hidden: no link is ever written there.
        let kinds = super::super::line_kinds(text, Format::Org, &ParseOptions::default());
        assert_eq!(kinds[9], LineKind::Hidden);
        assert_eq!(kinds[5], LineKind::Hidden);
    }

    #[test]
    fn planning_lines_are_hidden_from_link_edits() {
        use super::super::{line_kinds, LineKind::*};
        let text =
            "* TODO Task\nSCHEDULED: <2026-12-01 Tue> Alpha\n  DEADLINE: <2026-12-02>\nAlpha\n";
        assert_eq!(
            line_kinds(text, Format::Org, &ParseOptions::default()),
            vec![Heading, Hidden, Hidden, Prose, Prose]
        );
    }

    #[test]
    fn file_keywords_and_the_top_drawer() {
        let n = org(NOTE);
        assert_eq!(n.title, "Emacs");
        assert_eq!(n.title_line, 6);
        assert_eq!(n.id.as_deref(), Some("8f2c1a3e"));
        assert_eq!(n.aliases, vec!["The Editor", "GNU Emacs", "emacs"]);
        assert_eq!(n.refs, vec!["https://www.gnu.org/software/emacs/"]);
        assert_eq!(n.tags, vec!["editor", "tools"]);
    }

    #[test]
    fn headings_with_todo_priority_tags_cookies_and_outline() {
        let n = org(NOTE);
        let heads: Vec<(&str, u32, u32)> = n
            .sections
            .iter()
            .map(|s| (s.heading.as_str(), s.level, s.line))
            .collect();
        assert_eq!(
            heads,
            vec![
                ("", 0, 1),
                ("Packages I rely on", 1, 12),
                ("Completion", 2, 19),
                ("Keyboard macros", 1, 25)
            ]
        );
        let p = &n.sections[1];
        assert_eq!(p.todo.as_deref(), Some("TODO"));
        assert_eq!(p.tags, vec!["pkg"]);
        assert_eq!(p.id.as_deref(), Some("aa11"));
        assert_eq!(p.aliases, vec!["Packages"]);
        let c = &n.sections[2];
        assert_eq!(c.todo.as_deref(), Some("DONE"));
        assert_eq!(c.all_tags, vec!["editor", "tools", "pkg", "ui"]);
        assert_eq!(c.outline, vec!["Packages I rely on", "Completion"]);
        assert_eq!(n.sections[3].all_tags, vec!["editor", "tools"]);
    }

    #[test]
    fn bodies_blank_drawers_but_keep_lines() {
        let n = org(NOTE);
        let p = &n.sections[1];
        assert_eq!(p.body_line, 12);
        let body_lines: Vec<&str> = p.body.split('\n').collect();
        assert!(body_lines[0].starts_with("* TODO [#A] Packages I rely on"));
        assert_eq!(body_lines[1], "SCHEDULED: <2026-11-21 Sat>");
        assert_eq!(body_lines[2], "");
        assert_eq!(body_lines[5], "");
        assert_eq!(body_lines[6], "Body of packages with a plain id:bb22 link.");
        // The src block's text is searchable content of its section.
        assert!(n.sections[2].body.contains("* not a heading"));
    }

    #[test]
    fn links_of_every_form_with_lines_columns_and_context() {
        let n = org(NOTE);
        let links: Vec<(LinkKind, &str, u32, u32, usize)> = n
            .links
            .iter()
            .map(|l| (l.kind, l.target.as_str(), l.line, l.column, l.section))
            .collect();
        assert_eq!(
            links,
            vec![
                (LinkKind::Id, "3b9d", 10, 15, 0),
                (LinkKind::Url, "https://orgmode.org", 10, 41, 0),
                (LinkKind::Id, "bb22", 18, 30, 1),
                (LinkKind::File, "projects/dotfiles.org", 26, 18, 3),
                (LinkKind::Roam, "Start-up time", 28, 14, 3),
            ]
        );
        assert_eq!(n.links[0].label.as_deref(), Some("Org mode"));
        assert_eq!(
            n.links[3].context,
            "- first item with [[file:projects/dotfiles.org::*Setup][my dotfiles]] continued here"
        );
        assert_eq!(n.links[4].context, "- second item [[roam:Start-up time]]");
    }

    #[test]
    fn contexts_stop_at_property_drawers_and_planning_lines() {
        let n = org("* H\nSCHEDULED: <2026-01-01 Thu>\n:PROPERTIES:\n:ID: h1\n:END:\nSee [[id:x][x]]\nand more.\n:LOGBOOK:\n- note\n:END:\n");
        assert_eq!(n.links[0].context, "See [[id:x][x]] and more.");
        // A colon in prose is not a drawer line.
        let n = org("Note: see [[id:y][y]]\nand :this: too\n");
        assert_eq!(n.links[0].context, "Note: see [[id:y][y]] and :this: too");
        assert!(is_drawer_line(":END:"));
        assert!(is_drawer_line("  :ID:       abc"));
        assert!(!is_drawer_line(":: odd"));
        assert!(!is_drawer_line("Note: x"));
    }

    #[test]
    fn the_file_drawer_counts_only_where_org_looks_for_it() {
        let id = |text: &str| org(text).id;
        // First line, or after comment lines only.
        assert_eq!(
            id(":PROPERTIES:\n:ID: a\n:END:\n#+title: T\n").as_deref(),
            Some("a")
        );
        assert_eq!(
            id("# c\n#\n  :PROPERTIES:\n  :ID: b\n  :END:\n").as_deref(),
            Some("b")
        );
        // Not after a keyword, a blank line, text or a comment block.
        assert_eq!(id("#+title: T\n:PROPERTIES:\n:ID: c\n:END:\n"), None);
        assert_eq!(id("\n:PROPERTIES:\n:ID: d\n:END:\n"), None);
        assert_eq!(id("# c\n\n:PROPERTIES:\n:ID: e\n:END:\n"), None);
        assert_eq!(id("text\n:PROPERTIES:\n:ID: f\n:END:\n"), None);
        assert_eq!(
            id("#+begin_comment\nx\n#+end_comment\n:PROPERTIES:\n:ID: g\n:END:\n"),
            None
        );
        // A drawer Org does not read as one: a line that is no property.
        assert_eq!(id(":PROPERTIES:\n:ID: h\n\n:END:\n"), None);
        assert_eq!(id(":PROPERTIES:\n:ID: i\nprose\n:END:\n"), None);
        let n = org("* H\n:PROPERTIES:\n:ID: j\nnot a property\n:END:\n");
        assert_eq!(n.sections[1].id, None);
        // Its lines stay text: a link there is a link.
        let n = org("#+title: T\n:PROPERTIES:\n:ID: c\n:END:\nSee [[id:x][x]].\n");
        assert_eq!(n.links.len(), 1);
        assert!(is_property_line(":ROAM_EXCLUDE:"));
        assert!(is_property_line("  :ID:       abc  "));
        assert!(is_property_line(":a:b: c"));
        assert!(!is_property_line(":ID:abc"));
        assert!(!is_property_line("::"));
    }

    #[test]
    fn roam_exclude_marks_files_and_headings_unless_nil() {
        let n = org(":PROPERTIES:\n:ID: f\n:ROAM_EXCLUDE: t\n:END:\n* A\n:PROPERTIES:\n:ID: a\n:ROAM_EXCLUDE: nil\n:END:\n* B\n:PROPERTIES:\n:ID: b\n:ROAM_EXCLUDE:\n:END:\n** C\n:PROPERTIES:\n:ID: c\n:END:\n");
        assert!(n.exclude);
        assert_eq!(n.id.as_deref(), Some("f"));
        let marks: Vec<(&str, bool)> = n
            .sections
            .iter()
            .skip(1)
            .map(|s| (s.heading.as_str(), s.exclude))
            .collect();
        // Not inherited: C is a node under an excluded B.
        assert_eq!(marks, vec![("A", false), ("B", true), ("C", false)]);
    }

    #[test]
    fn an_unterminated_block_is_not_a_block() {
        let n = org("* A\n#+begin_src sh\necho [[id:x1]]\n* B\ntext\n");
        assert_eq!(n.sections.len(), 3);
        assert_eq!(n.sections[2].heading, "B");
        assert_eq!(n.links.len(), 1);
    }

    #[test]
    fn an_unterminated_drawer_is_ignored_and_swallows_nothing() {
        let n = org("* A\n:PROPERTIES:\n:ID: lost\n* B\n:PROPERTIES:\n:ID: b1\n:END:\n");
        assert_eq!(n.sections[1].id, None);
        assert_eq!(n.sections[2].heading, "B");
        assert_eq!(n.sections[2].id.as_deref(), Some("b1"));
    }

    #[test]
    fn quote_blocks_keep_links_but_not_headings() {
        let n = org("#+BEGIN_QUOTE\n* quoted\nsee [[id:q1][q]]\n#+END_QUOTE\n");
        assert_eq!(n.sections.len(), 1);
        assert_eq!(n.links.len(), 1);
        assert_eq!(n.links[0].target, "q1");
    }

    #[test]
    fn file_declared_todo_keywords_and_heading_links() {
        let n = org("#+TODO: NEXT(n) WAIT(w@/!) | CANCELLED(c)\n* NEXT Read [[id:x][the manual]] :a:b:\n* Plain *bold*\n");
        assert_eq!(n.sections[1].todo.as_deref(), Some("NEXT"));
        assert_eq!(n.sections[1].heading, "Read the manual");
        assert_eq!(n.sections[1].tags, vec!["a", "b"]);
        assert_eq!(n.sections[2].heading, "Plain *bold*");
        assert_eq!(n.sections[2].todo, None);
    }

    #[test]
    fn stars_without_space_are_not_headings() {
        let n = org("*bold* text\n**also bold**\n*\n* real\n");
        let heads: Vec<&str> = n
            .sections
            .iter()
            .skip(1)
            .map(|s| s.heading.as_str())
            .collect();
        assert_eq!(heads, vec!["", "real"]);
    }

    #[test]
    fn crlf_and_bom_give_the_same_lines() {
        let unix = org("* A\nline [[id:z]]\n");
        let dos = org(&super::super::decode(
            b"\xEF\xBB\xBF* A\r\nline [[id:z]]\r\n",
        ));
        assert_eq!(unix.sections, dos.sections);
        assert_eq!(unix.links, dos.links);
    }

    #[test]
    fn odd_links_do_not_confuse_the_scanner() {
        for text in [
            "[[",
            "[[]]",
            "[[a][",
            "[[a]][b]]",
            "[[\\]]]",
            "id:",
            "file:",
            "[[id:]]",
            "=unclosed",
            "~",
            "[[https://x.y/a][label with [brackets]]]",
        ] {
            let n = org(text);
            for l in &n.links {
                assert!(!l.target.is_empty(), "{text:?} gave an empty target");
            }
        }
        let n =
            org("[[https://example.com/a%20b][Example]] and [[./notes/a.org]] and [[*Heading]]");
        let kinds: Vec<LinkKind> = n.links.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            vec![LinkKind::Url, LinkKind::File, LinkKind::Internal]
        );
        assert_eq!(n.links[1].target, "./notes/a.org");
    }

    #[test]
    fn inline_source_blocks_hold_no_links() {
        let n = org(
            "Inline src_elisp{\"[[id:no]]\"} and src_sh[:results none]{echo [[id:no2]]} \
             but [[id:yes]] and src_{[[id:yes2]]} and mysrc_x{[[id:yes3]]}",
        );
        let targets: Vec<&str> = n.links.iter().map(|l| l.target.as_str()).collect();
        assert_eq!(targets, vec!["yes", "yes2", "yes3"]);
        // Unclosed braces are not a block.
        let n = org("src_elisp{ [[id:open]]");
        assert_eq!(n.links.len(), 1);
    }

    #[test]
    fn tags_after_multibyte_whitespace_do_not_panic() {
        for line in [
            "* Title\u{a0}:tag:",
            "* Title\u{3000}:tag:",
            "* \u{2028}:a:b:",
            "* Über :straße:",
        ] {
            let n = org(line);
            assert_eq!(
                n.sections.iter().filter(|s| s.level == 1).count(),
                1,
                "{line:?}"
            );
        }
        // Org's tags follow a space or a tab.
        let n = org("* Title\u{a0}:tag:\n* Other\t:x:y:");
        let heads: Vec<_> = n.sections.iter().filter(|s| s.level == 1).collect();
        assert!(heads[0].tags.is_empty());
        assert!(heads[0].heading.ends_with(":tag:"));
        assert_eq!(heads[1].tags, vec!["x", "y"]);
    }

    #[test]
    fn a_huge_single_line_parses_in_linear_time() {
        let mut text = String::from("#+title: big\n[[id:first]] ");
        text.push_str(&"words =and= ~code~ https://x.org/y ".repeat(600_000)); // about 20 MB
        text.push_str(" [[id:last]]");
        let start = std::time::Instant::now();
        let n = org(&text);
        assert_eq!(n.links.len(), MAX_LINKS_PER_NOTE);
        assert_eq!(n.links[0].target, "first");
        assert!(n.links[0].context.chars().count() <= 401);
        assert!(start.elapsed().as_secs() < 30);
    }
}
