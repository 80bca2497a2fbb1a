//! The search query language.
//!
//! ```text
//! emacs config        both words (AND)
//! "keyboard macro"    a phrase
//! vertico OR ivy      either word; OR binds tighter than the implicit AND
//! -draft              exclude a word (or -"a phrase", -tag:x); NOT draft too
//! emacs AND config    AND is what words do anyway
//! title:emacs tag:cooking path:daily ext:md id:8f2c… todo:TODO
//! ```
//!
//! While typing, the last word matches as a prefix (`emac` finds `emacs`)
//! unless the query ends with a space; so does a last `title:`, `tag:`,
//! `path:` or `id:` value.  A word that the analyzer splits
//! (`org-roam`) is matched as a phrase.  Unknown `field:` prefixes are plain
//! text, so URLs and `key:value` notes stay searchable.  Malformed queries
//! are errors that name the problem.

use crate::error::{Error, Result};

/// A field a query term can be restricted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldName {
    /// The note title (and aliases).
    Title,
    /// Tags, exact (folded).
    Tag,
    /// The path relative to its root.
    Path,
    /// The file extension.
    Ext,
    /// A file or heading ID.
    Id,
    /// A heading's TODO keyword.
    Todo,
}

impl FieldName {
    fn parse(name: &str) -> Option<FieldName> {
        match name.to_ascii_lowercase().as_str() {
            "title" => Some(FieldName::Title),
            "tag" | "tags" => Some(FieldName::Tag),
            "path" | "file" => Some(FieldName::Path),
            "ext" => Some(FieldName::Ext),
            "id" => Some(FieldName::Id),
            "todo" => Some(FieldName::Todo),
            _ => None,
        }
    }

    /// The name as written in queries.
    pub fn name(self) -> &'static str {
        match self {
            FieldName::Title => "title",
            FieldName::Tag => "tag",
            FieldName::Path => "path",
            FieldName::Ext => "ext",
            FieldName::Id => "id",
            FieldName::Todo => "todo",
        }
    }
}

/// One thing to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Atom {
    /// A word in the default fields; `prefix` when it is the last word typed.
    Word { text: String, prefix: bool },
    /// A quoted phrase in the default fields.
    Phrase(String),
    /// A value in one field; `prefix` for the last value typed in a text,
    /// tag or ID field.
    Field {
        field: FieldName,
        value: String,
        prefix: bool,
    },
}

/// A query: every group must match, no excluded atom may match.  A group is
/// a disjunction (`a OR b`); most groups hold one atom.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// Groups that must all match; each matches when any of its atoms does.
    pub required: Vec<Vec<Atom>>,
    /// Atoms that must not match.
    pub excluded: Vec<Atom>,
}

impl Query {
    /// True when there is nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.required.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Or,
    Item { negated: bool, atom: Atom },
}

/// At most this many words, phrases and filters in one query: a pasted
/// page of text is a mistake, and would take seconds to run.
pub const MAX_ITEMS: usize = 64;

/// Parses a query string.  An empty (or blank) query gives an empty [`Query`].
pub fn parse(input: &str) -> Result<Query> {
    let tokens = lex(input)?;
    let items = tokens
        .iter()
        .filter(|t| matches!(t, Token::Item { .. }))
        .count();
    if items > MAX_ITEMS {
        return Err(Error::query(format!(
            "The query has {items} words; search for at most {MAX_ITEMS}"
        )));
    }
    let mut query = Query::default();
    let mut pending_or = false;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Or => {
                let after = tokens.get(i + 1);
                let before_ok = !query.required.is_empty()
                    && !pending_or
                    && matches!(
                        tokens.get(i.wrapping_sub(1)),
                        Some(Token::Item { negated: false, .. })
                    );
                let after_ok = matches!(after, Some(Token::Item { negated: false, .. }));
                if !before_ok || !after_ok {
                    return Err(Error::query(
                        "OR needs a word to search for on both sides (\"vertico OR ivy\")",
                    ));
                }
                pending_or = true;
            }
            Token::Item { negated, atom } => {
                if *negated {
                    if pending_or {
                        return Err(Error::query("An excluded word cannot be part of an OR"));
                    }
                    query.excluded.push(atom.clone());
                } else if pending_or {
                    if let Some(group) = query.required.last_mut() {
                        group.push(atom.clone());
                    }
                    pending_or = false;
                } else {
                    query.required.push(vec![atom.clone()]);
                }
            }
        }
    }
    if query.required.is_empty() && !query.excluded.is_empty() {
        return Err(Error::query(
            "The query only excludes words; add a word to search for",
        ));
    }
    Ok(query)
}

fn lex(input: &str) -> Result<Vec<Token>> {
    let ends_with_space = input.ends_with(char::is_whitespace);
    let chars: Vec<char> = input.chars().collect();
    let at_end = |i: usize| i >= chars.len() && !ends_with_space;
    let mut tokens = Vec::new();
    let mut i = 0;
    // After NOT: the next item is excluded.
    let mut not = false;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let dash = chars[i] == '-';
        if dash {
            i += 1;
            if i >= chars.len() || chars[i].is_whitespace() {
                return Err(Error::query("Nothing to exclude after \"-\" (write -word)"));
            }
        }
        let negated = dash || std::mem::take(&mut not);
        if chars[i] == '"' {
            let (phrase, next) = quoted(&chars, i)?;
            i = next;
            if !phrase.trim().is_empty() {
                tokens.push(Token::Item {
                    negated,
                    atom: Atom::Phrase(phrase),
                });
            } else if negated {
                return Err(Error::query("Nothing to exclude after \"-\" (write -word)"));
            }
            continue;
        }
        // A run of non-blank characters: a word, OR, or field:value.
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        if !negated && (run == "NOT" || run == "AND") {
            // NOT excludes the next item; AND is what words do anyway.
            if run == "NOT" {
                not = true;
            }
            continue;
        }
        let field = run
            .split_once(':')
            .and_then(|(name, _)| FieldName::parse(name).map(|f| (f, name.to_string())));
        if let Some((field, name)) = field {
            let value_start = start + name.chars().count() + 1;
            if value_start >= i {
                return Err(Error::query(format!(
                    "{name}: needs a value (for example {name}:{})",
                    example(field)
                )));
            }
            if chars[value_start] == '-' {
                let rest: String = chars[value_start + 1..i].iter().collect();
                return Err(Error::query(format!(
                    "To exclude, put the minus before the field: -{name}:{rest}"
                )));
            }
            let (value, quoted_value) = if chars[value_start] == '"' {
                let (v, next) = quoted(&chars, value_start)?;
                i = next;
                (v, true)
            } else {
                (chars[value_start..i].iter().collect::<String>(), false)
            };
            if value.trim().is_empty() {
                return Err(Error::query(format!("{name}: needs a value")));
            }
            let prefix = !quoted_value
                && at_end(i)
                && matches!(
                    field,
                    FieldName::Title | FieldName::Path | FieldName::Tag | FieldName::Id
                );
            tokens.push(Token::Item {
                negated,
                atom: Atom::Field {
                    field,
                    value,
                    prefix,
                },
            });
        } else if run == "OR" && !negated {
            tokens.push(Token::Or);
        } else {
            tokens.push(Token::Item {
                negated,
                atom: Atom::Word {
                    text: run,
                    prefix: at_end(i),
                },
            });
        }
    }
    if not {
        return Err(Error::query(
            "Nothing to exclude after NOT (write NOT word)",
        ));
    }
    Ok(tokens)
}

/// Reads a quoted string starting at `chars[start] == '"'`; returns it and
/// the index after the closing quote.  `\"` escapes a quote.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize)> {
    let mut out = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((out, i + 1)),
            '\\' if chars.get(i + 1) == Some(&'"') => {
                out.push('"');
                i += 2;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Err(Error::query("Unterminated phrase: a \" has no closing \""))
}

fn example(field: FieldName) -> &'static str {
    match field {
        FieldName::Title => "emacs",
        FieldName::Tag => "cooking",
        FieldName::Path => "daily",
        FieldName::Ext => "org",
        FieldName::Id => "8f2c1a3e",
        FieldName::Todo => "TODO",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(t: &str, prefix: bool) -> Atom {
        Atom::Word {
            text: t.into(),
            prefix,
        }
    }

    #[test]
    fn words_are_anded_and_the_last_is_a_prefix_while_typing() {
        let q = parse("emacs conf").unwrap();
        assert_eq!(
            q.required,
            vec![vec![word("emacs", false)], vec![word("conf", true)]]
        );
        let q = parse("emacs conf ").unwrap();
        assert_eq!(q.required[1], vec![word("conf", false)]);
    }

    #[test]
    fn phrases_or_and_exclusions() {
        let q = parse("\"keyboard macro\" vertico OR ivy -draft -\"old stuff\"").unwrap();
        assert_eq!(
            q.required,
            vec![
                vec![Atom::Phrase("keyboard macro".into())],
                vec![word("vertico", false), word("ivy", false)]
            ]
        );
        assert_eq!(
            q.excluded,
            vec![word("draft", false), Atom::Phrase("old stuff".into())]
        );
    }

    #[test]
    fn fields() {
        let q = parse("title:emacs tag:cooking path:daily ext:md id:8f2c todo:TODO -tag:old title:\"start up\"").unwrap();
        let f = |field, value: &str, prefix| Atom::Field {
            field,
            value: value.into(),
            prefix,
        };
        assert_eq!(
            q.required,
            vec![
                vec![f(FieldName::Title, "emacs", false)],
                vec![f(FieldName::Tag, "cooking", false)],
                vec![f(FieldName::Path, "daily", false)],
                vec![f(FieldName::Ext, "md", false)],
                vec![f(FieldName::Id, "8f2c", false)],
                vec![f(FieldName::Todo, "TODO", false)],
                vec![f(FieldName::Title, "start up", false)],
            ]
        );
        assert_eq!(q.excluded, vec![f(FieldName::Tag, "old", false)]);
        let q = parse("title:ema").unwrap();
        assert_eq!(q.required, vec![vec![f(FieldName::Title, "ema", true)]]);
        // Tags complete while typing too.
        let q = parse("tag:coo").unwrap();
        assert_eq!(q.required, vec![vec![f(FieldName::Tag, "coo", true)]]);
        let q = parse("tag:coo ").unwrap();
        assert_eq!(q.required, vec![vec![f(FieldName::Tag, "coo", false)]]);
        // So do IDs.
        let q = parse("id:8f2c").unwrap();
        assert_eq!(q.required, vec![vec![f(FieldName::Id, "8f2c", true)]]);
        let q = parse("id:8f2c ").unwrap();
        assert_eq!(q.required, vec![vec![f(FieldName::Id, "8f2c", false)]]);
    }

    #[test]
    fn not_excludes_and_and_is_implicit() {
        let q = parse("emacs AND vim NOT draft").unwrap();
        assert_eq!(
            q.required,
            vec![vec![word("emacs", false)], vec![word("vim", false)]]
        );
        assert_eq!(q.excluded, vec![word("draft", true)]);
        let q = parse("NOT tag:old emacs ").unwrap();
        assert_eq!(q.required, vec![vec![word("emacs", false)]]);
        assert_eq!(
            q.excluded,
            vec![Atom::Field {
                field: FieldName::Tag,
                value: "old".into(),
                prefix: false
            }]
        );
        assert!(parse("emacs NOT")
            .unwrap_err()
            .message
            .contains("after NOT"));
    }

    #[test]
    fn a_minus_inside_a_field_says_where_it_goes() {
        let e = parse("title:-emacs").unwrap_err();
        assert!(e.message.contains("-title:emacs"), "{}", e.message);
    }

    #[test]
    fn too_many_words_are_refused_with_the_limit() {
        let long = "word ".repeat(MAX_ITEMS + 1);
        let e = parse(&long).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Query);
        assert!(e.message.contains("at most 64"), "{}", e.message);
        assert!(parse(&"word ".repeat(MAX_ITEMS)).is_ok());
    }

    #[test]
    fn unknown_fields_and_urls_are_plain_words() {
        let q = parse("https://orgmode.org key:value").unwrap();
        assert_eq!(
            q.required,
            vec![
                vec![word("https://orgmode.org", false)],
                vec![word("key:value", true)]
            ]
        );
    }

    #[test]
    fn the_empty_query_is_empty() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse("   ").unwrap().is_empty());
        assert!(parse("\"\"").unwrap().is_empty());
    }

    #[test]
    fn malformed_queries_name_the_problem() {
        let msg = |q: &str| parse(q).unwrap_err().message;
        assert!(msg("\"unterminated").contains("Unterminated phrase"));
        assert!(msg("a OR").contains("OR needs a word"));
        assert!(msg("OR a").contains("OR needs a word"));
        assert!(msg("a OR OR b").contains("OR needs a word"));
        assert!(msg("a OR -b").contains("OR needs a word"));
        assert!(msg("-").contains("Nothing to exclude"));
        assert!(msg("a - b").contains("Nothing to exclude"));
        assert!(msg("-draft").contains("only excludes"));
        assert!(msg("title:").contains("title: needs a value (for example title:emacs)"));
        assert!(msg("tag: x").contains("tag: needs a value"));
        assert_eq!(parse("\"x").unwrap_err().kind, crate::error::Kind::Query);
    }

    #[test]
    fn lowercase_or_is_a_word() {
        let q = parse("this or that").unwrap();
        assert_eq!(q.required.len(), 3);
    }
}
