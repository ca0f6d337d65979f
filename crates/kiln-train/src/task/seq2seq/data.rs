//! The pairs of a sequence-to-sequence experiment as token ids, and their padded host batches.
//!
//! Source and target share one tokenizer (fitted on the training pairs) whose ids are shifted
//! past three of the task's own: padding, the begin token that starts every decoder input and
//! the end token the decoder must write to stop.

use std::path::Path;

use kiln_data::{PairCorpus, TextPair};
use kiln_sequence::tokenize::{AnyTokenizer, Tokenizer};

use crate::config::{closest, ExperimentConfig};
use crate::error::{KilnError, Result};
use crate::task::tokenizer_file::fit_tokenizer;

/// Datasets `[data] dataset` can name for seq2seq.
pub const DATASETS: [&str; 1] = ["pairs"];

pub const PAD: usize = 0;
pub const BEGIN: usize = 1;
pub const END: usize = 2;
/// Tokenizer id `t` is model id `t + SPECIALS`.
pub const SPECIALS: usize = 3;

pub fn check_dataset(name: &str) -> std::result::Result<(), String> {
    if DATASETS.contains(&name) {
        return Ok(());
    }
    let hint = closest(name, DATASETS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
    Err(format!(
        "unknown dataset '{name}' in [data] for seq2seq (known: {}: a folder of train.tsv, valid.tsv, test.tsv, longer.tsv of source<TAB>target lines){hint}",
        DATASETS.join(", ")
    ))
}

/// One pair as model ids (specials included in the offset, not added).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPair {
    pub source: Vec<i64>,
    pub target: Vec<i64>,
}

/// The tokenizer and every split's pairs.
pub struct PairData {
    pub tokenizer: AnyTokenizer,
    pub train: Vec<EncodedPair>,
    pub valid: Option<Vec<EncodedPair>>,
    pub test: Option<Vec<EncodedPair>>,
    /// Longer than any training pair: scored with the test split as `longer_*`.
    pub longer: Option<Vec<EncodedPair>>,
}

impl PairData {
    pub fn load(cfg: &ExperimentConfig) -> Result<Self> {
        let d = &cfg.data;
        check_dataset(&d.dataset).map_err(KilnError::Unsupported)?;
        let corpus = PairCorpus::load(Path::new(&d.root), d.limit)?;
        // BPE learns merges within lines; characters need no separator (which would become a
        // token the decoder could write).
        let separator = if d.tokenizer.as_deref() == Some("bpe") { "\n" } else { "" };
        let text: String =
            corpus.train.iter().flat_map(|p| [p.source.as_str(), separator, p.target.as_str(), separator]).collect();
        let tokenizer = fit_tokenizer(d, &text)?;
        let encode = |pairs: &[TextPair]| pairs.iter().map(|p| encode_pair(&tokenizer, p)).collect::<Result<Vec<_>>>();
        let split = |pairs: Option<&Vec<TextPair>>| pairs.map(|p| encode(p)).transpose();
        Ok(Self {
            train: encode(&corpus.train)?,
            valid: split(corpus.valid.as_ref())?,
            test: split(corpus.test.as_ref())?,
            longer: split(corpus.longer.as_ref())?,
            tokenizer,
        })
    }

    /// Model ids: the tokenizer's and the three specials.
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.vocab_size() + SPECIALS
    }

    /// The most tokens a decoder input (begin + target) or source has in any split.
    pub fn longest(&self) -> usize {
        let splits = [Some(&self.train), self.valid.as_ref(), self.test.as_ref(), self.longer.as_ref()];
        splits
            .into_iter()
            .flatten()
            .flat_map(|pairs| pairs.iter().map(|p| p.source.len().max(p.target.len() + 1)))
            .max()
            .unwrap_or(0)
    }
}

/// `text` as model ids.
pub fn encode_text(tokenizer: &AnyTokenizer, text: &str) -> Result<Vec<i64>> {
    let ids = tokenizer.encode(text).map_err(|e| KilnError::Unsupported(e.to_string()))?;
    Ok(ids.into_iter().map(|t| i64::from(t) + SPECIALS as i64).collect())
}

/// The text of model ids (specials dropped).
pub fn decode_ids(tokenizer: &AnyTokenizer, ids: &[usize]) -> String {
    let tokens: Vec<u32> = ids.iter().filter(|&&i| i >= SPECIALS).map(|&i| (i - SPECIALS) as u32).collect();
    tokenizer.decode(&tokens)
}

fn encode_pair(tokenizer: &AnyTokenizer, pair: &TextPair) -> Result<EncodedPair> {
    Ok(EncodedPair { source: encode_text(tokenizer, &pair.source)?, target: encode_text(tokenizer, &pair.target)? })
}

/// A host batch: sources padded to the longest, decoder inputs (begin + target) and outputs
/// (target + end) padded likewise, row-major.
#[derive(Debug, Clone)]
pub struct PairBatch {
    pub rows: usize,
    pub source_len: usize,
    pub source: Vec<i64>,
    /// True where `source` is padding.
    pub source_padding: Vec<bool>,
    pub target_len: usize,
    pub decoder_input: Vec<i64>,
    /// `PAD` past each row's end token, which the loss skips.
    pub decoder_output: Vec<i64>,
    /// Each row's target without specials, for exact match.
    pub targets: Vec<Vec<usize>>,
}

impl PairBatch {
    pub fn new(pairs: &[&EncodedPair]) -> Self {
        let source_len = pairs.iter().map(|p| p.source.len()).max().unwrap_or(0).max(1);
        let target_len = pairs.iter().map(|p| p.target.len() + 1).max().unwrap_or(1);
        let mut batch = Self {
            rows: pairs.len(),
            source_len,
            source: Vec::with_capacity(pairs.len() * source_len),
            source_padding: Vec::with_capacity(pairs.len() * source_len),
            target_len,
            decoder_input: Vec::with_capacity(pairs.len() * target_len),
            decoder_output: Vec::with_capacity(pairs.len() * target_len),
            targets: Vec::with_capacity(pairs.len()),
        };
        let pad = |v: &mut Vec<i64>, len: usize| v.resize(v.len() + len, PAD as i64);
        for p in pairs {
            batch.source.extend(&p.source);
            pad(&mut batch.source, source_len - p.source.len());
            batch.source_padding.extend((0..source_len).map(|i| i >= p.source.len()));
            batch.decoder_input.push(BEGIN as i64);
            batch.decoder_input.extend(&p.target);
            pad(&mut batch.decoder_input, target_len - p.target.len() - 1);
            batch.decoder_output.extend(&p.target);
            batch.decoder_output.push(END as i64);
            pad(&mut batch.decoder_output, target_len - p.target.len() - 1);
            batch.targets.push(p.target.iter().map(|&t| t as usize).collect());
        }
        batch
    }

    /// Target tokens the loss counts (end tokens included).
    pub fn target_tokens(&self) -> usize {
        self.decoder_output.iter().filter(|&&t| t != PAD as i64).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_pads_sources_and_shifts_targets_between_begin_and_end() {
        let a = EncodedPair { source: vec![5, 6, 7], target: vec![7, 6, 5] };
        let b = EncodedPair { source: vec![8], target: vec![] };
        let batch = PairBatch::new(&[&a, &b]);
        assert_eq!((batch.rows, batch.source_len, batch.target_len), (2, 3, 4));
        assert_eq!(batch.source, vec![5, 6, 7, 8, 0, 0]);
        assert_eq!(batch.source_padding, vec![false, false, false, false, true, true]);
        assert_eq!(batch.decoder_input, vec![1, 7, 6, 5, 1, 0, 0, 0]);
        assert_eq!(batch.decoder_output, vec![7, 6, 5, 2, 2, 0, 0, 0]);
        assert_eq!(batch.targets, vec![vec![7, 6, 5], vec![]]);
        assert_eq!(batch.target_tokens(), 5);
    }
}
