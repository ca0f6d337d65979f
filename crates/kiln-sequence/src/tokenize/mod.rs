//! Text to token ids and back: one token per character, or byte-level BPE.

mod bpe;
mod char_level;

pub use bpe::BpeTokenizer;
pub use char_level::CharTokenizer;

use crate::SequenceError;

/// A reversible map between text and token ids.
pub trait Tokenizer {
    fn vocab_size(&self) -> usize;

    fn encode(&self, text: &str) -> Result<Vec<u32>, SequenceError>;

    /// The UTF-8 bytes token `id` stands for; a byte-level BPE token may hold part of a character.
    fn token_bytes(&self, id: u32) -> Vec<u8>;

    /// The text of `ids`; bytes that do not form UTF-8 (a character cut at the end) become U+FFFD.
    fn decode(&self, ids: &[u32]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|&id| self.token_bytes(id)).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// How many characters of text token `id` stands for (the characters that start in its
    /// bytes): bits per character divide a window's nats by the characters its tokens cover, so
    /// that tokenizers compare fairly.
    fn chars_of(&self, id: u32) -> usize {
        self.token_bytes(id).iter().filter(|&&b| b & 0xC0 != 0x80).count()
    }
}

/// A tokenizer of either kind, as an experiment's `[data] tokenizer` names it.
#[derive(Debug, Clone)]
pub enum AnyTokenizer {
    Char(CharTokenizer),
    Bpe(BpeTokenizer),
}

impl AnyTokenizer {
    /// `char`, or `bpe` with `vocab_size` tokens, fitted on `text`.
    pub fn fit(kind: &str, text: &str, vocab_size: Option<usize>) -> Result<Self, SequenceError> {
        match kind {
            "char" => Ok(Self::Char(CharTokenizer::fit(text))),
            "bpe" => Ok(Self::Bpe(BpeTokenizer::fit(text, vocab_size.unwrap_or(1024))?)),
            other => Err(SequenceError::Config(format!("unknown tokenizer '{other}' (known: char, bpe)"))),
        }
    }

    pub fn to_json(&self) -> Result<String, SequenceError> {
        match self {
            Self::Char(t) => Ok(t.to_json()),
            Self::Bpe(t) => t.to_json(),
        }
    }

    /// Reads what [`AnyTokenizer::to_json`] wrote: kiln's character vocabulary or a Hugging Face
    /// `tokenizer.json`.
    pub fn from_json(json: &str) -> Result<Self, SequenceError> {
        match CharTokenizer::from_json(json) {
            Ok(t) => Ok(Self::Char(t)),
            Err(_) => Ok(Self::Bpe(BpeTokenizer::from_json(json)?)),
        }
    }

    /// The characters of `text` the vocabulary cannot represent (none for byte-level BPE).
    pub fn unknown_chars(&self, text: &str) -> String {
        match self {
            Self::Char(t) => text.chars().filter(|c| !t.chars().contains(c)).collect(),
            Self::Bpe(_) => String::new(),
        }
    }
}

impl Tokenizer for AnyTokenizer {
    fn vocab_size(&self) -> usize {
        match self {
            Self::Char(t) => t.vocab_size(),
            Self::Bpe(t) => t.vocab_size(),
        }
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>, SequenceError> {
        match self {
            Self::Char(t) => t.encode(text),
            Self::Bpe(t) => t.encode(text),
        }
    }

    fn token_bytes(&self, id: u32) -> Vec<u8> {
        match self {
            Self::Char(t) => t.token_bytes(id),
            Self::Bpe(t) => t.token_bytes(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bpe_round_trips_unicode_counts_characters_and_reloads_from_its_json() {
        let text = "Call me Ishmael — « naïve » 日本語 🐋\nThe whale, the whale!\n".repeat(30);
        let bpe = AnyTokenizer::fit("bpe", &text, Some(320)).unwrap();
        assert!(bpe.vocab_size() > 256 && bpe.vocab_size() <= 320, "{}", bpe.vocab_size());
        let sample = "naïve 🐋 whales, and 日本\n";
        let ids = bpe.encode(sample).unwrap();
        assert_eq!(bpe.decode(&ids), sample);
        // Characters covered by the tokens add up to the text's characters, even where a token
        // holds part of a multi-byte character.
        assert_eq!(ids.iter().map(|&id| bpe.chars_of(id)).sum::<usize>(), sample.chars().count());
        // Unseen bytes still encode: the 256 bytes are all in the vocabulary.
        let unseen = "Ωμέγα ✓";
        assert_eq!(bpe.decode(&bpe.encode(unseen).unwrap()), unseen);
        assert_eq!(bpe.unknown_chars(unseen), "");
        let again = AnyTokenizer::from_json(&bpe.to_json().unwrap()).unwrap();
        assert_eq!(again.encode(sample).unwrap(), ids);
        // Trained again on the same text, the same vocabulary.
        let twice = AnyTokenizer::fit("bpe", &text, Some(320)).unwrap();
        assert_eq!(twice.to_json().unwrap(), bpe.to_json().unwrap());
        assert!(AnyTokenizer::fit("bpe", &text, Some(100)).is_err());
        let chars = AnyTokenizer::fit("char", &text, None).unwrap();
        assert!(matches!(AnyTokenizer::from_json(&chars.to_json().unwrap()).unwrap(), AnyTokenizer::Char(_)));
        assert_eq!(chars.unknown_chars("whale Ω"), "Ω");
    }
}
