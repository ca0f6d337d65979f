//! The token streams of a language-model experiment and their windows for truncated BPTT.
//!
//! As in PyTorch's word-language-model example, a split's token stream is cut into `lanes`
//! equal parallel streams (one per batch row); window `w` of every lane is a batch, and a
//! lane's state carries from window `w` into `w + 1`.

use std::path::Path;

use kiln_data::TextCorpus;
use kiln_sequence::tokenize::{AnyTokenizer, Tokenizer};

use crate::config::{closest, ExperimentConfig, Strategy};
use crate::error::{KilnError, Result};
use crate::task::tokenizer_file::fit_tokenizer;

/// Datasets `[data] dataset` can name for language models.
pub const DATASETS: [&str; 1] = ["text"];

pub fn check_dataset(name: &str) -> std::result::Result<(), String> {
    if DATASETS.contains(&name) {
        return Ok(());
    }
    let hint = closest(name, DATASETS).map(|s| format!("; did you mean '{s}'?")).unwrap_or_default();
    Err(format!(
        "unknown dataset '{name}' in [data] for language_model (known: {}: a folder of train.txt, valid.txt, test.txt){hint}",
        DATASETS.join(", ")
    ))
}

/// One split's tokens and the number of characters each stands for.
pub struct TokenStream {
    pub tokens: Vec<u32>,
    pub chars: Vec<u16>,
}

impl TokenStream {
    fn new(tokenizer: &AnyTokenizer, text: &str) -> Result<Self> {
        let tokens = tokenizer.encode(text).map_err(|e| KilnError::Unsupported(e.to_string()))?;
        let chars = tokens.iter().map(|&t| tokenizer.chars_of(t) as u16).collect();
        Ok(Self { tokens, chars })
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// How a stream is cut: `lanes` parallel streams of `lane_len` tokens (the last
/// `len mod lanes` tokens are left out), windows of `seq_len` inputs each predicting the next
/// token, the last window of each lane shorter when `seq_len` does not divide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub lanes: usize,
    pub lane_len: usize,
    pub seq_len: usize,
}

impl Windows {
    /// `None` when a lane would hold fewer than two tokens (no input with a next token).
    pub fn new(len: usize, lanes: usize, seq_len: usize) -> Option<Self> {
        let lane_len = len / lanes.max(1);
        (lane_len >= 2 && seq_len >= 1).then_some(Self { lanes, lane_len, seq_len })
    }

    /// Windows per lane.
    pub fn count(&self) -> usize {
        (self.lane_len - 1).div_ceil(self.seq_len)
    }

    /// Example `e` is window `e / lanes` of lane `e % lanes`: consecutive runs of `lanes`
    /// examples are one batch, all lanes at the same window.
    pub fn examples(&self) -> usize {
        self.count() * self.lanes
    }

    /// (start in the stream, inputs) of example `e`; its targets are the `inputs` tokens after.
    pub fn span(&self, e: usize) -> (usize, usize) {
        let (window, lane) = (e / self.lanes, e % self.lanes);
        let offset = window * self.seq_len;
        (lane * self.lane_len + offset, self.seq_len.min(self.lane_len - 1 - offset))
    }
}

/// A host batch: `rows` windows of `steps` inputs and their next tokens, row-major.
#[derive(Debug, Clone)]
pub struct TextBatch {
    pub inputs: Vec<i64>,
    pub targets: Vec<i64>,
    pub rows: usize,
    pub steps: usize,
    /// Characters the targets stand for (bits per character divide by them).
    pub chars: usize,
}

impl TextBatch {
    /// The windows of `examples`, which must all be the same window of different lanes.
    pub fn new(stream: &TokenStream, windows: &Windows, examples: &[usize]) -> Self {
        let steps = examples.first().map_or(0, |&e| windows.span(e).1);
        let (mut inputs, mut targets, mut chars) = (Vec::new(), Vec::new(), 0);
        for &e in examples {
            let (start, len) = windows.span(e);
            debug_assert_eq!(len, steps, "a batch holds one window of every lane");
            inputs.extend(stream.tokens[start..start + len].iter().map(|&t| i64::from(t)));
            targets.extend(stream.tokens[start + 1..start + len + 1].iter().map(|&t| i64::from(t)));
            chars += stream.chars[start + 1..start + len + 1].iter().map(|&c| usize::from(c)).sum::<usize>();
        }
        Self { inputs, targets, rows: examples.len(), steps, chars }
    }
}

/// Train, validation and test streams of an experiment, with the tokenizer fitted on the
/// training text.
pub struct TextData {
    pub tokenizer: AnyTokenizer,
    pub train: TokenStream,
    pub valid: Option<TokenStream>,
    pub test: Option<TokenStream>,
    pub seq_len: usize,
    /// Parallel streams of one evaluation batch: `data.batch_size`.
    pub lanes: usize,
    /// Parallel streams of the training text: `data.batch_size` on each DDP peer, so that peer
    /// `r` of `w` trains lanes `r · batch_size ..` of every window and keeps them from step to
    /// step (one device with `w · batch_size` lanes takes the same steps).
    pub train_lanes: usize,
}

impl TextData {
    pub fn load(cfg: &ExperimentConfig) -> Result<Self> {
        let d = &cfg.data;
        check_dataset(&d.dataset).map_err(KilnError::Unsupported)?;
        let seq_len = d.seq_len.ok_or_else(|| {
            KilnError::Unsupported("[data] seq_len (tokens per training window) is required for language_model".into())
        })?;
        let world = match cfg.train.strategy {
            Strategy::Ddp => cfg.train.devices.count() * crate::ddp::processes().size,
            Strategy::Single => 1,
        };
        let corpus = TextCorpus::load(Path::new(&d.root), d.limit)?;
        let tokenizer = fit_tokenizer(d, &corpus.train)?;
        let stream = |text: Option<&str>| text.map(|t| TokenStream::new(&tokenizer, t)).transpose();
        let data = Self {
            train: TokenStream::new(&tokenizer, &corpus.train)?,
            valid: stream(corpus.valid.as_deref())?,
            test: stream(corpus.test.as_deref())?,
            tokenizer,
            seq_len,
            lanes: d.batch_size,
            train_lanes: d.batch_size * world,
        };
        let splits = [("train", Some(&data.train)), ("valid", data.valid.as_ref()), ("test", data.test.as_ref())];
        for (split, stream) in splits {
            if let Some(stream) = stream {
                let lanes = if split == "train" { data.train_lanes } else { data.lanes };
                if Windows::new(stream.len(), lanes, seq_len).is_none() {
                    return Err(KilnError::Unsupported(format!(
                        "the {split} text in '{}' has {} tokens, too few for {lanes} parallel streams (data.batch_size × DDP peers) of at least 2",
                        d.root,
                        stream.len(),
                    )));
                }
            }
        }
        Ok(data)
    }

    /// A character vocabulary of `vocab` ids (the unknown id and `vocab - 1` characters) over
    /// random text: what `kiln bench` times a language model's step on, `lanes` streams of
    /// windows of `seq_len` tokens.
    pub fn synthetic(vocab: usize, seq_len: usize, lanes: usize) -> Result<Self> {
        if vocab < 2 || seq_len == 0 || lanes == 0 {
            return Err(KilnError::Unsupported(
                "--vocab must be at least 2, --seq-len and --batch-size at least 1".into(),
            ));
        }
        let alphabet: String = (0..vocab as u32 - 1).filter_map(|i| char::from_u32(0x100 + i)).collect();
        let tokenizer =
            AnyTokenizer::fit("char", &alphabet, None).map_err(|e| KilnError::Unsupported(e.to_string()))?;
        let tokens: Vec<u32> = (0..lanes * (seq_len + 1)).map(|i| (i % vocab) as u32).collect();
        let chars = vec![1; tokens.len()];
        let train = TokenStream { tokens, chars };
        Ok(Self { tokenizer, train, valid: None, test: None, seq_len, lanes, train_lanes: lanes })
    }

    /// The training windows.
    pub fn train_windows(&self) -> Option<Windows> {
        Windows::new(self.train.len(), self.train_lanes, self.seq_len)
    }

    /// The windows of an evaluation pass over `stream`, `lanes` streams at a time.
    pub fn eval_windows(&self, stream: &TokenStream, lanes: usize) -> Option<Windows> {
        Windows::new(stream.len(), lanes, self.seq_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_each_lane_once_in_order_with_the_next_token_as_target() {
        // 23 tokens, 3 lanes of 7 (2 left over), windows of 4 inputs: lane 0 holds 0..7, whose
        // inputs 0..6 make windows [0, 4) and [4, 6).
        let w = Windows::new(23, 3, 4).unwrap();
        assert_eq!((w.lane_len, w.count(), w.examples()), (7, 2, 6));
        let spans: Vec<_> = (0..6).map(|e| w.span(e)).collect();
        assert_eq!(spans, vec![(0, 4), (7, 4), (14, 4), (4, 2), (11, 2), (18, 2)]);
        let stream = TokenStream { tokens: (0..23).collect(), chars: vec![1; 23] };
        let batch = TextBatch::new(&stream, &w, &[3, 4, 5]);
        assert_eq!(batch.inputs, vec![4, 5, 11, 12, 18, 19]);
        assert_eq!(batch.targets, vec![5, 6, 12, 13, 19, 20]);
        assert_eq!((batch.rows, batch.steps, batch.chars), (3, 2, 6));
        assert!(Windows::new(5, 3, 4).is_none(), "a lane of one token predicts nothing");
    }
}
