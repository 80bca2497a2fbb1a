//! The Markdown parser: front matter (see [`super::front_matter`]), ATX and setext headings, fenced
//! code, `[[wikilinks]]`, `[text](target)` links and bare URLs.

use super::{
    front_matter, head, line_no, line_ranges, plain_urls, push_links, Found, LineKind, LinkKind,
    Note, Section, Spans, WikiSide, LOOKAHEAD, MAX_LINKS_PER_NOTE,
};

/// Parses Markdown text, and tells what each line is (see
/// [`super::line_kinds`]): the links are read from the lines that are not
/// [`LineKind::Hidden`].
pub(super) fn parse_with_kinds(text: &str) -> (Note, Vec<LineKind>) {
    let lines = line_ranges(text);
    let line = |i: usize| -> &str {
        lines
            .get(i)
            .and_then(|&(s, e)| text.get(s..e))
            .unwrap_or("")
    };
    let mut note = Note {
        title_line: 1,
        ..Note::default()
    };

    // Front matter: YAML, TOML or JSON.
    let first = front_matter::read(&mut note, text, &lines);

    // Code (fenced and indented), HTML comment blocks and headings.  Lines
    // marked in `in_code` hold no headings and no links.
    let mut in_code = vec![false; lines.len()];
    // (heading line, level, text, first line after the heading's markup)
    let mut headings: Vec<(usize, u32, String, usize)> = Vec::new();
    let mut fence: Option<(char, usize)> = None;
    // Inside an HTML block that starts with `<!--`, up to its `-->`.
    let mut html_comment = false;
    // The content column of the list item being continued (0 outside
    // lists): an indented code block must be indented 4 past it.
    let mut container = 0usize;
    let mut prev = Prev::Blank;
    for i in first..lines.len() {
        let l = line(i);
        let t = l.trim_start();
        let indent = l.len() - t.len();
        if let Some((ch, n)) = fence {
            in_code[i] = true;
            let run = t.chars().take_while(|&c| c == ch).count();
            if indent < 4 && run >= n && t[run * ch.len_utf8()..].trim().is_empty() {
                fence = None;
                prev = Prev::Other;
            }
            continue;
        }
        if html_comment {
            in_code[i] = true;
            if l.contains("-->") {
                html_comment = false;
                prev = Prev::Other;
            }
            continue;
        }
        if t.is_empty() {
            prev = Prev::Blank;
            continue;
        }
        let width = indent_width(l);
        let list_item = super::is_list_item(l);
        if prev == Prev::Blank && !list_item && width < container {
            container = 0;
        }
        // An indented code block: 4 columns in, not continuing a paragraph.
        if width >= container + 4 && prev != Prev::Para {
            in_code[i] = true;
            prev = Prev::Other;
            continue;
        }
        if list_item {
            container = list_content_width(l);
        }
        if indent < 4 {
            let ch = t.chars().next().unwrap_or(' ');
            if ch == '`' || ch == '~' {
                let run = t.chars().take_while(|&c| c == ch).count();
                if run >= 3 {
                    fence = Some((ch, run));
                    in_code[i] = true;
                    continue;
                }
            }
            if let Some(rest) = t.strip_prefix("<!--") {
                in_code[i] = true;
                html_comment = !rest.contains("-->");
                prev = Prev::Other;
                continue;
            }
        }
        if let Some((level, heading)) = atx_heading(l) {
            headings.push((i, level, heading, i + 1));
            prev = Prev::Other;
            continue;
        }
        prev = Prev::Para;
        // Setext: a paragraph line underlined with === or ---.
        if i > first && indent < 4 {
            let under = t.trim_end();
            let level = if !under.is_empty() && under.chars().all(|c| c == '=') {
                Some(1)
            } else if under.len() >= 2 && under.chars().all(|c| c == '-') {
                Some(2)
            } else {
                None
            };
            let above = line(i - 1);
            let above_is_text = !above.trim().is_empty()
                && !in_code[i - 1]
                && atx_heading(above).is_none()
                && !super::is_list_item(above)
                && headings.last().is_none_or(|h| h.0 != i - 1);
            if let (Some(level), true) = (level, above_is_text) {
                headings.push((
                    i - 1,
                    level,
                    clean_heading(without_attributes(above.trim())),
                    i + 1,
                ));
                prev = Prev::Other;
            }
        }
    }

    if note.title.is_empty() {
        if let Some(h) = headings.iter().find(|h| h.1 == 1) {
            note.title = h.2.clone();
            note.title_line = line_no(h.0);
        }
    }

    // Sections.
    let section_end = |n: usize| headings.get(n + 1).map_or(lines.len(), |h| h.0);
    let body = |from: usize, to: usize| -> String {
        match (
            lines.get(from),
            to.checked_sub(1).and_then(|t| lines.get(t)),
        ) {
            (Some(&(s, _)), Some(&(_, e))) if from < to => text.get(s..e).unwrap_or("").to_string(),
            _ => String::new(),
        }
    };
    let preamble_end = headings.first().map_or(lines.len(), |h| h.0);
    note.sections.push(Section {
        level: 0,
        line: 1,
        body_line: line_no(first),
        all_tags: note.tags.clone(),
        id: note.id.clone(),
        body: body(first, preamble_end),
        ..Section::default()
    });
    let mut stack: Vec<(u32, String)> = Vec::new();
    for (n, (at, level, heading, body_start)) in headings.iter().enumerate() {
        while stack.last().is_some_and(|(l, _)| l >= level) {
            stack.pop();
        }
        let outline = super::outline_path(stack.iter().map(|(_, h)| h.as_str()), heading);
        stack.push((*level, heading.clone()));
        note.sections.push(Section {
            level: *level,
            heading: heading.clone(),
            all_tags: note.tags.clone(),
            outline,
            line: line_no(*at),
            body_line: line_no(*at),
            body: body(*at, section_end(n).max(*body_start)),
            ..Section::default()
        });
    }

    // What each line is: front matter, code and comments hide links.
    let mut kinds: Vec<LineKind> = in_code
        .iter()
        .enumerate()
        .map(|(i, &code)| {
            if i < first || code {
                LineKind::Hidden
            } else {
                LineKind::Prose
            }
        })
        .collect();
    for h in &headings {
        // An ATX heading's line, or a setext heading's text and underline.
        for k in kinds.iter_mut().take(h.3).skip(h.0) {
            *k = LineKind::Heading;
        }
    }

    // Links.
    let is_break = |l: &str| {
        atx_heading(l).is_some() || {
            let t = l.trim();
            t.starts_with("```") || t.starts_with("~~~") || t == "---" || t == "..."
        }
    };
    let mut section = 0;
    // Inside an inline HTML comment that began on an earlier line.
    let mut comment = false;
    for (i, &kind) in kinds.iter().enumerate().skip(first) {
        while headings.get(section).is_some_and(|h| h.0 <= i) {
            section += 1;
        }
        let l = line(i);
        if kind == LineKind::Hidden || l.trim().is_empty() {
            comment = false;
            continue;
        }
        if note.links.len() >= MAX_LINKS_PER_NOTE {
            break;
        }
        push_links(
            &mut note,
            text,
            &lines,
            i,
            section,
            line_links(l, &mut comment),
            &is_break,
        );
    }
    (note, kinds)
}

/// What the previous line was, for indented code blocks (which cannot
/// interrupt a paragraph).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    Blank,
    Para,
    Other,
}

/// The width of a line's indentation in columns, tabs stopping every 4.
fn indent_width(line: &str) -> usize {
    let mut width = 0;
    for c in line.chars() {
        match c {
            ' ' => width += 1,
            '\t' => width += 4 - width % 4,
            _ => break,
        }
    }
    width
}

/// The column where a list item's text starts (`- x` -> 2, `10. x` -> 4).
fn list_content_width(line: &str) -> usize {
    let indent = indent_width(line);
    let t = line.trim_start();
    let marker = if t.starts_with(['-', '+', '*']) {
        1
    } else {
        let digits = t.chars().take_while(char::is_ascii_digit).count();
        digits + 1
    };
    let after = t.get(marker..).unwrap_or("");
    let spaces = after.chars().take_while(|&c| c == ' ').count();
    // Five or more spaces: the item's text starts after one, the rest is code.
    indent + marker + if (1..=4).contains(&spaces) { spaces } else { 1 }
}

/// An ATX heading (`## Title ##`): (level, text).
fn atx_heading(line: &str) -> Option<(u32, String)> {
    let t = line.trim_start();
    if line.len() - t.len() > 3 {
        return None;
    }
    let hashes = t.bytes().take_while(|&b| b == b'#').count();
    if hashes == 0 || hashes > 6 {
        return None;
    }
    let rest = &t[hashes..];
    if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
        return None;
    }
    let mut text = rest.trim();
    // A closing run of #s, preceded by a space, is not part of the text.
    let without = text.trim_end_matches('#');
    if without.is_empty() || without.ends_with(' ') {
        text = without.trim_end();
    }
    Some((
        u32::try_from(hashes).unwrap_or(1),
        clean_heading(without_attributes(text)),
    ))
}

/// Heading text without a trailing attribute list, as Pandoc, Hugo,
/// kramdown and ox-hugo write them: `From HackerNews {#from-hn .big
/// lang=en}`.  The list is only removed when every item in it is an
/// attribute (`#id`, `.class`, `key=value`, `key="a b"`, `-`), so a
/// heading that ends in braces of its own keeps them.
fn without_attributes(text: &str) -> &str {
    let Some(inner) = text.strip_suffix('}') else {
        return text;
    };
    let Some(open) = inner.rfind('{') else {
        return text;
    };
    let before = &inner[..open];
    if !(before.is_empty() || before.ends_with([' ', '\t'])) {
        return text;
    }
    let items = &inner[open + 1..];
    let mut rest = items.trim();
    if rest.is_empty() {
        return text;
    }
    let name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
    };
    while !rest.is_empty() {
        let (item, after) = if let Some(eq) = rest.find('=').filter(|&eq| {
            rest[..eq].find(char::is_whitespace).is_none() && rest[eq + 1..].starts_with('"')
        }) {
            // key="quoted value"
            let value = &rest[eq + 2..];
            let Some(close) = value.find('"') else {
                return text;
            };
            (&rest[..eq + 2 + close + 1], &value[close + 1..])
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        let ok = item == "-"
            || item.strip_prefix('#').is_some_and(name)
            || item.strip_prefix('.').is_some_and(name)
            || item
                .split_once('=')
                .is_some_and(|(k, v)| name(k) && (v.is_empty() || !v.contains(['{', '}'])));
        if !ok {
            return text;
        }
        rest = after.trim_start();
    }
    before.trim_end()
}

/// Heading text for display: links become their labels.
fn clean_heading(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("[[") {
        out.push_str(&rest[..i]);
        let inner_start = i + 2;
        match rest[inner_start..].find("]]") {
            Some(close) => {
                let inner = &rest[inner_start..inner_start + close];
                let shown = match inner.split_once('|') {
                    // Dendron writes [[label|note]], Obsidian [[note|label]]:
                    // show the side that does not look like a note name.
                    Some((a, b)) => {
                        let looks_like_name =
                            |x: &str| x.contains("://") || (!x.contains(' ') && x.contains('.'));
                        if looks_like_name(b) && !looks_like_name(a) {
                            a
                        } else {
                            b
                        }
                    }
                    None => inner,
                };
                out.push_str(shown.trim());
                rest = &rest[inner_start + close + 2..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    // [text](target) shows its text.
    let mut cleaned = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(mid) = rest.find("](") {
        match (rest[..mid].rfind('['), rest[mid + 2..].find(')')) {
            (Some(open), Some(close)) => {
                cleaned.push_str(&rest[..open]);
                cleaned.push_str(&rest[open + 1..mid]);
                rest = &rest[mid + 2 + close + 1..];
            }
            _ => break,
        }
    }
    cleaned.push_str(rest);
    cleaned.trim().to_string()
}

/// Byte ranges of inline code spans in a line.
fn code_spans(line: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(rel) = line[from..].find('`') {
        let start = from + rel;
        let ticks = line[start..].bytes().take_while(|&b| b == b'`').count();
        let delim = &line[start..start + ticks];
        let after = start + ticks;
        match head(&line[after..], LOOKAHEAD).find(delim) {
            Some(rel_end) => {
                let end = after + rel_end + ticks;
                spans.push((start, end));
                from = end;
            }
            None => from = after,
        }
        if from >= line.len() {
            break;
        }
    }
    spans
}

/// Byte ranges of HTML comments (`<!-- ... -->`) in a line, outside code
/// spans.  `open` says whether a comment began on an earlier line of the
/// paragraph, and is left saying whether one is still open at the end.
fn comment_spans(line: &str, code: &Spans, open: &mut bool) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut from = 0;
    if *open {
        match line.find("-->") {
            Some(end) => {
                spans.push((0, end + 3));
                from = end + 3;
                *open = false;
            }
            None => {
                spans.push((0, line.len()));
                return spans;
            }
        }
    }
    while let Some(rel) = line[from..].find("<!--") {
        let start = from + rel;
        if code.contains(start) {
            from = start + 4;
            continue;
        }
        match line[start + 4..].find("-->") {
            Some(rel_end) => {
                let end = start + 4 + rel_end + 3;
                spans.push((start, end));
                from = end;
            }
            None => {
                spans.push((start, line.len()));
                *open = true;
                break;
            }
        }
    }
    spans
}

/// The end (exclusive, in bytes) of a link destination and title that
/// follow `](`: the `)` that closes them, parentheses inside balanced.
fn destination_end(rest: &str) -> Option<usize> {
    let trimmed = rest.trim_start();
    let lead = rest.len() - trimmed.len();
    let mut from = lead;
    if trimmed.starts_with('<') {
        from = lead + trimmed.find('>')? + 1;
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut chars = rest[from..].char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            // A title: "x", 'x' or (x) after the destination and a space.
            (None, '"' | '\'') if rest[..from + i].ends_with(char::is_whitespace) && depth == 0 => {
                quote = Some(c);
            }
            (None, '(') => depth += 1,
            (None, ')') if depth == 0 => return Some(from + i),
            (None, ')') => depth -= 1,
            _ => {}
        }
    }
    None
}

/// `s` with `%XX` escapes decoded, or as written when they do not decode
/// to UTF-8.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16));
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// Links in one line: wikilinks, Markdown links and bare URLs, outside code
/// spans and HTML comments (`comment` carries an open comment from line
/// to line).  Returns (byte offset, kind, target, label).
fn line_links(line: &str, comment: &mut bool) -> Vec<Found> {
    // Every link form holds '[' (wikilinks, [text](target)) or ':' (URLs);
    // a comment opens with '<', a Hugo shortcode with '{'.
    if !*comment
        && memchr::memchr3(b'[', b':', b'<', line.as_bytes()).is_none()
        && memchr::memchr(b'{', line.as_bytes()).is_none()
    {
        return Vec::new();
    }
    let mut hidden = code_spans(line);
    let comments = comment_spans(line, &Spans::new(hidden.clone()), comment);
    hidden.extend(comments);
    let code = Spans::new(hidden);
    let mut out = Vec::new();
    let mut wiki: Vec<(usize, usize)> = Vec::new();

    // [[wikilinks]], [[target|label]], ![[embeds]].
    let mut from = 0;
    while let Some(rel) = line[from..].find("[[") {
        let at = from + rel;
        let inner_start = at + 2;
        let Some(mut close) = head(&line[inner_start..], LOOKAHEAD).find("]]") else {
            from = inner_start;
            continue;
        };
        // Brackets inside are fine when they pair up, as in a heading
        // anchor `[[note#Plan [draft]]]`: the link then ends at the `]]`
        // after the last one.
        let mut open_inside = unclosed_brackets(&line[inner_start..inner_start + close]);
        while open_inside.is_some_and(|n| n > 0) && line[inner_start + close + 2..].starts_with(']')
        {
            close += 1;
            open_inside = unclosed_brackets(&line[inner_start..inner_start + close]);
        }
        let inner = &line[inner_start..inner_start + close];
        from = inner_start + close + 2;
        if open_inside != Some(0) || inner.starts_with('[') || code.contains(at) {
            continue;
        }
        wiki.push((at, from));
        // Obsidian writes [[target|label]], Dendron [[label|target]]: both
        // sides are kept as written and the resolver tries both.  An empty
        // side leaves a one-sided link: [[|note]] is [[note]].
        let (target, label) = match inner.split_once('|') {
            Some((a, b)) if a.trim().is_empty() => (b.trim(), None),
            Some((a, b)) if b.trim().is_empty() => (a.trim(), None),
            Some((a, b)) => (a.trim(), Some(b.trim())),
            None => (inner.trim(), None),
        };
        let named = |s: &str| !WikiSide::parse(s).name.is_empty();
        let (target, label) = match label {
            _ if named(target) => (target, label),
            Some(l) if named(l) => (l, None),
            _ => continue,
        };
        out.push((
            at,
            LinkKind::Wiki,
            target.to_string(),
            label.map(str::to_string),
        ));
    }

    // [text](target "title"), not images.
    let wiki = Spans::new(wiki);
    let mut inline: Vec<(usize, usize)> = Vec::new();
    let mut from = 0;
    while let Some(rel) = line[from..].find("](") {
        let mid = from + rel;
        from = mid + 2;
        // The matching [ before.
        let window = mid.saturating_sub(LOOKAHEAD);
        let window = (window..=mid)
            .find(|&i| line.is_char_boundary(i))
            .unwrap_or(mid);
        let Some(open) = matching_open_bracket(&line[window..mid]).map(|o| o + window) else {
            continue;
        };
        if wiki.contains(open) || code.contains(open) {
            continue;
        }
        let rest = head(&line[mid + 2..], LOOKAHEAD);
        let Some(close) = destination_end(rest) else {
            continue;
        };
        let is_image = open > 0 && line.as_bytes()[open - 1] == b'!';
        let end = mid + 2 + close + 1;
        inline.push((open, end));
        from = end;
        if is_image {
            continue;
        }
        let mut target = rest[..close].trim();
        // `[x]({{< relref "y.md#a" >}})`: Hugo's ref and relref shortcodes
        // name the page; another shortcode is no link.
        if target.starts_with("{{") {
            if let Some(path) = shortcode(target).and_then(|(_, p)| p) {
                let label = line[open + 1..mid].trim().to_string();
                out.push((
                    open,
                    LinkKind::Relative,
                    path,
                    (!label.is_empty()).then_some(label),
                ));
            }
            continue;
        }
        if let Some(t) = target.strip_prefix('<') {
            target = t.split('>').next().unwrap_or(t);
        } else if let Some((t, _title)) = target.split_once(char::is_whitespace) {
            target = t;
        }
        // `[issue]((https://example.com))`: a destination wrapped in
        // parentheses is what they wrap (a URL stays a URL).
        while let Some(t) = unwrap_parentheses(target) {
            target = t.trim();
        }
        let label = line[open + 1..mid].trim().to_string();
        let label = (!label.is_empty()).then_some(label);
        if target.is_empty() {
            continue;
        }
        if target.starts_with('#') {
            out.push((open, LinkKind::Internal, target.to_string(), label));
            continue;
        }
        let scheme_end = target.find(':');
        let has_scheme = scheme_end.is_some_and(|i| {
            i > 1
                && target[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if has_scheme {
            out.push((open, LinkKind::Url, target.to_string(), label));
        } else {
            let path = target.split(['#', '?']).next().unwrap_or(target);
            let path = percent_decode(path);
            if !path.is_empty() {
                out.push((open, LinkKind::Relative, path, label));
            }
        }
    }

    let inline = Spans::new(inline);
    // Hugo's {{< ref "x" >}} and {{< relref "x" >}} outside a link's
    // destination are links too (in raw HTML, say).
    let mut from = 0;
    while let Some(rel) = line[from..].find("{{") {
        let at = from + rel;
        match shortcode(&line[at..]) {
            Some((len, path)) => {
                from = at + len;
                if let Some(path) = path {
                    if !inline.contains(at) && !code.contains(at) && !wiki.contains(at) {
                        out.push((at, LinkKind::Relative, path, None));
                    }
                }
            }
            None => from = at + 2,
        }
    }
    for (at, url) in plain_urls(line) {
        if !wiki.contains(at) && !inline.contains(at) && !code.contains(at) {
            out.push((at, LinkKind::Url, url, None));
        }
    }
    out.sort_by_key(|l| l.0);
    out
}

/// The Hugo shortcode at the start of `s` (`{{< name args >}}` or
/// `{{% name args %}}`): its length in bytes and, for `ref` and `relref`,
/// the page it names as a link target.  Hugo looks a relative page up
/// from the current page and then from the content root; artisan writes
/// it from the root (`/x.md`), which the graph resolves below the nearest
/// directory above the note that holds it (the page's own directory
/// last).  The `#anchor` part is dropped, as for other relative links.
fn shortcode(s: &str) -> Option<(usize, Option<String>)> {
    let (open, close) = if s.starts_with("{{<") {
        ("{{<", ">}}")
    } else if s.starts_with("{{%") {
        ("{{%", "%}}")
    } else {
        return None;
    };
    let end = head(s, LOOKAHEAD).find(close)?;
    let inner = s[open.len()..end].trim().trim_start_matches('/').trim();
    let (name, args) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
    let len = end + close.len();
    if !matches!(name, "ref" | "relref") {
        return Some((len, None));
    }
    let args = args.trim();
    let args = args.strip_prefix("path=").unwrap_or(args).trim();
    let page = match args.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap_or(""),
        None => args.split_whitespace().next().unwrap_or(""),
    };
    let page = page.split(['#', '?']).next().unwrap_or("");
    if page.is_empty() {
        return Some((len, None));
    }
    let page = percent_decode(page);
    let rooted = if page.starts_with('/') {
        page
    } else {
        format!("/{page}")
    };
    Some((len, Some(rooted)))
}

/// `s` without the parentheses around all of it (`(x)` -> `x`, but not
/// `(a)(b)`), or None when it is not wrapped in them.
fn unwrap_parentheses(s: &str) -> Option<&str> {
    if !s.starts_with('(') {
        return None;
    }
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return (i == s.len() - 1).then(|| &s[1..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// How many `[` in `s` are left open, or None when a `]` closes none.
fn unclosed_brackets(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for b in s.bytes() {
        match b {
            b'[' => depth += 1,
            b']' => depth = depth.checked_sub(1)?,
            _ => {}
        }
    }
    Some(depth)
}

/// The index of the `[` matching the `]` at the end of `s`.
fn matching_open_bracket(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate().rev() {
        match b {
            b']' => depth += 1,
            b'[' if depth == 0 => return Some(i),
            b'[' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::{parse as parse_any, Format, ParseOptions};
    use super::*;

    fn md(text: &str) -> Note {
        parse_any(text, Format::Markdown, "stem", &ParseOptions::default())
    }

    const NOTE: &str = "---
id: abc123
title: \"Recipes: a collection\"
tags: [cooking, \"food\"]
aliases:
  - Cookbook
  - 'Kitchen notes'
---

# Recipes

See [[bread]] and [[pasta-al-limone|lemon pasta]] or [[Lemon pasta|pasta-al-limone]].

Setext heading
--------------

Sourdough is in [the bread note](bread.md#starter) and ![a photo](img/bread.png).
Web: <https://example.com/x> and `[[not-a-link]]` in code.

```
# not a heading
[[also-not]]
```
### Deep ###
[[dendron://vault/dendron.topic.vaults|vaults]] [[note#heading]]
";

    #[test]
    fn front_matter_fields() {
        let n = md(NOTE);
        assert_eq!(n.id.as_deref(), Some("abc123"));
        assert_eq!(n.title, "Recipes: a collection");
        assert_eq!(n.title_line, 3);
        assert_eq!(n.tags, vec!["cooking", "food"]);
        assert_eq!(n.aliases, vec!["Cookbook", "Kitchen notes"]);
    }

    #[test]
    fn atx_and_setext_headings_but_not_in_code() {
        let n = md(NOTE);
        let heads: Vec<(&str, u32, u32)> = n
            .sections
            .iter()
            .map(|s| (s.heading.as_str(), s.level, s.line))
            .collect();
        assert_eq!(
            heads,
            vec![
                ("", 0, 1),
                ("Recipes", 1, 10),
                ("Setext heading", 2, 14),
                ("Deep", 3, 24)
            ]
        );
        assert_eq!(
            n.sections[3].outline,
            vec!["Recipes", "Setext heading", "Deep"]
        );
        assert_eq!(n.sections[2].body_line, 14);
        assert!(n.sections[2]
            .body
            .starts_with("Setext heading\n--------------\n"));
        assert!(n.sections[2].body.contains("# not a heading"));
    }

    #[test]
    fn wikilinks_markdown_links_and_urls() {
        let n = md(NOTE);
        let links: Vec<(LinkKind, &str, Option<&str>, u32)> = n
            .links
            .iter()
            .map(|l| (l.kind, l.target.as_str(), l.label.as_deref(), l.line))
            .collect();
        assert_eq!(
            links,
            vec![
                (LinkKind::Wiki, "bread", None, 12),
                (LinkKind::Wiki, "pasta-al-limone", Some("lemon pasta"), 12),
                (LinkKind::Wiki, "Lemon pasta", Some("pasta-al-limone"), 12),
                (LinkKind::Relative, "bread.md", Some("the bread note"), 17),
                (LinkKind::Url, "https://example.com/x", None, 18),
                (
                    LinkKind::Wiki,
                    "dendron://vault/dendron.topic.vaults",
                    Some("vaults"),
                    25
                ),
                (LinkKind::Wiki, "note#heading", None, 25),
            ]
        );
        assert_eq!(n.links[0].column, 4);
        assert_eq!(n.links[0].section, 1);
        assert_eq!(n.links[3].section, 2);
    }

    #[test]
    fn dendron_references_keep_both_sides_and_contexts_skip_front_matter() {
        let n = md("---\nid: x\n---\nSee ![[Mobile|dendron.guides.cook#mobile,1:#*]] and [[docs|dendron://v/dendron.pod#cfg]].\n");
        let links: Vec<(&str, Option<&str>)> = n
            .links
            .iter()
            .map(|l| (l.target.as_str(), l.label.as_deref()))
            .collect();
        assert_eq!(
            links,
            vec![
                ("Mobile", Some("dendron.guides.cook#mobile,1:#*")),
                ("docs", Some("dendron://v/dendron.pod#cfg"))
            ]
        );
        let side = WikiSide::parse("dendron.guides.cook#mobile,1:#*");
        assert_eq!(
            (side.name, side.anchor, side.dendron),
            ("dendron.guides.cook", Some("mobile"), false)
        );
        let side = WikiSide::parse(" dendron://v/dendron.pod#cfg ");
        assert_eq!(
            (side.name, side.anchor, side.dendron),
            ("dendron.pod", Some("cfg"), true)
        );
        assert!(side.is_name_like());
        assert!(WikiSide::parse("notes/My Note").is_name_like());
        assert!(!WikiSide::parse("Dendron Reading Series").is_name_like());
        assert!(!WikiSide::parse("Dr. Who").is_name_like());
        assert!(
            n.links[0].context.starts_with("See "),
            "{}",
            n.links[0].context
        );
    }

    #[test]
    fn the_first_h1_is_the_title_without_front_matter() {
        let n = md("intro\n\n# Real title\ntext\n");
        assert_eq!(n.title, "Real title");
        assert_eq!(n.title_line, 3);
        let n = md("no headings at all\n");
        assert_eq!(n.title, "stem");
    }

    #[test]
    fn an_unclosed_front_matter_is_text() {
        let n = md("---\ntitle: x\n# Heading\n");
        assert_eq!(n.title, "Heading");
        assert_eq!(n.sections.len(), 2);
    }

    #[test]
    fn a_thematic_break_after_a_blank_line_is_not_a_heading() {
        let n = md("para\n\n---\n\nmore\n");
        assert_eq!(n.sections.len(), 1);
    }

    #[test]
    fn block_scalars_in_front_matter() {
        let n = md("---\ntitle: >-\n  Reading series:\n  deep work\ndesc: |\n  x\n---\nbody\n");
        assert_eq!(n.title, "Reading series: deep work");
    }

    #[test]
    fn headings_show_link_labels() {
        assert_eq!(
            clean_heading("[[Packed Circle Map|dendron://site/dendron.topic.packed-circles]]"),
            "Packed Circle Map"
        );
        assert_eq!(
            clean_heading("See [[note.name|the label]] and [docs](x.md)"),
            "See the label and docs"
        );
        assert_eq!(clean_heading("[[plain]] [[unclosed"), "plain [[unclosed");
    }

    #[test]
    fn scalar_tags_split_on_commas_and_spaces() {
        let n = md("---\ntags: a, b #c\n---\n");
        assert_eq!(n.tags, vec!["a", "b", "c"]);
    }

    #[test]
    fn a_huge_single_line_with_unclosed_brackets_parses_in_linear_time() {
        let mut text = String::from("# big\n");
        text.push_str(&"[[x ](y `z [a](b ".repeat(1_200_000)); // about 20 MB
        let start = std::time::Instant::now();
        let n = md(&text);
        assert_eq!(n.sections.len(), 2);
        assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
    }

    fn targets(n: &Note) -> Vec<&str> {
        n.links.iter().map(|l| l.target.as_str()).collect()
    }

    #[test]
    fn indented_code_blocks_hold_no_links_but_list_paragraphs_do() {
        let n = md("Intro [[a]]\n\n    [[code1]]\n    more code\n\ntext\n    [[lazy]]\n\n\t[[tab-code]]\n\n- item\n\n    [[list-para]]\n\n        [[list-code]]\n\nout\n\n# H\n    [[after-heading]]\n    # not a heading\n");
        assert_eq!(targets(&n), vec!["a", "lazy", "list-para"]);
        assert_eq!(n.sections.len(), 2, "a # in indented code is no heading");
        // At the very start of the body, too.
        let n = md("---\ntitle: t\n---\n    [[code]]\n[[b]]\n");
        assert_eq!(targets(&n), vec!["b"]);
    }

    #[test]
    fn html_comments_hold_no_links_or_headings() {
        let n = md("<!-- [[c1]] -->\nSee [[a]] <!-- [[c2]] --> and [[b]].\n\n<!--\n# Hidden\n[[c3]]\n-->\nText <!-- open\n[[c4]]\nclose --> [[d]]\n\n`<!--` [[e]]\n");
        assert_eq!(targets(&n), vec!["a", "b", "d", "e"]);
        assert_eq!(n.sections.len(), 1);
        // An inline comment is never left open past its paragraph.
        let n = md("x <!-- unclosed\n\n[[f]]\n");
        assert_eq!(targets(&n), vec!["f"]);
    }

    #[test]
    fn an_empty_side_leaves_a_one_sided_wikilink() {
        let n = md("![[|dendron://v/community.events]] [[note|]] [[ | ]] [[#only-anchor]]\n");
        let links: Vec<(&str, Option<&str>)> = n
            .links
            .iter()
            .map(|l| (l.target.as_str(), l.label.as_deref()))
            .collect();
        assert_eq!(
            links,
            vec![("dendron://v/community.events", None), ("note", None)]
        );
    }

    #[test]
    fn relative_links_decode_escapes_and_balance_parentheses() {
        let n = md("[a](My%20Notes/caf%C3%A9.md) [b](notes/x_(draft).md \"title (x)\") [c](<with space.md>) [d](%ZZ.md)\n");
        assert_eq!(
            targets(&n),
            vec![
                "My Notes/café.md",
                "notes/x_(draft).md",
                "with space.md",
                "%ZZ.md"
            ]
        );
    }

    #[test]
    fn quoted_front_matter_titles_read_back() {
        for (yaml, title) in [
            (
                r#""Issue #5: tricky \"title\"""#,
                r#"Issue #5: tricky "title""#,
            ),
            (r#""Foo: bar""#, "Foo: bar"),
            (r#""[draft] plan""#, "[draft] plan"),
            (r#""- dash""#, "- dash"),
            (r#""back\\slash \u00e9""#, r"back\slash é"),
            ("'it''s'", "it's"),
            ("plain title", "plain title"),
        ] {
            let n = md(&format!("---\ntitle: {yaml}\n---\n"));
            assert_eq!(n.title, title, "{yaml}");
        }
        let n = md("---\naliases: [\"a \\\" b, c\", d]\n---\n");
        assert_eq!(n.aliases, vec!["a \" b, c", "d"]);
    }

    #[test]
    fn a_url_in_parentheses_is_a_url_not_a_relative_link() {
        let n = md(
            "[issue]((https://github.com/dendronhq/dendron/pull/1158)) [b]((./x.md)) [c]((a)(b))\n",
        );
        let links: Vec<(LinkKind, &str)> = n
            .links
            .iter()
            .map(|l| (l.kind, l.target.as_str()))
            .collect();
        assert_eq!(
            links,
            vec![
                (
                    LinkKind::Url,
                    "https://github.com/dendronhq/dendron/pull/1158"
                ),
                (LinkKind::Relative, "./x.md"),
                (LinkKind::Relative, "(a)(b)"),
            ]
        );
    }

    #[test]
    fn wikilinks_may_hold_brackets_that_pair_up() {
        let n =
            md("[[q#Plan [draft]|Plan (draft)]] [[q#Plan [draft]]] [[a] [b]] [[[c]]] [[x]y[z]]\n");
        let links: Vec<(&str, Option<&str>)> = n
            .links
            .iter()
            .map(|l| (l.target.as_str(), l.label.as_deref()))
            .collect();
        assert_eq!(
            links,
            vec![
                ("q#Plan [draft]", Some("Plan (draft)")),
                ("q#Plan [draft]", None),
            ]
        );
    }

    #[test]
    fn hugo_ref_and_relref_shortcodes_are_links_and_other_shortcodes_are_not() {
        let n = md("See [Serotonin]({{< relref \"serotonin.md#effects\" >}}), \
                    {{< ref \"/posts/dopamine\" >}} and [fig]({{< figure src=\"x.png\" >}}).\n\
                    {{% relref path=\"notes/a b.md\" %}} {{< youtube id >}} `{{< ref \"code.md\" >}}`\n");
        let links: Vec<(LinkKind, &str, Option<&str>, u32, u32)> = n
            .links
            .iter()
            .map(|l| {
                (
                    l.kind,
                    l.target.as_str(),
                    l.label.as_deref(),
                    l.line,
                    l.column,
                )
            })
            .collect();
        assert_eq!(
            links,
            vec![
                (LinkKind::Relative, "/serotonin.md", Some("Serotonin"), 1, 4),
                (LinkKind::Relative, "/posts/dopamine", None, 1, 56),
                (LinkKind::Relative, "/notes/a b.md", None, 2, 0),
            ]
        );
        assert!(n.links.iter().all(|l| !l.target.contains("{{")));
    }

    #[test]
    fn heading_attribute_lists_are_not_heading_text() {
        let n = md("# Title {#top}\n\n## From HackerNews {#from-hackernews .big lang=en data-x=\"a b\"}\n\
                    Setext heading {- .unnumbered}\n---\n\n### Keeps {braces}\n### Set {a, b}\n### Odd{#x}\n");
        let heads: Vec<&str> = n
            .sections
            .iter()
            .skip(1)
            .map(|s| s.heading.as_str())
            .collect();
        assert_eq!(
            heads,
            vec![
                "Title",
                "From HackerNews",
                "Setext heading",
                "Keeps {braces}",
                "Set {a, b}",
                "Odd{#x}"
            ]
        );
        assert_eq!(n.title, "Title");
        assert_eq!(
            n.sections[4].outline,
            vec!["Title", "Setext heading", "Keeps {braces}"]
        );
    }

    #[test]
    fn line_kinds_tell_prose_from_headings_and_code() {
        use super::super::{line_kinds, LineKind::*};
        let text = "---\ntitle: M3\n---\nPara\n\n    code line one\n    code Alpha line two\n\n<!--\nAlpha in a comment\n-->\n# Alpha\nText\nSetext\n---\n```\nAlpha\n```\n";
        assert_eq!(
            line_kinds(text, Format::Markdown, &ParseOptions::default()),
            vec![
                Hidden, Hidden, Hidden, Prose, Prose, Hidden, Hidden, Prose, Hidden, Hidden,
                Hidden, Heading, Prose, Heading, Heading, Hidden, Hidden, Hidden, Prose
            ]
        );
    }

    #[test]
    fn odd_brackets_do_not_confuse_the_scanner() {
        for text in [
            "[[",
            "[[]]",
            "[]()",
            "[x](",
            "](",
            "[[a|]]",
            "``` \n[[x]]",
            "[a]([b](c))",
        ] {
            let n = md(text);
            for l in &n.links {
                assert!(!l.target.is_empty(), "{text:?}");
            }
        }
    }
}
