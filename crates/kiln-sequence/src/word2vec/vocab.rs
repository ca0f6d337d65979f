//! Words and their counts.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The words of `text`: maximal runs of letters, digits and inner apostrophes, lowercased
/// (word2vec's analogy test compares case-insensitively).
///
/// ```
/// let w: Vec<String> = kiln_sequence::word2vec::words("The whale's jaw, 1851!").collect();
/// assert_eq!(w, ["the", "whale's", "jaw", "1851"]);
/// ```
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Words seen at least `min_count` times, most frequent first (ties alphabetical), with counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordVocab {
    pub words: Vec<String>,
    pub counts: Vec<u64>,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

impl WordVocab {
    pub fn fit(text: &str, min_count: u64) -> Self {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for w in words(text) {
            *counts.entry(w).or_default() += 1;
        }
        let mut kept: Vec<(String, u64)> = counts.into_iter().filter(|(_, c)| *c >= min_count).collect();
        kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let (words, counts) = kept.into_iter().unzip();
        Self::new(words, counts)
    }

    fn new(words: Vec<String>, counts: Vec<u64>) -> Self {
        let index = words.iter().enumerate().map(|(i, w)| (w.clone(), i as u32)).collect();
        Self { words, counts, index }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn id(&self, word: &str) -> Option<u32> {
        self.index.get(&word.to_lowercase()).copied()
    }

    /// The ids of `text`'s words in the vocabulary, in order (rare words dropped, as word2vec does).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        words(text).filter_map(|w| self.index.get(&w).copied()).collect()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a vocabulary serialises")
    }

    pub fn from_json(json: &str) -> Result<Self, crate::SequenceError> {
        let v: Self = serde_json::from_str(json).map_err(|e| crate::SequenceError::Tokenizer(e.to_string()))?;
        if v.words.len() != v.counts.len() {
            return Err(crate::SequenceError::Tokenizer("words and counts differ in length".into()));
        }
        Ok(Self::new(v.words, v.counts))
    }
}
