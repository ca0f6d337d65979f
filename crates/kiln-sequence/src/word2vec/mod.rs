//! Word2Vec (Mikolov et al. 2013, "Distributed Representations of Words and Phrases and their
//! Compositionality"): skip-gram and CBOW trained with negative sampling, sub-sampling of frequent
//! words and the unigram^0.75 noise distribution; nearest neighbours, analogies (3CosAdd) and
//! export in word2vec's text format.

mod analogy;
mod model;
mod sampling;
mod vocab;

pub use analogy::{AnalogyQuestion, AnalogyScore, Embeddings};
pub use model::{Word2Vec, Word2VecConfig, Word2VecMode};
pub use sampling::{keep_probability, NoiseTable, PairSampler, Pairs};
pub use vocab::{words, WordVocab};

#[cfg(test)]
mod tests;
