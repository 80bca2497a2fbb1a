//! Plain text (and code indexed as text): the first non-empty line is the
//! title, the whole file one section, URLs its links.

use super::{
    line_no, line_ranges, plain_urls, push_links, truncate_chars, LinkKind, Note, Section,
    MAX_LINKS_PER_NOTE,
};

/// Parses plain text.
pub(super) fn parse(text: &str) -> Note {
    let lines = line_ranges(text);
    let mut note = Note::default();
    for (i, &(s, e)) in lines.iter().enumerate() {
        let l = text.get(s..e).unwrap_or("").trim();
        if !l.is_empty() {
            note.title = truncate_chars(l, 200);
            note.title_line = line_no(i);
            break;
        }
    }
    note.sections.push(Section {
        level: 0,
        line: 1,
        body_line: 1,
        body: text.to_string(),
        ..Section::default()
    });
    let never = |_: &str| false;
    for (i, &(s, e)) in lines.iter().enumerate() {
        let urls = plain_urls(text.get(s..e).unwrap_or(""));
        let found = urls
            .into_iter()
            .map(|(at, url)| (at, LinkKind::Url, url, None))
            .collect();
        push_links(&mut note, text, &lines, i, 0, found, &never);
        if note.links.len() >= MAX_LINKS_PER_NOTE {
            break;
        }
    }
    note
}

#[cfg(test)]
mod tests {
    use super::super::{parse as parse_any, Format, ParseOptions};

    #[test]
    fn the_first_non_empty_line_is_the_title() {
        let n = parse_any(
            "\n\n  Reading list  \nSICP https://mitpress.mit.edu/sicp\n",
            Format::Text,
            "stem",
            &ParseOptions::default(),
        );
        assert_eq!(n.title, "Reading list");
        assert_eq!(n.title_line, 3);
        assert_eq!(n.sections.len(), 1);
        assert_eq!(n.links.len(), 1);
        assert_eq!(n.links[0].line, 4);
        assert_eq!(n.links[0].column, 5);
    }

    #[test]
    fn an_empty_file_is_titled_by_its_name() {
        let n = parse_any("   \n", Format::Text, "empty", &ParseOptions::default());
        assert_eq!(n.title, "empty");
    }
}
