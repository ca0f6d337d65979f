//! Byte-level BPE (Sennrich et al. 2016 on bytes, as GPT-2, Radford et al. 2019), trained and
//! applied by Hugging Face's `tokenizers`, saved as its `tokenizer.json`.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;

use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{NormalizerWrapper, Tokenizer as HfTokenizer, TokenizerBuilder, TokenizerImpl};

use super::Tokenizer;
use crate::SequenceError;

/// A byte-level BPE vocabulary: every text encodes (no unknown token), and decoding gives back
/// the exact bytes.
///
/// ```
/// use kiln_sequence::tokenize::{BpeTokenizer, Tokenizer};
/// let text = "the whale, the whale! the white whale\n".repeat(20);
/// let bpe = BpeTokenizer::fit(&text, 300).unwrap();
/// let ids = bpe.encode("the white whale").unwrap();
/// assert!(ids.len() < "the white whale".len(), "merges make tokens of several bytes");
/// assert_eq!(bpe.decode(&ids), "the white whale");
/// ```
#[derive(Clone)]
pub struct BpeTokenizer {
    inner: HfTokenizer,
    /// The bytes each token id stands for.
    bytes: Vec<Vec<u8>>,
}

impl std::fmt::Debug for BpeTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BpeTokenizer({} tokens)", self.bytes.len())
    }
}

fn byte_level() -> ByteLevel {
    // No prefix space: decode(encode(text)) must be text itself.
    ByteLevel::new(false, false, true)
}

fn failed(e: impl std::fmt::Display) -> SequenceError {
    SequenceError::Tokenizer(e.to_string())
}

impl BpeTokenizer {
    /// Learns merges on `text` until the vocabulary (the 256 bytes included) has `vocab_size`
    /// tokens, merging only pairs seen at least twice.
    pub fn fit(text: &str, vocab_size: usize) -> Result<Self, SequenceError> {
        if vocab_size < 256 {
            return Err(SequenceError::Config(format!(
                "a byte-level BPE vocabulary holds the 256 bytes and its merges: vocab_size {vocab_size} is below 256"
            )));
        }
        let mut tokenizer: TokenizerImpl<BPE, NormalizerWrapper, ByteLevel, ByteLevel, ByteLevel> =
            TokenizerBuilder::new()
                .with_model(BPE::default())
                .with_normalizer(None)
                .with_pre_tokenizer(Some(byte_level()))
                .with_post_processor(Some(byte_level()))
                .with_decoder(Some(byte_level()))
                .build()
                .map_err(failed)?;
        let mut trainer = BpeTrainerBuilder::new()
            .vocab_size(vocab_size)
            .min_frequency(2)
            .show_progress(false)
            .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
            .build();
        // Lines with their newline, so that line breaks are counted like any other byte.
        tokenizer.train(&mut trainer, text.split_inclusive('\n')).map_err(failed)?;
        Self::new(tokenizer.into())
    }

    fn new(inner: HfTokenizer) -> Result<Self, SequenceError> {
        let size = inner.get_vocab_size(true);
        let bytes = (0..size as u32)
            .map(|id| {
                let token = inner.id_to_token(id).ok_or_else(|| failed(format!("token id {id} has no token")))?;
                token
                    .chars()
                    .map(|c| {
                        UNICODE_TO_BYTE
                            .get(&c)
                            .copied()
                            .ok_or_else(|| failed(format!("token {token:?} is not byte-level")))
                    })
                    .collect()
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { inner, bytes })
    }

    /// The `tokenizer.json` that Hugging Face's libraries (Rust or Python) read.
    pub fn to_json(&self) -> Result<String, SequenceError> {
        self.inner.to_string(false).map_err(failed)
    }

    pub fn from_json(json: &str) -> Result<Self, SequenceError> {
        Self::new(HfTokenizer::from_str(json).map_err(failed)?)
    }
}

impl Tokenizer for BpeTokenizer {
    fn vocab_size(&self) -> usize {
        self.bytes.len()
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>, SequenceError> {
        Ok(self.inner.encode(text, false).map_err(failed)?.get_ids().to_vec())
    }

    fn token_bytes(&self, id: u32) -> Vec<u8> {
        self.bytes.get(id as usize).cloned().unwrap_or_default()
    }
}

/// GPT-2's map from bytes to printable characters (`bytes_to_unicode` in its `encoder.py`),
/// inverted. Written here because `tokenizers` keeps its copy crate-private, and kiln needs each
/// token's bytes: to stream text as it is generated, and to count the characters a token covers.
static UNICODE_TO_BYTE: LazyLock<HashMap<char, u8>> = LazyLock::new(|| {
    let printable = |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
    let mut shifted = 0u32;
    (0..=255u8)
        .map(|b| {
            let c = if printable(b) {
                char::from(b)
            } else {
                shifted += 1;
                char::from_u32(255 + shifted).expect("256..=323 are characters")
            };
            (c, b)
        })
        .collect()
});
