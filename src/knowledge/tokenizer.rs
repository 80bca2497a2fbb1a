//! The word tokenizer of the text analyzer.
//!
//! Like tantivy's `SimpleTokenizer`, a word is a run of alphanumeric
//! characters (so CJK runs, accented letters and digits are words), with
//! two additions notes need:
//!
//! - the names of languages written with `+` or `#`: a run of one or two
//!   letters followed by `+`, `++` or `#` and then a non-word character is
//!   one word (`c++`, `g++`, `c#`, `f#`, `j#`), so a search for `c++` finds
//!   C++ and not every lone "c";
//! - emoji and other pictographs are words of their own, one per symbol
//!   (a variation selector, a skin tone or a zero-width joiner after one
//!   belongs to it), so a note holding 🎉 is found by 🎉.
//!
//! Everything else (punctuation, spaces, marks) separates words.  The
//! tokenizer reuses one [`Token`] and allocates nothing per token beyond
//! the token's own text.

use std::str::CharIndices;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The tokenizer: see the module documentation.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    token: Token,
}

/// The token stream of a [`WordTokenizer`].
pub struct WordTokenStream<'a> {
    text: &'a str,
    chars: std::iter::Peekable<CharIndices<'a>>,
    token: &'a mut Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream<'a> {
        self.token.reset();
        WordTokenStream {
            text,
            chars: text.char_indices().peekable(),
            token: &mut self.token,
        }
    }
}

/// Whether `c` is an emoji or another pictograph: the blocks of Unicode's
/// `Extended_Pictographic` property that hold symbols people write in notes.
pub fn is_pictograph(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF   // mahjong, cards, enclosed, pictographs, emoticons, transport, symbols
        | 0x2600..=0x27BF   // miscellaneous symbols, dingbats
        | 0x2B00..=0x2BFF   // arrows and symbols (⭐, ⬛)
        | 0x2190..=0x21FF   // arrows
        | 0x2300..=0x23FF   // technical (⌛, ⏰)
        | 0x25A0..=0x25FF   // geometric shapes
        | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x00A9 | 0x00AE | 0x2122)
}

/// Whether `c` continues the pictograph before it: variation selectors,
/// skin tones, the zero-width joiner, tags and keycap marks.
fn continues_pictograph(c: char) -> bool {
    matches!(c as u32,
        0xFE00..=0xFE0F | 0x1F3FB..=0x1F3FF | 0x200D | 0xE0020..=0xE007F | 0x20E3)
}

impl WordTokenStream<'_> {
    /// The end of the word starting at `from` whose first character was
    /// alphanumeric.
    fn word_end(&mut self, from: usize) -> usize {
        let mut end = self.text.len();
        let mut letters = 0usize;
        let mut all_letters = true;
        while let Some(&(offset, c)) = self.chars.peek() {
            if c.is_alphanumeric() {
                letters += 1;
                all_letters &= c.is_alphabetic();
                self.chars.next();
                continue;
            }
            end = offset;
            // c++, g++, c#, f#: one or two letters, then + / ++ / #, then
            // the end of the word.
            let first_is_letter = self.text[from..]
                .chars()
                .next()
                .is_some_and(char::is_alphabetic);
            if (1..=2).contains(&(letters + 1)) && all_letters && first_is_letter {
                let rest = &self.text[offset..];
                let suffix = if rest.starts_with("++") {
                    2
                } else if rest.starts_with('+') || rest.starts_with('#') {
                    1
                } else {
                    0
                };
                let after = rest[suffix..].chars().next();
                if suffix > 0 && !after.is_some_and(|a| a.is_alphanumeric() || a == '+' || a == '#')
                {
                    for _ in 0..suffix {
                        self.chars.next();
                    }
                    end = offset + suffix;
                }
            }
            break;
        }
        end
    }

    /// The end of the pictograph that ends at `to`, with what continues it.
    fn pictograph_end(&mut self, mut to: usize) -> usize {
        while let Some(&(offset, c)) = self.chars.peek() {
            if continues_pictograph(c) {
                to = offset + c.len_utf8();
                self.chars.next();
                // After a joiner, the next pictograph belongs too (👩‍💻).
                if c == '\u{200D}' {
                    if let Some(&(o, p)) = self.chars.peek() {
                        if is_pictograph(p) {
                            to = o + p.len_utf8();
                            self.chars.next();
                        }
                    }
                }
            } else {
                break;
            }
        }
        to
    }
}

impl TokenStream for WordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        while let Some((offset_from, c)) = self.chars.next() {
            let offset_to = if c.is_alphanumeric() {
                self.word_end(offset_from)
            } else if is_pictograph(c) {
                self.pictograph_end(offset_from + c.len_utf8())
            } else {
                continue;
            };
            self.token.offset_from = offset_from;
            self.token.offset_to = offset_to;
            self.token.text.push_str(&self.text[offset_from..offset_to]);
            return true;
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(String, usize, usize)> {
        let mut t = WordTokenizer::default();
        let mut s = t.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            let tok = s.token();
            out.push((tok.text.clone(), tok.offset_from, tok.offset_to));
        }
        out
    }

    fn texts(text: &str) -> Vec<String> {
        words(text).into_iter().map(|w| w.0).collect()
    }

    #[test]
    fn words_are_alphanumeric_runs_like_the_simple_tokenizer() {
        assert_eq!(
            texts("Hello, happy tax-payer! naïve_café 2026 東京タワー"),
            vec![
                "Hello",
                "happy",
                "tax",
                "payer",
                "naïve",
                "café",
                "2026",
                "東京タワー"
            ]
        );
        assert_eq!(words("ab cd")[1], ("cd".to_string(), 3, 5));
    }

    #[test]
    fn languages_with_plus_and_sharp_are_words() {
        assert_eq!(
            texts("C++ and c#, F# or g++; not a+b, abc++, x#y, c+++ or issue#12"),
            vec![
                "C++", "and", "c#", "F#", "or", "g++", "not", "a", "b", "abc", "x", "y", "c", "or",
                "issue", "12"
            ]
        );
        assert_eq!(words("use c++.")[1], ("c++".to_string(), 4, 7));
    }

    #[test]
    fn emoji_are_words_with_their_modifiers() {
        assert_eq!(
            texts("party🎉time ✅ done"),
            vec!["party", "🎉", "time", "✅", "done"]
        );
        // A thumbs-up with a skin tone, a heart with its variation
        // selector, and a joined sequence each stay one word.
        assert_eq!(texts("👍🏽 ❤️ 👩‍💻"), vec!["👍🏽", "❤️", "👩‍💻"]);
        assert_eq!(texts("— … ¡¿ ·"), Vec::<String>::new());
    }
}
