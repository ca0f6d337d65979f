//! A character-level tokenizer: one token per Unicode scalar value seen in the training text.

use serde::{Deserialize, Serialize};

use super::Tokenizer;
use crate::SequenceError;

/// Characters sorted by code point, id 0 reserved for characters the training text lacked.
///
/// ```
/// use kiln_sequence::tokenize::{CharTokenizer, Tokenizer};
/// let tokenizer = CharTokenizer::fit("hello, wörld");
/// let ids = tokenizer.encode("wörld, hello").unwrap();
/// assert_eq!(tokenizer.decode(&ids), "wörld, hello");
/// assert_eq!(tokenizer.encode("?").unwrap(), vec![CharTokenizer::UNKNOWN]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharTokenizer {
    /// Token `i + 1` is `chars[i]`.
    chars: Vec<char>,
}

impl CharTokenizer {
    /// The id of a character outside the vocabulary; it decodes to U+FFFD.
    pub const UNKNOWN: u32 = 0;

    /// The vocabulary of `text`.
    pub fn fit(text: &str) -> Self {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        Self { chars }
    }

    /// The characters of the vocabulary, in id order (after [`Self::UNKNOWN`]).
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&TokenizerFile { kind: "char".into(), chars: self.chars.iter().collect() })
            .expect("a tokenizer serialises")
    }

    pub fn from_json(json: &str) -> Result<Self, SequenceError> {
        let file: TokenizerFile = serde_json::from_str(json).map_err(|e| SequenceError::Tokenizer(e.to_string()))?;
        if file.kind != "char" {
            return Err(SequenceError::Tokenizer(format!("a '{}' tokenizer is not a character tokenizer", file.kind)));
        }
        let chars: Vec<char> = file.chars.chars().collect();
        if chars.windows(2).any(|w| w[0] >= w[1]) {
            return Err(SequenceError::Tokenizer("its characters are not sorted and distinct".into()));
        }
        Ok(Self { chars })
    }
}

#[derive(Serialize, Deserialize)]
struct TokenizerFile {
    kind: String,
    chars: String,
}

impl Tokenizer for CharTokenizer {
    fn vocab_size(&self) -> usize {
        self.chars.len() + 1
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>, SequenceError> {
        Ok(text.chars().map(|c| self.chars.binary_search(&c).map_or(Self::UNKNOWN, |i| i as u32 + 1)).collect())
    }

    fn token_bytes(&self, id: u32) -> Vec<u8> {
        let c = match id {
            Self::UNKNOWN => char::REPLACEMENT_CHARACTER,
            id => self.chars.get(id as usize - 1).copied().unwrap_or(char::REPLACEMENT_CHARACTER),
        };
        c.to_string().into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_text_round_trips_and_unseen_characters_are_unknown() {
        let text = "Call me Ishmael — « naïve » 日本語 🐋\tend\n";
        let tokenizer = CharTokenizer::fit(text);
        assert_eq!(tokenizer.decode(&tokenizer.encode(text).unwrap()), text);
        assert_eq!(tokenizer.vocab_size(), text.chars().collect::<std::collections::BTreeSet<_>>().len() + 1);
        assert_eq!(tokenizer.decode(&tokenizer.encode("Ishmael!").unwrap()), "Ishmael\u{FFFD}");
        let again = CharTokenizer::from_json(&tokenizer.to_json()).unwrap();
        assert_eq!(again, tokenizer);
        assert!(CharTokenizer::from_json(r#"{"kind":"char","chars":"ba"}"#).is_err());
        assert!(CharTokenizer::from_json("not json").is_err());
    }
}
