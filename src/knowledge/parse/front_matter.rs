//! Front matter at the top of a Markdown note, in the three forms static
//! site generators write: YAML between `---` lines (Jekyll, Dendron,
//! Obsidian, Hugo), TOML between `+++` lines (Hugo, Zola, ox-hugo) and a
//! JSON object (Hugo).  The keys artisan uses are the same in each: `title`,
//! `id`, `aliases`/`alias`, and `tags`/`tag`/`keywords` (and Zola's
//! `[taxonomies] tags`).  Front matter is never prose: its lines hold no
//! links, headings or mentions, and the search snippets skip them.
//!
//! TOML and JSON are read with the `toml` and `serde_json` crates; YAML
//! with the small reader below, which knows the scalars, flow lists, block
//! lists and block scalars notes use (a full YAML parser would be the
//! largest dependency of the module for four keys).

use super::{line_no, push_unique, Note};

/// Reads the front matter at the top of `text` (split into `lines`) into
/// `note`, and returns the index of the first line after it: 0 when the
/// note has none.  A block that is opened but never closed, or a `{` that
/// does not start a JSON object, is not front matter.
pub(super) fn read(note: &mut Note, text: &str, lines: &[(usize, usize)]) -> usize {
    let line = |i: usize| -> &str {
        lines
            .get(i)
            .and_then(|&(s, e)| text.get(s..e))
            .unwrap_or("")
    };
    let first = line(0).trim_start_matches('\u{feff}').trim_end();
    let closing = |marks: &[&str]| (1..lines.len()).find(|&i| marks.contains(&line(i).trim_end()));
    match first {
        "---" => {
            if let Some(end) = closing(&["---", "..."]) {
                yaml(note, text, lines, 1, end);
                return end + 1;
            }
        }
        "+++" => {
            if let Some(end) = closing(&["+++"]) {
                let block = match (lines.get(1), lines.get(end)) {
                    (Some(&(from, _)), Some(&(to, _))) => text.get(from..to).unwrap_or(""),
                    _ => "",
                };
                if let Ok(table) = block.parse::<toml::Table>() {
                    for (key, value) in &table {
                        if key == "taxonomies" {
                            if let Some(tags) = value.get("tags") {
                                set(
                                    note,
                                    "tags",
                                    toml_strings(tags),
                                    title_line(&line, 1, end, "tags"),
                                );
                            }
                        } else {
                            let at = title_line(&line, 1, end, key);
                            set(note, key, toml_strings(value), at);
                        }
                    }
                }
                return end + 1;
            }
        }
        _ if first.starts_with('{') => {
            let start = text.len() - text.trim_start_matches('\u{feff}').len();
            let body = text.get(start..).unwrap_or("");
            let mut values =
                serde_json::Deserializer::from_str(body).into_iter::<serde_json::Value>();
            if let Some(Ok(serde_json::Value::Object(map))) = values.next() {
                let end_byte = start + values.byte_offset();
                // The line holding the closing brace, which must end it.
                let end = lines
                    .iter()
                    .position(|&(s, e)| s < end_byte && end_byte <= e);
                if let Some((end, &(_, line_end))) = end.and_then(|n| Some((n, lines.get(n)?))) {
                    let rest = text.get(end_byte..line_end).unwrap_or("");
                    if rest.trim().is_empty() {
                        for (key, value) in &map {
                            let at = title_line(&line, 0, end + 1, &format!("\"{key}\""));
                            set(note, key, json_strings(value), at);
                        }
                        return end + 1;
                    }
                }
            }
        }
        _ => {}
    }
    0
}

/// The 1-based number of the line among `from..to` that starts with `key`
/// (the line a title is written on), or of line `from` when none does.
fn title_line<'a>(line: &impl Fn(usize) -> &'a str, from: usize, to: usize, key: &str) -> u32 {
    let found = (from..to).find(|&i| {
        line(i)
            .trim_start()
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with(['=', ':']))
    });
    line_no(found.unwrap_or(from))
}

/// The strings a TOML value holds: itself, or the items of an array.
fn toml_strings(value: &toml::Value) -> Vec<String> {
    match value {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Array(items) => items.iter().flat_map(toml_strings).collect(),
        toml::Value::Table(_) => Vec::new(),
        toml::Value::Integer(n) => vec![n.to_string()],
        toml::Value::Float(x) => vec![x.to_string()],
        toml::Value::Boolean(b) => vec![b.to_string()],
        toml::Value::Datetime(d) => vec![d.to_string()],
    }
}

/// The strings a JSON value holds: itself, or the items of an array.
fn json_strings(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().flat_map(json_strings).collect(),
        serde_json::Value::Object(_) | serde_json::Value::Null => Vec::new(),
        other => vec![other.to_string()],
    }
}

/// Records the front-matter `key` with `values`, written on line `at`.
fn set(note: &mut Note, key: &str, values: Vec<String>, at: u32) {
    match key.to_ascii_lowercase().as_str() {
        "title" => {
            if let Some(t) = values.into_iter().next() {
                note.title = t;
                note.title_line = at;
            }
        }
        "id" => note.id = values.into_iter().next().filter(|v| !v.is_empty()),
        "aliases" | "alias" => {
            for v in values {
                push_unique(&mut note.aliases, &v);
            }
        }
        "tags" | "tag" | "keywords" => {
            for v in values {
                // A scalar may hold several tags: "a, b" or "a b".
                for t in v.split([',', ' ']) {
                    push_unique(&mut note.tags, t.trim().trim_start_matches('#'));
                }
            }
        }
        _ => {}
    }
}

/// Reads the YAML front matter of lines `from..to`.
fn yaml(note: &mut Note, text: &str, lines: &[(usize, usize)], from: usize, to: usize) {
    let line = |i: usize| -> &str { text.get(lines[i].0..lines[i].1).unwrap_or("") };
    let mut i = from;
    while i < to {
        let l = line(i);
        i += 1;
        if l.starts_with(' ') || l.starts_with('\t') || l.trim_start().starts_with('#') {
            continue;
        }
        let Some(colon) = l.find(':') else { continue };
        let key = l[..colon].trim().to_ascii_lowercase();
        let value = l[colon + 1..].trim();
        // A block list follows an empty value.
        let mut values = Vec::new();
        if matches!(value, ">" | ">-" | ">+" | "|" | "|-" | "|+") {
            // A block scalar: the indented lines that follow, joined.
            let mut parts = Vec::new();
            while i < to {
                let next = line(i);
                if next.trim().is_empty() || next.starts_with(' ') || next.starts_with('\t') {
                    parts.push(next.trim());
                    i += 1;
                } else {
                    break;
                }
            }
            let sep = if value.starts_with('>') { " " } else { "\n" };
            let joined = parts
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(sep);
            values.push(joined);
        } else if value.is_empty() {
            while i < to {
                let item = line(i).trim_start();
                match item
                    .strip_prefix("- ")
                    .or_else(|| (item == "-").then_some(""))
                {
                    Some(v) => {
                        values.push(unquote(v.trim()));
                        i += 1;
                    }
                    None => break,
                }
            }
        } else if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            values = split_flow_list(inner);
        } else {
            values.push(unquote(value));
        }
        set(note, &key, values, line_no(i - 1));
    }
}

/// A YAML scalar as written: double-quoted (with `\` escapes),
/// single-quoted (`''` is a quote) or plain.
fn unquote(v: &str) -> String {
    let v = v.trim();
    if let Some(rest) = v.strip_prefix('"') {
        let mut out = String::with_capacity(rest.len());
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return out,
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('0') => out.push('\0'),
                    Some(e @ ('x' | 'u' | 'U')) => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = chars.by_ref().take(n).collect();
                        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                            Some(c) => out.push(c),
                            None => out.push('\u{FFFD}'),
                        }
                    }
                    Some(c) => out.push(c),
                    None => break,
                },
                c => out.push(c),
            }
        }
        // Unterminated: keep it as written.
        return v.to_string();
    }
    if let Some(rest) = v.strip_prefix('\'') {
        let mut out = String::with_capacity(rest.len());
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\'' {
                out.push(c);
            } else if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
            } else {
                return out;
            }
        }
        return v.to_string();
    }
    v.to_string()
}

/// Splits the inside of a YAML flow list `a, "b, c", d`.
fn split_flow_list(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in inner.chars() {
        if escaped {
            escaped = false;
            current.push(c);
            continue;
        }
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                current.push(c);
            }
            (Some('"'), '\\') => {
                escaped = true;
                current.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (None, ',') => {
                let v = unquote(&current);
                if !v.is_empty() {
                    out.push(v);
                }
                current.clear();
            }
            _ => current.push(c),
        }
    }
    let v = unquote(&current);
    if !v.is_empty() {
        out.push(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{line_kinds, parse, Format, LineKind, ParseOptions};

    fn md(text: &str) -> super::Note {
        parse(text, Format::Markdown, "stem", &ParseOptions::default())
    }

    fn kinds(text: &str) -> Vec<LineKind> {
        line_kinds(text, Format::Markdown, &ParseOptions::default())
    }

    const HUGO_TOML: &str = "+++
title = \"Serotonin\"
author = [\"Someone\"]
tags = [\"neuro\", \"chemistry\"]
aliases = [\"5-HT\"]
draft = false
see = \"[[not-a-link]]\"
+++

Serotonin is a [[neurotransmitter]].
";

    #[test]
    fn toml_front_matter_is_read_and_hidden() {
        let n = md(HUGO_TOML);
        assert_eq!(n.title, "Serotonin");
        assert_eq!(n.title_line, 2);
        assert_eq!(n.tags, vec!["neuro", "chemistry"]);
        assert_eq!(n.aliases, vec!["5-HT"]);
        let targets: Vec<&str> = n.links.iter().map(|l| l.target.as_str()).collect();
        assert_eq!(targets, vec!["neurotransmitter"]);
        let k = kinds(HUGO_TOML);
        assert!(k[..8].iter().all(|&k| k == LineKind::Hidden), "{k:?}");
        assert_eq!(k[9], LineKind::Prose);
        assert!(
            !n.sections[0].body.contains("title ="),
            "{:?}",
            n.sections[0].body
        );
    }

    #[test]
    fn zola_taxonomies_and_ids() {
        let n = md(
            "+++\nid = \"n1\"\ntitle = 'Zola note'\n[taxonomies]\ntags = [\"rust\"]\n+++\nBody\n",
        );
        assert_eq!(n.id.as_deref(), Some("n1"));
        assert_eq!(n.title, "Zola note");
        assert_eq!(n.title_line, 3);
        assert_eq!(n.tags, vec!["rust"]);
    }

    #[test]
    fn malformed_toml_is_still_front_matter_and_hides_its_lines() {
        let text = "+++\ntitle = \"unclosed\nmore = [\n+++\nBody [[x]]\n";
        let n = md(text);
        // The file name is the title of last resort.
        assert_eq!(n.title, "stem");
        assert_eq!(kinds(text)[..4], [LineKind::Hidden; 4]);
        assert_eq!(n.links.len(), 1);
    }

    #[test]
    fn an_unclosed_toml_block_is_text() {
        let n = md("+++\ntitle = \"x\"\n\n# Real title\n");
        assert_eq!(n.title, "Real title");
    }

    #[test]
    fn json_front_matter_is_read_and_hidden() {
        let text = "{\n  \"title\": \"JSON note\",\n  \"tags\": [\"a\", \"b\"],\n  \"id\": \"J1\"\n}\n\nText [[here]].\n";
        let n = md(text);
        assert_eq!(n.title, "JSON note");
        assert_eq!(n.title_line, 2);
        assert_eq!(n.tags, vec!["a", "b"]);
        assert_eq!(n.id.as_deref(), Some("J1"));
        let k = kinds(text);
        assert!(k[..5].iter().all(|&k| k == LineKind::Hidden), "{k:?}");
        assert_eq!(k[6], LineKind::Prose);
    }

    #[test]
    fn a_brace_that_is_not_a_json_object_is_text() {
        for text in [
            "{not json}\n\n# T\n",
            "{\"a\": 1} trailing\n# T\n",
            "[1, 2]\n# T\n",
        ] {
            let n = md(text);
            assert_eq!(n.title, "T", "{text}");
            assert_eq!(kinds(text)[0], LineKind::Prose, "{text}");
        }
    }

    #[test]
    fn a_byte_order_mark_before_the_front_matter() {
        let n = md("\u{feff}---\ntitle: With BOM\n---\n");
        assert_eq!(n.title, "With BOM");
        let n = md("\u{feff}+++\ntitle = \"TOML BOM\"\n+++\n");
        assert_eq!(n.title, "TOML BOM");
    }
}
